//! AWS SageMaker endpoints, as LiteLLM calls them: `sagemaker/<endpoint>` with Hugging Face
//! TGI's JSON (InvokeEndpoint `/endpoints/{name}/invocations`, and
//! `/invocations-response-stream` whose event-stream `PayloadPart`s carry TGI's SSE),
//! `sagemaker_chat/<endpoint>` with OpenAI chat bodies (TGI's Messages API), and embeddings.
//! SigV4-signed for service `sagemaker` with the AWS pieces Bedrock uses ([`super::aws`]).

pub mod request;
pub mod response;

use std::time::SystemTime;

use async_trait::async_trait;
use llmgate_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingRequest, EmbeddingResponse,
};
use serde_json::Value;

use super::aws::sts::Caller;
use super::aws::{self, checked_region, credentials, env, param, Keys};
use super::http::{header_pairs, json, path_segment, send, SegmentKind};
use super::{Ctx, Provider};
use crate::response::Response;
use crate::stream::ChunkStream;
use crate::{CallOptions, ErrorKind, LlmError};

pub const NAME: &str = "sagemaker";
pub const CHAT_NAME: &str = "sagemaker_chat";

/// LiteLLM's region when none is configured.
const DEFAULT_REGION: &str = "us-west-2";

#[derive(Clone, Copy, PartialEq, Eq)]
enum Api {
    /// `sagemaker/`: TGI's `inputs`/`parameters`.
    Tgi,
    /// `sagemaker_chat/`: OpenAI chat bodies.
    Chat,
}

pub struct SageMaker {
    api: Api,
}

/// Where a call goes.
struct Target {
    region: String,
    /// `https://runtime.sagemaker.{region}.amazonaws.com`, or `api_base`.
    root: String,
    /// `sagemaker_base_url`: the whole URL, streamed or not, as LiteLLM uses it.
    whole: Option<String>,
}

/// The keys a call signs with ([`credentials::resolve`]: static keys, an STS role or web
/// identity, a profile, the ambient chain).
async fn keys(cx: &Ctx<'_>, region: &str, provider: &str) -> Result<Keys, LlmError> {
    let caller = Caller {
        provider,
        label: "SagemakerException",
        // LiteLLM sends Bedrock's session policy here too, which would deny
        // `sagemaker:InvokeEndpoint`; the role's own policy applies instead.
        policy: None,
        timeout: cx.opts.timeout,
    };
    credentials::resolve(cx.http, cx.opts, region, caller)
        .await?
        .ok_or_else(|| {
            LlmError::new(
                ErrorKind::Authentication,
                "SagemakerException - Unable to locate credentials: set aws_access_key_id and aws_secret_access_key (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), aws_role_name or aws_profile_name",
            )
            .with_provider(provider)
        })
}

impl Target {
    /// Region from `aws_region_name`, `AWS_REGION`, `AWS_REGION_NAME` (LiteLLM's order), else
    /// us-west-2.
    fn from_options(opts: &CallOptions) -> Result<Target, LlmError> {
        let region = param(opts, "aws_region_name")
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_REGION_NAME"))
            .unwrap_or_else(|| DEFAULT_REGION.to_string());
        let region = checked_region(region)?;
        let root = opts
            .api_base
            .clone()
            .filter(|b| !b.is_empty())
            .unwrap_or_else(|| format!("https://runtime.sagemaker.{region}.amazonaws.com"))
            .trim_end_matches('/')
            .to_string();
        Ok(Target {
            region,
            root,
            whole: param(opts, "sagemaker_base_url"),
        })
    }

    fn url(&self, endpoint: &str, stream: bool) -> Result<String, LlmError> {
        if let Some(u) = &self.whole {
            return Ok(u.clone());
        }
        let name = path_segment(endpoint, SegmentKind::Segment)?;
        let action = if stream {
            "invocations-response-stream"
        } else {
            "invocations"
        };
        Ok(format!("{}/endpoints/{name}/{action}", self.root))
    }

