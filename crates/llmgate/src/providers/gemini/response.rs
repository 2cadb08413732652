//! Gemini `GenerateContentResponse` → OpenAI chat completion (and the pieces streams reuse).

use llmgate_types::{
    ChatCompletionResponse, ChatMessage, Choice, CompletionTokensDetails, FunctionCall,
    MessageContent, PromptTokensDetails, ToolCall, Usage,
};
use serde_json::{json, Map, Value};

use super::request::THOUGHT_SEP;

pub fn finish_reason(reason: &str) -> &'static str {
    match reason {
        "MAX_TOKENS" => "length",
        "SAFETY" | "RECITATION" | "BLOCKLIST" | "PROHIBITED_CONTENT" | "SPII" | "IMAGE_SAFETY"
        | "LANGUAGE" => "content_filter",
        "MALFORMED_FUNCTION_CALL" | "UNEXPECTED_TOOL_CALL" => "tool_calls",
        _ => "stop",
    }
}

/// `usageMetadata` → usage: thoughts count as completion tokens (they are billed as output),
/// cached content is part of the prompt and reported as cached.
pub fn usage(u: &Value) -> Usage {
    let n = |k: &str| u[k].as_u64().unwrap_or(0);
    let thoughts = n("thoughtsTokenCount");
    let prompt = n("promptTokenCount") + n("toolUsePromptTokenCount");
    let mut usage = Usage::new(prompt, n("candidatesTokenCount") + thoughts);
    if u["totalTokenCount"].is_u64() {
        usage.total_tokens = usage.total_tokens.max(n("totalTokenCount"));
    }
    usage.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(n("cachedContentTokenCount")),
        ..Default::default()
    });
    usage.completion_tokens_details = Some(CompletionTokensDetails {
        reasoning_tokens: Some(thoughts),
        ..Default::default()
    });
    usage
}

/// A tool call id: Gemini 3's own id when it sends one, else a fresh one (LiteLLM's
/// `call_` + 28 hex digits); a thought signature rides along after [`THOUGHT_SEP`] so a client
/// that keeps only the id still returns it on the next turn.
pub fn call_id(part: &Value) -> String {
    let base = part["functionCall"]["id"]
        .as_str()
        .map(str::to_string)
        .unwrap_or_else(|| format!("call_{}", &uuid::Uuid::new_v4().simple().to_string()[..28]));
    match part["thoughtSignature"].as_str() {
        Some(sig) => format!("{base}{THOUGHT_SEP}{sig}"),
        None => base,
    }
}

/// `{"provider_specific_fields": {"thought_signature": ...}}` for a signed call, as LiteLLM
/// writes it on the tool call (and reads it back first).
pub fn call_extra(part: &Value) -> Map<String, Value> {
    let mut extra = Map::new();
    if let Some(sig) = part["thoughtSignature"].as_str() {
        extra.insert(
            "provider_specific_fields".into(),
            json!({"thought_signature": sig}),
        );
    }
    extra
}

/// Every `thoughtSignature` of the parts, in order (`provider_specific_fields.thought_signatures`
/// of LiteLLM's message); `None` without any.
pub fn signatures(parts: &[Value]) -> Option<Value> {
    let sigs: Vec<Value> = parts
        .iter()
        .filter_map(|p| p["thoughtSignature"].as_str())
        .map(|s| json!(s))
        .collect();
    (!sigs.is_empty()).then_some(Value::Array(sigs))
}

