//! What a virtual key may do on an LLM request (models, budget), and what the request costs it.

use llmgate::Usage;
use llmgate_store::json_text::JsonText;
use llmgate_store::spend::SpendLog;

use std::sync::Arc;

use llmgate_store::entities::{BudgetRow, CustomerRow, OrgRow, TagRow, TeamRow, UserRow};

use super::alerts;
use super::limits::Scope;
use serde_json::{json, Value};

use super::caller::{abbreviate, AuthContext};
use super::settle::{Abandoned, CallMeta, Outcome};
use super::{CachedKey, Governance, Live};
use crate::deployments::Deployments;
use crate::error::GatewayError;
use crate::observe::alerting::{CallInfo, Kind};

/// Whether the key's `models` list lets it call `group` (empty: every model).
pub fn may_call(d: &Deployments, key: &CachedKey, group: &str) -> bool {
    models_allow(d, &key.row.models, group)
}

/// A `models` list admits a model by name, by `prefix*`, by `all-proxy-models`, or by an
/// access group (`model_info.access_groups` of the model's deployments).
fn models_allow(d: &Deployments, models: &[String], group: &str) -> bool {
    models.is_empty()
        || models.iter().any(|m| {
            m == group
                || m == "all-proxy-models"
                || m.strip_suffix('*').is_some_and(|p| group.starts_with(p))
                || d.in_access_group(m, group)
        })
}

/// Whether a key and its loaded owners may call `group` (a fallback the router moves to), by
/// the lists [`ModelLists::of`] reads: the key's, else its team's or user's, and the org's
/// when neither key nor team limits.
pub fn owners_allow(
    d: &Deployments,
    key: Option<&CachedKey>,
    owners: &Owners,
    group: &str,
) -> bool {
    let Some(key) = key else { return true };
    let own = key.row.models.is_empty();
    let allow = |m: &[String]| models_allow(d, m, group);
    if !allow(&key.row.models) {
        return false;
    }
    if own {
        match (&owners.team, &owners.user) {
            (Some(t), _) if !allow(&t.row.models) => return false,
            (None, Some(u)) if !allow(&u.row.models) => return false,
            _ => {}
        }
    }
    let team_open = owners.team.as_ref().is_none_or(|t| t.row.models.is_empty());
    !(own && team_open && owners.org.as_ref().is_some_and(|o| !allow(&o.row.models)))
}

/// The `models` lists that decide what a key may call, as [`check`] applies them: every list
/// must admit a model. For `/models` and `/model/info`, which show a key only what it may call.
pub struct ModelLists(Vec<Vec<String>>);

impl ModelLists {
    pub async fn of(gov: &Governance, key: &CachedKey) -> Result<ModelLists, GatewayError> {
        let unavailable = lookup_failed("owner");
        let mut lists = vec![key.row.models.clone()];
        let Some(store) = &gov.store else {
            return Ok(ModelLists(lists));
        };
        let team = match &key.row.team_id {
            Some(t) => gov.keys.teams.get(store, t).await.map_err(unavailable)?,
            None => None,
        };
        let own = key.row.models.is_empty();
        if let Some(team) = &team {
            if own {
                lists.push(team.row.models.clone());
            }
        } else if let (true, Some(u)) = (own, &key.row.user_id) {
            if let Some(user) = gov.keys.users.get(store, u).await.map_err(unavailable)? {
                lists.push(user.row.models.clone());
            }
        }
        let team_open = team.as_ref().is_none_or(|t| t.row.models.is_empty());
        let org_id = key
            .row
            .organization_id
            .clone()
            .or_else(|| team.as_ref().and_then(|t| t.row.organization_id.clone()));
        if let (true, Some(o)) = (own && team_open, org_id) {
            if let Some(org) = gov.keys.orgs.get(store, &o).await.map_err(unavailable)? {
                lists.push(org.row.models.clone());
            }
        }
        Ok(ModelLists(lists))
    }

    pub fn admit(&self, d: &Deployments, group: &str) -> bool {
        self.0.iter().all(|m| models_allow(d, m, group))
    }
}

/// The model group `requested` is an alias for, from the key's `aliases`.
pub fn alias(key: Option<&CachedKey>, requested: &str) -> Option<String> {
    key.and_then(|k| k.row.aliases.get(requested)?.as_str().map(str::to_string))
}

