//! The mock over real HTTP, as the gateway and the end-to-end suites see it.

use std::time::Duration;

use llmgate_mock::MockServer;
use serde_json::{json, Value};

async fn post(mock: &MockServer, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", mock.base_url()))
        .bearer_auth("sk-test")
        .json(&body)
        .send()
        .await
        .unwrap()
}

/// The JSON payloads of an SSE body, `[DONE]` kept as a string.
fn events(text: &str) -> Vec<Value> {
    text.split("\n\n")
        .filter_map(|e| e.strip_prefix("data: "))
        .map(|d| serde_json::from_str(d).unwrap_or_else(|_| json!(d)))
        .collect()
}

fn chat(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "hi"}]})
}

#[tokio::test]
async fn chat_answers_and_records_the_request() {
    let mock = MockServer::start().await;
    let res = post(&mock, "/v1/chat/completions?x=1", chat("gpt-4o")).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.headers()["x-request-id"], "mock-req-1");
    assert_eq!(res.headers()["openai-processing-ms"], "1");
    assert_eq!(res.headers()["content-type"], "application/json");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["model"], "gpt-4o");
    assert_eq!(body["choices"][0]["message"]["content"], "Hello from mock");
    assert_eq!(body["usage"]["total_tokens"], 15);

    let sent = mock.last_request().unwrap();
    assert_eq!(sent.method, "POST");
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.query.as_deref(), Some("x=1"));
    assert_eq!(sent.header("Authorization"), Some("Bearer sk-test"));
    assert_eq!(sent.body["model"], "gpt-4o");
    assert_eq!(mock.requests().len(), 1);
}

#[tokio::test]
async fn n_choices_and_tool_calls() {
    let mock = MockServer::start().await;
    let mut req = chat("gpt-4o");
    req["n"] = json!(3);
    let body: Value = post(&mock, "/chat/completions", req)
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["choices"].as_array().unwrap().len(), 3);

    let mut req = chat("gpt-tool");
    req["tools"] =
        json!([{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]);
    let body: Value = post(&mock, "/v1/chat/completions", req)
        .await
        .json()
        .await
        .unwrap();
    let choice = &body["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["id"], "call_mock_1");
    assert_eq!(call["function"]["name"], "get_weather");
    assert_eq!(call["function"]["arguments"], r#"{"location":"Paris"}"#);
}

#[tokio::test]
async fn rejects_what_the_real_api_rejects() {
    let mock = MockServer::start().await;
    let url = format!("{}/v1/chat/completions", mock.base_url());
    let res = reqwest::Client::new()
        .post(&url)
        .json(&chat("gpt-4o"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["message"], "You didn't provide an API key.");

    let res = reqwest::Client::new()
        .post(&url)
        .header("api-key", "k")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    assert_eq!(mock.last_request().unwrap().body, Value::Null);

    let res = post(&mock, "/v1/chat/completions", json!({"model": "gpt-4o"})).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "missing_required_parameter");

    let res = post(&mock, "/v1/nope", json!({})).await;
    assert_eq!(res.status(), 404);
    let body: Value = res.json().await.unwrap();
    assert!(body["error"]["message"].is_string());
}

#[tokio::test]
async fn error_models() {
    let mock = MockServer::start().await;
    let res = post(&mock, "/v1/chat/completions", chat("mock-error-429")).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "7");
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["type"], "rate_limit_exceeded");
    assert_eq!(body["error"]["message"], "mock error 429");

    let res = post(&mock, "/v1/completions", json!({"model": "mock-error-503"})).await;
    assert_eq!(res.status(), 503);

    let res = post(&mock, "/v1/chat/completions", chat("mock-context-window")).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "context_length_exceeded");
    assert_eq!(body["error"]["param"], "messages");

    let res = post(&mock, "/v1/chat/completions", chat("mock-stream-error")).await;
    assert_eq!(res.status(), 500);
}

#[tokio::test]
async fn streams_chat_with_usage() {
    let mock = MockServer::start().await;
    let mut req = chat("gpt-4o");
    req["stream"] = json!(true);
    req["stream_options"] = json!({"include_usage": true});
    let res = post(&mock, "/v1/chat/completions", req).await;
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let ev = events(&res.text().await.unwrap());
    assert_eq!(ev[0]["choices"][0]["delta"]["role"], "assistant");
    let text: String = ev
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(text, "Hello from mock");
    let n = ev.len();
    assert_eq!(ev[n - 3]["choices"][0]["finish_reason"], "stop");
    assert_eq!(ev[n - 2]["choices"], json!([]));
    assert_eq!(ev[n - 2]["usage"]["total_tokens"], 15);
    assert_eq!(ev[n - 1], "[DONE]");
    assert_eq!(mock.cancelled_streams(), 0);
}

