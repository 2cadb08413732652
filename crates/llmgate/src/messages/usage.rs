//! Usage between Anthropic's form (`input_tokens` without cached tokens, cache reads and
//! writes apart) and the SDK's (OpenAI's `prompt_tokens` counting them all).

use llmgate_types::Usage;
use serde_json::{json, Value};

use crate::providers::anthropic::response::{usage as anthropic_usage, Thought};

/// Anthropic's usage object as the SDK prices it.
pub fn to_openai(u: &Value) -> Usage {
    anthropic_usage(u, &Thought::default())
}

/// An SDK usage as Anthropic reports it.
pub fn from_openai(u: &Usage) -> Value {
    let read = u.cached_tokens();
    let write = u
        .prompt_tokens_details
        .as_ref()
        .and_then(|d| d.extra.get("cache_creation_tokens"))
        .or_else(|| u.extra.get("cache_creation_input_tokens"))
        .and_then(Value::as_u64)
        .unwrap_or(0);
    json!({
        "input_tokens": u.prompt_tokens.saturating_sub(read + write),
        "output_tokens": u.completion_tokens,
        "cache_creation_input_tokens": write,
        "cache_read_input_tokens": read,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cached_tokens_are_split_out_and_back() {
        let a = json!({"input_tokens": 10, "output_tokens": 5, "cache_read_input_tokens": 100,
                       "cache_creation_input_tokens": 20});
        let u = to_openai(&a);
        assert_eq!((u.prompt_tokens, u.completion_tokens), (130, 5));
        assert_eq!(from_openai(&u), a);

        let mut plain = Usage::new(12, 3);
        plain.prompt_tokens_details = Some(llmgate_types::PromptTokensDetails {
            cached_tokens: Some(2),
            ..Default::default()
        });
        assert_eq!(
            from_openai(&plain),
            json!({"input_tokens": 10, "output_tokens": 3, "cache_creation_input_tokens": 0,
                   "cache_read_input_tokens": 2})
        );
    }
}
