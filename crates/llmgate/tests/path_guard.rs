//! Client-chosen names never choose an upstream path: per provider family, a hostile model
//! name is a 400 and the mock upstream sees no request at all (not even a token exchange),
//! while the real resource names each provider uses still reach the right path.

use llmgate::{
    CallOptions, ChatCompletionRequest, Client, CompletionRequest, EmbeddingRequest, ErrorKind,
    LlmError,
};
use llmgate_mock::MockServer;
use serde_json::{json, Value};

const HOSTILE: &[&str] = &[
    "../../v1/evil",
    "x?alt=evil",
    "x%2F..%2Fevil",
    "x#frag",
    "x/../../../evil",
    "x\\..\\evil",
    "x y",
    "x\nHost: evil",
    "",
];

fn chat_req(model: &str) -> ChatCompletionRequest {
    serde_json::from_value(json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}))
        .unwrap()
}

fn embed_req(model: &str) -> EmbeddingRequest {
    EmbeddingRequest {
        model: model.into(),
        input: json!("hi"),
        ..Default::default()
    }
}

fn assert_refused<T>(r: Result<T, LlmError>, what: &str) {
    let Err(e) = r else {
        panic!("{what}: accepted");
    };
    assert_eq!(
        (e.kind, e.status),
        (ErrorKind::BadRequest, 400),
        "{what}: {e}"
    );
}

/// Every call shape the family's adapter builds a URL for, with `model`; all must be refused.
async fn refuse_all(mock: &MockServer, o: &CallOptions, prefix: &str, completions: bool) {
    let c = Client::shared();
    for name in HOSTILE {
        let model = format!("{prefix}/{name}");
        assert_refused(c.chat(chat_req(&model), o).await, &model);
        assert_refused(c.chat_stream(chat_req(&model), o).await, &model);
        assert_refused(c.embedding(embed_req(&model), o).await, &model);
        if completions {
            let r = CompletionRequest {
                model: model.clone(),
                prompt: json!("hi"),
                ..Default::default()
            };
            assert_refused(c.text_completion(r, o).await, &model);
        } else {
            assert_refused(c.count_tokens(chat_req(&model), o).await, &model);
        }
    }
    let seen: Vec<String> = mock.requests().iter().map(|r| r.path.clone()).collect();
    assert!(seen.is_empty(), "the upstream was called: {seen:?}");
}

fn gemini_opts(mock: &MockServer) -> CallOptions {
    CallOptions {
        api_base: Some(format!("{}/v1beta", mock.base_url())),
        api_key: Some("gm-key".into()),
        ..Default::default()
    }
}

