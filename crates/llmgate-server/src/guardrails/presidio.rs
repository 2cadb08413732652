//! `presidio`: Microsoft Presidio's analyzer and anonymizer over HTTP, as LiteLLM calls them.
//! Each text is sent to `POST {analyzer}/analyze` (`text`, `language` — `presidio_language`,
//! "en" —, and the `pii_entities_config` entity types when set); an entity whose configured
//! action is `BLOCK` blocks with LiteLLM's `BlockedPiiEntityError` message, otherwise the
//! findings go to `POST {anonymizer}/anonymize`, whose text (`<EMAIL_ADDRESS>`, ...) replaces
//! the original. Bases: `presidio_analyzer_api_base` / `presidio_anonymizer_api_base`, else
//! `PRESIDIO_ANALYZER_API_BASE` / `PRESIDIO_ANONYMIZER_API_BASE`.

use futures::future::BoxFuture;
use serde_json::{json, Map, Value};

use super::{Ctx, Entry, Failure, Guardrail, Input, Verdict};

pub struct Presidio {
    name: String,
    analyze: String,
    anonymize: String,
    language: String,
    /// Entity type → `MASK` / `BLOCK` (empty: every entity found is masked).
    entities: Vec<(String, bool)>,
}

fn base(e: &Entry, param: &str, env: &str) -> Result<String, String> {
    let b = e
        .str_param(param)
        .map(str::to_string)
        .or_else(|| std::env::var(env).ok())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| format!("guardrail {}: {param} (or {env}) is required", e.name))?;
    let b = if b.starts_with("http://") || b.starts_with("https://") {
        b
    } else {
        format!("http://{b}")
    };
    Ok(format!("{}/", b.trim_end_matches('/')))
}

impl Presidio {
    pub fn from_entry(e: &Entry) -> Result<Presidio, String> {
        if e.params.get("output_parse_pii").and_then(Value::as_bool) == Some(true) {
            return Err(format!(
                "guardrail {}: output_parse_pii is not supported by llmgate",
                e.name
            ));
        }
        let analyze = format!(
            "{}analyze",
            base(
                e,
                "presidio_analyzer_api_base",
                "PRESIDIO_ANALYZER_API_BASE"
            )?
        );
        let anonymize = format!(
            "{}anonymize",
            base(
                e,
                "presidio_anonymizer_api_base",
                "PRESIDIO_ANONYMIZER_API_BASE"
            )?
        );
        for u in [&analyze, &anonymize] {
            reqwest::Url::parse(u).map_err(|err| format!("guardrail {}: {u}: {err}", e.name))?;
        }
        let mut entities = Vec::new();
        for (k, v) in e
            .params
            .get("pii_entities_config")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
        {
            let block = match v.as_str().map(str::to_ascii_uppercase).as_deref() {
                Some("BLOCK") => true,
                Some("MASK") => false,
                _ => {
                    return Err(format!(
                        "guardrail {}: pii_entities_config.{k}: {v} (MASK or BLOCK)",
                        e.name
                    ))
                }
            };
            entities.push((k.clone(), block));
        }
        Ok(Presidio {
            name: e.name.clone(),
            analyze,
            anonymize,
            language: e.str_param("presidio_language").unwrap_or("en").to_string(),
            entities,
        })
    }

    async fn post(&self, ctx: &Ctx<'_>, url: &str, body: Value) -> Result<Value, Failure> {
        super::send_json(ctx.http.post(url).json(&body), "Presidio request").await
    }

    async fn one(
        &self,
        text: &str,
        ctx: &Ctx<'_>,
        counts: &mut Map<String, Value>,
    ) -> Result<Result<Option<String>, String>, Failure> {
        let mut ask = json!({"text": text, "language": self.language});
        if !self.entities.is_empty() {
            ask["entities"] = self.entities.iter().map(|(k, _)| k.as_str()).collect();
        }
        let found = self.post(ctx, &self.analyze, ask).await?;
        let Some(found) = found.as_array().filter(|f| !f.is_empty()) else {
            return Ok(Ok(None));
        };
        for f in found {
            let kind = f["entity_type"].as_str().unwrap_or_default();
            if self.entities.iter().any(|(k, block)| *block && k == kind) {
                return Ok(Err(format!(
                    "Blocked entity detected: {kind} by Guardrail: {}. This entity is not allowed to be used in this request.",
                    self.name
                )));
            }
            let prev = counts.get(kind).and_then(Value::as_u64).unwrap_or(0);
            counts.insert(kind.to_string(), (prev + 1).into());
        }
        let out = self
            .post(
                ctx,
                &self.anonymize,
                json!({"text": text, "analyzer_results": found}),
            )
            .await?;
        match out["text"].as_str() {
            Some(t) => Ok(Ok(Some(t.to_string()))),
            None => Err(Failure("Presidio anonymizer answered without text".into())),
        }
    }

    async fn call(&self, texts: &[String], ctx: &Ctx<'_>) -> Result<Verdict, Failure> {
        let mut counts = Map::new();
        let mut out = texts.to_vec();
        let mut changed = false;
        for t in &mut out {
            match self.one(t, ctx, &mut counts).await? {
                Err(block) => return Ok(Verdict::Block(Value::String(block))),
                Ok(Some(masked)) => {
                    changed |= masked != *t;
                    *t = masked;
                }
                Ok(None) => {}
            }
        }
        Ok(if changed {
            Verdict::Mask { texts: out, counts }
        } else {
            Verdict::Pass
        })
    }
}

impl Guardrail for Presidio {
    fn provider(&self) -> &'static str {
        "presidio"
    }
    fn apply<'a>(
        &'a self,
        texts: &'a [String],
        _input: Input,
        ctx: &'a Ctx<'a>,
    ) -> BoxFuture<'a, Result<Verdict, Failure>> {
        Box::pin(self.call(texts, ctx))
    }
}
