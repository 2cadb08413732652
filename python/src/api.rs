//! The module's call functions: `call` (blocking) and `acall` (an asyncio awaitable), one
//! operation each time, as the package's `completion`, `acompletion`, `embedding`, ... use them.

use llmgate::{
    ChatCompletionRequest, Client, CompletionRequest, EmbeddingRequest, LlmError, RerankRequest,
};
use pyo3::prelude::*;
use pyo3::types::PyTuple;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::call::{block_on, Call};
use crate::convert::{to_py, to_value};
use crate::errors;
use crate::stream::{Chunks, Stream};

/// What a call does.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Chat,
    ChatStream,
    Text,
    TextStream,
    Embedding,
    Rerank,
}

impl Op {
    pub fn parse(name: &str) -> PyResult<Op> {
        Ok(match name {
            "chat" => Op::Chat,
            "chat_stream" => Op::ChatStream,
            "text" => Op::Text,
            "text_stream" => Op::TextStream,
            "embedding" => Op::Embedding,
            "rerank" => Op::Rerank,
            _ => return Err(errors::bad_request(format!("unknown operation {name}"))),
        })
    }
}

/// A finished call: the answer and its `_hidden_params`, or a stream.
pub enum Outcome {
    Answer(Value, Value),
    Stream(Stream),
}

impl<'py> IntoPyObject<'py> for Outcome {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        match self {
            Outcome::Answer(body, hidden) => {
                Ok(PyTuple::new(py, [to_py(py, &body)?, to_py(py, &hidden)?])?.into_any())
            }
            Outcome::Stream(s) => Ok(Bound::new(py, s)?.into_any()),
        }
    }
}

/// The request body as the operation's typed request, its `model` the call's.
pub fn request<T: DeserializeOwned>(mut body: Value, model: &str) -> Result<T, LlmError> {
    if let Value::Object(m) = &mut body {
        m.insert("model".into(), Value::String(model.to_string()));
    }
    serde_json::from_value(body).map_err(|e| LlmError::bad_request(format!("invalid request: {e}")))
}

fn json<T: serde::Serialize>(v: &T) -> Value {
    serde_json::to_value(v).unwrap_or(Value::Null)
}

/// Runs one operation with the call's retries.
pub async fn run(op: Op, call: Call, body: Value, backoff: bool) -> Result<Outcome, LlmError> {
    let client = Client::shared();
    let c = &call;
    match op {
        Op::Chat => {
            let req: ChatCompletionRequest = request(body, &c.model)?;
            let r = c
                .with_retries(backoff, || client.chat(req.clone(), &c.opts))
                .await?;
            let hidden = c.hidden(&r.api_base, &r.headers, r.body.usage.as_ref());
            Ok(Outcome::Answer(json(&r.body), hidden))
        }
        Op::ChatStream => {
            let req: ChatCompletionRequest = request(body, &c.model)?;
            let r = c
                .with_retries(backoff, || client.chat_stream(req.clone(), &c.opts))
                .await?;
            let hidden = c.hidden(&r.api_base, &r.headers, None);
            Ok(Outcome::Stream(Stream::new(Chunks::Chat(r.body), hidden)))
        }
        Op::Text => {
            let req: CompletionRequest = request(body, &c.model)?;
            let r = c
                .with_retries(backoff, || client.text_completion(req.clone(), &c.opts))
                .await?;
            let hidden = c.hidden(&r.api_base, &r.headers, r.body.usage.as_ref());
            Ok(Outcome::Answer(json(&r.body), hidden))
        }
        Op::TextStream => {
            let req: CompletionRequest = request(body, &c.model)?;
            let r = c
                .with_retries(backoff, || {
                    client.text_completion_stream(req.clone(), &c.opts)
                })
                .await?;
            let hidden = c.hidden(&r.api_base, &r.headers, None);
            Ok(Outcome::Stream(Stream::new(Chunks::Text(r.body), hidden)))
        }
        Op::Embedding => {
            let req: EmbeddingRequest = request(body, &c.model)?;
            let r = c
                .with_retries(backoff, || client.embedding(req.clone(), &c.opts))
                .await?;
            let hidden = c.hidden(&r.api_base, &r.headers, r.body.usage.as_ref());
            Ok(Outcome::Answer(json(&r.body), hidden))
        }
        Op::Rerank => {
            let req: RerankRequest = request(body, &c.model)?;
            let r = c
                .with_retries(backoff, || client.rerank(req.clone(), &c.opts))
                .await?;
            let hidden = c.hidden(&r.api_base, &r.headers, Some(&r.body.usage()));
            Ok(Outcome::Answer(json(&r.body), hidden))
        }
    }
}

fn prepare(
    op: &str,
    body: &Bound<'_, PyAny>,
    params: &Bound<'_, PyAny>,
) -> PyResult<(Op, Call, Value)> {
    Ok((Op::parse(op)?, Call::from_py(params)?, to_value(body)?))
}

/// `call(op, body, params)`: a blocking call; `(answer, hidden_params)` or a `Stream`.
#[pyfunction]
pub fn call<'py>(
    py: Python<'py>,
    op: &str,
    body: &Bound<'py, PyAny>,
    params: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let (op, c, body) = prepare(op, body, params)?;
    block_on(py, run(op, c, body, false))?.into_pyobject(py)
}

/// `acall(op, body, params)`: the same as an asyncio awaitable (a Rust future on the shared
/// runtime, no thread per call).
#[pyfunction]
pub fn acall<'py>(
    py: Python<'py>,
    op: &str,
    body: &Bound<'py, PyAny>,
    params: &Bound<'py, PyAny>,
) -> PyResult<Bound<'py, PyAny>> {
    let (op, c, body) = prepare(op, body, params)?;
    pyo3_async_runtimes::tokio::future_into_py(py, async move {
        run(op, c, body, true).await.map_err(errors::to_py)
    })
}
