//! Vertex AI: Gemini (`publishers/google`), Claude (`publishers/anthropic`, rawPredict) and
//! text embeddings, on regional or global endpoints, with service-account auth.

pub mod auth;
pub mod batch;
mod messages;
pub mod speech;

use async_trait::async_trait;
use llmgate_types::{
    ChatCompletionRequest, ChatCompletionResponse, EmbeddingRequest, EmbeddingResponse,
};
use serde_json::{json, Value};

use super::gemini::{self, Auth, Target};
use super::http::{header_pairs, json, path_segment, send, SegmentKind};
use super::{anthropic, Ctx, Provider};
use crate::response::Response;
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
        Self::resolve_in(cx, DEFAULT_LOCATION).await
    }

    /// As [`Site::resolve`], with `default_location` where the deployment names none (LiteLLM
    /// defaults some APIs elsewhere: Gemini transcription to `global`).
    async fn resolve_in(cx: &Ctx<'_>, default_location: &str) -> Result<Site, LlmError> {
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
            .unwrap_or_else(|| default_location.to_string());
        // Both are interpolated too, the location even into the host.
        for name in [&project, &location] {
            path_segment(name, SegmentKind::Segment).map_err(|e| e.with_provider(NAME))?;
        }
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

    /// The model's URL (before `:method`).
    /// A full resource name must name the deployment's own project and location: a client's
    /// model name never sends the operator's token to another project.
    fn model_url(&self, m: &Model) -> Result<String, LlmError> {
        if let Some((project, location)) = &m.scope {
            if *project != self.project || *location != self.location {
                return Err(LlmError::bad_request(format!(
                    "the model names project {project:?} in {location:?}; this deployment serves {:?} in {:?}",
                    self.project, self.location
                ))
                .with_provider(NAME));
            }
        }
        Ok(format!(
            "{}/v1/projects/{}/locations/{}/{}",
            self.base, self.project, self.location, m.path
        ))
    }

    fn gemini(&self, m: &Model) -> Result<Target, LlmError> {
        Ok(Target {
            model_url: self.model_url(m)?,
            auth: Auth::Bearer(self.token.clone()),
            provider: NAME,
        })
    }
}

/// Where a deployment's Vertex AI Live socket is and as whom: its API base (no `/v1`), project,
/// location and an access token, resolved as for any Vertex call.
pub struct LiveSite {
    pub base: String,
    pub project: String,
    pub location: String,
    pub token: String,
}

pub async fn live_site(http: &reqwest::Client, opts: &CallOptions) -> Result<LiveSite, LlmError> {
    let site = Site::resolve(&Ctx { http, opts }).await?;
    Ok(LiveSite {
        base: site.base,
        project: site.project,
        location: site.location,
        token: site.token,
    })
}

/// Where a deployment's Gemini `model` is served natively on Vertex AI (its URL up to the
/// model, and an access token), for a gateway relaying Google's own `generateContent` bodies.
/// A Claude model (Anthropic's protocol) is refused.
pub async fn native_target(
    http: &reqwest::Client,
    opts: &CallOptions,
    model: &str,
) -> Result<Target, LlmError> {
    let m = Model::parse(model)?;
    if m.claude {
        return Err(LlmError::bad_request(format!(
            "{model:?} speaks Anthropic's protocol on Vertex AI, not generateContent"
        ))
        .with_provider(NAME));
    }
    let site = Site::resolve(&Ctx { http, opts }).await?;
    site.gemini(&m)
}

/// Whether `model` (a deployment's) takes Google's `generateContent` body natively: Gemini
/// and tuned models do, Claude (Anthropic's protocol on Vertex) does not.
pub fn speaks_generate_content(model: &str) -> bool {
    Model::parse(model).is_ok_and(|m| !m.claude)
}

/// A client's model name, checked, as the resource path it names on Vertex.
#[derive(Debug, PartialEq)]
struct Model {
    /// The project and location a full resource name gave (they must be the deployment's).
    scope: Option<(String, String)>,
    /// `publishers/google/models/gemini-1.5-pro`, `endpoints/123`, ...
    path: String,
    /// Anthropic's protocol (`publishers/anthropic`) rather than Gemini's.
    claude: bool,
}

