//! AWS Bedrock through the Converse and ConverseStream APIs (`bedrock/<model id>`, also
//! `bedrock/converse/<model id>` as LiteLLM allows), signed with SigV4 or a Bedrock API key;
//! embeddings, image generation and image edits through InvokeModel, rerank through the Agent
//! Runtime.

pub mod auth;
pub mod batch;
pub mod edits;
pub mod embed;
pub mod eventstream;
pub mod images;
pub mod media;
pub mod request;
pub mod rerank;
pub mod response;

use async_trait::async_trait;
use llmgate_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingRequest, EmbeddingResponse,
    ImageGenerationRequest, ImageResponse, RerankRequest, RerankResponse,
};
use serde_json::Value;

use super::http::{header_pairs, json, path_segment, send, SegmentKind};
use super::{Ctx, Provider};
use crate::media::{FormKind, FormRequest};
use crate::response::Response;
use crate::stream::ChunkStream;
use crate::{CallOptions, LlmError};

pub const NAME: &str = "bedrock";

/// The Bedrock model id: LiteLLM's `converse/` route prefix dropped.
fn model_id(model: &str) -> &str {
    model.strip_prefix("converse/").unwrap_or(model)
}

/// `{endpoint}/model/{id}/{action}` with the id percent-encoded as one segment, as AWS's SDKs
/// send it (`:` and an ARN's `/`).
fn url(endpoint: &str, model: &str, action: &str) -> Result<String, LlmError> {
    let id = path_segment(model_id(model), SegmentKind::Aws)?;
    let encoded = id.replace(':', "%3A").replace('/', "%2F");
    Ok(format!("{endpoint}/model/{encoded}/{action}"))
}

pub struct Bedrock;

impl Bedrock {
    async fn post(
        cx: &Ctx<'_>,
        req: &ChatCompletionRequest,
        action: &str,
        whole_body: bool,
    ) -> Result<(reqwest::Response, String), LlmError> {
        // The model id is checked before any credential (an STS call) is fetched.
        let (_, endpoint) = auth::locate(cx.opts)?;
        let url = url(&endpoint, &req.model, action)?;
        let target = auth::Target::from_options(cx.http, cx.opts).await?;
        let body = request::build(req, model_id(&req.model))?;
        let rb = target.post(
            cx.http,
            cx.opts,
            &url,
            serde_json::to_vec(&body).unwrap_or_default(),
        )?;
        let wait = if whole_body {
            cx.opts.timeout
        } else {
            cx.opts.stream_wait()
        };
        let res = send(rb, NAME, wait, whole_body).await?;
        Ok((res, target.endpoint))
    }
}

