//! Logging callbacks: each logger has a bounded queue the request path pushes a call's
//! payload into (a lock and a push, never a wait) and a sender task that posts batches —
//! when a batch is full or at each flush interval — retrying a failed one a few times with
//! backoff. A queue that is full (the endpoint is down or slow) drops new events and counts
//! them; one logger's trouble never touches another's queue or the requests.
//!
//! `generic_api.rs` (LiteLLM's `generic_api`: JSON arrays of payloads to any endpoint),
//! `langfuse.rs` (Langfuse's public ingestion API), `s3.rs` (one SigV4-signed PUT per payload
//! to S3 or an S3-compatible store) and `datadog.rs` (Datadog's logs intake, gzipped) say how a
//! batch becomes requests.

pub mod datadog;
pub mod generic_api;
pub mod langfuse;
pub mod s3;

use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;
use tokio::sync::{mpsc, oneshot, Notify};

use super::prometheus::Metrics;
use crate::config::Config;

/// Events a logger holds at most; beyond, new ones are dropped (and counted).
const MAX_QUEUE: usize = 10_000;
/// Attempts per batch before it is given up (logged, counted as a callback failure).
const ATTEMPTS: u32 = 3;
/// Time one delivery may take.
const TIMEOUT: Duration = Duration::from_secs(10);

/// How a batch is delivered.
pub trait Sink: Send + Sync {
    fn request(&self, http: &reqwest::Client, batch: &[Arc<Value>]) -> reqwest::RequestBuilder;

    /// Every event is its own request (object stores have no batch write): the batch's
    /// requests go out together, and only the failed ones are retried.
    fn per_event(&self) -> bool {
        false
    }
}

#[derive(Default)]
struct Queue {
    events: Mutex<VecDeque<Arc<Value>>>,
    full: Notify,
    dropped: AtomicU64,
}

/// One configured logging callback.
pub struct Logger {
    pub name: String,
    sink: Arc<dyn Sink>,
    http: reqwest::Client,
    queue: Arc<Queue>,
    success: bool,
    failure: bool,
    batch_size: usize,
    interval: Duration,
    flush: Mutex<Option<mpsc::UnboundedSender<oneshot::Sender<()>>>>,
}

/// A positive integer from the environment.
fn env_num(name: &str) -> Option<f64> {
    std::env::var(name)
        .ok()?
        .trim()
        .parse::<f64>()
        .ok()
        .filter(|n| *n > 0.0 && n.is_finite())
}

impl Logger {
    pub fn from_config(
        cfg: &Config,
        name: &str,
        kind: &str,
        http: reqwest::Client,
    ) -> Result<Logger, String> {
        let settings = cfg
            .extra
            .get("callback_settings")
            .and_then(|s| s.get(name))
            .cloned()
            .unwrap_or(Value::Null);
        // LiteLLM's CustomBatchLogger defaults (`DEFAULT_BATCH_SIZE`, `DEFAULT_FLUSH_INTERVAL_SECONDS`).
        let mut batch_size = env_num("DEFAULT_BATCH_SIZE").unwrap_or(512.0) as usize;
        let mut interval = env_num("DEFAULT_FLUSH_INTERVAL_SECONDS").unwrap_or(5.0);
        let (sink, events): (Arc<dyn Sink>, Option<Vec<String>>) = match kind {
            "generic_api" => {
                let g = generic_api::GenericApi::from_settings(&settings)?;
                let events = g.event_types.clone();
                (Arc::new(g), events)
            }
            "langfuse" => {
                batch_size = env_num("LANGFUSE_FLUSH_AT").map_or(15, |n| n as usize);
                interval = env_num("LANGFUSE_FLUSH_INTERVAL").unwrap_or(1.0);
                (Arc::new(langfuse::Langfuse::from_env(cfg)?), None)
            }
            "s3" => {
                let s3 = s3::S3::from_config(cfg)?;
                // LiteLLM's DEFAULT_S3_BATCH_SIZE / DEFAULT_S3_FLUSH_INTERVAL_SECONDS.
                batch_size = s3.batch_size.unwrap_or(512);
                interval = s3.flush_interval.filter(|i| *i > 0.0).unwrap_or(10.0);
                (Arc::new(s3), None)
            }
            "datadog" => {
                let dd = datadog::Datadog::from_env()?;
                // LiteLLM's Datadog logger: `DD_BATCH_SIZE` (default DD_MAX_BATCH_SIZE, 1000).
                batch_size = dd.batch_size.unwrap_or(1000);
                (Arc::new(dd), None)
            }
            other => return Err(format!("callback type {other} is not a logger")),
        };
        let wants = |t: &str| events.as_ref().is_none_or(|e| e.iter().any(|x| x == t));
        Ok(Logger {
            name: name.to_string(),
            success: wants("llm_api_success"),
            failure: wants("llm_api_failure"),
            sink,
            http,
            queue: Arc::default(),
            batch_size: batch_size.max(1),
            interval: Duration::from_secs_f64(interval),
            flush: Mutex::new(None),
        })
    }

