//! OpenAI chat request → Gemini `generateContent` body (the same for AI Studio and Vertex).

use llmgate_types::{ChatCompletionRequest, ChatMessage, MessageContent};
use serde_json::{json, Map, Value};

use super::media::{self, MediaCx};
use super::schema::sanitize;
use crate::LlmError;

/// Gemini has no tool-call ids before Gemini 3; the thought signature a call needs on the next
/// turn rides in the id after this separator (LiteLLM's convention).
pub const THOUGHT_SEP: &str = "__thought__";
/// What LiteLLM sends for a Gemini 3 function call that has no signature (history from another
/// model): base64 of `skip_thought_signature_validator`, which Google documents as the escape.
pub const DUMMY_SIGNATURE: &str = "c2tpcF90aG91Z2h0X3NpZ25hdHVyZV92YWxpZGF0b3I=";

/// LiteLLM's `_is_gemini_3_or_newer` for `gemini-*` names: anything but Gemini 1.x/2.x,
/// `gemini-exp` and the pre-3 `gemini-pro`/`gemini-flash` aliases. Such models need a signature
/// on the first call of a turn and take call ids on function parts. Other names (tuned models,
/// Gemma, endpoints) are taken as older: an id there is a 400.
pub fn is_gemini_3_or_newer(model: &str) -> bool {
    let name = model.rsplit('/').next().unwrap_or("").to_ascii_lowercase();
    let Some(rest) = name.strip_prefix("gemini-") else {
        return false;
    };
    let ends = |r: &str| r.is_empty() || r.starts_with('-');
    let old_version = rest
        .strip_prefix(['1', '2'])
        .is_some_and(|r| match r.strip_prefix('.') {
            Some(d) => {
                let t = d.trim_start_matches(|c: char| c.is_ascii_digit());
                t.len() < d.len() && ends(t)
            }
            None => ends(r),
        });
    let exp = rest.strip_prefix("exp").is_some_and(ends);
    let alias = ["pro", "flash"].iter().any(|a| {
        rest.strip_prefix(a)
            .is_some_and(|r| ends(r) && r != "-latest" && r != "-lite-latest")
    });
    !(old_version || exp || alias)
}

/// LiteLLM's `supports_response_json_schema`: `gemini-N.` / `gemini-N-` with N >= 2 anywhere in
/// the name takes `responseJsonSchema` (full JSON Schema); older models get `responseSchema`.
pub fn supports_response_json_schema(model: &str) -> bool {
    let lower = model.to_ascii_lowercase();
    lower.match_indices("gemini-").any(|(i, m)| {
        let rest = &lower[i + m.len()..];
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        let d = &rest[..digits];
        let n_ok = match d.len() {
            0 => false,
            1 => d != "0" && d != "1",
            _ => !d.starts_with('0'),
        };
        n_ok && matches!(rest[digits..].chars().next(), Some('.' | '-'))
    })
}

/// LiteLLM drops `strict` from a response schema (Gemini knows no such keyword); property
/// names are left alone (LiteLLM would drop a property called `strict` too).
fn without_strict(v: &Value) -> Value {
    match v {
        Value::Object(o) => Value::Object(
            o.iter()
                .filter(|(k, _)| *k != "strict")
                .map(|(k, x)| {
                    let x = match (k.as_str(), x) {
                        ("properties" | "$defs" | "definitions", Value::Object(p)) => {
                            Value::Object(
                                p.iter()
                                    .map(|(n, s)| (n.clone(), without_strict(s)))
                                    .collect(),
                            )
                        }
                        _ => without_strict(x),
                    };
                    (k.clone(), x)
                })
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_strict).collect()),
        other => other.clone(),
    }
}

/// `propertyOrdering` on every object of a `responseSchema`, in the client's key order: Gemini
/// otherwise answers with the properties sorted alphabetically (LiteLLM does the same; one the
/// client wrote is kept).
fn with_property_ordering(v: &mut Value) {
    let Some(o) = v.as_object_mut() else { return };
    if let Some(Value::Object(props)) = o.get_mut("properties") {
        let names: Vec<Value> = props.keys().map(|k| json!(k)).collect();
        props.values_mut().for_each(with_property_ordering);
        o.entry("propertyOrdering").or_insert(Value::Array(names));
    }
    if let Some(items) = o.get_mut("items") {
        with_property_ordering(items);
    }
    if let Some(Value::Array(any)) = o.get_mut("anyOf") {
        any.iter_mut().for_each(with_property_ordering);
    }
}

