//! Golden snapshots (insta): representative OpenAI requests as each provider receives them, and
//! recorded provider answers and streams as the OpenAI client receives them. A change in any
//! translation shows up as a reviewed diff (`cargo insta review`).

use llmgate::providers::gemini::media::MediaCx;
use llmgate::providers::{anthropic, gemini, vertex};
use llmgate::stream::sse::SseDecoder;
use llmgate::{CallOptions, ChatCompletionChunk, ChatCompletionRequest};
use serde_json::Value;

fn fixture(name: &str) -> String {
    std::fs::read_to_string(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .unwrap()
}

fn request(name: &str) -> ChatCompletionRequest {
    serde_json::from_str(&fixture(name)).unwrap()
}

/// Tool-call ids Gemini does not send are generated; pin them for the snapshot.
fn pin_ids(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(o) => {
                for (k, x) in o.iter_mut() {
                    if k == "id" {
                        if let Some(s) = x.as_str() {
                            if s.starts_with("call_") || s.starts_with("chatcmpl-") {
                                let keep = s
                                    .split_once("__thought__")
                                    .map(|(_, sig)| format!("__thought__{sig}"))
                                    .unwrap_or_default();
                                *x = Value::String(format!(
                                    "{}[id]{keep}",
                                    &s[..s.find(['_', '-']).unwrap() + 1]
                                ));
                            }
                        }
                    } else {
                        walk(x);
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

#[test]
fn anthropic_requests() {
    let opts = CallOptions::default();
    for name in ["basic", "full"] {
        let body = anthropic::request::build(
            &request(&format!("{name}.json")),
            "claude-sonnet-4-5",
            &opts,
        )
        .unwrap();
        insta::assert_json_snapshot!(format!("anthropic_request_{name}"), body);
    }
}

#[test]
fn vertex_claude_requests() {
    let opts = CallOptions::default();
    for name in ["basic", "full"] {
        let mut req = request(&format!("{name}.json"));
        req.model = "claude-sonnet-4-5".into();
        insta::assert_json_snapshot!(
            format!("vertex_claude_request_{name}"),
            vertex::claude_body(&req, &opts).unwrap()
        );
    }
}

#[tokio::test]
async fn gemini_requests() {
    let http = reqwest::Client::new();
    let opts = CallOptions::default();
    let cx = MediaCx {
        http: &http,
        opts: &opts,
        gcs_token: None,
    };
    for name in ["basic", "full"] {
        let body = gemini::request::build(&request(&format!("{name}.json")), &cx)
            .await
            .unwrap();
        insta::assert_json_snapshot!(format!("gemini_request_{name}"), body);
    }
}

#[test]
fn anthropic_answer() {
    let v: Value = serde_json::from_str(&fixture("anthropic_answer.json")).unwrap();
    insta::assert_json_snapshot!(anthropic::response::translate(&v, 0));
}

#[test]
fn gemini_answer() {
    let v: Value = serde_json::from_str(&fixture("gemini_answer.json")).unwrap();
    let answer =
        serde_json::to_value(gemini::response::translate(&v, "gemini-2.5-flash", 0)).unwrap();
    insta::assert_json_snapshot!(pin_ids(answer));
}

fn events(name: &str) -> Vec<(Option<String>, Value)> {
    let mut dec = SseDecoder::new();
    let mut out: Vec<_> = dec.feed(fixture(name).as_bytes());
    out.extend(dec.finish());
    out.into_iter()
        .filter(|e| !e.data.trim().is_empty())
        .map(|e| (e.event, serde_json::from_str(&e.data).unwrap()))
        .collect()
}

#[test]
fn anthropic_stream() {
    let mut state = anthropic::stream::StreamState::new(0, true);
    let chunks: Vec<ChatCompletionChunk> = events("anthropic_stream.txt")
        .iter()
        .flat_map(|(ev, data)| state.on_event(ev.as_deref().unwrap_or(""), data).unwrap())
        .collect();
    insta::assert_json_snapshot!(chunks);
}

#[test]
fn gemini_stream() {
    let mut state = gemini::stream::StreamState::new("gemini-2.5-flash", 0, true);
    let mut chunks: Vec<ChatCompletionChunk> = events("gemini_stream.txt")
        .iter()
        .flat_map(|(_, v)| state.on_event(v).unwrap())
        .collect();
    chunks.extend(state.finish());
    insta::assert_json_snapshot!(pin_ids(serde_json::to_value(chunks).unwrap()));
}