fn vertex_opts(mock: &MockServer) -> CallOptions {
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

#[tokio::test]
async fn azure_deployments_are_guarded() {
    let mock = MockServer::start().await;
    let o = CallOptions {
        api_base: Some(mock.base_url()),
        api_key: Some("azure-key".into()),
        ..Default::default()
    };
    refuse_all(&mock, &o, "azure", true).await;
    Client::shared()
        .chat(chat_req("azure/my-gpt-4o.eu_1"), &o)
        .await
        .unwrap();
    assert_eq!(
        mock.last_request().unwrap().path,
        "/openai/deployments/my-gpt-4o.eu_1/chat/completions"
    );
}

#[tokio::test]
async fn gemini_models_are_guarded() {
    let mock = MockServer::start().await;
    let o = gemini_opts(&mock);
    refuse_all(&mock, &o, "gemini", false).await;
    for name in ["gemini-pro:streamGenerateContent", "models/../evil"] {
        let model = format!("gemini/{name}");
        assert_refused(Client::shared().chat(chat_req(&model), &o).await, name);
    }
    assert!(mock.requests().is_empty());
    // Gemini's own spelling, `models/...`, names the same model.
    for model in [
        "gemini/gemini-2.0-flash-001",
        "gemini/models/gemini-2.0-flash-001",
    ] {
        Client::shared().chat(chat_req(model), &o).await.unwrap();
        assert_eq!(
            mock.last_request().unwrap().path,
            "/v1beta/models/gemini-2.0-flash-001:generateContent"
        );
    }
}

#[tokio::test]
async fn gemini_gs_buckets_are_guarded() {
    let mock = MockServer::start().await;
    let mut o = gemini_opts(&mock);
    o.extra
        .insert("gcs_api_base".into(), json!(mock.base_url()));
    // Extensionless, so the object's metadata would be fetched from the bucket.
    for uri in [
        "gs://../evil/report",
        "gs://..%2F..%2Fevil/report",
        "gs://b?x/report",
    ] {
        let req: ChatCompletionRequest = serde_json::from_value(json!({"model": "gemini/gemini-x",
            "messages": [{"role": "user", "content": [
                {"type": "file", "file": {"file_id": uri}}]}]}))
        .unwrap();
        assert_refused(Client::shared().chat(req, &o).await, uri);
    }
    assert!(mock.requests().is_empty());
}

#[tokio::test]
async fn vertex_models_are_guarded_before_auth() {
    let mock = MockServer::start().await;
    let o = vertex_opts(&mock);
    refuse_all(&mock, &o, "vertex_ai", false).await;
    for name in [
        "claude-3-5-sonnet@20240620/../../evil",
        "gemini-pro:streamGenerateContent",
        "projects/p/locations/l/evil",
        "publishers/google/models/a/b",
    ] {
        let model = format!("vertex_ai/{name}");
        assert_refused(Client::shared().chat(chat_req(&model), &o).await, name);
    }
    assert!(mock.requests().is_empty(), "no token exchange either");
}

#[tokio::test]
async fn vertex_resource_names_reach_their_paths() {
    let mock = MockServer::start().await;
    let o = vertex_opts(&mock);
    let scoped = "/v1/projects/proj-1/locations/us-central1";
    let cases = [
        (
            "vertex_ai/publishers/google/models/gemini-1.5-pro",
            format!("{scoped}/publishers/google/models/gemini-1.5-pro:generateContent"),
        ),
        (
            "vertex_ai/claude-3-5-sonnet@20240620",
            format!("{scoped}/publishers/anthropic/models/claude-3-5-sonnet@20240620:rawPredict"),
        ),
        (
            "vertex_ai/publishers/anthropic/models/claude-3-5-sonnet@20240620",
            format!("{scoped}/publishers/anthropic/models/claude-3-5-sonnet@20240620:rawPredict"),
        ),
        (
            "vertex_ai/projects/proj-1/locations/us-central1/publishers/google/models/gemini-x",
            format!("{scoped}/publishers/google/models/gemini-x:generateContent"),
        ),
    ];
    for (model, path) in cases {
        Client::shared().chat(chat_req(model), &o).await.unwrap();
        assert_eq!(mock.last_request().unwrap().path, path, "{model}");
    }
    // A full name of another project or location would send the deployment's token there.
    let before = mock.requests().len();
    for other in [
        "vertex_ai/projects/proj-2/locations/us-central1/publishers/google/models/gemini-x",
        "vertex_ai/projects/proj-1/locations/europe-west4/endpoints/12",
    ] {
        let e = Client::shared()
            .chat(chat_req(other), &o)
            .await
            .unwrap_err();
        assert_eq!(e.status, 400, "{other}");
    }
    assert_eq!(mock.requests().len(), before, "refused before any call");
    // A tuned model's endpoint id goes to `endpoints/{id}` (the mock has no such route).
    let _ = Client::shared()
        .chat(chat_req("vertex_ai/1234567890"), &o)
        .await;
    let last: Value = json!(mock.last_request().unwrap().path);
    assert_eq!(
        last,
        json!(format!("{scoped}/endpoints/1234567890:generateContent"))
    );
}

#[tokio::test]
async fn sagemaker_endpoints_are_guarded() {
    let mock = MockServer::start().await;
    let mut o = CallOptions {
        api_base: Some(mock.base_url()),
        ..Default::default()
    };
    o.extra.insert(
        "aws_access_key_id".into(),
        json!(llmgate_mock::AWS_ACCESS_KEY_ID),
    );
    o.extra.insert(
        "aws_secret_access_key".into(),
        json!(llmgate_mock::AWS_SECRET_ACCESS_KEY),
    );
    refuse_all(&mock, &o, "sagemaker", true).await;
    refuse_all(&mock, &o, "sagemaker_chat", true).await;
    Client::shared()
        .chat(chat_req("sagemaker/my-endpoint-1"), &o)
        .await
        .unwrap();
    assert_eq!(
        mock.last_request().unwrap().path,
        "/endpoints/my-endpoint-1/invocations"
    );
}

#[tokio::test]
async fn watsonx_deployments_are_guarded_before_the_token_exchange() {
    let mock = MockServer::start().await;
    // Tests run one per process (nextest), so the environment is this test's own.
    std::env::set_var(
        "WATSONX_IAM_URL",
        format!("{}/identity/token", mock.base_url()),
    );
    let o = CallOptions {
        api_base: Some(mock.base_url()),
        api_key: Some(llmgate_mock::WATSONX_API_KEY.into()),
        extra: serde_json::from_value(json!({"project_id": "p1"})).unwrap(),
        ..Default::default()
    };
    refuse_all(&mock, &o, "watsonx/deployment", true).await;
    refuse_all(&mock, &o, "watsonx_text/deployment", true).await;
    Client::shared()
        .chat(chat_req("watsonx/deployment/dep-1"), &o)
        .await
        .unwrap();
    assert_eq!(
        mock.last_request().unwrap().path,
        "/ml/v1/deployments/dep-1/text/chat"
    );
}
