//! Agents kept in `LiteLLM_AgentsTable` (`POST /v1/agents`): a row as an [`Agent`], and the
//! registry rebuilt from the config and the table at start, after a change through this
//! instance, and on a timer so that other instances' changes arrive
//! (`LLMGATE_MODEL_REFRESH_SECONDS`, the stored models' interval).

use std::time::Duration;

use llmgate_store::agents::AgentRow;
use serde_json::{Map, Value};

use super::{config, Agent, Agents};
use crate::config::Config;
use crate::error::GatewayError;
use crate::state::AppState;

/// A stored row as an agent, checked as a config entry is.
pub fn agent(row: &AgentRow, cfg: &Config, client: &llmgate::Client) -> Result<Agent, String> {
    let mut e = Map::new();
    e.insert("agent_id".into(), Value::String(row.agent_id.clone()));
    e.insert("agent_name".into(), Value::String(row.agent_name.clone()));
    e.insert("agent_card_params".into(), row.agent_card_params.clone());
    e.insert("litellm_params".into(), row.litellm_params.clone());
    e.insert("static_headers".into(), row.static_headers.clone());
    e.insert("extra_headers".into(), serde_json::json!(row.extra_headers));
    e.insert(
        "agent_access_groups".into(),
        serde_json::json!(row.agent_access_groups),
    );
    let mut a = config::agent(&format!("agent {}", row.agent_name), &e, cfg, client)?;
    a.stored = true;
    Ok(a)
}

/// What identifies the table's state (ids and update times).
pub type Signature = Vec<(String, Option<i64>)>;

fn signature(rows: &[AgentRow]) -> Signature {
    rows.iter()
        .map(|r| (r.agent_id.clone(), r.updated_at))
        .collect()
}

/// Rebuilds the registry from the config and the table.
pub async fn reload(state: &AppState) -> Result<Signature, GatewayError> {
    let Some(store) = &state.gov.store else {
        return Ok(Signature::new());
    };
    let rows = store.list_agents().await.map_err(GatewayError::store)?;
    state.set_agents(Agents::with_stored(&state.config, &state.client, &rows));
    Ok(signature(&rows))
}

/// Re-reads the table on the stored models' interval; a change rebuilds the registry.
pub fn spawn_refresh(state: AppState, mut last: Signature) {
    let Some(store) = state.gov.store.clone() else {
        return;
    };
    let every = std::env::var("LLMGATE_MODEL_REFRESH_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(10));
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(every);
        tick.tick().await;
        loop {
            tick.tick().await;
            match store.list_agents().await {
                Ok(rows) => {
                    let sig = signature(&rows);
                    if sig != last {
                        state.set_agents(Agents::with_stored(&state.config, &state.client, &rows));
                        last = sig;
                    }
                }
                Err(e) => tracing::warn!(error = %e, "could not re-read the stored agents"),
            }
        }
    });
}
