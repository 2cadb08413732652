//! Golden snapshots of the Cohere Chat v2 translation: each chat fixture as `/v2/chat`
//! receives it (or the unsupported-params error, without `drop_params`; with it, the body).

use llmgate::providers::cohere::request::build;
use llmgate::{CallOptions, ChatCompletionRequest};
use serde_json::{json, Value};

fn fixtures() -> Vec<(String, ChatCompletionRequest)> {
    let dir = format!("{}/tests/fixtures/chat", env!("CARGO_MANIFEST_DIR"));
    let mut names: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter(|n| n.ends_with(".json"))
        .collect();
    names.sort();
    names
        .into_iter()
        .map(|n| {
            let text = std::fs::read_to_string(format!("{dir}/{n}")).unwrap();
            (n, serde_json::from_str(&text).unwrap())
        })
        .collect()
}

fn bodies(drop_params: bool) -> Value {
    let opts = CallOptions {
        drop_params,
        ..Default::default()
    };
    let out: serde_json::Map<String, Value> = fixtures()
        .into_iter()
        .map(|(name, mut req)| {
            req.model = "command-a-03-2025".into();
            let body = build(&req, &opts, false)
                .unwrap_or_else(|e| json!({"error": e.message, "status": e.status}));
            (name, body)
        })
        .collect();
    Value::Object(out)
}

#[test]
fn chat_requests() {
    insta::assert_json_snapshot!("requests.cohere", bodies(false));
}

#[test]
fn chat_requests_with_drop_params() {
    insta::assert_json_snapshot!("requests.cohere.drop_params", bodies(true));
}
