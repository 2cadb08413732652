//! Google's native paths as LiteLLM serves them from the model list:
//! `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent` and `:countTokens`
//! (also under `/models/...`, and `/v1/models/...`, the `google-genai` client's default).
//! `{model}` is a model group; the key's access to it is checked first, then the router picks
//! one of the group's deployments, and that pick decides how the call is served:
//!
//! - a Gemini (AI Studio) or Vertex AI Gemini deployment gets the client's body as it came
//!   (plus the deployment's default params as `generationConfig` fields it does not set),
//!   at the deployment's own URL with the deployment's credentials (the SDK's providers build
//!   both: a client picks neither host nor path). A 429, 5xx or unreachable upstream goes
//!   through the router's retries, cooldowns and fallbacks as chat's do (a stream's too: no byte
//!   has been relayed yet); the answer that succeeds is relayed as is, a stream chunk by chunk
//!   (`?alt=sse`, as Google's SDK asks and LiteLLM always answers). Usage is read from
//!   `usageMetadata` and logged with LiteLLM's call types `agenerate_content` /
//!   `agenerate_content_stream` (`:countTokens` as a pass-through call);
//! - any other deployment (Claude on Vertex AI included): the body goes through the chat
//!   pipeline (`endpoint/generate_content.rs`: admission, guardrails, retries and fallbacks — which may
//!   land on any deployment of the group, a Google one included, through chat —, the same call
//!   types), translated by the SDK (`llmgate::generate_content`) and answered in Google's
//!   shape, a stream always as SSE (as LiteLLM). `:countTokens` is counted locally with the
//!   gateway's token counter (`{"totalTokens": n}`), as `/v1/messages/count_tokens` is.
//!
//! The first pick decides the path: a native call's retry or fallback that lands on a
//! deployment of another provider fails (400) rather than switching format mid-call.
//! Errors are in OpenAI's shape on both paths, as LiteLLM 1.110's `google_endpoints` answer
//! them (its `ProxyException`), the upstream's own error included (its message kept).

use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use llmgate::providers::gemini::{self, Auth};
use llmgate::providers::http::{self, path_segment, SegmentKind};
use llmgate::providers::vertex;
use llmgate::{ErrorKind, LlmError};
use serde_json::{Map, Value};

use super::usage::Format;
use super::{path, relay};
use crate::auth::AuthContext;
use crate::deployments::Deployment;
use crate::error::{ErrorShape, GatewayError};
use crate::routes::{endpoint, proxy};
use crate::state::AppState;

/// The route prefixes (each followed by `/{model}:{method}`): LiteLLM's two, and `/v1/models`,
/// where Google's `google-genai` client (3.x) sends them given a `base_url`.
pub const PREFIXES: &[&str] = &["/v1beta/models", "/models", "/v1/models"];

/// The methods served, with the spend log's call type.
const METHODS: &[(&str, &str)] = &[
    ("generateContent", "agenerate_content"),
    ("streamGenerateContent", "agenerate_content_stream"),
    // LiteLLM's token counter writes no spend row of its own; here the (free) call is
    // admitted and logged as a pass-through call.
    ("countTokens", "pass_through_endpoint"),
];

pub async fn handle(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    req: Request,
) -> Response {
    serve(&state, &auth, req)
        .await
        .unwrap_or_else(|e| e.into_response())
}

/// `{model}:{method}` split, the model percent-decoded and checked as one plain segment.
fn parse(rest: &str) -> Result<(String, &'static str, &'static str), GatewayError> {
    let not_found = || GatewayError::NotFound(format!("Route not found: {rest}"));
    let (raw, method) = rest.rsplit_once(':').ok_or_else(not_found)?;
    let (method, call_type) = METHODS
        .iter()
        .find(|(m, _)| *m == method)
        .copied()
        .ok_or_else(not_found)?;
    let refuse = || {
        GatewayError::BadRequest(format!(
            "{raw:?} is not a model name this route takes: one plain path segment (letters, digits, `-_.@`)"
        ))
    };
    let decoded = path::percent_decode(raw)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(refuse)?;
    path_segment(&decoded, SegmentKind::Segment).map_err(|_| refuse())?;
    Ok((decoded, method, call_type))
}

