//! Chat chunks as Messages stream events, generated incrementally: `message_start` and `ping`
//! at the first chunk, one content block per run of text, thinking or one tool call (every
//! argument fragment an `input_json_delta`), `message_delta` with the stop reason and usage
//! once the finish and the usage are known, then `message_stop`.

use llmgate_types::{ChatCompletionChunk, Usage};
use serde_json::{json, Value};

use super::from_chat::{stop_reason, thinking_blocks};
use super::names::ToolNames;
use super::usage::from_openai;
use super::{EventStream, MessagesEvent};
use crate::stream::ChunkStream;

#[derive(Clone, Copy, PartialEq, Debug)]
enum Block {
    Text,
    Thinking,
    /// A tool call: the chat stream's index of it.
    Tool(u32),
}

#[derive(Default)]
pub struct ChunkTranslator {
    started: bool,
    /// The block open now and its index.
    open: Option<(Block, u64)>,
    next: u64,
    /// The stop reason, once the finish chunk came.
    stop: Option<&'static str>,
    /// The last block the answer had was a tool call.
    ended_in_tool: bool,
    usage: Option<Usage>,
    done: bool,
    names: ToolNames,
}

fn ev(v: Value) -> MessagesEvent {
    MessagesEvent::new(v)
}

impl ChunkTranslator {
    pub fn new(names: ToolNames) -> Self {
        ChunkTranslator {
            names,
            ..Default::default()
        }
    }

    fn close(&mut self, out: &mut Vec<MessagesEvent>) {
        if let Some((_, i)) = self.open.take() {
            out.push(ev(json!({"type": "content_block_stop", "index": i})));
        }
    }

    /// Opens `block` (closing the one open) unless it is the one open; its index.
    fn open(&mut self, block: Block, start: Value, out: &mut Vec<MessagesEvent>) -> u64 {
        if let Some((b, i)) = self.open {
            if b == block {
                return i;
            }
        }
        self.close(out);
        let i = self.next;
        self.next += 1;
        self.open = Some((block, i));
        self.ended_in_tool = matches!(block, Block::Tool(_));
        out.push(ev(
            json!({"type": "content_block_start", "index": i, "content_block": start}),
        ));
        i
    }

    fn delta(i: u64, d: Value) -> MessagesEvent {
        ev(json!({"type": "content_block_delta", "index": i, "delta": d}))
    }

    fn start(&mut self, id: &str, model: &str, out: &mut Vec<MessagesEvent>) {
        self.started = true;
        out.push(ev(json!({"type": "message_start", "message": {
            "id": id, "type": "message", "role": "assistant", "model": model,
            "content": [], "stop_reason": null, "stop_sequence": null,
            "usage": {"input_tokens": 0, "output_tokens": 0},
        }})));
        out.push(ev(json!({"type": "ping"})));
    }

    pub fn on_chunk(&mut self, c: &ChatCompletionChunk) -> Vec<MessagesEvent> {
        let mut out = Vec::new();
        if self.done {
            return out;
        }
        if !self.started {
            self.start(&c.id, &c.model, &mut out);
        }
        if let Some(choice) = c.choices.first() {
            let d = &choice.delta;
            let signed = thinking_blocks(&d.extra, None);
            if let Some(r) = d.reasoning_content.as_deref().filter(|r| !r.is_empty()) {
                let i = self.open(
                    Block::Thinking,
                    json!({"type": "thinking", "thinking": "", "signature": ""}),
                    &mut out,
                );
                out.push(Self::delta(
                    i,
                    json!({"type": "thinking_delta", "thinking": r}),
                ));
            }
            for b in &signed {
                if let Some(sig) = b["signature"].as_str().filter(|s| !s.is_empty()) {
                    let i = self.open(
                        Block::Thinking,
                        json!({"type": "thinking", "thinking": "", "signature": ""}),
                        &mut out,
                    );
                    out.push(Self::delta(
                        i,
                        json!({"type": "signature_delta", "signature": sig}),
                    ));
                }
            }
            if let Some(t) = d.content.as_deref().filter(|t| !t.is_empty()) {
                let i = self.open(Block::Text, json!({"type": "text", "text": ""}), &mut out);
                out.push(Self::delta(i, json!({"type": "text_delta", "text": t})));
            }
            for call in d.tool_calls.iter().flatten() {
                let f = call.function.as_ref();
                let open_here = self.open.is_some_and(|(b, _)| b == Block::Tool(call.index));
                // A call's first fragment carries its id (and name); a later one only the
                // arguments of the call open.
                let i = if call.id.is_some() || !open_here {
                    if open_here && call.id.is_some() {
                        // Same index, a new id: another call (some servers reuse index 0).
                        self.close(&mut out);
                    }
                    let start = json!({
                        "type": "tool_use",
                        "id": call.id.clone().unwrap_or_default(),
                        "name": self.names.original(f.and_then(|f| f.name.as_deref()).unwrap_or_default()),
                        "input": {},
                    });
                    self.open(Block::Tool(call.index), start, &mut out)
                } else {
                    self.open.map(|(_, i)| i).unwrap_or_default()
                };
                if let Some(a) = f
                    .and_then(|f| f.arguments.as_deref())
                    .filter(|a| !a.is_empty())
                {
                    out.push(Self::delta(
                        i,
                        json!({"type": "input_json_delta", "partial_json": a}),
                    ));
                }
            }
            if let Some(f) = choice.finish_reason.as_deref() {
                self.stop = Some(stop_reason(f));
                self.close(&mut out);
            }
        }
        if let Some(u) = &c.usage {
            self.usage = Some(u.clone());
            // The closing usage chunk (no choices), or usage on the finish chunk itself.
            if self.stop.is_some() {
                self.finish(&mut out);
            }
        }
        out
    }

