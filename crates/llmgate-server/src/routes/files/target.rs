//! Which upstream a file or batch call goes to, as LiteLLM chooses it: the deployment a model
//! names (`target_model_names`, the `x-litellm-model` header, a `model` form field or `?model=`,
//! a batch file's first line's `body.model` when it is a model group), else
//! `custom_llm_provider` (`openai`, the default, `azure`, `azure_ai`, `mistral`, `gemini` or
//! `vertex_ai`) with the environment's credentials (`OPENAI_API_BASE`/`OPENAI_API_KEY`,
//! `AZURE_API_BASE`/`AZURE_API_KEY`/`AZURE_API_VERSION`, `AZURE_AI_API_BASE`/`AZURE_AI_API_KEY`,
//! `MISTRAL_API_BASE`/`MISTRAL_API_KEY`, `GEMINI_API_BASE`/`GEMINI_API_KEY` (or
//! `GOOGLE_API_KEY`); Vertex's as its provider reads them). OpenAI, Azure, Azure AI Foundry
//! (`azure_ai/`: the Azure OpenAI files and batches API on the Foundry resource), Mistral
//! (`mistral.rs`), Gemini (`gemini.rs`), Vertex AI and Bedrock deployments serve files and
//! batches (Vertex through Cloud Storage: `vertex.rs`;
//! Bedrock through S3, a deployment only: its batch job needs the deployment's model).

use std::sync::Arc;

use axum::http::HeaderValue;

use crate::auth::AuthContext;
use crate::deployments::Deployment;
use crate::error::GatewayError;
use crate::state::AppState;

/// Mistral's API root (its files and batch paths carry `/v1`).
const MISTRAL_BASE: &str = "https://api.mistral.ai";

/// Google AI Studio's root (its files and batch paths carry `v1beta`).
const GEMINI_BASE: &str = "https://generativelanguage.googleapis.com";

/// Azure's API version when neither the deployment nor the environment names one.
const AZURE_DEFAULT_VERSION: &str = "2024-10-21";

#[derive(Clone)]
pub struct Target {
    /// `openai`, `azure`, `azure_ai`, `mistral`, `gemini`, `vertex_ai` or `bedrock`.
    pub provider: &'static str,
    base: String,
    key: String,
    api_version: Option<String>,
    /// The deployment (None: the provider's environment credentials).
    pub deployment: Option<Arc<Deployment>>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Gemini's key from the environment, in the order its chat provider reads them.
fn gemini_env_key() -> Option<String> {
    env("GEMINI_API_KEY").or_else(|| env("GOOGLE_API_KEY"))
}

/// Gemini's root from a base that may carry `/v1beta`, as chat's `api_base` does.
fn gemini_root(base: Option<String>) -> String {
    let base = base
        .or_else(|| env("GEMINI_API_BASE"))
        .unwrap_or_else(|| GEMINI_BASE.into());
    llmgate::providers::gemini::batch::api_root(&base).to_string()
}

impl Target {
    /// Its key in a file's `model_mappings`: the deployment id, or `provider:<name>`.
    pub fn mapping_key(&self) -> String {
        match &self.deployment {
            Some(d) => d.id.clone(),
            None => format!("provider:{}", self.provider),
        }
    }

    /// The target a `model_mappings` key names (None: the deployment is gone).
    pub fn from_mapping(state: &AppState, key: &str) -> Result<Option<Target>, GatewayError> {
        if let Some(p) = key.strip_prefix("provider:") {
            return Target::provider(p).map(Some);
        }
        let deployments = state.deployments();
        match deployments.all().iter().find(|d| d.id == key) {
            Some(d) => Target::of(d).map(Some),
            None => Ok(None),
        }
    }

