//! Mistral's dialect of the OpenAI protocol (`mistral/` and `codestral/`), as LiteLLM's
//! `MistralConfig` speaks it: the request is rewritten on the JSON body, so fields we do not
//! model still pass through untouched and key order (tool schemas) is kept.

use serde_json::{json, Map, Value};

use crate::{CallOptions, ErrorKind, LlmError};

/// OpenAI parameters Mistral rejects: an error, or dropped with `drop_params` (LiteLLM's
/// `get_supported_openai_params` is an allow-list; these are the OpenAI ones outside it).
/// `reasoning_effort` and `thinking` depend on the model: [`unsupported`].
pub const UNSUPPORTED: &[&str] = &[
    "n",
    "presence_penalty",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "top_logprobs",
    "functions",
    "function_call",
    "modalities",
    "audio",
    "prediction",
    "service_tier",
    "store",
    "web_search_options",
    "safety_identifier",
    "verbosity",
    "prompt_cache_key",
];

/// Strength order of the `reasoning_effort` levels (`none` is the off switch, not a strength).
const EFFORT_ORDER: &[&str] = &["minimal", "low", "medium", "high", "xhigh", "max"];

/// Mistral's recommended reasoning system prompt, byte for byte as LiteLLM sends it to Magistral
/// (indentation included, and the backspace its Python source makes of `\b` in `\boxed`): the
/// API has no reasoning parameter for these models.
const REASONING_PROMPT: &str = "\n        <s>[SYSTEM_PROMPT]system_prompt\n        A user will ask you to solve a task. You should first draft your thinking process (inner monologue) until you have derived the final answer. Afterwards, write a self-contained summary of your thoughts (i.e. your summary should be succinct but contain all the critical steps you needed to reach the conclusion). You should use Markdown to format your response. Write both your thoughts and summary in the same language as the task posed by the user. NEVER use \u{8}oxed{} in your response.\n\n        Your thinking process must follow the template below:\n        <think>\n        Your thoughts or/and draft, like working through an exercise on scratch paper. Be as casual and as long as you want until you are confident to generate a correct answer.\n        </think>\n\n        Here, provide a concise summary that reflects your reasoning and presents a clear final answer to the user. Don't mention that this is a summary.\n\n        Problem:\n\n        [/SYSTEM_PROMPT][INST]user_message[/INST]<think>\n        reasoning_traces\n        </think>\n        assistant_response</s>[INST]user_message[/INST]\n        ";

/// Fields of an assistant message LiteLLM looks at to decide a message is empty (its
/// `ChatCompletionAssistantMessage` keys, `role` aside).
const MESSAGE_KEYS: &[&str] = &[
    "content",
    "name",
    "tool_calls",
    "function_call",
    "reasoning_content",
    "cache_control",
    "thinking_blocks",
    "reasoning_items",
];

/// Response-only fields an assistant turn carries back; Mistral refuses them.
const INTERNAL_FIELDS: &[&str] = &[
    "thinking_blocks",
    "reasoning_items",
    "reasoning_content",
    "provider_specific_fields",
];

fn is_magistral(model: &str) -> bool {
    model.to_ascii_lowercase().contains("magistral")
}

/// Whether the catalog marks the model as reasoning, and the levels it lists (LiteLLM reads
/// `supports_reasoning` and `reasoning_effort_levels` under `mistral/<model>`).
fn reasoning_levels(model: &str) -> Option<Option<Vec<String>>> {
    let cat = crate::catalog::global();
    let m = cat.get_for("mistral", model)?;
    m.supports(crate::catalog::Feature::Reasoning)
        .then(|| m.reasoning_efforts.clone())
}

/// The model's own unsupported parameters: Magistral takes both reasoning parameters (as a
/// prompt, [`before_check`]), another reasoning model `reasoning_effort` only, the rest neither.
pub fn unsupported(model: &str) -> &'static [&'static str] {
    if is_magistral(model) {
        &[]
    } else if reasoning_levels(model).is_some() {
        &["thinking"]
    } else {
        &["reasoning_effort", "thinking"]
    }
}

