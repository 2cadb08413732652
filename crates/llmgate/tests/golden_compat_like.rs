//! Golden snapshots of a few JSON-defined OpenAI-like rows (and Databricks, Hugging Face): the
//! `full` fixture sent through the SDK to the mock upstream, and the body and path it received
//! (`snapshots/like.<provider>.snap`). Rows with LiteLLM's `max_completion_tokens` to
//! `max_tokens` mapping send the latter; the others pass it through. The bodies are what
//! LiteLLM 1.110.2 sends for the same request (`scripts/compare/like.py` checks that).

use futures::StreamExt;
use llmgate::{CallOptions, ChatCompletionRequest, Client, CompletionRequest};
use llmgate_mock::MockServer;
use serde_json::{json, Value};

const PROVIDERS: &[&str] = &[
    "databricks",
    "huggingface",
    "cloudflare",
    "publicai",
    "helicone",
    "chutes",
];

fn request() -> ChatCompletionRequest {
    let path = format!("{}/tests/fixtures/full.json", env!("CARGO_MANIFEST_DIR"));
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn opts(mock: &MockServer) -> CallOptions {
    CallOptions {
        api_base: Some(format!("{}/v1/", mock.base_url())),
        api_key: Some("sk-up".into()),
        // `full` asks for tools and reasoning of a model the catalog does not know: dropped,
        // as a proxy with drop_params does.
        drop_params: true,
        ..Default::default()
    }
}

#[tokio::test]
async fn upstream_bodies() {
    let mock = MockServer::start().await;
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    let _guard = settings.bind_to_scope();
    for provider in PROVIDERS {
        let mut req = request();
        req.model = format!("{provider}/some-org/some-model");
        let res = Client::shared()
            .chat_stream(req, &opts(&mock))
            .await
            .unwrap();
        let chunks: Vec<_> = res.body.collect().await;
        assert!(chunks.iter().all(Result::is_ok), "{provider}");
        let sent = mock.last_request().unwrap();
        assert_eq!(sent.path, "/v1/chat/completions", "{provider}");
        assert_eq!(sent.header("authorization"), Some("Bearer sk-up"));
        insta::assert_json_snapshot!(format!("like.{provider}"), sent.body);
    }
}

#[tokio::test]
async fn text_completions_stay_native_on_compatible_rows() {
    // An OpenAI-compatible row keeps its own /completions; only chat-only providers bridge.
    let mock = MockServer::start().await;
    let req: CompletionRequest =
        serde_json::from_value(json!({"model": "databricks/m", "prompt": "Say hi"})).unwrap();
    let a = Client::shared()
        .text_completion(req, &opts(&mock))
        .await
        .unwrap()
        .body;
    assert_eq!(a.choices[0].text, "Hello from mock");
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/v1/completions");
    assert_eq!(sent.body["prompt"], Value::from("Say hi"));
}
