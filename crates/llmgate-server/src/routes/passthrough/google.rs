//! `/vertex_ai/*` (and `/vertex-ai/*`): Vertex AI's REST API with the gateway's Google
//! credentials, as LiteLLM's Vertex pass-through: the credentials of the deployment the path's
//! model names (its model id, project and location put in the path), else of a deployment with
//! `use_in_pass_through: true` for the path's project and location, else
//! `default_vertex_config` (`litellm_settings` or top level) / `DEFAULT_VERTEXAI_PROJECT`,
//! `DEFAULT_VERTEXAI_LOCATION`, `DEFAULT_GOOGLE_APPLICATION_CREDENTIALS`. The project and
//! location in the URL are always the credentials' (the location is part of the host name: a
//! client never chooses it). Without credentials the call is refused; LiteLLM would forward
//! the client's own headers instead.

use std::sync::Arc;

use axum::http::HeaderValue;
use axum::response::Response;
use llmgate::providers::http::{path_segment, SegmentKind};
use llmgate::providers::vertex::auth::{access_token, ServiceAccount};
use serde_json::Value;

use super::usage::Format;
use super::{env, path, path_model, relay, Incoming};
use crate::auth::AuthContext;
use crate::deployments::Deployment;
use crate::error::GatewayError;
use crate::state::AppState;

pub const PREFIXES: &[&str] = &["/vertex_ai", "/vertex-ai"];

/// Where a Vertex AI call goes and as whom.
struct Creds {
    project: String,
    location: String,
    credentials: Option<Value>,
    /// A deployment's `api_base` (else Google's regional host).
    base: Option<String>,
    /// A ready access token (a deployment's `api_key`), when no service account is set.
    token: Option<String>,
    /// The deployment the path's model named (priced as it).
    deployment: Option<Arc<Deployment>>,
}

fn param<'a>(d: &'a Deployment, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .find_map(|n| d.entry.litellm_params.extra.get(*n))
        .filter(|v| !v.is_null())
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str)
        .map(str::to_string)
        .filter(|s| !s.is_empty())
}

fn from_deployment(d: &Arc<Deployment>, named: bool) -> Option<Creds> {
    Some(Creds {
        project: text(param(d, &["vertex_project", "vertex_ai_project"]))?,
        location: text(param(d, &["vertex_location", "vertex_ai_location"]))
            .unwrap_or_else(|| "us-central1".into()),
        credentials: param(d, &["vertex_credentials", "vertex_ai_credentials"]).cloned(),
        base: d.opts.api_base.clone().filter(|b| !b.is_empty()),
        token: d.opts.api_key.clone().filter(|k| !k.is_empty()),
        deployment: named.then(|| d.clone()),
    })
}

/// `default_vertex_config` (LiteLLM reads it under `litellm_settings` and at the top level),
/// else the `DEFAULT_VERTEXAI_*` environment.
fn default_config(state: &AppState) -> Option<Creds> {
    let cfg = state
        .config
        .litellm_settings
        .extra
        .get("default_vertex_config")
        .or_else(|| state.config.extra.get("default_vertex_config"))
        .filter(|v| v.is_object());
    let project = cfg
        .and_then(|c| text(c.get("vertex_project")))
        .or_else(|| env("DEFAULT_VERTEXAI_PROJECT"))?;
    Some(Creds {
        project,
        location: cfg
            .and_then(|c| text(c.get("vertex_location")))
            .or_else(|| env("DEFAULT_VERTEXAI_LOCATION"))
            .unwrap_or_else(|| "us-central1".into()),
        credentials: cfg
            .and_then(|c| c.get("vertex_credentials").cloned())
            .filter(|v| !v.is_null())
            .or_else(|| env("DEFAULT_GOOGLE_APPLICATION_CREDENTIALS").map(Value::String)),
        base: None,
        token: None,
        deployment: None,
    })
}

/// The segment after `name` in the path (`projects/{p}`).
fn after<'a>(segments: &[&'a str], name: &str) -> Option<(usize, &'a str)> {
    let i = segments.iter().position(|s| *s == name)?;
    segments.get(i + 1).map(|s| (i + 1, *s))
}

