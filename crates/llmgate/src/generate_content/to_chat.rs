//! A `generateContent` request as a chat request: the system instruction, `user` turns (text,
//! inline data as data URLs, file URIs), `model` turns (text, thoughts as reasoning, function
//! calls as tool calls), function responses as `tool` messages, function declarations as
//! tools (Google's schema subset written as JSON Schema), `toolConfig` as `tool_choice`, and
//! `generationConfig` as the chat params it has.

use std::collections::VecDeque;

use llmgate_types::ChatCompletionRequest;
use serde_json::{json, Map, Value};

use super::schema::json_schema;
use super::{
    Content, FunctionCall, GenerateContentRequest, GenerationConfig, Part, ThinkingConfig,
    ToolConfig,
};
use crate::LlmError;

fn bad(msg: impl Into<String>) -> LlmError {
    LlmError::bad_request(msg)
}

pub fn to_chat(req: &GenerateContentRequest) -> Result<ChatCompletionRequest, LlmError> {
    let mut messages = Vec::new();
    if let Some(sys) = &req.system_instruction {
        let text = texts(&sys.parts);
        if !text.is_empty() {
            messages.push(json!({"role": "system", "content": text}));
        }
    }
    let mut ids = CallIds::default();
    for (i, c) in req.contents.iter().enumerate() {
        turn(c, &mut ids, &mut messages)
            .map_err(|e| bad(format!("contents[{i}]: {}", e.message)))?;
    }
    if !messages.iter().any(|m| m["role"] != "system") {
        return Err(bad(
            "contents is not specified: at least one turn with parts is required",
        ));
    }
    let mut body = Map::new();
    body.insert("model".into(), json!(req.model));
    body.insert("messages".into(), Value::Array(messages));
    if let Some(g) = &req.generation_config {
        generation(g, &mut body)?;
    }
    let tools: Vec<Value> = req
        .tools
        .iter()
        .flatten()
        .flat_map(|t| t.function_declarations.iter().flatten())
        .map(|d| {
            let parameters = match (&d.parameters_json_schema, &d.parameters) {
                (Some(s), _) => s.clone(),
                (None, Some(s)) => json_schema(s),
                (None, None) => json!({"type": "object", "properties": {}}),
            };
            let mut f = json!({"name": d.name, "parameters": parameters});
            if let Some(desc) = &d.description {
                f["description"] = json!(desc);
            }
            json!({"type": "function", "function": f})
        })
        .collect();
    // A tool choice names functions: only with some declared.
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
        if let Some(tc) = req.tool_config.as_ref().and_then(tool_choice) {
            body.insert("tool_choice".into(), tc);
        }
    }
    if let Some(user) = req.extra.get("user").filter(|u| u.is_string()) {
        body.insert("user".into(), user.clone());
    }
    serde_json::from_value(Value::Object(body)).map_err(|e| bad(format!("invalid request: {e}")))
}

/// The text parts joined (a system instruction: every chat server takes a string).
fn texts(parts: &[Part]) -> String {
    parts
        .iter()
        .filter(|p| p.thought != Some(true))
        .filter_map(|p| p.text.as_deref())
        .collect::<Vec<_>>()
        .join("\n")
}

/// Tool call ids. Google's calls and responses carry an `id` only sometimes (Gemini 3, and
/// answers from this module): without one, a call is `call_<name>` (`_<n>` for a repeated
/// name in the conversation, as chat ids must be unique) and a response takes the id of the
/// first call of its name in the turn before that no response has answered yet.
#[derive(Default)]
struct CallIds {
    /// The last model turn's calls not yet answered: name, id.
    open: VecDeque<(String, String)>,
    /// Every id given so far.
    used: Vec<String>,
}

impl CallIds {
    fn for_call(&mut self, call: &FunctionCall) -> String {
        let id = match call.id.as_deref().filter(|id| !id.is_empty()) {
            Some(id) => id.to_string(),
            None => {
                // Anthropic takes ids of `[A-Za-z0-9_-]` only; Google's names may have `.` or `:`.
                let safe: String = call
                    .name
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '-' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                let base = format!("call_{safe}");
                let mut id = base.clone();
                let mut n = 1;
                while self.used.contains(&id) {
                    n += 1;
                    id = format!("{base}_{n}");
                }
                id
            }
        };
        self.open.push_back((call.name.clone(), id.clone()));
        self.used.push(id.clone());
        id
    }

