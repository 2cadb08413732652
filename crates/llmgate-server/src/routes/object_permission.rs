//! `object_permission` on `/key/*` and `/team/*`: the agents (and MCP servers and toolsets,
//! vector stores) an owner may use, stored in `LiteLLM_ObjectPermissionTable` and linked by
//! the owner's `object_permission_id`, as LiteLLM stores it.

use llmgate_store::object_permissions::ObjectPermissionRow;
use llmgate_store::Store;
use serde_json::{Map, Value};

use super::admin::db;
use crate::error::GatewayError;

/// Writes `given` into the owner's row (`current`, else a new one) and returns its id. A
/// field given replaces the stored one; fields not given keep their value.
pub async fn save(
    store: &Store,
    current: Option<&str>,
    given: &Map<String, Value>,
) -> Result<String, GatewayError> {
    let mut row = match current {
        Some(id) => store.get_object_permission(id).await.map_err(db)?,
        None => None,
    }
    .unwrap_or_else(|| ObjectPermissionRow {
        object_permission_id: uuid::Uuid::new_v4().to_string(),
        ..ObjectPermissionRow::default()
    });
    for (k, v) in given {
        let list = match k.as_str() {
            "mcp_servers" => &mut row.mcp_servers,
            "mcp_access_groups" => &mut row.mcp_access_groups,
            "vector_stores" => &mut row.vector_stores,
            "agents" => &mut row.agents,
            "agent_access_groups" => &mut row.agent_access_groups,
            "blocked_tools" => &mut row.blocked_tools,
            "mcp_toolsets" => &mut row.mcp_toolsets,
            "mcp_tool_permissions" => {
                if !(v.is_object() || v.is_null()) {
                    return Err(bad(k, "an object of server → tool names"));
                }
                row.mcp_tool_permissions = v.clone();
                continue;
            }
            // The row's own id, as LiteLLM's UI echoes it back: the owner's link decides.
            "object_permission_id" => continue,
            // LiteLLM's other permission lists: nothing in llmgate reads them, so a value that
            // asks for something is refused rather than stored without effect.
            _ if v.is_null() || v.as_array().is_some_and(|a| a.is_empty()) => continue,
            _ => {
                return Err(GatewayError::BadRequest(format!(
                    "object_permission.{k} is not supported by llmgate"
                )))
            }
        };
        *list = match v {
            Value::Null => Vec::new(),
            Value::Array(items) => items
                .iter()
                .map(|i| i.as_str().map(str::to_string))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad(k, "a list of strings"))?,
            _ => return Err(bad(k, "a list of strings")),
        };
    }
    store.put_object_permission(&row).await.map_err(db)?;
    Ok(row.object_permission_id)
}

fn bad(field: &str, want: &str) -> GatewayError {
    GatewayError::BadRequest(format!("object_permission.{field} must be {want}"))
}

/// Adds the owner's row as `object_permission` to its info (`/key/info`, `/team/info`), as
/// LiteLLM answers them; nothing when it has none.
pub async fn attach(store: &Store, id: Option<&str>, info: &mut Value) -> Result<(), GatewayError> {
    let Some(id) = id else { return Ok(()) };
    if let Some(row) = store.get_object_permission(id).await.map_err(db)? {
        info["object_permission"] = serde_json::to_value(row).unwrap_or(Value::Null);
    }
    Ok(())
}
