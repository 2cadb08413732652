//! Observability: what `litellm_settings.callbacks` (and `success_callback` /
//! `failure_callback`) turn on. The request path reports to one [`Observers`] — the call's end
//! ([`CallEvent`], from the settlement), each upstream attempt and fallback (from the retry
//! loop), and requests refused before a call — and only when at least one callback is
//! configured: otherwise the governance holds `None` and the request path pays one branch.
//!
//! `prometheus.rs`: LiteLLM's metrics at `GET /metrics`. `logging/`: the callbacks that send
//! LiteLLM's `StandardLoggingPayload` off the request path (`generic_api`, `langfuse`).
//! `alerting/`: `general_settings.alerting` (Slack and webhook alerts), fed the same events.

pub mod alerting;
pub mod event;
pub mod logging;
pub mod otel;
mod otel_grpc;
pub mod payload;
pub mod prometheus;
pub mod services;

use std::sync::Arc;

pub use event::{
    AttemptEvent, CacheLookup, CallEvent, Caller, Capture, FallbackEvent, Rejected, Status,
};

use crate::config::Config;

/// The callbacks llmgate implements, by LiteLLM's names.
pub const IMPLEMENTED: &[&str] = &[
    "prometheus",
    "generic_api",
    "langfuse",
    "otel",
    "s3",
    "datadog",
];

/// Every configured observer, built once at start.
pub struct Observers {
    pub metrics: Option<Arc<prometheus::Metrics>>,
    pub loggers: Vec<logging::Logger>,
    pub otel: Option<otel::Otel>,
    /// `general_settings.alerting` (`slack`, `webhook`).
    pub alerting: Option<Arc<alerting::Alerting>>,
    /// A logger (or the spans) records the request and the answer (some logger is on and
    /// `turn_off_message_logging` is not).
    pub messages: bool,
    pub settings: payload::Settings,
}

/// A callback the config turns on, and for which outcomes: `callbacks` logs both,
/// `success_callback` successes, `failure_callback` failures, as LiteLLM.
pub struct Named {
    pub name: String,
    pub success: bool,
    pub failure: bool,
}

/// The callback names a config turns on, in order, without repeats.
pub fn configured(cfg: &Config) -> Vec<Named> {
    let mut names: Vec<Named> = Vec::new();
    for (key, success, failure) in [
        ("callbacks", true, true),
        ("success_callback", true, false),
        ("failure_callback", false, true),
    ] {
        let list = cfg.litellm_settings.extra.get(key);
        let items = list.and_then(|v| v.as_array()).into_iter().flatten();
        let single = list.and_then(|v| v.as_str());
        for name in items.filter_map(|v| v.as_str()).chain(single) {
            match names.iter_mut().find(|n| n.name == name) {
                Some(n) => {
                    n.success |= success;
                    n.failure |= failure;
                }
                None => names.push(Named {
                    name: name.to_string(),
                    success,
                    failure,
                }),
            }
        }
    }
    names
}

/// `litellm_settings.service_callback`'s names (a list or one name).
fn service_callbacks(cfg: &Config) -> impl Iterator<Item = &str> {
    let v = cfg.litellm_settings.extra.get("service_callback");
    let list = v.and_then(|v| v.as_array()).into_iter().flatten();
    list.filter_map(|x| x.as_str())
        .chain(v.and_then(|v| v.as_str()))
}

/// A `callback_settings` entry's `callback_type` for `name`, if any.
fn callback_type<'a>(cfg: &'a Config, name: &str) -> Option<&'a str> {
    cfg.extra
        .get("callback_settings")?
        .get(name)?
        .get("callback_type")?
        .as_str()
}

/// Whether `name` is a callback llmgate runs (one of ours, or a `callback_settings` entry
/// of a type we have).
pub fn implemented(cfg: &Config, name: &str) -> bool {
    IMPLEMENTED.contains(&name)
        || callback_type(cfg, name).is_some_and(|t| IMPLEMENTED.contains(&t) && t != "prometheus")
}

