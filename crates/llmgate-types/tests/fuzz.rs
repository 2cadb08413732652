//! Property tests ("fuzzing" on stable Rust) of the request parsers every client body goes
//! through: arbitrary bytes and arbitrary JSON never panic, a parsed request survives a round
//! trip unchanged, and fields we do not model reach `extra` with their values intact.
//!
//! Bounded to the normal test run: `PROPTEST_CASES` (default 256) cases per property.

use llmgate_types::{ChatCompletionRequest, CompletionRequest, EmbeddingRequest, Extra};
use proptest::prelude::*;
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{json, Map, Value};

/// Field names the types know, so generated objects often hit real fields with wrong shapes.
const KNOWN: &[&str] = &[
    "model",
    "messages",
    "role",
    "content",
    "type",
    "text",
    "image_url",
    "url",
    "detail",
    "name",
    "tool_calls",
    "tool_call_id",
    "function",
    "arguments",
    "parameters",
    "tools",
    "tool_choice",
    "stream",
    "stream_options",
    "include_usage",
    "temperature",
    "max_tokens",
    "n",
    "stop",
    "seed",
    "logprobs",
    "user",
    "prompt",
    "input",
    "dimensions",
    "encoding_format",
    "response_format",
    "metadata",
    "reasoning_content",
];

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => prop::sample::select(KNOWN).prop_map(str::to_string),
        1 => "[a-z_]{1,12}",
        1 => any::<String>(),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        any::<f64>()
            .prop_filter("JSON numbers are finite", |f| f.is_finite())
            .prop_map(Value::from),
        prop::sample::select(&["user", "assistant", "text", "image_url", "gpt-4o", ""][..])
            .prop_map(Value::from),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(5, 96, 8, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..8)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Bytes that are often nearly JSON: a serialized value with a few bytes changed or cut.
fn jsonish_bytes() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..256),
        (
            json_value(),
            prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..4),
            any::<prop::sample::Index>(),
            any::<bool>(),
        )
            .prop_map(|(v, edits, cut, truncate)| {
                let mut b = serde_json::to_vec(&v).unwrap();
                for (i, byte) in edits {
                    let i = i.index(b.len());
                    b[i] = byte;
                }
                if truncate {
                    b.truncate(cut.index(b.len() + 1));
                }
                b
            }),
    ]
}

/// A request that parses: `base` plus arbitrary fields no type models.
fn with_unknown_fields(base: Value) -> impl Strategy<Value = (Value, Extra)> {
    prop::collection::btree_map("x_fuzz_[a-z0-9_]{1,10}", json_value(), 0..6).prop_map(
        move |unknown| {
            let mut v = base.clone();
            let extra: Extra = unknown.into_iter().collect();
            for (k, x) in &extra {
                v[k] = x.clone();
            }
            (v, extra)
        },
    )
}

fn chat_base() -> Value {
    json!({"model": "gpt-4o", "temperature": 0.5, "messages": [
        {"role": "system", "content": "be brief"},
        {"role": "user", "content": [
            {"type": "text", "text": "hi"},
            {"type": "image_url", "image_url": {"url": "https://example.com/a.png", "detail": "low"}}]},
        {"role": "assistant", "content": null, "tool_calls": [
            {"id": "c1", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "42"}],
        "tools": [{"type": "function", "function": {"name": "f", "parameters": {"type": "object"}}}]})
}

/// Parses `v`; if it parses, re-serializing and parsing again gives the same request.
fn round_trip<T>(v: &Value) -> Option<T>
where
    T: DeserializeOwned + Serialize + PartialEq + std::fmt::Debug,
{
    let parsed: T = serde_json::from_value(v.clone()).ok()?;
    let again: T = serde_json::from_value(serde_json::to_value(&parsed).unwrap())
        .expect("what we serialize parses back");
    assert_eq!(parsed, again);
    Some(parsed)
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn request_parsers_never_panic_on_bytes(bytes in jsonish_bytes()) {
        let _ = serde_json::from_slice::<ChatCompletionRequest>(&bytes);
        let _ = serde_json::from_slice::<CompletionRequest>(&bytes);
        let _ = serde_json::from_slice::<EmbeddingRequest>(&bytes);
    }

    #[test]
    fn any_json_parses_or_fails_and_what_parses_round_trips(v in json_value()) {
        round_trip::<ChatCompletionRequest>(&v);
        round_trip::<CompletionRequest>(&v);
        round_trip::<EmbeddingRequest>(&v);
        // Also as a chat message list, where most of the nesting is.
        round_trip::<ChatCompletionRequest>(&json!({"model": "m", "messages": [v]}));
    }

    #[test]
    fn unknown_chat_fields_survive((v, unknown) in with_unknown_fields(chat_base())) {
        let parsed = round_trip::<ChatCompletionRequest>(&v).expect("a valid chat request");
        let out = serde_json::to_value(&parsed).unwrap();
        for (k, x) in &unknown {
            prop_assert_eq!(parsed.extra.get(k), Some(x));
            prop_assert_eq!(&out[k], x);
        }
        prop_assert_eq!(out, v);
    }

    #[test]
    fn unknown_completion_and_embedding_fields_survive(
        (c, c_unknown) in with_unknown_fields(json!({"model": "m", "prompt": ["a", "b"], "max_tokens": 5})),
        (e, e_unknown) in with_unknown_fields(json!({"model": "m", "input": "hello", "dimensions": 8})),
    ) {
        let parsed = round_trip::<CompletionRequest>(&c).expect("a valid completion request");
        prop_assert_eq!(&parsed.extra, &c_unknown);
        prop_assert_eq!(serde_json::to_value(&parsed).unwrap(), c);
        let parsed = round_trip::<EmbeddingRequest>(&e).expect("a valid embedding request");
        prop_assert_eq!(&parsed.extra, &e_unknown);
        prop_assert_eq!(serde_json::to_value(&parsed).unwrap(), e);
    }

    #[test]
    fn unknown_fields_inside_messages_and_parts_survive(
        msg_extra in prop::collection::btree_map("x_fuzz_[a-z]{1,8}", json_value(), 1..4),
        part_extra in prop::collection::btree_map("x_fuzz_[a-z]{1,8}", json_value(), 1..4),
    ) {
        let mut v = chat_base();
        let msg = v["messages"][1].as_object_mut().unwrap();
        msg.extend(msg_extra.clone());
        v["messages"][1]["content"][1]["image_url"]
            .as_object_mut()
            .unwrap()
            .extend(part_extra.clone());
        let parsed = round_trip::<ChatCompletionRequest>(&v).expect("valid");
        let m: Map<String, Value> = msg_extra.into_iter().collect();
        prop_assert_eq!(&parsed.messages[1].extra, &m);
        prop_assert_eq!(serde_json::to_value(&parsed).unwrap(), v);
    }
}