/// The key's `model_max_budget` entry for `group`, if any.
pub fn model_budget(key: &CachedKey, group: &str) -> Option<super::limits::ModelBudget> {
    let e = key.row.model_max_budget.get(group)?;
    let limit = e
        .get("budget_limit")
        .or_else(|| e.get("max_budget"))
        .and_then(|v| v.as_f64())?;
    let period_ms = e
        .get("time_period")
        .or_else(|| e.get("budget_duration"))
        .and_then(|v| v.as_str())
        .and_then(super::budgets::duration_ms)
        .unwrap_or(30 * 86_400_000);
    Some(super::limits::ModelBudget { limit, period_ms })
}

/// Who else a call is charged to (and limited by).
#[derive(Clone, Default)]
pub struct Owners {
    pub user: Option<Arc<Live<UserRow>>>,
    pub team: Option<Arc<Live<TeamRow>>>,
    pub end_user: Option<Arc<Live<CustomerRow>>>,
    pub org: Option<Arc<Live<OrgRow>>>,
    /// The request's tags (its `metadata.tags` and the key's), with the rows that exist.
    pub tag_names: Vec<String>,
    pub tags: Vec<Arc<Live<TagRow>>>,
    /// The end user's budget row (its rpm/tpm limits).
    pub end_user_budget: Option<Arc<Live<BudgetRow>>>,
    /// The key's budget row (its `soft_budget`, as LiteLLM links it).
    pub key_budget: Option<Arc<Live<BudgetRow>>>,
    /// The rate-limit scopes the call counts against.
    pub limits: Vec<Scope>,
}

/// The rpm/tpm scopes of a call (key, key × model, user, team, end user) and the key's
/// parallel-request limit.
pub fn limit_scopes(
    key: Option<&CachedKey>,
    owners: &Owners,
    group: &str,
) -> (Vec<Scope>, Option<(String, i64)>) {
    let mut scopes = Vec::new();
    let mut push = |kind: &'static str, id: &str, rpm: Option<i64>, tpm: Option<i64>| {
        if rpm.is_some() || tpm.is_some() {
            scopes.push(Scope {
                kind,
                id: id.to_string(),
                rpm,
                tpm,
            });
        }
    };
    let mut parallel = None;
    if let Some(k) = key {
        let r = &k.row;
        push("api_key", &r.token, r.rpm_limit, r.tpm_limit);
        let per_model = |field: &str| r.metadata[field][group].as_i64();
        let (rpm, tpm) = (per_model("model_rpm_limit"), per_model("model_tpm_limit"));
        // Named only for keys that have a per-model limit (no allocation otherwise).
        if rpm.is_some() || tpm.is_some() {
            push("model_per_key", &format!("{}:{group}", r.token), rpm, tpm);
        }
        parallel = r.max_parallel_requests.map(|n| (r.token.clone(), n));
    }
    if let Some(u) = &owners.user {
        push("user", &u.row.user_id, u.row.rpm_limit, u.row.tpm_limit);
    }
    if let Some(t) = &owners.team {
        push("team", &t.row.team_id, t.row.rpm_limit, t.row.tpm_limit);
    }
    if let (Some(c), Some(b)) = (&owners.end_user, &owners.end_user_budget) {
        push("end_user", &c.row.user_id, b.row.rpm_limit, b.row.tpm_limit);
    }
    (scopes, parallel)
}

/// Tags one request may carry: each is a budget lookup (cached, misses too), and a spend-log
/// and roll-up entry.
pub const MAX_REQUEST_TAGS: usize = 64;

/// Tag budgets: a call carrying a tag whose budget is spent is refused.
pub async fn check_tags(
    gov: &Governance,
    owners: &mut Owners,
    auth: &AuthContext,
    request_tags: Vec<String>,
) -> Result<(), GatewayError> {
    if request_tags.len() > MAX_REQUEST_TAGS {
        return Err(GatewayError::BadRequest(format!(
            "too many tags: {} (at most {MAX_REQUEST_TAGS} per request)",
            request_tags.len()
        )));
    }
    let mut names = request_tags;
    if let Some(k) = &auth.key {
        for t in k.row.metadata["tags"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str())
        {
            names.push(t.to_string());
        }
    }
    names.sort();
    names.dedup();
    if let Some(store) = &gov.store {
        let unavailable = lookup_failed("tag");
        for name in &names {
            if let Some(tag) = gov.keys.tags.get(store, name).await.map_err(unavailable)? {
                if let Some(b) = &tag.row.budget_id {
                    if let Some(budget) =
                        gov.keys.budgets.get(store, b).await.map_err(unavailable)?
                    {
                        over_budget("Tag", name, &tag, budget.row.max_budget)?;
                    }
                }
                owners.tags.push(tag);
            }
        }
    }
    owners.tag_names = names;
    Ok(())
}

