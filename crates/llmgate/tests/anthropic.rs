//! The Anthropic adapter against the Anthropic mock upstream, which validates requests the way
//! the real Messages API does.

use futures::StreamExt;
use llmgate::catalog::{self, CostInput};
use llmgate::{CallOptions, ChatCompletionRequest, ChatCompletionResponse, ErrorKind, LlmError};
use llmgate_mock::MockServer;
use serde_json::{json, Value};

fn opts(mock: &MockServer) -> CallOptions {
    CallOptions {
        api_base: Some(mock.base_url()),
        api_key: Some("sk-ant-test".into()),
        ..Default::default()
    }
}

fn req(v: Value) -> ChatCompletionRequest {
    serde_json::from_value(v).unwrap()
}

async fn chat(mock: &MockServer, v: Value) -> Result<ChatCompletionResponse, LlmError> {
    llmgate::completion(req(v), &opts(mock)).await
}

const WEATHER: &str = r#"[{"type": "function", "function": {"name": "get_weather", "description": "Weather",
    "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}]"#;

fn weather() -> Value {
    serde_json::from_str(WEATHER).unwrap()
}

#[tokio::test]
async fn basic_request_and_answer() {
    let mock = MockServer::start().await;
    let answer = chat(
        &mock,
        json!({"model": "anthropic/claude-haiku-4-5", "messages": [
            {"role": "system", "content": "Be brief."},
            {"role": "user", "content": "Hello"},
            {"role": "user", "content": [{"type": "text", "text": "again"}]}
        ], "stop": "END", "temperature": 0.5, "user": "u-1"}),
    )
    .await
    .unwrap();
    assert_eq!(
        answer.choices[0].message.content.as_ref().unwrap().text(),
        "Hello from mock"
    );
    assert_eq!(answer.choices[0].finish_reason.as_deref(), Some("stop"));
    let u = answer.usage.unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (10, 5, 15)
    );

    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(sent.header("x-api-key"), Some("sk-ant-test"));
    assert_eq!(sent.header("anthropic-version"), Some("2023-06-01"));
    let b = &sent.body;
    assert_eq!(b["model"], "claude-haiku-4-5");
    assert_eq!(b["system"], json!([{"type": "text", "text": "Be brief."}]));
    // Two user turns in a row are merged into one.
    assert_eq!(b["messages"].as_array().unwrap().len(), 1);
    assert_eq!(b["messages"][0]["content"].as_array().unwrap().len(), 2);
    // max_tokens defaults to the catalog's output limit for the model.
    assert_eq!(b["max_tokens"], 64000);
    assert_eq!(b["stop_sequences"], json!(["END"]));
    assert_eq!(b["metadata"]["user_id"], "u-1");
}

#[tokio::test]
async fn tools_and_a_follow_up_turn() {
    let mock = MockServer::start().await;
    let mut body = json!({"model": "anthropic/claude-tool", "max_tokens": 100, "tools": weather(),
        "tool_choice": "required", "parallel_tool_calls": false,
        "messages": [{"role": "user", "content": "Weather in Paris?"}]});
    let answer = chat(&mock, body.clone()).await.unwrap();
    let msg = &answer.choices[0].message;
    assert_eq!(
        answer.choices[0].finish_reason.as_deref(),
        Some("tool_calls")
    );
    let call = &msg.tool_calls.as_ref().unwrap()[0];
    assert_eq!(call.function.name, "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(&call.function.arguments).unwrap(),
        json!({"location": "Paris"})
    );
    let sent = mock.last_request().unwrap().body;
    assert_eq!(sent["tools"][0]["name"], "get_weather");
    assert_eq!(sent["tools"][0]["input_schema"]["type"], "object");
    assert_eq!(
        sent["tool_choice"],
        json!({"type": "any", "disable_parallel_tool_use": true})
    );

    body["messages"].as_array_mut().unwrap().extend([
        serde_json::to_value(msg).unwrap(),
        json!({"role": "tool", "tool_call_id": call.id, "content": "sunny"}),
    ]);
    body["tool_choice"] = json!("auto");
    let answer = chat(&mock, body).await.unwrap();
    assert_eq!(
        answer.choices[0].message.content.as_ref().unwrap().text(),
        "Hello from mock"
    );
    let sent = mock.last_request().unwrap().body;
    assert_eq!(sent["messages"][1]["content"][0]["type"], "tool_use");
    assert_eq!(
        sent["messages"][2]["content"][0],
        json!({"type": "tool_result", "tool_use_id": "toolu_mock_1", "content": "sunny"})
    );
}

