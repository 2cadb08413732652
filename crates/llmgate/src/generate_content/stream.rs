//! Chat chunks as `GenerateContentResponse` chunks, one by one: each chunk's text and
//! thoughts as parts as they arrive; tool calls, whose arguments a chat stream sends in
//! fragments, assembled and sent whole as `functionCall` parts (Google sends a call in one
//! piece) with the finish reason; `usageMetadata` on that last chunk, once the finish and the
//! usage are known (or the stream ends).

use std::collections::BTreeMap;

use llmgate_types::{ChatCompletionChunk, Usage};

use super::from_chat::{call_part, finish_reason, model_content, thought_part, usage_metadata};
use super::{
    Candidate, GenerateContentChunk, GenerateContentResponse, GenerateContentStream, Part,
};
use crate::stream::ChunkStream;

/// A tool call being assembled.
#[derive(Default)]
struct Call {
    id: Option<String>,
    name: String,
    arguments: String,
}

#[derive(Default)]
pub struct ChunkTranslator {
    id: String,
    model: String,
    /// Calls still receiving fragments, by choice and the chat stream's call index.
    open: BTreeMap<(u32, u32), Call>,
    /// Calls complete (a later call reused their index), by choice, in order.
    complete: BTreeMap<u32, Vec<Call>>,
    /// Finish reasons by choice.
    finish: BTreeMap<u32, String>,
    usage: Option<Usage>,
    done: bool,
}

impl ChunkTranslator {
    fn response(&self, candidates: Vec<Candidate>) -> GenerateContentResponse {
        GenerateContentResponse {
            candidates,
            model_version: Some(self.model.clone()).filter(|m| !m.is_empty()),
            response_id: Some(self.id.clone()).filter(|i| !i.is_empty()),
            ..Default::default()
        }
    }

    pub fn on_chunk(&mut self, c: &ChatCompletionChunk) -> Vec<GenerateContentChunk> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        if self.id.is_empty() {
            self.id.clone_from(&c.id);
        }
        if self.model.is_empty() {
            self.model.clone_from(&c.model);
        }
        let mut candidates = Vec::new();
        for choice in &c.choices {
            let d = &choice.delta;
            let mut parts = Vec::new();
            if let Some(r) = d.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
                parts.push(thought_part(r));
            }
            if let Some(t) = d.content.as_deref().filter(|t| !t.is_empty()) {
                parts.push(Part::text(t));
            }
            for tc in d.tool_calls.iter().flatten() {
                let key = (choice.index, tc.index);
                // Same index, a new id: another call (some servers reuse index 0).
                let reused = self
                    .open
                    .get(&key)
                    .is_some_and(|open| open.id.is_some() && tc.id.is_some() && open.id != tc.id);
                if reused {
                    if let Some(done) = self.open.remove(&key) {
                        self.complete.entry(choice.index).or_default().push(done);
                    }
                }
                let call = self.open.entry(key).or_default();
                if tc.id.is_some() {
                    call.id.clone_from(&tc.id);
                }
                if let Some(f) = &tc.function {
                    if let Some(n) = f.name.as_deref().filter(|n| !n.is_empty()) {
                        call.name = n.to_string();
                    }
                    if let Some(a) = &f.arguments {
                        call.arguments.push_str(a);
                    }
                }
            }
            if let Some(f) = &choice.finish_reason {
                self.finish.insert(choice.index, f.clone());
            }
            if !parts.is_empty() {
                candidates.push(Candidate {
                    content: model_content(parts),
                    index: choice.index,
                    ..Default::default()
                });
            }
        }
        if !candidates.is_empty() {
            out.push(GenerateContentChunk {
                body: self.response(candidates),
                usage: None,
            });
        }
        if let Some(u) = &c.usage {
            self.usage = Some(u.clone());
            // The closing usage chunk (no choices), or usage on the finish chunk itself.
            if !self.finish.is_empty() {
                out.push(self.finish_chunk());
            }
        }
        out
    }

    /// The upstream's stream ended: the last chunk, if it was not sent yet.
    pub fn on_end(&mut self) -> Vec<GenerateContentChunk> {
        if self.done {
            return Vec::new();
        }
        vec![self.finish_chunk()]
    }

    /// The calls, finish reason of every choice, and the usage.
    fn finish_chunk(&mut self) -> GenerateContentChunk {
        self.done = true;
        for ((choice, _), call) in std::mem::take(&mut self.open) {
            self.complete.entry(choice).or_default().push(call);
        }
        let mut choices: Vec<u32> = self
            .finish
            .keys()
            .chain(self.complete.keys())
            .copied()
            .collect();
        choices.sort_unstable();
        choices.dedup();
        if choices.is_empty() {
            choices.push(0);
        }
        let candidates = choices
            .into_iter()
            .map(|i| {
                let parts = self
                    .complete
                    .remove(&i)
                    .unwrap_or_default()
                    .into_iter()
                    .map(|c| call_part(c.id.as_deref(), &c.name, &c.arguments))
                    .collect();
                let finish = self.finish.get(&i).map(String::as_str);
                Candidate {
                    content: model_content(parts),
                    finish_reason: Some(finish_reason(finish).into()),
                    index: i,
                    ..Default::default()
                }
            })
            .collect();
        let usage = self.usage.take();
        let mut body = self.response(candidates);
        body.usage_metadata = Some(usage_metadata(
            &usage.clone().unwrap_or_else(|| Usage::new(0, 0)),
        ));
        GenerateContentChunk { body, usage }
    }
}

