//! Admission: every check an LLM call passes before any upstream call, in one step — model
//! access and aliases, every budget level, end user, tags, rate-limit scopes and the parallel
//! slot — giving either the facts the call needs or one error.
//!
//! An admitted call **reserves** its estimated cost on every owner with a budget (prompt from
//! the body's size, completion from `max_tokens` or [`COMPLETION_ESTIMATE`]), so calls in flight
//! count against the budget before they are priced; the settlement releases the reservation
//! and charges the real cost. What a budget can still be overspent by: the amount by which
//! calls in flight exceed their estimates, plus (several instances) what the others reserved
//! within two fleet syncs.

use super::access::{self, Owners};
use super::caller::AuthContext;
use super::headers::{self as h, AnswerHeaders};
use super::limits::Slot;
use super::Governance;
use crate::deployments::Deployments;
use crate::error::GatewayError;

/// What the request asks for, read before its proxy-only fields are stripped.
pub struct Ask {
    /// The model name the client asked for.
    pub model: String,
    /// The request's `user`.
    pub end_user: Option<String>,
    /// `metadata.tags` / `tags`.
    pub tags: Vec<String>,
    /// The request body's size: about four bytes a token, an over-estimate of the prompt.
    pub body_bytes: usize,
    /// `max_tokens` / `max_completion_tokens`, when the request sets one.
    pub max_output: Option<u64>,
}

/// Completion tokens reserved for a request that sets no `max_tokens`.
pub const COMPLETION_ESTIMATE: u64 = 256;

/// A live spend that a reservation can hold a share of.
pub trait Reservable: Send + Sync {
    fn reserve(&self, amount: f64);
}

impl<T: Send + Sync> Reservable for super::Live<T> {
    fn reserve(&self, amount: f64) {
        super::Live::reserve(self, amount)
    }
}

/// An estimated cost held on owners' live spend until the call settles (or is dropped).
pub struct Reservation {
    held: Vec<std::sync::Arc<dyn Reservable>>,
    amount: f64,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        for h in &self.held {
            h.reserve(-self.amount);
        }
    }
}

/// An admitted call.
pub struct Admission {
    /// The model group to call (after the key's aliases).
    pub group: String,
    /// Who the call is charged to, with the rate-limit scopes it counts against.
    pub owners: Owners,
    pub end_user: Option<String>,
    /// The key's parallel slot, held until the call settles.
    pub slot: Slot,
    /// LiteLLM's `x-ratelimit-*` and `x-litellm-key-*` headers (spend added at the answer).
    pub headers: AnswerHeaders,
    /// The key's spend before this call (`x-litellm-key-spend`).
    pub spend_before: f64,
    pub reservation: Option<Reservation>,
}

pub async fn admit(
    gov: &Governance,
    deployments: &Deployments,
    auth: &AuthContext,
    ask: Ask,
) -> Result<Admission, GatewayError> {
    let mut owners = match &auth.key {
        Some(key) => access::check(gov, deployments, key, &ask.model).await?,
        None => Owners::default(),
    };
    // A key's `aliases` send a model name to another group; access is checked on the name
    // the key asked for.
    let group = access::alias(auth.key.as_deref(), &ask.model).unwrap_or(ask.model);
    // A team's own model is served to its keys under its public name.
    let group = match auth
        .team_id()
        .and_then(|t| deployments.team_group(t, &group))
    {
        Some(internal) => internal.to_string(),
        None => group,
    };
    access::check_end_user(gov, &mut owners, ask.end_user.as_deref()).await?;
    access::check_tags(gov, &mut owners, auth, ask.tags).await?;
    let (scopes, parallel) = access::limit_scopes(auth.key.as_deref(), &owners, &group);
    let mut slot = gov
        .limiter
        .admit(&scopes, parallel.as_ref().map(|(k, n)| (k.as_str(), *n)))?;
    owners.limits = scopes;
    let mut headers = std::mem::take(&mut slot.headers);
    // LiteLLM's `x-litellm-key-*` headers, Python-formatted ("None" when unset).
    let key = auth.key.as_ref().map(|k| &k.row);
    headers.py_int(h::KEY_TPM_LIMIT, key.and_then(|k| k.tpm_limit));
    headers.py_int(h::KEY_RPM_LIMIT, key.and_then(|k| k.rpm_limit));
    headers.py_float(h::KEY_MAX_BUDGET, key.and_then(|k| k.max_budget));
    let spend_before = auth.key.as_ref().map_or(0.0, |k| k.spend());
    let reservation = reserve(
        deployments,
        auth,
        &owners,
        &group,
        ask.body_bytes,
        ask.max_output,
    );
    Ok(Admission {
        group,
        owners,
        end_user: ask.end_user,
        slot,
        headers,
        spend_before,
        reservation,
    })
}

/// Admission to a non-LLM target (an A2A agent) named `group` in logs and limits: the key's
/// budgets ([`access::check_budgets`]) and its rate limits and parallel slot, as for an LLM
/// call; nothing is reserved (the target's price is per query or unknown in advance).
pub async fn admit_target(
    gov: &Governance,
    auth: &AuthContext,
    group: &str,
) -> Result<Admission, GatewayError> {
    let mut owners = match &auth.key {
        Some(key) => access::check_budgets(gov, key).await?,
        None => Owners::default(),
    };
    let (scopes, parallel) = access::limit_scopes(auth.key.as_deref(), &owners, group);
    let mut slot = gov
        .limiter
        .admit(&scopes, parallel.as_ref().map(|(k, n)| (k.as_str(), *n)))?;
    owners.limits = scopes;
    let headers = std::mem::take(&mut slot.headers);
    Ok(Admission {
        group: group.to_string(),
        owners,
        end_user: None,
        slot,
        headers,
        spend_before: auth.key.as_ref().map_or(0.0, |k| k.spend()),
        reservation: None,
    })
}

/// Holds the call's estimated cost on the key and every owner whose budget can refuse calls.
fn reserve(
    deployments: &Deployments,
    auth: &AuthContext,
    owners: &Owners,
    group: &str,
    body_bytes: usize,
    max_output: Option<u64>,
) -> Option<Reservation> {
    use super::Row;
    let mut held: Vec<std::sync::Arc<dyn Reservable>> = Vec::new();
    if let Some(k) = auth.key.as_ref().filter(|k| k.row.has_budget()) {
        held.push(k.clone());
    }
    fn push<T: Row + Send + Sync + 'static>(
        held: &mut Vec<std::sync::Arc<dyn Reservable>>,
        l: &std::sync::Arc<super::Live<T>>,
    ) {
        if l.row.has_budget() {
            held.push(l.clone());
        }
    }
    owners.user.iter().for_each(|l| push(&mut held, l));
    owners.team.iter().for_each(|l| push(&mut held, l));
    owners.org.iter().for_each(|l| push(&mut held, l));
    owners.end_user.iter().for_each(|l| push(&mut held, l));
    owners.tags.iter().for_each(|l| push(&mut held, l));
    if held.is_empty() {
        return None;
    }
    let (dep, _) = deployments.peek(group)?;
    let usage = llmgate::Usage::new(
        (body_bytes / 4) as u64,
        max_output.unwrap_or(COMPLETION_ESTIMATE),
    );
    let amount = dep.cost(&usage).filter(|c| *c > 0.0)?;
    for h in &held {
        h.reserve(amount);
    }
    Some(Reservation { held, amount })
}
