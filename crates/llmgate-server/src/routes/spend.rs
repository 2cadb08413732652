//! Spend reporting: `/spend/logs`, `/global/spend` and `/global/spend/report` (admin only).

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use llmgate_store::spend::{ReportRow, SpendFilter};
use serde::Deserialize;
use serde_json::{json, Value};

use super::admin::{admin_store, db, run, token_of};
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::state::AppState;

#[derive(Deserialize)]
pub struct LogsQuery {
    api_key: Option<String>,
    user_id: Option<String>,
    request_id: Option<String>,
    team_id: Option<String>,
    start_date: Option<String>,
    end_date: Option<String>,
}

use llmgate_store::time::day_ms;

pub async fn logs(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<LogsQuery>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/spend/logs")?;
        let date = |s: &Option<String>, end: bool| -> Result<Option<i64>, GatewayError> {
            s.as_ref()
                .map(|d| {
                    day_ms(d)
                        .map(|ms| if end { ms + 86_400_000 - 1 } else { ms })
                        .ok_or_else(|| {
                            GatewayError::BadRequest(format!("invalid date '{d}': use YYYY-MM-DD"))
                        })
                })
                .transpose()
        };
        let filter = SpendFilter {
            api_key: q.api_key.as_deref().map(token_of),
            user: q.user_id,
            request_id: q.request_id,
            team_id: q.team_id,
            start_ms: date(&q.start_date, false)?,
            end_ms: date(&q.end_date, true)?,
            ..SpendFilter::default()
        };
        let logs = store.spend_logs(&filter, 10_000).await.map_err(db)?;
        let out: Vec<Value> = logs
            .iter()
            .map(|l| serde_json::to_value(l).unwrap_or(Value::Null))
            .collect();
        Ok(Json(out).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct UiLogsQuery {
    api_key: Option<String>,
    user_id: Option<String>,
    request_id: Option<String>,
    team_id: Option<String>,
    model: Option<String>,
    status_filter: Option<String>,
    min_spend: Option<f64>,
    max_spend: Option<f64>,
    start_date: Option<String>,
    end_date: Option<String>,
    page: Option<u64>,
    page_size: Option<u64>,
}

/// `YYYY-MM-DD HH:MM:SS` (LiteLLM's format for `/spend/logs/ui`) or `YYYY-MM-DD`, in UTC.
fn date_time_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let (day, time) = match s.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t.trim_end_matches('Z'))),
        None => (s, None),
    };
    let mut ms = day_ms(day)?;
    if let Some(t) = time {
        let parts: Vec<&str> = t.split(':').collect();
        let [h, m, sec] = parts.as_slice() else {
            return None;
        };
        let (h, m): (i64, i64) = (h.parse().ok()?, m.parse().ok()?);
        let sec: f64 = sec.parse().ok()?;
        if !(0..24).contains(&h) || !(0..60).contains(&m) || !(0.0..61.0).contains(&sec) {
            return None;
        }
        ms += h * 3_600_000 + m * 60_000 + (sec * 1000.0) as i64;
    }
    Some(ms)
}

/// `/spend/logs/ui`: a page of spend logs, newest first, between two times (both required, as
/// LiteLLM), filtered by key, user, team, request, model, status and spend. A key that is not
/// an admin's sees only its own user's logs (a key without a user: its own).
pub async fn logs_ui(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<UiLogsQuery>,
) -> Response {
    run(async {
        let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
        let (Some(s), Some(e)) = (&q.start_date, &q.end_date) else {
            return Err(GatewayError::BadRequest(
                "Start date and end date are required".into(),
            ));
        };
        let bad = |d: &str| {
            GatewayError::BadRequest(format!("invalid date '{d}': use YYYY-MM-DD HH:MM:SS (UTC)"))
        };
        let start_ms = date_time_ms(s).ok_or_else(|| bad(s))?;
        let mut end_ms = date_time_ms(e).ok_or_else(|| bad(e))?;
        if !e.trim().contains([' ', 'T']) {
            end_ms += 86_400_000 - 1;
        }
        let status = match q.status_filter.as_deref().filter(|s| !s.is_empty()) {
            None => None,
            Some(s @ ("success" | "failure")) => Some(s.to_string()),
            Some(other) => {
                return Err(GatewayError::BadRequest(format!(
                    "status_filter must be success or failure; got '{other}'"
                )))
            }
        };
        let mut filter = SpendFilter {
            api_key: q.api_key.as_deref().map(token_of),
            user: q.user_id,
            request_id: q.request_id,
            team_id: q.team_id,
            start_ms: Some(start_ms),
            end_ms: Some(end_ms),
            model: q.model.filter(|m| !m.is_empty()),
            status,
            min_spend: q.min_spend,
            max_spend: q.max_spend,
        };
        if !auth.is_admin() {
            let key = auth.key.as_ref().ok_or(GatewayError::NoDb)?;
            match &key.row.user_id {
                Some(me) => {
                    if filter.user.as_ref().is_some_and(|u| u != me) {
                        return Err(GatewayError::Forbidden {
                            message: "Non-admin users can only view their own spend logs.".into(),
                            kind: "auth_error",
                        });
                    }
                    filter.user = Some(me.clone());
                }
                None => filter.api_key = Some(key.row.token.clone()),
            }
        }
        let page = q.page.unwrap_or(1).max(1);
        let size = q.page_size.unwrap_or(50).clamp(1, 100);
        let (rows, total) = store
            .spend_logs_page(&filter, page, size)
            .await
            .map_err(db)?;
        let data: Vec<Value> = rows
            .iter()
            .map(|l| {
                let mut v = serde_json::to_value(l).unwrap_or(Value::Null);
                for k in ["startTime", "endTime"] {
                    if let Some(ms) = v[k].as_i64() {
                        v[k] = json!(llmgate_store::time::iso(ms));
                    }
                }
                v
            })
            .collect();
        Ok(Json(json!({
            "data": data,
            "total": total,
            "page": page,
            "page_size": size,
            "total_pages": total.div_ceil(size),
        }))
        .into_response())
    })
    .await
}

