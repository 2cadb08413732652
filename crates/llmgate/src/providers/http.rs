//! HTTP plumbing shared by adapters: send, map failures, read JSON or SSE.

use std::time::Duration;

use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;

use crate::stream::sse::{SseDecoder, SseEvent};
use crate::{ErrorKind, LlmError};

/// Response headers as (name, value) pairs.
pub fn header_pairs(h: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}

/// Sends a request; a non-2xx answer becomes the mapped error. `wait` bounds the time until the
/// answer's headers (and, if `whole_body`, the whole answer).
pub async fn send(
    rb: reqwest::RequestBuilder,
    provider: &str,
    wait: Option<Duration>,
    whole_body: bool,
) -> Result<reqwest::Response, LlmError> {
    let rb = match (wait, whole_body) {
        (Some(t), true) => rb.timeout(t),
        _ => rb,
    };
    let fut = rb.send();
    let res = match (wait, whole_body) {
        (Some(t), false) => tokio::time::timeout(t, fut)
            .await
            .map_err(|_| LlmError::timeout(provider, t.as_secs_f64()))?,
        _ => fut.await,
    };
    let res = res.map_err(|e| LlmError::from_transport(&e, provider))?;
    let status = res.status().as_u16();
    if (200..300).contains(&status) {
        return Ok(res);
    }
    let headers = header_pairs(res.headers());
    let body = res.bytes().await.unwrap_or_default();
    Err(LlmError::from_upstream(status, headers, &body, provider))
}

/// Reads a JSON body into `T`.
pub async fn json<T: DeserializeOwned>(
    res: reqwest::Response,
    provider: &str,
) -> Result<T, LlmError> {
    let body = res
        .bytes()
        .await
        .map_err(|e| LlmError::from_transport(&e, provider))?;
    serde_json::from_slice(&body).map_err(|e| {
        LlmError::new(
            ErrorKind::InternalServer,
            format!(
                "could not parse the upstream answer: {e}: {}",
                String::from_utf8_lossy(&body[..body.len().min(500)])
            ),
        )
        .with_provider(provider)
    })
}

/// The body as SSE events, decoded as bytes arrive. `idle` bounds the silence between chunks.
pub fn sse_events(
    res: reqwest::Response,
    provider: &'static str,
    idle: Option<Duration>,
) -> impl Stream<Item = Result<SseEvent, LlmError>> + Send {
    let body = res.bytes_stream();
    futures::stream::unfold(
        (
            Box::pin(body),
            SseDecoder::new(),
            std::collections::VecDeque::new(),
            false,
        ),
        move |(mut body, mut dec, mut pending, mut done)| async move {
            loop {
                if let Some(ev) = pending.pop_front() {
                    return Some((Ok(ev), (body, dec, pending, done)));
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
                    Some(Ok(bytes)) => pending.extend(dec.feed(&bytes)),
                    Some(Err(e)) => {
                        done = true;
                        return Some((
                            Err(LlmError::from_transport(&e, provider)),
                            (body, dec, pending, done),
                        ));
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

/// Turns one upstream stream event into OpenAI chunks (a provider's stream translation).
pub trait EventTranslator: Send + 'static {
    /// `event` is the SSE `event:` name, if any; `data` the event's JSON.
    fn on_event(
        &mut self,
        event: Option<&str>,
        data: &serde_json::Value,
    ) -> Result<Vec<llmgate_types::ChatCompletionChunk>, LlmError>;

    /// After the upstream's last event (a closing usage chunk, say).
    fn on_end(&mut self) -> Vec<llmgate_types::ChatCompletionChunk> {
        Vec::new()
    }
}

/// An SSE body translated event by event into OpenAI chunks, as they arrive. Nothing follows
/// an error, so the client sees it as the stream's last item.
pub fn translated_stream(
    res: reqwest::Response,
    provider: &'static str,
    idle: Option<Duration>,
    mut translator: impl EventTranslator,
) -> crate::stream::ChunkStream {
    let events = sse_events(res, provider, idle)
        .map(Some)
        .chain(futures::stream::once(async { None }));
    let batches = events.scan(false, move |failed, ev| {
        if *failed {
            return futures::future::ready(None);
        }
        let batch = match ev {
            None => Ok(translator.on_end()),
            Some(Err(e)) => Err(e),
            Some(Ok(ev)) if ev.data.trim().is_empty() => Ok(Vec::new()),
            Some(Ok(ev)) => serde_json::from_str(&ev.data)
                .map_err(|e| {
                    LlmError::new(
                        ErrorKind::InternalServer,
                        format!("could not parse a stream event: {e}: {}", ev.data),
                    )
                    .with_provider(provider)
                })
                .and_then(|data| translator.on_event(ev.event.as_deref(), &data))
                .map_err(|e| e.with_provider(provider)),
        };
        *failed = batch.is_err();
        futures::future::ready(Some(batch))
    });
    Box::pin(batches.flat_map(|batch| {
        futures::stream::iter(match batch {
            Ok(chunks) => chunks.into_iter().map(Ok).collect::<Vec<_>>(),
            Err(e) => vec![Err(e)],
        })
    }))
}
