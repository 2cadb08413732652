//! The router's settings, read from LiteLLM's `router_settings` (and the `litellm_settings`
//! keys LiteLLM also accepts there), with LiteLLM's defaults.

use std::collections::HashMap;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::ErrorKind;

/// `router_settings.routing_strategy`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strategy {
    /// Weighted random by `weight`, else by `rpm`, else by `tpm`, else uniform.
    #[default]
    SimpleShuffle,
    /// Fewest requests in flight.
    LeastBusy,
    /// Lowest tokens used this minute, never past a deployment's own rpm/tpm.
    UsageBased,
    /// Lowest recent latency (time to first token for streams).
    LatencyBased,
    /// Cheapest by price per token.
    CostBased,
}

impl Strategy {
    pub fn parse(name: &str) -> Option<Strategy> {
        Some(match name {
            "simple-shuffle" => Strategy::SimpleShuffle,
            "least-busy" => Strategy::LeastBusy,
            "usage-based-routing" | "usage-based-routing-v2" => Strategy::UsageBased,
            "latency-based-routing" => Strategy::LatencyBased,
            "cost-based-routing" => Strategy::CostBased,
            _ => return None,
        })
    }
}

/// A count per LiteLLM exception class: `retry_policy` (`RateLimitErrorRetries`, ...) and
/// `allowed_fails_policy` (`RateLimitErrorAllowedFails`, ...).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ErrorPolicy(HashMap<&'static str, u32>);

/// LiteLLM's policy field stems, most specific first (a content-policy violation is also a
/// bad request).
const POLICY_CLASSES: &[(&str, &[ErrorKind])] = &[
    (
        "ContentPolicyViolationError",
        &[ErrorKind::ContentPolicyViolation],
    ),
    (
        "BadRequestError",
        &[
            ErrorKind::BadRequest,
            ErrorKind::UnsupportedParams,
            ErrorKind::ContextWindowExceeded,
            ErrorKind::ContentPolicyViolation,
            ErrorKind::UnprocessableEntity,
        ],
    ),
    ("AuthenticationError", &[ErrorKind::Authentication]),
    ("TimeoutError", &[ErrorKind::Timeout]),
    ("RateLimitError", &[ErrorKind::RateLimit]),
    (
        "InternalServerError",
        &[ErrorKind::InternalServer, ErrorKind::Api],
    ),
    ("ServiceUnavailableError", &[ErrorKind::ServiceUnavailable]),
    ("BadGatewayError", &[ErrorKind::BadGateway]),
    ("NotFoundError", &[ErrorKind::NotFound]),
];

impl ErrorPolicy {
    /// Reads `{"<Class>Retries": n}` (suffix `Retries` or `AllowedFails`).
    pub(crate) fn parse(v: Option<&Value>, suffix: &str) -> Result<ErrorPolicy, String> {
        let mut out = HashMap::new();
        let Some(v) = v.filter(|v| !v.is_null()) else {
            return Ok(ErrorPolicy(out));
        };
        let Some(m) = v.as_object() else {
            return Err(format!("must be a mapping of <ErrorClass>{suffix}: count"));
        };
        for (k, n) in m {
            let class = POLICY_CLASSES
                .iter()
                .map(|(c, _)| *c)
                .find(|c| k.strip_suffix(suffix) == Some(c))
                .ok_or_else(|| format!("unknown field {k}"))?;
            if n.is_null() {
                continue;
            }
            let n = count(n).ok_or_else(|| format!("{k} must be a whole number"))?;
            out.insert(class, n);
        }
        Ok(ErrorPolicy(out))
    }