/// The declared level nearest to `requested` and at least as strong (else the strongest);
/// a level the model lists, or one outside the strength order, is sent as it is.
fn nearest_effort(requested: &str, declared: &[String]) -> String {
    let rank = |e: &str| EFFORT_ORDER.iter().position(|x| *x == e);
    let mut ranked: Vec<(usize, &str)> = declared
        .iter()
        .filter_map(|e| Some((rank(e)?, e.as_str())))
        .collect();
    ranked.sort();
    let Some(want) = rank(requested) else {
        return requested.to_string();
    };
    if ranked.is_empty() || ranked.iter().any(|(_, e)| *e == requested) {
        return requested.to_string();
    }
    ranked
        .iter()
        .find(|(r, _)| *r >= want)
        .or(ranked.last())
        .map(|(_, e)| e.to_string())
        .unwrap_or_else(|| requested.to_string())
}

/// `reasoning_effort` on a reasoning model other than Magistral: a level (or `{"effort": ...}`
/// without a summary) goes out as the nearest level the model lists; anything else is refused,
/// or dropped with `drop_params`.
fn reasoning_effort(
    map: &mut Map<String, Value>,
    model: &str,
    opts: &CallOptions,
) -> Result<(), LlmError> {
    let Some(requested) = map.shift_remove("reasoning_effort") else {
        return Ok(());
    };
    let level = match &requested {
        Value::Null => return Ok(()),
        Value::String(s) => Some(s.as_str()),
        Value::Object(o) if o.get("summary").is_none_or(Value::is_null) => {
            o.get("effort").and_then(Value::as_str)
        }
        _ => None,
    };
    if let Some(level) = level {
        let declared = reasoning_levels(model).flatten().unwrap_or_default();
        map.insert(
            "reasoning_effort".into(),
            json!(nearest_effort(level, &declared)),
        );
        return Ok(());
    }
    if opts.drop_params {
        return Ok(());
    }
    Err(LlmError::new(
        ErrorKind::UnsupportedParams,
        format!(
            "mistral does not support parameters: ['reasoning_effort'], for model={model}, since the Mistral API takes it only as a level such as 'high', with no reasoning summary. To drop it, set `litellm.drop_params=True` or for proxy:\n\n`litellm_settings:\n drop_params: true`\n"
        ),
    )
    .with_model(model))
}

/// Before the unsupported-parameter check: what LiteLLM drops silently or turns into something
/// else, so that it is neither refused nor dropped by `drop_params`.
pub fn before_check(map: &mut Map<String, Value>) {
    // Mistral always streams usage and has no `stream_options`; `user` is dropped silently.
    map.shift_remove("stream_options");
    map.shift_remove("user");
    if map.get("stream") != Some(&Value::Bool(true)) {
        map.shift_remove("stream");
    }
    // n = 1 is the default LiteLLM leaves out; only n > 1 is refused.
    if map.get("n").and_then(Value::as_u64) == Some(1) {
        map.shift_remove("n");
    }
    let model = map.get("model").and_then(Value::as_str).unwrap_or("");
    if is_magistral(model) {
        let reasoning = ["reasoning_effort", "thinking"]
            .iter()
            .filter_map(|k| map.shift_remove(*k))
            .any(|v| !v.is_null());
        if reasoning {
            add_reasoning_prompt(map);
        }
    }
}

/// After the check: renames and rewrites of what remains.
pub fn translate(map: &mut Map<String, Value>, opts: &CallOptions) -> Result<(), LlmError> {
    let model = map
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(seed) = map.shift_remove("seed").filter(|v| !v.is_null()) {
        map.insert("random_seed".into(), seed);
    }
    // `max_completion_tokens` wins over `max_tokens` when both are given.
    if let Some(m) = map
        .shift_remove("max_completion_tokens")
        .filter(|v| !v.is_null())
    {
        map.insert("max_tokens".into(), m);
    }
    if !is_magistral(&model) {
        reasoning_effort(map, &model, opts)?;
    }
    tool_choice(map, &model, opts)?;
    if let Some(tools) = map.get_mut("tools") {
        remove_schema_refs(tools, 100);
    }
    if let Some(Value::Array(messages)) = map.get_mut("messages") {
        *messages = self::messages(std::mem::take(messages), is_magistral(&model));
    }
    Ok(())
}

