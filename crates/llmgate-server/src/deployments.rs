//! Deployments: the config's `model_list` entries, ready to call, grouped by public name.

// foldhash, not SipHash: these maps are read on every request and keyed by config or hashes.
use hashbrown::HashMap;
use std::sync::Arc;
use std::time::Duration;

use llmgate::catalog::{self, ModelInfo};
use llmgate::router::{InFlight, Member, Pick, Registry, Router};
use llmgate::CallOptions;
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::config::{Config, ModelEntry};

pub struct Deployment {
    /// Stable id (`model_info.id`, or a hash of the entry): `x-litellm-model-id`.
    pub id: String,
    /// The public name clients ask for (`model_name`).
    pub model_name: String,
    /// The SDK model string (`litellm_params.model`).
    pub model: String,
    pub opts: CallOptions,
    /// Where calls go, for `x-litellm-model-api-base` and spend logs (credentials hidden).
    pub api_base: String,
    /// Catalog facts with the deployment's price overrides applied.
    pub info: Option<ModelInfo>,
    pub max_retries: Option<u32>,
    pub entry: ModelEntry,
    /// The provider LiteLLM names in logs (`openai`, `anthropic`, ...).
    pub provider: String,
    /// Added through `/model/new` (stored in `LiteLLM_ProxyModelTable`), not in the config.
    pub db_model: bool,
    /// The provider takes `stream_options` (else no usage is asked of a stream on the
    /// gateway's own behalf, as LiteLLM's proxy asks none).
    pub takes_stream_options: bool,
    /// Request parameters the deployment sets for every call that does not set them itself
    /// (`temperature`, `max_tokens`, `extra_body`, ... in `litellm_params`, as LiteLLM).
    pub defaults: Map<String, Value>,
}

/// `litellm_params` keys that are request parameters (defaults for every call), not settings
/// of the provider.
pub const REQUEST_DEFAULTS: &[&str] = &[
    "temperature",
    "max_tokens",
    "max_completion_tokens",
    "top_p",
    "top_k",
    "stop",
    "seed",
    "n",
    "presence_penalty",
    "frequency_penalty",
    "response_format",
    "reasoning_effort",
    "thinking",
    "tools",
    "tool_choice",
    "user",
    "logprobs",
    "top_logprobs",
    "logit_bias",
    "parallel_tool_calls",
    "extra_body",
    "metadata",
];

/// `litellm_params` keys only the router reads (never sent to the provider).
const ROUTING_ONLY: &[&str] = &["weight", "order", "tags", "cooldown_time", "base_model"];

