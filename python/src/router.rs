//! LiteLLM's `Router` in-process: the SDK's router over a `model_list`, with its retries,
//! fallbacks, cooldowns and routing strategies.

use std::sync::Arc;

use llmgate::catalog::{self, CostInput};
use llmgate::router::{SdkRouter, Settings};
use llmgate::{ChatCompletionRequest, EmbeddingRequest, LlmError, RerankRequest, Response, Usage};
use pyo3::prelude::*;
use serde_json::Value;

use crate::api::{request, Op, Outcome};
use crate::call::{block_on, hidden};
use crate::convert::to_value;
use crate::errors;
use crate::stream::{Chunks, Stream};

#[pyclass(module = "llmgate._llmgate", frozen)]
pub struct Router {
    inner: Arc<SdkRouter>,
}

/// `_hidden_params` of a routed answer, priced by the model that answered.
fn routed_hidden<T>(r: &Response<T>, model: &str, usage: Option<&Usage>) -> Value {
    let cost = usage.and_then(|u| {
        let info = catalog::global().get(model).cloned()?;
        catalog::cost(&info, &CostInput::from(u))
    });
    hidden("", &r.api_base, &r.headers, cost, None)
}

async fn run(router: Arc<SdkRouter>, op: Op, body: Value) -> Result<Outcome, LlmError> {
    let group = body
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string();
    match op {
        Op::Chat => {
            let req: ChatCompletionRequest = request(body, &group)?;
            let r = router.chat(req).await?;
            let h = routed_hidden(&r, &r.body.model, r.body.usage.as_ref());
            Ok(Outcome::Answer(json(&r.body), h))
        }
        Op::ChatStream => {
            let req: ChatCompletionRequest = request(body, &group)?;
            let r = router.chat_stream(req).await?;
            let h = routed_hidden(&r, "", None);
            Ok(Outcome::Stream(Stream::new(Chunks::Chat(r.body), h)))
        }
        Op::Embedding => {
            let req: EmbeddingRequest = request(body, &group)?;
            let r = router.embedding(req).await?;
            let h = routed_hidden(&r, &r.body.model, r.body.usage.as_ref());
            Ok(Outcome::Answer(json(&r.body), h))
        }
        Op::Rerank => {
            let req: RerankRequest = request(body, &group)?;
            let r = router.rerank(req).await?;
            let h = routed_hidden(&r, &group, Some(&r.body.usage()));
            Ok(Outcome::Answer(json(&r.body), h))
        }
        Op::Text | Op::TextStream => Err(LlmError::bad_request(
            "Router.text_completion is not supported by llmgate; call llmgate.text_completion",
        )),
    }
}

fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

#[pymethods]
impl Router {
    /// `Router(model_list, settings)`: `settings` holds LiteLLM's `router_settings` keys
    /// (`routing_strategy`, `fallbacks`, `num_retries`, ...); a bad one is a `ValueError`.
    #[new]
    fn new(model_list: &Bound<'_, PyAny>, settings: &Bound<'_, PyAny>) -> PyResult<Router> {
        let list = to_value(model_list)?;
        let settings = match to_value(settings)? {
            Value::Object(m) => Settings::from_map(&m),
            Value::Null => Ok(Settings::default()),
            _ => Err("router settings must be a mapping".to_string()),
        }
        .map_err(pyo3::exceptions::PyValueError::new_err)?;
        let inner = SdkRouter::from_model_list(&list, settings)
            .map_err(pyo3::exceptions::PyValueError::new_err)?;
        Ok(Router {
            inner: Arc::new(inner),
        })
    }

    /// Whether the router serves `model` (a group, an alias or a wildcard match).
    fn has_group(&self, model: &str) -> bool {
        self.inner.router().serves(model)
    }

    /// A blocking call through the router; `(answer, hidden_params)` or a `Stream`.
    fn call<'py>(
        &self,
        py: Python<'py>,
        op: &str,
        body: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (op, body) = (Op::parse(op)?, to_value(body)?);
        block_on(py, run(self.inner.clone(), op, body))?.into_pyobject(py)
    }

    /// The same as an asyncio awaitable.
    fn acall<'py>(
        &self,
        py: Python<'py>,
        op: &str,
        body: &Bound<'py, PyAny>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let (op, body) = (Op::parse(op)?, to_value(body)?);
        let inner = self.inner.clone();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            run(inner, op, body).await.map_err(errors::to_py)
        })
    }
}
