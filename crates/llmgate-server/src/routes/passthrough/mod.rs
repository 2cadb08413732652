//! LiteLLM's provider pass-through routes: `/openai/*` (and `/openai_passthrough/*`),
//! `/anthropic/*`, `/gemini/*`, `/cohere/*`, `/mistral/*`, `/azure/*` (and `/azure_ai/*`),
//! `/vertex_ai/*` (and `/vertex-ai/*`, `google.rs`), `/bedrock/*` (`bedrock.rs`), and the
//! config's own `general_settings.pass_through_endpoints` (`custom.rs`); and Google's native
//! `/v1beta/models/{model}:generateContent` paths served from the model list (`native.rs`).
//!
//! The client's request goes to the provider as it came — method, path under the route,
//! query, body and headers — with three changes: the client's gateway key is checked (in the
//! header the provider's own SDK sends it in: `Authorization`, `x-api-key`, `x-goog-api-key`,
//! or Gemini's `?key=`) and removed, the provider's credentials (from the environment, as
//! LiteLLM's `{PROVIDER}_API_KEY`, or a deployment with `use_in_pass_through: true`) are put
//! in, and the path is appended to the provider's fixed base URL (`path.rs`: a client never
//! picks the host or climbs above the base). The answer is relayed chunk by chunk and its
//! usage priced and logged (`relay.rs`, `usage.rs`).

mod bedrock;
pub mod custom;
mod google;
mod native;
pub mod path;
mod relay;
mod usage;

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use axum::{Extension, Router};
use serde_json::Value;

use crate::auth::{require_key, AuthContext};
use crate::deployments::Deployment;
use crate::error::GatewayError;
use crate::state::AppState;
use usage::Format;

/// How a provider takes its key.
#[derive(Clone, Copy, PartialEq, Eq)]
enum KeyStyle {
    /// `Authorization: Bearer`.
    Bearer,
    /// Anthropic's `x-api-key`.
    XApiKey,
    /// `Authorization: Bearer` and `api-key` (OpenAI's and Azure's, as LiteLLM sends both).
    OpenAi,
    /// Gemini's `?key=`.
    Query,
}

/// One provider route family with an API key.
struct Spec {
    prefixes: &'static [&'static str],
    /// The provider's name (logs, `use_in_pass_through` deployments).
    provider: &'static str,
    /// Other names its deployments may resolve to.
    aliases: &'static [&'static str],
    base_env: &'static str,
    default_base: Option<&'static str>,
    key_env: &'static [&'static str],
    key: KeyStyle,
    format: Format,
}

const SPECS: &[Spec] = &[
    Spec {
        prefixes: &["/openai", "/openai_passthrough"],
        provider: "openai",
        aliases: &[],
        base_env: "OPENAI_API_BASE",
        default_base: Some("https://api.openai.com/"),
        key_env: &["OPENAI_API_KEY"],
        key: KeyStyle::OpenAi,
        format: Format::OpenAi,
    },
    Spec {
        prefixes: &["/anthropic"],
        provider: "anthropic",
        aliases: &[],
        base_env: "ANTHROPIC_API_BASE",
        default_base: Some("https://api.anthropic.com"),
        key_env: &["ANTHROPIC_API_KEY"],
        key: KeyStyle::XApiKey,
        format: Format::Anthropic,
    },
    Spec {
        prefixes: &["/gemini"],
        provider: "gemini",
        aliases: &[],
        base_env: "GEMINI_API_BASE",
        default_base: Some("https://generativelanguage.googleapis.com"),
        key_env: &["GEMINI_API_KEY", "GOOGLE_API_KEY"],
        key: KeyStyle::Query,
        format: Format::Gemini,
    },
    Spec {
        prefixes: &["/cohere"],
        provider: "cohere",
        aliases: &["cohere_chat"],
        base_env: "COHERE_API_BASE",
        default_base: Some("https://api.cohere.com"),
        key_env: &["COHERE_API_KEY"],
        key: KeyStyle::Bearer,
        format: Format::Cohere,
    },
    Spec {
        prefixes: &["/mistral"],
        provider: "mistral",
        aliases: &[],
        base_env: "MISTRAL_API_BASE",
        default_base: Some("https://api.mistral.ai"),
        key_env: &["MISTRAL_API_KEY"],
        key: KeyStyle::Bearer,
        format: Format::OpenAi,
    },
    Spec {
        prefixes: &["/azure", "/azure_ai"],
        provider: "azure",
        aliases: &["azure_ai"],
        base_env: "AZURE_API_BASE",
        default_base: None,
        key_env: &["AZURE_API_KEY"],
        key: KeyStyle::OpenAi,
        format: Format::OpenAi,
    },
];

