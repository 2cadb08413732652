//! OpenAI chat request → Anthropic Messages request.

use llmgate_types::{ChatCompletionRequest, ChatMessage, ContentPart, MessageContent, Tool};
use serde_json::{json, Map, Value};

use super::generation::Generation;
use super::names::ToolNames;
use super::{schema, thinking};
use crate::{CallOptions, LlmError};

/// The tool LiteLLM forces for `response_format` JSON schemas; its input is the answer.
pub const JSON_TOOL: &str = "json_tool_call";
/// `max_tokens` for models the catalog has no output limit for, and what LiteLLM adds to a
/// thinking budget when the request sets none (its `DEFAULT_MAX_TOKENS`).
const DEFAULT_MAX_TOKENS: u64 = 4096;
/// The forced JSON tool's description when thinking is on (the tool cannot be forced then):
/// LiteLLM's words, which ask the model to answer through the tool.
const JSON_TOOL_UNFORCED: &str = "When you are ready to answer, call this tool with your final answer as its input. Do not reply in plain text.";

/// OpenAI params Anthropic has no equivalent for: an error unless `drop_params`.
const UNSUPPORTED: &[&str] = &[
    "frequency_penalty",
    "presence_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "seed",
    "n",
];
/// OpenAI-side fields that must not be forwarded as-is.
const CONSUMED: &[&str] = &[
    "stream_options",
    "web_search_options",
    "prediction",
    "modalities",
    "service_tier",
    "store",
];

pub(super) fn bad(msg: impl Into<String>) -> LlmError {
    LlmError::bad_request(msg).with_provider("anthropic")
}

/// Builds the Messages API body. `model` is Anthropic's model name.
pub fn build(
    req: &ChatCompletionRequest,
    model: &str,
    opts: &CallOptions,
) -> Result<Value, LlmError> {
    let native = crate::catalog::global()
        .get_for("anthropic", model)
        .is_some_and(|m| m.supports(crate::catalog::Feature::NativeStructuredOutput));
    let mut body = build_with(req, model, opts, native)?;
    // Anthropic's own API takes a service tier (Vertex does not): OpenAI's `default` is its
    // `standard_only`.
    if let Some(tier) = req.extra.get("service_tier").and_then(Value::as_str) {
        let mapped = match tier {
            "auto" => Some("auto"),
            "default" | "standard_only" => Some("standard_only"),
            _ if opts.drop_params => None,
            other => {
                return Err(bad(format!(
                    "{model} does not support service_tier='{other}'. Anthropic accepts 'auto', 'standard_only', or OpenAI's 'default' (sent as 'standard_only'). To drop unsupported params, set `litellm.drop_params = True`."
                )))
            }
        };
        if let (Some(t), Some(o)) = (mapped, body.as_object_mut()) {
            o.insert("service_tier".into(), json!(t));
        }
    }
    ToolNames::of(req).apply(&mut body);
    Ok(body)
}

