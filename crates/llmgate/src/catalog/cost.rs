//! The price of one call, as LiteLLM's `completion_cost` computes it.

use llmgate_types::{Usage, SEARCH_UNITS};
use serde_json::Value;

use super::ModelInfo;

/// Token counts of one call, in OpenAI's convention: `prompt_tokens` includes cached and
/// cache-creation tokens, `completion_tokens` includes reasoning tokens. Adapters of providers
/// that count differently (Anthropic) normalise to this before pricing.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct CostInput {
    pub prompt_tokens: u64,
    pub completion_tokens: u64,
    /// Prompt tokens read from the provider's cache.
    pub cached_tokens: u64,
    /// Prompt tokens written to the provider's cache.
    pub cache_creation_tokens: u64,
    /// Completion tokens spent on reasoning.
    pub reasoning_tokens: u64,
    /// A rerank call's search units (None for every other call).
    pub search_units: Option<u64>,
}

impl From<&Usage> for CostInput {
    /// A call's usage as priced: cache writes under `cache_creation_input_tokens`, a rerank's
    /// search units under [`SEARCH_UNITS`].
    fn from(u: &Usage) -> CostInput {
        CostInput {
            prompt_tokens: u.prompt_tokens,
            completion_tokens: u.completion_tokens,
            cached_tokens: u.cached_tokens(),
            cache_creation_tokens: u
                .extra
                .get("cache_creation_input_tokens")
                .and_then(Value::as_u64)
                .unwrap_or(0),
            reasoning_tokens: u.reasoning_tokens(),
            search_units: u.extra.get(SEARCH_UNITS).and_then(Value::as_u64),
        }
    }
}

/// Cost in USD; `None` when the model has neither an input nor an output price.
///
/// Cached reads are charged at the cache-read price (the input price if none is known) and
/// cache writes at the cache-creation price, each only once: they are taken out of the
/// normal input tokens. Above 200k prompt tokens the long-context prices apply when known.
pub fn cost(info: &ModelInfo, u: &CostInput) -> Option<f64> {
    if let Some(units) = u.search_units {
        return rerank_cost(info, units, u.prompt_tokens);
    }
    if info.input_cost_per_token.is_none() && info.output_cost_per_token.is_none() {
        return None;
    }
    let long = u.prompt_tokens > 200_000;
    let pick = |long_price: Option<f64>, price: Option<f64>| {
        if long {
            long_price.or(price)
        } else {
            price
        }
    };
    let input = pick(
        info.input_cost_per_token_above_200k_tokens,
        info.input_cost_per_token,
    )
    .unwrap_or(0.0);
    let output = pick(
        info.output_cost_per_token_above_200k_tokens,
        info.output_cost_per_token,
    )
    .unwrap_or(0.0);
    let cache_read = pick(
        info.cache_read_input_token_cost_above_200k_tokens,
        info.cache_read_input_token_cost,
    )
    .unwrap_or(input);
    let cache_write = info.cache_creation_input_token_cost.unwrap_or(input);

    let cached = u.cached_tokens.min(u.prompt_tokens);
    let created = u.cache_creation_tokens.min(u.prompt_tokens - cached);
    let plain_input = u.prompt_tokens - cached - created;
    let (text_out, reasoning_out) = match info.output_cost_per_reasoning_token {
        Some(_) => (
            u.completion_tokens.saturating_sub(u.reasoning_tokens),
            u.reasoning_tokens.min(u.completion_tokens),
        ),
        None => (u.completion_tokens, 0),
    };
    let reasoning = info.output_cost_per_reasoning_token.unwrap_or(output);
    Some(
        plain_input as f64 * input
            + cached as f64 * cache_read
            + created as f64 * cache_write
            + text_out as f64 * output
            + reasoning_out as f64 * reasoning,
    )
}

/// A Batches API answer, as LiteLLM's `batch_cost_calculator`: each side at its batch price
/// (`input_cost_per_token_batches`, `output_cost_per_token_batches`), or half its token price
/// where the catalog has no batch price; `None` when the model has no price at all.
pub fn batch_cost(info: &ModelInfo, prompt_tokens: u64, completion_tokens: u64) -> Option<f64> {
    if info.input_cost_per_token.is_none()
        && info.output_cost_per_token.is_none()
        && info.input_cost_per_token_batches.is_none()
        && info.output_cost_per_token_batches.is_none()
    {
        return None;
    }
    let side = |batch: Option<f64>, token: Option<f64>| match (batch, token) {
        (Some(b), _) if b > 0.0 => b,
        (_, Some(t)) => t / 2.0,
        _ => 0.0,
    };
    Some(
        prompt_tokens as f64 * side(info.input_cost_per_token_batches, info.input_cost_per_token)
            + completion_tokens as f64
                * side(
                    info.output_cost_per_token_batches,
                    info.output_cost_per_token,
                ),
    )
}

