//! Anthropic Messages answer → OpenAI chat completion.

use llmgate_types::{
    ChatCompletionResponse, ChatMessage, Choice, CompletionTokensDetails, FunctionCall,
    MessageContent, PromptTokensDetails, ToolCall, Usage,
};
use serde_json::{json, Map, Value};

use super::request::JSON_TOOL;

pub fn finish_reason(stop: &str) -> &'static str {
    match stop {
        "max_tokens" | "model_context_window_exceeded" | "pause_turn" | "compaction" => "length",
        "tool_use" => "tool_calls",
        "refusal" => "content_filter",
        _ => "stop",
    }
}

/// What the answer thought, for LiteLLM's `reasoning_tokens` when Anthropic reports none.
#[derive(Default)]
pub struct Thought<'a> {
    /// The thinking text (all thinking blocks).
    pub text: &'a str,
    /// A thinking block (even redacted) was in the answer.
    pub any_block: bool,
}

/// Usage in OpenAI's convention: `prompt_tokens` counts cached reads and cache writes too (so
/// the catalog prices each once), with the split kept in the details and LiteLLM's fields.
/// `reasoning_tokens` as LiteLLM reports them: Anthropic's `output_tokens_details.thinking_tokens`
/// when sent, else the thinking text counted with cl100k (capped at the output), unknown (absent)
/// for redacted thinking only, else 0.
pub fn usage(u: &Value, thought: &Thought<'_>) -> Usage {
    let n = |k: &str| u[k].as_u64().unwrap_or(0);
    let (input, read, write) = (
        n("input_tokens"),
        n("cache_read_input_tokens"),
        n("cache_creation_input_tokens"),
    );
    let output = n("output_tokens");
    let mut usage = Usage::new(input + read + write, output);
    usage.prompt_tokens_details = Some(PromptTokensDetails {
        cached_tokens: Some(read),
        extra: Map::from_iter([
            ("text_tokens".to_string(), json!(input)),
            ("cache_creation_tokens".to_string(), json!(write)),
            ("cache_write_tokens".to_string(), json!(write)),
        ]),
        ..Default::default()
    });
    let reported = u["output_tokens_details"]["thinking_tokens"].as_u64();
    let reasoning = match reported {
        Some(r) => Some(r.min(output)),
        None if !thought.text.is_empty() => {
            Some((crate::tokens::count_text("", thought.text) as u64).min(output))
        }
        None if thought.any_block => None,
        None => Some(0),
    };
    usage.completion_tokens_details = Some(CompletionTokensDetails {
        reasoning_tokens: reasoning,
        extra: reasoning
            .map(|r| Map::from_iter([("text_tokens".to_string(), json!(output - r))]))
            .unwrap_or_default(),
    });
    // Server tools run (web searches, ...), as Anthropic counts them.
    if let Some(st) = u.get("server_tool_use").filter(|x| x.is_object()) {
        usage.extra.insert("server_tool_use".into(), st.clone());
    }
    usage
        .extra
        .insert("cache_creation_input_tokens".into(), json!(write));
    usage
        .extra
        .insert("cache_read_input_tokens".into(), json!(read));
    usage
}

/// What an answer carries besides text and tool calls, for `provider_specific_fields`.
#[derive(Default)]
struct Blocks {
    /// Per text block with citations: each citation with the `supported_text` it backs.
    citations: Vec<Value>,
    thinking: Vec<Value>,
    compaction: Vec<Value>,
    /// `web_search_tool_result` and `web_fetch_tool_result` blocks.
    web_results: Vec<Value>,
    /// Other `*_tool_result` blocks (code execution, ...).
    tool_results: Vec<Value>,
    /// `server_tool_use` blocks as tool calls (the client does not run them).
    server_calls: Vec<Value>,
    /// The hosted web tools used: (id, name, input).
    web_uses: Vec<(String, String, Value)>,
}

/// A hosted web tool use as LiteLLM's `web_search_call` (the OpenAI Responses item).
fn web_call(id: &str, name: &str, input: &Value, results: &[Value]) -> Value {
    let result = results
        .iter()
        .find(|r| r["tool_use_id"] == id && r["type"] == format!("{name}_tool_result").as_str());
    let content = result.map(|r| &r["content"]);
    let status = match content {
        None => "in_progress",
        Some(c) if c["type"] == format!("{name}_tool_result_error").as_str() => "failed",
        Some(_) => "completed",
    };
    let action = if name == "web_fetch" {
        json!({"type": "open_page", "url": input["url"]})
    } else {
        let query = input["query"].as_str().unwrap_or("");
        let sources: Vec<Value> = content
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|i| i["type"] == "web_search_result" && i["url"].is_string())
            .map(|i| json!({"type": "url", "url": i["url"]}))
            .collect();
        let queries: Vec<&str> = Some(query).filter(|q| !q.is_empty()).into_iter().collect();
        json!({"type": "search", "queries": queries, "query": query, "sources": sources})
    };
    json!({"id": format!("ws_{id}"), "action": action, "status": status, "type": "web_search_call"})
}

