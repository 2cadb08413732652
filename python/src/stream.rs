//! A streamed answer: chunks pulled one at a time from the SDK's stream, by a blocking
//! `__next__` (GIL released while waiting) or an awaitable `__anext__`.

use std::sync::Arc;

use futures::StreamExt;
use llmgate::{ChunkStream, CompletionChunkStream, ErrorKind, LlmError};
use pyo3::exceptions::PyStopAsyncIteration;
use pyo3::prelude::*;
use serde_json::Value;
use tokio::sync::Mutex;

use crate::call::block_on;
use crate::convert::{to_py, Json};
use crate::errors;

pub enum Chunks {
    Chat(ChunkStream),
    Text(CompletionChunkStream),
}

/// The chunks of one streamed call. Iterating it ends the stream; dropping it (or `close()`)
/// closes the upstream connection.
#[pyclass(module = "llmgate._llmgate", frozen)]
pub struct Stream {
    chunks: Arc<Mutex<Option<Chunks>>>,
    hidden: Value,
}

impl Stream {
    pub fn new(chunks: Chunks, hidden: Value) -> Stream {
        Stream {
            chunks: Arc::new(Mutex::new(Some(chunks))),
            hidden,
        }
    }
}

/// The next chunk as JSON; `None` once the stream has ended (after an error too).
async fn next(chunks: Arc<Mutex<Option<Chunks>>>) -> Result<Option<Value>, LlmError> {
    let mut slot = chunks.lock().await;
    let Some(s) = slot.as_mut() else {
        return Ok(None);
    };
    let item = match s {
        Chunks::Chat(s) => s
            .next()
            .await
            .map(|r| r.and_then(|c| serde_json::to_value(c).map_err(internal))),
        Chunks::Text(s) => s
            .next()
            .await
            .map(|r| r.and_then(|c| serde_json::to_value(c).map_err(internal))),
    };
    match item {
        Some(Ok(v)) => Ok(Some(v)),
        None => {
            *slot = None;
            Ok(None)
        }
        Some(Err(e)) => {
            *slot = None;
            Err(e)
        }
    }
}

fn internal(e: serde_json::Error) -> LlmError {
    LlmError::new(ErrorKind::InternalServer, e.to_string())
}

#[pymethods]
impl Stream {
    /// LiteLLM's `_hidden_params` known when the stream started (provider, api_base, headers).
    #[getter]
    fn hidden<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_py(py, &self.hidden)
    }

    fn __iter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// The next chunk (a dict), waiting for it with the GIL released.
    fn __next__<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        match block_on(py, next(self.chunks.clone()))? {
            Some(v) => Ok(Some(to_py(py, &v)?)),
            None => Ok(None),
        }
    }

    fn __aiter__(slf: PyRef<'_, Self>) -> PyRef<'_, Self> {
        slf
    }

    /// An awaitable of the next chunk; `StopAsyncIteration` at the end.
    fn __anext__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let chunks = self.chunks.clone();
        pyo3_async_runtimes::tokio::future_into_py(py, async move {
            match next(chunks).await {
                Ok(Some(v)) => Ok(Json(v)),
                Ok(None) => Err(PyStopAsyncIteration::new_err(())),
                Err(e) => Err(errors::to_py(e)),
            }
        })
    }

    /// Ends the stream now, closing the upstream connection.
    fn close(&self, py: Python<'_>) {
        let chunks = self.chunks.clone();
        py.detach(|| {
            crate::call::runtime().block_on(async move {
                chunks.lock().await.take();
            })
        });
    }
}
