//! Ollama's streamed answers: one JSON object per line (`application/x-ndjson`), decoded as
//! bytes arrive and translated into OpenAI chunks; the `done: true` line carries the finish
//! reason and the token counts.

use std::collections::VecDeque;
use std::time::Duration;

use futures::{Stream, StreamExt};
use llmgate_types::{ChatCompletionChunk, Delta, FunctionCallDelta, ToolCallDelta};
use serde_json::Value;

use super::request::Api;
use super::response::{finish_reason, tool_call, usage};
use crate::providers::http::EventTranslator;
use crate::stream::ChunkStream;
use crate::{ErrorKind, LlmError};

/// Splits bytes into lines, keeping a partial last line until its end arrives.
#[derive(Default)]
pub struct LineDecoder {
    buf: Vec<u8>,
}

impl LineDecoder {
    pub fn feed(&mut self, bytes: &[u8]) -> Vec<String> {
        self.buf.extend_from_slice(bytes);
        let mut out = Vec::new();
        while let Some(i) = self.buf.iter().position(|b| *b == b'\n') {
            let line: Vec<u8> = self.buf.drain(..=i).collect();
            out.push(String::from_utf8_lossy(&line).trim().to_string());
        }
        out.retain(|l| !l.is_empty());
        out
    }

    pub fn finish(&mut self) -> Option<String> {
        let rest = String::from_utf8_lossy(&std::mem::take(&mut self.buf))
            .trim()
            .to_string();
        (!rest.is_empty()).then_some(rest)
    }
}

/// The lines of a body, as they arrive; `idle` bounds the silence between chunks.
fn lines(
    res: reqwest::Response,
    provider: &'static str,
    idle: Option<Duration>,
) -> impl Stream<Item = Result<String, LlmError>> + Send {
    let body = Box::pin(res.bytes_stream());
    futures::stream::unfold(
        (body, LineDecoder::default(), VecDeque::new(), false),
        move |(mut body, mut dec, mut pending, mut done)| async move {
            loop {
                if let Some(l) = pending.pop_front() {
                    return Some((Ok(l), (body, dec, pending, done)));
                }
                if done {
                    return None;
                }
                let next = match idle {
                    Some(t) => match tokio::time::timeout(t, body.next()).await {
                        Ok(n) => n,
                        Err(_) => {
                            done = true;
                            let e = LlmError::timeout(provider, t.as_secs_f64());
                            return Some((Err(e), (body, dec, pending, done)));
                        }
                    },
                    None => body.next().await,
                };
                match next {
                    Some(Ok(b)) => pending.extend(dec.feed(&b)),
                    Some(Err(e)) => {
                        done = true;
                        let e = LlmError::from_transport(&e, provider);
                        return Some((Err(e), (body, dec, pending, done)));
                    }
                    None => {
                        done = true;
                        pending.extend(dec.finish());
                    }
                }
            }
        },
    )
}

