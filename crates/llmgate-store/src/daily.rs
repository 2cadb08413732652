//! LiteLLM's daily spend roll-ups (`LiteLLM_Daily{User,Team,Organization,EndUser,Tag}Spend`):
//! one row per entity, UTC day, key, model, provider and endpoint, kept up to date in the same
//! transaction as the spend logs they sum (so a retried batch never counts twice).
//!
//! Rows are matched with NULL-safe equality and updated, else inserted: LiteLLM's unique
//! indexes include nullable columns (NULLs never conflict), so `ON CONFLICT` cannot find them.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::{self, Columns, Kind, Param};
use crate::spend::SpendLog;
use crate::{Db, Store, StoreError};

/// A roll-up table and the column naming its entity.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct Daily {
    pub table: &'static str,
    pub entity: &'static str,
}

pub const USER: Daily = Daily {
    table: "LiteLLM_DailyUserSpend",
    entity: "user_id",
};
pub const TEAM: Daily = Daily {
    table: "LiteLLM_DailyTeamSpend",
    entity: "team_id",
};
pub const ORGANIZATION: Daily = Daily {
    table: "LiteLLM_DailyOrganizationSpend",
    entity: "organization_id",
};
pub const END_USER: Daily = Daily {
    table: "LiteLLM_DailyEndUserSpend",
    entity: "end_user_id",
};
pub const TAG: Daily = Daily {
    table: "LiteLLM_DailyTagSpend",
    entity: "tag",
};

pub const ALL: [Daily; 5] = [USER, TEAM, ORGANIZATION, END_USER, TAG];

/// What identifies a roll-up row (besides its table).
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct RowKey {
    entity: Option<String>,
    date: String,
    api_key: String,
    model: Option<String>,
    model_group: Option<String>,
    provider: Option<String>,
    endpoint: Option<String>,
}

/// The sums a roll-up row adds up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Metrics {
    pub spend: f64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub cache_read_input_tokens: i64,
    pub cache_creation_input_tokens: i64,
    pub api_requests: i64,
    pub successful_requests: i64,
    pub failed_requests: i64,
    pub total_response_time_ms: i64,
    pub timed_requests: i64,
}

impl Metrics {
    fn of(log: &SpendLog) -> Metrics {
        let failed = log.status.as_deref() == Some("failure");
        Metrics {
            spend: log.spend,
            prompt_tokens: log.prompt_tokens,
            completion_tokens: log.completion_tokens,
            cache_read_input_tokens: log.cache_read_input_tokens,
            cache_creation_input_tokens: log.cache_creation_input_tokens,
            api_requests: 1,
            successful_requests: i64::from(!failed),
            failed_requests: i64::from(failed),
            total_response_time_ms: log.request_duration_ms.unwrap_or(0),
            timed_requests: i64::from(log.request_duration_ms.is_some()),
        }
    }

    pub fn add(&mut self, o: &Metrics) {
        self.spend += o.spend;
        self.prompt_tokens += o.prompt_tokens;
        self.completion_tokens += o.completion_tokens;
        self.cache_read_input_tokens += o.cache_read_input_tokens;
        self.cache_creation_input_tokens += o.cache_creation_input_tokens;
        self.api_requests += o.api_requests;
        self.successful_requests += o.successful_requests;
        self.failed_requests += o.failed_requests;
        self.total_response_time_ms += o.total_response_time_ms;
        self.timed_requests += o.timed_requests;
    }

