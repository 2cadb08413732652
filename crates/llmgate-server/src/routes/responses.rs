//! Stored responses: `/v1/responses` answers kept (with the items that led to them) in the
//! database next to spend, for `previous_response_id` and `GET`/`DELETE /v1/responses/{id}`,
//! `GET /v1/responses/{id}/input_items`. Only the key that made a response, or an admin, may
//! read, continue or delete it; anyone else gets the 404 an unknown id gets.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex, OnceLock};

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use llmgate::ResponseObject;
use llmgate_store::responses::{self as table, StoredResponse};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::governance::caller::hash_key;
use crate::state::AppState;

/// What storing an answer needs of its request.
pub struct Record {
    pub owner: String,
    pub previous: Option<String>,
    pub context: Vec<Value>,
    pub input: Vec<Value>,
}

/// Who made a response: the virtual key's hash, the master key's, or "" with auth off.
pub fn owner(auth: &AuthContext) -> String {
    match (&auth.key, &auth.api_key) {
        (Some(k), _) => k.row.token.clone(),
        (None, Some(k)) => hash_key(k),
        (None, None) => String::new(),
    }
}

pub fn may_read(auth: &AuthContext, s: &StoredResponse) -> bool {
    auth.is_admin() || owner(auth) == s.api_key
}

/// Responses written but not yet in the database (a follow-up may name one at once), or,
/// without a database, the only copy: bounded, oldest out first.
#[derive(Default)]
struct Recent {
    rows: HashMap<String, Arc<StoredResponse>>,
    order: VecDeque<String>,
}

const RECENT_MAX: usize = 10_000;

fn recent() -> &'static Mutex<Recent> {
    static R: OnceLock<Mutex<Recent>> = OnceLock::new();
    R.get_or_init(Default::default)
}

fn remember(row: Arc<StoredResponse>) {
    let mut r = recent().lock().unwrap_or_else(|e| e.into_inner());
    r.order.push_back(row.response_id.clone());
    r.rows.insert(row.response_id.clone(), row);
    while r.order.len() > RECENT_MAX {
        if let Some(old) = r.order.pop_front() {
            r.rows.remove(&old);
        }
    }
}

fn forget(id: &str) -> bool {
    let mut r = recent().lock().unwrap_or_else(|e| e.into_inner());
    r.order.retain(|i| i != id);
    r.rows.remove(id).is_some()
}

/// Keeps `answer` (the written copy is what a follow-up reads until the database has it).
pub fn save(state: &AppState, rec: Record, answer: &ResponseObject) {
    let row = Arc::new(StoredResponse {
        response_id: answer.id.clone(),
        api_key: rec.owner,
        model: Some(answer.model.clone()),
        previous_response_id: rec.previous,
        context: Value::Array(rec.context),
        input_items: Value::Array(rec.input),
        response: serde_json::to_value(answer).unwrap_or(Value::Null),
        created_at: None,
    });
    remember(row.clone());
    let Some(store) = state.gov.store.clone() else {
        return;
    };
    tokio::spawn(async move {
        match table::insert(&store, &row).await {
            Ok(()) => {
                forget(&row.response_id);
            }
            Err(e) => {
                tracing::warn!(error = %e, id = %row.response_id, "a response could not be stored")
            }
        }
    });
}

pub async fn load(state: &AppState, id: &str) -> Result<Option<StoredResponse>, GatewayError> {
    let pending = recent()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .rows
        .get(id)
        .cloned();
    if let Some(r) = pending {
        return Ok(Some((*r).clone()));
    }
    let Some(store) = &state.gov.store else {
        return Ok(None);
    };
    table::get(store, id).await.map_err(GatewayError::store)
}

fn not_found(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("Response with id '{id}' not found."))
}

async fn readable(
    state: &AppState,
    auth: &AuthContext,
    id: &str,
) -> Result<StoredResponse, GatewayError> {
    load(state, id)
        .await?
        .filter(|s| may_read(auth, s))
        .ok_or_else(|| not_found(id))
}

/// `GET /v1/responses/{id}`
pub async fn retrieve(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(id): Path<String>,
) -> Response {
    match readable(&state, &auth, &id).await {
        Ok(s) => Json(s.response).into_response(),
        Err(e) => e.into_response(),
    }
}

/// `DELETE /v1/responses/{id}`
pub async fn delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(id): Path<String>,
) -> Response {
    if let Err(e) = readable(&state, &auth, &id).await {
        return e.into_response();
    }
    let mut deleted = forget(&id);
    if let Some(store) = &state.gov.store {
        match table::delete(store, &id).await {
            Ok(d) => deleted |= d,
            Err(e) => return GatewayError::store(e).into_response(),
        }
    }
    if !deleted {
        return not_found(&id).into_response();
    }
    Json(json!({"id": id, "object": "response", "deleted": true})).into_response()
}

#[derive(Deserialize)]
pub struct ItemsQuery {
    limit: Option<usize>,
    order: Option<String>,
    after: Option<String>,
}

/// `GET /v1/responses/{id}/input_items`: the request's own input items (not the earlier
/// turns), newest first unless `order=asc`, as OpenAI lists them.
pub async fn input_items(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(id): Path<String>,
    Query(q): Query<ItemsQuery>,
) -> Response {
    let s = match readable(&state, &auth, &id).await {
        Ok(s) => s,
        Err(e) => return e.into_response(),
    };
    let tail = id.strip_prefix("resp_").unwrap_or(&id);
    let mut items: Vec<Value> = s
        .input_items
        .as_array()
        .cloned()
        .unwrap_or_default()
        .into_iter()
        .enumerate()
        .map(|(i, mut item)| {
            // Items are stored as the client sent them; an id is given on the way out.
            if item.get("id").is_none_or(Value::is_null) {
                let prefix = match item.get("type").and_then(Value::as_str) {
                    Some("function_call") => "fc",
                    Some("function_call_output") => "fco",
                    Some("reasoning") => "rs",
                    _ => "msg",
                };
                item["id"] = json!(format!("{prefix}_{tail}_{i}"));
            }
            if item.get("type").is_none() {
                item["type"] = json!("message");
            }
            item
        })
        .collect();
    if q.order.as_deref() != Some("asc") {
        items.reverse();
    }
    if let Some(after) = &q.after {
        if let Some(pos) = items.iter().position(|i| i["id"] == json!(after)) {
            items.drain(..=pos);
        }
    }
    let limit = q.limit.unwrap_or(20).clamp(1, 100);
    let has_more = items.len() > limit;
    items.truncate(limit);
    Json(json!({
        "object": "list",
        "data": items,
        "first_id": items.first().map(|i| i["id"].clone()),
        "last_id": items.last().map(|i| i["id"].clone()),
        "has_more": has_more,
    }))
    .into_response()
}