fn bad(msg: impl Into<String>) -> LlmError {
    LlmError::bad_request(msg).with_provider("gemini")
}

/// Thinking budget for `reasoning_effort` (LiteLLM's defaults); `none` turns thinking off.
/// Gemini 3 takes a `thinkingLevel` instead (it cannot turn thinking off: `none` is the lowest
/// level, without thoughts; `minimal` exists on Flash only), as LiteLLM maps it.
fn thinking(effort: &str, model: &str) -> Option<Value> {
    if is_gemini_3_or_newer(model) {
        let lowest = if model.contains("flash") {
            "minimal"
        } else {
            "low"
        };
        let (level, thoughts) = match effort {
            "none" | "disable" => (lowest, false),
            "minimal" => (lowest, true),
            "low" | "medium" | "high" => (effort, true),
            _ => return None,
        };
        return Some(json!({"thinkingLevel": level, "includeThoughts": thoughts}));
    }
    let lower = model.to_ascii_lowercase();
    let minimal = if lower.contains("gemini-2.5-flash-lite") {
        512
    } else if lower.contains("gemini-2.5-pro") {
        128
    } else if lower.contains("gemini-2.5-flash") {
        1
    } else {
        128
    };
    let budget = match effort {
        "none" | "disable" => return Some(json!({"thinkingBudget": 0, "includeThoughts": false})),
        "minimal" => minimal,
        "low" => 1024,
        "medium" => 2048,
        "high" => 4096,
        _ => return None,
    };
    Some(json!({"thinkingBudget": budget, "includeThoughts": true}))
}

/// Whether the model takes a `systemInstruction`, as LiteLLM's `supports_system_messages` reads
/// the catalog; a model without it gets its system prompt as the first user turn. A Gemini
/// model the catalog does not know yet (`gemini-<n>...`) takes one: every Gemini generation does,
/// where LiteLLM would fold the prompt into the user turn.
pub fn supports_system_instruction(model: &str, provider: &str) -> bool {
    let id = model.rsplit('/').next().unwrap_or(model);
    match crate::catalog::global().get_for(provider, id) {
        Some(m) => m.supports(crate::catalog::Feature::SystemMessages),
        None => id
            .strip_prefix("gemini-")
            .is_some_and(|r| r.starts_with(|c: char| c.is_ascii_digit())),
    }
}

/// The `generateContent` body for `req`; `provider` (`gemini`, `vertex_ai`) picks the catalog
/// entry the model's capabilities come from.
/// Anthropic-style `thinking: {type, budget_tokens}` as LiteLLM maps it: Gemini 3 only says
/// whether to include thoughts (it has levels, not budgets); older models get the budget.
fn thinking_param(t: &Value, model: &str) -> Value {
    let enabled = t["type"] == "enabled";
    let budget = &t["budget_tokens"];
    let zero = budget.as_i64() == Some(0);
    let mut c = Map::new();
    if is_gemini_3_or_newer(model) {
        c.insert("includeThoughts".into(), json!(enabled && !zero));
    } else {
        if enabled && !zero {
            c.insert("includeThoughts".into(), json!(true));
        }
        if budget.is_i64() || budget.is_u64() {
            c.insert("thinkingBudget".into(), budget.clone());
        }
    }
    Value::Object(c)
}

