//! Azure OpenAI and Azure AI Foundry through the SDK against the mock, which checks what Azure
//! checks (api-version, api-key or a live Entra ID token) and serves the token endpoint.

use futures::StreamExt;
use llmgate::{
    CallOptions, ChatCompletionRequest, ChatMessage, Client, EmbeddingRequest, ErrorKind,
};
use llmgate_mock::{MockServer, AZURE_CLIENT_SECRET};
use serde_json::{json, Value};

fn hello(model: &str) -> ChatCompletionRequest {
    ChatCompletionRequest {
        model: model.into(),
        messages: vec![ChatMessage::text("user", "Hello")],
        ..Default::default()
    }
}

fn params(pairs: &[(&str, &str)]) -> llmgate_types::Extra {
    pairs
        .iter()
        .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
        .collect()
}

fn azure(mock: &MockServer, extra: &[(&str, &str)]) -> CallOptions {
    CallOptions {
        api_base: Some(mock.base_url()),
        extra: params(extra),
        ..Default::default()
    }
}

fn text(r: &llmgate_types::ChatCompletionResponse) -> String {
    r.choices[0]
        .message
        .content
        .as_ref()
        .map(|c| c.text())
        .unwrap_or_default()
}

/// Client credentials whose tenant is `tenant`, against the mock's Entra ID endpoint.
fn client_credentials(mock: &MockServer, tenant: &str, secret: &str) -> CallOptions {
    // nextest runs each test in its own process: the environment is this test's.
    std::env::set_var("AZURE_AUTHORITY_HOST", mock.base_url());
    azure(
        mock,
        &[
            ("tenant_id", tenant),
            ("client_id", "llmgate-app"),
            ("client_secret", secret),
        ],
    )
}

#[tokio::test]
async fn client_credentials_fetch_one_token_for_many_calls_and_refresh_it() {
    let mock = MockServer::start().await;
    let o = client_credentials(&mock, "ttl-2-sdk", AZURE_CLIENT_SECRET);
    let calls = (0..6).map(|_| llmgate::completion(hello("azure/gpt4o-prod"), &o));
    for answer in futures::future::join_all(calls).await {
        assert_eq!(text(&answer.unwrap()), "Hello from mock");
    }
    assert_eq!(
        mock.token_requests("ttl-2-sdk"),
        1,
        "one token for all calls"
    );
    let sent = mock.last_request().unwrap();
    let bearer = sent.header("authorization").unwrap().to_string();
    assert!(
        bearer.starts_with("Bearer mock-entra-ttl-2-sdk-"),
        "{bearer}"
    );
    assert_eq!(sent.header("api-key"), None);
    let token_req = mock
        .requests()
        .into_iter()
        .find(|r| r.path == "/ttl-2-sdk/oauth2/v2.0/token")
        .unwrap();
    assert_eq!(token_req.body["grant_type"], "client_credentials");
    assert_eq!(token_req.body["client_id"], "llmgate-app");
    assert_eq!(
        token_req.body["scope"],
        "https://cognitiveservices.azure.com/.default"
    );

    // The token lives 2 s: refreshed shortly before it expires (the mock refuses it after).
    tokio::time::sleep(std::time::Duration::from_millis(2100)).await;
    llmgate::completion(hello("azure/gpt4o-prod"), &o)
        .await
        .unwrap();
    assert_eq!(mock.token_requests("ttl-2-sdk"), 2);
    let again = mock.last_request().unwrap();
    assert_ne!(again.header("authorization").unwrap(), bearer);
}

#[tokio::test]
async fn a_refused_secret_is_an_authentication_error() {
    let mock = MockServer::start().await;
    let o = client_credentials(&mock, "bad-secret", "not-the-secret");
    let e = llmgate::completion(hello("azure/gpt4o"), &o)
        .await
        .unwrap_err();
    assert_eq!(e.kind, ErrorKind::Authentication);
    assert_eq!(e.status, 401);
    assert!(e.message.contains("AADSTS7000215"), "{}", e.message);
    assert!(!e.to_string().contains("not-the-secret"));
    // Nothing was sent to the deployment.
    assert!(mock
        .requests()
        .iter()
        .all(|r| !r.path.contains("/openai/deployments/")));
}

