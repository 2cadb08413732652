//! LiteLLM's daily deployment report (`daily_reports`): each deployment's failed requests and
//! its latency per output token are added up; every `report_check_interval` the sender looks
//! whether `daily_report_frequency` has passed since the last report, and if so sends the top
//! five of each and starts again from zero. The first check only notes the time.
//!
//! With Redis the sums are the fleet's (each instance adds its own to Redis hashes at every
//! check), the last report's time is shared, and one instance sends each report (a lock held
//! for the report's period); without, each instance reports its own traffic.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::SystemTime;

use super::settings::Args;
use super::Redis;
use crate::deployments::Deployment;

#[derive(Default, Clone)]
struct Stats {
    failed: i64,
    latency: f64,
    /// `litellm_params.model` and the API base, as the report names the deployment.
    name: String,
    api_base: String,
}

#[derive(Default)]
pub struct Daily {
    /// Sums since the last check (with Redis) or the last report (without).
    stats: Mutex<HashMap<String, Stats>>,
    /// Without Redis: when the last report went (None: not checked yet).
    last: Mutex<Option<f64>>,
}

fn now() -> f64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

const FAILED: &str = "llmgate:alerts:daily:failed";
const LATENCY: &str = "llmgate:alerts:daily:latency";
const NAMES: &str = "llmgate:alerts:daily:names";
const SENT: &str = "llmgate:alerts:daily:sent";
const LOCK: &str = "llmgate:alerts:daily:lock";

impl Daily {
    fn entry<F: FnOnce(&mut Stats)>(&self, d: &Deployment, f: F) {
        let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
        let s = stats.entry(d.id.clone()).or_insert_with(|| Stats {
            name: d.model.clone(),
            api_base: d.api_base.clone(),
            ..Default::default()
        });
        f(s);
    }

    pub fn failed(&self, d: &Deployment) {
        self.entry(d, |s| s.failed += 1);
    }

    pub fn latency(&self, d: &Deployment, per_token: f64) {
        self.entry(d, |s| s.latency += per_token);
    }

    /// The report's text when one is due.
    pub async fn check(&self, args: &Args, redis: &mut Redis) -> Option<String> {
        let every = args.daily_report_frequency.as_secs_f64();
        if redis.configured() {
            if let Some(text) = self.check_shared(every, redis).await {
                return text;
            }
            // Redis down: this instance decides alone until it is back.
        }
        let now = now();
        let mut last = self.last.lock().unwrap_or_else(|e| e.into_inner());
        match *last {
            None => {
                *last = Some(now);
                None
            }
            Some(t) if now - t >= every => {
                *last = Some(now);
                let stats =
                    std::mem::take(&mut *self.stats.lock().unwrap_or_else(|e| e.into_inner()));
                report(stats, every)
            }
            Some(_) => None,
        }
    }

