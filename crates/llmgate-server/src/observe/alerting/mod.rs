//! Alerts, as LiteLLM 1.110's `SlackAlerting` and `ProxyLogging` send them
//! (`general_settings.alerting: ["slack", "webhook"]`):
//!
//! - `slack`: `{"text": ...}` to Slack's incoming webhook (`SLACK_WEBHOOK_URL`, or one URL per
//!   alert type from `alert_to_webhook_url`) for the `alert_types` on: LLM exceptions, slow and
//!   hanging requests (`alerting_threshold`), budget crossings, database write failures and
//!   Redis failures (both `db_exceptions`, at most one of each per flush interval), model
//!   and region outages and the daily deployment report. Batched as LiteLLM's batch logger does
//!   (every `DEFAULT_FLUSH_INTERVAL_SECONDS`, or `DEFAULT_BATCH_SIZE` alerts), identical texts
//!   squashed into one with `[Num Alerts: n]`.
//! - `webhook`: budget events as LiteLLM's `WebhookEvent` JSON to `WEBHOOK_URL`.
//!
//! The request path only tests a field and pushes onto a bounded queue (1 000 alerts; beyond,
//! alerts are dropped and counted); one task formats, deduplicates and sends. A budget alert is
//! sent once per `budget_alert_ttl` per event and owner: per instance in memory, and with Redis
//! fleet-wide (`SET NX EX` on the same key before sending, so one instance of many sends it).

pub mod budget;
pub mod events;
mod hanging;
mod outage;
mod report;
pub mod settings;
mod spend;

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime};

use tokio::sync::{mpsc, Semaphore};

pub use budget::{CallInfo, Kind};
pub use settings::Settings;

use super::event::{AttemptEvent, CallEvent, Status};
use crate::error::GatewayError;

/// Alerts waiting for the sender; beyond, new ones are dropped (and counted).
const QUEUE: usize = 1_000;
/// Sends in flight at once (a slow receiver holds the others back, never the request path).
const SENDS: usize = 8;
/// The time one POST may take.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);

/// `Low`, `Medium` or `High`, as LiteLLM grades alerts.
pub type Level = &'static str;

/// How the sender learns of failed database writes: (failures so far, the last error).
pub type DbFailures = Arc<dyn Fn() -> (u64, Option<String>) + Send + Sync>;

enum Item {
    Slack {
        alert_type: &'static str,
        level: Level,
        message: String,
    },
    Budget {
        info: Box<CallInfo>,
        decided: budget::Decided,
    },
}

pub struct Alerting {
    pub settings: Settings,
    tx: mpsc::Sender<Item>,
    rx: Mutex<Option<mpsc::Receiver<Item>>>,
    /// Budget alerts this instance sent (or queued) within `budget_alert_ttl`.
    budget_sent: moka::sync::Cache<String, ()>,
    hanging: Option<hanging::Hanging>,
    outages: outage::Outages,
    daily: Option<report::Daily>,
    dropped: AtomicU64,
    http: reqwest::Client,
}

/// `HH:MM:SS` (UTC), LiteLLM's `Timestamp`.
fn clock() -> String {
    let secs = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let s = secs % 86_400;
    format!("{:02}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// The model as LiteLLM's `get_llm_provider` leaves it (`openai/gpt-4o` -> `gpt-4o`).
fn bare_model<'a>(model: &'a str, provider: &str) -> &'a str {
    match model.split_once('/') {
        Some((p, rest)) if p == provider => rest,
        _ => model,
    }
}

/// Python's `round(x, digits)` printed as Python prints the float.
fn py_round(x: f64, digits: i32) -> String {
    let f = 10f64.powi(digits);
    crate::pyfmt::py_float((x * f).round() / f)
}

