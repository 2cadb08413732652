//! The `agent_list:` / `agents:` entries of config.yaml, as LiteLLM's `AgentConfig` reads
//! them: `agent_name`, `agent_card_params` (the A2A card: name, description, url, version,
//! capabilities, skills, input/output modes), `litellm_params`, `static_headers`,
//! `extra_headers`, `agent_access_groups`. What llmgate does not implement is named at start
//! ([`ignored`]).

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use super::{agent_id, Agent, DEFAULT_TIMEOUT};
use crate::config::{Config, Ignored, LitellmParams, ModelEntry};
use crate::deployments::Deployment;

/// The sections LiteLLM reads agents from (the docs' `agent_list:`, and `agents:`).
pub const SECTIONS: &[&str] = &["agent_list", "agents"];

/// Entry keys: implemented (`true`) or read without effect (`false`, with what is missing).
const ENTRY_KEYS: &[(&str, bool, &str)] = &[
    ("agent_name", true, ""),
    ("agent_card_params", true, ""),
    ("litellm_params", true, ""),
    ("static_headers", true, ""),
    ("extra_headers", true, ""),
    ("agent_access_groups", true, ""),
    ("agent_id", true, ""),
    ("object_permission", false, "an agent's own MCP permissions"),
    ("tpm_limit", false, "per-agent rate limits"),
    ("rpm_limit", false, "per-agent rate limits"),
    ("session_tpm_limit", false, "per-agent rate limits"),
    ("session_rpm_limit", false, "per-agent rate limits"),
    ("access_group_ids", false, "unified access groups"),
    ("identity", false, "agent identities"),
    ("budget", false, "agent budgets"),
    ("enabled", false, "disabling an agent"),
    ("execution_mode", false, "agent execution modes"),
    ("kill_switch", false, "agent kill switches"),
];

/// `litellm_params` keys llmgate implements for an A2A agent.
const PARAMS: &[&str] = &[
    "cost_per_query",
    "input_cost_per_token",
    "output_cost_per_token",
    "timeout",
];

/// An entry and its place in the file (`agent_list[0]`).
pub type Entry<'a> = (String, &'a Map<String, Value>);

/// Each entry, in file order.
pub fn entries(cfg: &Config) -> Result<Vec<Entry<'_>>, String> {
    let mut out = Vec::new();
    for section in SECTIONS {
        match cfg.extra.get(*section) {
            None | Some(Value::Null) => {}
            Some(Value::Array(items)) => {
                for (i, item) in items.iter().enumerate() {
                    let at = format!("{section}[{i}]");
                    let e = item
                        .as_object()
                        .ok_or_else(|| format!("{at}: expected a mapping with `agent_name`"))?;
                    out.push((at, e));
                }
            }
            Some(_) => return Err(format!("{section}: expected a list of agents")),
        }
    }
    Ok(out)
}

/// One entry as an [`Agent`]; an error names the field.
pub fn agent(
    at: &str,
    e: &Map<String, Value>,
    cfg: &Config,
    client: &llmgate::Client,
) -> Result<Agent, String> {
    let name = e
        .get("agent_name")
        .and_then(Value::as_str)
        .filter(|s| !s.is_empty())
        .ok_or_else(|| format!("{at}.agent_name: required (a string)"))?
        .to_string();
    let card = e
        .get("agent_card_params")
        .and_then(Value::as_object)
        .cloned()
        .ok_or_else(|| format!("{at}.agent_card_params: required (the agent's card)"))?;
    let url = card
        .get("url")
        .and_then(Value::as_str)
        .or_else(|| {
            // A 1.0 card names its endpoint in `supportedInterfaces` instead.
            card.get("supportedInterfaces")?.as_array()?.first()?["url"].as_str()
        })
        .ok_or_else(|| format!("{at}.agent_card_params.url: required (where the agent listens)"))?
        .to_string();
    match reqwest::Url::parse(&url) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => {}
        _ => {
            return Err(format!(
                "{at}.agent_card_params.url: '{url}' is not an http(s) URL"
            ))
        }
    }
    let params = match e.get("litellm_params") {
        None | Some(Value::Null) => Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err(format!("{at}.litellm_params: expected a mapping")),
    };
    let number = |k: &str| -> Result<Option<f64>, String> {
        match params.get(k) {
            None | Some(Value::Null) => Ok(None),
            Some(v) => v
                .as_f64()
                .or_else(|| v.as_str()?.parse().ok())
                .filter(|n: &f64| n.is_finite() && *n >= 0.0)
                .map(Some)
                .ok_or_else(|| format!("{at}.litellm_params.{k}: expected a non-negative number")),
        }
    };
    let cost_per_query = number("cost_per_query")?;
    let timeout = number("timeout")?
        .filter(|s| *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(DEFAULT_TIMEOUT);
    let static_headers = match e.get("static_headers") {
        None | Some(Value::Null) => Vec::new(),
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k.clone(), s.clone())),
                _ => Err(format!("{at}.static_headers.{k}: expected a string")),
            })
            .collect::<Result<_, _>>()?,
        Some(_) => return Err(format!("{at}.static_headers: expected a mapping")),
    };
    let strings = |k: &str| -> Result<Vec<String>, String> {
        match e.get(k) {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_string))
                .collect::<Option<_>>()
                .ok_or_else(|| format!("{at}.{k}: expected a list of strings")),
            Some(_) => Err(format!("{at}.{k}: expected a list of strings")),
        }
    };
    let card_name = card
        .get("name")
        .and_then(Value::as_str)
        .unwrap_or(&name)
        .to_string();
    let model = format!("a2a_agent/{card_name}");
    // Priced and logged as a deployment of the group `a2a_agent/<name>`.
    let mut lp = LitellmParams::new(model.clone());
    lp.input_cost_per_token = number("input_cost_per_token")?;
    lp.output_cost_per_token = number("output_cost_per_token")?;
    let id = e
        .get("agent_id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .unwrap_or_else(|| agent_id(&name));
    let mut entry = ModelEntry {
        model_name: model.clone(),
        litellm_params: lp,
        ..ModelEntry::default()
    };
    // The spend log's `agent_id` column (`governance::access`).
    entry
        .model_info
        .extra
        .insert("agent_id".into(), Value::String(id.clone()));
    let deployment = Arc::new(Deployment::for_target(&entry, cfg, client, &url));
    let public_params = params
        .iter()
        .map(|(k, v)| {
            let v = if crate::config::secret_looking(k) {
                Value::String("[REDACTED]".into())
            } else {
                v.clone()
            };
            (k.clone(), v)
        })
        .collect();
    Ok(Agent {
        agent_id: id,
        agent_name: name,
        card,
        url,
        model,
        static_headers,
        extra_headers: strings("extra_headers")?,
        access_groups: strings("agent_access_groups")?,
        public_params,
        cost_per_query,
        timeout,
        deployment,
        stored: false,
    })
}

