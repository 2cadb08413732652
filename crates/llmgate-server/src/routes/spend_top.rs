//! LiteLLM's 30-day spend views: `/global/spend/keys`, `/global/spend/models` (top spenders,
//! its `Last30dKeysBySpend` / `Last30dModelsBySpend` views) and `/global/spend/teams` (daily
//! spend per team alias). Admin only; computed from the same day rows as the spend report.

use std::collections::HashMap;

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use llmgate_store::spend::ReportRow;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::admin::{admin_store, db, run};
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::state::AppState;

const DAY_MS: i64 = 86_400_000;

/// The day rows of the last 30 days (from midnight UTC 30 days ago, as `CURRENT_DATE - 30`).
async fn last_30_days(
    state: &AppState,
    auth: &AuthContext,
    route: &str,
) -> Result<Vec<ReportRow>, GatewayError> {
    let store = admin_store(state, auth, route)?;
    let now = llmgate_store::now_ms();
    let start = now - now.rem_euclid(DAY_MS) - 30 * DAY_MS;
    let rows = store.spend_report(start, now + DAY_MS).await.map_err(db)?;
    Ok(rows)
}

#[derive(Deserialize)]
pub struct Limit {
    limit: Option<String>,
}

/// `limit` as LiteLLM takes it: a positive integer, else 422.
fn limit(q: &Limit, default: Option<usize>) -> Result<Option<usize>, GatewayError> {
    match &q.limit {
        None => Ok(default),
        Some(s) => match s.parse::<usize>() {
            Ok(n) if n >= 1 => Ok(Some(n)),
            _ => Err(GatewayError::Unprocessable(format!(
                "Invalid limit: {s}, error: Limit must be greater than 0"
            ))),
        },
    }
}

/// Sums `rows` by `group`, largest first (ties by name, so answers are stable).
fn top(rows: &[ReportRow], group: impl Fn(&ReportRow) -> Option<String>) -> Vec<(String, f64)> {
    let mut sums: HashMap<String, f64> = HashMap::new();
    for r in rows {
        if let Some(g) = group(r) {
            *sums.entry(g).or_default() += r.spend;
        }
    }
    let mut out: Vec<(String, f64)> = sums.into_iter().collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    out
}

pub async fn keys(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<Limit>,
) -> Response {
    run(async {
        let n = limit(&q, None)?;
        let rows = last_30_days(&state, &auth, "/global/spend/keys").await?;
        let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
        let mut out = Vec::new();
        for (api_key, total) in top(&rows, |r| Some(r.api_key.clone()))
            .into_iter()
            .take(n.unwrap_or(usize::MAX))
        {
            let key = state.gov.keys.get(store, &api_key).await.map_err(db)?;
            let row = key.as_ref().map(|k| &k.row);
            out.push(json!({
                "api_key": api_key,
                "key_alias": row.and_then(|r| r.key_alias.clone()),
                "key_name": row.and_then(|r| r.key_name.clone()),
                "total_spend": total,
            }));
        }
        Ok(Json(out).into_response())
    })
    .await
}

pub async fn models(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<Limit>,
) -> Response {
    run(async {
        let n = limit(&q, Some(10))?.unwrap_or(10);
        let rows = last_30_days(&state, &auth, "/global/spend/models").await?;
        let out: Vec<Value> = top(&rows, |r| Some(r.model.clone()).filter(|m| !m.is_empty()))
            .into_iter()
            .take(n)
            .map(|(model, total)| json!({"model": model, "total_spend": total}))
            .collect();
        Ok(Json(out).into_response())
    })
    .await
}

fn cents(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

pub async fn teams(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
) -> Response {
    run(async {
        let rows = last_30_days(&state, &auth, "/global/spend/teams").await?;
        let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
        let mut aliases: HashMap<String, String> = HashMap::new();
        for t in rows.iter().filter_map(|r| r.team_id.as_ref()) {
            if !aliases.contains_key(t) {
                let team = state.gov.keys.teams.get(store, t).await.map_err(db)?;
                let alias = team.and_then(|t| t.row.team_alias.clone());
                aliases.insert(t.clone(), alias.unwrap_or_else(|| "Unassigned".into()));
            }
        }
        let alias = |r: &ReportRow| {
            r.team_id
                .as_ref()
                .and_then(|t| aliases.get(t).cloned())
                .unwrap_or_else(|| "Unassigned".into())
        };
        // LiteLLM rounds each day's spend to cents before adding the team totals.
        let mut days: Vec<(String, Map<String, Value>)> = Vec::new();
        let mut per_day: HashMap<(String, String), f64> = HashMap::new();
        for r in &rows {
            *per_day.entry((r.day.clone(), alias(r))).or_default() += r.spend;
        }
        let mut keys: Vec<&(String, String)> = per_day.keys().collect();
        keys.sort();
        let mut totals: HashMap<String, f64> = HashMap::new();
        let mut teams: Vec<String> = Vec::new();
        for k in keys {
            let spend = cents(per_day[k]);
            if days.last().is_none_or(|(d, _)| d != &k.0) {
                days.push((k.0.clone(), Map::new()));
            }
            if let Some((_, m)) = days.last_mut() {
                m.insert(k.1.clone(), json!(spend));
            }
            *totals.entry(k.1.clone()).or_default() += spend;
            if !teams.contains(&k.1) {
                teams.push(k.1.clone());
            }
        }
        let mut ranked: Vec<(String, f64)> = totals.into_iter().collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        let daily: Vec<Value> = days
            .into_iter()
            .map(|(date, mut m)| {
                m.insert("date".into(), json!(date));
                Value::Object(m)
            })
            .collect();
        let per_team: Vec<Value> = ranked
            .into_iter()
            .take(10)
            .map(|(team, total)| json!({"team_id": team, "total_spend": total}))
            .collect();
        Ok(Json(json!({
            "daily_spend": daily,
            "teams": teams,
            "total_spend_per_team": per_team,
        }))
        .into_response())
    })
    .await
}
