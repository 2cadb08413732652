//! `LiteLLM_VerificationToken`: virtual keys, stored (as LiteLLM does) only as the SHA-256 hex
//! digest of the secret.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::{object_or_null, vec_or_null, Columns, Kind, Table};
use crate::{Store, StoreError};

pub const TABLE: &str = "LiteLLM_VerificationToken";

pub const COLUMNS: Columns = &[
    ("token", Kind::Text),
    ("key_name", Kind::Text),
    ("key_alias", Kind::Text),
    ("spend", Kind::Float),
    ("expires", Kind::Time),
    ("models", Kind::Array),
    ("aliases", Kind::Json),
    ("config", Kind::Json),
    ("user_id", Kind::Text),
    ("team_id", Kind::Text),
    ("permissions", Kind::Json),
    ("max_parallel_requests", Kind::Int),
    ("metadata", Kind::Json),
    ("blocked", Kind::Bool),
    ("tpm_limit", Kind::Int),
    ("rpm_limit", Kind::Int),
    ("max_budget", Kind::Float),
    ("budget_duration", Kind::Text),
    ("budget_reset_at", Kind::Time),
    ("allowed_routes", Kind::Array),
    ("model_max_budget", Kind::Json),
    ("organization_id", Kind::Text),
    ("budget_id", Kind::Text),
    ("created_at", Kind::Time),
    ("created_by", Kind::Text),
    ("updated_at", Kind::Time),
    ("updated_by", Kind::Text),
    ("allowed_cache_controls", Kind::Array),
    ("key_type", Kind::Text),
    ("policies", Kind::Array),
    ("access_group_ids", Kind::Array),
    ("router_settings", Kind::Json),
    ("auto_rotate", Kind::Bool),
    ("rotation_interval", Kind::Text),
    ("object_permission_id", Kind::Text),
];

/// Columns `/key/update` may change (not the hash, the spend or the creation fields).
const MUTABLE: &[&str] = &[
    "key_alias",
    "expires",
    "models",
    "aliases",
    "config",
    "user_id",
    "team_id",
    "permissions",
    "max_parallel_requests",
    "metadata",
    "blocked",
    "tpm_limit",
    "rpm_limit",
    "max_budget",
    "budget_duration",
    "budget_reset_at",
    "allowed_routes",
    "model_max_budget",
    "organization_id",
    "budget_id",
    "updated_at",
    "updated_by",
    "allowed_cache_controls",
    "key_type",
    "policies",
    "access_group_ids",
    "router_settings",
    "auto_rotate",
    "rotation_interval",
    "object_permission_id",
];

/// One key row; times are milliseconds since the epoch.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct KeyRow {
    pub token: String,
    pub key_name: Option<String>,
    pub key_alias: Option<String>,
    #[serde(default)]
    pub spend: f64,
    pub expires: Option<i64>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub models: Vec<String>,
    #[serde(default, deserialize_with = "object_or_null")]
    pub aliases: Value,
    #[serde(default, deserialize_with = "object_or_null")]
    pub config: Value,
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    #[serde(default, deserialize_with = "object_or_null")]
    pub permissions: Value,
    pub max_parallel_requests: Option<i64>,
    #[serde(default, deserialize_with = "object_or_null")]
    pub metadata: Value,
    pub blocked: Option<bool>,
    pub tpm_limit: Option<i64>,
    pub rpm_limit: Option<i64>,
    pub max_budget: Option<f64>,
    pub budget_duration: Option<String>,
    pub budget_reset_at: Option<i64>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub allowed_routes: Vec<String>,
    #[serde(default, deserialize_with = "object_or_null")]
    pub model_max_budget: Value,
    pub organization_id: Option<String>,
    /// The `LiteLLM_BudgetTable` row holding the key's `soft_budget`, as LiteLLM links it.
    pub budget_id: Option<String>,
    pub created_at: Option<i64>,
    pub created_by: Option<String>,
    pub updated_at: Option<i64>,
    pub updated_by: Option<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub allowed_cache_controls: Vec<String>,
    /// `llm_api`, `management`, `read_only` or `default`, as LiteLLM records it.
    pub key_type: Option<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub policies: Vec<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub access_group_ids: Vec<String>,
    #[serde(default, deserialize_with = "object_or_null")]
    pub router_settings: Value,
    pub auto_rotate: Option<bool>,
    pub rotation_interval: Option<String>,
    /// The `LiteLLM_ObjectPermissionTable` row of the agents (and MCP servers) it may use.
    #[serde(default)]
    pub object_permission_id: Option<String>,
}

/// Filters of `/key/list`.
#[derive(Clone, Debug, Default)]
pub struct KeyFilter {
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub organization_id: Option<String>,
    pub key_alias: Option<String>,
    /// The key's hash.
    pub token: Option<String>,
    /// A column to order by (`created_at`, `spend`, `key_alias`, ...), and the direction.
    pub sort_by: Option<String>,
    pub descending: bool,
}

/// The table as rows of [`KeyRow`], keyed by the hash; lists newest first.
pub const KEYS: Table = Table {
    name: TABLE,
    id: "token",
    columns: COLUMNS,
    mutable: MUTABLE,
    order_by: "\"created_at\" DESC, \"token\"",
};

impl Store {
    pub async fn insert_key(&self, k: &KeyRow) -> Result<(), StoreError> {
        KEYS.insert(self, k).await
    }

    /// The key with this hash (`token` column).
    pub async fn get_key(&self, token: &str) -> Result<Option<KeyRow>, StoreError> {
        KEYS.get(self, token).await
    }

    /// Writes the mutable fields of `k`.
    pub async fn update_key(&self, k: &KeyRow) -> Result<bool, StoreError> {
        KEYS.update(self, &k.token, k).await
    }

    pub async fn delete_key(&self, token: &str) -> Result<bool, StoreError> {
        KEYS.delete(self, token).await
    }

    /// A page of keys (1-based) and the total count, newest first.
    pub async fn list_keys(
        &self,
        f: &KeyFilter,
        page: u64,
        size: u64,
    ) -> Result<(Vec<KeyRow>, u64), StoreError> {
        let filters: Vec<(&str, String)> = [
            ("user_id", &f.user_id),
            ("team_id", &f.team_id),
            ("organization_id", &f.organization_id),
            ("key_alias", &f.key_alias),
            ("token", &f.token),
        ]
        .into_iter()
        .filter_map(|(col, v)| Some((col, v.clone()?)))
        .collect();
        let order = f.sort_by.as_deref().map(|c| (c, f.descending));
        KEYS.list_ordered(self, &filters, order, page, size).await
    }
}
