//! A chat answer as a `GenerateContentResponse`: one candidate per choice (thoughts, text and
//! function calls as parts), the finish reason, `usageMetadata`, `modelVersion` and
//! `responseId`.

use llmgate_types::{ChatCompletionResponse, ChatMessage, ToolCall, Usage};

use super::{
    Candidate, Content, FunctionCall, GenerateContentAnswer, GenerateContentResponse, Part,
    UsageMetadata,
};
use crate::messages::from_chat::tool_input;

/// A chat `finish_reason` as Google's `finishReason` (LiteLLM's mapping: a tool call ends with
/// `STOP` too, and anything unknown is `STOP`).
pub fn finish_reason(finish: Option<&str>) -> &'static str {
    match finish {
        Some("length") => "MAX_TOKENS",
        Some("content_filter" | "refusal") => "SAFETY",
        _ => "STOP",
    }
}

/// Usage as Google counts it: `candidatesTokenCount` without the reasoning tokens (reported
/// as `thoughtsTokenCount`), cached prompt tokens as `cachedContentTokenCount`.
pub fn usage_metadata(u: &Usage) -> UsageMetadata {
    let reasoning = u
        .completion_tokens_details
        .as_ref()
        .and_then(|d| d.reasoning_tokens)
        .filter(|r| *r > 0);
    let cached = u
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.cached_tokens)
        .filter(|c| *c > 0);
    let total = match u.total_tokens {
        0 => u.prompt_tokens + u.completion_tokens,
        t => t,
    };
    UsageMetadata {
        prompt_token_count: u.prompt_tokens,
        candidates_token_count: u.completion_tokens.saturating_sub(reasoning.unwrap_or(0)),
        total_token_count: total,
        cached_content_token_count: cached,
        thoughts_token_count: reasoning,
        ..Default::default()
    }
}

