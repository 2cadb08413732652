//! `LiteLLM_ObjectPermissionTable`: which agents, MCP servers (and toolsets) and vector stores a key or team
//! may use (empty lists: no restriction), one row per owner, linked by its
//! `object_permission_id` column as LiteLLM links it.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::{vec_or_null, Kind, Table};
use crate::{Store, StoreError};

pub const OBJECT_PERMISSIONS: Table = Table {
    name: "LiteLLM_ObjectPermissionTable",
    id: "object_permission_id",
    columns: &[
        ("object_permission_id", Kind::Text),
        ("mcp_servers", Kind::Array),
        ("mcp_access_groups", Kind::Array),
        ("mcp_tool_permissions", Kind::Json),
        ("vector_stores", Kind::Array),
        ("agents", Kind::Array),
        ("agent_access_groups", Kind::Array),
        ("blocked_tools", Kind::Array),
        ("mcp_toolsets", Kind::Array),
    ],
    mutable: &[
        "mcp_servers",
        "mcp_access_groups",
        "mcp_tool_permissions",
        "vector_stores",
        "agents",
        "agent_access_groups",
        "blocked_tools",
        "mcp_toolsets",
    ],
    order_by: "",
};

/// One row, as LiteLLM's `LiteLLM_ObjectPermissionTable` model has it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectPermissionRow {
    pub object_permission_id: String,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub mcp_servers: Vec<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub mcp_access_groups: Vec<String>,
    /// `{server: [tool, ...]}`; null when unset.
    #[serde(default)]
    pub mcp_tool_permissions: Value,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub vector_stores: Vec<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub agents: Vec<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub agent_access_groups: Vec<String>,
    /// Tool names (bare or `<server>-<tool>`) this grant's holder may never call.
    #[serde(default, deserialize_with = "vec_or_null")]
    pub blocked_tools: Vec<String>,
    /// Ids of `LiteLLM_MCPToolsetTable` rows this grant's holder may use.
    #[serde(default, deserialize_with = "vec_or_null")]
    pub mcp_toolsets: Vec<String>,
}

impl Store {
    pub async fn get_object_permission(
        &self,
        id: &str,
    ) -> Result<Option<ObjectPermissionRow>, StoreError> {
        OBJECT_PERMISSIONS.get(self, id).await
    }

    /// Inserts the row, or replaces its lists when the id exists.
    pub async fn put_object_permission(&self, row: &ObjectPermissionRow) -> Result<(), StoreError> {
        if OBJECT_PERMISSIONS
            .update(self, &row.object_permission_id, row)
            .await?
        {
            return Ok(());
        }
        OBJECT_PERMISSIONS.insert(self, row).await
    }

    pub async fn delete_object_permission(&self, id: &str) -> Result<bool, StoreError> {
        OBJECT_PERMISSIONS.delete(self, id).await
    }
}