#[tokio::test]
async fn named_tool_choice_and_none() {
    let mock = MockServer::start().await;
    let body = json!({"model": "anthropic/claude-x", "max_tokens": 10, "tools": weather(),
        "tool_choice": {"type": "function", "function": {"name": "get_weather"}},
        "messages": [{"role": "user", "content": "hi"}]});
    chat(&mock, body).await.unwrap();
    assert_eq!(
        mock.last_request().unwrap().body["tool_choice"],
        json!({"type": "tool", "name": "get_weather"})
    );
    let body = json!({"model": "anthropic/claude-x", "max_tokens": 10, "tools": weather(), "tool_choice": "none",
        "messages": [{"role": "user", "content": "hi"}]});
    chat(&mock, body).await.unwrap();
    assert_eq!(
        mock.last_request().unwrap().body["tool_choice"],
        json!({"type": "none"})
    );
}

#[tokio::test]
async fn images_and_documents() {
    let mock = MockServer::start().await;
    chat(&mock, json!({"model": "anthropic/claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"},
        {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
        {"type": "image_url", "image_url": "https://example.com/cat.jpg"},
        {"type": "file", "file": {"file_data": "data:application/pdf;base64,JVBERi0x"}}
    ]}]}))
    .await
    .unwrap();
    let c = mock.last_request().unwrap().body["messages"][0]["content"].clone();
    assert_eq!(
        c[1],
        json!({"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}})
    );
    assert_eq!(
        c[2],
        json!({"type": "image", "source": {"type": "url", "url": "https://example.com/cat.jpg"}})
    );
    assert_eq!(c[3]["type"], "document");
    assert_eq!(c[3]["source"]["media_type"], "application/pdf");

    let e = chat(&mock, json!({"model": "anthropic/claude-x", "max_tokens": 10, "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": ""}}]}]}))
    .await
    .unwrap_err();
    assert_eq!(e.status, 400);
}