    /// Which outcomes the config's list named it for (`success_callback`, ...).
    pub fn only(&mut self, success: bool, failure: bool) {
        self.success &= success;
        self.failure &= failure;
    }

    /// Whether this logger records calls that ended so.
    pub fn wants(&self, success: bool) -> bool {
        if success {
            self.success
        } else {
            self.failure
        }
    }

    /// Queues a payload; never waits.
    pub fn push(&self, payload: Arc<Value>) {
        let mut q = self.queue.events.lock().unwrap_or_else(|e| e.into_inner());
        if q.len() >= MAX_QUEUE {
            drop(q);
            if self.queue.dropped.fetch_add(1, Ordering::Relaxed) == 0 {
                tracing::warn!(callback = %self.name, "logging callback queue full: events are dropped until it drains");
            }
            return;
        }
        q.push_back(payload);
        if q.len() == self.batch_size {
            self.queue.full.notify_one();
        }
    }

    /// Starts the sender task (on the current runtime).
    pub fn start(&self, metrics: Option<Arc<Metrics>>) {
        let (tx, rx) = mpsc::unbounded_channel();
        *self.flush.lock().unwrap_or_else(|e| e.into_inner()) = Some(tx);
        let sender = Sender {
            name: self.name.clone(),
            sink: self.sink.clone(),
            http: self.http.clone(),
            queue: self.queue.clone(),
            batch_size: self.batch_size,
            metrics,
        };
        tokio::spawn(sender.run(self.interval, rx));
    }

    /// Sends everything queued (shutdown); waits at most a few seconds.
    pub async fn flush(&self) {
        let tx = self.flush.lock().unwrap_or_else(|e| e.into_inner()).clone();
        let Some(tx) = tx else { return };
        let (done, wait) = oneshot::channel();
        if tx.send(done).is_ok() {
            let _ = tokio::time::timeout(Duration::from_secs(5), wait).await;
        }
    }
}

struct Sender {
    name: String,
    sink: Arc<dyn Sink>,
    http: reqwest::Client,
    queue: Arc<Queue>,
    batch_size: usize,
    metrics: Option<Arc<Metrics>>,
}

impl Sender {
    async fn run(
        self,
        interval: Duration,
        mut flushes: mpsc::UnboundedReceiver<oneshot::Sender<()>>,
    ) {
        let mut tick = tokio::time::interval(interval);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            let done = tokio::select! {
                _ = tick.tick() => None,
                _ = self.queue.full.notified() => None,
                f = flushes.recv() => match f {
                    Some(done) => Some(done),
                    None => return,
                },
            };
            loop {
                let batch = self.take();
                if batch.is_empty() {
                    break;
                }
                self.deliver(&batch).await;
                if batch.len() < self.batch_size {
                    break;
                }
            }
            self.report();
            if let Some(d) = done {
                let _ = d.send(());
            }
        }
    }

    fn take(&self) -> Vec<Arc<Value>> {
        let mut q = self.queue.events.lock().unwrap_or_else(|e| e.into_inner());
        let n = q.len().min(self.batch_size);
        q.drain(..n).collect()
    }

    fn report(&self) {
        if let Some(m) = &self.metrics {
            let len = self.queue.events.lock().map(|q| q.len()).unwrap_or(0);
            m.callback_queue(&self.name, len, self.queue.dropped.load(Ordering::Relaxed));
        }
    }

    /// Posts one batch (or, per event, its requests together), retrying what failed with
    /// backoff; what keeps failing is given up.
    async fn deliver(&self, batch: &[Arc<Value>]) {
        let mut pending: Vec<Vec<Arc<Value>>> = if self.sink.per_event() {
            batch.iter().map(|p| vec![p.clone()]).collect()
        } else {
            vec![batch.to_vec()]
        };
        let mut delay = Duration::from_millis(500);
        for attempt in 1..=ATTEMPTS {
            let sends = pending.iter().map(|part| {
                let req = self.sink.request(&self.http, part).timeout(TIMEOUT);
                async move {
                    match req.send().await {
                        Ok(r) if r.status().is_success() => None,
                        Ok(r) => Some(format!("status {}", r.status())),
                        Err(e) => Some(e.to_string()),
                    }
                }
            });
            let results = futures::future::join_all(sends).await;
            let mut error = None;
            let mut failed = Vec::new();
            for (part, r) in pending.into_iter().zip(results) {
                if let Some(e) = r {
                    error = Some(e);
                    failed.push(part);
                }
            }
            pending = failed;
            let Some(error) = error else { return };
            if attempt == ATTEMPTS {
                let events: usize = pending.iter().map(Vec::len).sum();
                tracing::warn!(callback = %self.name, events, error = %error, "logging callback failed; batch dropped");
                if let Some(m) = &self.metrics {
                    m.callback_failed(&self.name);
                }
                return;
            }
            tracing::debug!(callback = %self.name, error = %error, attempt, "logging callback failed; retrying");
            tokio::time::sleep(delay).await;
            delay *= 2;
        }
    }
}
