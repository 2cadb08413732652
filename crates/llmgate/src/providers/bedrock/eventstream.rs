//! ConverseStream's AWS binary event-stream, decoded frame by frame as bytes arrive
//! (`aws-smithy-eventstream` checks each frame's CRCs) and translated into OpenAI chunks.

use std::collections::VecDeque;
use std::time::Duration;

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::{HeaderValue, Message};
use bytes::BytesMut;
use futures::StreamExt;
use serde_json::Value;

use super::response::StreamState;
use crate::stream::ChunkStream;
use crate::{ErrorKind, LlmError};

fn header<'a>(m: &'a Message, name: &str) -> Option<&'a str> {
    m.headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| match h.value() {
            HeaderValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

/// The HTTP status AWS gives each ConverseStream exception, for LiteLLM's class mapping.
fn exception_status(kind: &str) -> u16 {
    match kind {
        "throttlingException" => 429,
        "validationException" => 400,
        "accessDeniedException" => 403,
        "resourceNotFoundException" => 404,
        "modelTimeoutException" => 408,
        "serviceUnavailableException" => 503,
        "modelNotReadyException" => 429,
        "modelStreamErrorException" => 424,
        _ => 500,
    }
}

/// One decoded message → chunks, or the error an exception message carries.
pub fn on_message(
    state: &mut StreamState,
    m: &Message,
) -> Result<Vec<llmgate_types::ChatCompletionChunk>, LlmError> {
    let payload = m.payload();
    match header(m, ":message-type") {
        Some("event") => {
            let kind = header(m, ":event-type").unwrap_or("");
            let v: Value = serde_json::from_slice(payload).map_err(|e| {
                LlmError::new(
                    ErrorKind::InternalServer,
                    format!("could not parse a Bedrock stream event {kind}: {e}"),
                )
            })?;
            state.on_event(kind, &v)
        }
        Some("exception") | Some("error") => {
            let kind = header(m, ":exception-type")
                .or_else(|| header(m, ":error-code"))
                .unwrap_or("internalServerException");
            let mut err = LlmError::from_upstream(
                exception_status(kind),
                vec![("x-amzn-errortype".into(), kind.to_string())],
                payload,
                super::NAME,
            );
            if err.message.is_empty() {
                err.message = kind.to_string();
            }
            Err(err)
        }
        other => Err(LlmError::new(
            ErrorKind::InternalServer,
            format!("unexpected Bedrock stream message type {other:?}"),
        )),
    }
}

struct Decoding {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: BytesMut,
    decoder: MessageFrameDecoder,
    state: StreamState,
    pending: VecDeque<Result<llmgate_types::ChatCompletionChunk, LlmError>>,
    done: bool,
}

impl Decoding {
    /// Decodes every complete frame in the buffer; an error ends the stream after it.
    fn drain(&mut self) {
        while !self.done {
            match self.decoder.decode_frame(&mut self.buf) {
                Ok(DecodedFrame::Complete(m)) => match on_message(&mut self.state, &m) {
                    Ok(chunks) => self.pending.extend(chunks.into_iter().map(Ok)),
                    Err(e) => self.fail(e),
                },
                Ok(DecodedFrame::Incomplete) => return,
                Err(e) => self.fail(LlmError::new(
                    ErrorKind::InternalServer,
                    format!("malformed Bedrock event-stream frame: {e}"),
                )),
            }
        }
    }

    fn fail(&mut self, e: LlmError) {
        self.done = true;
        self.pending.push_back(Err(e.with_provider(super::NAME)));
    }
}

/// The response body as OpenAI chunks, translated as frames arrive. `idle` bounds the silence
/// between two reads.
pub fn translated(
    res: reqwest::Response,
    idle: Option<Duration>,
    state: StreamState,
) -> ChunkStream {
    let d = Decoding {
        body: Box::pin(res.bytes_stream()),
        buf: BytesMut::new(),
        decoder: MessageFrameDecoder::new(),
        state,
        pending: VecDeque::new(),
        done: false,
    };
    Box::pin(futures::stream::unfold(d, move |mut d| async move {
        loop {
            if let Some(item) = d.pending.pop_front() {
                return Some((item, d));
            }
            if d.done {
                return None;
            }
            let next = match idle {
                Some(t) => match tokio::time::timeout(t, d.body.next()).await {
                    Ok(n) => n,
                    Err(_) => {
                        d.fail(LlmError::timeout(super::NAME, t.as_secs_f64()));
                        continue;
                    }
                },
                None => d.body.next().await,
            };
            match next {
                Some(Ok(bytes)) => {
                    d.buf.extend_from_slice(&bytes);
                    d.drain();
                }
                Some(Err(e)) => d.fail(LlmError::from_transport(&e, super::NAME)),
                None => {
                    d.done = true;
                    if !d.buf.is_empty() {
                        d.pending.push_back(Err(LlmError::new(
                            ErrorKind::InternalServer,
                            "the Bedrock stream ended inside an event-stream frame",
                        )
                        .with_provider(super::NAME)));
                    }
                }
            }
        }
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_smithy_eventstream::frame::write_message_to;
    use aws_smithy_types::event_stream::Header;

    fn frame(kind: (&'static str, &'static str), payload: &str) -> Vec<u8> {
        let m = Message::new(payload.as_bytes().to_vec())
            .add_header(Header::new(
                ":message-type",
                HeaderValue::String(kind.0.into()),
            ))
            .add_header(Header::new(
                if kind.0 == "event" {
                    ":event-type"
                } else {
                    ":exception-type"
                },
                HeaderValue::String(kind.1.into()),
            ));
        let mut out = Vec::new();
        write_message_to(&m, &mut out).unwrap();
        out
    }

    #[test]
    fn frames_split_anywhere_decode_and_exceptions_fail() {
        let mut bytes = frame(("event", "messageStart"), r#"{"role":"assistant"}"#);
        bytes.extend(frame(
            ("event", "contentBlockDelta"),
            r#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#,
        ));
        bytes.extend(frame(
            ("exception", "throttlingException"),
            r#"{"message":"slow down"}"#,
        ));
        let mut d = Decoding {
            body: Box::pin(futures::stream::empty()),
            buf: BytesMut::new(),
            decoder: MessageFrameDecoder::new(),
            state: StreamState::new("m", 1, false),
            pending: VecDeque::new(),
            done: false,
        };
        for b in bytes.chunks(7) {
            d.buf.extend_from_slice(b);
            d.drain();
        }
        let items: Vec<_> = d.pending.into_iter().collect();
        assert_eq!(items.len(), 3);
        assert_eq!(
            items[1].as_ref().unwrap().choices[0]
                .delta
                .content
                .as_deref(),
            Some("Hi")
        );
        let e = items[2].as_ref().unwrap_err();
        assert_eq!(e.kind, ErrorKind::RateLimit);
        assert!(e.message.contains("slow down"));
    }
}
