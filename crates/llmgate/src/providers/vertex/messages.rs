//! Claude on Vertex AI behind `/v1/messages`: the client's Messages body passed natively
//! (rawPredict / streamRawPredict), the model in the URL and Vertex's `anthropic_version` in
//! the body.

use serde_json::{json, Value};

use super::{gemini, Model, Site, CLAUDE_VERSION, NAME};
use crate::messages::{native, EventStream, MessagesAnswer};
use crate::providers::http::{header_pairs, json, send};
use crate::providers::Ctx;
use crate::{LlmError, Response};

fn request(cx: &Ctx<'_>, url: String, token: &str, mut body: Value) -> reqwest::RequestBuilder {
    if let Some(o) = body.as_object_mut() {
        o.shift_remove("model");
        o.insert("anthropic_version".into(), json!(CLAUDE_VERSION));
    }
    let mut rb = cx
        .http
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json");
    // The client's `anthropic-beta` goes on (Vertex takes betas there); its version is the
    // body's.
    for (k, v) in &cx.opts.extra_headers {
        if !k.eq_ignore_ascii_case("anthropic-version") {
            rb = rb.header(k, v);
        }
    }
    rb.body(serde_json::to_vec(&body).unwrap_or_default())
}

pub(super) async fn complete(
    cx: &Ctx<'_>,
    model: &str,
    body: Value,
) -> Result<Response<MessagesAnswer>, LlmError> {
    let model = Model::parse(model)?;
    let site = Site::resolve(cx).await?;
    let url = site.model_url(&model)?;
    let rb = request(cx, format!("{url}:rawPredict"), &site.token, body);
    let res = send(rb, NAME, cx.opts.timeout, true)
        .await
        .map_err(gemini::errors::litellm_class)?;
    let headers = header_pairs(res.headers());
    let v: Value = json(res, NAME).await?;
    Ok(Response {
        body: native::answer(v),
        headers,
        api_base: url,
    })
}

pub(super) async fn stream(
    cx: &Ctx<'_>,
    model: &str,
    body: Value,
) -> Result<Response<EventStream>, LlmError> {
    let model = Model::parse(model)?;
    let site = Site::resolve(cx).await?;
    let url = site.model_url(&model)?;
    let rb = request(
        cx,
        format!("{url}:streamRawPredict?alt=sse"),
        &site.token,
        body,
    );
    let wait = cx.opts.stream_wait();
    let res = send(rb, NAME, wait, false)
        .await
        .map_err(gemini::errors::litellm_class)?;
    let headers = header_pairs(res.headers());
    Ok(Response {
        body: native::relay(res, NAME, wait),
        headers,
        api_base: url,
    })
}
