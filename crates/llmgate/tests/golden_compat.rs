//! Golden snapshots of the OpenAI-compatible rows: each `fixtures/chat/*.json` request sent
//! through the SDK to the mock upstream, and the body the mock received, per provider
//! (`snapshots/<fixture>.<provider>.snap`). The bodies are what LiteLLM 1.110.2 sends for the
//! same request (`scripts/compare/mistral.py` checks that against a local LiteLLM).

use futures::StreamExt;
use llmgate::{CallOptions, ChatCompletionRequest, Client, ErrorKind};
use llmgate_mock::MockServer;
use serde_json::Value;

const FIXTURES: &[&str] = &[
    "basic",
    "full",
    "tool-call",
    "multi-turn-tools",
    "reasoning",
];
const PROVIDERS: &[&str] = &["openai", "mistral", "codestral"];

fn request(fixture: &str) -> ChatCompletionRequest {
    let path = match fixture {
        "basic" | "full" => format!(
            "{}/tests/fixtures/{fixture}.json",
            env!("CARGO_MANIFEST_DIR")
        ),
        _ => format!(
            "{}/tests/fixtures/chat/{fixture}.json",
            env!("CARGO_MANIFEST_DIR")
        ),
    };
    serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap()
}

fn opts(mock: &MockServer, drop_params: bool) -> CallOptions {
    CallOptions {
        api_base: Some(format!("{}/v1", mock.base_url())),
        api_key: Some("sk-up".into()),
        drop_params,
        ..Default::default()
    }
}

/// Sends `req` as `provider/<model>` and returns the body the upstream received.
async fn sent(
    mock: &MockServer,
    provider: &str,
    mut req: ChatCompletionRequest,
    drop_params: bool,
) -> Result<Value, llmgate::LlmError> {
    req.model = format!("{provider}/{}", req.model);
    let opts = opts(mock, drop_params);
    if req.is_stream() {
        let res = Client::shared().chat_stream(req, &opts).await?;
        let chunks: Vec<_> = res.body.collect().await;
        assert!(chunks.iter().all(Result::is_ok));
    } else {
        Client::shared().chat(req, &opts).await?;
    }
    Ok(mock.last_request().unwrap().body)
}

#[tokio::test]
async fn upstream_bodies() {
    let mock = MockServer::start().await;
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    let _guard = settings.bind_to_scope();
    for fixture in FIXTURES {
        for provider in PROVIDERS {
            // `full` asks for reasoning on a model Mistral gives none: dropped, as a proxy with
            // drop_params does (the error is pinned below).
            let drop = *fixture == "full";
            let body = sent(&mock, provider, request(fixture), drop).await.unwrap();
            insta::assert_json_snapshot!(format!("{fixture}.{provider}"), body);
        }
    }
}

#[tokio::test]
async fn tool_schema_key_order_is_kept() {
    let mock = MockServer::start().await;
    for provider in PROVIDERS {
        let body = sent(&mock, provider, request("tool-call"), false)
            .await
            .unwrap();
        let params = &body["tools"][0]["function"]["parameters"];
        let keys: Vec<&String> = params["properties"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["zeta", "alpha", "mid"], "{provider}");
        let inner: Vec<&String> = params["properties"]["mid"]["properties"]
            .as_object()
            .unwrap()
            .keys()
            .collect();
        assert_eq!(inner, ["y", "b"], "{provider}");
    }
}

#[tokio::test]
async fn mistral_refuses_what_litellm_refuses() {
    let mock = MockServer::start().await;
    let mut req = request("basic");
    req.n = Some(2);
    let e = sent(&mock, "mistral", req.clone(), false)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedParams);
    assert!(
        e.message.contains("['n']") || e.message.contains("\"n\""),
        "{}",
        e.message
    );
    let body = sent(&mock, "mistral", req, true).await.unwrap();
    assert!(body.get("n").is_none());

    let mut req = request("full");
    req.model = "mistral-large-latest".into();
    let e = sent(&mock, "mistral", req, false).await.unwrap_err();
    assert!(e.message.contains("reasoning_effort"), "{}", e.message);

    let mut req = request("tool-call");
    req.tool_choice = Some(serde_json::json!("whatever"));
    let e = sent(&mock, "mistral", req.clone(), false)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedParams);
    assert!(
        e.message.contains("Unsupported tool_choice"),
        "{}",
        e.message
    );
    let body = sent(&mock, "mistral", req, true).await.unwrap();
    assert!(body.get("tool_choice").is_none());
}
