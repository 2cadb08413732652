//! The router for SDK users: a LiteLLM model list in, calls out, with the same retries,
//! fallbacks and cooldowns as the gateway.
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use llmgate::router::{SdkRouter, Settings};
//! let list = serde_json::json!([
//!   {"model_name": "gpt", "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-1"}},
//!   {"model_name": "gpt", "litellm_params": {"model": "azure/gpt-4o", "api_base": "https://x.openai.azure.com"}}
//! ]);
//! let router = SdkRouter::from_model_list(&list, Settings::default())?;
//! let req = llmgate::ChatCompletionRequest { model: "gpt".into(), ..Default::default() };
//! let answer = router.chat(req).await?;
//! # Ok(()) }
//! ```

use std::future::Future;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde_json::{Map, Value};

use super::{Ask, Next, Params, Registry, Router, Settings};
use crate::{
    CallOptions, ChatCompletionRequest, ChatCompletionResponse, ChunkStream, Client,
    EmbeddingRequest, EmbeddingResponse, LlmError, RerankRequest, RerankResponse, Response,
};

/// A deployment as the SDK calls it: the provider model and its call options.
#[derive(Debug, Clone)]
pub struct Deployment {
    pub model: String,
    pub opts: CallOptions,
}

impl Deployment {
    /// From a model-list entry's `litellm_params`.
    pub fn from_litellm_params(p: &Map<String, Value>) -> Deployment {
        let s = |k: &str| p.get(k).and_then(Value::as_str).map(str::to_string);
        let secs = |k: &str| {
            p.get(k)
                .and_then(Value::as_f64)
                .filter(|f| f.is_finite() && *f >= 0.0)
                .map(Duration::from_secs_f64)
        };
        const OWN: &[&str] = &[
            "model",
            "api_base",
            "api_key",
            "api_version",
            "organization",
            "timeout",
            "stream_timeout",
            "mock_response",
            "extra_headers",
            "drop_params",
            "weight",
            "rpm",
            "tpm",
            "order",
            "tags",
            "max_retries",
            "cooldown_time",
        ];
        let extra = p
            .iter()
            .filter(|(k, _)| !OWN.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        Deployment {
            model: s("model").unwrap_or_default(),
            opts: CallOptions {
                api_base: s("api_base"),
                api_key: s("api_key"),
                api_version: s("api_version"),
                organization: s("organization"),
                timeout: secs("timeout"),
                stream_timeout: secs("stream_timeout"),
                extra_headers: p
                    .get("extra_headers")
                    .and_then(Value::as_object)
                    .map(|h| {
                        h.iter()
                            .filter_map(|(k, v)| Some((k.clone(), v.as_str()?.to_string())))
                            .collect()
                    })
                    .unwrap_or_default(),
                drop_params: p
                    .get("drop_params")
                    .and_then(Value::as_bool)
                    .unwrap_or(false),
                mock_response: p.get("mock_response").cloned(),
                extra,
            },
        }
    }
}

pub struct SdkRouter {
    router: Router<Deployment>,
    client: Client,
}

impl SdkRouter {
    /// From LiteLLM's `model_list` (a list of `{model_name, litellm_params, model_info}`).
    pub fn from_model_list(list: &Value, settings: Settings) -> Result<SdkRouter, String> {
        let entries = list.as_array().ok_or("model_list must be a list")?;
        let empty = Map::new();
        let mut deployments = Vec::new();
        for (i, e) in entries.iter().enumerate() {
            let name = e
                .get("model_name")
                .and_then(Value::as_str)
                .ok_or_else(|| format!("model_list[{i}] has no model_name"))?;
            let p = e
                .get("litellm_params")
                .and_then(Value::as_object)
                .ok_or_else(|| format!("model_list[{i}] has no litellm_params"))?;
            let info = e
                .get("model_info")
                .and_then(Value::as_object)
                .unwrap_or(&empty);
            let id = info
                .get("id")
                .and_then(Value::as_str)
                .map(str::to_string)
                .unwrap_or_else(|| format!("{name}-{i}"));
            let top = e.as_object().unwrap_or(&empty);
            let params = Params::from_entry(&id, name, p, info, top);
            deployments.push((Arc::new(Deployment::from_litellm_params(p)), params));
        }
        Ok(SdkRouter {
            router: Router::new(
                Arc::new(settings),
                Arc::new(Registry::default()),
                deployments,
            ),
            client: Client::new(),
        })
    }

