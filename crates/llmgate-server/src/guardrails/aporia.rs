//! `aporia`: Aporia's `POST {api_base}/validate` (`api_base` or `APORIA_API_BASE`;
//! `X-APORIA-API-KEY` from `api_key` or `APORIA_API_KEY`). Request texts are validated as
//! `validation_target: prompt`; an answer as `both`, its text in `response`. `action: block`
//! blocks with LiteLLM's `Violated guardrail policy` detail; any other action passes.

use futures::future::BoxFuture;
use serde_json::{json, Value};

use super::{Ctx, Entry, Failure, Guardrail, Input, Verdict};

pub struct Aporia {
    url: String,
    api_key: String,
}

impl Aporia {
    pub fn from_entry(e: &Entry) -> Result<Aporia, String> {
        let base = e
            .str_param("api_base")
            .map(str::to_string)
            .or_else(|| std::env::var("APORIA_API_BASE").ok())
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                format!(
                    "guardrail {}: api_base (or APORIA_API_BASE) is required",
                    e.name
                )
            })?;
        let url = format!("{}/validate", base.trim_end_matches('/'));
        reqwest::Url::parse(&url)
            .map_err(|err| format!("guardrail {}: api_base: {err}", e.name))?;
        let api_key = e
            .str_param("api_key")
            .map(str::to_string)
            .or_else(|| std::env::var("APORIA_API_KEY").ok())
            .unwrap_or_default();
        Ok(Aporia { url, api_key })
    }

    async fn call(
        &self,
        texts: &[String],
        input: Input,
        ctx: &Ctx<'_>,
    ) -> Result<Verdict, Failure> {
        let body = match input {
            Input::Request => json!({
                "messages": texts.iter().map(|t| json!({"role": "user", "content": t})).collect::<Vec<_>>(),
                "validation_target": "prompt",
            }),
            Input::Response => json!({
                "messages": [],
                "response": texts.join("\n"),
                "validation_target": "both",
            }),
        };
        let req = ctx
            .http
            .post(&self.url)
            .header("X-APORIA-API-KEY", &self.api_key)
            .json(&body);
        let answer: Value = super::send_json(req, "Aporia request").await?;
        Ok(verdict(&answer))
    }
}

fn verdict(answer: &Value) -> Verdict {
    if answer["action"] != "block" {
        return Verdict::Pass;
    }
    Verdict::Block(json!({
        "error": "Violated guardrail policy",
        "aporia_ai_response": answer,
    }))
}

impl Guardrail for Aporia {
    fn provider(&self) -> &'static str {
        "aporia"
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

    #[test]
    fn block_detail_as_litellm() {
        let v = json!({"action": "block", "revised_prompt": null, "revised_response": "Aporia detected and blocked PII", "explain_log": null});
        assert_eq!(
            verdict(&v),
            Verdict::Block(json!({"error": "Violated guardrail policy", "aporia_ai_response": v}))
        );
        assert_eq!(verdict(&json!({"action": "passthrough"})), Verdict::Pass);
    }
}