    fn for_response(&mut self, id: Option<&str>, name: &str) -> String {
        let id = id.filter(|id| !id.is_empty());
        let at = self
            .open
            .iter()
            .position(|(n, i)| id.map_or(n == name, |id| i == id));
        match (at.and_then(|at| self.open.remove(at)), id) {
            (Some((_, found)), _) => found,
            (None, Some(id)) => id.to_string(),
            (None, None) => format!("call_{name}"),
        }
    }
}

/// One turn as chat messages: a user turn's function responses become `tool` messages first
/// (they answer the previous model turn), its other parts one user message; a model turn one
/// assistant message.
fn turn(c: &Content, ids: &mut CallIds, out: &mut Vec<Value>) -> Result<(), LlmError> {
    match c.role.as_deref().unwrap_or("user") {
        "model" | "assistant" => {
            ids.open.clear();
            out.push(model_turn(&c.parts, ids));
            Ok(())
        }
        "user" | "function" | "tool" => {
            let mut parts = Vec::new();
            for p in &c.parts {
                if let Some(fr) = &p.function_response {
                    out.push(json!({
                        "role": "tool",
                        "tool_call_id": ids.for_response(fr.id.as_deref(), &fr.name),
                        "content": serde_json::to_string(&fr.response).unwrap_or_default(),
                    }));
                } else if let Some(part) = user_part(p) {
                    parts.push(part);
                }
            }
            if !parts.is_empty() {
                out.push(json!({"role": "user", "content": simplified(parts)}));
            }
            Ok(())
        }
        other => Err(bad(format!("role must be user or model, not {other:?}"))),
    }
}

/// A single text part as a plain string (what every chat server takes).
fn simplified(parts: Vec<Value>) -> Value {
    match parts.as_slice() {
        [p] if p["type"] == "text" => p["text"].clone(),
        _ => Value::Array(parts),
    }
}

/// A user part as a chat content part: text; inline data as a data URL (images as
/// `image_url`, WAV/MP3 as `input_audio`, anything else as a `file`); a file URI as an
/// `image_url` (images, and URLs without a type) or a `file` by id. Thoughts and parts with
/// nothing a chat model reads are left out.
fn user_part(p: &Part) -> Option<Value> {
    if let Some(t) = p.text.as_deref().filter(|_| p.thought != Some(true)) {
        return Some(json!({"type": "text", "text": t}));
    }
    if let Some(b) = &p.inline_data {
        let mime = b.mime_type.as_str();
        let url = format!("data:{mime};base64,{}", b.data);
        return Some(match mime {
            m if m.starts_with("image/") => json!({"type": "image_url", "image_url": {"url": url}}),
            "audio/wav" | "audio/x-wav" => {
                json!({"type": "input_audio", "input_audio": {"data": b.data, "format": "wav"}})
            }
            "audio/mp3" | "audio/mpeg" => {
                json!({"type": "input_audio", "input_audio": {"data": b.data, "format": "mp3"}})
            }
            _ => json!({"type": "file", "file": {"file_data": url}}),
        });
    }
    if let Some(f) = &p.file_data {
        let mime = f.mime_type.as_deref();
        let image = mime.is_none_or(|m| m.starts_with("image/"));
        return Some(if image {
            json!({"type": "image_url", "image_url": {"url": f.file_uri}})
        } else {
            json!({"type": "file", "file": {"file_id": f.file_uri, "format": mime}})
        });
    }
    None
}

/// A model turn: text joined, thoughts as `reasoning_content`, calls as tool calls.
fn model_turn(parts: &[Part], ids: &mut CallIds) -> Value {
    let mut text = String::new();
    let mut reasoning = String::new();
    let mut calls = Vec::new();
    for p in parts {
        if let Some(fc) = &p.function_call {
            let id = ids.for_call(fc);
            let args = match &fc.args {
                Some(a) if !a.is_null() => serde_json::to_string(a).unwrap_or_default(),
                _ => "{}".to_string(),
            };
            calls.push(json!({"id": id, "type": "function",
                              "function": {"name": fc.name, "arguments": args}}));
        } else if let Some(t) = &p.text {
            if p.thought == Some(true) {
                reasoning.push_str(t);
            } else {
                text.push_str(t);
            }
        }
    }
    let content = if text.is_empty() && !calls.is_empty() {
        Value::Null
    } else {
        json!(text)
    };
    let mut m = json!({"role": "assistant", "content": content});
    if !calls.is_empty() {
        m["tool_calls"] = Value::Array(calls);
    }
    if !reasoning.is_empty() {
        m["reasoning_content"] = json!(reasoning);
    }
    m
}

