//! Credential resolution against the STS mock (`llmgate-mock`), which verifies each SigV4
//! signature and issues temporary keys. Tests run one per process (nextest), so each test's
//! environment is its own.

use std::sync::Arc;
use std::time::Duration;

use llmgate_mock::{MockServer, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, EXTERNAL_ID};
use serde_json::json;

use super::*;

const ROLE: &str = "arn:aws:iam::123456789012:role/bedrock-caller";

fn caller() -> Caller<'static> {
    Caller {
        provider: "bedrock",
        label: "BedrockException",
        policy: Some(r#"{"Version":"2012-10-17","Statement":[]}"#),
        timeout: None,
    }
}

fn opts(extra: serde_json::Value) -> CallOptions {
    CallOptions {
        extra: serde_json::from_value(extra).unwrap(),
        ..Default::default()
    }
}

/// No ambient credentials: no `AWS_*` keys, no shared files, no container.
fn no_ambient(dir: &std::path::Path) {
    for v in [
        "AWS_ACCESS_KEY_ID",
        "AWS_SECRET_ACCESS_KEY",
        "AWS_SESSION_TOKEN",
        "AWS_PROFILE",
        "AWS_ROLE_ARN",
        "AWS_WEB_IDENTITY_TOKEN_FILE",
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
        "AWS_ROLE_NAME",
        "AWS_PROFILE_NAME",
        "AWS_WEB_IDENTITY_TOKEN",
    ] {
        std::env::remove_var(v);
    }
    std::env::set_var("AWS_SHARED_CREDENTIALS_FILE", dir.join("credentials"));
    std::env::set_var("AWS_CONFIG_FILE", dir.join("config"));
}

