//! `/completions` on providers without a text-completion API (Anthropic, Gemini, Vertex): the
//! prompt goes through chat, the answer comes back as `text_completion` objects.

use futures::StreamExt;
use llmgate::{CallOptions, Client, CompletionRequest, CompletionResponse, ErrorKind};
use llmgate_mock::MockServer;
use serde_json::{json, Value};

fn anthropic(mock: &MockServer) -> CallOptions {
    CallOptions {
        api_base: Some(mock.base_url()),
        api_key: Some("sk-ant-test".into()),
        ..Default::default()
    }
}

fn gemini(mock: &MockServer) -> CallOptions {
    CallOptions {
        api_base: Some(format!("{}/v1beta", mock.base_url())),
        api_key: Some("gm-key".into()),
        ..Default::default()
    }
}

fn vertex(mock: &MockServer) -> CallOptions {
    let mut o = CallOptions {
        api_base: Some(mock.base_url()),
        ..Default::default()
    };
    o.extra.insert("vertex_project".into(), json!("proj-1"));
    o.extra
        .insert("vertex_location".into(), json!("us-central1"));
    o.extra.insert(
        "vertex_credentials".into(),
        json!(llmgate_mock::service_account_json(&mock.base_url())),
    );
    o
}

fn req(v: Value) -> CompletionRequest {
    serde_json::from_value(v).unwrap()
}

async fn complete(o: &CallOptions, v: Value) -> CompletionResponse {
    Client::shared()
        .text_completion(req(v), o)
        .await
        .unwrap()
        .body
}

async fn stream(o: &CallOptions, v: Value) -> Vec<CompletionResponse> {
    let mut r = req(v);
    r.stream = Some(true);
    Client::shared()
        .text_completion_stream(r, o)
        .await
        .unwrap()
        .body
        .map(Result::unwrap)
        .collect()
        .await
}

fn joined(chunks: &[CompletionResponse]) -> String {
    chunks
        .iter()
        .filter_map(|c| c.choices.first().map(|c| c.text.clone()))
        .collect()
}

fn finishes(chunks: &[CompletionResponse]) -> Vec<String> {
    chunks
        .iter()
        .filter_map(|c| c.choices.first()?.finish_reason.clone())
        .collect()
}

#[tokio::test]
async fn anthropic_answers_a_prompt_in_the_completions_shape() {
    let mock = MockServer::start().await;
    let a = complete(
        &anthropic(&mock),
        json!({"model": "anthropic/claude-haiku-4-5", "prompt": "Say hi", "max_tokens": 9,
            "temperature": 0.2, "stop": ["\n\n"], "echo": false}),
    )
    .await;
    assert_eq!(a.object, "text_completion");
    assert_eq!(a.choices[0].text, "Hello from mock");
    assert_eq!(a.choices[0].finish_reason.as_deref(), Some("stop"));
    assert_eq!(a.usage.as_ref().unwrap().total_tokens, 15);

    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/v1/messages");
    assert_eq!(
        sent.body["messages"],
        json!([{"role": "user", "content": [{"type": "text", "text": "Say hi"}]}])
    );
    assert_eq!(sent.body["max_tokens"], 9);
    assert_eq!(sent.body["stop_sequences"], json!(["\n\n"]));
    assert!(sent.body.get("echo").is_none());
}

#[tokio::test]
async fn anthropic_streams_text_chunks_with_usage() {
    let mock = MockServer::start().await;
    let chunks = stream(
        &anthropic(&mock),
        json!({"model": "anthropic/claude-x", "prompt": ["one", "two"], "max_tokens": 10,
            "stream_options": {"include_usage": true}}),
    )
    .await;
    assert!(chunks.iter().all(|c| c.object == "text_completion"));
    assert_eq!(joined(&chunks), "Hello from mock");
    assert_eq!(finishes(&chunks), ["stop"]);
    assert_eq!(
        chunks.last().unwrap().usage.as_ref().unwrap().total_tokens,
        15
    );
    let sent = mock.last_request().unwrap().body;
    assert_eq!(sent["stream"], true);
    // A list of strings: one user message each (Anthropic merges consecutive user turns).
    let texts: Vec<_> = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|m| m["content"].as_array().unwrap().iter())
        .map(|p| p["text"].as_str().unwrap().to_string())
        .collect();
    assert_eq!(texts, ["one", "two"]);
}

#[tokio::test]
async fn gemini_answers_and_streams() {
    let mock = MockServer::start().await;
    let o = gemini(&mock);
    let a = complete(
        &o,
        json!({"model": "gemini/gemini-2.5-flash", "prompt": "Say hi", "max_tokens": 5}),
    )
    .await;
    assert_eq!(a.object, "text_completion");
    assert!(!a.choices[0].text.is_empty());
    assert_eq!(a.choices[0].finish_reason.as_deref(), Some("stop"));
    assert!(a.usage.is_some());
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/v1beta/models/gemini-2.5-flash:generateContent");
    assert_eq!(sent.body["contents"][0]["role"], "user");
    assert_eq!(sent.body["contents"][0]["parts"][0]["text"], "Say hi");
    assert_eq!(sent.body["generationConfig"]["maxOutputTokens"], 5);

    let chunks = stream(
        &o,
        json!({"model": "gemini/gemini-2.5-flash", "prompt": "Say hi"}),
    )
    .await;
    assert!(chunks.iter().all(|c| c.object == "text_completion"));
    assert_eq!(joined(&chunks), a.choices[0].text);
    assert_eq!(finishes(&chunks), ["stop"]);
    assert!(mock
        .last_request()
        .unwrap()
        .path
        .ends_with(":streamGenerateContent"));
}

#[tokio::test]
async fn vertex_answers_through_chat() {
    let mock = MockServer::start().await;
    let a = complete(
        &vertex(&mock),
        json!({"model": "vertex_ai/gemini-2.5-flash", "prompt": "Say hi"}),
    )
    .await;
    assert_eq!(a.object, "text_completion");
    assert!(!a.choices[0].text.is_empty());
    assert!(mock
        .last_request()
        .unwrap()
        .path
        .ends_with("gemini-2.5-flash:generateContent"));
}

#[tokio::test]
async fn token_prompts_and_upstream_errors_are_errors() {
    let mock = MockServer::start().await;
    let e = Client::shared()
        .text_completion(
            req(json!({"model": "anthropic/claude-x", "prompt": [1, 2, 3]})),
            &anthropic(&mock),
        )
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::BadRequest);
    assert!(e.message.contains("Unmapped prompt format"));
    assert!(mock.requests().is_empty());

    let e = Client::shared()
        .text_completion(
            req(json!({"model": "anthropic/mock-error-429", "prompt": "hi"})),
            &anthropic(&mock),
        )
        .await
        .err()
        .unwrap();
    assert_eq!(e.kind, ErrorKind::RateLimit);
}
