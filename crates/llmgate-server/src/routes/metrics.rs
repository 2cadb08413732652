//! `GET /metrics`: the Prometheus exposition, served when `callbacks` has `prometheus`. It
//! needs a key (any the gateway accepts) unless `require_auth_for_metrics_endpoint: false`,
//! LiteLLM 1.110's default.

use axum::extract::State;
use axum::http::{header, HeaderMap, HeaderValue};
use axum::response::{IntoResponse, Response};

use crate::error::GatewayError;
use crate::state::AppState;

pub async fn metrics(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let Some(m) = state.gov.observe.as_ref().and_then(|o| o.metrics.as_ref()) else {
        return GatewayError::NotFound(
            "Route not found: /metrics (add prometheus to litellm_settings.callbacks)".into(),
        )
        .into_response();
    };
    let open = crate::config::is(
        state
            .config
            .litellm_settings
            .extra
            .get("require_auth_for_metrics_endpoint"),
        false,
    );
    if !open {
        if let Err(e) = crate::auth::authenticate(&state, &headers).await {
            return e.into_response();
        }
    }
    let spend = state.gov.spend.as_ref().map(|w| {
        let s = w.write_stats();
        crate::observe::prometheus::SpendState {
            backlog: w.backlog(),
            batches: s.batches,
            failures: s.failures,
            last_write: s.last_write,
        }
    });
    let body = m.render(spend);
    let mut res = body.into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/openmetrics-text; version=1.0.0; charset=utf-8"),
    );
    res
}
