//! What a settlement tells the observers (`crate::observe`): the call's one event at its
//! end, each attempt and fallback on the way, and what it gathers for them (stream flag, time
//! to first token, the request and answer for message logging, span ids) — all of it only
//! when a callback is configured.

use std::time::Instant;

use llmgate::Usage;

use super::{CallMeta, Outcome, Settlement};
use crate::deployments::Deployment;

impl Settlement {
    /// Whether any callback observes calls (else nothing is gathered for one).
    pub fn observing(&self) -> bool {
        self.gov.observe.is_some()
    }

    /// The span ids the call's spans get (chosen when the request arrived).
    pub fn set_trace(&mut self, ids: Option<crate::observe::otel::TraceIds>) {
        self.trace = ids;
    }

    /// The response cache was looked up (the trace's cache span).
    pub fn cache_lookup(&mut self, lookup: crate::observe::CacheLookup) {
        if self.gov.observe.is_some() {
            self.cache_lookup = Some(lookup);
        }
    }

    /// The call streams its answer (for the observers).
    pub fn set_stream(&mut self, stream: bool) {
        self.stream = stream;
    }

    /// A stream's chunk is being sent: the first one's time is the time to first token.
    pub fn chunk_sent(&mut self) {
        if self.first_chunk.is_none() && self.gov.observe.is_some() {
            self.first_chunk = Some(Instant::now());
        }
    }

    /// Whether a logging callback, or the spend log (`store_prompts_in_spend_logs`), records
    /// the request and the answer (then hand them over with [`Settlement::capture_request`] /
    /// [`Settlement::capture_response`]).
    pub fn wants_messages(&self) -> bool {
        (self.gov.store_prompts && self.gov.spend.is_some())
            || self.gov.observe.as_ref().is_some_and(|o| o.messages)
    }

    pub fn capture_request(&mut self, request: serde_json::Value) {
        self.capture = Some(Box::new(crate::observe::Capture {
            request,
            response: None,
        }));
    }

    pub fn capture_response(&mut self, response: serde_json::Value) {
        if let Some(c) = self.capture.as_mut() {
            c.response = Some(response);
        }
    }

    /// Who is calling, as the observers name it.
    fn caller(&self) -> crate::observe::Caller<'_> {
        let key = self.auth.key.as_ref();
        crate::observe::Caller {
            key: key.map(|k| &k.row),
            key_hash: key.map(|k| k.row.token.as_str()),
            team: self.owners.team.as_ref().map(|t| &t.row),
            user: self.owners.user.as_ref().map(|u| &u.row),
            org_id: self
                .owners
                .org
                .as_ref()
                .map(|o| o.row.organization_id.as_str()),
            end_user: self.end_user.as_deref(),
            client_ip: self.auth.client_ip.as_deref(),
            key_spend: key.map(|k| k.spend()),
            team_spend: self.owners.team.as_ref().map(|t| t.spend()),
            user_spend: self.owners.user.as_ref().map(|u| u.spend()),
            org: self.owners.org.as_ref().map(|o| &o.row),
            org_spend: self.owners.org.as_ref().map(|o| o.spend()),
            org_max_budget: self.owners.org.as_ref().and_then(|o| {
                let budget = self.gov.keys.budgets.peek(&o.row.budget_id)?;
                budget.row.max_budget
            }),
            model_remaining: self
                .owners
                .limits
                .iter()
                .find(|s| s.kind == "model_per_key")
                .map_or((None, None), |s| self.gov.limiter.remaining(s)),
        }
    }

    /// One upstream attempt ended (the retry loop tells each one).
    pub fn observe_attempt(
        &self,
        dep: &Deployment,
        error: Option<&llmgate::LlmError>,
        cooled_down: bool,
    ) {
        if let Some(o) = &self.gov.observe {
            o.attempt(&crate::observe::AttemptEvent {
                requested_model: &self.group,
                deployment: dep,
                caller: self.caller(),
                error,
                cooled_down,
            });
        }
    }

    /// A fallback group's attempt ended.
    pub fn observe_fallback(&self, to: &str, original: &llmgate::LlmError, success: bool) {
        if let Some(o) = &self.gov.observe {
            o.fallback(&crate::observe::FallbackEvent {
                from: &self.group,
                to,
                caller: self.caller(),
                original,
                success,
            });
        }
    }

    /// A stream's answer for a logger or spend log that records it: the text sent, as one
    /// chat answer.
    pub(super) fn stream_answer(&mut self, usage: Option<&Usage>) {
        let Some(c) = self.capture.as_mut() else {
            return;
        };
        if !self.stream || c.response.is_some() {
            return;
        }
        c.response = Some(serde_json::json!({
            "id": self.response_id,
            "object": "chat.completion",
            "model": self.group,
            "choices": [{"index": 0, "finish_reason": "stop",
                         "message": {"role": "assistant", "content": self.produced}}],
            "usage": usage,
        }));
    }

    /// The call's one event for the observers (after its spend was charged).
    pub(super) fn observe(
        &self,
        o: &crate::observe::Observers,
        meta: Option<&CallMeta>,
        usage: Option<&Usage>,
        cost: Option<f64>,
        outcome: &Outcome<'_>,
    ) {
        use crate::observe::{CallEvent, Status};
        let end = Instant::now();
        let status = match outcome {
            Outcome::Success => Status::Success,
            Outcome::Failure(e) => Status::Failure(e),
            Outcome::Abandoned(_) => Status::Abandoned,
        };
        let mut caller = self.caller();
        // The master key is known by its hash, as LiteLLM labels it.
        let master;
        if caller.key_hash.is_none() {
            if let Some(k) = self.auth.api_key.as_deref() {
                master = crate::governance::caller::hash_key(k);
                caller.key_hash = Some(&master);
            }
        }
        let ev = CallEvent {
            call_id: &self.call_id,
            call_type: self.call_type,
            route: self.route,
            requested_model: &self.group,
            model_group: meta.map_or(&self.group, |m| &m.model_group),
            deployment: meta.map(|m| &*m.deployment),
            caller,
            status,
            usage,
            cost: cost.unwrap_or(0.0),
            stream: self.stream,
            cache_hit: self.cache_hit,
            cache_lookup: self.cache_lookup,
            tags: &self.owners.tag_names,
            response_id: self.response_id.as_deref(),
            retries: meta.map_or(0, |m| m.attempted_retries),
            fallbacks: meta.map_or(0, |m| m.attempted_fallbacks),
            guardrails: &self.guardrails,
            started_at: std::time::SystemTime::now() - end.saturating_duration_since(self.start),
            start: self.start,
            end,
            api_start: meta.and_then(|m| m.api_start),
            first_chunk: self.first_chunk,
            upstream_headers: meta.map_or(&[][..], |m| &m.upstream_headers),
            // Captured for the spend log alone, it stays out of callbacks that record none.
            capture: self.capture.as_deref().filter(|_| o.messages),
            trace: self.trace.as_ref(),
        };
        o.call(&ev);
    }
}
