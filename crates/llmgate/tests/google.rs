//! Gemini (AI Studio) and Vertex AI (Gemini, Claude, embeddings, service-account auth) against
//! the Google mocks, which validate requests as the real APIs do.

use futures::StreamExt;
use llmgate::{
    CallOptions, ChatCompletionRequest, ChatCompletionResponse, Client, EmbeddingRequest,
    ErrorKind, LlmError,
};
use llmgate_mock::MockServer;
use serde_json::{json, Value};

fn gemini_opts(mock: &MockServer) -> CallOptions {
    CallOptions {
        // As with LiteLLM, a Gemini api_base includes the API version.
        api_base: Some(format!("{}/v1beta", mock.base_url())),
        api_key: Some("gm-key".into()),
        ..Default::default()
    }
}

fn vertex_opts(mock: &MockServer, location: &str) -> CallOptions {
    let mut o = CallOptions {
        api_base: Some(mock.base_url()),
        ..Default::default()
    };
    o.extra.insert("vertex_project".into(), json!("proj-1"));
    o.extra.insert("vertex_location".into(), json!(location));
    o.extra.insert(
        "vertex_credentials".into(),
        json!(llmgate_mock::service_account_json(&mock.base_url())),
    );
    o
}

fn req(v: Value) -> ChatCompletionRequest {
    serde_json::from_value(v).unwrap()
}

async fn chat(o: &CallOptions, v: Value) -> Result<ChatCompletionResponse, LlmError> {
    llmgate::completion(req(v), o).await
}

async fn stream(o: &CallOptions, v: Value) -> Vec<Result<llmgate::ChatCompletionChunk, LlmError>> {
    let mut r = req(v);
    r.stream = Some(true);
    Client::shared()
        .chat_stream(r, o)
        .await
        .unwrap()
        .body
        .collect()
        .await
}

fn text(a: &ChatCompletionResponse) -> String {
    a.choices[0]
        .message
        .content
        .as_ref()
        .map(|c| c.text())
        .unwrap_or_default()
}

/// A schema OpenAI accepts, with everything Gemini's `Schema` does not know.
fn openai_tools() -> Value {
    json!([{"type": "function", "function": {"name": "get_weather", "description": "Weather", "parameters": {
        "$schema": "http://json-schema.org/draft-07/schema#", "type": "object", "additionalProperties": false,
        "$defs": {"Unit": {"type": "string", "enum": ["c", "f"]}},
        "properties": {"location": {"type": "string"}, "unit": {"$ref": "#/$defs/Unit"},
                       "days": {"type": ["integer", "null"]}},
        "required": ["location"]}}},
        {"type": "function", "function": {"name": "ping", "parameters": {"type": "object", "properties": {}}}}])
}

#[tokio::test]
async fn gemini_basic_system_and_generation_config() {
    let mock = MockServer::start().await;
    let a = chat(
        &gemini_opts(&mock),
        json!({"model": "gemini/gemini-2.5-flash", "messages": [
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}],
        "temperature": 0.2, "max_tokens": 50, "stop": ["END"], "top_p": 0.9, "seed": 7}),
    )
    .await
    .unwrap();
    assert_eq!(text(&a), "Hello from mock");
    assert_eq!(a.choices[0].finish_reason.as_deref(), Some("stop"));
    let u = a.usage.unwrap();
    assert_eq!(
        (u.prompt_tokens, u.completion_tokens, u.total_tokens),
        (10, 5, 15)
    );
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(sent.header("x-goog-api-key"), Some("gm-key"));
    let b = &sent.body;
    assert_eq!(
        b["systemInstruction"],
        json!({"parts": [{"text": "Be brief."}]})
    );
    assert_eq!(
        b["contents"],
        json!([{"role": "user", "parts": [{"text": "Hello"}]}])
    );
    assert_eq!(
        b["generationConfig"],
        json!({"temperature": 0.2, "maxOutputTokens": 50, "stopSequences": ["END"], "topP": 0.9, "seed": 7})
    );
}

