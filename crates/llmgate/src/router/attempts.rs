//! One call's plan after a failure, as LiteLLM 1.110's router decides it: the asked group
//! gets `1 + num_retries` attempts (another deployment first), then its fallbacks are tried
//! in order, each with its own retries and, nested, its own fallbacks (`max_fallbacks` bounds
//! the depth). The caller runs the attempts; this decides what comes next, so the SDK and
//! the gateway share the rules.

use std::time::Duration;

use rand::Rng;

use super::settings::Settings;
use super::{Member, Router};
use crate::{ErrorKind, LlmError};

/// What to do after a failed attempt.
#[derive(Debug, PartialEq)]
pub enum Next {
    /// Try the same group again after `delay`.
    Retry { delay: Duration },
    /// Move on to another model group.
    Fallback { group: String },
    /// Give up: answer the error ([`Attempts::final_error`]).
    Stop,
}

/// Fallback groups still to try at one nesting level.
#[derive(Debug)]
struct Level {
    depth: u32,
    groups: Vec<String>,
}

#[derive(Debug)]
pub struct Attempts {
    original: String,
    group: String,
    /// Deployments tried in the current group.
    tried: Vec<String>,
    /// Retries in the current group (`x-litellm-attempted-retries`).
    pub retries: u32,
    /// The current group's fallback depth (`x-litellm-attempted-fallbacks`).
    pub fallbacks: u32,
    levels: Vec<Level>,
    /// Groups moved to or waiting (never visited twice).
    seen: Vec<String>,
    /// Fallback groups of the asked group that were tried.
    attempted: Vec<String>,
    /// The request's own `fallbacks` list, which replaces the router's for the asked group.
    request_fallbacks: Option<Vec<String>>,
    /// The request's own `num_retries`, which replaces every policy.
    request_retries: Option<u32>,
    /// The asked group's error, which the call answers with if every fallback fails too.
    primary: Option<LlmError>,
}

impl Attempts {
    pub(crate) fn new(group: &str) -> Attempts {
        Attempts {
            original: group.to_string(),
            group: group.to_string(),
            tried: Vec::new(),
            retries: 0,
            fallbacks: 0,
            levels: Vec::new(),
            seen: vec![group.to_string()],
            attempted: Vec::new(),
            request_fallbacks: None,
            request_retries: None,
            primary: None,
        }
    }

    /// A request's own `fallbacks: ["model-b", ...]`.
    pub fn with_request_fallbacks(mut self, list: Option<Vec<String>>) -> Attempts {
        self.request_fallbacks = list;
        self
    }

    /// A request's own `num_retries`.
    pub fn with_retries(mut self, n: Option<u32>) -> Attempts {
        self.request_retries = n;
        self
    }

    /// The group the next attempt goes to.
    pub fn group(&self) -> &str {
        &self.group
    }

    /// The group the call asked for.
    pub fn original(&self) -> &str {
        &self.original
    }

    /// Deployments already tried in the current group (a pick prefers others).
    pub fn tried(&self) -> &[String] {
        &self.tried
    }

    /// Records an attempt on `id`.
    pub fn attempted(&mut self, id: &str) {
        if !self.tried.iter().any(|t| t == id) {
            self.tried.push(id.to_string());
        }
    }

    /// Decides what follows `err`. `member`: the deployment that failed (None when no
    /// deployment could be picked). `may_use`: whether the caller may call a fallback group
    /// (one it may not is skipped).
    pub fn after<D>(
        &mut self,
        router: &Router<D>,
        member: Option<&Member<D>>,
        err: &LlmError,
        may_use: &dyn Fn(&str) -> bool,
    ) -> Next {
        if self.fallbacks == 0 && self.primary.is_none() {
            self.primary = Some(err.clone());
        }
        if member.is_some() && self.should_retry(router, member, err) {
            self.retries += 1;
            return Next::Retry {
                delay: self.delay(router, err),
            };
        }
        let s = router.settings();
        // This group's own fallbacks come next (depth first), then its siblings'.
        if (self.fallbacks as usize) < s.max_fallbacks {
            let list = self.fallback_list(s, &self.group.clone(), err);
            let groups: Vec<String> = list
                .into_iter()
                .filter(|g| !self.seen.contains(g))
                .collect();
            self.seen.extend(groups.iter().cloned());
            if !groups.is_empty() {
                self.levels.push(Level {
                    depth: self.fallbacks + 1,
                    groups,
                });
            }
        }
        while let Some(level) = self.levels.last_mut() {
            if level.groups.is_empty() {
                self.levels.pop();
                continue;
            }
            let group = level.groups.remove(0);
            let depth = level.depth;
            if !may_use(&group) {
                continue;
            }
            if depth == 1 {
                self.attempted.push(group.clone());
            }
            self.fallbacks = depth;
            self.group = group.clone();
            self.tried.clear();
            self.retries = 0;
            return Next::Fallback { group };
        }
        Next::Stop
    }

