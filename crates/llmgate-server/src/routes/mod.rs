//! The HTTP surface: every route, with and without the `/v1` prefix.

pub mod activity;
pub mod admin;
pub mod endpoint;
pub mod entities;
pub mod fields;
pub mod guard;
pub mod health;
pub mod keys;
pub mod model_info;
pub mod models;
pub mod proxy;
pub mod spend;
pub mod utils;

use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post};
use axum::{middleware, Router};

use crate::auth::require_key;
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    use endpoint::{serve, serve_for_model};
    type Chat = llmgate::ChatCompletionRequest;
    type Completion = llmgate::CompletionRequest;
    type Embedding = llmgate::EmbeddingRequest;
    let mut authed = Router::new();
    for prefix in ["", "/v1"] {
        authed = authed
            .route(&format!("{prefix}/chat/completions"), post(serve::<Chat>))
            .route(&format!("{prefix}/completions"), post(serve::<Completion>))
            .route(&format!("{prefix}/embeddings"), post(serve::<Embedding>))
            .route(&format!("{prefix}/models"), get(model_info::list))
            .route(&format!("{prefix}/model/info"), get(model_info::info))
            .route(
                &format!("{prefix}/utils/token_counter"),
                post(utils::token_counter),
            );
    }
    // Azure's client and the old engines API name the model in the path.
    for base in ["/engines/{model}", "/openai/deployments/{model}"] {
        authed = authed
            .route(
                &format!("{base}/chat/completions"),
                post(serve_for_model::<Chat>),
            )
            .route(
                &format!("{base}/completions"),
                post(serve_for_model::<Completion>),
            )
            .route(
                &format!("{base}/embeddings"),
                post(serve_for_model::<Embedding>),
            );
    }
    authed = authed
        .route("/health", get(health::health))
        .route("/v2/model/info", get(model_info::info_v2))
        .route("/model_group/info", get(model_info::group_info));
    // The admin API: everything it is sent may reach the database.
    let mut admin = Router::new()
        .route("/model/new", post(models::new))
        .route("/model/update", post(models::update))
        .route(
            "/model/{model_id}/update",
            axum::routing::patch(models::patch),
        )
        .route("/model/delete", post(models::delete))
        .route("/key/generate", post(keys::generate))
        .route("/key/info", get(keys::info))
        .route("/key/update", post(keys::update))
        .route("/key/delete", post(keys::delete))
        .route("/key/list", get(keys::list))
        .route("/key/block", post(keys::block))
        .route("/key/unblock", post(keys::unblock))
        .route("/key/regenerate", post(keys::regenerate))
        .route("/key/health", post(keys::health).get(keys::health))
        .route("/key/{key}/regenerate", post(keys::regenerate))
        .route("/user/new", post(entities::user_new))
        .route("/user/info", get(entities::user_info))
        .route("/user/update", post(entities::user_update))
        .route("/user/delete", post(entities::user_delete))
        .route("/user/list", get(entities::user_list))
        .route("/team/new", post(entities::team_new))
        .route("/team/info", get(entities::team_info))
        .route("/team/update", post(entities::team_update))
        .route("/team/delete", post(entities::team_delete))
        .route("/team/list", get(entities::team_list))
        .route("/team/member_add", post(entities::team_member_add))
        .route("/team/member_delete", post(entities::team_member_delete))
        .route("/team/member_update", post(entities::team_member_update))
        .route("/team/block", post(entities::team_block))
        .route("/team/unblock", post(entities::team_unblock))
        .route("/budget/new", post(entities::budget_new))
        .route("/budget/info", post(entities::budget_info))
        .route("/budget/update", post(entities::budget_update))
        .route("/budget/delete", post(entities::budget_delete))
        .route("/budget/list", get(entities::budget_list))
        .route("/organization/new", post(entities::org_new))
        .route("/organization/info", get(entities::org_info))
        .route(
            "/organization/update",
            post(entities::org_update).patch(entities::org_update),
        )
        .route(
            "/organization/delete",
            post(entities::org_delete).delete(entities::org_delete),
        )
        .route("/organization/list", get(entities::org_list))
        .route("/organization/member_add", post(entities::org_member_add))
        .route("/tag/new", post(entities::tag_new))
        .route("/tag/update", post(entities::tag_update))
        .route("/tag/info", post(entities::tag_info))
        .route("/tag/list", get(entities::tag_list))
        .route("/tag/delete", post(entities::tag_delete))
        .route("/spend/logs", get(spend::logs))
        .route("/global/spend", get(spend::global))
        .route("/global/spend/report", get(spend::report))
        .route("/user/daily/activity", get(activity::user))
        .route("/team/daily/activity", get(activity::team))
        .route("/organization/daily/activity", get(activity::organization))
        .route("/customer/daily/activity", get(activity::customer))
        .route("/tag/daily/activity", get(activity::tag));
    // LiteLLM serves end users under both names.
    for base in ["/customer", "/end_user"] {
        admin = admin
            .route(&format!("{base}/new"), post(entities::customer_new))
            .route(&format!("{base}/info"), get(entities::customer_info))
            .route(&format!("{base}/update"), post(entities::customer_update))
            .route(&format!("{base}/delete"), post(entities::customer_delete))
            .route(&format!("{base}/block"), post(entities::customer_block))
            .route(&format!("{base}/unblock"), post(entities::customer_unblock))
            .route(&format!("{base}/list"), get(entities::customer_list));
    }
    let admin = admin.route_layer(middleware::from_fn(guard::admin_input));
    let authed = authed
        .merge(admin)
        .route_layer(middleware::from_fn_with_state(state.clone(), require_key));

    let open = Router::new()
        .route("/health/liveliness", get(health::liveliness))
        .route("/health/liveness", get(health::liveliness))
        .route("/health/readiness", get(health::readiness));

    authed
        .merge(open)
        .fallback(not_found)
        // The listener limits bodies (`max_request_size_mb`) while they are read: `conn.rs`.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

async fn not_found(uri: axum::http::Uri) -> crate::error::GatewayError {
    crate::error::GatewayError::NotFound(format!("Route not found: {}", uri.path()))
}
