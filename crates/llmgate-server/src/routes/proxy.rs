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
use crate::deployments::{Deployment, Routed};
use crate::error::GatewayError;
use crate::governance::settle::{CallMeta, Settlement};
use crate::pyfmt::py_float;
use crate::state::AppState;
use llmgate::router::{Ask, Next};

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

/// LiteLLM's request params that make the proxy fabricate a failure or a delay: refused
/// unless `general_settings.dangerously_allow_mock_testing_request_params: true`.
const GATED_MOCK_PARAMS: &[&str] = &[
    "mock_testing_fallbacks",
    "mock_testing_context_fallbacks",
    "mock_testing_content_policy_fallbacks",
    "mock_testing_rate_limit_error",
    "mock_timeout",
    "mock_delay",
];

/// A failure the client asked to be simulated (LiteLLM's testing flags): each attempt fails
/// this way instead of calling the upstream, and the usual retries and fallbacks apply.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MockFailure {
    /// `mock_testing_rate_limit_error: true`: a 429 `RateLimitError`.
    RateLimit,
    /// `mock_timeout: true`: a 408 `Timeout` after the call's timeout has passed.
    Timeout,
    /// `mock_testing_fallbacks: true`: the asked group fails, its fallbacks are called.
    Fallbacks,
    /// `mock_testing_context_fallbacks: true`: a context-window error in the asked group.
    ContextWindow,
    /// `mock_testing_content_policy_fallbacks: true`: a content-policy error there.
    ContentPolicy,
}

/// How the router is to treat one call: what the request asks of it (read before its proxy
/// fields are stripped).
#[derive(Clone, Debug, Default)]
pub struct CallPlan {
    pub mock: Option<MockFailure>,
    /// `mock_delay`: seconds each attempt waits first.
    pub delay: Option<f64>,
    /// The request's own `timeout` (seconds): lowers the deployment's.
    pub timeout: Option<f64>,
    /// The request's `fallbacks` list (replaces the router's for this call).
    pub fallbacks: Option<Vec<String>>,
    /// The request's `num_retries`.
    pub num_retries: Option<u32>,
    /// Tags the request carries (tag routing).
    pub tags: Vec<String>,
    /// The prompt's tokens, counted only when the router needs them (pre-call checks, tpm).
    pub input_tokens: Option<u64>,
    /// A streamed call: its latency is the time to the first chunk.
    pub stream: bool,
}

fn seconds(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|t: &f64| t.is_finite() && *t >= 0.0)
}

/// The call plan of a request; 400 for a mock-testing param the proxy does not allow.
pub fn call_plan(
    state: &AppState,
    extra: &Map<String, Value>,
    tags: Vec<String>,
) -> Result<CallPlan, GatewayError> {
    let allowed = matches!(
        state
            .config
            .general_settings
            .extra
            .get("dangerously_allow_mock_testing_request_params"),
        Some(Value::Bool(true))
    );
    let present: Vec<&str> = GATED_MOCK_PARAMS
        .iter()
        .copied()
        .filter(|p| extra.contains_key(*p))
        .collect();
    if !allowed && !present.is_empty() {
        return Err(GatewayError::BadRequest(format!(
            "Mock testing request params are disabled on this proxy: {}. An admin can enable \
             them by setting `general_settings.dangerously_allow_mock_testing_request_params: \
             true` in config.yaml. This setting cannot be changed from the Admin UI or the API.",
            present.join(", ")
        )));
    }
    let flag = |k: &str| is(extra.get(k), true);
    let mock = if flag("mock_testing_rate_limit_error") {
        Some(MockFailure::RateLimit)
    } else if flag("mock_timeout") {
        Some(MockFailure::Timeout)
    } else if flag("mock_testing_fallbacks") {
        Some(MockFailure::Fallbacks)
    } else if flag("mock_testing_context_fallbacks") {
        Some(MockFailure::ContextWindow)
    } else if flag("mock_testing_content_policy_fallbacks") {
        Some(MockFailure::ContentPolicy)
    } else {
        None
    };
    let fallbacks = match extra.get("fallbacks") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for f in a {
                match f {
                    Value::String(m) => out.push(m.clone()),
                    // LiteLLM also takes `{"model": ..., ...}` entries.
                    Value::Object(o) => match o.get("model").and_then(Value::as_str) {
                        Some(m) => out.push(m.to_string()),
                        None => {
                            return Err(GatewayError::BadRequest(
                                "fallbacks: each entry is a model name or {\"model\": ...}".into(),
                            ))
                        }
                    },
                    _ => {
                        return Err(GatewayError::BadRequest(
                            "fallbacks: each entry is a model name".into(),
                        ))
                    }
                }
            }
            Some(out)
        }
        Some(_) => {
            return Err(GatewayError::BadRequest(
                "fallbacks must be a list of model names".into(),
            ))
        }
    };
    let num_retries = match extra.get("num_retries") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    GatewayError::BadRequest("num_retries must be a whole number".into())
                })?,
        ),
    };
    Ok(CallPlan {
        mock,
        delay: seconds(extra.get("mock_delay")),
        timeout: seconds(extra.get("timeout")),
        fallbacks,
        num_retries,
        tags,
        input_tokens: None,
        stream: false,
    })
}