pub async fn vertex(
    state: &AppState,
    auth: &AuthContext,
    inc: Incoming,
) -> Result<Response, GatewayError> {
    let segments: Vec<&str> = inc.rest.split('/').collect();
    let url_project = after(&segments, "projects").map(|(_, s)| s.to_string());
    let url_location = after(&segments, "locations").map(|(_, s)| s.to_string());
    let model = path_model("vertex_ai", &inc.rest);
    let deployments = state.deployments();
    let named = model.as_deref().and_then(|m| {
        deployments
            .group(m)?
            .iter()
            .find(|d| d.provider == "vertex_ai")
            .cloned()
    });
    // A deployment's name is a model the key must be allowed to call.
    if let (Some(d), Some(key)) = (&named, &auth.key) {
        crate::governance::access::check(&state.gov, &deployments, key, &d.model_name).await?;
    }
    let creds = named
        .as_ref()
        .and_then(|d| from_deployment(d, true))
        .or_else(|| {
            deployments
                .all()
                .iter()
                .filter(|d| {
                    d.provider == "vertex_ai"
                        && crate::config::is(
                            d.entry.litellm_params.extra.get("use_in_pass_through"),
                            true,
                        )
                })
                .filter_map(|d| from_deployment(d, false))
                .find(|c| {
                    url_project.as_ref().is_none_or(|p| *p == c.project)
                        && url_location.as_ref().is_none_or(|l| *l == c.location)
                })
        })
        .or_else(|| default_config(state))
        .ok_or_else(|| {
            GatewayError::BadRequest(format!(
                "No credentials found on proxy for project_name={} + location={}, check `/model/info` for allowed project + region combinations with `use_in_pass_through: true`",
                url_project.as_deref().unwrap_or("None"),
                url_location.as_deref().unwrap_or("None")
            ))
        })?;
    for name in [&creds.project, &creds.location] {
        path_segment(name, SegmentKind::Segment).map_err(GatewayError::Llm)?;
    }
    // The project, location and model the credentials serve go into the path.
    let upstream_model = creds.deployment.as_ref().map(|d| {
        let m = d.bare_model();
        m.rsplit('/').next().unwrap_or(m).to_string()
    });
    let mut owned: Vec<String> = segments.iter().map(|s| s.to_string()).collect();
    if let Some((i, _)) = after(&segments, "projects") {
        owned[i] = creds.project.clone();
    }
    if let Some((i, _)) = after(&segments, "locations") {
        owned[i] = creds.location.clone();
    }
    if let (Some(asked), Some(real)) = (&model, &upstream_model) {
        if let Some((i, seg)) = after(&segments, "models") {
            let method = seg.find(':').map(|j| &seg[j..]).unwrap_or("");
            if seg.starts_with(asked.as_str()) || seg.starts_with(&asked.replace('@', "%40")) {
                path_segment(real, SegmentKind::Segment).map_err(GatewayError::Llm)?;
                owned[i] = format!("{real}{method}");
            }
        }
    }
    let rest = path::checked(&owned.join("/"))?.to_string();
    let base = match &creds.base {
        Some(b) => b.trim_end_matches('/').trim_end_matches("/v1").to_string(),
        None if creds.location == "global" => "https://aiplatform.googleapis.com".into(),
        None => format!("https://{}-aiplatform.googleapis.com", creds.location),
    };
    let mut query = inc.query.clone().filter(|q| !q.is_empty());
    if rest.contains(":stream") && !query.as_deref().is_some_and(|q| q.contains("alt=")) {
        query = Some(match query {
            Some(q) => format!("{q}&alt=sse"),
            None => "alt=sse".into(),
        });
    }
    let url = path::join(&base, &rest, query.as_deref())?;
    let http = state.client.http();
    let sa = ServiceAccount::from_param(creds.credentials.as_ref()).map_err(GatewayError::Llm)?;
    let token = match (sa, &creds.token) {
        (Some(sa), _) => access_token(http, &sa).await.map_err(GatewayError::Llm)?,
        (None, Some(t)) => t.clone(),
        (None, None) => {
            return Err(GatewayError::BadRequest(format!(
                "No Vertex AI credentials on the proxy for project_name={}: set vertex_credentials or DEFAULT_GOOGLE_APPLICATION_CREDENTIALS",
                creds.project
            )))
        }
    };
    let mut headers = relay::forwarded(&inc.headers, auth.api_key.as_deref());
    // Nothing of the client's own Google identity goes upstream with the gateway's token.
    headers.remove("x-goog-user-project");
    headers.insert(
        "authorization",
        HeaderValue::from_str(&format!("Bearer {token}")).map_err(|_| {
            GatewayError::Internal("the Vertex AI token is not a header value".into())
        })?,
    );
    let format = if rest.contains("publishers/anthropic/") {
        Format::Anthropic
    } else {
        Format::Gemini
    };
    let model = upstream_model.or(model);
    let request = http
        .request(inc.method.clone(), url.clone())
        .headers(headers)
        .body(inc.body);
    let call = relay::Call {
        call_type: "pass_through_endpoint",
        provider: "vertex_ai",
        route: "/vertex_ai",
        format,
        request,
        url,
        model,
        deployment: creds.deployment,
        cost_per_request: None,
    };
    Ok(relay::relay(state, auth, call).await)
}
