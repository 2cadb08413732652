//! `GET /guardrails/list` and `/v2/guardrails/list`: the configured guardrails in LiteLLM's
//! `ListGuardrailsResponse` shape (type, mode and `default_on`; never a credential).

use axum::extract::State;
use axum::Json;
use serde_json::{json, Value};

use crate::state::AppState;

fn listed(state: &AppState, v2: bool) -> Value {
    let list: Vec<Value> = state
        .guardrails
        .iter()
        .flat_map(|g| g.entries.iter())
        .map(|e| crate::guardrails::list_entry(e, v2))
        .collect();
    json!({ "guardrails": list })
}

pub async fn list(State(state): State<AppState>) -> Json<Value> {
    Json(listed(&state, false))
}

pub async fn list_v2(State(state): State<AppState>) -> Json<Value> {
    Json(listed(&state, true))
}
