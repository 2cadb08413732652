//! What `general_settings` asks of the alerts: `alerting` (where), `alert_types` (what),
//! `alerting_threshold` (slow and hanging requests), `alert_to_webhook_url` (a channel per
//! type), `alerting_args` (windows and thresholds), read as LiteLLM 1.110 reads them, with its
//! defaults. The Slack URL comes from `SLACK_WEBHOOK_URL` (or `ALERTING_WEBHOOK_URL`), the
//! webhook's from `WEBHOOK_URL`.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::Value;

use crate::config::Config;

/// LiteLLM's `AlertType` values, in its order.
pub const ALERT_TYPES: &[&str] = &[
    "llm_exceptions",
    "llm_too_slow",
    "llm_requests_hanging",
    "budget_alerts",
    "spend_reports",
    "failed_tracking_spend",
    "user_spend_thresholds",
    "user_spend_anomalies",
    "db_exceptions",
    "daily_reports",
    "cooldown_deployment",
    "new_model_added",
    "model_deprecation_warnings",
    "outage_alerts",
    "region_outage_alerts",
    "fallback_reports",
    "new_virtual_key_created",
    "virtual_key_updated",
    "virtual_key_deleted",
    "new_team_created",
    "team_updated",
    "team_deleted",
    "new_internal_user_created",
    "internal_user_updated",
    "internal_user_deleted",
    "mcp_tool_description_blocked",
    "mcp_pinned_tools_changed",
];

/// LiteLLM's `DEFAULT_ALERT_TYPES` (what `alert_types` unset means).
pub const DEFAULT_ALERT_TYPES: &[&str] = &[
    "llm_exceptions",
    "llm_too_slow",
    "llm_requests_hanging",
    "budget_alerts",
    "spend_reports",
    "failed_tracking_spend",
    "user_spend_thresholds",
    "db_exceptions",
    "daily_reports",
    "cooldown_deployment",
    "new_model_added",
    "model_deprecation_warnings",
    "outage_alerts",
    "region_outage_alerts",
    "fallback_reports",
    "mcp_tool_description_blocked",
    "mcp_pinned_tools_changed",
];

/// LiteLLM's `SlackAlertingArgs` that llmgate acts on (seconds unless said).
#[derive(Clone, Debug)]
pub struct Args {
    pub daily_report_frequency: Duration,
    pub report_check_interval: Duration,
    pub budget_alert_ttl: Duration,
    pub outage_alert_ttl: Duration,
    pub region_outage_alert_ttl: Duration,
    pub minor_outage_alert_threshold: usize,
    pub major_outage_alert_threshold: usize,
    pub max_outage_alert_list_size: usize,
    /// Every Slack payload is also logged (warn).
    pub log_to_console: bool,
}

impl Default for Args {
    fn default() -> Args {
        let daily = std::env::var("SLACK_DAILY_REPORT_FREQUENCY")
            .ok()
            .and_then(|v| v.parse::<f64>().ok())
            .filter(|s| *s > 0.0)
            .unwrap_or(12.0 * 3600.0);
        Args {
            daily_report_frequency: Duration::from_secs_f64(daily),
            report_check_interval: Duration::from_secs(5 * 60),
            budget_alert_ttl: Duration::from_secs(24 * 3600),
            outage_alert_ttl: Duration::from_secs(60),
            region_outage_alert_ttl: Duration::from_secs(60),
            minor_outage_alert_threshold: 5,
            major_outage_alert_threshold: 10,
            max_outage_alert_list_size: 10,
            log_to_console: false,
        }
    }
}

/// `alerting_args` keys llmgate reads (the others are named at start-up).
pub const ARGS_READ: &[&str] = &[
    "daily_report_frequency",
    "report_check_interval",
    "budget_alert_ttl",
    "outage_alert_ttl",
    "region_outage_alert_ttl",
    "minor_outage_alert_threshold",
    "major_outage_alert_threshold",
    "max_outage_alert_list_size",
    "log_to_console",
];

