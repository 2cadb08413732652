//! The limiter's Redis side: a background task that shares window counts, in-flight counts and
//! per-model budget spend across instances, and where to find Redis.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use super::{Limiter, Shared, SYNC_INTERVAL, WINDOW_MS};

/// Shares the counters through Redis: every [`SYNC_INTERVAL`], one pipeline of INCRBYs.
pub fn spawn_redis_sync(limiter: Arc<Limiter>, url: String) {
    tokio::spawn(async move {
        let client = match redis::Client::open(url.as_str()) {
            Ok(c) => c,
            Err(e) => {
                tracing::error!(error = %e, "bad Redis URL: rate limits are per instance");
                return;
            }
        };
        let mut conn: Option<redis::aio::ConnectionManager> = None;
        let mut tick = tokio::time::interval(SYNC_INTERVAL);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut down_logged = false;
        loop {
            tick.tick().await;
            if conn.is_none() {
                match connect(&client).await {
                    Some(c) => {
                        tracing::info!("rate limits shared through Redis");
                        conn = Some(c);
                        down_logged = false;
                    }
                    None => {
                        if !down_logged {
                            tracing::warn!("Redis unreachable: rate limits count this instance only until it is back");
                            down_logged = true;
                        }
                    }
                }
            }
            let shared = limiter.take_shared();
            if shared.windows.is_empty()
                && shared.parallel.is_empty()
                && shared.model_spend.is_empty()
            {
                continue;
            }
            let Some(c) = conn.as_mut() else {
                limiter.restore(shared.windows);
                limiter.restore_model_spend(shared.model_spend);
                continue;
            };
            match sync_once(c, &limiter, &shared).await {
                Ok(()) => down_logged = false,
                Err(e) => {
                    if !down_logged {
                        tracing::warn!(error = %e, "Redis sync failed: rate limits count this instance only until it is back");
                        down_logged = true;
                    }
                    limiter.restore(shared.windows);
                    limiter.restore_model_spend(shared.model_spend);
                    // Without fresh counts from the others, count only this instance.
                    limiter
                        .parallel_elsewhere
                        .lock()
                        .unwrap_or_else(|e| e.into_inner())
                        .clear();
                }
            }
        }
    });
}

/// A Redis connection for a background task: bounded connect and response times, so an
/// unreachable Redis costs a sync a few seconds at most, never a hang.
pub async fn connect(client: &redis::Client) -> Option<redis::aio::ConnectionManager> {
    let config = redis::aio::ConnectionManagerConfig::new()
        .set_connection_timeout(Some(Duration::from_secs(1)))
        .set_response_timeout(Some(Duration::from_secs(1)));
    let made = tokio::time::timeout(
        Duration::from_secs(2),
        client.get_connection_manager_with_config(config),
    )
    .await;
    match made {
        Ok(Ok(c)) => Some(c),
        Ok(Err(e)) => {
            let class = crate::observe::services::redis_class(&e);
            crate::observe::services::redis_failed("connect", class, &e.to_string());
            None
        }
        Err(_) => {
            crate::observe::services::redis_failed("connect", "TimeoutError", "");
            None
        }
    }
}

