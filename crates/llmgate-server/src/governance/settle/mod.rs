//! Settlement: how one admitted call ends, recorded exactly once — success (usage and cost),
//! failure (the error), or abandoned (client gone, upstream gone) with what was produced so far.
//!
//! A [`Settlement`] is created at admission and owned by whatever answers the call: the handler
//! future while it waits, then the SSE body while it streams. Its `Drop` records an abandoned
//! call, so no code path (a disconnect, a cancelled future, a panic in a stream) can leave a call
//! uncharged. It also holds the key's parallel-request slot, released when the call settles.

use std::sync::Arc;
use std::time::{Duration, Instant};

use llmgate::Usage;

mod observed;

use super::access::{self, Owners};
use super::admit::Admission;
use super::caller::AuthContext;
use super::limits::Slot;
use super::Governance;
use crate::deployments::Deployment;
use crate::error::GatewayError;

/// How one call went, for the response headers and the spend log.
#[derive(Clone)]
pub struct CallMeta {
    pub start: Instant,
    pub call_id: String,
    pub deployment: Arc<Deployment>,
    pub model_group: String,
    pub attempted_retries: u32,
    /// Fallback groups moved to (`x-litellm-attempted-fallbacks`).
    pub attempted_fallbacks: u32,
    /// The retries the call was allowed, and its timeout in seconds, for LiteLLM's headers.
    pub max_retries: u32,
    pub timeout: Option<f64>,
    /// The end user's allowed region (`x-litellm-model-region`).
    pub model_region: Option<String>,
    pub upstream_headers: Vec<(String, String)>,
    /// Time spent waiting on the upstream (all attempts).
    pub upstream: Duration,
    /// The router's record of the attempt that answered (None before any answered).
    pub routed: Option<Arc<crate::deployments::Routed>>,
    /// When the attempt that answered (or failed last) started: the LLM API's latency.
    pub api_start: Option<Instant>,
}

/// Counts a request's prompt tokens, only when a call is abandoned before the upstream
/// reported usage (never on the normal path: tokenizing costs CPU).
pub trait PromptTokens: Send + Sync {
    fn prompt_tokens(&self, model: &str) -> u64;
}

/// Why a call ended without a normal answer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Abandoned {
    /// The client closed the connection before the end.
    ClientGone,
}

/// What the call ended as, for the spend log.
pub enum Outcome<'a> {
    Success,
    Failure(&'a GatewayError),
    Abandoned(Abandoned),
}

pub struct Settlement {
    gov: Arc<Governance>,
    auth: AuthContext,
    owners: Owners,
    end_user: Option<String>,
    call_type: &'static str,
    route: &'static str,
    call_id: String,
    start: Instant,
    group: String,
    /// The deployment being tried (set by the retry loop before each attempt).
    deployment: Option<Arc<Deployment>>,
    meta: Option<CallMeta>,
    prompt: Arc<dyn PromptTokens>,
    /// Text and tool arguments sent to the client so far (streams), to count completion
    /// tokens when the upstream never reports usage.
    produced: String,
    /// The latest usage the upstream reported (some providers send it before the end).
    usage: Option<Usage>,
    /// The answer's `id`, the spend log's `request_id` (as LiteLLM keys it).
    response_id: Option<String>,
    slot: Option<Slot>,
    /// The estimated cost held on the owners' budgets until the call settles.
    reservation: Option<super::admit::Reservation>,
    settled: bool,
    /// Answered from the response cache.
    cache_hit: bool,
    /// The response-cache lookup's timing (for the trace).
    cache_lookup: Option<crate::observe::CacheLookup>,
    /// What the guardrails did (LiteLLM's `guardrail_information`).
    guardrails: Vec<serde_json::Value>,
    /// The call streams its answer.
    stream: bool,
    /// When a stream's first chunk was sent (time to first token).
    first_chunk: Option<Instant>,
    /// The request and answer, kept only when a logging callback or the spend log records
    /// messages.
    capture: Option<Box<crate::observe::Capture>>,
    /// The call's span ids (OpenTelemetry on).
    trace: Option<crate::observe::otel::TraceIds>,
    /// A price per call that replaces the usage-based one (an agent's `cost_per_query`).
    fixed_cost: Option<f64>,
}

