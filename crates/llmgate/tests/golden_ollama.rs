//! Golden snapshots of the Ollama translation: each chat fixture as `/api/chat` and
//! `/api/generate` receive it (or the error LiteLLM's unsupported-params check gives), with
//! `drop_params` so every fixture shows a body.

use llmgate::providers::ollama::request::{build, Api};
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

fn bodies(api: Api) -> Value {
    let opts = CallOptions {
        drop_params: true,
        ..Default::default()
    };
    let out: serde_json::Map<String, Value> = fixtures()
        .into_iter()
        .map(|(name, req)| {
            let body = build(&req, &opts, api, false)
                .unwrap_or_else(|e| json!({"error": e.message, "status": e.status}));
            (name, body)
        })
        .collect();
    Value::Object(out)
}

#[test]
fn chat_requests() {
    insta::assert_json_snapshot!("requests.ollama_chat", bodies(Api::Chat));
}

#[test]
fn generate_requests() {
    insta::assert_json_snapshot!("requests.ollama", bodies(Api::Generate));
}
