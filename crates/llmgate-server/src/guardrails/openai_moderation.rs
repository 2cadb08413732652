//! `openai_moderation`: OpenAI's Moderation API (`POST {api_base}/moderations`, `model`
//! `omni-moderation-latest` unless set, the texts joined by newlines as `input`). A flagged
//! first result blocks with LiteLLM's detail (`Violated OpenAI moderation policy`, the
//! violated categories and every score); it never masks. `api_key` falls back to
//! `OPENAI_API_KEY`, `api_base` to `https://api.openai.com/v1`.

use futures::future::BoxFuture;
use serde_json::{json, Map, Value};

use super::{Ctx, Entry, Failure, Guardrail, Input, Verdict};

pub struct Moderation {
    url: String,
    api_key: String,
    model: String,
}

impl Moderation {
    pub fn from_entry(e: &Entry) -> Result<Moderation, String> {
        let api_key = e
            .str_param("api_key")
            .map(str::to_string)
            .or_else(|| std::env::var("OPENAI_API_KEY").ok())
            .filter(|k| !k.is_empty())
            .ok_or_else(|| {
                format!(
                    "guardrail {}: OpenAI Moderation: api_key is required. Set OPENAI_API_KEY environment variable or pass it in configuration.",
                    e.name
                )
            })?;
        let base = e
            .str_param("api_base")
            .unwrap_or("https://api.openai.com/v1");
        let url = format!("{}/moderations", base.trim_end_matches('/'));
        reqwest::Url::parse(&url)
            .map_err(|err| format!("guardrail {}: api_base: {err}", e.name))?;
        Ok(Moderation {
            url,
            api_key,
            model: e
                .str_param("model")
                .unwrap_or("omni-moderation-latest")
                .to_string(),
        })
    }

    async fn call(&self, texts: &[String], ctx: &Ctx<'_>) -> Result<Verdict, Failure> {
        let input = texts.join("\n");
        if input.is_empty() {
            return Ok(Verdict::Pass);
        }
        let req = ctx
            .http
            .post(&self.url)
            .bearer_auth(&self.api_key)
            .json(&json!({"model": self.model, "input": input}));
        let body: Value = super::send_json(req, "OpenAI Moderation API request").await?;
        Ok(verdict(&body))
    }
}

/// The answer's first result: flagged → LiteLLM's block message.
fn verdict(body: &Value) -> Verdict {
    let Some(r) = body["results"].get(0) else {
        return Verdict::Pass;
    };
    if r["flagged"] != Value::Bool(true) {
        return Verdict::Pass;
    }
    let violated: Vec<Value> = r["categories"]
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, v)| v.as_bool() == Some(true))
        .map(|(k, _)| Value::from(k.as_str()))
        .collect();
    let scores = r
        .get("category_scores")
        .filter(|s| s.is_object())
        .cloned()
        .unwrap_or_else(|| Value::Object(Map::new()));
    let detail = json!({
        "error": "Violated OpenAI moderation policy",
        "moderation_result": {"violated_categories": violated, "category_scores": scores},
    });
    Verdict::Block(detail)
}

impl Guardrail for Moderation {
    fn provider(&self) -> &'static str {
        "openai_moderation"
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flagged_blocks_with_litellm_detail() {
        let body = json!({"id": "modr-1", "model": "omni-moderation-latest", "results": [{
            "flagged": true,
            "categories": {"harassment": false, "violence": true},
            "category_scores": {"harassment": 0.01, "violence": 0.97},
        }]});
        assert_eq!(
            verdict(&body),
            Verdict::Block(
                json!({"error": "Violated OpenAI moderation policy", "moderation_result": {"violated_categories": ["violence"], "category_scores": {"harassment": 0.01, "violence": 0.97}}})
            )
        );
        let ok = json!({"results": [{"flagged": false, "categories": {"violence": false}}]});
        assert_eq!(verdict(&ok), Verdict::Pass);
    }
}
