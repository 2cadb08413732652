//! Golden snapshots (insta): representative OpenAI requests as each provider receives them, and
//! recorded provider answers and streams as the OpenAI client receives them. A change in any
//! translation shows up as a reviewed diff (`cargo insta review`).

use llmgate::providers::gemini::media::MediaCx;
use llmgate::providers::{anthropic, gemini, vertex};
use llmgate::stream::sse::SseDecoder;
use llmgate::{CallOptions, ChatCompletionChunk, ChatCompletionRequest};
use serde_json::{json, Value};

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn request(name: &str) -> ChatCompletionRequest {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// Tool-call ids Gemini does not send are generated; pin them for the snapshot.
fn pin_ids(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    if k == "id" {
                        if let Some(s) = x.as_str() {
                            if s.starts_with("call_") || s.starts_with("chatcmpl-") {
                                let keep = s
                                    .split_once("__thought__")
                                    .map(|(_, sig)| format!("__thought__{sig}"))
                                    .unwrap_or_default();
                                *x = Value::String(format!(
                                    "{}[id]{keep}",
                                    &s[..s.find(['_', '-']).unwrap() + 1]
                                ));
                            }
                        }
                    } else {
                        walk(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

#[test]
fn anthropic_requests() {
    let opts = CallOptions::default();
    for name in ["basic", "full"] {
        let body = anthropic::request::build(
            &request(&format!("{name}.json")),
            "claude-sonnet-4-5",
            &opts,
        )
        .unwrap();
        insta::assert_json_snapshot!(format!("anthropic_request_{name}"), body);
    }
}

#[test]
fn vertex_claude_requests() {
    let opts = CallOptions::default();
    for name in ["basic", "full"] {
        let mut req = request(&format!("{name}.json"));
        req.model = "claude-sonnet-4-5".into();
        insta::assert_json_snapshot!(
            format!("vertex_claude_request_{name}"),
            vertex::claude_body(&req, &opts).unwrap()
        );
    }
}

#[tokio::test]
async fn gemini_requests() {
    let http = reqwest::Client::new();
    let opts = CallOptions::default();
    let cx = MediaCx {
        http: &http,
        opts: &opts,
        gcs_token: None,
    };
    for name in ["basic", "full"] {
        // A catalog model: its entry decides system instructions and thinking.
        let mut req = request(&format!("{name}.json"));
        req.model = "gemini-2.5-flash".into();
        let body = gemini::request::build(&req, &cx, "gemini").await.unwrap();
        insta::assert_json_snapshot!(format!("gemini_request_{name}"), body);
    }
}

#[test]
fn anthropic_answer() {
    let v: Value = serde_json::from_str(&fixture("anthropic_answer.json")).unwrap();
    insta::assert_json_snapshot!(anthropic::response::translate(&v, 0));
}

#[test]
fn gemini_answer() {
    let v: Value = serde_json::from_str(&fixture("gemini_answer.json")).unwrap();
    let answer =
        serde_json::to_value(gemini::response::translate(&v, "gemini-2.5-flash", 0)).unwrap();
    insta::assert_json_snapshot!(pin_ids(answer));
}

fn events(name: &str) -> Vec<(Option<String>, Value)> {
    let mut dec = SseDecoder::new();
    let mut out: Vec<_> = dec.feed(fixture(name).as_bytes());
    out.extend(dec.finish());
    out.into_iter()
        .filter(|e| !e.data.trim().is_empty())
        .map(|e| (e.event, serde_json::from_str(&e.data).unwrap()))
        .collect()
}

#[test]
fn anthropic_stream() {
    let mut state = anthropic::stream::StreamState::new(0, true);
    let chunks: Vec<ChatCompletionChunk> = events("anthropic_stream.txt")
        .iter()
        .flat_map(|(ev, data)| state.on_event(ev.as_deref().unwrap_or(""), data).unwrap())
        .collect();
    insta::assert_json_snapshot!(chunks);
}

#[test]
fn gemini_stream() {
    let mut state = gemini::stream::StreamState::new("gemini", "gemini-2.5-flash", 0, true);
    let mut chunks: Vec<ChatCompletionChunk> = events("gemini_stream.txt")
        .iter()
        .flat_map(|(_, v)| state.on_event(v).unwrap())
        .collect();
    chunks.extend(state.finish());
    insta::assert_json_snapshot!(pin_ids(serde_json::to_value(chunks).unwrap()));
}

/// `<fixture>.<provider>` snapshots in `snapshots/chat/` (STYLE item 7): one file per inbound
/// fixture and provider, so a provider's change shows in its own files only.
fn chat_snapshot(name: &str, value: impl serde::Serialize) {
    insta::with_settings!({snapshot_path => "snapshots/chat", prepend_module_to_snapshot => false}, {
        insta::assert_json_snapshot!(name.to_string(), value);
    });
}

/// Claude's request per fixture, on Anthropic and on Vertex: `reasoning-effort` (effort →
/// thinking budget and LiteLLM's default max_tokens), `structured-output` (a schema in
/// non-alphabetical order → the forced JSON tool, no description invented),
/// `tool-choice-required`.
#[test]
fn claude_requests_by_fixture() {
    let opts = CallOptions::default();
    for name in [
        "reasoning-effort",
        "structured-output",
        "tool-choice-required",
    ] {
        let req = request(&format!("chat/{name}.json"));
        let body = anthropic::request::build(&req, &req.model, &opts).unwrap();
        chat_snapshot(&format!("{name}.anthropic"), body);
        chat_snapshot(
            &format!("{name}.vertex-claude"),
            vertex::claude_body(&req, &opts).unwrap(),
        );
    }
}

/// Schemas as LiteLLM 1.110.2 reshapes them (checked against its body for this fixture): a
/// function tool becomes `type: custom` with only the `input_schema` keys Anthropic takes and
/// draft-04 `definitions` inlined, tool fields (`cache_control`, `defer_loading`) kept, a hosted
/// tool as sent; the structured-output schema with `$defs` inlined, the constraints structured
/// outputs refuse moved into the description, `oneOf` as `anyOf`, every object closed.
#[test]
fn claude_schemas() {
    let req = request("chat/claude-schemas.json");
    let body = anthropic::request::build(&req, &req.model, &CallOptions::default()).unwrap();
    chat_snapshot("claude-schemas.anthropic", body);
}

/// Messages and request fields as LiteLLM 1.110.2 sends them (checked against its body): only
/// the leading system run is `system`; later system messages become user turns behind an
/// operator note, after the tool results they precede; an email as `user` is left out;
/// `web_search_options` is the hosted web search tool; `service_tier: default` is
/// `standard_only`.
#[test]
fn claude_messages() {
    let req = request("chat/claude-messages.json");
    let body = anthropic::request::build(&req, &req.model, &CallOptions::default()).unwrap();
    chat_snapshot("claude-messages.anthropic", body);
}

/// Later system messages on Claude 4.8, which takes them inside the conversation, placed as
/// LiteLLM 1.110.2 places them (checked against its body): after the user turn they follow or
/// the one after the assistant turn they follow, merged per turn; at the end, or where no
/// placement is valid, a user turn behind the operator note.
#[test]
fn claude_mid_conversation_system() {
    let req = request("chat/claude-mid-system.json");
    let body = anthropic::request::build(&req, &req.model, &CallOptions::default()).unwrap();
    chat_snapshot("mid-system.anthropic", body);
}

/// Blank text, which Anthropic refuses, as LiteLLM 1.110.2 sends it (checked against its
/// body): a placeholder where the turn would be empty, left out of an assistant turn with
/// tool calls.
#[test]
fn claude_blank_text() {
    let req = request("chat/claude-blank-text.json");
    let body = anthropic::request::build(&req, &req.model, &CallOptions::default()).unwrap();
    chat_snapshot("blank-text.anthropic", body);
}

/// `file_id` parts as LiteLLM 1.110.2 reads them (checked against its body): by `format` a
/// Files-API document or image, a URL as a document, any other id a `container_upload` with
/// the code execution tool added to the request's tools; `tool_choice: {"type": "required"}`
/// and an explicit `parallel_tool_calls: true`.
#[test]
fn claude_files() {
    let req = request("chat/claude-files.json");
    let body = anthropic::request::build(&req, &req.model, &CallOptions::default()).unwrap();
    assert_eq!(
        anthropic::request::betas(&req),
        ["files-api-2025-04-14", "code-execution-2025-05-22"]
    );
    chat_snapshot("claude-files.anthropic", body);
}

/// `reasoning_effort` and `thinking` per Claude generation, as LiteLLM 1.110.2 sends them:
/// budgets before 4.6 (adaptive asked of them becomes a medium budget under max_tokens),
/// adaptive thinking with `output_config.effort` from 4.6 on, a budget turned into an effort
/// on 4.7, `none` on a model that thinks by default.
#[test]
fn claude_thinking_per_generation() {
    let cases = [
        ("claude-haiku-4-5", json!({"reasoning_effort": "high"})),
        (
            "claude-haiku-4-5",
            json!({"thinking": {"type": "adaptive"}}),
        ),
        (
            "claude-haiku-4-5",
            json!({"thinking": {"type": "adaptive"}, "max_tokens": 1500}),
        ),
        ("claude-opus-4-6", json!({"reasoning_effort": "minimal"})),
        (
            "claude-opus-4-6",
            json!({"thinking": {"type": "enabled", "budget_tokens": 3000}}),
        ),
        (
            "claude-opus-4-7",
            json!({"thinking": {"type": "enabled", "budget_tokens": 3000, "display": "omitted"}}),
        ),
        ("claude-opus-5", json!({"reasoning_effort": "none"})),
        ("claude-fable-5", json!({"reasoning_effort": "none"})),
    ];
    let out: Vec<Value> = cases
        .into_iter()
        .map(|(model, params)| {
            let mut req = json!({"model": model, "messages": [{"role": "user", "content": "Hi"}]});
            req.as_object_mut()
                .unwrap()
                .extend(params.as_object().unwrap().clone());
            let req: ChatCompletionRequest = serde_json::from_value(req).unwrap();
            let body = anthropic::request::build(&req, model, &CallOptions::default()).unwrap();
            json!({"model": model, "asked": params, "thinking": body.get("thinking"),
                   "output_config": body.get("output_config"), "max_tokens": body["max_tokens"]})
        })
        .collect();
    chat_snapshot("thinking-per-generation.anthropic", out);
}

/// A refusal as LiteLLM 1.110.2 answers it (checked against its `transform_response`): the
/// explanation as the message's `refusal`, the raw stop reason and details and the input
/// transformations in `provider_specific_fields`, `content_filter`.
#[test]
fn claude_refusal_answer() {
    let v: Value = serde_json::from_str(&fixture("anthropic_refusal_answer.json")).unwrap();
    chat_snapshot(
        "refusal-answer.anthropic",
        anthropic::response::translate(&v, 0),
    );
}

/// A web search answer as LiteLLM 1.110.2 gives it (checked against its `transform_response`):
/// the server tool use is not a client tool call but a `server_tool_calls` entry and a
/// `web_search_call`, its results under `web_search_results`, the search count in usage.
#[test]
fn claude_web_search_answer() {
    let v: Value = serde_json::from_str(&fixture("anthropic_web_search_answer.json")).unwrap();
    chat_snapshot(
        "web-search-answer.anthropic",
        anthropic::response::translate(&v, 0),
    );
}

/// Citations, redacted thinking, a container and Anthropic's own thinking-token count:
/// `provider_specific_fields` and `reasoning_tokens` as LiteLLM reports them.
#[test]
fn claude_answer_with_citations() {
    let v: Value = serde_json::from_str(&fixture("anthropic_citations_answer.json")).unwrap();
    chat_snapshot(
        "citations-answer.anthropic",
        anthropic::response::translate(&v, 0),
    );
}

/// The error table per provider: upstream status and body → LiteLLM 1.110.2's class, the status
/// the gateway answers, the proxy's `type`, `code`, `param` and the message (as LiteLLM printed
/// each against the same bodies).
#[test]
fn error_mapping_tables() {
    let anthropic_kind = |s: u16| match s {
        400 | 413 => "invalid_request_error",
        401 => "authentication_error",
        403 => "permission_error",
        404 => "not_found_error",
        429 => "rate_limit_error",
        529 => "overloaded_error",
        _ => "api_error",
    };
    let statuses = [
        400, 401, 403, 404, 408, 409, 413, 418, 422, 429, 500, 502, 503, 504, 529,
    ];
    let row = |e: llmgate::LlmError| {
        serde_json::json!({
            "class": e.kind.class_name(), "status": e.status, "type": e.proxy_type(),
            "code": e.proxy_code(), "param": e.proxy_param(), "message": e.to_string(),
        })
    };
    let mut table = serde_json::Map::new();
    for s in statuses {
        let body = format!(
            r#"{{"type":"error","error":{{"type":"{}","message":"mock error {s}"}}}}"#,
            anthropic_kind(s)
        );
        let e = llmgate::LlmError::from_upstream(s, vec![], body.as_bytes(), "anthropic");
        table.insert(s.to_string(), row(e));
    }
    for (name, body) in [
        (
            "context-window",
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"prompt is too long: 200001 tokens > 200000 maximum"}}"#,
        ),
        (
            "overloaded-500",
            r#"{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}"#,
        ),
    ] {
        let status = if name == "context-window" { 400 } else { 500 };
        let e = llmgate::LlmError::from_upstream(status, vec![], body.as_bytes(), "anthropic");
        table.insert(name.into(), row(e));
    }
    chat_snapshot("errors.anthropic", table);

    let body = br#"{"error":{"message":"Invalid value for temperature","type":"invalid_request_error","param":"temperature","code":"invalid_value"}}"#;
    let table: serde_json::Map<String, Value> = statuses
        .iter()
        .map(|&s| {
            let e = llmgate::LlmError::from_upstream(s, vec![], body, "openai");
            (s.to_string(), row(e))
        })
        .collect();
    chat_snapshot("errors.openai", table);
}

/// Request fixtures as Gemini (AI Studio) and Vertex receive them: `<fixture>.<provider>.snap`.
/// Vertex names the model by its resource path, which the model rules must still see through.
#[tokio::test]
async fn gemini_and_vertex_fixtures() {
    let http = reqwest::Client::new();
    let opts = CallOptions::default();
    let cx = MediaCx {
        http: &http,
        opts: &opts,
        gcs_token: None,
    };
    // (fixture, model override): Gemini 1.5 takes the OpenAPI `responseSchema` instead.
    let cases = [
        ("structured-output", None),
        ("structured-output-legacy", Some("gemini-1.5-pro")),
        ("multi-turn-tools", None),
        ("reasoning-gemini-2", Some("gemini-2.5-flash")),
    ];
    for (name, model) in cases {
        let file = name
            .trim_end_matches("-legacy")
            .trim_start_matches("reasoning-gemini-2");
        let file = if file.is_empty() {
            "multi-turn-tools"
        } else {
            file
        };
        for provider in ["gemini", "vertex"] {
            let mut req = request(&format!("{file}.json"));
            if let Some(m) = model {
                req.model = m.into();
            }
            if provider == "vertex" {
                req.model = format!("publishers/google/models/{}", req.model);
            }
            let catalog = if provider == "vertex" {
                "vertex_ai"
            } else {
                "gemini"
            };
            let body = gemini::request::build(&req, &cx, catalog).await.unwrap();
            insta::assert_json_snapshot!(format!("{name}.{provider}"), body);
        }
    }
}

#[test]
fn gemini_grounded_answer() {
    let v: Value = serde_json::from_str(&fixture("gemini_grounded_answer.json")).unwrap();
    let answer =
        serde_json::to_value(gemini::response::translate(&v, "gemini-2.5-flash", 0)).unwrap();
    insta::assert_json_snapshot!("grounded-answer.gemini", pin_ids(answer));
}

#[test]
fn gemini_tool_stream() {
    let mut state = gemini::stream::StreamState::new("gemini", "gemini-3-pro-preview", 0, true);
    let mut chunks: Vec<ChatCompletionChunk> = events("gemini_tool_stream.txt")
        .iter()
        .flat_map(|(_, v)| state.on_event(v).unwrap())
        .collect();
    chunks.extend(state.finish());
    insta::assert_json_snapshot!(
        "tool-stream.gemini",
        pin_ids(serde_json::to_value(chunks).unwrap())
    );
}

/// Google's error answers, one per LiteLLM class, as the client sees them (class, status,
/// type, message); Gemini and Vertex share the mapping.
#[test]
fn gemini_errors() {
    let google = |code: u16, status: &str, msg: &str| {
        serde_json::json!({"error": {"code": code, "message": msg, "status": status}}).to_string()
    };
    let cases = [
        (400, google(400, "INVALID_ARGUMENT", "API key not valid. Please pass a valid API key.")),
        (401, google(401, "UNAUTHENTICATED", "Request had invalid authentication credentials.")),
        (403, google(403, "PERMISSION_DENIED", "Permission denied on resource project p.")),
        (400, google(400, "INVALID_ARGUMENT", "* GenerateContentRequest.contents: contents is not specified")),
        (400, google(400, "INVALID_ARGUMENT", "The input token count (1048577) exceeds the maximum number of tokens allowed (1048576).")),
        (404, google(404, "NOT_FOUND", "models/gemini-9 is not found for API version v1beta.")),
        (429, google(429, "RESOURCE_EXHAUSTED", "Resource has been exhausted (e.g. check quota).")),
        (500, google(500, "INTERNAL", "An internal error has occurred.")),
        (503, google(503, "UNAVAILABLE", "The model is overloaded. Please try again later.")),
        (503, google(503, "UNAVAILABLE", "The service is currently unavailable.")),
    ];
    let out: Vec<Value> = cases
        .iter()
        .map(|(status, body)| {
            let e = gemini::errors::litellm_class(llmgate::LlmError::from_upstream(
                *status,
                vec![],
                body.as_bytes(),
                "gemini",
            ));
            serde_json::json!({"upstream": status, "class": e.kind.class_name(), "status": e.status,
                "type": e.kind.openai_type(), "message": e.to_string()})
        })
        .collect();
    insta::assert_json_snapshot!("errors.gemini", out);
}
