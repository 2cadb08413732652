//! `callbacks: ["prometheus"]`: LiteLLM's metrics, by its names, types, label names and
//! latency buckets, so dashboards built on LiteLLM's `/metrics` keep working.
//!
//! Label values are what LiteLLM puts there, `None` for a missing one (Python's `str(None)`).
//! Two of LiteLLM's labels are left out because their values are raw client input and would
//! make the series unbounded: `client_ip` and `user_agent`; `end_user` is `None` unless
//! `enable_end_user_cost_tracking_prometheus_only` is set, as LiteLLM. Each of LiteLLM's
//! metrics holds at most `MAX_SERIES` label sets (as LiteLLM's bounded series tracker bounds
//! them): past it, new label sets are counted in one series whose every label is `__overflow__`
//! (logged once per metric), so nothing is lost and memory stays bounded.

use std::collections::{HashMap, HashSet};
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;

use super::event::{
    llm_exception_class, AttemptEvent, CallEvent, Caller, FallbackEvent, Rejected, Status,
};

/// LiteLLM's `LATENCY_BUCKETS` (the `+Inf` bucket is added by the histogram).
const LATENCY_BUCKETS: &[f64] = &[
    0.005, 0.00625, 0.0125, 0.025, 0.05, 0.1, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 4.5, 5.0,
    5.5, 6.0, 6.5, 7.0, 7.5, 8.0, 8.5, 9.0, 9.5, 10.0, 15.0, 20.0, 25.0, 30.0, 60.0, 120.0, 180.0,
    240.0, 300.0,
];

/// Python prometheus_client's default buckets (LiteLLM's per-output-token histogram uses them).
const DEFAULT_BUCKETS: &[f64] = &[
    0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
];