async fn serve(
    state: &AppState,
    auth: &AuthContext,
    req: Request,
) -> Result<Response, GatewayError> {
    let (parts, body) = req.into_parts();
    let full = parts.uri.path();
    let rest = PREFIXES
        .iter()
        .find_map(|p| full.strip_prefix(p)?.strip_prefix('/'))
        .ok_or_else(|| GatewayError::NotFound(format!("Route not found: {full}")))?;
    let (model, method, call_type) = parse(rest)?;
    // The key's model list first (LiteLLM checks access before routing).
    let deployments = state.deployments();
    if let Some(key) = &auth.key {
        crate::governance::access::check(&state.gov, &deployments, key, &model).await?;
    }
    // The router's pick (its strategy, cooldowns) decides the path; the native relay's
    // attempts are then the router's too (`call_with_retries`). A group the router cannot pick
    // from now (all cooling down) is decided by its first deployment: its fallbacks may answer.
    let ask = llmgate::router::Ask {
        tags: &[],
        input_tokens: None,
        exclude: &[],
        banned: &[],
    };
    let (first, first_model) = match deployments.router().pick(&model, ask) {
        Ok(pick) => (pick.target().clone(), pick.model.clone()),
        Err(e) => deployments.peek(&model).ok_or(GatewayError::Llm(e))?,
    };
    let body: Bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| GatewayError::BadRequest(format!("could not read the body: {e}")))?;
    if !speaks_native(&first, &first_model) {
        // Any other provider: through chat.
        if method == "countTokens" {
            return endpoint::generate_content::count_tokens(
                &body,
                upstream_model(&first, &first_model),
            );
        }
        let stream = method == "streamGenerateContent";
        let (state, auth) = (state.clone(), auth.clone());
        let res =
            endpoint::generate_content::serve(state, auth, &parts.headers, model, stream, body);
        return Ok(Box::pin(res).await);
    }
    let body = match serde_json::from_slice::<Value>(&body) {
        Ok(Value::Object(o)) => o,
        _ => {
            return Err(GatewayError::BadRequest(format!(
                "the `:{method}` body must be a JSON object (Google's request shape)"
            )))
        }
    };
    // Google answers a stream as SSE with `alt=sse` (its SDK's ask), else as one JSON array;
    // LiteLLM always streams SSE.
    let alt = parts.uri.query().and_then(|q| {
        q.split('&')
            .find_map(|p| p.strip_prefix("alt="))
            .filter(|v| matches!(*v, "sse" | "json"))
    });
    let query =
        (method == "streamGenerateContent").then(|| format!("?alt={}", alt.unwrap_or("sse")));
    let mut settle =
        relay::settlement(state, auth, call_type, PREFIXES[0], &model, Instant::now()).await?;
    // No request fields steer the router here: the body goes to Google as it came. The answer's
    // head is taken as its first token.
    let plan = proxy::call_plan(state, &Map::new(), Vec::new())?;
    let ask = Ask {
        model: &model,
        method,
        query: query.as_deref(),
        body: &body,
    };
    let res = proxy::call_with_retries(state, PREFIXES[0], &mut settle, &plan, |dep, m| {
        attempt(state, &ask, dep, m)
    })
    .await;
    let ((res, dep, url), mut meta) = match res {
        Ok(r) => r,
        Err((e, meta)) => {
            settle.failure(&e);
            return Ok(proxy::error_response_in(
                e,
                meta.as_ref(),
                ErrorShape::OpenAi,
            ));
        }
    };
    // A wildcard's deployment is priced and logged as the model asked.
    settle.attempt(&dep);
    meta.deployment = dep.clone();
    settle.answered(&meta);
    let answered = relay::Answered {
        provider: provider(&dep),
        format: Format::Gemini,
        url,
        model: Some(model),
        explicit: true,
    };
    Ok(relay::answer(state, settle, res, answered).await)
}

/// What every attempt of one native call sends.
struct Ask<'a> {
    model: &'a str,
    method: &'static str,
    query: Option<&'a str>,
    body: &'a Map<String, Value>,
}

/// The model the deployment's provider is sent (`gemini/gemini-2.5-flash` → `gemini-2.5-flash`).
fn upstream_model<'a>(dep: &Deployment, sdk_model: &'a str) -> &'a str {
    sdk_model
        .strip_prefix(dep.provider.as_str())
        .and_then(|m| m.strip_prefix('/'))
        .unwrap_or(sdk_model)
}

