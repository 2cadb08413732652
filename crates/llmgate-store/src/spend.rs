//! `LiteLLM_SpendLogs`, the spend totals on keys, users, teams, organizations, end users and
//! tags, and the daily roll-ups ([`crate::daily`]), written in batches.
//!
//! A batch is one transaction; a log row is inserted only if its `request_id` is new, and only
//! then are the totals increased, so a batch that is retried (after a timeout, a crash, a
//! restart replaying the journal) never counts a request twice.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::codec::{self, Columns, Kind, Param};
use crate::json_text::JsonText;
use crate::{bounds, Db, Store, StoreError};

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
    ("mcp_namespaced_tool_name", Kind::Text),
    ("agent_id", Kind::Text),
    ("messages", Kind::Json),
    ("response", Kind::Json),
    ("proxy_server_request", Kind::Json),
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
    /// Serialised once, when the log is built (journal line and row share the text).
    #[serde(default)]
    pub metadata: JsonText,
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
    /// For the daily roll-ups (LiteLLM keeps these in `metadata`): cache tokens and the route.
    #[serde(default)]
    pub cache_read_input_tokens: i64,
    #[serde(default)]
    pub cache_creation_input_tokens: i64,
    #[serde(default)]
    pub endpoint: Option<String>,
    /// An MCP tool call's `<server>-<tool>` (LiteLLM's column).
    #[serde(default)]
    pub mcp_namespaced_tool_name: Option<String>,
    /// An A2A call's agent (LiteLLM's column).
    #[serde(default)]
    pub agent_id: Option<String>,
    /// LiteLLM's `messages`, `response` and `proxy_server_request` columns: `{}` unless
    /// `general_settings.store_prompts_in_spend_logs` is on (then the answer and the request
    /// body, their long strings cut as LiteLLM cuts them; `messages` stays `{}` as LiteLLM
    /// leaves it for every call but realtime).
    #[serde(default)]
    pub messages: JsonText,
    #[serde(default)]
    pub response: JsonText,
    #[serde(default)]
    pub proxy_server_request: JsonText,
}

/// Calls `$f` on every text value of a log with the bound its column takes (see
/// [`bounds`]): the one list of them, for the check (`as_ref`, `[&]`) and the fix (`as_mut`,
/// `[&mut]`). Tags lead the daily tag table's key and name `LiteLLM_TagTable` rows: `ID`.
macro_rules! each_text {
    ($log:expr, $as:ident, [$($r:tt)+], $f:expr, $json:expr) => {{
        use $crate::bounds::{CODE, ID, MODEL, TEXT};
        let log = $log;
        let f = $f;
        for (s, max) in [
            ($($r)+ log.request_id, CODE),
            ($($r)+ log.call_type, CODE),
            ($($r)+ log.api_key, CODE),
            ($($r)+ log.model, MODEL),
        ] {
            f(s, max);
        }
        for (s, max) in [
            (log.model_id.$as(), ID),
            (log.model_group.$as(), MODEL),
            (log.custom_llm_provider.$as(), CODE),
            (log.api_base.$as(), TEXT),
            (log.user.$as(), ID),
            (log.cache_hit.$as(), CODE),
            (log.team_id.$as(), ID),
            (log.organization_id.$as(), ID),
            (log.end_user.$as(), ID),
            (log.requester_ip_address.$as(), CODE),
            (log.status.$as(), CODE),
            (log.litellm_call_id.$as(), CODE),
            (log.user_id.$as(), ID),
            (log.endpoint.$as(), CODE),
            (log.mcp_namespaced_tool_name.$as(), MODEL),
            (log.agent_id.$as(), ID),
        ] {
            if let Some(s) = s {
                f(s, max);
            }
        }
        let json = $json;
        json($($r)+ log.request_tags, ID);
    }};
}

impl SpendLog {
    /// Whether every value is one the database takes as it is (no NUL, within its column's
    /// bound).
    pub fn fits(&self) -> bool {
        let ok = std::cell::Cell::new(true);
        each_text!(
            self,
            as_ref,
            [&],
            |s: &String, max| ok.set(ok.get() && bounds::fits(s, max)),
            |v: &Value, max| ok.set(ok.get() && bounds::json_fits(v, max))
        );
        ok.get()
            && [
                &self.metadata,
                &self.messages,
                &self.response,
                &self.proxy_server_request,
            ]
            .iter()
            .all(|j| j.fits(bounds::TEXT))
    }

