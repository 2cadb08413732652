//! Reading LiteLLM's model map (`model_prices_and_context_window.json`) from a file or URL.

use serde_json::Value;

use super::{Catalog, ModelInfo};

#[derive(Debug, thiserror::Error)]
pub enum CatalogLoadError {
    #[error("cannot read {0}: {1}")]
    Read(String, String),
    #[error("{0} is not a LiteLLM model map: {1}")]
    Format(String, String),
}

/// Parses a map in LiteLLM's format; entries that are not objects (and `sample_spec`) are skipped.
pub fn parse_litellm_map(text: &str) -> Result<Catalog, String> {
    let v: Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
    let obj = v.as_object().ok_or("the top level is not a JSON object")?;
    Ok(Catalog::from_models(obj.iter().filter_map(|(k, v)| {
        let entry = v.as_object()?;
        (k != "sample_spec").then(|| ModelInfo::from_litellm(k, entry))
    })))
}

/// Loads `src` (an `http(s)://` URL, a `file://` URL or a path) and returns the embedded catalog
/// extended by it: its entries win, models it lacks keep their embedded facts.
pub async fn load_litellm_override(src: &str) -> Result<Catalog, CatalogLoadError> {
    let text = if src.starts_with("http://") || src.starts_with("https://") {
        let res = reqwest::get(src)
            .await
            .and_then(|r| r.error_for_status())
            .map_err(|e| CatalogLoadError::Read(src.into(), e.to_string()))?;
        res.text()
            .await
            .map_err(|e| CatalogLoadError::Read(src.into(), e.to_string()))?
    } else {
        let path = src.strip_prefix("file://").unwrap_or(src);
        tokio::fs::read_to_string(path)
            .await
            .map_err(|e| CatalogLoadError::Read(src.into(), e.to_string()))?
    };
    let loaded = parse_litellm_map(&text).map_err(|e| CatalogLoadError::Format(src.into(), e))?;
    let mut catalog = Catalog::embedded();
    catalog.extend(loaded);
    Ok(catalog)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_litellm_map_file_extends_the_catalog() {
        let dir = std::env::temp_dir().join(format!("llmgate-cat-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("map.json");
        std::fs::write(
            &path,
            r#"{"sample_spec": {"max_tokens": "set to max"},
                "my-model": {"litellm_provider": "openai", "mode": "chat", "max_input_tokens": 9000,
                             "input_cost_per_token": 1e-6, "output_cost_per_token": 2e-6,
                             "supports_vision": true},
                "gpt-4o": {"litellm_provider": "openai", "mode": "chat", "input_cost_per_token": 9e-6}}"#,
        )
        .unwrap();
        let c = load_litellm_override(path.to_str().unwrap()).await.unwrap();
        let m = c.get("my-model").unwrap();
        assert_eq!(m.max_input_tokens, Some(9000));
        assert!(m.supports(super::super::Feature::Vision));
        assert_eq!(c.get("gpt-4o").unwrap().input_cost_per_token, Some(9e-6));
        assert!(c.get("groq/openai/gpt-oss-20b").is_some());
        assert!(load_litellm_override("/no/such/file.json").await.is_err());
    }
}