/// As [`build`]; `native_json` sends JSON schemas as `output_format` (structured outputs) instead
/// of a forced tool, as LiteLLM does for the models that support it.
pub fn build_with(
    req: &ChatCompletionRequest,
    model: &str,
    opts: &CallOptions,
    native_json: bool,
) -> Result<Value, LlmError> {
    let mut present: Vec<&str> = UNSUPPORTED
        .iter()
        .copied()
        .filter(|p| match *p {
            "frequency_penalty" => req.frequency_penalty.is_some(),
            "presence_penalty" => req.presence_penalty.is_some(),
            "logit_bias" => req.logit_bias.is_some(),
            "logprobs" => req.logprobs == Some(true),
            "top_logprobs" => req.top_logprobs.is_some(),
            "seed" => req.seed.is_some(),
            "n" => req.n.is_some_and(|n| n > 1),
            _ => false,
        })
        .collect();
    present.dedup();
    if !present.is_empty() && !opts.drop_params {
        return Err(LlmError::unsupported_params("anthropic", &present, model));
    }

    let mut body = Map::new();
    body.insert("model".into(), json!(model));
    let mid_system = Generation::of(model).mid_system;
    let (system, messages) = messages(&req.messages, mid_system)?;
    if !system.is_empty() {
        body.insert("system".into(), Value::Array(system));
    }
    body.insert("messages".into(), Value::Array(messages));

    let asked = req.max_completion_tokens.or(req.max_tokens);
    let thought = thinking::resolve(
        model,
        req.reasoning_effort.as_deref(),
        req.extra.get("thinking"),
        req.extra.get("output_config"),
        asked,
    )?;
    let thinking_on = thought.will_think;
    // With thinking and no max_tokens, LiteLLM asks for the budget plus its default answer room
    // (not the model's output limit).
    let max_tokens = asked
        .or_else(|| thought.budget().map(|b| b + DEFAULT_MAX_TOKENS))
        .or_else(|| {
            crate::catalog::global()
                .get_for("anthropic", model)
                .and_then(|m| m.max_output_tokens)
        })
        .unwrap_or(DEFAULT_MAX_TOKENS);
    body.insert("max_tokens".into(), json!(max_tokens));
    // Claude 4.7 and later removed sampling parameters (only temperature 1 is taken).
    let sampling = !Generation::of(model).no_sampling;
    let top_k = req.extra.get("top_k").filter(|v| !v.is_null());
    for (name, value) in [
        ("temperature", req.temperature.map(|t| json!(t))),
        ("top_p", req.top_p.map(|p| json!(p))),
        ("top_k", top_k.cloned()),
    ] {
        let Some(value) = value else { continue };
        if sampling || (name == "temperature" && value.as_f64() == Some(1.0)) {
            body.insert(name.into(), value);
        } else if !opts.drop_params {
            let hint = if name == "temperature" {
                "Only temperature=1 is supported. "
            } else {
                ""
            };
            return Err(LlmError::new(
                crate::ErrorKind::UnsupportedParams,
                format!("{model} does not support {name}={value}. {hint}To drop unsupported params, set `litellm.drop_params = True`."),
            )
            .with_provider("anthropic"));
        }
    }
    if let Some(stop) = &req.stop {
        let list: Vec<Value> = match stop {
            Value::String(s) => vec![json!(s)],
            Value::Array(a) => a.clone(),
            _ => vec![],
        };
        if !list.is_empty() {
            body.insert("stop_sequences".into(), Value::Array(list));
        }
    }
    // The end user: the request's `metadata.user_id`, else `user`. Anthropic refuses an email
    // or a phone number there: LiteLLM leaves it out.
    let meta_user = req
        .metadata
        .as_ref()
        .and_then(|m| m["user_id"].as_str())
        .filter(|u| valid_user_id(u));
    if let Some(user) = meta_user.or(req.user.as_deref().filter(|u| valid_user_id(u))) {
        body.insert("metadata".into(), json!({"user_id": user}));
    }
    if req.is_stream() {
        body.insert("stream".into(), json!(true));
    }

    let mut tools: Vec<Value> = req.tools.iter().flatten().filter_map(tool).collect();
    if let Some(w) = req
        .extra
        .get("web_search_options")
        .filter(|w| w.is_object())
    {
        tools.push(web_search_tool(w));
    }
    let mut tool_choice = req.tool_choice.as_ref().and_then(tool_choice);
    let schema = json_schema(req.response_format.as_ref());
    // An open object (free-form properties) goes through the JSON tool when it can be forced,
    // as LiteLLM sends it.
    let native_json = native_json
        && !schema
            .as_ref()
            .is_some_and(|s| schema::has_open_object(s) && !thinking_on && tools.is_empty());
    if let (Some(schema), true) = (&schema, native_json) {
        body.insert(
            "output_format".into(),
            json!({"type": "json_schema", "schema": schema::output_schema(schema)}),
        );
    } else if let Some(schema) = schema {
        // The tool's input schema is an object schema: `type` first, the schema's keys after.
        let mut input = Map::from_iter([("type".to_string(), json!("object"))]);
        input.extend(schema.as_object().cloned().unwrap_or_default());
        let schema = Value::Object(input);
        // Anthropic refuses a forced tool while thinking: then LiteLLM sets no tool_choice and
        // asks for the tool in its description; forced, the tool has none (none is invented).
        if thinking_on {
            tools.push(json!({"name": JSON_TOOL, "input_schema": schema, "description": JSON_TOOL_UNFORCED}));
        } else {
            tools.push(json!({"name": JSON_TOOL, "input_schema": schema}));
            tool_choice = Some(json!({"name": JSON_TOOL, "type": "tool"}));
        }
    }
    // Either value of `parallel_tool_calls` is said explicitly, as LiteLLM does.
    if let (Some(parallel), false) = (req.parallel_tool_calls, tools.is_empty()) {
        let tc = tool_choice.get_or_insert_with(|| json!({"type": "auto"}));
        if tc["type"] != "none" {
            tc["disable_parallel_tool_use"] = json!(!parallel);
        }
    }
    // A file for the container needs the code execution tool; LiteLLM adds it to tools the
    // request already has (and only then).
    let container = messages_json(&body).any(|b| b["type"] == "container_upload");
    if container
        && !tools.is_empty()
        && !tools.iter().any(|t| {
            t["type"]
                .as_str()
                .is_some_and(|k| k.starts_with("code_execution"))
        })
    {
        tools.push(json!({"name": "code_execution", "type": "code_execution_20250522"}));
    }
    // Anthropic refuses tool_use blocks without tools: LiteLLM declares a placeholder.
    if tools.is_empty() && req.messages.iter().any(|m| m.tool_calls.is_some()) {
        tools.push(json!({"name": "dummy_tool", "type": "custom",
            "input_schema": {"type": "object", "properties": {}},
            "description": "This is a dummy tool call"}));
    }
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(tc) = tool_choice {
        if tc["type"] == "none" {
            // Anthropic accepts `none`, but only with tools; without them it is the default.
            if body.contains_key("tools") {
                body.insert("tool_choice".into(), tc);
            }
        } else {
            body.insert("tool_choice".into(), tc);
        }
    }

    if let Some(t) = thought.thinking {
        body.insert("thinking".into(), t);
    }
    if let Some(c) = thought.output_config {
        body.insert("output_config".into(), c);
    }
    if let Some(budget) = thought.effort_budget {
        // Anthropic needs max_tokens above the thinking budget; the answer keeps the room asked for.
        if max_tokens <= budget {
            body.insert("max_tokens".into(), json!(budget + max_tokens));
        }
    }
    // Unknown fields (`top_k`, `container`, `mcp_servers`, ...) reach Anthropic as sent.
    for (k, v) in &req.extra {
        if CONSUMED.contains(&k.as_str())
            || UNSUPPORTED.contains(&k.as_str())
            || v.is_null()
            || k == "thinking"
            || k == "output_config"
            || k == "top_k"
        {
            continue;
        }
        body.insert(k.clone(), v.clone());
    }
    Ok(Value::Object(body))
}