/// `generationConfig` as chat params. `topK` goes as `top_k` (the providers that take it read
/// it there); `responseMimeType: application/json` with a schema is a `json_schema` response
/// format, without one `json_object`.
fn generation(g: &GenerationConfig, body: &mut Map<String, Value>) -> Result<(), LlmError> {
    let mut set = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            body.insert(k.into(), v);
        }
    };
    set("temperature", g.temperature.map(|v| json!(v)));
    set("top_p", g.top_p.map(|v| json!(v)));
    set("top_k", g.top_k.map(|v| json!(v)));
    set("max_tokens", g.max_output_tokens.map(|v| json!(v)));
    set(
        "stop",
        g.stop_sequences
            .as_ref()
            .filter(|s| !s.is_empty())
            .map(|s| json!(s)),
    );
    set("n", g.candidate_count.filter(|n| *n > 1).map(|v| json!(v)));
    set("seed", g.seed.map(|v| json!(v)));
    set("presence_penalty", g.presence_penalty.map(|v| json!(v)));
    set("frequency_penalty", g.frequency_penalty.map(|v| json!(v)));
    set(
        "reasoning_effort",
        g.thinking_config
            .as_ref()
            .and_then(effort)
            .map(|e| json!(e)),
    );
    match g.response_mime_type.as_deref() {
        Some("application/json") => {
            let schema = g
                .response_json_schema
                .clone()
                .or_else(|| g.response_schema.as_ref().map(json_schema));
            set(
                "response_format",
                Some(match schema {
                    Some(s) => json!({"type": "json_schema",
                                      "json_schema": {"name": "response", "schema": s}}),
                    None => json!({"type": "json_object"}),
                }),
            );
        }
        None | Some("text/plain") => {}
        Some(other) => {
            return Err(bad(format!(
                "generationConfig.responseMimeType {other:?} cannot be sent to this model: application/json or text/plain"
            )))
        }
    }
    Ok(())
}

/// A thinking budget as a reasoning effort, bucketed as the Messages route does (1 024 low,
/// 2 048 medium, 4 096 high); a level as itself; `-1` (dynamic) as medium. A budget of 0 (no
/// thinking) asks for nothing: a model that reasons cannot be told not to everywhere.
fn effort(t: &ThinkingConfig) -> Option<&'static str> {
    if let Some(level) = t.thinking_level.as_deref() {
        return match level.to_ascii_lowercase().as_str() {
            "minimal" => Some("minimal"),
            "low" => Some("low"),
            "medium" => Some("medium"),
            "high" => Some("high"),
            _ => None,
        };
    }
    match t.thinking_budget? {
        b if b < 0 => Some("medium"),
        0 => None,
        b if b >= 4096 => Some("high"),
        b if b >= 2048 => Some("medium"),
        b if b >= 1024 => Some("low"),
        _ => Some("minimal"),
    }
}

/// `toolConfig.functionCallingConfig.mode` as `tool_choice`: AUTO and VALIDATED → auto, ANY →
/// required (the one allowed function when a single one is named), NONE → none.
fn tool_choice(tc: &ToolConfig) -> Option<Value> {
    let f = tc.function_calling_config.as_ref()?;
    Some(
        match f.mode.as_deref().map(str::to_ascii_uppercase).as_deref() {
            Some("ANY") => match f.allowed_function_names.as_deref() {
                Some([one]) => json!({"type": "function", "function": {"name": one}}),
                _ => json!("required"),
            },
            Some("NONE") => json!("none"),
            _ => json!("auto"),
        },
    )
}