/// The end user named by the request's `user`: blocked ones are refused, and their budget
/// (from `LiteLLM_BudgetTable`) holds for every key.
pub async fn check_end_user(
    gov: &Governance,
    owners: &mut Owners,
    end_user: Option<&str>,
) -> Result<(), GatewayError> {
    let (Some(store), Some(id)) = (&gov.store, end_user.filter(|u| !u.is_empty())) else {
        return Ok(());
    };
    let unavailable = lookup_failed("end user");
    let Some(c) = gov
        .keys
        .customers
        .get(store, id)
        .await
        .map_err(unavailable)?
    else {
        return Ok(());
    };
    if c.row.blocked {
        return Err(GatewayError::Forbidden {
            message: format!(
                "End User={id} is blocked. Update via `/customer/unblock` if you're admin."
            ),
            kind: "end_user_blocked",
        });
    }
    if let Some(b) = &c.row.budget_id {
        if let Some(budget) = gov.keys.budgets.get(store, b).await.map_err(unavailable)? {
            over_budget("End User", id, &c, budget.row.max_budget)?;
            owners.end_user_budget = Some(budget);
        }
    }
    owners.end_user = Some(c);
    Ok(())
}

/// On the request path a store failure is an outage: 503, the detail only in the log.
fn lookup_failed(what: &'static str) -> impl Fn(llmgate_store::StoreError) -> GatewayError + Copy {
    move |e| {
        tracing::warn!(error = %e, "{what} lookup failed");
        GatewayError::Unavailable("the key database is unavailable".into())
    }
}

pub(crate) fn over_budget<T>(
    entity: &str,
    id: &str,
    live: &Live<T>,
    max: Option<f64>,
) -> Result<(), GatewayError> {
    let Some(max) = max else { return Ok(()) };
    let spend = live.spend();
    if spend < max {
        return Ok(());
    }
    let held = live.reserved();
    if spend - held < max {
        // Not spent: held by calls in flight, whose real cost may leave room. Retryable.
        return Err(GatewayError::RateLimited {
            message: format!(
                "Budget is held by requests in flight: {entity}={id} Current cost: {}, held: {held}, Max budget: {max}. Retry shortly.",
                spend - held
            ),
            limit_type: "budget".into(),
            retry_after: "1".into(),
            reset_at: String::new(),
        });
    }
    Err(GatewayError::BudgetExceeded(format!(
        "Budget has been exceeded! {entity}={id} Current cost: {spend}, Max budget: {max}"
    )))
}