/// Every pass-through route, each behind the key check (Gemini's `?key=` and
/// `x-goog-api-key` read first).
pub fn router(state: &AppState) -> Router<AppState> {
    let mut r = Router::new();
    let mut add = |prefix: &str| {
        let path = format!("{prefix}/{{*rest}}");
        crate::routes::list_route(&path, "GET,POST,PUT,PATCH,DELETE");
        r = std::mem::take(&mut r).route(&path, any(handle));
    };
    for s in SPECS {
        s.prefixes.iter().for_each(|p| add(p));
    }
    for p in google::PREFIXES.iter().chain(bedrock::PREFIXES) {
        add(p);
    }
    // Google's native paths served from the model list (`native.rs`).
    for p in native::PREFIXES {
        let path = format!("{p}/{{*rest}}");
        let mut methods = axum::routing::post(native::handle);
        // OpenAI's model retrieval shares the path (`GET /v1/models/{model}`).
        if p.ends_with("/models") && !p.starts_with("/v1beta") {
            crate::routes::list_route(&path, "GET,POST");
            methods = methods.get(crate::routes::model_info::retrieve);
        } else {
            crate::routes::list_route(&path, "POST");
        }
        r = r.route(&path, methods);
    }
    r.route_layer(middleware::from_fn_with_state(state.clone(), require_key))
        .route_layer(middleware::from_fn(google_key))
}

/// Google's SDKs send the key as `x-goog-api-key` or `?key=`: read as the gateway key when
/// the request carries none of the usual headers.
async fn google_key(mut req: Request, next: Next) -> Response {
    let h = req.headers();
    let has_key = ["x-litellm-api-key", "authorization", "api-key", "x-api-key"]
        .iter()
        .any(|n| h.contains_key(*n));
    if !has_key {
        let from_query = req.uri().query().and_then(|q| {
            q.split('&').find_map(|p| {
                let (k, v) = p.split_once('=')?;
                (k == "key")
                    .then(|| path::percent_decode(v))
                    .flatten()
                    .and_then(|b| String::from_utf8(b).ok())
            })
        });
        let key = h
            .get("x-goog-api-key")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
            .or(from_query);
        if let Some(v) = key.and_then(|k| HeaderValue::from_str(&k).ok()) {
            req.headers_mut().insert("x-litellm-api-key", v);
        }
    }
    next.run(req).await
}

/// A request on a pass-through route, its body read.
pub(crate) struct Incoming {
    method: Method,
    /// The path under the route, checked (`path::checked`), without a leading `/`.
    rest: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Bytes,
}

impl Incoming {
    async fn read(req: Request, prefix_len: usize) -> Result<Incoming, GatewayError> {
        let (parts, body) = req.into_parts();
        let raw = &parts.uri.path()[prefix_len..];
        let rest = path::checked(raw.trim_start_matches('/'))?.to_string();
        let body = axum::body::to_bytes(body, usize::MAX)
            .await
            .map_err(|e| GatewayError::BadRequest(format!("could not read the body: {e}")))?;
        Ok(Incoming {
            method: parts.method,
            rest,
            query: parts.uri.query().map(str::to_string),
            headers: parts.headers,
            body,
        })
    }