#[tokio::test]
async fn gemini_tools_schemas_are_sanitised_and_round_trip() {
    let mock = MockServer::start().await;
    let o = gemini_opts(&mock);
    let mut body = json!({"model": "gemini/gemini-2.5-flash-tool", "tools": openai_tools(), "tool_choice": "auto",
        "messages": [{"role": "user", "content": "Weather in Paris?"}]});
    let a = chat(&o, body.clone()).await.unwrap();
    assert_eq!(a.choices[0].finish_reason.as_deref(), Some("tool_calls"));
    let call = a.choices[0].message.tool_calls.as_ref().unwrap()[0].clone();
    assert_eq!(call.function.name, "get_weather");
    assert_eq!(
        serde_json::from_str::<Value>(&call.function.arguments).unwrap(),
        json!({"location": "Paris"})
    );
    let sent = mock.last_request().unwrap().body;
    let decl = &sent["tools"][0]["functionDeclarations"];
    assert_eq!(
        decl[0]["parameters"]["properties"]["unit"],
        json!({"type": "string", "enum": ["c", "f"]})
    );
    assert!(
        decl[1].get("parameters").is_none(),
        "an empty object schema is left out"
    );
    assert_eq!(
        sent["toolConfig"],
        json!({"functionCallingConfig": {"mode": "AUTO"}})
    );

    // The follow-up turn: the call (with its thought signature) and the function response.
    body["messages"].as_array_mut().unwrap().extend([
        serde_json::to_value(&a.choices[0].message).unwrap(),
        json!({"role": "tool", "tool_call_id": call.id, "content": "{\"temp\": 21}"}),
    ]);
    let a2 = chat(&o, body).await.unwrap();
    assert_eq!(text(&a2), "Hello from mock");
    let sent = mock.last_request().unwrap().body;
    assert_eq!(
        sent["contents"][1]["parts"][0]["functionCall"]["name"],
        "get_weather"
    );
    assert_eq!(
        sent["contents"][1]["parts"][0]["thoughtSignature"],
        "c2lnLW1vY2s="
    );
    assert_eq!(
        sent["contents"][2]["parts"][0]["functionResponse"],
        json!({"name": "get_weather", "response": {"temp": 21}})
    );

    chat(
        &o,
        json!({"model": "gemini/gemini-1.5-x", "tools": openai_tools(),
        "tool_choice": {"type": "function", "function": {"name": "ping"}},
        "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .unwrap();
    assert_eq!(
        mock.last_request().unwrap().body["toolConfig"]["functionCallingConfig"],
        json!({"mode": "ANY", "allowedFunctionNames": ["ping"]})
    );
}

#[tokio::test]
async fn gemini_media_parts_and_mime_types() {
    let mock = MockServer::start().await;
    let base = mock.base_url();
    let o = gemini_opts(&mock);
    // Storage metadata (for the extensionless gs:// object) comes from the mock, not Google.
    let mut o2 = o.clone();
    o2.extra.insert("gcs_api_base".into(), json!(base));
    // The mock's files are on loopback over http: fetched only when allow-listed
    // (`tests/security.rs` has the refusals).
    o2.extra
        .insert("media_url_allowlist".into(), json!(["127.0.0.1"]));
    chat(
        &o2,
        json!({"model": "gemini/gemini-1.5-x", "messages": [{"role": "user", "content": [
            {"type": "text", "text": "What are these?"},
            {"type": "image_url", "image_url": {"url": "data:image/png;base64,iVBORw0KGgo="}},
            {"type": "image_url", "image_url": {"url": "gs://bucket/photo.jpg"}},
            {"type": "file", "file": {"file_id": "gs://bucket/report-without-extension"}},
            {"type": "file", "file": {"file_data": "gs://bucket/blob", "format": "audio/mp3"}},
            {"type": "image_url", "image_url": {"url": format!("{base}/files/page")}},
            {"type": "image_url", "image_url": {"url": format!("{base}/files/cat.png")}}
        ]}]}),
    )
    .await
    .unwrap();
    let parts = mock.last_request().unwrap().body["contents"][0]["parts"].clone();
    assert_eq!(
        parts[1],
        json!({"inlineData": {"mimeType": "image/png", "data": "iVBORw0KGgo="}})
    );
    assert_eq!(
        parts[2],
        json!({"fileData": {"mimeType": "image/jpeg", "fileUri": "gs://bucket/photo.jpg"}})
    );
    assert_eq!(
        parts[3]["fileData"]["mimeType"], "application/pdf",
        "looked up in storage metadata"
    );
    assert_eq!(parts[4]["fileData"]["mimeType"], "audio/mp3");
    assert_eq!(
        parts[5]["inlineData"]["mimeType"], "text/html",
        "parameters stripped"
    );
    assert_eq!(parts[6]["inlineData"]["mimeType"], "image/png");

    let e = chat(
        &o2,
        json!({"model": "gemini/gemini-1.5-x", "messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": ""}}]}]}),
    )
    .await
    .unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::BadRequest, 400));
}