/// Every content block of the body's messages.
fn messages_json(body: &Map<String, Value>) -> impl Iterator<Item = &Value> {
    body.get("messages")
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|m| m["content"].as_array())
        .flatten()
}

/// OpenAI's `web_search_options` as Anthropic's hosted web search tool.
fn web_search_tool(w: &Value) -> Value {
    let mut t = json!({"type": "web_search_20250305", "name": "web_search"});
    if let Some(approx) = w["user_location"]["approximate"].as_object() {
        let mut loc = Map::from_iter([("type".to_string(), json!("approximate"))]);
        for k in ["city", "region", "country", "timezone"] {
            if let Some(v) = approx.get(k) {
                loc.insert(k.into(), v.clone());
            }
        }
        t["user_location"] = Value::Object(loc);
    } else if w["user_location"].is_object() {
        t["user_location"] = json!({"type": "approximate"});
    }
    let uses = match w["search_context_size"].as_str() {
        Some("low") => Some(1),
        Some("medium") => Some(5),
        Some("high") => Some(10),
        _ => None,
    };
    if let Some(n) = uses {
        t["max_uses"] = json!(n);
    }
    t
}

/// Not an email address nor a phone number (LiteLLM's patterns).
fn valid_user_id(u: &str) -> bool {
    let email = u.split_once('@').is_some_and(|(local, domain)| {
        !local.is_empty()
            && local
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || "._%+-".contains(c))
            && domain.rsplit_once('.').is_some_and(|(host, tld)| {
                !host.is_empty()
                    && host
                        .chars()
                        .all(|c| c.is_ascii_alphanumeric() || ".-".contains(c))
                    && tld.len() >= 2
                    && tld.chars().all(|c| c.is_ascii_alphabetic())
            })
    });
    let digits = u.strip_prefix('+').unwrap_or(u);
    let phone = digits.chars().count() >= 7
        && digits
            .chars()
            .all(|c| c.is_ascii_digit() || " ()-".contains(c) || c.is_whitespace());
    !email && !phone
}

