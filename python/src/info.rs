//! What needs no upstream: token counts, prices and the model catalog, all the SDK's own.

use llmgate::catalog::{self, CostInput};
use llmgate::{tokens, Usage};
use pyo3::prelude::*;
use serde_json::{Map, Value};

use crate::call::price_info;
use crate::convert::{to_py, to_value};
use crate::errors;

/// `token_counter(model, messages, text)`: the tokens of a chat conversation (with the chat
/// format's overhead) or of plain text (a string or a list of strings), as LiteLLM counts them.
#[pyfunction]
#[pyo3(signature = (model, messages=None, text=None))]
pub fn token_counter(
    py: Python<'_>,
    model: &str,
    messages: Option<&Bound<'_, PyAny>>,
    text: Option<&Bound<'_, PyAny>>,
) -> PyResult<usize> {
    let messages = messages.map(to_value).transpose()?;
    let text = text.map(to_value).transpose()?;
    let model = model.to_string();
    py.detach(move || match (messages, text) {
        (Some(Value::Array(m)), _) => Ok(tokens::count_messages(&model, &m)),
        (Some(Value::Null) | None, Some(Value::String(t))) => Ok(tokens::count_text(&model, &t)),
        (Some(Value::Null) | None, Some(Value::Array(parts))) => Ok(parts
            .iter()
            .filter_map(Value::as_str)
            .map(|t| tokens::count_text(&model, t))
            .sum()),
        (Some(Value::Null) | None, Some(Value::Null) | None) => {
            Err(errors::bad_request("token_counter needs messages or text"))
        }
        _ => Err(errors::bad_request(
            "token_counter: messages must be a list, text a string or a list of strings",
        )),
    })
}

/// `cost(model, usage, params)`: USD for `usage` (a dict in OpenAI's shape) on `model`, the
/// catalog's price or `params`' `input_cost_per_token` / `output_cost_per_token`; None when the
/// model has no price.
#[pyfunction]
#[pyo3(signature = (model, usage, params=None))]
pub fn cost(
    model: &str,
    usage: &Bound<'_, PyAny>,
    params: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<f64>> {
    let usage: Usage = serde_json::from_value(to_value(usage)?)
        .map_err(|e| errors::bad_request(format!("usage: {e}")))?;
    let params = match params.map(to_value).transpose()? {
        Some(Value::Object(m)) => m,
        _ => Map::new(),
    };
    let provider = provider_of(
        model,
        params.get("custom_llm_provider").and_then(Value::as_str),
    );
    Ok(price_info(model, &params, &provider)
        .and_then(|info| catalog::cost(&info, &CostInput::from(&usage))))
}

fn provider_of(model: &str, custom: Option<&str>) -> String {
    llmgate::providers::resolve(model, custom)
        .map(|r| r.provider.name().to_string())
        .unwrap_or_default()
}

/// `model_info(model, custom_llm_provider)`: the catalog's entry with LiteLLM's `model_info`
/// keys, or None when the catalog does not know the model.
#[pyfunction]
#[pyo3(signature = (model, custom_llm_provider=None))]
pub fn model_info<'py>(
    py: Python<'py>,
    model: &str,
    custom_llm_provider: Option<&str>,
) -> PyResult<Option<Bound<'py, PyAny>>> {
    let cat = catalog::global();
    let info = match custom_llm_provider {
        Some(p) => cat.get_for(p, model),
        None => cat.get(model).or_else(|| {
            let r = llmgate::providers::resolve(model, None).ok()?;
            cat.get_for(r.provider.name(), &r.model)
        }),
    };
    info.map(|i| to_py(py, &serde_json::to_value(i).unwrap_or(Value::Null)))
        .transpose()
}

/// `provider_of(model, custom_llm_provider)`: the provider llmgate routes the model to.
#[pyfunction]
#[pyo3(name = "provider_of", signature = (model, custom_llm_provider=None))]
pub fn provider_of_py(model: &str, custom_llm_provider: Option<&str>) -> String {
    provider_of(model, custom_llm_provider)
}