/// LiteLLM's `provider_specific_fields` on the message: `citations` and `thinking_blocks`
/// (null when absent), then what Anthropic sent of context management, input
/// transformations, web search results and calls, tool results, the container, compaction
/// blocks, server tool calls and the raw stop reason.
fn provider_fields(v: &Value, b: Blocks) -> Value {
    let list = |l: Vec<Value>| {
        if l.is_empty() {
            Value::Null
        } else {
            Value::Array(l)
        }
    };
    let mut f = Map::new();
    f.insert("citations".into(), list(b.citations));
    f.insert("thinking_blocks".into(), list(b.thinking));
    for k in ["context_management", "input_transformations"] {
        if let Some(x) = v.get(k).filter(|x| !x.is_null()) {
            f.insert(k.into(), x.clone());
        }
    }
    let calls: Vec<Value> = b
        .web_uses
        .iter()
        .map(|(id, name, input)| web_call(id, name, input, &b.web_results))
        .collect();
    let searched = !b.web_results.is_empty() || !calls.is_empty();
    if !b.web_results.is_empty() {
        f.insert("web_search_results".into(), Value::Array(b.web_results));
    }
    if searched {
        f.insert("web_search_calls".into(), Value::Array(calls));
    }
    if !b.tool_results.is_empty() {
        f.insert("tool_results".into(), Value::Array(b.tool_results));
    }
    if let Some(x) = v.get("container").filter(|x| !x.is_null()) {
        f.insert("container".into(), x.clone());
    }
    if !b.compaction.is_empty() {
        f.insert("compaction_blocks".into(), Value::Array(b.compaction));
    }
    if !b.server_calls.is_empty() {
        f.insert("server_tool_calls".into(), Value::Array(b.server_calls));
    }
    f.extend(stop_fields(v));
    Value::Object(f)
}

/// The stop reason LiteLLM keeps raw (a refusal, a paused turn, or any with `stop_details`).
fn stop_fields(v: &Value) -> Map<String, Value> {
    let mut f = Map::new();
    let reason = &v["stop_reason"];
    if !v["stop_details"].is_null() {
        f.insert("stop_reason".into(), reason.clone());
        f.insert("stop_details".into(), v["stop_details"].clone());
    } else if reason == "refusal" || reason == "pause_turn" {
        f.insert("stop_reason".into(), reason.clone());
    }
    f
}

