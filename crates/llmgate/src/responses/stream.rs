//! A chat chunk stream as Responses events, translated as each chunk arrives: output items
//! open and close as the answer moves from reasoning to text to function calls, deltas go out
//! at once, and the end (or a failure) sends the whole response.

use std::collections::VecDeque;

use futures::StreamExt;
use llmgate_types::{
    ChatCompletionChunk, ResponseEvent, ResponseObject, ResponseUsage, ResponsesRequest, Usage,
};
use serde_json::{json, Value};

use super::answer::{
    echo, function_call_item, message_item, new_id, reasoning_item, status_of, text_part,
};
use super::ResponseEventStream;
use crate::stream::ChunkStream;
use crate::LlmError;

/// The item being streamed (a function call is also kept in `calls`).
enum Open {
    None,
    Reasoning {
        index: usize,
        id: String,
        text: String,
    },
    Text {
        index: usize,
        id: String,
        text: String,
    },
    Call {
        chat_index: u32,
    },
}

struct Call {
    chat_index: u32,
    index: usize,
    id: String,
    call_id: String,
    name: String,
    args: String,
}

/// The translation's state: what is open, what is done, the next sequence number.
pub struct Bridge {
    seq: u64,
    response: ResponseObject,
    open: Open,
    calls: Vec<Call>,
    /// Output items by output index (None while open).
    output: Vec<Option<Value>>,
    finish: Option<String>,
    usage: Option<Usage>,
    /// The open reasoning item's thinking blocks (by the provider's block index), with their
    /// text and signatures as they stream.
    thinking: Vec<(u64, Value)>,
    out: Vec<ResponseEvent>,
}

impl Bridge {
    pub fn new(req: &ResponsesRequest) -> Bridge {
        Bridge {
            seq: 0,
            response: ResponseObject {
                id: new_id("resp"),
                object: "response".into(),
                created_at: now(),
                status: "in_progress".into(),
                model: req.model.clone(),
                output: vec![],
                usage: None,
                extra: echo(req),
                chat_usage: None,
            },
            open: Open::None,
            calls: vec![],
            output: vec![],
            finish: None,
            usage: None,
            thinking: vec![],
            out: vec![],
        }
    }

    fn emit(&mut self, kind: &str, fields: Value) {
        let mut e = ResponseEvent::new(kind, fields);
        e.sequence_number = self.seq;
        self.seq += 1;
        self.out.push(e);
    }

    fn emit_response(&mut self, kind: &str) {
        let mut e = ResponseEvent::new(kind, json!({}));
        e.sequence_number = self.seq;
        self.seq += 1;
        e.response = Some(self.response.clone());
        self.out.push(e);
    }

    /// `response.created` and `response.in_progress`.
    pub fn start(&mut self) -> Vec<ResponseEvent> {
        self.emit_response("response.created");
        self.emit_response("response.in_progress");
        std::mem::take(&mut self.out)
    }

    fn new_index(&mut self) -> usize {
        self.output.push(None);
        self.output.len() - 1
    }

    pub fn chunk(&mut self, c: ChatCompletionChunk) -> Vec<ResponseEvent> {
        if !c.model.is_empty() {
            self.response.model = c.model.clone();
        }
        if let Some(u) = c.usage {
            self.usage = Some(u);
        }
        for choice in c.choices.into_iter().filter(|ch| ch.index == 0) {
            let d = choice.delta;
            if let Some(r) = d.reasoning_content.filter(|r| !r.is_empty()) {
                self.reasoning(&r);
            }
            if let Some(Value::Array(blocks)) = d.extra.get("thinking_blocks") {
                for b in blocks {
                    self.thinking_block(b);
                }
            }
            if let Some(t) = d.content.filter(|t| !t.is_empty()) {
                self.text(&t);
            }
            for tc in d.tool_calls.into_iter().flatten() {
                let f = tc.function.unwrap_or_default();
                self.call(tc.index, tc.id, f.name, f.arguments.unwrap_or_default());
            }
            if choice.finish_reason.is_some() {
                self.finish = choice.finish_reason;
            }
        }
        std::mem::take(&mut self.out)
    }

