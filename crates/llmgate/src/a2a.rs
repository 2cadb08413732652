//! A client for A2A agents (the protocol's JSON-RPC binding, 0.3 wire names), usable with or
//! without the gateway: resolve an agent's card, send a message, stream one (the agent's SSE
//! events as they arrive), call `tasks/*`. Pointed at llmgate's `/a2a/{agent}` with a virtual
//! key, it reaches the agents the key may use.
//!
//! Also [`texts`]: the text of a message, task or stream event, which the gateway counts an
//! agent call's tokens by.

use std::time::Duration;

use futures::stream::BoxStream;
use futures::StreamExt;
use serde_json::{json, Value};

use crate::stream::sse::SseDecoder;

/// What an A2A call can fail with.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum A2aError {
    /// The agent could not be reached, or did not answer in time.
    #[error("A2A transport error: {0}")]
    Transport(String),
    /// The agent answered an HTTP error without a JSON-RPC body.
    #[error("A2A agent answered HTTP {status}: {body}")]
    Http { status: u16, body: String },
    /// The agent answered a JSON-RPC error.
    #[error("A2A error {code}: {message}")]
    Rpc { code: i64, message: String },
    /// The answer is not what the protocol says.
    #[error("A2A invalid answer: {0}")]
    Invalid(String),
}

/// One agent's JSON-RPC endpoint.
#[derive(Clone, Debug)]
pub struct A2aClient {
    http: reqwest::Client,
    url: String,
    headers: Vec<(String, String)>,
    timeout: Duration,
}

/// A user message with one text part, as `message/send` takes it.
pub fn text_message(text: &str) -> Value {
    json!({
        "kind": "message",
        "role": "user",
        "messageId": uuid::Uuid::new_v4().simple().to_string(),
        "parts": [{"kind": "text", "text": text}],
    })
}

impl A2aClient {
    /// A client for the JSON-RPC endpoint at `url` (an agent card's `url`).
    pub fn new(url: impl Into<String>) -> A2aClient {
        A2aClient {
            http: reqwest::Client::new(),
            url: url.into(),
            headers: Vec::new(),
            timeout: Duration::from_secs(60),
        }
    }

    /// Sent on every call (`Authorization: Bearer <key>` for the gateway or the agent).
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> A2aClient {
        self.headers.push((name.into(), value.into()));
        self
    }

    /// How long a call (and each wait for a stream's next event) may take; 60 s by default.
    pub fn timeout(mut self, t: Duration) -> A2aClient {
        self.timeout = t;
        self
    }

    pub fn url(&self) -> &str {
        &self.url
    }

    /// The agent card at `{base}/.well-known/agent-card.json` (else the legacy `agent.json`),
    /// and a client for the URL it names, carrying `headers`.
    pub async fn resolve(
        base: &str,
        headers: &[(&str, &str)],
    ) -> Result<(Value, A2aClient), A2aError> {
        let probe = A2aClient::new(base);
        let probe = headers.iter().fold(probe, |c, (k, v)| c.header(*k, *v));
        let base = base.trim_end_matches('/');
        let mut last = A2aError::Invalid("no card".into());
        for path in [".well-known/agent-card.json", ".well-known/agent.json"] {
            let rb = probe.with_headers(probe.http.get(format!("{base}/{path}")));
            let res = rb.send().await.map_err(transport)?;
            let status = res.status().as_u16();
            let body = res.text().await.map_err(transport)?;
            if status != 200 {
                last = A2aError::Http { status, body };
                continue;
            }
            let card: Value = serde_json::from_str(&body)
                .map_err(|e| A2aError::Invalid(format!("agent card: {e}")))?;
            let url = card["url"]
                .as_str()
                .ok_or_else(|| A2aError::Invalid("agent card without url".into()))?
                .to_string();
            let client = A2aClient {
                url,
                ..probe.clone()
            };
            return Ok((card, client));
        }
        Err(last)
    }

    fn with_headers(&self, mut rb: reqwest::RequestBuilder) -> reqwest::RequestBuilder {
        for (k, v) in &self.headers {
            rb = rb.header(k.as_str(), v.as_str());
        }
        rb
    }

    fn request(&self, method: &str, params: Value, sse: bool) -> reqwest::RequestBuilder {
        let body = json!({"jsonrpc": "2.0", "id": uuid::Uuid::new_v4().to_string(),
                          "method": method, "params": params});
        self.with_headers(self.http.post(&self.url))
            .header(
                "accept",
                if sse {
                    "text/event-stream"
                } else {
                    "application/json"
                },
            )
            .json(&body)
    }

    /// A JSON-RPC call answered in one body (`tasks/get`, `tasks/cancel`, ...): its `result`.
    pub async fn call(&self, method: &str, params: Value) -> Result<Value, A2aError> {
        let res = tokio::time::timeout(self.timeout, self.request(method, params, false).send())
            .await
            .map_err(|_| A2aError::Transport("timed out".into()))?
            .map_err(transport)?;
        let status = res.status().as_u16();
        let body = res.bytes().await.map_err(transport)?;
        match serde_json::from_slice::<Value>(&body) {
            // A JSON-RPC answer, whatever its status (agents send errors with 4xx/5xx too).
            Ok(v) if v.get("jsonrpc").is_some() => result(v),
            _ => Err(A2aError::Http {
                status,
                body: String::from_utf8_lossy(&body).into_owned(),
            }),
        }
    }

    /// `message/send`: the agent's task or message.
    pub async fn send(&self, message: Value) -> Result<Value, A2aError> {
        self.call("message/send", json!({ "message": message }))
            .await
    }

