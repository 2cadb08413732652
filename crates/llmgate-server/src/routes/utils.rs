//! `POST /utils/token_counter`.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};

use super::proxy::parse_body;
use crate::error::GatewayError;
use crate::state::AppState;

#[derive(Deserialize)]
struct TokenCountRequest {
    model: String,
    #[serde(default)]
    messages: Option<Vec<Value>>,
    #[serde(default)]
    prompt: Option<String>,
    /// Count with the provider's own endpoint (Anthropic, Gemini, Vertex AI), as LiteLLM's flag.
    #[serde(default)]
    call_endpoint: bool,
}

pub async fn token_counter(State(state): State<AppState>, body: Bytes) -> Response {
    let req: TokenCountRequest = match parse_body(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    // Count with the deployment's underlying model when the name is a public alias.
    let picked = state.deployments().pick(&req.model, &[]);
    if let (true, Some((dep, model)), Some(msgs)) = (req.call_endpoint, &picked, &req.messages) {
        let chat: Result<llmgate::ChatCompletionRequest, _> =
            serde_json::from_value(json!({"model": model, "messages": msgs}));
        let chat = match chat {
            Ok(c) => c,
            Err(e) => {
                return GatewayError::BadRequest(format!("invalid messages: {e}")).into_response()
            }
        };
        return match state.client.count_tokens(chat, &dep.opts).await {
            Ok(n) => Json(json!({
                "total_tokens": n,
                "request_model": req.model,
                "model_used": model,
                "tokenizer_type": "provider_api",
            }))
            .into_response(),
            Err(e) => GatewayError::Llm(e).into_response(),
        };
    }
    let model_used = picked.map(|(_, m)| m).unwrap_or_else(|| req.model.clone());
    let bare = model_used
        .rsplit('/')
        .next()
        .unwrap_or(&model_used)
        .to_string();
    let total = match (&req.messages, &req.prompt) {
        (Some(msgs), _) => llmgate::tokens::count_messages(&bare, msgs),
        (None, Some(p)) => llmgate::tokens::count_text(&bare, p),
        (None, None) => {
            return GatewayError::BadRequest("Either messages or prompt must be provided".into())
                .into_response()
        }
    };
    Json(json!({
        "total_tokens": total,
        "request_model": req.model,
        "model_used": model_used,
        "tokenizer_type": llmgate::tokens::tokenizer_name(&bare),
    }))
    .into_response()
}
