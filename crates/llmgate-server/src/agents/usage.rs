//! What an agent call counts as: the text of the message sent (prompt tokens) and of what the
//! agent answered (completion tokens), as LiteLLM's `A2ARequestUtils` counts A2A calls whose
//! agents report no usage. The text is read by the SDK's [`llmgate::a2a::texts`].

pub use llmgate::a2a::texts;

/// Tokens of `text` (the tokenizer LiteLLM's `token_counter` uses for a model it does not know).
pub fn tokens(model: &str, text: &str) -> u64 {
    if text.is_empty() {
        return 0;
    }
    llmgate::tokens::count_text(model, text) as u64
}