pub async fn build(
    req: &ChatCompletionRequest,
    cx: &MediaCx<'_>,
    provider: &str,
) -> Result<Value, LlmError> {
    // LiteLLM's supported params: thinking only where the catalog says the model reasons (or
    // on Gemini 3+); Vertex takes `top_logprobs` but no penalties on Gemini 3, which AI Studio
    // drops silently instead.
    let id = req.model.rsplit('/').next().unwrap_or(&req.model);
    let vertex = provider == "vertex_ai";
    let reasoning_ok = is_gemini_3_or_newer(id)
        || crate::catalog::global()
            .get_for(provider, id)
            .is_some_and(|m| m.supports(crate::catalog::Feature::Reasoning));
    let penalties_ok = !is_gemini_3_or_newer(id) && id != "gemini-2.5-pro-preview-06-05";
    let penalties = req.frequency_penalty.is_some() || req.presence_penalty.is_some();
    let present: Vec<&str> = [
        ("logit_bias", req.logit_bias.is_some()),
        ("top_logprobs", !vertex && req.top_logprobs.is_some()),
        (
            "frequency_penalty",
            vertex && !penalties_ok && req.frequency_penalty.is_some(),
        ),
        (
            "presence_penalty",
            vertex && !penalties_ok && req.presence_penalty.is_some(),
        ),
        (
            "reasoning_effort",
            !reasoning_ok && req.reasoning_effort.is_some(),
        ),
        (
            "thinking",
            !reasoning_ok && req.extra.contains_key("thinking"),
        ),
    ]
    .into_iter()
    .filter_map(|(p, set)| set.then_some(p))
    .collect();
    if !present.is_empty() && !cx.opts.drop_params {
        return Err(LlmError::unsupported_params(provider, &present, id));
    }
    let mut body = Map::new();
    let system_instruction = supports_system_instruction(&req.model, provider);
    let (system, contents) = contents(&req.messages, &req.model, system_instruction, cx).await?;
    body.insert("contents".into(), Value::Array(contents));
    if !system.is_empty() {
        body.insert("systemInstruction".into(), json!({"parts": system}));
    }

    let mut gen = Map::new();
    let mut set = |k: &str, v: Option<Value>| {
        if let Some(v) = v {
            gen.insert(k.into(), v);
        }
    };
    set("temperature", req.temperature.map(|v| json!(v)));
    set("topP", req.top_p.map(|v| json!(v)));
    set(
        "maxOutputTokens",
        req.max_completion_tokens
            .or(req.max_tokens)
            .map(|v| json!(v)),
    );
    set("candidateCount", req.n.map(|v| json!(v)));
    set("seed", req.seed.map(|v| json!(v)));
    if penalties && penalties_ok {
        set("presencePenalty", req.presence_penalty.map(|v| json!(v)));
        set("frequencyPenalty", req.frequency_penalty.map(|v| json!(v)));
    }
    set("responseLogprobs", req.logprobs.map(|v| json!(v)));
    if vertex {
        set("logprobs", req.top_logprobs.map(|v| json!(v)));
    }
    set("topK", req.extra.get("top_k").cloned());
    set(
        "responseModalities",
        req.extra
            .get("modalities")
            .and_then(Value::as_array)
            .map(|m| {
                m.iter()
                    .map(|x| match x.as_str() {
                        Some("text") => json!("TEXT"),
                        Some("image") => json!("IMAGE"),
                        Some("audio") => json!("AUDIO"),
                        Some("video") => json!("VIDEO"),
                        _ => json!("MODALITY_UNSPECIFIED"),
                    })
                    .collect()
            }),
    );
    set(
        "stopSequences",
        req.stop.as_ref().map(|s| match s {
            Value::String(s) => json!([s]),
            other => other.clone(),
        }),
    );
    if let Some(rf) = &req.response_format {
        match rf["type"].as_str() {
            Some("json_object") => set("responseMimeType", Some(json!("application/json"))),
            Some("json_schema") => {
                set("responseMimeType", Some(json!("application/json")));
                let schema = without_strict(&rf["json_schema"]["schema"]);
                if schema.is_object() {
                    if supports_response_json_schema(&req.model) {
                        // Standard JSON Schema as the client wrote it: `additionalProperties`,
                        // `$ref`/`$defs` and key order included.
                        set("responseJsonSchema", Some(schema));
                    } else {
                        let mut s = sanitize(&schema);
                        with_property_ordering(&mut s);
                        set("responseSchema", Some(s));
                    }
                }
            }
            Some("text") => set("responseMimeType", Some(json!("text/plain"))),
            _ => {}
        }
    }
    let thinking_config = req
        .reasoning_effort
        .as_deref()
        .and_then(|e| thinking(e, &req.model))
        .or_else(|| {
            req.extra
                .get("thinking")
                .map(|t| thinking_param(t, &req.model))
        });
    // Dropped (`drop_params`) where the model does not think.
    set("thinkingConfig", thinking_config.filter(|_| reasoning_ok));
    if !gen.is_empty() {
        body.insert("generationConfig".into(), Value::Object(gen));
    }

    let decls: Vec<Value> = req
        .tools
        .iter()
        .flatten()
        .filter_map(|t| t.function.as_ref())
        .map(|f| {
            let mut d = json!({"name": f.name});
            if let Some(desc) = &f.description {
                d["description"] = json!(desc);
            }
            // A function without parameters is declared without them (an empty object is a 400).
            if let Some(p) = f
                .parameters
                .as_ref()
                .map(sanitize)
                .filter(|p| p.get("properties").is_some() || p["type"] != "object")
            {
                d["parameters"] = p;
            }
            d
        })
        .collect();
    let server_side = req.extra.get("include_server_side_tool_invocations") == Some(&json!(true));
    let mut tools: Vec<Value> = Vec::new();
    if !decls.is_empty() {
        tools.push(json!({"functionDeclarations": decls}));
    }
    tools.extend(builtin_tools(req, !decls.is_empty() && !server_side));
    if !tools.is_empty() {
        body.insert("tools".into(), Value::Array(tools));
    }
    if let Some(tc) = &req.tool_choice {
        let config = match tc {
            Value::String(s) => match s.as_str() {
                "auto" => Some(json!({"mode": "AUTO"})),
                "required" | "any" => Some(json!({"mode": "ANY"})),
                "none" => Some(json!({"mode": "NONE"})),
                _ => None,
            },
            Value::Object(o) => o
                .get("function")
                .and_then(|f| f.get("name"))
                .map(|n| json!({"mode": "ANY", "allowedFunctionNames": [n]})),
            _ => None,
        };
        if let Some(c) = config {
            body.insert("toolConfig".into(), json!({"functionCallingConfig": c}));
        }
    }
    if server_side {
        // Gemini 3 combines built-in and function tools when asked to report the former.
        let tc = body.entry("toolConfig").or_insert_with(|| json!({}));
        tc["includeServerSideToolInvocations"] = json!(true);
    }
    for (ours, theirs) in [
        ("safety_settings", "safetySettings"),
        ("cached_content", "cachedContent"),
        ("labels", "labels"),
    ] {
        if let Some(v) = req.extra.get(ours).or_else(|| req.extra.get(theirs)) {
            body.insert(theirs.into(), v.clone());
        }
    }
    Ok(Value::Object(body))
}

