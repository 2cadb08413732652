//! `generic_guardrail_api`: LiteLLM's "Basic Guardrail API", so a team can plug in its own
//! service. `POST {api_base}/beta/litellm_basic_guardrail_api` with the texts, the caller's
//! `user_api_key_*` metadata, `additional_provider_specific_params` and `input_type`; the
//! answer's `action` is `BLOCKED` (with `blocked_reason`), `GUARDRAIL_INTERVENED` (with
//! the masked `texts`) or `NONE`. `api_base` falls back to `GENERIC_GUARDRAIL_API_BASE`;
//! `headers` are sent as given, `api_key` as `x-api-key`.

use futures::future::BoxFuture;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::{Ctx, Entry, Failure, Guardrail, Input, Verdict};

const PATH: &str = "/beta/litellm_basic_guardrail_api";

pub struct GenericApi {
    url: String,
    headers: Vec<(String, String)>,
    params: Map<String, Value>,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    action: String,
    #[serde(default)]
    blocked_reason: Option<String>,
    #[serde(default)]
    texts: Option<Vec<String>>,
}

impl GenericApi {
    pub fn from_entry(e: &Entry) -> Result<GenericApi, String> {
        let base = e
            .str_param("api_base")
            .map(str::to_string)
            .or_else(|| std::env::var("GENERIC_GUARDRAIL_API_BASE").ok())
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                format!(
                    "guardrail {}: api_base is required for Generic Guardrail API (or GENERIC_GUARDRAIL_API_BASE)",
                    e.name
                )
            })?;
        let url = if base.ends_with(PATH) {
            base
        } else {
            format!("{}{PATH}", base.trim_end_matches('/'))
        };
        reqwest::Url::parse(&url)
            .map_err(|err| format!("guardrail {}: api_base: {err}", e.name))?;
        let mut headers: Vec<(String, String)> = e
            .params
            .get("headers")
            .and_then(Value::as_object)
            .into_iter()
            .flatten()
            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
            .collect();
        if let Some(k) = e.str_param("api_key") {
            headers.push(("x-api-key".into(), k.to_string()));
        }
        Ok(GenericApi {
            url,
            headers,
            params: e
                .params
                .get("additional_provider_specific_params")
                .and_then(Value::as_object)
                .cloned()
                .unwrap_or_default(),
        })
    }

    async fn call(
        &self,
        texts: &[String],
        input: Input,
        ctx: &Ctx<'_>,
    ) -> Result<Verdict, Failure> {
        let body = json!({
            "litellm_call_id": ctx.call_id,
            "litellm_trace_id": ctx.call_id,
            "texts": texts,
            "request_data": ctx.caller,
            "images": null,
            "tools": null,
            "structured_messages": null,
            "additional_provider_specific_params": self.params,
            "input_type": input.name(),
        });
        let mut req = ctx.http.post(&self.url).json(&body);
        for (k, v) in &self.headers {
            req = req.header(k, v);
        }
        let a: Answer = super::send_json(req, "Generic Guardrail API").await?;
        let fail = |e: String| Failure(format!("Generic Guardrail API failed: {e}"));
        match a.action.as_str() {
            // LiteLLM 1.110 raises the reason itself as the message.
            "BLOCKED" => Ok(Verdict::Block(json!(a
                .blocked_reason
                .filter(|r| !r.is_empty())
                .as_deref()
                .unwrap_or("Content violates policy")))),
            _ => match a.texts {
                Some(t) if t.len() == texts.len() && t != texts => Ok(Verdict::Mask {
                    texts: t,
                    counts: Map::new(),
                }),
                Some(t) if t.len() != texts.len() => Err(fail(format!(
                    "answered {} texts for {}",
                    t.len(),
                    texts.len()
                ))),
                _ => Ok(Verdict::Pass),
            },
        }
    }
}

impl Guardrail for GenericApi {
    fn provider(&self) -> &'static str {
        "generic_guardrail_api"
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