/// The simulated failure of one attempt on `dep` in `group` (the deployment's own
/// `mock_timeout` too); `asked`: the group is the one the client asked for.
async fn mock_attempt(
    plan: &CallPlan,
    dep: &Deployment,
    group: &str,
    asked: bool,
) -> Option<LlmError> {
    if let Some(d) = plan.delay {
        tokio::time::sleep(Duration::from_secs_f64(d.min(86_400.0))).await;
    }
    let deployment_timeout = is(dep.entry.litellm_params.extra.get("mock_timeout"), true);
    let mock =
        match plan.mock {
            // The fallback testing flags fail only the asked group: its fallbacks answer.
            Some(
                MockFailure::Fallbacks | MockFailure::ContextWindow | MockFailure::ContentPolicy,
            ) if !asked => None,
            m => m,
        };
    let kind = |k, msg: String| Some(LlmError::new(k, msg).with_provider(&dep.provider));
    match mock.or(deployment_timeout.then_some(MockFailure::Timeout))? {
        MockFailure::RateLimit => Some(LlmError::new(
            llmgate::ErrorKind::RateLimit,
            format!("This is a mock exception for model={group}, to trigger a rate limit error."),
        )),
        MockFailure::Timeout => {
            // As LiteLLM: only with a timeout to wait for (the request's, else the deployment's).
            let secs = plan.timeout.or(dep.entry.litellm_params.timeout)?;
            tokio::time::sleep(Duration::from_secs_f64(secs.min(86_400.0))).await;
            Some(
                LlmError::new(llmgate::ErrorKind::Timeout, "This is a mock timeout error")
                    .with_provider("openai"),
            )
        }
        MockFailure::Fallbacks => kind(
            llmgate::ErrorKind::InternalServer,
            format!("This is a mock exception for model={group}, to trigger a fallback."),
        ),
        MockFailure::ContextWindow => kind(
            llmgate::ErrorKind::ContextWindowExceeded,
            format!(
                "This is a mock exception for model={group}, to trigger a context window fallback."
            ),
        ),
        MockFailure::ContentPolicy => kind(
            llmgate::ErrorKind::ContentPolicyViolation,
            format!(
                "This is a mock exception for model={group}, to trigger a content policy fallback."
            ),
        ),
    }
}

