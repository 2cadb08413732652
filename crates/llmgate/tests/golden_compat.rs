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

fn chat(model: &str, body: Value) -> ChatCompletionRequest {
    let mut v = body;
    v["model"] = model.into();
    serde_json::from_value(v).unwrap()
}

fn hi() -> Value {
    serde_json::json!({"messages": [
        {"role": "system", "content": "Be brief."},
        {"role": "developer", "content": "Answer in French.", "name": "dev"},
        {"role": "user", "content": "Hi"}]})
}

/// The model families of the openai row as LiteLLM tells them apart (o-series, catalog GPT
/// models, names it does not know) and Mistral's reasoning levels: the bodies sent.
#[tokio::test]
async fn model_families() {
    let mock = MockServer::start().await;
    let mut settings = insta::Settings::clone_current();
    settings.set_prepend_module_to_snapshot(false);
    let _guard = settings.bind_to_scope();
    let mut with = hi();
    with["max_tokens"] = 30.into();
    with["reasoning_effort"] = "low".into();
    let cases = [
        ("o-series", "openai", "o3-mini"),
        ("gpt", "openai", "gpt-4o-mini"),
        ("gpt-5", "openai", "gpt-5-mini"),
        ("reasoning-levels", "mistral", "mistral-small-latest"),
    ];
    for (name, provider, model) in cases {
        let mut body = with.clone();
        if name == "gpt" {
            body.as_object_mut()
                .unwrap()
                .shift_remove("reasoning_effort");
        }
        let sent = sent(&mock, provider, chat(model, body), false)
            .await
            .unwrap();
        insta::assert_json_snapshot!(format!("family-{name}.{provider}"), sent);
    }
}

#[tokio::test]
async fn refused_as_litellm_refuses() {
    let mock = MockServer::start().await;
    let mut body = hi();
    body["reasoning_effort"] = "low".into();
    // gpt-4o does not reason; a name the catalog does not know may (a proxy alias).
    let e = sent(&mock, "openai", chat("gpt-4o", body.clone()), false)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedParams);
    assert!(e.message.contains("['reasoning_effort']"), "{}", e.message);
    let b = sent(&mock, "openai", chat("my-alias", body.clone()), false)
        .await
        .unwrap();
    assert_eq!(b["reasoning_effort"], "low");
    let b = sent(&mock, "openai", chat("gpt-4o", body), true)
        .await
        .unwrap();
    assert!(b.get("reasoning_effort").is_none());

    let mut body = hi();
    body["temperature"] = serde_json::json!(0.3);
    body["top_p"] = serde_json::json!(0.5);
    let e = sent(&mock, "openai", chat("o3-mini", body.clone()), false)
        .await
        .unwrap_err();
    assert!(e.message.contains("top_p"), "{}", e.message);
    let b = sent(&mock, "openai", chat("o3-mini", body), true)
        .await
        .unwrap();
    assert!(b.get("temperature").is_none() && b.get("top_p").is_none());

    // The first gpt-5 models always reason: temperature 1 only, no top_p or stop.
    let mut body = hi();
    body["temperature"] = serde_json::json!(0.3);
    let e = sent(&mock, "openai", chat("gpt-5-mini", body), false)
        .await
        .unwrap_err();
    assert!(e.message.contains("temperature=0.3"), "{}", e.message);
    let mut body = hi();
    body["stop"] = serde_json::json!(["END"]);
    let e = sent(&mock, "azure", chat("gpt-5-mini", body), false)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedParams);
    assert!(e.message.contains("'stop'"), "{}", e.message);

    // Mistral: a model that does not reason takes no reasoning_effort.
    let mut body = hi();
    body["reasoning_effort"] = "high".into();
    let e = sent(&mock, "mistral", chat("mistral-large-latest", body), false)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedParams);
}