impl Deployment {
    fn build(
        entry: &ModelEntry,
        cfg: &Config,
        client: &llmgate::Client,
        db_model: bool,
    ) -> Deployment {
        let p = &entry.litellm_params;
        let secs = |s: f64| Duration::from_secs_f64(s);
        let opts = CallOptions {
            api_base: p.api_base.clone(),
            api_key: p.api_key.as_ref().map(|k| k.expose().to_string()),
            api_version: p.api_version.clone(),
            organization: p.organization.clone(),
            timeout: p
                .timeout
                .or(cfg.litellm_settings.request_timeout)
                .or(cfg.router_settings.timeout)
                .map(secs),
            stream_timeout: p
                .stream_timeout
                .or_else(|| {
                    let v = cfg.router_settings.extra.get("stream_timeout")?;
                    v.as_f64().or_else(|| v.as_str()?.parse().ok())
                })
                .filter(|s| s.is_finite() && *s > 0.0)
                .map(secs),
            extra_headers: p
                .extra_headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            drop_params: p.drop_params.unwrap_or(cfg.litellm_settings.drop_params),
            mock_response: p.mock_response.clone(),
            extra: p
                .extra
                .iter()
                .filter(|(k, _)| {
                    !REQUEST_DEFAULTS.contains(&k.as_str()) && !ROUTING_ONLY.contains(&k.as_str())
                })
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
        };
        let defaults = p
            .extra
            .iter()
            .filter(|(k, _)| REQUEST_DEFAULTS.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        let info = price_info(entry);
        let api_base = if opts.mock_response.is_some() {
            p.api_base.clone().unwrap_or_default()
        } else {
            client.api_base(&p.model, &opts).unwrap_or_default()
        };
        // Shown in headers and logs: never with credentials in it.
        let api_base = crate::config::display_url(&api_base);
        let adapter = llmgate::providers::resolve(&p.model, None).ok();
        Deployment {
            id: entry.model_info.id.clone().unwrap_or_else(|| {
                model_id(&entry.model_name, &p.model, &p.extra, p.api_base.as_deref())
            }),
            model_name: entry.model_name.clone(),
            model: p.model.clone(),
            opts,
            api_base,
            info,
            max_retries: p.max_retries,
            entry: entry.clone(),
            takes_stream_options: adapter
                .as_ref()
                .is_some_and(|r| r.provider.takes_stream_options()),
            provider: adapter
                .as_ref()
                .map(|r| r.provider.name().to_string())
                .unwrap_or_else(|| {
                    p.model
                        .split_once('/')
                        .map(|(a, _)| a)
                        .unwrap_or("")
                        .to_string()
                }),
            db_model,
            defaults,
        }
    }

    /// A target that is not served by the SDK (an A2A agent), described as a model-list
    /// entry so that it is priced (`input/output_cost_per_token`) and logged as a deployment
    /// is; `api_base` is where its calls go.
    pub fn for_target(
        entry: &ModelEntry,
        cfg: &Config,
        client: &llmgate::Client,
        api_base: &str,
    ) -> Deployment {
        let mut d = Deployment::build(entry, cfg, client, false);
        d.api_base = crate::config::display_url(api_base);
        d
    }

    /// How the router sees the deployment.
    fn route_params(&self) -> llmgate::router::Params {
        let e = &self.entry;
        let mut p = match serde_json::to_value(&e.litellm_params) {
            Ok(Value::Object(m)) => m,
            _ => Map::new(),
        };
        p.insert("model".into(), Value::String(self.model.clone()));
        let mut info = e.model_info.extra.clone();
        for (k, v) in [
            ("input_cost_per_token", e.model_info.input_cost_per_token),
            ("output_cost_per_token", e.model_info.output_cost_per_token),
        ] {
            if let Some(v) = v {
                info.insert(k.into(), Value::from(v));
            }
        }
        let mut r =
            llmgate::router::Params::from_entry(&self.id, &self.model_name, &p, &info, &e.extra);
        // The catalog entry the deployment is priced by (its own, else `base_model`'s).
        if let Some(i) = &self.info {
            r.input_cost = r.input_cost.or(i.input_cost_per_token);
            r.output_cost = r.output_cost.or(i.output_cost_per_token);
            r.max_input_tokens = r.max_input_tokens.or(i.max_input_tokens);
        }
        r
    }

    /// The model without its provider prefix, as LiteLLM's spend logs name it.
    pub fn bare_model(&self) -> &str {
        self.model
            .strip_prefix(self.provider.as_str())
            .and_then(|m| m.strip_prefix('/'))
            .unwrap_or(&self.model)
    }

    /// Cost of a call from its usage; None when the model has no price.
    pub fn cost(&self, usage: &llmgate::Usage) -> Option<f64> {
        let info = self.info.as_ref()?;
        catalog::cost(
            info,
            &catalog::CostInput {
                prompt_tokens: usage.prompt_tokens,
                completion_tokens: usage.completion_tokens,
                cached_tokens: usage.cached_tokens(),
                cache_creation_tokens: usage
                    .extra
                    .get("cache_creation_input_tokens")
                    .and_then(Value::as_u64)
                    .unwrap_or(0),
                reasoning_tokens: usage.reasoning_tokens(),
                search_units: usage
                    .extra
                    .get(llmgate::SEARCH_UNITS)
                    .and_then(Value::as_u64),
            },
        )
    }

    /// Cost of one answer of a finished batch: the batch prices, else half the token prices
    /// (LiteLLM's `batch_cost_calculator`); None when the model has no price.
    pub fn batch_cost(&self, usage: &llmgate::Usage) -> Option<f64> {
        catalog::batch_cost(
            self.info.as_ref()?,
            usage.prompt_tokens,
            usage.completion_tokens,
        )
    }
}

/// The catalog entry for the deployment's model, with `input_cost_per_token` /
/// `output_cost_per_token` from litellm_params or model_info taking precedence.
fn price_info(entry: &ModelEntry) -> Option<ModelInfo> {
    let p = &entry.litellm_params;
    let cat = catalog::global();
    // `model_info.base_model` prices a deployment whose own name the catalog does not know
    // (an Azure deployment name), as LiteLLM does.
    let base_model = entry
        .model_info
        .extra
        .get("base_model")
        .or(p.extra.get("base_model"))
        .and_then(Value::as_str);
    let base = base_model
        .and_then(|b| cat.get(b))
        .cloned()
        .or_else(|| ollama_price(&cat, &p.model))
        .or_else(|| cat.get(&p.model).cloned());
    let input = p
        .input_cost_per_token
        .or(entry.model_info.input_cost_per_token);
    let output = p
        .output_cost_per_token
        .or(entry.model_info.output_cost_per_token);
    // The media units' and batches' prices a deployment sets (litellm_params over model_info).
    let media: Vec<(&str, f64)> = UNIT_PRICES
        .iter()
        .filter_map(|k| {
            let v = p.extra.get(*k).or(entry.model_info.extra.get(*k))?;
            Some((*k, v.as_f64()?))
        })
        .collect();
    if input.is_none() && output.is_none() && media.is_empty() {
        return base;
    }
    let mut info = base.unwrap_or_else(|| ModelInfo::unpriced(&p.model));
    for (k, v) in media {
        info.prices.set(k, v);
    }
    // A deployment's own token price is its batch price's base too (half of it), unless it
    // sets a batch price as well: the catalog's batch row is for the catalog's token price.
    let sets = |k: &str| p.extra.contains_key(k) || entry.model_info.extra.contains_key(k);
    if input.is_some() {
        info.input_cost_per_token = input;
        if !sets("input_cost_per_token_batches") {
            info.input_cost_per_token_batches = None;
        }
    }
    if output.is_some() {
        info.output_cost_per_token = output;
        if !sets("output_cost_per_token_batches") {
            info.output_cost_per_token_batches = None;
        }
    }
    Some(info)
}

/// Price keys of the media endpoints and the Batches API a deployment may set in
/// `litellm_params` or `model_info`, as LiteLLM reads them.
pub const UNIT_PRICES: &[&str] = &[
    "input_cost_per_second",
    "output_cost_per_second",
    "input_cost_per_image",
    "output_cost_per_image",
    "input_cost_per_pixel",
    "input_cost_per_character",
    "input_cost_per_image_token",
    "output_cost_per_image_token",
    // Realtime sessions' audio tokens.
    "input_cost_per_audio_token",
    "output_cost_per_audio_token",
    // A finished batch's answers (`routes/files/batches.rs`).
    "input_cost_per_token_batches",
    "output_cost_per_token_batches",
];

/// LiteLLM prices every Ollama model at 0 (self-hosted): `ollama_chat/x` as `ollama/x`, and a
/// model its map lacks as free too. None for other providers.
fn ollama_price(cat: &catalog::Catalog, model: &str) -> Option<ModelInfo> {
    let rest = model
        .strip_prefix("ollama_chat/")
        .or_else(|| model.strip_prefix("ollama/"))?;
    cat.get(&format!("ollama/{rest}")).cloned().or_else(|| {
        let mut free = ModelInfo::unpriced(model);
        free.input_cost_per_token = Some(0.0);
        free.output_cost_per_token = Some(0.0);
        Some(free)
    })
}

/// A stable id for an entry without `model_info.id`: the same config gives the same ids on
/// every instance and restart, so headers and logs agree across a fleet.
fn model_id(
    model_name: &str,
    model: &str,
    extra: &Map<String, Value>,
    api_base: Option<&str>,
) -> String {
    let mut h = Sha256::new();
    h.update(model_name.as_bytes());
    h.update([0]);
    h.update(model.as_bytes());
    h.update([0]);
    h.update(api_base.unwrap_or("").as_bytes());
    h.update([0]);
    h.update(serde_json::to_vec(extra).unwrap_or_default());
    let digest = h.finalize();
    digest.iter().map(|b| format!("{b:02x}")).collect()
}

/// All deployments, by public name, plus wildcard routes (`openai/*`, `*`), and the router
/// that picks among them.
pub struct Deployments {
    by_name: HashMap<String, Vec<Arc<Deployment>>>,
    /// Public names in config order, for `/models`.
    names: Vec<String>,
    /// `(prefix before '*', deployments)`, longest prefix first.
    wildcards: Vec<(String, Vec<Arc<Deployment>>)>,
    all: Vec<Arc<Deployment>>,
    router: Router<Deployment>,
    /// Team models (`/model/new` with `model_info.team_id`): team -> public name -> the
    /// internal group name they are stored under (two lookups, no key to build per request).
    team_models: HashMap<String, HashMap<String, String>>,
}

/// What every rebuilt model list's router shares: its settings, and the deployments' stats
/// (cooldowns, usage, latency), which outlive a reload.
#[derive(Clone)]
pub struct RouterParts {
    pub settings: Arc<llmgate::router::Settings>,
    pub registry: Arc<Registry>,
}

impl RouterParts {
    pub fn new(cfg: &Config) -> RouterParts {
        // Checked when the config was loaded; a config built in code may skip that.
        let settings = crate::config::router::settings(cfg).unwrap_or_else(|(f, e)| {
            tracing::error!(field = %f, error = %e, "router settings ignored");
            llmgate::router::Settings::default()
        });
        RouterParts {
            settings: Arc::new(settings),
            registry: Arc::default(),
        }
    }
}

impl Deployments {
    pub fn from_config(cfg: &Config, client: &llmgate::Client) -> Deployments {
        Deployments::build(cfg, client, &[], &RouterParts::new(cfg))
    }