    /// Removes NUL and cuts each value to its column's bound.
    pub fn bound(&mut self) {
        for j in [
            &mut self.metadata,
            &mut self.messages,
            &mut self.response,
            &mut self.proxy_server_request,
        ] {
            j.bound(bounds::TEXT);
        }
        each_text!(self, as_mut, [&mut], bounds::bound, bounds::json);
    }

    /// The request's tags (`request_tags` holds a JSON array of strings).
    pub fn tags(&self) -> impl Iterator<Item = &str> {
        self.request_tags
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
    }

    /// The value of column `col`, bound straight from the struct (no JSON row in between: the
    /// spend writer's hot loop).
    fn param(&self, col: &str, kind: Kind) -> Param {
        let text = |v: &Option<String>| Param::Text(v.clone());
        match col {
            "request_id" => Param::Text(Some(self.request_id.clone())),
            "call_type" => Param::Text(Some(self.call_type.clone())),
            "api_key" => Param::Text(Some(self.api_key.clone())),
            "spend" => Param::Float(Some(self.spend)),
            "total_tokens" => Param::Int(Some(self.total_tokens)),
            "prompt_tokens" => Param::Int(Some(self.prompt_tokens)),
            "completion_tokens" => Param::Int(Some(self.completion_tokens)),
            "startTime" => Param::Int(Some(self.start_time)),
            "endTime" => Param::Int(Some(self.end_time)),
            "request_duration_ms" => Param::Int(self.request_duration_ms),
            "model" => Param::Text(Some(self.model.clone())),
            "model_id" => text(&self.model_id),
            "model_group" => text(&self.model_group),
            "custom_llm_provider" => text(&self.custom_llm_provider),
            "api_base" => text(&self.api_base),
            "user" => text(&self.user),
            "metadata" => Param::Text(Some(self.metadata.as_str().to_string())),
            "messages" => Param::Text(Some(self.messages.as_str().to_string())),
            "response" => Param::Text(Some(self.response.as_str().to_string())),
            "proxy_server_request" => {
                Param::Text(Some(self.proxy_server_request.as_str().to_string()))
            }
            "cache_hit" => text(&self.cache_hit),
            "request_tags" => codec::param(kind, &self.request_tags),
            "team_id" => text(&self.team_id),
            "end_user" => text(&self.end_user),
            "requester_ip_address" => text(&self.requester_ip_address),
            "status" => text(&self.status),
            "litellm_call_id" => text(&self.litellm_call_id),
            "organization_id" => text(&self.organization_id),
            "mcp_namespaced_tool_name" => text(&self.mcp_namespaced_tool_name),
            "agent_id" => text(&self.agent_id),
            _ => Param::Text(None),
        }
    }
}

/// Rows per INSERT: within SQLite's 32 766 parameters and PostgreSQL's 65 535.
fn chunk_rows(store: &Store) -> usize {
    match store.db {
        Db::Sqlite(_) => 256,
        Db::Postgres(_) => 400,
    }
}

/// `logs` in chunks of `max` rows, the rest in power-of-two sizes: a handful of statement
/// shapes in all, each prepared once per connection (a 256-row INSERT costs more to prepare
/// than to run, and a batch's remainder would otherwise be a new shape almost every time).
fn shaped_chunks<T>(logs: &[T], max: usize) -> impl Iterator<Item = &[T]> {
    let mut rest = logs;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let n = if rest.len() >= max {
            max
        } else {
            1 << rest.len().ilog2()
        };
        let (chunk, tail) = rest.split_at(n);
        rest = tail;
        Some(chunk)
    })
}

