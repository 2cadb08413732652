//! The MCP server registry's admin API, as LiteLLM's `mcp_management_endpoints`: `GET|POST|PUT
//! /v1/mcp/server`, `GET|DELETE /v1/mcp/server/{server_id}`, `GET /v1/mcp/tools`, `GET
//! /v1/mcp/access_groups`. Servers are kept in `LiteLLM_MCPServerTable` (credentials encrypted
//! with the salt key as LiteLLM encrypts them), checked as config entries, and served at once
//! here and on every instance (the fleet's `mcp` message). Writing takes a proxy admin;
//! reading takes a key, which sees only the servers it may use, without their URLs or headers.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use llmgate_store::mcp_servers::McpServerRow;
use llmgate_store::now_ms;
use serde_json::{json, Map, Value};

use super::admin::{admin_store, db, run};
use super::proxy::parse_body;
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::mcp::config::Transport;
use crate::mcp::upstream::Upstream;
use crate::state::AppState;

/// The `NewMCPServerRequest` fields llmgate stores and serves.
const FIELDS: &[&str] = &[
    "server_id",
    "server_name",
    "alias",
    "description",
    "url",
    "transport",
    "auth_type",
    "credentials",
    "mcp_info",
    "mcp_access_groups",
    "allowed_tools",
    "extra_headers",
    "static_headers",
    "command",
    "args",
    "env",
    "token_url",
    "allow_all_keys",
];

/// LiteLLM's reserved ids (`SpecialMCPServerName`).
const RESERVED: &[&str] = &["all-team-mcpservers", "all-proxy-mcpservers"];

/// A value a client sends for a field it does not use (the UI sends every field).
fn is_default(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        Value::Number(_) | Value::Bool(true) => false,
    }
}

/// The body's fields; a field llmgate does not implement, given a value, is a 400.
fn body_fields(body: &Bytes) -> Result<Map<String, Value>, GatewayError> {
    let mut m: Map<String, Value> = parse_body(body)?;
    for (k, v) in &m {
        if FIELDS.contains(&k.as_str())
            || is_default(v)
            || matches!(
                k.as_str(),
                "created_at" | "updated_at" | "created_by" | "updated_by" | "teams" | "status"
            )
        {
            continue;
        }
        return Err(GatewayError::BadRequest(format!(
            "{k} is not supported for MCP servers by llmgate"
        )));
    }
    m.retain(|k, _| FIELDS.contains(&k.as_str()));
    Ok(m)
}

fn text(m: &Map<String, Value>, k: &str) -> Result<Option<Option<String>>, GatewayError> {
    match m.get(k) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(None)),
        Some(Value::String(s)) => Ok(Some(Some(s.clone()))),
        Some(_) => Err(GatewayError::BadRequest(format!("{k} must be a string"))),
    }
}

fn strings(m: &Map<String, Value>, k: &str) -> Result<Option<Vec<String>>, GatewayError> {
    match m.get(k) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(Vec::new())),
        Some(v) => serde_json::from_value(v.clone())
            .map(Some)
            .map_err(|_| GatewayError::BadRequest(format!("{k} must be a list of strings"))),
    }
}

fn object(m: &Map<String, Value>, k: &str) -> Result<Option<Map<String, Value>>, GatewayError> {
    match m.get(k) {
        None => Ok(None),
        Some(Value::Null) => Ok(Some(Map::new())),
        Some(Value::Object(o)) => Ok(Some(o.clone())),
        Some(_) => Err(GatewayError::BadRequest(format!("{k} must be an object"))),
    }
}