    /// A signed JSON POST; `signed` headers besides content-type, then the inference
    /// component (`model_id`) and the deployment's extra headers, unsigned as LiteLLM adds them.
    fn post(
        &self,
        cx: &Ctx<'_>,
        keys: &Keys,
        url: &str,
        body: &Value,
        signed: &[(&str, &str)],
        provider: &str,
    ) -> Result<reqwest::RequestBuilder, LlmError> {
        let bytes = serde_json::to_vec(body).unwrap_or_default();
        let mut headers = vec![("content-type", "application/json")];
        headers.extend_from_slice(signed);
        let auth = aws::sigv4_headers(
            url,
            &bytes,
            &self.region,
            "sagemaker",
            keys,
            &headers,
            SystemTime::now(),
        )
        .map_err(|e| e.with_provider(provider))?;
        let mut rb = cx.http.post(url);
        for (k, v) in headers {
            rb = rb.header(k, v);
        }
        for (k, v) in auth {
            rb = rb.header(k, v);
        }
        if let Some(c) = param(cx.opts, "model_id") {
            rb = rb.header("x-amzn-sagemaker-inference-component", c);
        }
        for (k, v) in &cx.opts.extra_headers {
            rb = rb.header(k, v);
        }
        Ok(rb.body(bytes))
    }
}

/// LiteLLM's hint on an endpoint's inference-component errors.
fn with_hint(mut e: LlmError, call: &str) -> LlmError {
    if e.message
        .contains("Inference Component Name header is required")
    {
        e.message = format!(
            "{}\n pass in via `{call}(..., model_id={{InferenceComponentName}})`",
            e.message
        );
    } else if e
        .message
        .contains("Inference Component Name header is not allowed")
    {
        e.message = format!(
            "{}\n remove `model_id` from this deployment, the endpoint has no inference components",
            e.message
        );
    }
    e
}

impl SageMaker {
    pub const TGI: SageMaker = SageMaker { api: Api::Tgi };
    pub const CHAT: SageMaker = SageMaker { api: Api::Chat };

    fn provider(&self) -> &'static str {
        match self.api {
            Api::Tgi => NAME,
            Api::Chat => CHAT_NAME,
        }
    }

    /// The body, and the prompt it carries (TGI; for local usage counts).
    fn body(
        &self,
        req: &ChatCompletionRequest,
        opts: &CallOptions,
        stream: bool,
    ) -> Result<(Value, String), LlmError> {
        match self.api {
            Api::Tgi => request::tgi(req, opts, stream),
            Api::Chat => Ok((request::messages_api(req), String::new())),
        }
    }

    async fn call(
        &self,
        cx: &Ctx<'_>,
        req: &ChatCompletionRequest,
        stream: bool,
    ) -> Result<(reqwest::Response, String, String), LlmError> {
        let name = self.provider();
        let target = Target::from_options(cx.opts)?;
        let url = target.url(&req.model, stream)?;
        let (body, prompt) = self.body(req, cx.opts, stream)?;
        let keys = keys(cx, &target.region, name).await?;
        let rb = target.post(cx, &keys, &url, &body, &[], name)?;
        let res = if stream {
            send(rb, name, cx.opts.stream_wait(), false).await
        } else {
            send(rb, name, cx.opts.timeout, true).await
        }
        .map_err(|e| with_hint(e, "litellm.completion"))?;
        Ok((res, prompt, url))
    }
}

