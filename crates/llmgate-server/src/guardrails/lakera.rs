//! `lakera_v2`: Lakera Guard's `POST {api_base}/v2/guard` (`https://api.lakera.ai` or
//! `LAKERA_API_BASE`; `Authorization: Bearer` `api_key` or `LAKERA_API_KEY`) with
//! `messages`, `project_id`, `payload`, `breakdown`, `metadata`, `dev_info`. Flagged with
//! only `pii/*` detections: the `payload` spans are masked as `[MASKED <TYPE>]`; any other
//! detection blocks with LiteLLM's `Violated guardrail policy` detail, or passes with
//! `on_flagged: monitor`.
//!
//! llmgate sends the texts it checks as messages (request texts as `user`, answer texts as
//! `assistant`); LiteLLM sends the chat messages with their roles (and, post-call, the
//! request's messages before the answer).

use futures::future::BoxFuture;
use serde_json::{json, Map, Value};

use super::{Ctx, Entry, Failure, Guardrail, Input, Verdict};

pub struct Lakera {
    url: String,
    api_key: String,
    body: Map<String, Value>,
    monitor: bool,
}

impl Lakera {
    pub fn from_entry(e: &Entry) -> Result<Lakera, String> {
        let base = e
            .str_param("api_base")
            .map(str::to_string)
            .or_else(|| std::env::var("LAKERA_API_BASE").ok())
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| "https://api.lakera.ai".into());
        let url = format!("{}/v2/guard", base.trim_end_matches('/'));
        reqwest::Url::parse(&url)
            .map_err(|err| format!("guardrail {}: api_base: {err}", e.name))?;
        let api_key = e
            .str_param("api_key")
            .map(str::to_string)
            .or_else(|| std::env::var("LAKERA_API_KEY").ok())
            .unwrap_or_default();
        let flag = |k: &str| e.params.get(k).and_then(Value::as_bool).unwrap_or(true);
        let mut body = Map::new();
        body.insert("project_id".into(), json!(e.str_param("project_id")));
        body.insert("payload".into(), json!(flag("payload")));
        body.insert("breakdown".into(), json!(flag("breakdown")));
        body.insert(
            "metadata".into(),
            e.params.get("metadata").cloned().unwrap_or(Value::Null),
        );
        body.insert("dev_info".into(), json!(flag("dev_info")));
        let monitor = match e.str_param("on_flagged").unwrap_or("block") {
            "block" => false,
            "monitor" => true,
            o => {
                return Err(format!(
                    "guardrail {}: on_flagged: {o} (block or monitor)",
                    e.name
                ))
            }
        };
        Ok(Lakera {
            url,
            api_key,
            body,
            monitor,
        })
    }

    async fn call(
        &self,
        texts: &[String],
        input: Input,
        ctx: &Ctx<'_>,
    ) -> Result<Verdict, Failure> {
        let role = match input {
            Input::Request => "user",
            Input::Response => "assistant",
        };
        let messages: Vec<Value> = texts
            .iter()
            .map(|t| json!({"role": role, "content": t}))
            .collect();
        let mut body = Map::new();
        body.insert("messages".into(), Value::Array(messages));
        body.extend(self.body.clone());
        let req = ctx
            .http
            .post(&self.url)
            .bearer_auth(&self.api_key)
            .json(&body);
        let answer: Value = super::send_json(req, "Lakera AI request").await?;
        Ok(self.verdict(texts, &answer))
    }

    fn verdict(&self, texts: &[String], answer: &Value) -> Verdict {
        if answer["flagged"] != Value::Bool(true) {
            return Verdict::Pass;
        }
        if only_pii(answer) {
            return mask(texts, answer);
        }
        if self.monitor {
            tracing::warn!(
                "Lakera Guardrail: Monitoring mode - violation detected but allowing request"
            );
            return Verdict::Pass;
        }
        Verdict::Block(json!({
            "error": "Violated guardrail policy",
            "lakera_guardrail_response": answer,
        }))
    }
}