    /// A provider with the environment's credentials.
    pub fn provider(name: &str) -> Result<Target, GatewayError> {
        let missing = |var: &str| {
            GatewayError::BadRequest(format!(
                "no credentials for custom_llm_provider={name}: set {var} or name a model (x-litellm-model, `model`, target_model_names)"
            ))
        };
        match name {
            "openai" => Ok(Target {
                provider: "openai",
                base: env("OPENAI_API_BASE").unwrap_or_else(|| "https://api.openai.com/v1".into()),
                key: env("OPENAI_API_KEY").ok_or_else(|| missing("OPENAI_API_KEY"))?,
                api_version: None,
                deployment: None,
            }),
            "azure" => Ok(Target {
                provider: "azure",
                base: env("AZURE_API_BASE").ok_or_else(|| missing("AZURE_API_BASE"))?,
                key: env("AZURE_API_KEY").ok_or_else(|| missing("AZURE_API_KEY"))?,
                api_version: env("AZURE_API_VERSION"),
                deployment: None,
            }),
            "azure_ai" => Ok(Target {
                provider: "azure_ai",
                base: env("AZURE_AI_API_BASE").ok_or_else(|| missing("AZURE_AI_API_BASE"))?,
                key: env("AZURE_AI_API_KEY").ok_or_else(|| missing("AZURE_AI_API_KEY"))?,
                api_version: None,
                deployment: None,
            }),
            "mistral" => Ok(Target {
                provider: "mistral",
                base: env("MISTRAL_API_BASE").unwrap_or_else(|| MISTRAL_BASE.into()),
                key: env("MISTRAL_API_KEY").ok_or_else(|| missing("MISTRAL_API_KEY"))?,
                api_version: None,
                deployment: None,
            }),
            "gemini" => Ok(Target {
                provider: "gemini",
                base: gemini_root(None),
                key: gemini_env_key().ok_or_else(|| missing("GEMINI_API_KEY"))?,
                api_version: None,
                deployment: None,
            }),
            "vertex_ai" => Ok(Target::vertex(None)),
            "bedrock" => Err(GatewayError::BadRequest(
                "custom_llm_provider=bedrock needs a Bedrock model: name one (target_model_names, x-litellm-model, `model`) whose deployment has s3_bucket_name and aws_batch_role_arn".into(),
            )),
            other => Err(GatewayError::BadRequest(format!(
                "custom_llm_provider={other:?} is not supported for files and batches: use openai, azure, azure_ai, mistral, gemini or vertex_ai (or name a model)"
            ))),
        }
    }

    /// Vertex AI: a deployment, or the environment's project and credentials. Its calls are
    /// made by `vertex.rs` (Cloud Storage and batchPredictionJobs), not by [`Target::request`].
    fn vertex(deployment: Option<Arc<Deployment>>) -> Target {
        Target::storage("vertex_ai", deployment)
    }

    /// A provider whose files the gateway writes to a bucket itself (`vertex.rs`, `bedrock.rs`).
    fn storage(provider: &'static str, deployment: Option<Arc<Deployment>>) -> Target {
        Target {
            provider,
            base: String::new(),
            key: String::new(),
            api_version: None,
            deployment,
        }
    }

    pub fn is_vertex(&self) -> bool {
        self.provider == "vertex_ai"
    }

    pub fn is_bedrock(&self) -> bool {
        self.provider == "bedrock"
    }

    pub fn is_mistral(&self) -> bool {
        self.provider == "mistral"
    }

    pub fn is_gemini(&self) -> bool {
        self.provider == "gemini"
    }

    /// Whether the gateway translates its files and batches to and from OpenAI's (the batch
    /// JSONL rewritten on upload, the output read and rewritten here; chat batches only):
    /// Vertex AI, Bedrock and Gemini.
    pub fn translates(&self) -> bool {
        self.is_storage() || self.is_gemini()
    }

    /// The provider as messages name it.
    pub fn display_name(&self) -> &'static str {
        match self.provider {
            "vertex_ai" => "Vertex AI",
            "bedrock" => "Bedrock",
            "azure" => "Azure",
            "azure_ai" => "Azure AI",
            "mistral" => "Mistral",
            "gemini" => "Gemini",
            _ => "OpenAI",
        }
    }

    /// Whether its files are objects in a bucket the gateway writes (Vertex AI, Bedrock).
    pub fn is_storage(&self) -> bool {
        self.is_vertex() || self.is_bedrock()
    }

