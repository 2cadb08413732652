//! The HTTP surface: every route, with and without the `/v1` prefix.

pub mod a2a;
pub mod activity;
pub mod admin;
pub mod agents_admin;
pub mod cache;
pub mod config_view;
pub mod endpoint;
pub mod entities;
pub mod fields;
pub mod files;
pub mod guard;
pub mod guardrails;
pub mod health;
pub mod invitations;
pub mod keys;
pub mod mcp;
pub mod mcp_admin;
pub mod mcp_toolsets;
pub mod media;
pub mod metrics;
pub mod model_info;
pub mod models;
pub mod object_permission;
pub mod passthrough;
pub mod proxy;
pub mod realtime;
pub mod responses;
pub mod spend;
pub mod spend_top;
pub mod utils;

use axum::extract::DefaultBodyLimit;
use axum::extract::State;
use axum::routing::{get, post, MethodRouter};
use axum::{middleware, Router};
use std::sync::Mutex;

use crate::auth::{require_key, require_key_or_session};
use crate::state::AppState;

pub fn router(state: AppState) -> Router {
    use endpoint::{serve, serve_for_model};
    type Chat = llmgate::ChatCompletionRequest;
    type Completion = llmgate::CompletionRequest;
    type Embedding = llmgate::EmbeddingRequest;
    type Rerank = llmgate::RerankRequest;
    let mut authed = Router::new();
    for prefix in ["", "/v1"] {
        authed = authed
            .add(
                &format!("{prefix}/chat/completions"),
                "POST",
                post(endpoint::mcp_loop::serve_chat),
            )
            .add(
                &format!("{prefix}/completions"),
                "POST",
                post(serve::<Completion>),
            )
            .add(
                &format!("{prefix}/embeddings"),
                "POST",
                post(serve::<Embedding>),
            )
            .add(&format!("{prefix}/rerank"), "POST", post(serve::<Rerank>))
            .add(
                &format!("{prefix}/responses"),
                "POST",
                post(endpoint::mcp_loop::serve_responses),
            )
            .add(
                &format!("{prefix}/responses/{{response_id}}"),
                "GET,DELETE",
                get(responses::retrieve).delete(responses::delete),
            )
            .add(
                &format!("{prefix}/responses/{{response_id}}/input_items"),
                "GET",
                get(responses::input_items),
            )
            .add(&format!("{prefix}/models"), "GET", get(model_info::list))
            .add(
                &format!("{prefix}/model/info"),
                "GET",
                get(model_info::info),
            )
            .add(
                &format!("{prefix}/messages"),
                "POST",
                post(endpoint::mcp_loop::serve_messages),
            )
            .add(
                &format!("{prefix}/messages/count_tokens"),
                "POST",
                post(endpoint::messages_count_tokens),
            )
            .add(
                &format!("{prefix}/utils/token_counter"),
                "POST",
                post(utils::token_counter),
            );
    }
    // Images, audio and moderations (`media/`).
    for prefix in ["", "/v1"] {
        for (path, mr) in media::routes() {
            authed = authed.add(&format!("{prefix}{path}"), "POST", mr);
        }
    }
    authed = files::add_routes(authed);
    // Azure's client and the old engines API name the model in the path.
    for base in ["/engines/{model}", "/openai/deployments/{model}"] {
        authed = authed
            .add(
                &format!("{base}/chat/completions"),
                "POST",
                post(serve_for_model::<Chat>),
            )
            .add(
                &format!("{base}/completions"),
                "POST",
                post(serve_for_model::<Completion>),
            )
            .add(
                &format!("{base}/embeddings"),
                "POST",
                post(serve_for_model::<Embedding>),
            );
    }
    authed = authed
        .add(
            "/v1/agents",
            "GET,POST",
            get(a2a::list).post(agents_admin::create),
        )
        .add(
            "/v1/agents/{agent_id}",
            "GET,PUT,PATCH,DELETE",
            get(agents_admin::get_one)
                .put(agents_admin::replace)
                .patch(agents_admin::patch)
                .delete(agents_admin::delete),
        )
        .add(
            "/a2a/{agent}/.well-known/agent-card.json",
            "GET",
            get(a2a::card),
        )
        .add("/a2a/{agent}/.well-known/agent.json", "GET", get(a2a::card))
        .add("/a2a/{agent}", "POST", post(a2a::invoke))
        .add("/a2a/{agent}/message/send", "POST", post(a2a::invoke))
        .add("/v1/a2a/{agent}/message/send", "POST", post(a2a::invoke))
        .add("/v2/rerank", "POST", post(serve::<Rerank>))
        .add("/model_group/info", "GET", get(model_info::group_info))
        .add("/guardrails/list", "GET", get(guardrails::list))
        .add("/v2/guardrails/list", "GET", get(guardrails::list_v2))
        .add("/routes", "GET", get(routes))
        .add("/health/services", "GET", get(health::services));
    if let Some(gw) = state.mcp.clone() {
        let svc = mcp::service(state.clone(), gw);
        let mut served = Router::new();
        for path in [
            "/mcp",
            "/mcp/",
            "/mcp/{server}",
            "/mcp/{server}/",
            "/toolset/{toolset}/mcp",
            "/toolset/{toolset}/mcp/",
        ] {
            served = served.route_service(path, svc.clone());
            let mut listed = LISTED.lock().unwrap_or_else(|e| e.into_inner());
            if !listed.iter().any(|(p, _)| p == path) {
                listed.push((path.to_string(), "GET,POST,DELETE"));
            }
        }
        // The legacy HTTP+SSE transport; `/mcp/sse` also speaks streamable HTTP (LiteLLM's).
        let sse = mcp::SseRoutes {
            sessions: Default::default(),
            svc: svc.clone(),
        };
        served = served
            .add(
                "/mcp/sse",
                "GET,POST,DELETE",
                get(mcp::sse_open)
                    .post_service(svc.clone())
                    .delete_service(svc.clone()),
            )
            .add("/mcp/{server}/sse", "GET", get(mcp::sse_open_one))
            .add("/mcp/sse/messages", "POST", post(mcp::sse_message))
            .layer(axum::Extension(sse));
        authed = authed
            .merge(served.layer(middleware::from_fn(mcp::session_closed)))
            .add("/mcp-rest/tools/list", "GET", get(mcp::tools_list))
            .add("/mcp-rest/tools/call", "POST", post(mcp::tools_call));
    }
    // The admin API: everything it is sent may reach the database.
    let mut admin = Router::new()
        .add("/model/new", "POST", post(models::new))
        .add("/model/update", "POST", post(models::update))
        .add("/model/block", "POST", post(models::block))
        .add("/model/unblock", "POST", post(models::unblock))
        .add(
            "/model/{model_id}/update",
            "PATCH",
            axum::routing::patch(models::patch),
        )
        .add("/model/delete", "POST", post(models::delete))
        .add("/key/generate", "POST", post(keys::generate))
        .add("/key/info", "GET", get(keys::info))
        .add("/key/update", "POST", post(keys::update))
        .add("/key/delete", "POST", post(keys::delete))
        .add("/key/list", "GET", get(keys::list))
        .add("/key/block", "POST", post(keys::block))
        .add("/key/unblock", "POST", post(keys::unblock))
        .add("/key/regenerate", "POST", post(keys::regenerate))
        .add(
            "/key/health",
            "GET,POST",
            post(keys::health).get(keys::health),
        )
        .add("/key/{key}/regenerate", "POST", post(keys::regenerate))
        .add("/user/new", "POST", post(entities::user_new))
        .add("/user/info", "GET", get(entities::user_info))
        .add("/user/update", "POST", post(entities::user_update))
        .add("/user/delete", "POST", post(entities::user_delete))
        .add("/user/list", "GET", get(entities::user_list))
        .add("/team/new", "POST", post(entities::team_new))
        .add("/team/info", "GET", get(entities::team_info))
        .add("/team/update", "POST", post(entities::team_update))
        .add("/team/delete", "POST", post(entities::team_delete))
        .add("/team/list", "GET", get(entities::team_list))
        .add("/v2/team/list", "GET", get(entities::team_list_v2))
        .add("/team/member_add", "POST", post(entities::team_member_add))
        .add(
            "/team/member_delete",
            "POST",
            post(entities::team_member_delete),
        )
        .add(
            "/team/member_update",
            "POST",
            post(entities::team_member_update),
        )
        .add("/team/block", "POST", post(entities::team_block))
        .add("/team/unblock", "POST", post(entities::team_unblock))
        .add("/budget/new", "POST", post(entities::budget_new))
        .add("/budget/info", "POST", post(entities::budget_info))
        .add("/budget/update", "POST", post(entities::budget_update))
        .add("/budget/delete", "POST", post(entities::budget_delete))
        .add("/budget/list", "GET", get(entities::budget_list))
        .add("/organization/new", "POST", post(entities::org_new))
        .add("/organization/info", "GET", get(entities::org_info))
        .add(
            "/organization/update",
            "POST,PATCH",
            post(entities::org_update).patch(entities::org_update),
        )
        .add(
            "/organization/delete",
            "POST,DELETE",
            post(entities::org_delete).delete(entities::org_delete),
        )
        .add("/organization/list", "GET", get(entities::org_list))
        .add(
            "/organization/member_add",
            "POST",
            post(entities::org_member_add),
        )
        .add(
            "/organization/member_update",
            "PATCH,POST",
            axum::routing::patch(entities::org_member_update).post(entities::org_member_update),
        )
        .add(
            "/organization/member_delete",
            "DELETE,POST",
            axum::routing::delete(entities::org_member_delete).post(entities::org_member_delete),
        )
        .add("/tag/new", "POST", post(entities::tag_new))
        .add("/tag/update", "POST", post(entities::tag_update))
        .add("/tag/info", "POST", post(entities::tag_info))
        .add("/tag/list", "GET", get(entities::tag_list))
        .add("/tag/delete", "POST", post(entities::tag_delete))
        .add(
            "/v1/mcp/server",
            "GET,POST,PUT",
            get(mcp_admin::list)
                .post(mcp_admin::create)
                .put(mcp_admin::update),
        )
        .add(
            "/v1/mcp/server/{server_id}",
            "GET,DELETE",
            get(mcp_admin::get_one).delete(mcp_admin::delete),
        )
        .add(
            "/v1/mcp/toolset",
            "GET,POST,PUT",
            get(mcp_toolsets::list)
                .post(mcp_toolsets::create)
                .put(mcp_toolsets::update),
        )
        .add(
            "/v1/mcp/toolset/{toolset_id}",
            "GET,DELETE",
            get(mcp_toolsets::get_one).delete(mcp_toolsets::delete),
        )
        .add("/v1/mcp/tools", "GET", get(mcp_admin::tools))
        .add(
            "/v1/mcp/access_groups",
            "GET",
            get(mcp_admin::access_groups),
        )
        .add("/cache/ping", "GET", get(cache::ping))
        .add("/cache/delete", "POST", post(cache::delete))
        .add("/cache/flushall", "POST", post(cache::flushall))
        .add("/cache/redis/info", "GET", get(cache::redis_info))
        .add("/spend/logs", "GET", get(spend::logs))
        .add("/spend/logs/ui", "GET", get(spend::logs_ui))
        .add("/global/spend", "GET", get(spend::global))
        .add("/global/spend/report", "GET", get(spend::report))
        .add("/global/spend/keys", "GET", get(spend_top::keys))
        .add("/global/spend/models", "GET", get(spend_top::models))
        .add("/global/spend/teams", "GET", get(spend_top::teams))
        .add("/user/daily/activity", "GET", get(activity::user))
        .add("/team/daily/activity", "GET", get(activity::team))
        .add(
            "/organization/daily/activity",
            "GET",
            get(activity::organization),
        )
        .add("/customer/daily/activity", "GET", get(activity::customer))
        .add("/tag/daily/activity", "GET", get(activity::tag))
        .add("/get/config/callbacks", "GET", get(config_view::callbacks))
        .add("/invitation/new", "POST", post(invitations::new))
        .add("/invitation/info", "GET", get(invitations::info))
        .add("/invitation/update", "POST", post(invitations::update))
        .add("/invitation/delete", "POST", post(invitations::delete));
    // The dashboard's model page reads this one too.
    admin = admin
        .add("/v2/model/info", "GET", get(model_info::info_v2))
        // Its "test" button this one (`?model=`), its settings page the next.
        .add("/health", "GET", get(health::health))
        .add(
            "/health/readiness/details",
            "GET",
            get(health::readiness_details),
        );
    // LiteLLM serves end users under both names.
    for base in ["/customer", "/end_user"] {
        admin = admin
            .add(&format!("{base}/new"), "POST", post(entities::customer_new))
            .add(&format!("{base}/info"), "GET", get(entities::customer_info))
            .add(
                &format!("{base}/update"),
                "POST",
                post(entities::customer_update),
            )
            .add(
                &format!("{base}/delete"),
                "POST",
                post(entities::customer_delete),
            )
            .add(
                &format!("{base}/block"),
                "POST",
                post(entities::customer_block),
            )
            .add(
                &format!("{base}/unblock"),
                "POST",
                post(entities::customer_unblock),
            )
            .add(&format!("{base}/list"), "GET", get(entities::customer_list));
    }
    // The management API also takes the dashboard's session cookie (with its CSRF token).
    let admin = admin
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            crate::observe::alerting::events::management_alerts,
        ))
        .route_layer(middleware::from_fn(guard::admin_input))
        .route_layer(middleware::from_fn_with_state(
            state.clone(),
            require_key_or_session,
        ));
    // The realtime WebSocket: a browser's key comes as a subprotocol, read before the key check.
    let realtime = Router::new()
        .add("/v1/realtime", "GET", get(realtime::realtime))
        .add("/realtime", "GET", get(realtime::realtime))
        .route_layer(middleware::from_fn_with_state(state.clone(), require_key))
        .route_layer(middleware::from_fn(realtime::key_from_subprotocol));
    let authed = authed
        .route_layer(middleware::from_fn_with_state(state.clone(), require_key))
        .merge(admin)
        .merge(realtime);

    let open = Router::new()
        .add("/health/liveliness", "GET", get(health::liveliness))
        .add("/health/liveness", "GET", get(health::liveliness))
        .add("/health/readiness", "GET", get(health::readiness))
        // Its own auth: open when `require_auth_for_metrics_endpoint: false`.
        .add("/metrics", "GET", get(metrics::metrics))
        .add("/metrics/", "GET", get(metrics::metrics))
        // The dashboard and its login (LiteLLM's `/login` form and `/v2/login`).
        .add("/login", "POST", post(crate::ui::session::login_form))
        .add("/v2/login", "POST", post(crate::ui::session::login_json))
        .add("/logout", "POST", post(crate::ui::session::logout))
        .add("/ui/session", "GET", get(crate::ui::session::whoami))
        // An invitation is its own credential.
        .add("/onboarding/get_token", "GET", get(invitations::get_token))
        .add(
            "/onboarding/claim_token",
            "POST",
            post(invitations::claim_token),
        )
        .add("/ui", "GET", get(crate::ui::root))
        .add("/ui/", "GET", get(crate::ui::index))
        .add("/ui/{file}", "GET", get(crate::ui::asset));

    // The config's own pass-through endpoints answer what no route took (else a 404).
    let custom = passthrough::custom::Endpoints::from_config(&state.config).unwrap_or_else(|e| {
        tracing::error!(error = %e, "custom pass-through endpoints are off");
        Default::default()
    });
    authed
        .merge(open)
        .merge(passthrough::router(&state))
        .fallback(
            move |State(state): State<AppState>, req: axum::extract::Request| {
                let custom = custom.clone();
                async move { custom.serve(state, req).await }
            },
        )
        // The listener limits bodies (`max_request_size_mb`) while they are read: `conn.rs`.
        .layer(DefaultBodyLimit::disable())
        .with_state(state)
}

