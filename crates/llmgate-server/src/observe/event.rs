//! What the request path tells the observers: one [`CallEvent`] when a call ends (however it
//! ends), one [`AttemptEvent`] per upstream attempt, a [`FallbackEvent`] when a fallback
//! group answered or failed, and a [`Rejected`] request refused before any call was made.
//! Borrowed views: an observer copies what it keeps, so an event costs nothing to build.

use std::time::{Duration, Instant, SystemTime};

use llmgate::{LlmError, Usage};
use llmgate_store::entities::{OrgRow, TeamRow, UserRow};
use llmgate_store::keys::KeyRow;
use serde_json::Value;

use crate::deployments::Deployment;
use crate::error::GatewayError;

/// Who called: the virtual key and its owners, as LiteLLM's `user_api_key_*` metadata names
/// them.
#[derive(Clone, Copy, Default)]
pub struct Caller<'a> {
    pub key: Option<&'a KeyRow>,
    /// The key's hash (the master key's, hashed, when it was used).
    pub key_hash: Option<&'a str>,
    pub team: Option<&'a TeamRow>,
    pub user: Option<&'a UserRow>,
    pub org_id: Option<&'a str>,
    pub end_user: Option<&'a str>,
    pub client_ip: Option<&'a str>,
    /// Live spend after this call (for the remaining-budget gauges).
    pub key_spend: Option<f64>,
    pub team_spend: Option<f64>,
    pub user_spend: Option<f64>,
    /// The key's organization, its live spend and its budget's `max_budget`.
    pub org: Option<&'a OrgRow>,
    pub org_spend: Option<f64>,
    pub org_max_budget: Option<f64>,
    /// What the key's `model_rpm_limit` / `model_tpm_limit` for the call's model group leave
    /// in this minute (None: no such limit).
    pub model_remaining: (Option<i64>, Option<i64>),
}

impl<'a> Caller<'a> {
    pub fn key_alias(&self) -> Option<&'a str> {
        self.key?.key_alias.as_deref()
    }
    pub fn team_id(&self) -> Option<&'a str> {
        self.key?.team_id.as_deref()
    }
    pub fn team_alias(&self) -> Option<&'a str> {
        self.team?.team_alias.as_deref()
    }
    pub fn user_id(&self) -> Option<&'a str> {
        self.key?.user_id.as_deref()
    }
    pub fn user_email(&self) -> Option<&'a str> {
        self.user?.user_email.as_deref()
    }
}

/// How a call ended.
#[derive(Clone, Copy)]
pub enum Status<'a> {
    Success,
    Failure(&'a GatewayError),
    /// The client left before the end (logged as a 499).
    Abandoned,
}

impl Status<'_> {
    pub fn is_success(&self) -> bool {
        matches!(self, Status::Success)
    }

    /// The HTTP status the client got (or would have).
    pub fn code(&self) -> u16 {
        match self {
            Status::Success => 200,
            Status::Failure(e) => e.status(),
            Status::Abandoned => 499,
        }
    }

    /// LiteLLM's `exception_class` label: `Openai.RateLimitError` for a provider's error.
    pub fn exception_class(&self) -> Option<String> {
        match self {
            Status::Success => None,
            Status::Failure(e) => Some(exception_class(e)),
            Status::Abandoned => Some("ClientDisconnected".into()),
        }
    }
}

/// `Provider.ClassName`, as LiteLLM's Prometheus logger names an exception.
pub fn exception_class(e: &GatewayError) -> String {
    match e {
        GatewayError::Llm(l) => llm_exception_class(l),
        _ => "ProxyException".into(),
    }
}

pub fn llm_exception_class(e: &LlmError) -> String {
    let class = e.kind.class_name();
    let mut p = e.provider.chars();
    match p.next() {
        Some(first) => format!("{}{}.{class}", first.to_uppercase(), p.as_str()),
        None => class.to_string(),
    }
}

/// The request and the answer, kept only when a logger records messages.
#[derive(Default)]
pub struct Capture {
    pub request: Value,
    pub response: Option<Value>,
}

/// The response-cache lookup a call made (its `service` names the backend as LiteLLM's
/// service spans do: `redis`; the in-process caches are `in_memory`).
#[derive(Clone, Copy, Debug)]
pub struct CacheLookup {
    pub service: &'static str,
    pub call_type: &'static str,
    pub start: Instant,
    pub end: Instant,
    pub hit: bool,
}

/// One call, at its end.
pub struct CallEvent<'a> {
    pub call_id: &'a str,
    pub call_type: &'static str,
    pub route: &'static str,
    /// The group the client asked for (after key aliases).
    pub requested_model: &'a str,
    /// The group that answered (a fallback's when one did).
    pub model_group: &'a str,
    /// The deployment that answered (or was tried last); None when none was reached.
    pub deployment: Option<&'a Deployment>,
    pub caller: Caller<'a>,
    pub status: Status<'a>,
    pub usage: Option<&'a Usage>,
    pub cost: f64,
    pub stream: bool,
    pub cache_hit: bool,
    /// The cache lookup, when the call made one.
    pub cache_lookup: Option<CacheLookup>,
    pub tags: &'a [String],
    pub response_id: Option<&'a str>,
    pub retries: u32,
    pub fallbacks: u32,
    pub guardrails: &'a [Value],
    /// When the call arrived (wall clock) and took in all.
    pub started_at: SystemTime,
    pub start: Instant,
    pub end: Instant,
    /// When the attempt that answered started, and when its first chunk came (streams).
    pub api_start: Option<Instant>,
    pub first_chunk: Option<Instant>,
    pub upstream_headers: &'a [(String, String)],
    pub capture: Option<&'a Capture>,
    /// The span ids chosen for the call (OpenTelemetry on).
    pub trace: Option<&'a super::otel::TraceIds>,
}

impl CallEvent<'_> {
    pub fn total_latency(&self) -> Duration {
        self.end.saturating_duration_since(self.start)
    }

    /// The upstream's time for the attempt that answered (to the end of its stream).
    pub fn llm_api_latency(&self) -> Option<Duration> {
        Some(self.end.saturating_duration_since(self.api_start?))
    }

    /// Time to first token: streams only, as LiteLLM reports it.
    pub fn time_to_first_token(&self) -> Option<Duration> {
        if !self.stream {
            return None;
        }
        Some(self.first_chunk?.saturating_duration_since(self.api_start?))
    }
}

/// One upstream attempt's outcome (every retry and fallback is one).
pub struct AttemptEvent<'a> {
    pub requested_model: &'a str,
    pub deployment: &'a Deployment,
    pub caller: Caller<'a>,
    pub error: Option<&'a LlmError>,
    /// The failure cooled the deployment down.
    pub cooled_down: bool,
}

/// A fallback group's attempt: `to` answered (`error` None) or failed too.
pub struct FallbackEvent<'a> {
    pub from: &'a str,
    pub to: &'a str,
    pub caller: Caller<'a>,
    /// The error that made the call fall back.
    pub original: &'a LlmError,
    pub success: bool,
}

/// A request refused before a call was made (bad body, budget, limits).
pub struct Rejected<'a> {
    pub route: &'static str,
    /// The model asked for, when it names a served group (never raw input: it is a label).
    pub requested_model: Option<&'a str>,
    pub caller: Caller<'a>,
    pub error: &'a GatewayError,
}