#[tokio::test]
async fn an_ad_token_is_a_bearer_and_wins_over_the_key() {
    let mock = MockServer::start().await;
    let token: Value = reqwest::Client::new()
        .post(format!("{}/t/oauth2/v2.0/token", mock.base_url()))
        .form(&[
            ("client_id", "c"),
            ("client_secret", AZURE_CLIENT_SECRET),
            ("grant_type", "client_credentials"),
            ("scope", "https://cognitiveservices.azure.com/.default"),
        ])
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let token = token["access_token"].as_str().unwrap();
    let mut o = azure(&mock, &[("azure_ad_token", token)]);
    o.api_key = Some("azure-key".into());
    llmgate::completion(hello("azure/d"), &o).await.unwrap();
    let sent = mock.last_request().unwrap();
    assert_eq!(
        sent.header("authorization").unwrap(),
        format!("Bearer {token}")
    );
    assert_eq!(sent.query.as_deref(), Some("api-version=2024-10-21"));

    // A token the mock never issued is refused as Azure refuses it.
    let o = azure(&mock, &[("azure_ad_token", "mock-entra-forged")]);
    let e = llmgate::completion(hello("azure/d"), &o).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::Authentication);
}

#[tokio::test]
async fn v1_versions_use_the_v1_path_with_the_model_in_the_body() {
    let mock = MockServer::start().await;
    let o = CallOptions {
        api_base: Some(format!("{}/azure", mock.base_url())),
        api_key: Some("azure-key".into()),
        api_version: Some("latest".into()),
        ..Default::default()
    };
    let answer = llmgate::completion(hello("azure/my-deployment"), &o)
        .await
        .unwrap();
    assert_eq!(text(&answer), "Hello from mock");
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/azure/openai/v1/chat/completions");
    assert_eq!(sent.query, None);
    assert_eq!(sent.body["model"], "my-deployment");
    assert_eq!(sent.header("authorization"), Some("Bearer azure-key"));

    let req = EmbeddingRequest {
        model: "azure/my-embedder".into(),
        input: json!(["a", "b"]),
        ..Default::default()
    };
    let e = llmgate::embedding(req, &o).await.unwrap();
    assert_eq!(e.data.len(), 2);
    assert_eq!(
        mock.last_request().unwrap().path,
        "/azure/openai/v1/embeddings"
    );
}

#[tokio::test]
async fn embeddings_go_through_the_deployment_path() {
    let mock = MockServer::start().await;
    let mut o = azure(&mock, &[]);
    o.api_key = Some("azure-key".into());
    let req = EmbeddingRequest {
        model: "azure/embed-prod".into(),
        input: json!("hello"),
        ..Default::default()
    };
    let e = llmgate::embedding(req, &o).await.unwrap();
    assert_eq!(e.data.len(), 1);
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/openai/deployments/embed-prod/embeddings");
    assert_eq!(sent.query.as_deref(), Some("api-version=2024-10-21"));
    assert_eq!(sent.header("api-key"), Some("azure-key"));
}