/// Model access and budgets (key, team, user), checked before the call against live spend.
pub async fn check(
    gov: &Governance,
    deployments: &Deployments,
    key: &CachedKey,
    group: &str,
) -> Result<Owners, GatewayError> {
    let unavailable = lookup_failed("owner");
    let owners = load_owners(gov, key).await?;
    if let (Some(store), Some(org)) = (&gov.store, &owners.org) {
        let team_models = owners
            .team
            .as_ref()
            .map(|t| t.row.models.is_empty())
            .unwrap_or(true);
        if key.row.models.is_empty()
            && team_models
            && !models_allow(deployments, &org.row.models, group)
        {
            return Err(GatewayError::Forbidden {
                message: format!(
                    "organization not allowed to access model. This organization can only access models={:?}. Tried to access {group}",
                    org.row.models
                ),
                kind: "organization_model_access_denied",
            });
        }
        if let Some(budget) = gov
            .keys
            .budgets
            .get(store, &org.row.budget_id)
            .await
            .map_err(unavailable)?
        {
            over_budget(
                "Organization",
                &org.row.organization_id,
                org,
                budget.row.max_budget,
            )?;
        }
    }
    if let Some(team) = &owners.team {
        if team.row.blocked {
            return Err(GatewayError::Auth(format!(
                "Authentication Error - Team={} is blocked. Update via `/team/unblock` if you're admin.",
                team.row.team_id
            )));
        }
        // A key without its own list inherits its team's.
        if key.row.models.is_empty() && !models_allow(deployments, &team.row.models, group) {
            return Err(GatewayError::Forbidden {
                message: format!(
                    "team not allowed to access model. This team can only access models={:?}. Tried to access {group}",
                    team.row.models
                ),
                kind: "team_model_access_denied",
            });
        }
    }
    // A personal key without its own list inherits its user's, as LiteLLM checks it.
    if let (Some(user), None) = (&owners.user, &owners.team) {
        if key.row.models.is_empty() && !models_allow(deployments, &user.row.models, group) {
            return Err(GatewayError::Forbidden {
                message: format!(
                    "user not allowed to access model. This user can only access models={:?}. Tried to access {group}",
                    user.row.models
                ),
                kind: "user_model_access_denied",
            });
        }
    }
    let models = &key.row.models;
    if !may_call(deployments, key, group) {
        return Err(GatewayError::Forbidden {
            message: format!(
                "key not allowed to access model. This key can only access models={models:?}. Tried to access {group}"
            ),
            kind: "key_model_access_denied",
        });
    }
    if key.row.max_budget.is_some_and(|max| key.spend() >= max) {
        let name = key
            .row
            .key_name
            .clone()
            .unwrap_or_else(|| abbreviate(&key.row.token));
        over_budget("Key", &name, key, key.row.max_budget).inspect_err(|e| {
            refused_alert(gov, key, &owners, e);
        })?;
    }
    if let Some(b) = model_budget(key, group) {
        let spend = gov.limiter.model_spend(&key.row.token, group, &b);
        if spend >= b.limit {
            return Err(GatewayError::BudgetExceeded(format!(
                "LiteLLM Virtual Key: {}, key_alias: {}, exceeded budget for model={group}",
                key.row.token,
                key.row.key_alias.as_deref().unwrap_or("None")
            )));
        }
    }
    if let Some(team) = &owners.team {
        over_budget("Team", &team.row.team_id, team, team.row.max_budget)
            .inspect_err(|e| refused_alert(gov, key, &owners, e))?;
    }
    if let Some(user) = &owners.user {
        over_budget("User", &user.row.user_id, user, user.row.max_budget)
            .inspect_err(|e| refused_alert(gov, key, &owners, e))?;
    }
    Ok(owners)
}

/// A call refused for a spent budget: LiteLLM's pre-call budget checks alert it
/// (`budget_crossed`, once per window), as a charge that crosses the budget does.
fn refused_alert(gov: &Governance, key: &CachedKey, owners: &Owners, e: &GatewayError) {
    if matches!(e, GatewayError::BudgetExceeded(_)) {
        charge_alerts(gov, Some(key), owners);
    }
}

/// The key's team, user, budget row and organization (from the caches).
pub async fn load_owners(gov: &Governance, key: &CachedKey) -> Result<Owners, GatewayError> {
    let unavailable = lookup_failed("owner");
    let mut owners = Owners::default();
    if let Some(store) = &gov.store {
        if let Some(t) = &key.row.team_id {
            owners.team = gov.keys.teams.get(store, t).await.map_err(unavailable)?;
        }
        if let Some(u) = &key.row.user_id {
            owners.user = gov.keys.users.get(store, u).await.map_err(unavailable)?;
        }
        if let Some(b) = &key.row.budget_id {
            owners.key_budget = gov.keys.budgets.get(store, b).await.map_err(unavailable)?;
        }
    }
    let org_id = key.row.organization_id.clone().or_else(|| {
        owners
            .team
            .as_ref()
            .and_then(|t| t.row.organization_id.clone())
    });
    if let (Some(store), Some(o)) = (&gov.store, &org_id) {
        owners.org = gov.keys.orgs.get(store, o).await.map_err(unavailable)?;
    }
    Ok(owners)
}

