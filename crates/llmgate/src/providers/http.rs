//! HTTP plumbing shared by adapters: the path-segment guard on names put into URLs, send, map
//! failures, read JSON or SSE.

use std::time::Duration;

use futures::{Stream, StreamExt};
use serde::de::DeserializeOwned;

use crate::stream::sse::{SseDecoder, SseEvent};
use crate::{ErrorKind, LlmError};

/// Percent-encodes every byte outside RFC 3986's unreserved set and `keep` (`b"/"` for an
/// object key whose slashes are path separators).
pub fn percent_encode(s: &str, keep: &[u8]) -> String {
    s.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-._~".contains(&b) || keep.contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// Response headers as (name, value) pairs.
pub fn header_pairs(h: &reqwest::header::HeaderMap) -> Vec<(String, String)> {
    h.iter()
        .filter_map(|(k, v)| Some((k.as_str().to_string(), v.to_str().ok()?.to_string())))
        .collect()
}

/// The shape a name put into an upstream URL may have. Each kind allows the names its providers
/// really use and nothing else, so a client-chosen model never picks the upstream's host or path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SegmentKind {
    /// One path segment of ASCII letters, digits and `-_.@`: an Azure deployment, a Gemini or
    /// Vertex model id (`gemini-2.0-flash-001`, `claude-3-5-sonnet@20240620`), a bucket. No `:`:
    /// on Google's URLs it starts the method (`models/x:generateContent`).
    Segment,
    /// Segments joined by `/`: Google resource names (`publishers/google/models/gemini-1.5-pro`,
    /// `projects/p/locations/l/endpoints/123`, `tunedModels/x`); the caller checks the shape.
    Resource,
    /// A Bedrock model id with `:` (`us.anthropic.claude-3-5-sonnet-20240620-v1:0`), or an ARN
    /// whose resource part may hold `/` (`arn:aws:bedrock:us-east-1:123:inference-profile/x`);
    /// Bedrock's URL carries it percent-encoded as one segment.
    Aws,
}

/// `name` if it is a safe `kind` for a URL path; otherwise a 400, before any upstream call.
/// Allow-listed characters refuse `%`, `?`, `#`, `\`, whitespace and controls; dot-only segments
/// refuse `..`; empty segments refuse `//` and leading or trailing `/`.
pub fn path_segment(name: &str, kind: SegmentKind) -> Result<&str, LlmError> {
    let extra: &[u8] = match kind {
        SegmentKind::Segment | SegmentKind::Resource => b"-_.@",
        SegmentKind::Aws => b"-_.:",
    };
    let slash = match kind {
        SegmentKind::Segment => false,
        SegmentKind::Resource => true,
        SegmentKind::Aws => name.starts_with("arn:"),
    };
    let segment_ok = |s: &str| {
        !s.is_empty()
            && !s.bytes().all(|b| b == b'.')
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || extra.contains(&b))
    };
    let ok = if slash {
        name.split('/').all(segment_ok)
    } else {
        segment_ok(name)
    };
    if ok {
        Ok(name)
    } else {
        Err(LlmError::bad_request(format!(
            "{name:?} is not a valid model, deployment or resource name for an upstream URL"
        )))
    }
}

/// Something derived from an upstream URL once (the URL parsed, say): a deployment calls the
/// same few URLs again and again, and parsing one (host, IDNA, path) costs more than the rest
/// of building the request. Bounded: once full, further URLs are derived each time.
pub(crate) struct UrlMemo<T>(std::sync::RwLock<std::collections::HashMap<String, T>>);

impl<T> Default for UrlMemo<T> {
    fn default() -> Self {
        UrlMemo(Default::default())
    }
}

const URL_MEMO_MAX: usize = 4096;

impl<T: Clone> UrlMemo<T> {
    /// `url`'s value, derived by `make` the first time; an error is not remembered.
    pub(crate) fn get_or_try<E>(
        &self,
        url: &str,
        make: impl FnOnce() -> Result<T, E>,
    ) -> Result<T, E> {
        if let Some(v) = self.0.read().unwrap_or_else(|e| e.into_inner()).get(url) {
            return Ok(v.clone());
        }
        let v = make()?;
        let mut w = self.0.write().unwrap_or_else(|e| e.into_inner());
        if w.len() < URL_MEMO_MAX {
            w.insert(url.to_string(), v.clone());
        }
        Ok(v)
    }
}

/// A POST to `url`, parsed once per distinct URL ([`UrlMemo`]); a URL that does not parse
/// is left to reqwest, which reports it as before.
pub fn post(http: &reqwest::Client, url: String) -> reqwest::RequestBuilder {
    static URLS: std::sync::OnceLock<UrlMemo<reqwest::Url>> = std::sync::OnceLock::new();
    match URLS
        .get_or_init(UrlMemo::default)
        .get_or_try(&url, || reqwest::Url::parse(&url))
    {
        Ok(u) => http.post(u),
        Err(_) => http.post(url),
    }
}