    /// A batch id as this target's calls take it: a job ARN on Bedrock, Gemini's bare batch
    /// id, else an OpenAI-style id.
    pub fn batch_id<'a>(&self, id: &'a str) -> Result<&'a str, GatewayError> {
        if self.is_bedrock() {
            llmgate::providers::bedrock::batch::job_arn(id)
                .map_err(|e| GatewayError::Llm(e.with_provider("bedrock")))
        } else if self.is_gemini() {
            llmgate::providers::gemini::batch::batch_id(id).map_err(GatewayError::Llm)
        } else {
            object_id(id)
        }
    }

    /// The provider settings its calls are made with (the environment's without a deployment).
    pub fn opts(&self) -> llmgate::CallOptions {
        self.deployment
            .as_ref()
            .map(|d| d.opts.clone())
            .unwrap_or_default()
    }

    /// A provider id as this target's calls take it: a `gs://` URI on Vertex, an `s3://` URI
    /// on Bedrock, a `files/{id}` name on Gemini, else an OpenAI-style id.
    pub fn provider_id<'a>(&self, id: &'a str) -> Result<&'a str, GatewayError> {
        if self.is_vertex() {
            super::vertex::gs_parts(id).map(|_| id)
        } else if self.is_bedrock() {
            super::bedrock::s3_parts(id).map(|_| id)
        } else if self.is_gemini() {
            match llmgate::providers::gemini::batch::file_name(id) {
                Ok(name) if name == id => Ok(id),
                _ => Err(GatewayError::BadRequest(format!(
                    "{id:?} is not a valid Gemini file name"
                ))),
            }
        } else {
            object_id(id)
        }
    }

    /// A deployment's target.
    pub fn of(d: &Arc<Deployment>) -> Result<Target, GatewayError> {
        // LiteLLM hands an OpenAI model under `azure_ai/` to Azure OpenAI; its files and
        // batches are that API on the Foundry resource, with Azure AI's credentials.
        let provider = match d.provider.as_str() {
            _ if d.model.starts_with("azure_ai/") => "azure_ai",
            "openai" => "openai",
            "azure" => "azure",
            "mistral" => "mistral",
            "gemini" => "gemini",
            "vertex_ai" => return Ok(Target::vertex(Some(d.clone()))),
            "bedrock" => return Ok(Target::storage("bedrock", Some(d.clone()))),
            other => {
                return Err(GatewayError::BadRequest(format!(
                    "model {:?} is served by {other}, which has no files or batches API in llmgate (OpenAI, Azure, Azure AI, Mistral, Gemini, Vertex AI and Bedrock do)",
                    d.model_name
                )))
            }
        };
        let api_base = d.opts.api_base.clone().filter(|b| !b.is_empty());
        let base = if provider == "gemini" {
            Some(gemini_root(api_base))
        } else {
            api_base
        };
        let base = base
            .or_else(|| match provider {
                "openai" => Some("https://api.openai.com/v1".to_string()),
                "azure_ai" => env("AZURE_AI_API_BASE"),
                "mistral" => Some(env("MISTRAL_API_BASE").unwrap_or_else(|| MISTRAL_BASE.into())),
                _ => None,
            })
            .ok_or_else(|| {
                GatewayError::BadRequest(format!("model {:?} has no api_base", d.model_name))
            })?;
        let key = d
            .opts
            .api_key
            .clone()
            .filter(|k| !k.is_empty())
            .or_else(|| match provider {
                "azure" => env("AZURE_API_KEY"),
                "azure_ai" => env("AZURE_AI_API_KEY"),
                "mistral" => env("MISTRAL_API_KEY"),
                "gemini" => gemini_env_key(),
                _ => env("OPENAI_API_KEY"),
            })
            .ok_or_else(|| {
                GatewayError::BadRequest(format!("model {:?} has no api_key", d.model_name))
            })?;
        Ok(Target {
            provider,
            base,
            key,
            api_version: d.opts.api_version.clone(),
            deployment: Some(d.clone()),
        })
    }

    /// The deployment serving `model` for this caller (its access checked).
    pub async fn for_model(
        state: &AppState,
        auth: &AuthContext,
        model: &str,
    ) -> Result<Target, GatewayError> {
        let deployments = state.deployments();
        if let Some(key) = &auth.key {
            crate::governance::access::check(&state.gov, &deployments, key, model).await?;
        }
        let d = deployments
            .group(model)
            .and_then(|g| g.first().cloned())
            .ok_or_else(|| GatewayError::UnknownModel {
                route: "files",
                model: model.to_string(),
            })?;
        Target::of(&d)
    }

    /// The URL of `path` (`files`, `batches/{id}`, ...) on this target.
    pub fn url(&self, path: &str) -> Result<reqwest::Url, GatewayError> {
        if self.is_storage() {
            return Err(GatewayError::Internal(format!(
                "{path} is not a {} path",
                self.provider
            )));
        }
        let base = self.base.trim_end_matches('/');
        let text = match self.provider {
            // A Foundry base may name its inference path (`/models`, as chat's does).
            "azure" | "azure_ai" => {
                let base = base.trim_end_matches("/models").trim_end_matches("/openai");
                let version = self
                    .api_version
                    .clone()
                    .or_else(|| env("AZURE_API_VERSION"))
                    .unwrap_or_else(|| AZURE_DEFAULT_VERSION.into());
                format!("{base}/openai/{path}?api-version={version}")
            }
            "mistral" => format!(
                "{}/v1/{path}",
                llmgate::providers::openai_compat::mistral_batch::api_root(base)
            ),
            // Gemini's paths name their own version (`v1beta/...`, `upload/v1beta/files`).
            _ => format!("{base}/{path}"),
        };
        reqwest::Url::parse(&text)
            .map_err(|_| GatewayError::Internal(format!("bad upstream URL for {path}")))
    }

    /// A request to `path` with the target's credentials.
    pub fn request(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        path: &str,
    ) -> Result<reqwest::RequestBuilder, GatewayError> {
        self.authorized(http.request(method, self.url(path)?))
    }

    /// Whether `url` is on this target's host (scheme, host and port): where an upstream
    /// may send the gateway next (Gemini's resumable upload URL).
    pub fn same_origin(&self, url: &reqwest::Url) -> bool {
        self.url("").is_ok_and(|base| base.origin() == url.origin())
    }

    /// `rb` with the target's credentials.
    pub fn authorized(
        &self,
        rb: reqwest::RequestBuilder,
    ) -> Result<reqwest::RequestBuilder, GatewayError> {
        let value = |v: String| {
            HeaderValue::from_str(&v).map_err(|_| {
                GatewayError::Internal("the upstream key is not a header value".into())
            })
        };
        Ok(match self.provider {
            "azure" | "azure_ai" => rb.header("api-key", value(self.key.clone())?),
            "gemini" => rb.header("x-goog-api-key", value(self.key.clone())?),
            _ => rb.header("authorization", value(format!("Bearer {}", self.key))?),
        })
    }
}

