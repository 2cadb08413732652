//! LiteLLM's `config.yaml`, parsed into typed structs once, at start.
//!
//! [`Config::load`] reads the file, follows `include:`, puts `environment_variables:` into
//! the process environment, then parses every section into the types below, resolving
//! `os.environ/NAME` references as it goes (see [`env`]). Errors name the file, the line and
//! column, and the field path (`model_list[1].litellm_params.rpm`).
//!
//! Keys we don't model are kept in the `extra` maps (with `os.environ/` resolved), so later
//! features and the providers that understand them still see them; [`support`] names, at
//! start, every key that nothing reads.

mod env;
mod error;
mod load;
pub mod router;
mod secret;
pub mod support;
#[cfg(test)]
mod tests;

use std::collections::BTreeMap;
use std::fmt;
use std::path::Path;

use serde::{Deserialize, Serialize};

pub use error::ConfigError;
pub use secret::{display_url, secret_looking, Secret};
pub use support::{ignored_settings, Ignored};

use secret::{Redacted, RedactedHeaders};

/// Free-form keys kept as written (after `os.environ/` resolution).
pub type Extra = serde_json::Map<String, serde_json::Value>;

#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(expecting = "a mapping of sections (model_list, litellm_settings, ...)")]
pub struct Config {
    /// Empty when the file has none (`model_list:` or no section): LiteLLM starts without
    /// models too.
    #[serde(default, deserialize_with = "env::nullable")]
    pub model_list: Vec<ModelEntry>,
    #[serde(default, deserialize_with = "env::nullable")]
    pub litellm_settings: LitellmSettings,
    #[serde(default, deserialize_with = "env::nullable")]
    pub general_settings: GeneralSettings,
    #[serde(default, deserialize_with = "env::nullable")]
    pub router_settings: RouterSettings,
    /// What the `environment_variables:` section put into the process environment (values
    /// resolved). Filled by the loader; `Debug` prints only the names.
    #[serde(skip_deserializing)]
    pub environment_variables: BTreeMap<String, String>,
    /// Other top-level sections (guardrails, mcp_servers, callback_settings, ...).
    #[serde(flatten)]
    pub extra: Extra,
    /// The sections as written: includes merged, `os.environ/` references unresolved. Only
    /// the settings view reads it (masked, `routes/config_view.rs`).
    #[serde(skip)]
    pub written: Written,
}

/// The config's YAML tree as JSON. Equality ignores it: two configs that parse the same are
/// the same, however they were spelled.
#[derive(Clone, Default)]
pub struct Written(pub serde_json::Value);

impl PartialEq for Written {
    fn eq(&self, _: &Written) -> bool {
        true
    }
}

/// One deployment: the public name clients ask for and how to call it. Several entries may
/// share a `model_name` (a load-balanced group).
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(expecting = "a mapping with `model_name` and `litellm_params`")]
pub struct ModelEntry {
    #[serde(deserialize_with = "env::required_string")]
    pub model_name: String,
    pub litellm_params: LitellmParams,
    #[serde(default, deserialize_with = "env::nullable")]
    pub model_info: ModelInfoConfig,
    /// Other keys of the entry (`rpm`/`tpm` beside `litellm_params`, as LiteLLM's Router
    /// docs show them): kept so start-up can name them (see [`support`]).
    #[serde(flatten)]
    pub extra: Extra,
}