#[tokio::test]
async fn streams_tool_calls_and_failures() {
    let mock = MockServer::start().await;
    let mut req = chat("my-tool-model");
    req["stream"] = json!(true);
    req["tools"] = json!([{"type": "function", "function": {"name": "get_weather"}}]);
    let ev = events(
        &post(&mock, "/v1/chat/completions", req)
            .await
            .text()
            .await
            .unwrap(),
    );
    let first = &ev[1]["choices"][0]["delta"]["tool_calls"][0];
    assert_eq!(first["id"], "call_mock_1");
    assert_eq!(first["function"]["name"], "get_weather");
    let args: String = ev
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str())
        .collect();
    assert_eq!(args, r#"{"location":"Paris"}"#);
    assert_eq!(
        ev[ev.len() - 2]["choices"][0]["finish_reason"],
        "tool_calls"
    );

    let mut req = chat("mock-stream-error");
    req["stream"] = json!(true);
    let ev = events(
        &post(&mock, "/v1/chat/completions", req)
            .await
            .text()
            .await
            .unwrap(),
    );
    assert_eq!(ev.len(), 4, "role chunk, two content chunks, error");
    assert_eq!(ev[3]["error"]["message"], "mock stream failure");
}

#[tokio::test]
async fn dropped_stream_counts_as_cancelled() {
    let mock = MockServer::start().await;
    let mut req = chat("mock-stream-slow-200");
    req["stream"] = json!(true);
    let mut res = post(&mock, "/v1/chat/completions", req).await;
    assert!(res.chunk().await.unwrap().is_some());
    drop(res);
    for _ in 0..50 {
        if mock.cancelled_streams() > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert_eq!(mock.cancelled_streams(), 1);
}

#[tokio::test]
async fn completions_json_and_stream() {
    let mock = MockServer::start().await;
    let body: Value = post(
        &mock,
        "/v1/completions",
        json!({"model": "gpt-3.5-turbo-instruct"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["object"], "text_completion");
    assert_eq!(body["choices"][0]["text"], "Hello from mock");

    let ev = events(
        &post(
            &mock,
            "/completions",
            json!({"model": "m", "stream": true, "stream_options": {"include_usage": true}}),
        )
        .await
        .text()
        .await
        .unwrap(),
    );
    let text: String = ev
        .iter()
        .filter_map(|c| c["choices"][0]["text"].as_str())
        .collect();
    assert_eq!(text, "Hello from mock");
    assert_eq!(ev[ev.len() - 2]["id"], "cmpl-mock");
    assert_eq!(ev[ev.len() - 1], "[DONE]");
}

#[tokio::test]
async fn embeddings_and_azure_deployments() {
    let mock = MockServer::start().await;
    let body: Value = post(
        &mock,
        "/v1/embeddings",
        json!({"model": "text-embedding-3-small", "input": ["a", "b"]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["data"].as_array().unwrap().len(), 2);
    assert_eq!(body["data"][1]["index"], 1);
    assert_eq!(body["data"][0]["embedding"].as_array().unwrap().len(), 8);
    assert_eq!(body["usage"]["prompt_tokens"], 4);

    // Token ids are one input; base64 is 8 little-endian f32s (32 bytes, 44 characters).
    let body: Value = azure_post(
        &mock,
        "/openai/deployments/my-embed/embeddings?api-version=2024-02-01",
        json!({"input": [1, 2, 3], "encoding_format": "base64"}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["model"], "my-embed");
    assert_eq!(body["data"][0]["embedding"].as_str().unwrap().len(), 44);

    let body: Value = azure_post(
        &mock,
        "/openai/deployments/mock-error-403/chat/completions?api-version=2024-10-21",
        json!({"messages": []}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert_eq!(body["error"]["type"], "permission_error");
}

async fn azure_post(mock: &MockServer, path: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{}{path}", mock.base_url()))
        .header("api-key", "azure-key")
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn azure_checks_the_version_and_the_credential() {
    let mock = MockServer::start().await;
    let chat = json!({"messages": [{"role": "user", "content": "hi"}]});
    let path = "/openai/deployments/d/chat/completions";
    let res = azure_post(&mock, path, chat.clone()).await;
    assert_eq!(res.status(), 404, "no api-version");
    let dated = format!("{path}?api-version=2024-10-21");
    // A key sent as a bearer is not a token this mock issued.
    assert_eq!(post(&mock, &dated, chat.clone()).await.status(), 401);
    let no_auth = reqwest::Client::new()
        .post(format!("{}{dated}", mock.base_url()))
        .json(&chat)
        .send()
        .await
        .unwrap();
    assert_eq!(no_auth.status(), 401);
    let body: Value = azure_post(&mock, &dated, chat.clone())
        .await
        .json()
        .await
        .unwrap();
    assert!(body["choices"][0]["content_filter_results"].is_object());

    // The client-credentials grant: a token that then opens the deployment paths.
    let http = reqwest::Client::new();
    let token_url = format!("{}/ttl-1-t/oauth2/v2.0/token", mock.base_url());
    let form = |secret: &str| {
        format!(
            "client_id=app&client_secret={secret}&grant_type=client_credentials&scope=https%3A%2F%2Fcognitiveservices.azure.com%2F.default"
        )
    };
    let bad = http
        .post(&token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form("wrong"))
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 401);
    let t: Value = http
        .post(&token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(form(llmgate_mock::AZURE_CLIENT_SECRET))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(t["expires_in"], 1);
    assert_eq!(mock.token_requests("ttl-1-t"), 2);
    let token = t["access_token"].as_str().unwrap();
    let with_token = |token: String| {
        http.post(format!("{}{dated}", mock.base_url()))
            .bearer_auth(token)
            .json(&chat)
            .send()
    };
    assert_eq!(with_token(token.into()).await.unwrap().status(), 200);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    assert_eq!(
        with_token(token.into()).await.unwrap().status(),
        401,
        "expired"
    );

    // The v1 API (under `/azure`): no version, a key as a bearer, Azure's dialect.
    let body: Value = post(
        &mock,
        "/azure/openai/v1/chat/completions",
        json!({"model": "d", "messages": [{"role": "user", "content": "hi"}]}),
    )
    .await
    .json()
    .await
    .unwrap();
    assert!(body["prompt_filter_results"].is_array());
}

#[tokio::test]
async fn azure_content_filter_cuts_answers_and_streams() {
    let mock = MockServer::start().await;
    let path =
        "/openai/deployments/mock-content-filter-output/chat/completions?api-version=2024-10-21";
    let chat = json!({"messages": [{"role": "user", "content": "hi"}]});
    let body: Value = azure_post(&mock, path, chat.clone())
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(body["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(
        body["choices"][0]["content_filter_results"]["violence"]["filtered"],
        true
    );
    let mut streamed = chat.clone();
    streamed["stream"] = json!(true);
    let text = azure_post(&mock, path, streamed)
        .await
        .text()
        .await
        .unwrap();
    let ev = events(&text);
    let finish = ev
        .iter()
        .find(|e| e["choices"][0]["finish_reason"].is_string())
        .unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "content_filter");
    let prompt = "/openai/deployments/mock-content-filter/chat/completions?api-version=2024-10-21";
    let res = azure_post(&mock, prompt, chat).await;
    assert_eq!(res.status(), 400);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["error"]["code"], "content_filter");
}

#[tokio::test]
async fn lists_models() {
    let mock = MockServer::start().await;
    for path in ["/models", "/v1/models"] {
        let body: Value = reqwest::get(format!("{}{path}", mock.base_url()))
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(body["object"], "list");
        assert_eq!(body["data"][0]["id"], "gpt-4o");
    }
}

#[tokio::test]
async fn behaviour_set_at_run_time_fails_a_model_then_recovers() {
    let mock = MockServer::start().await;
    let set = |body: Value| {
        let mock = mock.clone();
        async move { post(&mock, "/_mock/behaviour", body).await.status() }
    };
    let body =
        json!({"model": "cd-a", "behaviour": "mock-error-401", "times": 2, "retry_after": "1"});
    assert_eq!(set(body).await, 200);
    for _ in 0..2 {
        let res = post(&mock, "/v1/chat/completions", chat("cd-a")).await;
        assert_eq!(res.status(), 401);
        assert_eq!(res.headers()["retry-after"], "1");
    }
    // Only the next 2 requests, and only that model.
    assert_eq!(
        post(&mock, "/v1/chat/completions", chat("cd-a"))
            .await
            .status(),
        200
    );

    // Until cleared, streams too; a 429 set this way sends the given retry-after, not 7.
    assert_eq!(
        set(json!({"model": "cd-a", "behaviour": "mock-error-429", "retry_after": 2})).await,
        200
    );
    for _ in 0..3 {
        let mut req = chat("cd-a");
        req["stream"] = json!(true);
        let res = post(&mock, "/chat/completions", req).await;
        assert_eq!(res.status(), 429);
        assert_eq!(res.headers()["retry-after"], "2");
    }
    assert_eq!(
        post(
            &mock,
            "/v1/embeddings",
            json!({"model": "cd-a", "input": "x"})
        )
        .await
        .status(),
        429
    );
    assert_eq!(
        post(&mock, "/v1/chat/completions", chat("cd-b"))
            .await
            .status(),
        200
    );
    assert_eq!(set(json!({"model": "cd-a", "behaviour": null})).await, 200);
    let res = post(&mock, "/v1/chat/completions", chat("cd-a")).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers().get("retry-after").is_none());

    // A failing name made healthy: any name that picks no behaviour answers normally.
    mock.set_behaviour(
        "mock-error-500",
        Some(llmgate_mock::Override {
            behaviour: llmgate_mock::Behaviour::Normal,
            times: None,
            retry_after: None,
        }),
    );
    assert_eq!(
        post(&mock, "/v1/chat/completions", chat("mock-error-500"))
            .await
            .status(),
        200
    );
    assert_eq!(
        set(json!({"behaviour": "mock-error-500"})).await,
        400,
        "model is required"
    );
}