/// Sends a request; a non-2xx answer becomes the mapped error, with the credentials the
/// request carried masked ([`LlmError::redact`]): the one place every upstream error passes.
/// `wait` bounds the time until the answer's headers (and, if `whole_body`, the whole answer).
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
    let (client, req) = rb.build_split();
    let req = req.map_err(|e| LlmError::from_transport(&e, provider))?;
    let secrets = credentials(req.headers(), req.url().query());
    let fut = client.execute(req);
    let res = match (wait, whole_body) {
        (Some(t), false) => tokio::time::timeout(t, fut)
            .await
            .map_err(|_| LlmError::timeout(provider, t.as_secs_f64()))?,
        _ => fut.await,
    };
    let res = res.map_err(|e| LlmError::from_transport(&e, provider).redact(&secrets))?;
    let status = res.status().as_u16();
    if (200..300).contains(&status) {
        // A stream's error events are masked too (`sse_events`).
        let mut res = res;
        res.extensions_mut().insert(Credentials(secrets));
        return Ok(res);
    }
    let headers = header_pairs(res.headers());
    let body = res.bytes().await.unwrap_or_default();
    Err(LlmError::from_upstream(status, headers, &body, provider).redact(&secrets))
}

/// The credentials a request carries: the `Authorization` value after its scheme, and any
/// header or query parameter named like a key, token or secret (`x-api-key`, `api-key`,
/// `x-goog-api-key`, `?key=`). This covers each deployment's `api_key` and Vertex's access token
/// without the adapters having to name them.
pub(crate) fn credentials(
    headers: &reqwest::header::HeaderMap,
    query: Option<&str>,
) -> Vec<String> {
    // Header names are lowercase already (`http` keeps them so); query names may not be.
    let secret_lower = |n: &str| {
        ["key", "token", "secret", "signature"]
            .iter()
            .any(|w| n.contains(w))
    };
    let secret_name = |n: &str| {
        if n.bytes().any(|b| b.is_ascii_uppercase()) {
            secret_lower(&n.to_ascii_lowercase())
        } else {
            secret_lower(n)
        }
    };
    let mut out: Vec<String> = Vec::new();
    for (name, value) in headers {
        let Ok(v) = value.to_str() else { continue };
        if let Some(sigv4) = v.strip_prefix("AWS4-HMAC-SHA256 ") {
            // Only the signature and the key id are secret; masking the whole value would mask
            // words like "signature" in the upstream's message.
            out.extend(sigv4.split(',').filter_map(|p| {
                let p = p.trim();
                p.strip_prefix("Signature=")
                    .or_else(|| p.strip_prefix("Credential=")?.split('/').next())
                    .map(str::to_string)
            }));
        } else if matches!(name.as_str(), "authorization" | "proxy-authorization") {
            out.push(v.split_once(' ').map_or(v, |(_, c)| c).trim().to_string());
        } else if secret_lower(name.as_str()) {
            out.push(v.trim().to_string());
        }
    }
    out.extend(
        query
            .into_iter()
            .flat_map(|q| q.split('&'))
            .filter_map(|pair| pair.split_once('='))
            .filter(|(k, _)| secret_name(&decoded(k)))
            .map(|(_, v)| decoded(v)),
    );
    out.retain(|s| !s.is_empty());
    out
}

/// A query component decoded (`+` a space, `%XX` a byte), as `application/x-www-form-urlencoded`.
fn decoded(s: &str) -> String {
    let s = s.replace('+', " ");
    percent_encoding::percent_decode_str(&s)
        .decode_utf8_lossy()
        .into_owned()
}

/// An answer read whole: its headers, its content type (`default` when it names none) and
/// its body.
pub async fn whole(
    res: reqwest::Response,
    default: &str,
    provider: &str,
) -> Result<(Vec<(String, String)>, String, bytes::Bytes), LlmError> {
    let headers = header_pairs(res.headers());
    let content_type = res
        .headers()
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or(default)
        .to_string();
    let body = res
        .bytes()
        .await
        .map_err(|e| LlmError::from_transport(&e, provider))?;
    Ok((headers, content_type, body))
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
    parse_json(&body, provider)
}

