//! One pass-through call: admitted (the key's budgets and rate limits), sent, its answer
//! relayed chunk by chunk with the provider's status and headers, and settled once — usage and
//! cost read from the bytes on their way (`usage.rs`), a spend log with call type
//! `pass_through_endpoint` as LiteLLM writes it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use futures::StreamExt;
use llmgate::{ErrorKind, LlmError};

use super::usage::{Format, Meter};
use crate::auth::AuthContext;
use crate::config::{LitellmParams, ModelEntry};
use crate::deployments::Deployment;
use crate::error::GatewayError;
use crate::governance::settle::{PromptTokens, Settlement};
use crate::state::AppState;

/// How long the provider may take to answer (its head; a stream then runs as long as it sends),
/// LiteLLM's pass-through default.
pub const ANSWER_TIMEOUT: Duration = Duration::from_secs(600);

/// An error answer's body read for the spend log, at most this much.
const ERROR_BODY: usize = 64 << 10;

/// A request ready to go to the provider.
pub struct Call {
    /// The spend log's `call_type` (`pass_through_endpoint`, Google's native
    /// `agenerate_content`, ...).
    pub call_type: &'static str,
    /// The provider LiteLLM names in logs (`anthropic`, `gemini`, ...).
    pub provider: &'static str,
    /// The route family, for the spend log (`/anthropic`).
    pub route: &'static str,
    pub format: Format,
    /// The request, with the provider's credentials and never the client's key.
    pub request: reqwest::RequestBuilder,
    /// Where it goes (shown in logs without its query).
    pub url: reqwest::Url,
    /// The model the request names (body, path), if any.
    pub model: Option<String>,
    /// The deployment the call is priced and logged as, when one was used.
    pub deployment: Option<Arc<Deployment>>,
    /// A custom endpoint's `cost_per_request`.
    pub cost_per_request: Option<f64>,
}

/// No prompt is counted for a pass-through call: only what the provider reports is charged.
struct Reported;

impl PromptTokens for Reported {
    fn prompt_tokens(&self, _model: &str) -> u64 {
        0
    }
}

/// The deployment a call to `model` at `url` is priced and logged as: the catalog's price for
/// `provider/model`.
pub fn priced(
    state: &AppState,
    provider: &str,
    model: Option<&str>,
    url: &reqwest::Url,
) -> Arc<Deployment> {
    let mut shown = url.clone();
    shown.set_query(None);
    priced_at(state, provider, model, shown.as_str())
}

/// As [`priced`], logged with `api_base`.
pub fn priced_at(
    state: &AppState,
    provider: &str,
    model: Option<&str>,
    api_base: &str,
) -> Arc<Deployment> {
    let name = model.unwrap_or(provider);
    let entry = ModelEntry {
        model_name: name.to_string(),
        litellm_params: LitellmParams::new(match model {
            Some(m) => format!("{provider}/{m}"),
            None => provider.to_string(),
        }),
        ..ModelEntry::default()
    };
    Arc::new(Deployment::for_target(
        &entry,
        &state.config,
        &state.client,
        api_base,
    ))
}

