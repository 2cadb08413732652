//! Azure: what Azure OpenAI checks before it answers (the `api-version` query on deployment
//! paths; an `api-key`, or a bearer token this mock's Entra ID endpoint issued and that has
//! not expired), the v1 API (`{resource}/openai/v1/...`, served under `/azure`, whose bearer
//! may also be a key), Azure AI Foundry's `/models/...` inference routes, and the Entra ID
//! token endpoint (`POST /{tenant}/oauth2/v2.0/token`, client-credentials grant).
//!
//! A tenant named `ttl-<secs>-...` gets tokens that live `<secs>` seconds (else 3599, as
//! Entra's); `GET /_mock/entra/{tenant}` counts the token requests that tenant received.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Value};

use crate::openai::{handle, recorded, with_headers, Endpoint};
use crate::Shared;

/// The client secret the mock's Entra ID endpoint accepts (any client id).
pub const AZURE_CLIENT_SECRET: &str = "mock-azure-client-secret";
const TOKEN_PREFIX: &str = "mock-entra-";

/// Tokens issued and token requests seen, per tenant.
#[derive(Default)]
pub(crate) struct Entra {
    tokens: Mutex<HashMap<String, Instant>>,
    requests: Mutex<HashMap<String, usize>>,
}

impl Entra {
    fn live(&self, token: &str) -> bool {
        let tokens = self.tokens.lock().unwrap_or_else(|e| e.into_inner());
        tokens.get(token).is_some_and(|exp| Instant::now() < *exp)
    }

    pub(crate) fn requests(&self, tenant: &str) -> usize {
        let r = self.requests.lock().unwrap_or_else(|e| e.into_inner());
        r.get(tenant).copied().unwrap_or(0)
    }
}

type St = State<Arc<Shared>>;

/// Azure's own error body: `{"error": {"code": "<status>", "message": ...}}`.
fn azure_error(status: u16, message: &str) -> Response {
    let code = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    with_headers(
        code,
        json!({"error": {"code": status.to_string(), "message": message}}),
    )
}

/// What Azure needs of a route: a dated `api-version`, and whether a bearer may be a key (the
/// v1 API and Foundry's inference routes take one; Azure OpenAI's deployment paths only take
/// Entra ID tokens as bearers).
#[derive(Clone, Copy)]
struct Route {
    dated: bool,
    key_as_bearer: bool,
}

const DEPLOYMENT: Route = Route {
    dated: true,
    key_as_bearer: false,
};
const V1: Route = Route {
    dated: false,
    key_as_bearer: true,
};
const FOUNDRY: Route = Route {
    dated: true,
    key_as_bearer: true,
};

/// What Azure refuses before looking at the body; None when the request may go on.
/// The checks of a deployment path (`api-version`, a key or token), for the media routes.
pub(crate) fn refused_deployment(
    shared: &Shared,
    uri: &Uri,
    headers: &HeaderMap,
) -> Option<Response> {
    refused(shared, uri, headers, DEPLOYMENT)
}

fn refused(shared: &Shared, uri: &Uri, headers: &HeaderMap, route: Route) -> Option<Response> {
    let version = uri
        .query()
        .into_iter()
        .flat_map(|q| q.split('&'))
        .find_map(|p| p.strip_prefix("api-version="))
        .filter(|v| !v.is_empty());
    if route.dated && version.is_none() {
        return Some(azure_error(404, "Resource not found"));
    }
    let header = |n: &str| headers.get(n).and_then(|v| v.to_str().ok());
    if header("api-key").is_some_and(|k| !k.is_empty()) {
        return None;
    }
    match header("authorization").and_then(|a| a.strip_prefix("Bearer ")) {
        Some(t) if shared.entra.live(t) => None,
        // On the v1 API the plain OpenAI client sends the key as a bearer.
        Some(k) if route.key_as_bearer && !k.is_empty() && !k.starts_with(TOKEN_PREFIX) => None,
        Some(_) => Some(azure_error(
            401,
            "Unauthorized. Access token is missing, invalid, audience is incorrect (https://cognitiveservices.azure.com), or have expired.",
        )),
        None => Some(azure_error(
            401,
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
        )),
    }
}

