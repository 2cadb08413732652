//! The SDK's A2A client against the mock's A2A agent (`/a2a-agent`): card, send, stream,
//! tasks, and its errors.

use std::time::{Duration, Instant};

use futures::StreamExt;
use llmgate::a2a::{text_message, texts, A2aClient, A2aError};
use llmgate_mock::MockServer;
use serde_json::json;

const KEY: (&str, &str) = ("authorization", "Bearer a2a-agent-key");

#[tokio::test]
async fn resolves_sends_streams_and_gets_tasks() {
    let mock = MockServer::start().await;
    let base = format!("{}/a2a-agent", mock.base_url());
    let (card, client) = A2aClient::resolve(&base, &[KEY]).await.unwrap();
    assert_eq!(card["name"], "Mock Echo");
    assert_eq!(client.url(), base);

    let task = client.send(text_message("hello there")).await.unwrap();
    assert_eq!(task["status"]["state"], "completed");
    let mut text = String::new();
    texts(&task, &mut text);
    assert_eq!(text, "echo: hello there");

    let got = client
        .call("tasks/get", json!({"id": task["id"]}))
        .await
        .unwrap();
    assert_eq!(got["id"], task["id"]);

    let started = Instant::now();
    let mut events = client.stream(text_message("a b c")).await.unwrap();
    let mut kinds = Vec::new();
    let mut first_at = None;
    let mut streamed = String::new();
    while let Some(ev) = events.next().await {
        let ev = ev.unwrap();
        first_at.get_or_insert(started.elapsed());
        kinds.push(ev["kind"].as_str().unwrap().to_string());
        if ev["kind"] == "artifact-update" {
            texts(&ev["artifact"], &mut streamed);
        }
    }
    assert_eq!(kinds.first().map(String::as_str), Some("task"));
    assert_eq!(kinds.last().map(String::as_str), Some("status-update"));
    assert_eq!(streamed, "echo: a b c");
    // Events come as the agent sends them (50 ms apart), not all at the end.
    assert!(started.elapsed() - first_at.unwrap() >= Duration::from_millis(200));
}

#[tokio::test]
async fn errors_are_told_apart() {
    let mock = MockServer::start().await;
    let url = format!("{}/a2a-agent", mock.base_url());
    let client = A2aClient::new(&url).header(KEY.0, KEY.1);
    match client.call("no/such", json!({})).await {
        Err(A2aError::Rpc { code, .. }) => assert_eq!(code, -32601),
        other => panic!("{other:?}"),
    }
    match A2aClient::new(&url).send(text_message("hi")).await {
        Err(A2aError::Http { status, .. }) => assert_eq!(status, 401),
        other => panic!("{other:?}"),
    }
    let down = A2aClient::new("http://127.0.0.1:9/").timeout(Duration::from_secs(2));
    assert!(matches!(
        down.send(text_message("hi")).await,
        Err(A2aError::Transport(_))
    ));
}
