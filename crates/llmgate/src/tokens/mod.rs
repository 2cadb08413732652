//! Token counting with tiktoken encodings, as LiteLLM's `token_counter` does for OpenAI-style
//! models: o200k_base for the GPT-4o/4.1/5 and o-series families, cl100k_base otherwise.

mod bpe;

use bpe::{Bpe, Vocabulary};
use serde_json::Value;

/// Per-message overhead of the chat format (role and separators) and the reply priming.
const TOKENS_PER_MESSAGE: usize = 3;
const TOKENS_PER_NAME: usize = 1;
const REPLY_PRIMING: usize = 3;
/// An image part with unknown dimensions: the low-detail price, or a 1024×1024 high-detail image.
const IMAGE_LOW_DETAIL: usize = 85;
const IMAGE_DEFAULT: usize = 765;

fn uses_o200k(model: &str) -> bool {
    let m = model.rsplit('/').next().unwrap_or(model);
    [
        "gpt-4o",
        "gpt-4.1",
        "gpt-4.5",
        "gpt-5",
        "chatgpt-4o",
        "o1",
        "o3",
        "o4",
        "gpt-oss",
    ]
    .iter()
    .any(|p| m.starts_with(p))
}

fn encoding(model: &str) -> &'static Bpe {
    static O200K: std::sync::OnceLock<Bpe> = std::sync::OnceLock::new();
    static CL100K: std::sync::OnceLock<Bpe> = std::sync::OnceLock::new();
    if uses_o200k(model) {
        O200K.get_or_init(|| Bpe::load(Vocabulary::O200k))
    } else {
        CL100K.get_or_init(|| Bpe::load(Vocabulary::Cl100k))
    }
}

/// The tokenizer family reported by `/utils/token_counter`.
pub fn tokenizer_name(_model: &str) -> &'static str {
    "openai_tokenizer"
}

/// Longest stretch of text encoded at once. tiktoken's pre-tokeniser leaves a run without
/// spaces (a 100 KB word, base64, a CJK paragraph) as one piece, and its BPE merge is quadratic
/// in a piece's length: encoding stretches of at most this many bytes keeps counting linear.
const MAX_STRETCH: usize = 512;

/// Tokens of `text`, encoded stretch by stretch (see [`stretches`]).
fn count_with(bpe: &Bpe, text: &str) -> usize {
    stretches(text).map(|s| bpe.count(s)).sum()
}

/// `text` cut into stretches of at most [`MAX_STRETCH`] bytes, each cut just before a space
/// that follows a non-space where there is one: tiktoken's pieces start there too, so the count
/// is the whole text's.
/// A run of more than `MAX_STRETCH` bytes without a space is cut at a character boundary, where
/// the count is an approximation (a token or so per cut, i.e. per 512 bytes of such a run).
fn stretches(text: &str) -> impl Iterator<Item = &str> {
    let mut rest = text;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        let mut end = rest.len().min(MAX_STRETCH);
        if end < rest.len() {
            while !rest.is_char_boundary(end) {
                end -= 1;
            }
            let head = &rest[..end];
            let word_start = head.rmatch_indices(' ').map(|(i, _)| i).find(|&i| {
                head[..i]
                    .chars()
                    .next_back()
                    .is_some_and(|c| !c.is_whitespace())
            });
            if let Some(i) = word_start {
                end = i;
            }
        }
        let (head, tail) = rest.split_at(end);
        rest = tail;
        Some(head)
    })
}

/// Tokens of plain text (a prompt).
pub fn count_text(model: &str, text: &str) -> usize {
    count_with(encoding(model), text)
}

/// A chat request's prompt as the messages [`count_messages`] counts, tool definitions
/// included (they are part of the prompt the model reads): how a request of another API
/// (Messages, generateContent), translated to chat, is counted locally.
pub fn chat_prompt(chat: &llmgate_types::ChatCompletionRequest) -> Vec<Value> {
    let mut msgs: Vec<Value> = chat
        .messages
        .iter()
        .filter_map(|m| serde_json::to_value(m).ok())
        .collect();
    if let Some(tools) = &chat.tools {
        if let Ok(t) = serde_json::to_string(tools) {
            msgs.push(serde_json::json!({"role": "system", "content": t}));
        }
    }
    msgs
}