fn json_schema(rf: Option<&Value>) -> Option<Value> {
    let rf = rf?;
    match rf["type"].as_str()? {
        "json_schema" => Some(rf["json_schema"]["schema"].clone()).filter(|s| s.is_object()),
        _ => None,
    }
}

/// An OpenAI function tool becomes a `custom` tool, as LiteLLM sends it; a tool already in
/// Anthropic's shape (`input_schema`) or a hosted one (`web_search_20250305`, `bash_...`) goes
/// as sent.
fn tool(t: &Tool) -> Option<Value> {
    let f = match &t.function {
        Some(f)
            if (t.kind == "function" || t.kind == "custom")
                && !t.extra.contains_key("input_schema") =>
        {
            f
        }
        Some(f) if t.kind.starts_with("computer_") => return Some(computer_tool(t, f)),
        _ => {
            let mut v = serde_json::to_value(t).ok()?;
            // An Anthropic-shaped tool has no OpenAI `type` (ours defaults to `function`).
            if t.kind == "function" && t.extra.contains_key("input_schema") {
                v.as_object_mut()?.shift_remove("type");
            }
            return Some(v);
        }
    };
    let mut out = Map::new();
    out.insert("name".into(), json!(f.name));
    out.insert(
        "input_schema".into(),
        schema::input_schema(f.parameters.as_ref()),
    );
    out.insert("type".into(), json!("custom"));
    if let Some(d) = &f.description {
        out.insert("description".into(), json!(d));
    }
    // Anthropic's tool fields, set on the tool or on its function.
    for k in [
        "eager_input_streaming",
        "cache_control",
        "defer_loading",
        "allowed_callers",
        "input_examples",
    ] {
        if let Some(v) = t
            .extra
            .get(k)
            .or_else(|| f.extra.get(k))
            .filter(|v| !v.is_null())
        {
            out.insert(k.into(), v.clone());
        }
    }
    Some(Value::Object(out))
}

/// A computer-use tool: its display from the function's parameters.
fn computer_tool(t: &Tool, f: &llmgate_types::FunctionDef) -> Value {
    let p = f.parameters.clone().unwrap_or(Value::Null);
    let name = if f.name.is_empty() {
        "computer"
    } else {
        &f.name
    };
    let mut out = json!({"type": t.kind, "name": name,
        "display_width_px": p["display_width_px"], "display_height_px": p["display_height_px"]});
    if !p["display_number"].is_null() {
        out["display_number"] = p["display_number"].clone();
    }
    if let Some(cc) = t
        .extra
        .get("cache_control")
        .or_else(|| f.extra.get("cache_control"))
    {
        out["cache_control"] = cc.clone();
    }
    out
}

fn tool_choice(tc: &Value) -> Option<Value> {
    match tc {
        Value::String(s) => match s.as_str() {
            "auto" => Some(json!({"type": "auto"})),
            "required" | "any" => Some(json!({"type": "any"})),
            "none" => Some(json!({"type": "none"})),
            _ => None,
        },
        Value::Object(o)
            if !o.contains_key("function") && o.contains_key("type") && o["type"] != "tool" =>
        {
            match o["type"].as_str()? {
                "auto" => Some(json!({"type": "auto"})),
                "required" | "any" => Some(json!({"type": "any"})),
                "none" => Some(json!({"type": "none"})),
                _ => None,
            }
        }
        Value::Object(o) => {
            let name = o
                .get("function")
                .and_then(|f| f.get("name"))
                .or_else(|| o.get("name"))?;
            Some(json!({"type": "tool", "name": name}))
        }
        _ => None,
    }
}

/// What a system message after the first turn becomes: a user turn opening with this note
/// (LiteLLM's words), so the model can tell the instruction from the user's own; hoisting it
/// into `system` would rewrite the cached prefix on every reminder.
const MID_SYSTEM_NOTE: &str =
    "Operator note (not from the user): the following was originally a mid-conversation system-role reminder.";

