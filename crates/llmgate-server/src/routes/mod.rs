//! The HTTP surface: every route, with and without the `/v1` prefix.

pub mod chat;
pub mod completions;
pub mod embeddings;
pub mod health;
pub mod models;
pub mod proxy;
pub mod utils;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{middleware, Router};

use crate::auth::require_key;
use crate::state::AppState;

/// Requests with inline images or files can be large; LiteLLM sets no limit of its own.
const MAX_BODY: usize = 100 * 1024 * 1024;

pub fn router(state: AppState) -> Router {
    let mut authed = Router::new();
    for prefix in ["", "/v1"] {
        authed = authed
            .route(&format!("{prefix}/chat/completions"), post(chat::chat))
            .route(
                &format!("{prefix}/completions"),
                post(completions::completions),
            )
            .route(
                &format!("{prefix}/embeddings"),
                post(embeddings::embeddings),
            )
            .route(&format!("{prefix}/models"), get(models::list))
            .route(&format!("{prefix}/model/info"), get(models::info))
            .route(
                &format!("{prefix}/utils/token_counter"),
                post(utils::token_counter),
            );
    }
    authed = authed
        .route(
            "/engines/{model}/chat/completions",
            post(chat::chat_for_model),
        )
        .route(
            "/openai/deployments/{model}/chat/completions",
            post(chat::chat_for_model),
        )
        .route(
            "/engines/{model}/completions",
            post(completions::completions_for_model),
        )
        .route(
            "/openai/deployments/{model}/completions",
            post(completions::completions_for_model),
        )
        .route(
            "/engines/{model}/embeddings",
            post(embeddings::embeddings_for_model),
        )
        .route(
            "/openai/deployments/{model}/embeddings",
            post(embeddings::embeddings_for_model),
        )
        .route("/health", get(health::health))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_key));

    let open = Router::new()
        .route("/health/liveliness", get(health::liveliness))
        .route("/health/liveness", get(health::liveliness))
        .route("/health/readiness", get(health::readiness));

    authed
        .merge(open)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> crate::error::GatewayError {
    crate::error::GatewayError::NotFound(format!("Route not found: {}", uri.path()))
}
