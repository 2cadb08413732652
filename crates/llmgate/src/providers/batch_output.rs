//! The OpenAI batch shapes every storage-backed provider (Vertex AI, Bedrock, Gemini) answers
//! with: one output-file line per request and a batch's `errors` list.

use serde_json::{json, Value};

fn line_id() -> String {
    format!("batch_req_{}", uuid::Uuid::new_v4())
}

/// An output line for a request the provider answered; `body` is the OpenAI answer.
pub(crate) fn answered(custom_id: Value, body: Value) -> Value {
    json!({"id": line_id(), "custom_id": custom_id, "error": null,
        "response": {"status_code": 200, "request_id": body["id"], "body": body}})
}

/// An output line for a request the provider failed.
pub(crate) fn failed(custom_id: Value, code: Value, message: &str) -> Value {
    json!({"id": line_id(), "custom_id": custom_id, "response": null,
        "error": {"code": code, "message": message}})
}

/// A batch's `errors` for one provider message (null without one).
pub(crate) fn errors(code: &str, message: Option<&str>) -> Value {
    message.map_or(
        Value::Null,
        |m| json!({"object": "list", "data": [{"code": code, "message": m}]}),
    )
}
