//! Users, teams, organizations, end users and budgets as LiteLLM's proxy manages them:
//! `/user/*`, `/team/*`, `/organization/*`, `/customer/*`, `/budget/*`, `/tag/*`. Admin only.
//! One module per entity; this one holds what they share.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use llmgate_store::entities::{
    BudgetRow, CustomerRow, OrgMemberRow, OrgRow, TagRow, TeamRow, UserRow, BUDGETS, CUSTOMERS,
    ORGANIZATIONS, ORG_MEMBERS, TAGS, TEAMS, USERS,
};
use llmgate_store::keys::{KeyFilter, KeyRow};
use llmgate_store::{now_ms, Store};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::admin::{admin_store, db, generate_key, reader_store, run, set_spend};
use super::fields::{clear_nulls, null_fields, Accepted, Extra, Shape};
use super::proxy::parse_body;
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::governance::budgets::duration_ms;
use crate::state::AppState;

mod budgets;
mod customers;
mod organizations;
mod tags;
mod teams;
mod users;

pub use budgets::*;
pub use customers::*;
pub use organizations::*;
pub use tags::*;
pub use teams::*;
pub use users::*;

fn bad(m: impl Into<String>) -> GatewayError {
    GatewayError::BadRequest(m.into())
}

fn not_found(what: &str, id: &str) -> GatewayError {
    GatewayError::NotFound(format!("{what} not found: {id}"))
}

/// The row with `id`, or 404 naming `what`.
async fn load_row<T: serde::de::DeserializeOwned>(
    store: &Store,
    table: &llmgate_store::codec::Table,
    id: &str,
    what: &str,
) -> Result<T, GatewayError> {
    table
        .get(store, id)
        .await
        .map_err(db)?
        .ok_or_else(|| not_found(what, id))
}

/// The user with this `user_email`, if any (members are named by id or email, as in LiteLLM).
async fn user_by_email(store: &Store, email: &str) -> Result<Option<UserRow>, GatewayError> {
    let filter = [("user_email", email.to_string())];
    let (found, _): (Vec<UserRow>, u64) = USERS.list(store, &filter, 1, 1).await.map_err(db)?;
    Ok(found.into_iter().next())
}

/// Deletes the rows with `ids` (404 on the first unknown one) and drops them from the
/// request path's cache.
async fn delete_rows<T: crate::governance::Row>(
    store: &Store,
    table: &llmgate_store::codec::Table,
    cache: &crate::governance::Cache<T>,
    ids: &[String],
    what: &str,
) -> Result<(), GatewayError> {
    for id in ids {
        if !table.delete(store, id).await.map_err(db)? {
            return Err(not_found(what, id));
        }
        cache.remove(id);
    }
    Ok(())
}

/// 404 unless the budget `id` (when given) exists: LiteLLM's tables reference budgets by
/// foreign key, so a dangling id would fail there.
pub(crate) async fn check_budget_exists(
    store: &Store,
    id: &Option<String>,
) -> Result<(), GatewayError> {
    let Some(id) = id else { return Ok(()) };
    load_row::<BudgetRow>(store, &BUDGETS, id, "Budget")
        .await
        .map(|_| ())
}

fn budget_reset(d: &Option<String>) -> Result<Option<i64>, GatewayError> {
    d.as_ref()
        .map(|d| {
            duration_ms(d)
                .map(|ms| now_ms() + ms)
                .ok_or_else(|| bad(format!("invalid budget_duration '{d}'")))
        })
        .transpose()
}

fn check_budget(b: Option<f64>) -> Result<(), GatewayError> {
    match b {
        Some(b) if b < 0.0 => Err(bad("max_budget must not be negative")),
        _ => Ok(()),
    }
}

/// Paging and filters of the `/*/list` routes.
#[derive(Deserialize)]
pub struct Page {
    pub(super) page: Option<u64>,
    pub(super) page_size: Option<u64>,
    pub(super) team_id: Option<String>,
    pub(super) organization_id: Option<String>,
}