/// Adds the spend of the new requests to key, user and team totals: one UPDATE per entity.
fn increments(store: &Store, new_logs: &[&SpendLog]) -> Vec<(String, Vec<Param>)> {
    use std::collections::BTreeMap;
    let mut totals: BTreeMap<(&str, &str, String), f64> = BTreeMap::new();
    for log in new_logs {
        let entities = [
            (crate::keys::TABLE, "token", Some(log.api_key.clone())),
            ("LiteLLM_UserTable", "user_id", log.user_id.clone()),
            ("LiteLLM_TeamTable", "team_id", log.team_id.clone()),
            (
                "LiteLLM_OrganizationTable",
                "organization_id",
                log.organization_id.clone(),
            ),
        ];
        for (table, col, id) in entities {
            if let Some(id) = id.filter(|i| !i.is_empty()) {
                *totals.entry((table, col, id)).or_default() += log.spend;
            }
        }
    }
    let p1 = codec::param_expr(store, 1, Kind::Float);
    let p2 = codec::param_expr(store, 2, Kind::Text);
    let mut out: Vec<(String, Vec<Param>)> = totals
        .into_iter()
        .map(|((table, col, id), spend)| {
            (
                format!(
                    "UPDATE \"{table}\" SET \"spend\" = \"spend\" + {p1} WHERE \"{col}\" = {p2}"
                ),
                vec![Param::Float(Some(spend)), Param::Text(Some(id))],
            )
        })
        .collect();
    // End users and tags are created by their first spend, as LiteLLM does.
    let mut end_users: BTreeMap<String, f64> = BTreeMap::new();
    let mut tags: BTreeMap<String, f64> = BTreeMap::new();
    for log in new_logs {
        if let Some(u) = log.end_user.as_ref().filter(|u| !u.is_empty()) {
            *end_users.entry(u.clone()).or_default() += log.spend;
        }
        for t in log.tags() {
            *tags.entry(t.to_string()).or_default() += log.spend;
        }
    }
    for (id, spend) in tags {
        let (t1, t2) = (
            codec::param_expr(store, 1, Kind::Text),
            codec::param_expr(store, 2, Kind::Float),
        );
        out.push((
            format!(
                "INSERT INTO \"LiteLLM_TagTable\" (\"tag_name\", \"spend\") VALUES ({t1}, {t2}) \
                 ON CONFLICT (\"tag_name\") DO UPDATE SET \"spend\" = \"LiteLLM_TagTable\".\"spend\" + EXCLUDED.\"spend\""
            ),
            vec![Param::Text(Some(id)), Param::Float(Some(spend))],
        ));
    }
    let (e1, e2) = (
        codec::param_expr(store, 1, Kind::Text),
        codec::param_expr(store, 2, Kind::Float),
    );
    for (id, spend) in end_users {
        out.push((
            format!(
                "INSERT INTO \"LiteLLM_EndUserTable\" (\"user_id\", \"spend\") VALUES ({e1}, {e2}) \
                 ON CONFLICT (\"user_id\") DO UPDATE SET \"spend\" = \"LiteLLM_EndUserTable\".\"spend\" + EXCLUDED.\"spend\""
            ),
            vec![Param::Text(Some(id)), Param::Float(Some(spend))],
        ));
    }
    out
}

