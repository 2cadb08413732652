//! SageMaker answers back to OpenAI: TGI's `generated_text` (usage counted locally, as
//! LiteLLM does), and the `PayloadPart` events of InvokeEndpointWithResponseStream, whose
//! bytes carry TGI's SSE events (`data:{"token": ...}`) or, for the Messages API, OpenAI
//! chunks.

use aws_smithy_types::event_stream::Message;
use llmgate_types::{ChatCompletionChunk, ChatCompletionResponse, Delta, Usage};
use serde_json::{json, Value};

use crate::providers::aws::eventstream::{header, FrameHandler};
use crate::stream::sse::SseDecoder;
use crate::{ErrorKind, LlmError};

fn parse_error(provider: &str, what: &str, v: &dyn std::fmt::Display) -> LlmError {
    LlmError::new(
        ErrorKind::InternalServer,
        format!("Unable to parse sagemaker {what}: {v}"),
    )
    .with_provider(provider)
}

/// TGI's answer (`[{"generated_text"}]`, `{"generated_text"}` or `{"generation"}`), the prompt
/// removed when the model echoed it; tokens counted with the local tokenizer.
pub fn tgi_answer(
    v: &Value,
    prompt: &str,
    model: &str,
) -> Result<ChatCompletionResponse, LlmError> {
    let first = match v {
        Value::Array(a) => a.first().unwrap_or(&Value::Null),
        o => o,
    };
    let mut text = first["generation"]
        .as_str()
        .or_else(|| first["generated_text"].as_str())
        .ok_or_else(|| parse_error(super::NAME, "RAW RESPONSE", v))?
        .to_string();
    if text.starts_with(prompt) && prompt.contains("<s>") {
        text = text.replacen(prompt, "", 1);
    }
    let p = crate::tokens::count_text(model, prompt) as u64;
    let c = crate::tokens::count_text(model, &text) as u64;
    serde_json::from_value(json!({
        "id": format!("chatcmpl-{}", uuid::Uuid::new_v4()),
        "object": "chat.completion",
        "created": crate::now_secs(),
        "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c},
    }))
    .map_err(|e| parse_error(super::NAME, "answer", &e))
}

/// Vectors from a TEI list or `{"embedding": [...]}`; usage is LiteLLM's word count.
pub fn embedding_vectors(v: &Value) -> Result<Vec<Value>, LlmError> {
    let list = match v {
        Value::Array(a) => a,
        Value::Object(o) => o
            .get("embedding")
            .and_then(Value::as_array)
            .ok_or_else(|| parse_error(super::NAME, "embeddings", v))?,
        _ => return Err(parse_error(super::NAME, "embeddings", v)),
    };
    Ok(list.clone())
}

/// InvokeEndpointWithResponseStream's exceptions (`ModelStreamError`: the model failed, 424;
/// `InternalStreamFailure`: 500) as errors.
fn exception(provider: &str, m: &Message) -> LlmError {
    let kind = header(m, ":exception-type")
        .or_else(|| header(m, ":error-code"))
        .unwrap_or("InternalStreamFailure");
    let status = match kind {
        "ModelStreamError" => 424,
        "ValidationError" => 400,
        _ => 500,
    };
    let v: Value = serde_json::from_slice(m.payload()).unwrap_or(Value::Null);
    let msg = v["Message"]
        .as_str()
        .or(v["message"].as_str())
        .map(str::to_string)
        .unwrap_or_else(|| kind.to_string());
    LlmError::from_upstream(
        status,
        vec![("x-amzn-errortype".into(), kind.to_string())],
        json!({"message": msg}).to_string().as_bytes(),
        provider,
    )
}

/// The JSON documents a stream's payload bytes carry: SSE events (`data:` lines, split across
/// parts anywhere), or bare JSON accumulated until it parses (LiteLLM's fallback).
#[derive(Default)]
struct Payloads {
    sse: Option<bool>,
    dec: SseDecoder,
    raw: String,
}