/// Vendor fields of a choice (Azure's content filter verdicts) are in `provider_specific_fields`,
/// as LiteLLM returns them; the answer's own extra fields stay where they are.
#[tokio::test]
async fn azure_filter_results_are_provider_fields() {
    let mock = MockServer::start().await;
    let opts = CallOptions {
        api_base: Some(mock.base_url()),
        api_key: Some("k".into()),
        api_version: Some("2024-10-21".into()),
        ..Default::default()
    };
    let answer = Client::shared()
        .chat(chat("azure/gpt-4o", hi()), &opts)
        .await
        .unwrap()
        .body;
    let v = serde_json::to_value(&answer).unwrap();
    let choice = &v["choices"][0];
    assert!(choice.get("content_filter_results").is_none(), "{choice}");
    assert_eq!(
        choice["provider_specific_fields"]["content_filter_results"]["hate"]["filtered"],
        false
    );
    assert!(v["prompt_filter_results"].is_array());
    // The developer turn went as a system turn, its content only.
    let sent = mock.last_request().unwrap().body;
    assert_eq!(
        sent["messages"][1],
        serde_json::json!({"role": "system", "content": "Answer in French."})
    );
}

/// Mistral's streamed usage has no details: LiteLLM's stream builder adds them.
#[tokio::test]
async fn mistral_stream_usage_gets_text_tokens() {
    let mock = MockServer::start().await;
    let mut body = hi();
    body["stream"] = true.into();
    let mut req = chat("mistral/mistral-small-latest", body);
    req.model = "mistral/mistral-small-latest".into();
    let res = Client::shared()
        .chat_stream(req, &opts(&mock, false))
        .await
        .unwrap();
    let chunks: Vec<_> = res.body.collect().await;
    let usage = chunks
        .iter()
        .rev()
        .find_map(|c| c.as_ref().ok()?.usage.clone())
        .expect("usage on the finish chunk");
    let v = serde_json::to_value(&usage).unwrap();
    assert_eq!(
        v["completion_tokens_details"],
        serde_json::json!({"reasoning_tokens": 0, "text_tokens": usage.completion_tokens})
    );
}

/// Mistral's and the OpenAI-compatible vendors' errors map as OpenAI's do in LiteLLM: a 413 is
/// an `APIError` with its status, not a context-window error.
#[tokio::test]
async fn vendor_413_is_an_api_error() {
    let mock = MockServer::start().await;
    for provider in ["mistral", "groq", "deepseek"] {
        let e = sent(&mock, provider, chat("mock-error-413", hi()), false)
            .await
            .unwrap_err();
        assert_eq!((e.kind, e.status), (ErrorKind::Api, 413), "{provider}");
    }
}

/// Codestral's fill-in-the-middle: the api_base is the endpoint, `seed` is `random_seed`, `user`
/// is left out, the chat-shaped answer comes back as a text completion.
#[tokio::test]
async fn codestral_fim() {
    let mock = MockServer::start().await;
    let opts = CallOptions {
        api_base: Some(format!("{}/v1/fim/completions", mock.base_url())),
        api_key: Some("sk-up".into()),
        ..Default::default()
    };
    let req: llmgate::CompletionRequest = serde_json::from_value(serde_json::json!({
        "model": "text-completion-codestral/codestral-latest", "prompt": "def f(",
        "suffix": "return 1", "max_tokens": 20, "seed": 3, "user": "u1"}))
    .unwrap();
    let answer = Client::shared()
        .text_completion(req.clone(), &opts)
        .await
        .unwrap()
        .body;
    assert_eq!(answer.choices[0].text, "Hello from mock");
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/v1/fim/completions");
    assert_eq!(
        sent.body,
        serde_json::json!({"model": "codestral-latest", "prompt": "def f(", "max_tokens": 20,
                           "suffix": "return 1", "random_seed": 3})
    );
    let mut refused = req;
    refused.extra.insert("logprobs".into(), 2.into());
    let e = Client::shared()
        .text_completion(refused, &opts)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedParams);
}