/// Binds column `$col` of `$log` to `$q`, borrowing its text (the spend writer's hot loop:
/// a batch binds tens of thousands of values); JSON columns and SQLite's timestamps are the
/// only values made for the statement.
macro_rules! bind_log {
    ($q:expr, $log:expr, $col:expr, $kind:expr, $sqlite:expr) => {{
        let (q, l) = ($q, $log);
        let time = |ms: i64| -> Param {
            codec::in_order_param_for($sqlite, Kind::Time, Param::Int(Some(ms)))
        };
        match *$col {
            "request_id" => q.bind(l.request_id.as_str()),
            "call_type" => q.bind(l.call_type.as_str()),
            "api_key" => q.bind(l.api_key.as_str()),
            "spend" => q.bind(l.spend),
            "total_tokens" => q.bind(l.total_tokens),
            "prompt_tokens" => q.bind(l.prompt_tokens),
            "completion_tokens" => q.bind(l.completion_tokens),
            "startTime" | "endTime" => {
                let ms = if *$col == "startTime" {
                    l.start_time
                } else {
                    l.end_time
                };
                match time(ms) {
                    Param::Text(t) => q.bind(t),
                    _ => q.bind(ms),
                }
            }
            "request_duration_ms" => q.bind(l.request_duration_ms),
            "model" => q.bind(l.model.as_str()),
            "model_id" => q.bind(l.model_id.as_deref()),
            "model_group" => q.bind(l.model_group.as_deref()),
            "custom_llm_provider" => q.bind(l.custom_llm_provider.as_deref()),
            "api_base" => q.bind(l.api_base.as_deref()),
            "user" => q.bind(l.user.as_deref()),
            "cache_hit" => q.bind(l.cache_hit.as_deref()),
            "team_id" => q.bind(l.team_id.as_deref()),
            "end_user" => q.bind(l.end_user.as_deref()),
            "requester_ip_address" => q.bind(l.requester_ip_address.as_deref()),
            "status" => q.bind(l.status.as_deref()),
            "litellm_call_id" => q.bind(l.litellm_call_id.as_deref()),
            "organization_id" => q.bind(l.organization_id.as_deref()),
            "mcp_namespaced_tool_name" => q.bind(l.mcp_namespaced_tool_name.as_deref()),
            "agent_id" => q.bind(l.agent_id.as_deref()),
            "metadata" => q.bind(l.metadata.as_str()),
            "messages" => q.bind(l.messages.as_str()),
            "response" => q.bind(l.response.as_str()),
            "proxy_server_request" => q.bind(l.proxy_server_request.as_str()),
            _ => match l.param($col, $kind) {
                Param::Text(v) => q.bind(v),
                Param::Float(v) => q.bind(v),
                Param::Int(v) => q.bind(v),
                Param::Bool(v) => q.bind(v),
            },
        }
    }};
}

/// Inserts `$logs` in multi-row statements, skipping request ids already there; adds the ids
/// inserted to `$new_ids`.
macro_rules! insert_logs {
    ($store:expr, $tx:expr, $logs:expr, $shapes:expr, $new_ids:expr) => {{
        for chunk in shaped_chunks(&$logs, chunk_rows($store)) {
            let (sql, cols) = $shapes.entry(chunk.len()).or_insert_with(|| {
                let (sql, cols) = codec::insert_many_shape($store, TABLE, COLUMNS, chunk.len());
                (
                    format!("{sql} ON CONFLICT (\"request_id\") DO NOTHING RETURNING \"request_id\""),
                    cols,
                )
            });
            let sqlite = matches!($store.db, Db::Sqlite(_));
            let mut q = sqlx::query_as(sql.as_str());
            for log in chunk {
                for (c, k) in cols.iter() {
                    q = bind_log!(q, log, c, *k, sqlite);
                }
            }
            let returned: Vec<(String,)> = q.fetch_all(&mut *$tx).await?;
            $new_ids.extend(returned.into_iter().map(|(id,)| id));
        }
    }};
}