#[tokio::test]
async fn json_schema_response_format() {
    let mock = MockServer::start().await;
    let answer = chat(
        &mock,
        json!({"model": "anthropic/claude-x", "max_tokens": 10,
        "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema":
            {"type": "object", "properties": {"location": {"type": "string"}}}}},
        "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .unwrap();
    let text = answer.choices[0].message.content.as_ref().unwrap().text();
    assert_eq!(
        serde_json::from_str::<Value>(&text).unwrap(),
        json!({"location": "Paris"})
    );
    assert_eq!(answer.choices[0].finish_reason.as_deref(), Some("stop"));
    assert!(answer.choices[0].message.tool_calls.is_none());
    let sent = mock.last_request().unwrap().body;
    assert_eq!(
        sent["tool_choice"],
        json!({"type": "tool", "name": "json_tool_call"})
    );
}

#[tokio::test]
async fn reasoning_effort_becomes_thinking_and_comes_back() {
    let mock = MockServer::start().await;
    let mut body = json!({"model": "anthropic/claude-x", "max_tokens": 5000, "reasoning_effort": "low",
        "messages": [{"role": "user", "content": "hi"}]});
    let answer = chat(&mock, body.clone()).await.unwrap();
    let msg = &answer.choices[0].message;
    assert_eq!(msg.reasoning_content.as_deref(), Some("Let me think."));
    assert_eq!(msg.extra["thinking_blocks"][0]["signature"], "sig-mock");
    assert_eq!(
        mock.last_request().unwrap().body["thinking"],
        json!({"type": "enabled", "budget_tokens": 1024})
    );
    // The next turn sends the thinking block back, signature included.
    body["messages"].as_array_mut().unwrap().extend([
        serde_json::to_value(msg).unwrap(),
        json!({"role": "user", "content": "and?"}),
    ]);
    chat(&mock, body).await.unwrap();
    let sent = mock.last_request().unwrap().body;
    assert_eq!(sent["messages"][1]["content"][0]["type"], "thinking");
    assert_eq!(sent["messages"][1]["content"][0]["signature"], "sig-mock");
}

#[tokio::test]
async fn prompt_caching_passes_through_and_is_priced_once() {
    let mock = MockServer::start().await;
    let answer = chat(&mock, json!({"model": "anthropic/claude-cache", "max_tokens": 10,
        "tools": [{"type": "function", "function": {"name": "t", "parameters": {"type": "object"}}, "cache_control": {"type": "ephemeral"}}],
        "messages": [
            {"role": "system", "content": [{"type": "text", "text": "long system", "cache_control": {"type": "ephemeral"}}]},
            {"role": "user", "content": "hi", "cache_control": {"type": "ephemeral"}}
        ]}))
    .await
    .unwrap();
    let sent = mock.last_request().unwrap().body;
    assert_eq!(sent["system"][0]["cache_control"]["type"], "ephemeral");
    assert_eq!(
        sent["messages"][0]["content"][0]["cache_control"]["type"],
        "ephemeral"
    );
    assert_eq!(sent["tools"][0]["cache_control"]["type"], "ephemeral");

    let u = answer.usage.unwrap();
    // 10 plain + 50 cache reads + 20 cache writes.
    assert_eq!(u.prompt_tokens, 80);
    assert_eq!(u.cached_tokens(), 50);
    assert_eq!(u.extra["cache_creation_input_tokens"], 20);
    let info = catalog::global()
        .get("anthropic/claude-haiku-4-5")
        .cloned()
        .unwrap();
    let cost = catalog::cost(
        &info,
        &CostInput {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cached_tokens: u.cached_tokens(),
            cache_creation_tokens: 20,
            reasoning_tokens: 0,
            search_units: None,
        },
    )
    .unwrap();
    let want = 10.0 * 1e-6 + 50.0 * 1e-7 + 20.0 * 1.25e-6 + 5.0 * 5e-6;
    assert!((cost - want).abs() < 1e-15, "{cost} vs {want}");
}

#[tokio::test]
async fn streams_text_tools_thinking_and_usage() {
    let mock = MockServer::start().await;
    let collect = |v: Value| {
        let o = opts(&mock);
        async move {
            let mut r = req(v);
            r.stream = Some(true);
            let s = llmgate::Client::shared()
                .chat_stream(r, &o)
                .await
                .unwrap()
                .body;
            s.collect::<Vec<_>>()
                .await
                .into_iter()
                .map(Result::unwrap)
                .collect::<Vec<_>>()
        }
    };
    let chunks = collect(json!({"model": "anthropic/claude-x", "max_tokens": 10,
        "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "hi"}]})).await;
    let text: String = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.content.clone())
        .collect();
    assert_eq!(text, "Hello from mock");
    assert_eq!(
        chunks
            .iter()
            .filter_map(|c| c.choices.first()?.finish_reason.clone())
            .collect::<Vec<_>>(),
        ["stop"]
    );
    assert_eq!(
        chunks.last().unwrap().usage.as_ref().unwrap().total_tokens,
        15
    );
    assert_eq!(mock.last_request().unwrap().body["stream"], true);

    let chunks = collect(
        json!({"model": "anthropic/claude-tool", "max_tokens": 10, "tools": weather(),
        "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    let calls: Vec<_> = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.tool_calls.clone())
        .flatten()
        .collect();
    assert!(calls.iter().all(|c| c.index == 0));
    assert_eq!(calls[0].id.as_deref(), Some("toolu_mock_1"));
    let args: String = calls
        .iter()
        .filter_map(|c| c.function.as_ref()?.arguments.clone())
        .collect();
    assert_eq!(
        serde_json::from_str::<Value>(&args).unwrap(),
        json!({"location": "Paris"})
    );
    assert!(
        chunks.iter().all(|c| c.usage.is_none()),
        "no usage chunk unless asked"
    );
    assert_eq!(
        chunks
            .iter()
            .rev()
            .find_map(|c| c.choices.first()?.finish_reason.clone())
            .unwrap(),
        "tool_calls"
    );

    let chunks = collect(
        json!({"model": "anthropic/claude-x", "max_tokens": 5000, "reasoning_effort": "medium",
        "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    let reasoning: String = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.reasoning_content.clone())
        .collect();
    assert_eq!(reasoning, "Let me think.");
}

#[tokio::test]
async fn errors_are_mapped_inside_and_outside_streams() {
    let mock = MockServer::start().await;
    let hi = |model: &str| json!({"model": model, "max_tokens": 10, "messages": [{"role": "user", "content": "hi"}]});
    let e = chat(&mock, hi("anthropic/mock-error-429"))
        .await
        .unwrap_err();
    assert_eq!(
        (e.kind, e.status, e.retry_after.as_deref()),
        (ErrorKind::RateLimit, 429, Some("7"))
    );
    // LiteLLM's Anthropic messages embed the upstream's raw error body.
    assert_eq!(
        e.to_string(),
        r#"litellm.RateLimitError: AnthropicException - {"type":"error","error":{"type":"rate_limit_error","message":"mock error 429"}}"#
    );
    let e = chat(&mock, hi("anthropic/mock-error-529"))
        .await
        .unwrap_err();
    // An overload is LiteLLM's InternalServerError; its proxy answers 503 `server_is_overloaded`.
    assert_eq!((e.kind, e.status), (ErrorKind::InternalServer, 503));
    assert_eq!(
        (e.proxy_type(), e.proxy_code().as_str()),
        ("service_unavailable_error", "server_is_overloaded")
    );
    assert!(e
        .to_string()
        .starts_with("litellm.InternalServerError: AnthropicError - {"));
    let e = chat(&mock, hi("anthropic/mock-context-window"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);
    let e = chat(&mock, hi("anthropic/mock-error-401"))
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Authentication);

    let mut r = req(hi("anthropic/mock-stream-error"));
    r.stream = Some(true);
    let items: Vec<_> = llmgate::Client::shared()
        .chat_stream(r, &opts(&mock))
        .await
        .unwrap()
        .body
        .collect()
        .await;
    let err = items.last().unwrap().as_ref().unwrap_err();
    assert_eq!(err.status, 503);
    assert!(items.iter().any(|i| i
        .as_ref()
        .is_ok_and(|c| c
            .choices
            .first()
            .is_some_and(|ch| ch.delta.content.as_deref() == Some("Hel")))));
}

#[tokio::test]
async fn unsupported_params_fail_unless_dropped() {
    let mock = MockServer::start().await;
    let body = json!({"model": "anthropic/claude-x", "max_tokens": 10, "seed": 1, "frequency_penalty": 0.5,
        "messages": [{"role": "user", "content": "hi"}]});
    let e = chat(&mock, body.clone()).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedParams);
    assert_eq!(
        e.to_string(),
        "litellm.UnsupportedParamsError: anthropic does not support parameters: ['frequency_penalty', 'seed'], for model=claude-x. To drop these, set `litellm.drop_params=True` or for proxy:\n\n`litellm_settings:\n drop_params: true`\n. \n If you want to use these params dynamically send allowed_openai_params=['frequency_penalty', 'seed'] in your request."
    );
    let o = CallOptions {
        drop_params: true,
        ..opts(&mock)
    };
    llmgate::completion(req(body), &o).await.unwrap();
    let sent = mock.last_request().unwrap().body;
    assert!(sent.get("seed").is_none() && sent.get("frequency_penalty").is_none());
}

#[tokio::test]
async fn reasoning_effort_sets_litellms_budget_max_tokens_and_reasoning_tokens() {
    let mock = MockServer::start().await;
    let body = json!({"model": "anthropic/claude-sonnet-4-5", "reasoning_effort": "low",
        "messages": [{"role": "user", "content": "hi"}]});
    let answer = chat(&mock, body.clone()).await.unwrap();
    assert_eq!(
        answer.choices[0].message.reasoning_content.as_deref(),
        Some("Let me think.")
    );
    let sent = mock.last_request().unwrap().body;
    // The budget plus LiteLLM's DEFAULT_MAX_TOKENS (4096), not the model's output limit.
    assert_eq!(
        sent["thinking"],
        json!({"type": "enabled", "budget_tokens": 1024})
    );
    assert_eq!(sent["max_tokens"], 5120);
    let u = answer.usage.unwrap();
    // "Let me think." is 4 cl100k tokens, as LiteLLM's estimate; the rest is text.
    let d = u.completion_tokens_details.unwrap();
    assert_eq!(
        (d.reasoning_tokens, &d.extra["text_tokens"]),
        (Some(4), &json!(1))
    );
    let m = &answer.choices[0].message;
    assert_eq!(
        m.extra["provider_specific_fields"],
        json!({"citations": null, "thinking_blocks": [
            {"type": "thinking", "thinking": "Let me think.", "signature": "sig-mock"}]})
    );

    let mut b = body.clone();
    b["stream"] = json!(true);
    b["stream_options"] = json!({"include_usage": true});
    let r = req(b);
    let items: Vec<_> = llmgate::Client::shared()
        .chat_stream(r, &opts(&mock))
        .await
        .unwrap()
        .body
        .collect()
        .await;
    let usage = items
        .iter()
        .filter_map(|c| c.as_ref().ok()?.usage.clone())
        .next_back()
        .unwrap();
    assert_eq!(usage.reasoning_tokens(), 4);
    // An unknown effort is refused as LiteLLM refuses it.
    let e = chat(
        &mock,
        json!({"model": "anthropic/claude-sonnet-4-5", "reasoning_effort": "huge",
            "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .unwrap_err();
    assert!(
        e.to_string().contains("Unmapped reasoning effort: 'huge'"),
        "{e}"
    );
}

#[tokio::test]
async fn json_fallback_tool_has_no_invented_description() {
    let mock = MockServer::start().await;
    let schema = json!({"type": "object", "properties": {"zeta": {"type": "string"}, "alpha": {"type": "integer"}},
        "required": ["zeta", "alpha"]});
    let rf = json!({"type": "json_schema", "json_schema": {"name": "w", "schema": schema}});
    let answer = chat(
        &mock,
        json!({"model": "anthropic/claude-3-5-haiku-20241022", "max_tokens": 50, "response_format": rf,
            "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .unwrap();
    let sent = mock.last_request().unwrap().body;
    assert_eq!(
        sent["tools"],
        json!([{"name": "json_tool_call", "input_schema": schema}])
    );
    assert_eq!(
        sent["tool_choice"],
        json!({"name": "json_tool_call", "type": "tool"})
    );
    let m = &answer.choices[0].message;
    // The tool input as Python's json.dumps writes it, as LiteLLM returns it.
    assert_eq!(
        m.content.as_ref().unwrap().text(),
        r#"{"location": "Paris"}"#
    );
    // LiteLLM gives an answer through the JSON tool no provider fields.
    assert!(m.extra.get("provider_specific_fields").is_none());

    // Thinking: the tool cannot be forced, so LiteLLM describes it and sets no tool_choice.
    chat(
        &mock,
        json!({"model": "anthropic/claude-3-5-haiku-20241022", "reasoning_effort": "medium",
            "response_format": rf, "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .unwrap();
    let sent = mock.last_request().unwrap().body;
    assert!(sent.get("tool_choice").is_none());
    assert_eq!(sent["max_tokens"], 6144);
    assert!(sent["tools"][0]["description"]
        .as_str()
        .unwrap()
        .starts_with("When you are ready to answer"));
}

/// A tool name Anthropic refuses (`/`, `.`) is sent cleaned, without colliding with a valid
/// name, and the call comes back under the client's name, answered or streamed (LiteLLM's
/// renaming).
#[tokio::test]
async fn tool_names_anthropic_refuses_are_renamed_and_restored() {
    let mock = MockServer::start().await;
    let tools = json!([
        {"type": "function", "function": {"name": "weather/get.now", "parameters": {"type": "object", "properties": {}}}},
        {"type": "function", "function": {"name": "weather_get_now", "parameters": {"type": "object", "properties": {}}}}]);
    let history = json!([{"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "t0", "type": "function",
            "function": {"name": "weather/get.now", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "t0", "content": "sunny"},
        {"role": "user", "content": "And now?"}]);
    let answer = chat(
        &mock,
        json!({"model": "anthropic/claude-tool", "tools": tools, "messages": history,
               "tool_choice": {"type": "function", "function": {"name": "weather/get.now"}}}),
    )
    .await
    .unwrap();
    let sent = mock.last_request().unwrap().body;
    assert_eq!(sent["tools"][0]["name"], "weather_get_now_2");
    assert_eq!(sent["tools"][1]["name"], "weather_get_now");
    assert_eq!(sent["tool_choice"]["name"], "weather_get_now_2");
    assert_eq!(
        sent["messages"][1]["content"][0]["name"],
        "weather_get_now_2"
    );
    let calls = answer.choices[0].message.tool_calls.clone().unwrap();
    assert_eq!(calls[0].function.name, "weather/get.now");

    let mut r = req(
        json!({"model": "anthropic/claude-tool", "tools": tools, "stream": true,
        "messages": [{"role": "user", "content": "Weather?"}]}),
    );
    r.stream = Some(true);
    let chunks: Vec<_> = llmgate::Client::shared()
        .chat_stream(r, &opts(&mock))
        .await
        .unwrap()
        .body
        .collect()
        .await;
    let names: Vec<String> = chunks
        .into_iter()
        .filter_map(|c| c.unwrap().choices.first()?.delta.tool_calls.clone())
        .flatten()
        .filter_map(|c| c.function?.name)
        .collect();
    assert_eq!(names, ["weather/get.now"]);
}

/// Anthropic's `metadata.user_id`: the request's `metadata.user_id`, else `user`; never an
/// email or phone number (Anthropic refuses them), and nothing else of the metadata.
#[tokio::test]
async fn end_user_id_from_metadata_or_user() {
    let mock = MockServer::start().await;
    let hi = json!([{"role": "user", "content": "hi"}]);
    for (extra, want) in [
        (
            json!({"user": "u-1", "metadata": {"user_id": "m-1", "team": "t"}}),
            json!({"user_id": "m-1"}),
        ),
        (
            json!({"user": "u-1", "metadata": {"team": "t"}}),
            json!({"user_id": "u-1"}),
        ),
        (json!({"user": "+33 6 12 34 56 78"}), Value::Null),
        (json!({"metadata": {"user_id": "a@b.co"}}), Value::Null),
    ] {
        let mut body = json!({"model": "anthropic/claude-haiku-4-5", "messages": hi});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        chat(&mock, body).await.unwrap();
        assert_eq!(
            mock.last_request().unwrap().body["metadata"],
            want,
            "{extra}"
        );
    }
}