/// Calls `f` on deployments the router picks for the settlement's model group: after a
/// failure the router's plan decides — retry (another deployment first), fall back to
/// another group, or answer the error. Every attempt's outcome feeds the router (cooldowns,
/// latency); the settlement learns each deployment tried, so a call abandoned while waiting
/// is charged to the right one.
pub async fn call_with_retries<T, F, Fut>(
    state: &AppState,
    route: &'static str,
    settle: &mut Settlement,
    plan: &CallPlan,
    f: F,
) -> Result<(T, CallMeta), (GatewayError, Option<CallMeta>)>
where
    F: Fn(Arc<Deployment>, String) -> Fut,
    Fut: Future<Output = Result<SdkResponse<T>, LlmError>>,
{
    let deployments = state.deployments();
    let router = deployments.router();
    let model_name = settle.group().to_string();
    if !router.serves(&model_name) {
        return Err((
            GatewayError::UnknownModel {
                route,
                model: model_name,
            },
            None,
        ));
    }
    // As LiteLLM's pre-call check: an end user limited to a region is served only by the
    // deployments whose `region_name` is that region.
    let region = settle.allowed_region().map(str::to_string);
    let mut banned: Vec<String> = Vec::new();
    if let (Some(r), Some(group)) = (&region, deployments.group(&model_name)) {
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
    let settings = router.settings();
    let mut at = router
        .attempts(&model_name)
        .with_request_fallbacks(plan.fallbacks.clone())
        .with_retries(plan.num_retries);
    let mut upstream = Duration::ZERO;
    let mut last: Option<CallMeta> = None;
    loop {
        let group = at.group().to_string();
        let asked = at.fallbacks == 0;
        let tags = settle.tags().to_vec();
        let ask = Ask {
            tags: &tags,
            input_tokens: plan.input_tokens,
            exclude: at.tried(),
            banned: if asked { &banned } else { &[] },
        };
        let pick = match router.pick(&group, ask) {
            Ok(p) => p,
            Err(e) => {
                let may = |g: &str| settle.may_call(&deployments, g);
                if let Next::Fallback { group: to } = at.after(router, None, &e, &may) {
                    tracing::warn!(model = %group, fallback = %to, error = %e, "falling back");
                    continue;
                }
                if let Some(m) = &last {
                    settle.answered(m);
                }
                let e = at.final_error(router, e.with_model(&group));
                return Err((GatewayError::Llm(e), last));
            }
        };
        let dep = pick.target().clone();
        at.attempted(&dep.id);
        settle.attempt(&dep);
        let max_retries = plan
            .num_retries
            .or(dep.max_retries)
            .unwrap_or(settings.num_retries);
        let t0 = Instant::now();
        let res = match mock_attempt(plan, &dep, &group, asked).await {
            Some(e) => Err(e),
            None => f(dep.clone(), pick.model.clone()).await,
        };
        let took = t0.elapsed();
        upstream += took;
        let meta = |headers, routed| CallMeta {
            start: settle.start(),
            call_id: settle.call_id().to_string(),
            deployment: dep.clone(),
            model_group: group.clone(),
            attempted_retries: at.retries,
            attempted_fallbacks: at.fallbacks,
            max_retries,
            timeout: plan.timeout.or(dep.entry.litellm_params.timeout),
            model_region: region.clone(),
            upstream_headers: headers,
            upstream,
            routed,
        };
        match res {
            Ok(r) => {
                router.succeeded(&pick.member, None, None);
                let routed = Routed::new(pick, t0, settings.latency.max_samples);
                if !plan.stream {
                    routed.first_token();
                }
                let meta = meta(r.headers, Some(Arc::new(routed)));
                settle.answered(&meta);
                return Ok((r.body, meta));
            }
            Err(e) => {
                router.failed(&pick.member, &e);
                let m = meta(e.headers.clone(), None);
                let may = |g: &str| settle.may_call(&deployments, g);
                let next = at.after(router, Some(&pick.member), &e, &may);
                drop(pick);
                match next {
                    Next::Retry { delay } => {
                        tracing::warn!(model = %group, deployment = %dep.id, error = %e, "retrying");
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        last = Some(m);
                    }
                    Next::Fallback { group: to } => {
                        tracing::warn!(model = %group, fallback = %to, error = %e, "falling back");
                        last = Some(m);
                    }
                    Next::Stop => {
                        settle.answered(&m);
                        let e = at.final_error(router, e.with_model(&group));
                        return Err((GatewayError::Llm(e), Some(m)));
                    }
                }
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
    set(
        &mut h,
        "x-litellm-attempted-fallbacks",
        &meta.attempted_fallbacks.to_string(),
    );
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
