//! Deployments: the config's `model_list` entries, ready to call, grouped by public name.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use llmgate::catalog::{self, ModelInfo};
use llmgate::CallOptions;
use rand::Rng;
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
}

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
            stream_timeout: p.stream_timeout.map(secs),
            extra_headers: p
                .extra_headers
                .iter()
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect(),
            drop_params: p.drop_params.unwrap_or(cfg.litellm_settings.drop_params),
            mock_response: p.mock_response.clone(),
            extra: p.extra.clone(),
        };
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
        }
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
            },
        )
    }
}

/// The catalog entry for the deployment's model, with `input_cost_per_token` /
/// `output_cost_per_token` from litellm_params or model_info taking precedence.
fn price_info(entry: &ModelEntry) -> Option<ModelInfo> {
    let p = &entry.litellm_params;
    let cat = catalog::global();
    let base = cat.get(&p.model).cloned();
    let input = p
        .input_cost_per_token
        .or(entry.model_info.input_cost_per_token);
    let output = p
        .output_cost_per_token
        .or(entry.model_info.output_cost_per_token);
    if input.is_none() && output.is_none() {
        return base;
    }
    let mut info = base.unwrap_or_else(|| ModelInfo::unpriced(&p.model));
    if input.is_some() {
        info.input_cost_per_token = input;
    }
    if output.is_some() {
        info.output_cost_per_token = output;
    }
    Some(info)
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

/// All deployments, by public name, plus wildcard routes (`openai/*`, `*`).
#[derive(Default)]
pub struct Deployments {
    by_name: HashMap<String, Vec<Arc<Deployment>>>,
    /// Public names in config order, for `/models`.
    names: Vec<String>,
    /// `(prefix before '*', deployments)`, longest prefix first.
    wildcards: Vec<(String, Vec<Arc<Deployment>>)>,
    all: Vec<Arc<Deployment>>,
}

impl Deployments {
    pub fn from_config(cfg: &Config, client: &llmgate::Client) -> Deployments {
        Deployments::build(cfg, client, &[])
    }

    /// The config's entries followed by the database's (`/model/new`).
    pub fn build(cfg: &Config, client: &llmgate::Client, db_models: &[ModelEntry]) -> Deployments {
        let mut d = Deployments::default();
        let entries = cfg
            .model_list
            .iter()
            .map(|e| (e, false))
            .chain(db_models.iter().map(|e| (e, true)));
        for (entry, db_model) in entries {
            let dep = Arc::new(Deployment::build(entry, cfg, client, db_model));
            d.all.push(dep.clone());
            if let Some(prefix) = entry.model_name.strip_suffix('*') {
                match d.wildcards.iter_mut().find(|(p, _)| p == prefix) {
                    Some((_, v)) => v.push(dep),
                    None => d.wildcards.push((prefix.to_string(), vec![dep])),
                }
                continue;
            }
            if !d.by_name.contains_key(&entry.model_name) {
                d.names.push(entry.model_name.clone());
            }
            d.by_name
                .entry(entry.model_name.clone())
                .or_default()
                .push(dep);
        }
        d.wildcards.sort_by_key(|w| std::cmp::Reverse(w.0.len()));
        d
    }

    /// Whether `access_group` (a `model_info.access_groups` entry) includes the public
    /// model `name`.
    pub fn in_access_group(&self, access_group: &str, name: &str) -> bool {
        self.by_name.get(name).is_some_and(|deps| {
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

    pub fn names(&self) -> &[String] {
        &self.names
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

    pub fn group(&self, name: &str) -> Option<&[Arc<Deployment>]> {
        self.by_name.get(name).map(|v| v.as_slice())
    }

    /// Picks a deployment for `name` (random among equals, skipping `exclude`), and the SDK
    /// model to call: for a wildcard route the `*` takes the requested name's tail.
    pub fn pick(&self, name: &str, exclude: &[String]) -> Option<(Arc<Deployment>, String)> {
        self.pick_within(name, exclude, &[])
    }

    /// As [`Deployments::pick`], never choosing one of `banned` (`exclude` is a preference:
    /// once every other deployment was tried, they are tried again).
    pub fn pick_within(
        &self,
        name: &str,
        exclude: &[String],
        banned: &[String],
    ) -> Option<(Arc<Deployment>, String)> {
        if let Some(group) = self.by_name.get(name) {
            let d = choose(group, exclude, banned)?;
            let model = d.model.clone();
            return Some((d, model));
        }
        let (prefix, group) = self
            .wildcards
            .iter()
            .find(|(prefix, _)| name.starts_with(prefix.as_str()))?;
        let d = choose(group, exclude, banned)?;
        let tail = &name[prefix.len()..];
        let model = match d.model.strip_suffix('*') {
            Some(head) => format!("{head}{tail}"),
            None => d.model.clone(),
        };
        Some((d, model))
    }
}

/// A random deployment of `group`, never one of `banned`, preferring those not in `exclude`.
fn choose(
    group: &[Arc<Deployment>],
    exclude: &[String],
    banned: &[String],
) -> Option<Arc<Deployment>> {
    let allowed = || group.iter().filter(|d| !banned.contains(&d.id));
    let open: Vec<&Arc<Deployment>> = allowed().filter(|d| !exclude.contains(&d.id)).collect();
    let pool = if open.is_empty() {
        allowed().collect()
    } else {
        open
    };
    match pool.len() {
        0 => None,
        1 => Some(pool[0].clone()),
        n => Some(pool[rand::rng().random_range(0..n)].clone()),
    }
}
