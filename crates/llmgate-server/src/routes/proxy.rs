//! What every LLM route shares: parse the body, pick a deployment, retry, time, set headers.

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
use crate::deployments::Deployment;
use crate::error::GatewayError;
use crate::governance::settle::{CallMeta, Settlement};
use crate::pyfmt::py_float;
use crate::state::AppState;

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
    let Some((dep, _)) = state.deployments().pick(group, &[]) else {
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

/// A failure the client asked to be simulated (LiteLLM's testing flags): each attempt fails
/// this way instead of calling the upstream, and the usual retries apply.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MockFailure {
    /// `mock_testing_rate_limit_error: true`: a 429 `RateLimitError`.
    RateLimit,
    /// `mock_timeout: true`: a 408 `Timeout` after the call's timeout has passed.
    Timeout,
}

/// The simulated failure a request asks for (read before its proxy fields are stripped), and
/// the request's own `timeout` in seconds.
pub fn mock_failure(extra: &Map<String, Value>) -> (Option<MockFailure>, Option<f64>) {
    let timeout = match extra.get("timeout") {
        Some(Value::Number(n)) => n.as_f64(),
        Some(Value::String(s)) => s.parse().ok(),
        _ => None,
    };
    let mock = if is(extra.get("mock_testing_rate_limit_error"), true) {
        Some(MockFailure::RateLimit)
    } else if is(extra.get("mock_timeout"), true) {
        Some(MockFailure::Timeout)
    } else {
        None
    };
    (mock, timeout.filter(|t| t.is_finite() && *t >= 0.0))
}

/// The simulated failure of one attempt on `dep` (the deployment's own `mock_timeout` too).
async fn mock_attempt(
    mock: Option<MockFailure>,
    timeout: Option<f64>,
    dep: &Deployment,
    model_group: &str,
) -> Option<LlmError> {
    let deployment_timeout = is(dep.entry.litellm_params.extra.get("mock_timeout"), true);
    match mock.or(deployment_timeout.then_some(MockFailure::Timeout))? {
        MockFailure::RateLimit => Some(LlmError::new(
            llmgate::ErrorKind::RateLimit,
            format!(
                "This is a mock exception for model={model_group}, to trigger a rate limit error."
            ),
        )),
        MockFailure::Timeout => {
            // As LiteLLM: only with a timeout to wait for (the request's, else the deployment's).
            let secs = timeout.or(dep.entry.litellm_params.timeout)?;
            tokio::time::sleep(Duration::from_secs_f64(secs.min(86_400.0))).await;
            Some(
                LlmError::new(llmgate::ErrorKind::Timeout, "This is a mock timeout error")
                    .with_provider("openai"),
            )
        }
    }
}

