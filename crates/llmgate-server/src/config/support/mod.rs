//! Which config keys llmgate implements, which it reads but ignores, and the check that
//! names the ignored ones at start.
//!
//! The rule: a key LiteLLM documents either works or is named at start-up (and on
//! `/health`) as not supported; a key LiteLLM does not document either is named as unknown
//! (likely a typo). Nothing is dropped without a word.
//!
//! The tables (`tables.rs`) are one row per key so that implementing a setting is a one-line
//! change there:
//! flip its row from `no` to `yes`. Rows were checked against the code that reads each key
//! (`grep` for the key in this crate and in the SDK); keys LiteLLM documents come from its
//! "All settings" page, `GenericLiteLLMParams` and the callback/guardrail/cache enums.
//! README.md's "Settings llmgate reads but does not implement yet" lists the `no` rows (a test
//! keeps the two in step).

use std::fmt;

use serde_json::Value;

use super::{
    Config, GeneralSettings, LitellmParams, LitellmSettings, ModelEntry, ModelInfoConfig,
    RouterSettings,
};

mod guardrail_params;
mod tables;

pub use guardrail_params::*;
pub use tables::*;

/// A key (or value) the config sets that llmgate does not act on.
#[derive(Debug, Clone, PartialEq)]
pub struct Ignored {
    /// Where it is, as in config errors: `model_list[2].litellm_params.rpm`, or with the
    /// value for a value check: `litellm_settings.callbacks: langfuse`.
    pub path: String,
    /// false: LiteLLM does not document it either (a typo, most likely).
    pub known: bool,
    /// What llmgate lacks (empty when unknown).
    pub note: &'static str,
}

impl fmt::Display for Ignored {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.known, self.note.is_empty()) {
            (true, false) => write!(f, "{} ({})", self.path, self.note),
            (true, true) => write!(f, "{}", self.path),
            (false, _) => write!(f, "{} (unknown: not a LiteLLM setting; a typo?)", self.path),
        }
    }
}

fn matches(pattern: &str, key: &str) -> bool {
    if pattern == "*.*" {
        return key.contains('.');
    }
    match pattern.strip_suffix('*') {
        Some(prefix) => key.starts_with(prefix),
        None => pattern == key,
    }
}

fn find<'t>(table: &'t [Row], key: &str) -> Option<&'t Row> {
    // Exact rows win over patterns (`input_cost_per_token` over `input_cost_per_token_*`).
    table
        .iter()
        .find(|r| r.key == key)
        .or_else(|| table.iter().find(|r| matches(r.key, key)))
}

/// Null, `false` and empty values ask for nothing, so ignoring them changes nothing.
pub(crate) fn asks_nothing(v: &Value) -> bool {
    match v {
        Value::Null | Value::Bool(false) => true,
        Value::String(s) => s.is_empty(),
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    }
}

struct Check(Vec<Ignored>);

impl Check {
    fn push(&mut self, path: String, known: bool, note: &'static str) {
        self.0.push(Ignored { path, known, note });
    }

    /// Checks each `(key, value)` of the section at `path` against `table`.
    fn section<'a>(
        &mut self,
        path: &str,
        table: &[Row],
        keys: impl IntoIterator<Item = (&'a str, &'a Value)>,
    ) {
        for (key, value) in keys {
            if asks_nothing(value) {
                continue;
            }
            let at = if path.is_empty() {
                key.to_string()
            } else {
                format!("{path}.{key}")
            };
            self.row(at, find(table, key), value);
        }
    }

    /// One key at `at`, by the row it has (None: not a LiteLLM key).
    fn row(&mut self, at: String, row: Option<&Row>, value: &Value) {
        match row {
            None => self.push(at, false, ""),
            Some(row) => match row.support {
                Support::Yes => {}
                Support::No => self.push(at, true, row.note),
                Support::Values(values) => self.values(&at, values, value),
            },
        }
    }

    /// A string or a list of strings, each looked up in `values` (or a map, each of its keys).
    fn values(&mut self, at: &str, values: &[Row], value: &Value) {
        let keys: Vec<Value>;
        let items: Vec<&Value> = match value {
            Value::Array(a) => a.iter().collect(),
            Value::Object(o) => {
                keys = o.keys().map(|k| Value::String(k.clone())).collect();
                keys.iter().collect()
            }
            v => vec![v],
        };
        for item in items {
            let Some(name) = item.as_str() else {
                self.push(format!("{at}: {item}"), false, "");
                continue;
            };
            match find(values, name) {
                Some(Row {
                    support: Support::Yes,
                    ..
                }) => {}
                Some(row) => self.push(format!("{at}: {name}"), true, row.note),
                None => self.push(format!("{at}: {name}"), false, ""),
            }
        }
    }
}

