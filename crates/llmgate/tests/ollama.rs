//! Ollama (`ollama/` through `/api/generate`, `ollama_chat/` through `/api/chat`, embeddings
//! through `/api/embed`) against the mock's Ollama routes.

use futures::StreamExt;
use llmgate::{
    CallOptions, ChatCompletionChunk, ChatCompletionRequest, Client, EmbeddingRequest, ErrorKind,
    LlmError,
};
use llmgate_mock::MockServer;
use serde_json::{json, Value};

fn opts(mock: &MockServer) -> CallOptions {
    CallOptions {
        api_base: Some(mock.base_url()),
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

fn content(chunks: &[Result<ChatCompletionChunk, LlmError>]) -> String {
    chunks
        .iter()
        .filter_map(|c| c.as_ref().ok())
        .flat_map(|c| c.choices.iter())
        .filter_map(|c| c.delta.content.clone())
        .collect()
}

#[tokio::test]
async fn chat_through_api_chat() {
    let mock = MockServer::start().await;
    let o = opts(&mock);
    let a = llmgate::completion(
        req(json!({"model": "ollama_chat/llama3.1", "max_tokens": 20, "temperature": 0.1, "keep_alive": "10m",
            "messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": "hi"}]})),
        &o,
    )
    .await
    .unwrap();
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/api/chat");
    assert_eq!(sent.body["model"], "llama3.1");
    assert_eq!(sent.body["stream"], false);
    assert_eq!(sent.body["keep_alive"], "10m");
    assert_eq!(
        sent.body["options"],
        json!({"num_predict": 20, "temperature": 0.1})
    );
    assert_eq!(
        sent.body["messages"][1],
        json!({"role": "user", "content": "hi", "images": []})
    );
    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from Ollama");
    assert_eq!(v["choices"][0]["finish_reason"], "stop");
    assert_eq!(
        v["usage"],
        json!({"prompt_tokens": 12, "completion_tokens": 3, "total_tokens": 15})
    );
    assert_eq!(v["model"], "ollama_chat/llama3.1");
}

#[tokio::test]
async fn generate_builds_a_prompt() {
    let mock = MockServer::start().await;
    let a = llmgate::completion(
        req(json!({"model": "ollama/llama3", "seed": 7,
            "messages": [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]})),
        &opts(&mock),
    )
    .await
    .unwrap();
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/api/generate");
    assert_eq!(sent.body["prompt"], "### System:\nsys\n\n### User:\nhi\n\n");
    assert_eq!(sent.body["options"], json!({"seed": 7}));
    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(v["choices"][0]["message"]["content"], "Hello from Ollama");
    assert_eq!(v["usage"]["total_tokens"], 15);
    assert_eq!(v["model"], "ollama/llama3");
}