#[tokio::test]
async fn content_filters_keep_their_verdicts() {
    let mock = MockServer::start().await;
    let mut o = azure(&mock, &[]);
    o.api_key = Some("azure-key".into());
    // The answer's filter: `content_filter` finish and the verdicts, as LiteLLM returns them.
    let answer = llmgate::completion(hello("azure/mock-content-filter-output"), &o)
        .await
        .unwrap();
    let v = serde_json::to_value(&answer).unwrap();
    assert_eq!(v["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(
        v["choices"][0]["provider_specific_fields"]["content_filter_results"]["violence"]
            ["filtered"],
        true
    );
    let mut req = hello("azure/mock-content-filter-output");
    req.stream = Some(true);
    let chunks: Vec<_> = Client::shared()
        .chat_stream(req, &o)
        .await
        .unwrap()
        .body
        .collect()
        .await;
    let last = chunks
        .iter()
        .map(|c| serde_json::to_value(c.as_ref().unwrap()).unwrap())
        .find(|c| c["choices"][0]["finish_reason"].is_string())
        .unwrap();
    assert_eq!(last["choices"][0]["finish_reason"], "content_filter");
    assert_eq!(
        last["choices"][0]["content_filter_results"]["violence"]["filtered"],
        true
    );

    // The prompt's filter, streamed or not: LiteLLM's ContentPolicyViolationError.
    for stream in [false, true] {
        let mut req = hello("azure/mock-content-filter");
        req.stream = Some(stream);
        let e = if stream {
            Client::shared().chat_stream(req, &o).await.err().unwrap()
        } else {
            llmgate::completion(req, &o).await.unwrap_err()
        };
        assert_eq!(e.kind, ErrorKind::ContentPolicyViolation, "stream {stream}");
        assert_eq!(e.status, 400);
        let f = e.provider_fields.as_ref().unwrap();
        assert_eq!(
            f["innererror"]["content_filter_result"]["hate"]["filtered"],
            true
        );
    }
}

#[tokio::test]
async fn azure_ai_chat_and_embeddings_on_a_foundry_endpoint() {
    let mock = MockServer::start().await;
    let o = CallOptions {
        api_base: Some(format!("{}/models", mock.base_url())),
        api_key: Some("foundry-key".into()),
        api_version: Some("2024-05-01-preview".into()),
        ..Default::default()
    };
    let mut req = hello("azure_ai/my-finetune");
    req.messages = vec![serde_json::from_value(json!({"role": "user", "content": [
        {"type": "text", "text": "Hello "}, {"type": "text", "text": "there"}]}))
    .unwrap()];
    let answer = llmgate::completion(req.clone(), &o).await.unwrap();
    assert_eq!(text(&answer), "Hello from mock");
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/models/chat/completions");
    assert_eq!(
        sent.query.as_deref(),
        Some("api-version=2024-05-01-preview")
    );
    // Not an Azure host: the key is a bearer.
    assert_eq!(sent.header("authorization"), Some("Bearer foundry-key"));
    assert_eq!(sent.body["messages"][0]["content"], "Hello there");
    assert_eq!(sent.body["model"], "my-finetune");

    // `tool_choice` only where the catalog says the model takes it.
    req.tool_choice = Some(json!("auto"));
    let e = llmgate::completion(req.clone(), &o).await.unwrap_err();
    assert_eq!(e.kind, ErrorKind::UnsupportedParams);
    let dropping = CallOptions {
        drop_params: true,
        ..o.clone()
    };
    llmgate::completion(req, &dropping).await.unwrap();
    assert!(mock
        .last_request()
        .unwrap()
        .body
        .get("tool_choice")
        .is_none());

    let emb = EmbeddingRequest {
        model: "azure_ai/Cohere-embed-v3-english".into(),
        input: json!(["a", "b", "c"]),
        ..Default::default()
    };
    let e = llmgate::embedding(emb, &o).await.unwrap();
    assert_eq!(e.data.len(), 3);
    let sent = mock.last_request().unwrap();
    assert_eq!(sent.path, "/models/embeddings");
    assert_eq!(
        sent.query.as_deref(),
        Some("api-version=2024-05-01-preview")
    );

    // Without the version the Foundry route refuses, as Azure does.
    let bare = CallOptions {
        api_version: None,
        ..o
    };
    let e = llmgate::completion(hello("azure_ai/my-finetune"), &bare)
        .await
        .unwrap_err();
    assert_eq!(e.status, 404);
}