pub async fn global(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/global/spend")?;
        let spend = store.total_spend().await.map_err(db)?;
        Ok(Json(json!({"spend": spend, "max_budget": null})).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct ReportQuery {
    start_date: Option<String>,
    end_date: Option<String>,
    group_by: Option<String>,
    api_key: Option<String>,
    internal_user_id: Option<String>,
    team_id: Option<String>,
    customer_id: Option<String>,
}

/// `/global/spend/report`: spend between two dates (both inclusive) grouped by team (default),
/// customer or key, in LiteLLM's shapes. (An enterprise feature in LiteLLM; here for all.)
pub async fn report(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<ReportQuery>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/global/spend/report")?;
        let (Some(s), Some(e)) = (&q.start_date, &q.end_date) else {
            return Err(GatewayError::BadRequest(
                "Please provide start_date and end_date".into(),
            ));
        };
        let bad = |d: &str| GatewayError::BadRequest(format!("invalid date '{d}': use YYYY-MM-DD"));
        let start = day_ms(s).ok_or_else(|| bad(s))?;
        let end = day_ms(e).ok_or_else(|| bad(e))? + 86_400_000;
        let mut rows = store.spend_report(start, end).await.map_err(db)?;
        let key_filter = q.api_key.as_deref().map(token_of);
        rows.retain(|r| {
            key_filter.as_ref().is_none_or(|k| &r.api_key == k)
                && q.internal_user_id
                    .as_ref()
                    .is_none_or(|u| r.user.as_ref() == Some(u))
                && q.team_id
                    .as_ref()
                    .is_none_or(|t| r.team_id.as_ref() == Some(t))
                && q.customer_id
                    .as_ref()
                    .is_none_or(|c| r.end_user.as_ref() == Some(c))
        });
        let by_key = key_filter.is_some()
            || q.internal_user_id.is_some()
            || q.group_by.as_deref() == Some("api_key");
        if by_key {
            return Ok(Json(report_by_key(&rows)).into_response());
        }
        let team_names = team_aliases(&state, store, &rows).await?;
        let team_name = |r: &ReportRow| {
            r.team_id
                .as_ref()
                .and_then(|t| team_names.get(t).cloned().flatten())
                .unwrap_or_else(|| "Unassigned Team".into())
        };
        if q.team_id.is_some() && q.customer_id.is_some() {
            // LiteLLM's answer for one team's one customer: both names per group.
            let out = report_by_day(&rows, "teams_customers", "team_name", team_name);
            return Ok(
                Json(with_customer(out, q.customer_id.as_deref().unwrap_or(""))).into_response(),
            );
        }
        match q.group_by.as_deref().unwrap_or("team") {
            "team" => {
                Ok(Json(report_by_day(&rows, "teams", "team_name", team_name)).into_response())
            }
            "customer" => Ok(Json(report_by_day(&rows, "customers", "customer", |r| {
                r.end_user.clone().unwrap_or_default()
            }))
            .into_response()),
            other => Err(GatewayError::BadRequest(format!(
                "group_by must be one of team, customer, api_key; got '{other}'"
            ))),
        }
    })
    .await
}

