//! Golden snapshots of the watsonx and SageMaker translations: each chat fixture as
//! `/text/chat`, `/text/generation` and a SageMaker TGI endpoint receive it (or the error
//! LiteLLM's checks give), with `drop_params` so every fixture shows a body.

use llmgate::providers::{sagemaker, watsonx};
use llmgate::{CallOptions, ChatCompletionRequest, LlmError};
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

fn bodies(
    build: impl Fn(&ChatCompletionRequest, &CallOptions) -> Result<Value, LlmError>,
) -> Value {
    let opts = CallOptions {
        drop_params: true,
        ..Default::default()
    };
    let out: serde_json::Map<String, Value> = fixtures()
        .into_iter()
        .map(|(name, req)| {
            let body = build(&req, &opts)
                .unwrap_or_else(|e| json!({"error": e.message, "status": e.status}));
            (name, body)
        })
        .collect();
    Value::Object(out)
}

fn scope() -> watsonx::request::Scope {
    watsonx::request::Scope {
        project_id: Some("project-1".into()),
        space_id: None,
    }
}

#[test]
fn watsonx_chat_requests() {
    insta::assert_json_snapshot!(
        "requests.watsonx",
        bodies(|r, o| watsonx::request::chat(r, o, &scope()))
    );
}

#[test]
fn watsonx_text_requests() {
    insta::assert_json_snapshot!(
        "requests.watsonx_text",
        bodies(|r, o| watsonx::request::text(r, o, &scope()))
    );
}

#[test]
fn sagemaker_requests() {
    insta::assert_json_snapshot!(
        "requests.sagemaker",
        bodies(|r, o| sagemaker::request::tgi(r, o, false).map(|(b, _)| b))
    );
}
