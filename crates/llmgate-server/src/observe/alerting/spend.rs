//! `spend_reports`: LiteLLM's scheduled spend report (`send_weekly_spend_report`): every
//! `general_settings.spend_report_frequency` (`<n>d`, default `7d`), first 10 s after the
//! start as LiteLLM's scheduler runs it, the spend of the last n days per team (by alias,
//! `None` for calls without one) and per request tag, highest first, rounded to 4 digits; no
//! spend, no report. Read from the spend logs (teams) and the daily tag roll-up (tags). With
//! Redis, a fleet sends one report per period (a `SET NX` claim, as its daily report).

use std::sync::Arc;
use std::time::Duration;

use llmgate_store::entities::TeamRow;
use llmgate_store::Store;

use super::{Alerting, Redis};

/// LiteLLM's scheduler starts the first report this long after the start.
const FIRST_RUN: Duration = Duration::from_secs(10);

/// `spend_report_frequency`: days (`7d`); anything else refuses the start, as LiteLLM raises.
pub fn frequency_days(v: Option<&serde_json::Value>) -> Result<u32, String> {
    let Some(v) = v.filter(|v| !v.is_null()) else {
        return Ok(7);
    };
    let s = v.as_str().unwrap_or_default();
    s.strip_suffix(['d', 'D'])
        .and_then(|n| n.parse::<u32>().ok())
        .filter(|n| *n > 0)
        .ok_or_else(|| {
            format!(
                "general_settings.spend_report_frequency: {v} must be a number of days, e.g. '1d', '7d'"
            )
        })
}

/// Python's `round(x, 4)` printed as `str()` does (`0.0123`, `1.5`, `2.0`).
fn round4(x: f64) -> String {
    crate::pyfmt::py_float((x * 10_000.0).round() / 10_000.0)
}

/// `MM-DD-YYYY` of a `YYYY-MM-DD` date.
fn us_date(iso: &str) -> String {
    format!("{}-{}-{}", &iso[5..7], &iso[8..10], &iso[..4])
}

/// The report's text for the days `[start, end]`; None when nothing was spent.
pub async fn report(store: &Store, days: u32) -> Option<String> {
    let now = llmgate_store::now_ms();
    let end = llmgate_store::time::iso(now)[..10].to_string();
    let start_ms = now - i64::from(days) * 86_400_000;
    let start = llmgate_store::time::iso(start_ms)[..10].to_string();
    // Whole UTC days, both ends included (LiteLLM compares `startTime::DATE`).
    let from = start_ms - start_ms.rem_euclid(86_400_000);
    let to = now - now.rem_euclid(86_400_000) + 86_400_000;
    let rows = match store.spend_report(from, to).await {
        Ok(r) => r,
        Err(e) => {
            tracing::warn!(error = %e, "spend report: cannot read the spend logs");
            return None;
        }
    };
    let mut teams: Vec<(Option<String>, f64)> = Vec::new();
    for r in &rows {
        match teams.iter_mut().find(|(t, _)| *t == r.team_id) {
            Some(t) => t.1 += r.spend,
            None => teams.push((r.team_id.clone(), r.spend)),
        }
    }
    let mut by_alias: Vec<(String, f64)> = Vec::new();
    for (id, spend) in teams {
        let alias = match id {
            Some(id) => llmgate_store::entities::TEAMS
                .get::<TeamRow>(store, &id)
                .await
                .ok()
                .flatten()
                .and_then(|t| t.team_alias)
                .unwrap_or_else(|| "None".into()),
            None => "None".into(),
        };
        match by_alias.iter_mut().find(|(a, _)| *a == alias) {
            Some(a) => a.1 += spend,
            None => by_alias.push((alias, spend)),
        }
    }
    let filter = llmgate_store::daily::DailyFilter {
        start_date: start.clone(),
        end_date: end.clone(),
        ..Default::default()
    };
    let mut tags: Vec<(String, f64)> = Vec::new();
    if let Ok(rows) = store.daily_rows(llmgate_store::daily::TAG, &filter).await {
        for r in rows {
            let Some(tag) = r.entity else { continue };
            match tags.iter_mut().find(|(t, _)| *t == tag) {
                Some(t) => t.1 += r.metrics.spend,
                None => tags.push((tag, r.metrics.spend)),
            }
        }
    }
    if by_alias.is_empty() && tags.is_empty() {
        return None;
    }
    let desc = |a: &(String, f64), b: &(String, f64)| b.1.total_cmp(&a.1);
    by_alias.sort_by(desc);
    tags.sort_by(desc);
    let mut msg = format!(
        "*💸 Spend Report for `{} - {}` ({days} days)*\n",
        us_date(&start),
        us_date(&end)
    );
    msg.push_str("\n*Team Spend Report:*\n");
    for (alias, spend) in &by_alias {
        msg.push_str(&format!("Team: `{alias}` | Spend: `${}`\n", round4(*spend)));
    }
    msg.push_str("\n*Tag Spend Report:*\n");
    for (tag, spend) in &tags {
        msg.push_str(&format!("Tag: `{tag}` | Spend: `${}`\n", round4(*spend)));
    }
    Some(msg)
}

/// The report's schedule (spawned by `Alerting::start` when `spend_reports` is wanted).
pub async fn run(alerting: Arc<Alerting>, store: Store, days: u32, redis_url: Option<String>) {
    let mut redis = Redis::new(redis_url);
    let period = Duration::from_secs(u64::from(days) * 86_400);
    tokio::time::sleep(FIRST_RUN).await;
    loop {
        let day = &llmgate_store::time::iso(llmgate_store::now_ms())[..10];
        // One report per period and fleet (LiteLLM's `weekly_spend_report_sent_<start>_<end>`).
        let claim = format!("spend_report:{days}d:{day}");
        if let Some(msg) = report(&store, days).await {
            if redis.claim(&claim, period).await {
                alerting.slack("spend_reports", "Low", msg);
            }
        }
        tokio::time::sleep(period).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn frequencies_are_days() {
        assert_eq!(frequency_days(None), Ok(7));
        assert_eq!(frequency_days(Some(&json!("1d"))), Ok(1));
        assert!(frequency_days(Some(&json!("12h"))).is_err());
        assert!(frequency_days(Some(&json!(7))).is_err());
        assert_eq!(round4(0.012345), "0.0123");
        assert_eq!(round4(2.0), "2.0");
        assert_eq!(us_date("2026-12-02"), "12-02-2026");
    }
}
