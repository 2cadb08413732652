//! Users, teams, end users, budgets, organizations (and their members) and tags: LiteLLM's tables.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::{object_or_null, vec_or_null, Kind, Table};

pub const USERS: Table = Table {
    name: "LiteLLM_UserTable",
    id: "user_id",
    columns: &[
        ("user_id", Kind::Text),
        ("user_alias", Kind::Text),
        ("team_id", Kind::Text),
        ("organization_id", Kind::Text),
        ("teams", Kind::Array),
        ("user_role", Kind::Text),
        ("max_budget", Kind::Float),
        ("spend", Kind::Float),
        ("user_email", Kind::Text),
        ("models", Kind::Array),
        ("metadata", Kind::Json),
        ("max_parallel_requests", Kind::Int),
        ("tpm_limit", Kind::Int),
        ("rpm_limit", Kind::Int),
        ("budget_duration", Kind::Text),
        ("budget_reset_at", Kind::Time),
        ("created_at", Kind::Time),
        ("updated_at", Kind::Time),
        ("sso_user_id", Kind::Text),
        ("allowed_cache_controls", Kind::Array),
        ("policies", Kind::Array),
        ("model_max_budget", Kind::Json),
    ],
    mutable: &[
        "sso_user_id",
        "allowed_cache_controls",
        "policies",
        "model_max_budget",
        "user_alias",
        "team_id",
        "organization_id",
        "teams",
        "user_role",
        "max_budget",
        "user_email",
        "models",
        "metadata",
        "max_parallel_requests",
        "tpm_limit",
        "rpm_limit",
        "budget_duration",
        "budget_reset_at",
        "updated_at",
    ],
    order_by: "",
};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct UserRow {
    pub user_id: String,
    pub user_alias: Option<String>,
    pub team_id: Option<String>,
    pub organization_id: Option<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub teams: Vec<String>,
    pub user_role: Option<String>,
    pub max_budget: Option<f64>,
    #[serde(default)]
    pub spend: f64,
    pub user_email: Option<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub models: Vec<String>,
    #[serde(default, deserialize_with = "object_or_null")]
    pub metadata: Value,
    pub max_parallel_requests: Option<i64>,
    pub tpm_limit: Option<i64>,
    pub rpm_limit: Option<i64>,
    pub budget_duration: Option<String>,
    pub budget_reset_at: Option<i64>,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
    pub sso_user_id: Option<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub allowed_cache_controls: Vec<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub policies: Vec<String>,
    #[serde(default, deserialize_with = "object_or_null")]
    pub model_max_budget: Value,
}

pub const TEAMS: Table = Table {
    name: "LiteLLM_TeamTable",
    id: "team_id",
    columns: &[
        ("team_id", Kind::Text),
        ("team_alias", Kind::Text),
        ("organization_id", Kind::Text),
        ("admins", Kind::Array),
        ("members", Kind::Array),
        ("members_with_roles", Kind::Json),
        ("metadata", Kind::Json),
        ("max_budget", Kind::Float),
        ("soft_budget", Kind::Float),
        ("spend", Kind::Float),
        ("models", Kind::Array),
        ("max_parallel_requests", Kind::Int),
        ("tpm_limit", Kind::Int),
        ("rpm_limit", Kind::Int),
        ("budget_duration", Kind::Text),
        ("budget_reset_at", Kind::Time),
        ("blocked", Kind::Bool),
        ("created_at", Kind::Time),
        ("updated_at", Kind::Time),
        ("team_member_permissions", Kind::Array),
        ("router_settings", Kind::Json),
        ("access_group_ids", Kind::Array),
        ("policies", Kind::Array),
        ("object_permission_id", Kind::Text),
    ],
    mutable: &[
        "object_permission_id",
        "team_member_permissions",
        "router_settings",
        "access_group_ids",
        "policies",
        "team_alias",
        "organization_id",
        "admins",
        "members",
        "members_with_roles",
        "metadata",
        "max_budget",
        "soft_budget",
        "models",
        "max_parallel_requests",
        "tpm_limit",
        "rpm_limit",
        "budget_duration",
        "budget_reset_at",
        "blocked",
        "updated_at",
    ],
    order_by: "",
};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TeamRow {
    pub team_id: String,
    pub team_alias: Option<String>,
    pub organization_id: Option<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub admins: Vec<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub members: Vec<String>,
    /// `[{"user_id": ..., "role": "user"|"admin"}]` (LiteLLM stores a JSON list here).
    #[serde(default)]
    pub members_with_roles: Value,
    #[serde(default, deserialize_with = "object_or_null")]
    pub metadata: Value,
    pub max_budget: Option<f64>,
    pub soft_budget: Option<f64>,
    #[serde(default)]
    pub spend: f64,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub models: Vec<String>,
    pub max_parallel_requests: Option<i64>,
    pub tpm_limit: Option<i64>,
    pub rpm_limit: Option<i64>,
    pub budget_duration: Option<String>,
    pub budget_reset_at: Option<i64>,
    #[serde(default)]
    pub blocked: bool,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
    /// The management routes a team's members may call (`/key/generate`, ...).
    #[serde(default, deserialize_with = "vec_or_null")]
    pub team_member_permissions: Vec<String>,
    #[serde(default, deserialize_with = "object_or_null")]
    pub router_settings: Value,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub access_group_ids: Vec<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub policies: Vec<String>,
    /// The `LiteLLM_ObjectPermissionTable` row of the agents (and MCP servers) it may use.
    #[serde(default)]
    pub object_permission_id: Option<String>,
}