    fn reasoning(&mut self, delta: &str) {
        if !matches!(self.open, Open::Reasoning { .. }) {
            self.close();
            let index = self.new_index();
            let id = new_id("rs");
            self.emit(
                "response.output_item.added",
                json!({"output_index": index, "item": {"id": id, "type": "reasoning", "summary": []}}),
            );
            self.emit(
                "response.reasoning_summary_part.added",
                json!({"item_id": id, "output_index": index, "summary_index": 0,
                       "part": {"type": "summary_text", "text": ""}}),
            );
            self.open = Open::Reasoning {
                index,
                id,
                text: String::new(),
            };
        }
        if delta.is_empty() {
            return;
        }
        if let Open::Reasoning { index, id, text } = &mut self.open {
            text.push_str(delta);
            let f =
                json!({"item_id": id, "output_index": index, "summary_index": 0, "delta": delta});
            self.emit("response.reasoning_summary_text.delta", f);
        }
    }

    /// A streamed piece of a thinking block: its text was sent as reasoning; its signature (or
    /// a redacted block) is kept for the reasoning item's `encrypted_content`.
    fn thinking_block(&mut self, b: &Value) {
        if !matches!(self.open, Open::Reasoning { .. }) {
            self.reasoning("");
        }
        let index = b.get("index").and_then(Value::as_u64).unwrap_or(0);
        let pos = match self.thinking.iter().position(|(i, _)| *i == index) {
            Some(p) => p,
            None => {
                let kind = b.get("type").cloned().unwrap_or(json!("thinking"));
                self.thinking
                    .push((index, json!({"type": kind, "thinking": ""})));
                self.thinking.len() - 1
            }
        };
        let block = &mut self.thinking[pos].1;
        if let Some(t) = b.get("thinking").and_then(Value::as_str) {
            let text = format!("{}{t}", block["thinking"].as_str().unwrap_or(""));
            block["thinking"] = json!(text);
        }
        for k in ["signature", "data"] {
            if let Some(v) = b.get(k).filter(|v| !v.is_null()) {
                block[k] = v.clone();
            }
        }
        if block["type"] == "redacted_thinking" {
            if let Some(o) = block.as_object_mut() {
                o.remove("thinking");
            }
        }
    }

    fn text(&mut self, delta: &str) {
        if !matches!(self.open, Open::Text { .. }) {
            self.close();
            let index = self.new_index();
            let id = new_id("msg");
            let mut item = message_item(&id, "", "in_progress");
            item["content"] = json!([]);
            self.emit(
                "response.output_item.added",
                json!({"output_index": index, "item": item}),
            );
            self.emit(
                "response.content_part.added",
                json!({"item_id": id, "output_index": index, "content_index": 0, "part": text_part("")}),
            );
            self.open = Open::Text {
                index,
                id,
                text: String::new(),
            };
        }
        if let Open::Text { index, id, text } = &mut self.open {
            text.push_str(delta);
            let f = json!({"item_id": id, "output_index": index, "content_index": 0,
                           "delta": delta, "logprobs": []});
            self.emit("response.output_text.delta", f);
        }
    }

    fn call(&mut self, chat_index: u32, id: Option<String>, name: Option<String>, args: String) {
        let known = self.calls.iter().any(|c| c.chat_index == chat_index);
        if !known {
            self.close();
            let index = self.new_index();
            let call = Call {
                chat_index,
                index,
                id: new_id("fc"),
                call_id: id.unwrap_or_else(|| new_id("call")),
                name: name.unwrap_or_default(),
                args: String::new(),
            };
            let item = function_call_item(&call.id, &call.call_id, &call.name, "", "in_progress");
            self.emit(
                "response.output_item.added",
                json!({"output_index": index, "item": item}),
            );
            self.calls.push(call);
            self.open = Open::Call { chat_index };
        }
        if args.is_empty() {
            return;
        }
        let Some(c) = self.calls.iter_mut().find(|c| c.chat_index == chat_index) else {
            return;
        };
        c.args.push_str(&args);
        let f = json!({"item_id": c.id, "output_index": c.index, "delta": args});
        self.emit("response.function_call_arguments.delta", f);
    }

