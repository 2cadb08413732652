//! OpenAI chat requests → Ollama bodies: `/api/chat` messages, or the `### User:` prompt
//! LiteLLM builds for `/api/generate`, with the sampling parameters under `options`.

use llmgate_types::{ChatCompletionRequest, ChatMessage, MessageContent, ToolCall};
use serde_json::{json, Map, Value};

use crate::{CallOptions, LlmError};

/// Ollama's own `options` a caller may pass at the top level of a request (LiteLLM passes
/// provider-specific keyword arguments through to `options`).
const OPTION_KEYS: &[&str] = &[
    "mirostat",
    "mirostat_eta",
    "mirostat_tau",
    "num_ctx",
    "num_gqa",
    "num_gpu",
    "num_thread",
    "num_keep",
    "num_batch",
    "repeat_last_n",
    "repeat_penalty",
    "tfs_z",
    "top_k",
    "min_p",
    "typical_p",
    "num_predict",
];

/// Which Ollama API a body is for.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub enum Api {
    /// `/api/generate` (`ollama/...`): one prompt string.
    Generate,
    /// `/api/chat` (`ollama_chat/...`): messages.
    Chat,
}

/// `think` from `reasoning_effort`, as LiteLLM: gpt-oss takes the effort as it is; other
/// models think for any effort but `none`.
fn think(model: &str, effort: &str) -> Value {
    if model.starts_with("gpt-oss") {
        json!(effort)
    } else {
        json!(matches!(
            effort,
            "minimal" | "low" | "medium" | "high" | "xhigh"
        ))
    }
}

/// The `options` object and the top-level `format`/`think`/`keep_alive` of a request.
fn params(
    req: &ChatCompletionRequest,
    opts: &CallOptions,
    api: Api,
) -> (Map<String, Value>, Map<String, Value>) {
    let mut o = Map::new();
    let mut top = Map::new();
    if let Some(n) = req.max_completion_tokens.or(req.max_tokens) {
        o.insert("num_predict".into(), json!(n));
    }
    if let Some(t) = req.temperature {
        o.insert("temperature".into(), json!(t));
    }
    if let Some(s) = req.seed {
        o.insert("seed".into(), json!(s));
    }
    if let Some(p) = req.top_p {
        o.insert("top_p".into(), json!(p));
    }
    if let Some(f) = req.frequency_penalty {
        // `/api/chat` maps it to Ollama's repeat_penalty; `/api/generate` passes it as named.
        let key = if api == Api::Chat {
            "repeat_penalty"
        } else {
            "frequency_penalty"
        };
        o.insert(key.into(), json!(f));
    }
    if let Some(s) = &req.stop {
        o.insert("stop".into(), s.clone());
    }
    for k in OPTION_KEYS {
        if let Some(v) = req.extra.get(*k).or_else(|| opts.extra.get(*k)) {
            o.insert((*k).into(), v.clone());
        }
    }
    if let Some(extra) = req.extra.get("options").and_then(Value::as_object) {
        o.extend(extra.clone());
    }
    match req
        .response_format
        .as_ref()
        .and_then(|f| f["type"].as_str())
    {
        Some("json_object") => {
            top.insert("format".into(), json!("json"));
        }
        Some("json_schema") => {
            let schema = &req
                .response_format
                .as_ref()
                .map(|f| f["json_schema"]["schema"].clone());
            if let Some(s) = schema.as_ref().filter(|s| !s.is_null()) {
                top.insert("format".into(), s.clone());
            }
        }
        _ => {}
    }
    if let Some(f) = req.extra.get("format") {
        top.insert("format".into(), f.clone());
    }
    if let Some(e) = &req.reasoning_effort {
        top.insert("think".into(), think(&req.model, e));
    }
    if let Some(t) = req.extra.get("think") {
        top.insert("think".into(), t.clone());
    }
    // `/api/generate` through LiteLLM leaves keep_alive in `options`; we send it where Ollama
    // reads it, at the top level, for both APIs.
    if let Some(k) = req
        .extra
        .get("keep_alive")
        .or_else(|| opts.extra.get("keep_alive"))
    {
        top.insert("keep_alive".into(), k.clone());
    }
    (o, top)
}

