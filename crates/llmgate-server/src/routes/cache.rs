//! LiteLLM's cache management routes (`litellm/proxy/caching_routes.py`): `/cache/ping`,
//! `/cache/delete`, `/cache/flushall`, `/cache/redis/info`, with its answers and its
//! `{"detail": ...}` errors. Admin only (LiteLLM lets any key call them; a key flushing the
//! fleet's cache is a management act here). `/cache/flushall` deletes the cache's entries
//! only — those under its namespace, or bare cache keys — never the rest of a shared Redis
//! (LiteLLM runs FLUSHALL); it also empties the local and semantic caches.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Map, Value};

use crate::auth::AuthContext;
use crate::cache::{Backend, Cache};
use crate::error::GatewayError;
use crate::state::AppState;

fn detail(status: u16, msg: impl Into<String>) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    (status, Json(json!({"detail": msg.into()}))).into_response()
}

/// The admin check, then the cache (503 as LiteLLM when there is none).
fn cache<'a>(
    state: &'a AppState,
    auth: &AuthContext,
    route: &str,
) -> Result<&'a Cache, Box<Response>> {
    if !auth.is_admin() {
        return Err(GatewayError::Auth(format!(
            "Authentication Error, only the proxy admin can call {route}"
        ))
        .into_response()
        .into());
    }
    state
        .cache
        .as_deref()
        .ok_or_else(|| detail(503, "Cache not initialized. litellm.cache is None").into())
}

/// The cache's settings as LiteLLM lists `vars(litellm.cache)` (values as strings).
fn params(c: &Cache) -> Map<String, Value> {
    let s = &c.settings;
    let none = || "None".to_string();
    let mut m = Map::new();
    m.insert("type".into(), json!(s.type_name));
    m.insert(
        "namespace".into(),
        json!(s.namespace.clone().unwrap_or_else(none)),
    );
    m.insert(
        "ttl".into(),
        json!(s
            .ttl
            .map(|t| crate::pyfmt::py_float(t.as_secs_f64()))
            .unwrap_or_else(none)),
    );
    let mode = if s.default_off {
        "default_off"
    } else {
        "default_on"
    };
    m.insert("mode".into(), json!(format!("CacheMode.{mode}")));
    m.insert(
        "supported_call_types".into(),
        json!(format!("{:?}", s.call_types)),
    );
    m
}

pub async fn ping(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
) -> Response {
    let c = match cache(&state, &auth, "/cache/ping") {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let litellm_cache_params = params(c);
    let Backend::Redis(r) = &c.backend else {
        return Json(
            json!({"status": "healthy", "cache_type": c.settings.type_name,
                           "litellm_cache_params": litellm_cache_params}),
        )
        .into_response();
    };
    if let Err(e) = r.ping().await {
        return detail(
            503,
            format!("Service Unhealthy ({e}).Cache parameters: {litellm_cache_params:?}."),
        );
    }
    // A write, as LiteLLM's ping makes one (kept a minute).
    let probe =
        crate::cache::key::namespaced(c.settings.namespace.as_deref(), "llmgate-cache-ping");
    r.set(
        &probe,
        b"test_key",
        Some(std::time::Duration::from_secs(60)),
    )
    .await;
    Json(json!({
        "status": "healthy",
        "cache_type": c.settings.type_name,
        "ping_response": true,
        "set_cache_response": "success",
        "litellm_cache_params": litellm_cache_params,
        "redis_cache_params": {"namespace": c.settings.namespace},
    }))
    .into_response()
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    let c = match cache(&state, &auth, "/cache/delete") {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let keys: Option<Vec<String>> = serde_json::from_slice::<Value>(&body)
        .ok()
        .and_then(|v| serde_json::from_value(v.get("keys")?.clone()).ok());
    let Some(keys) = keys else {
        return GatewayError::BadRequest("keys: a list of cache keys is required".into())
            .into_response();
    };
    match c.delete(&keys).await {
        Ok(_) => Json(json!({"status": "success"})).into_response(),
        Err(e) => detail(500, format!("Cache Delete Failed({e})")),
    }
}

pub async fn flushall(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
) -> Response {
    let c = match cache(&state, &auth, "/cache/flushall") {
        Ok(c) => c,
        Err(r) => return *r,
    };
    match c.flush().await {
        Ok(()) => Json(json!({"status": "success"})).into_response(),
        Err(e) => detail(503, format!("Service Unhealthy ({e})")),
    }
}

pub async fn redis_info(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
) -> Response {
    let c = match cache(&state, &auth, "/cache/redis/info") {
        Ok(c) => c,
        Err(r) => return *r,
    };
    let Backend::Redis(r) = &c.backend else {
        return detail(
            500,
            format!(
                "Cache type {} does not support flushing",
                c.settings.type_name
            ),
        );
    };
    match r.info().await {
        Ok((clients, info)) => Json(json!({
            "num_clients": clients.len(),
            "clients": clients,
            "info": info,
        }))
        .into_response(),
        Err(e) => detail(503, format!("Service Unhealthy ({e})")),
    }
}
