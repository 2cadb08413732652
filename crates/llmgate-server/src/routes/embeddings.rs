//! `POST /embeddings`.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use llmgate::EmbeddingRequest;

use super::proxy::{self, call_with_retries, error_response, json_response};
use crate::error::GatewayError;
use crate::state::AppState;

const ROUTE: &str = "/embeddings";

pub async fn embeddings(State(state): State<AppState>, body: Bytes) -> Response {
    handle(state, None, body).await
}

pub async fn embeddings_for_model(
    State(state): State<AppState>,
    Path(model): Path<String>,
    body: Bytes,
) -> Response {
    handle(state, Some(model), body).await
}

async fn handle(state: AppState, path_model: Option<String>, body: Bytes) -> Response {
    let start = Instant::now();
    let mut req: EmbeddingRequest = match proxy::parse_body(&body) {
        Ok(r) => r,
        Err(e) => return error_response(e, None),
    };
    if let Some(m) = path_model {
        req.model = m;
    }
    if req.input.is_null() {
        return error_response(
            GatewayError::BadRequest("input is a required field".into()),
            None,
        );
    }
    proxy::strip_proxy_fields(&mut req.extra);
    let group = req.model.clone();
    let res = call_with_retries(&state, ROUTE, &group, start, |dep, model| {
        let mut r = req.clone();
        r.model = model;
        let client = state.client.clone();
        async move { client.embedding(r, &dep.opts).await }
    })
    .await;
    match res {
        Ok((mut answer, meta)) => {
            answer.model = group;
            let cost = answer.usage.as_ref().and_then(|u| meta.deployment.cost(u));
            json_response(&answer, &meta, cost)
        }
        Err((e, meta)) => error_response(e, meta.as_ref()),
    }
}
