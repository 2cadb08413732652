//! Vertex AI: Gemini (`publishers/google`), Claude (`publishers/anthropic`, rawPredict) and
//! text embeddings, on regional or global endpoints, with service-account auth.

pub mod auth;

use async_trait::async_trait;
use llmgate_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingRequest, EmbeddingResponse,
};
use serde_json::{json, Value};

use super::gemini::{self, Auth, Target};
use super::http::{header_pairs, json, send};
use super::{anthropic, Ctx, Provider};
use crate::client::Response;
use crate::stream::ChunkStream;
use crate::{CallOptions, LlmError};

const NAME: &str = "vertex_ai";
const DEFAULT_LOCATION: &str = "us-central1";
const CLAUDE_VERSION: &str = "vertex-2023-10-16";

pub struct Vertex;

fn param<'a>(opts: &'a CallOptions, names: &[&str]) -> Option<&'a Value> {
    names
        .iter()
        .find_map(|n| opts.extra.get(*n))
        .filter(|v| !v.is_null())
}

fn env(names: &[&str]) -> Option<String> {
    names
        .iter()
        .find_map(|n| std::env::var(n).ok().filter(|v| !v.is_empty()))
}

/// Where and as whom a call goes.
struct Site {
    project: String,
    location: String,
    base: String,
    token: String,
}

impl Site {
    async fn resolve(cx: &Ctx<'_>) -> Result<Site, LlmError> {
        let opts = cx.opts;
        let sa = auth::ServiceAccount::from_param(param(
            opts,
            &["vertex_credentials", "vertex_ai_credentials"],
        ))?;
        let project = param(opts, &["vertex_project", "vertex_ai_project"])
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| env(&["VERTEXAI_PROJECT", "VERTEX_PROJECT", "GOOGLE_CLOUD_PROJECT"]))
            .or_else(|| sa.as_ref().and_then(|s| s.project_id.clone()))
            .ok_or_else(|| {
                LlmError::bad_request(
                    "vertex_project is required (litellm_params or VERTEXAI_PROJECT)",
                )
                .with_provider(NAME)
            })?;
        let location = param(opts, &["vertex_location", "vertex_ai_location"])
            .and_then(Value::as_str)
            .map(str::to_string)
            .or_else(|| env(&["VERTEXAI_LOCATION", "VERTEX_LOCATION"]))
            .unwrap_or_else(|| DEFAULT_LOCATION.to_string());
        let base = match opts.api_base.as_deref().filter(|b| !b.is_empty()) {
            Some(b) => b.trim_end_matches('/').trim_end_matches("/v1").to_string(),
            None if location == "global" => "https://aiplatform.googleapis.com".to_string(),
            None => format!("https://{location}-aiplatform.googleapis.com"),
        };
        let token = match (&sa, &opts.api_key) {
            (Some(sa), _) => auth::access_token(cx.http, sa).await?,
            // A ready access token (from `gcloud auth print-access-token`) works too.
            (None, Some(t)) => t.clone(),
            (None, None) => {
                return Err(LlmError::new(crate::ErrorKind::Authentication, "no Vertex AI credentials: set vertex_credentials or GOOGLE_APPLICATION_CREDENTIALS").with_provider(NAME))
            }
        };
        Ok(Site {
            project,
            location,
            base,
            token,
        })
    }

    fn model_url(&self, publisher: &str, model: &str) -> String {
        format!(
            "{}/v1/projects/{}/locations/{}/publishers/{publisher}/models/{model}",
            self.base, self.project, self.location
        )
    }

    fn gemini(&self, model: &str) -> Target {
        Target {
            model_url: self.model_url("google", model),
            auth: Auth::Bearer(self.token.clone()),
            provider: NAME,
        }
    }
}

fn is_claude(model: &str) -> bool {
    model.starts_with("claude")
}

/// The Anthropic body as Vertex wants it: the model in the URL, the version in the body.
pub fn claude_body(req: &ChatCompletionRequest, opts: &CallOptions) -> Result<Value, LlmError> {
    let mut body = anthropic::request::build_with(req, &req.model, opts, false)
        .map_err(|e| e.with_provider(NAME))?;
    if let Some(o) = body.as_object_mut() {
        o.remove("model");
        o.insert("anthropic_version".into(), json!(CLAUDE_VERSION));
    }
    Ok(body)
}

