//! The router's state shared by a fleet through Redis: a deployment one instance cools down
//! is skipped by every instance, and deployments' rpm/tpm this minute count every instance's
//! calls (usage-based routing and limits hold fleet-wide).
//!
//! Every [`SYNC_INTERVAL`], off the request path, one pipeline writes this instance's new
//! cooldowns (`llmgate:cooldown:<id>` = the epoch ms it ends, expiring then) and usage
//! increments (`llmgate:usage:<id>:<minute>` hash of `r`/`t`), and reads back every
//! deployment's cooldown and the usage of those with limits. So a cooldown reaches the other
//! instances within two intervals plus a round trip (a test measures it); a Redis outage
//! leaves each instance with its own view, and the request path never waits on Redis.

use std::time::Duration;

use llmgate::router::stats::now_ms;

use crate::state::AppState;

pub const SYNC_INTERVAL: Duration = Duration::from_millis(100);
/// Usage hashes outlive their minute a little, for late readers.
const USAGE_TTL_S: i64 = 120;

fn cooldown_key(id: &str) -> String {
    format!("llmgate:cooldown:{id}")
}

fn usage_key(id: &str, window: i64) -> String {
    format!("llmgate:usage:{id}:{window}")
}

pub fn spawn(state: AppState, url: String) {
    let client = match redis::Client::open(url.as_str()) {
        Ok(c) => c,
        Err(e) => {
            tracing::error!(error = %e, "bad Redis URL: cooldowns and deployment usage are per instance");
            return;
        }
    };
    tokio::spawn(async move {
        let mut conn = None;
        let mut logged = false;
        let mut tick = tokio::time::interval(SYNC_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if conn.is_none() {
                conn = crate::governance::limits::connect(&client).await;
            }
            let Some(c) = conn.as_mut() else { continue };
            match sync_once(&state, c).await {
                Ok(()) => logged = false,
                Err(e) => {
                    if !logged {
                        tracing::warn!(error = %e, "Redis router sync failed: cooldowns and deployment usage are per instance until it is back");
                        logged = true;
                    }
                }
            }
        }
    });
}

async fn sync_once(
    state: &AppState,
    c: &mut redis::aio::ConnectionManager,
) -> redis::RedisResult<()> {
    let deployments = state.deployments();
    let router = deployments.router();
    let now = now_ms();
    let mut pipe = redis::pipe();
    // (stats, window start, whether its usage is read back)
    let mut read = Vec::new();
    for (_, members) in router.groups().chain(router.wildcard_groups()) {
        for m in members {
            let id = &m.params.id;
            let s = &m.stats;
            if s.take_cooled_here() {
                let until = s.cooldown_until();
                pipe.cmd("SET")
                    .arg(cooldown_key(id))
                    .arg(until)
                    .arg("PXAT")
                    .arg(until.max(now + 1))
                    .ignore();
            }
            let (window, r, t) = s.take_pending(now);
            let key = usage_key(id, window);
            if r > 0 || t > 0 {
                pipe.cmd("HINCRBY").arg(&key).arg("r").arg(r).ignore();
                pipe.cmd("HINCRBY").arg(&key).arg("t").arg(t).ignore();
                pipe.cmd("EXPIRE").arg(&key).arg(USAGE_TTL_S).ignore();
            }
            pipe.cmd("GET").arg(cooldown_key(id));
            let limited = m.params.rpm.is_some() || m.params.tpm.is_some();
            if limited {
                pipe.cmd("HMGET").arg(&key).arg("r").arg("t");
            }
            read.push((s.clone(), window, limited));
        }
    }
    if read.is_empty() {
        return Ok(());
    }
    let values: Vec<redis::Value> =
        crate::observe::services::redis("async_batch_get_cache", pipe.query_async(c)).await?;
    let mut it = values.into_iter();
    for (s, window, limited) in read {
        let until: Option<i64> = it.next().and_then(|v| redis::from_redis_value(v).ok());
        if let Some(until) = until.filter(|u| *u > now) {
            s.cool_until(until, false);
        }
        if limited {
            let (r, t): (Option<u64>, Option<u64>) = it
                .next()
                .and_then(|v| redis::from_redis_value(v).ok())
                .unwrap_or((None, None));
            s.set_fleet(now, window, r.unwrap_or(0), t.unwrap_or(0));
        }
    }
    Ok(())
}