/// One pipeline: window INCRBYs, this instance's in-flight counts (a hash field per instance,
/// `count:timestamp`, stale fields ignored), per-model spend INCRBYFLOATs; applies the totals.
async fn sync_once(
    c: &mut redis::aio::ConnectionManager,
    limiter: &Limiter,
    shared: &Shared,
) -> redis::RedisResult<()> {
    let now = llmgate_store::now_ms();
    let mut pipe = redis::pipe();
    for (k, window, requests, tokens) in &shared.windows {
        let base = format!("llmgate:rl:{k}:{window}");
        pipe.cmd("INCRBY")
            .arg(format!("{base}:requests"))
            .arg(*requests);
        pipe.cmd("INCRBY")
            .arg(format!("{base}:tokens"))
            .arg(*tokens);
        pipe.cmd("PEXPIRE")
            .arg(format!("{base}:requests"))
            .arg(2 * WINDOW_MS)
            .ignore();
        pipe.cmd("PEXPIRE")
            .arg(format!("{base}:tokens"))
            .arg(2 * WINDOW_MS)
            .ignore();
    }
    for (k, n) in &shared.parallel {
        let h = format!("llmgate:par:{k}");
        pipe.cmd("HSET")
            .arg(&h)
            .arg(&limiter.instance)
            .arg(format!("{n}:{now}"))
            .ignore();
        pipe.cmd("PEXPIRE").arg(&h).arg(10_000).ignore();
        pipe.cmd("HGETALL").arg(&h);
    }
    for (id, delta, period_ms) in &shared.model_spend {
        let k = format!("llmgate:mb:{id}");
        pipe.cmd("INCRBYFLOAT").arg(&k).arg(*delta);
        pipe.cmd("PEXPIRE")
            .arg(&k)
            .arg(period_ms + WINDOW_MS)
            .ignore();
    }
    let values: Vec<redis::Value> =
        crate::observe::services::redis("async_increment", pipe.query_async(c)).await?;
    let mut it = values.into_iter();
    let mut next = || it.next().unwrap_or(redis::Value::Nil);
    let mut totals = Vec::new();
    for (k, w, _, _) in &shared.windows {
        let r: i64 = redis::from_redis_value(next())?;
        let t: i64 = redis::from_redis_value(next())?;
        totals.push((k.clone(), *w, r, t));
    }
    limiter.apply_totals(totals);
    let mut elsewhere = hashbrown::HashMap::new();
    for (k, _) in &shared.parallel {
        let fields: HashMap<String, String> = redis::from_redis_value(next())?;
        let others: i64 = fields
            .iter()
            .filter(|(inst, _)| **inst != limiter.instance)
            .filter_map(|(_, v)| {
                let (n, ts) = v.split_once(':')?;
                // An instance that stopped syncing (crashed) no longer holds slots.
                (now - ts.parse::<i64>().ok()? < 2_000).then(|| n.parse::<i64>().ok())?
            })
            .sum();
        elsewhere.insert(k.clone(), others);
    }
    *limiter
        .parallel_elsewhere
        .lock()
        .unwrap_or_else(|e| e.into_inner()) = elsewhere;
    let mut spend = Vec::new();
    for (id, _, _) in &shared.model_spend {
        let v: String = redis::from_redis_value(next())?;
        spend.push((id.clone(), v.parse().unwrap_or(0.0)));
    }
    limiter.apply_model_spend(spend);
    Ok(())
}

/// Redis for shared state: `REDIS_URL`, else `REDIS_HOST`/`REDIS_PORT`/`REDIS_PASSWORD`
/// (LiteLLM's variables), else `router_settings.redis_host|redis_port|redis_password`, else
/// `litellm_settings.cache_params` of type redis.
pub fn redis_url(cfg: &crate::config::Config) -> Option<String> {
    if let Ok(u) = std::env::var("REDIS_URL") {
        if !u.is_empty() {
            return Some(u);
        }
    }
    let s = |v: Option<&serde_json::Value>| -> Option<String> {
        v.and_then(|v| {
            v.as_str()
                .map(str::to_string)
                .or_else(|| v.as_i64().map(|n| n.to_string()))
        })
    };
    let rs = &cfg.router_settings.extra;
    let cp = cfg
        .litellm_settings
        .extra
        .get("cache_params")
        .and_then(|c| c.as_object())
        .filter(|c| c.get("type").and_then(|t| t.as_str()).unwrap_or("redis") == "redis");
    let host = std::env::var("REDIS_HOST")
        .ok()
        .or_else(|| s(rs.get("redis_host")))
        .or_else(|| cp.and_then(|c| s(c.get("host"))))?;
    let port = std::env::var("REDIS_PORT")
        .ok()
        .or_else(|| s(rs.get("redis_port")))
        .or_else(|| cp.and_then(|c| s(c.get("port"))))
        .unwrap_or_else(|| "6379".into());
    let password = std::env::var("REDIS_PASSWORD")
        .ok()
        .or_else(|| s(rs.get("redis_password")))
        .or_else(|| cp.and_then(|c| s(c.get("password"))))
        .filter(|p| !p.is_empty());
    Some(match password {
        Some(p) => format!("redis://:{p}@{host}:{port}"),
        None => format!("redis://{host}:{port}"),
    })
}