    fn fields(&self) -> [(&'static str, Param); 10] {
        let i = |v: i64| Param::Int(Some(v));
        [
            ("spend", Param::Float(Some(self.spend))),
            ("prompt_tokens", i(self.prompt_tokens)),
            ("completion_tokens", i(self.completion_tokens)),
            ("cache_read_input_tokens", i(self.cache_read_input_tokens)),
            (
                "cache_creation_input_tokens",
                i(self.cache_creation_input_tokens),
            ),
            ("api_requests", i(self.api_requests)),
            ("successful_requests", i(self.successful_requests)),
            ("failed_requests", i(self.failed_requests)),
            ("total_response_time_ms", i(self.total_response_time_ms)),
            ("timed_requests", i(self.timed_requests)),
        ]
    }
}

/// The roll-up increments of a batch of new spend logs.
pub(crate) fn rollups(logs: &[&SpendLog]) -> BTreeMap<(Daily, RowKey), Metrics> {
    let mut out: BTreeMap<(Daily, RowKey), Metrics> = BTreeMap::new();
    for log in logs {
        let m = Metrics::of(log);
        let date = crate::time::date(log.start_time);
        let key = |entity: Option<String>| RowKey {
            entity,
            date: date.clone(),
            api_key: log.api_key.clone(),
            model: Some(log.model.clone()).filter(|m| !m.is_empty()),
            model_group: log.model_group.clone(),
            provider: log.custom_llm_provider.clone(),
            endpoint: log.endpoint.clone(),
        };
        let nonempty = |s: &Option<String>| s.clone().filter(|s| !s.is_empty());
        let mut add = |d: Daily, entity: Option<String>| {
            out.entry((d, key(entity))).or_default().add(&m);
        };
        // Every request counts for its user, even without one (LiteLLM's null user row).
        add(USER, nonempty(&log.user_id).or_else(|| nonempty(&log.user)));
        if let Some(t) = nonempty(&log.team_id) {
            add(TEAM, Some(t));
        }
        if let Some(o) = nonempty(&log.organization_id) {
            add(ORGANIZATION, Some(o));
        }
        if let Some(e) = nonempty(&log.end_user) {
            add(END_USER, Some(e));
        }
        for t in log.tags() {
            add(TAG, Some(t.to_string()));
        }
    }
    out
}

fn null_safe_eq(store: &Store) -> &'static str {
    match store.db {
        Db::Postgres(_) => "IS NOT DISTINCT FROM",
        Db::Sqlite(_) => "IS",
    }
}

/// The UPDATE that adds `m` to the row of `key`, and the INSERT that creates it when the
/// UPDATE found none.
pub(crate) fn statements(
    store: &Store,
    d: Daily,
    key: &RowKey,
    m: &Metrics,
) -> ((String, Vec<Param>), (String, Vec<Param>)) {
    let k = key;
    let now = crate::now_ms();
    let text = |v: &Option<String>| Param::Text(v.clone());
    // LiteLLM writes '' for a missing value in its conflict-key columns (NULLs never conflict),
    // so rows written by either gateway add up in the same place.
    let key_text = |v: &Option<String>| Param::Text(Some(v.clone().unwrap_or_default()));
    let mut ident: Vec<(&str, Param)> = vec![
        (d.entity, text(&k.entity)),
        ("date", Param::Text(Some(k.date.clone()))),
        ("api_key", Param::Text(Some(k.api_key.clone()))),
        ("model", key_text(&k.model)),
        ("custom_llm_provider", key_text(&k.provider)),
        ("mcp_namespaced_tool_name", Param::Text(Some(String::new()))),
        ("endpoint", key_text(&k.endpoint)),
    ];
    ident.retain(|(c, _)| store.has_column(d.table, c));
    let mut sums: Vec<(&str, Param)> = m.fields().into_iter().collect();
    sums.retain(|(c, _)| store.has_column(d.table, c));

    // UPDATE: sums first, then the identifying columns.
    let mut params = Vec::new();
    let mut sets = Vec::new();
    for (c, p) in &sums {
        params.push(p.clone());
        let kind = if matches!(p, Param::Float(_)) {
            Kind::Float
        } else {
            Kind::Int
        };
        sets.push(format!(
            "\"{c}\" = \"{c}\" + {}",
            codec::param_expr(store, params.len(), kind)
        ));
    }
    params.push(Param::Int(Some(now)));
    sets.push(format!(
        "\"updated_at\" = {}",
        codec::param_expr(store, params.len(), Kind::Time)
    ));
    let mut conds = Vec::new();
    for (c, p) in &ident {
        params.push(p.clone());
        conds.push(format!(
            "\"{c}\" {} {}",
            null_safe_eq(store),
            codec::param_expr(store, params.len(), Kind::Text)
        ));
    }
    // The model group is not part of LiteLLM's key; keep it fresh.
    if store.has_column(d.table, "model_group") {
        params.push(text(&k.model_group));
        sets.push(format!(
            "\"model_group\" = {}",
            codec::param_expr(store, params.len(), Kind::Text)
        ));
    }
    let update = (
        format!(
            "UPDATE \"{}\" SET {} WHERE {}",
            d.table,
            sets.join(", "),
            conds.join(" AND ")
        ),
        params,
    );

    let mut row = serde_json::Map::new();
    row.insert("id".into(), Value::String(uuid::Uuid::new_v4().to_string()));
    row.insert("model_group".into(), serde_json::json!(k.model_group));
    row.insert("created_at".into(), serde_json::json!(now));
    row.insert("updated_at".into(), serde_json::json!(now));
    let mut cols: Vec<(&'static str, Kind)> = vec![
        ("id", Kind::Text),
        ("model_group", Kind::Text),
        ("created_at", Kind::Time),
        ("updated_at", Kind::Time),
    ];
    for (c, p) in ident.into_iter().chain(sums) {
        let (v, kind) = match p {
            Param::Text(v) => (serde_json::json!(v), Kind::Text),
            Param::Float(v) => (serde_json::json!(v), Kind::Float),
            Param::Int(v) => (serde_json::json!(v), Kind::Int),
            Param::Bool(v) => (serde_json::json!(v), Kind::Bool),
        };
        row.insert(c.to_string(), v);
        cols.push((c, kind));
    }
    let insert = codec::insert_sql(store, d.table, &cols, &row);
    (update, insert)
}

