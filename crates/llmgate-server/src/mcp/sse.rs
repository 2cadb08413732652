//! The 2024-11-05 HTTP+SSE transport as a client (`transport: sse`), which rmcp no longer
//! ships: a GET opens the event stream, whose first `endpoint` event names the URL the client
//! POSTs its JSON-RPC messages to; the server's messages arrive as `message` events.

use futures::{Stream, StreamExt};
use rmcp::model::{ClientJsonRpcMessage, ServerJsonRpcMessage};

use super::upstream::Forwarded;

/// The pair rmcp serves a client over: messages out (posted in order), messages in.
pub type Pair = (
    futures::channel::mpsc::UnboundedSender<ClientJsonRpcMessage>,
    std::pin::Pin<Box<dyn Stream<Item = ServerJsonRpcMessage> + Send>>,
);

fn with_headers(
    mut rb: reqwest13::RequestBuilder,
    headers: &[(String, String)],
    fwd: &Forwarded,
) -> reqwest13::RequestBuilder {
    for (k, v) in headers.iter().chain(fwd) {
        rb = rb.header(k.as_str(), v.as_str());
    }
    rb
}

pub async fn connect(
    http: &reqwest13::Client,
    url: &str,
    headers: &[(String, String)],
    fwd: &Forwarded,
) -> Result<Pair, String> {
    let resp = with_headers(http.get(url), headers, fwd)
        .header("accept", "text/event-stream")
        .send()
        .await
        .map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        return Err(format!("GET {url} answered {}", resp.status()));
    }
    let base = resp.url().clone();
    let mut events = sse_stream::SseStream::from_bytes_stream(resp.bytes_stream());
    let endpoint = loop {
        match events.next().await {
            Some(Ok(e)) if e.event.as_deref() == Some("endpoint") => {
                break e.data.unwrap_or_default();
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(e.to_string()),
            None => return Err("the event stream ended before its `endpoint` event".into()),
        }
    };
    let post_url = base
        .join(endpoint.trim())
        .map_err(|e| format!("bad endpoint `{endpoint}`: {e}"))?;
    let (tx, mut rx) = futures::channel::mpsc::unbounded::<ClientJsonRpcMessage>();
    let (http, headers, fwd) = (http.clone(), headers.to_vec(), fwd.clone());
    // Posts in send order; ends when the session drops its sender.
    tokio::spawn(async move {
        while let Some(msg) = rx.next().await {
            let sent = with_headers(http.post(post_url.clone()), &headers, &fwd)
                .json(&msg)
                .send()
                .await;
            match sent {
                Ok(r) if r.status().is_success() => {}
                Ok(r) => {
                    tracing::warn!(url = %post_url, status = %r.status(), "MCP SSE post refused")
                }
                Err(e) => tracing::warn!(url = %post_url, error = %e, "MCP SSE post failed"),
            }
        }
    });
    let incoming = events.filter_map(|e| async move {
        let e = e.ok()?;
        if e.event.as_deref().is_some_and(|k| k != "message") {
            return None;
        }
        serde_json::from_str::<ServerJsonRpcMessage>(e.data.as_deref()?).ok()
    });
    Ok((tx, Box::pin(incoming)))
}