/// `required` is Mistral's `any`; a tool_choice without tools is not sent; one Mistral cannot
/// take is refused, or dropped with `drop_params`.
fn tool_choice(
    map: &mut Map<String, Value>,
    model: &str,
    opts: &CallOptions,
) -> Result<(), LlmError> {
    let Some(choice) = map.shift_remove("tool_choice") else {
        return Ok(());
    };
    let has_tools = map
        .get("tools")
        .and_then(Value::as_array)
        .is_some_and(|t| !t.is_empty());
    if choice.is_null() || !has_tools {
        return Ok(());
    }
    let mapped = match &choice {
        Value::String(s) if s == "auto" || s == "none" => Some(choice.clone()),
        Value::String(s) if s == "required" || s == "any" => Some(json!("any")),
        Value::Object(o) if o.get("type").and_then(Value::as_str) == Some("function") => o
            .get("function")
            .and_then(|f| f.get("name"))
            .and_then(Value::as_str)
            .filter(|n| !n.is_empty())
            .map(|name| json!({"type": "function", "function": {"name": name}})),
        _ => None,
    };
    match mapped {
        Some(c) => {
            map.insert("tool_choice".into(), c);
            Ok(())
        }
        None if opts.drop_params => Ok(()),
        None => Err(LlmError::new(
            ErrorKind::UnsupportedParams,
            format!(
                "Unsupported tool_choice={choice} for model={model}, since the Mistral API takes tool_choice only as 'auto', 'none', 'any', 'required', or {{'type': 'function', 'function': {{'name': <tool name>}}}}. To drop it, set `litellm.drop_params=True` or for proxy:\n\n`litellm_settings:\n drop_params: true`\n"
            ),
        )
        .with_model(model)),
    }
}

/// `$id` and `$schema` break Mistral's grammar validation; everything else (order included) stays.
fn remove_schema_refs(v: &mut Value, depth: usize) {
    if depth == 0 {
        return;
    }
    match v {
        Value::Object(o) => {
            o.shift_remove("$id");
            o.shift_remove("$schema");
            o.values_mut()
                .for_each(|x| remove_schema_refs(x, depth - 1));
        }
        Value::Array(a) => a.iter_mut().for_each(|x| remove_schema_refs(x, depth - 1)),
        _ => {}
    }
}

/// The reasoning prompt goes before the first system message's text, or is that message.
fn add_reasoning_prompt(map: &mut Map<String, Value>) {
    let Some(Value::Array(messages)) = map.get_mut("messages") else {
        return;
    };
    let system = messages
        .iter_mut()
        .find(|m| m.get("role").and_then(Value::as_str) == Some("system"));
    match system.and_then(Value::as_object_mut) {
        Some(m) => {
            let content = match m.get("content") {
                Some(Value::String(s)) => json!(format!("{REASONING_PROMPT}\n\n{s}")),
                Some(Value::Array(parts)) => {
                    let mut c =
                        vec![json!({"type": "text", "text": format!("{REASONING_PROMPT}\n\n")})];
                    c.extend(parts.iter().cloned());
                    Value::Array(c)
                }
                // Python formats a missing content as `None`.
                None | Some(Value::Null) => json!(format!("{REASONING_PROMPT}\n\nNone")),
                Some(other) => json!(format!("{REASONING_PROMPT}\n\n{other}")),
            };
            m.insert("content".into(), content);
        }
        None => messages.insert(0, json!({"role": "system", "content": REASONING_PROMPT})),
    }
}

fn role(m: &Value) -> &str {
    m.get("role").and_then(Value::as_str).unwrap_or("")
}