pub const CUSTOMERS: Table = Table {
    name: "LiteLLM_EndUserTable",
    id: "user_id",
    columns: &[
        ("user_id", Kind::Text),
        ("alias", Kind::Text),
        ("spend", Kind::Float),
        ("allowed_model_region", Kind::Text),
        ("default_model", Kind::Text),
        ("budget_id", Kind::Text),
        ("blocked", Kind::Bool),
        ("models", Kind::Array),
    ],
    mutable: &[
        "alias",
        "allowed_model_region",
        "default_model",
        "budget_id",
        "blocked",
        "models",
    ],
    order_by: "",
};

/// An end user: the `user` field of LLM requests.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct CustomerRow {
    pub user_id: String,
    pub alias: Option<String>,
    #[serde(default)]
    pub spend: f64,
    pub allowed_model_region: Option<String>,
    pub default_model: Option<String>,
    pub budget_id: Option<String>,
    #[serde(default)]
    pub blocked: bool,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub models: Vec<String>,
}

pub const BUDGETS: Table = Table {
    name: "LiteLLM_BudgetTable",
    id: "budget_id",
    columns: &[
        ("budget_id", Kind::Text),
        ("max_budget", Kind::Float),
        ("soft_budget", Kind::Float),
        ("max_parallel_requests", Kind::Int),
        ("tpm_limit", Kind::Int),
        ("rpm_limit", Kind::Int),
        ("model_max_budget", Kind::Json),
        ("budget_duration", Kind::Text),
        ("budget_reset_at", Kind::Time),
        ("created_at", Kind::Time),
        ("created_by", Kind::Text),
        ("updated_at", Kind::Time),
        ("updated_by", Kind::Text),
    ],
    mutable: &[
        "max_budget",
        "soft_budget",
        "max_parallel_requests",
        "tpm_limit",
        "rpm_limit",
        "model_max_budget",
        "budget_duration",
        "budget_reset_at",
        "updated_at",
        "updated_by",
    ],
    order_by: "",
};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct BudgetRow {
    pub budget_id: String,
    pub max_budget: Option<f64>,
    pub soft_budget: Option<f64>,
    pub max_parallel_requests: Option<i64>,
    pub tpm_limit: Option<i64>,
    pub rpm_limit: Option<i64>,
    #[serde(default, deserialize_with = "object_or_null")]
    pub model_max_budget: Value,
    pub budget_duration: Option<String>,
    pub budget_reset_at: Option<i64>,
    pub created_at: Option<i64>,
    pub created_by: Option<String>,
    pub updated_at: Option<i64>,
    pub updated_by: Option<String>,
}

pub const ORGANIZATIONS: Table = Table {
    name: "LiteLLM_OrganizationTable",
    id: "organization_id",
    columns: &[
        ("organization_id", Kind::Text),
        ("organization_alias", Kind::Text),
        ("budget_id", Kind::Text),
        ("metadata", Kind::Json),
        ("models", Kind::Array),
        ("spend", Kind::Float),
        ("created_at", Kind::Time),
        ("created_by", Kind::Text),
        ("updated_at", Kind::Time),
        ("updated_by", Kind::Text),
        ("object_permission_id", Kind::Text),
    ],
    mutable: &[
        "organization_alias",
        "budget_id",
        "metadata",
        "models",
        "updated_at",
        "updated_by",
        "object_permission_id",
    ],
    order_by: "",
};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OrgRow {
    pub organization_id: String,
    pub organization_alias: String,
    pub budget_id: String,
    #[serde(default, deserialize_with = "object_or_null")]
    pub metadata: Value,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub models: Vec<String>,
    #[serde(default)]
    pub spend: f64,
    pub created_at: Option<i64>,
    pub created_by: Option<String>,
    pub updated_at: Option<i64>,
    pub updated_by: Option<String>,
    /// The `LiteLLM_ObjectPermissionTable` row of the MCP servers its keys may use.
    #[serde(default)]
    pub object_permission_id: Option<String>,
}

/// `LiteLLM_OrganizationMembership` (keyed by user and organization together).
pub const ORG_MEMBERS: Table = Table {
    name: "LiteLLM_OrganizationMembership",
    id: "organization_id",
    columns: &[
        ("user_id", Kind::Text),
        ("organization_id", Kind::Text),
        ("user_role", Kind::Text),
        ("spend", Kind::Float),
        ("budget_id", Kind::Text),
        ("created_at", Kind::Time),
        ("updated_at", Kind::Time),
    ],
    mutable: &["user_role", "budget_id", "updated_at"],
    order_by: "",
};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct OrgMemberRow {
    pub user_id: String,
    pub organization_id: String,
    pub user_role: Option<String>,
    #[serde(default)]
    pub spend: f64,
    pub budget_id: Option<String>,
    pub created_at: Option<i64>,
    pub updated_at: Option<i64>,
}

pub const TAGS: Table = Table {
    name: "LiteLLM_TagTable",
    id: "tag_name",
    columns: &[
        ("tag_name", Kind::Text),
        ("description", Kind::Text),
        ("models", Kind::Array),
        ("spend", Kind::Float),
        ("budget_id", Kind::Text),
        ("created_at", Kind::Time),
        ("created_by", Kind::Text),
        ("updated_at", Kind::Time),
        ("model_info", Kind::Json),
    ],
    mutable: &[
        "description",
        "models",
        "budget_id",
        "updated_at",
        "model_info",
    ],
    order_by: "",
};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct TagRow {
    pub tag_name: String,
    pub description: Option<String>,
    #[serde(default, deserialize_with = "vec_or_null")]
    pub models: Vec<String>,
    #[serde(default)]
    pub spend: f64,
    pub budget_id: Option<String>,
    pub created_at: Option<i64>,
    pub created_by: Option<String>,
    pub updated_at: Option<i64>,
    /// Model id → model name, as LiteLLM's UI sends it.
    #[serde(default, deserialize_with = "object_or_null")]
    pub model_info: Value,
}
