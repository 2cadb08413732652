//! `LiteLLM_VerificationToken`: virtual keys, stored (as LiteLLM does) only as the SHA-256 hex
//! digest of the secret.

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

use crate::codec::{self, Columns, Kind, Param};
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
    ("created_at", Kind::Time),
    ("created_by", Kind::Text),
    ("updated_at", Kind::Time),
    ("updated_by", Kind::Text),
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
    "updated_at",
    "updated_by",
];

fn vec_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<String>, D::Error> {
    Ok(Option::<Vec<String>>::deserialize(d)?.unwrap_or_default())
}

fn object_or_null<'de, D: Deserializer<'de>>(d: D) -> Result<Value, D::Error> {
    Ok(match Option::<Value>::deserialize(d)? {
        Some(v @ Value::Object(_)) => v,
        _ => Value::Object(Map::new()),
    })
}

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
    pub created_at: Option<i64>,
    pub created_by: Option<String>,
    pub updated_at: Option<i64>,
    pub updated_by: Option<String>,
}

impl KeyRow {
    fn to_map(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }

    fn from_map(m: Map<String, Value>) -> Result<KeyRow, StoreError> {
        serde_json::from_value(Value::Object(m)).map_err(|e| StoreError::Row(e.to_string()))
    }
}

/// Filters of `/key/list`.
#[derive(Clone, Debug, Default)]
pub struct KeyFilter {
    pub user_id: Option<String>,
    pub team_id: Option<String>,
    pub organization_id: Option<String>,
    pub key_alias: Option<String>,
}

fn ph(store: &Store, n: usize) -> String {
    codec::param_expr(store, n, Kind::Text)
}

impl Store {
    pub async fn insert_key(&self, k: &KeyRow) -> Result<(), StoreError> {
        let (sql, params) = codec::insert_sql(self, TABLE, COLUMNS, &k.to_map());
        codec::execute(self, &sql, params).await.map(|_| ())
    }

    /// The key with this hash (`token` column).
    pub async fn get_key(&self, token: &str) -> Result<Option<KeyRow>, StoreError> {
        let sql = format!(
            "SELECT {} FROM \"{TABLE}\" WHERE \"token\" = {}",
            codec::select_list(self, TABLE, COLUMNS),
            ph(self, 1)
        );
        let rows = codec::fetch(self, &sql, vec![Param::Text(Some(token.into()))], COLUMNS).await?;
        rows.into_iter().next().map(KeyRow::from_map).transpose()
    }

    /// Writes the mutable fields of `k`.
    pub async fn update_key(&self, k: &KeyRow) -> Result<bool, StoreError> {
        let row = k.to_map();
        let cols: Vec<&(&str, Kind)> = COLUMNS
            .iter()
            .filter(|(c, _)| MUTABLE.contains(c))
            .collect();
        let sets: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, (c, kind))| format!("\"{c}\" = {}", codec::param_expr(self, i + 1, *kind)))
            .collect();
        let mut params: Vec<Param> = cols
            .iter()
            .map(|(c, kind)| codec::param(*kind, &row[*c]))
            .collect();
        params.push(Param::Text(Some(k.token.clone())));
        let sql = format!(
            "UPDATE \"{TABLE}\" SET {} WHERE \"token\" = {}",
            sets.join(", "),
            ph(self, cols.len() + 1)
        );
        Ok(codec::execute(self, &sql, params).await? == 1)
    }

    pub async fn delete_key(&self, token: &str) -> Result<bool, StoreError> {
        let sql = format!("DELETE FROM \"{TABLE}\" WHERE \"token\" = {}", ph(self, 1));
        Ok(codec::execute(self, &sql, vec![Param::Text(Some(token.into()))]).await? == 1)
    }

    /// A page of keys (1-based) and the total count, newest first.
    pub async fn list_keys(
        &self,
        f: &KeyFilter,
        page: u64,
        size: u64,
    ) -> Result<(Vec<KeyRow>, u64), StoreError> {
        let mut conds = Vec::new();
        let mut params = Vec::new();
        for (col, v) in [
            ("user_id", &f.user_id),
            ("team_id", &f.team_id),
            ("organization_id", &f.organization_id),
            ("key_alias", &f.key_alias),
        ] {
            if let Some(v) = v {
                params.push(Param::Text(Some(v.clone())));
                conds.push(format!("\"{col}\" = {}", ph(self, params.len())));
            }
        }
        let filter = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        let count_cols: Columns = &[("n", Kind::Int)];
        let count_sql = format!("SELECT COUNT(*) AS \"n\" FROM \"{TABLE}\"{filter}");
        let total = codec::fetch(self, &count_sql, params.clone(), count_cols).await?[0]["n"]
            .as_u64()
            .unwrap_or(0);
        let sql = format!(
            "SELECT {} FROM \"{TABLE}\"{filter} ORDER BY \"created_at\" DESC, \"token\" LIMIT {} OFFSET {}",
            codec::select_list(self, TABLE, COLUMNS),
            size,
            page.saturating_sub(1) * size
        );
        let rows = codec::fetch(self, &sql, params, COLUMNS).await?;
        Ok((
            rows.into_iter()
                .map(KeyRow::from_map)
                .collect::<Result<_, _>>()?,
            total,
        ))
    }
}
