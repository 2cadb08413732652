//! `LiteLLM_AgentsTable`: A2A agents registered through `POST /v1/agents`, as LiteLLM stores
//! them (the card and `litellm_params` as JSON, the agent's own headers).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::{object_or_null, vec_or_null, Kind, Table};
use crate::{Store, StoreError};

pub const AGENTS: Table = Table {
    name: "LiteLLM_AgentsTable",
    id: "agent_id",
    columns: &[
        ("agent_id", Kind::Text),
        ("agent_name", Kind::Text),
        ("litellm_params", Kind::Json),
        ("agent_card_params", Kind::Json),
        ("static_headers", Kind::Json),
        ("extra_headers", Kind::Array),
        ("agent_access_groups", Kind::Array),
        ("object_permission_id", Kind::Text),
        ("spend", Kind::Float),
        ("created_at", Kind::Time),
        ("created_by", Kind::Text),
        ("updated_at", Kind::Time),
        ("updated_by", Kind::Text),
    ],
    mutable: &[
        "agent_name",
        "litellm_params",
        "agent_card_params",
        "static_headers",
        "extra_headers",
        "agent_access_groups",
        "object_permission_id",
        "updated_at",
        "updated_by",
    ],
    order_by: "\"agent_name\"",
};

/// One stored agent; times are milliseconds since the epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AgentRow {
    pub agent_id: String,
    pub agent_name: String,
    #[serde(default, deserialize_with = "object_or_null")]
    pub litellm_params: Value,
    #[serde(default, deserialize_with = "object_or_null")]
    pub agent_card_params: Value,
    #[serde(default, deserialize_with = "object_or_null")]
    pub static_headers: Value,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub extra_headers: Vec<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub agent_access_groups: Vec<String>,
    #[serde(default)]
    pub object_permission_id: Option<String>,
    #[serde(default)]
    pub spend: f64,
    pub created_at: Option<i64>,
    #[serde(default)]
    pub created_by: String,
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub updated_by: String,
}

impl Store {
    /// Every stored agent, by name.
    pub async fn list_agents(&self) -> Result<Vec<AgentRow>, StoreError> {
        Ok(AGENTS.list(self, &[], 1, 100_000).await?.0)
    }

    pub async fn get_agent(&self, id: &str) -> Result<Option<AgentRow>, StoreError> {
        AGENTS.get(self, id).await
    }

    pub async fn insert_agent(&self, row: &AgentRow) -> Result<(), StoreError> {
        AGENTS.insert(self, row).await
    }

    pub async fn update_agent(&self, row: &AgentRow) -> Result<bool, StoreError> {
        AGENTS.update(self, &row.agent_id, row).await
    }

    pub async fn delete_agent(&self, id: &str) -> Result<bool, StoreError> {
        AGENTS.delete(self, id).await
    }
}