    /// The error a call answers with once it stops: the asked group's error (its class and
    /// status), with LiteLLM's note of what the fallbacks did.
    pub fn final_error<D>(&self, router: &Router<D>, last: LlmError) -> LlmError {
        let mut e = match &self.primary {
            Some(p) if self.fallbacks > 0 || !self.attempted.is_empty() => p.clone(),
            _ => last.clone(),
        };
        if e.model.is_none() {
            e.model = Some(self.original.clone());
        }
        let lead = format!(
            "\n\nLiteLLM: model group '{}' failed with the error above.",
            self.original
        );
        let note = if !self.attempted.is_empty() {
            let mut detail = last.to_string();
            if detail.len() > MAX_DETAIL {
                let mut cut = MAX_DETAIL;
                while !detail.is_char_boundary(cut) {
                    cut -= 1;
                }
                let dropped = detail.len() - cut;
                detail.truncate(cut);
                detail.push_str(&format!("... [truncated {dropped} characters]"));
            }
            format!(
                "{lead} Fallback to {} also failed: {detail}",
                self.attempted.join(", ")
            )
        } else {
            let s = router.settings();
            let mut configured: Vec<&str> = Vec::new();
            for (g, _) in s.fallbacks.iter() {
                if !configured.contains(&g.as_str()) {
                    configured.push(g);
                }
            }
            if !s.default_fallbacks.is_empty() && !configured.contains(&"*") {
                configured.push("*");
            }
            if configured.is_empty() {
                // No fallback configured anywhere: LiteLLM's "No fallback was attempted."
                // tells nothing, and is left out.
                return e;
            } else {
                format!(
                    "\n\nLiteLLM: model group '{}' failed with the error above and no fallback \
                     model group was found for it, so the request was not retried on another \
                     model. Fallbacks are configured for: {}. Add a fallbacks entry for that \
                     model group (Router fallbacks or proxy router_settings.fallbacks) to retry \
                     on another model.",
                    self.original,
                    configured.join(", ")
                )
            }
        };
        e.note = Some(note);
        e
    }

    fn should_retry<D>(
        &self,
        router: &Router<D>,
        member: Option<&Member<D>>,
        err: &LlmError,
    ) -> bool {
        let s = router.settings();
        let own = member.and_then(|m| m.params.max_retries);
        let allowed = self
            .request_retries
            .unwrap_or_else(|| s.retries_for(&self.group, err.kind, own));
        if self.retries >= allowed {
            return false;
        }
        // An explicit policy for the error's class retries it whatever it is.
        let by_policy = s
            .group_retry_policy
            .get(&self.group)
            .and_then(|p| p.get(err.kind))
            .or_else(|| s.retry_policy.get(err.kind))
            .is_some();
        if by_policy {
            return true;
        }
        match err.kind {
            // The model is not there: its fallbacks, at once.
            ErrorKind::NotFound => false,
            // Another deployment of the group may have working credentials.
            ErrorKind::Authentication => self.healthy(router) > 0,
            // Nothing left to take the load: its fallbacks, when it has any.
            ErrorKind::RateLimit
                if self.healthy(router) == 0
                    && Settings::fallbacks_in(&s.fallbacks, &self.group).is_some() =>
            {
                false
            }
            _ => err.is_retryable(),
        }
    }

    /// Deployments of the current group not cooling down.
    fn healthy<D>(&self, router: &Router<D>) -> usize {
        let now = super::stats::now_ms();
        router.members(&self.group).map_or(0, |(g, _)| {
            g.iter().filter(|m| !m.stats.is_cooling(now)).count()
        })
    }

    /// Deployments of the current group neither tried nor cooling down.
    fn untried<D>(&self, router: &Router<D>) -> usize {
        let now = super::stats::now_ms();
        router.members(&self.group).map_or(0, |(g, _)| {
            g.iter()
                .filter(|m| !self.tried.contains(&m.params.id) && !m.stats.is_cooling(now))
                .count()
        })
    }

    /// Another deployment is tried at once; the same one after the upstream's `Retry-After`
    /// (up to a minute) or an exponential backoff (0.5 s doubling, at most 8 s, never less
    /// than `retry_after`), plus up to 0.75 s of jitter, as LiteLLM waits.
    fn delay<D>(&self, router: &Router<D>, err: &LlmError) -> Duration {
        if self.untried(router) > 0 {
            return Duration::ZERO;
        }
        let s = router.settings();
        let jitter = rand::rng().random_range(0.0..JITTER);
        let upstream = err
            .retry_after
            .as_deref()
            .and_then(|r| r.trim().parse::<f64>().ok())
            .filter(|r| *r > 0.0 && *r <= 60.0);
        let secs = match upstream {
            Some(r) => r,
            None => (INITIAL_BACKOFF * 2f64.powi(self.retries as i32))
                .max(s.retry_after.as_secs_f64())
                .min(MAX_BACKOFF),
        };
        Duration::from_secs_f64(secs + jitter)
    }

    /// The fallbacks of `group` for this error: the request's own list (for the asked
    /// group), else the context-window or content-policy list for those errors, else
    /// `fallbacks` (an exact entry, else `*`), else `default_fallbacks`.
    fn fallback_list(&self, s: &Settings, group: &str, err: &LlmError) -> Vec<String> {
        if group == self.original {
            if let Some(l) = &self.request_fallbacks {
                return l.clone();
            }
        }
        let special = match err.kind {
            ErrorKind::ContextWindowExceeded => {
                Settings::fallbacks_in(&s.context_window_fallbacks, group)
            }
            ErrorKind::ContentPolicyViolation => {
                Settings::fallbacks_in(&s.content_policy_fallbacks, group)
            }
            _ => None,
        };
        if let Some(l) = special {
            return l.to_vec();
        }
        if let Some(l) = Settings::fallbacks_in(&s.fallbacks, group) {
            return l.to_vec();
        }
        s.default_fallbacks.clone()
    }
}

const INITIAL_BACKOFF: f64 = 0.5;
const MAX_BACKOFF: f64 = 8.0;
const JITTER: f64 = 0.75;
/// LiteLLM's `ROUTER_FALLBACK_ERROR_DETAIL_MAX_CHARS`.
const MAX_DETAIL: usize = 2000;
