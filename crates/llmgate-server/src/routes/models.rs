//! `GET /models` and `GET /model/info`.

use axum::extract::State;
use axum::{Extension, Json};
use serde_json::{json, Map, Value};

use crate::deployments::Deployment;
use crate::state::AppState;

/// LiteLLM reports this fixed `created` for every model.
const CREATED: u64 = 1677610602;

pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<crate::auth::AuthContext>,
) -> Json<Value> {
    let data: Vec<Value> = state
        .deployments
        .names()
        .iter()
        // A key sees only the models it may call.
        .filter(|name| {
            auth.key
                .as_ref()
                .is_none_or(|k| crate::keys::access::may_call(k, name))
        })
        .map(|name| {
            let mut m =
                json!({"id": name, "object": "model", "created": CREATED, "owned_by": "openai"});
            // LiteLLM 1.110 adds what the catalog knows of the group's model.
            let info = state
                .deployments
                .group(name)
                .and_then(|g| g[0].info.as_ref());
            if let Some(info) = info {
                m["mode"] = json!(info.mode);
                if let Some(n) = info.max_input_tokens {
                    m["max_input_tokens"] = json!(n);
                }
                if let Some(n) = info.max_output_tokens {
                    m["max_output_tokens"] = json!(n);
                }
            }
            m
        })
        .collect();
    Json(json!({"data": data, "object": "list"}))
}

pub async fn info(State(state): State<AppState>) -> Json<Value> {
    let data: Vec<Value> = state
        .deployments
        .all()
        .iter()
        .map(|d| model_info(d))
        .collect();
    Json(json!({ "data": data }))
}

/// One deployment as `/model/info` shows it: credentials never included.
pub fn public_params(d: &Deployment) -> Map<String, Value> {
    let mut params = match serde_json::to_value(&d.entry.litellm_params) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    params.retain(|k, v| !v.is_null() && !crate::config::secret_looking(k));
    params
}

fn model_info(d: &Deployment) -> Value {
    let mut info = match d.info.as_ref().map(serde_json::to_value) {
        Some(Ok(Value::Object(m))) => m,
        _ => Map::new(),
    };
    for (k, v) in &d.entry.model_info.extra {
        info.insert(k.clone(), v.clone());
    }
    info.insert("id".into(), json!(d.id));
    info.insert("db_model".into(), json!(false));
    let provider = llmgate::providers::resolve(&d.model, None)
        .map(|r| r.provider.name().to_string())
        .unwrap_or_default();
    info.entry("litellm_provider").or_insert(json!(provider));
    json!({
        "model_name": d.model_name,
        "litellm_params": public_params(d),
        "model_info": info,
    })
}
