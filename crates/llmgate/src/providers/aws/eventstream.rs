//! AWS's binary event-stream (ConverseStream, InvokeEndpointWithResponseStream), decoded frame
//! by frame as bytes arrive (`aws-smithy-eventstream` checks each frame's CRCs); a provider's
//! [`FrameHandler`] turns each message into OpenAI chunks.

use std::collections::VecDeque;
use std::time::Duration;

use aws_smithy_eventstream::frame::{DecodedFrame, MessageFrameDecoder};
use aws_smithy_types::event_stream::{HeaderValue, Message};
use bytes::BytesMut;
use futures::StreamExt;
use llmgate_types::ChatCompletionChunk;

use crate::stream::ChunkStream;
use crate::{ErrorKind, LlmError};

/// One provider's translation of decoded messages.
pub trait FrameHandler: Send + 'static {
    /// Chunks for one message, or the error an exception message carries.
    fn on_message(&mut self, m: &Message) -> Result<Vec<ChatCompletionChunk>, LlmError>;

    /// After the last frame (a closing chunk, usage).
    fn on_end(&mut self) -> Result<Vec<ChatCompletionChunk>, LlmError> {
        Ok(Vec::new())
    }
}

/// A string header of `m` (`:message-type`, `:event-type`, `:exception-type`).
pub fn header<'a>(m: &'a Message, name: &str) -> Option<&'a str> {
    m.headers()
        .iter()
        .find(|h| h.name().as_str() == name)
        .and_then(|h| match h.value() {
            HeaderValue::String(s) => Some(s.as_str()),
            _ => None,
        })
}

/// Frames decoded from bytes fed in any split; nothing follows an error.
pub struct Decoder<H> {
    buf: BytesMut,
    decoder: MessageFrameDecoder,
    handler: H,
    provider: &'static str,
    pub pending: VecDeque<Result<ChatCompletionChunk, LlmError>>,
    done: bool,
}

impl<H: FrameHandler> Decoder<H> {
    pub fn new(handler: H, provider: &'static str) -> Self {
        Decoder {
            buf: BytesMut::new(),
            decoder: MessageFrameDecoder::new(),
            handler,
            provider,
            pending: VecDeque::new(),
            done: false,
        }
    }

    /// Adds bytes and decodes every frame they complete.
    pub fn feed(&mut self, bytes: &[u8]) {
        self.buf.extend_from_slice(bytes);
        while !self.done {
            match self.decoder.decode_frame(&mut self.buf) {
                Ok(DecodedFrame::Complete(m)) => match self.handler.on_message(&m) {
                    Ok(chunks) => self.pending.extend(chunks.into_iter().map(Ok)),
                    Err(e) => self.fail(e),
                },
                Ok(DecodedFrame::Incomplete) => return,
                Err(e) => self.fail(LlmError::new(
                    ErrorKind::InternalServer,
                    format!("malformed AWS event-stream frame: {e}"),
                )),
            }
        }
    }

    /// The body ended: a partial frame is an error, else the handler's closing chunks.
    pub fn finish(&mut self) {
        if self.done {
            return;
        }
        if !self.buf.is_empty() {
            self.fail(LlmError::new(
                ErrorKind::InternalServer,
                "the stream ended inside an event-stream frame",
            ));
            return;
        }
        self.done = true;
        match self.handler.on_end() {
            Ok(chunks) => self.pending.extend(chunks.into_iter().map(Ok)),
            Err(e) => self.pending.push_back(Err(e.with_provider(self.provider))),
        }
    }

    fn fail(&mut self, e: LlmError) {
        self.done = true;
        self.pending.push_back(Err(e.with_provider(self.provider)));
    }
}

/// The response body as OpenAI chunks, translated as frames arrive. `idle` bounds the silence
/// between two reads.
pub fn translated<H: FrameHandler>(
    res: reqwest::Response,
    idle: Option<Duration>,
    provider: &'static str,
    handler: H,
) -> ChunkStream {
    let body = Box::pin(res.bytes_stream());
    let d = Decoder::new(handler, provider);
    Box::pin(futures::stream::unfold(
        (body, d),
        move |(mut body, mut d)| async move {
            loop {
                if let Some(item) = d.pending.pop_front() {
                    return Some((item, (body, d)));
                }
                if d.done {
                    return None;
                }
                let next = match idle {
                    Some(t) => match tokio::time::timeout(t, body.next()).await {
                        Ok(n) => n,
                        Err(_) => {
                            d.fail(LlmError::timeout(provider, t.as_secs_f64()));
                            continue;
                        }
                    },
                    None => body.next().await,
                };
                match next {
                    Some(Ok(bytes)) => d.feed(&bytes),
                    Some(Err(e)) => d.fail(LlmError::from_transport(&e, provider)),
                    None => d.finish(),
                }
            }
        },
    ))
}

/// Test helper: one event-stream frame with string headers.
#[cfg(test)]
pub fn frame(headers: &[(&'static str, &str)], payload: &[u8]) -> Vec<u8> {
    use aws_smithy_eventstream::frame::write_message_to;
    use aws_smithy_types::event_stream::Header;
    let mut m = Message::new(payload.to_vec());
    for (k, v) in headers {
        m = m.add_header(Header::new(*k, HeaderValue::String(v.to_string().into())));
    }
    let mut out = Vec::new();
    write_message_to(&m, &mut out).unwrap();
    out
}
