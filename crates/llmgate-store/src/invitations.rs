//! `LiteLLM_InvitationLink`: an admin's invitation for a user to set a password and log in to
//! the dashboard (LiteLLM's table and columns), and the user's `password` column, which only
//! this module reads or writes (it is in no other row type, so no route can echo it back).

use serde::{Deserialize, Serialize};

use crate::codec::{execute, fetch, param_expr, Columns, Kind, Param, Table};
use crate::entities::USERS;
use crate::{Store, StoreError};

pub const INVITATIONS: Table = Table {
    name: "LiteLLM_InvitationLink",
    id: "id",
    columns: &[
        ("id", Kind::Text),
        ("user_id", Kind::Text),
        ("is_accepted", Kind::Bool),
        ("accepted_at", Kind::Time),
        ("expires_at", Kind::Time),
        ("created_at", Kind::Time),
        ("created_by", Kind::Text),
        ("updated_at", Kind::Time),
        ("updated_by", Kind::Text),
    ],
    mutable: &[
        "is_accepted",
        "accepted_at",
        "expires_at",
        "updated_at",
        "updated_by",
    ],
    order_by: "\"created_at\" DESC, \"id\"",
};

/// One invitation; times are milliseconds since the epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Invitation {
    pub id: String,
    pub user_id: String,
    #[serde(default)]
    pub is_accepted: bool,
    pub accepted_at: Option<i64>,
    pub expires_at: i64,
    pub created_at: i64,
    pub created_by: String,
    pub updated_at: i64,
    pub updated_by: String,
}

pub async fn insert(store: &Store, row: &Invitation) -> Result<(), StoreError> {
    INVITATIONS.insert(store, row).await
}

pub async fn get(store: &Store, id: &str) -> Result<Option<Invitation>, StoreError> {
    INVITATIONS.get(store, id).await
}

pub async fn update(store: &Store, row: &Invitation) -> Result<bool, StoreError> {
    INVITATIONS.update(store, &row.id, row).await
}

pub async fn delete(store: &Store, id: &str) -> Result<bool, StoreError> {
    INVITATIONS.delete(store, id).await
}

/// Removes the user's invitations; returns how many.
pub async fn delete_for_user(store: &Store, user_id: &str) -> Result<u64, StoreError> {
    INVITATIONS
        .delete_where(store, &[("user_id", user_id.to_string())])
        .await
}

/// Marks the invitation accepted unless it already is; false when another claim won.
pub async fn accept(store: &Store, id: &str, by: &str, now_ms: i64) -> Result<bool, StoreError> {
    let sql = format!(
        "UPDATE \"{}\" SET \"is_accepted\" = {}, \"accepted_at\" = {}, \"updated_at\" = {}, \"updated_by\" = {} WHERE \"id\" = {} AND \"is_accepted\" = {}",
        INVITATIONS.name,
        param_expr(store, 1, Kind::Bool),
        param_expr(store, 2, Kind::Time),
        param_expr(store, 3, Kind::Time),
        param_expr(store, 4, Kind::Text),
        param_expr(store, 5, Kind::Text),
        param_expr(store, 6, Kind::Bool),
    );
    let n = execute(
        store,
        &sql,
        vec![
            Param::Bool(Some(true)),
            Param::Int(Some(now_ms)),
            Param::Int(Some(now_ms)),
            Param::Text(Some(by.into())),
            Param::Text(Some(id.into())),
            Param::Bool(Some(false)),
        ],
    )
    .await?;
    Ok(n == 1)
}

/// Undoes [`accept`] (the password could not be written).
pub async fn unaccept(store: &Store, id: &str) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE \"{}\" SET \"is_accepted\" = {}, \"accepted_at\" = NULL WHERE \"id\" = {}",
        INVITATIONS.name,
        param_expr(store, 1, Kind::Bool),
        param_expr(store, 2, Kind::Text),
    );
    execute(
        store,
        &sql,
        vec![Param::Bool(Some(false)), Param::Text(Some(id.into()))],
    )
    .await
    .map(|_| ())
}

/// Writes the user's stored password (already hashed by the caller); false: no such user.
pub async fn set_password(
    store: &Store,
    user_id: &str,
    password: &str,
    now_ms: i64,
) -> Result<bool, StoreError> {
    let sql = format!(
        "UPDATE \"{}\" SET \"password\" = {}, \"updated_at\" = {} WHERE \"user_id\" = {}",
        USERS.name,
        param_expr(store, 1, Kind::Text),
        param_expr(store, 2, Kind::Time),
        param_expr(store, 3, Kind::Text),
    );
    let n = execute(
        store,
        &sql,
        vec![
            Param::Text(Some(password.into())),
            Param::Int(Some(now_ms)),
            Param::Text(Some(user_id.into())),
        ],
    )
    .await?;
    Ok(n == 1)
}

/// A user who may log in with a password: id, role, stored password.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct PasswordUser {
    pub user_id: String,
    pub user_role: Option<String>,
    pub password: String,
}

/// The user named `username` (by `user_id`, else by `user_email`, as LiteLLM's login looks
/// users up) that has a password.
pub async fn password_user(
    store: &Store,
    username: &str,
) -> Result<Option<PasswordUser>, StoreError> {
    const COLS: Columns = &[
        ("user_id", Kind::Text),
        ("user_role", Kind::Text),
        ("password", Kind::Text),
    ];
    for col in ["user_id", "user_email"] {
        let sql = format!(
            "SELECT \"user_id\", \"user_role\", \"password\" FROM \"{}\" WHERE \"{col}\" = {} AND \"password\" IS NOT NULL ORDER BY \"user_id\" LIMIT 1",
            USERS.name,
            param_expr(store, 1, Kind::Text),
        );
        let rows = fetch(store, &sql, vec![Param::Text(Some(username.into()))], COLS).await?;
        if let Some(row) = rows.into_iter().next() {
            return crate::codec::from_row(row).map(Some);
        }
    }
    Ok(None)
}