/// Google's built-in tools as LiteLLM takes them in `tools` (either spelling of the name, an
/// OpenAI `type` ignored): its names on the wire, in the order it sends them, and whether it is
/// a search tool (which Vertex refuses next to function declarations).
const BUILTIN_TOOLS: &[(&str, &str, &str, bool)] = &[
    ("googleSearch", "google_search", "googleSearch", true),
    (
        "googleSearchRetrieval",
        "google_search_retrieval",
        "googleSearchRetrieval",
        true,
    ),
    (
        "enterpriseWebSearch",
        "enterprise_web_search",
        "enterpriseWebSearch",
        true,
    ),
    ("codeExecution", "code_execution", "code_execution", false),
    ("urlContext", "url_context", "url_context", true),
    ("googleMaps", "google_maps", "googleMaps", false),
    ("computerUse", "computer_use", "computerUse", false),
];

/// The built-in tools of a request, each its own tool object: `{"googleSearch": {}}` and the
/// like, OpenAI's `web_search` tool and `web_search_options` as Google Search, a
/// `computer_use` tool as `computerUse`. Search tools are left out next to function
/// declarations (`drop_search`), as LiteLLM does rather than have Google refuse the call.
fn builtin_tools(req: &ChatCompletionRequest, drop_search: bool) -> Vec<Value> {
    let mut slots: Vec<Option<Value>> = vec![None; BUILTIN_TOOLS.len()];
    let slot = |name: &str| {
        BUILTIN_TOOLS
            .iter()
            .position(|(camel, snake, wire, _)| name == *camel || name == *snake || name == *wire)
    };
    for t in req.tools.iter().flatten().filter(|t| t.function.is_none()) {
        match t.kind.as_str() {
            "web_search" | "web_search_preview" => slots[0] = Some(json!({})),
            "computer_use" => slots[6] = Some(Value::Object(t.extra.clone())),
            _ => {
                let mut keys = t.extra.iter().filter(|(k, _)| *k != "type");
                if let (Some((name, v)), None) = (keys.next(), keys.next()) {
                    if let Some(i) = slot(name).filter(|_| !v.is_null()) {
                        slots[i] = Some(v.clone());
                    }
                }
            }
        }
    }
    if req
        .extra
        .get("web_search_options")
        .is_some_and(Value::is_object)
        && slots[0].is_none()
    {
        slots[0] = Some(json!({}));
    }
    slots
        .into_iter()
        .zip(BUILTIN_TOOLS)
        .filter_map(|(v, (_, _, wire, search))| {
            let v = v.filter(|_| !(drop_search && *search))?;
            Some(json!({ *wire: v }))
        })
        .collect()
}