#[async_trait]
impl Provider for Bedrock {
    fn name(&self) -> &'static str {
        NAME
    }

    fn takes_stream_options(&self) -> bool {
        true
    }

    fn api_base(&self, opts: &CallOptions) -> String {
        auth::locate(opts).map(|(_, e)| e).unwrap_or_default()
    }

    async fn chat(
        &self,
        cx: &Ctx<'_>,
        mut req: ChatCompletionRequest,
    ) -> Result<Response<ChatCompletionResponse>, LlmError> {
        media::inline_remote_images(&mut req, cx.opts).await?;
        let (res, api_base) = Self::post(cx, &req, "converse", true).await?;
        let headers = header_pairs(res.headers());
        let v: Value = json(res, NAME).await?;
        Ok(Response {
            body: response::translate(
                &v,
                &req.model,
                crate::now_secs(),
                &request::original_names(&req),
            ),
            headers,
            api_base,
        })
    }

    async fn chat_stream(
        &self,
        cx: &Ctx<'_>,
        mut req: ChatCompletionRequest,
    ) -> Result<Response<ChunkStream>, LlmError> {
        media::inline_remote_images(&mut req, cx.opts).await?;
        let (res, api_base) = Self::post(cx, &req, "converse-stream", false).await?;
        let headers = header_pairs(res.headers());
        let state = response::StreamState::new(&req.model, crate::now_secs(), req.include_usage())
            .with_names(request::original_names(&req));
        Ok(Response {
            body: eventstream::translated(res, cx.opts.stream_wait(), state),
            headers,
            api_base,
        })
    }

    /// InvokeModel: one call per body ([`embed::bodies`]), in order.
    async fn embedding(
        &self,
        cx: &Ctx<'_>,
        req: EmbeddingRequest,
    ) -> Result<Response<EmbeddingResponse>, LlmError> {
        let (_, endpoint) = auth::locate(cx.opts)?;
        let url = url(&endpoint, &req.model, "invoke")?;
        let target = auth::Target::from_options(cx.http, cx.opts).await?;
        let id = model_id(&req.model);
        let mut answers = Vec::new();
        let mut headers = Vec::new();
        for body in embed::bodies(&req, id)? {
            let rb = target.post(
                cx.http,
                cx.opts,
                &url,
                serde_json::to_vec(&body).unwrap_or_default(),
            )?;
            let res = send(rb, NAME, cx.opts.timeout, true).await?;
            headers = header_pairs(res.headers());
            answers.push(json::<Value>(res, NAME).await?);
        }
        let local: u64 = req
            .input_texts()
            .iter()
            .map(|t| crate::tokens::count_text(id, t) as u64)
            .sum();
        Ok(Response {
            body: embed::response(&req.model, &answers, local),
            headers,
            api_base: target.endpoint,
        })
    }

    /// InvokeModel with the model family's body ([`images::build`]); the answer's base64
    /// images as `b64_json`.
    async fn image_generation(
        &self,
        cx: &Ctx<'_>,
        req: ImageGenerationRequest,
    ) -> Result<Response<ImageResponse>, LlmError> {
        let (_, endpoint) = auth::locate(cx.opts)?;
        let url = url(&endpoint, &req.model, "invoke")?;
        let id = model_id(&req.model);
        // Refused params and bad sizes are answered before any credential is fetched.
        let call = images::build(&req, id, cx.opts.drop_params)?;
        let target = auth::Target::from_options(cx.http, cx.opts).await?;
        let mut rb = target.post(
            cx.http,
            cx.opts,
            &url,
            serde_json::to_vec(&call.body).unwrap_or_default(),
        )?;
        for (k, v) in &call.headers {
            rb = rb.header(*k, v);
        }
        let res = send(rb, NAME, cx.opts.timeout, true).await?;
        let headers = header_pairs(res.headers());
        let v: Value = json(res, NAME).await?;
        Ok(Response {
            body: images::answer(call.family, &v, crate::now_secs())?,
            headers,
            api_base: target.endpoint,
        })
    }

    /// `/images/edits` through InvokeModel with the model family's body ([`edits::build`]);
    /// LiteLLM has no Bedrock variations.
    async fn image_form(
        &self,
        cx: &Ctx<'_>,
        kind: FormKind,
        req: FormRequest,
    ) -> Result<Response<ImageResponse>, LlmError> {
        if kind != FormKind::ImageEdit {
            return Err(self.unsupported(kind.path()));
        }
        let (_, endpoint) = auth::locate(cx.opts)?;
        let url = url(&endpoint, &req.model, "invoke")?;
        // Refused models and params are answered before any credential is fetched.
        let (family, body) = edits::build(&req.form, model_id(&req.model), cx.opts.drop_params)?;
        let target = auth::Target::from_options(cx.http, cx.opts).await?;
        let bytes = serde_json::to_vec(&body).unwrap_or_default();
        drop(body);
        let rb = target.post(cx.http, cx.opts, &url, bytes)?;
        let res = send(rb, NAME, cx.opts.timeout, true).await?;
        let headers = header_pairs(res.headers());
        let v: Value = json(res, NAME).await?;
        Ok(Response {
            body: edits::answer(family, &v, crate::now_secs())?,
            headers,
            api_base: target.endpoint,
        })
    }

    /// The Agent Runtime's Rerank API ([`rerank`]).
    async fn rerank(
        &self,
        cx: &Ctx<'_>,
        req: RerankRequest,
    ) -> Result<Response<RerankResponse>, LlmError> {
        let target = auth::Target::from_options(cx.http, cx.opts).await?;
        let url = rerank::url(&target.endpoint);
        let arn = rerank::model_arn(model_id(&req.model), &target.region);
        let body = rerank::body(&req, &arn);
        let rb = target.post(
            cx.http,
            cx.opts,
            &url,
            serde_json::to_vec(&body).unwrap_or_default(),
        )?;
        let res = send(rb, NAME, cx.opts.timeout, true).await?;
        let headers = header_pairs(res.headers());
        let v: Value = json(res, NAME).await?;
        Ok(Response {
            body: rerank::response(&v, &req)?,
            headers,
            api_base: url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn model_ids_are_one_encoded_segment() {
        let opts = CallOptions {
            api_key: Some("k".into()),
            extra: serde_json::from_value(serde_json::json!({"aws_region_name": "eu-west-1"}))
                .unwrap(),
            ..Default::default()
        };
        let (_, e) = auth::locate(&opts).unwrap();
        assert_eq!(
            url(&e, "converse/us.anthropic.claude-3-5-sonnet-20240620-v1:0", "converse").unwrap(),
            "https://bedrock-runtime.eu-west-1.amazonaws.com/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
        );
        assert!(url(&e, "../x", "converse").is_err());
        assert!(url(&e, "a/b", "converse").is_err());
    }
}
