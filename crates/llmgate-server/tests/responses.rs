//! `/v1/responses` in-process: streams the client leaves, `mock_response` deployments, and
//! stored responses without a database (kept in memory).

use std::time::Duration;

use futures::StreamExt;
use llmgate_mock::MockServer;
use llmgate_server::config::Config;
use llmgate_server::routes::router;
use llmgate_server::state::AppState;
use serde_json::{json, Value};

const MASTER: &str = "sk-test-master-key-0123456789";

async fn start(mock: &MockServer) -> String {
    let yaml = format!(
        r#"
model_list:
  - model_name: chat-slow
    litellm_params:
      model: hosted_vllm/mock-stream-slow-200
      api_base: {base}/v1
      api_key: sk-upstream
  - model_name: native-slow
    litellm_params:
      model: openai/mock-stream-slow-200
      api_base: {base}/v1
      api_key: sk-upstream
  - model_name: chat
    litellm_params:
      model: hosted_vllm/qwen
      api_base: {base}/v1
      api_key: sk-upstream
  - model_name: demo
    litellm_params:
      model: openai/anything
      mock_response: "Hi there from the demo"
general_settings:
  master_key: {MASTER}
"#,
        base = mock.base_url()
    );
    let cfg = Config::from_yaml_str(&yaml, "test.yaml").expect("config parses");
    let app = router(AppState::new(cfg));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

async fn post(url: &str, body: Value) -> reqwest::Response {
    reqwest::Client::new()
        .post(format!("{url}/v1/responses"))
        .bearer_auth(MASTER)
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn a_client_that_leaves_cancels_the_upstream_stream() {
    let mock = MockServer::start().await;
    let url = start(&mock).await;
    for (n, model) in ["chat-slow", "native-slow"].into_iter().enumerate() {
        let res = post(&url, json!({"model": model, "input": "hi", "stream": true})).await;
        assert_eq!(res.status(), 200);
        let mut stream = res.bytes_stream();
        let first = stream.next().await.unwrap().unwrap();
        assert!(
            first.starts_with(b"event: response.created\ndata: "),
            "{first:?}"
        );
        drop(stream);
        let mut cancelled = 0;
        for _ in 0..50 {
            cancelled = mock.cancelled_streams();
            if cancelled > n {
                break;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(cancelled, n + 1, "{model}");
    }
}

#[tokio::test]
async fn mock_response_deployments_answer_through_the_bridge() {
    let mock = MockServer::start().await;
    let url = start(&mock).await;
    let r: Value = post(&url, json!({"model": "demo", "input": "hi"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        r["output"][0]["content"][0]["text"],
        "Hi there from the demo"
    );
    assert_eq!(r["model"], "demo");
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn without_a_database_responses_are_kept_in_memory() {
    let mock = MockServer::start().await;
    let url = start(&mock).await;
    let r1: Value = post(&url, json!({"model": "chat", "input": "first"}))
        .await
        .json()
        .await
        .unwrap();
    let id = r1["id"].as_str().unwrap();
    let r2 = post(
        &url,
        json!({"model": "chat", "input": "second", "previous_response_id": id}),
    )
    .await;
    assert_eq!(r2.status(), 200);
    let sent = mock.last_request().unwrap().body;
    let roles: Vec<&str> = sent["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["role"].as_str().unwrap())
        .collect();
    assert_eq!(roles, ["user", "assistant", "user"]);
    let got = reqwest::Client::new()
        .get(format!("{url}/v1/responses/{id}"))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    assert_eq!(got.status(), 200);
    let unknown = reqwest::Client::new()
        .get(format!("{url}/responses/resp_nope"))
        .bearer_auth(MASTER)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 404);
    let body: Value = unknown.json().await.unwrap();
    assert_eq!(
        body["error"]["message"],
        "Response with id 'resp_nope' not found."
    );
}