/// Calls `f` on a deployment of the settlement's model group, moving to another deployment
/// and retrying on retryable errors up to the configured count. The settlement learns each
/// deployment tried, so a call abandoned while waiting is charged to the right one.
pub async fn call_with_retries<T, F, Fut>(
    state: &AppState,
    route: &'static str,
    settle: &mut Settlement,
    (mock, timeout): (Option<MockFailure>, Option<f64>),
    f: F,
) -> Result<(T, CallMeta), (GatewayError, Option<CallMeta>)>
where
    F: Fn(Arc<Deployment>, String) -> Fut,
    Fut: Future<Output = Result<SdkResponse<T>, LlmError>>,
{
    let model_name = settle.group().to_string();
    let mut tried: Vec<String> = Vec::new();
    // As LiteLLM's pre-call check: an end user limited to a region is served only by the
    // deployments whose `region_name` is that region.
    let region = settle.allowed_region().map(str::to_string);
    let mut banned: Vec<String> = Vec::new();
    if let (Some(r), Some(group)) = (&region, state.deployments().group(&model_name)) {
        let outside = |d: &&Arc<Deployment>| {
            d.entry
                .litellm_params
                .extra
                .get("region_name")
                .and_then(Value::as_str)
                != Some(r)
        };
        banned.extend(group.iter().filter(outside).map(|d| d.id.clone()));
        if banned.len() == group.len() {
            return Err((
                GatewayError::BadRequest(format!(
                    "No deployments available for model={model_name} in the end user's allowed_model_region={r}"
                )),
                None,
            ));
        }
    }
    let mut upstream = Duration::ZERO;
    let mut attempt = 0u32;
    loop {
        let Some((dep, model)) = state
            .deployments()
            .pick_within(&model_name, &tried, &banned)
        else {
            return Err((
                GatewayError::UnknownModel {
                    route,
                    model: model_name,
                },
                None,
            ));
        };
        settle.attempt(&dep);
        let max_retries = dep.max_retries.unwrap_or(state.num_retries);
        let t0 = Instant::now();
        let res = match mock_attempt(mock, timeout, &dep, &model_name).await {
            Some(e) => Err(e),
            None => f(dep.clone(), model).await,
        };
        upstream += t0.elapsed();
        let meta = |headers| CallMeta {
            start: settle.start(),
            call_id: settle.call_id().to_string(),
            deployment: dep.clone(),
            model_group: model_name.clone(),
            attempted_retries: attempt,
            max_retries,
            timeout: timeout.or(dep.entry.litellm_params.timeout),
            model_region: region.clone(),
            upstream_headers: headers,
            upstream,
        };
        match res {
            Ok(r) => {
                let meta = meta(r.headers);
                settle.answered(&meta);
                return Ok((r.body, meta));
            }
            Err(e) if e.is_retryable() && attempt < max_retries => {
                tracing::warn!(model = %model_name, deployment = %dep.id, error = %e, "retrying");
                tried.push(dep.id.clone());
                attempt += 1;
            }
            Err(e) => {
                let headers = e.headers.clone();
                let meta = meta(headers);
                settle.answered(&meta);
                return Err((GatewayError::Llm(e.with_model(&model_name)), Some(meta)));
            }
        }
    }
}

fn set(h: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
        h.insert(n, v);
    }
}

/// LiteLLM's `x-litellm-*` headers, and the upstream's own with the `llm_provider-` prefix.
pub fn litellm_headers(meta: &CallMeta, cost: Option<f64>) -> HeaderMap {
    let mut h = HeaderMap::new();
    let total = meta.start.elapsed();
    let overhead = total.saturating_sub(meta.upstream);
    set(&mut h, "x-litellm-call-id", &meta.call_id);
    set(&mut h, "x-litellm-model-id", &meta.deployment.id);
    set(&mut h, "x-litellm-model-group", &meta.model_group);
    set(&mut h, "x-litellm-model-name", &meta.deployment.model);
    set(
        &mut h,
        "x-litellm-model-api-base",
        &meta.deployment.api_base,
    );
    set(&mut h, "x-litellm-version", env!("CARGO_PKG_VERSION"));
    if let Some(c) = cost {
        set(&mut h, "x-litellm-response-cost", &py_float(c));
    }
    set(
        &mut h,
        "x-litellm-response-duration-ms",
        &format!("{:.3}", total.as_secs_f64() * 1000.0),
    );
    set(
        &mut h,
        "x-litellm-overhead-duration-ms",
        &format!("{:.3}", overhead.as_secs_f64() * 1000.0),
    );
    set(
        &mut h,
        "x-litellm-attempted-retries",
        &meta.attempted_retries.to_string(),
    );
    set(&mut h, "x-litellm-attempted-fallbacks", "0");
    set(
        &mut h,
        "x-litellm-max-retries",
        &meta.max_retries.to_string(),
    );
    if let Some(t) = meta.timeout {
        set(&mut h, "x-litellm-timeout", &py_float(t));
    }
    if let Some(r) = &meta.model_region {
        set(&mut h, "x-litellm-model-region", r);
    }
    for (k, v) in &meta.upstream_headers {
        if is_hop_header(k) {
            continue;
        }
        set(&mut h, &format!("llm_provider-{k}"), v);
    }
    h
}