/// Writes the body over `row` (a create starts from an empty row), credentials encrypted and
/// merged as LiteLLM's `update_mcp_server` merges them; then checks that the row can serve.
fn apply(
    state: &AppState,
    row: &mut McpServerRow,
    body: &Map<String, Value>,
) -> Result<(), GatewayError> {
    for (k, dst) in [
        ("server_name", &mut row.server_name),
        ("alias", &mut row.alias),
        ("description", &mut row.description),
        ("url", &mut row.url),
        ("command", &mut row.command),
        ("token_url", &mut row.token_url),
    ] {
        if let Some(v) = text(body, k)? {
            *dst = v;
        }
    }
    if let Some(t) = text(body, "transport")? {
        row.transport = t.unwrap_or_default();
    }
    let old_auth = row.auth_type.clone();
    if let Some(a) = text(body, "auth_type")? {
        row.auth_type = a;
    }
    let auth_changed =
        old_auth.is_some() && body.contains_key("auth_type") && old_auth != row.auth_type;
    match object(body, "credentials")? {
        Some(new) => {
            let sealed = crate::mcp::stored::encrypt_credentials(state.salt.as_ref(), &new);
            let mut merged = if auth_changed {
                Map::new()
            } else {
                row.credentials.as_object().cloned().unwrap_or_default()
            };
            if let Value::Object(o) = sealed {
                merged.extend(o);
            }
            row.credentials = Value::Object(merged);
        }
        // A new auth type without its credentials: the old ones are stale.
        None if auth_changed => row.credentials = json!({}),
        None => {}
    }
    for (k, dst) in [
        ("mcp_access_groups", &mut row.mcp_access_groups),
        ("allowed_tools", &mut row.allowed_tools),
        ("extra_headers", &mut row.extra_headers),
        ("args", &mut row.args),
    ] {
        if let Some(v) = strings(body, k)? {
            *dst = v;
        }
    }
    for (k, dst) in [
        ("mcp_info", &mut row.mcp_info),
        ("static_headers", &mut row.static_headers),
        ("env", &mut row.env),
    ] {
        if let Some(v) = object(body, k)? {
            *dst = Value::Object(v);
        }
    }
    match body.get("allow_all_keys") {
        None | Some(Value::Null) => {}
        Some(Value::Bool(b)) => row.allow_all_keys = *b,
        Some(_) => {
            return Err(GatewayError::BadRequest(
                "allow_all_keys must be true or false".into(),
            ))
        }
    }
    if row.transport.is_empty() {
        // LiteLLM's default (`MCPTransport.sse`), stdio when a command is given.
        row.transport = if row.command.is_some() {
            "stdio"
        } else {
            "sse"
        }
        .into();
    }
    if row.server_name.as_deref().is_none_or(str::is_empty)
        && row.alias.as_deref().is_none_or(str::is_empty)
    {
        return Err(GatewayError::BadRequest(
            "server_name (or alias) is required: it prefixes the server's tools".into(),
        ));
    }
    crate::mcp::stored::spec(row, state.salt.as_ref()).map_err(GatewayError::BadRequest)?;
    Ok(())
}

fn gateway(state: &AppState) -> Result<&std::sync::Arc<crate::mcp::McpGateway>, GatewayError> {
    state.mcp.as_ref().ok_or(GatewayError::NoDb)
}

/// A name another server (config or stored) already has is a 400: tools are routed by it.
fn name_taken(state: &AppState, row: &McpServerRow) -> Result<(), GatewayError> {
    let name = row.name();
    let taken = gateway(state)?
        .servers()
        .iter()
        .any(|u| u.name() == name && u.spec.server_id != row.server_id);
    if taken {
        return Err(GatewayError::BadRequest(format!(
            "MCP Server with name {name} already exists. Cannot create another."
        )));
    }
    Ok(())
}

fn iso(t: Option<i64>) -> Value {
    json!(t.map(llmgate_store::time::iso))
}

/// A stored row as LiteLLM's `LiteLLM_MCPServerTable` answer, credentials left out.
fn row_view(row: &McpServerRow) -> Value {
    json!({
        "server_id": row.server_id,
        "server_name": row.server_name,
        "alias": row.alias,
        "description": row.description,
        "url": row.url,
        "transport": row.transport,
        "auth_type": row.auth_type,
        "credentials": null,
        "created_at": iso(row.created_at),
        "created_by": row.created_by,
        "updated_at": iso(row.updated_at),
        "updated_by": row.updated_by,
        "teams": [],
        "mcp_access_groups": row.mcp_access_groups,
        "allowed_tools": row.allowed_tools,
        "extra_headers": row.extra_headers,
        "mcp_info": row.mcp_info,
        "static_headers": row.static_headers,
        "command": row.command,
        "args": row.args,
        "env": row.env,
        "token_url": row.token_url,
        "allow_all_keys": row.allow_all_keys,
        "approval_status": row.approval_status.clone().unwrap_or_else(|| "active".into()),
        "status": "unknown",
        "last_health_check": null,
        "health_check_error": null,
    })
}