impl Alerting {
    /// None when `general_settings.alerting` turns on neither `slack` nor `webhook`.
    pub fn from_config(
        cfg: &crate::config::Config,
        http: reqwest::Client,
    ) -> Result<Option<Alerting>, String> {
        let Some(settings) = Settings::from_config(cfg)? else {
            return Ok(None);
        };
        let (tx, rx) = mpsc::channel(QUEUE);
        let hanging = settings
            .slack_wants("llm_requests_hanging")
            .then(hanging::Hanging::default);
        let daily = settings
            .slack_wants("daily_reports")
            .then(report::Daily::default);
        Ok(Some(Alerting {
            budget_sent: moka::sync::Cache::builder()
                .max_capacity(100_000)
                .time_to_live(settings.args.budget_alert_ttl)
                .build(),
            outages: outage::Outages::default(),
            settings,
            tx,
            rx: Mutex::new(Some(rx)),
            hanging,
            daily,
            dropped: AtomicU64::new(0),
            http,
        }))
    }

    /// Alerts dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Whether the slow-request alert wants the request's messages.
    pub fn wants_messages(&self) -> bool {
        !self.settings.no_messages && self.settings.slack_wants("llm_too_slow")
    }

    fn push(&self, item: Item) {
        if self.tx.try_send(item).is_err() {
            self.dropped.fetch_add(1, Ordering::Relaxed);
            tracing::warn!("the alert queue is full; an alert was dropped");
        }
    }

    /// LiteLLM's `send_alert` for Slack: queued when Slack takes this type.
    pub fn slack(&self, alert_type: &'static str, level: Level, message: String) {
        if self.settings.slack_wants(alert_type) {
            self.push(Item::Slack {
                alert_type,
                level,
                message,
            });
        }
    }

    /// LiteLLM's `budget_alerts`: the event `info`'s spend is, sent once per
    /// `budget_alert_ttl` (to Slack and the webhook).
    pub fn budget(&self, kind: Kind, info: CallInfo) {
        if !self.settings.wants("budget_alerts") {
            return;
        }
        let Some(decided) = budget::decide(kind, &info) else {
            return;
        };
        if self.budget_sent.contains_key(&decided.cache_key) {
            return;
        }
        self.budget_sent.insert(decided.cache_key.clone(), ());
        tracing::warn!(event = decided.event, event_group = info.event_group, message = %decided.message, "budget alert");
        self.push(Item::Budget {
            info: Box::new(info),
            decided,
        });
    }

    /// Whether a budget alert for this owner could be due (so the caller builds its info).
    pub fn budget_due(
        &self,
        spend: f64,
        max_budget: Option<f64>,
        soft_budget: Option<f64>,
    ) -> bool {
        self.settings.wants("budget_alerts")
            && budget::event(spend, max_budget, soft_budget).is_some()
    }

    /// A call was admitted (the hanging-request check watches it).
    pub fn started(
        &self,
        call_id: &str,
        model: &str,
        key_alias: Option<&str>,
        team_alias: Option<&str>,
    ) {
        if let Some(h) = &self.hanging {
            h.start(call_id, model, key_alias, team_alias);
        }
    }

    pub fn renamed(&self, old: &str, new: &str) {
        if let Some(h) = &self.hanging {
            h.rename(old, new);
        }
    }

    /// A call ended: exceptions, slow responses and the daily report's latencies.
    pub fn call(&self, ev: &CallEvent<'_>) {
        if let Some(h) = &self.hanging {
            h.end(ev.call_id);
        }
        match ev.status {
            Status::Failure(e) => self.llm_exception(ev, e),
            Status::Success => {
                self.too_slow(ev);
                if let (Some(d), Some(dep)) = (&self.daily, ev.deployment) {
                    let secs = ev
                        .llm_api_latency()
                        .unwrap_or(ev.total_latency())
                        .as_secs_f64();
                    let per_token = match ev.usage.map(|u| u.completion_tokens) {
                        Some(t) if t > 0 => secs / t as f64,
                        _ => secs,
                    };
                    d.latency(dep, per_token);
                }
            }
            Status::Abandoned => {}
        }
    }

