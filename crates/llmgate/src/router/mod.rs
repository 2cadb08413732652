//! The router: a model list's deployments grouped by public name, and the choice of one for
//! each call — LiteLLM's routing strategies, `order`, tags, cooldowns, blocked and unhealthy
//! deployments, pre-call context-window checks, aliases — plus the retry and fallback plan of
//! a call ([`Attempts`]). Generic over what a deployment is (`D`), so the SDK's own
//! [`Deployment`] and the gateway's share one implementation; it knows no HTTP server, and
//! sharing its state across a fleet is left to whoever reads [`Registry`].

use std::collections::HashSet;

// foldhash, not SipHash: the groups are read on every request.
use hashbrown::HashMap;
use std::sync::Arc;

use crate::{ErrorKind, LlmError};

mod attempts;
mod cooldown;
mod params;
mod sdk;
pub mod settings;
pub mod stats;
mod strategy;
#[cfg(test)]
mod tests;

pub use attempts::{Attempts, Next};
pub use params::Params;
pub use sdk::{Deployment, SdkRouter};
pub use settings::{Settings, Strategy};
pub use stats::{Registry, Stats};

pub struct Member<D> {
    pub target: Arc<D>,
    pub params: Params,
    pub stats: Arc<Stats>,
}

/// What a pick must respect beyond the router's own rules.
#[derive(Default, Clone, Copy)]
pub struct Ask<'a> {
    /// The request's tags (tag filtering).
    pub tags: &'a [String],
    /// The prompt's tokens, when known (pre-call checks, tpm limits).
    pub input_tokens: Option<u64>,
    /// Deployments already tried: others are preferred while any is left.
    pub exclude: &'a [String],
    /// Deployments that must never be picked (an end user's region).
    pub banned: &'a [String],
}

/// A picked deployment; counts as in flight until dropped (or until its [`InFlight`] guard,
/// taken for a stream's lifetime, is).
pub struct Pick<D> {
    pub member: Arc<Member<D>>,
    /// The provider model to call (a wildcard's `*` filled in).
    pub model: String,
    pub group: String,
    guard: InFlight,
}

impl<D> Pick<D> {
    pub fn target(&self) -> &Arc<D> {
        &self.member.target
    }

    /// The in-flight count, to keep while a stream runs.
    pub fn into_guard(self) -> InFlight {
        self.guard
    }
}

pub struct InFlight(Arc<Stats>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.end();
    }
}

type Group<D> = Vec<Arc<Member<D>>>;

/// A group's deployments, with the wildcard prefix that matched (None: an exact group).
pub type Members<'a, D> = (&'a [Arc<Member<D>>], Option<&'a str>);

pub struct Router<D> {
    settings: Arc<Settings>,
    groups: HashMap<String, Group<D>>,
    /// `(prefix before '*', deployments)`, longest prefix first.
    wildcards: Vec<(String, Group<D>)>,
    registry: Arc<Registry>,
}