/// A config server in the same shape (its credentials and headers left out).
fn config_view(u: &Upstream) -> Value {
    let s = &u.spec;
    let (transport, url, command, args) = match &s.transport {
        Transport::Http { url } => ("http", Some(url.clone()), None, Vec::new()),
        Transport::Sse { url } => ("sse", Some(url.clone()), None, Vec::new()),
        Transport::Stdio { command, args, .. } => {
            ("stdio", None, Some(command.clone()), args.clone())
        }
    };
    json!({
        "server_id": s.server_id,
        "server_name": s.name,
        "alias": s.name,
        "description": s.description,
        "url": url,
        "transport": transport,
        "auth_type": null,
        "credentials": null,
        "created_at": null,
        "created_by": null,
        "updated_at": null,
        "updated_by": null,
        "teams": [],
        "mcp_access_groups": s.access_groups,
        "allowed_tools": s.allowed_tools.clone().unwrap_or_default(),
        "extra_headers": s.extra_headers,
        "mcp_info": s.mcp_info,
        "static_headers": {},
        "command": command,
        "args": args,
        "env": {},
        "allow_all_keys": s.allow_all_keys,
        "approval_status": "active",
        "status": "unknown",
        "last_health_check": null,
        "health_check_error": null,
    })
}

/// What a caller who is not an admin may see of a server (LiteLLM's
/// `_sanitize_mcp_server_for_non_admin`): no URL, headers, command or environment.
fn sanitized(mut v: Value) -> Value {
    for (k, empty) in [
        ("url", Value::Null),
        ("static_headers", Value::Null),
        ("extra_headers", json!([])),
        ("env", json!({})),
        ("command", Value::Null),
        ("args", json!([])),
        ("token_url", Value::Null),
    ] {
        v[k] = empty;
    }
    v
}

/// Every server (the stored rows as stored, the config's as configured), by the gateway's order.
async fn views(state: &AppState) -> Result<Vec<(Value, String)>, GatewayError> {
    let Some(gw) = &state.mcp else {
        return Ok(Vec::new());
    };
    let rows = match &state.gov.store {
        Some(s) => s.list_mcp_servers().await.map_err(db)?,
        None => Vec::new(),
    };
    let mut out: Vec<(Value, String)> = gw
        .servers()
        .iter()
        .filter(|u| u.spec.stored.is_none())
        .map(|u| (config_view(u), u.name().to_string()))
        .collect();
    out.extend(rows.iter().map(|r| (row_view(r), r.name().to_string())));
    Ok(out)
}

/// `GET /v1/mcp/server`: every server for an admin; the servers a key may use, sanitized.
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
) -> Response {
    run(async {
        let all = views(&state).await?;
        if auth.is_admin() {
            let v: Vec<Value> = all.into_iter().map(|(v, _)| v).collect();
            return Ok(Json(v).into_response());
        }
        let Some(gw) = &state.mcp else {
            return Ok(Json(json!([])).into_response());
        };
        let scope = gw.scope(&state, &auth, None, &headers).await?;
        let v: Vec<Value> = all
            .into_iter()
            .filter(|(_, name)| scope.allowed.server(name))
            .map(|(v, _)| sanitized(v))
            .collect();
        Ok(Json(v).into_response())
    })
    .await
}

/// `GET /v1/mcp/server/{server_id}`: one server (stored, else from the config, by id or
/// name), with a health check (`status`: healthy or unhealthy, LiteLLM's fields).
pub async fn get_one(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    run(async {
        let stored = match &state.gov.store {
            Some(s) => s.get_mcp_server(&id).await.map_err(db)?,
            None => None,
        };
        let gw = state.mcp.as_ref();
        let up = match &stored {
            Some(r) => gw.and_then(|g| g.find(&r.server_id)),
            None => gw.and_then(|g| g.find(&id)).filter(|u| u.spec.stored.is_none()),
        };
        let (mut v, name) = match (&stored, &up) {
            (Some(r), _) => (row_view(r), r.name().to_string()),
            (None, Some(u)) => (config_view(u), u.name().to_string()),
            (None, None) => {
                return Err(GatewayError::NotFound(format!(
                    "MCP Server with id {id} not found"
                )))
            }
        };
        if !auth.is_admin() {
            let allowed = match gw {
                Some(g) => g.scope(&state, &auth, None, &headers).await?.allowed.server(&name),
                None => false,
            };
            if !allowed {
                return Err(GatewayError::Forbidden {
                    message: format!("User does not have permission to view mcp server with id {id}. You can only view mcp servers that you have access to."),
                    kind: "mcp_server_access_denied",
                });
            }
        }
        if let Some(u) = &up {
            let r = u.list_tools(&Vec::new()).await;
            v["status"] = json!(if r.is_ok() { "healthy" } else { "unhealthy" });
            v["last_health_check"] = iso(Some(now_ms()));
            v["health_check_error"] = json!(r.err().map(|e| e.0));
        }
        Ok(Json(if auth.is_admin() { v } else { sanitized(v) }).into_response())
    })
    .await
}

