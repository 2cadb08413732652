//! `LiteLLM_ObjectPermissionTable`: what a key, team or organization may reach besides models
//! (MCP servers and their access groups, per-server tool lists, vector stores, agents), one row
//! linked from the owner's `object_permission_id`, as LiteLLM stores it.

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
    ],
    mutable: &[
        "mcp_servers",
        "mcp_access_groups",
        "mcp_tool_permissions",
        "vector_stores",
        "agents",
        "agent_access_groups",
    ],
    order_by: "",
};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ObjectPermissionRow {
    pub object_permission_id: String,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub mcp_servers: Vec<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub mcp_access_groups: Vec<String>,
    /// `{"<server>": ["tool", ...]}`: the tools of a server the owner may call (absent: all).
    #[serde(default)]
    pub mcp_tool_permissions: Value,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub vector_stores: Vec<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub agents: Vec<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub agent_access_groups: Vec<String>,
}

impl Store {
    pub async fn insert_object_permission(
        &self,
        row: &ObjectPermissionRow,
    ) -> Result<(), StoreError> {
        OBJECT_PERMISSIONS.insert(self, row).await
    }

    pub async fn get_object_permission(
        &self,
        id: &str,
    ) -> Result<Option<ObjectPermissionRow>, StoreError> {
        OBJECT_PERMISSIONS.get(self, id).await
    }

    pub async fn update_object_permission(
        &self,
        row: &ObjectPermissionRow,
    ) -> Result<bool, StoreError> {
        OBJECT_PERMISSIONS
            .update(self, &row.object_permission_id, row)
            .await
    }
}