/// Splits off system text (or, for a model without system instructions, keeps it as user
/// text); turns the rest into alternating `user`/`model` contents, tool results into
/// `functionResponse` parts that follow their call.
async fn contents(
    msgs: &[ChatMessage],
    model: &str,
    system_instruction: bool,
    cx: &MediaCx<'_>,
) -> Result<(Vec<Value>, Vec<Value>), LlmError> {
    let gemini3 = is_gemini_3_or_newer(model);
    let mut system = Vec::new();
    let mut out: Vec<(String, Vec<Value>)> = Vec::new();
    for (i, m) in msgs.iter().enumerate() {
        let (role, parts) = match m.role.as_str() {
            "system" | "developer" if !system_instruction => ("user", user_parts(m, cx).await?),
            "system" | "developer" => {
                let t = m.text_content();
                if !t.is_empty() {
                    system.push(json!({"text": t}));
                }
                continue;
            }
            "user" => ("user", user_parts(m, cx).await?),
            "assistant" => ("model", model_parts(m, gemini3)?),
            "tool" | "function" => ("user", vec![function_response(m, &msgs[..i], gemini3)?]),
            other => return Err(bad(format!("unsupported message role '{other}'"))),
        };
        if parts.is_empty() {
            continue;
        }
        match out.last_mut() {
            Some((r, p)) if r == role => p.extend(parts),
            _ => out.push((role.to_string(), parts)),
        }
    }
    if out.is_empty() {
        // Gemini requires contents; LiteLLM sends "." after a system prompt, else an empty text.
        let text = if system.is_empty() { "" } else { "." };
        out.push(("user".into(), vec![json!({"text": text})]));
    }
    let contents = out
        .into_iter()
        .map(|(role, parts)| json!({"role": role, "parts": parts}))
        .collect();
    Ok((system, contents))
}

async fn user_parts(m: &ChatMessage, cx: &MediaCx<'_>) -> Result<Vec<Value>, LlmError> {
    let parts = match &m.content {
        None => return Ok(vec![]),
        Some(MessageContent::Text(t)) if t.is_empty() => return Ok(vec![]),
        Some(MessageContent::Text(t)) => return Ok(vec![json!({"text": t})]),
        Some(MessageContent::Parts(p)) => p,
    };
    let mut out = Vec::new();
    for p in parts {
        match p.kind.as_str() {
            "text" => {
                if let Some(t) = p.text.as_deref().filter(|t| !t.is_empty()) {
                    out.push(json!({"text": t}));
                }
            }
            "image_url" => {
                let (url, format) = match &p.image_url {
                    Some(llmgate_types::ImageUrl::Object { url, extra, .. }) => (
                        url.as_str(),
                        extra
                            .get("format")
                            .or_else(|| extra.get("mime_type"))
                            .and_then(Value::as_str),
                    ),
                    Some(u) => (u.url(), None),
                    None => ("", None),
                };
                out.push(media::part(url, format, cx).await?);
            }
            "file" | "input_audio" | "video_url" => {
                let (url, format) = media_source(p.kind.as_str(), &p.extra);
                out.push(media::part(&url, format.as_deref(), cx).await?);
            }
            other => return Err(bad(format!("unsupported content part type '{other}'"))),
        }
    }
    if !out.is_empty() && !out.iter().any(|p| p.get("text").is_some()) {
        // Vertex rejects a user turn without text.
        out.push(json!({"text": " "}));
    }
    Ok(out)
}

/// The URL and explicit MIME type of a `file`, `input_audio` or `video_url` part.
fn media_source(kind: &str, extra: &Map<String, Value>) -> (String, Option<String>) {
    match kind {
        "file" => {
            let f = &extra.get("file").cloned().unwrap_or(Value::Null);
            let url = f["file_data"]
                .as_str()
                .or(f["file_id"].as_str())
                .or(f["url"].as_str())
                .unwrap_or("");
            (
                url.to_string(),
                f["format"]
                    .as_str()
                    .or(f["mime_type"].as_str())
                    .map(str::to_string),
            )
        }
        "input_audio" => {
            let a = extra.get("input_audio").cloned().unwrap_or(Value::Null);
            let format = a["format"].as_str().unwrap_or("wav");
            (
                format!(
                    "data:audio/{format};base64,{}",
                    a["data"].as_str().unwrap_or("")
                ),
                None,
            )
        }
        _ => {
            let v = extra.get("video_url").cloned().unwrap_or(Value::Null);
            (
                v["url"].as_str().or(v.as_str()).unwrap_or("").to_string(),
                v["format"].as_str().map(str::to_string),
            )
        }
    }
}

