//! Chat and text completions in the cache: a stream's chunks assembled into the answer
//! LiteLLM stores (`assemble_complete_response_from_streaming_chunks`), and a stored answer
//! replayed as a stream (the whole content in one delta, then the finish, then the usage).
//! On JSON values, so the stored form is exactly what clients see.

use serde_json::{json, Map, Value};

fn head(chunks: &[Value], object: &str) -> Map<String, Value> {
    let mut m = Map::new();
    let first = chunks.iter().find(|c| c.get("id").is_some());
    for k in ["id", "created", "model", "system_fingerprint"] {
        if let Some(v) = first.and_then(|c| c.get(k)).filter(|v| !v.is_null()) {
            m.insert(k.into(), v.clone());
        }
    }
    m.insert("object".into(), json!(object));
    m
}

fn last_usage(chunks: &[Value]) -> Option<Value> {
    chunks
        .iter()
        .rev()
        .find_map(|c| c.get("usage").filter(|u| u.is_object()).cloned())
}

fn append(slot: &mut Map<String, Value>, key: &str, text: Option<&str>) {
    if let Some(t) = text {
        let s = slot.entry(key).or_insert_with(|| json!(""));
        if let Value::String(s) = s {
            s.push_str(t);
        }
    }
}

fn choices_of(c: &Value) -> impl Iterator<Item = &Value> {
    c.get("choices")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
}

/// One choice being assembled: its index, message, finish reason, tool calls by index.
type Assembling = (u64, Map<String, Value>, Value, Vec<Map<String, Value>>);

/// Chat chunks → a `chat.completion`.
pub fn chat_assemble(chunks: &[Value]) -> Option<Value> {
    let mut choices: Vec<Assembling> = Vec::new();
    for c in chunks {
        for ch in choices_of(c) {
            let i = ch.get("index").and_then(Value::as_u64).unwrap_or(0);
            let pos = match choices.iter().position(|x| x.0 == i) {
                Some(p) => p,
                None => {
                    let mut m = Map::new();
                    m.insert("role".into(), json!("assistant"));
                    choices.push((i, m, Value::Null, Vec::new()));
                    choices.len() - 1
                }
            };
            let (_, msg, finish, calls) = &mut choices[pos];
            if let Some(f) = ch.get("finish_reason").filter(|f| !f.is_null()) {
                *finish = f.clone();
            }
            let Some(d) = ch.get("delta") else { continue };
            append(msg, "content", d.get("content").and_then(Value::as_str));
            append(
                msg,
                "reasoning_content",
                d.get("reasoning_content").and_then(Value::as_str),
            );
            for tc in d
                .get("tool_calls")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                let ti = tc.get("index").and_then(Value::as_u64).unwrap_or(0) as usize;
                while calls.len() <= ti {
                    calls.push(Map::new());
                }
                let call = &mut calls[ti];
                for k in ["id", "type"] {
                    if let Some(v) = tc.get(k).filter(|v| !v.is_null()) {
                        call.insert(k.into(), v.clone());
                    }
                }
                if let Some(f) = tc.get("function") {
                    let func = call
                        .entry("function")
                        .or_insert_with(|| json!({"name": "", "arguments": ""}));
                    if let Value::Object(func) = func {
                        append(func, "name", f.get("name").and_then(Value::as_str));
                        append(
                            func,
                            "arguments",
                            f.get("arguments").and_then(Value::as_str),
                        );
                    }
                }
            }
        }
    }
    if choices.is_empty() {
        return None;
    }
    choices.sort_by_key(|c| c.0);
    let mut out = head(chunks, "chat.completion");
    let list: Vec<Value> = choices
        .into_iter()
        .map(|(i, mut msg, finish, calls)| {
            msg.entry("content").or_insert(Value::Null);
            if !calls.is_empty() {
                let calls: Vec<Value> = calls
                    .into_iter()
                    .map(|mut c| {
                        c.entry("type").or_insert_with(|| json!("function"));
                        Value::Object(c)
                    })
                    .collect();
                msg.insert("tool_calls".into(), Value::Array(calls));
            }
            json!({"index": i, "message": msg, "finish_reason": finish})
        })
        .collect();
    out.insert("choices".into(), Value::Array(list));
    if let Some(u) = last_usage(chunks) {
        out.insert("usage".into(), u);
    }
    Some(Value::Object(out))
}

/// A `chat.completion` → the chunks that replay it.
pub fn chat_replay(answer: &Value) -> Option<Vec<Value>> {
    let base = head(std::slice::from_ref(answer), "chat.completion.chunk");
    let with = |choices: Value| {
        let mut m = base.clone();
        m.insert("choices".into(), choices);
        Value::Object(m)
    };
    let mut out = Vec::new();
    let mut finishes = Vec::new();
    for ch in choices_of(answer) {
        let i = ch.get("index").cloned().unwrap_or(json!(0));
        let msg = ch.get("message").cloned().unwrap_or(json!({}));
        let mut delta = Map::new();
        delta.insert(
            "role".into(),
            msg.get("role").cloned().unwrap_or(json!("assistant")),
        );
        for k in ["content", "reasoning_content"] {
            if let Some(v) = msg.get(k).filter(|v| !v.is_null()) {
                delta.insert(k.into(), v.clone());
            }
        }
        if let Some(Value::Array(calls)) = msg.get("tool_calls") {
            let calls: Vec<Value> = calls
                .iter()
                .enumerate()
                .map(|(n, c)| {
                    let mut c = c.clone();
                    c["index"] = json!(n);
                    c
                })
                .collect();
            delta.insert("tool_calls".into(), Value::Array(calls));
        }
        out.push(with(
            json!([{"index": i, "delta": delta, "finish_reason": null}]),
        ));
        finishes.push(json!({"index": i, "delta": {}, "finish_reason": ch.get("finish_reason").cloned().unwrap_or(json!("stop"))}));
    }
    if out.is_empty() {
        return None;
    }
    for f in finishes {
        out.push(with(json!([f])));
    }
    if let Some(u) = answer.get("usage").filter(|u| u.is_object()) {
        let mut last = with(json!([]));
        last["usage"] = u.clone();
        out.push(last);
    }
    Some(out)
}