    /// The config's entries followed by the database's (`/model/new`).
    pub fn build(
        cfg: &Config,
        client: &llmgate::Client,
        db_models: &[ModelEntry],
        parts: &RouterParts,
    ) -> Deployments {
        let mut by_name: HashMap<String, Vec<Arc<Deployment>>> = HashMap::new();
        let mut names = Vec::new();
        let mut wildcards: Vec<(String, Vec<Arc<Deployment>>)> = Vec::new();
        let mut all = Vec::new();
        let entries = cfg
            .model_list
            .iter()
            .map(|e| (e, false))
            .chain(db_models.iter().map(|e| (e, true)));
        for (entry, db_model) in entries {
            let dep = Arc::new(Deployment::build(entry, cfg, client, db_model));
            all.push(dep.clone());
            if let Some(prefix) = entry.model_name.strip_suffix('*') {
                match wildcards.iter_mut().find(|(p, _)| p == prefix) {
                    Some((_, v)) => v.push(dep),
                    None => wildcards.push((prefix.to_string(), vec![dep])),
                }
                continue;
            }
            if !by_name.contains_key(&entry.model_name) {
                names.push(entry.model_name.clone());
            }
            by_name
                .entry(entry.model_name.clone())
                .or_default()
                .push(dep);
        }
        wildcards.sort_by_key(|w| std::cmp::Reverse(w.0.len()));
        let mut team_models: HashMap<String, HashMap<String, String>> = HashMap::new();
        for d in &all {
            let info = &d.entry.model_info.extra;
            let team = info.get("team_id").and_then(Value::as_str);
            let public = info.get("team_public_model_name").and_then(Value::as_str);
            if let (Some(t), Some(p)) = (team, public) {
                team_models
                    .entry(t.to_string())
                    .or_default()
                    .insert(p.to_string(), d.model_name.clone());
            }
        }
        let router = Router::new(
            parts.settings.clone(),
            parts.registry.clone(),
            all.iter().map(|d| (d.clone(), d.route_params())),
        );
        Deployments {
            by_name,
            names,
            wildcards,
            all,
            router,
            team_models,
        }
    }