/// Every detection in `breakdown` is a `pii/*` one (and there is one).
fn only_pii(answer: &Value) -> bool {
    let detected: Vec<&Value> = answer["breakdown"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|b| b["detected"] == Value::Bool(true))
        .collect();
    !detected.is_empty()
        && detected.iter().all(|b| {
            b["detector_type"]
                .as_str()
                .unwrap_or_default()
                .starts_with("pii/")
        })
}

/// The `payload` spans (character offsets per `message_id`) replaced, last first.
fn mask(texts: &[String], answer: &Value) -> Verdict {
    let mut out = texts.to_vec();
    let mut counts = Map::new();
    for (i, t) in out.iter_mut().enumerate() {
        let mut spans: Vec<(usize, usize, String)> = answer["payload"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|p| p["message_id"].as_u64() == Some(i as u64))
            .filter_map(|p| {
                let kind = p["detector_type"]
                    .as_str()?
                    .rsplit('/')
                    .next()?
                    .to_uppercase();
                Some((
                    p["start"].as_u64()? as usize,
                    p["end"].as_u64()? as usize,
                    kind,
                ))
            })
            .collect();
        spans.sort_by(|a, b| b.cmp(a));
        let mut chars: Vec<char> = t.chars().collect();
        for (s, e, kind) in spans {
            if s >= e || e > chars.len() {
                continue;
            }
            let kind = if kind.is_empty() { "PII".into() } else { kind };
            chars.splice(s..e, format!("[MASKED {kind}]").chars());
            let prev = counts.get(&kind).and_then(Value::as_u64).unwrap_or(0);
            counts.insert(kind, (prev + 1).into());
        }
        *t = chars.into_iter().collect();
    }
    if counts.is_empty() {
        Verdict::Pass
    } else {
        Verdict::Mask { texts: out, counts }
    }
}

impl Guardrail for Lakera {
    fn provider(&self) -> &'static str {
        "lakera_v2"
    }
    fn apply<'a>(
        &'a self,
        texts: &'a [String],
        input: Input,
        ctx: &'a Ctx<'a>,
    ) -> BoxFuture<'a, Result<Verdict, Failure>> {
        Box::pin(self.call(texts, input, ctx))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lakera(extra: Value) -> Lakera {
        let mut p =
            json!({"guardrail": "lakera_v2", "api_key": "k", "api_base": "http://127.0.0.1:9"});
        p.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        Lakera::from_entry(
            &Entry::parse(0, &json!({"guardrail_name": "l", "litellm_params": p})).unwrap(),
        )
        .unwrap()
    }

    #[test]
    fn pii_only_masks_other_detections_block() {
        let l = lakera(json!({}));
        let pii = json!({"flagged": true,
            "payload": [{"start": 5, "end": 12, "text": "a@b.com", "detector_type": "pii/email", "message_id": 0}],
            "breakdown": [{"detector_type": "pii/email", "detected": true}, {"detector_type": "prompt_attack", "detected": false}]});
        let Verdict::Mask { texts, counts } = l.verdict(&["mail a@b.com now".into()], &pii) else {
            panic!()
        };
        assert_eq!(texts, ["mail [MASKED EMAIL] now"]);
        assert_eq!(counts["EMAIL"], 1);
        let attack = json!({"flagged": true, "breakdown": [{"detector_type": "prompt_attack", "detected": true}]});
        assert_eq!(
            l.verdict(&["x".into()], &attack),
            Verdict::Block(
                json!({"error": "Violated guardrail policy", "lakera_guardrail_response": attack.clone()})
            )
        );
        assert_eq!(
            lakera(json!({"on_flagged": "monitor"})).verdict(&["x".into()], &attack),
            Verdict::Pass
        );
        assert_eq!(
            l.verdict(&["x".into()], &json!({"flagged": false})),
            Verdict::Pass
        );
    }
}