/// An answer's bytes parsed as `T`; what did not parse is quoted (500 bytes of it).
pub fn parse_json<T: DeserializeOwned>(body: &[u8], provider: &str) -> Result<T, LlmError> {
    serde_json::from_slice(body).map_err(|e| {
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

/// The credentials a request carried, kept on its response for the stream's error events.
#[derive(Clone)]
struct Credentials(Vec<String>);

/// An upstream's error event may quote the key it was sent: masked like its error answers.
/// Only events that mention an error are scanned, so content costs nothing.
fn masked(mut ev: SseEvent, secrets: &[String]) -> SseEvent {
    if !secrets.is_empty() && ev.data.contains("error") {
        if let Some(m) = crate::error::mask_secrets(&ev.data, secrets) {
            ev.data = m;
        }
    }
    ev
}

/// The body as SSE events, decoded as bytes arrive. `idle` bounds the silence between chunks.
pub fn sse_events(
    res: reqwest::Response,
    provider: &'static str,
    idle: Option<Duration>,
) -> impl Stream<Item = Result<SseEvent, LlmError>> + Send {
    let secrets: std::sync::Arc<[String]> = res
        .extensions()
        .get::<Credentials>()
        .map(|c| c.0.clone())
        .unwrap_or_default()
        .into();
    let body = res
        .bytes_stream()
        .map(move |r| r.map_err(|e| LlmError::from_transport(&e, provider)));
    sse_from(body, secrets, provider, idle)
}

/// A body's chunks as SSE events, decoded as they arrive, error events masked of `secrets`.
/// `idle` bounds the silence between chunks; nothing follows a broken body.
pub(crate) fn sse_from(
    body: impl Stream<Item = Result<bytes::Bytes, LlmError>> + Send + 'static,
    secrets: std::sync::Arc<[String]>,
    provider: &'static str,
    idle: Option<Duration>,
) -> impl Stream<Item = Result<SseEvent, LlmError>> + Send {
    futures::stream::unfold(
        (
            Box::pin(body),
            SseDecoder::new(),
            std::collections::VecDeque::new(),
            false,
        ),
        move |(mut body, mut dec, mut pending, mut done)| {
            let secrets = secrets.clone();
            async move {
                loop {
                    if let Some(ev) = pending.pop_front() {
                        return Some((Ok(masked(ev, &secrets)), (body, dec, pending, done)));
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
                            return Some((Err(e), (body, dec, pending, done)));
                        }
                        None => {
                            done = true;
                            pending.extend(dec.finish());
                        }
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

#[cfg(test)]
mod tests {
    use super::*;
    use SegmentKind::{Aws, Resource, Segment};

    #[test]
    fn stream_error_events_do_not_quote_the_key() {
        let key = vec!["sk-live-0123456789abcdef".to_string()];
        let ev = |data: &str| SseEvent {
            event: None,
            data: data.into(),
        };
        let e = masked(
            ev(r#"{"error": {"message": "Incorrect API key provided: sk-live-0123456789abcdef"}}"#),
            &key,
        );
        assert!(!e.data.contains("0123456789"), "{}", e.data);
        // Content is passed as it is.
        let c = masked(ev(r#"{"choices": [{"delta": {"content": "hi"}}]}"#), &key);
        assert_eq!(c.data, r#"{"choices": [{"delta": {"content": "hi"}}]}"#);
    }

    #[test]
    fn path_segments_allow_real_names_and_refuse_the_rest() {
        let accepted: &[(&str, SegmentKind)] = &[
            ("gpt-4o", Segment),
            ("my_gpt4o.deployment", Segment),
            ("gemini-2.0-flash-001", Segment),
            ("claude-3-5-sonnet-v2@20241022", Segment),
            ("text-embedding-004", Segment),
            ("123456789", Segment),
            ("my-bucket.example.com", Segment),
            ("publishers/google/models/gemini-1.5-pro", Resource),
            ("projects/p/locations/l/endpoints/123", Resource),
            ("tunedModels/my-model-abc123", Resource),
            ("gemini-pro", Resource),
            ("us.anthropic.claude-3-5-sonnet-20240620-v1:0", Aws),
            ("anthropic.claude-v2:1", Aws),
            (
                "arn:aws:bedrock:us-east-1:123:inference-profile/us.anthropic.claude-3-5-sonnet-20240620-v1:0",
                Aws,
            ),
            (
                "arn:aws:bedrock:us-east-1::foundation-model/anthropic.claude-v2:1",
                Aws,
            ),
        ];
        for (name, kind) in accepted {
            assert_eq!(
                path_segment(name, *kind).ok(),
                Some(*name),
                "{name} as {kind:?}"
            );
        }
        let hostile = [
            "",
            ".",
            "..",
            "../../v1/evil",
            "x/../../evil",
            "x?alt=evil",
            "x%2F..%2Fevil",
            "x#frag",
            "x\\..\\evil",
            "x y",
            "x\tq",
            "x\nHost: evil",
            "x\u{0}",
            "gemini\u{2215}evil",
            "//evil.example/x",
            "x/",
            "/x",
            "a//b",
        ];
        for name in hostile {
            for kind in [Segment, Resource, Aws] {
                let e = path_segment(name, kind).unwrap_err();
                assert_eq!((e.kind, e.status), (ErrorKind::BadRequest, 400), "{name:?}");
            }
        }
        let refused: &[(&str, SegmentKind)] = &[
            ("a/b", Segment),
            ("models/gemini-pro", Segment),
            ("gemini-pro:streamGenerateContent", Segment),
            ("x:countTokens", Resource),
            ("http:", Segment),
            ("us.anthropic.claude@1", Aws),
            ("anthropic/claude-v2", Aws),
            ("arn:aws:bedrock:us-east-1:123:inference-profile/../x", Aws),
            ("https://evil.example/x", Aws),
        ];
        for (name, kind) in refused {
            assert!(path_segment(name, *kind).is_err(), "{name} as {kind:?}");
        }
    }
}