fn is_hop_header(name: &str) -> bool {
    matches!(
        name.to_ascii_lowercase().as_str(),
        "content-length" | "transfer-encoding" | "connection" | "keep-alive" | "content-encoding"
    )
}

/// An error answer, with the call's headers when a deployment was involved.
pub fn error_response(err: GatewayError, meta: Option<&CallMeta>) -> Response {
    let mut res = axum::response::IntoResponse::into_response(err);
    if let Some(m) = meta {
        res.headers_mut().extend(litellm_headers(m, None));
    }
    res
}

/// A JSON answer with the call's headers.
pub fn json_response<T: Serialize>(body: &T, meta: &CallMeta, cost: Option<f64>) -> Response {
    let bytes = match serde_json::to_vec(body) {
        Ok(b) => b,
        Err(e) => return error_response(GatewayError::Internal(e.to_string()), Some(meta)),
    };
    let mut res = Response::new(Body::from(bytes));
    let h = res.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    h.extend(litellm_headers(meta, cost));
    res
}

/// Serializes an SSE event line.
fn sse_data<T: Serialize>(item: &T) -> Bytes {
    let mut buf = Vec::with_capacity(256);
    buf.extend_from_slice(b"data: ");
    if serde_json::to_writer(&mut buf, item).is_err() {
        buf.truncate(6);
        buf.extend_from_slice(b"{}");
    }
    buf.extend_from_slice(b"\n\n");
    Bytes::from(buf)
}

/// What a stream reports as it goes: each chunk before it is sent, a mid-stream error, the
/// normal end. Dropped with the body (client gone) before the end: the tap's owner decides
/// what that means (the settlement charges an abandoned call).
pub trait StreamTap<T>: Send + 'static {
    /// Adjusts a chunk; `false` drops it (a usage chunk asked for only to price the call).
    fn chunk(&mut self, item: &mut T) -> bool;
    fn error(&mut self, error: &GatewayError);
    fn end(&mut self);
}

/// Streams chunks to the client as SSE, one event per chunk as it arrives. An error in the
/// middle becomes an `error` event (never a silent truncation); a normal end sends `[DONE]`.
/// Dropping the body (client gone) drops the upstream stream, which closes its connection,
/// and the tap.
pub fn sse_response<T, S, P>(stream: S, meta: &CallMeta, tap: P) -> Response
where
    T: Serialize + Send + 'static,
    S: Stream<Item = Result<T, LlmError>> + Send + 'static,
    P: StreamTap<T>,
{
    let group = meta.model_group.clone();
    let body = futures::stream::unfold(
        (Box::pin(stream), tap, group, false),
        |(mut s, mut tap, group, done)| async move {
            if done {
                return None;
            }
            let out = loop {
                match s.next().await {
                    Some(Ok(mut item)) => {
                        if !tap.chunk(&mut item) {
                            continue;
                        }
                        return Some((
                            Ok::<_, std::convert::Infallible>(sse_data(&item)),
                            (s, tap, group, false),
                        ));
                    }
                    Some(Err(e)) => {
                        let e = GatewayError::Llm(e.with_model(&group));
                        tracing::warn!(model = %group, error = %e.body(), "upstream stream failed");
                        tap.error(&e);
                        break sse_data(&e.body());
                    }
                    None => {
                        tap.end();
                        break Bytes::from_static(b"data: [DONE]\n\n");
                    }
                }
            };
            Some((Ok(out), (s, tap, group, true)))
        },
    );
    let mut res = Response::new(Body::from_stream(body));
    *res.status_mut() = StatusCode::OK;
    let h = res.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert("cache-control", HeaderValue::from_static("no-cache"));
    h.extend(litellm_headers(meta, None));
    res
}
