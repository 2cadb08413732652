//! The gateway in-process (real router, real listener) against the OpenAI mock upstream.

use std::time::Duration;

use futures::StreamExt;
use llmgate_mock::MockServer;
use llmgate_server::config::Config;
use llmgate_server::routes::router;
use llmgate_server::state::AppState;
use serde_json::{json, Value};

const MASTER: &str = "sk-test-master-key-0123456789";

struct Gateway {
    url: String,
    http: reqwest::Client,
}

impl Gateway {
    async fn start(yaml: &str) -> Gateway {
        let cfg = Config::from_yaml_str(yaml, "test.yaml").expect("config parses");
        let app = router(AppState::new(cfg));
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Gateway {
            url: format!("http://{addr}"),
            http: reqwest::Client::new(),
        }
    }

    async fn post(&self, path: &str, body: Value) -> reqwest::Response {
        self.http
            .post(format!("{}{path}", self.url))
            .bearer_auth(MASTER)
            .json(&body)
            .send()
            .await
            .unwrap()
    }
}

fn config(mock: &MockServer, extra: &str) -> String {
    format!(
        r#"
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: {base}/v1
      api_key: sk-upstream
  - model_name: limited
    litellm_params:
      model: openai/mock-error-429
      api_base: {base}/v1
      api_key: sk-upstream
  - model_name: broken
    litellm_params:
      model: openai/mock-error-500
      api_base: {base}/v1
      api_key: sk-upstream
  - model_name: too-long
    litellm_params:
      model: openai/mock-context-window
      api_base: {base}/v1
      api_key: sk-upstream
  - model_name: slow
    litellm_params:
      model: openai/mock-slow-3000
      api_base: {base}/v1
      api_key: sk-upstream
      timeout: 0.3
  - model_name: down
    litellm_params:
      model: openai/gpt-4o
      api_base: http://127.0.0.1:9/v1
      api_key: sk-upstream
  - model_name: stream-error
    litellm_params:
      model: openai/mock-stream-error
      api_base: {base}/v1
      api_key: sk-upstream
  - model_name: stream-slow
    litellm_params:
      model: openai/mock-stream-slow-200
      api_base: {base}/v1
      api_key: sk-upstream
  - model_name: demo
    litellm_params:
      model: openai/anything
      mock_response: "Hi there from the demo"
  - model_name: groq-model
    litellm_params:
      model: groq/llama-3.1-8b-instant
      api_base: {base}/v1
      api_key: sk-groq
  - model_name: embed
    litellm_params:
      model: openai/text-embedding-3-small
      api_base: {base}/v1
      api_key: sk-upstream
general_settings:
  master_key: {MASTER}
{extra}
"#,
        base = mock.base_url()
    )
}

fn chat_body(model: &str) -> Value {
    json!({"model": model, "messages": [{"role": "user", "content": "Hello"}]})
}

#[tokio::test]
async fn chat_is_forwarded_and_answered_with_litellm_headers() {
    let mock = MockServer::start().await;
    let gw = Gateway::start(&config(&mock, "")).await;
    let mut body = chat_body("gpt-4o");
    body["prediction"] = json!({"type": "content", "content": "x"});
    body["mock_response"] = json!("client mocks are ignored");
    body["temperature"] = json!(0.2);
    let res = gw.post("/v1/chat/completions", body).await;
    assert_eq!(res.status(), 200);
    let h = res.headers().clone();
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["model"], "gpt-4o");
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "Hello from mock"
    );
    assert_eq!(answer["usage"]["total_tokens"], 15);
    assert_eq!(h["x-litellm-model-group"], "gpt-4o");
    assert_eq!(h["x-litellm-attempted-retries"], "0");
    assert_eq!(h["llm_provider-x-request-id"], "mock-req-1");
    assert_eq!(
        h["x-litellm-model-api-base"],
        format!("{}/v1", mock.base_url()).as_str()
    );
    assert_eq!(h["x-litellm-model-id"].len(), 64);
    assert!(h.contains_key("x-litellm-call-id"));
    assert!(h.contains_key("x-litellm-overhead-duration-ms"));
    // gpt-4o: 10 prompt tokens at 2.5e-6 and 5 completion tokens at 1e-5.
    let cost: f64 = h["x-litellm-response-cost"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((cost - 7.5e-5).abs() < 1e-12, "{cost}");

    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/v1/chat/completions");
    assert_eq!(sent.header("authorization"), Some("Bearer sk-upstream"));
    assert_eq!(sent.body["model"], "gpt-4o");
    assert_eq!(sent.body["temperature"], 0.2);
    assert_eq!(sent.body["prediction"]["type"], "content");
    assert!(sent.body.get("mock_response").is_none());
}

