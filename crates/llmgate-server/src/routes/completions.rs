//! Legacy `POST /completions`.

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use llmgate::CompletionRequest;

use super::proxy::{self, call_with_retries, error_response, json_response, sse_response};
use crate::error::GatewayError;
use crate::state::AppState;

const ROUTE: &str = "/completions";

pub async fn completions(State(state): State<AppState>, body: Bytes) -> Response {
    handle(state, None, body).await
}

pub async fn completions_for_model(
    State(state): State<AppState>,
    Path(model): Path<String>,
    body: Bytes,
) -> Response {
    handle(state, Some(model), body).await
}

async fn handle(state: AppState, path_model: Option<String>, body: Bytes) -> Response {
    let start = Instant::now();
    let mut req: CompletionRequest = match proxy::parse_body(&body) {
        Ok(r) => r,
        Err(e) => return error_response(e, None),
    };
    if let Some(m) = path_model {
        req.model = m;
    }
    if req.prompt.is_null() {
        return error_response(
            GatewayError::BadRequest("prompt is a required field".into()),
            None,
        );
    }
    proxy::strip_proxy_fields(&mut req.extra);
    let group = req.model.clone();
    if req.is_stream() {
        let res = call_with_retries(&state, ROUTE, &group, start, |dep, model| {
            let mut r = req.clone();
            r.model = model;
            let client = state.client.clone();
            async move { client.text_completion_stream(r, &dep.opts).await }
        })
        .await;
        return match res {
            Ok((stream, meta)) => {
                let public = group.clone();
                sse_response(stream, &meta, move |c: &mut llmgate::CompletionResponse| {
                    c.model.clone_from(&public);
                })
            }
            Err((e, meta)) => error_response(e, meta.as_ref()),
        };
    }
    let res = call_with_retries(&state, ROUTE, &group, start, |dep, model| {
        let mut r = req.clone();
        r.model = model;
        let client = state.client.clone();
        async move { client.text_completion(r, &dep.opts).await }
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