impl Payloads {
    fn feed(&mut self, bytes: &[u8]) -> Vec<Value> {
        let sse = *self.sse.get_or_insert_with(|| {
            let t = String::from_utf8_lossy(bytes);
            let t = t.trim_start();
            ["data:", "event:", "id:", ":"]
                .iter()
                .any(|p| t.starts_with(p))
        });
        if sse {
            return self
                .dec
                .feed(bytes)
                .into_iter()
                .filter_map(|e| serde_json::from_str(e.data.trim()).ok())
                .collect();
        }
        self.raw.push_str(&String::from_utf8_lossy(bytes));
        match serde_json::from_str::<Value>(self.raw.trim()) {
            Ok(v) => {
                self.raw.clear();
                vec![v]
            }
            Err(_) => Vec::new(),
        }
    }

    fn finish(&mut self) -> Vec<Value> {
        self.dec
            .finish()
            .into_iter()
            .filter_map(|e| serde_json::from_str(e.data.trim()).ok())
            .collect()
    }
}

/// The payload of an event message, or the error of an exception message.
fn payload<'a>(provider: &str, m: &'a Message) -> Result<Option<&'a [u8]>, LlmError> {
    match header(m, ":message-type") {
        Some("event") if header(m, ":event-type") == Some("PayloadPart") => {
            Ok(Some(m.payload().as_ref()))
        }
        Some("event") => Ok(None),
        _ => Err(exception(provider, m)),
    }
}

/// `sagemaker/` streams: TGI token events → content chunks; `<|endoftext|>` ends the answer;
/// a closing `stop` and (when asked) usage counted locally.
pub struct TgiStream {
    id: String,
    created: u64,
    model: String,
    prompt: String,
    text: String,
    include_usage: bool,
    started: bool,
    finished: bool,
    payloads: Payloads,
}

impl TgiStream {
    pub fn new(model: &str, prompt: String, include_usage: bool) -> Self {
        TgiStream {
            id: format!("chatcmpl-{}", uuid::Uuid::new_v4()),
            created: crate::now_secs(),
            model: model.to_string(),
            prompt,
            text: String::new(),
            include_usage,
            started: false,
            finished: false,
            payloads: Payloads::default(),
        }
    }

    fn chunk(&mut self, content: Option<String>, finish: Option<&str>) -> ChatCompletionChunk {
        let delta = Delta {
            role: (!self.started).then(|| "assistant".to_string()),
            content,
            ..Default::default()
        };
        self.started = true;
        ChatCompletionChunk::single(&self.id, self.created, &self.model, delta, finish)
    }

    fn on_doc(&mut self, v: &Value) -> Option<ChatCompletionChunk> {
        if self.finished {
            return None;
        }
        let text = v["token"]["text"].as_str().unwrap_or("");
        if text == "<|endoftext|>" {
            self.finished = true;
            return Some(self.chunk(None, Some("stop")));
        }
        if text.is_empty() {
            return None;
        }
        self.text.push_str(text);
        Some(self.chunk(Some(text.to_string()), None))
    }
}

impl FrameHandler for TgiStream {
    fn on_message(&mut self, m: &Message) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        let Some(bytes) = payload(super::NAME, m)? else {
            return Ok(Vec::new());
        };
        let docs = self.payloads.feed(bytes);
        Ok(docs.iter().filter_map(|d| self.on_doc(d)).collect())
    }

    fn on_end(&mut self) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        let docs = self.payloads.finish();
        let mut out: Vec<_> = docs.iter().filter_map(|d| self.on_doc(d)).collect();
        if !self.finished {
            self.finished = true;
            out.push(self.chunk(None, Some("stop")));
        }
        if self.include_usage {
            let p = crate::tokens::count_text(&self.model, &self.prompt) as u64;
            let c = crate::tokens::count_text(&self.model, &self.text) as u64;
            out.push(ChatCompletionChunk {
                id: self.id.clone(),
                object: "chat.completion.chunk".into(),
                created: self.created,
                model: self.model.clone(),
                usage: Some(Usage::new(p, c)),
                ..Default::default()
            });
        }
        Ok(out)
    }
}

/// `sagemaker_chat/` streams: each payload document is an OpenAI chunk.
pub struct ChatStream {
    model: String,
    payloads: Payloads,
}

impl ChatStream {
    pub fn new(model: &str) -> Self {
        ChatStream {
            model: model.to_string(),
            payloads: Payloads::default(),
        }
    }