fn post(cx: &Ctx<'_>, url: String, token: &str, body: &Value) -> reqwest::RequestBuilder {
    let mut rb = cx
        .http
        .post(url)
        .bearer_auth(token)
        .header("content-type", "application/json");
    for (k, v) in &cx.opts.extra_headers {
        rb = rb.header(k, v);
    }
    rb.body(serde_json::to_vec(body).unwrap_or_default())
}

#[async_trait]
impl Provider for Vertex {
    fn name(&self) -> &'static str {
        NAME
    }

    fn api_base(&self, opts: &CallOptions) -> String {
        opts.api_base
            .clone()
            .unwrap_or_else(|| "https://aiplatform.googleapis.com".into())
    }

    async fn chat(
        &self,
        cx: &Ctx<'_>,
        mut req: ChatCompletionRequest,
    ) -> Result<Response<ChatCompletionResponse>, LlmError> {
        let site = Site::resolve(cx).await?;
        if is_claude(&req.model) {
            req.stream = None;
            let body = claude_body(&req, cx.opts)?;
            let url = site.model_url("anthropic", &req.model);
            return anthropic::complete(
                cx,
                post(cx, format!("{url}:rawPredict"), &site.token, &body),
                NAME,
                url,
            )
            .await;
        }
        let t = site.gemini(&req.model);
        gemini::chat(cx, req, &t).await
    }

    async fn chat_stream(
        &self,
        cx: &Ctx<'_>,
        mut req: ChatCompletionRequest,
    ) -> Result<Response<ChunkStream>, LlmError> {
        let site = Site::resolve(cx).await?;
        if is_claude(&req.model) {
            req.stream = Some(true);
            let body = claude_body(&req, cx.opts)?;
            let url = site.model_url("anthropic", &req.model);
            let rb = post(cx, format!("{url}:streamRawPredict"), &site.token, &body);
            return anthropic::stream(cx, rb, NAME, url, req.include_usage()).await;
        }
        let t = site.gemini(&req.model);
        gemini::chat_stream(cx, req, &t).await
    }

    /// Text embedding models through `:predict`.
    async fn embedding(
        &self,
        cx: &Ctx<'_>,
        req: EmbeddingRequest,
    ) -> Result<Response<EmbeddingResponse>, LlmError> {
        let site = Site::resolve(cx).await?;
        let inputs = gemini::embedding_inputs(&req)?;
        let instances: Vec<Value> = inputs.iter().map(|t| json!({"content": t})).collect();
        let mut body = json!({"instances": instances});
        if let Some(d) = req.extra.get("dimensions") {
            body["parameters"] = json!({"outputDimensionality": d});
        }
        let url = site.model_url("google", &req.model);
        let res = send(
            post(cx, format!("{url}:predict"), &site.token, &body),
            NAME,
            cx.opts.timeout,
            true,
        )
        .await?;
        let headers = header_pairs(res.headers());
        let v: Value = json(res, NAME).await?;
        let preds = v["predictions"].as_array().cloned().unwrap_or_default();
        let tokens = preds
            .iter()
            .map(|p| {
                p["embeddings"]["statistics"]["token_count"]
                    .as_u64()
                    .unwrap_or(0)
            })
            .sum();
        let vectors = preds
            .iter()
            .map(|p| p["embeddings"]["values"].clone())
            .collect();
        Ok(Response {
            body: gemini::embedding_response(&req.model, vectors, tokens),
            headers,
            api_base: url,
        })
    }

    async fn count_tokens(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<u64, LlmError> {
        let site = Site::resolve(cx).await?;
        if is_claude(&req.model) {
            let body = anthropic::count_tokens_body(&req, &req.model, cx.opts)?;
            let url = format!("{}:rawPredict", site.model_url("anthropic", "count-tokens"));
            let res = send(
                post(cx, url, &site.token, &body),
                NAME,
                cx.opts.timeout,
                true,
            )
            .await?;
            let v: Value = json(res, NAME).await?;
            return Ok(v["input_tokens"].as_u64().unwrap_or(0));
        }
        gemini::count_tokens(cx, &req, &site.gemini(&req.model)).await
    }
}