    /// The JSON body's `model`, if it has one.
    fn body_model(&self) -> Option<String> {
        let ct = self
            .headers
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if self.body.is_empty() || ct.contains("multipart") {
            return None;
        }
        let v: Value = serde_json::from_slice(&self.body).ok()?;
        v.get("model")?.as_str().map(str::to_string)
    }
}

async fn handle(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    req: Request,
) -> Response {
    let path = req.uri().path().to_string();
    let under = |p: &str| path.starts_with(p) && path[p.len()..].starts_with('/');
    let result = if let Some(p) = google::PREFIXES.iter().find(|p| under(p)) {
        match Incoming::read(req, p.len()).await {
            Ok(inc) => google::vertex(&state, &auth, inc).await,
            Err(e) => Err(e),
        }
    } else if let Some(p) = bedrock::PREFIXES.iter().find(|p| under(p)) {
        match Incoming::read(req, p.len()).await {
            Ok(inc) => bedrock::call(&state, &auth, inc).await,
            Err(e) => Err(e),
        }
    } else {
        let found = SPECS
            .iter()
            .find_map(|s| s.prefixes.iter().find(|p| under(p)).map(|p| (s, *p)));
        match found {
            Some((spec, p)) => match Incoming::read(req, p.len()).await {
                Ok(inc) => keyed(&state, &auth, spec, p, inc).await,
                Err(e) => Err(e),
            },
            None => Err(GatewayError::NotFound(format!("Route not found: {path}"))),
        }
    };
    result.unwrap_or_else(|e| e.into_response())
}

/// The deployment a call to `provider/model` is priced and logged as: the catalog's price
/// (a finished batch's answers).
pub fn priced_for(state: &AppState, provider: &str, model: Option<&str>) -> Arc<Deployment> {
    relay::priced_at(state, provider, model, "")
}