impl Model {
    /// Accepts what Vertex names models by: a publisher model id (`gemini-1.5-pro`,
    /// `claude-3-5-sonnet@20240620`), a tuned model's endpoint id (digits, as LiteLLM), and
    /// their resource names (`publishers/{p}/models/{id}`, `endpoints/{id}`, both also under
    /// `projects/{p}/locations/{l}/`). Anything else is a 400 before auth or any call.
    fn parse(name: &str) -> Result<Model, LlmError> {
        let bad = || {
            LlmError::bad_request(format!(
                "{name:?} is not a Vertex AI model name (an id, publishers/{{p}}/models/{{id}} or endpoints/{{id}})"
            ))
            .with_provider(NAME)
        };
        let checked =
            path_segment(name, SegmentKind::Resource).map_err(|e| e.with_provider(NAME))?;
        let parts: Vec<&str> = checked.split('/').collect();
        let (scope, rest) = match parts.as_slice() {
            ["projects", p, "locations", l, rest @ ..] => {
                (Some((p.to_string(), l.to_string())), rest)
            }
            rest => (None, rest),
        };
        let path = rest.join("/");
        let (path, claude) = match (scope.is_none(), rest) {
            (true, [id]) if id.bytes().all(|b| b.is_ascii_digit()) => {
                (format!("endpoints/{id}"), false)
            }
            (true, [id]) => {
                let publisher = if is_claude(id) { "anthropic" } else { "google" };
                (format!("publishers/{publisher}/models/{id}"), is_claude(id))
            }
            (_, ["endpoints", _]) => (path, false),
            (_, ["publishers", publisher, "models", _]) => (path, *publisher == "anthropic"),
            _ => return Err(bad()),
        };
        Ok(Model {
            scope,
            path,
            claude,
        })
    }