#[tokio::test]
async fn every_key_header_is_accepted_and_bad_keys_get_401() {
    let mock = MockServer::start().await;
    let gw = Gateway::start(&config(&mock, "")).await;
    for (name, value) in [
        ("authorization", format!("Bearer {MASTER}")),
        ("api-key", MASTER.to_string()),
        ("x-api-key", MASTER.to_string()),
        ("x-litellm-api-key", MASTER.to_string()),
    ] {
        let res = gw
            .http
            .get(format!("{}/v1/models", gw.url))
            .header(name, value)
            .send()
            .await
            .unwrap();
        assert_eq!(res.status(), 200, "{name}");
    }
    let res = gw
        .http
        .post(format!("{}/chat/completions", gw.url))
        .bearer_auth("sk-wrong")
        .json(&chat_body("gpt-4o"))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["type"], "auth_error");
    assert_eq!(err["error"]["code"], "401");
    let res = gw
        .http
        .get(format!("{}/models", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 401);
    // Probes stay open.
    let res = gw
        .http
        .get(format!("{}/health/liveliness", gw.url))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn upstream_errors_map_to_openai_errors() {
    let mock = MockServer::start().await;
    let gw = Gateway::start(&config(&mock, "")).await;

    let res = gw.post("/chat/completions", chat_body("limited")).await;
    assert_eq!(res.status(), 429);
    assert_eq!(res.headers()["retry-after"], "7");
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["code"], "429");
    assert_eq!(err["error"]["type"], "throttling_error");
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("litellm.RateLimitError: RateLimitError: OpenAIException - "));

    let res = gw.post("/chat/completions", chat_body("broken")).await;
    assert_eq!(res.status(), 500);
    let err: Value = res.json().await.unwrap();
    assert_eq!(err["error"]["type"], "internal_server_error");

    let res = gw.post("/chat/completions", chat_body("too-long")).await;
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("ContextWindowExceededError"));

    let res = gw.post("/chat/completions", chat_body("slow")).await;
    assert_eq!(res.status(), 408);

    let res = gw.post("/chat/completions", chat_body("down")).await;
    assert_eq!(res.status(), 500);
    let err: Value = res.json().await.unwrap();
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("APIConnectionError"));

    let res = gw
        .post("/chat/completions", chat_body("no-such-model"))
        .await;
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("Invalid model name passed in model=no-such-model"));

    let res = gw
        .http
        .post(format!("{}/chat/completions", gw.url))
        .bearer_auth(MASTER)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert!(err["error"]["message"].is_string());
}

