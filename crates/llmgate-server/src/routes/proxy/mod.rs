//! What every LLM route shares: parse the body, refuse client-side credentials, strip the
//! proxy's own fields; the call's plan (`plan.rs`), the router-driven attempts (`retry.rs`) and
//! the answer — headers, JSON, SSE (`answer.rs`).

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::Response;
use futures::{Stream, StreamExt};
use llmgate::{LlmError, Response as SdkResponse};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use crate::config::is;
use crate::deployments::{Deployment, Routed};
use crate::error::{ErrorShape, GatewayError};
use crate::governance::settle::{CallMeta, Settlement};
use crate::pyfmt::py_float;
use crate::state::AppState;
use llmgate::router::{Ask, Next};

mod answer;
mod plan;
mod retry;

pub use answer::{
    add_litellm_headers, error_response, error_response_in, json_response, sse_error_response,
    sse_response, SseFormat, StreamTap,
};
pub use plan::{call_plan, CallPlan, MockFailure};
pub use retry::call_with_retries;

/// Fields LiteLLM's proxy reads itself and never forwards (client-sent `mock_response`
/// included: only a deployment's counts), plus client-side credentials, which are checked by
/// [`client_side`] first.
const PROXY_ONLY_FIELDS: &[&str] = &[
    "mock_response",
    "mock_testing_fallbacks",
    "mock_testing_rate_limit_error",
    "mock_timeout",
    "litellm_metadata",
    "caching",
    "cache",
    "tags",
    "fallbacks",
    "num_retries",
    "context_window_fallback_dict",
    "guardrails",
    "litellm_call_id",
    "litellm_logging_obj",
    "api_key",
    "api_version",
    "proxy_server_request",
    "secret_fields",
];

/// Body fields that would point the upstream call somewhere else or change its credentials
/// (LiteLLM's blocklist): refused unless an admin sends them, the proxy allows them all
/// (`general_settings.allow_client_side_credentials`) or the model's deployment lists them in
/// `configurable_clientside_auth_params`.
const CLIENT_SIDE_PARAMS: &[&str] = &[
    "api_base",
    "base_url",
    "user_config",
    "aws_sts_endpoint",
    "aws_web_identity_token",
    "aws_role_name",
    "vertex_credentials",
    "aws_bedrock_runtime_endpoint",
    "s3_endpoint_url",
    "sagemaker_base_url",
    "deployment_url",
];

/// Where a permitted client-side `api_base` (and its `api_key`) sends the call.
#[derive(Default, Clone)]
pub struct ClientSide {
    pub api_base: Option<String>,
    pub api_key: Option<String>,
}

/// Whether the caller may send client-side params at all (an admin, or proxy-wide opt-in).
pub fn client_side_allowed(state: &AppState, is_admin: bool) -> bool {
    is_admin
        || state
            .config
            .general_settings
            .flag("allow_client_side_credentials")
}

/// Refuses client-side params inside a request's metadata (never honoured there) unless the
/// caller may send them at all.
pub fn check_nested_client_side(
    allowed: bool,
    metadata: Option<&Value>,
    extra: &Map<String, Value>,
) -> Result<(), GatewayError> {
    if allowed {
        return Ok(());
    }
    let nested = ["metadata", "litellm_metadata"]
        .iter()
        .filter_map(|k| extra.get(*k))
        .chain(metadata)
        .filter_map(Value::as_object)
        .flat_map(|m| m.keys());
    match nested
        .map(String::as_str)
        .find(|k| CLIENT_SIDE_PARAMS.contains(k))
    {
        Some(p) => Err(rejected(p)),
        None => Ok(()),
    }
}

/// Checks the top-level client-side params of a request for `group` and takes them out of
/// `extra`.
pub fn client_side(
    state: &AppState,
    allowed: bool,
    group: &str,
    extra: &mut Map<String, Value>,
) -> Result<ClientSide, GatewayError> {
    let mut out = ClientSide::default();
    for p in CLIENT_SIDE_PARAMS {
        let Some(v) = extra.shift_remove(*p) else {
            continue;
        };
        if !allowed && !deployment_allows(state, group, p) {
            return Err(rejected(p));
        }
        if matches!(*p, "api_base" | "base_url") {
            out.api_base = v.as_str().map(str::to_string);
        }
    }
    if out.api_base.is_some() {
        out.api_key = extra
            .get("api_key")
            .and_then(Value::as_str)
            .map(str::to_string);
    }
    Ok(out)
}

/// `configurable_clientside_auth_params: ["api_base"]` on a deployment of the group.
fn deployment_allows(state: &AppState, group: &str, param: &str) -> bool {
    let Some((dep, _)) = state.deployments().peek(group) else {
        return false;
    };
    dep.entry
        .litellm_params
        .extra
        .get("configurable_clientside_auth_params")
        .and_then(Value::as_array)
        .is_some_and(|a| a.iter().any(|v| v.as_str() == Some(param)))
}

fn rejected(param: &str) -> GatewayError {
    GatewayError::BadRequest(format!(
        "Rejected Request: {param} is not allowed in request body. Clientside passthrough \
         requires explicit admin opt-in via either `general_settings.allow_client_side_credentials \
         = true` (proxy-wide) or `configurable_clientside_auth_params` on the deployment in your \
         proxy config.yaml."
    ))
}

/// Parses a JSON body into `T`, with an OpenAI-shaped 400 for malformed JSON or wrong types.
pub fn parse_body<T: DeserializeOwned>(body: &Bytes) -> Result<T, GatewayError> {
    if body.is_empty() {
        return Err(GatewayError::BadRequest(
            "Request body is empty: send a JSON object".into(),
        ));
    }
    serde_json::from_slice(body).map_err(|e| {
        let msg = if e.is_syntax() || e.is_eof() {
            format!("Invalid JSON payload: {e}")
        } else {
            format!("Invalid request body: {e}")
        };
        GatewayError::BadRequest(msg)
    })
}

/// Removes the fields the proxy consumes; `metadata` is the proxy's too (LiteLLM keeps it
/// for logging), so it is not sent upstream.
pub fn strip_proxy_fields(extra: &mut Map<String, Value>) {
    for f in PROXY_ONLY_FIELDS {
        extra.shift_remove(*f);
    }
}