/// The first deployment of `provider` marked `use_in_pass_through: true`.
fn pass_through_deployment(state: &AppState, providers: &[&str]) -> Option<Arc<Deployment>> {
    state
        .deployments()
        .all()
        .iter()
        .find(|d| {
            providers.contains(&d.provider.as_str())
                && crate::config::is(
                    d.entry.litellm_params.extra.get("use_in_pass_through"),
                    true,
                )
        })
        .cloned()
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// A provider reached with an API key: OpenAI, Anthropic, Gemini, Cohere, Mistral, Azure.
async fn keyed(
    state: &AppState,
    auth: &AuthContext,
    spec: &Spec,
    prefix: &'static str,
    inc: Incoming,
) -> Result<Response, GatewayError> {
    let mut providers = vec![spec.provider];
    providers.extend_from_slice(spec.aliases);
    let dep = pass_through_deployment(state, &providers);
    let base = env(spec.base_env)
        .or_else(|| dep.as_ref().and_then(|d| d.opts.api_base.clone()))
        .or(spec.default_base.map(str::to_string))
        .ok_or_else(|| {
            GatewayError::Internal(format!(
                "Required '{}' in environment to make pass-through calls to {}.",
                spec.base_env, spec.provider
            ))
        })?;
    let key = dep
        .as_ref()
        .and_then(|d| d.opts.api_key.clone())
        .filter(|k| !k.is_empty())
        .or_else(|| spec.key_env.iter().find_map(|n| env(n)));
    // Anthropic: a client that authenticates with `x-litellm-api-key` may bring its own
    // Anthropic credential (LiteLLM forwards it); the gateway key itself is never forwarded.
    let own: Vec<(&str, HeaderValue)> =
        if spec.key == KeyStyle::XApiKey && inc.headers.contains_key("x-litellm-api-key") {
            ["x-api-key", "authorization"]
                .iter()
                .filter_map(|n| {
                    let v = inc.headers.get(*n)?;
                    let s = v.to_str().ok()?;
                    let presented = auth.api_key.as_deref().unwrap_or("");
                    (presented.is_empty() || !s.contains(presented)).then(|| (*n, v.clone()))
                })
                .collect()
        } else {
            Vec::new()
        };
    if key.is_none() && own.is_empty() {
        return Err(GatewayError::Internal(format!(
            "Required '{}' in environment to make pass-through calls to {}.",
            spec.key_env[0], spec.provider
        )));
    }
    let mut rest = inc.rest.clone();
    // LiteLLM's OpenAI route: `api.openai.com/...` without `/v1/` gets it.
    if spec.provider == "openai" && base.contains("api.openai.com") && !rest.starts_with("v1/") {
        let b = reqwest::Url::parse(&base).ok();
        if b.is_some_and(|b| b.path().trim_matches('/').is_empty()) {
            rest = format!("v1/{rest}");
        }
    }
    let mut query = path::query_without(
        inc.query.as_deref(),
        if spec.key == KeyStyle::Query {
            &["key"]
        } else {
            &[]
        },
    );
    if spec.key == KeyStyle::Query {
        if let Some(k) = &key {
            let enc: String = k
                .bytes()
                .map(|b| {
                    if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
                        (b as char).to_string()
                    } else {
                        format!("%{b:02X}")
                    }
                })
                .collect();
            query = Some(match query {
                Some(q) => format!("{q}&key={enc}"),
                None => format!("key={enc}"),
            });
        }
    }
    let url = path::join(&base, &rest, query.as_deref())?;
    let mut headers = relay::forwarded(&inc.headers, auth.api_key.as_deref());
    let header = |s: &str| {
        HeaderValue::from_str(s).map_err(|_| {
            GatewayError::Internal(format!(
                "the {} key is not a valid header value",
                spec.provider
            ))
        })
    };
    if !own.is_empty() {
        for (n, v) in own {
            headers.insert(n, v);
        }
    } else if let Some(k) = &key {
        match spec.key {
            KeyStyle::Bearer => {
                headers.insert("authorization", header(&format!("Bearer {k}"))?);
            }
            KeyStyle::XApiKey => {
                headers.insert("x-api-key", header(k)?);
            }
            KeyStyle::OpenAi => {
                headers.insert("authorization", header(&format!("Bearer {k}"))?);
                headers.insert("api-key", header(k)?);
            }
            KeyStyle::Query => {}
        }
    }
    // The Assistants API wants its beta header (LiteLLM adds it).
    if spec.provider == "openai"
        && (rest.contains("assistants") || rest.contains("threads"))
        && !headers.contains_key("openai-beta")
    {
        headers.insert("openai-beta", HeaderValue::from_static("assistants=v2"));
    }
    let model = inc
        .body_model()
        .or_else(|| path_model(spec.provider, &rest));
    let request = state
        .client
        .http()
        .request(inc.method.clone(), url.clone())
        .headers(headers)
        .body(inc.body);
    let call = relay::Call {
        call_type: "pass_through_endpoint",
        provider: spec.provider,
        route: prefix,
        format: spec.format,
        request,
        url,
        model,
        deployment: None,
        cost_per_request: None,
    };
    Ok(relay::relay(state, auth, call).await)
}

/// A model the path names: Gemini's `models/{model}:method`, Azure's `deployments/{name}/`.
fn path_model(provider: &str, rest: &str) -> Option<String> {
    let after = |marker: &str| {
        let i = rest.find(marker)? + marker.len();
        let tail = &rest[i..];
        let end = tail.find([':', '/', '?']).unwrap_or(tail.len());
        let m = &tail[..end];
        if m.is_empty() {
            None
        } else {
            Some(String::from_utf8_lossy(&path::percent_decode(m)?).into_owned())
        }
    };
    match provider {
        "gemini" | "vertex_ai" => after("models/"),
        "azure" => after("deployments/"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn models_named_by_paths() {
        assert_eq!(
            path_model("gemini", "v1beta/models/gemini-2.0-flash:generateContent").as_deref(),
            Some("gemini-2.0-flash")
        );
        assert_eq!(
            path_model("azure", "openai/deployments/gpt-4o/chat/completions").as_deref(),
            Some("gpt-4o")
        );
        assert_eq!(path_model("openai", "v1/chat/completions"), None);
    }
}
