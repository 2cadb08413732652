//! The answer to a proxied call: LiteLLM's `x-litellm-*` headers, JSON and SSE bodies, errors in
//! the route's shape.

use super::*;

/// A header whose value came from config or an upstream (refused values are left out).
fn set(h: &mut HeaderMap, name: HeaderName, value: &str) {
    if let Ok(v) = HeaderValue::from_str(value) {
        h.insert(name, v);
    }
}

/// LiteLLM's `x-litellm-*` headers, and the upstream's own with the `llm_provider-` prefix,
/// added to `h`. On every answer: static names, no intermediate map.
pub fn add_litellm_headers(h: &mut HeaderMap, meta: &CallMeta, cost: Option<f64>) {
    use HeaderName as N;
    let total = meta.start.elapsed();
    let overhead = total.saturating_sub(meta.upstream);
    // Room for all of them at once: grown one insert at a time, the map is rebuilt several
    // times per answer.
    h.reserve(16 + meta.upstream_headers.len());
    set(h, N::from_static("x-litellm-call-id"), &meta.call_id);
    set(h, N::from_static("x-litellm-model-id"), &meta.deployment.id);
    set(
        h,
        N::from_static("x-litellm-model-group"),
        &meta.model_group,
    );
    set(
        h,
        N::from_static("x-litellm-model-name"),
        &meta.deployment.model,
    );
    set(
        h,
        N::from_static("x-litellm-model-api-base"),
        &meta.deployment.api_base,
    );
    h.insert(
        N::from_static("x-litellm-version"),
        HeaderValue::from_static(env!("CARGO_PKG_VERSION")),
    );
    if let Some(c) = cost {
        set(h, N::from_static("x-litellm-response-cost"), &py_float(c));
    }
    set(
        h,
        N::from_static("x-litellm-response-duration-ms"),
        &millis(total),
    );
    set(
        h,
        N::from_static("x-litellm-overhead-duration-ms"),
        &millis(overhead),
    );
    h.insert(
        N::from_static("x-litellm-attempted-retries"),
        HeaderValue::from(meta.attempted_retries),
    );
    h.insert(
        N::from_static("x-litellm-attempted-fallbacks"),
        HeaderValue::from(meta.attempted_fallbacks),
    );
    h.insert(
        N::from_static("x-litellm-max-retries"),
        HeaderValue::from(meta.max_retries),
    );
    if let Some(t) = meta.timeout {
        set(h, N::from_static("x-litellm-timeout"), &py_float(t));
    }
    if let Some(r) = &meta.model_region {
        set(h, N::from_static("x-litellm-model-region"), r);
    }
    let mut name = String::with_capacity(64);
    for (k, v) in &meta.upstream_headers {
        if is_hop_header(k) {
            continue;
        }
        name.clear();
        name.push_str("llm_provider-");
        name.push_str(k);
        if let Ok(n) = HeaderName::try_from(name.as_str()) {
            set(h, n, v);
        }
    }
}

/// Milliseconds with three decimals (`12.345`), rounded to the microsecond; by hand, as
/// `format!("{:.3}")` of a float costs more than the rest of the header.
fn millis(d: std::time::Duration) -> String {
    let us = (d.as_nanos() + 500) / 1000;
    let mut s = (us / 1000).to_string();
    let frac = (us % 1000) as u16;
    s.push('.');
    for div in [100, 10, 1] {
        s.push(char::from(b'0' + (frac / div % 10) as u8));
    }
    s
}

fn is_hop_header(name: &str) -> bool {
    [
        "content-length",
        "transfer-encoding",
        "connection",
        "keep-alive",
        "content-encoding",
    ]
    .iter()
    .any(|h| name.eq_ignore_ascii_case(h))
}

/// An error answer, with the call's headers when a deployment was involved.
pub fn error_response(err: GatewayError, meta: Option<&CallMeta>) -> Response {
    error_response_in(err, meta, ErrorShape::OpenAi)
}

/// As [`error_response`], in a route's own error shape.
pub fn error_response_in(
    err: GatewayError,
    meta: Option<&CallMeta>,
    shape: ErrorShape,
) -> Response {
    let mut res = err.into_response_in(shape);
    if let Some(m) = meta {
        add_litellm_headers(res.headers_mut(), m, None);
    }
    res
}

/// A JSON answer with the call's headers.
pub fn json_response<T: Serialize>(body: &T, meta: &CallMeta, cost: Option<f64>) -> Response {
    // A chat answer is rarely under 512 bytes: started there, the buffer is not regrown from
    // serde_json's 128 through every size on the way.
    let mut bytes = Vec::with_capacity(512);
    if let Err(e) = serde_json::to_writer(&mut bytes, body) {
        return error_response(GatewayError::Internal(e.to_string()), Some(meta));
    }
    let mut res = Response::new(Body::from(bytes));
    let h = res.headers_mut();
    h.insert("content-type", HeaderValue::from_static("application/json"));
    add_litellm_headers(h, meta, cost);
    res
}