/// A Gemini (AI Studio) or Vertex AI Gemini deployment: Google's own wire format.
fn speaks_native(dep: &Deployment, sdk_model: &str) -> bool {
    match dep.provider.as_str() {
        "gemini" => true,
        "vertex_ai" => vertex::speaks_generate_content(upstream_model(dep, sdk_model)),
        _ => false,
    }
}

fn provider(dep: &Deployment) -> &'static str {
    if dep.provider == "gemini" {
        "gemini"
    } else {
        "vertex_ai"
    }
}

/// One attempt on `dep`: the client's body with the deployment's default params, at the
/// deployment's URL with its credentials. A non-2xx answer is the mapped error the router
/// retries or falls back on; a 2xx answer's body is not read yet (a stream is relayed as is).
async fn attempt(
    state: &AppState,
    ask: &Ask<'_>,
    dep: Arc<Deployment>,
    sdk_model: String,
) -> Result<llmgate::Response<(reqwest::Response, Arc<Deployment>, reqwest::Url)>, LlmError> {
    if !speaks_native(&dep, &sdk_model) {
        // A retry or fallback landed on a deployment that does not speak Google's format.
        return Err(LlmError::new(
            ErrorKind::BadRequest,
            format!(
                "model group {:?}'s deployment {} does not serve Google's native format",
                dep.model_name, dep.id
            ),
        ));
    }
    // A wildcard route's deployment, made concrete for the model asked (its name, catalog
    // price and the key's access are the model's, not the pattern's).
    let dep = if dep.model_name.contains('*') {
        let mut entry = dep.entry.clone();
        entry.model_name = ask.model.to_string();
        entry.litellm_params.model = sdk_model.clone();
        let mut d = Deployment::for_target(&entry, &state.config, &state.client, &dep.api_base);
        d.id = dep.id.clone();
        Arc::new(d)
    } else {
        dep
    };
    let upstream = upstream_model(&dep, &sdk_model);
    let provider = provider(&dep);
    let client = state.client.http();
    let target = if provider == "gemini" {
        gemini::native_target(&dep.opts, upstream)?
    } else {
        vertex::native_target(client, &dep.opts, upstream).await?
    };
    let url = format!(
        "{}:{}{}",
        target.model_url,
        ask.method,
        ask.query.unwrap_or_default()
    );
    let url = reqwest::Url::parse(&url).map_err(|_| {
        LlmError::new(
            ErrorKind::InternalServer,
            format!("the deployment's URL {url:?} is not a URL"),
        )
    })?;
    let mut body = ask.body.clone();
    if ask.method != "countTokens" && !dep.defaults.is_empty() {
        endpoint::generate_content::native_defaults(&mut body, &dep.defaults);
    }
    let mut rb = client
        .post(url.clone())
        .header("content-type", "application/json");
    rb = match &target.auth {
        Auth::ApiKey(k) => rb.header(
            "x-goog-api-key",
            HeaderValue::from_str(k).map_err(|_| {
                LlmError::new(
                    ErrorKind::Authentication,
                    "the Gemini key is not a header value",
                )
            })?,
        ),
        Auth::Bearer(t) => rb.bearer_auth(t),
    };
    for (k, v) in &dep.opts.extra_headers {
        rb = rb.header(k, v);
    }
    let wait = dep
        .entry
        .litellm_params
        .timeout
        .filter(|t| t.is_finite() && *t > 0.0)
        .map_or(relay::ANSWER_TIMEOUT, Duration::from_secs_f64);
    let rb = rb.body(Value::Object(body).to_string());
    let res = http::send(rb, provider, Some(wait), false).await?;
    let mut shown = url.clone();
    shown.set_query(None);
    Ok(llmgate::Response {
        headers: http::header_pairs(res.headers()),
        api_base: shown.to_string(),
        body: (res, dep, url),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_and_method_from_the_path() {
        let (m, method, ct) = parse("gemini-2.5-flash:streamGenerateContent").unwrap();
        assert_eq!(
            (m.as_str(), method, ct),
            (
                "gemini-2.5-flash",
                "streamGenerateContent",
                "agenerate_content_stream"
            )
        );
        assert!(matches!(
            parse("gemini:embedContent"),
            Err(GatewayError::NotFound(_))
        ));
        for bad in [
            "a/..:generateContent",
            "..:generateContent",
            "a%3Fb:generateContent",
            "a%2F..%2Fb:generateContent",
            "x/y:countTokens",
        ] {
            assert!(parse(bad).is_err(), "{bad}");
        }
    }
}
