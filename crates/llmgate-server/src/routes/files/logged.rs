//! The spend rows an upload and a batch create leave, as LiteLLM's proxy logs them: one row
//! per call, `call_type` `acreate_file` / `acreate_batch`, spend 0 (a batch is charged once,
//! when a retrieve first sees it completed: `batches.rs`), `request_id` the object's id
//! (LiteLLM's `get_spend_logs_id` keys these calls by the object, so its cost row is
//! `{batch id}_batch_cost`), the target's deployment as model, the request's tags (its
//! `litellm_metadata.tags`, `metadata.tags`, `tags`) and the key's. A refused call is logged
//! as a failure with the provider's error.

use std::sync::Arc;
use std::time::Instant;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::Json;
use llmgate::{ErrorKind, LlmError};
use serde_json::Value;

use super::target::Target;
use crate::auth::AuthContext;
use crate::deployments::Deployment;
use crate::error::GatewayError;
use crate::governance::access;
use crate::governance::settle::{PromptTokens, Settlement};
use crate::state::AppState;

/// Nothing in an upload or a create is priced by its prompt.
struct Unpriced;

impl PromptTokens for Unpriced {
    fn prompt_tokens(&self, _model: &str) -> u64 {
        0
    }
}

/// What a handler made: the object the client gets, or the provider's refusal relayed.
pub enum Answer {
    Made(Value),
    Refused(Response, GatewayError),
}

/// The provider's error answer: OpenAI's, Azure's and Azure AI's relayed as they came (they
/// are OpenAI's shape already), another provider's classified into OpenAI's shape; logged with
/// its message.
pub async fn refused(res: reqwest::Response, provider: &str) -> Answer {
    let code = res.status().as_u16();
    let headers = llmgate::providers::http::header_pairs(res.headers());
    let body = res.bytes().await.unwrap_or_default();
    if !matches!(provider, "openai" | "azure" | "azure_ai") {
        let e = LlmError::from_upstream(code, headers, &body, provider);
        let out = GatewayError::Llm(e.clone()).into_response();
        return Answer::Refused(out, GatewayError::Llm(e));
    }
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_GATEWAY);
    let err = LlmError::new(
        ErrorKind::from_status(code),
        format!(
            "{provider} answered {code}: {}",
            String::from_utf8_lossy(&body[..body.len().min(2048)])
        ),
    )
    .with_provider(provider);
    let out = (status, [("content-type", "application/json")], body).into_response();
    Answer::Refused(out, GatewayError::Llm(err))
}

/// The deployment a call to `target` is logged as (the provider's catalog entry without one).
pub fn logged_as(state: &AppState, target: &Target) -> Arc<Deployment> {
    match &target.deployment {
        Some(d) => d.clone(),
        None => crate::routes::passthrough::priced_for(state, target.provider, None),
    }
}

/// The tags a request names: `litellm_metadata.tags` (LiteLLM's field on these routes),
/// `metadata.tags` and `tags`.
pub fn request_tags(litellm_metadata: Option<&Value>, body: Option<&Value>) -> Vec<String> {
    let from = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect()
    };
    let mut tags = from(litellm_metadata.and_then(|m| m.get("tags")));
    if let Some(b) = body {
        tags.extend(from(b.get("metadata").and_then(|m| m.get("tags"))));
        tags.extend(from(b.get("tags")));
    }
    tags.sort();
    tags.dedup();
    tags
}

/// An admitted upload or batch create, logged exactly once by [`Logged::end`].
pub struct Logged {
    settle: Settlement,
}

impl Logged {
    /// Admits the call (`super::admit`: budgets, limits, slot; the tags' budgets too).
    pub async fn admit(
        state: &AppState,
        auth: &AuthContext,
        target: &Target,
        call_type: &'static str,
        route: &'static str,
        tags: Vec<String>,
    ) -> Result<Logged, GatewayError> {
        for t in &tags {
            crate::routes::guard::stored("tags", t)?;
        }
        let mut admission = super::admit(state, auth, target).await?;
        access::check_tags(&state.gov, &mut admission.owners, auth, tags).await?;
        let mut settle = Settlement::new(
            &state.gov,
            auth,
            admission,
            call_type,
            route,
            Instant::now(),
            Arc::new(Unpriced),
        );
        settle.attempt(&logged_as(state, target));
        settle.fixed_cost(0.0);
        Ok(Logged { settle })
    }

    /// The tags the call is logged with (the request's and the key's).
    pub fn tags(&self) -> &[String] {
        self.settle.tags()
    }

    /// Logs how the call ended and gives the client its answer.
    pub fn end(mut self, answer: Result<Answer, GatewayError>) -> Result<Response, GatewayError> {
        match answer {
            Ok(Answer::Made(obj)) => {
                if let Some(id) = obj["id"].as_str() {
                    self.settle.response_id(id);
                }
                self.settle.success(None);
                Ok(Json(obj).into_response())
            }
            Ok(Answer::Refused(res, e)) => {
                self.settle.failure(&e);
                Ok(res)
            }
            Err(e) => {
                self.settle.failure(&e);
                Err(e)
            }
        }
    }
}