#[derive(Clone, Debug, Default)]
pub struct Settings {
    pub slack: bool,
    pub webhook: bool,
    /// `alert_types` (LiteLLM's default list when unset).
    pub types: Vec<String>,
    /// `alerting_threshold` in seconds (300), and as the config wrote it (messages print it).
    pub threshold: f64,
    pub threshold_text: String,
    /// `alert_to_webhook_url`: a URL (or several) per alert type.
    pub to_url: HashMap<String, Vec<String>>,
    /// `SLACK_WEBHOOK_URL`, else `ALERTING_WEBHOOK_URL`.
    pub slack_url: Option<String>,
    /// `WEBHOOK_URL`, for `alerting: ["webhook"]`.
    pub webhook_url: Option<String>,
    /// `PROXY_BASE_URL`, added to every Slack message.
    pub proxy_base_url: Option<String>,
    pub args: Args,
    /// `turn_off_message_logging`: no request text in alerts.
    pub no_messages: bool,
    /// `spend_report_frequency` in days (`spend_reports`).
    pub spend_report_days: u32,
}

fn num(v: &Value) -> Option<f64> {
    v.as_f64()
        .or_else(|| v.as_str()?.parse().ok())
        .filter(|f: &f64| f.is_finite())
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Settings {
    /// None when `general_settings.alerting` names neither `slack` nor `webhook`. A malformed
    /// value refuses the start.
    pub fn from_config(cfg: &Config) -> Result<Option<Settings>, String> {
        let gs = &cfg.general_settings.extra;
        let list: Vec<&str> = match gs.get("alerting") {
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            Some(Value::String(s)) => vec![s.as_str()],
            _ => Vec::new(),
        };
        let slack = list.contains(&"slack");
        let webhook = list.contains(&"webhook");
        if !slack && !webhook {
            return Ok(None);
        }
        let types = match gs.get("alert_types") {
            None | Some(Value::Null) => DEFAULT_ALERT_TYPES.iter().map(|s| s.to_string()).collect(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| {
                    v.as_str().map(str::to_string).ok_or_else(|| {
                        format!("general_settings.alert_types: {v} is not an alert type name")
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
            Some(v) => return Err(format!("general_settings.alert_types: {v} is not a list")),
        };
        let (threshold, threshold_text) = match gs.get("alerting_threshold") {
            None | Some(Value::Null) => (300.0, "300".to_string()),
            Some(v) => {
                let t = num(v).filter(|t| *t > 0.0).ok_or_else(|| {
                    format!("general_settings.alerting_threshold: {v} is not a number of seconds")
                })?;
                let text = match v {
                    Value::Number(n) if n.is_i64() || n.is_u64() => n.to_string(),
                    _ => crate::pyfmt::py_float(t),
                };
                (t, text)
            }
        };
        let mut to_url = HashMap::new();
        match gs.get("alert_to_webhook_url") {
            None | Some(Value::Null) => {}
            Some(Value::Object(m)) => {
                for (k, v) in m {
                    let urls: Vec<String> = match v {
                        Value::String(s) => vec![s.clone()],
                        Value::Array(a) => a.iter().filter_map(|u| u.as_str().map(str::to_string)).collect(),
                        Value::Null => return Err(format!(
                            "general_settings.alert_to_webhook_url.{k}: the URL (or its os.environ/ variable) is unset"
                        )),
                        v => return Err(format!("general_settings.alert_to_webhook_url.{k}: {v} is not a URL")),
                    };
                    for u in &urls {
                        if !(u.starts_with("http://") || u.starts_with("https://")) {
                            return Err(format!(
                                "general_settings.alert_to_webhook_url.{k}: {u:?} is not an http(s) URL"
                            ));
                        }
                    }
                    to_url.insert(k.clone(), urls);
                }
            }
            Some(v) => {
                return Err(format!(
                    "general_settings.alert_to_webhook_url: {v} is not a map of alert type to URL"
                ))
            }
        }
        let mut args = Args::default();
        if let Some(a) = gs.get("alerting_args") {
            let Some(a) = a.as_object() else {
                return Err(format!("general_settings.alerting_args: {a} is not a map"));
            };
            let secs = |k: &str, d: &mut Duration| -> Result<(), String> {
                if let Some(v) = a.get(k).filter(|v| !v.is_null()) {
                    let s = num(v).filter(|s| *s > 0.0).ok_or_else(|| {
                        format!(
                            "general_settings.alerting_args.{k}: {v} is not a number of seconds"
                        )
                    })?;
                    *d = Duration::from_secs_f64(s);
                }
                Ok(())
            };
            secs("daily_report_frequency", &mut args.daily_report_frequency)?;
            secs("report_check_interval", &mut args.report_check_interval)?;
            secs("budget_alert_ttl", &mut args.budget_alert_ttl)?;
            secs("outage_alert_ttl", &mut args.outage_alert_ttl)?;
            secs("region_outage_alert_ttl", &mut args.region_outage_alert_ttl)?;
            let count = |k: &str, d: &mut usize| -> Result<(), String> {
                if let Some(v) = a.get(k).filter(|v| !v.is_null()) {
                    let n = num(v).filter(|n| *n >= 1.0).ok_or_else(|| {
                        format!("general_settings.alerting_args.{k}: {v} is not a count")
                    })?;
                    *d = n as usize;
                }
                Ok(())
            };
            count(
                "minor_outage_alert_threshold",
                &mut args.minor_outage_alert_threshold,
            )?;
            count(
                "major_outage_alert_threshold",
                &mut args.major_outage_alert_threshold,
            )?;
            count(
                "max_outage_alert_list_size",
                &mut args.max_outage_alert_list_size,
            )?;
            args.log_to_console = crate::config::is(a.get("log_to_console"), true);
        }
        let ls = &cfg.litellm_settings.extra;
        let spend_report_days = if types.iter().any(|t| t == "spend_reports") {
            super::spend::frequency_days(gs.get("spend_report_frequency"))?
        } else {
            7
        };
        Ok(Some(Settings {
            slack,
            webhook,
            types,
            threshold,
            threshold_text,
            to_url,
            slack_url: env("SLACK_WEBHOOK_URL").or_else(|| env("ALERTING_WEBHOOK_URL")),
            webhook_url: env("WEBHOOK_URL"),
            proxy_base_url: env("PROXY_BASE_URL"),
            args,
            no_messages: crate::config::is(ls.get("turn_off_message_logging"), true)
                || crate::config::is(ls.get("redact_messages_in_exceptions"), true),
            spend_report_days,
        }))
    }

    /// The alert type is in `alert_types`.
    pub fn wants(&self, alert_type: &str) -> bool {
        self.types.iter().any(|t| t == alert_type)
    }

    /// Slack gets this alert type.
    pub fn slack_wants(&self, alert_type: &str) -> bool {
        self.slack && self.wants(alert_type)
    }

    /// Where a Slack alert of this type goes: its `alert_to_webhook_url` entry, else the
    /// default URL.
    pub fn urls(&self, alert_type: &str) -> Vec<String> {
        match self.to_url.get(alert_type) {
            Some(u) => u.clone(),
            None => self.slack_url.iter().cloned().collect(),
        }
    }

    /// What the start-up log says is missing for alerts to reach anyone.
    pub fn warnings(&self) -> Vec<String> {
        let mut out = Vec::new();
        if self.slack && self.slack_url.is_none() {
            let without: Vec<&str> = self
                .types
                .iter()
                .filter(|t| !self.to_url.contains_key(t.as_str()))
                .map(String::as_str)
                .collect();
            if !without.is_empty() {
                out.push(format!(
                    "alerting: slack without SLACK_WEBHOOK_URL / ALERTING_WEBHOOK_URL: these alerts have nowhere to go and are dropped: {}",
                    without.join(", ")
                ));
            }
        }
        if self.webhook && self.webhook_url.is_none() {
            out.push("alerting: webhook without WEBHOOK_URL: budget events are only logged".into());
        }
        out
    }
}