/// Team aliases of the teams in `rows` (from the cache).
async fn team_aliases(
    state: &AppState,
    store: &llmgate_store::Store,
    rows: &[ReportRow],
) -> Result<std::collections::HashMap<String, Option<String>>, GatewayError> {
    let mut names = std::collections::HashMap::new();
    for t in rows.iter().filter_map(|r| r.team_id.as_ref()) {
        if !names.contains_key(t) {
            let team = state.gov.keys.teams.get(store, t).await.map_err(db)?;
            names.insert(t.clone(), team.and_then(|t| t.row.team_alias.clone()));
        }
    }
    Ok(names)
}

/// Adds `customer` to every `teams_customers` entry.
fn with_customer(mut report: Value, customer: &str) -> Value {
    for day in report.as_array_mut().into_iter().flatten() {
        for e in day["teams_customers"].as_array_mut().into_iter().flatten() {
            e["customer"] = json!(customer);
        }
    }
    report
}

/// `[{api_key, total_cost, total_input_tokens, total_output_tokens, model_details: [...]}]`,
/// most expensive key first.
fn report_by_key(rows: &[ReportRow]) -> Value {
    use std::collections::BTreeMap;
    let mut keys: BTreeMap<&str, BTreeMap<&str, (f64, i64, i64)>> = BTreeMap::new();
    for r in rows {
        let m = keys
            .entry(r.api_key.as_str())
            .or_default()
            .entry(r.model.as_str())
            .or_default();
        m.0 += r.spend;
        m.1 += r.prompt_tokens;
        m.2 += r.completion_tokens;
    }
    let mut out: Vec<Value> = keys
        .into_iter()
        .map(|(key, models)| {
            let (cost, input, output) = models
                .values()
                .fold((0.0, 0, 0), |a, m| (a.0 + m.0, a.1 + m.1, a.2 + m.2));
            let details: Vec<Value> = models
                .iter()
                .map(|(model, m)| json!({"model": model, "total_cost": m.0, "total_input_tokens": m.1, "total_output_tokens": m.2}))
                .collect();
            json!({"api_key": key, "total_cost": cost, "total_input_tokens": input, "total_output_tokens": output, "model_details": details})
        })
        .collect();
    out.sort_by(|a, b| {
        b["total_cost"]
            .as_f64()
            .partial_cmp(&a["total_cost"].as_f64())
            .unwrap_or(std::cmp::Ordering::Equal)
    });
    json!(out)
}

/// `[{group_by_day, <list>: [{<name_field>, total_spend, metadata: [{model, api_key, spend,
/// total_tokens}]}]}]` by day.
fn report_by_day(
    rows: &[ReportRow],
    list: &str,
    name_field: &str,
    name: impl Fn(&ReportRow) -> String,
) -> Value {
    use std::collections::BTreeMap;
    /// (model, key) → (spend, tokens), per group name.
    type Groups<'a> = BTreeMap<String, BTreeMap<(&'a str, &'a str), (f64, i64)>>;
    let mut days: BTreeMap<&str, Groups> = BTreeMap::new();
    for r in rows {
        let c = days
            .entry(r.day.as_str())
            .or_default()
            .entry(name(r))
            .or_default()
            .entry((r.model.as_str(), r.api_key.as_str()))
            .or_default();
        c.0 += r.spend;
        c.1 += r.total_tokens;
    }
    let out: Vec<Value> = days
        .into_iter()
        .map(|(day, groups)| {
            let entries: Vec<Value> = groups
                .into_iter()
                .map(|(n, cells)| {
                    let total: f64 = cells.values().map(|c| c.0).sum();
                    let metadata: Vec<Value> = cells
                        .iter()
                        .map(|((model, key), c)| json!({"model": model, "api_key": key, "spend": c.0, "total_tokens": c.1}))
                        .collect();
                    json!({name_field: n, "total_spend": total, "metadata": metadata})
                })
                .collect();
            json!({"group_by_day": format!("{day}T00:00:00+00:00"), list: entries})
        })
        .collect();
    json!(out)
}

#[cfg(test)]
mod tests {
    use super::date_time_ms;

    #[test]
    fn ui_dates_as_litellm_writes_them() {
        let day = date_time_ms("2025-01-02").unwrap();
        assert_eq!(date_time_ms("2025-01-02 00:00:00"), Some(day));
        assert_eq!(date_time_ms("2025-01-02 01:02:03"), Some(day + 3_723_000));
        assert_eq!(date_time_ms("2025-01-02T01:02:03Z"), Some(day + 3_723_000));
        for bad in [
            "2025-01-02 25:00:00",
            "2025-01-02 01:02",
            "yesterday",
            "2025-13-01",
        ] {
            assert_eq!(date_time_ms(bad), None, "{bad}");
        }
    }
}