/// In one transaction: insert the logs (multi-row, skipping request ids already there), then
/// add only the new ones to the totals. Returns how many were new.
///
/// A log's `request_id` is the answer's id, as LiteLLM keys it; but upstreams do not all make
/// ids unique (mocks, some self-hosted servers), and the id is also what makes writing a batch
/// twice harmless. So a log whose id was taken by another call (in this batch or before, told
/// apart by `litellm_call_id`) is inserted again keyed by its call id: never dropped as a
/// duplicate, and still idempotent. Only logs whose insert conflicted are looked at.
macro_rules! write_batch {
    ($store:expr, $pool:expr, $logs:expr) => {{
        let logs: &[SpendLog] = $logs;
        let mut tx = $pool.begin().await?;
        let mut new_ids = std::collections::HashSet::new();
        // The statement text depends only on the row count: built once per size.
        let mut shapes: std::collections::HashMap<usize, (String, Vec<(&str, Kind)>)> =
            std::collections::HashMap::new();
        insert_logs!($store, tx, logs, shapes, new_ids);
        // A request id twice in one batch counts once; the later ones conflicted.
        let mut seen = std::collections::HashSet::new();
        let (mut new_logs, mut conflicted): (Vec<&SpendLog>, Vec<&SpendLog>) = (Vec::new(), Vec::new());
        for l in logs {
            if new_ids.contains(&l.request_id) && seen.insert(l.request_id.as_str()) {
                new_logs.push(l);
            } else if l.litellm_call_id.as_deref().is_some_and(|c| c != l.request_id) {
                conflicted.push(l);
            }
        }
        let mut rekeyed: Vec<SpendLog> = Vec::new();
        // Shaped as the inserts are: an IN list of every length would be a statement each.
        for chunk in shaped_chunks(&conflicted, chunk_rows($store)) {
            let marks: Vec<String> = (1..=chunk.len())
                .map(|i| codec::param_expr($store, i, Kind::Text))
                .collect();
            let sql = format!(
                "SELECT \"request_id\", \"litellm_call_id\" FROM {} WHERE \"request_id\" IN ({})",
                codec::q(TABLE),
                marks.join(", ")
            );
            let params = chunk.iter().map(|l| Param::Text(Some(l.request_id.clone())));
            let owners: Vec<(String, Option<String>)> = bind_all!(sqlx::query_as(sql.as_str()), params)
                .fetch_all(&mut *tx)
                .await?;
            let owners: std::collections::HashMap<String, Option<String>> = owners.into_iter().collect();
            for l in chunk {
                let same_call = owners.get(&l.request_id).is_some_and(|c| *c == l.litellm_call_id);
                if !same_call {
                    let mut l = (*l).clone();
                    l.request_id = l.litellm_call_id.clone().unwrap_or_default();
                    rekeyed.push(l);
                }
            }
        }
        if !rekeyed.is_empty() {
            let mut again = std::collections::HashSet::new();
            insert_logs!($store, tx, rekeyed, shapes, again);
            new_logs.extend(rekeyed.iter().filter(|l| again.contains(&l.request_id)));
        }
        for (sql, params) in increments($store, &new_logs) {
            bind_all!(sqlx::query(&sql), params)
                .execute(&mut *tx)
                .await?;
        }
        for ((daily, key), metrics) in crate::daily::rollups(&new_logs) {
            let ((upd, upd_params), (ins, ins_params)) =
                crate::daily::statements($store, daily, &key, &metrics);
            let found = bind_all!(sqlx::query(&upd), upd_params)
                .execute(&mut *tx)
                .await?
                .rows_affected();
            if found == 0 {
                bind_all!(sqlx::query(&ins), ins_params)
                    .execute(&mut *tx)
                    .await?;
            }
        }
        tx.commit().await?;
        new_logs.len()
    }};
}

/// A log the database refused, and why.
#[derive(Debug)]
pub struct Refused {
    pub log: SpendLog,
    pub error: StoreError,
}

impl Store {
    /// Writes a batch in one transaction, every value bounded first ([`SpendLog::bound`]);
    /// returns how many requests were new.
    pub async fn write_spend(&self, logs: &[SpendLog]) -> Result<usize, StoreError> {
        let bounded: Vec<SpendLog>;
        let logs = if logs.iter().all(SpendLog::fits) {
            logs
        } else {
            bounded = logs
                .iter()
                .cloned()
                .map(|mut l| {
                    l.bound();
                    l
                })
                .collect();
            &bounded
        };
        Ok(match &self.db {
            Db::Postgres(p) => write_batch!(self, p, logs),
            Db::Sqlite(p) => write_batch!(self, p, logs),
        })
    }

    /// As [`Store::write_spend`], but a batch the database refuses ([`StoreError::is_refusal`])
    /// is halved until the refused logs stand alone: everything else is written, and the
    /// refused logs are returned. Any other error (the database unreachable) ends the write;
    /// writing the batch again is safe, as rows are idempotent on `request_id`.
    pub async fn write_spend_isolating(
        &self,
        logs: &[SpendLog],
    ) -> Result<(usize, Vec<Refused>), StoreError> {
        let (mut new, mut refused) = (0, Vec::new());
        let mut parts = vec![logs];
        while let Some(part) = parts.pop() {
            match self.write_spend(part).await {
                Ok(n) => new += n,
                Err(error) if error.is_refusal() => match part {
                    [log] => refused.push(Refused {
                        log: log.clone(),
                        error,
                    }),
                    _ => {
                        let (a, b) = part.split_at(part.len() / 2);
                        parts.extend([b, a]);
                    }
                },
                Err(e) => return Err(e),
            }
        }
        Ok((new, refused))
    }
}

