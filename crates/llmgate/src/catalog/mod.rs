//! The model catalog: prices, context windows and capabilities per model.
//!
//! The embedded data file (`data/catalog.json`, llmgate's own format) is parsed once on first
//! use. At start the gateway may replace it with (or extend it by) a map in LiteLLM's JSON
//! format, as `LITELLM_MODEL_COST_MAP_URL` does for LiteLLM.

mod cost;
mod litellm;
mod model_info;

// foldhash, not SipHash: these maps are read on every request and keyed by config or hashes.
use hashbrown::HashMap;
use std::sync::{Arc, OnceLock, RwLock};

use serde::Deserialize;

pub use cost::{batch_cost, cost, CostInput};
pub use litellm::{load_litellm_override, parse_litellm_map, CatalogLoadError};
pub use model_info::{Feature, ModelInfo};

static EMBEDDED: &str = include_str!("../../data/catalog.json");

/// Models by the name LiteLLM's map uses (`gpt-4o`, `groq/llama-3.1-8b-instant`, ...).
#[derive(Clone, Debug, Default)]
pub struct Catalog {
    models: HashMap<String, ModelInfo>,
}

impl Catalog {
    /// The catalog shipped in the binary.
    pub fn embedded() -> Catalog {
        #[derive(Deserialize)]
        struct File {
            models: Vec<ModelInfo>,
        }
        // The file is generated and checked by a unit test; a parse failure is a build defect.
        let file: File = serde_json::from_str(EMBEDDED).expect("embedded catalog is valid");
        Catalog::from_models(file.models)
    }

    pub fn from_models(models: impl IntoIterator<Item = ModelInfo>) -> Catalog {
        Catalog {
            models: models.into_iter().map(|m| (m.key.clone(), m)).collect(),
        }
    }

    pub fn len(&self) -> usize {
        self.models.len()
    }

    pub fn is_empty(&self) -> bool {
        self.models.is_empty()
    }

    /// Adds or replaces entries, the later source winning.
    pub fn extend(&mut self, other: Catalog) {
        self.models.extend(other.models);
    }

    /// Looks a model up as LiteLLM does: the exact name first, then without its provider
    /// prefix (`openai/gpt-4o` → `gpt-4o`).
    pub fn get(&self, model: &str) -> Option<&ModelInfo> {
        if let Some(m) = self.models.get(model) {
            return Some(m);
        }
        let (_, rest) = model.split_once('/')?;
        self.models.get(rest)
    }

    /// The entry named exactly `name` (no prefix stripped).
    pub fn get_exact(&self, name: &str) -> Option<&ModelInfo> {
        self.models.get(name)
    }

    /// The entry for `model` served by `provider`, preferring `provider/model`.
    pub fn get_for(&self, provider: &str, model: &str) -> Option<&ModelInfo> {
        self.models
            .get(&format!("{provider}/{model}"))
            .or_else(|| self.get(model))
    }

    /// The provider that serves a bare model name (`gpt-4o` → `openai`).
    pub fn provider_of(&self, model: &str) -> Option<&str> {
        self.models.get(model).map(|m| m.provider())
    }

    pub fn iter(&self) -> impl Iterator<Item = &ModelInfo> {
        self.models.values()
    }
}

fn slot() -> &'static RwLock<Arc<Catalog>> {
    static GLOBAL: OnceLock<RwLock<Arc<Catalog>>> = OnceLock::new();
    GLOBAL.get_or_init(|| RwLock::new(Arc::new(Catalog::embedded())))
}

/// The process-wide catalog.
pub fn global() -> Arc<Catalog> {
    slot().read().unwrap_or_else(|e| e.into_inner()).clone()
}

/// Replaces the process-wide catalog.
pub fn install(catalog: Catalog) {
    *slot().write().unwrap_or_else(|e| e.into_inner()) = Arc::new(catalog);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn embedded_catalog_covers_the_providers() {
        let c = Catalog::embedded();
        assert!(c.len() > 1000);
        for (model, provider) in [
            ("gpt-4o", "openai"),
            ("groq/openai/gpt-oss-20b", "groq"),
            ("deepseek/deepseek-chat", "deepseek"),
            ("mistral/mistral-large-3", "mistral"),
            ("text-embedding-3-small", "openai"),
            (
                "bedrock/us.anthropic.claude-3-5-sonnet-20240620-v1:0",
                "bedrock",
            ),
            ("amazon.nova-pro-v1:0", "bedrock"),
        ] {
            let m = c.get(model).unwrap_or_else(|| panic!("{model} missing"));
            assert_eq!(m.provider(), provider, "{model}");
            assert!(m.input_cost_per_token.is_some(), "{model} has a price");
        }
        let m = c.get("openai/gpt-4o").unwrap();
        assert_eq!(m.max_input_tokens, Some(128_000));
        assert_eq!(m.input_cost_per_token, Some(2.5e-6));
        assert_eq!(c.provider_of("gpt-4o"), Some("openai"));
        assert_eq!(c.provider_of("nope"), None);
    }
}