#[tokio::test]
async fn both_apis_stream_json_lines_with_a_final_usage() {
    let mock = MockServer::start().await;
    let o = opts(&mock);
    for model in ["ollama_chat/llama3.1", "ollama/llama3.1"] {
        let chunks = stream(
            &o,
            json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .await;
        assert!(chunks.iter().all(Result::is_ok), "{model}: {chunks:?}");
        assert_eq!(content(&chunks), "Hello from Ollama", "{model}");
        let ok: Vec<_> = chunks.into_iter().map(Result::unwrap).collect();
        assert_eq!(ok[0].choices[0].delta.role.as_deref(), Some("assistant"));
        let finish: Vec<_> = ok
            .iter()
            .flat_map(|c| &c.choices)
            .filter_map(|c| c.finish_reason.clone())
            .collect();
        assert_eq!(finish, vec!["stop"], "{model}");
        let usage = ok
            .last()
            .and_then(|c| c.usage.clone())
            .expect("usage chunk");
        assert_eq!((usage.prompt_tokens, usage.completion_tokens), (12, 3));
        assert_eq!(mock.last_request().unwrap().body["stream"], true);
    }
}

#[tokio::test]
async fn tools_and_thinking_on_chat() {
    let mock = MockServer::start().await;
    let o = opts(&mock);
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}]);
    let body = json!({"model": "ollama_chat/qwen3", "tools": tools, "reasoning_effort": "high",
        "messages": [{"role": "user", "content": "weather in Paris?"}]});
    let a = llmgate::completion(req(body.clone()), &o).await.unwrap();
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.body["tools"], tools);
    assert_eq!(sent.body["think"], true);
    let v = serde_json::to_value(&a).unwrap();
    let msg = &v["choices"][0]["message"];
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(msg["tool_calls"][0]["function"]["name"], "get_weather");
    assert_eq!(
        msg["tool_calls"][0]["function"]["arguments"],
        "{\"location\": \"Paris\"}"
    );
    assert!(msg["tool_calls"][0]["id"]
        .as_str()
        .is_some_and(|i| !i.is_empty()));
    assert_eq!(msg["reasoning_content"], "Let me think.");

    let chunks = stream(&o, body).await;
    let ok: Vec<_> = chunks.into_iter().map(Result::unwrap).collect();
    let call = ok
        .iter()
        .flat_map(|c| &c.choices)
        .find_map(|c| c.delta.tool_calls.clone())
        .expect("a tool call");
    assert_eq!(
        call[0].function.as_ref().and_then(|f| f.name.as_deref()),
        Some("get_weather")
    );
    let finish: Vec<_> = ok
        .iter()
        .flat_map(|c| &c.choices)
        .filter_map(|c| c.finish_reason.clone())
        .collect();
    assert_eq!(finish, vec!["tool_calls"]);
    assert!(ok
        .iter()
        .flat_map(|c| &c.choices)
        .any(|c| c.delta.reasoning_content.as_deref() == Some("Let me think.")));

    // The tool's answer goes back with the call's arguments as an object.
    let follow = json!({"model": "ollama_chat/qwen3", "tools": tools, "messages": [
        {"role": "user", "content": "weather in Paris?"},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{\"location\": \"Paris\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "sunny"}]});
    let a = llmgate::completion(req(follow), &o).await.unwrap();
    let sent = mock.last_request().unwrap();
    assert_eq!(
        sent.body["messages"][1]["tool_calls"][0]["function"]["arguments"],
        json!({"location": "Paris"})
    );
    assert_eq!(
        serde_json::to_value(&a).unwrap()["choices"][0]["message"]["content"],
        "Hello from Ollama"
    );
}

#[tokio::test]
async fn json_mode_and_schema_set_format() {
    let mock = MockServer::start().await;
    let o = opts(&mock);
    let schema = json!({"type": "object", "properties": {"answer": {"type": "integer"}}});
    for (rf, format) in [
        (json!({"type": "json_object"}), json!("json")),
        (
            json!({"type": "json_schema", "json_schema": {"name": "a", "schema": schema}}),
            schema.clone(),
        ),
    ] {
        for model in ["ollama_chat/llama3.1", "ollama/llama3.1"] {
            let a = llmgate::completion(req(json!({"model": model, "response_format": rf, "messages": [{"role": "user", "content": "n?"}]})), &o)
                .await
                .unwrap();
            assert_eq!(mock.last_request().unwrap().body["format"], format);
            let v = serde_json::to_value(&a).unwrap();
            assert_eq!(
                v["choices"][0]["message"]["content"], "{\"answer\": 42}",
                "{model}"
            );
        }
    }
}

#[tokio::test]
async fn embeddings_through_api_embed() {
    let mock = MockServer::start().await;
    let r = EmbeddingRequest {
        model: "ollama/nomic-embed-text".into(),
        input: json!(["a", "b"]),
        dimensions: Some(4),
        ..Default::default()
    };
    let e = llmgate::embedding(r, &opts(&mock)).await.unwrap();
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/api/embed");
    assert_eq!(
        sent.body,
        json!({"model": "nomic-embed-text", "input": ["a", "b"], "dimensions": 4})
    );
    let v = serde_json::to_value(&e).unwrap();
    assert_eq!(v["data"].as_array().map(Vec::len), Some(2));
    assert_eq!(v["data"][1]["index"], 1);
    assert_eq!(v["usage"]["prompt_tokens"], 8);
}

#[tokio::test]
async fn errors_map_to_litellm_classes() {
    let mock = MockServer::start().await;
    let o = opts(&mock);
    let msgs = json!([{"role": "user", "content": "hi"}]);
    let e = llmgate::completion(
        req(json!({"model": "ollama_chat/mock-not-found", "messages": msgs})),
        &o,
    )
    .await
    .unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::NotFound, 404));
    assert!(
        e.message.contains("not found, try pulling it first"),
        "{}",
        e.message
    );
    let e = llmgate::completion(
        req(json!({"model": "ollama/mock-error-500", "messages": msgs})),
        &o,
    )
    .await
    .unwrap_err();
    assert_eq!(e.status, 500);
    assert_eq!(e.message, "mock error 500");
    // An error line in the middle of a stream ends it with that error.
    let chunks = stream(
        &o,
        json!({"model": "ollama_chat/mock-stream-error", "messages": msgs}),
    )
    .await;
    let last = chunks.last().unwrap().as_ref().unwrap_err();
    assert!(
        last.message.contains("error was encountered"),
        "{}",
        last.message
    );
    assert!(content(&chunks).starts_with("Hello"));
    // No server listening: a connection error, not a panic.
    let down = CallOptions {
        api_base: Some("http://127.0.0.1:9".into()),
        ..Default::default()
    };
    let e = llmgate::completion(
        req(json!({"model": "ollama/llama3", "messages": msgs})),
        &down,
    )
    .await
    .unwrap_err();
    assert_eq!(e.kind, ErrorKind::ApiConnection);
}

#[tokio::test]
async fn text_completions_send_the_prompt_as_it_is() {
    let mock = MockServer::start().await;
    let o = opts(&mock);
    let r: llmgate::CompletionRequest = serde_json::from_value(
        json!({"model": "ollama/llama3", "prompt": "Once upon", "max_tokens": 4}),
    )
    .unwrap();
    let a = Client::shared()
        .text_completion(r.clone(), &o)
        .await
        .unwrap()
        .body;
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/api/generate");
    assert_eq!(sent.body["prompt"], "Once upon");
    assert_eq!(sent.body["options"], json!({"num_predict": 4}));
    assert_eq!(a.choices[0].text, "Hello from Ollama");
    assert_eq!(a.usage.map(|u| u.total_tokens), Some(15));
    let mut s = r;
    s.stream = Some(true);
    let chunks: Vec<_> = Client::shared()
        .text_completion_stream(s, &o)
        .await
        .unwrap()
        .body
        .collect()
        .await;
    let text: String = chunks
        .iter()
        .map(|c| c.as_ref().unwrap())
        .flat_map(|c| &c.choices)
        .map(|c| c.text.as_str())
        .collect();
    assert_eq!(text, "Hello from Ollama");
}

#[tokio::test]
async fn generate_calls_tools_through_the_prompt() {
    let mock = MockServer::start().await;
    let tools = json!([{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]);
    let a = llmgate::completion(
        req(
            json!({"model": "ollama/llama3", "tools": tools, "tool_choice": "auto",
            "messages": [{"role": "user", "content": "weather?"}]}),
        ),
        &opts(&mock),
    )
    .await
    .unwrap();
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.body["format"], "json");
    assert!(sent.body.get("tools").is_none());
    assert!(sent.body["prompt"].as_str().unwrap().contains("{'type': 'function', 'function': {'name': 'get_weather', 'parameters': {'type': 'object'}}}"));
    let v = serde_json::to_value(&a).unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "tool_calls");
    assert_eq!(
        v["choices"][0]["message"]["tool_calls"][0]["function"]["arguments"],
        "{\"location\": \"Paris\"}"
    );
}