/// The text of a message's content (text parts joined with nothing between, as LiteLLM).
fn content_text(m: &ChatMessage) -> String {
    m.text_content()
}

/// Image URLs of a message's parts, as Ollama takes them: base64 data without the
/// `data:...;base64,` header (remote URLs are passed as they are).
fn images(m: &ChatMessage) -> Vec<String> {
    let Some(MessageContent::Parts(parts)) = &m.content else {
        return Vec::new();
    };
    parts
        .iter()
        .filter_map(|p| p.image_url.as_ref())
        .map(|u| {
            let url = u.url();
            match url.split_once(";base64,") {
                Some((head, data)) if head.starts_with("data:") => data.to_string(),
                _ => url.to_string(),
            }
        })
        .collect()
}

fn arguments(c: &ToolCall) -> Result<Value, LlmError> {
    if c.function.arguments.trim().is_empty() {
        return Ok(json!({}));
    }
    serde_json::from_str(&c.function.arguments).map_err(|e| {
        LlmError::bad_request(format!(
            "tool call arguments of {:?} are not JSON: {e}",
            c.function.name
        ))
    })
}

/// The message's role; `developer` is `system`, as LiteLLM turns it for every provider but OpenAI.
fn role(m: &ChatMessage) -> &str {
    match m.role.as_str() {
        "developer" => "system",
        r => r,
    }
}

/// `/api/chat` messages: content as one string, tool-call arguments as objects, reasoning as
/// `thinking`, images apart.
fn chat_messages(req: &ChatCompletionRequest) -> Result<Vec<Value>, LlmError> {
    let mut out = Vec::with_capacity(req.messages.len());
    for m in &req.messages {
        let mut msg = json!({"role": role(m)});
        if let Some(r) = &m.reasoning_content {
            msg["thinking"] = json!(r);
        }
        // As LiteLLM: content always a string (`""` for none), `images` always a list.
        msg["content"] = json!(content_text(m));
        msg["images"] = json!(images(m));
        if let Some(calls) = &m.tool_calls {
            let mut list = Vec::new();
            for c in calls.iter().filter(|c| c.kind == "function") {
                let mut call =
                    json!({"function": {"name": c.function.name, "arguments": arguments(c)?}});
                if let Some(id) = &c.id {
                    call["id"] = json!(id);
                }
                list.push(call);
            }
            msg["tool_calls"] = json!(list);
        }
        if let Some(id) = &m.tool_call_id {
            msg["tool_call_id"] = json!(id);
        }
        out.push(msg);
    }
    Ok(out)
}

/// LiteLLM's `ollama_pt`: runs of user/tool messages, then system, then assistant turns, each
/// under a `### Role:` header; images collected apart.
fn prompt(req: &ChatCompletionRequest) -> Result<(String, Vec<String>), LlmError> {
    let msgs = &req.messages;
    let (mut prompt, mut imgs, mut i) = (String::new(), Vec::new(), 0);
    while i < msgs.len() {
        let start = i;
        let mut user = Vec::new();
        while i < msgs.len() && matches!(msgs[i].role.as_str(), "user" | "tool" | "function") {
            // A user turn's text parts on lines of their own (LiteLLM's `ollama_pt`).
            let t = match &msgs[i].content {
                Some(MessageContent::Parts(parts)) => parts
                    .iter()
                    .filter_map(|p| p.text.as_deref().filter(|t| !t.is_empty()))
                    .collect::<Vec<_>>()
                    .join("\n"),
                _ => content_text(&msgs[i]),
            };
            if !t.is_empty() {
                user.push(t);
            }
            imgs.extend(images(&msgs[i]));
            i += 1;
        }
        if !user.is_empty() {
            prompt += &format!("### User:\n{}\n\n", user.join("\n"));
        }
        let mut system = String::new();
        while i < msgs.len() && role(&msgs[i]) == "system" {
            system += &content_text(&msgs[i]);
            i += 1;
        }
        if !system.is_empty() {
            prompt += &format!("### System:\n{system}\n\n");
        }
        let mut assistant = String::new();
        while i < msgs.len() && msgs[i].role == "assistant" {
            assistant += &content_text(&msgs[i]);
            if let Some(calls) = msgs[i].tool_calls.as_ref().filter(|c| !c.is_empty()) {
                if !assistant.is_empty() {
                    assistant.push('\n');
                }
                let mut lines = Vec::new();
                for c in calls {
                    lines.push(super::pyjson::dumps(
                        &json!({"name": c.function.name, "arguments": arguments(c)?}),
                    ));
                }
                assistant += &lines.join("\n");
            }
            i += 1;
        }
        if !assistant.is_empty() {
            prompt += &format!("### Assistant:\n{assistant}\n\n");
        }
        if i == start {
            return Err(LlmError::bad_request(format!(
                "Invalid Message passed in: the {} message at index {i} has a role Ollama's prompt does not take",
                msgs[i].role
            )));
        }
    }
    Ok((prompt, imgs))
}

