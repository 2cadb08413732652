//! Who is calling: the master key, or a virtual key (looked up once, then served from the
//! key cache).

use axum::extract::{Request, State};
use axum::http::HeaderMap;
use axum::middleware::Next;
use axum::response::Response;

use crate::error::GatewayError;
use crate::state::AppState;

pub use crate::governance::caller::{abbreviate, hash_key, AuthContext};

/// The headers LiteLLM reads a key from, in its order of preference.
pub fn presented_key(headers: &HeaderMap) -> Option<String> {
    for name in ["x-litellm-api-key", "authorization", "api-key", "x-api-key"] {
        if let Some(v) = headers.get(name).and_then(|v| v.to_str().ok()) {
            let v = v.trim();
            let key = if name == "authorization" {
                v.strip_prefix("Bearer ")
                    .or_else(|| v.strip_prefix("bearer "))
                    .unwrap_or(v)
                    .trim()
            } else {
                v.strip_prefix("Bearer ").unwrap_or(v).trim()
            };
            if !key.is_empty() {
                return Some(key.to_string());
            }
        }
    }
    None
}

/// Compares without an early exit, so timing does not reveal how much of a key matched.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Checks the presented key: the master key, else a virtual key (blocked and expired keys
/// are refused).
pub async fn authenticate(
    state: &AppState,
    headers: &HeaderMap,
) -> Result<AuthContext, GatewayError> {
    let presented = presented_key(headers);
    let Some(master) = state.master_key.as_deref() else {
        return Ok(AuthContext {
            api_key: presented,
            is_master: false,
            key: None,
            is_proxy_admin: false,
            client_ip: None,
        });
    };
    let Some(k) = presented else {
        return Err(GatewayError::Auth(
            "Authentication Error, No api key passed in.".into(),
        ));
    };
    if constant_time_eq(k.as_bytes(), master.as_bytes()) {
        return Ok(AuthContext {
            api_key: Some(k),
            is_master: true,
            key: None,
            is_proxy_admin: false,
            client_ip: None,
        });
    }
    let hash = hash_key(&k);
    let invalid = || {
        GatewayError::Auth(format!(
            "Authentication Error, Invalid proxy server token passed. Received API Key = {}, Key Hash (Token) ={hash}. Unable to find token in cache or `LiteLLM_VerificationTokenTable`",
            abbreviate(&k)
        ))
    };
    let Some(store) = &state.gov.store else {
        return Err(invalid());
    };
    let key = match state.gov.keys.get(store, &hash).await {
        Ok(Some(key)) => key,
        Ok(None) => return Err(invalid()),
        Err(e) => {
            tracing::warn!(error = %e, "key lookup failed");
            return Err(GatewayError::Unavailable(
                "Authentication Error, the key database is unavailable".into(),
            ));
        }
    };
    let mut ctx = admit_key(state, store, key, &abbreviate(&k)).await?;
    ctx.api_key = Some(k);
    Ok(ctx)
}

/// A virtual key found by its hash: blocked and expired keys refused, a proxy admin's key
/// marked so (`shown` is how the key is named in the error).
pub async fn admit_key(
    state: &AppState,
    store: &llmgate_store::Store,
    key: std::sync::Arc<crate::governance::CachedKey>,
    shown: &str,
) -> Result<AuthContext, GatewayError> {
    if key.row.blocked == Some(true) {
        return Err(GatewayError::Auth(format!(
            "Authentication Error, Key is blocked. Update via `/key/unblock` if you're admin. Key={shown}"
        )));
    }
    if let Some(expires) = key.row.expires {
        if expires <= llmgate_store::now_ms() {
            return Err(GatewayError::Auth(format!(
                "Authentication Error - Expired Key. Key Expiry time {} and current time {}",
                expires / 1000,
                llmgate_store::now_ms() / 1000
            )));
        }
    }
    // A proxy admin's key manages the proxy as the master key does.
    let is_proxy_admin = match &key.row.user_id {
        Some(uid) => matches!(
            state.gov.keys.users.get(store, uid).await,
            Ok(Some(u)) if u.row.user_role.as_deref() == Some("proxy_admin")
        ),
        None => false,
    };
    Ok(AuthContext {
        api_key: None,
        is_master: false,
        key: Some(key),
        is_proxy_admin,
        client_ip: None,
    })
}

