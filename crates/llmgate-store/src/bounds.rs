//! What a value may be before it is written: no NUL anywhere (PostgreSQL refuses it in `TEXT`
//! and in `JSONB` strings), and no longer than its column can take.
//!
//! A B-tree index entry holds at most ~2 700 bytes on PostgreSQL: a longer value in an indexed
//! column (LiteLLM indexes the spend log's `end_user`, `api_key`, `request_id`, and the daily
//! tables' unique key spans entity, `api_key`, `model`, `custom_llm_provider`, `endpoint`) makes
//! the row impossible to insert. The limits below keep the daily key, the widest, under that
//! together. Lengths are in bytes, cut at a character boundary.

use std::borrow::Cow;

use serde_json::Value;

/// Ids, names and tags: columns that are indexed alone or lead a daily table's key.
pub const ID: usize = 1000;
/// Model names and model groups (part of the daily tables' key).
pub const MODEL: usize = 512;
/// Short indexed codes: provider, endpoint, the key's hash.
pub const CODE: usize = 256;
/// Text no index covers, and each string inside a JSON column.
pub const TEXT: usize = 10_000;

/// `s` without NUL and cut to at most `max` bytes; borrowed when it already fits.
pub fn text(s: &str, max: usize) -> Cow<'_, str> {
    if s.len() <= max && !s.contains('\0') {
        return Cow::Borrowed(s);
    }
    let mut out: String = s.chars().filter(|c| *c != '\0').collect();
    if out.len() > max {
        let mut end = max;
        while !out.is_char_boundary(end) {
            end -= 1;
        }
        out.truncate(end);
    }
    Cow::Owned(out)
}

/// Whether `v` (strings and object keys, at any depth) already fits `max`.
pub fn json_fits(v: &Value, max: usize) -> bool {
    match v {
        Value::String(s) => fits(s, max),
        Value::Array(a) => a.iter().all(|v| json_fits(v, max)),
        Value::Object(m) => m.iter().all(|(k, v)| fits(k, max) && json_fits(v, max)),
        _ => true,
    }
}

/// Bounds every string and object key of `v` in place.
pub fn json(v: &mut Value, max: usize) {
    match v {
        Value::String(s) => bound(s, max),
        Value::Array(a) => a.iter_mut().for_each(|v| json(v, max)),
        Value::Object(m) if m.keys().all(|k| fits(k, max)) => {
            m.values_mut().for_each(|v| json(v, max))
        }
        Value::Object(m) => {
            *m = std::mem::take(m)
                .into_iter()
                .map(|(k, mut v)| {
                    json(&mut v, max);
                    (text(&k, max).into_owned(), v)
                })
                .collect();
        }
        _ => {}
    }
}

pub fn fits(s: &str, max: usize) -> bool {
    s.len() <= max && !s.contains('\0')
}

/// Bounds `s` in place.
pub fn bound(s: &mut String, max: usize) {
    if let Cow::Owned(b) = text(s, max) {
        *s = b;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn nul_goes_and_long_text_is_cut_at_a_character() {
        assert!(matches!(text("fine", 10), Cow::Borrowed("fine")));
        assert_eq!(text("a\0b", 10), "ab");
        assert_eq!(text("ééé", 5), "éé");
        assert_eq!(text(&"x".repeat(12_000), ID).len(), ID);
    }

    #[test]
    fn json_strings_and_keys_are_bounded_at_any_depth() {
        let mut v = json!({"a\u{0}": ["x\u{0}y", {"k": "z".repeat(20)}], "n": 1});
        assert!(!json_fits(&v, 10));
        json(&mut v, 10);
        assert_eq!(v, json!({"a": ["xy", {"k": "z".repeat(10)}], "n": 1}));
        assert!(json_fits(&v, 10));
    }
}
