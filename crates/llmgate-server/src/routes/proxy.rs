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

use crate::deployments::Deployment;
use crate::error::GatewayError;
use crate::state::AppState;

/// Fields LiteLLM's proxy reads itself and never forwards (client-sent `mock_response`
/// included: only a deployment's counts), plus client-side credentials, which are not
/// honoured.
const PROXY_ONLY_FIELDS: &[&str] = &[
    "mock_response",
    "mock_testing_fallbacks",
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
    "api_base",
    "base_url",
    "api_version",
    "proxy_server_request",
    "secret_fields",
];

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
        extra.remove(*f);
    }
}

/// How one call went, for the response headers.
#[derive(Clone)]
pub struct CallMeta {
    pub start: Instant,
    pub call_id: String,
    pub deployment: Arc<Deployment>,
    pub model_group: String,
    pub attempted_retries: u32,
    pub upstream_headers: Vec<(String, String)>,
    /// Time spent waiting on the upstream (all attempts).
    pub upstream: Duration,
}

/// Calls `f` on a deployment of `model_name`, moving to another deployment and retrying on
/// retryable errors up to the configured count.
pub async fn call_with_retries<T, F, Fut>(
    state: &AppState,
    route: &'static str,
    model_name: &str,
    start: Instant,
    f: F,
) -> Result<(T, CallMeta), (GatewayError, Option<CallMeta>)>
where
    F: Fn(Arc<Deployment>, String) -> Fut,
    Fut: Future<Output = Result<SdkResponse<T>, LlmError>>,
{
    let call_id = uuid::Uuid::new_v4().to_string();
    let mut tried: Vec<String> = Vec::new();
    let mut upstream = Duration::ZERO;
    let mut attempt = 0u32;
    loop {
        let Some((dep, model)) = state.deployments().pick(model_name, &tried) else {
            return Err((
                GatewayError::UnknownModel {
                    route,
                    model: model_name.to_string(),
                },
                None,
            ));
        };
        let max_retries = dep.max_retries.unwrap_or(state.num_retries);
        let t0 = Instant::now();
        let res = f(dep.clone(), model).await;
        upstream += t0.elapsed();
        let meta = |headers| CallMeta {
            start,
            call_id: call_id.clone(),
            deployment: dep.clone(),
            model_group: model_name.to_string(),
            attempted_retries: attempt,
            upstream_headers: headers,
            upstream,
        };
        match res {
            Ok(r) => return Ok((r.body, meta(r.headers))),
            Err(e) if e.kind.is_retryable() && attempt < max_retries => {
                tracing::warn!(model = model_name, deployment = %dep.id, error = %e, "retrying");
                tried.push(dep.id.clone());
                attempt += 1;
            }
            Err(e) => {
                let headers = e.headers.clone();
                return Err((
                    GatewayError::Llm(e.with_model(model_name)),
                    Some(meta(headers)),
                ));
            }
        }
    }
}

fn set(h: &mut HeaderMap, name: &str, value: &str) {
    if let (Ok(n), Ok(v)) = (HeaderName::try_from(name), HeaderValue::from_str(value)) {
        h.insert(n, v);
    }
}

/// A float as Python's `repr` writes it (`7.5e-05`, `0.001`, `1.0`), so header values read
/// the same as LiteLLM's.
pub fn py_float(x: f64) -> String {
    if x == 0.0 {
        return "0.0".into();
    }
    let exp = x.abs().log10().floor();
    if !(-4.0..16.0).contains(&exp) {
        let s = format!("{x:e}");
        let (mantissa, e) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match e.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', e),
        };
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    let s = x.to_string();
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
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

/// Streams chunks to the client as SSE, one event per chunk as it arrives. An error in the
/// middle becomes an `error` event (never a silent truncation); a normal end sends `[DONE]`.
/// Dropping the body (client gone) drops the upstream stream, which closes its connection.
pub fn sse_response<T, S, F>(stream: S, meta: &CallMeta, fix: F) -> Response
where
    T: Serialize + Send + 'static,
    S: Stream<Item = Result<T, LlmError>> + Send + 'static,
    // Adjusts a chunk; `false` drops it (a usage chunk asked for only to price the call).
    F: FnMut(&mut T) -> bool + Send + 'static,
{
    let group = meta.model_group.clone();
    let body = futures::stream::unfold(
        (Box::pin(stream), fix, group, false),
        |(mut s, mut fix, group, done)| async move {
            if done {
                return None;
            }
            let out = loop {
                match s.next().await {
                    Some(Ok(mut item)) => {
                        if !fix(&mut item) {
                            continue;
                        }
                        return Some((
                            Ok::<_, std::convert::Infallible>(sse_data(&item)),
                            (s, fix, group, false),
                        ));
                    }
                    Some(Err(e)) => {
                        let e = GatewayError::Llm(e.with_model(&group));
                        tracing::warn!(model = %group, error = %e.body(), "upstream stream failed");
                        break sse_data(&e.body());
                    }
                    None => break Bytes::from_static(b"data: [DONE]\n\n"),
                }
            };
            Some((Ok(out), (s, fix, group, true)))
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

#[cfg(test)]
mod tests {
    use super::py_float;

    #[test]
    fn floats_print_as_python_does() {
        assert_eq!(
            py_float(10.0 * 2.5e-6 + 5.0 * 1e-5),
            "7.500000000000001e-05"
        );
        assert_eq!(py_float(2.5e-5), "2.5e-05");
        assert_eq!(py_float(0.001), "0.001");
        assert_eq!(py_float(1.0), "1.0");
        assert_eq!(py_float(0.0), "0.0");
        assert_eq!(py_float(1e20), "1e+20");
    }
}
