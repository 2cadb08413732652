//! The `object_permission` block of `/key/*` and `/team/*` bodies (LiteLLM's
//! `LiteLLM_ObjectPermissionBase`): stored in `LiteLLM_ObjectPermissionTable`, linked from the
//! owner's `object_permission_id`. The MCP gateway reads it (`mcp::access`).

use llmgate_store::object_permissions::ObjectPermissionRow;
use llmgate_store::Store;
use serde::Deserialize;
use serde_json::Value;

use super::admin::db;
use crate::error::GatewayError;

/// The block as a body sends it; a field left out keeps what the stored row has. Fields
/// LiteLLM has beyond these (its UI echoes `object_permission_id`, newer grants) are ignored.
#[derive(Deserialize, Default, Clone)]
pub struct ObjectPermission {
    mcp_servers: Option<Vec<String>>,
    mcp_access_groups: Option<Vec<String>>,
    mcp_tool_permissions: Option<serde_json::Map<String, Value>>,
    vector_stores: Option<Vec<String>>,
    agents: Option<Vec<String>>,
    agent_access_groups: Option<Vec<String>>,
}

/// Writes `block` over the owner's row `existing` (or a new row) and returns the row's id.
pub async fn save(
    store: &Store,
    existing: Option<&str>,
    block: ObjectPermission,
) -> Result<String, GatewayError> {
    let current = match existing {
        Some(id) => store.get_object_permission(id).await.map_err(db)?,
        None => None,
    };
    let found = current.is_some();
    let mut row = current.unwrap_or_else(|| ObjectPermissionRow {
        object_permission_id: uuid::Uuid::new_v4().to_string(),
        ..Default::default()
    });
    if let Some(v) = block.mcp_servers {
        row.mcp_servers = v;
    }
    if let Some(v) = block.mcp_access_groups {
        row.mcp_access_groups = v;
    }
    if let Some(v) = block.mcp_tool_permissions {
        row.mcp_tool_permissions = Value::Object(v);
    }
    if let Some(v) = block.vector_stores {
        row.vector_stores = v;
    }
    if let Some(v) = block.agents {
        row.agents = v;
    }
    if let Some(v) = block.agent_access_groups {
        row.agent_access_groups = v;
    }
    if found {
        store.update_object_permission(&row).await.map_err(db)?;
    } else {
        store.insert_object_permission(&row).await.map_err(db)?;
    }
    Ok(row.object_permission_id)
}

/// The stored block, as `/key/info` and `/team/info` show it (`object_permission`).
pub async fn load(store: &Store, id: Option<&str>) -> Result<Value, GatewayError> {
    let Some(id) = id else {
        return Ok(Value::Null);
    };
    let row = store.get_object_permission(id).await.map_err(db)?;
    Ok(row.map_or(Value::Null, |r| {
        serde_json::to_value(r).unwrap_or(Value::Null)
    }))
}
