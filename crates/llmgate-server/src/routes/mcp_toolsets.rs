//! MCP toolsets' admin API, as LiteLLM's `mcp_management_endpoints` names it: `GET|POST|PUT
//! /v1/mcp/toolset`, `GET|DELETE /v1/mcp/toolset/{toolset_id}`. A toolset is a named list of
//! `{server_id, tool_name}` pairs kept in `LiteLLM_MCPToolsetTable`; keys, teams and
//! organizations are granted it through `object_permission.mcp_toolsets` (its id), and it is
//! served as its own MCP endpoint (`/toolset/{name}/mcp`). Writing takes a proxy admin; a key
//! reads the toolsets it is granted. A change serves at once here and on every instance (the
//! fleet's `mcp` message, as for stored servers).

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use llmgate_store::mcp_toolsets::{McpToolsetRow, ToolsetTool};
use llmgate_store::now_ms;
use serde_json::{json, Map, Value};

use super::admin::{db, run};
use super::proxy::parse_body;
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::state::AppState;

/// Fields a body may carry without effect: the row's own bookkeeping, as a client echoes it.
const ECHOED: &[&str] = &["created_at", "created_by", "updated_at", "updated_by"];

/// A toolset as LiteLLM's `MCPToolset` answers it.
fn view(row: &McpToolsetRow) -> Value {
    json!({
        "toolset_id": row.toolset_id,
        "toolset_name": row.toolset_name,
        "description": row.description,
        "tools": row.tools,
        "created_at": row.created_at.map(llmgate_store::time::iso),
        "created_by": row.created_by,
        "updated_at": row.updated_at.map(llmgate_store::time::iso),
        "updated_by": row.updated_by,
    })
}

/// 409, LiteLLM's answer to a name another toolset has.
fn conflict(name: &str) -> Response {
    let message = format!("A toolset named '{name}' already exists.");
    (
        StatusCode::CONFLICT,
        Json(
            json!({"error": {"message": message, "type": "invalid_request_error",
                              "param": "toolset_name", "code": "409"}}),
        ),
    )
        .into_response()
}

fn only_admins(auth: &AuthContext, what: &str) -> Result<(), GatewayError> {
    if auth.is_admin() {
        return Ok(());
    }
    Err(GatewayError::Forbidden {
        message: format!("Only proxy admins can {what} MCP toolsets."),
        kind: "auth_error",
    })
}

fn store(state: &AppState) -> Result<&llmgate_store::Store, GatewayError> {
    state.gov.store.as_ref().ok_or(GatewayError::NoDb)
}

/// A body's fields as LiteLLM's request models read them (`allowed` names them): a field of
/// the wrong type is a 422, as FastAPI answers; a field llmgate does not know, given a value,
/// a 400 (it would do nothing).
fn fields(body: &Bytes, allowed: &[&str]) -> Result<Map<String, Value>, GatewayError> {
    let mut m: Map<String, Value> = parse_body(body)?;
    for (k, v) in &m {
        if allowed.contains(&k.as_str()) || ECHOED.contains(&k.as_str()) || v.is_null() {
            continue;
        }
        return Err(GatewayError::BadRequest(format!(
            "{k} is not a field of an MCP toolset"
        )));
    }
    m.retain(|k, _| allowed.contains(&k.as_str()));
    Ok(m)
}

fn string(m: &Map<String, Value>, k: &str) -> Result<Option<String>, GatewayError> {
    match m.get(k) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(GatewayError::Unprocessable(format!(
            "{k}: Input should be a valid string"
        ))),
    }
}

/// The name is the toolset's URL segment (`/toolset/{name}/mcp`), so it must be one.
fn check_name(name: &str) -> Result<(), GatewayError> {
    if name.is_empty() || name.trim() != name || name.contains('/') {
        return Err(GatewayError::BadRequest(format!(
            "toolset_name '{name}' must be a non-empty name without `/` or surrounding spaces: it is served at /toolset/{{toolset_name}}/mcp"
        )));
    }
    Ok(())
}

/// `tools`: a list of `{server_id, tool_name}` (LiteLLM's `MCPToolsetTool`), both non-empty.
fn tools(m: &Map<String, Value>) -> Result<Option<Vec<ToolsetTool>>, GatewayError> {
    let Some(v) = m.get("tools").filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let bad = || {
        GatewayError::Unprocessable(
            "tools: Input should be a list of {\"server_id\": string, \"tool_name\": string}"
                .into(),
        )
    };
    let list: Vec<Map<String, Value>> = serde_json::from_value(v.clone()).map_err(|_| bad())?;
    let mut out = Vec::new();
    for t in list {
        let (Some(Value::String(server_id)), Some(Value::String(tool_name))) =
            (t.get("server_id"), t.get("tool_name"))
        else {
            return Err(bad());
        };
        if server_id.is_empty() || tool_name.is_empty() {
            return Err(GatewayError::BadRequest(
                "tools: server_id and tool_name must not be empty".into(),
            ));
        }
        let pair = ToolsetTool {
            server_id: server_id.clone(),
            tool_name: tool_name.clone(),
        };
        if !out.contains(&pair) {
            out.push(pair);
        }
    }
    Ok(Some(out))
}

async fn name_taken(
    store: &llmgate_store::Store,
    name: &str,
    except: &str,
) -> Result<bool, GatewayError> {
    let rows = store.list_mcp_toolsets().await.map_err(db)?;
    Ok(rows
        .iter()
        .any(|r| r.toolset_name == name && r.toolset_id != except))
}

