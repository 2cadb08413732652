//! MCP servers kept in `LiteLLM_MCPServerTable` (`/v1/mcp/server`): a row as a
//! [`ServerSpec`] (its credentials decrypted with the salt key, checked as a config entry is),
//! and the gateway's stored servers — and toolsets (`LiteLLM_MCPToolsetTable`) — re-read at
//! start, after a change through this instance, at once when another instance publishes one
//! (Redis pub/sub or PostgreSQL NOTIFY, kind `mcp`), and on the stored models' timer in case a
//! message was lost.

use std::time::Duration;

use llmgate_store::mcp_servers::McpServerRow;
use llmgate_store::mcp_toolsets::McpToolsetRow;
use llmgate_store::Store;
use serde_json::{json, Map, Value};

use super::config::{self, ServerSpec};
use crate::error::GatewayError;
use crate::salt::SaltKey;
use crate::state::AppState;

/// The credential fields LiteLLM encrypts (`encrypt_credentials`).
pub const SECRET_FIELDS: &[&str] = &["auth_value", "client_id", "client_secret"];

/// `credentials` with its secrets encrypted (as LiteLLM stores them); without a salt key (no
/// master key either) they are kept as given.
pub fn encrypt_credentials(salt: Option<&SaltKey>, creds: &Map<String, Value>) -> Value {
    let mut out = creds.clone();
    if let Some(k) = salt {
        for f in SECRET_FIELDS {
            if let Some(Value::String(s)) = out.get(*f) {
                let sealed = k.encrypt(s);
                out.insert((*f).to_string(), Value::String(sealed));
            }
        }
    }
    Value::Object(out)
}

/// The stored credentials in plain text (a value the key cannot open is kept as it is, as
/// LiteLLM's `decrypt_value_helper(return_original_value=True)` does).
pub fn decrypt_credentials(salt: Option<&SaltKey>, creds: &Value) -> Map<String, Value> {
    let mut out = creds.as_object().cloned().unwrap_or_default();
    if let Some(k) = salt {
        for f in SECRET_FIELDS {
            if let Some(Value::String(s)) = out.get(*f) {
                if let Some(plain) = k.decrypt(s) {
                    out.insert((*f).to_string(), Value::String(plain));
                }
            }
        }
    }
    out
}

/// A row in the config's shape, then parsed as a config entry: a row that could not serve is
/// an error naming it.
pub fn spec(row: &McpServerRow, salt: Option<&SaltKey>) -> Result<ServerSpec, String> {
    let creds = decrypt_credentials(salt, &row.credentials);
    let mut e = Map::new();
    let transport = match row.transport.as_str() {
        "" => None,
        "streamable_http" | "streamable-http" => Some("http"),
        t => Some(t),
    };
    if let Some(t) = transport {
        e.insert("transport".into(), json!(t));
    }
    for (k, v) in [
        ("url", &row.url),
        ("command", &row.command),
        ("description", &row.description),
        ("auth_type", &row.auth_type),
        ("token_url", &row.token_url),
    ] {
        if let Some(v) = v.as_ref().filter(|v| !v.is_empty()) {
            e.insert(k.into(), json!(v));
        }
    }
    if row.command.is_some() && transport.is_none() {
        e.insert("transport".into(), json!("stdio"));
    }
    for k in ["auth_value", "client_id", "client_secret", "scopes"] {
        if let Some(v) = creds.get(k).filter(|v| !v.is_null()) {
            e.insert(k.into(), v.clone());
        }
    }
    e.insert("args".into(), json!(row.args));
    e.insert("env".into(), row.env.clone());
    e.insert("static_headers".into(), row.static_headers.clone());
    e.insert("extra_headers".into(), json!(row.extra_headers));
    if !row.allowed_tools.is_empty() {
        e.insert("allowed_tools".into(), json!(row.allowed_tools));
    }
    e.insert("access_groups".into(), json!(row.mcp_access_groups));
    e.insert("allow_all_keys".into(), json!(row.allow_all_keys));
    e.insert("mcp_info".into(), row.mcp_info.clone());
    let name = row.name();
    let mut s = config::parse_at(&format!("MCP server {name}"), name, &Value::Object(e))?;
    s.server_id = row.server_id.clone();
    s.stored = Some(row.updated_at.unwrap_or(0));
    Ok(s)
}

/// What identifies the tables' state (ids and update times of servers, then of toolsets).
pub type Signature = Vec<(String, Option<i64>)>;

fn signature(rows: &[McpServerRow], toolsets: &[McpToolsetRow]) -> Signature {
    rows.iter()
        .map(|r| (r.server_id.clone(), r.updated_at))
        .chain(
            toolsets
                .iter()
                .map(|t| (format!("toolset:{}", t.toolset_id), t.updated_at)),
        )
        .collect()
}

/// The active rows as servers; a row that cannot serve is skipped (and logged), never fatal.
fn serve(state: &AppState, rows: &[McpServerRow], toolsets: Vec<McpToolsetRow>) {
    let Some(gw) = &state.mcp else { return };
    let specs = rows
        .iter()
        .filter(|r| r.active())
        .filter_map(|r| match spec(r, state.salt.as_ref()) {
            Ok(s) => Some(s),
            Err(e) => {
                tracing::warn!(server_id = %r.server_id, error = %e, "skipping a stored MCP server");
                None
            }
        })
        .collect();
    gw.set_stored(specs);
    gw.set_toolsets(toolsets);
}

async fn read(store: &Store) -> Result<(Vec<McpServerRow>, Vec<McpToolsetRow>), GatewayError> {
    let rows = store
        .list_mcp_servers()
        .await
        .map_err(GatewayError::store)?;
    let toolsets = store
        .list_mcp_toolsets()
        .await
        .map_err(GatewayError::store)?;
    Ok((rows, toolsets))
}

/// Re-reads the tables and serves their servers after the config's, and their toolsets;
/// returns what it read.
pub async fn reload(state: &AppState) -> Result<Signature, GatewayError> {
    let (Some(store), Some(_)) = (&state.gov.store, &state.mcp) else {
        return Ok(Signature::new());
    };
    let (rows, toolsets) = read(store).await?;
    let sig = signature(&rows, &toolsets);
    serve(state, &rows, toolsets);
    Ok(sig)
}

/// After a `/v1/mcp/server` or `/v1/mcp/toolset` change: this instance reloads and tells the
/// fleet to.
pub async fn changed(state: &AppState) -> Result<(), GatewayError> {
    reload(state).await?;
    state.gov.keys.fleet.publish("mcp", "*");
    Ok(())
}

/// Keeps this instance's stored servers in step with the table: at once on another
/// instance's message, else on the stored models' interval (`LLMGATE_MODEL_REFRESH_SECONDS`).
pub fn spawn_refresh(state: AppState, mut last: Option<Signature>) {
    let (Some(store), Some(_)) = (state.gov.store.clone(), &state.mcp) else {
        return;
    };
    let every = std::env::var("LLMGATE_MODEL_REFRESH_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(10));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tokio::select! {
                _ = tick.tick() => {}
                _ = state.gov.keys.fleet.mcp_changed.notified() => {}
            }
            match read(&store).await {
                Ok((rows, toolsets)) => {
                    let sig = signature(&rows, &toolsets);
                    if last.as_ref() != Some(&sig) {
                        serve(&state, &rows, toolsets);
                        last = Some(sig);
                    }
                }
                Err(e) => tracing::warn!(error = ?e, "could not re-read the stored MCP servers"),
            }
        }
    });
}
