//! `llmgate._llmgate`: the native half of the `llmgate` Python package. It exposes the SDK
//! crate (`crates/llmgate`) in-process; the package's Python half gives it LiteLLM's function
//! names, arguments, response objects and exception classes.

mod api;
mod call;
mod convert;
mod errors;
mod info;
mod router;
mod stream;

use pyo3::prelude::*;

/// Threads for blocking work: pyo3-async-runtimes hands each finished awaitable's result to
/// asyncio from one (it takes the GIL there, off the workers), and DNS lookups run there. The
/// GIL serialises the hand-overs anyway, so a small pool serves a thousand concurrent calls
/// without a thread burst.
const BLOCKING_THREADS: usize = 8;

#[pymodule]
fn _llmgate(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    rt.enable_all()
        .thread_name("llmgate")
        .max_blocking_threads(BLOCKING_THREADS);
    pyo3_async_runtimes::tokio::init(rt);
    m.add("NativeError", m.py().get_type::<errors::NativeError>())?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    m.add_function(wrap_pyfunction!(api::call, m)?)?;
    m.add_function(wrap_pyfunction!(api::acall, m)?)?;
    m.add_function(wrap_pyfunction!(info::token_counter, m)?)?;
    m.add_function(wrap_pyfunction!(info::cost, m)?)?;
    m.add_function(wrap_pyfunction!(info::model_info, m)?)?;
    m.add_function(wrap_pyfunction!(info::provider_of_py, m)?)?;
    m.add_class::<stream::Stream>()?;
    m.add_class::<router::Router>()?;
    Ok(())
}