    /// The count for an error of `kind`, if the policy names its class.
    pub fn get(&self, kind: ErrorKind) -> Option<u32> {
        POLICY_CLASSES
            .iter()
            .filter(|(_, kinds)| kinds.contains(&kind))
            .find_map(|(c, _)| self.0.get(c).copied())
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `routing_strategy_args` of latency-based routing.
#[derive(Clone, Debug)]
pub struct LatencyArgs {
    /// Latencies older than this are forgotten (LiteLLM: 1 hour).
    pub ttl: Duration,
    /// Deployments within `lowest * (1 + buffer)` share the load (LiteLLM: 0).
    pub buffer: f64,
    /// Recent latencies kept per deployment (LiteLLM: 10).
    pub max_samples: usize,
}

impl Default for LatencyArgs {
    fn default() -> Self {
        LatencyArgs {
            ttl: Duration::from_secs(3600),
            buffer: 0.0,
            max_samples: 10,
        }
    }
}

/// Fallbacks: a model group's ordered list of other groups to try.
pub type Fallbacks = Vec<(String, Vec<String>)>;

#[derive(Clone, Debug)]
pub struct Settings {
    pub strategy: Strategy,
    pub latency: LatencyArgs,
    /// Retries across the group's deployments before any fallback (LiteLLM's default: 2,
    /// the openai client's).
    pub num_retries: u32,
    pub retry_policy: ErrorPolicy,
    /// Per model group `retry_policy`.
    pub group_retry_policy: HashMap<String, ErrorPolicy>,
    /// The least wait before a retry.
    pub retry_after: Duration,
    /// Failures within a minute a deployment may have before it cools down; unset, LiteLLM's
    /// default rules apply (rate limits at once, more than half failing, 401/404 at once).
    pub allowed_fails: Option<u32>,
    pub allowed_fails_policy: ErrorPolicy,
    pub cooldown_time: Duration,
    pub disable_cooldowns: bool,
    pub fallbacks: Fallbacks,
    pub context_window_fallbacks: Fallbacks,
    pub content_policy_fallbacks: Fallbacks,
    pub default_fallbacks: Vec<String>,
    pub max_fallbacks: usize,
    pub pre_call_checks: bool,
    pub tag_filtering: bool,
    /// A deployment matches when it has any of the request's tags (else all of them).
    pub tag_match_any: bool,
    /// `model_group_alias`: public name -> (group, hidden from `/models`).
    pub aliases: HashMap<String, (String, bool)>,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            strategy: Strategy::SimpleShuffle,
            latency: LatencyArgs::default(),
            num_retries: 2,
            retry_policy: ErrorPolicy::default(),
            group_retry_policy: HashMap::new(),
            retry_after: Duration::ZERO,
            allowed_fails: None,
            allowed_fails_policy: ErrorPolicy::default(),
            cooldown_time: Duration::from_secs(5),
            disable_cooldowns: false,
            fallbacks: Vec::new(),
            context_window_fallbacks: Vec::new(),
            content_policy_fallbacks: Vec::new(),
            default_fallbacks: Vec::new(),
            max_fallbacks: 5,
            pre_call_checks: false,
            tag_filtering: false,
            tag_match_any: true,
            aliases: HashMap::new(),
        }
    }
}

fn count(v: &Value) -> Option<u32> {
    match v {
        Value::Number(n) => n
            .as_u64()
            .or_else(|| {
                n.as_f64()
                    .filter(|f| f.fract() == 0.0 && *f >= 0.0)
                    .map(|f| f as u64)
            })
            .and_then(|n| u32::try_from(n).ok()),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn seconds(v: &Value) -> Option<Duration> {
    let f = match v {
        Value::Number(n) => n.as_f64()?,
        Value::String(s) => s.trim().parse().ok()?,
        _ => return None,
    };
    (f.is_finite() && f >= 0.0).then(|| Duration::from_secs_f64(f.min(1e9)))
}

fn flag(v: &Value) -> Option<bool> {
    match v {
        Value::Bool(b) => Some(*b),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" => Some(true),
            "false" | "0" | "no" => Some(false),
            _ => None,
        },
        _ => None,
    }
}

/// `[{"gpt-4": ["gpt-3.5"]}, ...]` (LiteLLM's shape) or `{"gpt-4": ["gpt-3.5"]}`; a single
/// string stands for a one-item list.
pub fn parse_fallbacks(v: &Value) -> Result<Fallbacks, String> {
    fn targets(v: &Value) -> Result<Vec<String>, String> {
        match v {
            Value::String(s) => Ok(vec![s.clone()]),
            Value::Array(a) => a
                .iter()
                .map(|t| match t {
                    Value::String(s) => Ok(s.clone()),
                    _ => Err("fallback targets must be model names".to_string()),
                })
                .collect(),
            _ => Err("fallback targets must be a list of model names".into()),
        }
    }
    let mut out = Vec::new();
    let mut add = |m: &Map<String, Value>| -> Result<(), String> {
        for (k, v) in m {
            out.push((k.clone(), targets(v)?));
        }
        Ok(())
    };
    match v {
        Value::Null => {}
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::Object(m) => add(m)?,
                    _ => return Err("each fallback must be a mapping {model: [fallbacks]}".into()),
                }
            }
        }
        Value::Object(m) => add(m)?,
        _ => return Err("must be a list of {model: [fallbacks]}".into()),
    }
    Ok(out)
}

