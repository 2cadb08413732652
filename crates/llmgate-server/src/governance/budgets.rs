//! Budget periods (`budget_duration`: "30s", "1h", "30d", "1mo"): a background task starts a new
//! period for every key, user, team and budget (organizations, end users, tags) whose
//! `budget_reset_at` has passed — spend back to 0 in
//! the database and in the caches — and schedules the next one.

use std::time::Duration;

use llmgate_store::codec;
use llmgate_store::entities::{BUDGETS, CUSTOMERS, ORGANIZATIONS, TAGS, TEAMS, USERS};

use super::Governance;

/// How often to look for ended periods: `general_settings.proxy_budget_rescheduler_min_time`
/// (LiteLLM's setting, seconds), else a minute.
pub fn interval(config: &crate::config::Config) -> Duration {
    config
        .general_settings
        .seconds("proxy_budget_rescheduler_min_time")
        .unwrap_or(Duration::from_secs(60))
}

pub fn spawn(gov: std::sync::Arc<Governance>, every: Duration) {
    if gov.store.is_none() {
        return;
    }
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = reset_due(&gov).await {
                tracing::warn!(error = %e, "budget reset failed; will retry");
            }
        }
    });
}

/// Resets every period that has ended; returns how many.
pub async fn reset_due(gov: &Governance) -> Result<usize, llmgate_store::StoreError> {
    let Some(store) = &gov.store else {
        return Ok(0);
    };
    // Spend of the ending period reaches the database before it is zeroed.
    if let Some(w) = &gov.spend {
        w.flush().await;
    }
    let now = llmgate_store::now_ms();
    let mut n = 0;
    for (table, id_col) in [
        (llmgate_store::keys::TABLE, "token"),
        (USERS.name, USERS.id),
        (TEAMS.name, TEAMS.id),
    ] {
        for (id, duration) in codec::due_resets(store, table, id_col, now).await? {
            let Some(ms) = duration_ms(&duration) else {
                continue;
            };
            codec::reset_spend(store, table, id_col, &id, now + ms).await?;
            // The cached row is stale now: the next request reloads it with spend 0.
            match id_col {
                "token" => gov.keys.keys.reset(&id, 0.0),
                "user_id" => gov.keys.users.reset(&id, 0.0),
                _ => gov.keys.teams.reset(&id, 0.0),
            }
            n += 1;
        }
    }
    // Organizations, end users and tags keep their period in LiteLLM_BudgetTable.
    for (budget_id, duration) in codec::due_resets(store, BUDGETS.name, BUDGETS.id, now).await? {
        let Some(ms) = duration_ms(&duration) else {
            continue;
        };
        for (table, id_col) in [
            (ORGANIZATIONS.name, ORGANIZATIONS.id),
            (CUSTOMERS.name, CUSTOMERS.id),
            (TAGS.name, TAGS.id),
        ] {
            for id in codec::reset_spend_by_budget(store, table, id_col, &budget_id).await? {
                match table {
                    t if t == ORGANIZATIONS.name => gov.keys.orgs.reset(&id, 0.0),
                    t if t == CUSTOMERS.name => gov.keys.customers.reset(&id, 0.0),
                    _ => gov.keys.tags.reset(&id, 0.0),
                }
            }
        }
        codec::set_budget_reset(store, &budget_id, now + ms).await?;
        gov.keys.budgets.remove(&budget_id);
        n += 1;
    }
    if n > 0 {
        tracing::info!(budgets = n, "budget periods reset");
    }
    Ok(n)
}

/// `"30s"`, `"5m"`, `"1h"`, `"30d"`, `"1mo"` → milliseconds.
pub fn duration_ms(s: &str) -> Option<i64> {
    let s = s.trim();
    let split = s.find(|c: char| !c.is_ascii_digit())?;
    let (n, unit) = s.split_at(split);
    let n: i64 = n.parse().ok()?;
    let unit_ms = match unit {
        "s" => 1_000,
        "m" => 60_000,
        "h" => 3_600_000,
        "d" => 86_400_000,
        "w" => 7 * 86_400_000,
        "mo" => 30 * 86_400_000,
        "y" => 365 * 86_400_000,
        _ => return None,
    };
    Some(n * unit_ms)
}

#[cfg(test)]
mod tests {
    use super::duration_ms;

    #[test]
    fn durations() {
        assert_eq!(duration_ms("30s"), Some(30_000));
        assert_eq!(duration_ms("1h"), Some(3_600_000));
        assert_eq!(duration_ms("30d"), Some(30 * 86_400_000));
        assert_eq!(duration_ms("1mo"), Some(30 * 86_400_000));
        assert_eq!(duration_ms("soon"), None);
    }
}
