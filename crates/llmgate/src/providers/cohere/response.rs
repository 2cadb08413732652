//! Cohere Chat v2 answers → OpenAI chat completions, as LiteLLM's `CohereV2ChatConfig` maps
//! them: text parts joined, tool calls as they are, citations as `url_citation` annotations,
//! usage from `usage.tokens` (else `billed_units`).

use llmgate_types::{ChatCompletionResponse, Usage};
use serde_json::{json, Value};

use crate::{ErrorKind, LlmError};

/// Cohere's `finish_reason` in OpenAI's terms; `ERROR` and `TIMEOUT` are failures.
pub fn finish_reason(reason: &str) -> Result<&'static str, LlmError> {
    match reason.to_ascii_uppercase().as_str() {
        "MAX_TOKENS" => Ok("length"),
        "TOOL_CALL" => Ok("tool_calls"),
        "ERROR" => Err(LlmError::new(
            ErrorKind::InternalServer,
            "Cohere ended the generation with an error",
        )
        .with_provider(super::NAME)),
        "TIMEOUT" => Err(
            LlmError::new(ErrorKind::Timeout, "Cohere's generation timed out")
                .with_provider(super::NAME),
        ),
        _ => Ok("stop"),
    }
}

/// `usage` of an answer or of `message-end`: `tokens` (what LiteLLM reports), else
/// `billed_units`.
pub fn usage(u: &Value) -> Usage {
    let of = |k: &str| {
        u["tokens"][k]
            .as_u64()
            .or_else(|| u["billed_units"][k].as_u64())
            .unwrap_or(0)
    };
    Usage::new(of("input_tokens"), of("output_tokens"))
}

/// Cohere citations → OpenAI annotations: one `url_citation` per document source, its URL the
/// source's, else `source:<id>` (as LiteLLM builds them).
pub fn annotations(citations: &[Value]) -> Vec<Value> {
    let mut out = Vec::new();
    for c in citations {
        for s in c["sources"].as_array().into_iter().flatten() {
            if s["type"] != "document" || s.get("document").is_none() {
                continue;
            }
            let url = s["url"]
                .as_str()
                .map(str::to_string)
                .unwrap_or_else(|| format!("source:{}", s["id"].as_str().unwrap_or("unknown")));
            out.push(json!({
                "type": "url_citation",
                "url_citation": {
                    "start_index": c["start"].as_u64().unwrap_or(0),
                    "end_index": c["end"].as_u64().unwrap_or(0),
                    "title": s["document"]["title"].as_str().unwrap_or(""),
                    "url": url,
                },
            }));
        }
    }
    out
}

/// A `/v2/chat` answer as an OpenAI chat completion.
pub fn translate(v: &Value, model: &str, created: u64) -> Result<ChatCompletionResponse, LlmError> {
    let msg = &v["message"];
    let text: String = msg["content"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["text"].as_str())
        .collect();
    let calls: Vec<Value> = msg["tool_calls"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|c| {
            json!({
                "id": c["id"],
                "type": "function",
                "function": {
                    "name": c["function"]["name"],
                    "arguments": match &c["function"]["arguments"] {
                        Value::String(s) => s.clone(),
                        Value::Null => String::new(),
                        other => other.to_string(),
                    },
                },
            })
        })
        .collect();
    let mut message = json!({"role": "assistant", "content": text});
    if !calls.is_empty() {
        // LiteLLM answers a tool call with no content (Cohere's `tool_plan` is not kept).
        message["content"] = Value::Null;
        message["tool_calls"] = Value::Array(calls);
    }
    let cites = annotations(msg["citations"].as_array().map_or(&[][..], Vec::as_slice));
    if !cites.is_empty() {
        message["annotations"] = Value::Array(cites);
    }
    let finish = finish_reason(v["finish_reason"].as_str().unwrap_or("COMPLETE"))?;
    let mut out: ChatCompletionResponse = serde_json::from_value(json!({
        "id": format!("chatcmpl-{}", uuid::Uuid::new_v4()),
        "object": "chat.completion",
        "created": created,
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }))
    .map_err(|e| {
        LlmError::new(
            ErrorKind::InternalServer,
            format!("could not read Cohere's answer: {e}"),
        )
        .with_provider(super::NAME)
    })?;
    out.usage = Some(usage(&v["usage"]));
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_citations_and_usage() {
        let v = json!({
            "id": "c-1", "finish_reason": "COMPLETE",
            "message": {"role": "assistant",
                "content": [{"type": "text", "text": "Paris is "}, {"type": "text", "text": "sunny."}],
                "citations": [{"start": 0, "end": 5, "text": "Paris", "sources": [
                    {"type": "document", "id": "d1", "document": {"id": "d1", "title": "Weather", "snippet": "..."}},
                    {"type": "tool", "id": "t1", "tool_output": {}}
                ]}]},
            "usage": {"billed_units": {"input_tokens": 5, "output_tokens": 3},
                      "tokens": {"input_tokens": 70, "output_tokens": 3}}
        });
        let r = translate(&v, "command-r-08-2024", 1).unwrap();
        let c = &r.choices[0];
        assert_eq!(c.message.text_content(), "Paris is sunny.");
        assert_eq!(c.finish_reason.as_deref(), Some("stop"));
        let a = &c.message.extra["annotations"];
        assert_eq!(a.as_array().unwrap().len(), 1);
        assert_eq!(
            a[0]["url_citation"],
            json!({"start_index": 0, "end_index": 5, "title": "Weather", "url": "source:d1"})
        );
        let u = r.usage.unwrap();
        assert_eq!(
            (u.prompt_tokens, u.completion_tokens, u.total_tokens),
            (70, 3, 73)
        );
        assert!(r.id.starts_with("chatcmpl-"));
    }

    #[test]
    fn tool_calls_and_finish_reasons() {
        let v = json!({
            "id": "c-2", "finish_reason": "TOOL_CALL",
            "message": {"role": "assistant", "tool_plan": "I will look it up.",
                "tool_calls": [{"id": "get_weather_1", "type": "function",
                    "function": {"name": "get_weather", "arguments": "{\"city\":\"Paris\"}"}}]},
            "usage": {"billed_units": {"input_tokens": 9, "output_tokens": 4}}
        });
        let r = translate(&v, "m", 1).unwrap();
        let c = &r.choices[0];
        assert_eq!(c.finish_reason.as_deref(), Some("tool_calls"));
        assert!(c.message.content.is_none());
        let call = &c.message.tool_calls.as_ref().unwrap()[0];
        assert_eq!(call.id.as_deref(), Some("get_weather_1"));
        assert_eq!(call.function.arguments, "{\"city\":\"Paris\"}");
        assert_eq!(
            r.usage.unwrap().prompt_tokens,
            9,
            "billed units as fallback"
        );
        assert_eq!(finish_reason("MAX_TOKENS").unwrap(), "length");
        assert_eq!(finish_reason("STOP_SEQUENCE").unwrap(), "stop");
        assert_eq!(finish_reason("ERROR").unwrap_err().status, 500);
    }
}