/// What a key must pass to call a non-LLM target (an A2A agent): its team not blocked, and
/// no budget of the key, its team, user or organization spent. Which targets it may reach is
/// the target's own permission check (`object_permission`), not the `models` lists.
pub async fn check_budgets(gov: &Governance, key: &CachedKey) -> Result<Owners, GatewayError> {
    let owners = load_owners(gov, key).await?;
    if let Some(team) = &owners.team {
        if team.row.blocked {
            return Err(GatewayError::Auth(format!(
                "Authentication Error - Team={} is blocked. Update via `/team/unblock` if you're admin.",
                team.row.team_id
            )));
        }
        over_budget("Team", &team.row.team_id, team, team.row.max_budget)?;
    }
    if key.row.max_budget.is_some_and(|max| key.spend() >= max) {
        let name = key
            .row
            .key_name
            .clone()
            .unwrap_or_else(|| abbreviate(&key.row.token));
        over_budget("Key", &name, key, key.row.max_budget)?;
    }
    if let Some(user) = &owners.user {
        over_budget("User", &user.row.user_id, user, user.row.max_budget)?;
    }
    if let (Some(store), Some(org)) = (&gov.store, &owners.org) {
        let budget = gov.keys.budgets.get(store, &org.row.budget_id).await;
        if let Some(budget) = budget.map_err(lookup_failed("owner"))? {
            over_budget(
                "Organization",
                &org.row.organization_id,
                org,
                budget.row.max_budget,
            )?;
        }
    }
    Ok(owners)
}

/// What one call is recorded as.
pub struct Call<'a> {
    pub call_type: &'static str,
    /// The OpenAI route (`/chat/completions`): the roll-ups' `endpoint`.
    pub route: &'static str,
    pub meta: &'a CallMeta,
    pub usage: Option<&'a Usage>,
    pub cost: Option<f64>,
    pub end_user: Option<String>,
    /// The usage is what a failed or abandoned stream had produced, not a full answer.
    pub partial: bool,
    /// The answer's `id`, when there was one: the log's `request_id` (else the call id).
    pub response_id: Option<&'a str>,
    /// Answered from the response cache (the log's `cache_hit`).
    pub cache_hit: bool,
    /// LiteLLM's `guardrail_information`: one entry per guardrail run.
    pub guardrails: &'a [Value],
    /// The request and the answer, when `store_prompts_in_spend_logs` puts them in the log.
    pub capture: Option<&'a crate::observe::Capture>,
}

/// Adds the call's cost to every owner's live spend (and its tokens to the rate-limit
/// windows) and queues its spend log. A failure is logged unless `disable_error_logs`.
pub fn record(
    gov: &Governance,
    auth: &AuthContext,
    owners: &Owners,
    call: Call<'_>,
    outcome: &Outcome<'_>,
) {
    if let Some(u) = call.usage {
        gov.limiter
            .add_tokens(&owners.limits, u.total_tokens as i64);
    }
    let Some(writer) = &gov.spend else { return };
    let cost = call.cost.unwrap_or(0.0);
    if cost > 0.0 {
        charge(gov, auth, owners, &call.meta.model_group, cost);
    }
    // LiteLLM's switch for not logging failures; what they cost is still charged.
    if matches!(outcome, Outcome::Failure(_)) && gov.disable_error_logs {
        return;
    }
    writer.record(spend_log(auth, owners, call, cost, outcome));
}

/// Adds `cost` to the live spend of the key and every owner, logging budget crossings and
/// sending budget alerts on the way.
fn charge(gov: &Governance, auth: &AuthContext, owners: &Owners, group: &str, cost: f64) {
    let alerts = &gov.alerts;
    if let Some(key) = &auth.key {
        let before = key.add_spend(cost);
        let r = &key.row;
        if alerts::crossed(before, cost, key_soft_budget(key, owners)) {
            alerts.log_crossing("soft_budget", "key", &r.token, before + cost);
        }
        if alerts::crossed(before, cost, r.max_budget) {
            alerts.log_crossing("max_budget", "key", &r.token, before + cost);
        }
        if let Some(b) = model_budget(key, group) {
            gov.limiter.add_model_spend(&key.row.token, group, &b, cost);
        }
    }
    if let Some(t) = &owners.team {
        let before = t.add_spend(cost);
        if alerts::crossed(before, cost, t.row.soft_budget) {
            alerts.log_crossing("soft_budget", "team", &t.row.team_id, before + cost);
        }
        if alerts::crossed(before, cost, t.row.max_budget) {
            alerts.log_crossing("max_budget", "team", &t.row.team_id, before + cost);
        }
    }
    if let Some(u) = &owners.user {
        let before = u.add_spend(cost);
        if alerts::crossed(before, cost, u.row.max_budget) {
            alerts.log_crossing("max_budget", "user", &u.row.user_id, before + cost);
        }
    }
    charge_alerts(gov, auth.key.as_deref(), owners);
    if let Some(c) = &owners.end_user {
        c.add_spend(cost);
    }
    if let Some(o) = &owners.org {
        o.add_spend(cost);
    }
    for t in &owners.tags {
        t.add_spend(cost);
    }
}

