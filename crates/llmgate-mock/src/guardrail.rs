//! A guardrail service speaking LiteLLM's Basic Guardrail API (`generic_guardrail_api`):
//! `POST /guardrail/beta/litellm_basic_guardrail_api` (api_base `<mock>/guardrail`).
//! It wants `x-api-key: GUARDRAIL_API_KEY`, a `texts` list and `input_type`
//! `request|response`, and decides by the texts: `forbidden` → `BLOCKED`, `secret` →
//! `GUARDRAIL_INTERVENED` with it masked, `slowguard` → answers after 5 s, `guarderror` →
//! 500; anything else `NONE`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::openai::recorded;
use crate::Shared;

pub const GUARDRAIL_API_KEY: &str = "mock-guardrail-key";

fn err(status: StatusCode, msg: &str) -> Response {
    (status, axum::Json(json!({"detail": msg}))).into_response()
}

pub(crate) async fn basic(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.record(|| recorded(&method, &uri, &headers, body.clone()));
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(GUARDRAIL_API_KEY) {
        return err(StatusCode::UNAUTHORIZED, "invalid x-api-key");
    }
    let Some(texts) = body.get("texts").and_then(Value::as_array) else {
        return err(StatusCode::UNPROCESSABLE_ENTITY, "texts is required");
    };
    let texts: Vec<&str> = texts.iter().filter_map(Value::as_str).collect();
    if !matches!(
        body.get("input_type").and_then(Value::as_str),
        Some("request" | "response")
    ) {
        return err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "input_type must be request or response",
        );
    }
    let has = |w: &str| texts.iter().any(|t| t.to_lowercase().contains(w));
    if has("guarderror") {
        return err(StatusCode::INTERNAL_SERVER_ERROR, "guardrail service error");
    }
    if has("slowguard") {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
    if has("forbidden") {
        return axum::Json(json!({"action": "BLOCKED", "blocked_reason": "forbidden topic"}))
            .into_response();
    }
    if has("secret") {
        let masked: Vec<String> = texts
            .iter()
            .map(|t| t.replace("secret", "[MASKED]"))
            .collect();
        return axum::Json(json!({"action": "GUARDRAIL_INTERVENED", "texts": masked}))
            .into_response();
    }
    axum::Json(json!({"action": "NONE"})).into_response()
}