impl Settings {
    /// Reads LiteLLM's `router_settings` keys from `m`; an error names the key. Keys this
    /// module does not know are left to the caller.
    pub fn from_map(m: &Map<String, Value>) -> Result<Settings, String> {
        let mut s = Settings::default();
        let bad = |k: &str, what: &str| format!("router_settings.{k}: {what}");
        for (k, v) in m {
            if v.is_null() {
                continue;
            }
            match k.as_str() {
                "routing_strategy" => {
                    let name = v.as_str().unwrap_or_default();
                    s.strategy = Strategy::parse(name)
                        .ok_or_else(|| bad(k, &format!("unknown strategy {v}")))?;
                }
                "routing_strategy_args" => {
                    let a = v.as_object().ok_or_else(|| bad(k, "must be a mapping"))?;
                    if let Some(t) = a.get("ttl").filter(|t| !t.is_null()) {
                        s.latency.ttl = seconds(t).ok_or_else(|| bad(k, "ttl must be seconds"))?;
                    }
                    if let Some(b) = a.get("lowest_latency_buffer").filter(|b| !b.is_null()) {
                        s.latency.buffer = b
                            .as_f64()
                            .filter(|b| b.is_finite() && *b >= 0.0)
                            .ok_or_else(|| bad(k, "lowest_latency_buffer must be >= 0"))?;
                    }
                    if let Some(n) = a.get("max_latency_list_size").filter(|n| !n.is_null()) {
                        s.latency.max_samples = count(n)
                            .filter(|n| *n > 0)
                            .ok_or_else(|| bad(k, "max_latency_list_size must be > 0"))?
                            as usize;
                    }
                }
                "num_retries" => {
                    s.num_retries = count(v).ok_or_else(|| bad(k, "must be a whole number"))?
                }
                "retry_policy" => {
                    s.retry_policy =
                        ErrorPolicy::parse(Some(v), "Retries").map_err(|e| bad(k, &e))?
                }
                "model_group_retry_policy" => {
                    let groups = v.as_object().ok_or_else(|| bad(k, "must be a mapping"))?;
                    for (g, p) in groups {
                        let p = ErrorPolicy::parse(Some(p), "Retries").map_err(|e| bad(k, &e))?;
                        s.group_retry_policy.insert(g.clone(), p);
                    }
                }
                "retry_after" => {
                    s.retry_after = seconds(v).ok_or_else(|| bad(k, "must be seconds"))?
                }
                "allowed_fails" => {
                    s.allowed_fails =
                        Some(count(v).ok_or_else(|| bad(k, "must be a whole number"))?)
                }
                "allowed_fails_policy" => {
                    s.allowed_fails_policy =
                        ErrorPolicy::parse(Some(v), "AllowedFails").map_err(|e| bad(k, &e))?
                }
                "cooldown_time" => {
                    s.cooldown_time = seconds(v).ok_or_else(|| bad(k, "must be seconds"))?
                }
                "disable_cooldowns" => {
                    s.disable_cooldowns = flag(v).ok_or_else(|| bad(k, "must be true or false"))?
                }
                "fallbacks" => s.fallbacks = parse_fallbacks(v).map_err(|e| bad(k, &e))?,
                "context_window_fallbacks" => {
                    s.context_window_fallbacks = parse_fallbacks(v).map_err(|e| bad(k, &e))?
                }
                "content_policy_fallbacks" => {
                    s.content_policy_fallbacks = parse_fallbacks(v).map_err(|e| bad(k, &e))?
                }
                "default_fallbacks" => {
                    s.default_fallbacks = match v {
                        Value::String(m) => vec![m.clone()],
                        Value::Array(a) => a
                            .iter()
                            .map(|m| m.as_str().map(str::to_string))
                            .collect::<Option<_>>()
                            .ok_or_else(|| bad(k, "must be a list of model names"))?,
                        _ => return Err(bad(k, "must be a list of model names")),
                    }
                }
                "max_fallbacks" => {
                    s.max_fallbacks =
                        count(v).ok_or_else(|| bad(k, "must be a whole number"))? as usize
                }
                "enable_pre_call_checks" | "enable_pre_call_check" => {
                    s.pre_call_checks = flag(v).ok_or_else(|| bad(k, "must be true or false"))?
                }
                "enable_tag_filtering" => {
                    s.tag_filtering = flag(v).ok_or_else(|| bad(k, "must be true or false"))?
                }
                "tag_filtering_match_any" => {
                    s.tag_match_any = flag(v).ok_or_else(|| bad(k, "must be true or false"))?
                }
                "model_group_alias" => {
                    let m = v.as_object().ok_or_else(|| bad(k, "must be a mapping"))?;
                    for (alias, target) in m {
                        let (group, hidden) = match target {
                            Value::String(g) => (g.clone(), false),
                            Value::Object(o) => (
                                o.get("model")
                                    .and_then(Value::as_str)
                                    .ok_or_else(|| bad(k, "an alias object needs `model`"))?
                                    .to_string(),
                                o.get("hidden").and_then(flag).unwrap_or(false),
                            ),
                            _ => return Err(bad(k, "an alias maps to a model name")),
                        };
                        s.aliases.insert(alias.clone(), (group, hidden));
                    }
                }
                _ => {}
            }
        }
        Ok(s)
    }

    /// Retries for an error of `kind` in `group`: the group's policy, the router's, else
    /// `num_retries` (`deployment`: the deployment's own `max_retries`).
    pub fn retries_for(&self, group: &str, kind: ErrorKind, deployment: Option<u32>) -> u32 {
        self.group_retry_policy
            .get(group)
            .and_then(|p| p.get(kind))
            .or_else(|| self.retry_policy.get(kind))
            .or(deployment)
            .unwrap_or(self.num_retries)
    }

    /// The fallback list for `group` in `list` (an exact entry, else `*`).
    pub fn fallbacks_in<'a>(list: &'a Fallbacks, group: &str) -> Option<&'a [String]> {
        list.iter()
            .find(|(g, _)| g == group)
            .or_else(|| list.iter().find(|(g, _)| g == "*"))
            .map(|(_, t)| t.as_slice())
    }
}