    /// The internal group of `team`'s model named `name` (LiteLLM's team models).
    pub fn team_group(&self, team: &str, name: &str) -> Option<&str> {
        self.team_models.get(team)?.get(name).map(String::as_str)
    }

    /// The public names of `team`'s own models.
    pub fn team_public_names(&self, team: &str) -> Vec<String> {
        let mut v: Vec<String> = self
            .team_models
            .get(team)
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        v.sort();
        v
    }

    pub fn router(&self) -> &Router<Deployment> {
        &self.router
    }

    /// Whether `access_group` (a `model_info.access_groups` entry) includes the public
    /// model `name`.
    pub fn in_access_group(&self, access_group: &str, name: &str) -> bool {
        self.group(name).is_some_and(|deps| {
            deps.iter().any(|d| {
                d.entry
                    .model_info
                    .extra
                    .get("access_groups")
                    .and_then(|g| g.as_array())
                    .is_some_and(|g| g.iter().any(|g| g.as_str() == Some(access_group)))
            })
        })
    }

    /// Every `model_info.access_groups` name, in config order.
    pub fn access_groups(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for d in &self.all {
            let groups = d.entry.model_info.extra.get("access_groups");
            for g in groups.and_then(|g| g.as_array()).into_iter().flatten() {
                if let Some(g) = g.as_str().filter(|g| !out.iter().any(|o| o == g)) {
                    out.push(g.to_string());
                }
            }
        }
        out
    }