    /// With Redis: Some(report or nothing) when Redis answered, None when it did not.
    async fn check_shared(&self, every: f64, redis: &mut Redis) -> Option<Option<String>> {
        let c = redis.conn().await?;
        let local = std::mem::take(&mut *self.stats.lock().unwrap_or_else(|e| e.into_inner()));
        let mut pipe = redis::pipe();
        for (id, s) in &local {
            if s.failed > 0 {
                pipe.cmd("HINCRBY")
                    .arg(FAILED)
                    .arg(id)
                    .arg(s.failed)
                    .ignore();
            }
            if s.latency > 0.0 {
                pipe.cmd("HINCRBYFLOAT")
                    .arg(LATENCY)
                    .arg(id)
                    .arg(s.latency)
                    .ignore();
            }
            pipe.cmd("HSET")
                .arg(NAMES)
                .arg(id)
                .arg(format!("{}\n{}", s.name, s.api_base))
                .ignore();
        }
        pipe.cmd("GET").arg(SENT);
        let r: redis::RedisResult<(Option<String>,)> = pipe.query_async(c).await;
        let sent = match r {
            Ok((sent,)) => sent.and_then(|s| s.parse::<f64>().ok()),
            Err(e) => {
                tracing::warn!(error = %e, "alerts: Redis unreachable for the daily report");
                // Keep the sums for the next check.
                let mut stats = self.stats.lock().unwrap_or_else(|e| e.into_inner());
                for (id, s) in local {
                    let e = stats.entry(id).or_insert_with(|| Stats {
                        name: s.name.clone(),
                        api_base: s.api_base.clone(),
                        ..Default::default()
                    });
                    e.failed += s.failed;
                    e.latency += s.latency;
                }
                return None;
            }
        };
        let now = now();
        let Some(sent) = sent else {
            let _: redis::RedisResult<()> = redis::cmd("SET")
                .arg(SENT)
                .arg(now.to_string())
                .arg("NX")
                .query_async(c)
                .await;
            return Some(None);
        };
        if now - sent < every {
            return Some(None);
        }
        let ms = ((every * 1000.0) as u64).max(1);
        let locked: redis::RedisResult<Option<String>> = redis::cmd("SET")
            .arg(LOCK)
            .arg("1")
            .arg("NX")
            .arg("PX")
            .arg(ms)
            .query_async(c)
            .await;
        if !matches!(locked, Ok(Some(_))) {
            return Some(None);
        }
        type All = (
            HashMap<String, i64>,
            HashMap<String, f64>,
            HashMap<String, String>,
        );
        let all: redis::RedisResult<All> = redis::pipe()
            .atomic()
            .cmd("HGETALL")
            .arg(FAILED)
            .cmd("HGETALL")
            .arg(LATENCY)
            .cmd("HGETALL")
            .arg(NAMES)
            .cmd("DEL")
            .arg(FAILED)
            .arg(LATENCY)
            .ignore()
            .cmd("SET")
            .arg(SENT)
            .arg(now.to_string())
            .ignore()
            .query_async(c)
            .await;
        let (failed, latency, names) = all.ok()?;
        let mut stats: HashMap<String, Stats> = HashMap::new();
        for (id, n) in names {
            let (name, base) = n.split_once('\n').unwrap_or((n.as_str(), ""));
            stats.insert(
                id.clone(),
                Stats {
                    failed: failed.get(&id).copied().unwrap_or(0),
                    latency: latency.get(&id).copied().unwrap_or(0.0),
                    name: name.to_string(),
                    api_base: base.to_string(),
                },
            );
        }
        Some(report(stats, every))
    }
}

/// LiteLLM's `send_daily_reports` text; None when nothing failed and nothing was timed.
fn report(stats: HashMap<String, Stats>, every: f64) -> Option<String> {
    let mut all: Vec<Stats> = stats.into_values().collect();
    if all.iter().all(|s| s.failed <= 0 && s.latency <= 0.0) {
        return None;
    }
    all.sort_by(|a, b| a.name.cmp(&b.name));
    let py = crate::pyfmt::py_float;
    let mut msg = format!(
        "\n\nTime: `{}`s\nHere are today's key metrics 📈: \n\n",
        py(now())
    );
    msg.push_str("\n\n*❗️ Top Deployments with Most Failed Requests:*\n\n");
    let mut failed: Vec<&Stats> = all.iter().filter(|s| s.failed > 0).collect();
    failed.sort_by_key(|s| std::cmp::Reverse(s.failed));
    if failed.is_empty() {
        msg.push_str("\tNone\n");
    }
    for (i, s) in failed.iter().take(5).enumerate() {
        msg.push_str(&format!(
            "\t{}. Deployment: `{}`, Failed Requests: `{}`,  API Base: `{}`\n",
            i + 1,
            s.name,
            s.failed,
            s.api_base
        ));
    }
    msg.push_str("\n\n*😅 Top Slowest Deployments:*\n\n");
    let mut slow: Vec<&Stats> = all.iter().filter(|s| s.latency > 0.0).collect();
    slow.sort_by(|a, b| b.latency.total_cmp(&a.latency));
    if slow.is_empty() {
        msg.push_str("\tNone\n");
    }
    for (i, s) in slow.iter().take(5).enumerate() {
        msg.push_str(&format!(
            "\t{}. Deployment: `{}`, Latency per output token: `{}s/token`,  API Base: `{}`\n\n",
            i + 1,
            s.name,
            super::py_round(s.latency, 3),
            s.api_base
        ));
    }
    msg.push_str(&format!("\n\nNext Run is at: `{}`s", py(now() + every)));
    Some(msg)
}