    /// An upstream attempt ended: a failure counts toward outages and the daily report.
    pub fn attempt(&self, ev: &AttemptEvent<'_>) {
        let Some(err) = ev.error else { return };
        if let Some(d) = &self.daily {
            d.failed(ev.deployment);
        }
        let status = err.status;
        if status != 408 && status < 500 {
            return;
        }
        let args = &self.settings.args;
        if self.settings.slack_wants("outage_alerts") {
            if let Some((level, msg)) = self.outages.model(ev.deployment, status, args) {
                self.slack("outage_alerts", level, msg);
            }
        }
        if self.settings.slack_wants("region_outage_alerts") {
            // LiteLLM sends a region outage as an `outage_alerts` alert.
            if let Some((level, msg)) = self.outages.region(ev.deployment, status, args) {
                self.push(Item::Slack {
                    alert_type: "outage_alerts",
                    level,
                    message: msg,
                });
            }
        }
    }

    fn llm_exception(&self, ev: &CallEvent<'_>, e: &GatewayError) {
        if !self.settings.slack_wants("llm_exceptions") {
            return;
        }
        // Client errors (bad body, auth, budget, limits) are not LLM API exceptions.
        let GatewayError::Llm(err) = e else {
            if e.status() >= 500 {
                let msg = e.body()["error"]["message"]
                    .as_str()
                    .unwrap_or("")
                    .to_string();
                self.slack(
                    "llm_exceptions",
                    "High",
                    format!("LLM API call failed: `{msg}`"),
                );
            }
            return;
        };
        let mut debug = String::new();
        if let Some(dep) = ev.deployment {
            debug.push_str(&format!(
                "\nModel: {}",
                bare_model(&dep.model, &dep.provider)
            ));
            if !dep.api_base.is_empty() {
                debug.push_str(&format!("\nAPI Base: `{}`", dep.api_base));
            }
            if let Some(m) = self.messages(ev) {
                debug.push_str(&format!("\nMessages: `{m}`"));
            }
            debug.push_str(&format!("\nmodel_group: `{}`\n", ev.model_group));
            debug.push_str(&format!("\ndeployment: `{}`\n", dep.model));
            if let Some(alias) = ev.caller.key_alias() {
                let team = ev.caller.team_alias().unwrap_or("None");
                debug = format!("\n\nKey Name: `{alias}`\nTeam: `{team}`{debug}");
            }
        }
        self.slack(
            "llm_exceptions",
            "High",
            format!("LLM API call failed: `{err}{debug}`"),
        );
    }

    /// The first 100 characters of the request's messages, as LiteLLM prints them.
    fn messages(&self, ev: &CallEvent<'_>) -> Option<String> {
        if self.settings.no_messages {
            return None;
        }
        let req = &ev.capture?.request;
        let m = req.get("messages").or_else(|| req.get("input"))?;
        Some(crate::pyfmt::py_repr(m).chars().take(100).collect())
    }

    fn too_slow(&self, ev: &CallEvent<'_>) {
        if !self.settings.slack_wants("llm_too_slow") {
            return;
        }
        let secs = ev
            .llm_api_latency()
            .unwrap_or_else(|| ev.total_latency())
            .as_secs_f64();
        if secs <= self.settings.threshold {
            return;
        }
        let (model, api_base) = match ev.deployment {
            Some(d) => (bare_model(&d.model, &d.provider), d.api_base.as_str()),
            None => (ev.model_group, ""),
        };
        let messages = if self.settings.no_messages {
            "Message not logged. litellm.redact_messages_in_exceptions=True".to_string()
        } else {
            self.messages(ev).unwrap_or_else(|| "None".into())
        };
        let mut info =
            format!("\nRequest Model: `{model}`\nAPI Base: `{api_base}`\nMessages: `{messages}`");
        if let Some(alias) = ev.caller.key_alias() {
            let team = ev.caller.team_alias().unwrap_or("None");
            info = format!("\n\nKey Name: `{alias}`\nTeam: `{team}`{info}");
        }
        let slow = format!(
            "`Responses are slow - {}s response time > Alerting threshold: {}s`",
            py_round(secs, 2),
            self.settings.threshold_text
        );
        self.slack("llm_too_slow", "Low", slow + &info);
    }