async fn checked(
    State(shared): St,
    endpoint: Endpoint,
    deployment: Option<String>,
    route: Route,
    (method, uri, headers, bytes): (Method, Uri, HeaderMap, Bytes),
) -> Response {
    if let Some(res) = refused(&shared, &uri, &headers, route) {
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        shared.record(|| recorded(&method, &uri, &headers, body));
        return res;
    }
    handle(
        State(shared),
        endpoint,
        deployment,
        method,
        uri,
        headers,
        bytes,
    )
    .await
}

/// `POST /openai/deployments/{deployment}/chat/completions` (and completions, embeddings).
pub async fn deployment_chat(
    s: St,
    Path(d): Path<String>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    checked(s, Endpoint::Chat, Some(d), DEPLOYMENT, (m, u, h, b)).await
}

pub async fn deployment_completions(
    s: St,
    Path(d): Path<String>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    checked(s, Endpoint::Completion, Some(d), DEPLOYMENT, (m, u, h, b)).await
}

pub async fn deployment_embeddings(
    s: St,
    Path(d): Path<String>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    checked(s, Endpoint::Embedding, Some(d), DEPLOYMENT, (m, u, h, b)).await
}

/// The v1 API: the deployment is the body's `model`, no dated version.
pub async fn v1_chat(s: St, m: Method, u: Uri, h: HeaderMap, b: Bytes) -> Response {
    checked(s, Endpoint::Chat, None, V1, (m, u, h, b)).await
}

pub async fn v1_embeddings(s: St, m: Method, u: Uri, h: HeaderMap, b: Bytes) -> Response {
    checked(s, Endpoint::Embedding, None, V1, (m, u, h, b)).await
}

/// Azure AI Foundry's model inference routes (`/models/chat/completions?api-version=`).
pub async fn models_chat(s: St, m: Method, u: Uri, h: HeaderMap, b: Bytes) -> Response {
    checked(s, Endpoint::Chat, None, FOUNDRY, (m, u, h, b)).await
}

pub async fn models_embeddings(s: St, m: Method, u: Uri, h: HeaderMap, b: Bytes) -> Response {
    checked(s, Endpoint::Embedding, None, FOUNDRY, (m, u, h, b)).await
}

/// `application/x-www-form-urlencoded` pairs, percent-decoded.
fn form(body: &[u8]) -> HashMap<String, String> {
    let decode = |s: &str| {
        let s = s.replace('+', " ");
        let bytes = s.as_bytes();
        let mut out = Vec::with_capacity(bytes.len());
        let mut i = 0;
        while i < bytes.len() {
            let hex = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok());
            match (bytes[i], hex) {
                (b'%', Some(b)) => {
                    out.push(b);
                    i += 3;
                }
                (c, _) => {
                    out.push(c);
                    i += 1;
                }
            }
        }
        String::from_utf8_lossy(&out).into_owned()
    };
    String::from_utf8_lossy(body)
        .split('&')
        .filter_map(|p| p.split_once('='))
        .map(|(k, v)| (decode(k), decode(v)))
        .collect()
}

fn entra_error(status: StatusCode, error: &str, description: &str) -> Response {
    with_headers(
        status,
        json!({"error": error, "error_description": description, "error_codes": [], "timestamp": "", "trace_id": "", "correlation_id": ""}),
    )
}