/// The key's soft budget: its budget row's, else `metadata.soft_budget`.
fn key_soft_budget(key: &CachedKey, owners: &Owners) -> Option<f64> {
    owners
        .key_budget
        .as_ref()
        .and_then(|b| b.row.soft_budget)
        .or_else(|| key.row.metadata["soft_budget"].as_f64())
}

/// LiteLLM's budget checks on the settled spends, as alerts: `soft_budget` and `token_budget`
/// for the key, `soft_budget` and `team_budget` (once exceeded) for the team, `user_budget`
/// for the user. Nothing is built unless an alert may be due.
fn charge_alerts(gov: &Governance, key: Option<&CachedKey>, owners: &Owners) {
    let alerts = &gov.alerts;
    if alerts.alerting.is_none() {
        return;
    }
    let row = key.map(|k| &k.row);
    if let Some(k) = key {
        let (spend, r, soft) = (k.settled_spend(), &k.row, key_soft_budget(k, owners));
        if alerts.due(spend, r.max_budget, soft).is_some() {
            let info = CallInfo {
                spend,
                max_budget: r.max_budget,
                soft_budget: soft,
                token: Some(r.token.clone()),
                user_id: r.user_id.clone(),
                team_id: r.team_id.clone(),
                organization_id: r.organization_id.clone(),
                user_email: owners.user.as_ref().and_then(|u| u.row.user_email.clone()),
                key_alias: r.key_alias.clone(),
                event_group: "key",
                ..Default::default()
            };
            if soft.is_some_and(|s| spend >= s) {
                let team_alias = owners.team.as_ref().and_then(|t| t.row.team_alias.clone());
                alerts.send(
                    Kind::Soft,
                    CallInfo {
                        team_alias,
                        ..info.clone()
                    },
                );
            }
            alerts.send(Kind::Token, info);
        }
    }
    if let Some(t) = &owners.team {
        let (spend, tr) = (t.settled_spend(), &t.row);
        if alerts.due(spend, tr.max_budget, tr.soft_budget).is_some() {
            let info = CallInfo {
                spend,
                max_budget: tr.max_budget,
                token: row.map(|k| k.token.clone()),
                user_id: row.and_then(|k| k.user_id.clone()),
                team_id: Some(tr.team_id.clone()),
                team_alias: tr.team_alias.clone(),
                organization_id: row.and_then(|k| k.organization_id.clone()),
                event_group: "team",
                ..Default::default()
            };
            if tr.soft_budget.is_some_and(|s| spend >= s) {
                let soft_info = CallInfo {
                    soft_budget: tr.soft_budget,
                    key_alias: row.and_then(|k| k.key_alias.clone()),
                    ..info.clone()
                };
                alerts.send(Kind::Soft, soft_info);
            }
            // LiteLLM alerts a team's max budget once it is exceeded.
            if tr.max_budget.is_some_and(|m| spend > m) {
                alerts.send(Kind::Team, info);
            }
        }
    }
    if let Some(u) = &owners.user {
        let spend = u.settled_spend();
        if alerts.due(spend, u.row.max_budget, None).is_some() {
            let info = CallInfo {
                spend,
                max_budget: u.row.max_budget,
                user_id: Some(u.row.user_id.clone()),
                user_email: u.row.user_email.clone(),
                event_group: "user",
                ..Default::default()
            };
            alerts.send(Kind::User, info);
        }
    }
}

/// A spend log's `metadata`, in the order LiteLLM writes it (absent parts skipped).
#[derive(serde::Serialize)]
struct LogMetadata<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    error_information: Option<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    guardrail_information: Option<&'a [Value]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    partial_response: Option<bool>,
    user_api_key: Option<&'a str>,
    user_api_key_alias: Option<&'a str>,
    user_api_key_team_id: Option<&'a str>,
    user_api_key_team_alias: Option<&'a str>,
    user_api_key_org_id: Option<&'a str>,
    user_api_key_user_id: Option<&'a str>,
    user_api_key_user_email: Option<&'a str>,
    user_api_key_end_user_id: Option<&'a str>,
}