    /// The upstream's stream ended: closes what is open and the message.
    pub fn on_end(&mut self) -> Vec<MessagesEvent> {
        let mut out = Vec::new();
        if !self.done {
            // A stream that ended without a chunk is still a whole (empty) message.
            if !self.started {
                self.start("msg_empty", "", &mut out);
            }
            self.finish(&mut out);
        }
        out
    }

    fn finish(&mut self, out: &mut Vec<MessagesEvent>) {
        self.close(out);
        self.done = true;
        // A stream that ends in a tool call asks the client to run it, whatever the
        // provider's finish reason said.
        let stop = match self.stop {
            Some("end_turn") | None if self.ended_in_tool => "tool_use",
            Some(s) => s,
            None => "end_turn",
        };
        let usage = self.usage.take();
        let anthropic = usage
            .as_ref()
            .map(from_openai)
            .unwrap_or_else(|| json!({"output_tokens": 0}));
        let mut delta = ev(json!({
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": null},
            "usage": anthropic,
        }));
        delta.usage = usage;
        out.push(delta);
        out.push(ev(json!({"type": "message_stop"})));
    }
}

/// A chat chunk stream as Messages events, event by event as chunks arrive. An error ends the
/// stream (the gateway sends it as an `error` event).
pub fn events(chunks: ChunkStream, names: ToolNames) -> EventStream {
    crate::stream::translate(chunks, ChunkTranslator::new(names))
}