/// One roll-up row as the activity endpoints read it.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct DailyRow {
    /// The entity (user id, team id, tag...), whatever the table calls it.
    pub entity: Option<String>,
    pub date: String,
    pub api_key: String,
    pub model: Option<String>,
    pub model_group: Option<String>,
    pub custom_llm_provider: Option<String>,
    pub endpoint: Option<String>,
    #[serde(flatten)]
    pub metrics: Metrics,
}

/// Filters of the activity endpoints; dates are `YYYY-MM-DD`, both inclusive.
#[derive(Clone, Debug, Default)]
pub struct DailyFilter {
    pub start_date: String,
    pub end_date: String,
    /// Only these entities (empty: all).
    pub entities: Vec<String>,
    pub model: Option<String>,
    pub api_key: Option<String>,
    /// Only rows of these keys (a caller who may see only its own keys); None: any key.
    pub only_keys: Option<Vec<String>>,
}

impl Store {
    /// Roll-up rows of `d` matching `f`, newest day first (LiteLLM pages them in this order).
    pub async fn daily_rows(&self, d: Daily, f: &DailyFilter) -> Result<Vec<DailyRow>, StoreError> {
        let cols: Columns = &[
            ("entity", Kind::Text),
            ("date", Kind::Text),
            ("api_key", Kind::Text),
            ("model", Kind::Text),
            ("model_group", Kind::Text),
            ("custom_llm_provider", Kind::Text),
            ("endpoint", Kind::Text),
            ("spend", Kind::Float),
            ("prompt_tokens", Kind::Int),
            ("completion_tokens", Kind::Int),
            ("cache_read_input_tokens", Kind::Int),
            ("cache_creation_input_tokens", Kind::Int),
            ("api_requests", Kind::Int),
            ("successful_requests", Kind::Int),
            ("failed_requests", Kind::Int),
            ("total_response_time_ms", Kind::Int),
            ("timed_requests", Kind::Int),
        ];
        let select: Vec<String> = cols
            .iter()
            .map(|(c, _)| {
                let src = if *c == "entity" { d.entity } else { c };
                if self.has_column(d.table, src) {
                    format!("\"{src}\" AS \"{c}\"")
                } else {
                    format!("NULL AS \"{c}\"")
                }
            })
            .collect();
        let mut params = vec![
            Param::Text(Some(f.start_date.clone())),
            Param::Text(Some(f.end_date.clone())),
        ];
        let p = |n: usize| codec::param_expr(self, n, Kind::Text);
        let mut conds = vec![
            format!("\"date\" >= {}", p(1)),
            format!("\"date\" <= {}", p(2)),
        ];
        if !f.entities.is_empty() {
            let mut list = Vec::new();
            for e in &f.entities {
                params.push(Param::Text(Some(e.clone())));
                list.push(p(params.len()));
            }
            conds.push(format!("\"{}\" IN ({})", d.entity, list.join(", ")));
        }
        if let Some(keys) = &f.only_keys {
            if keys.is_empty() {
                return Ok(Vec::new());
            }
            let mut list = Vec::new();
            for k in keys {
                params.push(Param::Text(Some(k.clone())));
                list.push(p(params.len()));
            }
            conds.push(format!("\"api_key\" IN ({})", list.join(", ")));
        }
        for (col, v) in [("model", &f.model), ("api_key", &f.api_key)] {
            if let Some(v) = v {
                params.push(Param::Text(Some(v.clone())));
                conds.push(format!("\"{col}\" = {}", p(params.len())));
            }
        }
        let sql = format!(
            "SELECT {} FROM \"{}\" WHERE {} ORDER BY \"date\" DESC, \"id\"",
            select.join(", "),
            d.table,
            conds.join(" AND ")
        );
        codec::fetch(self, &sql, params, cols)
            .await?
            .into_iter()
            .map(|mut r| {
                // NULL counters (a column this database lacks) read as 0.
                for (c, k) in cols {
                    if r[*c].is_null() && matches!(k, Kind::Int | Kind::Float) {
                        r.insert(c.to_string(), serde_json::json!(0));
                    }
                }
                codec::from_row(r)
            })
            .collect()
    }
}