/// OpenAI params LiteLLM's Ollama configs do not list, present in `req` (`n` = 1, the default,
/// is no ask).
fn unsupported(req: &ChatCompletionRequest) -> Vec<&'static str> {
    let mut out = Vec::new();
    let mut ask = |on: bool, name: &'static str| {
        if on {
            out.push(name);
        }
    };
    ask(req.n.is_some_and(|n| n != 1), "n");
    ask(req.presence_penalty.is_some(), "presence_penalty");
    ask(req.logit_bias.is_some(), "logit_bias");
    ask(req.logprobs.is_some(), "logprobs");
    ask(req.top_logprobs.is_some(), "top_logprobs");
    out
}

/// `/api/generate` has no tools: as LiteLLM, they are described in the system turns (a system
/// turn added when there is none), each tool as Python writes the dict. None without tools.
fn function_prompt(req: &ChatCompletionRequest) -> Option<ChatCompletionRequest> {
    let tools = req.tools.as_ref().filter(|t| !t.is_empty())?;
    let mut text = String::from("To call a function, reply with JSON ONLY in this format {\"name\": \"function_name\", \"arguments\":{\"argument_name\": \"argument_value\"}}. Once a function result answers the request, reply to the user in plain text instead of calling a function again. The following functions are available to you:");
    for t in tools {
        let v = serde_json::to_value(t).unwrap_or_default();
        text += &format!("\n{}\n", super::pyjson::repr(&v));
    }
    let mut out = req.clone();
    let mut any = false;
    for m in out.messages.iter_mut().filter(|m| role(m) == "system") {
        any = true;
        m.content = Some(match m.content.take() {
            Some(MessageContent::Parts(mut parts)) => {
                parts.push(llmgate_types::ContentPart {
                    kind: "text".into(),
                    text: Some(format!(" {text}")),
                    ..Default::default()
                });
                MessageContent::Parts(parts)
            }
            Some(MessageContent::Text(t)) => MessageContent::Text(format!("{t} {text}")),
            None => MessageContent::Text(text.clone()),
        });
    }
    if !any {
        out.messages.push(ChatMessage::text("system", text));
    }
    Some(out)
}

