//! Budget alerts from the ledger: after a call's cost is added to a key, user or team, the
//! spend is checked as LiteLLM's budget checks do (a key's `max_budget` and soft budget, a
//! key's or team's `soft_budget` once crossed, a team's `max_budget` once exceeded, a user's
//! `max_budget`) and handed to the alerts (`crate::observe::alerting`), which decide the event
//! (`soft_budget_crossed`, `threshold_crossed`, `budget_crossed`), deduplicate it and send it
//! off the request path. Crossings are logged with or without alerting configured.

use std::sync::Arc;

use crate::observe::alerting::{Alerting, CallInfo, Kind};

/// Whether adding `cost` to `before` crosses `threshold`.
pub fn crossed(before: f64, cost: f64, threshold: Option<f64>) -> bool {
    threshold.is_some_and(|t| before < t && before + cost >= t)
}

/// Where budget alerts go: the log always; with `general_settings.alerting`, the alerts.
#[derive(Default)]
pub struct Alerts {
    pub alerting: Option<Arc<Alerting>>,
}

impl Alerts {
    pub fn new(alerting: Option<Arc<Alerting>>) -> Alerts {
        Alerts { alerting }
    }

    /// Logs a crossing (`what`: `soft_budget` or `max_budget`) of `group` `id`.
    pub fn log_crossing(&self, what: &'static str, group: &'static str, id: &str, spend: f64) {
        tracing::warn!(
            budget = what,
            event_group = group,
            id,
            spend,
            "budget crossed"
        );
    }

    /// The alerting handle when a budget alert may be due for this spend.
    pub fn due(&self, spend: f64, max: Option<f64>, soft: Option<f64>) -> Option<&Alerting> {
        self.alerting
            .as_deref()
            .filter(|a| a.budget_due(spend, max, soft))
    }

    pub fn send(&self, kind: Kind, info: CallInfo) {
        if let Some(a) = &self.alerting {
            a.budget(kind, info);
        }
    }
}
