//! Everything handlers share, built once at start.

use std::sync::{Arc, RwLock};

use crate::config::Config;
use crate::deployments::{Deployments, RouterParts};
use crate::governance::alerts::Alerts;
use crate::governance::Governance;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub client: llmgate::Client,
    /// Replaced whole when `/model/*` changes the database's models.
    deployments: RwLock<Arc<Deployments>>,
    pub master_key: Option<String>,
    /// Retries after the first attempt, across deployments of the group.
    pub num_retries: u32,
    pub config: Config,
    /// Keys, budgets, limits and spend: the request path's ledger.
    pub gov: Arc<Governance>,
    /// Encrypts model credentials stored in the database.
    pub salt: Option<crate::salt::SaltKey>,
    /// The router's settings and the deployments' stats, kept across model reloads.
    pub router: RouterParts,
    /// The response cache (`litellm_settings.cache`); None when off, and then the request
    /// path does nothing for it.
    pub cache: Option<Arc<crate::cache::Cache>>,
    /// The `guardrails:` llmgate runs; None when none is configured (the request path
    /// then only tests it).
    pub guardrails: Option<Arc<crate::guardrails::Guardrails>>,
    /// The A2A agents (`agent_list:` and `LiteLLM_AgentsTable`); swapped whole on a change.
    agents: RwLock<Arc<crate::agents::Agents>>,
    /// The MCP gateway (`mcp_servers:` and `LiteLLM_MCPServerTable`); None when no server is
    /// configured and there is no database (no MCP route).
    pub mcp: Option<Arc<crate::mcp::McpGateway>>,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(config: Config) -> AppState {
        AppState::build(config, None, None)
    }

    /// With a migrated store: virtual keys, key management and spend tracking. Starts the spend
    /// writer, so it must run inside the runtime.
    pub fn with_store(
        config: Config,
        store: llmgate_store::Store,
        journal_dir: Option<std::path::PathBuf>,
    ) -> AppState {
        AppState::build(config, Some(store), journal_dir)
    }

    fn build(
        config: Config,
        store: Option<llmgate_store::Store>,
        journal: Option<std::path::PathBuf>,
    ) -> AppState {
        let client = llmgate::Client::new();
        let router = RouterParts::new(&config);
        let deployments = RwLock::new(Arc::new(Deployments::build(&config, &client, &[], &router)));
        let master_key = config
            .general_settings
            .master_key
            .as_ref()
            .map(|k| k.expose().to_string())
            .or_else(|| std::env::var("LITELLM_MASTER_KEY").ok())
            .filter(|k| !k.is_empty());
        let num_retries = config
            .router_settings
            .num_retries
            .or(config.litellm_settings.num_retries)
            .unwrap_or(0);
        let interval = config
            .general_settings
            .seconds("proxy_batch_write_at")
            .unwrap_or(crate::governance::spend::DEFAULT_INTERVAL);
        let spend = store
            .clone()
            .map(|s| crate::governance::spend::SpendWriter::start(s, interval, journal.as_deref()));
        let salt = salt_key(&config, master_key.as_deref());
        // LiteLLM's `user_api_key_cache_ttl` (seconds): how long a cached key, user or team is
        // served before it is read again, when no invalidation reaches this instance.
        let ttl = config
            .general_settings
            .seconds("user_api_key_cache_ttl")
            .unwrap_or(crate::governance::DEFAULT_TTL);
        // A bad callback setting refuses the start (`server::run` checks it first).
        let observe = crate::observe::Observers::from_config(&config, client.http().clone())
            .unwrap_or_else(|e| {
                tracing::error!(error = %e, "callbacks are off");
                None
            })
            .map(Arc::new);
        let gov = Arc::new(Governance {
            store,
            keys: Arc::new(crate::governance::KeyCache::new(ttl)),
            limiter: Default::default(),
            spend,
            alerts: Alerts::new(observe.as_ref().and_then(|o| o.alerting.clone())),
            disable_error_logs: config.general_settings.flag("disable_error_logs"),
            store_prompts: crate::governance::prompts::enabled(&config),
            observe,
        });
        // A bad cache setting refuses the start (`server::run` checks it first).
        let cache = crate::cache::Cache::from_config(&config).unwrap_or_else(|e| {
            tracing::error!(error = %e, "response caching is off");
            None
        });
        // A bad guardrail refuses the start (`server::run` checks it first).
        let guardrails = crate::guardrails::Guardrails::from_config(&config).unwrap_or_else(|e| {
            tracing::error!(error = %e, "guardrails are off");
            None
        });
        // A bad agent entry refuses the start (`server::run` checks it first).
        let agents = crate::agents::Agents::from_config(&config, &client).unwrap_or_else(|e| {
            tracing::error!(error = %e, "agents are off");
            Default::default()
        });
        let agents = RwLock::new(Arc::new(agents));
        // A bad MCP server entry refuses the start (`server::run` checks it first).
        // With a database, servers may be stored (`/v1/mcp/server`): the gateway is on.
        let mcp =
            crate::mcp::McpGateway::from_config(&config, gov.store.is_some()).unwrap_or_else(|e| {
                tracing::error!(error = %e, "the MCP gateway is off");
                None
            });
        let state = AppState(Arc::new(Inner {
            agents,
            mcp,
            cache,
            guardrails,
            client,
            deployments,
            master_key,
            num_retries,
            config,
            gov,
            salt,
            router,
        }));
        // Metric labels name configured groups and wildcard patterns, as the deployments
        // serving now know them (the database's models included).
        if let Some(m) = state.gov.observe.as_ref().and_then(|o| o.metrics.as_ref()) {
            let weak = Arc::downgrade(&state.0);
            m.set_names(Box::new(move |name| {
                AppState(weak.upgrade()?).deployments().metric_name(name)
            }));
        }
        state
    }

    /// The deployments serving requests now.
    pub fn deployments(&self) -> Arc<Deployments> {
        self.0
            .deployments
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// The A2A agents serving now.
    pub fn agents(&self) -> Arc<crate::agents::Agents> {
        self.0
            .agents
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .clone()
    }

    /// Serves `agents` from now on.
    pub fn set_agents(&self, agents: crate::agents::Agents) {
        *self.0.agents.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(agents);
    }

    /// Serves the config's models plus `db_models` from now on.
    pub fn set_db_models(&self, db_models: &[crate::config::ModelEntry]) {
        let d = Arc::new(Deployments::build(
            &self.config,
            &self.client,
            db_models,
            &self.router,
        ));
        *self
            .0
            .deployments
            .write()
            .unwrap_or_else(|e| e.into_inner()) = d;
    }
}

/// `LITELLM_SALT_KEY`, else the master key (as LiteLLM); the algorithm for new values from
/// `general_settings.encryption_algorithm`.
fn salt_key(config: &Config, master_key: Option<&str>) -> Option<crate::salt::SaltKey> {
    let secret = std::env::var("LITELLM_SALT_KEY")
        .ok()
        .filter(|k| !k.is_empty())
        .or_else(|| master_key.map(str::to_string))?;
    let gcm = config
        .general_settings
        .extra
        .get("encryption_algorithm")
        .and_then(|v| v.as_str())
        .is_some_and(|a| a.eq_ignore_ascii_case("aes-256-gcm"));
    let algorithm = if gcm {
        crate::salt::Algorithm::Aes256Gcm
    } else {
        crate::salt::Algorithm::XSalsa20Poly1305
    };
    Some(crate::salt::SaltKey::new(&secret, algorithm))
}
