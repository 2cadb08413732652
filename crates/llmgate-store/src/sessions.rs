//! `LLMGate_UISessionTable` (llmgate's own): the dashboard's sessions. A row is keyed by the
//! SHA-256 of the cookie's value, so the table alone opens no session; every instance on the
//! database reads the same rows, so a login or a logout holds on all of them at once.

use serde::{Deserialize, Serialize};

use crate::codec::{execute, param_expr, Kind, Param, Table};
use crate::{Store, StoreError};

pub const SESSIONS: Table = Table {
    name: "LLMGate_UISessionTable",
    id: "session_id",
    columns: &[
        ("session_id", Kind::Text),
        ("csrf_token", Kind::Text),
        ("user_role", Kind::Text),
        ("user_id", Kind::Text),
        ("key_token", Kind::Text),
        ("expires", Kind::Time),
        ("created_at", Kind::Time),
    ],
    mutable: &[],
    order_by: "",
};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UiSession {
    /// SHA-256 (hex) of the session cookie's value.
    pub session_id: String,
    /// The double-submit token state-changing calls must carry in `x-csrf-token`.
    pub csrf_token: String,
    /// `proxy_admin` (master key, `UI_USERNAME`/`UI_PASSWORD`) or the logged-in key's (or
    /// user's) role.
    pub user_role: String,
    #[serde(default)]
    pub user_id: Option<String>,
    /// The hashed virtual key the session acts as (None: the master key; `user:<user_id>`: a
    /// user logged in with their password).
    #[serde(default)]
    pub key_token: Option<String>,
    /// Milliseconds since the epoch.
    pub expires: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_at: Option<i64>,
}

pub async fn insert(store: &Store, row: &UiSession) -> Result<(), StoreError> {
    SESSIONS.insert(store, row).await
}

/// The session with this id, unless it has expired.
pub async fn get(store: &Store, id: &str, now_ms: i64) -> Result<Option<UiSession>, StoreError> {
    let row: Option<UiSession> = SESSIONS.get(store, id).await?;
    Ok(row.filter(|s| s.expires > now_ms))
}

pub async fn delete(store: &Store, id: &str) -> Result<bool, StoreError> {
    SESSIONS.delete(store, id).await
}

/// Removes every session that has expired; returns how many.
pub async fn delete_expired(store: &Store, now_ms: i64) -> Result<u64, StoreError> {
    let sql = format!(
        "DELETE FROM \"{}\" WHERE \"expires\" <= {}",
        SESSIONS.name,
        param_expr(store, 1, Kind::Time)
    );
    execute(store, &sql, vec![Param::Int(Some(now_ms))]).await
}

/// Removes the sessions acting as this hashed key (it was deleted, blocked or regenerated).
pub async fn delete_for_key(store: &Store, key_token: &str) -> Result<u64, StoreError> {
    SESSIONS
        .delete_where(store, &[("key_token", key_token.to_string())])
        .await
}
