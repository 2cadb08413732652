//! One SDK call from Python: the request body and LiteLLM's `litellm_params` in, the answer
//! (with LiteLLM's `_hidden_params`) out, run on the shared Tokio runtime with the GIL released.

use std::future::Future;
use std::time::Duration;

use llmgate::catalog::{self, CostInput, ModelInfo};
use llmgate::router::Deployment;
use llmgate::{CallOptions, ErrorKind, LlmError, Usage};
use pyo3::prelude::*;
use serde_json::{json, Map, Value};

use crate::convert::to_value;
use crate::errors;

/// The runtime every call and stream runs on (pyo3-async-runtimes' multi-threaded one, so
/// awaitables handed to asyncio and blocking calls share one connection pool).
pub fn runtime() -> &'static tokio::runtime::Runtime {
    pyo3_async_runtimes::tokio::get_runtime()
}

/// Runs `fut` to completion for a synchronous Python call, the GIL released meanwhile.
pub fn block_on<T: Send>(
    py: Python<'_>,
    fut: impl Future<Output = Result<T, LlmError>> + Send,
) -> PyResult<T> {
    py.detach(|| runtime().block_on(fut)).map_err(errors::to_py)
}

/// A call's settings: the deployment (`model` and its options) and what the binding does
/// around the SDK (retries, custom prices).
#[derive(Clone)]
pub struct Call {
    pub model: String,
    pub opts: CallOptions,
    pub num_retries: u32,
    params: Map<String, Value>,
}

impl Call {
    /// From LiteLLM's per-call `litellm_params` (a dict with at least `model`).
    pub fn from_py(params: &Bound<'_, PyAny>) -> PyResult<Call> {
        let Value::Object(params) = to_value(params)? else {
            return Err(errors::bad_request("call parameters must be a mapping"));
        };
        let d = Deployment::from_litellm_params(&params);
        if d.model.is_empty() {
            return Err(errors::bad_request("model is required"));
        }
        let num_retries = match params.get("num_retries") {
            None | Some(Value::Null) => 0,
            Some(v) => v
                .as_u64()
                .and_then(|n| u32::try_from(n).ok())
                .ok_or_else(|| errors::bad_request("num_retries must be a whole number"))?,
        };
        Ok(Call {
            model: d.model,
            opts: d.opts,
            num_retries,
            params,
        })
    }

    /// Runs `attempt` once, then again up to `num_retries` times after a failure, as
    /// LiteLLM's `completion_with_retries` does (every LiteLLM error is retried; a rate limit
    /// waits 1, 2, 4, ... seconds, at most 10, when `backoff` is set, as `acompletion` does).
    pub async fn with_retries<T, F, Fut>(&self, backoff: bool, attempt: F) -> Result<T, LlmError>
    where
        F: Fn() -> Fut,
        Fut: Future<Output = Result<T, LlmError>>,
    {
        let mut n = 0u32;
        loop {
            match attempt().await {
                Err(e) if n < self.num_retries => {
                    if backoff && e.kind == ErrorKind::RateLimit {
                        let secs = 2f64.powi(n as i32).min(10.0);
                        tokio::time::sleep(Duration::from_secs_f64(secs)).await;
                    }
                    n += 1;
                }
                Err(mut e) => {
                    if n > 0 {
                        let note = format!(" LiteLLM Retried: {n} times");
                        e.note = Some(e.note.take().unwrap_or_default() + &note);
                    }
                    return Err(e);
                }
                Ok(v) => return Ok(v),
            }
        }
    }

    /// The provider that serves the model (`openai`, `anthropic`, `gemini`, ...).
    pub fn provider(&self) -> String {
        let custom = self
            .opts
            .extra
            .get("custom_llm_provider")
            .and_then(Value::as_str);
        llmgate::providers::resolve(&self.model, custom)
            .map(|r| r.provider.name().to_string())
            .unwrap_or_default()
    }

    /// The call's price, as LiteLLM's `response_cost`: the catalog's entry for the model,
    /// with `input_cost_per_token` / `output_cost_per_token` given to the call winning.
    pub fn cost(&self, usage: &Usage) -> Option<f64> {
        price_info(&self.model, &self.params, &self.provider())
            .and_then(|info| catalog::cost(&info, &CostInput::from(usage)))
    }

    /// LiteLLM's `_hidden_params` of an answer.
    pub fn hidden(
        &self,
        api_base: &str,
        headers: &[(String, String)],
        usage: Option<&Usage>,
    ) -> Value {
        hidden(
            &self.provider(),
            api_base,
            headers,
            usage.and_then(|u| self.cost(u)),
            None,
        )
    }
}

/// The catalog entry a call is priced by, custom prices applied.
pub fn price_info(model: &str, params: &Map<String, Value>, provider: &str) -> Option<ModelInfo> {
    let cat = catalog::global();
    let base = params
        .get("base_model")
        .and_then(Value::as_str)
        .and_then(|b| cat.get(b))
        .or_else(|| cat.get(model))
        .or_else(|| {
            let bare = model
                .strip_prefix(provider)
                .and_then(|m| m.strip_prefix('/'))
                .unwrap_or(model);
            cat.get_for(provider, bare)
        })
        .cloned();
    let custom = |k: &str| params.get(k).and_then(Value::as_f64);
    let (input, output) = (
        custom("input_cost_per_token"),
        custom("output_cost_per_token"),
    );
    if input.is_none() && output.is_none() {
        return base;
    }
    let mut info = base.unwrap_or_else(|| ModelInfo::unpriced(model));
    if input.is_some() {
        info.input_cost_per_token = input;
    }
    if output.is_some() {
        info.output_cost_per_token = output;
    }
    Some(info)
}

/// `_hidden_params` as LiteLLM fills them for an SDK call.
pub fn hidden(
    provider: &str,
    api_base: &str,
    headers: &[(String, String)],
    cost: Option<f64>,
    model_id: Option<&str>,
) -> Value {
    let headers: Map<String, Value> = headers
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    json!({
        "custom_llm_provider": provider,
        "api_base": if api_base.is_empty() { Value::Null } else { api_base.into() },
        "response_cost": cost,
        "model_id": model_id,
        "additional_headers": headers,
    })
}
