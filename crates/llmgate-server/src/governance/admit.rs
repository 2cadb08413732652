//! Admission: every check an LLM call passes before any upstream call, in one step — model
//! access and aliases, every budget level, end user, tags, rate-limit scopes and the parallel
//! slot — giving either the facts the call needs or one error.

use super::access::{self, Owners};
use super::caller::AuthContext;
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
    pub headers: Vec<(String, String)>,
    /// The key's spend before this call (`x-litellm-key-spend`).
    pub spend_before: f64,
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
    let py_int = |v: Option<i64>| v.map_or("None".into(), |n| n.to_string());
    headers.push((
        "x-litellm-key-tpm-limit".into(),
        py_int(key.and_then(|k| k.tpm_limit)),
    ));
    headers.push((
        "x-litellm-key-rpm-limit".into(),
        py_int(key.and_then(|k| k.rpm_limit)),
    ));
    headers.push((
        "x-litellm-key-max-budget".into(),
        key.and_then(|k| k.max_budget)
            .map_or("None".into(), crate::pyfmt::py_float),
    ));
    Ok(Admission {
        group,
        owners,
        end_user: ask.end_user,
        slot,
        headers,
        spend_before: auth.key.as_ref().map_or(0.0, |k| k.spend()),
    })
}
