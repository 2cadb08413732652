//! Google's native paths as LiteLLM serves them from the model list:
//! `POST /v1beta/models/{model}:generateContent`, `:streamGenerateContent` and `:countTokens`
//! (also under `/models/...`, and `/v1/models/...`, the `google-genai` client's default).
//! `{model}` is a model group; the key's access to it is checked first, then the router picks
//! one of the group's deployments, and that pick decides how the call is served:
//!
//! - a Gemini (AI Studio) or Vertex AI Gemini deployment gets the client's body as it came,
//!   at the deployment's own URL with the deployment's credentials (the SDK's providers build
//!   both: a client picks neither host nor path), and its answer is relayed as is, a stream
//!   chunk by chunk (`?alt=sse`, as Google's SDK asks and LiteLLM always answers). Usage is read from
//!   `usageMetadata` and logged with LiteLLM's call types `agenerate_content` /
//!   `agenerate_content_stream` (`:countTokens` as a pass-through call);
//! - any other deployment (Claude on Vertex AI included): the body goes through the chat
//!   pipeline (`endpoint/generate_content.rs`: admission, guardrails, retries and fallbacks — which may
//!   land on any deployment of the group, a Google one included, through chat —, the same call
//!   types), translated by the SDK (`llmgate::generate_content`) and answered in Google's
//!   shape, a stream always as SSE (as LiteLLM). `:countTokens` is counted locally with the
//!   gateway's token counter (`{"totalTokens": n}`), as `/v1/messages/count_tokens` is.
//!
//! Errors are in OpenAI's shape on both paths (the gateway has no Google error body); an
//! upstream's own error on the native relay is relayed as Google wrote it.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::HeaderValue;
use axum::response::{IntoResponse, Response};
use axum::Extension;
use llmgate::providers::gemini::{self, Auth};
use llmgate::providers::http::{path_segment, SegmentKind};
use llmgate::providers::vertex;

use super::usage::Format;
use super::{path, relay};
use crate::auth::AuthContext;
use crate::deployments::Deployment;
use crate::error::GatewayError;
use crate::routes::endpoint;
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
    // The router picks among the group's deployments (its strategy, cooldowns); its pick
    // decides the path. The native relay makes one attempt (no retries or fallbacks).
    let pick = deployments
        .router()
        .pick(
            &model,
            llmgate::router::Ask {
                tags: &[],
                input_tokens: None,
                exclude: &[],
                banned: &[],
            },
        )
        .map_err(GatewayError::Llm)?;
    let mut dep = pick.target().clone();
    let sdk_model = pick.model.clone();
    drop(pick);
    let upstream_model = sdk_model
        .strip_prefix(dep.provider.as_str())
        .and_then(|m| m.strip_prefix('/'))
        .unwrap_or(&sdk_model)
        .to_string();
    let body: Bytes = axum::body::to_bytes(body, usize::MAX)
        .await
        .map_err(|e| GatewayError::BadRequest(format!("could not read the body: {e}")))?;
    let native = match dep.provider.as_str() {
        "gemini" => true,
        "vertex_ai" => vertex::speaks_generate_content(&upstream_model),
        _ => false,
    };
    if !native {
        // Any other provider: through chat.
        if method == "countTokens" {
            return endpoint::generate_content::count_tokens(&body, &upstream_model);
        }
        let stream = method == "streamGenerateContent";
        let (state, auth) = (state.clone(), auth.clone());
        let res =
            endpoint::generate_content::serve(state, auth, &parts.headers, model, stream, body);
        return Ok(Box::pin(res).await);
    }
    // A wildcard route's deployment, made concrete for the model asked (its name, catalog
    // price and the key's access are the model's, not the pattern's).
    if dep.model_name.contains('*') {
        let mut entry = dep.entry.clone();
        entry.model_name = model.clone();
        entry.litellm_params.model = sdk_model.clone();
        let mut d = Deployment::for_target(&entry, &state.config, &state.client, &dep.api_base);
        d.id = dep.id.clone();
        dep = Arc::new(d);
    }
    let http = state.client.http();
    let target = if dep.provider == "gemini" {
        gemini::native_target(&dep.opts, &upstream_model)
    } else {
        vertex::native_target(http, &dep.opts, &upstream_model).await
    }
    .map_err(GatewayError::Llm)?;
    if serde_json::from_slice::<serde_json::Value>(&body).map_or(true, |v| !v.is_object()) {
        return Err(GatewayError::BadRequest(format!(
            "the `:{method}` body must be a JSON object (Google's request shape)"
        )));
    }
    // Google answers a stream as SSE with `alt=sse` (its SDK's ask), else as one JSON array;
    // LiteLLM always streams SSE.
    let alt = parts.uri.query().and_then(|q| {
        q.split('&')
            .find_map(|p| p.strip_prefix("alt="))
            .filter(|v| matches!(*v, "sse" | "json"))
    });
    let mut url = format!("{}:{method}", target.model_url);
    if method == "streamGenerateContent" {
        url.push_str(&format!("?alt={}", alt.unwrap_or("sse")));
    }
    let url = reqwest::Url::parse(&url).map_err(|_| {
        GatewayError::Internal(format!("the deployment's URL {url:?} is not a URL"))
    })?;
    let mut rb = http
        .post(url.clone())
        .header("content-type", "application/json");
    rb = match &target.auth {
        Auth::ApiKey(k) => rb.header(
            "x-goog-api-key",
            HeaderValue::from_str(k).map_err(|_| {
                GatewayError::Internal("the Gemini key is not a header value".into())
            })?,
        ),
        Auth::Bearer(t) => rb.bearer_auth(t),
    };
    for (k, v) in &dep.opts.extra_headers {
        rb = rb.header(k, v);
    }
    let call = relay::Call {
        call_type,
        provider: if dep.provider == "gemini" {
            "gemini"
        } else {
            "vertex_ai"
        },
        route: PREFIXES[0],
        format: Format::Gemini,
        request: rb.body(body),
        url,
        model: Some(model),
        deployment: Some(dep),
        cost_per_request: None,
    };
    Ok(relay::relay(state, auth, call).await)
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
