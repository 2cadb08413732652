//! `POST /chat/completions` (also `/v1/...`, `/engines/{model}/...`, and Azure's
//! `/openai/deployments/{model}/...`).

use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::Response;
use llmgate::ChatCompletionRequest;

use super::proxy::{self, call_with_retries, error_response, json_response, sse_response};
use crate::state::AppState;

const ROUTE: &str = "/chat/completions";

pub async fn chat(State(state): State<AppState>, body: Bytes) -> Response {
    handle(state, None, body).await
}

/// Azure-style and engine paths name the model in the URL.
pub async fn chat_for_model(
    State(state): State<AppState>,
    Path(model): Path<String>,
    body: Bytes,
) -> Response {
    handle(state, Some(model), body).await
}

async fn handle(state: AppState, path_model: Option<String>, body: Bytes) -> Response {
    let start = Instant::now();
    let mut req: ChatCompletionRequest = match proxy::parse_body(&body) {
        Ok(r) => r,
        Err(e) => return error_response(e, None),
    };
    if let Some(m) = path_model {
        req.model = m;
    }
    if req.messages.is_empty() {
        return error_response(
            crate::error::GatewayError::BadRequest(
                "messages is a required field and must be a non-empty list".into(),
            ),
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
            async move { client.chat_stream(r, &dep.opts).await }
        })
        .await;
        return match res {
            Ok((stream, meta)) => {
                let public = group.clone();
                let dep = meta.deployment.clone();
                sse_response(
                    stream,
                    &meta,
                    move |c: &mut llmgate::ChatCompletionChunk| {
                        c.model.clone_from(&public);
                        // LiteLLM reports the call's cost in the final usage chunk.
                        if let Some(u) = c.usage.as_mut() {
                            if let Some(cost) = dep.cost(u) {
                                u.extra.insert("cost".into(), cost.into());
                            }
                        }
                    },
                )
            }
            Err((e, meta)) => error_response(e, meta.as_ref()),
        };
    }
    let res = call_with_retries(&state, ROUTE, &group, start, |dep, model| {
        let mut r = req.clone();
        r.model = model;
        let client = state.client.clone();
        async move { client.chat(r, &dep.opts).await }
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
