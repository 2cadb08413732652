//! What the admin routes share: the admin check, store errors, the handler wrapper, and making
//! a key (keys and `/user/new`'s `auto_create_key` both do).

use axum::response::{IntoResponse, Response};
use llmgate_store::keys::KeyRow;
use llmgate_store::{now_ms, Store};

use crate::auth::{abbreviate, hash_key, AuthContext};
use crate::error::GatewayError;
use crate::state::AppState;

pub fn admin_store<'a>(
    state: &'a AppState,
    auth: &AuthContext,
    route: &str,
) -> Result<&'a Store, GatewayError> {
    if !auth.is_admin() {
        return Err(GatewayError::Auth(format!(
            "Authentication Error, only the proxy admin can call {route}"
        )));
    }
    state.gov.store.as_ref().ok_or(GatewayError::NoDb)
}

/// The database for a non-admin caller reading something it may see (its own key, user or
/// team): the caller passed `allowed`, or is an admin.
pub fn reader_store<'a>(
    state: &'a AppState,
    auth: &AuthContext,
    allowed: bool,
    route: &str,
) -> Result<&'a Store, GatewayError> {
    if allowed || auth.is_admin() {
        return state.gov.store.as_ref().ok_or(GatewayError::NoDb);
    }
    Err(forbidden(route))
}

/// 403 as LiteLLM answers a key reading another's key, user or team.
pub fn forbidden(route: &str) -> GatewayError {
    GatewayError::Forbidden {
        message: format!("You are not allowed to access this resource ({route}): it is not yours, and only the proxy admin may read others'"),
        kind: "auth_error",
    }
}

/// For `.map_err(db)` on store calls: [`GatewayError::store`].
pub fn db(e: llmgate_store::StoreError) -> GatewayError {
    GatewayError::store(e)
}

/// `sk-` and 128 random bits (LiteLLM's keys carry the same entropy).
fn new_secret() -> String {
    format!("sk-{}", uuid::Uuid::new_v4().simple())
}

/// Stores a new key from `template` (its hash, name and creation fields filled in) and caches
/// it; `secret` is the caller's custom key, if any. Returns the secret and the row.
pub async fn generate_key(
    state: &AppState,
    store: &Store,
    secret: Option<String>,
    template: KeyRow,
) -> Result<(String, KeyRow), GatewayError> {
    let secret = secret.unwrap_or_else(new_secret);
    if !secret.starts_with("sk-") {
        return Err(GatewayError::BadRequest(format!(
            "Invalid key format. LiteLLM Virtual Key must start with 'sk-'. Received: {}",
            abbreviate(&secret)
        )));
    }
    let hash = hash_key(&secret);
    if store.get_key(&hash).await.map_err(db)?.is_some() {
        return Err(GatewayError::BadRequest(
            "a key with this value already exists".into(),
        ));
    }
    let now = now_ms();
    let row = KeyRow {
        token: hash,
        key_name: Some(abbreviate(&secret)),
        created_at: Some(now),
        updated_at: Some(now),
        created_by: Some("default_user_id".into()),
        updated_by: Some("default_user_id".into()),
        ..template
    };
    store.insert_key(&row).await.map_err(db)?;
    state.gov.keys.put(row.clone());
    Ok((secret, row))
}

/// The hash of a key given as the secret (`sk-...`) or already as its hash.
pub fn token_of(key: &str) -> String {
    if key.starts_with("sk-") {
        hash_key(key)
    } else {
        key.to_string()
    }
}

pub async fn run(f: impl std::future::Future<Output = Result<Response, GatewayError>>) -> Response {
    f.await.unwrap_or_else(IntoResponse::into_response)
}

/// An admin's `spend` on `/key|user|team/update`: written to the row (after the spend of calls
/// already settled, so they are not added on top), then every instance's cache and the fleet's
/// counter take the new figure.
pub async fn set_spend<T: crate::governance::Row>(
    state: &AppState,
    store: &Store,
    (table, id_col): (&str, &str),
    cache: &crate::governance::Cache<T>,
    id: &str,
    spend: Option<f64>,
) -> Result<(), GatewayError> {
    let Some(spend) = spend else { return Ok(()) };
    if !spend.is_finite() || spend < 0.0 {
        return Err(GatewayError::BadRequest(format!(
            "spend must be a non-negative finite number. Received: {spend}"
        )));
    }
    if let Some(w) = &state.gov.spend {
        w.flush().await;
    }
    llmgate_store::codec::set_spend(store, table, id_col, id, spend)
        .await
        .map_err(db)?;
    cache.reset(id, spend);
    Ok(())
}