fn is_system(m: &ChatMessage) -> bool {
    m.role == "system" || m.role == "developer"
}

fn is_tool(m: &ChatMessage) -> bool {
    m.role == "tool" || m.role == "function"
}

/// A later system message as a user turn: the note, then its text (images and other parts
/// are not system content); nothing when it has no text.
fn system_as_user(m: &ChatMessage) -> Option<Vec<Value>> {
    let cache = |holder: Option<&Value>| {
        let cc = holder?;
        (cc["type"] == "ephemeral").then(|| match cc["ttl"].as_str() {
            Some(ttl @ ("1h" | "5m")) => json!({"type": "ephemeral", "ttl": ttl}),
            _ => json!({"type": "ephemeral"}),
        })
    };
    let texts: Vec<(String, Option<Value>)> = match &m.content {
        Some(MessageContent::Text(t)) if !t.is_empty() => {
            vec![(t.clone(), cache(m.extra.get("cache_control")))]
        }
        Some(MessageContent::Parts(parts)) => parts
            .iter()
            .filter(|p| p.kind == "text")
            .filter_map(|p| {
                let t = p.text.as_deref().filter(|t| !t.is_empty())?;
                Some((t.to_string(), cache(p.extra.get("cache_control"))))
            })
            .collect(),
        _ => vec![],
    };
    if texts.is_empty() {
        return None;
    }
    let mut blocks = vec![json!({"type": "text", "text": MID_SYSTEM_NOTE})];
    blocks.extend(texts.into_iter().map(|(t, cc)| {
        let mut b = json!({"type": "text", "text": t});
        if let Some(cc) = cc {
            b["cache_control"] = cc;
        }
        b
    }));
    Some(blocks)
}

/// Splits the leading system messages off and turns the rest into Anthropic turns: tool
/// results become user turns, later system messages user turns with a note (after the tool
/// results they precede, which must open their turn) or, for models that take them
/// (`mid_system`), system turns where Anthropic accepts one; consecutive turns of one role are
/// merged, as the API requires.
fn messages(msgs: &[ChatMessage], mid_system: bool) -> Result<(Vec<Value>, Vec<Value>), LlmError> {
    let lead = msgs.iter().take_while(|m| is_system(m)).count();
    let mut system = Vec::new();
    for m in &msgs[..lead] {
        system.extend(content_blocks(m)?);
    }
    let rest = &msgs[lead..];
    // For each message, the later system messages placed right after it.
    let mut placed_after: Vec<Vec<usize>> = vec![Vec::new(); rest.len()];
    let anchors = if mid_system {
        system_anchors(rest)
    } else {
        vec![None; rest.len()]
    };
    for (k, a) in anchors.iter().enumerate() {
        if let Some(a) = a {
            placed_after[*a].push(k);
        }
    }
    let mut turns: Vec<(String, Vec<Value>)> = Vec::new();
    let mut push = |role: &str, blocks: Vec<Value>| {
        if blocks.is_empty() {
            return;
        }
        match turns.last_mut() {
            Some((r, b)) if r == role => b.extend(blocks),
            _ => turns.push((role.to_string(), blocks)),
        }
    };
    let mut deferred: Vec<Vec<Value>> = Vec::new();
    for (i, m) in rest.iter().enumerate() {
        let next = rest.get(i + 1);
        if is_system(m) {
            if anchors[i].is_some() {
                continue; // placed after its user turn
            }
            let converted = system_as_user(m);
            let before_tool = rest[i..]
                .iter()
                .find(|x| !is_system(x))
                .is_some_and(is_tool);
            if !mid_system && before_tool {
                deferred.extend(converted);
            } else if let Some(blocks) = converted {
                push("user", blocks);
            }
            continue;
        }
        let clean = without_blank_text(m);
        let m = clean.as_ref().unwrap_or(m);
        let (role, blocks) = match m.role.as_str() {
            "user" => ("user", content_blocks(m)?),
            "assistant" => ("assistant", assistant_blocks(m)?),
            "tool" | "function" => ("user", vec![tool_result(m)?]),
            other => return Err(bad(format!("unsupported message role '{other}'"))),
        };
        push(role, blocks);
        if is_tool(m) && !next.is_some_and(is_tool) {
            for blocks in deferred.drain(..) {
                push("user", blocks);
            }
        }
        let anchored: Vec<Value> = placed_after[i]
            .iter()
            .flat_map(|&k| system_text_blocks(&rest[k]))
            .collect();
        push("system", anchored);
    }
    let turns = turns
        .into_iter()
        .map(|(role, content)| json!({"role": role, "content": content}))
        .collect();
    Ok((system, turns))
}