    fn chunks(&self, docs: Vec<Value>) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        docs.into_iter()
            .map(|d| {
                let mut c: ChatCompletionChunk = serde_json::from_value(d)
                    .map_err(|e| parse_error(super::CHAT_NAME, "stream chunk", &e))?;
                if c.model.is_empty() {
                    c.model = self.model.clone();
                }
                Ok(c)
            })
            .collect()
    }
}

impl FrameHandler for ChatStream {
    fn on_message(&mut self, m: &Message) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        let Some(bytes) = payload(super::CHAT_NAME, m)? else {
            return Ok(Vec::new());
        };
        let docs = self.payloads.feed(bytes);
        self.chunks(docs)
    }

    fn on_end(&mut self) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        let docs = self.payloads.finish();
        self.chunks(docs)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::aws::eventstream::{frame, Decoder};

    fn part(bytes: &str) -> Vec<u8> {
        frame(
            &[(":message-type", "event"), (":event-type", "PayloadPart")],
            bytes.as_bytes(),
        )
    }

    #[test]
    fn tgi_answers_strip_an_echoed_prompt() {
        let r = tgi_answer(
            &json!([{"generated_text": "<s>[INST] Hi [/INST]\nHello!"}]),
            "<s>[INST] Hi [/INST]\n",
            "e",
        )
        .unwrap();
        let m = &r.choices[0].message;
        assert_eq!(m.content.as_ref().unwrap().text(), "Hello!");
        assert_eq!(r.choices[0].finish_reason.as_deref(), Some("stop"));
        assert!(r.usage.unwrap().prompt_tokens > 0);
        assert!(tgi_answer(&json!({"nope": 1}), "", "e").is_err());
    }

    #[test]
    fn tgi_stream_events_split_across_parts() {
        let mut bytes = part("data:{\"token\": {\"text\": \"Hel\"}}\n\n");
        bytes.extend(part("data:{\"token\": {\"te"));
        bytes.extend(part(
            "xt\": \"lo\"}}\n\ndata:{\"token\": {\"text\": \"!\"}}\n\n",
        ));
        let mut d = Decoder::new(TgiStream::new("e", "Hi".into(), true), super::super::NAME);
        for b in bytes.chunks(5) {
            d.feed(b);
        }
        d.finish();
        let chunks: Vec<_> = d.pending.into_iter().map(Result::unwrap).collect();
        let text: String = chunks
            .iter()
            .filter_map(|c| c.choices.first()?.delta.content.clone())
            .collect();
        assert_eq!(text, "Hello!");
        assert_eq!(
            chunks[0].choices[0].delta.role.as_deref(),
            Some("assistant")
        );
        let fin = &chunks[chunks.len() - 2];
        assert_eq!(fin.choices[0].finish_reason.as_deref(), Some("stop"));
        assert!(
            chunks
                .last()
                .unwrap()
                .usage
                .as_ref()
                .unwrap()
                .completion_tokens
                > 0
        );
    }

    #[test]
    fn stream_exceptions_are_errors() {
        let mut bytes = part("data:{\"token\": {\"text\": \"Hi\"}}\n\n");
        bytes.extend(frame(
            &[
                (":message-type", "exception"),
                (":exception-type", "ModelStreamError"),
            ],
            br#"{"Message": "model crashed", "ErrorCode": "ModelError"}"#,
        ));
        let mut d = Decoder::new(TgiStream::new("e", "Hi".into(), false), super::super::NAME);
        d.feed(&bytes);
        let items: Vec<_> = d.pending.into_iter().collect();
        assert_eq!(items.len(), 2);
        let e = items[1].as_ref().unwrap_err();
        assert!(e.message.contains("model crashed"), "{}", e.message);
        assert_eq!(e.provider, "sagemaker");
    }

    #[test]
    fn messages_api_chunks_pass_through() {
        let bytes = part("data: {\"id\":\"x\",\"object\":\"chat.completion.chunk\",\"created\":1,\"model\":\"tgi\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"Hi\"},\"finish_reason\":null}]}\n\n");
        let mut d = Decoder::new(ChatStream::new("e"), super::super::CHAT_NAME);
        d.feed(&bytes);
        d.finish();
        let c = d.pending.pop_front().unwrap().unwrap();
        assert_eq!(c.choices[0].delta.content.as_deref(), Some("Hi"));
        assert!(d.pending.is_empty());
    }
}
