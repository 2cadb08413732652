//! `LiteLLM_MCPToolsetTable`: named selections of `{server_id, tool_name}` pairs across MCP
//! servers (`/v1/mcp/toolset`), granted through `object_permission.mcp_toolsets`.

use serde::{Deserialize, Serialize};

use crate::codec::{Kind, Table};
use crate::{Store, StoreError};

pub const MCP_TOOLSETS: Table = Table {
    name: "LiteLLM_MCPToolsetTable",
    id: "toolset_id",
    columns: &[
        ("toolset_id", Kind::Text),
        ("toolset_name", Kind::Text),
        ("description", Kind::Text),
        ("tools", Kind::Json),
        ("created_at", Kind::Time),
        ("created_by", Kind::Text),
        ("updated_at", Kind::Time),
        ("updated_by", Kind::Text),
    ],
    mutable: &[
        "toolset_name",
        "description",
        "tools",
        "updated_at",
        "updated_by",
    ],
    order_by: "\"toolset_name\"",
};

/// One `{server_id, tool_name}` pair (LiteLLM's `MCPToolsetTool`).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ToolsetTool {
    pub server_id: String,
    pub tool_name: String,
}

/// One stored toolset; times are milliseconds since the epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct McpToolsetRow {
    pub toolset_id: String,
    pub toolset_name: String,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default, deserialize_with = "tools_or_empty")]
    pub tools: Vec<ToolsetTool>,
    pub created_at: Option<i64>,
    #[serde(default)]
    pub created_by: Option<String>,
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub updated_by: Option<String>,
}

/// The `tools` column: a JSON array, or (as LiteLLM's `json.dumps` may leave it) a string
/// holding one; anything else, or an entry without both fields, reads as nothing.
fn tools_or_empty<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<ToolsetTool>, D::Error> {
    let v = <Option<serde_json::Value> as Deserialize>::deserialize(d)?;
    let v = match v {
        Some(serde_json::Value::String(s)) => serde_json::from_str(&s).unwrap_or_default(),
        Some(v) => v,
        None => serde_json::Value::Null,
    };
    Ok(v.as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| serde_json::from_value(t.clone()).ok())
                .collect()
        })
        .unwrap_or_default())
}

impl Store {
    /// Every stored toolset, by name.
    pub async fn list_mcp_toolsets(&self) -> Result<Vec<McpToolsetRow>, StoreError> {
        Ok(MCP_TOOLSETS.list(self, &[], 1, 100_000).await?.0)
    }

    pub async fn get_mcp_toolset(&self, id: &str) -> Result<Option<McpToolsetRow>, StoreError> {
        MCP_TOOLSETS.get(self, id).await
    }

    pub async fn insert_mcp_toolset(&self, row: &McpToolsetRow) -> Result<(), StoreError> {
        MCP_TOOLSETS.insert(self, row).await
    }

    pub async fn update_mcp_toolset(&self, row: &McpToolsetRow) -> Result<bool, StoreError> {
        MCP_TOOLSETS.update(self, &row.toolset_id, row).await
    }

    pub async fn delete_mcp_toolset(&self, id: &str) -> Result<bool, StoreError> {
        MCP_TOOLSETS.delete(self, id).await
    }
}
