//! Property tests ("fuzzing" on stable Rust) of the SSE decoder every upstream stream goes
//! through: however the bytes are split into chunks, the events are those of the whole body at
//! once, and no input panics. The request parsers' properties are in llmgate-types/tests/fuzz.rs.
//!
//! Bounded to the normal test run: `PROPTEST_CASES` (default 256) cases per property.

use llmgate::stream::sse::{SseDecoder, SseEvent};
use proptest::prelude::*;

/// Events from `chunks` fed one after another, then the end of the stream.
fn decode<'a>(chunks: impl IntoIterator<Item = &'a [u8]>) -> Vec<SseEvent> {
    let mut d = SseDecoder::new();
    let mut out = Vec::new();
    for c in chunks {
        out.extend(d.feed(c));
    }
    out.extend(d.finish());
    out
}

/// `body` cut at the given points (sorted, deduplicated, clamped).
fn split(body: &[u8], cuts: &[prop::sample::Index]) -> Vec<Vec<u8>> {
    let mut at: Vec<usize> = cuts.iter().map(|i| i.index(body.len() + 1)).collect();
    at.sort_unstable();
    at.dedup();
    let mut chunks = Vec::new();
    let mut start = 0;
    for end in at.into_iter().chain([body.len()]) {
        chunks.push(body[start..end].to_vec());
        start = end;
    }
    chunks
}

/// SSE-shaped bodies: fields, comments, blank lines, every line ending, multi-byte text.
fn sse_body() -> impl Strategy<Value = Vec<u8>> {
    let text = prop_oneof![
        Just(String::new()),
        Just("{\"choices\":[{\"delta\":{\"content\":\"hé 世界 🦀\"}}]}".to_string()),
        Just("[DONE]".to_string()),
        "[ -~]{0,24}",
        any::<String>().prop_map(|s| s.replace(['\n', '\r'], "")),
    ];
    let line = prop_oneof![
        text.clone().prop_map(|t| format!("data: {t}")),
        text.clone().prop_map(|t| format!("data:{t}")),
        Just("data".to_string()),
        prop::sample::select(&["message_start", "ping", "error", ""][..])
            .prop_map(|e| format!("event: {e}")),
        text.clone().prop_map(|t| format!(": {t}")),
        Just("id: 7".to_string()),
        Just("retry: 100".to_string()),
        Just(String::new()),
        text.prop_map(|t| format!("unknown: {t}")),
    ];
    let ending = prop::sample::select(&["\n", "\r\n", "\n\n", "\r\n\r\n"][..]);
    prop::collection::vec((line, ending), 0..24).prop_map(|lines| {
        lines
            .into_iter()
            .flat_map(|(l, e)| [l, e.to_string()])
            .collect::<String>()
            .into_bytes()
    })
}

proptest! {
    #![proptest_config(ProptestConfig {
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn sse_chunking_does_not_change_the_events(
        body in sse_body(),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let whole = decode([body.as_slice()]);
        let chunks = split(&body, &cuts);
        prop_assert_eq!(decode(chunks.iter().map(Vec::as_slice)), whole.clone());
        // Byte by byte, the smallest chunks there are.
        prop_assert_eq!(decode(body.chunks(1)), whole);
    }

    #[test]
    fn sse_decoder_never_panics_on_arbitrary_bytes(
        body in prop::collection::vec(any::<u8>(), 0..512),
        cuts in prop::collection::vec(any::<prop::sample::Index>(), 0..12),
    ) {
        let whole = decode([body.as_slice()]);
        let chunks = split(&body, &cuts);
        prop_assert_eq!(decode(chunks.iter().map(Vec::as_slice)), whole);
    }

    #[test]
    fn each_data_event_is_decoded(payloads in prop::collection::vec("[ -~]{1,40}", 1..10)) {
        let body: String = payloads.iter().map(|p| format!("data: {p}\n\n")).collect();
        let events = decode(body.as_bytes().chunks(7));
        let data: Vec<&str> = events.iter().map(|e| e.data.as_str()).collect();
        prop_assert_eq!(data, payloads.iter().map(String::as_str).collect::<Vec<_>>());
    }
}