    /// `/health/services?service=slack`: LiteLLM's test alerts (one per `alert_to_webhook_url`
    /// type that is on, else one budget test alert). The alert types on.
    pub fn test_slack(&self) -> Vec<String> {
        if self.settings.to_url.is_empty() {
            self.slack(
                "budget_alerts",
                "Low",
                "This is a test slack alert message".into(),
            );
        } else {
            for t in settings::ALERT_TYPES {
                if !self.settings.to_url.contains_key(*t) || !self.settings.wants(t) {
                    continue;
                }
                let text = match *t {
                    "llm_exceptions" => "LLM Exception test alert",
                    "llm_too_slow" => "LLM Too Slow test alert",
                    "llm_requests_hanging" => "LLM Requests Hanging test alert",
                    "db_exceptions" => "DB Exception test alert",
                    "outage_alerts" => "Outage Alert Exception test alert",
                    "daily_reports" => "Daily Reports test alert",
                    _ => "Budget Alert test alert",
                };
                self.slack(t, "Low", text.into());
            }
        }
        self.settings.types.clone()
    }

    /// Starts the sender (inside the runtime). `redis`: the fleet's Redis for deduplication
    /// and the daily report; `db`: the spend writer's failures, for `db_exceptions`.
    pub fn start(
        self: &Arc<Self>,
        redis: Option<String>,
        db: Option<DbFailures>,
        store: Option<llmgate_store::Store>,
    ) {
        let Some(rx) = self.rx.lock().unwrap_or_else(|e| e.into_inner()).take() else {
            return;
        };
        for w in self.settings.warnings() {
            tracing::warn!("{w}");
        }
        if self.settings.slack_wants("spend_reports") {
            match store {
                Some(store) => {
                    let days = self.settings.spend_report_days;
                    tokio::spawn(spend::run(self.clone(), store, days, redis.clone()));
                }
                None => tracing::warn!("alerting: spend_reports needs the database; none are sent"),
            }
        }
        if self.settings.slack_wants("db_exceptions") {
            crate::observe::services::watch_redis();
        }
        let me = self.clone();
        tokio::spawn(async move { me.run(rx, redis, db).await });
    }

