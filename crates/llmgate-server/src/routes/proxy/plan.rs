//! What a request asks of the router for its call: its own fallbacks, retries and timeout,
//! and the failures LiteLLM's testing params simulate.

use super::*;

/// LiteLLM's request params that make the proxy fabricate a failure or a delay: refused
/// unless `general_settings.dangerously_allow_mock_testing_request_params: true`.
const GATED_MOCK_PARAMS: &[&str] = &[
    "mock_testing_fallbacks",
    "mock_testing_context_fallbacks",
    "mock_testing_content_policy_fallbacks",
    "mock_testing_rate_limit_error",
    "mock_timeout",
    "mock_delay",
];

/// A failure the client asked to be simulated (LiteLLM's testing flags): each attempt fails
/// this way instead of calling the upstream, and the usual retries and fallbacks apply.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum MockFailure {
    /// `mock_testing_rate_limit_error: true`: a 429 `RateLimitError`.
    RateLimit,
    /// `mock_timeout: true`: a 408 `Timeout` after the call's timeout has passed.
    Timeout,
    /// `mock_testing_fallbacks: true`: the asked group fails, its fallbacks are called.
    Fallbacks,
    /// `mock_testing_context_fallbacks: true`: a context-window error in the asked group.
    ContextWindow,
    /// `mock_testing_content_policy_fallbacks: true`: a content-policy error there.
    ContentPolicy,
}

/// How the router is to treat one call: what the request asks of it (read before its proxy
/// fields are stripped).
#[derive(Clone, Debug, Default)]
pub struct CallPlan {
    pub mock: Option<MockFailure>,
    /// `mock_delay`: seconds each attempt waits first.
    pub delay: Option<f64>,
    /// The request's own `timeout` (seconds): lowers the deployment's.
    pub timeout: Option<f64>,
    /// The request's `fallbacks` list (replaces the router's for this call).
    pub fallbacks: Option<Vec<String>>,
    /// The request's `num_retries`.
    pub num_retries: Option<u32>,
    /// Tags the request carries (tag routing).
    pub tags: Vec<String>,
    /// The prompt's tokens, counted only when the router needs them (pre-call checks, tpm).
    pub input_tokens: Option<u64>,
    /// A streamed call: its latency is the time to the first chunk.
    pub stream: bool,
}

fn seconds(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.parse().ok(),
        _ => None,
    }
    .filter(|t: &f64| t.is_finite() && *t >= 0.0)
}

/// The call plan of a request; 400 for a mock-testing param the proxy does not allow.
pub fn call_plan(
    state: &AppState,
    extra: &Map<String, Value>,
    tags: Vec<String>,
) -> Result<CallPlan, GatewayError> {
    let allowed = matches!(
        state
            .config
            .general_settings
            .extra
            .get("dangerously_allow_mock_testing_request_params"),
        Some(Value::Bool(true))
    );
    let present: Vec<&str> = GATED_MOCK_PARAMS
        .iter()
        .copied()
        .filter(|p| extra.contains_key(*p))
        .collect();
    if !allowed && !present.is_empty() {
        return Err(GatewayError::BadRequest(format!(
            "Mock testing request params are disabled on this proxy: {}. An admin can enable \
             them by setting `general_settings.dangerously_allow_mock_testing_request_params: \
             true` in config.yaml. This setting cannot be changed from the Admin UI or the API.",
            present.join(", ")
        )));
    }
    let flag = |k: &str| is(extra.get(k), true);
    let mock = if flag("mock_testing_rate_limit_error") {
        Some(MockFailure::RateLimit)
    } else if flag("mock_timeout") {
        Some(MockFailure::Timeout)
    } else if flag("mock_testing_fallbacks") {
        Some(MockFailure::Fallbacks)
    } else if flag("mock_testing_context_fallbacks") {
        Some(MockFailure::ContextWindow)
    } else if flag("mock_testing_content_policy_fallbacks") {
        Some(MockFailure::ContentPolicy)
    } else {
        None
    };
    let fallbacks = match extra.get("fallbacks") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => {
            let mut out = Vec::new();
            for f in a {
                match f {
                    Value::String(m) => out.push(m.clone()),
                    // LiteLLM also takes `{"model": ..., ...}` entries.
                    Value::Object(o) => match o.get("model").and_then(Value::as_str) {
                        Some(m) => out.push(m.to_string()),
                        None => {
                            return Err(GatewayError::BadRequest(
                                "fallbacks: each entry is a model name or {\"model\": ...}".into(),
                            ))
                        }
                    },
                    _ => {
                        return Err(GatewayError::BadRequest(
                            "fallbacks: each entry is a model name".into(),
                        ))
                    }
                }
            }
            Some(out)
        }
        Some(_) => {
            return Err(GatewayError::BadRequest(
                "fallbacks must be a list of model names".into(),
            ))
        }
    };
    let num_retries = match extra.get("num_retries") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| {
                    GatewayError::BadRequest("num_retries must be a whole number".into())
                })?,
        ),
    };
    Ok(CallPlan {
        mock,
        delay: seconds(extra.get("mock_delay")),
        timeout: seconds(extra.get("timeout")),
        fallbacks,
        num_retries,
        tags,
        input_tokens: None,
        stream: false,
    })
}

/// The simulated failure of one attempt on `dep` in `group` (the deployment's own
/// `mock_timeout` too); `asked`: the group is the one the client asked for.
pub(super) async fn mock_attempt(
    plan: &CallPlan,
    dep: &Deployment,
    group: &str,
    asked: bool,
) -> Option<LlmError> {
    if let Some(d) = plan.delay {
        tokio::time::sleep(Duration::from_secs_f64(d.min(86_400.0))).await;
    }
    let deployment_timeout = is(dep.entry.litellm_params.extra.get("mock_timeout"), true);
    let mock =
        match plan.mock {
            // The fallback testing flags fail only the asked group: its fallbacks answer.
            Some(
                MockFailure::Fallbacks | MockFailure::ContextWindow | MockFailure::ContentPolicy,
            ) if !asked => None,
            m => m,
        };
    let kind = |k, msg: String| Some(LlmError::new(k, msg).with_provider(&dep.provider));
    match mock.or(deployment_timeout.then_some(MockFailure::Timeout))? {
        MockFailure::RateLimit => Some(LlmError::new(
            llmgate::ErrorKind::RateLimit,
            format!("This is a mock exception for model={group}, to trigger a rate limit error."),
        )),
        MockFailure::Timeout => {
            // As LiteLLM: only with a timeout to wait for (the request's, else the deployment's).
            let secs = plan.timeout.or(dep.entry.litellm_params.timeout)?;
            tokio::time::sleep(Duration::from_secs_f64(secs.min(86_400.0))).await;
            Some(
                LlmError::new(llmgate::ErrorKind::Timeout, "This is a mock timeout error")
                    .with_provider("openai"),
            )
        }
        MockFailure::Fallbacks => kind(
            llmgate::ErrorKind::InternalServer,
            format!("This is a mock exception for model={group}, to trigger a fallback."),
        ),
        MockFailure::ContextWindow => kind(
            llmgate::ErrorKind::ContextWindowExceeded,
            format!(
                "This is a mock exception for model={group}, to trigger a context window fallback."
            ),
        ),
        MockFailure::ContentPolicy => kind(
            llmgate::ErrorKind::ContentPolicyViolation,
            format!(
                "This is a mock exception for model={group}, to trigger a content policy fallback."
            ),
        ),
    }
}
