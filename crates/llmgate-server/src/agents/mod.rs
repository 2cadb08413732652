//! A2A agents registered in config.yaml (`agent_list:` or `agents:`, LiteLLM's shape): the
//! registry the `/a2a/{agent}` and `/v1/agents` routes serve from, who may use which agent
//! ([`permission`]), and what a call's text counts as ([`usage`]).
//!
//! Built once at start; `None` in the state when the config registers no agent, so nothing on
//! any other route pays for the feature.

pub mod config;
pub mod permission;
pub mod usage;

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Map, Value};

use crate::config::Config;
use crate::deployments::Deployment;

/// How long a `message/send` (and a stream's first byte) may take when the agent sets no
/// `litellm_params.timeout`: LiteLLM's proxy forwards with a 60 s timeout.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(60);

/// One agent.
pub struct Agent {
    /// LiteLLM's id for a config agent: the SHA-256 hex of its name.
    pub agent_id: String,
    pub agent_name: String,
    /// `agent_card_params` as written: the card served (URL rewritten) and listed.
    pub card: Map<String, Value>,
    /// Where JSON-RPC calls go (the card's `url`).
    pub url: String,
    /// `a2a_agent/<card name>`, the model LiteLLM logs an agent call as.
    pub model: String,
    /// Sent on every call to the agent (its own credentials, e.g. `Authorization`).
    pub static_headers: Vec<(String, String)>,
    /// Client headers passed on to the agent, by name.
    pub extra_headers: Vec<String>,
    /// `agent_access_groups`: keys and teams may be given a group instead of the agent.
    pub access_groups: Vec<String>,
    /// `litellm_params` with secret-looking values masked, for `/v1/agents`.
    pub public_params: Map<String, Value>,
    pub cost_per_query: Option<f64>,
    pub timeout: Duration,
    /// Prices (`input/output_cost_per_token`) and the spend log's model facts.
    pub deployment: Arc<Deployment>,
}

/// Every configured agent.
pub struct Agents {
    list: Vec<Arc<Agent>>,
}

impl Agents {
    /// The config's agents; None when it has none; an error names the entry and the field.
    pub fn from_config(
        cfg: &Config,
        client: &llmgate::Client,
    ) -> Result<Option<Arc<Agents>>, String> {
        let entries = config::entries(cfg)?;
        if entries.is_empty() {
            return Ok(None);
        }
        let mut list: Vec<Arc<Agent>> = Vec::new();
        for (at, e) in entries {
            let agent = config::agent(&at, e, cfg, client)?;
            if list.iter().any(|a| a.agent_name == agent.agent_name) {
                return Err(format!(
                    "{at}.agent_name: '{}' is registered twice",
                    agent.agent_name
                ));
            }
            list.push(Arc::new(agent));
        }
        Ok(Some(Arc::new(Agents { list })))
    }

    /// By id or by name, as LiteLLM looks agents up.
    pub fn find(&self, id_or_name: &str) -> Option<&Arc<Agent>> {
        self.list
            .iter()
            .find(|a| a.agent_id == id_or_name)
            .or_else(|| self.list.iter().find(|a| a.agent_name == id_or_name))
    }

    pub fn all(&self) -> &[Arc<Agent>] {
        &self.list
    }
}

/// LiteLLM's id for an agent from config: the SHA-256 hex digest of its name (the same
/// digest keys are stored by).
pub fn agent_id(name: &str) -> String {
    crate::auth::hash_key(name)
}