impl<D> Router<D> {
    /// Groups `deployments` by public name; their stats come from `registry` (kept across
    /// rebuilds).
    pub fn new(
        settings: Arc<Settings>,
        registry: Arc<Registry>,
        deployments: impl IntoIterator<Item = (Arc<D>, Params)>,
    ) -> Router<D> {
        let mut groups: HashMap<String, Group<D>> = HashMap::new();
        let mut wildcards: Vec<(String, Group<D>)> = Vec::new();
        for (target, params) in deployments {
            let stats = registry.get(&params.id);
            let m = Arc::new(Member {
                target,
                params,
                stats,
            });
            if let Some(prefix) = m.params.group.strip_suffix('*') {
                match wildcards.iter_mut().find(|(p, _)| p == prefix) {
                    Some((_, v)) => v.push(m),
                    None => wildcards.push((prefix.to_string(), vec![m])),
                }
            } else {
                groups.entry(m.params.group.clone()).or_default().push(m);
            }
        }
        wildcards.sort_by_key(|w| std::cmp::Reverse(w.0.len()));
        let ids: HashSet<&str> = groups
            .values()
            .chain(wildcards.iter().map(|(_, g)| g))
            .flatten()
            .map(|m| m.params.id.as_str())
            .collect();
        registry.retain(&ids);
        Router {
            settings,
            groups,
            wildcards,
            registry,
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    pub fn registry(&self) -> &Arc<Registry> {
        &self.registry
    }

    /// The group a public name stands for (`model_group_alias` applied).
    pub fn resolve<'a>(&'a self, name: &'a str) -> &'a str {
        match self.settings.aliases.get(name) {
            Some((group, _)) if !self.groups.contains_key(name) => group,
            _ => name,
        }
    }

    /// The deployments serving `name` (an exact group, else the longest wildcard), with the
    /// wildcard's prefix.
    pub fn members(&self, name: &str) -> Option<Members<'_, D>> {
        let name = self.resolve(name);
        if let Some(g) = self.groups.get(name) {
            return Some((g, None));
        }
        self.wildcards
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix.as_str()))
            .map(|(p, g)| (g.as_slice(), Some(p.as_str())))
    }

    /// Whether `name` is served here (a group, an alias or a wildcard).
    pub fn serves(&self, name: &str) -> bool {
        self.members(name).is_some()
    }

    /// Every wildcard route's deployments.
    pub fn wildcard_groups(&self) -> impl Iterator<Item = (&str, &[Arc<Member<D>>])> {
        self.wildcards
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Every exact group's deployments.
    pub fn groups(&self) -> impl Iterator<Item = (&str, &[Arc<Member<D>>])> {
        self.groups.iter().map(|(k, v)| (k.as_str(), v.as_slice()))
    }

    /// Picks a deployment for `name` now.
    pub fn pick(&self, name: &str, ask: Ask<'_>) -> Result<Pick<D>, LlmError> {
        self.pick_at(name, ask, stats::now_ms())
    }

    /// As [`Router::pick`] at `now` (epoch ms).
    pub fn pick_at(&self, name: &str, ask: Ask<'_>, now: i64) -> Result<Pick<D>, LlmError> {
        let group = self.resolve(name).to_string();
        let Some((members, prefix)) = self.members(name) else {
            return Err(LlmError::new(
                ErrorKind::BadRequest,
                format!("Invalid model name passed in model={name}"),
            ));
        };
        let s = &*self.settings;
        // One pass over the group for what rules a deployment out (a group of 1 000 is read
        // once); the reasons are counted so that an empty pool says why.
        let ctx = if s.pre_call_checks {
            ask.input_tokens
        } else {
            None
        };
        let mut pool: Vec<&Member<D>> = Vec::with_capacity(members.len());
        let (mut allowed, mut open, mut fitting) = (0usize, 0usize, 0usize);
        let mut cooling: Vec<&Member<D>> = Vec::new();
        let mut too_small: Option<&Member<D>> = None;
        for m in members.iter().map(|m| &**m) {
            if !ask.banned.is_empty() && ask.banned.contains(&m.params.id) {
                continue;
            }
            allowed += 1;
            if m.params.blocked {
                continue;
            }
            open += 1;
            if let (Some(n), Some(max)) = (ctx, m.params.max_input_tokens) {
                if n > max {
                    too_small.get_or_insert(m);
                    continue;
                }
            }
            fitting += 1;
            if m.stats.is_cooling(now) {
                cooling.push(m);
                continue;
            }
            pool.push(m);
        }
        if allowed == 0 {
            return Err(LlmError::new(
                ErrorKind::BadRequest,
                format!("No deployments available for selected model={group} for this caller"),
            ));
        }
        if open == 0 {
            return Err(LlmError::new(
                ErrorKind::ServiceUnavailable,
                format!(
                    "No deployments available for selected model={group}: every deployment \
                     of it is blocked."
                ),
            ));
        }
        if s.tag_filtering {
            pool = tag_filter(pool, ask.tags, s.tag_match_any);
            if pool.is_empty() {
                cooling = tag_filter(cooling, ask.tags, s.tag_match_any);
                if fitting > 0 && cooling.is_empty() {
                    let tags: Vec<String> = ask.tags.iter().map(|t| format!("'{t}'")).collect();
                    return Err(LlmError::new(
                        ErrorKind::BadRequest,
                        format!(
                            "Not allowed to access model due to tags configuration. Passed \
                             model={group} and tags=[{}]",
                            tags.join(", ")
                        ),
                    ));
                }
            }
        }
        if fitting == 0 {
            let m = too_small.map(|m| &m.params);
            return Err(LlmError::new(
                ErrorKind::ContextWindowExceeded,
                format!(
                    "litellm._pre_call_checks: Context Window exceeded for given call. No \
                     models have context window large enough for this call.\nModel={}, Max \
                     Input Tokens={}, Got={}\nmodel={group}.",
                    m.map_or("", |p| p.model.as_str()),
                    m.and_then(|p| p.max_input_tokens).unwrap_or(0),
                    ctx.unwrap_or(0),
                ),
            ));
        }
        if pool.is_empty() {
            let ids: Vec<&str> = cooling.iter().map(|m| m.params.id.as_str()).collect();
            let soonest = cooling.iter().map(|m| m.stats.cooldown_until()).min();
            return Err(all_cooling(&group, &ids, soonest, now, s.pre_call_checks));
        }
        // Failing background health checks: skipped while another one is healthy.
        if pool.iter().any(|m| m.stats.is_unhealthy())
            && pool.iter().any(|m| !m.stats.is_unhealthy())
        {
            pool.retain(|m| !m.stats.is_unhealthy());
        }
        // Already tried by this call: others first, while any is left.
        if !ask.exclude.is_empty() && pool.iter().any(|m| !ask.exclude.contains(&m.params.id)) {
            pool.retain(|m| !ask.exclude.contains(&m.params.id));
        }
        // Priority: only the lowest order left.
        let order = |m: &Member<D>| m.params.order.unwrap_or(u32::MAX);
        let min = pool.iter().map(|m| order(m)).min().unwrap_or(u32::MAX);
        if pool.iter().any(|m| order(m) != min) {
            pool.retain(|m| order(m) == min);
        }
        let tokens = ask.input_tokens.unwrap_or(0);
        let Some(chosen) = strategy::choose(s.strategy, &pool, now, tokens, &s.latency) else {
            return Err(over_limits(&group, &pool, now));
        };
        let member = members
            .iter()
            .find(|m| std::ptr::eq(&***m, chosen))
            .cloned()
            .expect("the chosen deployment is a member");
        // This minute's usage is counted only where something reads it (usage-based routing,
        // a deployment's own rpm/tpm): the request path takes no lock it does not need.
        if self.tracks_usage(&member.params) {
            member.stats.count_request(now);
        }
        member.stats.start();
        let model = match (prefix, member.params.model.strip_suffix('*')) {
            (Some(p), Some(head)) => format!("{head}{}", &self.resolve(name)[p.len()..]),
            _ => member.params.model.clone(),
        };
        let guard = InFlight(member.stats.clone());
        Ok(Pick {
            member,
            model,
            group,
            guard,
        })
    }

    /// A call on `pick` succeeded; `latency`: seconds to the answer (to the first chunk for a
    /// stream), `tokens`: what it used (tpm).
    pub fn succeeded(&self, member: &Member<D>, latency: Option<f64>, tokens: Option<u64>) {
        let now = stats::now_ms();
        member.stats.count_success(now);
        let tokens = tokens.filter(|_| self.tracks_usage(&member.params));
        let latency = latency.filter(|_| self.tracks_latency());
        if let Some(t) = tokens {
            member.stats.count_tokens(now, t);
        }
        if let Some(l) = latency {
            member
                .stats
                .record_latency(now, l, self.settings.latency.max_samples);
        }
    }

    /// A call on `member` failed with `err`: counts it and cools the deployment down when
    /// LiteLLM's rules say so. Returns whether it is now cooling down.
    pub fn failed(&self, member: &Member<D>, err: &LlmError) -> bool {
        self.failed_at(member, err, stats::now_ms())
    }

    pub fn failed_at(&self, member: &Member<D>, err: &LlmError, now: i64) -> bool {
        let single = self
            .members(&member.params.group)
            .is_some_and(|(g, _)| g.len() <= 1);
        let (fails, successes) = member.stats.count_failure(now);
        // A timeout is LiteLLM's 1000 s latency sample: latency-based routing avoids it.
        if err.kind == ErrorKind::Timeout {
            member
                .stats
                .record_latency(now, 1000.0, self.settings.latency.max_samples);
        }
        let Some(time) =
            cooldown::cooldown_for(&self.settings, member, err, fails, successes, single)
        else {
            return false;
        };
        tracing::warn!(deployment = %member.params.id, model_group = %member.params.group,
            seconds = time.as_secs_f64(), error = %err, "deployment cooling down");
        member.stats.cool_until(now + time.as_millis() as i64, true);
        true
    }

    /// Whether a deployment's requests and tokens this minute are read by anything.
    pub fn tracks_usage(&self, p: &Params) -> bool {
        self.settings.strategy == Strategy::UsageBased || p.rpm.is_some() || p.tpm.is_some()
    }

    /// Whether latencies are read (latency-based routing).
    pub fn tracks_latency(&self) -> bool {
        self.settings.strategy == Strategy::LatencyBased
    }

    /// Starts a call's attempts on `group` (retries, then fallbacks).
    pub fn attempts(&self, group: &str) -> Attempts {
        Attempts::new(self.resolve(group))
    }
}