fn spend_log(
    auth: &AuthContext,
    owners: &Owners,
    call: Call<'_>,
    cost: f64,
    outcome: &Outcome<'_>,
) -> SpendLog {
    let now = llmgate_store::now_ms();
    let elapsed = call.meta.start.elapsed().as_millis() as i64;
    let tokens = |f: fn(&Usage) -> u64| call.usage.map(|u| f(u) as i64).unwrap_or(0);
    let key = auth.key.as_ref().map(|k| &k.row);
    let success = matches!(outcome, Outcome::Success);
    let provider = &call.meta.deployment.provider;
    let error_information = match outcome {
        Outcome::Failure(e) => Some(json!({
            "error_code": e.status().to_string(),
            "error_class": e.kind().map(|k| k.class_name()).unwrap_or("ProxyException"),
            "llm_provider": provider,
            "error_message": e.body()["error"]["message"],
        })),
        // 499: nginx's code for a client that closed the connection first.
        Outcome::Abandoned(Abandoned::ClientGone) => Some(json!({
            "error_code": "499",
            "error_class": "ClientDisconnected",
            "llm_provider": provider,
            "error_message": "the client closed the connection before the answer ended",
        })),
        Outcome::Success => None,
    };
    let team = owners.team.as_ref().map(|t| &t.row);
    // A failed or abandoned call's answer is not logged (a stream's partial text included).
    let (proxy_server_request, response) = call
        .capture
        .map(|c| super::prompts::columns(&c.request, c.response.as_ref().filter(|_| success)))
        .unwrap_or_default();
    // Who called, as LiteLLM's `StandardLoggingMetadata` records it; written straight to
    // text (no intermediate map), once for the journal and the row.
    let metadata = JsonText::of(&LogMetadata {
        error_information,
        guardrail_information: (!call.guardrails.is_empty()).then_some(call.guardrails),
        // What was charged is what had been produced when the call ended.
        partial_response: call.partial.then_some(true),
        user_api_key: key.map(|k| k.token.as_str()),
        user_api_key_alias: key.and_then(|k| k.key_alias.as_deref()),
        user_api_key_team_id: key.and_then(|k| k.team_id.as_deref()),
        user_api_key_team_alias: team.and_then(|t| t.team_alias.as_deref()),
        user_api_key_org_id: owners.org.as_ref().map(|o| o.row.organization_id.as_str()),
        user_api_key_user_id: key.and_then(|k| k.user_id.as_deref()),
        user_api_key_user_email: owners
            .user
            .as_ref()
            .and_then(|u| u.row.user_email.as_deref()),
        user_api_key_end_user_id: call.end_user.as_deref(),
    });
    SpendLog {
        request_id: call
            .response_id
            .map_or_else(|| call.meta.call_id.clone(), str::to_string),
        call_type: call.call_type.into(),
        api_key: key.map(|k| k.token.clone()).unwrap_or_default(),
        spend: cost,
        total_tokens: tokens(|u| u.total_tokens),
        prompt_tokens: tokens(|u| u.prompt_tokens),
        completion_tokens: tokens(|u| u.completion_tokens),
        start_time: now - elapsed,
        end_time: now,
        request_duration_ms: Some(elapsed),
        model: call.meta.deployment.bare_model().to_string(),
        model_id: Some(call.meta.deployment.id.clone()),
        model_group: Some(call.meta.model_group.clone()),
        custom_llm_provider: Some(call.meta.deployment.provider.clone()).filter(|p| !p.is_empty()),
        api_base: Some(call.meta.deployment.api_base.clone()),
        user: key.and_then(|k| k.user_id.clone()),
        metadata,
        cache_hit: Some(if call.cache_hit { "True" } else { "False" }.into()),
        request_tags: json!(owners.tag_names),
        team_id: key.and_then(|k| k.team_id.clone()),
        organization_id: owners.org.as_ref().map(|o| o.row.organization_id.clone()),
        end_user: call.end_user,
        requester_ip_address: auth.client_ip.clone(),
        status: Some(if success { "success" } else { "failure" }.into()),
        litellm_call_id: Some(call.meta.call_id.clone()),
        user_id: key.and_then(|k| k.user_id.clone()),
        cache_read_input_tokens: tokens(|u| u.cached_tokens()),
        cache_creation_input_tokens: call
            .usage
            .and_then(|u| u.extra.get("cache_creation_input_tokens"))
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(0),
        endpoint: Some(call.route.to_string()),
        mcp_namespaced_tool_name: None,
        agent_id: call
            .meta
            .deployment
            .entry
            .model_info
            .extra
            .get("agent_id")
            .and_then(Value::as_str)
            .map(str::to_string),
        messages: JsonText::default(),
        response,
        proxy_server_request,
    }
}