    async fn run(
        self: Arc<Self>,
        mut rx: mpsc::Receiver<Item>,
        redis_url: Option<String>,
        db: Option<DbFailures>,
    ) {
        let env_num = |k: &str| std::env::var(k).ok().and_then(|v| v.parse::<f64>().ok());
        let flush_every = env_num("DEFAULT_FLUSH_INTERVAL_SECONDS")
            .filter(|s| *s > 0.0)
            .unwrap_or(5.0);
        let batch = env_num("DEFAULT_BATCH_SIZE")
            .filter(|n| *n >= 1.0)
            .unwrap_or(512.0) as usize;
        let sends = Arc::new(Semaphore::new(SENDS));
        let mut redis = Redis::new(redis_url);
        let mut buffer: Vec<Queued> = Vec::new();
        let mut flush = tokio::time::interval(Duration::from_secs_f64(flush_every));
        flush.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let hang_every = Duration::from_secs_f64((self.settings.threshold / 2.0).max(0.05));
        let mut hang = tokio::time::interval(hang_every);
        hang.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let report_every = self.settings.args.report_check_interval;
        let mut report = tokio::time::interval(report_every);
        report.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut db_seen = db.as_ref().map_or(0, |f| f().0);
        let mut redis_seen = crate::observe::services::redis_failures().0;
        loop {
            tokio::select! {
                item = rx.recv() => {
                    let Some(item) = item else { break };
                    self.take(item, &mut buffer, &mut redis, &sends).await;
                    if buffer.len() >= batch {
                        self.flush(std::mem::take(&mut buffer), &sends).await;
                    }
                }
                _ = flush.tick() => {
                    if let Some(f) = &db {
                        let (n, err) = f();
                        if n > db_seen && self.settings.slack_wants("db_exceptions") {
                            let err = err.unwrap_or_default();
                            self.queue_slack(&mut buffer, "db_exceptions", "High",
                                format!("DB read/write call failed: {err}"));
                        }
                        db_seen = n;
                    }
                    // Redis failures (commands and connects), one alert per tick at most.
                    let (n, err) = crate::observe::services::redis_failures();
                    if n > redis_seen && self.settings.slack_wants("db_exceptions") {
                        let err = err.unwrap_or_default();
                        self.queue_slack(&mut buffer, "db_exceptions", "High",
                            format!("Redis read/write call failed: {err} (failures: {})", n - redis_seen));
                    }
                    redis_seen = n;
                    self.flush(std::mem::take(&mut buffer), &sends).await;
                }
                _ = hang.tick(), if self.hanging.is_some() => {
                    if let Some(h) = &self.hanging {
                        for msg in h.check(self.settings.threshold, &self.settings.threshold_text) {
                            self.queue_slack(&mut buffer, "llm_requests_hanging", "Medium", msg);
                        }
                    }
                }
                _ = report.tick(), if self.daily.is_some() => {
                    if let Some(d) = &self.daily {
                        if let Some(msg) = d.check(&self.settings.args, &mut redis).await {
                            self.queue_slack(&mut buffer, "daily_reports", "Low", msg);
                        }
                    }
                }
            }
        }
        self.flush(buffer, &sends).await;
    }

    /// LiteLLM's `send_alert` text for Slack, queued once per URL.
    fn queue_slack(
        &self,
        buffer: &mut Vec<Queued>,
        alert_type: &'static str,
        level: Level,
        message: String,
    ) {
        if !self.settings.slack_wants(alert_type) {
            return;
        }
        let head = format!("Alert type: `{alert_type}`");
        let mut text = if alert_type == "daily_reports" || alert_type == "new_model_added" {
            head + &message
        } else {
            format!(
                "{head}\nLevel: `{level}`\nTimestamp: `{}`\n\nMessage: {message}",
                clock()
            )
        };
        if let Some(u) = &self.settings.proxy_base_url {
            text.push_str(&format!("\n\nProxy URL: `{u}`"));
        }
        let urls = self.settings.urls(alert_type);
        if urls.is_empty() {
            tracing::warn!(
                alert_type,
                "no Slack webhook URL for this alert (SLACK_WEBHOOK_URL); dropped"
            );
        }
        for url in urls {
            buffer.push(Queued {
                url,
                alert_type,
                text: text.clone(),
            });
        }
    }

    async fn take(
        &self,
        item: Item,
        buffer: &mut Vec<Queued>,
        redis: &mut Redis,
        sends: &Arc<Semaphore>,
    ) {
        match item {
            Item::Slack {
                alert_type,
                level,
                message,
            } => self.queue_slack(buffer, alert_type, level, message),
            Item::Budget { info, decided } => {
                let ttl = self.settings.args.budget_alert_ttl;
                if !redis.claim(&decided.cache_key, ttl).await {
                    // Another instance sent it within the window.
                    return;
                }
                if self.settings.webhook {
                    if let Some(url) = self.settings.webhook_url.clone() {
                        let body = budget::webhook_body(&info, &decided);
                        self.post(url, body, sends).await;
                    }
                }
                let text = format!("{}\n\n{}", decided.message, budget::user_info_str(&info));
                self.queue_slack(buffer, "budget_alerts", "High", text);
            }
        }
    }