/// What replaces blank text, which Anthropic refuses (LiteLLM's words).
const BLANK_TEXT: &str = "[System: Empty message content sanitised to satisfy protocol]";

/// A user or assistant message whose text is blank, as LiteLLM sends it: the blank text left
/// out of an assistant turn that carries something else (tool calls, thinking), else replaced
/// by a placeholder so the turn is not empty. None when nothing is blank.
fn without_blank_text(m: &ChatMessage) -> Option<ChatMessage> {
    if m.role != "user" && m.role != "assistant" {
        return None;
    }
    let blank =
        |p: &ContentPart| p.kind == "text" && p.text.as_deref().is_none_or(|t| t.trim().is_empty());
    let carries_more = m.role == "assistant"
        && (m.tool_calls.iter().flatten().any(|c| c.kind == "function")
            || matches!(&m.content, Some(MessageContent::Parts(parts)) if parts.iter().any(|p| {
                matches!(p.kind.as_str(), "thinking" | "redacted_thinking" | "server_tool_use")
                    || p.kind.ends_with("_tool_result")
            })));
    let content = match &m.content {
        Some(MessageContent::Text(t)) if t.trim().is_empty() => {
            (!carries_more).then(|| MessageContent::Text(BLANK_TEXT.into()))
        }
        Some(MessageContent::Parts(parts)) if parts.iter().any(blank) => {
            Some(MessageContent::Parts(if carries_more {
                parts.iter().filter(|p| !blank(p)).cloned().collect()
            } else {
                parts
                    .iter()
                    .map(|p| {
                        let mut p = p.clone();
                        if blank(&p) {
                            p.text = Some(BLANK_TEXT.into());
                        }
                        p
                    })
                    .collect()
            }))
        }
        _ => return None,
    };
    Some(ChatMessage {
        content,
        ..m.clone()
    })
}

fn is_user_type(m: &ChatMessage) -> bool {
    m.role == "user" || is_tool(m)
}

/// Whether a message puts a block on the wire.
fn renders(m: &ChatMessage) -> bool {
    match m.role.as_str() {
        "tool" | "function" => true,
        "assistant" => {
            matches!(&m.content, Some(MessageContent::Text(_)))
                || matches!(&m.content, Some(MessageContent::Parts(p)) if !p.is_empty())
                || m.tool_calls.as_ref().is_some_and(|c| !c.is_empty())
                || m.extra
                    .get("thinking_blocks")
                    .and_then(Value::as_array)
                    .is_some_and(|a| !a.is_empty())
        }
        _ => match &m.content {
            Some(MessageContent::Parts(p)) if !p.is_empty() => p
                .iter()
                .any(|p| matches!(p.kind.as_str(), "text" | "image_url" | "document" | "file")),
            _ => true,
        },
    }
}

