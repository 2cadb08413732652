//! The agent registry's admin API, as LiteLLM's: `POST /v1/agents`, `GET|PUT|PATCH|DELETE
//! /v1/agents/{agent_id}`, kept in `LiteLLM_AgentsTable` and served at once (other instances
//! within their refresh interval). Writing takes an admin; reading one agent takes a key that
//! may use it. Config agents are read-only here, as in LiteLLM (they are not in the table).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use llmgate_store::agents::AgentRow;
use llmgate_store::now_ms;
use serde_json::{json, Map, Value};

use super::a2a::{public, usable};
use super::admin::{admin_store, db, run};
use super::proxy::parse_body;
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::state::AppState;

/// The fields an agent body may set (LiteLLM's `AgentConfig` that llmgate implements).
const FIELDS: &[&str] = &[
    "agent_name",
    "agent_card_params",
    "litellm_params",
    "static_headers",
    "extra_headers",
    "agent_access_groups",
];

/// The body's agent: LiteLLM takes the `AgentConfig` itself; its docs wrap it in `agent`.
fn agent_body(body: &Bytes) -> Result<Map<String, Value>, GatewayError> {
    let v: Map<String, Value> = parse_body(body)?;
    let mut m = match v.get("agent") {
        Some(Value::Object(inner)) if !v.contains_key("agent_name") => inner.clone(),
        _ => v,
    };
    for (k, val) in m.iter() {
        if FIELDS.contains(&k.as_str()) || val.is_null() {
            continue;
        }
        if matches!(
            k.as_str(),
            "agent_id" | "created_at" | "updated_at" | "spend"
        ) {
            continue;
        }
        return Err(GatewayError::BadRequest(format!(
            "{k} is not supported for agents by llmgate"
        )));
    }
    m.retain(|k, _| FIELDS.contains(&k.as_str()));
    Ok(m)
}

/// Writes `body` over `row`'s fields (all of them for a replace), checked as a config entry.
fn apply(
    state: &AppState,
    row: &mut AgentRow,
    body: Map<String, Value>,
    replace: bool,
) -> Result<(), GatewayError> {
    let get = |k: &str| body.get(k).cloned();
    let strs = |k: &str| -> Result<Option<Vec<String>>, GatewayError> {
        match get(k) {
            None => Ok(None),
            Some(Value::Null) => Ok(Some(Vec::new())),
            Some(v) => serde_json::from_value(v)
                .map(Some)
                .map_err(|_| GatewayError::BadRequest(format!("{k} must be a list of strings"))),
        }
    };
    if replace || body.contains_key("agent_name") {
        row.agent_name = get("agent_name")
            .and_then(|v| v.as_str().map(str::to_string))
            .ok_or_else(|| GatewayError::BadRequest("agent_name is required".into()))?;
    }
    for (k, dst) in [
        ("agent_card_params", &mut row.agent_card_params),
        ("litellm_params", &mut row.litellm_params),
        ("static_headers", &mut row.static_headers),
    ] {
        if let Some(v) = get(k) {
            *dst = v;
        } else if replace {
            *dst = json!({});
        }
    }
    if let Some(v) = strs("extra_headers")? {
        row.extra_headers = v;
    } else if replace {
        row.extra_headers.clear();
    }
    if let Some(v) = strs("agent_access_groups")? {
        row.agent_access_groups = v;
    } else if replace {
        row.agent_access_groups.clear();
    }
    // Checked as a config entry is: a card without a URL is a 400, not a stored dead agent.
    crate::agents::stored::agent(row, &state.config, &state.client)
        .map_err(GatewayError::BadRequest)?;
    Ok(())
}

fn name_taken(state: &AppState, name: &str, except: Option<&str>) -> Result<(), GatewayError> {
    match state.agents().find(name) {
        Some(a) if a.agent_name == name && Some(a.agent_id.as_str()) != except => Err(
            GatewayError::BadRequest(format!("Agent with name {name} already exists")),
        ),
        _ => Ok(()),
    }
}

/// The stored row as LiteLLM's `AgentResponse`.
fn answer(state: &AppState, row: &AgentRow) -> Response {
    let mut v = match state.agents().find(&row.agent_id) {
        Some(a) => public(a),
        None => json!({"agent_id": row.agent_id, "agent_name": row.agent_name}),
    };
    v["created_by"] = json!(row.created_by);
    v["updated_by"] = json!(row.updated_by);
    for (k, t) in [
        ("created_at", row.created_at),
        ("updated_at", row.updated_at),
    ] {
        v[k] = json!(t.map(llmgate_store::time::iso));
    }
    Json(v).into_response()
}

fn who(auth: &AuthContext) -> String {
    auth.user_id().unwrap_or("unknown").to_string()
}

pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/v1/agents")?;
        let body = agent_body(&body)?;
        let now = now_ms();
        let mut row = AgentRow {
            agent_id: uuid::Uuid::new_v4().to_string(),
            created_at: Some(now),
            updated_at: Some(now),
            created_by: who(&auth),
            updated_by: who(&auth),
            ..AgentRow::default()
        };
        apply(&state, &mut row, body, true)?;
        name_taken(&state, &row.agent_name, None)?;
        store.insert_agent(&row).await.map_err(db)?;
        crate::agents::stored::reload(&state).await?;
        Ok(answer(&state, &row))
    })
    .await
}

pub async fn get_one(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(id): Path<String>,
) -> Response {
    run(async {
        let agent = usable(&state, &auth, &id).await?;
        Ok(Json(public(&agent)).into_response())
    })
    .await
}

async fn stored(state: &AppState, auth: &AuthContext, id: &str) -> Result<AgentRow, GatewayError> {
    let store = admin_store(state, auth, "/v1/agents/{agent_id}")?;
    store
        .get_agent(id)
        .await
        .map_err(db)?
        .ok_or_else(|| GatewayError::NotFound(format!("Agent with ID {id} not found")))
}

async fn change(
    state: AppState,
    auth: AuthContext,
    id: String,
    body: Bytes,
    replace: bool,
) -> Result<Response, GatewayError> {
    let mut row = stored(&state, &auth, &id).await?;
    let body = agent_body(&body)?;
    apply(&state, &mut row, body, replace)?;
    name_taken(&state, &row.agent_name, Some(&row.agent_id))?;
    row.updated_at = Some(now_ms());
    row.updated_by = who(&auth);
    let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
    store.update_agent(&row).await.map_err(db)?;
    crate::agents::stored::reload(&state).await?;
    Ok(answer(&state, &row))
}

pub async fn replace(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(change(state, auth, id, body, true)).await
}

pub async fn patch(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(change(state, auth, id, body, false)).await
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(id): Path<String>,
) -> Response {
    run(async {
        let row = stored(&state, &auth, &id).await?;
        let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
        store.delete_agent(&row.agent_id).await.map_err(db)?;
        crate::agents::stored::reload(&state).await?;
        Ok(Json(json!({"message": format!("Agent {id} deleted successfully")})).into_response())
    })
    .await
}