type Labels = Vec<(&'static str, String)>;
type RawCount = Family<Labels, Counter<f64, AtomicU64>>;
type RawHist = Family<Labels, Histogram, fn() -> Histogram>;
type Count = Fam<Counter<f64, AtomicU64>>;
type Level = Fam<Gauge<f64, AtomicU64>>;
type Hist = Fam<Histogram>;

/// One of LiteLLM's metric families, with the labels `prometheus_metrics_config` keeps
/// (None: all of them).
struct Fam<M> {
    inner: Family<Labels, M, fn() -> M>,
    keep: Option<HashSet<String>>,
    name: &'static str,
    /// Label sets made so far (bounded by `MAX_SERIES`).
    series: AtomicUsize,
    overflowed: AtomicBool,
}

/// The label sets one of LiteLLM's metrics may hold.
const MAX_SERIES: usize = 10_000;

impl<M: Clone> Fam<M> {
    fn new(
        name: &'static str,
        inner: Family<Labels, M, fn() -> M>,
        keep: Option<HashSet<String>>,
    ) -> Fam<M> {
        Fam {
            inner,
            keep,
            name,
            series: AtomicUsize::new(0),
            overflowed: AtomicBool::new(false),
        }
    }

    /// The series for these label values (the ones the config drops left out); past
    /// `MAX_SERIES` label sets, the `__overflow__` series.
    fn at(&self, labels: &Labels) -> M {
        let kept: Labels;
        let labels = match &self.keep {
            None => labels,
            Some(keep) => {
                kept = labels
                    .iter()
                    .filter(|(n, _)| keep.contains(*n))
                    .cloned()
                    .collect();
                &kept
            }
        };
        if let Some(m) = self.inner.get(labels) {
            return m.clone();
        }
        if self.series.fetch_add(1, Ordering::Relaxed) < MAX_SERIES {
            return self.inner.get_or_create_owned(labels);
        }
        self.series.fetch_sub(1, Ordering::Relaxed);
        if !self.overflowed.swap(true, Ordering::Relaxed) {
            tracing::warn!(
                metric = self.name,
                limit = MAX_SERIES,
                "a metric reached its label-set limit; new label sets are counted as __overflow__"
            );
        }
        let over: Labels = labels
            .iter()
            .map(|(n, _)| (*n, "__overflow__".to_string()))
            .collect();
        self.inner.get_or_create_owned(&over)
    }
}

/// `litellm_settings.prometheus_metrics_config`: the metrics served (others are not), and per
/// metric the labels it keeps (`include_labels`; all of its labels without one).
#[derive(Default, Debug)]
pub struct Filter {
    metrics: HashMap<String, Option<HashSet<String>>>,
}

impl Filter {
    /// From the config; None when it has no `prometheus_metrics_config`. Names LiteLLM does
    /// not define are logged and skipped, as LiteLLM's validation reports them.
    pub fn from_config(cfg: &crate::config::Config) -> Option<Filter> {
        let groups = cfg
            .litellm_settings
            .extra
            .get("prometheus_metrics_config")?
            .as_array()?;
        let mut f = Filter::default();
        for g in groups {
            let labels: Option<HashSet<String>> = g["include_labels"].as_array().map(|l| {
                l.iter()
                    .filter_map(|x| x.as_str().map(str::to_string))
                    .collect()
            });
            for m in g["metrics"].as_array().into_iter().flatten() {
                let Some(m) = m.as_str() else { continue };
                let entry = f
                    .metrics
                    .entry(m.to_string())
                    .or_insert(Some(HashSet::new()));
                match (&labels, entry.as_mut()) {
                    (None, _) => *entry = None,
                    (Some(l), Some(e)) => e.extend(l.iter().cloned()),
                    (Some(_), None) => {}
                }
            }
        }
        Some(f)
    }

    /// Names the config lists that are not metrics llmgate serves (logged at start).
    pub fn unknown(&self, known: &[&str]) -> Vec<String> {
        let mut out: Vec<String> = self
            .metrics
            .keys()
            .filter(|m| !known.contains(&m.as_str()))
            .cloned()
            .collect();
        out.sort();
        out
    }
}

/// `litellm_settings.prometheus_latency_buckets`, when set (the latency histograms' buckets
/// instead of LiteLLM's defaults); set once at start.
static CUSTOM_BUCKETS: std::sync::OnceLock<Vec<f64>> = std::sync::OnceLock::new();

fn latency_histogram() -> Histogram {
    let buckets = CUSTOM_BUCKETS
        .get()
        .map_or(LATENCY_BUCKETS, |b| b.as_slice());
    Histogram::new(buckets.iter().copied())
}

/// Reads `prometheus_latency_buckets` (a list of increasing positive seconds); a bad list
/// refuses the start.
pub fn set_latency_buckets(cfg: &crate::config::Config) -> Result<(), String> {
    let Some(v) = cfg
        .litellm_settings
        .extra
        .get("prometheus_latency_buckets")
        .filter(|v| !v.is_null())
    else {
        return Ok(());
    };
    let bad = || {
        format!("litellm_settings.prometheus_latency_buckets: {v} is not a list of increasing positive numbers of seconds")
    };
    let list: Vec<f64> = v
        .as_array()
        .ok_or_else(bad)?
        .iter()
        .map(|x| x.as_f64().filter(|f| f.is_finite() && *f > 0.0))
        .collect::<Option<_>>()
        .ok_or_else(bad)?;
    if list.is_empty() || list.windows(2).any(|w| w[0] >= w[1]) {
        return Err(bad());
    }
    let _ = CUSTOM_BUCKETS.set(list);
    Ok(())
}

fn default_histogram() -> Histogram {
    Histogram::new(DEFAULT_BUCKETS.iter().copied())
}

// Label sets, as LiteLLM's `PrometheusMetricLabels` (without client_ip / user_agent).
const TOTAL_REQUESTS: &[&str] = &[
    "end_user",
    "hashed_api_key",
    "api_key_alias",
    "requested_model",
    "team",
    "team_alias",
    "user",
    "status_code",
    "user_email",
    "route",
    "model_id",
];
const FAILED_REQUESTS: &[&str] = &[
    "end_user",
    "hashed_api_key",
    "api_key_alias",
    "requested_model",
    "team",
    "team_alias",
    "user",
    "user_email",
    "exception_status",
    "exception_class",
    "route",
    "model_id",
];
const TOTAL_LATENCY: &[&str] = &[
    "end_user",
    "hashed_api_key",
    "api_key_alias",
    "requested_model",
    "team",
    "team_alias",
    "user",
    "model",
    "model_id",
];
const API_LATENCY: &[&str] = &[
    "model",
    "hashed_api_key",
    "api_key_alias",
    "team",
    "team_alias",
    "requested_model",
    "end_user",
    "user",
    "model_id",
];
const SPEND: &[&str] = &[
    "end_user",
    "hashed_api_key",
    "api_key_alias",
    "model",
    "team",
    "team_alias",
    "user",
    "user_email",
    "model_id",
];
const TOKENS: &[&str] = &[
    "end_user",
    "hashed_api_key",
    "api_key_alias",
    "model",
    "team",
    "team_alias",
    "user",
    "user_email",
    "requested_model",
    "model_id",
];
const LLM_FAILED: &[&str] = &[
    "end_user",
    "hashed_api_key",
    "api_key_alias",
    "model",
    "team",
    "team_alias",
    "user",
    "model_id",
];
const DEPLOYMENT: &[&str] = &[
    "requested_model",
    "litellm_model_name",
    "model_id",
    "api_base",
    "api_provider",
    "hashed_api_key",
    "api_key_alias",
    "team",
    "team_alias",
];
const DEPLOYMENT_FAILURE: &[&str] = &[
    "requested_model",
    "litellm_model_name",
    "model_id",
    "api_base",
    "api_provider",
    "exception_status",
    "exception_class",
    "hashed_api_key",
    "api_key_alias",
    "team",
    "team_alias",
];
const DEPLOYMENT_STATE: &[&str] = &["litellm_model_name", "model_id", "api_base", "api_provider"];
const DEPLOYMENT_LIMIT: &[&str] = DEPLOYMENT_STATE;
const COOLED_DOWN: &[&str] = &[
    "litellm_model_name",
    "model_id",
    "api_base",
    "api_provider",
    "exception_status",
];
const PER_TOKEN: &[&str] = &[
    "litellm_model_name",
    "model_id",
    "api_base",
    "api_provider",
    "hashed_api_key",
    "api_key_alias",
    "team",
    "team_alias",
];
const OVERHEAD: &[&str] = &[
    "model_group",
    "api_provider",
    "api_base",
    "litellm_model_name",
    "hashed_api_key",
    "api_key_alias",
    "model_id",
];
const FALLBACK: &[&str] = &[
    "requested_model",
    "fallback_model",
    "hashed_api_key",
    "api_key_alias",
    "team",
    "team_alias",
    "exception_status",
    "exception_class",
    "model_id",
];
const CACHE: &[&str] = &[
    "model",
    "hashed_api_key",
    "api_key_alias",
    "team",
    "team_alias",
    "end_user",
    "user",
    "model_id",
];
const TEAM_BUDGET: &[&str] = &["team", "team_alias"];
const KEY_BUDGET: &[&str] = &["hashed_api_key", "api_key_alias"];
const USER_BUDGET: &[&str] = &["user"];
const ORG_BUDGET: &[&str] = &["org_id", "org_alias"];

/// Python's `sys.maxsize`: what LiteLLM reports as the remaining requests or tokens of a key
/// without a per-model limit.
const UNLIMITED: f64 = 9_223_372_036_854_775_807.0;

/// One metric's label values by name; a label not set is `None`, as LiteLLM shows it.
#[derive(Default)]
struct Values<'a> {
    pairs: Vec<(&'static str, &'a str)>,
    owned: Vec<(&'static str, String)>,
    /// `custom_prometheus_tags`' labels, on every metric (`tag_<name>`: `true` / `false`).
    extra: Vec<(&'static str, String)>,
}

impl<'a> Values<'a> {
    fn set(&mut self, name: &'static str, v: Option<&'a str>) -> &mut Self {
        if let Some(v) = v {
            self.pairs.push((name, v));
        }
        self
    }

    fn own(&mut self, name: &'static str, v: String) -> &mut Self {
        self.owned.push((name, v));
        self
    }

    fn caller(&mut self, c: &Caller<'a>, end_user: bool) -> &mut Self {
        self.set("hashed_api_key", c.key_hash)
            .set("api_key_alias", c.key_alias())
            .set("team", c.team_id())
            .set("team_alias", c.team_alias())
            .set("user", c.user_id())
            .set("user_email", c.user_email())
            .set("end_user", c.end_user.filter(|_| end_user))
    }

    fn labels(&self, names: &[&'static str]) -> Labels {
        names
            .iter()
            .map(|n| {
                let v = self
                    .pairs
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| clean(v))
                    .or_else(|| {
                        self.owned
                            .iter()
                            .find(|(k, _)| k == n)
                            .map(|(_, v)| clean(v))
                    })
                    .unwrap_or_else(|| "None".into());
                (*n, v)
            })
            .chain(self.extra.iter().cloned())
            .collect()
    }
}

/// `custom_prometheus_tags`: each configured tag (a trailing `*` matches a prefix) as a label
/// `tag_<name>` (the name made a valid label name), as LiteLLM's `get_custom_labels_from_tags`.
pub struct CustomTags(Vec<(&'static str, String)>);

impl CustomTags {
    pub fn from_config(cfg: &crate::config::Config) -> CustomTags {
        let list = cfg.litellm_settings.extra.get("custom_prometheus_tags");
        let tags = list.and_then(|v| v.as_array()).into_iter().flatten();
        let tags: Vec<(&'static str, String)> = tags
            .filter_map(|t| t.as_str())
            .take(32)
            .map(|t| {
                let name: String = format!("tag_{t}")
                    .chars()
                    .map(|c| {
                        if c.is_ascii_alphanumeric() || c == '_' {
                            c
                        } else {
                            '_'
                        }
                    })
                    .collect();
                // Label names live as long as the registry: made once at start.
                (&*Box::leak(name.into_boxed_str()), t.to_string())
            })
            .collect();
        CustomTags(tags)
    }

    fn values(&self, request: &[String]) -> Vec<(&'static str, String)> {
        self.0
            .iter()
            .map(|(label, tag)| {
                let hit = match tag.strip_suffix('*') {
                    Some(prefix) => request.iter().any(|t| t.starts_with(prefix)),
                    None => request.iter().any(|t| t == tag),
                };
                (*label, if hit { "true" } else { "false" }.to_string())
            })
            .collect()
    }
}

/// A label value the text format can carry: line breaks out, `\` and `"` escaped.
fn clean(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for c in v.chars() {
        match c {
            '\n' => out.push(' '),
            '\r' | '\u{2028}' | '\u{2029}' => {}
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

/// The spend writer's state at scrape time: its backlog and its database round trips.
pub struct SpendState {
    pub backlog: usize,
    pub batches: u64,
    pub failures: u64,
    pub last_write: std::time::Duration,
}

/// The label a requested model name gets: itself for a configured group or alias, the
/// wildcard route's pattern (`openai/*`) for a name only a wildcard serves, None otherwise —
/// so a client choosing names cannot grow the series.
pub type Names = Box<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// Every metric, registered once at start.
pub struct Metrics {
    registry: Registry,
    /// Set once the deployments are known (`set_names`); until then names are labelled as is.
    names: std::sync::OnceLock<Names>,
    end_user: bool,
    cache_on: bool,
    custom_tags: CustomTags,
    total_requests: Count,
    failed_requests: Count,
    requests: Count,
    llm_failed: Count,
    total_latency: Hist,
    api_latency: Hist,
    ttft: Hist,
    overhead: Hist,
    spend: Count,
    total_tokens: Count,
    input_tokens: Count,
    output_tokens: Count,
    remaining_team_budget: Level,
    team_max_budget: Level,
    remaining_key_budget: Level,
    key_max_budget: Level,
    remaining_user_budget: Level,
    user_max_budget: Level,
    remaining_org_budget: Level,
    org_max_budget: Level,
    remaining_key_requests_for_model: Level,
    remaining_key_tokens_for_model: Level,
    remaining_requests: Level,
    remaining_tokens: Level,
    deployment_success: Count,
    deployment_failure: Count,
    deployment_total: Count,
    deployment_state: Level,
    deployment_cooled_down: Count,
    deployment_tpm_limit: Level,
    deployment_rpm_limit: Level,
    per_output_token: Hist,
    successful_fallbacks: Count,
    failed_fallbacks: Count,
    cache_hits: Count,
    cache_misses: Count,
    cached_tokens: Count,
    callback_failures: Count,
    // The gateway's own.
    in_flight: Gauge<i64>,
    spend_backlog: Gauge<i64>,
    spend_write_seconds: Gauge<f64, AtomicU64>,
    spend_writes: Counter,
    spend_write_errors: Counter,
    callback_queue: Family<Vec<(&'static str, String)>, Gauge<i64>>,
    callback_dropped: Family<Vec<(&'static str, String)>, Counter>,
    /// The SDK client's upstream connections: open now (where the socket table can be read),
    /// and made so far.
    upstream_open: Gauge<i64>,
    upstream_opened: Counter,
    /// LiteLLM's service metrics: Redis, then PostgreSQL.
    services: [ServiceFamilies; 2],
}

/// One service's latency histogram and request counters (`litellm_<service>_*`), labelled by
/// the service's own name as LiteLLM's `PrometheusServicesLogger` labels them.
struct ServiceFamilies {
    name: &'static str,
    latency: RawHist,
    total: RawCount,
    failed: RawCount,
}

impl Metrics {
    pub fn new(end_user: bool, cache_on: bool) -> Metrics {
        Metrics::with_filter(end_user, cache_on, None)
    }

    /// The metrics; `filter`: `prometheus_metrics_config` (which of LiteLLM's metrics are
    /// served, with which labels).
    pub fn with_filter(end_user: bool, cache_on: bool, filter: Option<Filter>) -> Metrics {
        let mut r = Registry::default();
        let hist = || RawHist::new_with_constructor(latency_histogram as fn() -> Histogram);
        let mut known: Vec<&'static str> = Vec::new();
        // LiteLLM's metrics, served unless the filter leaves them out.
        macro_rules! fam {
            ($name:expr, $help:expr, $m:expr) => {{
                let inner = $m;
                known.push($name);
                let (on, keep) = match &filter {
                    None => (true, None),
                    Some(f) => match f.metrics.get($name) {
                        None => (false, None),
                        Some(keep) => (true, keep.clone()),
                    },
                };
                if on {
                    r.register($name, $help, inner.clone());
                }
                Fam::new($name, inner, keep)
            }};
        }
        // llmgate's own, always served.
        macro_rules! reg {
            ($name:expr, $help:expr, $m:expr) => {{
                let m = $m;
                r.register($name, $help, m.clone());
                m
            }};
        }
        let m = Metrics {
            names: std::sync::OnceLock::new(),
            end_user,
            cache_on,
            custom_tags: CustomTags(Vec::new()),
            total_requests: fam!("litellm_proxy_total_requests_metric", "Total number of requests made to the proxy server - track number of client side requests", RawCount::default()),
            failed_requests: fam!("litellm_proxy_failed_requests_metric", "Total number of failed responses from proxy - the client did not get a success response from litellm proxy", RawCount::default()),
            requests: fam!("litellm_requests_metric", "deprecated - use litellm_proxy_total_requests_metric. Total number of LLM calls to litellm - track total per API Key, team, user", RawCount::default()),
            llm_failed: fam!("litellm_llm_api_failed_requests_metric", "deprecated - use litellm_proxy_failed_requests_metric", RawCount::default()),
            total_latency: fam!("litellm_request_total_latency_metric", "Total latency (seconds) for a request to LiteLLM", hist()),
            api_latency: fam!("litellm_llm_api_latency_metric", "Total latency (seconds) for a models LLM API call", hist()),
            ttft: fam!("litellm_llm_api_time_to_first_token_metric", "Time to first token for a models LLM API call", hist()),
            overhead: fam!("litellm_overhead_latency_metric", "Latency overhead (milliseconds) added by LiteLLM processing", hist()),
            spend: fam!("litellm_spend_metric", "Total spend on LLM requests", RawCount::default()),
            total_tokens: fam!("litellm_total_tokens_metric", "Total number of input + output tokens from LLM requests", RawCount::default()),
            input_tokens: fam!("litellm_input_tokens_metric", "Total number of input tokens from LLM requests", RawCount::default()),
            output_tokens: fam!("litellm_output_tokens_metric", "Total number of output tokens from LLM requests", RawCount::default()),
            remaining_team_budget: fam!("litellm_remaining_team_budget_metric", "Remaining budget for team", Family::default()),
            team_max_budget: fam!("litellm_team_max_budget_metric", "Maximum budget set for team", Family::default()),
            remaining_key_budget: fam!("litellm_remaining_api_key_budget_metric", "Remaining budget for api key", Family::default()),
            key_max_budget: fam!("litellm_api_key_max_budget_metric", "Maximum budget set for api key", Family::default()),
            remaining_user_budget: fam!("litellm_remaining_user_budget_metric", "Remaining budget for user", Family::default()),
            user_max_budget: fam!("litellm_user_max_budget_metric", "Maximum budget set for user", Family::default()),
            remaining_org_budget: fam!("litellm_remaining_org_budget_metric", "Remaining budget for organization", Family::default()),
            org_max_budget: fam!("litellm_org_max_budget_metric", "Maximum budget set for organization", Family::default()),
            remaining_key_requests_for_model: fam!("litellm_remaining_api_key_requests_for_model", "Remaining Requests API Key can make for model (model based rpm limit on key)", Family::default()),
            remaining_key_tokens_for_model: fam!("litellm_remaining_api_key_tokens_for_model", "Remaining Tokens API Key can make for model (model based tpm limit on key)", Family::default()),
            remaining_requests: fam!("litellm_remaining_requests_metric", "LLM Deployment Analytics - remaining requests for model, returned from LLM API Provider", Family::default()),
            remaining_tokens: fam!("litellm_remaining_tokens_metric", "remaining tokens for model, returned from LLM API Provider", Family::default()),
            deployment_success: fam!("litellm_deployment_success_responses", "LLM Deployment Analytics - Total number of successful LLM API calls via litellm", RawCount::default()),
            deployment_failure: fam!("litellm_deployment_failure_responses", "LLM Deployment Analytics - Total number of failed LLM API calls for a specific LLM deploymeny. exception_status is the status of the exception from the llm api", RawCount::default()),
            deployment_total: fam!("litellm_deployment_total_requests", "LLM Deployment Analytics - Total number of LLM API calls via litellm - success + failure", RawCount::default()),
            deployment_state: fam!("litellm_deployment_state", "LLM Deployment Analytics - The state of the deployment: 0 = healthy, 1 = partial outage, 2 = complete outage", Family::default()),
            deployment_cooled_down: fam!("litellm_deployment_cooled_down", "LLM Deployment Analytics - Number of times a deployment has been cooled down by LiteLLM load balancing logic. exception_status is the status of the exception that caused the deployment to be cooled down", RawCount::default()),
            deployment_tpm_limit: fam!("litellm_deployment_tpm_limit", "Deployment TPM limit found in config", Family::default()),
            deployment_rpm_limit: fam!("litellm_deployment_rpm_limit", "Deployment RPM limit found in config", Family::default()),
            per_output_token: fam!("litellm_deployment_latency_per_output_token", "LLM Deployment Analytics - Latency per output token", RawHist::new_with_constructor(default_histogram as fn() -> Histogram)),
            successful_fallbacks: fam!("litellm_deployment_successful_fallbacks", "LLM Deployment Analytics - Number of successful fallback requests from primary model -> fallback model", RawCount::default()),
            failed_fallbacks: fam!("litellm_deployment_failed_fallbacks", "LLM Deployment Analytics - Number of failed fallback requests from primary model -> fallback model", RawCount::default()),
            cache_hits: fam!("litellm_cache_hits_metric", "Total number of LiteLLM cache hits", RawCount::default()),
            cache_misses: fam!("litellm_cache_misses_metric", "Total number of LiteLLM cache misses", RawCount::default()),
            cached_tokens: fam!("litellm_cached_tokens_metric", "Total tokens served from LiteLLM cache", RawCount::default()),
            callback_failures: fam!("litellm_callback_logging_failures_metric", "Total number of failures when emitting logs to callbacks (e.g. s3_v2, langfuse, etc)", RawCount::default()),
            in_flight: reg!("llmgate_in_flight_requests", "LLM calls admitted and not yet settled (llmgate)", Gauge::default()),
            spend_backlog: reg!("llmgate_spend_log_backlog", "Spend logs recorded but not yet written to the database (llmgate)", Gauge::default()),
            spend_write_seconds: reg!("llmgate_spend_write_seconds", "Time the last spend-log batch took to write to the database (llmgate)", Gauge::default()),
            spend_writes: reg!("llmgate_spend_writes", "Spend-log batches written to the database (llmgate)", Counter::default()),
            spend_write_errors: reg!("llmgate_spend_write_errors", "Spend-log batch writes the database failed; the batch is retried (llmgate)", Counter::default()),
            callback_queue: reg!("llmgate_callback_queue_size", "Logging-callback events waiting to be sent (llmgate)", Family::default()),
            callback_dropped: reg!("llmgate_callback_dropped_events", "Logging-callback events dropped because the callback's queue was full (llmgate)", Family::default()),
            upstream_open: if llmgate::connections::upstream().open().is_some() {
                reg!("llmgate_upstream_connections", "Connections the gateway's outbound HTTP client holds open now, in use or idle in the pool: LLM providers (and the logging and alert endpoints, which share it) (llmgate)", Gauge::default())
            } else {
                Gauge::default()
            },
            upstream_opened: reg!("llmgate_upstream_connections_opened", "Connections the gateway's outbound HTTP client made, TLS included (llmgate)", Counter::default()),
            services: ["redis", "postgres"].map(|name| {
                let f = ServiceFamilies {
                    name,
                    latency: RawHist::new_with_constructor(latency_histogram as fn() -> Histogram),
                    total: RawCount::default(),
                    failed: RawCount::default(),
                };
                r.register(format!("litellm_{name}_latency"), format!("Latency for {name} service"), f.latency.clone());
                r.register(format!("litellm_{name}_failed_requests"), format!("Total failed_requests for {name} service"), f.failed.clone());
                r.register(format!("litellm_{name}_total_requests"), format!("Total total_requests for {name} service"), f.total.clone());
                f
            }),
            registry: r,
        };
        if let Some(f) = &filter {
            let unknown = f.unknown(&known);
            if !unknown.is_empty() {
                tracing::warn!(
                    metrics = ?unknown,
                    "litellm_settings.prometheus_metrics_config names metrics llmgate does not serve; they are skipped"
                );
            }
        }
        m
    }

    /// One round trip to Redis or PostgreSQL (`observe::services`): a success's latency, a
    /// failure's class and function; both count toward the total, as LiteLLM counts them.
    pub fn service(
        &self,
        service: &str,
        function: &str,
        took: std::time::Duration,
        error: Option<&str>,
    ) {
        let Some(f) = self.services.iter().find(|f| f.name == service) else {
            return;
        };
        let own = vec![(f.name, f.name.to_string())];
        f.total.get_or_create(&own).inc();
        match error {
            None => f.latency.get_or_create(&own).observe(took.as_secs_f64()),
            Some(class) => {
                let labels = vec![
                    (f.name, f.name.to_string()),
                    ("error_class", clean(class)),
                    ("function_name", clean(function)),
                ];
                f.failed.get_or_create(&labels).inc();
            }
        }
    }

    /// With `custom_prometheus_tags`' labels.
    pub fn with_custom_tags(mut self, tags: CustomTags) -> Metrics {
        self.custom_tags = tags;
        self
    }

    /// The label values of an event whose request carried `tags`.
    fn values(&self, tags: &[String]) -> Values<'_> {
        Values {
            extra: self.custom_tags.values(tags),
            ..Values::default()
        }
    }

    /// How requested model names become labels (the deployments' view); the first call wins.
    pub fn set_names(&self, names: Names) {
        let _ = self.names.set(names);
    }

    /// A requested name as a label value ([`Names`]).
    fn name(&self, name: &str) -> Option<String> {
        match self.names.get() {
            Some(f) => f(name),
            None => Some(name.to_string()),
        }
    }

    /// A call was admitted (in flight until it settles).
    pub fn admitted(&self) {
        self.in_flight.inc();
    }

    /// One call's end: request, latency, token, spend, budget and cache metrics.
    pub fn call(&self, ev: &CallEvent<'_>) {
        self.in_flight.dec();
        // A name no group has is raw client input: not a label value.
        let unknown = matches!(
            ev.status,
            Status::Failure(crate::error::GatewayError::UnknownModel { .. })
        );
        let asked = (!unknown).then(|| self.name(ev.requested_model)).flatten();
        let mut v = self.values(ev.tags);
        v.caller(&ev.caller, self.end_user)
            .set("route", Some(ev.route));
        if let Some(a) = asked {
            v.own("requested_model", a.clone()).own("model_group", a);
        }
        if let Some(d) = ev.deployment {
            v.set("model", Some(d.bare_model()))
                .set("litellm_model_name", Some(d.bare_model()))
                .set("model_id", Some(&d.id))
                .set("api_base", Some(&d.api_base))
                .set("api_provider", Some(&d.provider));
        }
        let code = ev.status.code().to_string();
        v.own("status_code", code.clone());
        self.total_requests.at(&v.labels(TOTAL_REQUESTS)).inc();
        if !ev.status.is_success() {
            v.own("exception_status", code);
            if let Some(c) = ev.status.exception_class() {
                v.own("exception_class", c);
            }
            self.failed_requests.at(&v.labels(FAILED_REQUESTS)).inc();
            self.llm_failed.at(&v.labels(LLM_FAILED)).inc();
            return;
        }
        self.requests.at(&v.labels(SPEND)).inc();
        self.spend.at(&v.labels(SPEND)).inc_by(ev.cost);
        let u = ev.usage;
        let tokens = |f: fn(&llmgate::Usage) -> u64| u.map(f).unwrap_or(0) as f64;
        let labels = v.labels(TOKENS);
        self.total_tokens
            .at(&labels)
            .inc_by(tokens(|u| u.total_tokens));
        self.input_tokens
            .at(&labels)
            .inc_by(tokens(|u| u.prompt_tokens));
        self.output_tokens
            .at(&labels)
            .inc_by(tokens(|u| u.completion_tokens));
        let total = ev.total_latency().as_secs_f64();
        self.total_latency
            .at(&v.labels(TOTAL_LATENCY))
            .observe(total);
        if let Some(api) = ev.llm_api_latency() {
            let api = api.as_secs_f64();
            self.api_latency.at(&v.labels(API_LATENCY)).observe(api);
            self.overhead
                .at(&v.labels(OVERHEAD))
                .observe((total - api).max(0.0));
            let out = tokens(|u| u.completion_tokens);
            if out > 0.0 {
                let basis = ev.time_to_first_token().map_or(api, |t| t.as_secs_f64());
                self.per_output_token
                    .at(&v.labels(PER_TOKEN))
                    .observe(basis / out);
            }
        }
        if let Some(t) = ev.time_to_first_token() {
            self.ttft
                .at(&v.labels(API_LATENCY))
                .observe(t.as_secs_f64());
        }
        self.rate_limit_headers(ev, &v);
        self.budgets(&ev.caller, &v);
        self.key_model_limits(ev);
        if ev.cache_hit {
            let labels = v.labels(CACHE);
            self.cache_hits.at(&labels).inc();
            let t = tokens(|u| u.total_tokens);
            if t > 0.0 {
                self.cached_tokens.at(&labels).inc_by(t);
            }
        } else if self.cache_on {
            self.cache_misses.at(&v.labels(CACHE)).inc();
        }
    }

    /// The upstream's `x-ratelimit-remaining-*` headers, as LiteLLM's deployment gauges.
    fn rate_limit_headers(&self, ev: &CallEvent<'_>, v: &Values<'_>) {
        for (name, value) in ev.upstream_headers {
            let gauge = match name.as_str() {
                "x-ratelimit-remaining-requests" => &self.remaining_requests,
                "x-ratelimit-remaining-tokens" => &self.remaining_tokens,
                _ => continue,
            };
            if let Ok(n) = value.parse::<f64>() {
                gauge.at(&v.labels(OVERHEAD)).set(n);
            }
        }
    }

    /// What the key's per-model rpm/tpm limits leave for the call's model group, as LiteLLM's
    /// `_set_virtual_key_rate_limit_metrics` (`sys.maxsize` without a limit).
    fn key_model_limits(&self, ev: &CallEvent<'_>) {
        let c = &ev.caller;
        if c.key.is_none() {
            return;
        }
        let none = || "None".to_string();
        let labels: Labels = vec![
            ("hashed_api_key", c.key_hash.map_or_else(none, clean)),
            ("api_key_alias", c.key_alias().map_or_else(none, clean)),
            (
                "model",
                self.name(ev.model_group).map_or_else(none, |m| clean(&m)),
            ),
            (
                "model_id",
                ev.deployment.map_or_else(none, |d| clean(&d.id)),
            ),
        ];
        let (req, tok) = c.model_remaining;
        let value = |n: Option<i64>| n.map_or(UNLIMITED, |n| n as f64);
        self.remaining_key_requests_for_model
            .at(&labels)
            .set(value(req));
        self.remaining_key_tokens_for_model
            .at(&labels)
            .set(value(tok));
    }

    /// Remaining and maximum budgets of the key, team, user and organization, after the call.
    fn budgets(&self, c: &Caller<'_>, v: &Values<'_>) {
        // Remaining (infinite without a budget) and, with one, the budget itself.
        let set =
            |remaining: &Level, max_gauge: &Level, names, max: Option<f64>, spend: Option<f64>| {
                let labels = v.labels(names);
                let left = max.map_or(f64::INFINITY, |m| m - spend.unwrap_or(0.0));
                remaining.at(&labels).set(left);
                if let Some(m) = max {
                    max_gauge.at(&labels).set(m);
                }
            };
        if let Some(k) = c.key {
            let (r, m) = (&self.remaining_key_budget, &self.key_max_budget);
            set(r, m, KEY_BUDGET, k.max_budget, c.key_spend);
        }
        if let Some(t) = c.team {
            let (r, m) = (&self.remaining_team_budget, &self.team_max_budget);
            set(r, m, TEAM_BUDGET, t.max_budget, c.team_spend);
        }
        if let Some(u) = c.user {
            let (r, m) = (&self.remaining_user_budget, &self.user_max_budget);
            set(r, m, USER_BUDGET, u.max_budget, c.user_spend);
        }
        if let Some(o) = c.org {
            let mut ov = Values {
                extra: v.extra.clone(),
                ..Values::default()
            };
            ov.set("org_id", Some(&o.organization_id))
                .set("org_alias", Some(&o.organization_alias));
            let labels = ov.labels(ORG_BUDGET);
            let max = c.org_max_budget;
            let left = max.map_or(f64::INFINITY, |m| m - c.org_spend.unwrap_or(0.0));
            self.remaining_org_budget.at(&labels).set(left);
            if let Some(m) = max {
                self.org_max_budget.at(&labels).set(m);
            }
        }
    }

    /// One upstream attempt: the deployment's success/failure/total counters and its state
    /// (0 healthy, 1 partial outage, 2 complete outage: cooling down).
    pub fn attempt(&self, ev: &AttemptEvent<'_>) {
        let d = ev.deployment;
        let mut v = self.values(&[]);
        v.caller(&ev.caller, self.end_user)
            .set("litellm_model_name", Some(d.bare_model()))
            .set("model_id", Some(&d.id))
            .set("api_base", Some(&d.api_base))
            .set("api_provider", Some(&d.provider));
        if let Some(m) = self.name(ev.requested_model) {
            v.own("requested_model", m);
        }
        let state = match ev.error {
            None => {
                self.deployment_success.at(&v.labels(DEPLOYMENT)).inc();
                // The deployment's configured limits, as LiteLLM sets them on a success.
                let p = &d.entry.litellm_params;
                if let Some(t) = p.tpm {
                    self.deployment_tpm_limit
                        .at(&v.labels(DEPLOYMENT_LIMIT))
                        .set(t as f64);
                }
                if let Some(r) = p.rpm {
                    self.deployment_rpm_limit
                        .at(&v.labels(DEPLOYMENT_LIMIT))
                        .set(r as f64);
                }
                0.0
            }
            Some(e) => {
                v.own("exception_status", e.status.to_string())
                    .own("exception_class", llm_exception_class(e));
                self.deployment_failure
                    .at(&v.labels(DEPLOYMENT_FAILURE))
                    .inc();
                if ev.cooled_down {
                    self.deployment_cooled_down.at(&v.labels(COOLED_DOWN)).inc();
                    2.0
                } else {
                    1.0
                }
            }
        };
        self.deployment_total.at(&v.labels(DEPLOYMENT)).inc();
        self.deployment_state
            .at(&v.labels(DEPLOYMENT_STATE))
            .set(state);
    }

    pub fn fallback(&self, ev: &FallbackEvent<'_>) {
        let mut v = self.values(&[]);
        v.caller(&ev.caller, self.end_user);
        for (k, name) in [("requested_model", ev.from), ("fallback_model", ev.to)] {
            if let Some(n) = self.name(name) {
                v.own(k, n);
            }
        }
        v.own("exception_status", ev.original.status.to_string())
            .own("exception_class", llm_exception_class(ev.original));
        let family = if ev.success {
            &self.successful_fallbacks
        } else {
            &self.failed_fallbacks
        };
        family.at(&v.labels(FALLBACK)).inc();
    }

    /// A request refused before any call: counted as a failed proxy request (LiteLLM's
    /// failure hook), except a 401, which LiteLLM leaves out.
    pub fn rejected(&self, ev: &Rejected<'_>) {
        let code = ev.error.status();
        if code == 401 {
            return;
        }
        let mut v = self.values(&[]);
        v.caller(&ev.caller, self.end_user)
            .set("route", Some(ev.route))
            .own("status_code", code.to_string())
            .own("exception_status", code.to_string())
            .own("exception_class", super::event::exception_class(ev.error));
        if let Some(m) = ev.requested_model.and_then(|m| self.name(m)) {
            v.own("requested_model", m);
        }
        self.total_requests.at(&v.labels(TOTAL_REQUESTS)).inc();
        self.failed_requests.at(&v.labels(FAILED_REQUESTS)).inc();
    }

    /// A logging callback could not deliver a batch.
    pub fn callback_failed(&self, name: &str) {
        self.callback_failures
            .at(&vec![("callback_name", clean(name))])
            .inc();
    }

    pub fn callback_queue(&self, name: &str, len: usize, dropped: u64) {
        let labels = vec![("callback", clean(name))];
        self.callback_queue.get_or_create(&labels).set(len as i64);
        let c = self.callback_dropped.get_or_create(&labels);
        let seen = c.get();
        if dropped > seen {
            c.inc_by(dropped - seen);
        }
    }

    /// The text exposition (OpenMetrics), with the values read at scrape time set first.
    pub fn render(&self, spend: Option<SpendState>) -> String {
        let backlog = spend.as_ref().map_or(0, |s| s.backlog);
        self.spend_backlog
            .set(backlog.min(i64::MAX as usize) as i64);
        if let Some(s) = spend {
            self.spend_write_seconds.set(s.last_write.as_secs_f64());
            let catch_up = |c: &Counter, to: u64| {
                let seen = c.get();
                if to > seen {
                    c.inc_by(to - seen);
                }
            };
            catch_up(&self.spend_writes, s.batches);
            catch_up(&self.spend_write_errors, s.failures);
        }
        let up = llmgate::connections::upstream();
        if let Some(n) = up.open() {
            self.upstream_open.set(n.min(i64::MAX as usize) as i64);
        }
        let (made, seen) = (up.opened(), self.upstream_opened.get());
        if made > seen {
            self.upstream_opened.inc_by(made - seen);
        }
        let mut out = String::new();
        if let Err(e) = encode(&mut out, &self.registry) {
            tracing::error!(error = %e, "cannot encode the metrics");
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn label_values_are_escaped_and_missing_ones_are_none() {
        assert_eq!(clean("a\"b\\c\nd\r\u{2028}"), "a\\\"b\\\\c d");
        let mut v = Values::default();
        v.set("team", Some("t\"1")).own("status_code", "200".into());
        assert_eq!(
            v.labels(&["team", "status_code", "user"]),
            vec![
                ("team", "t\\\"1".to_string()),
                ("status_code", "200".to_string()),
                ("user", "None".to_string())
            ]
        );
    }

    #[test]
    fn a_metric_holds_at_most_max_series_label_sets() {
        let f: Count = Fam::new("t", RawCount::default(), None);
        for i in 0..MAX_SERIES + 5 {
            f.at(&vec![("user", i.to_string())]).inc();
        }
        f.at(&vec![("user", "0".to_string())]).inc();
        assert_eq!(f.series.load(Ordering::Relaxed), MAX_SERIES);
        let get = |v: &str| f.inner.get(&vec![("user", v.to_string())]).map(|c| c.get());
        assert_eq!(get("__overflow__"), Some(5.0));
        assert_eq!(get("0"), Some(2.0));
        assert_eq!(get(&MAX_SERIES.to_string()), None);
    }

    #[test]
    fn the_exposition_names_litellms_series() {
        let m = Metrics::new(false, false);
        m.admitted();
        let text = m.render(None);
        assert!(text.contains("# TYPE llmgate_in_flight_requests gauge"));
        assert!(text.contains("llmgate_in_flight_requests 1"));
        assert!(text.contains("llmgate_spend_log_backlog 0"));
        assert!(text.ends_with("# EOF\n"));
    }
}
