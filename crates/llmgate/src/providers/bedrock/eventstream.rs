//! ConverseStream's event-stream messages (decoded by [`crate::providers::aws::eventstream`])
//! translated into OpenAI chunks; exception frames become errors.

use std::time::Duration;

use aws_smithy_types::event_stream::Message;
use serde_json::Value;

use super::response::StreamState;
use crate::providers::aws::eventstream::{self as aws, header, FrameHandler};
use crate::stream::ChunkStream;
use crate::{ErrorKind, LlmError};

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

impl FrameHandler for StreamState {
    fn on_message(
        &mut self,
        m: &Message,
    ) -> Result<Vec<llmgate_types::ChatCompletionChunk>, LlmError> {
        on_message(self, m)
    }
}

/// The response body as OpenAI chunks, translated as frames arrive.
pub fn translated(
    res: reqwest::Response,
    idle: Option<Duration>,
    state: StreamState,
) -> ChunkStream {
    aws::translated(res, idle, super::NAME, state)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::providers::aws::eventstream::{frame, Decoder};

    fn ev(kind: (&'static str, &'static str), payload: &str) -> Vec<u8> {
        let type_header = if kind.0 == "event" {
            ":event-type"
        } else {
            ":exception-type"
        };
        frame(
            &[(":message-type", kind.0), (type_header, kind.1)],
            payload.as_bytes(),
        )
    }

    #[test]
    fn frames_split_anywhere_decode_and_exceptions_fail() {
        let mut bytes = ev(("event", "messageStart"), r#"{"role":"assistant"}"#);
        bytes.extend(ev(
            ("event", "contentBlockDelta"),
            r#"{"contentBlockIndex":0,"delta":{"text":"Hi"}}"#,
        ));
        bytes.extend(ev(
            ("exception", "throttlingException"),
            r#"{"message":"slow down"}"#,
        ));
        let mut d = Decoder::new(StreamState::new("m", 1, false), super::super::NAME);
        for b in bytes.chunks(7) {
            d.feed(b);
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
