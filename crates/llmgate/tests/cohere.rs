//! Cohere's v2 API (`cohere/`, `cohere_chat/`) against the mock's Cohere routes: chat plain
//! and streamed, tools, embeddings, rerank (v2 and v1), errors, and the SDK router's rerank.

use futures::StreamExt;
use llmgate::router::{SdkRouter, Settings};
use llmgate::{
    CallOptions, ChatCompletionChunk, ChatCompletionRequest, Client, EmbeddingRequest, ErrorKind,
    LlmError, RerankRequest,
};
use llmgate_mock::MockServer;
use serde_json::{json, Value};

fn opts(mock: &MockServer) -> CallOptions {
    CallOptions {
        api_base: Some(mock.base_url()),
        api_key: Some("co-key".into()),
        ..Default::default()
    }
}

fn req(v: Value) -> ChatCompletionRequest {
    serde_json::from_value(v).unwrap()
}

async fn stream(o: &CallOptions, v: Value) -> Vec<Result<ChatCompletionChunk, LlmError>> {
    let mut r = req(v);
    r.stream = Some(true);
    r.stream_options = serde_json::from_value(json!({"include_usage": true})).ok();
    Client::shared()
        .chat_stream(r, o)
        .await
        .unwrap()
        .body
        .collect()
        .await
}

