//! Security rules at the SDK's edges, against the mock: media URLs the gateway downloads for
//! Gemini/Vertex (no SSRF, size cap while reading) and upstream errors that quote the
//! deployment's credential (masked).
//!
//! Private and metadata addresses are only ever refused before connecting: nothing here opens
//! a connection anywhere but the loopback mock.

use std::time::{Duration, Instant};

use llmgate::{CallOptions, ChatCompletionResponse, ErrorKind, LlmError};
use llmgate_mock::MockServer;
use serde_json::{json, Value};

const GENERIC: &str = "could not fetch the media URL";

fn gemini_opts(mock: &MockServer) -> CallOptions {
    CallOptions {
        api_base: Some(format!("{}/v1beta", mock.base_url())),
        api_key: Some("gm-key-0123456789abcdef".into()),
        ..Default::default()
    }
}

fn trusting_loopback(mut o: CallOptions) -> CallOptions {
    o.extra
        .insert("media_url_allowlist".into(), json!(["127.0.0.1"]));
    o
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

async fn chat_with_image(
    o: &CallOptions,
    model: &str,
    url: &str,
) -> Result<ChatCompletionResponse, LlmError> {
    let req = serde_json::from_value(
        json!({"model": model, "messages": [{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": url}}]}]}),
    )
    .unwrap();
    llmgate::completion(req, o).await
}

fn fetches(mock: &MockServer) -> usize {
    mock.requests()
        .iter()
        .filter(|r| r.path.starts_with("/files/"))
        .count()
}

/// A refusal: 400, the generic text, nothing about ports or connections, and fast (no connect
/// was attempted, which to an unroutable address would hang until a timeout).
fn assert_refused(e: &LlmError, url: &str, took: Duration) {
    assert_eq!(
        (e.kind, e.status),
        (ErrorKind::BadRequest, 400),
        "{url}: {e}"
    );
    assert!(e.message.starts_with(GENERIC), "{url}: {}", e.message);
    for detail in [
        "refused",
        "connect",
        "tcp",
        "dns",
        "error trying",
        "127.0.0.1",
        "10.0.0.1",
    ] {
        assert!(
            !e.to_string().to_ascii_lowercase().contains(detail),
            "{url}: {e}"
        );
    }
    assert!(took < Duration::from_secs(2), "{url} took {took:?}");
}

#[tokio::test]
async fn media_urls_to_internal_addresses_are_refused_before_any_connection() {
    let mock = MockServer::start().await;
    let port = mock.base_url().rsplit(':').next().unwrap().to_string();
    let urls = [
        format!("{}/files/cat.png", mock.base_url()),
        format!("https://127.0.0.1:{port}/files/cat.png"),
        format!("http://localhost:{port}/files/cat.png"),
        format!("https://localhost:{port}/files/cat.png"),
        format!("https://[::ffff:127.0.0.1]:{port}/files/cat.png"),
        format!("https://0x7f.1:{port}/files/cat.png"),
        "https://10.0.0.1/x.png".into(),
        "https://169.254.169.254/latest/meta-data/iam/security-credentials/".into(),
        "http://169.254.169.254/computeMetadata/v1/".into(),
        "https://[fd00:ec2::254]/latest/meta-data/".into(),
        "https://100.100.100.200/latest/meta-data/".into(),
        "https://192.168.1.1/x.png".into(),
        "https://[fe80::1]/x.png".into(),
        "https://0.0.0.0/x.png".into(),
    ];
    for (model, o) in [
        ("gemini/gemini-x", gemini_opts(&mock)),
        ("vertex_ai/gemini-2.5-pro", vertex_opts(&mock)),
    ] {
        for url in &urls {
            let t = Instant::now();
            let e = chat_with_image(&o, model, url).await.unwrap_err();
            assert_refused(&e, url, t.elapsed());
        }
    }
    assert_eq!(fetches(&mock), 0, "the mock's files were never fetched");
    assert!(
        mock.requests()
            .iter()
            .all(|r| !r.path.contains(":generate")),
        "no call went upstream"
    );
}

#[tokio::test]
async fn an_allow_listed_source_is_fetched_over_http() {
    let mock = MockServer::start().await;
    let base = mock.base_url();
    for (model, o) in [
        ("gemini/gemini-x", trusting_loopback(gemini_opts(&mock))),
        (
            "vertex_ai/gemini-2.5-pro",
            trusting_loopback(vertex_opts(&mock)),
        ),
    ] {
        chat_with_image(&o, model, &format!("{base}/files/cat.png"))
            .await
            .unwrap();
        let parts = mock.last_request().unwrap().body["contents"][0]["parts"].clone();
        assert_eq!(parts[1]["inlineData"]["mimeType"], "image/png", "{model}");
    }
    // A host name is trusted by name (and may resolve to loopback).
    let mut by_name = gemini_opts(&mock);
    by_name.extra.insert(
        "media_url_allowlist".into(),
        json!("files.example, localhost"),
    );
    let port = base.rsplit(':').next().unwrap();
    chat_with_image(
        &by_name,
        "gemini/gemini-x",
        &format!("http://localhost:{port}/files/cat.png"),
    )
    .await
    .unwrap();
    assert_eq!(fetches(&mock), 3);
    // Trusting loopback does not trust the rest of the private ranges.
    let t = Instant::now();
    let o = trusting_loopback(gemini_opts(&mock));
    let e = chat_with_image(&o, "gemini/gemini-x", "http://10.0.0.1/x.png")
        .await
        .unwrap_err();
    assert_refused(&e, "10.0.0.1 with loopback trusted", t.elapsed());
}

#[tokio::test]
async fn every_redirect_hop_is_vetted() {
    let mock = MockServer::start().await;
    let base = mock.base_url();
    let o = trusting_loopback(gemini_opts(&mock));
    // To another trusted URL: followed.
    let to_cat = format!("{base}/files/redirect?to={base}/files/cat.png");
    chat_with_image(&o, "gemini/gemini-x", &to_cat)
        .await
        .unwrap();
    assert_eq!(
        mock.last_request().unwrap().body["contents"][0]["parts"][1]["inlineData"]["mimeType"],
        "image/png"
    );
    assert_eq!(fetches(&mock), 2);
    // To the metadata service or a private address: refused at that hop, before connecting.
    for target in [
        "http://169.254.169.254/latest/meta-data/",
        "http://10.0.0.1/x.png",
        "https://[fd00:ec2::254]/",
    ] {
        let url = format!("{base}/files/redirect?to={target}");
        let t = Instant::now();
        let e = chat_with_image(&o, "gemini/gemini-x", &url)
            .await
            .unwrap_err();
        assert_refused(&e, &url, t.elapsed());
    }
    // A loop (no `to`: the mock redirects to itself) ends at the hop limit.
    let e = chat_with_image(&o, "gemini/gemini-x", &format!("{base}/files/redirect"))
        .await
        .unwrap_err();
    assert_eq!(e.status, 400);
}

#[tokio::test]
async fn media_over_20_mb_is_refused_while_reading() {
    let mock = MockServer::start().await;
    let base = mock.base_url();
    let o = trusting_loopback(gemini_opts(&mock));
    for name in ["big-200000000", "endless"] {
        let before = mock.served_bytes();
        let t = Instant::now();
        let e = chat_with_image(&o, "gemini/gemini-x", &format!("{base}/files/{name}"))
            .await
            .unwrap_err();
        assert_eq!(e.status, 400, "{e}");
        assert!(e.message.contains("larger than 20 MB"), "{}", e.message);
        assert!(t.elapsed() < Duration::from_secs(8), "{:?}", t.elapsed());
        // Give the mock's writer a moment to notice the closed connection.
        tokio::time::sleep(Duration::from_millis(200)).await;
        let sent = mock.served_bytes() - before;
        assert!(
            sent < 40 * 1024 * 1024,
            "{name}: the mock sent {sent} bytes; reading stops soon after 20 MB"
        );
    }
    // A megabyte streamed without a declared length is fine (the mock takes bodies up to 2 MB).
    chat_with_image(&o, "gemini/gemini-x", &format!("{base}/files/big-1000000"))
        .await
        .unwrap();
}

#[tokio::test]
async fn a_slow_media_source_is_cut_off_in_total_time() {
    let mock = MockServer::start().await;
    let mut o = trusting_loopback(gemini_opts(&mock));
    // The call's own timeout bounds the fetch when shorter than the 10 s default.
    o.timeout = Some(Duration::from_millis(500));
    let t = Instant::now();
    let e = chat_with_image(
        &o,
        "gemini/gemini-x",
        &format!("{}/files/trickle", mock.base_url()),
    )
    .await
    .unwrap_err();
    assert_eq!(e.status, 400);
    assert!(e.message.starts_with(GENERIC), "{}", e.message);
    assert!(t.elapsed() < Duration::from_secs(3), "{:?}", t.elapsed());
}

fn openai_opts(mock: &MockServer, key: &str) -> CallOptions {
    CallOptions {
        api_base: Some(format!("{}/v1", mock.base_url())),
        api_key: Some(key.into()),
        ..Default::default()
    }
}

fn assert_no_key(e: &LlmError, key: &str) {
    let shown = format!("{e} {:?} {:?} {:?}", e.param, e.code, e.headers);
    assert!(shown.contains("[REDACTED]"), "{shown}");
    let k = key.strip_prefix("Bearer ").unwrap_or(key);
    assert!(!shown.contains(k), "{shown}");
    // Neither its start nor its end (the parts abbreviations show).
    assert!(!shown.contains(&k[..10]), "{shown}");
    assert!(!shown.contains(&k[k.len() - 10..]), "{shown}");
}

#[tokio::test]
async fn upstream_errors_quoting_the_key_are_masked() {
    let mock = MockServer::start().await;
    let key = "sk-live-0123456789abcdefghijklmnopqrstuv";
    let req = |model: &str| {
        serde_json::from_value(
            json!({"model": model, "messages": [{"role": "user", "content": "hi"}]}),
        )
        .unwrap()
    };
    let e = llmgate::completion(req("openai/mock-echo-key"), &openai_opts(&mock, key))
        .await
        .unwrap_err();
    assert_eq!((e.kind, e.status), (ErrorKind::Authentication, 401));
    assert!(
        e.message
            .starts_with("Incorrect API key provided: [REDACTED]."),
        "{}",
        e.message
    );
    assert_no_key(&e, key);
    assert_eq!(e.code, Some(Value::String("invalid_api_key".into())));

    // Streaming calls map errors in the same place.
    let mut r = req("openai/mock-echo-key");
    r.stream = Some(true);
    let e = match llmgate::Client::shared()
        .chat_stream(r, &openai_opts(&mock, key))
        .await
    {
        Err(e) => e,
        Ok(_) => panic!("a 401 is an error"),
    };
    assert_no_key(&e, key);

    // Gemini's key header and Vertex's access token are credentials too.
    let o = gemini_opts(&mock);
    let e = llmgate::completion(req("gemini/mock-echo-key"), &o)
        .await
        .unwrap_err();
    assert_no_key(&e, o.api_key.as_deref().unwrap());
    let e = llmgate::completion(req("vertex_ai/mock-echo-key"), &vertex_opts(&mock))
        .await
        .unwrap_err();
    assert_no_key(&e, llmgate_mock::ACCESS_TOKEN);
}