/// Serialises without `api_key` (for `/model/info`); secret-looking `extra` keys are the
/// caller's to hide.
#[derive(Clone, Default, PartialEq, Deserialize, Serialize)]
#[serde(expecting = "a mapping with at least `model`")]
pub struct LitellmParams {
    /// `provider/model` (`openai/gpt-4o`) or a bare name the SDK resolves (`gpt-4o`).
    #[serde(deserialize_with = "env::model")]
    pub model: String,
    #[serde(default, deserialize_with = "env::opt_string")]
    pub api_base: Option<String>,
    #[serde(default, deserialize_with = "env::opt_secret", skip_serializing)]
    pub api_key: Option<Secret>,
    #[serde(default, deserialize_with = "env::opt_string")]
    pub api_version: Option<String>,
    #[serde(default, deserialize_with = "env::opt_string")]
    pub organization: Option<String>,
    /// Seconds.
    #[serde(default, deserialize_with = "env::opt_seconds")]
    pub timeout: Option<f64>,
    /// Seconds.
    #[serde(default, deserialize_with = "env::opt_seconds")]
    pub stream_timeout: Option<f64>,
    #[serde(default, deserialize_with = "env::opt_u32")]
    pub max_retries: Option<u32>,
    #[serde(default, deserialize_with = "env::opt_u64")]
    pub rpm: Option<u64>,
    #[serde(default, deserialize_with = "env::opt_u64")]
    pub tpm: Option<u64>,
    #[serde(
        default,
        deserialize_with = "env::string_map",
        skip_serializing_if = "BTreeMap::is_empty"
    )]
    pub extra_headers: BTreeMap<String, String>,
    /// Usually a string; kept as JSON because LiteLLM also accepts objects.
    #[serde(default)]
    pub mock_response: Option<serde_json::Value>,
    #[serde(default, deserialize_with = "env::opt_non_negative")]
    pub input_cost_per_token: Option<f64>,
    #[serde(default, deserialize_with = "env::opt_non_negative")]
    pub output_cost_per_token: Option<f64>,
    #[serde(default, deserialize_with = "env::opt_bool")]
    pub drop_params: Option<bool>,
    /// Provider-specific params (vertex_project, aws_region_name, custom_llm_provider, ...).
    #[serde(flatten)]
    pub extra: Extra,
}

impl LitellmParams {
    pub fn new(model: impl Into<String>) -> LitellmParams {
        LitellmParams {
            model: model.into(),
            ..LitellmParams::default()
        }
    }
}

#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(expecting = "a mapping")]
pub struct ModelInfoConfig {
    /// Stable deployment id (`x-litellm-model-id`).
    #[serde(default, deserialize_with = "env::opt_string")]
    pub id: Option<String>,
    #[serde(default, deserialize_with = "env::opt_non_negative")]
    pub input_cost_per_token: Option<f64>,
    #[serde(default, deserialize_with = "env::opt_non_negative")]
    pub output_cost_per_token: Option<f64>,
    /// `chat`, `embedding`, `completion`, ... (health checks, `/model/info`).
    #[serde(default, deserialize_with = "env::opt_string")]
    pub mode: Option<String>,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(expecting = "a mapping")]
pub struct LitellmSettings {
    #[serde(default, deserialize_with = "env::flag")]
    pub drop_params: bool,
    /// Seconds.
    #[serde(default, deserialize_with = "env::opt_seconds")]
    pub request_timeout: Option<f64>,
    #[serde(default, deserialize_with = "env::opt_u32")]
    pub num_retries: Option<u32>,
    #[serde(default, deserialize_with = "env::flag")]
    pub set_verbose: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(expecting = "a mapping")]
pub struct GeneralSettings {
    /// Empty when the config names one that resolves to nothing (refused at start).
    #[serde(default, deserialize_with = "env::named_secret")]
    pub master_key: Option<Secret>,
    #[serde(default, deserialize_with = "env::opt_secret")]
    pub database_url: Option<Secret>,
    #[serde(default, deserialize_with = "env::flag")]
    pub dangerously_permit_weak_or_unset_master_key: bool,
    #[serde(flatten)]
    pub extra: Extra,
}

impl GeneralSettings {
    /// A positive number of seconds we keep in `extra` (`proxy_batch_write_at`,
    /// `user_api_key_cache_ttl`, ...), as a number or a numeric string.
    pub fn seconds(&self, name: &str) -> Option<std::time::Duration> {
        self.extra
            .get(name)
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.parse().ok()))
            .filter(|s| *s > 0.0 && s.is_finite())
            .map(std::time::Duration::from_secs_f64)
    }

    /// A boolean setting we keep in `extra` (`store_model_in_db`, `use_x_forwarded_for`, ...):
    /// true for `true` or the string "true" in any case, as LiteLLM reads them.
    pub fn flag(&self, name: &str) -> bool {
        is(self.extra.get(name), true)
    }

    /// A boolean setting explicitly turned off (`false`, or the string "false").
    pub fn flag_off(&self, name: &str) -> bool {
        is(self.extra.get(name), false)
    }
}

