//! One call's plan after a failure: retry within the model group (on another deployment when
//! there is one), then fall back to other groups, as LiteLLM's router does. The caller runs
//! the attempts; this decides what comes next, so the SDK and the gateway share the rules.

use std::collections::VecDeque;
use std::time::Duration;

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
    /// Give up: answer the error.
    Stop,
}

#[derive(Debug)]
pub struct Attempts {
    original: String,
    group: String,
    /// Deployments tried in the current group.
    tried: Vec<String>,
    retries_in_group: u32,
    /// Retries over the whole call (`x-litellm-attempted-retries`).
    pub retries: u32,
    /// Fallback groups moved to (`x-litellm-attempted-fallbacks`).
    pub fallbacks: u32,
    /// Fallback groups not yet tried, chosen at the first fallback.
    queue: Option<VecDeque<String>>,
    /// The request's own `fallbacks` list, which replaces the router's.
    request_fallbacks: Option<Vec<String>>,
}

impl Attempts {
    pub(crate) fn new(group: &str) -> Attempts {
        Attempts {
            original: group.to_string(),
            group: group.to_string(),
            tried: Vec::new(),
            retries_in_group: 0,
            retries: 0,
            fallbacks: 0,
            queue: None,
            request_fallbacks: None,
        }
    }

    /// A request's own `fallbacks: ["model-b", ...]`.
    pub fn with_request_fallbacks(mut self, list: Option<Vec<String>>) -> Attempts {
        self.request_fallbacks = list;
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
    /// deployment could be picked).
    pub fn after<D>(
        &mut self,
        router: &Router<D>,
        member: Option<&Member<D>>,
        err: &LlmError,
    ) -> Next {
        let s = router.settings();
        if member.is_some() && self.should_retry(router, member, err) {
            self.retries_in_group += 1;
            self.retries += 1;
            return Next::Retry {
                delay: self.delay(router, err),
            };
        }
        match self.next_fallback(s, err) {
            Some(group) => {
                self.fallbacks += 1;
                self.group = group.clone();
                self.tried.clear();
                self.retries_in_group = 0;
                Next::Fallback { group }
            }
            None => Next::Stop,
        }
    }

    fn should_retry<D>(
        &self,
        router: &Router<D>,
        member: Option<&Member<D>>,
        err: &LlmError,
    ) -> bool {
        let s = router.settings();
        let own = member.and_then(|m| m.params.max_retries);
        let allowed = s.retries_for(&self.group, err.kind, own);
        if self.retries_in_group >= allowed {
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
            // Another deployment of the group may have working credentials or the model.
            ErrorKind::Authentication | ErrorKind::NotFound => self.untried(router) > 0,
            // Fallbacks for these exist to take over at once.
            ErrorKind::ContextWindowExceeded | ErrorKind::ContentPolicyViolation => false,
            _ => err.is_retryable(),
        }
    }

    /// Deployments of the current group not yet tried and not cooling down.
    fn untried<D>(&self, router: &Router<D>) -> usize {
        let now = super::stats::now_ms();
        router.members(&self.group).map_or(0, |(g, _)| {
            g.iter()
                .filter(|m| !self.tried.contains(&m.params.id) && !m.stats.is_cooling(now))
                .count()
        })
    }

    /// Another deployment is tried at once; the same one after the upstream's `Retry-After`
    /// or an exponential backoff. Never less than `retry_after`.
    fn delay<D>(&self, router: &Router<D>, err: &LlmError) -> Duration {
        let s = router.settings();
        let wait = if self.untried(router) > 0 {
            Duration::ZERO
        } else if let Some(secs) = err
            .retry_after
            .as_deref()
            .and_then(|r| r.trim().parse::<f64>().ok())
            .filter(|r| r.is_finite() && *r >= 0.0)
        {
            Duration::from_secs_f64(secs.min(MAX_BACKOFF.as_secs_f64()))
        } else {
            let exp = INITIAL_BACKOFF.as_secs_f64() * 2f64.powi(self.retries_in_group as i32);
            Duration::from_secs_f64(exp.min(MAX_BACKOFF.as_secs_f64()))
        };
        wait.max(s.retry_after)
    }

    fn next_fallback(&mut self, s: &Settings, err: &LlmError) -> Option<String> {
        if self.fallbacks as usize >= s.max_fallbacks {
            return None;
        }
        if self.queue.is_none() {
            self.queue = Some(self.fallback_list(s, err).into_iter().collect());
        }
        let q = self.queue.as_mut()?;
        while let Some(g) = q.pop_front() {
            if g != self.group {
                return Some(g);
            }
        }
        None
    }

    /// The fallbacks for the asked group and this error: the request's own list, else the
    /// context-window or content-policy list for those errors, else `fallbacks` (an exact
    /// entry, else `*`), else `default_fallbacks`.
    fn fallback_list(&self, s: &Settings, err: &LlmError) -> Vec<String> {
        if let Some(l) = &self.request_fallbacks {
            return l.clone();
        }
        let special = match err.kind {
            ErrorKind::ContextWindowExceeded => {
                Settings::fallbacks_in(&s.context_window_fallbacks, &self.original)
            }
            ErrorKind::ContentPolicyViolation => {
                Settings::fallbacks_in(&s.content_policy_fallbacks, &self.original)
            }
            _ => None,
        };
        if let Some(l) = special {
            return l.to_vec();
        }
        if let Some(l) = Settings::fallbacks_in(&s.fallbacks, &self.original) {
            return l.to_vec();
        }
        s.default_fallbacks.clone()
    }
}

const INITIAL_BACKOFF: Duration = Duration::from_millis(500);
const MAX_BACKOFF: Duration = Duration::from_secs(8);