/// `litellm_settings.callbacks: name` where `callback_settings.name.callback_type` is
/// `generic_api`.
fn settings_logger(top: &super::Extra, path: &str) -> bool {
    let Some(name) = path
        .strip_prefix("litellm_settings.")
        .and_then(|p| p.split_once(": "))
        .filter(|(k, _)| k.ends_with("callback") || *k == "callbacks")
        .map(|(_, n)| n)
    else {
        return false;
    };
    top.get("callback_settings")
        .and_then(|s| s.get(name))
        .and_then(|s| s.get("callback_type"))
        .and_then(Value::as_str)
        == Some("generic_api")
}

fn opt<T: Into<Value> + Clone>(v: &Option<T>) -> Value {
    v.clone().map(Into::into).unwrap_or(Value::Null)
}

/// Every key and value in `cfg` that llmgate reads but does not act on, or does not know,
/// in config order within each section. Logged at start and listed on `/health`.
///
/// Structs are destructured in full (typed fields beside their `extra` map), so a new field
/// does not compile until it is listed here.
pub fn ignored_settings(cfg: &Config) -> Vec<Ignored> {
    let mut c = Check(Vec::new());
    let Config {
        model_list,
        litellm_settings,
        general_settings,
        router_settings,
        environment_variables: _,
        extra,
        written: _,
    } = cfg;
    c.section("", TOP_LEVEL, extra.iter().map(|(k, v)| (k.as_str(), v)));
    guardrails(&mut c, extra.get("guardrails"));
    c.0.extend(crate::agents::config::ignored(cfg));
    mcp_servers(&mut c, extra.get("mcp_servers"));

    for (i, entry) in model_list.iter().enumerate() {
        model_entry(&mut c, i, entry);
    }

    let LitellmSettings {
        drop_params,
        request_timeout,
        num_retries,
        set_verbose,
        extra,
    } = litellm_settings;
    let fields = [
        ("drop_params", Value::Bool(*drop_params)),
        ("request_timeout", opt(request_timeout)),
        ("num_retries", opt(num_retries)),
        ("set_verbose", Value::Bool(*set_verbose)),
    ];
    let all = fields.iter().map(|(k, v)| (*k, v));
    c.section(
        "litellm_settings",
        LITELLM_SETTINGS,
        all.chain(extra.iter().map(|(k, v)| (k.as_str(), v))),
    );
    // A callback named by `callback_settings` with a type llmgate runs is one of ours.
    let top = &cfg.extra;
    c.0.retain(|i| !settings_logger(top, &i.path));
    if let Some(Value::Object(cp)) = extra.get("cache_params") {
        c.section(
            "litellm_settings.cache_params",
            CACHE_PARAMS,
            cp.iter().map(|(k, v)| (k.as_str(), v)),
        );
    }

    let GeneralSettings {
        master_key,
        database_url,
        dangerously_permit_weak_or_unset_master_key: _,
        extra,
    } = general_settings;
    // Secrets are only present-or-not here: their values never reach a report.
    let fields = [
        ("master_key", Value::Bool(master_key.is_some())),
        ("database_url", Value::Bool(database_url.is_some())),
    ];
    let all = fields.iter().map(|(k, v)| (*k, v));
    c.section(
        "general_settings",
        GENERAL_SETTINGS,
        all.chain(extra.iter().map(|(k, v)| (k.as_str(), v))),
    );

    let RouterSettings {
        routing_strategy,
        num_retries,
        timeout,
        allowed_fails,
        cooldown_time,
        extra,
    } = router_settings;
    let fields = [
        ("routing_strategy", opt(routing_strategy)),
        ("num_retries", opt(num_retries)),
        ("timeout", opt(timeout)),
        ("allowed_fails", opt(allowed_fails)),
        ("cooldown_time", opt(cooldown_time)),
    ];
    let all = fields.iter().map(|(k, v)| (*k, v));
    c.section(
        "router_settings",
        ROUTER_SETTINGS,
        all.chain(extra.iter().map(|(k, v)| (k.as_str(), v))),
    );
    c.0
}