/// A rerank call, as LiteLLM's `calculate_rerank_cost`: `input_cost_per_query` × search units
/// where the model has a per-query price, else `input_cost_per_token` × the billed tokens.
fn rerank_cost(info: &ModelInfo, search_units: u64, tokens: u64) -> Option<f64> {
    match (info.input_cost_per_query, info.input_cost_per_token) {
        (Some(q), _) if q > 0.0 => Some(q * search_units as f64),
        (_, Some(t)) if t > 0.0 => Some(t * tokens as f64),
        (None, None) => None,
        _ => Some(0.0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn batches_at_their_own_price_else_half() {
        let mut m = info();
        // gpt-4o: no batch rows here, half the token price.
        assert_eq!(batch_cost(&m, 10, 5), Some(10.0 * 1.25e-6 + 5.0 * 5e-6));
        // A batch price that is not half (gpt-3.5-turbo-1106 bills batches at full price).
        m.input_cost_per_token_batches = Some(2.5e-6);
        assert_eq!(batch_cost(&m, 10, 5), Some(10.0 * 2.5e-6 + 5.0 * 5e-6));
        m.output_cost_per_token_batches = Some(1e-5);
        assert_eq!(batch_cost(&m, 10, 5), Some(10.0 * 2.5e-6 + 5.0 * 1e-5));
        assert_eq!(batch_cost(&ModelInfo::unpriced("x"), 10, 5), None);
    }

    fn info() -> ModelInfo {
        let mut m = ModelInfo::unpriced("openai/gpt-4o");
        m.input_cost_per_token = Some(2.5e-6);
        m.output_cost_per_token = Some(1e-5);
        m.cache_read_input_token_cost = Some(1.25e-6);
        m
    }

    #[test]
    fn plain_call() {
        let c = cost(
            &info(),
            &CostInput {
                prompt_tokens: 10,
                completion_tokens: 5,
                ..Default::default()
            },
        )
        .unwrap();
        assert!((c - 7.5e-5).abs() < 1e-15);
    }

    #[test]
    fn cached_tokens_are_charged_once_at_the_cache_price() {
        let c = cost(
            &info(),
            &CostInput {
                prompt_tokens: 1000,
                completion_tokens: 0,
                cached_tokens: 600,
                ..Default::default()
            },
        )
        .unwrap();
        assert!((c - (400.0 * 2.5e-6 + 600.0 * 1.25e-6)).abs() < 1e-15);
    }

    #[test]
    fn cache_writes_use_the_creation_price() {
        let mut m = info();
        m.cache_creation_input_token_cost = Some(3.75e-6);
        let c = cost(
            &m,
            &CostInput {
                prompt_tokens: 100,
                cached_tokens: 10,
                cache_creation_tokens: 50,
                ..Default::default()
            },
        )
        .unwrap();
        assert!((c - (40.0 * 2.5e-6 + 10.0 * 1.25e-6 + 50.0 * 3.75e-6)).abs() < 1e-15);
    }

    #[test]
    fn unpriced_models_have_no_cost() {
        assert_eq!(
            cost(&ModelInfo::unpriced("x/y"), &CostInput::default()),
            None
        );
    }

    #[test]
    fn rerank_is_priced_per_query_else_per_token() {
        let mut per_query = ModelInfo::unpriced("cohere/rerank-v3.5");
        per_query.input_cost_per_query = Some(0.002);
        per_query.input_cost_per_token = Some(0.0);
        let rerank = |units, tokens| CostInput {
            prompt_tokens: tokens,
            search_units: Some(units),
            ..Default::default()
        };
        let c = cost(&per_query, &rerank(3, 500)).unwrap();
        assert!((c - 0.006).abs() < 1e-15);
        let mut per_token = ModelInfo::unpriced("jina_ai/jina-reranker-m0");
        per_token.input_cost_per_token = Some(2e-8);
        let c = cost(&per_token, &rerank(1, 1000)).unwrap();
        assert!((c - 2e-5).abs() < 1e-15);
        assert_eq!(
            cost(&ModelInfo::unpriced("x/y"), &rerank(1, 10)),
            None,
            "no price at all: unpriced"
        );
    }
}