impl crate::stream::Translate for ChunkTranslator {
    type Event = MessagesEvent;
    fn on_chunk(&mut self, c: &ChatCompletionChunk) -> Vec<MessagesEvent> {
        ChunkTranslator::on_chunk(self, c)
    }
    fn on_end(&mut self) -> Vec<MessagesEvent> {
        ChunkTranslator::on_end(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::stream::testing::{chunk, delta};

    fn run(chunks: Vec<ChatCompletionChunk>) -> Vec<Value> {
        let mut t = ChunkTranslator::new(ToolNames::default());
        let mut out: Vec<MessagesEvent> = chunks.iter().flat_map(|c| t.on_chunk(c)).collect();
        out.extend(t.on_end());
        out.into_iter().map(|e| Value::Object(e.data)).collect()
    }

    fn kinds(evs: &[Value]) -> Vec<&str> {
        evs.iter().map(|e| e["type"].as_str().unwrap()).collect()
    }

    #[test]
    fn text_then_usage_chunk() {
        let evs = run(vec![
            delta(json!({"role": "assistant", "content": ""}), None),
            delta(json!({"content": "Hel"}), None),
            delta(json!({"content": "lo"}), None),
            delta(json!({}), Some("stop")),
            chunk(
                json!({"choices": [], "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7}}),
            ),
        ]);
        assert_eq!(
            kinds(&evs),
            [
                "message_start",
                "ping",
                "content_block_start",
                "content_block_delta",
                "content_block_delta",
                "content_block_stop",
                "message_delta",
                "message_stop"
            ]
        );
        assert_eq!(
            evs[3]["delta"],
            json!({"type": "text_delta", "text": "Hel"})
        );
        assert_eq!(evs[6]["delta"]["stop_reason"], "end_turn");
        assert_eq!(evs[6]["usage"]["input_tokens"], 5);
        assert_eq!(evs[6]["usage"]["output_tokens"], 2);
    }

    #[test]
    fn tool_call_fragments_are_all_kept_and_stop_is_tool_use() {
        let evs = run(vec![
            delta(json!({"content": "Reading."}), None),
            delta(
                json!({"tool_calls": [{"index": 0, "id": "call_1", "type": "function",
                                         "function": {"name": "Read", "arguments": ""}}]}),
                None,
            ),
            delta(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "{\"pa"}}]}),
                None,
            ),
            delta(
                json!({"tool_calls": [{"index": 0, "function": {"arguments": "th\": 1}"}}]}),
                None,
            ),
            delta(
                json!({"tool_calls": [{"index": 1, "id": "call_2", "function": {"name": "Ls", "arguments": "{}"}}]}),
                None,
            ),
            // Gemini-like providers end a tool call with `stop`.
            delta(json!({}), Some("stop")),
        ]);
        let starts: Vec<&Value> = evs
            .iter()
            .filter(|e| e["type"] == "content_block_start")
            .collect();
        assert_eq!(
            starts[1]["content_block"],
            json!({"type": "tool_use", "id": "call_1", "name": "Read", "input": {}})
        );
        assert_eq!(starts[2]["content_block"]["name"], "Ls");
        let json: Vec<&str> = evs
            .iter()
            .filter(|e| e["delta"]["type"] == "input_json_delta")
            .map(|e| e["delta"]["partial_json"].as_str().unwrap())
            .collect();
        assert_eq!(json, ["{\"pa", "th\": 1}", "{}"]);
        let md = evs.iter().find(|e| e["type"] == "message_delta").unwrap();
        assert_eq!(md["delta"]["stop_reason"], "tool_use");
        assert_eq!(evs.last().unwrap()["type"], "message_stop");
        // Every block opened is closed, in order.
        let stops: Vec<u64> = evs
            .iter()
            .filter(|e| e["type"] == "content_block_stop")
            .map(|e| e["index"].as_u64().unwrap())
            .collect();
        assert_eq!(stops, [0, 1, 2]);
    }

    #[test]
    fn a_shortened_tool_name_comes_back_as_the_clients() {
        let long = format!("mcp__server__{}", "t".repeat(70));
        let req: super::super::MessagesRequest = serde_json::from_value(json!({
            "model": "m", "messages": [], "tools": [{"name": long, "input_schema": {}}]}))
        .unwrap();
        let mut t = ChunkTranslator::new(ToolNames::of(&req));
        let sent = super::super::names::sent(&long);
        let evs = t.on_chunk(&delta(
            json!({"tool_calls": [{"index": 0, "id": "c", "function": {"name": sent}}]}),
            None,
        ));
        assert_eq!(evs[2].data["content_block"]["name"], json!(long));
    }

    #[test]
    fn interleaved_thinking_keeps_its_order() {
        let evs = run(vec![
            delta(json!({"reasoning_content": "first "}), None),
            delta(json!({"reasoning_content": "thought"}), None),
            delta(json!({"content": "answer"}), None),
            delta(json!({"reasoning_content": "again"}), None),
            delta(json!({"content": "more"}), None),
            delta(json!({}), Some("length")),
        ]);
        let blocks: Vec<&str> = evs
            .iter()
            .filter(|e| e["type"] == "content_block_start")
            .map(|e| e["content_block"]["type"].as_str().unwrap())
            .collect();
        assert_eq!(blocks, ["thinking", "text", "thinking", "text"]);
        assert_eq!(
            evs[3]["delta"],
            json!({"type": "thinking_delta", "thinking": "first "})
        );
        let md = evs.iter().find(|e| e["type"] == "message_delta").unwrap();
        assert_eq!(md["delta"]["stop_reason"], "max_tokens");
    }

    #[test]
    fn an_empty_stream_is_an_empty_message() {
        let evs = run(vec![]);
        assert_eq!(
            kinds(&evs),
            ["message_start", "ping", "message_delta", "message_stop"]
        );
    }

    #[test]
    fn usage_on_the_finish_chunk_closes_at_once() {
        let mut t = ChunkTranslator::new(ToolNames::default());
        let c = chunk(
            json!({"choices": [{"index": 0, "delta": {"content": "x"}, "finish_reason": "stop"}],
                             "usage": {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}}),
        );
        let evs = t.on_chunk(&c);
        let last = &evs[evs.len() - 2];
        assert_eq!(last.kind(), "message_delta");
        assert_eq!(last.usage.as_ref().unwrap().completion_tokens, 1);
        assert!(t.on_end().is_empty());
    }
}
