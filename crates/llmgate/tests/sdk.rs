//! The SDK in-process, without any server of ours, against the OpenAI mock upstream.

use futures::StreamExt;
use llmgate::{
    CallOptions, ChatCompletionRequest, ChatMessage, Client, EmbeddingRequest, ErrorKind,
};
use llmgate_mock::MockServer;
use serde_json::json;

fn opts(mock: &MockServer) -> CallOptions {
    CallOptions {
        api_base: Some(format!("{}/v1", mock.base_url())),
        api_key: Some("sk-up".into()),
        ..Default::default()
    }
}

fn hello(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.into(),
        messages: vec![ChatMessage::text("user", "Hello")],
        ..Default::default()
    }
}

#[tokio::test]
async fn completion_and_embedding_free_functions() {
    let mock = MockServer::start().await;
    let answer = llmgate::completion(hello("openai/gpt-4o"), &opts(&mock))
        .await
        .unwrap();
    assert_eq!(
        answer.choices[0].message.content.as_ref().unwrap().text(),
        "Hello from mock"
    );
    assert_eq!(answer.usage.unwrap().total_tokens, 15);
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.body["model"], "gpt-4o");
    assert_eq!(sent.header("authorization"), Some("Bearer sk-up"));

    let req = EmbeddingRequest {
        model: "openai/text-embedding-3-small".into(),
        input: json!(["a", "b", "c"]),
        ..Default::default()
    };
    let e = llmgate::embedding(req, &opts(&mock)).await.unwrap();
    assert_eq!(e.data.len(), 3);
}

#[tokio::test]
async fn streams_arrive_chunk_by_chunk() {
    let mock = MockServer::start().await;
    let mut req = hello("openai/gpt-4o");
    req.stream = Some(true);
    let res = Client::shared()
        .chat_stream(req, &opts(&mock))
        .await
        .unwrap();
    let chunks: Vec<_> = res.body.collect().await;
    assert!(chunks.len() >= 5);
    let text: String = chunks
        .iter()
        .filter_map(|c| c.as_ref().unwrap().choices.first()?.delta.content.clone())
        .collect();
    assert_eq!(text, "Hello from mock");
}

#[tokio::test]
async fn upstream_errors_are_mapped() {
    let mock = MockServer::start().await;
    for (model, kind, status) in [
        ("openai/mock-error-429", ErrorKind::RateLimit, 429),
        ("openai/mock-error-401", ErrorKind::Authentication, 401),
        // LiteLLM's OpenAI mapping has no class for 403: an `APIError` with the status.
        ("openai/mock-error-403", ErrorKind::Api, 403),
        ("openai/mock-error-404", ErrorKind::NotFound, 404),
        ("openai/mock-error-400", ErrorKind::BadRequest, 400),
        ("openai/mock-error-500", ErrorKind::InternalServer, 500),
        ("openai/mock-error-503", ErrorKind::ServiceUnavailable, 503),
        (
            "openai/mock-context-window",
            ErrorKind::ContextWindowExceeded,
            400,
        ),
    ] {
        let e = llmgate::completion(hello(model), &opts(&mock))
            .await
            .unwrap_err();
        assert_eq!(e.kind, kind, "{model}");
        assert_eq!(e.status, status, "{model}");
    }
    let e = llmgate::completion(hello("openai/mock-error-429"), &opts(&mock))
        .await
        .unwrap_err();
    assert_eq!(e.retry_after.as_deref(), Some("7"));
}

#[tokio::test]
async fn azure_deployments_use_the_deployment_path_and_api_version() {
    let mock = MockServer::start().await;
    let o = CallOptions {
        api_base: Some(mock.base_url()),
        api_key: Some("azure-key".into()),
        api_version: Some("2024-10-21".into()),
        ..Default::default()
    };
    let answer = llmgate::completion(hello("azure/my-gpt4o"), &o)
        .await
        .unwrap();
    assert_eq!(
        answer.choices[0].message.content.as_ref().unwrap().text(),
        "Hello from mock"
    );
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/openai/deployments/my-gpt4o/chat/completions");
    assert_eq!(sent.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(sent.header("api-key"), Some("azure-key"));
    assert_eq!(sent.header("authorization"), None);
}

#[tokio::test]
async fn mock_response_needs_no_upstream() {
    let o = CallOptions {
        mock_response: Some(json!("canned")),
        ..Default::default()
    };
    let answer = llmgate::completion(hello("openai/anything"), &o)
        .await
        .unwrap();
    assert_eq!(
        answer.choices[0].message.content.as_ref().unwrap().text(),
        "canned"
    );
}

/// Property order steers what a model writes first (`reasoning` before `answer`): a schema
/// reaches the provider in the client's order, not sorted.
#[tokio::test]
async fn schemas_keep_the_clients_key_order() {
    let mock = MockServer::start().await;
    let req: ChatCompletionRequest = serde_json::from_str(
        r#"{"model": "openai/gpt-4o", "messages": [{"role": "user", "content": "Hi"}],
            "response_format": {"type": "json_schema", "json_schema": {"name": "r", "schema":
              {"type": "object", "properties": {"reasoning": {"type": "string"},
               "answer": {"type": "string"}, "confidence": {"type": "number"}}}}},
            "tools": [{"type": "function", "function": {"name": "f", "parameters":
              {"type": "object", "properties": {"zeta": {"type": "string"}, "alpha": {"type": "string"}}}}}]}"#,
    )
    .unwrap();
    Client::shared().chat(req, &opts(&mock)).await.unwrap();
    let sent = mock.last_request().unwrap().body;
    let keys =
        |v: &serde_json::Value| -> Vec<String> { v.as_object().unwrap().keys().cloned().collect() };
    assert_eq!(
        keys(&sent["response_format"]["json_schema"]["schema"]["properties"]),
        ["reasoning", "answer", "confidence"]
    );
    assert_eq!(
        keys(&sent["tools"][0]["function"]["parameters"]["properties"]),
        ["zeta", "alpha"]
    );
}
