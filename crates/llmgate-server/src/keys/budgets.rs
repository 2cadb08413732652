//! Budget periods (`budget_duration`: "30s", "1h", "30d", "1mo"): a background task starts a new
//! period for every key, user, team and budget (organizations, end users, tags) whose
//! `budget_reset_at` has passed — spend back to 0 in
//! the database and in the caches — and schedules the next one.

use std::time::Duration;

use llmgate_store::codec;
use llmgate_store::entities::{BUDGETS, CUSTOMERS, ORGANIZATIONS, TAGS, TEAMS, USERS};

use crate::routes::keys::duration_ms;
use crate::state::AppState;

/// How often to look for ended periods: `general_settings.proxy_budget_rescheduler_min_time`
/// (LiteLLM's setting, seconds), else a minute.
pub fn interval(state: &AppState) -> Duration {
    state
        .config
        .general_settings
        .extra
        .get("proxy_budget_rescheduler_min_time")
        .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
        .filter(|s| *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(60))
}

pub fn spawn(state: AppState) {
    if state.store.is_none() {
        return;
    }
    let every = interval(&state);
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            if let Err(e) = reset_due(&state).await {
                tracing::warn!(error = %e, "budget reset failed; will retry");
            }
        }
    });
}

/// Resets every period that has ended; returns how many.
pub async fn reset_due(state: &AppState) -> Result<usize, llmgate_store::StoreError> {
    let Some(store) = &state.store else {
        return Ok(0);
    };
    // Spend of the ending period reaches the database before it is zeroed.
    if let Some(w) = &state.spend {
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
                "token" => state.keys.keys.reset(&id, 0.0),
                "user_id" => state.keys.users.reset(&id, 0.0),
                _ => state.keys.teams.reset(&id, 0.0),
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
                    t if t == ORGANIZATIONS.name => state.keys.orgs.reset(&id, 0.0),
                    t if t == CUSTOMERS.name => state.keys.customers.reset(&id, 0.0),
                    _ => state.keys.tags.reset(&id, 0.0),
                }
            }
        }
        codec::set_budget_reset(store, &budget_id, now + ms).await?;
        state.keys.budgets.remove(&budget_id);
        n += 1;
    }
    if n > 0 {
        tracing::info!(budgets = n, "budget periods reset");
    }
    Ok(n)
}
