//! `POST /utils/token_counter`.

use axum::body::Bytes;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::{json, Value};
use std::sync::OnceLock;
use tokio::sync::Semaphore;

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

/// Largest body `/utils/token_counter` counts: about a million tokens of text, a few seconds
/// of one core at most.
const MAX_COUNT_BYTES: usize = 4 << 20;

/// Tokenising is CPU work: it runs on blocking threads, at most this many at once, so the
/// async workers keep a core to serve every other request.
fn counting_slots() -> &'static Semaphore {
    static SLOTS: OnceLock<Semaphore> = OnceLock::new();
    SLOTS.get_or_init(|| {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Semaphore::new((cores - 1).max(1))
    })
}

/// Runs `count` off the async workers (see [`counting_slots`]).
async fn count_off_workers(count: impl FnOnce() -> usize + Send + 'static) -> Option<usize> {
    let _slot = counting_slots().acquire().await.ok()?;
    tokio::task::spawn_blocking(count).await.ok()
}

pub async fn token_counter(State(state): State<AppState>, body: Bytes) -> Response {
    if body.len() > MAX_COUNT_BYTES {
        return GatewayError::TooLarge(format!(
            "token_counter input is {} bytes; at most {MAX_COUNT_BYTES} bytes are counted",
            body.len()
        ))
        .into_response();
    }
    let req: TokenCountRequest = match parse_body(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    // Count with the deployment's underlying model when the name is a public alias.
    let picked = state.deployments().peek(&req.model);
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
    let counted = match (req.messages, req.prompt) {
        (Some(msgs), _) => {
            let bare = bare.clone();
            count_off_workers(move || llmgate::tokens::count_messages(&bare, &msgs)).await
        }
        (None, Some(p)) => {
            let bare = bare.clone();
            count_off_workers(move || llmgate::tokens::count_text(&bare, &p)).await
        }
        (None, None) => {
            return GatewayError::BadRequest("Either messages or prompt must be provided".into())
                .into_response()
        }
    };
    let Some(total) = counted else {
        return GatewayError::Internal("token counting failed".into()).into_response();
    };
    Json(json!({
        "total_tokens": total,
        "request_model": req.model,
        "model_used": model_used,
        "tokenizer_type": llmgate::tokens::tokenizer_name(&bare),
    }))
    .into_response()
}