/// The body for `api`; params Ollama does not take are an error, or dropped with `drop_params`.
pub fn build(
    req: &ChatCompletionRequest,
    opts: &CallOptions,
    api: Api,
    stream: bool,
) -> Result<Value, LlmError> {
    let refused = unsupported(req);
    if !refused.is_empty() && !opts.drop_params {
        let name = if api == Api::Chat {
            "ollama_chat"
        } else {
            "ollama"
        };
        return Err(LlmError::unsupported_params(name, &refused, &req.model).with_model(&req.model));
    }
    let (options, top) = params(req, opts, api);
    let mut body = json!({"model": req.model});
    match api {
        Api::Chat => body["messages"] = json!(chat_messages(req)?),
        Api::Generate => {
            let with_tools = function_prompt(req);
            let (p, imgs) = prompt(with_tools.as_ref().unwrap_or(req))?;
            body["prompt"] = json!(p);
            body["images"] = json!(imgs);
        }
    }
    body["options"] = Value::Object(options);
    body["stream"] = json!(stream);
    if let Some(o) = body.as_object_mut() {
        o.extend(top);
    }
    if let Some(tools) = req.tools.as_ref().filter(|t| !t.is_empty()) {
        match api {
            Api::Chat => body["tools"] = serde_json::to_value(tools).unwrap_or_default(),
            // The tools are in the prompt; a `"json"` answer is read as a tool call. A schema the
            // client asked for stays (as in LiteLLM).
            Api::Generate if body.get("format").is_none() => body["format"] = json!("json"),
            Api::Generate => {}
        }
    }
    Ok(body)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(v: Value) -> ChatCompletionRequest {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn generate_builds_litellms_prompt_and_options() {
        let r = req(
            json!({"model": "llama3", "max_tokens": 5, "temperature": 0.2, "stop": ["x"],
            "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"},
                {"role": "assistant", "content": "hello"}, {"role": "user", "content": "again"}]}),
        );
        let b = build(&r, &CallOptions::default(), Api::Generate, false).unwrap();
        assert_eq!(b["prompt"], "### System:\nbe brief\n\n### User:\nhi\n\n### Assistant:\nhello\n\n### User:\nagain\n\n");
        assert_eq!(
            b["options"],
            json!({"num_predict": 5, "temperature": 0.2, "stop": ["x"]})
        );
        assert_eq!(b["stream"], false);
    }

    #[test]
    fn chat_maps_tools_format_think_and_keep_alive() {
        let r = req(
            json!({"model": "qwen3", "reasoning_effort": "low", "keep_alive": "5m", "num_ctx": 4096,
            "frequency_penalty": 1.1,
            "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"type": "object"}}},
            "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
            "messages": [{"role": "user", "content": [{"type": "text", "text": "hi"}]},
                {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\":\"Paris\"}"}}]},
                {"role": "tool", "tool_call_id": "c1", "content": "sunny"}]}),
        );
        let b = build(&r, &CallOptions::default(), Api::Chat, true).unwrap();
        assert_eq!(b["think"], true);
        assert_eq!(b["keep_alive"], "5m");
        assert_eq!(b["format"], json!({"type": "object"}));
        assert_eq!(
            b["options"],
            json!({"repeat_penalty": 1.1, "num_ctx": 4096})
        );
        assert_eq!(b["tools"][0]["function"]["name"], "get_weather");
        assert_eq!(
            b["messages"][0],
            json!({"role": "user", "content": "hi", "images": []})
        );
        assert_eq!(
            b["messages"][1]["tool_calls"][0],
            json!({"id": "c1", "function": {"name": "get_weather", "arguments": {"location": "Paris"}}})
        );
        assert_eq!(b["messages"][2]["tool_call_id"], "c1");
    }

    #[test]
    fn params_ollama_lacks_are_refused_unless_dropped() {
        let r = req(
            json!({"model": "llama3", "presence_penalty": 0.5, "tools": [{"type": "function", "function": {"name": "f"}}],
            "messages": [{"role": "user", "content": "hi"}]}),
        );
        for api in [Api::Generate, Api::Chat] {
            let e = build(&r, &CallOptions::default(), api, false).unwrap_err();
            assert!(e.message.contains("['presence_penalty']"), "{}", e.message);
        }
        let drop = CallOptions {
            drop_params: true,
            ..Default::default()
        };
        let b = build(&r, &drop, Api::Generate, false).unwrap();
        assert!(b.get("tools").is_none());
        assert!(b["options"].get("presence_penalty").is_none());
    }

    #[test]
    fn generate_describes_tools_in_the_prompt() {
        let r = req(
            json!({"model": "llama3", "tools": [{"type": "function", "function": {"name": "f"}}],
            "messages": [{"role": "user", "content": "hi"}]}),
        );
        let b = build(&r, &CallOptions::default(), Api::Generate, false).unwrap();
        assert_eq!(b["format"], "json");
        let want = "### User:\nhi\n\n### System:\nTo call a function, reply with JSON ONLY in this format {\"name\": \"function_name\", \"arguments\":{\"argument_name\": \"argument_value\"}}. Once a function result answers the request, reply to the user in plain text instead of calling a function again. The following functions are available to you:\n{'type': 'function', 'function': {'name': 'f'}}\n\n\n";
        assert_eq!(b["prompt"], want);
    }

    #[test]
    fn gpt_oss_takes_the_effort_itself() {
        assert_eq!(think("gpt-oss:20b", "high"), json!("high"));
        assert_eq!(think("qwen3", "none"), json!(false));
    }
}