    /// POSTs `body` (JSON) to `url` off the sender's loop (at most `SENDS` at once).
    async fn post(&self, url: String, body: String, sends: &Arc<Semaphore>) {
        let Ok(permit) = sends.clone().acquire_owned().await else {
            return;
        };
        let http = self.http.clone();
        tokio::spawn(async move {
            let r = http
                .post(&url)
                .header("Content-type", "application/json")
                .body(body)
                .timeout(SEND_TIMEOUT)
                .send()
                .await;
            match r {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    tracing::warn!(status = %r.status(), "the alert webhook refused the alert")
                }
                Err(e) => tracing::warn!(error = %e, "the alert webhook is unreachable"),
            }
            drop(permit);
        });
    }

    /// Sends a batch: identical texts to one URL become one, prefixed `[Num Alerts: n]`.
    async fn flush(&self, buffer: Vec<Queued>, sends: &Arc<Semaphore>) {
        let mut order: Vec<(String, &'static str, String)> = Vec::new();
        let mut counts: HashMap<(String, &'static str, String), usize> = HashMap::new();
        for q in buffer {
            let k = (q.url, q.alert_type, q.text);
            let n = counts.entry(k.clone()).or_insert(0);
            if *n == 0 {
                order.push(k);
            }
            *n += 1;
        }
        for k in order {
            let count = counts[&k];
            let (url, _, text) = k;
            let text = if count == 1 {
                text
            } else {
                format!("[Num Alerts: {count}]\n\n{text}")
            };
            let body = serde_json::json!({ "text": text });
            if self.settings.args.log_to_console {
                tracing::warn!(payload = %body, "alert");
            }
            self.post(url, body.to_string(), sends).await;
        }
    }
}

/// One Slack message waiting for the batch.
struct Queued {
    url: String,
    alert_type: &'static str,
    text: String,
}

/// The fleet's Redis for the alerts' shared state, connected when first needed (and again
/// after a failure, at most every few seconds). None configured: this instance decides alone.
pub(crate) struct Redis {
    client: Option<redis::Client>,
    conn: Option<redis::aio::ConnectionManager>,
    retry_at: Option<Instant>,
}

impl Redis {
    fn new(url: Option<String>) -> Redis {
        let client = url.and_then(|u| match redis::Client::open(u.as_str()) {
            Ok(c) => Some(c),
            Err(e) => {
                tracing::warn!(error = %e, "alerts: bad Redis URL; deduplicating per instance");
                None
            }
        });
        Redis {
            client,
            conn: None,
            retry_at: None,
        }
    }

    pub(crate) fn configured(&self) -> bool {
        self.client.is_some()
    }

    pub(crate) async fn conn(&mut self) -> Option<&mut redis::aio::ConnectionManager> {
        let client = self.client.as_ref()?;
        if self.conn.is_none() && self.retry_at.is_none_or(|t| Instant::now() >= t) {
            self.conn = crate::governance::limits::connect(client).await;
            if self.conn.is_none() {
                self.retry_at = Some(Instant::now() + Duration::from_secs(5));
            }
        }
        self.conn.as_mut()
    }

    /// Marks `key` sent for `ttl`; false when another instance already did. Redis down or none
    /// configured: true (this instance's own memory already deduplicated it).
    async fn claim(&mut self, key: &str, ttl: Duration) -> bool {
        let Some(c) = self.conn().await else {
            return true;
        };
        let mut set = redis::cmd("SET");
        set.arg(format!("llmgate:alerts:{key}"))
            .arg("SENT")
            .arg("NX")
            .arg("PX")
            .arg(ttl.as_millis().max(1) as u64);
        let r: redis::RedisResult<Option<String>> =
            crate::observe::services::redis("async_set_cache", set.query_async(c)).await;
        match r {
            Ok(v) => v.is_some(),
            Err(e) => {
                tracing::warn!(error = %e, "alerts: Redis unreachable; deduplicating per instance");
                self.conn = None;
                self.retry_at = Some(Instant::now() + Duration::from_secs(5));
                true
            }
        }
    }
}