    /// Public names in config order, then the visible `model_group_alias` names; a group
    /// whose every deployment is blocked is not listed.
    pub fn names(&self) -> Vec<String> {
        let blocked = |n: &str| {
            self.router
                .members(n)
                .is_some_and(|(g, _)| g.iter().all(|m| m.params.blocked))
        };
        let mut out: Vec<String> = self.names.iter().filter(|n| !blocked(n)).cloned().collect();
        let mut aliases: Vec<&String> = self
            .router
            .settings()
            .aliases
            .iter()
            .filter(|(a, (g, hidden))| {
                !hidden
                    && !self.by_name.contains_key(*a)
                    && self.by_name.contains_key(g)
                    && !blocked(g)
            })
            .map(|(a, _)| a)
            .collect();
        aliases.sort();
        out.extend(aliases.into_iter().cloned());
        out
    }

    pub fn all(&self) -> &[Arc<Deployment>] {
        &self.all
    }

    /// Whether every deployment serving `name` takes `stream_options` (LiteLLM's proxy asks a
    /// stream's usage only then); true for a name served by a wildcard route.
    pub fn take_stream_options(&self, name: &str) -> bool {
        self.group(name)
            .is_none_or(|g| g.iter().all(|d| d.takes_stream_options))
    }

    /// The deployments of the group `name` stands for (a `model_group_alias` resolved).
    pub fn group(&self, name: &str) -> Option<&[Arc<Deployment>]> {
        let name = self.router.resolve(name);
        self.by_name.get(name).map(|v| v.as_slice())
    }

    /// `name` as a metric label: itself when a group or alias has it, the wildcard route's
    /// pattern (`openai/*`) when only a wildcard serves it, None when nothing does — never a
    /// name the client made up.
    pub fn metric_name(&self, name: &str) -> Option<String> {
        let resolved = self.router.resolve(name);
        if self.by_name.contains_key(resolved) {
            return Some(name.to_string());
        }
        self.wildcard(resolved)
            .map(|(prefix, _)| format!("{prefix}*"))
    }

    /// The longest wildcard route whose prefix `name` (already resolved) starts with.
    fn wildcard(&self, name: &str) -> Option<(&str, &[Arc<Deployment>])> {
        self.wildcards
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix.as_str()))
            .map(|(prefix, group)| (prefix.as_str(), group.as_slice()))
    }

    /// A deployment serving `name`, for what any of them can tell (a price estimate, a
    /// setting): not a routing decision, so nothing is counted. For a wildcard route the `*`
    /// takes the requested name's tail.
    pub fn peek(&self, name: &str) -> Option<(Arc<Deployment>, String)> {
        let name = self.router.resolve(name);
        if let Some(d) = self.by_name.get(name).and_then(|g| g.first()) {
            return Some((d.clone(), d.model.clone()));
        }
        let (prefix, group) = self.wildcard(name)?;
        let d = group.first()?;
        let tail = &name[prefix.len()..];
        let model = match d.model.strip_suffix('*') {
            Some(head) => format!("{head}{tail}"),
            None => d.model.clone(),
        };
        Some((d.clone(), model))
    }
}

/// The router's view of the attempt that answered: in flight until the last copy of the
/// call's meta is dropped (a stream's end), and the latency and tokens fed back to it.
pub struct Routed {
    member: Arc<Member<Deployment>>,
    started: std::time::Instant,
    /// Samples kept (0: latency not tracked, nothing recorded).
    max_samples: usize,
    /// Tokens are counted (the deployment's usage is read by something).
    tracks_usage: bool,
    first_token: std::sync::atomic::AtomicBool,
    _in_flight: InFlight,
}

impl Routed {
    pub fn new(
        pick: Pick<Deployment>,
        started: std::time::Instant,
        router: &Router<Deployment>,
    ) -> Routed {
        let max_samples = if router.tracks_latency() {
            router.settings().latency.max_samples
        } else {
            0
        };
        Routed {
            tracks_usage: router.tracks_usage(&pick.member.params),
            member: pick.member.clone(),
            started,
            max_samples,
            first_token: Default::default(),
            _in_flight: pick.into_guard(),
        }
    }

    /// A stream's first chunk: its time to first token is the deployment's latency.
    pub fn first_token(&self) {
        if self.max_samples > 0
            && !self
                .first_token
                .swap(true, std::sync::atomic::Ordering::Relaxed)
        {
            let secs = self.started.elapsed().as_secs_f64();
            self.member.stats.record_latency(
                llmgate::router::stats::now_ms(),
                secs,
                self.max_samples,
            );
        }
    }

    /// Tokens the call used, for usage-based routing.
    pub fn tokens(&self, n: u64) {
        if !self.tracks_usage {
            return;
        }
        self.member
            .stats
            .count_tokens(llmgate::router::stats::now_ms(), n);
    }
}
