//! `LiteLLM_MCPServerTable`: MCP servers registered through `/v1/mcp/server`, as LiteLLM
//! stores them (credentials as a JSON object whose secrets the gateway encrypts with the salt
//! key, headers, tool filters, access groups).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::{object_or_null, vec_or_null, Kind, Table};
use crate::{Store, StoreError};

pub const MCP_SERVERS: Table = Table {
    name: "LiteLLM_MCPServerTable",
    id: "server_id",
    columns: &[
        ("server_id", Kind::Text),
        ("server_name", Kind::Text),
        ("alias", Kind::Text),
        ("description", Kind::Text),
        ("url", Kind::Text),
        ("transport", Kind::Text),
        ("auth_type", Kind::Text),
        ("credentials", Kind::Json),
        ("created_at", Kind::Time),
        ("created_by", Kind::Text),
        ("updated_at", Kind::Time),
        ("updated_by", Kind::Text),
        ("mcp_info", Kind::Json),
        ("mcp_access_groups", Kind::Array),
        ("allowed_tools", Kind::Array),
        ("extra_headers", Kind::Array),
        ("static_headers", Kind::Json),
        ("command", Kind::Text),
        ("args", Kind::Array),
        ("env", Kind::Json),
        ("token_url", Kind::Text),
        ("allow_all_keys", Kind::Bool),
        ("approval_status", Kind::Text),
    ],
    mutable: &[
        "server_name",
        "alias",
        "description",
        "url",
        "transport",
        "auth_type",
        "credentials",
        "updated_at",
        "updated_by",
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
    ],
    order_by: "\"server_id\"",
};

/// One stored server; times are milliseconds since the epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct McpServerRow {
    pub server_id: String,
    #[serde(default)]
    pub server_name: Option<String>,
    #[serde(default)]
    pub alias: Option<String>,
    #[serde(default)]
    pub description: Option<String>,
    #[serde(default)]
    pub url: Option<String>,
    #[serde(default)]
    pub transport: String,
    #[serde(default)]
    pub auth_type: Option<String>,
    /// `auth_value`, `client_id`, `client_secret` (encrypted), `scopes`.
    #[serde(default, deserialize_with = "object_or_null")]
    pub credentials: Value,
    pub created_at: Option<i64>,
    #[serde(default)]
    pub created_by: Option<String>,
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub updated_by: Option<String>,
    #[serde(default, deserialize_with = "object_or_null")]
    pub mcp_info: Value,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub mcp_access_groups: Vec<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub allowed_tools: Vec<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub extra_headers: Vec<String>,
    #[serde(default, deserialize_with = "object_or_null")]
    pub static_headers: Value,
    #[serde(default)]
    pub command: Option<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub args: Vec<String>,
    #[serde(default, deserialize_with = "object_or_null")]
    pub env: Value,
    #[serde(default)]
    pub token_url: Option<String>,
    #[serde(default, deserialize_with = "bool_or_null")]
    pub allow_all_keys: bool,
    /// LiteLLM's submission lifecycle: only `active` (or unset) rows are served.
    #[serde(default)]
    pub approval_status: Option<String>,
}

fn bool_or_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(<Option<bool> as Deserialize>::deserialize(d)?.unwrap_or(false))
}

impl McpServerRow {
    /// The name its tools are prefixed with, as LiteLLM picks it: alias, else server_name,
    /// else the id.
    pub fn name(&self) -> &str {
        self.alias
            .as_deref()
            .filter(|s| !s.is_empty())
            .or(self.server_name.as_deref().filter(|s| !s.is_empty()))
            .unwrap_or(&self.server_id)
    }

    /// Whether the gateway serves it (not a pending or rejected submission).
    pub fn active(&self) -> bool {
        self.approval_status
            .as_deref()
            .is_none_or(|s| s.is_empty() || s == "active")
    }
}

impl Store {
    /// Every stored MCP server, by id.
    pub async fn list_mcp_servers(&self) -> Result<Vec<McpServerRow>, StoreError> {
        Ok(MCP_SERVERS.list(self, &[], 1, 100_000).await?.0)
    }

    pub async fn get_mcp_server(&self, id: &str) -> Result<Option<McpServerRow>, StoreError> {
        MCP_SERVERS.get(self, id).await
    }

    pub async fn insert_mcp_server(&self, row: &McpServerRow) -> Result<(), StoreError> {
        MCP_SERVERS.insert(self, row).await
    }

    pub async fn update_mcp_server(&self, row: &McpServerRow) -> Result<bool, StoreError> {
        MCP_SERVERS.update(self, &row.server_id, row).await
    }

    pub async fn delete_mcp_server(&self, id: &str) -> Result<bool, StoreError> {
        MCP_SERVERS.delete(self, id).await
    }
}