    /// `message/stream`: each event's `result` (task, status and artifact updates) as the agent
    /// sends it; a JSON-RPC error event ends the stream as an error.
    pub async fn stream(
        &self,
        message: Value,
    ) -> Result<BoxStream<'static, Result<Value, A2aError>>, A2aError> {
        let req = self.request("message/stream", json!({ "message": message }), true);
        let res = tokio::time::timeout(self.timeout, req.send())
            .await
            .map_err(|_| A2aError::Transport("timed out".into()))?
            .map_err(transport)?;
        let sse = res
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .is_some_and(|c| c.starts_with("text/event-stream"));
        if !sse {
            let status = res.status().as_u16();
            let body = res.bytes().await.map_err(transport)?;
            return Err(match serde_json::from_slice::<Value>(&body) {
                Ok(v) if v.get("jsonrpc").is_some() => result(v)
                    .err()
                    .unwrap_or(A2aError::Invalid("a JSON answer to message/stream".into())),
                _ => A2aError::Http {
                    status,
                    body: String::from_utf8_lossy(&body).into_owned(),
                },
            });
        }
        let idle = self.timeout;
        let state = (
            res.bytes_stream().boxed(),
            SseDecoder::new(),
            Vec::new(),
            false,
        );
        Ok(futures::stream::unfold(
            state,
            move |(mut body, mut dec, mut pending, mut done)| async move {
                loop {
                    if !pending.is_empty() {
                        let ev: String = pending.remove(0);
                        let item = serde_json::from_str::<Value>(&ev)
                            .map_err(|e| A2aError::Invalid(format!("event: {e}")))
                            .and_then(result);
                        if item.is_err() {
                            done = true;
                            pending.clear();
                        }
                        return Some((item, (body, dec, pending, done)));
                    }
                    if done {
                        return None;
                    }
                    match tokio::time::timeout(idle, body.next()).await {
                        Err(_) => {
                            done = true;
                            let e = A2aError::Transport("no event in time".into());
                            return Some((Err(e), (body, dec, pending, done)));
                        }
                        Ok(Some(Ok(bytes))) => {
                            pending.extend(dec.feed(&bytes).into_iter().map(|e| e.data))
                        }
                        Ok(Some(Err(e))) => {
                            done = true;
                            return Some((Err(transport(e)), (body, dec, pending, done)));
                        }
                        Ok(None) => {
                            done = true;
                            pending.extend(dec.finish().map(|e| e.data));
                        }
                    }
                }
            },
        )
        .boxed())
    }
}

fn transport(e: reqwest::Error) -> A2aError {
    A2aError::Transport(e.to_string())
}

/// A JSON-RPC answer's `result`, or its error.
fn result(mut v: Value) -> Result<Value, A2aError> {
    if let Some(err) = v.get("error") {
        return Err(A2aError::Rpc {
            code: err["code"].as_i64().unwrap_or(-32603),
            message: err["message"].as_str().unwrap_or("").to_string(),
        });
    }
    match v.get_mut("result") {
        Some(r) => Ok(r.take()),
        None => Err(A2aError::Invalid("neither result nor error".into())),
    }
}

/// The usage an agent reports with an answer or a stream event, if any: a top-level `usage`
/// (as LiteLLM's own A2A answers carry it) or the result's `metadata.usage`, in OpenAI's
/// `prompt_tokens` / `completion_tokens` or `input_tokens` / `output_tokens`.
pub fn reported_usage(answer: &Value) -> Option<crate::Usage> {
    let u = [
        answer.get("usage"),
        answer.pointer("/result/metadata/usage"),
    ]
    .into_iter()
    .flatten()
    .find(|u| u.is_object())?;
    let n = |a: &str, b: &str| u.get(a).or_else(|| u.get(b)).and_then(Value::as_u64);
    let prompt = n("prompt_tokens", "input_tokens");
    let completion = n("completion_tokens", "output_tokens");
    if prompt.is_none() && completion.is_none() {
        return None;
    }
    Some(crate::Usage::new(
        prompt.unwrap_or(0),
        completion.unwrap_or(0),
    ))
}

/// Appends the text of every part under `v` (a message, a task, an event), skipping a task's
/// `history` (the client's own messages echoed back).
pub fn texts(v: &Value, out: &mut String) {
    match v {
        Value::Object(m) => {
            if let Some(Value::Array(parts)) = m.get("parts") {
                for p in parts {
                    if let Some(t) = p.get("text").and_then(Value::as_str) {
                        out.push_str(t);
                    }
                }
            }
            for (k, child) in m {
                if k != "parts" && k != "history" {
                    texts(child, out);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|c| texts(c, out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usage_the_agent_reports() {
        let top = json!({"result": {}, "usage": {"prompt_tokens": 3, "completion_tokens": 4}});
        assert_eq!(reported_usage(&top).unwrap().total_tokens, 7);
        let meta =
            json!({"result": {"metadata": {"usage": {"input_tokens": 5, "output_tokens": 1}}}});
        assert_eq!(reported_usage(&meta).unwrap().prompt_tokens, 5);
        assert!(reported_usage(&json!({"result": {"metadata": {}}})).is_none());
    }

    #[test]
    fn text_of_a_task_without_its_history() {
        let task = json!({"kind": "task", "history": [{"parts": [{"kind": "text", "text": "hi"}]}],
            "artifacts": [{"parts": [{"kind": "text", "text": "echo:"}, {"kind": "text", "text": " hi"}]}]});
        let mut s = String::new();
        texts(&task, &mut s);
        assert_eq!(s, "echo: hi");
    }
}
