//! The Responses API in front of every model: OpenAI and Azure deployments take it natively
//! (`Provider::native_responses`); every other model is served through chat completions,
//! translated here both ways (`request.rs` in, `answer.rs` and `stream.rs` out).

pub mod answer;
pub mod request;
pub mod stream;
#[cfg(test)]
mod tests;

use std::pin::Pin;

use futures::Stream;
use llmgate_types::{ResponseEvent, ResponseObject, ResponsesRequest};

use crate::providers::Ctx;
use crate::{CallOptions, Client, LlmError, Response};

/// Responses stream events, one per upstream event (or more, translated), as they arrive.
pub type ResponseEventStream = Pin<Box<dyn Stream<Item = Result<ResponseEvent, LlmError>> + Send>>;

/// A native stream's failure as the gateway settles one: an `error` event becomes the
/// stream's error; `response.failed` goes to the client and then ends the stream as an error.
pub fn native_failures(events: ResponseEventStream, provider: &'static str) -> ResponseEventStream {
    use futures::StreamExt;
    let failure = move |detail: &serde_json::Value| {
        let body = serde_json::json!({"error": detail}).to_string();
        let status = detail
            .get("code")
            .and_then(|c| c.as_u64())
            .filter(|s| (400..600).contains(s))
            .unwrap_or(500) as u16;
        LlmError::from_upstream(status, vec![], body.as_bytes(), provider)
    };
    Box::pin(events.flat_map(move |ev| {
        let out: Vec<Result<ResponseEvent, LlmError>> = match ev {
            Ok(e) if e.kind == "error" => {
                vec![Err(failure(&serde_json::Value::Object(e.extra)))]
            }
            Ok(e) if e.kind == "response.failed" => {
                let detail = e
                    .response
                    .as_ref()
                    .and_then(|r| r.extra.get("error"))
                    .filter(|d| !d.is_null())
                    .cloned()
                    .unwrap_or_else(|| serde_json::json!({"message": "the response failed"}));
                vec![Ok(e), Err(failure(&detail))]
            }
            other => vec![other],
        };
        futures::stream::iter(out)
    }))
}

impl Client {
    /// A Responses call; `req.input` holds the whole conversation (earlier turns included).
    pub async fn responses(
        &self,
        mut req: ResponsesRequest,
        opts: &CallOptions,
    ) -> Result<Response<ResponseObject>, LlmError> {
        if opts.mock_response.is_none() {
            let r = self.route(&req.model, opts)?;
            if r.provider.native_responses() {
                req.model = r.model;
                let cx = Ctx {
                    http: self.http(),
                    opts,
                };
                let mut res = r.provider.responses(&cx, req).await?;
                res.body.price_usage();
                return Ok(res);
            }
        }
        let chat = request::to_chat(&req)?;
        let res = self.chat(chat, opts).await?;
        Ok(Response {
            body: answer::from_chat(&req, res.body),
            headers: res.headers,
            api_base: res.api_base,
        })
    }

    pub async fn responses_stream(
        &self,
        mut req: ResponsesRequest,
        opts: &CallOptions,
    ) -> Result<Response<ResponseEventStream>, LlmError> {
        if opts.mock_response.is_none() {
            let r = self.route(&req.model, opts)?;
            if r.provider.native_responses() {
                req.model = r.model;
                let cx = Ctx {
                    http: self.http(),
                    opts,
                };
                return r.provider.responses_stream(&cx, req).await;
            }
        }
        let chat = request::to_chat(&req)?;
        let res = self.chat_stream(chat, opts).await?;
        Ok(Response {
            body: stream::events(&req, res.body),
            headers: res.headers,
            api_base: res.api_base,
        })
    }
}
