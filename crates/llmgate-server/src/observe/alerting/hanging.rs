//! LiteLLM's hanging-request check: every call in flight is remembered from admission to its
//! end; every `alerting_threshold / 2` the sender looks at them, and a call older than the
//! threshold that has not ended is alerted once ("Requests are hanging").

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

struct Entry {
    model: String,
    key_alias: Option<String>,
    team_alias: Option<String>,
    created: Instant,
    alerted: bool,
}

#[derive(Default)]
pub struct Hanging {
    calls: Mutex<HashMap<String, Entry>>,
}

/// Calls remembered at most (every call ends, so this bounds only a flood in flight).
const MAX: usize = 100_000;

impl Hanging {
    pub fn start(
        &self,
        call_id: &str,
        model: &str,
        key_alias: Option<&str>,
        team_alias: Option<&str>,
    ) {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        if calls.len() >= MAX {
            return;
        }
        calls.insert(
            call_id.to_string(),
            Entry {
                model: model.to_string(),
                key_alias: key_alias.map(str::to_string),
                team_alias: team_alias.map(str::to_string),
                created: Instant::now(),
                alerted: false,
            },
        );
    }

    pub fn rename(&self, old: &str, new: &str) {
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(e) = calls.remove(old) {
            calls.insert(new.to_string(), e);
        }
    }

    pub fn end(&self, call_id: &str) {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .remove(call_id);
    }

    /// The alerts for calls older than `threshold` seconds not yet alerted.
    pub fn check(&self, threshold: f64, threshold_text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut calls = self.calls.lock().unwrap_or_else(|e| e.into_inner());
        for e in calls.values_mut() {
            if e.alerted || e.created.elapsed().as_secs_f64() < threshold {
                continue;
            }
            e.alerted = true;
            let none = || "None".to_string();
            out.push(format!(
                "`Requests are hanging - {threshold_text}s+ request time`\nRequest Model: `{}`\nAPI Base: `None`\nKey Alias: `{}`\nTeam Alias: `{}`",
                e.model,
                e.key_alias.clone().unwrap_or_else(none),
                e.team_alias.clone().unwrap_or_else(none),
            ));
        }
        out
    }
}
