//! Everything handlers share, built once at start.

use std::sync::Arc;

use crate::config::Config;
use crate::deployments::Deployments;

#[derive(Clone)]
pub struct AppState(Arc<Inner>);

pub struct Inner {
    pub client: llmgate::Client,
    pub deployments: Deployments,
    pub master_key: Option<String>,
    /// Retries after the first attempt, across deployments of the group.
    pub num_retries: u32,
    pub config: Config,
}

impl std::ops::Deref for AppState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl AppState {
    pub fn new(config: Config) -> AppState {
        let client = llmgate::Client::new();
        let deployments = Deployments::from_config(&config, &client);
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
        AppState(Arc::new(Inner {
            client,
            deployments,
            master_key,
            num_retries,
            config,
        }))
    }
}