fn model_entry(c: &mut Check, i: usize, entry: &ModelEntry) {
    let ModelEntry {
        model_name: _,
        litellm_params,
        model_info,
        extra,
    } = entry;
    let at = format!("model_list[{i}]");
    c.section(&at, MODEL_ENTRY, extra.iter().map(|(k, v)| (k.as_str(), v)));

    let LitellmParams {
        model: _,
        api_base: _,
        api_key: _,
        api_version: _,
        organization: _,
        timeout: _,
        stream_timeout: _,
        max_retries: _,
        rpm,
        tpm,
        extra_headers: _,
        mock_response: _,
        input_cost_per_token: _,
        output_cost_per_token: _,
        drop_params: _,
        extra,
    } = litellm_params;
    // The other typed fields are all implemented (LITELLM_PARAMS says so).
    let fields = [("rpm", opt(rpm)), ("tpm", opt(tpm))];
    let all = fields.iter().map(|(k, v)| (*k, v));
    c.section(
        &format!("{at}.litellm_params"),
        LITELLM_PARAMS,
        all.chain(extra.iter().map(|(k, v)| (k.as_str(), v))),
    );

    // id, costs and mode are typed and implemented.
    let ModelInfoConfig {
        id: _,
        input_cost_per_token: _,
        output_cost_per_token: _,
        mode: _,
        extra,
    } = model_info;
    c.section(
        &format!("{at}.model_info"),
        MODEL_INFO,
        extra.iter().map(|(k, v)| (k.as_str(), v)),
    );
}

/// Each guardrail by its type (`guardrails[0].litellm_params.guardrail: lakera`); an entry
/// without one is named whole. An entry of a type llmgate runs has every other param checked
/// against what that type reads: LiteLLM's params for the type that llmgate lacks, params of
/// other types (`api_key` on the content filter) and keys LiteLLM does not know are named.
fn guardrails(c: &mut Check, section: Option<&Value>) {
    let Some(Value::Array(items)) = section else {
        if section.is_some_and(|v| !asks_nothing(v)) {
            c.push("guardrails".into(), true, "guardrails");
        }
        return;
    };
    for (i, g) in items.iter().enumerate() {
        if let Some(entry) = g.as_object() {
            c.section(
                &format!("guardrails[{i}]"),
                GUARDRAIL_ENTRY,
                entry.iter().map(|(k, v)| (k.as_str(), v)),
            );
        }
        let at = format!("guardrails[{i}].litellm_params");
        let Some(p) = g
            .get("litellm_params")
            .and_then(Value::as_object)
            .filter(|p| p.contains_key("guardrail"))
        else {
            c.push(format!("guardrails[{i}]"), true, "guardrails");
            continue;
        };
        let kind = p
            .get("guardrail")
            .and_then(Value::as_str)
            .unwrap_or_default();
        let Some((_, rows)) = GUARDRAIL_TYPE_PARAMS.iter().find(|(t, _)| *t == kind) else {
            // Not run at all: the type is what is named.
            c.section(
                &at,
                GUARDRAIL_COMMON,
                p.iter()
                    .filter(|(k, _)| *k == "guardrail")
                    .map(|(k, v)| (k.as_str(), v)),
            );
            continue;
        };
        for (key, value) in p {
            if asks_nothing(value) {
                continue;
            }
            let row = find(rows, key).or_else(|| find(GUARDRAIL_COMMON, key));
            let at = format!("{at}.{key}");
            match row {
                None if LITELLM_GUARDRAIL_KEYS.contains(&key.as_str()) => {
                    c.push(at, true, "not read by this guardrail type")
                }
                row => c.row(at, row, value),
            }
        }
    }
}

/// Each `mcp_servers` entry's keys, and `mcp_info.mcp_server_cost_info` (`mcp/config.rs`
/// refuses entries that cannot work; this names what an entry sets without effect).
fn mcp_servers(c: &mut Check, section: Option<&Value>) {
    let Some(Value::Object(entries)) = section else {
        return;
    };
    for (name, entry) in entries {
        let Value::Object(keys) = entry else { continue };
        let at = format!("mcp_servers.{name}");
        c.section(&at, MCP_SERVER, keys.iter().map(|(k, v)| (k.as_str(), v)));
        if let Some(Value::Object(info)) = keys.get("mcp_info") {
            let cost = info.iter().filter(|(k, _)| *k == "mcp_server_cost_info");
            c.section(
                &format!("{at}.mcp_info"),
                MCP_SERVER,
                cost.map(|(k, v)| (k.as_str(), v)),
            );
        }
    }
}