/// The candidate metadata LiteLLM lifts to the top of the answer (`vertex_ai_grounding_metadata`,
/// `vertex_ai_url_context_metadata`, `vertex_ai_safety_results`, `vertex_ai_citation_metadata`):
/// grounding sources and safety ratings are otherwise lost in translation.
pub fn metadata<'a>(cands: impl Iterator<Item = &'a Value>) -> [(&'static str, Vec<Value>); 4] {
    let mut out = [
        ("vertex_ai_grounding_metadata", vec![]),
        ("vertex_ai_url_context_metadata", vec![]),
        ("vertex_ai_safety_results", vec![]),
        ("vertex_ai_citation_metadata", vec![]),
    ];
    for c in cands {
        for (slot, key) in [
            "groundingMetadata",
            "urlContextMetadata",
            "safetyRatings",
            "citationMetadata",
        ]
        .into_iter()
        .enumerate()
        {
            match c.get(key) {
                Some(Value::Array(a)) if key == "groundingMetadata" => {
                    out[slot].1.extend(a.iter().cloned())
                }
                Some(v) if !v.is_null() => out[slot].1.push(v.clone()),
                _ => {}
            }
        }
    }
    out
}

pub fn function_call(part: &Value) -> ToolCall {
    ToolCall {
        id: Some(call_id(part)),
        kind: "function".into(),
        function: FunctionCall {
            name: part["functionCall"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            arguments: part["functionCall"]["args"].to_string(),
        },
        extra: call_extra(part),
    }
}

pub fn translate(v: &Value, model: &str, created: u64) -> ChatCompletionResponse {
    let mut choices = Vec::new();
    for (i, cand) in v["candidates"].as_array().into_iter().flatten().enumerate() {
        let mut text = String::new();
        let mut reasoning = String::new();
        let mut calls = Vec::new();
        let parts = cand["content"]["parts"].as_array().map(Vec::as_slice);
        for part in parts.into_iter().flatten() {
            if part.get("functionCall").is_some() {
                calls.push(function_call(part));
            } else if let Some(t) = part["text"].as_str() {
                if part["thought"] == true {
                    reasoning.push_str(t);
                } else {
                    text.push_str(t);
                }
            }
        }
        let mut finish = finish_reason(cand["finishReason"].as_str().unwrap_or("STOP"));
        if !calls.is_empty() && finish == "stop" {
            finish = "tool_calls";
        }
        let mut message = ChatMessage {
            role: "assistant".into(),
            content: (!text.is_empty() || calls.is_empty() && finish != "content_filter")
                .then_some(MessageContent::Text(text)),
            tool_calls: (!calls.is_empty()).then_some(calls),
            ..Default::default()
        };
        if !reasoning.is_empty() {
            // As LiteLLM: the thoughts also as a thinking block, for clients written for Claude.
            message.extra.insert(
                "thinking_blocks".into(),
                serde_json::json!([{"type": "thinking", "thinking": reasoning}]),
            );
            message.reasoning_content = Some(reasoning);
        }
        if let Some(sigs) = signatures(parts.unwrap_or_default()) {
            message.extra.insert(
                "provider_specific_fields".into(),
                json!({"thought_signatures": sigs}),
            );
        }
        let mut extra = Map::new();
        if let Some(native) = cand["finishReason"].as_str() {
            // Gemini's own reason (`SAFETY`, `RECITATION`, ...), which `finish_reason` folds.
            extra.insert(
                "provider_specific_fields".into(),
                json!({"native_finish_reason": native}),
            );
        }
        choices.push(Choice {
            index: cand["index"].as_u64().unwrap_or(i as u64) as u32,
            message,
            finish_reason: Some(finish.into()),
            extra,
            ..Default::default()
        });
    }
    if choices.is_empty() {
        // The prompt itself was blocked (`promptFeedback.blockReason`): no candidates.
        choices.push(Choice {
            message: ChatMessage {
                role: "assistant".into(),
                ..Default::default()
            },
            finish_reason: Some("content_filter".into()),
            ..Default::default()
        });
    }
    let mut extra = Map::new();
    for (k, v) in metadata(v["candidates"].as_array().into_iter().flatten()) {
        extra.insert(k.into(), Value::Array(v));
    }
    ChatCompletionResponse {
        // LiteLLM uses Gemini's response id as it is.
        id: v["responseId"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| format!("chatcmpl-{}", uuid::Uuid::new_v4())),
        object: "chat.completion".into(),
        created,
        model: v["modelVersion"].as_str().unwrap_or(model).to_string(),
        choices,
        usage: Some(usage(&v["usageMetadata"])),
        extra,
        ..Default::default()
    }
}