/// The request's prompt as chat messages, for counting tokens locally.
pub fn prompt_messages(req: &GenerateContentRequest) -> Vec<Value> {
    to_chat(req).map_or_else(|_| Vec::new(), |c| crate::tokens::chat_prompt(&c))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chat(v: Value) -> Value {
        let req: GenerateContentRequest = serde_json::from_value(v).unwrap();
        serde_json::to_value(to_chat(&req).unwrap()).unwrap()
    }

    #[test]
    fn system_text_media_and_params() {
        let c = chat(json!({
            "model": "m",
            "systemInstruction": {"parts": [{"text": "A"}, {"text": "B"}]},
            "contents": [
                {"role": "user", "parts": [{"text": "hi"}]},
                {"role": "model", "parts": [{"text": "hmm", "thought": true}, {"text": "hello"}]},
                {"role": "user", "parts": [
                    {"text": "look"},
                    {"inlineData": {"mimeType": "image/png", "data": "AAA"}},
                    {"inline_data": {"mime_type": "application/pdf", "data": "JVB"}},
                    {"inlineData": {"mimeType": "audio/wav", "data": "UklG"}},
                    {"fileData": {"mimeType": "image/jpeg", "fileUri": "https://x.test/a.jpg"}},
                    {"fileData": {"mimeType": "video/mp4", "fileUri": "gs://b/v.mp4"}},
                ]},
            ],
            "generationConfig": {"temperature": 0.2, "topP": 0.9, "topK": 40, "maxOutputTokens": 50,
                                 "stopSequences": ["END"], "candidateCount": 2, "seed": 7},
            "safetySettings": [{"category": "HARM_CATEGORY_HARASSMENT", "threshold": "BLOCK_NONE"}],
        }));
        let m = &c["messages"];
        assert_eq!(m[0], json!({"role": "system", "content": "A\nB"}));
        assert_eq!(m[1], json!({"role": "user", "content": "hi"}));
        assert_eq!(m[2]["content"], "hello");
        assert_eq!(m[2]["reasoning_content"], "hmm");
        let parts = &m[3]["content"];
        assert_eq!(parts[0], json!({"type": "text", "text": "look"}));
        assert_eq!(parts[1]["image_url"]["url"], "data:image/png;base64,AAA");
        assert_eq!(
            parts[2],
            json!({"type": "file", "file": {"file_data": "data:application/pdf;base64,JVB"}})
        );
        assert_eq!(
            parts[3],
            json!({"type": "input_audio", "input_audio": {"data": "UklG", "format": "wav"}})
        );
        assert_eq!(parts[4]["image_url"]["url"], "https://x.test/a.jpg");
        assert_eq!(
            parts[5],
            json!({"type": "file", "file": {"file_id": "gs://b/v.mp4", "format": "video/mp4"}})
        );
        assert_eq!(
            (
                c["temperature"].clone(),
                c["top_p"].clone(),
                c["top_k"].clone()
            ),
            (json!(0.2), json!(0.9), json!(40.0))
        );
        assert_eq!(
            (
                c["max_tokens"].clone(),
                c["stop"].clone(),
                c["n"].clone(),
                c["seed"].clone()
            ),
            (json!(50), json!(["END"]), json!(2), json!(7))
        );
        assert!(c.get("safetySettings").is_none() && c.get("safety_settings").is_none());
    }

    #[test]
    fn function_calls_and_responses_pair_up() {
        let c = chat(json!({
            "contents": [
                {"role": "user", "parts": [{"text": "weather?"}]},
                {"role": "model", "parts": [
                    {"functionCall": {"name": "get.weather", "args": {"city": "Paris"}}},
                    {"functionCall": {"name": "get.weather", "args": {"city": "Rome"}}},
                    {"functionCall": {"id": "g-1", "name": "time"}},
                ]},
                {"role": "user", "parts": [
                    {"functionResponse": {"name": "get.weather", "response": {"t": 21}}},
                    {"functionResponse": {"id": "g-1", "name": "time", "response": {"now": "9"}}},
                    {"functionResponse": {"name": "get.weather", "response": {"t": 25}}},
                    {"text": "thanks"},
                ]},
            ],
            "tools": [{"functionDeclarations": [{"name": "get.weather", "description": "d",
                "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING", "nullable": true}},
                               "required": ["city"], "propertyOrdering": ["city"]}}]},
                      {"googleSearch": {}}],
            "toolConfig": {"functionCallingConfig": {"mode": "ANY"}},
        }));
        let m = &c["messages"];
        let calls = &m[1]["tool_calls"];
        assert_eq!(m[1]["content"], Value::Null);
        assert_eq!(calls[0]["id"], "call_get_weather");
        assert_eq!(calls[1]["id"], "call_get_weather_2");
        assert_eq!(calls[2]["id"], "g-1");
        assert_eq!(calls[0]["function"]["arguments"], r#"{"city":"Paris"}"#);
        assert_eq!(calls[2]["function"]["arguments"], "{}");
        assert_eq!(
            m[2],
            json!({"role": "tool", "tool_call_id": "call_get_weather", "content": r#"{"t":21}"#})
        );
        assert_eq!(m[3]["tool_call_id"], "g-1");
        assert_eq!(m[4]["tool_call_id"], "call_get_weather_2");
        assert_eq!(m[5], json!({"role": "user", "content": "thanks"}));
        assert_eq!(
            c["tools"].as_array().unwrap().len(),
            1,
            "built-in tools have no chat form"
        );
        assert_eq!(
            c["tools"][0]["function"]["parameters"],
            json!({
            "type": "object", "properties": {"city": {"type": ["string", "null"]}}, "required": ["city"]})
        );
        assert_eq!(c["tool_choice"], "required");
    }

    #[test]
    fn tool_choices_thinking_and_response_formats() {
        let base = |extra: Value| {
            let mut v = json!({"contents": [{"parts": [{"text": "x"}]}],
                               "tools": [{"functionDeclarations": [{"name": "f"}]}]});
            for (k, x) in extra.as_object().unwrap() {
                v[k] = x.clone();
            }
            chat(v)
        };
        let tc = |mode: Value| {
            base(json!({"toolConfig": {"functionCallingConfig": mode}}))["tool_choice"].clone()
        };
        assert_eq!(tc(json!({"mode": "AUTO"})), "auto");
        assert_eq!(tc(json!({"mode": "NONE"})), "none");
        assert_eq!(tc(json!({"mode": "VALIDATED"})), "auto");
        assert_eq!(
            tc(json!({"mode": "ANY", "allowedFunctionNames": ["f"]})),
            json!({"type": "function", "function": {"name": "f"}})
        );
        let c = base(json!({}));
        assert_eq!(
            c["tools"][0]["function"]["parameters"],
            json!({"type": "object", "properties": {}})
        );
        let effort = |t: Value| {
            base(json!({"generationConfig": {"thinkingConfig": t}}))["reasoning_effort"].clone()
        };
        assert_eq!(effort(json!({"thinkingBudget": 1024})), "low");
        assert_eq!(effort(json!({"thinkingBudget": 5000})), "high");
        assert_eq!(effort(json!({"thinkingBudget": -1})), "medium");
        assert_eq!(effort(json!({"thinkingBudget": 0})), Value::Null);
        assert_eq!(effort(json!({"thinkingLevel": "HIGH"})), "high");
        let rf = |g: Value| base(json!({"generationConfig": g}))["response_format"].clone();
        assert_eq!(
            rf(json!({"responseMimeType": "application/json"})),
            json!({"type": "json_object"})
        );
        assert_eq!(
            rf(json!({"responseMimeType": "application/json",
                             "responseSchema": {"type": "OBJECT", "properties": {"a": {"type": "INTEGER"}}}})),
            json!({"type": "json_schema", "json_schema": {"name": "response",
                          "schema": {"type": "object", "properties": {"a": {"type": "integer"}}}}})
        );
        let js = json!({"type": "object", "additionalProperties": false});
        assert_eq!(
            rf(json!({"responseMimeType": "application/json", "responseJsonSchema": js}))
                ["json_schema"]["schema"],
            js
        );
        assert_eq!(rf(json!({"responseMimeType": "text/plain"})), Value::Null);
    }

    #[test]
    fn refusals() {
        let err = |v: Value| {
            let req: GenerateContentRequest = serde_json::from_value(v).unwrap();
            to_chat(&req).unwrap_err().message.clone()
        };
        assert!(err(json!({"contents": []})).contains("contents"));
        assert!(
            err(json!({"contents": [{"role": "system", "parts": [{"text": "x"}]}]}))
                .contains("role")
        );
        assert!(err(json!({"contents": [{"parts": [{"text": "x"}]}],
                           "generationConfig": {"responseMimeType": "text/x.enum"}}))
        .contains("responseMimeType"));
    }
}