/// Tokens of a chat conversation, including the per-message overhead.
pub fn count_messages(model: &str, messages: &[Value]) -> usize {
    let bpe = encoding(model);
    let text = |s: &str| count_with(bpe, s);
    let mut total = REPLY_PRIMING;
    for msg in messages {
        total += TOKENS_PER_MESSAGE;
        let Some(obj) = msg.as_object() else { continue };
        for (key, value) in obj {
            match (key.as_str(), value) {
                ("name", Value::String(s)) => total += text(s) + TOKENS_PER_NAME,
                ("content", Value::Array(parts)) => {
                    total += parts.iter().map(|p| part_tokens(p, &text)).sum::<usize>()
                }
                ("tool_calls", Value::Array(calls)) => {
                    for call in calls {
                        let f = &call["function"];
                        total += f["name"].as_str().map_or(0, text)
                            + f["arguments"].as_str().map_or(0, text);
                    }
                }
                (_, Value::String(s)) => total += text(s),
                _ => {}
            }
        }
    }
    total
}

fn part_tokens(part: &Value, text: &impl Fn(&str) -> usize) -> usize {
    match part["type"].as_str() {
        Some("text") => part["text"].as_str().map_or(0, text),
        Some("image_url") => match part["image_url"]["detail"].as_str() {
            Some("low") => IMAGE_LOW_DETAIL,
            _ => IMAGE_DEFAULT,
        },
        _ => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn counts_like_the_openai_cookbook() {
        // "hello world" is 2 tokens in both encodings; 3 per message + 1 for the role + 3 priming.
        let msgs = [json!({"role": "user", "content": "hello world"})];
        assert_eq!(count_messages("gpt-4o", &msgs), 9);
        assert_eq!(count_messages("gpt-3.5-turbo", &msgs), 9);
        assert_eq!(count_text("gpt-4o", "hello world"), 2);
    }

    #[test]
    fn parts_names_and_tool_calls_count() {
        let msgs = [
            json!({"role": "user", "name": "bob", "content": [
                {"type": "text", "text": "hi"},
                {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}}
            ]}),
            json!({"role": "assistant", "content": null, "tool_calls": [
                {"id": "c1", "type": "function", "function": {"name": "get_weather", "arguments": "{}"}}
            ]}),
        ];
        let n = count_messages("gpt-4o", &msgs);
        assert!(n > 85 + 2 * TOKENS_PER_MESSAGE + REPLY_PRIMING, "{n}");
    }

    #[test]
    fn long_text_counts_as_a_whole_and_fast() {
        let prose = "The quick brown fox jumps over the lazy dog.\n  Then it   rests. ".repeat(200);
        for m in ["gpt-4o", "gpt-4"] {
            let core = if m == "gpt-4o" {
                tiktoken_rs::o200k_base()
            } else {
                tiktoken_rs::cl100k_base()
            };
            let whole = core.unwrap().encode_with_special_tokens(&prose).len();
            assert_eq!(count_text(m, &prose), whole, "{m}");
        }
        // One 100 KB word (quadratic for tiktoken alone): linear here, close to the real count.
        let word = "a".repeat(100_000);
        let t = std::time::Instant::now();
        let n = count_text("gpt-4o", &word);
        assert!(
            t.elapsed() < std::time::Duration::from_secs(2),
            "{:?}",
            t.elapsed()
        );
        assert!((10_000..=25_000).contains(&n), "{n}");
        let cjk = "漢字".repeat(30_000);
        assert!(stretches(&cjk).all(|s| s.len() <= MAX_STRETCH));
        assert_eq!(stretches(&cjk).map(str::len).sum::<usize>(), cjk.len());
    }

    #[test]
    fn encodings_by_family() {
        assert!(uses_o200k("openai/gpt-4o-mini"));
        assert!(uses_o200k("o3-mini"));
        assert!(!uses_o200k("gpt-4"));
    }
}