/// The agent settings the config sets that llmgate does not act on (or does not know).
pub fn ignored(cfg: &Config) -> Vec<Ignored> {
    let mut out = Vec::new();
    let Ok(entries) = entries(cfg) else {
        return out;
    };
    let asks =
        |v: &Value| !matches!(v, Value::Null | Value::Bool(false)) && v != &Value::Array(vec![]);
    for (at, e) in entries {
        for (k, v) in e {
            if !asks(v) {
                continue;
            }
            match ENTRY_KEYS.iter().find(|(key, _, _)| key == k) {
                Some((_, true, _)) => {}
                Some((_, false, note)) => out.push(Ignored {
                    path: format!("{at}.{k}"),
                    known: true,
                    note,
                }),
                None => out.push(Ignored {
                    path: format!("{at}.{k}"),
                    known: false,
                    note: "",
                }),
            }
        }
        if let Some(Value::Object(p)) = e.get("litellm_params") {
            for (k, v) in p {
                if asks(v) && !PARAMS.contains(&k.as_str()) {
                    out.push(Ignored {
                        path: format!("{at}.litellm_params.{k}"),
                        known: true,
                        note: "agent providers other than A2A (the completion bridge)",
                    });
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::agents::Agents;
    use crate::config::Config;

    fn load(yaml: &str) -> Result<Agents, String> {
        let cfg = Config::from_yaml_str(yaml, "test.yaml").expect("config parses");
        Agents::from_config(&cfg, &llmgate::Client::new())
    }

    const CARD: &str = "agent_card_params: {name: Hello, url: 'http://127.0.0.1:9999/'}";

    #[test]
    fn agents_are_read_from_either_section_by_id_or_name() {
        let a = load(&format!(
            "agent_list:\n  - agent_name: one\n    {CARD}\nagents:\n  - agent_name: two\n    {CARD}\n    litellm_params: {{cost_per_query: 0.5}}\n"
        ))
        .unwrap();
        assert_eq!(a.all().len(), 2);
        let two = a.find("two").unwrap();
        assert_eq!(two.model, "a2a_agent/Hello");
        assert_eq!(two.cost_per_query, Some(0.5));
        assert_eq!(a.find(&two.agent_id).unwrap().agent_name, "two");
        assert!(load("model_list: []\n").unwrap().is_empty());
    }

    #[test]
    fn bad_entries_are_named() {
        for (yaml, want) in [
            (
                "agent_list:\n  - agent_card_params: {url: 'http://x/'}\n",
                "agent_list[0].agent_name",
            ),
            (
                "agent_list:\n  - agent_name: a\n",
                "agent_list[0].agent_card_params",
            ),
            (
                "agent_list:\n  - agent_name: a\n    agent_card_params: {name: x}\n",
                "agent_list[0].agent_card_params.url",
            ),
            (
                "agent_list:\n  - agent_name: a\n    agent_card_params: {url: 'ftp://x/'}\n",
                "not an http(s) URL",
            ),
            ("agent_list: {a: 1}\n", "agent_list: expected a list"),
        ] {
            let e = match load(yaml) {
                Err(e) => e,
                Ok(_) => panic!("{yaml}: accepted"),
            };
            assert!(e.contains(want), "{yaml}: {e}");
        }
        let twice =
            format!("agent_list:\n  - agent_name: a\n    {CARD}\n  - agent_name: a\n    {CARD}\n");
        assert!(matches!(load(&twice), Err(e) if e.contains("registered twice")));
    }

    #[test]
    fn unimplemented_agent_settings_are_named() {
        let cfg = Config::from_yaml_str(
            &format!("agent_list:\n  - agent_name: a\n    {CARD}\n    tpm_limit: 5\n    colour: red\n    litellm_params: {{custom_llm_provider: langgraph, cost_per_query: 1}}\n"),
            "t.yaml",
        )
        .unwrap();
        let found: Vec<String> = crate::config::ignored_settings(&cfg)
            .iter()
            .map(|i| i.to_string())
            .collect();
        assert!(
            found
                .iter()
                .any(|s| s.starts_with("agent_list[0].tpm_limit (")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|s| s.contains("agent_list[0].colour (unknown")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|s| s.starts_with("agent_list[0].litellm_params.custom_llm_provider")),
            "{found:?}"
        );
        assert!(
            !found
                .iter()
                .any(|s| s.contains("cost_per_query") || s.starts_with("agent_list (")),
            "{found:?}"
        );
    }
}