    pub fn router(&self) -> &Router<Deployment> {
        &self.router
    }

    pub async fn chat(
        &self,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChatCompletionResponse>, LlmError> {
        let name = req.model.clone();
        self.run(
            &name,
            |d, model| {
                let mut r = req.clone();
                r.model = model;
                let client = self.client.clone();
                async move { client.chat(r, &d.opts).await }
            },
            |a| a.usage.as_ref().map(|u| u.total_tokens),
        )
        .await
    }

    /// A stream; retries and fallbacks apply until the upstream has answered.
    pub async fn chat_stream(
        &self,
        req: ChatCompletionRequest,
    ) -> Result<Response<ChunkStream>, LlmError> {
        let name = req.model.clone();
        self.run(
            &name,
            |d, model| {
                let mut r = req.clone();
                r.model = model;
                let client = self.client.clone();
                async move { client.chat_stream(r, &d.opts).await }
            },
            |_| None,
        )
        .await
    }

    pub async fn embedding(
        &self,
        req: EmbeddingRequest,
    ) -> Result<Response<EmbeddingResponse>, LlmError> {
        let name = req.model.clone();
        self.run(
            &name,
            |d, model| {
                let mut r = req.clone();
                r.model = model;
                let client = self.client.clone();
                async move { client.embedding(r, &d.opts).await }
            },
            |a| a.usage.as_ref().map(|u| u.total_tokens),
        )
        .await
    }

    pub async fn rerank(&self, req: RerankRequest) -> Result<Response<RerankResponse>, LlmError> {
        let name = req.model.clone();
        self.run(
            &name,
            |d, model| {
                let mut r = req.clone();
                r.model = model;
                let client = self.client.clone();
                async move { client.rerank(r, &d.opts).await }
            },
            |a| Some(a.usage().total_tokens),
        )
        .await
    }

    /// Attempts `call` on the group's deployments: retries, then fallbacks, as the router
    /// decides after each failure.
    async fn run<T, F, Fut>(
        &self,
        name: &str,
        call: F,
        tokens: impl Fn(&T) -> Option<u64>,
    ) -> Result<Response<T>, LlmError>
    where
        F: Fn(Arc<Deployment>, String) -> Fut,
        Fut: Future<Output = Result<Response<T>, LlmError>>,
    {
        let r = &self.router;
        let mut at = r.attempts(name);
        loop {
            let ask = Ask {
                exclude: at.tried(),
                ..Ask::default()
            };
            let pick = match r.pick(at.group(), ask) {
                Ok(p) => p,
                Err(e) => match at.after(r, None, &e, &|_| true) {
                    Next::Fallback { .. } => continue,
                    _ => return Err(at.final_error(r, e)),
                },
            };
            at.attempted(&pick.member.params.id);
            let t0 = Instant::now();
            match call(pick.target().clone(), pick.model.clone()).await {
                Ok(answer) => {
                    let latency = t0.elapsed().as_secs_f64();
                    r.succeeded(&pick.member, Some(latency), tokens(&answer.body));
                    return Ok(answer);
                }
                Err(e) => {
                    r.failed(&pick.member, &e);
                    match at.after(r, Some(&pick.member), &e, &|_| true) {
                        Next::Retry { delay } => tokio::time::sleep(delay).await,
                        Next::Fallback { .. } => {}
                        Next::Stop => return Err(at.final_error(r, e)),
                    }
                }
            }
        }
    }
}