/// How a route frames its stream: OpenAI's `data:` lines ending in `data: [DONE]`, or
/// named events (`event: <name>` before each `data:`, as Anthropic's and the Responses API's
/// streams), with a mid-stream error in the route's own shape.
pub struct SseFormat<T> {
    /// The `event:` name of an item (None: no event line).
    pub event: fn(&T) -> Option<&'static str>,
    /// Whether the stream ends with `data: [DONE]`.
    pub done: bool,
    /// A mid-stream error as the route sends it (event name and body).
    pub error: fn(&GatewayError) -> (Option<&'static str>, Value),
}

impl<T> SseFormat<T> {
    /// OpenAI's framing.
    pub fn openai() -> SseFormat<T> {
        SseFormat {
            event: |_| None,
            done: true,
            error: |e| (None, e.body()),
        }
    }
}

/// Serializes an SSE event, with its `event:` line when named.
fn sse_event<T: Serialize>(name: Option<&str>, item: &T) -> Bytes {
    let mut buf = Vec::with_capacity(256);
    if let Some(n) = name {
        buf.extend_from_slice(b"event: ");
        buf.extend_from_slice(n.as_bytes());
        buf.push(b'\n');
    }
    buf.extend_from_slice(b"data: ");
    if serde_json::to_writer(&mut buf, item).is_err() {
        buf.truncate(6);
        buf.extend_from_slice(b"{}");
    }
    buf.extend_from_slice(b"\n\n");
    Bytes::from(buf)
}

/// What a stream reports as it goes: each chunk before it is sent, a mid-stream error, the
/// normal end. Dropped with the body (client gone) before the end: the tap's owner decides
/// what that means (the settlement charges an abandoned call).
pub trait StreamTap<T>: Send + 'static {
    /// Adjusts a chunk; `false` drops it (a usage chunk asked for only to price the call).
    fn chunk(&mut self, item: &mut T) -> bool;
    fn error(&mut self, error: &GatewayError);
    fn end(&mut self);
}

/// Streams chunks to the client as SSE, one event per chunk as it arrives. An error in the
/// middle becomes an `error` event (never a silent truncation); a normal end sends `[DONE]`.
/// Dropping the body (client gone) drops the upstream stream, which closes its connection,
/// and the tap.
pub fn sse_response<T, S, P>(stream: S, meta: &CallMeta, tap: P, format: SseFormat<T>) -> Response
where
    T: Serialize + Send + 'static,
    S: Stream<Item = Result<T, LlmError>> + Send + 'static,
    P: StreamTap<T>,
{
    let group = meta.model_group.clone();
    let SseFormat {
        event,
        done: end_with_done,
        error,
    } = format;
    let body = futures::stream::unfold(
        (Box::pin(stream), tap, group, false),
        move |(mut s, mut tap, group, done)| async move {
            if done {
                return None;
            }
            let out = loop {
                match s.next().await {
                    Some(Ok(mut item)) => {
                        if !tap.chunk(&mut item) {
                            continue;
                        }
                        return Some((
                            Ok::<_, std::convert::Infallible>(sse_event(event(&item), &item)),
                            (s, tap, group, false),
                        ));
                    }
                    Some(Err(e)) => {
                        let e = GatewayError::Llm(e.with_model(&group));
                        tracing::warn!(model = %group, error = %e.body(), "upstream stream failed");
                        tap.error(&e);
                        let (name, body) = error(&e);
                        break sse_event(name, &body);
                    }
                    None => {
                        tap.end();
                        if !end_with_done {
                            return None;
                        }
                        break Bytes::from_static(b"data: [DONE]\n\n");
                    }
                }
            };
            Some((Ok(out), (s, tap, group, true)))
        },
    );
    sse_headers(Response::new(Body::from_stream(body)), meta)
}

fn sse_headers(mut res: Response, meta: &CallMeta) -> Response {
    *res.status_mut() = StatusCode::OK;
    let h = res.headers_mut();
    h.insert(
        "content-type",
        HeaderValue::from_static("text/event-stream"),
    );
    h.insert("cache-control", HeaderValue::from_static("no-cache"));
    add_litellm_headers(h, meta, None);
    res
}

/// A stream refused after the answer was read but before any of it was sent (a post-call
/// guardrail's block): only the route's error event, then `[DONE]` where the route ends
/// with it, as LiteLLM ends such a stream (status 200: the client learns it from the event).
pub fn sse_error_response<T>(
    err: &GatewayError,
    meta: &CallMeta,
    format: SseFormat<T>,
) -> Response {
    let (name, body) = (format.error)(err);
    let mut bytes = sse_event(name, &body).to_vec();
    if format.done {
        bytes.extend_from_slice(b"data: [DONE]\n\n");
    }
    sse_headers(Response::new(Body::from(bytes)), meta)
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    #[test]
    fn millis_have_three_decimals() {
        assert_eq!(super::millis(Duration::from_nanos(12_345_678)), "12.346");
        assert_eq!(super::millis(Duration::from_micros(7)), "0.007");
        assert_eq!(super::millis(Duration::from_secs(2)), "2000.000");
        assert_eq!(super::millis(Duration::ZERO), "0.000");
    }
}