    /// The model id Anthropic's body names (the last segment).
    fn id(&self) -> &str {
        self.path.rsplit('/').next().unwrap_or_default()
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
        o.shift_remove("model");
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

/// A Claude request as LiteLLM sends it to Vertex: Anthropic's headers on top of Google's auth
/// (the access token again as `x-api-key`, which Vertex ignores).
fn post_claude(cx: &Ctx<'_>, url: String, token: &str, body: &Value) -> reqwest::RequestBuilder {
    post(cx, url, token, body)
        .header("anthropic-version", "2023-06-01")
        .header("x-api-key", token)
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
        let model = Model::parse(&req.model)?;
        let site = Site::resolve(cx).await?;
        if model.claude {
            req.stream = None;
            // Anthropic's request (and the catalog) know the bare id, not the resource name.
            req.model = model.id().to_string();
            let body = claude_body(&req, cx.opts)?;
            let url = site.model_url(&model)?;
            return anthropic::complete(
                cx,
                post_claude(cx, format!("{url}:rawPredict"), &site.token, &body),
                NAME,
                url,
            )
            .await
            .map_err(gemini::errors::litellm_class);
        }
        let t = site.gemini(&model)?;
        gemini::chat(cx, req, &t).await
    }

    async fn chat_stream(
        &self,
        cx: &Ctx<'_>,
        mut req: ChatCompletionRequest,
    ) -> Result<Response<ChunkStream>, LlmError> {
        let model = Model::parse(&req.model)?;
        let site = Site::resolve(cx).await?;
        if model.claude {
            req.stream = Some(true);
            // Anthropic's request (and the catalog) know the bare id, not the resource name.
            req.model = model.id().to_string();
            let body = claude_body(&req, cx.opts)?;
            let url = site.model_url(&model)?;
            let rb = post_claude(
                cx,
                format!("{url}:streamRawPredict?alt=sse"),
                &site.token,
                &body,
            );
            return anthropic::stream(cx, rb, NAME, url, req.include_usage())
                .await
                .map_err(gemini::errors::litellm_class);
        }
        let t = site.gemini(&model)?;
        gemini::chat_stream(cx, req, &t).await
    }

    /// Imagen through `:predict`, Gemini image models through `:generateContent`.
    async fn image_generation(
        &self,
        cx: &Ctx<'_>,
        req: llmgate_types::ImageGenerationRequest,
    ) -> Result<Response<llmgate_types::ImageResponse>, LlmError> {
        let model = Model::parse(&req.model)?;
        if model.claude {
            return Err(self.unsupported("image generation with Claude"));
        }
        let site = Site::resolve(cx).await?;
        let t = site.gemini(&model)?;
        gemini::images::generate(cx, req, &t, true).await
    }

    /// Gemini TTS models through `:generateContent`, any other model through Cloud
    /// Text-to-Speech (`speech.rs`), as LiteLLM routes them.
    async fn speech(
        &self,
        cx: &Ctx<'_>,
        req: llmgate_types::SpeechRequest,
    ) -> Result<Response<crate::media::Audio>, LlmError> {
        let model = Model::parse(&req.model)?;
        if model.claude {
            return Err(self.unsupported("audio/speech with Claude"));
        }
        if !req.model.contains("gemini") {
            return speech::synthesize(cx, req).await;
        }
        let site = Site::resolve(cx).await?;
        gemini::speech::speak(cx, req, &site.gemini(&model)?).await
    }

    /// Gemini transcription models through `:generateContent`, any other model (Chirp)
    /// through Speech-to-Text v2, as LiteLLM routes them; no translations.
    async fn audio_form(
        &self,
        cx: &Ctx<'_>,
        kind: crate::media::FormKind,
        req: crate::media::FormRequest,
    ) -> Result<Response<crate::media::Transcript>, LlmError> {
        if kind != crate::media::FormKind::Transcription {
            return Err(self.unsupported(kind.path()));
        }
        let model = Model::parse(&req.model)?;
        let id = model.id().to_ascii_lowercase();
        if model.claude {
            return Err(self.unsupported("audio/transcriptions with Claude"));
        }
        if !(id.starts_with("gemini-") && id.contains("transcribe")) {
            return speech::recognize(cx, model.id(), &req.form).await;
        }
        // LiteLLM's Gemini transcription location is `global` unless the deployment names one.
        let site = Site::resolve_in(cx, "global").await?;
        gemini::transcribe::vertex(cx, &req.form, &site.gemini(&model)?).await
    }

    /// Gemini image models through `:generateContent`, Imagen through `:predict`.
    async fn image_form(
        &self,
        cx: &Ctx<'_>,
        kind: crate::media::FormKind,
        req: crate::media::FormRequest,
    ) -> Result<Response<llmgate_types::ImageResponse>, LlmError> {
        if kind != crate::media::FormKind::ImageEdit {
            return Err(self.unsupported(kind.path()));
        }
        let model = Model::parse(&req.model)?;
        if model.claude {
            return Err(self.unsupported("image edits with Claude"));
        }
        let site = Site::resolve(cx).await?;
        gemini::edits::edit(cx, &req.model, &req.form, &site.gemini(&model)?, true).await
    }

    /// Text embedding models through `:predict`.
    async fn embedding(
        &self,
        cx: &Ctx<'_>,
        req: EmbeddingRequest,
    ) -> Result<Response<EmbeddingResponse>, LlmError> {
        let model = Model::parse(&req.model)?;
        let inputs = gemini::embedding_inputs(&req)?;
        let site = Site::resolve(cx).await?;
        // As LiteLLM: `task_type` and `title` on each instance, `parameters` always sent.
        let instances: Vec<Value> = inputs
            .iter()
            .map(|t| {
                let mut i = json!({"content": t});
                for k in ["task_type", "title"] {
                    if let Some(v) = req.extra.get(k).filter(|v| !v.is_null()) {
                        i[k] = v.clone();
                    }
                }
                i
            })
            .collect();
        let mut parameters = serde_json::Map::new();
        if let Some(d) = req
            .dimensions
            .map(|d| json!(d))
            .or_else(|| req.extra.get("dimensions").cloned())
        {
            parameters.insert("outputDimensionality".into(), d);
        }
        if let Some(t) = req.extra.get("auto_truncate").filter(|v| !v.is_null()) {
            parameters.insert("autoTruncate".into(), t.clone());
        }
        let body = json!({"instances": instances, "parameters": parameters});
        let url = site.model_url(&model)?;
        let res = send(
            post(cx, format!("{url}:predict"), &site.token, &body),
            NAME,
            cx.opts.timeout,
            true,
        )
        .await
        .map_err(gemini::errors::litellm_class)?;
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
        let mut body = gemini::embedding_response(&req.model, vectors, tokens);
        if let (Some(u), Some(chars)) = (
            body.usage.as_mut(),
            v["metadata"]["billableCharacterCount"].as_u64(),
        ) {
            // What Google bills text embeddings by.
            u.prompt_tokens_details = Some(llmgate_types::PromptTokensDetails {
                extra: [("character_count".to_string(), json!(chars))]
                    .into_iter()
                    .collect(),
                ..Default::default()
            });
        }
        Ok(Response {
            body,
            headers,
            api_base: url,
        })
    }

    fn counts_tokens(&self) -> bool {
        true
    }

    fn speaks_messages(&self, model: &str) -> bool {
        Model::parse(model).is_ok_and(|m| m.claude)
    }

    async fn messages(
        &self,
        cx: &Ctx<'_>,
        body: Value,
    ) -> Result<Response<crate::messages::MessagesAnswer>, LlmError> {
        let model = body["model"].as_str().unwrap_or_default().to_string();
        messages::complete(cx, &model, body).await
    }

    async fn messages_stream(
        &self,
        cx: &Ctx<'_>,
        body: Value,
    ) -> Result<Response<crate::messages::EventStream>, LlmError> {
        let model = body["model"].as_str().unwrap_or_default().to_string();
        messages::stream(cx, &model, body).await
    }

    async fn count_tokens(
        &self,
        cx: &Ctx<'_>,
        req: ChatCompletionRequest,
    ) -> Result<u64, LlmError> {
        let model = Model::parse(&req.model)?;
        let site = Site::resolve(cx).await?;
        if model.claude {
            let body = anthropic::count_tokens_body(&req, model.id(), cx.opts)?;
            let counter = Model::parse("publishers/anthropic/models/count-tokens")?;
            let url = format!("{}:rawPredict", site.model_url(&counter)?);
            let res = send(
                post(cx, url, &site.token, &body),
                NAME,
                cx.opts.timeout,
                true,
            )
            .await
            .map_err(gemini::errors::litellm_class)?;
            let v: Value = json(res, NAME).await?;
            return Ok(v["input_tokens"].as_u64().unwrap_or(0));
        }
        gemini::count_tokens(cx, &req, &site.gemini(&model)?).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_gemini_models_take_generate_content_natively() {
        assert!(speaks_generate_content("gemini-2.5-pro"));
        assert!(speaks_generate_content("1234567890"));
        assert!(!speaks_generate_content("claude-sonnet-4-5"));
        assert!(!speaks_generate_content(
            "publishers/anthropic/models/claude-3-opus@20240229"
        ));
    }

    #[test]
    fn model_names_become_resource_paths() {
        let scoped = |path: &str, claude| Model {
            scope: None,
            path: path.into(),
            claude,
        };
        let cases = [
            (
                "gemini-1.5-pro",
                scoped("publishers/google/models/gemini-1.5-pro", false),
            ),
            (
                "claude-3-5-sonnet@20240620",
                scoped(
                    "publishers/anthropic/models/claude-3-5-sonnet@20240620",
                    true,
                ),
            ),
            ("1234567890", scoped("endpoints/1234567890", false)),
            ("endpoints/42", scoped("endpoints/42", false)),
            (
                "publishers/google/models/gemini-1.5-pro",
                scoped("publishers/google/models/gemini-1.5-pro", false),
            ),
            (
                "publishers/anthropic/models/claude-3-opus@20240229",
                scoped("publishers/anthropic/models/claude-3-opus@20240229", true),
            ),
            (
                "projects/p/locations/l/endpoints/123",
                Model {
                    scope: Some(("p".into(), "l".into())),
                    path: "endpoints/123".into(),
                    claude: false,
                },
            ),
        ];
        for (name, want) in cases {
            assert_eq!(Model::parse(name).unwrap(), want, "{name}");
        }
        for name in [
            "../../v1/evil",
            "x?alt=evil",
            "x%2F..%2Fevil",
            "x#frag",
            "gemini-pro:streamGenerateContent",
            "models/gemini-pro",
            "projects/p/locations/l/123",
            "publishers/google/models/a/b",
            "projects/p/locations/l/publishers/google/models/x/../../../../evil",
        ] {
            let e = Model::parse(name).unwrap_err();
            assert_eq!(
                (e.kind, e.status),
                (crate::ErrorKind::BadRequest, 400),
                "{name}"
            );
        }
    }
}