/// A chat chunk stream as `generateContent` chunks, as they arrive. An error ends the stream
/// (the gateway sends it as an error event).
pub fn chunks(chat: ChunkStream) -> GenerateContentStream {
    crate::stream::translate(chat, ChunkTranslator::default())
}

impl crate::stream::Translate for ChunkTranslator {
    type Event = GenerateContentChunk;
    fn on_chunk(&mut self, c: &ChatCompletionChunk) -> Vec<GenerateContentChunk> {
        ChunkTranslator::on_chunk(self, c)
    }
    fn on_end(&mut self) -> Vec<GenerateContentChunk> {
        ChunkTranslator::on_end(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::{json, Value};

    use crate::stream::testing::{chunk, delta};

    fn usage() -> ChatCompletionChunk {
        chunk(
            json!({"choices": [], "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}}),
        )
    }

    fn run(chunks: Vec<ChatCompletionChunk>) -> (Vec<Value>, Option<Usage>) {
        let mut t = ChunkTranslator::default();
        let mut out: Vec<GenerateContentChunk> =
            chunks.iter().flat_map(|c| t.on_chunk(c)).collect();
        out.extend(t.on_end());
        let usage = out.last().and_then(|c| c.usage.clone());
        (
            out.into_iter()
                .map(|c| serde_json::to_value(c).unwrap())
                .collect(),
            usage,
        )
    }

    #[test]
    fn text_arrives_chunk_by_chunk_and_usage_closes() {
        let (out, usage) = run(vec![
            delta(json!({"role": "assistant", "content": ""}), None),
            delta(json!({"reasoning_content": "hm"}), None),
            delta(json!({"content": "Hel"}), None),
            delta(json!({"content": "lo"}), None),
            delta(json!({}), Some("stop")),
            usage(),
        ]);
        assert_eq!(out.len(), 4, "{out:#?}");
        assert_eq!(
            out[0]["candidates"][0]["content"]["parts"],
            json!([{"text": "hm", "thought": true}])
        );
        assert_eq!(
            out[1]["candidates"][0]["content"],
            json!({"role": "model", "parts": [{"text": "Hel"}]})
        );
        assert_eq!(out[1]["candidates"][0].get("finishReason"), None);
        assert_eq!(out[2]["candidates"][0]["content"]["parts"][0]["text"], "lo");
        assert_eq!(
            (out[1]["modelVersion"].clone(), out[1]["responseId"].clone()),
            (json!("m"), json!("chatcmpl-1"))
        );
        assert_eq!(out[3]["candidates"][0]["finishReason"], "STOP");
        assert_eq!(out[3]["candidates"][0]["content"]["parts"], json!([]));
        assert_eq!(
            out[3]["usageMetadata"],
            json!({"promptTokenCount": 10, "candidatesTokenCount": 5, "totalTokenCount": 15})
        );
        assert_eq!(usage.map(|u| u.total_tokens), Some(15));
        assert!(out[..3].iter().all(|c| c.get("usageMetadata").is_none()));
    }

    #[test]
    fn tool_call_fragments_are_sent_whole() {
        let (out, _) = run(vec![
            delta(json!({"content": "Checking."}), None),
            delta(
                json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                          "function": {"name": "get_weather", "arguments": ""}}]}),
                None,
            ),
            delta(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"loc"}}]}),
                None,
            ),
            delta(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "ation\":\"Paris\"}"}}]}),
                None,
            ),
            // Some servers reuse index 0 for a second call.
            delta(
                json!({"tool_calls": [{"index": 0, "id": "call_2", "function": {"name": "time", "arguments": ""}}]}),
                None,
            ),
            delta(json!({}), Some("tool_calls")),
            usage(),
        ]);
        assert_eq!(out.len(), 2, "{out:#?}");
        assert_eq!(
            out[0]["candidates"][0]["content"]["parts"],
            json!([{"text": "Checking."}])
        );
        assert_eq!(
            out[1]["candidates"][0]["content"]["parts"],
            json!([
                {"functionCall": {"id": "call_1", "name": "get_weather", "args": {"location": "Paris"}}},
                {"functionCall": {"id": "call_2", "name": "time", "args": {}}},
            ])
        );
        assert_eq!(out[1]["candidates"][0]["finishReason"], "STOP");
    }

    #[test]
    fn a_stream_without_usage_still_closes_and_usage_on_the_finish_chunk_closes_at_once() {
        let (out, usage) = run(vec![
            delta(json!({"content": "x"}), None),
            delta(json!({}), Some("length")),
        ]);
        assert_eq!(
            out.last().unwrap()["candidates"][0]["finishReason"],
            "MAX_TOKENS"
        );
        assert_eq!(out.last().unwrap()["usageMetadata"]["totalTokenCount"], 0);
        assert!(usage.is_none(), "no usage to price by: the gateway counts");
        let mut t = ChunkTranslator::default();
        let mut last = chunk(
            json!({"choices": [{"index": 0, "delta": {"content": "y"}, "finish_reason": "stop"}],
                                     "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}),
        );
        let out = t.on_chunk(&last);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].usage.as_ref().map(|u| u.total_tokens), Some(2));
        last.usage = None;
        assert!(
            t.on_chunk(&last).is_empty() && t.on_end().is_empty(),
            "closed once"
        );
    }
}