#[tokio::test]
async fn chat_and_stream_through_v2_chat() {
    let mock = MockServer::start().await;
    let o = opts(&mock);
    let a = llmgate::completion(
        req(json!({"model": "cohere_chat/command-r-08-2024", "max_tokens": 20, "top_p": 0.5,
            "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]})),
        &o,
    )
    .await
    .unwrap();
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/v2/chat");
    assert_eq!(sent.header("authorization"), Some("Bearer co-key"));
    assert_eq!(sent.body["model"], "command-r-08-2024");
    assert_eq!(
        (sent.body["max_tokens"].clone(), sent.body["p"].clone()),
        (json!(20), json!(0.5))
    );
    assert_eq!(a.choices[0].message.text_content(), "Hello from Cohere");
    assert_eq!(a.usage.unwrap().completion_tokens, 3);

    let chunks = stream(
        &o,
        json!({"model": "cohere/command-a-03-2025", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    let ok: Vec<_> = chunks.iter().map(|c| c.as_ref().unwrap()).collect();
    let text: String = ok
        .iter()
        .flat_map(|c| c.choices.iter())
        .filter_map(|c| c.delta.content.clone())
        .collect();
    assert_eq!(text, "Hello from Cohere");
    assert!(mock
        .last_request()
        .unwrap()
        .body
        .get("stream_options")
        .is_none());
    assert_eq!(
        ok.last().unwrap().usage.as_ref().unwrap().completion_tokens,
        3
    );
}

#[tokio::test]
async fn tools_streamed_and_not() {
    let mock = MockServer::start().await;
    let o = opts(&mock);
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]);
    let a = llmgate::completion(
        req(json!({"model": "cohere/command-r-08-2024", "tools": tools,
            "messages": [{"role": "user", "content": "weather?"}]})),
        &o,
    )
    .await
    .unwrap();
    assert_eq!(a.choices[0].finish_reason.as_deref(), Some("tool_calls"));
    let call = &a.choices[0].message.tool_calls.as_ref().unwrap()[0];
    assert_eq!(call.function.name, "get_weather");
    let chunks = stream(
        &o,
        json!({"model": "cohere/command-r-08-2024", "tools": tools,
            "messages": [{"role": "user", "content": "weather?"}]}),
    )
    .await;
    let args: String = chunks
        .iter()
        .filter_map(|c| c.as_ref().ok())
        .flat_map(|c| c.choices.iter())
        .flat_map(|c| c.delta.tool_calls.iter().flatten())
        .filter_map(|t| t.function.as_ref()?.arguments.clone())
        .collect();
    assert_eq!(args, call.function.arguments);
}

#[tokio::test]
async fn a_stream_that_ends_in_error_is_an_error() {
    let mock = MockServer::start().await;
    let chunks = stream(
        &opts(&mock),
        json!({"model": "cohere/mock-stream-error", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await;
    let e = chunks.last().unwrap().as_ref().unwrap_err();
    assert!(e.message.contains("mock stream error"), "{}", e.message);
}

#[tokio::test]
async fn upstream_errors_map_to_litellm_classes() {
    let mock = MockServer::start().await;
    let mut o = opts(&mock);
    let r = req(
        json!({"model": "cohere/mock-error-429", "messages": [{"role": "user", "content": "hi"}]}),
    );
    let e = Client::shared().chat(r, &o).await.unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::RateLimit, 429));
    o.api_key = None;
    let r = req(
        json!({"model": "cohere/command-r-08-2024", "messages": [{"role": "user", "content": "hi"}]}),
    );
    let e = Client::shared().chat(r, &o).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Authentication);
}

#[tokio::test]
async fn embeddings_through_v2_embed() {
    let mock = MockServer::start().await;
    let r: EmbeddingRequest = serde_json::from_value(json!({"model": "cohere/embed-english-v3.0",
        "input": ["a b", "c"], "encoding_format": "float"}))
    .unwrap();
    let e = Client::shared()
        .embedding(r, &opts(&mock))
        .await
        .unwrap()
        .body;
    assert_eq!(e.data.len(), 2);
    assert_eq!(e.data[0].embedding.as_array().unwrap().len(), 4);
    assert_eq!(e.usage.unwrap().prompt_tokens, 3);
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/v2/embed");
    assert_eq!(sent.body["input_type"], "search_document");
    assert_eq!(sent.body["embedding_types"], json!(["float"]));
    let chat_only: EmbeddingRequest =
        serde_json::from_value(json!({"model": "cohere_chat/embed-english-v3.0", "input": "a"}))
            .unwrap();
    let e = Client::shared()
        .embedding(chat_only, &opts(&mock))
        .await
        .unwrap_err();
    assert_eq!(e.status, 400);
}

fn rerank_req(v: Value) -> RerankRequest {
    serde_json::from_value(v).unwrap()
}

#[tokio::test]
async fn rerank_v2_and_v1() {
    let mock = MockServer::start().await;
    let docs = json!(["apples are red", "the sky is blue", "blue whales"]);
    let r = Client::shared()
        .rerank(
            rerank_req(
                json!({"model": "cohere/rerank-v3.5", "query": "blue sky", "documents": docs,
                "top_n": 2, "return_documents": true}),
            ),
            &opts(&mock),
        )
        .await
        .unwrap();
    assert_eq!(r.api_base, format!("{}/v2/rerank", mock.base_url()));
    let b = r.body;
    assert_eq!(
        b.results.iter().map(|x| x.index).collect::<Vec<_>>(),
        [1, 2]
    );
    assert_eq!(
        b.results[0].document,
        Some(json!({"text": "the sky is blue"}))
    );
    assert_eq!(b.usage().extra[llmgate::SEARCH_UNITS], 1);
    let v1 = CallOptions {
        api_base: Some(format!("{}/v1/rerank", mock.base_url())),
        ..opts(&mock)
    };
    let r = Client::shared()
        .rerank(
            rerank_req(
                json!({"model": "cohere/rerank-english-v3.0", "query": "apples",
                "documents": docs, "max_chunks_per_doc": 2}),
            ),
            &v1,
        )
        .await
        .unwrap();
    assert_eq!(r.body.results[0].index, 0);
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/v1/rerank");
    assert_eq!(sent.body["max_chunks_per_doc"], 2);
    // A provider without a rerank API says so.
    let e = Client::shared()
        .rerank(
            rerank_req(json!({"model": "groq/llama", "query": "q", "documents": ["a"]})),
            &opts(&mock),
        )
        .await
        .unwrap_err();
    assert!(
        e.message.contains("does not support rerank"),
        "{}",
        e.message
    );
}

#[tokio::test]
async fn the_sdk_router_reranks_with_fallbacks() {
    let mock = MockServer::start().await;
    let list = json!([
        {"model_name": "rr", "litellm_params": {"model": "cohere/mock-error-500", "api_base": mock.base_url(), "api_key": "k"}},
        {"model_name": "rr-backup", "litellm_params": {"model": "cohere/rerank-v3.5", "api_base": mock.base_url(), "api_key": "k"}}
    ]);
    let settings = Settings::from_map(
        json!({"fallbacks": [{"rr": ["rr-backup"]}], "num_retries": 0})
            .as_object()
            .unwrap(),
    )
    .unwrap();
    let router = SdkRouter::from_model_list(&list, settings).unwrap();
    let r = router
        .rerank(rerank_req(
            json!({"model": "rr", "query": "q", "documents": ["q", "x"]}),
        ))
        .await
        .unwrap();
    assert_eq!(r.body.results[0].index, 0);
    assert_eq!(mock.last_request().unwrap().body["model"], "rerank-v3.5");
}