/// Whether a JSON value is the boolean `want`, or its name as a string in any case, as LiteLLM
/// reads boolean settings and request flags.
pub fn is(v: Option<&serde_json::Value>, want: bool) -> bool {
    match v {
        Some(serde_json::Value::Bool(b)) => *b == want,
        Some(serde_json::Value::String(s)) => {
            s.eq_ignore_ascii_case(if want { "true" } else { "false" })
        }
        _ => false,
    }
}

#[derive(Clone, Default, PartialEq, Deserialize)]
#[serde(expecting = "a mapping")]
pub struct RouterSettings {
    #[serde(default, deserialize_with = "env::opt_string")]
    pub routing_strategy: Option<String>,
    #[serde(default, deserialize_with = "env::opt_u32")]
    pub num_retries: Option<u32>,
    /// Seconds.
    #[serde(default, deserialize_with = "env::opt_seconds")]
    pub timeout: Option<f64>,
    #[serde(default, deserialize_with = "env::opt_u32")]
    pub allowed_fails: Option<u32>,
    /// Seconds; 0 disables cooldown.
    #[serde(default, deserialize_with = "env::opt_non_negative")]
    pub cooldown_time: Option<f64>,
    #[serde(flatten)]
    pub extra: Extra,
}

impl Config {
    /// Reads and checks a LiteLLM config file. Relative `include:` paths start at the file's
    /// directory.
    ///
    /// Call this before starting the async runtime or any thread: `environment_variables:`
    /// are set with `std::env::set_var`, which is only sound while nothing else reads the
    /// environment concurrently.
    pub fn load(path: &Path) -> Result<Config, ConfigError> {
        load::load(path)
    }

    /// As [`Config::load`], from text; `source_name` names it in errors. Relative
    /// `include:` paths start at the current directory.
    pub fn from_yaml_str(text: &str, source_name: &str) -> Result<Config, ConfigError> {
        load::from_text(text.to_string(), source_name.to_string(), ".".into(), None)
    }

    /// `llmgate --model gpt-4o`: one deployment whose public name is the model string, as
    /// LiteLLM's `--model` does.
    pub fn quick_start(model: &str) -> Config {
        Config {
            model_list: vec![ModelEntry {
                model_name: model.to_string(),
                litellm_params: LitellmParams::new(model),
                model_info: ModelInfoConfig::default(),
                extra: Extra::new(),
            }],
            ..Config::default()
        }
    }
}

/// As derived, except that `environment_variables` shows names only (its values are often
/// keys) and free-form maps hide secret-looking values.
impl fmt::Debug for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Config")
            .field("model_list", &self.model_list)
            .field("litellm_settings", &self.litellm_settings)
            .field("general_settings", &self.general_settings)
            .field("router_settings", &self.router_settings)
            .field(
                "environment_variables",
                &self.environment_variables.keys().collect::<Vec<_>>(),
            )
            .field("extra", &Redacted(&self.extra))
            .finish()
    }
}

/// `Debug` as derived, except that free-form maps hide secret-looking values (see
/// [`Redacted`]): configs and deployments get logged, credentials must not.
macro_rules! debug_redacting_extra {
    ($ty:ident { $($field:ident),* $(,)? } $(, headers: $headers:ident)?) => {
        impl fmt::Debug for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                // Exhaustive on purpose: a new field must be listed here to compile.
                let $ty { $($field,)* $($headers,)? extra } = self;
                f.debug_struct(stringify!($ty))
                    $(.field(stringify!($field), $field))*
                    $(.field(stringify!($headers), &RedactedHeaders($headers)))?
                    .field("extra", &Redacted(extra))
                    .finish()
            }
        }
    };
}

debug_redacting_extra!(LitellmParams {
    model, api_base, api_key, api_version, organization, timeout, stream_timeout,
    max_retries, rpm, tpm, mock_response, input_cost_per_token, output_cost_per_token,
    drop_params,
}, headers: extra_headers);
debug_redacting_extra!(ModelInfoConfig {
    id,
    input_cost_per_token,
    output_cost_per_token,
    mode
});
debug_redacting_extra!(LitellmSettings {
    drop_params,
    request_timeout,
    num_retries,
    set_verbose
});
debug_redacting_extra!(GeneralSettings {
    master_key,
    database_url,
    dangerously_permit_weak_or_unset_master_key,
});
debug_redacting_extra!(RouterSettings {
    routing_strategy,
    num_retries,
    timeout,
    allowed_fails,
    cooldown_time,
});