/// The text parts of a content, concatenated (LiteLLM's `convert_content_list_to_str`).
fn flat_text(content: Option<&Value>) -> String {
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

fn is_think_chunk(p: &Value) -> bool {
    p.get("type").and_then(Value::as_str) == Some("thinking")
        && p.get("thinking").is_some_and(Value::is_array)
}

/// An assistant turn replayed: response-only fields removed; on a reasoning model, its
/// reasoning goes back as a closed think chunk before the content, as Mistral returned it.
fn replay_reasoning(mut m: Value, keeps_reasoning: bool) -> Value {
    let Some(o) = m.as_object_mut() else {
        return m;
    };
    let reasoning = o
        .get("reasoning_content")
        .and_then(Value::as_str)
        .filter(|r| !r.trim().is_empty())
        .map(str::to_string)
        .or_else(|| {
            let t: String = o
                .get("thinking_blocks")?
                .as_array()?
                .iter()
                .filter(|b| b.get("type").and_then(Value::as_str) == Some("thinking"))
                .filter_map(|b| b.get("thinking").and_then(Value::as_str))
                .collect();
            (!t.trim().is_empty()).then_some(t)
        });
    for f in INTERNAL_FIELDS {
        o.shift_remove(*f);
    }
    let parts: Option<Vec<Value>> = match o.get("content") {
        None | Some(Value::Null) => Some(vec![]),
        Some(Value::String(s)) if s.is_empty() => Some(vec![]),
        Some(Value::String(s)) => Some(vec![json!({"type": "text", "text": s})]),
        Some(Value::Array(a)) => Some(a.clone()),
        Some(_) => None,
    };
    let Some(parts) = parts else { return m };
    if !keeps_reasoning {
        if parts.iter().any(is_think_chunk) {
            let kept: Vec<Value> = parts.into_iter().filter(|p| !is_think_chunk(p)).collect();
            o.insert(
                "content".into(),
                if kept.is_empty() {
                    Value::Null
                } else {
                    Value::Array(kept)
                },
            );
        }
        return m;
    }
    let has_output = !parts.is_empty()
        || o.get("tool_calls")
            .and_then(Value::as_array)
            .is_some_and(|t| !t.is_empty());
    if let (Some(r), true, false) = (reasoning, has_output, parts.iter().any(is_think_chunk)) {
        let mut c = vec![
            json!({"type": "thinking", "thinking": [{"type": "text", "text": r}], "closed": true}),
        ];
        c.extend(parts);
        o.insert("content".into(), Value::Array(c));
    }
    m
}

/// Content lists become strings (think chunks kept first on reasoning models), `name` only on
/// tool messages, tool calls reduced to Mistral's shape, empty turns left out unless one is the
/// only answer to a tool call, `null` fields removed. With an image or file anywhere, LiteLLM
/// sends the messages as they are instead.
fn messages(messages: Vec<Value>, keeps_reasoning: bool) -> Vec<Value> {
    let messages: Vec<Value> = messages
        .into_iter()
        .map(without_cache_control)
        .map(|m| {
            if role(&m) == "assistant" {
                replay_reasoning(m, keeps_reasoning)
            } else {
                m
            }
        })
        .collect();
    let has_media = messages.iter().any(|m| {
        m.get("content")
            .and_then(Value::as_array)
            .is_some_and(|parts| {
                parts.iter().any(|p| {
                    matches!(
                        p.get("type").and_then(Value::as_str),
                        Some("image_url" | "file")
                    )
                })
            })
    });
    if has_media {
        return messages.into_iter().map(with_file_ids).collect();
    }
    let prepared: Vec<Value> = messages
        .into_iter()
        .map(|mut m| {
            flatten(&mut m, keeps_reasoning);
            if let Some(o) = m.as_object_mut() {
                let keep_name = o.get("role").and_then(Value::as_str) == Some("tool")
                    && o.get("name")
                        .and_then(Value::as_str)
                        .is_none_or(|n| !n.trim().is_empty());
                if !keep_name && o.get("name").is_some_and(|n| !n.is_null()) {
                    o.shift_remove("name");
                }
                if let Some(Value::Array(calls)) = o.get_mut("tool_calls") {
                    for c in calls.iter_mut() {
                        *c = json!({
                            "id": c.get("id").cloned().unwrap_or(Value::Null),
                            "type": "function",
                            "function": c.get("function").cloned().unwrap_or(Value::Null),
                        });
                    }
                }
            }
            m
        })
        .collect();
    let empty: Vec<bool> = prepared.iter().map(is_empty).collect();
    // For each tool reply: (position of the assistant turn that called it, tool_call_id).
    let mut turn: Option<(usize, Vec<String>)> = None;
    let mut keys: Vec<Option<(usize, String)>> = Vec::with_capacity(prepared.len());
    for (i, m) in prepared.iter().enumerate() {
        let calls = (role(m) == "assistant")
            .then(|| m.get("tool_calls").and_then(Value::as_array))
            .flatten();
        if let Some(calls) = calls {
            let ids = calls
                .iter()
                .filter_map(|c| c.get("id").and_then(Value::as_str).map(str::to_string))
                .collect();
            turn = Some((i, ids));
        } else if !(role(m) == "tool" || empty[i]) {
            turn = None;
        }
        let key = match (&turn, m.get("tool_call_id").and_then(Value::as_str)) {
            (Some((pos, ids)), Some(id)) if role(m) == "tool" && ids.iter().any(|x| x == id) => {
                Some((*pos, id.to_string()))
            }
            _ => None,
        };
        keys.push(key);
    }
    let answered: Vec<&(usize, String)> = keys
        .iter()
        .zip(&empty)
        .filter(|(_, e)| !**e)
        .filter_map(|(k, _)| k.as_ref())
        .collect();
    let mut first_seen: Vec<&(usize, String)> = Vec::new();
    let mut out = Vec::with_capacity(prepared.len());
    for ((mut m, is_empty), key) in prepared.into_iter().zip(empty).zip(&keys) {
        let first_reply = key
            .as_ref()
            .filter(|k| !first_seen.contains(k))
            .inspect(|k| first_seen.push(k));
        let answers = first_reply.is_some_and(|k| !answered.contains(&k));
        if is_empty && !answers {
            continue;
        }
        if let Some(o) = m.as_object_mut() {
            if o.get("role").and_then(Value::as_str) == Some("tool")
                && o.get("content").is_none_or(|c| {
                    c.is_null()
                        || c.as_str() == Some("")
                        || c.as_array().is_some_and(|a| a.is_empty())
                })
            {
                o.insert("content".into(), json!(""));
            }
            o.retain(|_, v| !v.is_null());
        }
        out.push(m);
    }
    out
}

fn flatten(m: &mut Value, keeps_reasoning: bool) {
    let text = flat_text(m.get("content"));
    let Some(o) = m.as_object_mut() else { return };
    let think: Vec<Value> = match o.get("content") {
        Some(Value::Array(parts))
            if keeps_reasoning && o.get("role").and_then(Value::as_str) == Some("assistant") =>
        {
            parts
                .iter()
                .filter(|p| is_think_chunk(p))
                .cloned()
                .collect()
        }
        _ => vec![],
    };
    if !think.is_empty() {
        let text_parts: Vec<Value> = if text.is_empty() {
            vec![]
        } else {
            vec![json!({"type": "text", "text": text})]
        };
        let only = text_parts.is_empty();
        let mut c: Vec<Value> = think
            .into_iter()
            .filter_map(|t| sendable_think(t, only))
            .collect();
        c.extend(text_parts);
        o.insert("content".into(), Value::Array(c));
    } else if !text.is_empty() {
        o.insert("content".into(), json!(text));
    }
}

/// A think chunk with only its text items; none is sent without text. `closed: false` stays only
/// where the turn may stay open.
fn sendable_think(chunk: Value, may_stay_open: bool) -> Option<Value> {
    let items: Vec<Value> = chunk
        .get("thinking")?
        .as_array()?
        .iter()
        .filter(|i| i.get("type").and_then(Value::as_str) == Some("text"))
        .filter_map(|i| i.get("text").and_then(Value::as_str))
        .map(|t| json!({"type": "text", "text": t}))
        .collect();
    if items.is_empty() {
        return None;
    }
    let mut out = json!({"type": "thinking", "thinking": items});
    match chunk.get("closed").and_then(Value::as_bool) {
        Some(false) if !may_stay_open => {}
        Some(closed) => {
            out["closed"] = json!(closed);
        }
        None => {}
    }
    Some(out)
}

/// Mistral has no prompt caching by marker: `cache_control` leaves messages and their parts.
fn without_cache_control(mut m: Value) -> Value {
    if let Some(o) = m.as_object_mut() {
        o.shift_remove("cache_control");
        if let Some(Value::Array(parts)) = o.get_mut("content") {
            for p in parts.iter_mut().filter_map(Value::as_object_mut) {
                p.shift_remove("cache_control");
            }
        }
    }
    m
}

/// A message is empty when none of the assistant fields is set, `""` content aside.
fn is_empty(m: &Value) -> bool {
    MESSAGE_KEYS.iter().all(|k| match m.get(*k) {
        None | Some(Value::Null) => true,
        Some(Value::String(s)) if *k == "content" => s.is_empty(),
        _ => false,
    })
}

/// Mistral takes an uploaded file as `{"type": "file", "file_id": ...}`.
fn with_file_ids(mut m: Value) -> Value {
    if let Some(Value::Array(parts)) = m.get_mut("content") {
        for p in parts.iter_mut() {
            let id = (p.get("type").and_then(Value::as_str) == Some("file"))
                .then(|| {
                    p.get("file")?
                        .get("file_id")
                        .filter(|i| !i.is_null() && i.as_str() != Some(""))
                        .cloned()
                })
                .flatten();
            if let (Some(id), Some(o)) = (id, p.as_object_mut()) {
                o.shift_remove("file");
                o.insert("file_id".into(), id);
            }
        }
    }
    m
}

/// An answer as the client gets it: `""` content is `null`; Magistral's content list becomes the
/// text and `reasoning_content`.
pub fn answer(v: &mut Value) {
    let Some(choices) = v.get_mut("choices").and_then(Value::as_array_mut) else {
        return;
    };
    for c in choices {
        let Some(msg) = c.get_mut("message").and_then(Value::as_object_mut) else {
            continue;
        };
        if msg.get("content").and_then(Value::as_str) == Some("") {
            msg.insert("content".into(), Value::Null);
        }
        if let Some(Value::Array(blocks)) = msg.get("content").cloned() {
            let (mut text, mut thinking) = (String::new(), String::new());
            for b in &blocks {
                match b.get("type").and_then(Value::as_str) {
                    Some("thinking") => {
                        thinking = think_texts(b).join("\n");
                    }
                    Some("text") => {
                        text = b
                            .get("text")
                            .and_then(Value::as_str)
                            .unwrap_or("")
                            .to_string();
                    }
                    _ => {}
                }
            }
            msg.insert("content".into(), json!(text));
            if !thinking.is_empty() {
                msg.insert("reasoning_content".into(), json!(thinking));
            }
        }
    }
}

fn think_texts(block: &Value) -> Vec<&str> {
    block
        .get("thinking")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter(|t| t.get("type").and_then(Value::as_str) == Some("text"))
                .map(|t| t.get("text").and_then(Value::as_str).unwrap_or(""))
                .collect()
        })
        .unwrap_or_default()
}