/// Text-completion chunks → a `text_completion`.
pub fn text_assemble(chunks: &[Value]) -> Option<Value> {
    let mut choices: Vec<(u64, String, Value)> = Vec::new();
    for c in chunks {
        for ch in choices_of(c) {
            let i = ch.get("index").and_then(Value::as_u64).unwrap_or(0);
            let pos = match choices.iter().position(|x| x.0 == i) {
                Some(p) => p,
                None => {
                    choices.push((i, String::new(), Value::Null));
                    choices.len() - 1
                }
            };
            if let Some(t) = ch.get("text").and_then(Value::as_str) {
                choices[pos].1.push_str(t);
            }
            if let Some(f) = ch.get("finish_reason").filter(|f| !f.is_null()) {
                choices[pos].2 = f.clone();
            }
        }
    }
    if choices.is_empty() {
        return None;
    }
    choices.sort_by_key(|c| c.0);
    let mut out = head(chunks, "text_completion");
    let list: Vec<Value> = choices
        .into_iter()
        .map(|(i, text, f)| json!({"index": i, "text": text, "finish_reason": f, "logprobs": null}))
        .collect();
    out.insert("choices".into(), Value::Array(list));
    if let Some(u) = last_usage(chunks) {
        out.insert("usage".into(), u);
    }
    Some(Value::Object(out))
}

/// A `text_completion` → the chunks that replay it.
pub fn text_replay(answer: &Value) -> Option<Vec<Value>> {
    let base = head(std::slice::from_ref(answer), "text_completion");
    let mut out: Vec<Value> = choices_of(answer)
        .map(|ch| {
            let mut m = base.clone();
            m.insert("choices".into(), json!([ch]));
            Value::Object(m)
        })
        .collect();
    if out.is_empty() {
        return None;
    }
    if let Some(u) = answer.get("usage").filter(|u| u.is_object()) {
        let mut m = base.clone();
        m.insert("choices".into(), json!([]));
        m.insert("usage".into(), u.clone());
        out.push(Value::Object(m));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunk(choices: Value) -> Value {
        json!({"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m", "choices": choices})
    }

    #[test]
    fn chat_stream_assembles_and_replays() {
        let chunks = vec![
            chunk(
                json!([{"index": 0, "delta": {"role": "assistant", "content": "Hel"}, "finish_reason": null}]),
            ),
            chunk(json!([{"index": 0, "delta": {"content": "lo"}, "finish_reason": null}])),
            chunk(
                json!([{"index": 0, "delta": {"tool_calls": [{"index": 0, "id": "c1", "type": "function", "function": {"name": "f", "arguments": "{\"a\""}}]}}]),
            ),
            chunk(
                json!([{"index": 0, "delta": {"tool_calls": [{"index": 0, "function": {"arguments": ":1}"}}]}, "finish_reason": "tool_calls"}]),
            ),
            {
                let mut u = chunk(json!([]));
                u["usage"] = json!({"prompt_tokens": 3, "completion_tokens": 2, "total_tokens": 5});
                u
            },
        ];
        let a = chat_assemble(&chunks).unwrap();
        assert_eq!(a["object"], "chat.completion");
        assert_eq!(a["id"], "chatcmpl-1");
        let m = &a["choices"][0]["message"];
        assert_eq!(m["content"], "Hello");
        assert_eq!(m["tool_calls"][0]["function"]["arguments"], "{\"a\":1}");
        assert_eq!(m["tool_calls"][0]["id"], "c1");
        assert_eq!(a["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(a["usage"]["total_tokens"], 5);

        let replay = chat_replay(&a).unwrap();
        assert_eq!(replay.len(), 3);
        assert_eq!(replay[0]["object"], "chat.completion.chunk");
        assert_eq!(replay[0]["choices"][0]["delta"]["content"], "Hello");
        assert_eq!(
            replay[0]["choices"][0]["delta"]["tool_calls"][0]["index"],
            0
        );
        assert_eq!(replay[1]["choices"][0]["finish_reason"], "tool_calls");
        assert_eq!(replay[2]["usage"]["total_tokens"], 5);
        // The replay assembles back into the same answer.
        assert_eq!(chat_assemble(&replay).unwrap(), a);
        // Typed as the gateway sends them.
        for c in &replay {
            serde_json::from_value::<llmgate::ChatCompletionChunk>(c.clone()).unwrap();
        }
        serde_json::from_value::<llmgate::ChatCompletionResponse>(a).unwrap();
    }

    #[test]
    fn text_stream_assembles_and_replays() {
        let c = |t: &str, f: Value| json!({"id": "cmpl-1", "object": "text_completion", "created": 1, "model": "m", "choices": [{"index": 0, "text": t, "finish_reason": f}]});
        let chunks = vec![c("a", Value::Null), c("b", json!("stop"))];
        let a = text_assemble(&chunks).unwrap();
        assert_eq!(a["choices"][0]["text"], "ab");
        assert_eq!(a["choices"][0]["finish_reason"], "stop");
        let r = text_replay(&a).unwrap();
        assert_eq!(text_assemble(&r).unwrap(), a);
        assert!(chat_assemble(&[json!({"choices": []})]).is_none());
    }
}