impl Settlement {
    pub fn new(
        gov: &Arc<Governance>,
        auth: &AuthContext,
        admission: Admission,
        call_type: &'static str,
        route: &'static str,
        start: Instant,
        prompt: Arc<dyn PromptTokens>,
    ) -> Settlement {
        let call_id = uuid::Uuid::new_v4().to_string();
        if let Some(o) = &gov.observe {
            o.admitted();
            o.started(
                &call_id,
                &admission.group,
                auth.key.as_ref().and_then(|k| k.row.key_alias.as_deref()),
                admission
                    .owners
                    .team
                    .as_ref()
                    .and_then(|t| t.row.team_alias.as_deref()),
            );
        }
        Settlement {
            gov: gov.clone(),
            auth: auth.clone(),
            owners: admission.owners,
            end_user: admission.end_user,
            call_type,
            route,
            call_id,
            start,
            group: admission.group,
            deployment: None,
            meta: None,
            prompt,
            produced: String::new(),
            usage: None,
            response_id: None,
            slot: Some(admission.slot),
            reservation: admission.reservation,
            settled: false,
            cache_hit: false,
            cache_lookup: None,
            guardrails: Vec::new(),
            stream: false,
            first_chunk: None,
            capture: None,
            trace: None,
            fixed_cost: None,
        }
    }

    /// Charges `cost` for the call whatever its usage (LiteLLM's `cost_per_query`).
    pub fn fixed_cost(&mut self, cost: f64) {
        self.fixed_cost = Some(cost);
    }

    /// Guardrail runs to record in the spend log's `metadata.guardrail_information`.
    pub fn guardrails(&mut self, info: Vec<serde_json::Value>) {
        self.guardrails.extend(info);
    }

    /// The caller's team (its `metadata.guardrails` apply to the call).
    pub fn team_metadata(&self) -> Option<&serde_json::Value> {
        Some(&self.owners.team.as_ref()?.row.metadata)
    }

    /// The call's id when it was chosen before the settlement (guardrails ran first).
    pub fn use_call_id(&mut self, id: String) {
        if let Some(o) = &self.gov.observe {
            o.renamed(&self.call_id, &id);
        }
        self.call_id = id;
    }

    pub fn call_id(&self) -> &str {
        &self.call_id
    }

    pub fn start(&self) -> Instant {
        self.start
    }

    pub fn group(&self) -> &str {
        &self.group
    }

    /// The end user's `allowed_model_region`: only deployments whose `region_name` is it serve.
    pub fn allowed_region(&self) -> Option<&str> {
        let end_user = self.owners.end_user.as_ref()?;
        end_user.row.allowed_model_region.as_deref()
    }

    /// Whether the caller may call `group` (a fallback).
    pub fn may_call(&self, d: &crate::deployments::Deployments, group: &str) -> bool {
        access::owners_allow(d, self.auth.key.as_deref(), &self.owners, group)
    }

    /// The request's tags and the key's (tag routing).
    pub fn tags(&self) -> &[String] {
        &self.owners.tag_names
    }

    /// The retry loop is about to call `dep`.
    pub fn attempt(&mut self, dep: &Arc<Deployment>) {
        self.deployment = Some(dep.clone());
    }

    /// The call reached a deployment and has an answer (or a stream) to send.
    pub fn answered(&mut self, meta: &CallMeta) {
        self.meta = Some(meta.clone());
    }

    /// Text the client was sent (a stream's content, reasoning or tool arguments).
    pub fn produced(&mut self, text: &str) {
        self.produced.push_str(text);
    }

    /// The answer's id (the first one seen; every chunk of a stream repeats it).
    pub fn response_id(&mut self, id: &str) {
        if self.response_id.is_none() && !id.is_empty() {
            self.response_id = Some(id.to_string());
        }
    }

    /// Usage the upstream reported mid-stream (kept in case the stream never ends).
    pub fn saw_usage(&mut self, usage: &Usage) {
        self.usage = Some(usage.clone());
    }

    pub fn is_settled(&self) -> bool {
        self.settled
    }