/// A key's `allowed_routes` (empty: every route): exact paths (with or without `/v1`), `prefix*`
/// patterns, and LiteLLM's `llm_api_routes` group.
pub fn route_allowed(allowed: &[String], path: &str) -> bool {
    const LLM_API_ROUTES: &[&str] = &[
        "/chat/completions",
        "/completions",
        "/embeddings",
        "/rerank",
        "/v2/rerank",
        "/responses",
        "/models",
        "/utils/token_counter",
        "/realtime",
    ];
    // Any key may ask whether it works.
    if allowed.is_empty() || path == "/key/health" {
        return true;
    }
    let bare = path
        .strip_prefix("/v1")
        .filter(|p| p.starts_with('/'))
        .unwrap_or(path);
    allowed.iter().any(|r| {
        let r_bare = r
            .strip_prefix("/v1")
            .filter(|p| p.starts_with('/'))
            .unwrap_or(r);
        r_bare == bare
            || r.strip_suffix('*')
                .is_some_and(|p| path.starts_with(p) || bare.starts_with(p))
            || (r == "llm_api_routes"
                && (LLM_API_ROUTES.contains(&bare)
                    || bare.starts_with("/responses/")
                    // LiteLLM's `mcp_routes` are LLM API routes too.
                    || bare == "/mcp"
                    || bare.starts_with("/mcp/")
                    || bare.starts_with("/mcp-rest/")
                    || bare.starts_with("/openai/deployments/")
                    || bare.starts_with("/engines/")))
    })
}

fn client_ip(state: &AppState, req: &Request) -> Option<String> {
    if state.config.general_settings.flag("use_x_forwarded_for") {
        if let Some(first) = req
            .headers()
            .get("x-forwarded-for")
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.split(',').next())
        {
            return Some(first.trim().to_string());
        }
    }
    req.extensions()
        .get::<axum::extract::ConnectInfo<std::net::SocketAddr>>()
        .map(|c| c.0.ip().to_string())
}

/// Middleware: authenticates every route it wraps and hands the context to the handler.
pub async fn require_key(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Boxed: a key lookup's database futures would make this middleware's future (moved by
    // every layer above it) kilobytes, though the lookup almost always hits the cache.
    let auth = Box::pin(authenticate(&state, req.headers())).await;
    admit(&state, auth, req, next).await
}

/// Middleware of the management API: a key as [`require_key`], or else the dashboard's
/// session cookie (with its CSRF token on a state-changing method; `ui::session`).
pub async fn require_key_or_session(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let auth = match presented_key(req.headers()) {
        None if crate::ui::session::has_cookie(req.headers()) => {
            crate::ui::session::authenticate(&state, req.method(), req.headers()).await
        }
        _ => authenticate(&state, req.headers()).await,
    };
    admit(&state, auth, req, next).await
}

/// The key's `allowed_routes` checked, the context handed to the handler.
async fn admit(
    state: &AppState,
    auth: Result<AuthContext, GatewayError>,
    mut req: Request,
    next: Next,
) -> Response {
    let shape = crate::error::ErrorShape::of_path(req.uri().path());
    match auth {
        Ok(ctx)
            if ctx
                .key
                .as_ref()
                .is_some_and(|k| !route_allowed(&k.row.allowed_routes, req.uri().path())) =>
        {
            GatewayError::Forbidden {
                message: format!(
                    "key not allowed to access this route: {}. Allowed routes: {:?}",
                    req.uri().path(),
                    ctx.key
                        .as_ref()
                        .map(|k| k.row.allowed_routes.clone())
                        .unwrap_or_default()
                ),
                kind: "key_route_access_denied",
            }
            .into_response_in(shape)
        }
        Ok(mut ctx) => {
            ctx.client_ip = client_ip(state, &req);
            req.extensions_mut().insert(ctx);
            next.run(req).await
        }
        Err(e) => e.into_response_in(shape),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    #[test]
    fn allowed_routes() {
        let r = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert!(route_allowed(&[], "/key/generate"));
        assert!(route_allowed(
            &r(&["/chat/completions"]),
            "/v1/chat/completions"
        ));
        assert!(!route_allowed(&r(&["/chat/completions"]), "/v1/embeddings"));
        assert!(route_allowed(&r(&["llm_api_routes"]), "/v1/embeddings"));
        assert!(route_allowed(&r(&["llm_api_routes"]), "/v2/rerank"));
        assert!(!route_allowed(&r(&["llm_api_routes"]), "/key/info"));
        assert!(route_allowed(&r(&["llm_api_routes"]), "/mcp/github"));
        assert!(route_allowed(
            &r(&["llm_api_routes"]),
            "/mcp-rest/tools/call"
        ));
        assert!(route_allowed(&r(&["/key/*"]), "/key/info"));
    }

    #[test]
    fn every_key_header_is_read() {
        for (name, value) in [
            ("authorization", "Bearer sk-a"),
            ("api-key", "sk-a"),
            ("x-api-key", "sk-a"),
            ("x-litellm-api-key", "Bearer sk-a"),
        ] {
            let mut h = HeaderMap::new();
            h.insert(name, HeaderValue::from_static(value));
            assert_eq!(presented_key(&h).as_deref(), Some("sk-a"), "{name}");
        }
        assert_eq!(presented_key(&HeaderMap::new()), None);
    }

    #[test]
    fn abbreviation_keeps_only_the_tail() {
        assert_eq!(abbreviate("sk-secret-1234"), "sk-...1234");
    }
}