/// A JSON-lines body translated line by line; nothing follows an error.
pub fn translated(
    res: reqwest::Response,
    provider: &'static str,
    idle: Option<Duration>,
    mut tr: impl EventTranslator,
) -> ChunkStream {
    let items = lines(res, provider, idle)
        .map(Some)
        .chain(futures::stream::once(async { None }));
    let batches = items.scan(false, move |failed, item| {
        if *failed {
            return futures::future::ready(None);
        }
        let batch = match item {
            None => Ok(tr.on_end()),
            Some(Err(e)) => Err(e),
            Some(Ok(line)) => serde_json::from_str::<Value>(&line)
                .map_err(|e| {
                    LlmError::new(
                        ErrorKind::InternalServer,
                        format!("could not parse a stream line: {e}: {line}"),
                    )
                })
                .and_then(|v| tr.on_event(None, &v))
                .map_err(|e| e.with_provider(provider)),
        };
        *failed = batch.is_err();
        futures::future::ready(Some(batch))
    });
    Box::pin(batches.flat_map(|b| {
        futures::stream::iter(match b {
            Ok(chunks) => chunks.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    }))
}

/// Translation state of one streamed answer.
pub struct StreamState {
    api: Api,
    provider: &'static str,
    id: String,
    model: String,
    created: u64,
    include_usage: bool,
    started: bool,
    /// Inside `<think>` tags of the content.
    in_think: bool,
    next_tool: u32,
    finished: bool,
    usage: Value,
}

impl StreamState {
    pub fn new(
        api: Api,
        provider: &'static str,
        model: &str,
        created: u64,
        include_usage: bool,
    ) -> Self {
        StreamState {
            api,
            provider,
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4()),
            model: model.to_string(),
            created,
            include_usage,
            started: false,
            in_think: false,
            next_tool: 0,
            finished: false,
            usage: Value::Null,
        }
    }

    fn chunk(&mut self, mut delta: Delta, finish: Option<&str>) -> ChatCompletionChunk {
        if !self.started {
            self.started = true;
            delta.role = Some("assistant".into());
        }
        ChatCompletionChunk::single(&self.id, self.created, &self.model, delta, finish)
    }

    /// Content text, with what is inside `<think>` tags turned into reasoning.
    fn text(&mut self, delta: &mut Delta, text: &str) {
        let mut t = text.to_string();
        if let Some(rest) = t.strip_prefix("<think>").map(str::to_string) {
            self.in_think = true;
            t = rest;
        }
        let (reasoning, content) = if self.in_think {
            match t.split_once("</think>") {
                Some((r, c)) => {
                    self.in_think = false;
                    (r.to_string(), c.to_string())
                }
                None => (t, String::new()),
            }
        } else {
            (String::new(), t)
        };
        if !reasoning.is_empty() {
            delta.reasoning_content = Some(reasoning);
        }
        if !content.is_empty() {
            delta.content = Some(content);
        }
    }
}

impl EventTranslator for StreamState {
    fn on_event(
        &mut self,
        _: Option<&str>,
        v: &Value,
    ) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        if let Some(e) = v.get("error") {
            let body = serde_json::json!({"error": e}).to_string();
            return Err(LlmError::from_upstream(
                500,
                vec![],
                body.as_bytes(),
                self.provider,
            ));
        }
        let mut delta = Delta::default();
        let (thinking, text, calls) = match self.api {
            Api::Chat => (
                v["message"]["thinking"].as_str(),
                v["message"]["content"].as_str(),
                v["message"]["tool_calls"].as_array(),
            ),
            Api::Generate => (v["thinking"].as_str(), v["response"].as_str(), None),
        };
        if let Some(t) = thinking.filter(|t| !t.is_empty()) {
            delta.reasoning_content = Some(t.to_string());
        }
        if let Some(t) = text.filter(|t| !t.is_empty()) {
            self.text(&mut delta, t);
        }
        if let Some(calls) = calls {
            let mut list = Vec::new();
            for c in calls {
                let call = tool_call(c);
                list.push(ToolCallDelta {
                    index: self.next_tool,
                    id: call["id"].as_str().map(str::to_string),
                    kind: Some("function".into()),
                    function: Some(FunctionCallDelta {
                        name: call["function"]["name"].as_str().map(str::to_string),
                        arguments: call["function"]["arguments"].as_str().map(str::to_string),
                    }),
                    ..Default::default()
                });
                self.next_tool += 1;
            }
            if !list.is_empty() {
                delta.tool_calls = Some(list);
            }
        }
        let mut out = Vec::new();
        let has_delta = delta.content.is_some()
            || delta.reasoning_content.is_some()
            || delta.tool_calls.is_some();
        if v["done"].as_bool() == Some(true) {
            self.usage = v.clone();
            self.finished = true;
            let finish = if self.next_tool > 0 {
                "tool_calls"
            } else {
                finish_reason(v)
            };
            if has_delta {
                out.push(self.chunk(delta, None));
            }
            out.push(self.chunk(Delta::default(), Some(finish)));
        } else if has_delta || !self.started {
            out.push(self.chunk(delta, None));
        }
        Ok(out)
    }

    fn on_end(&mut self) -> Vec<ChatCompletionChunk> {
        let mut out = Vec::new();
        if !self.finished {
            out.push(self.chunk(Delta::default(), Some("stop")));
        }
        if self.include_usage {
            let mut c = self.chunk(Delta::default(), None);
            c.choices.clear();
            c.usage = Some(usage(&self.usage));
            out.push(c);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lines_are_split_across_chunks() {
        let mut d = LineDecoder::default();
        assert!(d.feed(b"{\"a\":").is_empty());
        assert_eq!(d.feed(b"1}\n{\"b\"\n"), vec!["{\"a\":1}", "{\"b\""]);
        assert_eq!(d.feed(b"{\"c\":2}"), Vec::<String>::new());
        assert_eq!(d.finish().as_deref(), Some("{\"c\":2}"));
    }

    #[test]
    fn chat_lines_become_chunks_with_a_final_usage() {
        let mut s = StreamState::new(Api::Chat, "ollama_chat", "m", 1, true);
        let a = s
            .on_event(
                None,
                &json!({"message": {"role": "assistant", "content": "<think>hm"}, "done": false}),
            )
            .unwrap();
        assert_eq!(
            a[0].choices[0].delta.reasoning_content.as_deref(),
            Some("hm")
        );
        let b = s
            .on_event(
                None,
                &json!({"message": {"content": "</think>Hi"}, "done": false}),
            )
            .unwrap();
        assert_eq!(b[0].choices[0].delta.content.as_deref(), Some("Hi"));
        let c = s.on_event(None, &json!({"message": {"content": ""}, "done": true, "done_reason": "stop", "prompt_eval_count": 3, "eval_count": 2})).unwrap();
        assert_eq!(c[0].choices[0].finish_reason.as_deref(), Some("stop"));
        let end = s.on_end();
        assert_eq!(end[0].usage.as_ref().map(|u| u.total_tokens), Some(5));
    }

    #[test]
    fn an_error_line_is_an_error() {
        let mut s = StreamState::new(Api::Generate, "ollama", "m", 1, false);
        let e = s.on_event(None, &json!({"error": "boom"})).unwrap_err();
        assert_eq!(e.message, "boom");
    }
}
