//! LiteLLM's outage alerts: timeouts (408) and 5xx errors of a deployment (`outage_alerts`),
//! or of two or more deployments of one provider region (`region_outage_alerts`), counted in a
//! window of `outage_alert_ttl` (`region_outage_alert_ttl`) from the last error; a minor
//! outage alert at `minor_outage_alert_threshold` errors, a major one at
//! `major_outage_alert_threshold`, each once per window.

use std::collections::{HashMap, HashSet};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use super::settings::Args;
use super::{bare_model, Level};
use crate::deployments::Deployment;

struct Outage {
    alerts: Vec<u16>,
    minor_sent: bool,
    major_sent: bool,
    last: Instant,
    deployments: HashSet<String>,
}

#[derive(Default)]
pub struct Outages {
    models: Mutex<HashMap<String, Outage>>,
    regions: Mutex<HashMap<String, Outage>>,
}

/// The deployment's region as LiteLLM finds it (`region_name`, else the provider's own).
fn region(d: &Deployment) -> Option<String> {
    let p = &d.entry.litellm_params.extra;
    ["region_name", "vertex_location", "aws_region_name"]
        .iter()
        .find_map(|k| p.get(*k).and_then(|v| v.as_str()).map(str::to_string))
}

fn errors(alerts: &[u16]) -> String {
    let (mut timeout, mut api, mut unknown) = (0, 0, 0);
    for a in alerts {
        match a {
            408 => timeout += 1,
            a if *a >= 500 => api += 1,
            _ => unknown += 1,
        }
    }
    let mut out = String::new();
    for (k, v) in [
        ("Timeout Errors", timeout),
        ("API Errors", api),
        ("Unknown Errors", unknown),
    ] {
        if v > 0 {
            out.push_str(&format!("\n{k}: {v}\n"));
        }
    }
    out
}

/// LiteLLM's `_outage_alert_msg_factory`.
fn message(
    kind: &str,
    key: &str,
    value: &str,
    provider: &str,
    api_base: Option<&str>,
    o: &Outage,
) -> String {
    let mut headers = format!("\n*{key} Name:* `{value}`\n*Provider:* `{provider}`\n");
    if let Some(b) = api_base {
        headers.push_str(&format!("*API Base:* `{b}`\n"));
    }
    let ago = super::py_round(o.last.elapsed().as_secs_f64(), 4);
    format!(
        "\n\n\n*⚠️ {kind} Service Outage*\n\n{headers}\n\n*Errors:*\n{}\n\n*Last Check:* `{ago}s ago`\n\n\n",
        errors(&o.alerts)
    )
}

/// Adds an error to `map[key]`; the alert it raises (level, which one), if any.
fn record(
    map: &Mutex<HashMap<String, Outage>>,
    key: String,
    deployment: &str,
    status: u16,
    window: Duration,
    args: &Args,
    regional: bool,
) -> Option<(Level, &'static str, Outage)> {
    let mut map = map.lock().unwrap_or_else(|e| e.into_inner());
    let now = Instant::now();
    map.retain(|_, o| now.duration_since(o.last) < window);
    let Some(o) = map.get_mut(&key) else {
        map.insert(
            key,
            Outage {
                alerts: vec![status],
                minor_sent: false,
                major_sent: false,
                last: now,
                deployments: HashSet::from([deployment.to_string()]),
            },
        );
        return None;
    };
    if o.alerts.len() < args.max_outage_alert_list_size {
        o.alerts.push(status);
    }
    o.deployments.insert(deployment.to_string());
    o.last = now;
    let spread = !regional || o.deployments.len() > 1;
    let snapshot = |o: &Outage| Outage {
        alerts: o.alerts.clone(),
        minor_sent: o.minor_sent,
        major_sent: o.major_sent,
        last: o.last,
        deployments: HashSet::new(),
    };
    if !o.minor_sent && o.alerts.len() >= args.minor_outage_alert_threshold && spread {
        o.minor_sent = true;
        return Some(("Medium", "Minor", snapshot(o)));
    }
    if !o.major_sent && o.alerts.len() >= args.major_outage_alert_threshold && spread {
        o.major_sent = true;
        return Some(("High", "Major", snapshot(o)));
    }
    None
}

impl Outages {
    /// A deployment's 408/5xx error: its outage alert, if this error raises one.
    pub fn model(&self, d: &Deployment, status: u16, args: &Args) -> Option<(Level, String)> {
        let (level, kind, o) = record(
            &self.models,
            d.id.clone(),
            &d.id,
            status,
            args.outage_alert_ttl,
            args,
            false,
        )?;
        let model = bare_model(&d.model, &d.provider);
        let base = (!d.api_base.is_empty()).then_some(d.api_base.as_str());
        Some((level, message(kind, "Model", model, &d.provider, base, &o)))
    }

    /// The same error counted for the deployment's provider region (when it has one).
    pub fn region(&self, d: &Deployment, status: u16, args: &Args) -> Option<(Level, String)> {
        let region = region(d)?;
        let (level, kind, o) = record(
            &self.regions,
            format!("{}{region}", d.provider),
            &d.id,
            status,
            args.region_outage_alert_ttl,
            args,
            true,
        )?;
        Some((
            level,
            message(kind, "Region", &region, &d.provider, None, &o),
        ))
    }
}