#[tokio::test]
async fn gemini_json_schema_thinking_safety_and_usage() {
    let mock = MockServer::start().await;
    let o = gemini_opts(&mock);
    let a = chat(&o, json!({"model": "gemini/gemini-1.5-x", "messages": [{"role": "user", "content": "hi"}],
        "response_format": {"type": "json_schema", "json_schema": {"name": "w", "schema": {
            "type": "object", "additionalProperties": false, "properties": {"location": {"type": "string"}}}}}})).await.unwrap();
    assert_eq!(
        serde_json::from_str::<Value>(&text(&a)).unwrap(),
        json!({"location": "Paris"})
    );
    let g = mock.last_request().unwrap().body["generationConfig"].clone();
    assert_eq!(g["responseMimeType"], "application/json");
    assert!(g["responseSchema"].get("additionalProperties").is_none());

    // A catalog model (thinking is refused for one the catalog does not know to reason); the
    // mock's cache behaviour asked for by header.
    let mut cached = o.clone();
    cached
        .extra_headers
        .push(("x-mock-behaviour".into(), "mock-cache".into()));
    let a = chat(
        &cached,
        json!({"model": "gemini/gemini-2.5-flash", "reasoning_effort": "low",
        "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .unwrap();
    assert_eq!(
        a.choices[0].message.reasoning_content.as_deref(),
        Some("Let me think.")
    );
    assert_eq!(text(&a), "Hello from mock");
    assert_eq!(
        mock.last_request().unwrap().body["generationConfig"]["thinkingConfig"],
        json!({"thinkingBudget": 1024, "includeThoughts": true})
    );
    let u = a.usage.unwrap();
    assert_eq!(
        (u.completion_tokens, u.reasoning_tokens(), u.cached_tokens()),
        (8, 3, 4)
    );

    let a = chat(
        &o,
        json!({"model": "gemini/gemini-safety", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .unwrap();
    assert_eq!(
        a.choices[0].finish_reason.as_deref(),
        Some("content_filter")
    );
    let a = chat(
        &o,
        json!({"model": "gemini/gemini-blocked", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .unwrap();
    assert_eq!(
        a.choices[0].finish_reason.as_deref(),
        Some("content_filter")
    );
}

#[tokio::test]
async fn gemini_streams_and_errors() {
    let mock = MockServer::start().await;
    let o = gemini_opts(&mock);
    let items = stream(
        &o,
        json!({"model": "gemini/gemini-1.5-x", "stream_options": {"include_usage": true},
        "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    let chunks: Vec<_> = items.into_iter().map(Result::unwrap).collect();
    let t: String = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.content.clone())
        .collect();
    assert_eq!(t, "Hello from mock");
    assert_eq!(
        chunks.last().unwrap().usage.as_ref().unwrap().total_tokens,
        15
    );
    assert!(mock
        .last_request()
        .unwrap()
        .query
        .unwrap()
        .contains("alt=sse"));

    let items = stream(
        &o,
        json!({"model": "gemini/gemini-2.5-flash-tool", "tools": openai_tools(),
        "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    let chunks: Vec<_> = items.into_iter().map(Result::unwrap).collect();
    let calls: Vec<_> = chunks
        .iter()
        .filter_map(|c| c.choices.first()?.delta.tool_calls.clone())
        .flatten()
        .collect();
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0].index, 0);
    assert_eq!(
        chunks
            .iter()
            .rev()
            .find_map(|c| c.choices.first()?.finish_reason.clone())
            .unwrap(),
        "tool_calls"
    );

    let items = stream(&o, json!({"model": "gemini/mock-stream-error", "messages": [{"role": "user", "content": "hi"}]})).await;
    let e = items.last().unwrap().as_ref().unwrap_err();
    // LiteLLM: "The model is overloaded." is an InternalServerError, whatever the status.
    assert_eq!((e.kind, e.status), (ErrorKind::InternalServer, 500));

    for (model, kind) in [
        ("gemini/mock-error-429", ErrorKind::RateLimit),
        (
            "gemini/mock-context-window",
            ErrorKind::ContextWindowExceeded,
        ),
        // LiteLLM maps Google's 403 to BadRequestError (status 403 kept).
        ("gemini/mock-error-403", ErrorKind::BadRequest),
        ("gemini/mock-error-502", ErrorKind::ApiConnection),
    ] {
        let e = chat(
            &o,
            json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await
        .unwrap_err();
        assert_eq!(e.kind, kind, "{model}");
    }
    let e = chat(
        &o,
        json!({"model": "gemini/mock-error-429", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .unwrap_err();
    assert!(e.to_string().contains("GeminiException"), "{e}");
}

#[tokio::test]
async fn gemini_embeddings_and_token_count() {
    let mock = MockServer::start().await;
    let o = gemini_opts(&mock);
    let r = EmbeddingRequest {
        model: "gemini/text-embedding-004".into(),
        input: json!(["a", "b"]),
        dimensions: Some(4),
        ..Default::default()
    };
    let e = llmgate::embedding(r, &o).await.unwrap();
    assert_eq!(e.data.len(), 2);
    let sent = mock.last_request().unwrap();
    assert!(sent
        .path
        .ends_with("/text-embedding-004:batchEmbedContents"));
    assert_eq!(sent.body["requests"][1]["content"]["parts"][0]["text"], "b");
    assert_eq!(sent.body["requests"][1]["outputDimensionality"], 4);
    let n = Client::shared().count_tokens(req(json!({"model": "gemini/gemini-1.5-x", "messages": [{"role": "user", "content": "hi"}]})), &o).await.unwrap();
    assert_eq!(n, 7);
}

#[tokio::test]
async fn vertex_gemini_with_a_service_account() {
    let mock = MockServer::start().await;
    let o = vertex_opts(&mock, "europe-west4");
    let a = chat(&o, json!({"model": "vertex_ai/gemini-2.5-pro", "messages": [{"role": "user", "content": "hi"}]})).await.unwrap();
    assert_eq!(text(&a), "Hello from mock");
    let reqs = mock.requests();
    let token = reqs
        .iter()
        .find(|r| r.path == "/token")
        .expect("a token exchange");
    assert!(token.body["form"].as_str().unwrap().contains("assertion="));
    let call = reqs.last().unwrap();
    assert_eq!(call.path, "/v1/projects/proj-1/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent");
    assert_eq!(
        call.header("authorization"),
        Some(format!("Bearer {}", llmgate_mock::ACCESS_TOKEN).as_str())
    );
    // The token is cached: a second call makes no second exchange.
    chat(&o, json!({"model": "vertex_ai/gemini-2.5-pro", "messages": [{"role": "user", "content": "again"}]})).await.unwrap();
    assert_eq!(
        mock.requests()
            .iter()
            .filter(|r| r.path == "/token")
            .count(),
        1
    );

    let items = stream(&o, json!({"model": "vertex_ai/gemini-2.5-pro", "messages": [{"role": "user", "content": "hi"}]})).await;
    let t: String = items
        .into_iter()
        .filter_map(|c| c.unwrap().choices.first()?.delta.content.clone())
        .collect();
    assert_eq!(t, "Hello from mock");

    let r = EmbeddingRequest {
        model: "vertex_ai/text-embedding-005".into(),
        input: json!("a"),
        dimensions: Some(4),
        ..Default::default()
    };
    let e = llmgate::embedding(r, &o).await.unwrap();
    assert_eq!(e.data.len(), 1);
    let sent = mock.last_request().unwrap();
    assert!(sent.path.ends_with("/text-embedding-005:predict"));
    assert_eq!(sent.body["parameters"], json!({"outputDimensionality": 4}));
    // Google bills text embeddings by characters, which the usage names.
    let details = e.usage.unwrap().prompt_tokens_details.unwrap();
    assert_eq!(details.extra["character_count"], 10);
}

#[tokio::test]
async fn vertex_claude_uses_raw_predict() {
    let mock = MockServer::start().await;
    let o = vertex_opts(&mock, "global");
    let a = chat(
        &o,
        json!({"model": "vertex_ai/claude-sonnet-4-5", "max_tokens": 10,
        "messages": [{"role": "system", "content": "x"}, {"role": "user", "content": "hi"}]}),
    )
    .await
    .unwrap();
    assert_eq!(text(&a), "Hello from mock");
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/v1/projects/proj-1/locations/global/publishers/anthropic/models/claude-sonnet-4-5:rawPredict");
    assert_eq!(sent.body["anthropic_version"], "vertex-2023-10-16");
    assert!(sent.body.get("model").is_none());
    // Anthropic's headers as LiteLLM sends them to Vertex.
    let header = |name: &str| {
        sent.headers
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone())
    };
    assert_eq!(header("anthropic-version").as_deref(), Some("2023-06-01"));
    assert_eq!(
        header("x-api-key").as_deref(),
        Some(llmgate_mock::ACCESS_TOKEN)
    );

    let items = stream(&o, json!({"model": "vertex_ai/claude-sonnet-4-5", "max_tokens": 10,
        "stream_options": {"include_usage": true}, "messages": [{"role": "user", "content": "hi"}]})).await;
    let chunks: Vec<_> = items.into_iter().map(Result::unwrap).collect();
    assert_eq!(
        chunks
            .iter()
            .filter_map(|c| c.choices.first()?.delta.content.clone())
            .collect::<String>(),
        "Hello from mock"
    );
    let sent = mock.last_request().unwrap();
    assert!(sent.path.ends_with(":streamRawPredict"));
    assert_eq!(sent.query.as_deref(), Some("alt=sse"));
    assert_eq!(
        chunks.last().unwrap().usage.as_ref().unwrap().total_tokens,
        15
    );

    let n = Client::shared().count_tokens(req(json!({"model": "vertex_ai/claude-sonnet-4-5", "messages": [{"role": "user", "content": "hi"}]})), &o).await.unwrap();
    assert_eq!(n, 13);
    let e = chat(&o, json!({"model": "vertex_ai/mock-error-429", "messages": [{"role": "user", "content": "hi"}]})).await.unwrap_err();
    // LiteLLM's wording for Vertex: the provider capitalised as given, the raw body.
    assert!(
        e.to_string().starts_with(
            r#"litellm.RateLimitError: litellm.RateLimitError: Vertex_aiException - {"error":{"code":429,"#
        ),
        "{e}"
    );
}

#[tokio::test]
async fn vertex_rejects_a_bad_key() {
    let mock = MockServer::start().await;
    let mut o = vertex_opts(&mock, "us-central1");
    // A service account whose key the token endpoint does not know.
    let mut sa: Value =
        serde_json::from_str(&llmgate_mock::service_account_json(&mock.base_url())).unwrap();
    sa["client_email"] = json!("other@proj.iam.gserviceaccount.com");
    sa["private_key"] =
        json!("-----BEGIN PRIVATE KEY-----\nnot-a-key\n-----END PRIVATE KEY-----\n");
    o.extra.insert("vertex_credentials".into(), sa);
    let e = chat(&o, json!({"model": "vertex_ai/gemini-2.5-pro", "messages": [{"role": "user", "content": "hi"}]})).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Authentication);
}

/// LiteLLM's contract for a bad AI Studio key: Google's 400 `API_KEY_INVALID` is a 401
/// `authentication_error` whose message carries Google's error object.
#[tokio::test]
async fn gemini_bad_key_is_an_authentication_error() {
    let mock = MockServer::start().await;
    let mut o = gemini_opts(&mock);
    o.api_key = Some("bad-key-1".into());
    let e = chat(
        &o,
        json!({"model": "gemini/gemini-2.5-flash", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Authentication, 401));
    assert_eq!(e.kind.openai_type(), "authentication_error");
    assert!(
        e.message
            .contains(r#""message":"API key not valid. Please pass a valid API key.""#),
        "{}",
        e.message
    );
    // Google's 403 is LiteLLM's BadRequestError with the 403 kept.
    let e = chat(
        &gemini_opts(&mock),
        json!({"model": "gemini/mock-error-403", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::BadRequest, 403));
}

/// Gemini 2+ gets the client's JSON Schema as `responseJsonSchema` (which the mock accepts
/// only alone, for JSON output, from Gemini 2 on); Gemini 1.5 the OpenAPI subset.
#[tokio::test]
async fn gemini_response_json_schema_by_model() {
    let mock = MockServer::start().await;
    let schema = json!({"type": "object", "additionalProperties": false,
        "properties": {"zeta": {"type": "string"}, "alpha": {"type": "integer"}}, "required": ["zeta", "alpha"]});
    for model in ["gemini-2.5-flash", "gemini-1.5-pro"] {
        let a = chat(&gemini_opts(&mock), json!({"model": format!("gemini/{model}"),
            "messages": [{"role": "user", "content": "x"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "o", "strict": true, "schema": schema}}}))
        .await
        .unwrap();
        assert_eq!(text(&a), r#"{"location": "Paris"}"#);
    }
    let gens: Vec<Value> = mock
        .requests()
        .iter()
        .map(|r| r.body["generationConfig"].clone())
        .collect();
    assert_eq!(gens[0]["responseJsonSchema"], schema);
    assert!(gens[0].get("responseSchema").is_none());
    assert_eq!(
        gens[1]["responseSchema"]["propertyOrdering"],
        json!(["zeta", "alpha"])
    );
    assert!(gens[1]["responseSchema"]
        .get("additionalProperties")
        .is_none());
}

/// Multi-turn tool use on a thinking Gemini 3 model: the signature comes back on the message and
/// the call (provider_specific_fields, id suffix), and the next turn returns it on the
/// `functionCall` part, which the mock (as Google) requires. Streams carry it too.
#[tokio::test]
async fn gemini3_thought_signatures_round_trip() {
    let mock = MockServer::start().await;
    let o = gemini_opts(&mock);
    let tools = json!([{"type": "function", "function": {"name": "get_weather",
        "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}]);
    let first = json!({"model": "gemini/gemini-3-pro-tool", "reasoning_effort": "low", "tools": tools,
        "messages": [{"role": "user", "content": "weather?"}]});
    let a = chat(&o, first.clone()).await.unwrap();
    let c = &a.choices[0];
    assert_eq!(
        c.extra["provider_specific_fields"]["native_finish_reason"],
        "STOP"
    );
    assert_eq!(
        c.message.extra["provider_specific_fields"]["thought_signatures"],
        json!(["c2lnLW1vY2s="])
    );
    let call = &c.message.tool_calls.as_ref().unwrap()[0];
    assert!(call
        .id
        .as_deref()
        .unwrap()
        .ends_with("__thought__c2lnLW1vY2s="));
    assert_eq!(
        call.extra["provider_specific_fields"]["thought_signature"],
        "c2lnLW1vY2s="
    );
    // Back as the client got it; then with the signature only in provider_specific_fields.
    let mut msg = serde_json::to_value(&c.message).unwrap();
    let id = call.id.clone().unwrap();
    for variant in 0..2 {
        if variant == 1 {
            msg["tool_calls"][0]["id"] = json!("call_plain");
        }
        let tool_id = msg["tool_calls"][0]["id"].clone();
        let mut next = first.clone();
        next["messages"] = json!([{"role": "user", "content": "weather?"}, msg,
            {"role": "tool", "tool_call_id": tool_id, "content": "sunny"}]);
        let a = chat(&o, next).await.unwrap();
        assert_eq!(text(&a), "Hello from mock");
        let sent = mock.requests().last().unwrap().body["contents"][1]["parts"].clone();
        let fc = sent
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p.get("functionCall").is_some())
            .unwrap();
        assert_eq!(fc["thoughtSignature"], "c2lnLW1vY2s=");
        let want = if variant == 0 {
            id.split("__thought__").next().unwrap()
        } else {
            "call_plain"
        };
        assert_eq!(fc["functionCall"]["id"], want);
    }
    // Gemini 2.5 refuses call ids: none are sent there.
    let mut old = first.clone();
    old["model"] = json!("gemini/gemini-2.5-flash");
    old["messages"] = json!([{"role": "user", "content": "weather?"},
        {"role": "assistant", "tool_calls": [{"id": "call_x", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_x", "content": "sunny"}]);
    chat(&o, old).await.unwrap();
    // Streamed: the signed call's delta names the signature, the id carries it.
    let chunks: Vec<_> = stream(&o, first)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let signed = chunks
        .iter()
        .find(|c| {
            c.choices
                .first()
                .is_some_and(|ch| ch.delta.tool_calls.is_some())
        })
        .unwrap();
    assert_eq!(
        signed.choices[0].delta.extra["provider_specific_fields"]["thought_signatures"],
        json!(["c2lnLW1vY2s="])
    );
    assert!(signed.choices[0].delta.tool_calls.as_ref().unwrap()[0]
        .id
        .as_deref()
        .unwrap()
        .ends_with("__thought__c2lnLW1vY2s="));
}