    /// A complete answer: charged for `usage` (for a stream without a usage chunk, counted
    /// from the request and the text sent).
    pub fn success(&mut self, usage: Option<&Usage>) -> Option<f64> {
        if self.settled {
            return None;
        }
        let usage = match usage {
            Some(u) => Some(u.clone()),
            None => self.estimate(),
        };
        self.finish(usage.as_ref(), Outcome::Success)
    }

    /// Answered from the response cache: costs nothing and is logged with `cache_hit: True`;
    /// its usage still counts toward the tpm limits, as LiteLLM's limiter counts a cached
    /// answer's usage.
    pub fn cache_hit(&mut self, meta: &CallMeta, usage: Option<&Usage>) {
        if self.settled {
            return;
        }
        self.deployment = Some(meta.deployment.clone());
        self.meta = Some(meta.clone());
        self.cache_hit = true;
        self.finish(usage, Outcome::Success);
    }

    /// The call failed: logged with the error, charged for what a stream had produced.
    pub fn failure(&mut self, error: &GatewayError) {
        if self.settled {
            return;
        }
        let usage = if self.produced.is_empty() && self.usage.is_none() {
            None
        } else {
            self.estimate()
        };
        self.finish(usage.as_ref(), Outcome::Failure(error));
    }

    /// The usage seen so far, else prompt tokens from the request and completion tokens from
    /// the text sent.
    fn estimate(&self) -> Option<Usage> {
        if let Some(u) = &self.usage {
            return Some(u.clone());
        }
        let dep = self.deployment.as_ref()?;
        let model = dep.bare_model();
        let prompt = self.prompt.prompt_tokens(model);
        let completion = if self.produced.is_empty() {
            0
        } else {
            llmgate::tokens::count_text(model, &self.produced) as u64
        };
        Some(Usage::new(prompt, completion))
    }

    fn finish(&mut self, usage: Option<&Usage>, outcome: Outcome<'_>) -> Option<f64> {
        self.settled = true;
        // The parallel slot is free once the call is over, whatever the answer still sends;
        // the estimate gives way to the real cost.
        self.slot = None;
        self.reservation = None;
        let meta = self.meta.clone().or_else(|| {
            Some(CallMeta {
                start: self.start,
                call_id: self.call_id.clone(),
                deployment: self.deployment.clone()?,
                model_group: self.group.clone(),
                attempted_retries: 0,
                attempted_fallbacks: 0,
                max_retries: 0,
                timeout: None,
                model_region: None,
                upstream_headers: Vec::new(),
                upstream: Duration::ZERO,
                routed: None,
                api_start: None,
            })
        });
        let cost = match (&meta, self.fixed_cost) {
            _ if self.cache_hit => Some(0.0),
            // A price per answered query: a failed or abandoned call answered nothing.
            (Some(_), Some(c)) => Some(if matches!(outcome, Outcome::Success) {
                c
            } else {
                0.0
            }),
            (Some(m), None) => usage.and_then(|u| m.deployment.cost(u)),
            (None, _) => None,
        };
        // A stream's answer, assembled once for the spend log and the observers.
        self.stream_answer(usage);
        if let Some(meta) = &meta {
            if let (Some(r), Some(u)) = (&meta.routed, usage) {
                r.tokens(u.total_tokens);
            }
            let partial = !matches!(outcome, Outcome::Success) && usage.is_some();
            let call = access::Call {
                call_type: self.call_type,
                route: self.route,
                meta,
                usage,
                cost,
                end_user: self.end_user.clone(),
                partial,
                response_id: self.response_id.as_deref(),
                cache_hit: self.cache_hit,
                guardrails: &self.guardrails,
                capture: self.capture.as_deref().filter(|_| self.gov.store_prompts),
            };
            access::record(&self.gov, &self.auth, &self.owners, call, &outcome);
        }
        if let Some(o) = self.gov.observe.clone() {
            self.observe(&o, meta.as_ref(), usage, cost, &outcome);
        }
        meta.as_ref()?;
        cost
    }
}

impl Drop for Settlement {
    fn drop(&mut self) {
        if self.settled {
            return;
        }
        let usage = self.estimate();
        tracing::info!(call_id = %self.call_id, model = %self.group, "call abandoned by the client");
        self.finish(usage.as_ref(), Outcome::Abandoned(Abandoned::ClientGone));
    }
}