/// Filters of `/spend/logs`; times in milliseconds since the epoch.
#[derive(Clone, Debug, Default)]
pub struct SpendFilter {
    pub api_key: Option<String>,
    pub user: Option<String>,
    pub request_id: Option<String>,
    pub team_id: Option<String>,
    pub start_ms: Option<i64>,
    pub end_ms: Option<i64>,
    /// `/spend/logs/ui`'s further filters: the model group, `success`/`failure`, a spend range.
    pub model: Option<String>,
    pub status: Option<String>,
    pub min_spend: Option<f64>,
    pub max_spend: Option<f64>,
}

impl Store {
    /// The WHERE clause (with its parameters) that selects the logs `f` matches.
    fn spend_where(&self, f: &SpendFilter) -> (String, Vec<Param>) {
        let mut conds = Vec::new();
        let mut params = Vec::new();
        for (col, v) in [
            ("api_key", &f.api_key),
            ("user", &f.user),
            ("request_id", &f.request_id),
            ("team_id", &f.team_id),
        ] {
            if let Some(v) = v {
                params.push(Param::Text(Some(v.clone())));
                conds.push(format!(
                    "\"{col}\" = {}",
                    codec::param_expr(self, params.len(), Kind::Text)
                ));
            }
        }
        if let Some(m) = &f.model {
            // The model as logged or its public group name.
            params.push(Param::Text(Some(m.clone())));
            let p = codec::param_expr(self, params.len(), Kind::Text);
            conds.push(format!("(\"model\" = {p} OR \"model_group\" = {p})"));
        }
        match f.status.as_deref() {
            // LiteLLM's rows before `status` existed were successes.
            Some("success") => conds.push("(\"status\" IS NULL OR \"status\" <> 'failure')".into()),
            Some(s) => {
                params.push(Param::Text(Some(s.to_string())));
                conds.push(format!(
                    "\"status\" = {}",
                    codec::param_expr(self, params.len(), Kind::Text)
                ));
            }
            None => {}
        }
        for (op, v) in [(">=", f.min_spend), ("<=", f.max_spend)] {
            if let Some(x) = v {
                params.push(Param::Float(Some(x)));
                conds.push(format!(
                    "\"spend\" {op} {}",
                    codec::param_expr(self, params.len(), Kind::Float)
                ));
            }
        }
        for (op, v) in [(">=", f.start_ms), ("<=", f.end_ms)] {
            if let Some(ms) = v {
                params.push(Param::Int(Some(ms)));
                conds.push(format!(
                    "\"startTime\" {op} {}",
                    codec::param_expr(self, params.len(), Kind::Time)
                ));
            }
        }
        let filter = if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        };
        (filter, params)
    }

    /// Spend logs matching `f`, oldest first, at most `limit`.
    pub async fn spend_logs(
        &self,
        f: &SpendFilter,
        limit: u64,
    ) -> Result<Vec<SpendLog>, StoreError> {
        let (filter, params) = self.spend_where(f);
        let sql = format!(
            "SELECT {} FROM \"{TABLE}\"{filter} ORDER BY \"startTime\" LIMIT {limit}",
            codec::select_list(self, TABLE, COLUMNS)
        );
        codec::fetch(self, &sql, params, COLUMNS)
            .await?
            .into_iter()
            .map(codec::from_row)
            .collect()
    }

    /// A page (1-based) of the logs `f` matches, newest first, and how many match.
    pub async fn spend_logs_page(
        &self,
        f: &SpendFilter,
        page: u64,
        size: u64,
    ) -> Result<(Vec<SpendLog>, u64), StoreError> {
        let (filter, params) = self.spend_where(f);
        let count_cols: Columns = &[("n", Kind::Int)];
        let counted = codec::fetch(
            self,
            &format!("SELECT COUNT(*) AS \"n\" FROM \"{TABLE}\"{filter}"),
            params.clone(),
            count_cols,
        )
        .await?;
        let total = counted
            .first()
            .and_then(|r| r["n"].as_i64())
            .unwrap_or(0)
            .max(0) as u64;
        let offset = page.saturating_sub(1).saturating_mul(size);
        let sql = format!(
            "SELECT {} FROM \"{TABLE}\"{filter} ORDER BY \"startTime\" DESC, \"request_id\" LIMIT {size} OFFSET {offset}",
            codec::select_list(self, TABLE, COLUMNS)
        );
        let rows = codec::fetch(self, &sql, params, COLUMNS)
            .await?
            .into_iter()
            .map(codec::from_row)
            .collect::<Result<Vec<SpendLog>, _>>()?;
        Ok((rows, total))
    }

    /// The spend of every request logged.
    pub async fn total_spend(&self) -> Result<f64, StoreError> {
        let cols: Columns = &[("total", Kind::Float)];
        let rows = codec::fetch(
            self,
            &format!("SELECT COALESCE(SUM(\"spend\"), 0.0) AS \"total\" FROM \"{TABLE}\""),
            vec![],
            cols,
        )
        .await?;
        Ok(rows
            .first()
            .and_then(|r| r["total"].as_f64())
            .unwrap_or(0.0))
    }
}

