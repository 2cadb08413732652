//! When a failed call cools its deployment down (LiteLLM's cooldown handlers), and for how
//! long.

use std::time::Duration;

use super::settings::Settings;
use super::Member;
use crate::{ErrorKind, LlmError};

/// Whether LiteLLM cools down for this error at all: rate limits, bad credentials, unknown
/// models, timeouts and server errors do; other client errors (a bad request is the caller's
/// fault) and connection failures do not.
fn cooldown_required(err: &LlmError) -> bool {
    match err.kind {
        ErrorKind::ApiConnection => false,
        ErrorKind::RateLimit
        | ErrorKind::Authentication
        | ErrorKind::NotFound
        | ErrorKind::Timeout => true,
        _ => err.status >= 500,
    }
}

/// The cooldown a failure earns: `fails` and `successes` are this minute's counts with this
/// failure; `single`: the deployment is its group's only one (LiteLLM never cools those down
/// unless a policy names the error).
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
    let time = m.params.cooldown_time.unwrap_or(s.cooldown_time);
    if time.is_zero() {
        return None;
    }
    let policy = m
        .params
        .allowed_fails_policy
        .as_ref()
        .and_then(|p| p.get(err.kind))
        .or_else(|| s.allowed_fails_policy.get(err.kind));
    if let Some(allowed) = policy {
        return (fails > allowed).then_some(time);
    }
    if !cooldown_required(err) || single {
        return None;
    }
    let allowed = m.params.allowed_fails.unwrap_or(s.allowed_fails);
    // A rate limit, bad credentials, an unknown model or a timeout mean the deployment will
    // not serve the next call either.
    let immediate = matches!(
        err.kind,
        ErrorKind::RateLimit | ErrorKind::Authentication | ErrorKind::NotFound | ErrorKind::Timeout
    );
    let total = fails + successes;
    let failing_most = total >= FAILURE_MINIMUM_REQUESTS
        && f64::from(fails) / f64::from(total) > FAILURE_THRESHOLD;
    (immediate || fails > allowed || failing_most).then_some(time)
}

/// LiteLLM's `DEFAULT_FAILURE_THRESHOLD_PERCENT` and `..._MINIMUM_REQUESTS`: a deployment
/// failing more than half its calls this minute (over enough calls) cools down too.
const FAILURE_THRESHOLD: f64 = 0.5;
const FAILURE_MINIMUM_REQUESTS: u32 = 5;