    /// Closes the open item with its `done` events.
    fn close(&mut self) {
        match std::mem::replace(&mut self.open, Open::None) {
            Open::None => {}
            Open::Reasoning { index, id, text } => {
                self.emit(
                    "response.reasoning_summary_text.done",
                    json!({"item_id": id, "output_index": index, "summary_index": 0, "text": text}),
                );
                self.emit(
                    "response.reasoning_summary_part.done",
                    json!({"item_id": id, "output_index": index, "summary_index": 0,
                           "part": {"type": "summary_text", "text": text}}),
                );
                let blocks: Vec<Value> = std::mem::take(&mut self.thinking)
                    .into_iter()
                    .map(|(_, b)| b)
                    .collect();
                let item = reasoning_item(&id, &text, &blocks);
                self.done_item(index, item);
            }
            Open::Text { index, id, text } => {
                self.emit(
                    "response.output_text.done",
                    json!({"item_id": id, "output_index": index, "content_index": 0,
                           "text": text, "logprobs": []}),
                );
                self.emit(
                    "response.content_part.done",
                    json!({"item_id": id, "output_index": index, "content_index": 0,
                           "part": text_part(&text)}),
                );
                self.done_item(index, message_item(&id, &text, "completed"));
            }
            Open::Call { chat_index } => {
                let Some(pos) = self.calls.iter().position(|c| c.chat_index == chat_index) else {
                    return;
                };
                let c = &self.calls[pos];
                let (index, id, name, args) =
                    (c.index, c.id.clone(), c.name.clone(), c.args.clone());
                let item = function_call_item(&id, &c.call_id, &name, &args, "completed");
                self.emit(
                    "response.function_call_arguments.done",
                    json!({"item_id": id, "output_index": index, "name": name, "arguments": args}),
                );
                self.done_item(index, item);
            }
        }
    }

    fn done_item(&mut self, index: usize, item: Value) {
        self.emit(
            "response.output_item.done",
            json!({"output_index": index, "item": item}),
        );
        self.output[index] = Some(item);
    }

    /// The end of the upstream stream: the open item closes, `response.completed` (or
    /// `response.incomplete`) carries the whole response.
    pub fn finish(&mut self) -> Vec<ResponseEvent> {
        self.close();
        let (status, incomplete) = status_of(self.finish.as_deref());
        self.response.status = status.into();
        self.response
            .extra
            .insert("incomplete_details".into(), incomplete);
        self.response.output = self.output.iter().flatten().cloned().collect();
        self.response.usage = self.usage.as_ref().map(ResponseUsage::from_chat);
        self.response.chat_usage = self.usage.take();
        let kind = if status == "completed" {
            "response.completed"
        } else {
            "response.incomplete"
        };
        self.emit_response(kind);
        std::mem::take(&mut self.out)
    }

    /// A failure mid-stream: `response.failed` with the error (the route then sends its
    /// `error` event).
    pub fn failed(&mut self, e: &LlmError) -> Vec<ResponseEvent> {
        self.response.status = "failed".into();
        self.response.output = self.output.iter().flatten().cloned().collect();
        self.response.extra.insert(
            "error".into(),
            json!({"code": "server_error", "message": e.message}),
        );
        self.emit_response("response.failed");
        std::mem::take(&mut self.out)
    }
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Translates `chunks` to events as they arrive.
pub fn events(req: &ResponsesRequest, chunks: ChunkStream) -> ResponseEventStream {
    let mut bridge = Bridge::new(req);
    let first: VecDeque<_> = bridge.start().into_iter().map(Ok).collect();
    Box::pin(futures::stream::unfold(
        (chunks, bridge, first, false),
        |(mut chunks, mut bridge, mut queue, mut ended)| async move {
            loop {
                if let Some(e) = queue.pop_front() {
                    return Some((e, (chunks, bridge, queue, ended)));
                }
                if ended {
                    return None;
                }
                match chunks.next().await {
                    Some(Ok(c)) => queue.extend(bridge.chunk(c).into_iter().map(Ok)),
                    Some(Err(e)) => {
                        queue.extend(bridge.failed(&e).into_iter().map(Ok));
                        queue.push_back(Err(e));
                        ended = true;
                    }
                    None => {
                        queue.extend(bridge.finish().into_iter().map(Ok));
                        ended = true;
                    }
                }
            }
        },
    ))
}
