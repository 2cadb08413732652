//! `general_settings.store_prompts_in_spend_logs`: the request body and the answer in the
//! spend log's `proxy_server_request` and `response` columns, as LiteLLM writes them.
//!
//! LiteLLM cuts every string longer than `MAX_STRING_LENGTH_PROMPT_IN_DB` characters (2048
//! unless that variable says otherwise) to its first 35% and last 65% around a marker naming
//! how many characters were skipped. llmgate does the same, and also bounds what one log
//! carries: the spend queue holds up to 10 000 logs, so a column whose JSON is still longer
//! than [`COLUMN_CAP`] bytes (a request with many long messages) is kept as one string, that
//! JSON text cut the same way to [`CUT_TO`] bytes.

use std::sync::OnceLock;

use llmgate_store::json_text::JsonText;
use serde_json::{Map, Value};

/// LiteLLM's `LITELLM_TRUNCATED_PAYLOAD_FIELD`.
const TRUNCATED: &str = "litellm_truncated";

/// LiteLLM's default `MAX_STRING_LENGTH_PROMPT_IN_DB`.
const DEFAULT_MAX_STRING: usize = 2048;

/// The JSON text one column keeps at most before it is kept as a cut string (llmgate's bound).
pub const COLUMN_CAP: usize = 16 * 1024;

/// The bytes a column too long for [`COLUMN_CAP`] keeps (within the store's bound on a string).
pub const CUT_TO: usize = 8 * 1024;

/// Whether prompts go to the spend logs: the setting, or LiteLLM's `STORE_PROMPTS_IN_SPEND_LOGS`
/// variable.
pub fn enabled(cfg: &crate::config::Config) -> bool {
    cfg.general_settings.flag("store_prompts_in_spend_logs")
        || std::env::var("STORE_PROMPTS_IN_SPEND_LOGS")
            .is_ok_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// `MAX_STRING_LENGTH_PROMPT_IN_DB` (read once).
fn max_string() -> usize {
    static MAX: OnceLock<usize> = OnceLock::new();
    *MAX.get_or_init(|| {
        std::env::var("MAX_STRING_LENGTH_PROMPT_IN_DB")
            .ok()
            .and_then(|v| v.trim().parse().ok())
            .unwrap_or(DEFAULT_MAX_STRING)
    })
}

/// The two columns of one call: the request body and the answer (`{}` when there was none).
pub fn columns(request: &Value, response: Option<&Value>) -> (JsonText, JsonText) {
    let max = max_string();
    let request = match request {
        // LiteLLM logs the body, a JSON object.
        Value::Object(m) => column(&Value::Object(sanitize_map(m, max))),
        _ => JsonText::default(),
    };
    let response = match response {
        None | Some(Value::Null) => JsonText::default(),
        Some(v) => column(&sanitize(v, max)),
    };
    (request, response)
}

/// The column's text, kept within [`COLUMN_CAP`].
fn column(v: &Value) -> JsonText {
    let text = JsonText::of(v);
    if text.as_str().len() <= COLUMN_CAP {
        return text;
    }
    JsonText::of(&Value::String(cut_bytes(text.as_str(), CUT_TO)))
}

fn sanitize_map(m: &Map<String, Value>, max: usize) -> Map<String, Value> {
    m.iter()
        .map(|(k, v)| (k.clone(), sanitize(v, max)))
        .collect()
}

/// LiteLLM's `_sanitize_request_body_for_spend_logs_payload` on one value.
fn sanitize(v: &Value, max: usize) -> Value {
    match v {
        Value::Object(m) => Value::Object(sanitize_map(m, max)),
        Value::Array(a) => Value::Array(a.iter().map(|x| sanitize(x, max)).collect()),
        Value::String(s) => Value::String(truncate(s, max)),
        other => other.clone(),
    }
}

/// A string longer than `max` characters: its first 35% and last 65% of `max` around the
/// marker (Python's slicing, in characters, as LiteLLM counts them).
pub fn truncate(s: &str, max: usize) -> String {
    // Bytes are at least as many as characters: most strings are decided without counting.
    if s.len() <= max {
        return s.to_string();
    }
    let len = s.chars().count();
    if len <= max {
        return s.to_string();
    }
    let start = max * 35 / 100;
    let mut end = max * 65 / 100;
    if start + end > max {
        end = max - start;
    }
    let skipped = len - (start + end);
    let head: String = s.chars().take(start).collect();
    // Python's `value[-0:]` is the whole string.
    let tail: String = if end == 0 {
        s.to_string()
    } else {
        s.chars().skip(len - end).collect()
    };
    format!("{head}... ({TRUNCATED} skipped {skipped} chars) ...{tail}")
}

/// `s` cut the same way to about `max` bytes (at character boundaries), for llmgate's bound.
fn cut_bytes(s: &str, max: usize) -> String {
    let mut start = max * 35 / 100;
    while !s.is_char_boundary(start) {
        start -= 1;
    }
    let mut from = s.len() - max * 65 / 100;
    while !s.is_char_boundary(from) {
        from += 1;
    }
    let skipped = s[start..from].chars().count();
    format!(
        "{}... ({TRUNCATED} skipped {skipped} chars) ...{}",
        &s[..start],
        &s[from..]
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn long_strings_are_cut_as_litellm_cuts_them() {
        let s = format!("{}{}{}", "A".repeat(500), "B".repeat(800), "C".repeat(500));
        let t = truncate(&s, 1000);
        let want = format!(
            "{}... (litellm_truncated skipped 800 chars) ...{}{}",
            "A".repeat(350),
            "B".repeat(150),
            "C".repeat(500)
        );
        assert_eq!(t, want);
        assert_eq!(truncate("short", 1000), "short");
        // Characters, not bytes.
        let e = "é".repeat(1500);
        assert_eq!(truncate(&e, 2048), e);
    }

    #[test]
    fn columns_sanitize_nested_strings_and_stay_bounded() {
        let big = "x".repeat(5000);
        let req = json!({"model": "m", "messages": [{"role": "user", "content": big}]});
        let (r, a) = columns(&req, None);
        assert_eq!(a.as_str(), "{}");
        let v = r.to_value();
        let c = v["messages"][0]["content"].as_str().unwrap();
        assert!(c.starts_with(&"x".repeat(716)));
        assert!(c.contains("... (litellm_truncated skipped 2953 chars) ..."));
        assert_eq!(
            c.chars().count(),
            2047 + "... (litellm_truncated skipped 2953 chars) ...".len()
        );
        // Many long messages: one cut string, bounded.
        let many: Vec<Value> = (0..50)
            .map(|_| json!({"role": "user", "content": "y".repeat(3000)}))
            .collect();
        let (r, _) = columns(&json!({"messages": many}), Some(&json!({"id": "x"})));
        assert!(r.as_str().len() <= CUT_TO + 100, "{}", r.as_str().len());
        assert!(r
            .to_value()
            .as_str()
            .unwrap()
            .contains("litellm_truncated skipped"));
        assert_eq!(columns(&json!([1]), Some(&Value::Null)).0.as_str(), "{}");
    }
}