#[async_trait]
impl Provider for SageMaker {
    fn name(&self) -> &'static str {
        self.provider()
    }

    /// Neither of LiteLLM's SageMaker configs forwards `stream_options`.
    fn takes_stream_options(&self) -> bool {
        false
    }

    fn api_base(&self, opts: &CallOptions) -> String {
        match Target::from_options(opts) {
            Ok(t) => t.whole.unwrap_or(t.root),
            Err(_) => String::new(),
        }
    }

    async fn chat(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChatCompletionResponse>, LlmError> {
        let (res, prompt, url) = self.call(cx, &req, false).await?;
        let headers = header_pairs(res.headers());
        let body = match self.api {
            Api::Tgi => {
                let v: Value = json(res, NAME).await?;
                response::tgi_answer(&v, &prompt, &req.model)?
            }
            Api::Chat => json(res, CHAT_NAME).await?,
        };
        Ok(Response {
            body,
            headers,
            api_base: url,
        })
    }

    async fn chat_stream(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChunkStream>, LlmError> {
        let (res, prompt, url) = self.call(cx, &req, true).await?;
        let headers = header_pairs(res.headers());
        let idle = cx.opts.stream_wait();
        let body = match self.api {
            Api::Tgi => aws::eventstream::translated(
                res,
                idle,
                NAME,
                response::TgiStream::new(&req.model, prompt, req.include_usage()),
            ),
            Api::Chat => aws::eventstream::translated(
                res,
                idle,
                CHAT_NAME,
                response::ChatStream::new(&req.model),
            ),
        };
        Ok(Response {
            body,
            headers,
            api_base: url,
        })
    }

    /// InvokeEndpoint with `{"inputs": ...}` (Hugging Face / TEI containers), `accept_eula`
    /// as LiteLLM's boto3 call sets it.
    async fn embedding(
        &self,
        cx: &Ctx<'_>,
        req: EmbeddingRequest,
    ) -> Result<Response<EmbeddingResponse>, LlmError> {
        let name = self.provider();
        let target = Target::from_options(cx.opts)?;
        let url = target.url(&req.model, false)?;
        let body = request::embedding(&req)?;
        let signed = [("x-amzn-sagemaker-custom-attributes", "accept_eula=true")];
        let keys = keys(cx, &target.region, name).await?;
        let rb = target.post(cx, &keys, &url, &body, &signed, name)?;
        let res = send(rb, name, cx.opts.timeout, true)
            .await
            .map_err(|e| with_hint(e, "litellm.embedding"))?;
        let headers = header_pairs(res.headers());
        let v: Value = json(res, name).await?;
        let vectors = response::embedding_vectors(&v)?;
        let words: usize = req
            .input_texts()
            .iter()
            .map(|t| t.split_whitespace().count())
            .sum();
        Ok(Response {
            body: super::gemini::embedding_response(&req.model, vectors, words as u64),
            headers,
            api_base: url,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(extra: serde_json::Value) -> CallOptions {
        CallOptions {
            extra: serde_json::from_value(extra).unwrap(),
            ..Default::default()
        }
    }

    #[test]
    fn inference_component_errors_get_litellms_hint() {
        let e = LlmError::bad_request("Inference Component Name header is required for endpoint x");
        assert!(with_hint(e, "litellm.completion")
            .message
            .contains("model_id={InferenceComponentName}"));
        let e = LlmError::bad_request("other");
        assert_eq!(with_hint(e, "litellm.completion").message, "other");
    }

    #[test]
    fn urls_follow_litellm() {
        let o = opts(serde_json::json!({
            "aws_access_key_id": "AK", "aws_secret_access_key": "s", "aws_region_name": "eu-west-1"}));
        let t = Target::from_options(&o).unwrap();
        assert_eq!(
            t.url("my-endpoint", true).unwrap(),
            "https://runtime.sagemaker.eu-west-1.amazonaws.com/endpoints/my-endpoint/invocations-response-stream"
        );
        assert!(t.url("../x", false).is_err());
        assert!(t.url("a/b", false).is_err());
        let o = opts(serde_json::json!({
            "aws_access_key_id": "AK", "aws_secret_access_key": "s",
            "sagemaker_base_url": "https://proxy.example/x"}));
        let t = Target::from_options(&o).unwrap();
        assert_eq!(t.url("e", true).unwrap(), "https://proxy.example/x");
        let bad = opts(
            serde_json::json!({"aws_access_key_id": "AK", "aws_secret_access_key": "s", "aws_region_name": "x.evil/"}),
        );
        assert!(Target::from_options(&bad).is_err());
    }

    #[tokio::test]
    async fn missing_credentials_are_a_401() {
        // Tests run one per process (nextest): no ambient credentials anywhere.
        for v in [
            "AWS_ACCESS_KEY_ID",
            "AWS_PROFILE",
            "AWS_ROLE_ARN",
            "AWS_ROLE_NAME",
        ] {
            std::env::remove_var(v);
        }
        for v in ["AWS_SHARED_CREDENTIALS_FILE", "AWS_CONFIG_FILE"] {
            std::env::set_var(v, "/nonexistent/llmgate-aws-file");
        }
        std::env::remove_var("AWS_CONTAINER_CREDENTIALS_FULL_URI");
        std::env::remove_var("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
        let http = reqwest::Client::new();
        let o = opts(serde_json::json!({}));
        let cx = Ctx {
            http: &http,
            opts: &o,
        };
        let e = keys(&cx, "us-east-1", NAME).await.err().unwrap();
        assert_eq!((e.kind, e.status), (ErrorKind::Authentication, 401));
        assert!(e
            .message
            .starts_with("SagemakerException - Unable to locate credentials"));
    }
}
