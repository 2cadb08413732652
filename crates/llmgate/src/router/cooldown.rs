//! When a failed call cools its deployment down (LiteLLM 1.110's cooldown rules), and for
//! how long.

use std::time::Duration;

use super::settings::Settings;
use super::Member;
use crate::{ErrorKind, LlmError};

/// LiteLLM's `DEFAULT_FAILURE_THRESHOLD_PERCENT` and `..._MINIMUM_REQUESTS`: a deployment
/// failing more than half its calls this minute (over at least five) cools down.
const FAILURE_THRESHOLD: f64 = 0.5;
const FAILURE_MINIMUM_REQUESTS: u32 = 5;

/// Only these can cool a deployment down: rate limits, bad credentials, payment required,
/// unknown models, timeouts and server errors. Other client errors are the caller's fault;
/// a connection failure says nothing of the deployment.
fn cooldown_required(err: &LlmError) -> bool {
    match err.kind {
        ErrorKind::ApiConnection => false,
        ErrorKind::Timeout => true,
        _ => matches!(err.status, 401 | 402 | 404 | 429) || err.status >= 500,
    }
}

/// The cooldown a failure earns: `fails` and `successes` are this minute's counts with this
/// failure; `single`: the deployment is its group's only one.
pub(crate) fn cooldown_for<D>(
    s: &Settings,
    m: &Member<D>,
    err: &LlmError,
    fails: u32,
    successes: u32,
    single: bool,
) -> Option<Duration> {
    if s.disable_cooldowns {
        return None;
    }
    // The upstream's `Retry-After` sets the length (as LiteLLM).
    let time = err
        .retry_after
        .as_deref()
        .and_then(|r| r.trim().parse::<u64>().ok())
        .map(Duration::from_secs)
        .or(m.params.cooldown_time)
        .unwrap_or(s.cooldown_time);
    if time.is_zero() {
        return None;
    }
    let policy = m
        .params
        .allowed_fails_policy
        .as_ref()
        .and_then(|p| p.get(err.kind))
        .or_else(|| s.allowed_fails_policy.get(err.kind));
    // An explicit policy for the error's class counts failures whatever the error is.
    if let Some(allowed) = policy {
        return (fails > allowed).then_some(time);
    }
    if !cooldown_required(err) {
        return None;
    }
    // An explicit `allowed_fails` (router or deployment): more than that many this minute.
    if let Some(allowed) = m.params.allowed_fails.or(s.allowed_fails) {
        return (!single && fails > allowed).then_some(time);
    }
    // A group's only deployment is never cooled down (LiteLLM 1.110 cools it on a 401 or
    // 404, which only turns the upstream's error into "no deployments available").
    if single {
        return None;
    }
    // LiteLLM's default: errors a retry cannot mend (401, 402, 404) and rate limits at
    // once, others (timeouts too: LiteLLM never cools for its own, but a deployment that
    // keeps timing out is worth avoiding) once more than half of this minute's calls failed.
    let total = fails + successes;
    let cool = matches!(err.status, 401 | 402 | 404 | 429)
        || (total >= FAILURE_MINIMUM_REQUESTS
            && f64::from(fails) / f64::from(total) > FAILURE_THRESHOLD);
    cool.then_some(time)
}
