//! The models kept in the database (`LiteLLM_ProxyModelTable`), served beside the config's: read
//! at start, re-read by every instance on a timer (another may have changed them), decrypted
//! with the salt key.

use std::time::Duration;

use llmgate_store::models::{ModelRow, MODELS};
use llmgate_store::Store;
use serde_json::{json, Map, Value};

use crate::config::ModelEntry;
use crate::error::GatewayError;
use crate::state::AppState;

/// How often an instance re-reads the database's models (others may have changed them);
/// `LLMGATE_MODEL_REFRESH_SECONDS` overrides it.
const REFRESH: Duration = Duration::from_secs(10);

fn refresh_interval() -> Duration {
    std::env::var("LLMGATE_MODEL_REFRESH_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0)
        .map(Duration::from_secs_f64)
        .unwrap_or(REFRESH)
}

/// The database's model rows.
async fn db_rows(store: &Store) -> Result<Vec<ModelRow>, GatewayError> {
    Ok(MODELS
        .list::<ModelRow>(store, &[], 1, 100_000)
        .await
        .map_err(GatewayError::store)?
        .0)
}

/// The rows as config entries: params decrypted, `model_info.id` = `model_id`, a blocked row
/// with `model_info.blocked` (the router never picks it; a group of blocked ones answers
/// 503). A row that cannot be read is skipped (and logged), never fatal.
fn entries(state: &AppState, rows: &[ModelRow]) -> Vec<ModelEntry> {
    rows.iter()
        .filter_map(|r| match entry_of(state, r) {
            Ok(e) => Some(e),
            Err(e) => {
                tracing::warn!(model_id = %r.model_id, error = %e, "skipping a stored model");
                None
            }
        })
        .collect()
}

fn entry_of(state: &AppState, row: &ModelRow) -> Result<ModelEntry, String> {
    let stored = row.litellm_params.as_object().cloned().unwrap_or_default();
    let params = match &state.salt {
        Some(k) => k.decrypt_params(&stored),
        None => stored,
    };
    let mut info = row.model_info.as_object().cloned().unwrap_or_default();
    info.insert("id".into(), json!(row.model_id));
    if row.blocked {
        info.insert("blocked".into(), json!(true));
    }
    entry_from_json(&row.model_name, params, info)
}

/// Checks a model the way the config loader does (same field errors).
pub fn entry_from_json(
    model_name: &str,
    params: Map<String, Value>,
    info: Map<String, Value>,
) -> Result<ModelEntry, String> {
    serde_json::from_value(json!({
        "model_name": model_name,
        "litellm_params": params,
        "model_info": info,
    }))
    .map_err(|e| e.to_string())
}

/// What identifies a version of the stored models: id, last update, blocked.
pub type Signature = Vec<(String, Option<i64>, bool)>;

fn signature(rows: &[ModelRow]) -> Signature {
    rows.iter()
        .map(|r| (r.model_id.clone(), r.updated_at, r.blocked))
        .collect()
}

/// Re-reads the database's models and serves them with the config's; returns what it read.
pub async fn reload(state: &AppState) -> Result<Signature, GatewayError> {
    let Some(store) = &state.gov.store else {
        return Ok(Signature::new());
    };
    let rows = db_rows(store).await?;
    state.set_db_models(&entries(state, &rows));
    Ok(signature(&rows))
}

/// After a `/model/*` change: this instance reloads, and tells the fleet to (Redis pub/sub or
/// PostgreSQL NOTIFY), so every instance serves the change within milliseconds — or at its
/// next refresh ([`REFRESH`]) when the message is lost.
pub async fn changed(state: &AppState) -> Result<Signature, GatewayError> {
    let sig = reload(state).await?;
    state.gov.keys.fleet.publish("models", "*");
    Ok(sig)
}

/// Keeps this instance's models in step with the database, rebuilding only on a change from
/// `last` (what the start-up [`reload`] read).
pub fn spawn_refresh(state: AppState, mut last: Option<Signature>) {
    let Some(store) = state.gov.store.clone() else {
        return;
    };
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(refresh_interval());
        tick.tick().await;
        loop {
            // On the timer, or at once when another instance says it changed them.
            tokio::select! {
                _ = tick.tick() => {}
                _ = state.gov.keys.fleet.models_changed.notified() => {}
            }
            match db_rows(&store).await {
                Ok(rows) => {
                    let sig = signature(&rows);
                    if last.as_ref() != Some(&sig) {
                        state.set_db_models(&entries(&state, &rows));
                        last = Some(sig);
                    }
                }
                Err(e) => tracing::warn!(error = ?e, "could not re-read the database's models"),
            }
        }
    });
}