/// A tool call's thought signature, where LiteLLM looks for it: the call's
/// `provider_specific_fields.thought_signature`, else the id's suffix after [`THOUGHT_SEP`].
fn call_signature(call: &llmgate_types::ToolCall) -> Option<&str> {
    call.extra
        .get("provider_specific_fields")
        .and_then(|p| p["thought_signature"].as_str())
        .filter(|s| !s.is_empty())
        .or_else(|| {
            call.id
                .as_deref()
                .and_then(|id| id.split_once(THOUGHT_SEP))
                .map(|(_, sig)| sig)
        })
}

/// The call id without a signature suffix (what Gemini 3 matches a response to its call by).
fn clean_id(id: &str) -> &str {
    id.split_once(THOUGHT_SEP).map_or(id, |(id, _)| id)
}

/// An assistant turn as Gemini's `model` parts. Thought signatures go back where Gemini put them:
/// a call's on its `functionCall` part, a text's (`provider_specific_fields.thought_signatures`)
/// on the text part unless a call already carries it (Gemini bills every replayed copy).
fn model_parts(m: &ChatMessage, gemini3: bool) -> Result<Vec<Value>, LlmError> {
    let mut out = Vec::new();
    if let Some(r) = m.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
        out.push(json!({"text": r, "thought": true}));
    }
    let calls = m.tool_calls.as_deref().unwrap_or_default();
    match &m.content {
        Some(MessageContent::Text(text)) if !text.is_empty() => {
            let mut part = json!({"text": text});
            let text_sig = m
                .extra
                .get("provider_specific_fields")
                .and_then(|p| p["thought_signatures"][0].as_str())
                .filter(|s| calls.iter().all(|c| call_signature(c) != Some(*s)));
            if let Some(sig) = text_sig {
                part["thoughtSignature"] = json!(sig);
            }
            out.push(part);
        }
        // As LiteLLM: one text part per text element of a list.
        Some(MessageContent::Parts(parts)) => out.extend(
            parts
                .iter()
                .filter(|p| p.kind == "text")
                .map(|p| json!({"text": p.text.as_deref().unwrap_or("")})),
        ),
        _ => {}
    }
    for (i, call) in calls.iter().enumerate() {
        let args: Value = if call.function.arguments.trim().is_empty() {
            json!({})
        } else {
            serde_json::from_str(&call.function.arguments)
                .map_err(|e| bad(format!("tool call arguments are not JSON: {e}")))?
        };
        let mut fc = json!({"name": call.function.name, "args": args});
        if let Some(id) = call.id.as_deref().map(clean_id).filter(|_| gemini3) {
            if !id.is_empty() {
                fc["id"] = json!(id);
            }
        }
        let mut part = json!({"functionCall": fc});
        // Gemini signs only the first call of a parallel batch; Gemini 3 refuses that call
        // unsigned, so history from another model gets Google's documented placeholder.
        let sig = call_signature(call).or((gemini3 && i == 0).then_some(DUMMY_SIGNATURE));
        if let Some(sig) = sig {
            part["thoughtSignature"] = json!(sig);
        }
        out.push(part);
    }
    Ok(out)
}

/// A tool result, named after the call it answers (Gemini matches by name).
fn function_response(
    m: &ChatMessage,
    before: &[ChatMessage],
    gemini3: bool,
) -> Result<Value, LlmError> {
    let id = m.tool_call_id.as_deref().unwrap_or("");
    let name = before
        .iter()
        .rev()
        .flat_map(|p| p.tool_calls.iter().flatten())
        .find(|c| c.id.as_deref() == Some(id))
        .map(|c| c.function.name.clone())
        .or_else(|| m.name.clone())
        .ok_or_else(|| {
            bad(format!(
                "Missing corresponding tool call for tool response message (tool_call_id={id})"
            ))
        })?;
    let text = m.text_content();
    let response = match serde_json::from_str::<Value>(&text) {
        Ok(Value::Object(o)) => Value::Object(o),
        _ => json!({"content": text}),
    };
    let mut fr = json!({"name": name, "response": response});
    if gemini3 && !clean_id(id).is_empty() {
        fr["id"] = json!(clean_id(id));
    }
    Ok(json!({"functionResponse": fr}))
}
