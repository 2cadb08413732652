//! A2A agents registered in config.yaml (`agent_list:` or `agents:`, LiteLLM's shape): the
//! registry the `/a2a/{agent}` and `/v1/agents` routes serve from, who may use which agent
//! ([`permission`]), and what a call's text counts as ([`usage`]).
//!
//! Built at start and again when stored agents change (`stored.rs`); only the agent routes
//! read it, so nothing on any other route pays for the feature.

pub mod config;
pub mod permission;
pub mod stored;
pub mod usage;
pub mod v1;

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
    /// Registered through the admin API (`LiteLLM_AgentsTable`), not in the config.
    pub stored: bool,
}

/// Every agent: the config's, then the database's (`POST /v1/agents`).
#[derive(Default)]
pub struct Agents {
    list: Vec<Arc<Agent>>,
}

impl Agents {
    /// The config's agents; an error names the entry and the field (it refuses the start).
    pub fn from_config(cfg: &Config, client: &llmgate::Client) -> Result<Agents, String> {
        let mut list: Vec<Arc<Agent>> = Vec::new();
        for (at, e) in config::entries(cfg)? {
            let agent = config::agent(&at, e, cfg, client)?;
            if list.iter().any(|a| a.agent_name == agent.agent_name) {
                return Err(format!(
                    "{at}.agent_name: '{}' is registered twice",
                    agent.agent_name
                ));
            }
            list.push(Arc::new(agent));
        }
        Ok(Agents { list })
    }

    /// The config's agents plus the stored ones. A stored agent replaces a config agent of
    /// its name (as LiteLLM's registry lets the database win); one that does not build is
    /// skipped with a warning.
    pub fn with_stored(
        cfg: &Config,
        client: &llmgate::Client,
        rows: &[llmgate_store::agents::AgentRow],
    ) -> Agents {
        let mut agents = Agents::from_config(cfg, client).unwrap_or_default();
        for row in rows {
            match stored::agent(row, cfg, client) {
                Ok(a) => {
                    agents.list.retain(|c| c.agent_name != a.agent_name);
                    agents.list.push(Arc::new(a));
                }
                Err(e) => {
                    tracing::warn!(agent = %row.agent_name, error = %e, "skipping a stored agent")
                }
            }
        }
        agents
    }

    pub fn is_empty(&self) -> bool {
        self.list.is_empty()
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