pub async fn relay(state: &AppState, auth: &AuthContext, call: Call) -> Response {
    let start = Instant::now();
    let group = call
        .model
        .clone()
        .unwrap_or_else(|| call.provider.to_string());
    // A key limited to some models may send only those through a pass-through route (the
    // body's `model`, Gemini's or Azure's path model), checked as chat checks it.
    // A configured deployment is checked by its public name (the path may carry either).
    let checked = call
        .deployment
        .as_ref()
        .map(|d| d.model_name.clone())
        .or_else(|| call.model.clone());
    if let (Some(key), Some(model)) = (&auth.key, &checked) {
        let deployments = state.deployments();
        if let Err(e) = crate::governance::access::check(&state.gov, &deployments, key, model).await
        {
            return e.into_response();
        }
    }
    let mut settle = match settlement(state, auth, call.call_type, call.route, &group, start).await
    {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let explicit = call.deployment.is_some();
    let dep = call
        .deployment
        .clone()
        .unwrap_or_else(|| priced(state, call.provider, call.model.as_deref(), &call.url));
    settle.attempt(&dep);
    if let Some(c) = call.cost_per_request {
        settle.fixed_cost(c);
    }
    let res = match tokio::time::timeout(ANSWER_TIMEOUT, call.request.send()).await {
        Ok(Ok(r)) => r,
        Ok(Err(e)) => {
            let err = GatewayError::Llm(LlmError::from_transport(&e, call.provider));
            settle.failure(&err);
            return err.into_response();
        }
        Err(_) => {
            let err = GatewayError::Llm(LlmError::timeout(
                call.provider,
                ANSWER_TIMEOUT.as_secs_f64(),
            ));
            settle.failure(&err);
            return err.into_response();
        }
    };
    let answered = Answered {
        provider: call.provider,
        format: call.format,
        url: call.url,
        model: call.model,
        explicit,
    };
    answer(state, settle, res, answered).await
}

/// A call admitted for `group` (the key's budgets and rate limits), to be settled once.
pub async fn settlement(
    state: &AppState,
    auth: &AuthContext,
    call_type: &'static str,
    route: &'static str,
    group: &str,
    start: Instant,
) -> Result<Settlement, GatewayError> {
    let admission = crate::governance::admit::admit_target(&state.gov, auth, group).await?;
    Ok(Settlement::new(
        &state.gov,
        auth,
        admission,
        call_type,
        route,
        start,
        Arc::new(Reported),
    ))
}

/// What an answer is metered and priced as.
pub struct Answered {
    pub provider: &'static str,
    pub format: Format,
    pub url: reqwest::Url,
    pub model: Option<String>,
    /// The call was priced by a configured deployment.
    pub explicit: bool,
}

/// The provider's answer relayed — its status, headers and body chunk by chunk — and the call
/// settled when it ends (an error answer as the provider sent it).
pub async fn answer(
    state: &AppState,
    mut settle: Settlement,
    res: reqwest::Response,
    call: Answered,
) -> Response {
    let call_id = settle.call_id().to_string();
    let explicit = call.explicit;
    let status = StatusCode::from_u16(res.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let mut headers = answer_headers(res.headers());
    if let Ok(v) = HeaderValue::from_str(&call_id) {
        headers.insert(HeaderName::from_static("x-litellm-call-id"), v);
    }
    if !status.is_success() {
        // The provider's error goes back as it sent it; the log keeps its message.
        let body = read_capped(res, ERROR_BODY).await;
        let text = String::from_utf8_lossy(&body);
        let err = LlmError::new(
            ErrorKind::from_status(status.as_u16()),
            format!(
                "{} pass-through answered {}: {}",
                call.provider,
                status.as_u16(),
                text
            ),
        )
        .with_provider(call.provider);
        settle.failure(&GatewayError::Llm(err));
        let mut out = (status, Body::from(body)).into_response();
        *out.headers_mut() = headers;
        return out;
    }
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_string();
    let tap = Tap {
        settle,
        meter: Meter::new(call.format, &content_type),
        state: state.clone(),
        provider: call.provider,
        url: call.url,
        model: call.model,
        explicit,
    };
    let body = futures::stream::unfold(
        (res.bytes_stream(), Some(tap)),
        |(mut upstream, mut tap)| async move {
            let t = tap.as_mut()?;
            match upstream.next().await {
                Some(Ok(chunk)) => {
                    t.meter.feed(&chunk);
                    Some((Ok::<Bytes, std::io::Error>(chunk), (upstream, tap)))
                }
                Some(Err(e)) => {
                    let why = format!("the {} answer broke off: {e}", t.provider);
                    let err =
                        GatewayError::Llm(LlmError::new(ErrorKind::InternalServer, why.clone()));
                    t.settle.failure(&err);
                    tap = None;
                    Some((Err(std::io::Error::other(why)), (upstream, tap)))
                }
                None => {
                    if let Some(t) = tap.take() {
                        t.ended();
                    }
                    None
                }
            }
        },
    );
    let mut out = Response::new(Body::from_stream(body));
    *out.status_mut() = status;
    *out.headers_mut() = headers;
    out
}

/// Settles the call when the answer has been relayed whole; dropped before (the client left),
/// its settlement records the call as abandoned.
struct Tap {
    settle: Settlement,
    meter: Meter,
    state: AppState,
    provider: &'static str,
    url: reqwest::Url,
    model: Option<String>,
    /// The call was priced by a configured deployment (kept whatever the answer's model).
    explicit: bool,
}

impl Tap {
    fn ended(mut self) {
        let (usage, answered) = self.meter.finish();
        // The model the provider says answered prices the call when the request named none
        // (or another alias of it).
        if let Some(m) = answered.filter(|m| !self.explicit && Some(m) != self.model.as_ref()) {
            let dep = priced(&self.state, self.provider, Some(&m), &self.url);
            self.settle.attempt(&dep);
        }
        let usage = usage.unwrap_or_default();
        self.settle.success(Some(&usage));
    }
}

/// The provider's answer headers, without those about the connection or a length the relayed
/// stream does not promise.
fn answer_headers(upstream: &reqwest::header::HeaderMap) -> HeaderMap {
    let mut out = HeaderMap::new();
    for (k, v) in upstream {
        if matches!(
            k.as_str(),
            "content-length"
                | "transfer-encoding"
                | "connection"
                | "keep-alive"
                | "server"
                | "date"
                | "proxy-connection"
                | "upgrade"
                | "trailer"
                | "set-cookie"
        ) {
            continue;
        }
        out.append(k.clone(), v.clone());
    }
    out
}

/// Up to `cap` bytes of the body (an error answer's).
async fn read_capped(res: reqwest::Response, cap: usize) -> Bytes {
    let mut out = Vec::new();
    let mut s = res.bytes_stream();
    while let Some(Ok(chunk)) = s.next().await {
        let room = cap.saturating_sub(out.len());
        out.extend_from_slice(&chunk[..chunk.len().min(room)]);
        if out.len() >= cap {
            break;
        }
    }
    Bytes::from(out)
}

/// The client's headers the provider is sent: everything but the connection's own, the
/// gateway's credentials (every header LiteLLM reads a key from, and any header carrying the
/// presented key), cookies and forwarding headers.
pub fn forwarded(client: &HeaderMap, presented: Option<&str>) -> reqwest::header::HeaderMap {
    let mut out = reqwest::header::HeaderMap::new();
    let presented = presented.filter(|k| !k.is_empty());
    for (k, v) in client {
        let name = k.as_str();
        let dropped = matches!(
            name,
            "host"
                | "content-length"
                | "connection"
                | "keep-alive"
                | "te"
                | "trailer"
                | "transfer-encoding"
                | "upgrade"
                | "accept-encoding"
                | "cookie"
                | "authorization"
                | "api-key"
                | "x-api-key"
                | "x-goog-api-key"
                | "forwarded"
                | "x-real-ip"
        ) || name.starts_with("proxy-")
            || name.starts_with("x-forwarded-")
            || name.starts_with("x-litellm-");
        let carries_key =
            presented.is_some_and(|key| v.to_str().map(|s| s.contains(key)).unwrap_or(false));
        if !dropped && !carries_key {
            out.append(k.clone(), v.clone());
        }
    }
    out
}