impl Observers {
    /// The observers the config turns on; None when it turns none on. A logger whose
    /// settings are unusable refuses the start.
    pub fn from_config(cfg: &Config, http: reqwest::Client) -> Result<Option<Observers>, String> {
        let names = configured(cfg);
        let settings = payload::Settings::from_config(cfg);
        let mut metrics = None;
        let mut loggers = Vec::new();
        let mut otel = None;
        for Named {
            name,
            success,
            failure,
        } in &names
        {
            let kind = if IMPLEMENTED.contains(&name.as_str()) {
                name.as_str()
            } else {
                match callback_type(cfg, name) {
                    Some(t) if IMPLEMENTED.contains(&t) => t,
                    // Named at start-up as not supported (config/support).
                    _ => continue,
                }
            };
            match kind {
                "prometheus" => {
                    let ls = &cfg.litellm_settings.extra;
                    let end_user = crate::config::is(
                        ls.get("enable_end_user_cost_tracking_prometheus_only"),
                        true,
                    );
                    let cache_on = crate::config::is(ls.get("cache"), true);
                    let filter = prometheus::Filter::from_config(cfg);
                    prometheus::set_latency_buckets(cfg)?;
                    let tags = prometheus::CustomTags::from_config(cfg);
                    metrics = Some(Arc::new(
                        prometheus::Metrics::with_filter(end_user, cache_on, filter)
                            .with_custom_tags(tags),
                    ));
                }
                "otel" => {
                    otel = Some(otel::Otel::from_env(
                        !settings.turn_off_message_logging,
                        settings.redact_user_api_key_info,
                    )?);
                }
                kind => {
                    let mut l = logging::Logger::from_config(cfg, name, kind, http.clone())?;
                    l.only(*success, *failure);
                    loggers.push(l);
                }
            }
        }
        // `service_callback: ["prometheus_system"]` (LiteLLM's switch for its service
        // metrics) serves /metrics too; with `prometheus` they are always there.
        if metrics.is_none() && service_callbacks(cfg).any(|n| n == "prometheus_system") {
            let ls = &cfg.litellm_settings.extra;
            let end_user = crate::config::is(
                ls.get("enable_end_user_cost_tracking_prometheus_only"),
                true,
            );
            let cache_on = crate::config::is(ls.get("cache"), true);
            let filter = prometheus::Filter::from_config(cfg);
            prometheus::set_latency_buckets(cfg)?;
            let tags = prometheus::CustomTags::from_config(cfg);
            metrics = Some(Arc::new(
                prometheus::Metrics::with_filter(end_user, cache_on, filter).with_custom_tags(tags),
            ));
        }
        let alerting = alerting::Alerting::from_config(cfg, http.clone())?.map(Arc::new);
        if metrics.is_none() && loggers.is_empty() && otel.is_none() && alerting.is_none() {
            return Ok(None);
        }
        let messages = ((!loggers.is_empty() || otel.is_some())
            || alerting.as_ref().is_some_and(|a| a.wants_messages()))
            && !settings.turn_off_message_logging;
        Ok(Some(Observers {
            metrics,
            loggers,
            otel,
            alerting,
            messages,
            settings,
        }))
    }

    /// The callbacks running, by the names the config gave them.
    pub fn names(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        if self.metrics.is_some() {
            out.push("prometheus".into());
        }
        out.extend(self.loggers.iter().map(|l| l.name.clone()));
        if self.otel.is_some() {
            out.push("otel".into());
        }
        out
    }

    /// Starts the loggers' senders and the alerts' (inside the runtime); the metrics see
    /// their queues and the Redis / database round trips. `redis`: the fleet's Redis (alert
    /// deduplication); `db`: the spend writer's failures (database alerts); `store`: the
    /// database (spend reports; PostgreSQL's round trips are measured).
    pub fn start(
        &self,
        redis: Option<String>,
        db: Option<alerting::DbFailures>,
        store: Option<llmgate_store::Store>,
    ) {
        if let Some(m) = &self.metrics {
            let postgres = store.as_ref().is_some_and(|s| s.kind() == "postgres");
            services::install(m.clone(), postgres);
        }
        for l in &self.loggers {
            l.start(self.metrics.clone());
        }
        if let Some(a) = &self.alerting {
            a.start(redis, db, store);
        }
    }

    pub fn admitted(&self) {
        if let Some(m) = &self.metrics {
            m.admitted();
        }
    }

    /// A call was admitted (its id chosen): the hanging-request check watches it.
    pub fn started(
        &self,
        call_id: &str,
        model: &str,
        key_alias: Option<&str>,
        team_alias: Option<&str>,
    ) {
        if let Some(a) = &self.alerting {
            a.started(call_id, model, key_alias, team_alias);
        }
    }

    /// The call's id was replaced by one chosen earlier.
    pub fn renamed(&self, old: &str, new: &str) {
        if let Some(a) = &self.alerting {
            a.renamed(old, new);
        }
    }

    pub fn call(&self, ev: &CallEvent<'_>) {
        if let Some(m) = &self.metrics {
            m.call(ev);
        }
        if let Some(a) = &self.alerting {
            a.call(ev);
        }
        if let (Some(o), Some(ids)) = (&self.otel, ev.trace) {
            if ids.sampled {
                o.call(ev, ids);
            }
        }
        if self.loggers.is_empty() {
            return;
        }
        let wanted = self.loggers.iter().any(|l| l.wants(ev.status.is_success()));
        if !wanted {
            return;
        }
        let payload = Arc::new(payload::standard(ev, &self.settings));
        for l in &self.loggers {
            if l.wants(ev.status.is_success()) {
                l.push(payload.clone());
            }
        }
    }

    pub fn attempt(&self, ev: &AttemptEvent<'_>) {
        if let Some(m) = &self.metrics {
            m.attempt(ev);
        }
        if let Some(a) = &self.alerting {
            a.attempt(ev);
        }
    }

    pub fn fallback(&self, ev: &FallbackEvent<'_>) {
        if let Some(m) = &self.metrics {
            m.fallback(ev);
        }
    }

    pub fn rejected(&self, ev: &Rejected<'_>) {
        if let Some(m) = &self.metrics {
            m.rejected(ev);
        }
    }

    /// Sends what the loggers hold (shutdown).
    pub async fn flush(&self) {
        for l in &self.loggers {
            l.flush().await;
        }
        if let Some(o) = &self.otel {
            o.shutdown();
        }
    }

    /// Span ids for a new call when OpenTelemetry is on (continuing `traceparent`).
    pub fn trace(&self, headers: &axum::http::HeaderMap) -> Option<otel::TraceIds> {
        self.otel.as_ref()?;
        let parent = headers.get("traceparent").and_then(|v| v.to_str().ok());
        Some(otel::TraceIds::new(parent))
    }
}