/// Every route the router serves, as `/routes` lists them (LiteLLM's `get_routes`).
static LISTED: Mutex<Vec<(String, &'static str)>> = Mutex::new(Vec::new());

/// Lists a route for `/routes` (for routers built outside this table).
pub(crate) fn list_route(path: &str, methods: &'static str) {
    let mut listed = LISTED.lock().unwrap_or_else(|e| e.into_inner());
    if !listed.iter().any(|(p, _)| p == path) {
        listed.push((path.to_string(), methods));
    }
}

/// `Router::route` that also lists the route for `/routes`.
trait Listed {
    fn add(self, path: &str, methods: &'static str, mr: MethodRouter<AppState>) -> Self;
}

impl Listed for Router<AppState> {
    fn add(self, path: &str, methods: &'static str, mr: MethodRouter<AppState>) -> Self {
        let mut listed = LISTED.lock().unwrap_or_else(|e| e.into_inner());
        if !listed.iter().any(|(p, _)| p == path) {
            listed.push((path.to_string(), methods));
        }
        self.route(path, mr)
    }
}

async fn routes() -> axum::Json<serde_json::Value> {
    let listed = LISTED.lock().unwrap_or_else(|e| e.into_inner());
    let routes: Vec<serde_json::Value> = listed
        .iter()
        .map(|(path, methods)| {
            let methods: Vec<&str> = methods.split(',').collect();
            serde_json::json!({"path": path, "methods": methods, "name": path, "endpoint": path})
        })
        .collect();
    axum::Json(serde_json::json!({ "routes": routes }))
}