fn tmp(name: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("llmgate-awscred-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

async fn mock_and_http() -> (MockServer, reqwest::Client) {
    (MockServer::start().await, reqwest::Client::new())
}

#[tokio::test]
async fn assume_role_is_called_once_and_refreshed_before_expiry() {
    let dir = tmp("role");
    no_ambient(&dir);
    let (mock, http) = mock_and_http().await;
    let o = Arc::new(opts(json!({
        "aws_access_key_id": AWS_ACCESS_KEY_ID, "aws_secret_access_key": AWS_SECRET_ACCESS_KEY,
        "aws_role_name": "arn:aws:iam::123456789012:role/ttl-2-bedrock",
        "aws_session_name": "llmgate-test", "aws_sts_endpoint": mock.base_url(),
    })));
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (http, o) = (http.clone(), o.clone());
            tokio::spawn(async move { resolve(&http, &o, "us-east-1", caller()).await })
        })
        .collect();
    let mut ids = Vec::new();
    for t in tasks {
        let k = t.await.unwrap().unwrap().unwrap();
        assert!(k.key_id.starts_with("ASIA"), "{}", k.key_id);
        assert!(k.token.is_some());
        ids.push(k.key_id);
    }
    ids.dedup();
    assert_eq!(ids.len(), 1, "every caller shares one STS answer");
    let calls = mock.sts_calls();
    assert_eq!(calls.len(), 1, "{calls:?}");
    assert_eq!(calls[0]["action"], "AssumeRole");
    assert_eq!(calls[0]["session"], "llmgate-test");
    // LiteLLM sends no DurationSeconds to AssumeRole (STS's default, an hour).
    assert!(calls[0]["duration"].is_null());

    // Two-second credentials: refreshed shortly before they expire.
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let k = resolve(&http, &o, "us-east-1", caller())
        .await
        .unwrap()
        .unwrap();
    assert_ne!(k.key_id, ids[0]);
    assert_eq!(mock.sts_calls().len(), 2);

    // Another session name is another identity: its own call.
    let mut other = (*o).clone();
    other
        .extra
        .insert("aws_session_name".into(), json!("other-session"));
    resolve(&http, &other, "us-east-1", caller())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(mock.sts_calls().len(), 3);
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn refused_roles_are_401_without_the_secret() {
    let dir = tmp("denied");
    no_ambient(&dir);
    let (mock, http) = mock_and_http().await;
    let o = opts(json!({
        "aws_access_key_id": AWS_ACCESS_KEY_ID, "aws_secret_access_key": AWS_SECRET_ACCESS_KEY,
        "aws_role_name": "arn:aws:iam::123456789012:role/denied-role",
        "aws_sts_endpoint": mock.base_url(),
    }));
    let e = resolve(&http, &o, "us-east-1", caller())
        .await
        .err()
        .unwrap();
    assert_eq!((e.kind, e.status), (ErrorKind::Authentication, 401));
    assert!(
        e.message.starts_with(
            "BedrockException - An error occurred (AccessDenied) when calling the AssumeRole operation: User:"
        ),
        "{}",
        e.message
    );
    assert!(!e.message.contains(AWS_SECRET_ACCESS_KEY));
    // A failure is not cached: the next call asks again.
    resolve(&http, &o, "us-east-1", caller())
        .await
        .err()
        .unwrap();
    assert_eq!(mock.requests().len(), 2);

    // A wrong secret: STS refuses the signature.
    let o = opts(json!({
        "aws_access_key_id": AWS_ACCESS_KEY_ID, "aws_secret_access_key": "wrong-secret",
        "aws_role_name": ROLE, "aws_sts_endpoint": mock.base_url(),
    }));
    let e = resolve(&http, &o, "us-east-1", caller())
        .await
        .err()
        .unwrap();
    assert_eq!(e.status, 401);
    assert!(
        e.message.contains("(SignatureDoesNotMatch)"),
        "{}",
        e.message
    );

    // External ids are sent when configured.
    let mut o = opts(json!({
        "aws_access_key_id": AWS_ACCESS_KEY_ID, "aws_secret_access_key": AWS_SECRET_ACCESS_KEY,
        "aws_role_name": "arn:aws:iam::123456789012:role/needs-external-id",
        "aws_sts_endpoint": mock.base_url(),
    }));
    assert!(resolve(&http, &o, "us-east-1", caller()).await.is_err());
    o.extra.insert("aws_external_id".into(), json!(EXTERNAL_ID));
    resolve(&http, &o, "us-east-1", caller())
        .await
        .unwrap()
        .unwrap();
    let last = mock.sts_calls().pop().unwrap();
    assert_eq!(last["external_id"], EXTERNAL_ID);
    // LiteLLM's default session name.
    assert!(last["session"]
        .as_str()
        .unwrap()
        .starts_with("litellm-session-"));
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn web_identity_tokens_are_exchanged_unsigned_with_the_session_policy() {
    let dir = tmp("web");
    no_ambient(&dir);
    let (mock, http) = mock_and_http().await;
    let file = dir.join("token");
    std::fs::write(&file, format!("{}\n", llmgate_mock::WEB_IDENTITY_TOKEN)).unwrap();
    let o = opts(json!({
        "aws_web_identity_token": format!("oidc/file/{}", file.display()),
        "aws_role_name": ROLE, "aws_session_name": "web-session",
        "aws_sts_endpoint": mock.base_url(),
    }));
    let k = resolve(&http, &o, "us-east-1", caller())
        .await
        .unwrap()
        .unwrap();
    assert!(k.key_id.starts_with("ASIA"));
    resolve(&http, &o, "us-east-1", caller())
        .await
        .unwrap()
        .unwrap();
    let calls = mock.sts_calls();
    assert_eq!(calls.len(), 1, "cached: {calls:?}");
    assert_eq!(calls[0]["action"], "AssumeRoleWithWebIdentity");
    assert_eq!(calls[0]["duration"], "3600");
    assert_eq!(calls[0]["policy"], caller().policy.unwrap());
    let sent = mock.last_request().unwrap();
    assert!(sent.header("authorization").is_none(), "unsigned");

    // A token STS refuses: LiteLLM's message, with the token's public claims only.
    let o = opts(json!({
        "aws_web_identity_token": "eyJhbGciOiJub25lIn0.eyJhdWQiOiJ3cm9uZyJ9.c2ln",
        "aws_role_name": ROLE, "aws_session_name": "web-session",
        "aws_sts_endpoint": mock.base_url(),
    }));
    let e = resolve(&http, &o, "us-east-1", caller())
        .await
        .err()
        .unwrap();
    assert_eq!(e.status, 401);
    assert!(
        e.message.starts_with("BedrockException - AWS STS rejected the web identity token: An error occurred (InvalidIdentityToken)"),
        "{}",
        e.message
    );
    assert!(
        e.message.ends_with("Token aud='wrong', iss=None"),
        "{}",
        e.message
    );
    assert!(!e.message.contains("c2ln"));
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn profiles_give_static_keys_or_assume_their_role() {
    let dir = tmp("profile");
    no_ambient(&dir);
    let (mock, http) = mock_and_http().await;
    std::fs::write(
        dir.join("credentials"),
        format!("[e2e]\naws_access_key_id = {AWS_ACCESS_KEY_ID}\naws_secret_access_key = {AWS_SECRET_ACCESS_KEY}\n"),
    )
    .unwrap();
    std::fs::write(
        dir.join("config"),
        format!("[profile admin]\nrole_arn = {ROLE}\nsource_profile = e2e\nrole_session_name = from-profile\n"),
    )
    .unwrap();
    // An explicit profile wins over the environment's keys (botocore).
    std::env::set_var("AWS_ACCESS_KEY_ID", "AKIDFROMENV");
    std::env::set_var("AWS_SECRET_ACCESS_KEY", "env-secret");
    let o = opts(json!({"aws_profile_name": "e2e"}));
    let k = resolve(&http, &o, "us-east-1", caller())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (k.key_id.as_str(), k.secret.as_str()),
        (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)
    );

    let o = opts(json!({"aws_profile_name": "admin", "aws_sts_endpoint": mock.base_url()}));
    let k = resolve(&http, &o, "us-east-1", caller())
        .await
        .unwrap()
        .unwrap();
    assert!(k.key_id.starts_with("ASIA"));
    let calls = mock.sts_calls();
    assert_eq!(
        (calls.len(), calls[0]["session"].as_str()),
        (1, Some("from-profile"))
    );

    let e = resolve(
        &http,
        &opts(json!({"aws_profile_name": "nope"})),
        "us-east-1",
        caller(),
    )
    .await
    .err()
    .unwrap();
    assert_eq!(e.status, 401);
    assert!(e
        .message
        .contains("The config profile (nope) could not be found"));

    // The ambient chain: `AWS_PROFILE` when the environment has no keys.
    std::env::remove_var("AWS_ACCESS_KEY_ID");
    std::env::remove_var("AWS_SECRET_ACCESS_KEY");
    std::env::set_var("AWS_PROFILE", "e2e");
    let k = resolve(&http, &opts(json!({})), "us-east-1", caller())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(k.key_id, AWS_ACCESS_KEY_ID);
    std::env::set_var("AWS_PROFILE", "missing");
    assert!(resolve(&http, &opts(json!({})), "us-east-1", caller())
        .await
        .is_err());
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn ambient_chain_order_and_nothing_found() {
    let dir = tmp("ambient");
    no_ambient(&dir);
    let (mock, http) = mock_and_http().await;
    // Nothing anywhere: no keys (each provider words the 401).
    assert!(resolve(&http, &opts(json!({})), "us-east-1", caller())
        .await
        .unwrap()
        .is_none());

    // The environment's web identity (EKS IRSA), through `AWS_ENDPOINT_URL_STS`.
    let file = dir.join("irsa-token");
    std::fs::write(&file, llmgate_mock::WEB_IDENTITY_TOKEN).unwrap();
    std::env::set_var("AWS_ROLE_ARN", ROLE);
    std::env::set_var("AWS_WEB_IDENTITY_TOKEN_FILE", &file);
    std::env::set_var("AWS_ENDPOINT_URL_STS", mock.base_url());
    let k = resolve(&http, &opts(json!({})), "us-east-1", caller())
        .await
        .unwrap()
        .unwrap();
    assert!(k.key_id.starts_with("ASIA"));
    let calls = mock.sts_calls();
    assert_eq!(calls[0]["action"], "AssumeRoleWithWebIdentity");
    assert!(calls[0]["session"]
        .as_str()
        .unwrap()
        .starts_with("botocore-session-"));
    assert!(
        calls[0]["policy"].is_null(),
        "boto3's own provider sends no policy"
    );
    // Asking for the role it already runs as: no second hop.
    resolve(
        &http,
        &opts(json!({"aws_role_name": ROLE})),
        "us-east-1",
        caller(),
    )
    .await
    .unwrap()
    .unwrap();
    assert_eq!(mock.sts_calls().len(), 1);
    // Another role: assumed with the web identity's keys.
    let other = "arn:aws:iam::123456789012:role/cross-account";
    resolve(
        &http,
        &opts(json!({"aws_role_name": other})),
        "us-east-1",
        caller(),
    )
    .await
    .unwrap()
    .unwrap();
    let calls = mock.sts_calls();
    assert_eq!(
        (calls.len(), calls[1]["action"].as_str()),
        (2, Some("AssumeRole"))
    );

    // Container credentials.
    std::env::remove_var("AWS_ROLE_ARN");
    std::env::set_var(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI",
        format!("{}/_mock/container-credentials", mock.base_url()),
    );
    std::env::set_var("AWS_CONTAINER_AUTHORIZATION_TOKEN", "wrong");
    let e = resolve(&http, &opts(json!({})), "us-east-1", caller())
        .await
        .err()
        .unwrap();
    assert_eq!(e.status, 401);
    assert!(!e.message.contains("wrong"), "{}", e.message);
    std::env::set_var(
        "AWS_CONTAINER_AUTHORIZATION_TOKEN",
        llmgate_mock::CONTAINER_TOKEN,
    );
    let k = resolve(&http, &opts(json!({})), "us-east-1", caller())
        .await
        .unwrap()
        .unwrap();
    assert!(k.key_id.starts_with("ASIA") && k.token.is_some());
    std::fs::remove_dir_all(&dir).ok();
}

#[test]
fn params_fall_back_to_litellms_variables() {
    std::env::set_var("AWS_ROLE_NAME", "arn:aws:iam::123456789012:role/from-env");
    std::env::set_var("AWS_SESSION_NAME", "env-session");
    let p = Params::read(&opts(json!({"aws_session_name": "param-session"})));
    assert_eq!(
        p.role.as_deref(),
        Some("arn:aws:iam::123456789012:role/from-env")
    );
    assert_eq!(p.session.as_deref(), Some("param-session"));
    assert!(
        !configured(&opts(json!({}))),
        "the environment is not the deployment's own"
    );
    assert!(configured(&opts(json!({"aws_profile_name": "x"}))));
}
