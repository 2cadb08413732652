//! Provider adapters behind one trait, and the `provider/model` resolution that picks one.

pub mod anthropic;
pub mod aws;
pub mod azure;
mod batch_output;
pub mod bedrock;
pub mod chat_body;
pub mod cohere;
pub mod fetch;
pub mod gemini;
pub mod http;
pub mod jina;
mod lean_post;
pub mod ollama;
pub mod openai_compat;
pub mod prompts;
mod provider;
pub mod retrieval;
pub mod sagemaker;
pub mod token_cache;
pub mod vertex;
pub mod voyage;
pub mod watsonx;

pub use provider::{Ctx, Provider};

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use crate::LlmError;

/// A model string resolved to its adapter.
#[derive(Clone)]
pub struct Resolved {
    pub provider: Arc<dyn Provider>,
    /// The model name the upstream expects.
    pub model: String,
}

fn registry() -> &'static HashMap<&'static str, Arc<dyn Provider>> {
    static REG: OnceLock<HashMap<&'static str, Arc<dyn Provider>>> = OnceLock::new();
    REG.get_or_init(|| {
        let mut m: HashMap<&'static str, Arc<dyn Provider>> = HashMap::new();
        for spec in openai_compat::table::all() {
            m.insert(spec.name, Arc::new(openai_compat::OpenAiCompat::new(spec)));
        }
        m.insert("anthropic", Arc::new(anthropic::Anthropic));
        m.insert("bedrock", Arc::new(bedrock::Bedrock));
        m.insert("cohere", Arc::new(cohere::Cohere::COHERE));
        m.insert("cohere_chat", Arc::new(cohere::Cohere::CHAT));
        m.insert("gemini", Arc::new(gemini::Gemini));
        m.insert("vertex_ai", Arc::new(vertex::Vertex));
        m.insert("ollama", Arc::new(ollama::Ollama::GENERATE));
        m.insert("ollama_chat", Arc::new(ollama::Ollama::CHAT));
        m.insert("sagemaker", Arc::new(sagemaker::SageMaker::TGI));
        m.insert("sagemaker_chat", Arc::new(sagemaker::SageMaker::CHAT));
        m.insert("watsonx", Arc::new(watsonx::Watsonx::CHAT));
        m.insert("watsonx_text", Arc::new(watsonx::Watsonx::TEXT));
        m.insert("voyage", Arc::new(voyage::Voyage));
        m.insert("jina_ai", Arc::new(jina::Jina));
        m
    })
}

/// Looks an adapter up by its prefix.
pub fn provider(name: &str) -> Option<Arc<dyn Provider>> {
    registry().get(name).cloned()
}

/// The prefixes we know, for documentation and `/model/info`.
pub fn provider_names() -> Vec<&'static str> {
    let mut v: Vec<_> = registry().keys().copied().collect();
    v.sort_unstable();
    v
}

/// Resolves `provider/model` (or a bare name the catalog knows) the way LiteLLM does.
/// `custom_llm_provider` (a litellm_param) wins over the prefix.
pub fn resolve(model: &str, custom_llm_provider: Option<&str>) -> Result<Resolved, LlmError> {
    if let Some(p) = custom_llm_provider.and_then(provider) {
        let bare = model
            .strip_prefix(p.name())
            .and_then(|m| m.strip_prefix('/'))
            .unwrap_or(model);
        return Ok(Resolved {
            provider: p,
            model: bare.to_string(),
        });
    }
    if let Some((prefix, rest)) = model.split_once('/') {
        if let Some(p) = provider(prefix) {
            if rest.is_empty() {
                return Err(LlmError::bad_request(format!(
                    "model '{model}' names no model after the provider prefix"
                )));
            }
            // LiteLLM's `AzureAIStudioConfig` hands an OpenAI model named under `azure_ai/`
            // to Azure OpenAI (its deployment path).
            let p = match provider("azure") {
                Some(azure) if prefix == "azure_ai" && is_openai_model(rest) => azure,
                _ => p,
            };
            return Ok(Resolved {
                provider: p,
                model: rest.to_string(),
            });
        }
    }
    let catalog = crate::catalog::global();
    if let Some(p) = catalog.provider_of(model).and_then(provider) {
        return Ok(Resolved {
            provider: p,
            model: model.to_string(),
        });
    }
    Err(LlmError::bad_request(format!(
        "LLM Provider NOT provided. Pass in the LLM provider you are trying to call. You passed model={model}\n Pass model as E.g. For 'Huggingface' inference endpoints pass in `completion(model='huggingface/starcoder',..)` Learn more: https://docs.litellm.ai/docs/providers"
    )))
}

/// A model LiteLLM lists among OpenAI's own (chat, text completion, embedding).
fn is_openai_model(model: &str) -> bool {
    crate::catalog::global().provider_of(model) == Some("openai")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    #[test]
    fn prefixes_pick_the_adapter() {
        let r = resolve("groq/llama-3.1-8b-instant", None).unwrap();
        assert_eq!(r.provider.name(), "groq");
        assert_eq!(r.model, "llama-3.1-8b-instant");
        let r = resolve("openrouter/anthropic/claude-3.5-sonnet", None).unwrap();
        assert_eq!(r.provider.name(), "openrouter");
        assert_eq!(r.model, "anthropic/claude-3.5-sonnet");
        let r = resolve("my-model", Some("hosted_vllm")).unwrap();
        assert_eq!(r.provider.name(), "hosted_vllm");
        assert_eq!(r.model, "my-model");
    }

    #[test]
    fn azure_ai_openai_models_go_to_azure_openai() {
        let r = resolve("azure_ai/gpt-4o", None).unwrap();
        assert_eq!(r.provider.name(), "azure");
        assert_eq!(r.model, "gpt-4o");
        let r = resolve("azure_ai/Llama-3.3-70B-Instruct", None).unwrap();
        assert_eq!(r.provider.name(), "azure_ai");
    }

    #[test]
    fn bare_catalog_names_resolve() {
        let r = resolve("gpt-4o", None).unwrap();
        assert_eq!(r.provider.name(), "openai");
        assert_eq!(r.model, "gpt-4o");
    }

    #[test]
    fn unknown_provider_is_a_bad_request() {
        let e = resolve("nope-not-a-model", None).err().unwrap();
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert!(e.message.contains("LLM Provider NOT provided"));
    }

    #[test]
    fn table_has_at_least_twenty_rows() {
        assert!(openai_compat::table::PROVIDERS.len() >= 20);
    }
}
