//! Gemini `GenerateContentResponse` → OpenAI chat completion (and the pieces streams reuse).

use llmgate_types::{
    ChatCompletionResponse, ChatMessage, Choice, CompletionTokensDetails, FunctionCall,
    MessageContent, PromptTokensDetails, ToolCall, Usage,
};
use serde_json::{json, Map, Value};

use super::request::THOUGHT_SEP;

/// Gemini's finish reason as LiteLLM's `map_finish_reason` maps it (unknown ones: `stop`).
pub fn finish_reason(reason: &str) -> &'static str {
    match reason {
        "MAX_TOKENS" | "CONTINUATION" | "length" => "length",
        "SAFETY"
        | "RECITATION"
        | "LANGUAGE"
        | "OTHER"
        | "BLOCKLIST"
        | "PROHIBITED_CONTENT"
        | "SPII"
        | "IMAGE_SAFETY"
        | "IMAGE_PROHIBITED_CONTENT"
        | "NO_IMAGE"
        | "IMAGE_RECITATION"
        | "IMAGE_OTHER"
        | "ESCALATION"
        | "content_filter" => "content_filter",
        "tool_calls" => "tool_calls",
        _ => "stop",
    }
}

/// Finish reasons LiteLLM answers as a flagged response (`get_flagged_finish_reasons`): one
/// empty `content_filter` choice, whatever the candidates hold.
pub fn is_flagged(reason: &str) -> bool {
    matches!(
        reason,
        "SAFETY"
            | "RECITATION"
            | "BLOCKLIST"
            | "PROHIBITED_CONTENT"
            | "SPII"
            | "IMAGE_SAFETY"
            | "IMAGE_PROHIBITED_CONTENT"
    )
}

/// Tokens per modality of a `*TokensDetails` list (`DOCUMENT` counts as text, as LiteLLM has it).
#[derive(Default)]
struct Modalities {
    text: Option<u64>,
    audio: Option<u64>,
    image: Option<u64>,
    video: Option<u64>,
}

impl Modalities {
    fn add(&mut self, details: &Value) {
        for d in details.as_array().into_iter().flatten() {
            let n = d["tokenCount"]
                .as_u64()
                .or(d["token_count"].as_u64())
                .unwrap_or(0);
            let slot = match d["modality"]
                .as_str()
                .map(str::to_ascii_uppercase)
                .as_deref()
            {
                Some("TEXT" | "DOCUMENT") => &mut self.text,
                Some("AUDIO") => &mut self.audio,
                Some("IMAGE") => &mut self.image,
                Some("VIDEO") => &mut self.video,
                _ => continue,
            };
            *slot = Some(slot.unwrap_or(0) + n);
        }
    }
}