fn who(auth: &AuthContext) -> String {
    auth.user_id().unwrap_or("default_user_id").to_string()
}

/// `POST /v1/mcp/server` (admins): stores a server and serves it at once; 201.
pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "POST /v1/mcp/server")?;
        let body = body_fields(&body)?;
        let id = match text(&body, "server_id")?.flatten() {
            Some(id) if RESERVED.contains(&id.as_str()) => {
                return Err(GatewayError::BadRequest(format!(
                    "MCP Server with id {id} is special and cannot be used."
                )))
            }
            Some(id) if id.is_empty() => uuid::Uuid::new_v4().to_string(),
            Some(id) => {
                if store.get_mcp_server(&id).await.map_err(db)?.is_some() {
                    return Err(GatewayError::BadRequest(format!(
                        "MCP Server with id {id} already exists. Cannot create another."
                    )));
                }
                id
            }
            None => uuid::Uuid::new_v4().to_string(),
        };
        let now = now_ms();
        let mut row = McpServerRow {
            server_id: id,
            created_at: Some(now),
            updated_at: Some(now),
            created_by: Some(who(&auth)),
            updated_by: Some(who(&auth)),
            credentials: json!({}),
            mcp_info: json!({}),
            static_headers: json!({}),
            env: json!({}),
            approval_status: Some("active".into()),
            ..McpServerRow::default()
        };
        apply(&state, &mut row, &body)?;
        name_taken(&state, &row)?;
        store.insert_mcp_server(&row).await.map_err(db)?;
        crate::mcp::stored::changed(&state).await?;
        Ok((StatusCode::CREATED, Json(row_view(&row))).into_response())
    })
    .await
}

/// `PUT /v1/mcp/server` (admins): the fields given replace the stored ones; 202.
pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "PUT /v1/mcp/server")?;
        let body = body_fields(&body)?;
        let Some(id) = text(&body, "server_id")?.flatten() else {
            return Err(GatewayError::BadRequest("server_id is required".into()));
        };
        let mut row = store
            .get_mcp_server(&id)
            .await
            .map_err(db)?
            .ok_or_else(|| {
                GatewayError::NotFound(format!("MCP Server not found, passed server_id={id}"))
            })?;
        apply(&state, &mut row, &body)?;
        name_taken(&state, &row)?;
        // Strictly later than the version served now, so every instance sees the change.
        row.updated_at = Some(now_ms().max(row.updated_at.unwrap_or(0) + 1));
        row.updated_by = Some(who(&auth));
        store.update_mcp_server(&row).await.map_err(db)?;
        crate::mcp::stored::changed(&state).await?;
        Ok((StatusCode::ACCEPTED, Json(row_view(&row))).into_response())
    })
    .await
}

/// `DELETE /v1/mcp/server/{server_id}` (admins): 202 with no body.
pub async fn delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(id): Path<String>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "DELETE /v1/mcp/server")?;
        if !store.delete_mcp_server(&id).await.map_err(db)? {
            return Err(GatewayError::NotFound(format!(
                "MCP Server not found, passed server_id={id}"
            )));
        }
        crate::mcp::stored::changed(&state).await?;
        Ok(StatusCode::ACCEPTED.into_response())
    })
    .await
}

/// `GET /v1/mcp/tools`: every tool the key may use, `<server>-<tool>` as on `/mcp`.
pub async fn tools(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
) -> Response {
    run(async {
        let Some(gw) = &state.mcp else {
            return Ok(Json(json!({"tools": []})).into_response());
        };
        let scope = gw.scope(&state, &auth, None, &headers).await?;
        let (tools, _) = gw.list_tools(&scope, &headers, true).await;
        let v: Vec<Value> = tools
            .into_iter()
            .map(|(u, t)| {
                let mut t = serde_json::to_value(t).unwrap_or_default();
                t["mcp_info"] = Value::Object(u.spec.mcp_info.clone());
                t
            })
            .collect();
        Ok(Json(json!({"tools": v})).into_response())
    })
    .await
}

/// `GET /v1/mcp/access_groups`: every access group of the config's and the stored servers.
pub async fn access_groups(State(state): State<AppState>) -> Response {
    let mut groups: Vec<String> = state
        .mcp
        .as_ref()
        .map(|g| {
            g.servers()
                .iter()
                .flat_map(|u| u.spec.access_groups.clone())
                .collect()
        })
        .unwrap_or_default();
    groups.sort();
    groups.dedup();
    Json(json!({"access_groups": groups})).into_response()
}
