//! The routing strategies: given the deployments still eligible, pick one. Each runs over a
//! group in one pass with no allocation beyond a candidate list, so a group of 1 000 costs
//! microseconds.

use rand::Rng;

use super::settings::{LatencyArgs, Strategy};
use super::Member;

/// Picks among `pool` (never empty) by `strategy`; None only when usage-based routing finds
/// every deployment over its limits.
pub(crate) fn choose<'a, D>(
    strategy: Strategy,
    pool: &[&'a Member<D>],
    now: i64,
    input_tokens: u64,
    latency: &LatencyArgs,
) -> Option<&'a Member<D>> {
    match strategy {
        Strategy::SimpleShuffle => Some(shuffle(pool)),
        Strategy::LeastBusy => Some(lowest(pool, |m| m.stats.in_flight() as f64)),
        Strategy::UsageBased => usage_based(pool, now, input_tokens),
        Strategy::LatencyBased => Some(latency_based(pool, now, latency)),
        Strategy::CostBased => Some(lowest(pool, |m| m.params.cost_per_token())),
    }
}

/// What a deployment weighs in the shuffle.
type Weight<D> = fn(&Member<D>) -> Option<f64>;

/// LiteLLM's simple shuffle: weighted by `weight` when any deployment has one, else by
/// `rpm`, else by `tpm`, else uniform.
fn shuffle<'a, D>(pool: &[&'a Member<D>]) -> &'a Member<D> {
    let by: Option<Weight<D>> = if pool.iter().any(|m| m.params.weight.is_some()) {
        Some(|m| m.params.weight)
    } else if pool.iter().any(|m| m.params.rpm.is_some()) {
        Some(|m| m.params.rpm.map(|r| r as f64))
    } else if pool.iter().any(|m| m.params.tpm.is_some()) {
        Some(|m| m.params.tpm.map(|t| t as f64))
    } else {
        None
    };
    let mut rng = rand::rng();
    if let Some(weight) = by {
        let w = |m: &Member<D>| {
            weight(m)
                .filter(|w| w.is_finite() && *w > 0.0)
                .unwrap_or(0.0)
        };
        let total: f64 = pool.iter().map(|m| w(m)).sum();
        if total > 0.0 {
            let mut x = rng.random_range(0.0..total);
            for m in pool {
                let mw = w(m);
                if x < mw {
                    return m;
                }
                x -= mw;
            }
            // Rounding: the last one with any weight.
            if let Some(m) = pool.iter().rev().find(|m| w(m) > 0.0) {
                return m;
            }
        }
    }
    pool[rng.random_range(0..pool.len())]
}

/// The deployment with the lowest score; ties broken at random (so equal deployments share
/// the load).
fn lowest<'a, D>(pool: &[&'a Member<D>], score: impl Fn(&Member<D>) -> f64) -> &'a Member<D> {
    let mut best = f64::INFINITY;
    let mut ties = 0u32;
    let mut pick = pool[0];
    let mut rng = rand::rng();
    for m in pool {
        let s = score(m);
        if s < best {
            best = s;
            pick = m;
            ties = 1;
        } else if s == best {
            // Reservoir sampling among equals.
            ties += 1;
            if rng.random_range(0..ties) == 0 {
                pick = m;
            }
        }
    }
    pick
}

/// Lowest tokens used this minute among the deployments this call keeps within their rpm
/// and tpm.
fn usage_based<'a, D>(
    pool: &[&'a Member<D>],
    now: i64,
    input_tokens: u64,
) -> Option<&'a Member<D>> {
    let mut best: Option<(&Member<D>, u64)> = None;
    let mut rng = rand::rng();
    let mut ties = 0u32;
    for m in pool {
        let (requests, tokens) = m.stats.usage(now);
        if m.params.rpm.is_some_and(|limit| requests + 1 > limit)
            || m.params
                .tpm
                .is_some_and(|limit| tokens + input_tokens > limit)
        {
            continue;
        }
        match best {
            Some((_, t)) if tokens > t => {}
            Some((_, t)) if tokens == t => {
                ties += 1;
                if rng.random_range(0..ties) == 0 {
                    best = Some((m, tokens));
                }
            }
            _ => {
                best = Some((m, tokens));
                ties = 1;
            }
        }
    }
    best.map(|(m, _)| m)
}

/// Lowest mean recent latency; a deployment without any yet counts as 0 (it is tried). With
/// a buffer, every deployment within `lowest * (1 + buffer)` is a candidate.
fn latency_based<'a, D>(pool: &[&'a Member<D>], now: i64, args: &LatencyArgs) -> &'a Member<D> {
    let ttl = args.ttl.as_millis() as i64;
    let score = |m: &Member<D>| m.stats.mean_latency(now, ttl).unwrap_or(0.0);
    if args.buffer <= 0.0 {
        return lowest(pool, score);
    }
    let scores: Vec<f64> = pool.iter().map(|m| score(m)).collect();
    let best = scores.iter().copied().fold(f64::INFINITY, f64::min);
    let limit = best * (1.0 + args.buffer);
    let near: Vec<usize> = (0..pool.len()).filter(|i| scores[*i] <= limit).collect();
    pool[near[rand::rng().random_range(0..near.len())]]
}