/// Billable grounding requests (LiteLLM's `calculate_grounding_requests`): distinct web search
/// queries, and Maps lookups (at least one per prompt that used Maps).
pub fn grounding_requests(grounding: &[Value]) -> (Option<u64>, Option<u64>) {
    let kinds = |item: &Value| -> Vec<String> {
        item["groundingChunks"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_object)
            .flat_map(|c| c.keys().cloned())
            .collect()
    };
    let is_maps = |item: &Value| {
        kinds(item).iter().any(|k| k == "maps")
            || item["googleMapsWidgetContextToken"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
    };
    let (mut web, mut maps) = (Vec::new(), Vec::new());
    for item in grounding.iter().filter(|i| i.is_object()) {
        let to_maps = is_maps(item) && !kinds(item).iter().any(|k| k == "web");
        for q in item["webSearchQueries"].as_array().into_iter().flatten() {
            let Some(q) = q.as_str().filter(|q| !q.is_empty()) else {
                continue;
            };
            let list = if to_maps { &mut maps } else { &mut web };
            if !list.contains(&q) {
                list.push(q);
            }
        }
    }
    let has_maps = grounding.iter().any(is_maps);
    (
        (!web.is_empty()).then_some(web.len() as u64),
        has_maps.then_some(maps.len().max(1) as u64),
    )
}

/// `usageMetadata` → usage as LiteLLM's `_calculate_usage` computes it: thoughts are completion
/// tokens (unless `candidatesTokenCount` already includes them), tool-use prompt tokens are
/// prompt tokens except on a search-grounded answer (Google bills those separately), per-modality
/// counts go into the details (text tokens without the cached ones). A detail Google did not
/// report is left out, not 0. `grounding` is the answer's grounding metadata.
pub fn usage(u: &Value, grounding: &[Value]) -> Usage {
    let n = |k: &str| u[k].as_u64();
    let (web_searches, maps_requests) = grounding_requests(grounding);
    let grounded = web_searches.is_some() || maps_requests.is_some();

    let mut out = Modalities::default();
    let mut out_seen = u.get("responseTokensDetails").is_some();
    out.add(&u["responseTokensDetails"]);
    if u.get("candidatesTokensDetails").is_some() {
        out_seen = true;
        out.add(&u["candidatesTokensDetails"]);
    }
    let candidates = n("candidatesTokenCount").unwrap_or(0);
    if candidates > 0 {
        out_seen = true;
        if out.text.is_none() {
            let media = out.image.unwrap_or(0) + out.audio.unwrap_or(0) + out.video.unwrap_or(0);
            out.text = Some(candidates.saturating_sub(media));
        }
    }
    let reasoning = n("thoughtsTokenCount");
    out_seen |= reasoning.is_some();

    let mut prompt = Modalities::default();
    prompt.add(&u["promptTokensDetails"]);
    let mut cached = Modalities::default();
    cached.add(&u["cacheTokensDetails"]);
    let cached_tokens = n("cachedContentTokenCount");
    if let (Some(c), Some(t), None, None) = (
        cached_tokens,
        prompt.text,
        cached.text,
        u.get("cacheTokensDetails"),
    ) {
        prompt.text = Some(t.saturating_sub(c));
    }
    if let (Some(c), Some(v)) = (cached.video, prompt.video) {
        prompt.video = Some(v.saturating_sub(c));
    }
    let tool_use = n("toolUsePromptTokenCount").filter(|t| *t > 0);
    let billable_tool_use = if grounded { 0 } else { tool_use.unwrap_or(0) };

    let mut completion = n("responseTokenCount")
        .filter(|t| *t > 0)
        .unwrap_or(candidates);
    let inclusive = n("promptTokenCount").unwrap_or(0) + candidates + tool_use.unwrap_or(0)
        == n("totalTokenCount").unwrap_or(0);
    if let Some(r) = reasoning.filter(|r| *r > 0 && !inclusive) {
        completion += r;
    }
    let mut usage = Usage {
        prompt_tokens: n("promptTokenCount").unwrap_or(0) + billable_tool_use,
        completion_tokens: completion,
        total_tokens: n("totalTokenCount").unwrap_or(0),
        ..Default::default()
    };

    let mut pd = PromptTokensDetails {
        cached_tokens,
        audio_tokens: prompt.audio,
        ..Default::default()
    };
    let put = |m: &mut Map<String, Value>, k: &str, v: Option<u64>| {
        if let Some(v) = v {
            m.insert(k.into(), json!(v));
        }
    };
    put(
        &mut pd.extra,
        "text_tokens",
        prompt.text.map(|t| t + billable_tool_use),
    );
    put(&mut pd.extra, "image_tokens", prompt.image);
    put(&mut pd.extra, "video_tokens", prompt.video);
    put(&mut pd.extra, "tool_use_tokens", tool_use);
    put(&mut pd.extra, "web_search_requests", web_searches);
    put(
        &mut pd.extra,
        "google_maps_grounding_requests",
        maps_requests,
    );
    let mut cd_cached = Map::new();
    put(&mut cd_cached, "text_tokens", cached.text);
    put(&mut cd_cached, "audio_tokens", cached.audio);
    put(&mut cd_cached, "image_tokens", cached.image);
    if !cd_cached.is_empty() {
        pd.extra
            .insert("cached_tokens_details".into(), Value::Object(cd_cached));
    }
    if pd != PromptTokensDetails::default() {
        usage.prompt_tokens_details = Some(pd);
    }
    if out_seen {
        let mut cd = CompletionTokensDetails {
            reasoning_tokens: reasoning,
            ..Default::default()
        };
        put(&mut cd.extra, "text_tokens", out.text);
        put(&mut cd.extra, "audio_tokens", out.audio);
        put(&mut cd.extra, "image_tokens", out.image);
        put(&mut cd.extra, "video_tokens", out.video);
        usage.completion_tokens_details = Some(cd);
    }
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

/// `json.dumps` output (`", "` and `": "` separators), which LiteLLM writes call arguments
/// with: a client comparing or hashing the argument string sees the same bytes.
struct PythonJson;

impl serde_json::ser::Formatter for PythonJson {
    fn begin_array_value<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_key<W: ?Sized + std::io::Write>(
        &mut self,
        w: &mut W,
        first: bool,
    ) -> std::io::Result<()> {
        if first {
            Ok(())
        } else {
            w.write_all(b", ")
        }
    }

    fn begin_object_value<W: ?Sized + std::io::Write>(&mut self, w: &mut W) -> std::io::Result<()> {
        w.write_all(b": ")
    }
}

pub fn python_json(v: &Value) -> String {
    use serde::Serialize;
    let mut out = Vec::new();
    let mut ser = serde_json::Serializer::with_formatter(&mut out, PythonJson);
    if v.serialize(&mut ser).is_err() {
        return v.to_string();
    }
    String::from_utf8(out).unwrap_or_else(|_| v.to_string())
}

/// A call's arguments as LiteLLM writes them; a call without any has `{}`.
pub fn args(part: &Value) -> String {
    match &part["functionCall"]["args"] {
        Value::Null => "{}".into(),
        a => python_json(a),
    }
}

/// A `functionCall` part as the `index`-th tool call of the answer (LiteLLM numbers the calls
/// across candidates and writes the index on each).
pub fn function_call(part: &Value, index: u32) -> ToolCall {
    let mut extra = call_extra(part);
    extra.insert("index".into(), json!(index));
    ToolCall {
        id: Some(call_id(part)),
        kind: "function".into(),
        function: FunctionCall {
            name: part["functionCall"]["name"]
                .as_str()
                .unwrap_or("")
                .to_string(),
            arguments: args(part),
        },
        extra,
    }
}

/// The model the answer names (`modelVersion` without an `@version`), as LiteLLM reports it.
pub fn served_model(v: &Value) -> Option<&str> {
    v["modelVersion"]
        .as_str()
        .filter(|m| !m.is_empty())
        .map(|m| m.split('@').next().unwrap_or(m))
}

/// `{prompt, completion, total}` only, as LiteLLM reports a blocked or flagged answer.
fn plain_usage(u: &Value) -> Usage {
    let n = |k: &str| u[k].as_u64().unwrap_or(0);
    Usage {
        prompt_tokens: n("promptTokenCount"),
        completion_tokens: n("candidatesTokenCount"),
        total_tokens: n("totalTokenCount"),
        ..Default::default()
    }
}

/// A grounded candidate's sources as OpenAI `url_citation` annotations (LiteLLM's
/// `_convert_grounding_metadata_to_annotations`): one per supported segment and web source.
pub fn annotations(cand: &Value) -> Vec<Value> {
    let items: Vec<&Value> = match &cand["groundingMetadata"] {
        Value::Array(a) => a.iter().collect(),
        Value::Object(_) => vec![&cand["groundingMetadata"]],
        _ => vec![],
    };
    let mut out = Vec::new();
    for m in items {
        let chunks = m["groundingChunks"]
            .as_array()
            .map_or(&[][..], Vec::as_slice);
        for support in m["groundingSupports"].as_array().into_iter().flatten() {
            let seg = &support["segment"];
            // Google leaves out a zero `startIndex` (proto3 JSON): the first sentence's sources,
            // which LiteLLM drops, are kept.
            let Some(end) = seg.get("endIndex") else {
                continue;
            };
            let start = seg.get("startIndex").unwrap_or(&json!(0)).clone();
            for i in support["groundingChunkIndices"]
                .as_array()
                .into_iter()
                .flatten()
            {
                let Some(web) = i
                    .as_u64()
                    .and_then(|i| chunks.get(i as usize))
                    .and_then(|c| c.get("web"))
                else {
                    continue;
                };
                out.push(json!({"type": "url_citation", "url_citation": {
                    "start_index": start, "end_index": end,
                    "url": web.get("uri").cloned().unwrap_or(json!("")),
                    "title": web.get("title").cloned().unwrap_or(json!("")),
                }}));
            }
        }
    }
    out
}

pub fn translate(v: &Value, model: &str, created: u64) -> ChatCompletionResponse {
    let model = served_model(v).unwrap_or(model).to_string();
    let cands: &[Value] = v["candidates"].as_array().map_or(&[], Vec::as_slice);
    let blocked = v["promptFeedback"]["blockReason"].is_string();
    let flagged = cands
        .first()
        .and_then(|c| c["finishReason"].as_str())
        .is_some_and(is_flagged);
    if blocked || flagged {
        // The prompt was blocked (no candidates) or the answer flagged: LiteLLM answers one
        // empty `content_filter` choice with the bare token counts.
        return ChatCompletionResponse {
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4()),
            object: "chat.completion".into(),
            created,
            model,
            choices: vec![Choice {
                message: ChatMessage {
                    role: "assistant".into(),
                    ..Default::default()
                },
                finish_reason: Some("content_filter".into()),
                ..Default::default()
            }],
            usage: Some(plain_usage(&v["usageMetadata"])),
            ..Default::default()
        };
    }
    let mut choices = Vec::new();
    let mut next_call = 0;
    for (i, cand) in cands.iter().enumerate() {
        if cand.get("content").is_none() && cand.get("finishReason").is_none() {
            continue;
        }
        let mut text = None::<String>;
        let mut reasoning = None::<String>;
        let mut calls = Vec::new();
        let mut thinking_blocks = Vec::new();
        let parts = cand["content"]["parts"].as_array().map(Vec::as_slice);
        for part in parts.into_iter().flatten() {
            if part.get("functionCall").is_some() {
                calls.push(function_call(part, next_call));
                next_call += 1;
            }
            let Some(t) = part["text"].as_str().filter(|t| !t.is_empty()) else {
                continue;
            };
            if part["thought"] == true {
                reasoning.get_or_insert_with(String::new).push_str(t);
                let mut block = json!({"type": "thinking", "thinking": t});
                if let Some(sig) = part.get("thoughtSignature").filter(|s| !s.is_null()) {
                    block["signature"] = sig.clone();
                }
                thinking_blocks.push(block);
            } else {
                text.get_or_insert_with(String::new).push_str(t);
            }
        }
        let native = cand["finishReason"].as_str();
        let finish = if !calls.is_empty() {
            "tool_calls"
        } else {
            native.map_or("stop", finish_reason)
        };
        let mut message = ChatMessage {
            role: "assistant".into(),
            content: text.map(MessageContent::Text),
            tool_calls: (!calls.is_empty()).then_some(calls),
            reasoning_content: reasoning,
            ..Default::default()
        };
        if !thinking_blocks.is_empty() {
            // As LiteLLM: the thoughts also as thinking blocks, for clients written for Claude.
            message
                .extra
                .insert("thinking_blocks".into(), Value::Array(thinking_blocks));
        }
        if let Some(sigs) = signatures(parts.unwrap_or_default()) {
            message.extra.insert(
                "provider_specific_fields".into(),
                json!({"thought_signatures": sigs}),
            );
        }
        let cites = annotations(cand);
        if parts.is_some() && !cites.is_empty() {
            message
                .extra
                .insert("annotations".into(), Value::Array(cites));
        }
        let mut extra = Map::new();
        if let Some(native) = native {
            // Gemini's own reason (`MAX_TOKENS`, `MALFORMED_FUNCTION_CALL`, ...).
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
    let meta = metadata(cands.iter());
    let usage = usage(&v["usageMetadata"], &meta[0].1);
    let mut extra = Map::new();
    for (k, v) in meta {
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
        model,
        choices,
        usage: Some(usage),
        extra,
        ..Default::default()
    }
}