/// For a model that takes system messages in the conversation: for each later system message,
/// the message it is placed after (the last of a user block), or None where it becomes a user
/// turn in place. LiteLLM's placement: only the neighbours decide (a replayed conversation
/// keeps its prefix), and a system message must follow a user turn and precede an assistant
/// turn or end the request.
fn system_anchors(rest: &[ChatMessage]) -> Vec<Option<usize>> {
    // Blocks of non-system messages (system messages skipped): (is user-type, members).
    let mut blocks: Vec<(bool, Vec<usize>)> = Vec::new();
    let mut block_of = vec![0; rest.len()];
    for (i, m) in rest.iter().enumerate().filter(|(_, m)| !is_system(m)) {
        let u = is_user_type(m);
        match blocks.last_mut() {
            Some((bu, members)) if *bu == u => members.push(i),
            _ => blocks.push((u, vec![i])),
        }
        block_of[i] = blocks.len() - 1;
    }
    let rendered = |b: &(bool, Vec<usize>)| b.1.iter().any(|&i| renders(&rest[i]));
    // may_follow[b]: what reaches the wire from block b on may come after a system message.
    let mut may_follow = vec![true; blocks.len() + 1];
    for b in (0..blocks.len()).rev() {
        may_follow[b] = if rendered(&blocks[b]) {
            !blocks[b].0
        } else {
            may_follow[b + 1]
        };
    }
    let mut out = vec![None; rest.len()];
    let mut i = 0;
    while i < rest.len() {
        if !is_system(&rest[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < rest.len() && is_system(&rest[i]) {
            i += 1;
        }
        let neighbour = if start > 0 && is_user_type(&rest[start - 1]) {
            Some(start - 1)
        } else {
            Some(i).filter(|&n| n < rest.len() && is_user_type(&rest[n]))
        };
        let anchor = neighbour
            .map(|n| block_of[n])
            .filter(|&b| rendered(&blocks[b]) && may_follow[b + 1])
            .and_then(|b| blocks[b].1.last().copied());
        for slot in &mut out[start..i] {
            *slot = anchor;
        }
    }
    out
}

/// A system message's text blocks (cache_control as Anthropic takes it).
fn system_text_blocks(m: &ChatMessage) -> Vec<Value> {
    system_as_user(m)
        .map(|mut b| {
            b.remove(0); // the note
            b
        })
        .unwrap_or_default()
}

/// Applies a message-level `cache_control` to the message's last block (LiteLLM's rule).
fn with_message_cache_control(m: &ChatMessage, mut blocks: Vec<Value>) -> Vec<Value> {
    if let (Some(cc), Some(last)) = (m.extra.get("cache_control"), blocks.last_mut()) {
        last["cache_control"] = cc.clone();
    }
    blocks
}

fn content_blocks(m: &ChatMessage) -> Result<Vec<Value>, LlmError> {
    let blocks = match &m.content {
        None => vec![],
        Some(MessageContent::Text(t)) if t.is_empty() => vec![],
        Some(MessageContent::Text(t)) => vec![json!({"type": "text", "text": t})],
        Some(MessageContent::Parts(parts)) => parts
            .iter()
            .map(part)
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .collect(),
    };
    Ok(with_message_cache_control(m, blocks))
}

fn part(p: &ContentPart) -> Result<Option<Value>, LlmError> {
    let mut block = match p.kind.as_str() {
        "text" => match p.text.as_deref() {
            Some("") | None => return Ok(None),
            Some(t) => json!({"type": "text", "text": t}),
        },
        "image_url" => {
            let url = p.image_url.as_ref().map(|u| u.url()).unwrap_or("");
            media_block(url, None)?
        }
        "file" => {
            let f = p.extra.get("file").cloned().unwrap_or(Value::Null);
            let data = f["file_data"]
                .as_str()
                .or_else(|| f["url"].as_str())
                .unwrap_or("");
            if let Some(id) = f["file_id"].as_str().filter(|_| data.is_empty()) {
                file_id_block(id, f["format"].as_str())
            } else {
                media_block(data, f["format"].as_str())?
            }
        }
        // Already Anthropic-shaped blocks (`document`, `image`, ...) pass through.
        _ => {
            let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
            if v.is_object() {
                v.as_object_mut().map(|o| o.shift_remove("cache_control"));
            }
            v
        }
    };
    if let Some(cc) = p.extra.get("cache_control") {
        block["cache_control"] = cc.clone();
    }
    Ok(Some(block))
}

/// A `file_id` part as LiteLLM reads it: by `format` a document or image from the Files API,
/// else a URL as a document and any other id as a file for the code execution container.
fn file_id_block(id: &str, format: Option<&str>) -> Value {
    let file = json!({"type": "file", "file_id": id});
    match format {
        Some("application/pdf" | "text/plain") => json!({"type": "document", "source": file}),
        Some("image/jpeg" | "image/png" | "image/gif" | "image/webp") => {
            json!({"type": "image", "source": file})
        }
        None if id.starts_with("http") => {
            json!({"type": "document", "source": {"type": "url", "url": id}})
        }
        _ => json!({"type": "container_upload", "file_id": id}),
    }
}

/// The betas a request needs for what it holds: a `file_id` part needs the Files API (and, as
/// LiteLLM sends it, code execution); computer use, web fetch and memory tools their own.
pub fn betas(req: &ChatCompletionRequest) -> Vec<&'static str> {
    let file_id = req.messages.iter().filter(|m| m.role == "user").any(|m| {
        matches!(&m.content, Some(MessageContent::Parts(parts)) if parts.iter().any(|p| {
            p.kind == "file" && p.extra.get("file").is_some_and(|f| f["file_id"].as_str().is_some_and(|id| !id.is_empty()))
        }))
    });
    let mut out = vec![];
    if file_id {
        out.extend(["files-api-2025-04-14", "code-execution-2025-05-22"]);
    }
    for t in req.tools.iter().flatten() {
        out.extend(match t.kind.as_str() {
            "computer_20251124" => Some("computer-use-2025-11-24"),
            "computer_20250124" => Some("computer-use-2025-01-24"),
            "computer_20241022" => Some("computer-use-2024-10-22"),
            k if k.starts_with("web_fetch") => Some("web-fetch-2025-09-10"),
            k if k.starts_with("memory") => Some("context-management-2025-06-27"),
            _ => None,
        });
    }
    out
}

/// An image or document block from a data URL or an http(s) URL.
fn media_block(url: &str, format: Option<&str>) -> Result<Value, LlmError> {
    if url.is_empty() {
        return Err(bad("an image_url or file part has no url or data"));
    }
    if let Some(rest) = url.strip_prefix("data:") {
        let (meta, data) = rest
            .split_once(',')
            .ok_or_else(|| bad("malformed data URL"))?;
        let media_type = format.unwrap_or_else(|| meta.split(';').next().unwrap_or(""));
        let kind = if media_type == "application/pdf" {
            "document"
        } else {
            "image"
        };
        let source = if meta.ends_with(";base64") {
            json!({"type": "base64", "media_type": media_type, "data": data})
        } else {
            json!({"type": "text", "media_type": "text/plain", "data": data})
        };
        return Ok(
            json!({"type": if source["type"] == "text" { "document" } else { kind }, "source": source}),
        );
    }
    if url.starts_with("http://") || url.starts_with("https://") {
        let is_pdf =
            format == Some("application/pdf") || url.to_ascii_lowercase().ends_with(".pdf");
        let kind = if is_pdf { "document" } else { "image" };
        return Ok(json!({"type": kind, "source": {"type": "url", "url": url}}));
    }
    Err(bad(format!(
        "unsupported image or file URL: {}",
        &url[..url.len().min(60)]
    )))
}

fn assistant_blocks(m: &ChatMessage) -> Result<Vec<Value>, LlmError> {
    let mut blocks = Vec::new();
    // Thinking blocks (with their signatures) must be sent back on the next turn.
    if let Some(Value::Array(tb)) = m.extra.get("thinking_blocks") {
        blocks.extend(tb.iter().cloned());
    }
    blocks.extend(content_blocks(&ChatMessage {
        extra: Map::new(),
        ..m.clone()
    })?);
    for call in m.tool_calls.iter().flatten() {
        let input: Value = if call.function.arguments.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(&call.function.arguments)
                .map_err(|e| bad(format!("tool call arguments are not JSON: {e}")))?
        };
        blocks.push(json!({
            "type": "tool_use",
            "id": call.id.clone().unwrap_or_default(),
            "name": call.function.name,
            "input": input,
        }));
    }
    Ok(with_message_cache_control(m, blocks))
}

fn tool_result(m: &ChatMessage) -> Result<Value, LlmError> {
    let id = m
        .tool_call_id
        .clone()
        .ok_or_else(|| bad("a tool message needs tool_call_id"))?;
    let content = match &m.content {
        Some(MessageContent::Parts(_)) => Value::Array(content_blocks(&ChatMessage {
            extra: Map::new(),
            ..m.clone()
        })?),
        _ => json!(m.text_content()),
    };
    let mut block = json!({"type": "tool_result", "tool_use_id": id, "content": content});
    if let Some(cc) = m.extra.get("cache_control") {
        block["cache_control"] = cc.clone();
    }
    Ok(block)
}