/// A provider object id as it goes into a URL path: the characters OpenAI's ids use (long
/// enough for the base64 of an object URI: a batch output's id).
pub fn object_id(id: &str) -> Result<&str, GatewayError> {
    if !id.is_empty()
        && id.len() <= 1536
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b))
    {
        Ok(id)
    } else {
        Err(GatewayError::BadRequest(format!(
            "{id:?} is not a valid file or batch id"
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn azure_ai(base: &str) -> Target {
        Target {
            provider: "azure_ai",
            base: base.into(),
            key: "aai-key".into(),
            api_version: None,
            deployment: None,
        }
    }

    #[test]
    fn azure_ai_is_azures_files_api_on_the_foundry_resource() {
        for base in [
            "https://r.services.ai.azure.com",
            "https://r.services.ai.azure.com/models",
            "https://r.services.ai.azure.com/openai/",
        ] {
            let url = azure_ai(base).url("batches/batch_1").unwrap();
            assert_eq!(
                url.as_str(),
                format!("https://r.services.ai.azure.com/openai/batches/batch_1?api-version={AZURE_DEFAULT_VERSION}")
            );
        }
        let rb = azure_ai("https://r.services.ai.azure.com")
            .request(&reqwest::Client::new(), reqwest::Method::GET, "files")
            .unwrap()
            .build()
            .unwrap();
        assert_eq!(rb.headers()["api-key"], "aai-key");
        assert!(!rb.headers().contains_key("authorization"));
    }
}