/// Deployments whose tags match the request's (any of them, or all with
/// `tag_filtering_match_any: false`); without a match, those tagged `default`. A request
/// without tags goes to the `default` ones when there are any, else to any deployment.
fn tag_filter<'a, D>(pool: Vec<&'a Member<D>>, tags: &[String], any: bool) -> Vec<&'a Member<D>> {
    let is_default = |m: &Member<D>| m.params.tags.iter().any(|t| t == "default");
    if tags.is_empty() {
        if pool.iter().any(|m| is_default(m)) {
            return pool.into_iter().filter(|m| is_default(m)).collect();
        }
        return pool;
    }
    let matches = |m: &Member<D>| {
        if any {
            tags.iter().any(|t| m.params.tags.contains(t))
        } else {
            tags.iter().all(|t| m.params.tags.contains(t))
        }
    };
    let hit: Vec<&Member<D>> = pool.iter().copied().filter(|m| matches(m)).collect();
    if !hit.is_empty() {
        return hit;
    }
    pool.into_iter().filter(|m| is_default(m)).collect()
}

/// LiteLLM's 429 when every deployment of the group is cooling down; `retry-after` is when
/// the first one is back.
fn all_cooling(
    group: &str,
    cooling: &[&str],
    soonest: Option<i64>,
    now: i64,
    pre_call_checks: bool,
) -> LlmError {
    let wait = soonest.map_or(1, |t| ((t - now).max(0) as u64).div_ceil(1000).max(1));
    let ids: Vec<String> = cooling.iter().map(|c| format!("'{c}'")).collect();
    let mut e = LlmError::new(
        ErrorKind::RateLimit,
        format!(
            "No deployments available for selected model, Try again in {wait} seconds. All \
             deployments for selected model are in cooldown. Passed model={group}. \
             pre-call-checks={}, cooldown_list=[{}]",
            if pre_call_checks { "True" } else { "False" },
            ids.join(", ")
        ),
    );
    e.retry_after = Some(wait.to_string());
    e
}

/// LiteLLM's 429 when every deployment is at its rpm/tpm limit this minute; retry when the
/// minute turns.
fn over_limits<D>(group: &str, pool: &[&Member<D>], now: i64) -> LlmError {
    let deps: Vec<String> = pool
        .iter()
        .map(|m| {
            let (r, t) = m.stats.usage(now);
            let limit = |l: Option<u64>| l.map_or("None".to_string(), |l| l.to_string());
            format!(
                "'{}': {{'current_tpm': {t}, 'tpm_limit': {}, 'current_rpm': {r}, 'rpm_limit': {}}}",
                m.params.id,
                limit(m.params.tpm),
                limit(m.params.rpm)
            )
        })
        .collect();
    let mut e = LlmError::new(
        ErrorKind::RateLimit,
        format!(
            "No deployments available for selected model. Passed model={group}. Deployments={{{}}}",
            deps.join(", ")
        ),
    );
    let left = ((stats::MINUTE_MS - now.rem_euclid(stats::MINUTE_MS)) as u64).div_ceil(1000);
    e.retry_after = Some(left.max(1).to_string());
    e
}
