//! `LiteLLM_SpendLogs` and the spend totals on keys, users and teams, written in batches.
//!
//! A batch is one transaction; a log row is inserted only if its `request_id` is new, and only
//! then are the totals increased, so a batch that is retried (after a timeout, a crash, a
//! restart replaying the journal) never counts a request twice.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::codec::{self, Columns, Kind, Param};
use crate::{Db, Store, StoreError};

pub const TABLE: &str = "LiteLLM_SpendLogs";

pub const COLUMNS: Columns = &[
    ("request_id", Kind::Text),
    ("call_type", Kind::Text),
    ("api_key", Kind::Text),
    ("spend", Kind::Float),
    ("total_tokens", Kind::Int),
    ("prompt_tokens", Kind::Int),
    ("completion_tokens", Kind::Int),
    ("startTime", Kind::Time),
    ("endTime", Kind::Time),
    ("request_duration_ms", Kind::Int),
    ("model", Kind::Text),
    ("model_id", Kind::Text),
    ("model_group", Kind::Text),
    ("custom_llm_provider", Kind::Text),
    ("api_base", Kind::Text),
    ("user", Kind::Text),
    ("metadata", Kind::Json),
    ("cache_hit", Kind::Text),
    ("request_tags", Kind::Json),
    ("team_id", Kind::Text),
    ("end_user", Kind::Text),
    ("requester_ip_address", Kind::Text),
    ("status", Kind::Text),
    ("litellm_call_id", Kind::Text),
];

/// One request's spend record.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct SpendLog {
    pub request_id: String,
    pub call_type: String,
    /// The key's hash (`token`), or "" for the master key.
    pub api_key: String,
    pub spend: f64,
    pub total_tokens: i64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    #[serde(rename = "startTime")]
    pub start_time: i64,
    #[serde(rename = "endTime")]
    pub end_time: i64,
    pub request_duration_ms: Option<i64>,
    pub model: String,
    pub model_id: Option<String>,
    pub model_group: Option<String>,
    pub custom_llm_provider: Option<String>,
    pub api_base: Option<String>,
    pub user: Option<String>,
    #[serde(default)]
    pub metadata: Value,
    pub cache_hit: Option<String>,
    #[serde(default)]
    pub request_tags: Value,
    pub team_id: Option<String>,
    pub organization_id: Option<String>,
    pub end_user: Option<String>,
    pub requester_ip_address: Option<String>,
    pub status: Option<String>,
    pub litellm_call_id: Option<String>,
    /// The key's owner, whose total also grows (not a SpendLogs column; kept in journals).
    #[serde(default)]
    pub user_id: Option<String>,
}

impl SpendLog {
    fn to_map(&self) -> Map<String, Value> {
        match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        }
    }
}

/// The totals a new log row adds to: key, user, team.
fn increments(store: &Store, log: &SpendLog) -> Vec<(String, Vec<Param>)> {
    let p1 = codec::param_expr(store, 1, Kind::Float);
    let p2 = codec::param_expr(store, 2, Kind::Text);
    let mut out = Vec::new();
    let mut add = |table: &str, col: &str, id: &Option<String>| {
        if let Some(id) = id.as_ref().filter(|i| !i.is_empty()) {
            out.push((
                format!(
                    "UPDATE \"{table}\" SET \"spend\" = \"spend\" + {p1} WHERE \"{col}\" = {p2}"
                ),
                vec![Param::Float(Some(log.spend)), Param::Text(Some(id.clone()))],
            ));
        }
    };
    add(crate::keys::TABLE, "token", &Some(log.api_key.clone()));
    add("LiteLLM_UserTable", "user_id", &log.user_id);
    add("LiteLLM_TeamTable", "team_id", &log.team_id);
    out
}

macro_rules! write_batch {
    ($store:expr, $pool:expr, $logs:expr) => {{
        let mut tx = $pool.begin().await?;
        let mut new = 0usize;
        for log in $logs {
            let mut row = log.to_map();
            row.retain(|k, _| COLUMNS.iter().any(|(c, _)| c == k));
            let (sql, params) = codec::insert_sql($store, TABLE, COLUMNS, &row);
            let sql = format!("{sql} ON CONFLICT (\"request_id\") DO NOTHING");
            let inserted = bind_all!(sqlx::query(&sql), params)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if inserted == 1 {
                new += 1;
                for (sql, params) in increments($store, log) {
                    bind_all!(sqlx::query(&sql), params)
                        .execute(&mut *tx)
                        .await?;
                }
            }
        }
        tx.commit().await?;
        new
    }};
}

impl Store {
    /// Writes a batch in one transaction; returns how many requests were new.
    pub async fn write_spend(&self, logs: &[SpendLog]) -> Result<usize, StoreError> {
        Ok(match &self.db {
            Db::Postgres(p) => write_batch!(self, p, logs),
            Db::Sqlite(p) => write_batch!(self, p, logs),
        })
    }

    /// Spend logs of a key (its hash), oldest first.
    pub async fn spend_logs_for_key(&self, token: &str) -> Result<Vec<SpendLog>, StoreError> {
        let sql = format!(
            "SELECT {} FROM \"{TABLE}\" WHERE \"api_key\" = {} ORDER BY \"startTime\"",
            codec::select_list(self, TABLE, COLUMNS),
            codec::param_expr(self, 1, Kind::Text)
        );
        codec::fetch(self, &sql, vec![Param::Text(Some(token.into()))], COLUMNS)
            .await?
            .into_iter()
            .map(|m| {
                serde_json::from_value(Value::Object(m)).map_err(|e| StoreError::Row(e.to_string()))
            })
            .collect()
    }
}