fn who(auth: &AuthContext) -> String {
    auth.user_id().unwrap_or("default_user_id").to_string()
}

/// After a write: served here at once, and the fleet told (as for stored servers).
async fn changed(state: &AppState) -> Result<(), GatewayError> {
    crate::mcp::stored::changed(state).await
}

/// `POST /v1/mcp/toolset` (admins): LiteLLM's `NewMCPToolsetRequest`; 201 with the toolset.
pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        only_admins(&auth, "create")?;
        let store = store(&state)?;
        let m = fields(&body, &["toolset_name", "description", "tools"])?;
        let Some(name) = string(&m, "toolset_name")? else {
            return Err(GatewayError::Unprocessable(
                "toolset_name: Field required".into(),
            ));
        };
        check_name(&name)?;
        if name_taken(store, &name, "").await? {
            return Ok(conflict(&name));
        }
        let now = now_ms();
        let row = McpToolsetRow {
            toolset_id: uuid::Uuid::new_v4().to_string(),
            toolset_name: name.clone(),
            description: string(&m, "description")?,
            tools: tools(&m)?.unwrap_or_default(),
            created_at: Some(now),
            created_by: Some(who(&auth)),
            updated_at: Some(now),
            updated_by: Some(who(&auth)),
        };
        match store.insert_mcp_toolset(&row).await {
            // Another request took the name meanwhile (the unique index).
            Err(e) if e.is_refusal() => return Ok(conflict(&name)),
            r => r.map_err(db)?,
        }
        changed(&state).await?;
        Ok((StatusCode::CREATED, Json(view(&row))).into_response())
    })
    .await
}

/// `GET /v1/mcp/toolset`: every toolset for an admin; the ones its key or team is granted
/// for a key (LiteLLM's `fetch_mcp_toolsets`).
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
) -> Response {
    run(async {
        let rows = store(&state)?.list_mcp_toolsets().await.map_err(db)?;
        let granted = crate::mcp::access::granted_toolsets(&state, &auth).await?;
        let v: Vec<Value> = rows
            .iter()
            .filter(|r| {
                granted.as_ref().is_none_or(|g| {
                    g.iter()
                        .any(|id| *id == r.toolset_id || *id == r.toolset_name)
                })
            })
            .map(view)
            .collect();
        Ok(Json(v).into_response())
    })
    .await
}

/// `GET /v1/mcp/toolset/{toolset_id}`: one toolset; 403 for a key not granted it (before
/// looking, as LiteLLM answers), 404 unknown.
pub async fn get_one(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(id): Path<String>,
) -> Response {
    run(async {
        let store = store(&state)?;
        if let Some(g) = crate::mcp::access::granted_toolsets(&state, &auth).await? {
            if !g.contains(&id) {
                return Err(GatewayError::Forbidden {
                    message: "API key does not have access to this toolset.".into(),
                    kind: "mcp_toolset_access_denied",
                });
            }
        }
        let row = store
            .get_mcp_toolset(&id)
            .await
            .map_err(db)?
            .ok_or_else(|| not_found(&id))?;
        Ok(Json(view(&row)).into_response())
    })
    .await
}

fn not_found(id: &str) -> GatewayError {
    GatewayError::NotFound(format!("Toolset '{id}' not found."))
}

/// `PUT /v1/mcp/toolset` (admins): LiteLLM's `UpdateMCPToolsetRequest` — `toolset_id`, and
/// the fields to replace; 200 with the toolset.
pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        only_admins(&auth, "update")?;
        let store = store(&state)?;
        let m = fields(
            &body,
            &["toolset_id", "toolset_name", "description", "tools"],
        )?;
        let Some(id) = string(&m, "toolset_id")? else {
            return Err(GatewayError::Unprocessable(
                "toolset_id: Field required".into(),
            ));
        };
        let mut row = store
            .get_mcp_toolset(&id)
            .await
            .map_err(db)?
            .ok_or_else(|| not_found(&id))?;
        if let Some(name) = string(&m, "toolset_name")? {
            check_name(&name)?;
            if name_taken(store, &name, &id).await? {
                return Ok(conflict(&name));
            }
            row.toolset_name = name;
        }
        if let Some(d) = string(&m, "description")? {
            row.description = Some(d);
        }
        if let Some(t) = tools(&m)? {
            row.tools = t;
        }
        // Strictly later than the version served now, so every instance sees the change.
        row.updated_at = Some(now_ms().max(row.updated_at.unwrap_or(0) + 1));
        row.updated_by = Some(who(&auth));
        match store.update_mcp_toolset(&row).await {
            Err(e) if e.is_refusal() => return Ok(conflict(&row.toolset_name)),
            Ok(false) => return Err(not_found(&id)),
            r => {
                r.map_err(db)?;
            }
        }
        changed(&state).await?;
        Ok(Json(view(&row)).into_response())
    })
    .await
}

/// `DELETE /v1/mcp/toolset/{toolset_id}` (admins): 202 with no body. Grants naming it are
/// left as they are (they grant nothing now), as LiteLLM leaves them.
pub async fn delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(id): Path<String>,
) -> Response {
    run(async {
        only_admins(&auth, "delete")?;
        if !store(&state)?.delete_mcp_toolset(&id).await.map_err(db)? {
            return Err(not_found(&id));
        }
        changed(&state).await?;
        Ok(StatusCode::ACCEPTED.into_response())
    })
    .await
}
