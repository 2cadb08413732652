//! The SDK's error, handed to Python as one native exception whose arguments the package's
//! `llmgate.exceptions` turns into LiteLLM's classes (`RateLimitError`, ...).

use llmgate::LlmError;
use pyo3::create_exception;
use pyo3::exceptions::PyException;
use pyo3::PyErr;

create_exception!(
    _llmgate,
    NativeError,
    PyException,
    "An llmgate SDK error: (class name, status, message, provider, model, retry-after, \
     headers, upstream body). The llmgate package raises LiteLLM's class for it."
);

/// The error's fields as the native exception's arguments.
pub fn to_py(e: LlmError) -> PyErr {
    let message = e.to_string();
    let d = &*e;
    NativeError::new_err((
        d.kind.class_name(),
        d.status,
        message,
        d.provider.clone(),
        d.model.clone(),
        d.retry_after.clone(),
        d.headers.clone(),
        d.upstream.as_ref().map(|u| u.body.clone()),
    ))
}

/// A bad argument, as LiteLLM reports one: a `BadRequestError`.
pub fn bad_request(message: impl Into<String>) -> PyErr {
    to_py(LlmError::bad_request(message))
}
