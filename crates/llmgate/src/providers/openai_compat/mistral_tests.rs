//! Unit tests of Mistral's answer, chunk and message rewrites.

use super::*;

#[test]
fn answers_lose_empty_content_and_split_thinking() {
    let mut v = json!({"choices": [
        {"message": {"role": "assistant", "content": ""}},
        {"message": {"role": "assistant", "content": [
            {"type": "thinking", "thinking": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]},
            {"type": "text", "text": "4"}]}}]});
    answer(&mut v);
    assert_eq!(v["choices"][0]["message"]["content"], Value::Null);
    assert_eq!(v["choices"][1]["message"]["content"], "4");
    assert_eq!(v["choices"][1]["message"]["reasoning_content"], "a\nb");
}

#[test]
fn stream_chunks_split_thinking() {
    let mut v = json!({"choices": [{"delta": {"content": [
        {"type": "thinking", "thinking": [{"type": "text", "text": "hm"}]}]}}]});
    chunk(&mut v);
    let d = &v["choices"][0]["delta"];
    assert_eq!(d["content"], Value::Null);
    assert_eq!(d["reasoning_content"], "hm");
    assert_eq!(d["thinking_blocks"][0]["signature"], "mistral");
}

#[test]
fn empty_tool_reply_is_kept_only_as_the_answer() {
    let out = messages(
        vec![
            json!({"role": "assistant", "tool_calls": [{"id": "c", "type": "function", "function": {"name": "f", "arguments": "{}"}}]}),
            json!({"role": "tool", "tool_call_id": "c", "content": ""}),
            json!({"role": "tool", "tool_call_id": "c", "content": ""}),
            json!({"role": "user", "content": ""}),
        ],
        false,
    );
    assert_eq!(out.len(), 2);
    assert_eq!(
        out[1],
        json!({"role": "tool", "tool_call_id": "c", "content": ""})
    );
}

#[test]
fn efforts_round_up_to_a_listed_level() {
    let listed = |l: &[&str]| l.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    assert_eq!(nearest_effort("low", &listed(&["none", "high"])), "high");
    assert_eq!(nearest_effort("max", &listed(&["none", "high"])), "high");
    assert_eq!(nearest_effort("none", &listed(&["none", "high"])), "none");
    assert_eq!(
        nearest_effort("medium", &listed(&["low", "high", "max"])),
        "high"
    );
    assert_eq!(nearest_effort("low", &[]), "low");
    assert_eq!(nearest_effort("turbo", &listed(&["high"])), "turbo");
}