/// A stream chunk as the client gets it: a content list in a delta becomes the text, with the
/// thinking as `reasoning_content` and `thinking_blocks` (signature `mistral`).
pub fn chunk(v: &mut Value) {
    let Some(choices) = v.get_mut("choices").and_then(Value::as_array_mut) else {
        return;
    };
    for c in choices {
        let Some(delta) = c.get_mut("delta").and_then(Value::as_object_mut) else {
            continue;
        };
        let Some(Value::Array(blocks)) = delta.get("content").cloned() else {
            continue;
        };
        let (mut text, mut reasoning, mut thinking_blocks) = (Vec::new(), Vec::new(), Vec::new());
        for b in &blocks {
            match b.get("type").and_then(Value::as_str) {
                Some("thinking") => {
                    let t = think_texts(b).concat();
                    if !t.is_empty() {
                        thinking_blocks.push(
                            json!({"type": "thinking", "thinking": t, "signature": "mistral"}),
                        );
                        reasoning.push(t);
                    }
                }
                Some("text") => text.push(b.get("text").and_then(Value::as_str).unwrap_or("")),
                _ => {}
            }
        }
        let content = if blocks
            .iter()
            .any(|b| b.get("type").and_then(Value::as_str) == Some("text"))
        {
            json!(text.concat())
        } else {
            Value::Null
        };
        delta.insert("content".into(), content);
        if thinking_blocks.is_empty() {
            delta.shift_remove("thinking_blocks");
            delta.shift_remove("reasoning_content");
        } else {
            delta.insert("thinking_blocks".into(), Value::Array(thinking_blocks));
            delta.insert("reasoning_content".into(), json!(reasoning.join("\n")));
        }
    }
}

#[cfg(test)]
#[path = "mistral_tests.rs"]
mod tests;