#[tokio::test]
async fn streams_pass_chunks_through_with_usage_and_done() {
    let mock = MockServer::start().await;
    let gw = Gateway::start(&config(&mock, "")).await;
    let mut body = chat_body("gpt-4o");
    body["stream"] = json!(true);
    body["stream_options"] = json!({"include_usage": true});
    let res = gw.post("/chat/completions", body).await;
    assert_eq!(res.status(), 200);
    assert!(res.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/event-stream"));
    let text = res.text().await.unwrap();
    let events: Vec<&str> = text
        .split("\n\n")
        .filter(|e| !e.is_empty())
        .map(|e| e.strip_prefix("data: ").unwrap())
        .collect();
    assert_eq!(*events.last().unwrap(), "[DONE]");
    let chunks: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let content: String = chunks
        .iter()
        .filter_map(|c| c["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "Hello from mock");
    assert!(chunks.iter().all(|c| c["model"] == "gpt-4o"));
    assert_eq!(chunks.last().unwrap()["usage"]["total_tokens"], 15);
    assert!(chunks.last().unwrap()["usage"]["cost"].as_f64().unwrap() > 0.0);
    assert_eq!(
        mock.last_request().unwrap().body["stream_options"]["include_usage"],
        true
    );
}

#[tokio::test]
async fn an_error_mid_stream_reaches_the_client() {
    let mock = MockServer::start().await;
    let gw = Gateway::start(&config(&mock, "")).await;
    let mut body = chat_body("stream-error");
    body["stream"] = json!(true);
    let text = gw
        .post("/chat/completions", body)
        .await
        .text()
        .await
        .unwrap();
    let last = text.trim_end().rsplit("\n\n").next().unwrap();
    let err: Value = serde_json::from_str(last.strip_prefix("data: ").unwrap()).unwrap();
    assert!(err["error"]["message"].is_string(), "{text}");
    assert!(!text.contains("[DONE]"));
}

#[tokio::test]
async fn a_client_that_leaves_cancels_the_upstream_stream() {
    let mock = MockServer::start().await;
    let gw = Gateway::start(&config(&mock, "")).await;
    let mut body = chat_body("stream-slow");
    body["stream"] = json!(true);
    let res = gw.post("/chat/completions", body).await;
    let mut stream = res.bytes_stream();
    let first = stream.next().await.unwrap().unwrap();
    assert!(first.starts_with(b"data: "));
    drop(stream);
    let mut cancelled = 0;
    for _ in 0..50 {
        cancelled = mock.cancelled_streams();
        if cancelled > 0 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(cancelled, 1);
}

#[tokio::test]
async fn mock_response_deployments_answer_without_upstream() {
    let mock = MockServer::start().await;
    let gw = Gateway::start(&config(&mock, "")).await;
    let res = gw.post("/chat/completions", chat_body("demo")).await;
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["model"], "demo");
    assert_eq!(
        answer["choices"][0]["message"]["content"],
        "Hi there from the demo"
    );
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn unsupported_params_fail_unless_dropped() {
    let mock = MockServer::start().await;
    let gw = Gateway::start(&config(&mock, "")).await;
    let mut body = chat_body("groq-model");
    // Groq takes reasoning_effort only on its reasoning models (as LiteLLM decides).
    body["reasoning_effort"] = json!("low");
    let res = gw.post("/chat/completions", body.clone()).await;
    assert_eq!(res.status(), 400);
    let err: Value = res.json().await.unwrap();
    assert!(err["error"]["message"]
        .as_str()
        .unwrap()
        .contains("UnsupportedParamsError"));

    let gw = Gateway::start(&config(&mock, "litellm_settings:\n  drop_params: true")).await;
    let res = gw.post("/chat/completions", body).await;
    assert_eq!(res.status(), 200);
    let sent = mock.last_request().unwrap();
    assert!(sent.body.get("reasoning_effort").is_none());
    assert_eq!(sent.header("authorization"), Some("Bearer sk-groq"));
}

#[tokio::test]
async fn retries_move_to_a_healthy_deployment() {
    let mock = MockServer::start().await;
    let yaml = format!(
        r#"
model_list:
  - model_name: pair
    litellm_params: {{model: openai/mock-error-500, api_base: "{b}/v1", api_key: k}}
  - model_name: pair
    litellm_params: {{model: openai/gpt-4o, api_base: "{b}/v1", api_key: k}}
router_settings:
  num_retries: 3
"#,
        b = mock.base_url()
    );
    let gw = Gateway::start(&yaml).await;
    for _ in 0..5 {
        let res = gw.post("/chat/completions", chat_body("pair")).await;
        assert_eq!(res.status(), 200);
        let retries: u32 = res.headers()["x-litellm-attempted-retries"]
            .to_str()
            .unwrap()
            .parse()
            .unwrap();
        assert!(retries <= 1);
    }
}

#[tokio::test]
async fn embeddings_completions_models_and_token_counter() {
    let mock = MockServer::start().await;
    let gw = Gateway::start(&config(&mock, "")).await;
    let res = gw
        .post(
            "/embeddings",
            json!({"model": "embed", "input": ["a", "b"]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let e: Value = res.json().await.unwrap();
    assert_eq!(e["data"].as_array().unwrap().len(), 2);
    assert_eq!(e["model"], "embed");

    let res = gw
        .post(
            "/v1/completions",
            json!({"model": "gpt-4o", "prompt": "Say hi"}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let c: Value = res.json().await.unwrap();
    assert_eq!(c["object"], "text_completion");
    assert_eq!(mock.last_request().unwrap().path, "/v1/completions");

    let res = gw
        .http
        .get(format!("{}/models", gw.url))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    let m: Value = res.json().await.unwrap();
    let ids: Vec<&str> = m["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["id"].as_str().unwrap())
        .collect();
    assert_eq!(ids[0], "gpt-4o");
    assert!(ids.contains(&"demo"));

    let res = gw
        .http
        .get(format!("{}/model/info", gw.url))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    let info: Value = res.json().await.unwrap();
    let first = &info["data"][0];
    assert_eq!(first["model_name"], "gpt-4o");
    assert!(first["litellm_params"].get("api_key").is_none());
    assert_eq!(first["model_info"]["max_input_tokens"], 128000);

    let res = gw
        .post(
            "/utils/token_counter",
            json!({"model": "gpt-4o", "messages": [{"role": "user", "content": "hello world"}]}),
        )
        .await;
    assert_eq!(res.status(), 200);
    let t: Value = res.json().await.unwrap();
    assert!(t["total_tokens"].as_u64().unwrap() > 2);
    assert_eq!(t["request_model"], "gpt-4o");
}

#[tokio::test]
async fn azure_style_client_path_names_the_model() {
    let mock = MockServer::start().await;
    let gw = Gateway::start(&config(&mock, "")).await;
    let res = gw
        .http
        .post(format!(
            "{}/openai/deployments/gpt-4o/chat/completions?api-version=2024-10-21",
            gw.url
        ))
        .header("api-key", MASTER)
        .json(&json!({"messages": [{"role": "user", "content": "hi"}]}))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    let answer: Value = res.json().await.unwrap();
    assert_eq!(answer["model"], "gpt-4o");
}
