//! Budget alerts, as LiteLLM's webhook alerting sends them: when a call takes a key, user or
//! team across its `soft_budget` (`soft_budget_crossed`, keys and teams) or `max_budget`
//! (`budget_crossed`), the event is logged and, with `general_settings.alerting: ["webhook"]`,
//! POSTed to `WEBHOOK_URL` as LiteLLM's `WebhookEvent` JSON. Sent off the request path, once
//! per crossing; nothing is blocked by a soft budget.

use serde_json::{json, Value};

/// Whether adding `cost` to `before` crosses `threshold`.
pub fn crossed(before: f64, cost: f64, threshold: Option<f64>) -> bool {
    threshold.is_some_and(|t| before < t && before + cost >= t)
}

/// Where budget alerts go: the log always; with `general_settings.alerting: ["webhook"]`, also
/// `WEBHOOK_URL`.
pub struct Alerts {
    pub webhook: Option<String>,
    pub http: reqwest::Client,
}

impl Alerts {
    pub fn from_config(config: &crate::config::Config, http: reqwest::Client) -> Alerts {
        let webhook = config
            .general_settings
            .extra
            .get("alerting")
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|v| v.as_str() == Some("webhook")));
        Alerts {
            webhook: std::env::var("WEBHOOK_URL").ok().filter(|_| webhook),
            http,
        }
    }

    /// `event` is `soft_budget_crossed` or `budget_crossed`; `group` is `key`, `user` or
    /// `team`; `info` holds LiteLLM's `CallInfo` fields.
    pub fn send(&self, event: &'static str, group: &'static str, mut info: Value) {
        let message = match event {
            "soft_budget_crossed" => format!(
                "Soft Budget Crossed: Total Soft Budget:`{}`",
                info["soft_budget"]
            ),
            _ => format!("Budget Crossed\n Total Budget:`{}`", info["max_budget"]),
        };
        info["event"] = json!(event);
        info["event_group"] = json!(group);
        info["event_message"] = json!(message);
        tracing::warn!(event, event_group = group, details = %info, "budget alert");
        let Some(url) = self.webhook.clone() else {
            return;
        };
        let client = self.http.clone();
        tokio::spawn(async move {
            match client.post(&url).json(&info).send().await {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    tracing::warn!(status = %r.status(), "budget alert webhook refused the event")
                }
                Err(e) => tracing::warn!(error = %e, "budget alert webhook unreachable"),
            }
        });
    }
}
