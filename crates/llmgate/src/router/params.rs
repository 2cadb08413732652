//! How a deployment takes part in routing, read from a LiteLLM model-list entry.

use std::time::Duration;

use serde_json::{Map, Value};

use super::settings::ErrorPolicy;
use crate::catalog;

#[derive(Clone, Debug, Default)]
pub struct Params {
    /// Stable id (`model_info.id`).
    pub id: String,
    /// The public name (`model_name`); a trailing `*` makes a wildcard route.
    pub group: String,
    /// The provider model (`litellm_params.model`); a wildcard's `*` takes the asked name's tail.
    pub model: String,
    pub weight: Option<f64>,
    pub rpm: Option<u64>,
    pub tpm: Option<u64>,
    /// Priority: lower first (`litellm_params.order`).
    pub order: Option<u32>,
    pub tags: Vec<String>,
    /// The context window, for pre-call checks.
    pub max_input_tokens: Option<u64>,
    /// USD per input and per output token, for cost-based routing.
    pub input_cost: Option<f64>,
    pub output_cost: Option<f64>,
    /// `model_info.blocked`: never picked.
    pub blocked: bool,
    pub cooldown_time: Option<Duration>,
    /// The deployment's own retries (`max_retries`).
    pub max_retries: Option<u32>,
    pub allowed_fails: Option<u32>,
    pub allowed_fails_policy: Option<ErrorPolicy>,
}

fn num(v: Option<&Value>) -> Option<f64> {
    match v? {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
    .filter(|f: &f64| f.is_finite() && *f >= 0.0)
}

impl Params {
    /// Reads a model-list entry: `model_name`, its `litellm_params` and `model_info` (rpm and
    /// tpm may sit in either, or beside them in `top`, as LiteLLM accepts).
    pub fn from_entry(
        id: &str,
        model_name: &str,
        litellm_params: &Map<String, Value>,
        model_info: &Map<String, Value>,
        top: &Map<String, Value>,
    ) -> Params {
        let p = litellm_params;
        let either = |k: &str| num(p.get(k)).or(num(model_info.get(k))).or(num(top.get(k)));
        let model = p
            .get("model")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        // `base_model` names the catalog entry of a deployment whose own name is not in it
        // (an Azure deployment name).
        let priced_as = model_info
            .get("base_model")
            .or(p.get("base_model"))
            .and_then(Value::as_str)
            .unwrap_or(&model);
        let cat = catalog::global();
        let info = cat.get(priced_as);
        let input_cost = num(p.get("input_cost_per_token"))
            .or(num(model_info.get("input_cost_per_token")))
            .or(info.and_then(|i| i.input_cost_per_token));
        let output_cost = num(p.get("output_cost_per_token"))
            .or(num(model_info.get("output_cost_per_token")))
            .or(info.and_then(|i| i.output_cost_per_token));
        let tags = p
            .get("tags")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default();
        let blocked = matches!(model_info.get("blocked"), Some(Value::Bool(true)))
            || matches!(model_info.get("blocked"), Some(Value::String(s)) if s.eq_ignore_ascii_case("true"));
        Params {
            id: id.to_string(),
            group: model_name.to_string(),
            model,
            weight: num(p.get("weight")),
            rpm: either("rpm").map(|r| r as u64),
            tpm: either("tpm").map(|t| t as u64),
            order: num(p.get("order"))
                .or(num(model_info.get("order")))
                .map(|o| o as u32),
            tags,
            max_input_tokens: num(model_info.get("max_input_tokens"))
                .map(|n| n as u64)
                .or(info.and_then(|i| i.max_input_tokens)),
            input_cost,
            output_cost,
            blocked,
            cooldown_time: num(model_info.get("cooldown_time"))
                .or(num(p.get("cooldown_time")))
                .map(Duration::from_secs_f64),
            max_retries: num(p.get("max_retries")).map(|n| n as u32),
            allowed_fails: num(model_info.get("allowed_fails")).map(|n| n as u32),
            allowed_fails_policy: model_info
                .get("allowed_fails_policy")
                .and_then(|v| ErrorPolicy::parse(Some(v), "AllowedFails").ok()),
        }
    }

    /// Price of a token in and a token out; unpriced deployments come last.
    pub fn cost_per_token(&self) -> f64 {
        match (self.input_cost, self.output_cost) {
            (None, None) => f64::MAX,
            (i, o) => i.unwrap_or(0.0) + o.unwrap_or(0.0),
        }
    }
}
