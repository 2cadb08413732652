//! `LiteLLM_ProxyModelTable`: deployments added through `/model/new`. `litellm_params` holds
//! string values encrypted with the salt key (the gateway encrypts; this layer stores).

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::{object_or_null, Kind, Table};

pub const MODELS: Table = Table {
    name: "LiteLLM_ProxyModelTable",
    id: "model_id",
    columns: &[
        ("model_id", Kind::Text),
        ("model_name", Kind::Text),
        ("litellm_params", Kind::Json),
        ("model_info", Kind::Json),
        ("blocked", Kind::Bool),
        ("created_at", Kind::Time),
        ("created_by", Kind::Text),
        ("updated_at", Kind::Time),
        ("updated_by", Kind::Text),
    ],
    mutable: &[
        "model_name",
        "litellm_params",
        "model_info",
        "blocked",
        "updated_at",
        "updated_by",
    ],
    order_by: "\"created_at\", \"model_id\"",
};

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ModelRow {
    pub model_id: String,
    pub model_name: String,
    #[serde(default, deserialize_with = "object_or_null")]
    pub litellm_params: Value,
    #[serde(default, deserialize_with = "object_or_null")]
    pub model_info: Value,
    #[serde(default, deserialize_with = "false_if_null")]
    pub blocked: bool,
    pub created_at: Option<i64>,
    #[serde(default)]
    pub created_by: String,
    pub updated_at: Option<i64>,
    #[serde(default)]
    pub updated_by: String,
}

/// A column this database lacks (`blocked` before LiteLLM added it) reads as NULL.
fn false_if_null<'de, D: serde::Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    Ok(Option::<bool>::deserialize(d)?.unwrap_or(false))
}