/// A tool call as a `functionCall` part, its id kept (a client sends it back on the
/// `functionResponse`, which is how the call and its result are paired again).
pub fn call_part(id: Option<&str>, name: &str, arguments: &str) -> Part {
    Part {
        function_call: Some(FunctionCall {
            id: id.filter(|i| !i.is_empty()).map(str::to_string),
            name: name.to_string(),
            args: Some(tool_input(arguments)),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// A thought as a text part marked `thought`.
pub fn thought_part(text: &str) -> Part {
    Part {
        thought: Some(true),
        ..Part::text(text)
    }
}

fn parts(m: &ChatMessage) -> Vec<Part> {
    let mut out = Vec::new();
    if let Some(r) = m.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
        out.push(thought_part(r));
    }
    let text = m.text_content();
    if !text.is_empty() {
        out.push(Part::text(text));
    }
    out.extend(
        m.tool_calls.iter().flatten().map(|c: &ToolCall| {
            call_part(c.id.as_deref(), &c.function.name, &c.function.arguments)
        }),
    );
    // As LiteLLM: an empty answer is one empty text part, not a candidate without content.
    if out.is_empty() {
        out.push(Part::text(""));
    }
    out
}

pub fn model_content(parts: Vec<Part>) -> Content {
    Content {
        role: Some("model".into()),
        parts,
        ..Default::default()
    }
}

pub fn from_chat(answer: ChatCompletionResponse) -> GenerateContentAnswer {
    let candidates = answer
        .choices
        .iter()
        .map(|c| Candidate {
            content: model_content(parts(&c.message)),
            finish_reason: Some(finish_reason(c.finish_reason.as_deref()).into()),
            index: c.index,
            ..Default::default()
        })
        .collect();
    let usage = answer.usage.unwrap_or_else(|| Usage::new(0, 0));
    let body = GenerateContentResponse {
        candidates,
        usage_metadata: Some(usage_metadata(&usage)),
        model_version: Some(answer.model).filter(|m| !m.is_empty()),
        response_id: Some(answer.id).filter(|i| !i.is_empty()),
        ..Default::default()
    };
    GenerateContentAnswer { body, usage }
}

/// The text of a response's parts (thoughts included): what guardrails and spend logs read.
pub fn texts_mut(r: &mut GenerateContentResponse, f: &mut dyn FnMut(&mut String)) {
    for c in &mut r.candidates {
        for p in &mut c.content.parts {
            if let Some(t) = p.text.as_mut() {
                f(t);
            }
        }
    }
}

/// Every text and function-call piece of a response, for counting what it produced.
pub fn produced(r: &GenerateContentResponse, out: &mut dyn FnMut(&str)) {
    for p in r.candidates.iter().flat_map(|c| &c.content.parts) {
        if let Some(t) = &p.text {
            out(t);
        }
        if let Some(fc) = &p.function_call {
            out(&fc.name);
            if let Some(a) = fc.args.as_ref().filter(|a| !a.is_null()) {
                out(&a.to_string());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    fn answer(v: Value) -> Value {
        let a: ChatCompletionResponse = serde_json::from_value(v).unwrap();
        serde_json::to_value(from_chat(a)).unwrap()
    }

    #[test]
    fn text_thoughts_calls_and_usage() {
        let a = answer(json!({
            "id": "chatcmpl-1", "model": "gpt", "choices": [{"index": 0, "finish_reason": "tool_calls",
              "message": {"role": "assistant", "content": "Let me look.", "reasoning_content": "think",
                "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "Read", "arguments": "{\"p\":1}"}}]}}],
            "usage": {"prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42,
                      "prompt_tokens_details": {"cached_tokens": 10},
                      "completion_tokens_details": {"reasoning_tokens": 4}},
        }));
        assert_eq!(
            a["candidates"][0]["content"],
            json!({"role": "model", "parts": [
                {"text": "think", "thought": true},
                {"text": "Let me look."},
                {"functionCall": {"id": "call_1", "name": "Read", "args": {"p": 1}}},
            ]})
        );
        assert_eq!(a["candidates"][0]["finishReason"], "STOP");
        assert_eq!(a["candidates"][0]["index"], 0);
        assert_eq!(
            a["usageMetadata"],
            json!({"promptTokenCount": 30, "candidatesTokenCount": 8,
            "totalTokenCount": 42, "cachedContentTokenCount": 10, "thoughtsTokenCount": 4})
        );
        assert_eq!(
            (a["modelVersion"].clone(), a["responseId"].clone()),
            (json!("gpt"), json!("chatcmpl-1"))
        );
    }

    /// What this module writes, the Gemini provider reads back as the same usage.
    #[test]
    fn usage_metadata_reads_back_with_the_gemini_reader() {
        let u: Usage = serde_json::from_value(json!({
            "prompt_tokens": 30, "completion_tokens": 12, "total_tokens": 42,
            "prompt_tokens_details": {"cached_tokens": 10},
            "completion_tokens_details": {"reasoning_tokens": 4}}))
        .unwrap();
        let metadata = serde_json::to_value(usage_metadata(&u)).unwrap();
        let back = crate::providers::gemini::response::usage(&metadata, &[]);
        assert_eq!(
            (
                back.prompt_tokens,
                back.completion_tokens,
                back.total_tokens
            ),
            (30, 12, 42)
        );
        assert_eq!(
            back.prompt_tokens_details.and_then(|d| d.cached_tokens),
            Some(10)
        );
        assert_eq!(
            back.completion_tokens_details
                .and_then(|d| d.reasoning_tokens),
            Some(4)
        );
    }

    #[test]
    fn finish_reasons_choices_and_an_empty_answer() {
        assert_eq!(finish_reason(Some("length")), "MAX_TOKENS");
        assert_eq!(finish_reason(Some("content_filter")), "SAFETY");
        assert_eq!(finish_reason(Some("tool_calls")), "STOP");
        assert_eq!(finish_reason(None), "STOP");
        let a = answer(json!({
            "id": "x", "model": "m", "choices": [
                {"index": 0, "finish_reason": "length", "message": {"role": "assistant", "content": ""}},
                {"index": 1, "finish_reason": "stop", "message": {"role": "assistant", "content": null,
                  "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "not json"}}]}}],
        }));
        assert_eq!(
            a["candidates"][0]["content"]["parts"],
            json!([{"text": ""}])
        );
        assert_eq!(a["candidates"][0]["finishReason"], "MAX_TOKENS");
        assert_eq!(a["candidates"][1]["index"], 1);
        assert_eq!(
            a["candidates"][1]["content"]["parts"][0]["functionCall"]["args"],
            json!({"arguments": "not json"})
        );
        assert_eq!(a["usageMetadata"]["totalTokenCount"], 0);
    }
}