pub fn translate(v: &Value, created: u64) -> ChatCompletionResponse {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut tool_calls = Vec::new();
    let mut json_answer = None;
    let mut b = Blocks::default();
    for (idx, block) in v["content"].as_array().into_iter().flatten().enumerate() {
        if let Some(list) = block["citations"].as_array() {
            let supported = block["text"].as_str().unwrap_or("");
            b.citations.push(Value::Array(
                list.iter()
                    .map(|c| {
                        let mut c = c.clone();
                        c["supported_text"] = json!(supported);
                        c
                    })
                    .collect(),
            ));
        }
        match block["type"].as_str() {
            Some("text") => text.push_str(block["text"].as_str().unwrap_or("")),
            Some("thinking") => {
                reasoning.push_str(block["thinking"].as_str().unwrap_or(""));
                b.thinking.push(block.clone());
            }
            Some("redacted_thinking") => b.thinking.push(block.clone()),
            Some("compaction") => b.compaction.push(block.clone()),
            Some("server_tool_use") => {
                let (id, name) = (
                    block["id"].as_str().unwrap_or(""),
                    block["name"].as_str().unwrap_or(""),
                );
                b.server_calls.push(json!({"id": id, "type": "function",
                    "function": {"name": name, "arguments": python_json(&block["input"])}, "index": idx}));
                if name == "web_search" || name == "web_fetch" {
                    b.web_uses
                        .push((id.to_string(), name.to_string(), block["input"].clone()));
                }
            }
            Some("web_search_tool_result" | "web_fetch_tool_result") => {
                b.web_results.push(block.clone())
            }
            Some(t) if t.ends_with("_tool_result") => b.tool_results.push(block.clone()),
            Some("tool_use") if block["name"] == JSON_TOOL => {
                json_answer = Some(python_json(&block["input"]))
            }
            Some("tool_use") => tool_calls.push(ToolCall {
                id: block["id"].as_str().map(str::to_string),
                kind: "function".into(),
                function: FunctionCall {
                    name: block["name"].as_str().unwrap_or("").to_string(),
                    arguments: python_json(&block["input"]),
                },
                // LiteLLM numbers a call by its content block (thinking and text count too).
                extra: Map::from_iter(
                    [("index".to_string(), json!(idx))].into_iter().chain(
                        block
                            .get("caller")
                            .map(|c| ("caller".to_string(), c.clone())),
                    ),
                ),
            }),
            _ => {}
        }
    }
    let stop = v["stop_reason"].as_str().unwrap_or("end_turn");
    let mut finish = finish_reason(stop);
    let usage = usage(
        &v["usage"],
        &Thought {
            text: &reasoning,
            any_block: !b.thinking.is_empty(),
        },
    );
    let thinking_blocks = b.thinking.clone();
    // An answer through the JSON tool carries only the raw stop reason and input
    // transformations in LiteLLM's provider fields.
    let fields = match json_answer {
        None => Some(provider_fields(v, b)),
        Some(_) => {
            let mut f = stop_fields(v);
            if let Some(x) = v.get("input_transformations").filter(|x| !x.is_null()) {
                f.insert("input_transformations".into(), x.clone());
            }
            (!f.is_empty()).then_some(Value::Object(f))
        }
    };
    // A refusal's explanation is the message's `refusal`.
    let refusal = (stop == "refusal")
        .then(|| v["stop_details"]["explanation"].as_str())
        .flatten()
        .filter(|e| !e.is_empty());
    if let Some(j) = json_answer {
        // The forced JSON tool is how the answer was asked for: it is the content.
        text = j;
        if finish == "tool_calls" && tool_calls.is_empty() {
            finish = "stop";
        }
    }
    let mut message = ChatMessage {
        role: "assistant".into(),
        content: (!text.is_empty() || tool_calls.is_empty()).then_some(MessageContent::Text(text)),
        tool_calls: (!tool_calls.is_empty()).then_some(tool_calls),
        reasoning_content: (!reasoning.is_empty()).then_some(reasoning),
        ..Default::default()
    };
    if !thinking_blocks.is_empty() {
        message
            .extra
            .insert("thinking_blocks".into(), Value::Array(thinking_blocks));
    }
    if let Some(fields) = fields {
        message
            .extra
            .insert("provider_specific_fields".into(), fields);
    }
    if let Some(r) = refusal {
        message.extra.insert("refusal".into(), json!(r));
    }
    ChatCompletionResponse {
        id: v["id"].as_str().unwrap_or("").to_string(),
        object: "chat.completion".into(),
        created,
        model: v["model"].as_str().unwrap_or("").to_string(),
        choices: vec![Choice {
            index: 0,
            message,
            finish_reason: Some(finish.into()),
            ..Default::default()
        }],
        usage: Some(usage),
        ..Default::default()
    }
}

/// `value` as Python's `json.dumps` writes it (`", "` and `": "` separators, non-ASCII escaped):
/// LiteLLM serialises tool inputs that way, and clients compare the strings.
pub fn python_json(value: &Value) -> String {
    let mut out = String::new();
    write_python_json(value, &mut out);
    out
}

fn write_python_json(value: &Value, out: &mut String) {
    match value {
        Value::Array(a) => {
            out.push('[');
            for (i, v) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python_json(v, out);
            }
            out.push(']');
        }
        Value::Object(o) => {
            out.push('{');
            for (i, (k, v)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write_python_str(k, out);
                out.push_str(": ");
                write_python_json(v, out);
            }
            out.push('}');
        }
        Value::String(s) => write_python_str(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn write_python_str(s: &str, out: &mut String) {
    use std::fmt::Write;
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            c if c.is_ascii() && c >= ' ' => out.push(c),
            c => {
                let mut buf = [0u16; 2];
                for unit in c.encode_utf16(&mut buf) {
                    let _ = write!(out, "\\u{unit:04x}");
                }
            }
        }
    }
    out.push('"');
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tool_input_is_written_as_python_json_dumps() {
        let v = json!({"location": "Paris", "n": [1, 2.5, null, true], "q": "é \"😀\"\n"});
        assert_eq!(
            python_json(&v),
            r#"{"location": "Paris", "n": [1, 2.5, null, true], "q": "\u00e9 \"\ud83d\ude00\"\n"}"#
        );
    }
}