/// Spend logs summed by UTC day, team, end user, key and model: what `/global/spend/report`
/// regroups.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct ReportRow {
    pub day: String,
    pub team_id: Option<String>,
    pub end_user: Option<String>,
    pub api_key: String,
    pub user: Option<String>,
    pub model: String,
    pub spend: f64,
    pub prompt_tokens: i64,
    pub completion_tokens: i64,
    pub total_tokens: i64,
}

impl Store {
    /// Report rows for requests started in `[start_ms, end_ms)`.
    pub async fn spend_report(
        &self,
        start_ms: i64,
        end_ms: i64,
    ) -> Result<Vec<ReportRow>, StoreError> {
        let day = match self.db {
            Db::Postgres(_) => "to_char(\"startTime\", 'YYYY-MM-DD')",
            Db::Sqlite(_) => "substr(\"startTime\", 1, 10)",
        };
        let cols: Columns = &[
            ("day", Kind::Text),
            ("team_id", Kind::Text),
            ("end_user", Kind::Text),
            ("api_key", Kind::Text),
            ("user", Kind::Text),
            ("model", Kind::Text),
            ("spend", Kind::Float),
            ("prompt_tokens", Kind::Int),
            ("completion_tokens", Kind::Int),
            ("total_tokens", Kind::Int),
        ];
        let (p1, p2) = (
            codec::param_expr(self, 1, Kind::Time),
            codec::param_expr(self, 2, Kind::Time),
        );
        let sql = format!(
            "SELECT {day} AS \"day\", \"team_id\", \"end_user\", \"api_key\", \"user\", \"model\", \
             CAST(SUM(\"spend\") AS DOUBLE PRECISION) AS \"spend\", \
             CAST(SUM(\"prompt_tokens\") AS BIGINT) AS \"prompt_tokens\", \
             CAST(SUM(\"completion_tokens\") AS BIGINT) AS \"completion_tokens\", \
             CAST(SUM(\"total_tokens\") AS BIGINT) AS \"total_tokens\" \
             FROM \"{TABLE}\" WHERE \"startTime\" >= {p1} AND \"startTime\" < {p2} \
             GROUP BY 1, \"team_id\", \"end_user\", \"api_key\", \"user\", \"model\" ORDER BY 1"
        );
        codec::fetch(
            self,
            &sql,
            vec![Param::Int(Some(start_ms)), Param::Int(Some(end_ms))],
            cols,
        )
        .await?
        .into_iter()
        .map(codec::from_row)
        .collect()
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn batches_use_a_few_statement_shapes() {
        let logs: Vec<u32> = (0..1000).collect();
        let sizes: Vec<usize> = super::shaped_chunks(&logs, 256).map(<[u32]>::len).collect();
        assert_eq!(sizes, [256, 256, 256, 128, 64, 32, 8]);
        assert_eq!(super::shaped_chunks(&logs[..0], 256).count(), 0);
        let joined: Vec<u32> = super::shaped_chunks(&logs[..7], 4)
            .flatten()
            .copied()
            .collect();
        assert_eq!(joined, logs[..7]);
    }
}