/// `POST /{tenant}/oauth2/v2.0/token`: the client-credentials grant as Entra ID answers it.
pub async fn token(
    State(shared): St,
    Path(tenant): Path<String>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    bytes: Bytes,
) -> Response {
    let f = form(&bytes);
    shared.record(|| {
        // The secret is not recorded, only whether it was sent.
        let mut seen: serde_json::Map<String, Value> =
            f.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
        if seen.contains_key("client_secret") {
            seen.insert("client_secret".into(), json!("<sent>"));
        }
        recorded(&method, &uri, &headers, Value::Object(seen))
    });
    *shared
        .entra
        .requests
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .entry(tenant.clone())
        .or_default() += 1;
    let form_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|c| c.starts_with("application/x-www-form-urlencoded"));
    let field = |k: &str| f.get(k).map(String::as_str).filter(|v| !v.is_empty());
    if !form_type || field("grant_type").is_none() {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "AADSTS900144: The request body must contain the following parameter: 'grant_type'.",
        );
    }
    if field("grant_type") != Some("client_credentials") {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "AADSTS70003: The app requested an unsupported grant type.",
        );
    }
    if field("client_id").is_none() {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_request",
            "AADSTS900144: The request body must contain the following parameter: 'client_id'.",
        );
    }
    if field("client_secret") != Some(AZURE_CLIENT_SECRET) {
        return entra_error(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "AADSTS7000215: Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID.",
        );
    }
    if !field("scope").is_some_and(|s| s.ends_with("/.default")) {
        return entra_error(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            "AADSTS1002012: The provided value for scope is not valid. Client credential flows must have a scope value with /.default suffixed to the resource identifier (application ID URI).",
        );
    }
    let ttl: u64 = tenant
        .strip_prefix("ttl-")
        .and_then(|r| r.split('-').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(3599);
    static N: AtomicU64 = AtomicU64::new(1);
    let access = format!(
        "{TOKEN_PREFIX}{tenant}-{}",
        N.fetch_add(1, Ordering::Relaxed)
    );
    shared
        .entra
        .tokens
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(access.clone(), Instant::now() + Duration::from_secs(ttl));
    with_headers(
        StatusCode::OK,
        json!({"token_type": "Bearer", "expires_in": ttl, "ext_expires_in": ttl, "access_token": access}),
    )
}

/// `GET /_mock/entra/{tenant}`: `{"token_requests": n}`.
pub async fn token_requests(State(shared): St, Path(tenant): Path<String>) -> Response {
    with_headers(
        StatusCode::OK,
        json!({"token_requests": shared.entra.requests(&tenant)}),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_are_percent_decoded() {
        let f = form(b"scope=https%3A%2F%2Fcognitiveservices.azure.com%2F.default&a=b+c");
        assert_eq!(f["scope"], "https://cognitiveservices.azure.com/.default");
        assert_eq!(f["a"], "b c");
    }

    #[test]
    fn deployment_paths_need_a_version_and_a_live_credential() {
        let shared = Shared::default();
        let uri = |s: &str| s.parse::<Uri>().unwrap();
        let mut h = HeaderMap::new();
        h.insert("api-key", "k".parse().unwrap());
        let dated = uri("/openai/deployments/d/chat/completions?api-version=2024-10-21");
        assert!(refused(&shared, &dated, &h, DEPLOYMENT).is_none());
        let bare = uri("/openai/deployments/d/chat/completions");
        assert!(refused(&shared, &bare, &h, DEPLOYMENT).is_some());
        let mut bearer = HeaderMap::new();
        bearer.insert("authorization", "Bearer some-key".parse().unwrap());
        assert!(
            refused(&shared, &dated, &bearer, DEPLOYMENT).is_some(),
            "a key as bearer"
        );
        assert!(refused(
            &shared,
            &uri("/azure/openai/v1/chat/completions"),
            &bearer,
            V1
        )
        .is_none());
        shared.entra.tokens.lock().unwrap().insert(
            "mock-entra-t-1".into(),
            Instant::now() + Duration::from_secs(60),
        );
        shared
            .entra
            .tokens
            .lock()
            .unwrap()
            .insert("mock-entra-t-2".into(), Instant::now());
        let mut live = HeaderMap::new();
        live.insert("authorization", "Bearer mock-entra-t-1".parse().unwrap());
        assert!(refused(&shared, &dated, &live, DEPLOYMENT).is_none());
        let mut expired = HeaderMap::new();
        expired.insert("authorization", "Bearer mock-entra-t-2".parse().unwrap());
        assert!(refused(&shared, &dated, &expired, DEPLOYMENT).is_some());
        assert!(refused(
            &shared,
            &uri("/azure/openai/v1/chat/completions"),
            &expired,
            V1
        )
        .is_some());
    }
}
