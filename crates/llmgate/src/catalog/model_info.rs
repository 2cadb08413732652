//! One catalog entry: read from llmgate's data file or LiteLLM's map, written out with
//! LiteLLM's `model_info` keys (as `/model/info` returns them).

use serde::ser::SerializeMap;
use serde::{Deserialize, Serialize, Serializer};
use serde_json::{Map, Value};

/// Declares the per-token prices once: the struct fields, their short names in llmgate's data
/// file and their LiteLLM keys (the field names themselves).
macro_rules! prices {
    ($($field:ident => $short:literal),* $(,)?) => {
        /// Prices in USD per token (per query for `input_cost_per_query`); `None` when the catalog
        /// does not know one.
        #[derive(Clone, Debug, Default, PartialEq)]
        pub struct Prices {
            $(pub $field: Option<f64>,)*
        }

        impl Prices {
            /// Sets the price a key names (LiteLLM's or the data file's short name);
            /// false for a key that is not a price.
            pub fn set(&mut self, key: &str, value: f64) -> bool {
                match key {
                    $($short | stringify!($field) => self.$field = Some(value),)*
                    _ => return false,
                }
                true
            }

            fn entries(&self) -> impl Iterator<Item = (&'static str, f64)> + '_ {
                [$((stringify!($field), self.$field)),*]
                    .into_iter()
                    .filter_map(|(k, v)| v.map(|v| (k, v)))
            }
        }
    };
}

prices! {
    input_cost_per_token => "in",
    output_cost_per_token => "out",
    cache_read_input_token_cost => "cache_read",
    cache_creation_input_token_cost => "cache_write",
    cache_creation_input_token_cost_above_1hr => "cache_write_1h",
    input_cost_per_token_above_200k_tokens => "in_200k",
    output_cost_per_token_above_200k_tokens => "out_200k",
    cache_read_input_token_cost_above_200k_tokens => "cache_read_200k",
    output_cost_per_reasoning_token => "reasoning",
    input_cost_per_audio_token => "audio_in",
    output_cost_per_audio_token => "audio_out",
    // Realtime models: cached input audio.
    cache_read_input_audio_token_cost => "cache_read_audio",
    // Per query (a rerank search unit), not per token: LiteLLM's key for rerank models.
    input_cost_per_query => "query",
    // The media endpoints' units: per image, per pixel, per image token, per second of
    // audio, per character of text spoken.
    input_cost_per_image => "image_in",
    output_cost_per_image => "image_out",
    input_cost_per_pixel => "pixel_in",
    output_cost_per_pixel => "pixel_out",
    input_cost_per_image_token => "image_token_in",
    output_cost_per_image_token => "image_token_out",
    input_cost_per_second => "second_in",
    output_cost_per_second => "second_out",
    input_cost_per_character => "char_in",
    // The Batches API's per-token prices (absent: half the token price, as LiteLLM's
    // `batch_cost_calculator` falls back).
    input_cost_per_token_batches => "batch_in",
    output_cost_per_token_batches => "batch_out",
}

/// Capabilities, reported as LiteLLM's `supports_<name>` flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Feature {
    FunctionCalling,
    ParallelFunctionCalling,
    ToolChoice,
    Vision,
    ResponseSchema,
    Reasoning,
    PromptCaching,
    SystemMessages,
    PdfInput,
    AudioInput,
    AudioOutput,
    WebSearch,
    ComputerUse,
    AssistantPrefill,
    NativeStreaming,
    /// Anthropic's `output_format` JSON schemas (structured outputs).
    NativeStructuredOutput,
}

impl Feature {
    const ALL: [(Feature, &'static str); 16] = [
        (Feature::FunctionCalling, "function_calling"),
        (
            Feature::ParallelFunctionCalling,
            "parallel_function_calling",
        ),
        (Feature::ToolChoice, "tool_choice"),
        (Feature::Vision, "vision"),
        (Feature::ResponseSchema, "response_schema"),
        (Feature::Reasoning, "reasoning"),
        (Feature::PromptCaching, "prompt_caching"),
        (Feature::SystemMessages, "system_messages"),
        (Feature::PdfInput, "pdf_input"),
        (Feature::AudioInput, "audio_input"),
        (Feature::AudioOutput, "audio_output"),
        (Feature::WebSearch, "web_search"),
        (Feature::ComputerUse, "computer_use"),
        (Feature::AssistantPrefill, "assistant_prefill"),
        (Feature::NativeStreaming, "native_streaming"),
        (Feature::NativeStructuredOutput, "native_structured_output"),
    ];

    fn bit(self) -> u32 {
        1 << (self as u32)
    }

    fn from_name(name: &str) -> Option<Feature> {
        Feature::ALL
            .iter()
            .find(|(_, n)| *n == name)
            .map(|(f, _)| *f)
    }
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct ModelInfo {
    /// The catalog key (`gpt-4o`, `groq/llama-3.1-8b-instant`).
    pub key: String,
    /// LiteLLM's provider name (`openai`, `vertex_ai-language-models`, ...).
    pub litellm_provider: String,
    /// `chat`, `completion`, `embedding`, `responses`, `rerank`, `image_generation`,
    /// `image_edit`, `audio_transcription`, `audio_speech`, `moderation`.
    pub mode: String,
    pub max_input_tokens: Option<u64>,
    pub max_output_tokens: Option<u64>,
    pub prices: Prices,
    supports: u32,
    pub deprecation_date: Option<String>,
    /// The `reasoning_effort` levels the model takes, when the catalog lists them (LiteLLM's
    /// `reasoning_effort_levels`); `None`: no opinion.
    pub reasoning_efforts: Option<Vec<String>>,
}

impl std::ops::Deref for ModelInfo {
    type Target = Prices;
    fn deref(&self) -> &Prices {
        &self.prices
    }
}

impl std::ops::DerefMut for ModelInfo {
    fn deref_mut(&mut self) -> &mut Prices {
        &mut self.prices
    }
}

impl ModelInfo {
    /// An entry with no known price or limits, for a deployment that sets its own prices.
    pub fn unpriced(model: &str) -> ModelInfo {
        let (provider, _) = model.split_once('/').unwrap_or(("", model));
        ModelInfo {
            key: model.to_string(),
            litellm_provider: provider.to_string(),
            mode: "chat".into(),
            ..Default::default()
        }
    }

    /// The adapter's provider name: LiteLLM splits some providers into several map groups.
    pub fn provider(&self) -> &str {
        let p = self.litellm_provider.as_str();
        if p.starts_with("vertex_ai") {
            "vertex_ai"
        } else if let Some(base) = p.strip_suffix("-embedding-models") {
            base
        } else {
            p
        }
    }

    pub fn supports(&self, f: Feature) -> bool {
        self.supports & f.bit() != 0
    }

    pub fn set_supports(&mut self, f: Feature, on: bool) {
        if on {
            self.supports |= f.bit();
        } else {
            self.supports &= !f.bit();
        }
    }

    /// Builds an entry from LiteLLM's map format (`model_prices_and_context_window.json`).
    pub fn from_litellm(key: &str, v: &Map<String, Value>) -> ModelInfo {
        let mut m = ModelInfo {
            key: key.to_string(),
            litellm_provider: str_of(v, "litellm_provider").unwrap_or_default(),
            mode: str_of(v, "mode").unwrap_or_else(|| "chat".into()),
            max_input_tokens: v.get("max_input_tokens").and_then(Value::as_u64),
            max_output_tokens: v
                .get("max_output_tokens")
                .or_else(|| v.get("max_tokens"))
                .and_then(Value::as_u64),
            deprecation_date: str_of(v, "deprecation_date"),
            reasoning_efforts: v
                .get("reasoning_effort_levels")
                .and_then(Value::as_array)
                .map(|a| {
                    a.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_string)
                        .collect()
                }),
            ..Default::default()
        };
        for (k, val) in v {
            if let Some(price) = val.as_f64() {
                m.prices.set(k, price);
            } else if let (Some(name), Some(true)) = (k.strip_prefix("supports_"), val.as_bool()) {
                if let Some(f) = Feature::from_name(name) {
                    m.set_supports(f, true);
                }
            }
        }
        m
    }
}

fn str_of(v: &Map<String, Value>, k: &str) -> Option<String> {
    v.get(k).and_then(Value::as_str).map(str::to_string)
}

/// A row of llmgate's data file.
#[derive(Deserialize)]
struct Row {
    name: String,
    provider: String,
    #[serde(default)]
    mode: Option<String>,
    #[serde(default)]
    context: Option<u64>,
    #[serde(default)]
    max_output: Option<u64>,
    #[serde(default)]
    usd_per_token: Map<String, Value>,
    #[serde(default)]
    supports: Vec<String>,
    #[serde(default)]
    deprecated: Option<String>,
    #[serde(default)]
    efforts: Option<Vec<String>>,
}

impl<'de> Deserialize<'de> for ModelInfo {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let row = Row::deserialize(d)?;
        let mut m = ModelInfo {
            key: row.name,
            litellm_provider: row.provider,
            mode: row.mode.unwrap_or_else(|| "chat".into()),
            max_input_tokens: row.context,
            max_output_tokens: row.max_output,
            deprecation_date: row.deprecated,
            reasoning_efforts: row.efforts,
            ..Default::default()
        };
        for (k, v) in &row.usd_per_token {
            let price = v
                .as_f64()
                .ok_or_else(|| serde::de::Error::custom(format!("price {k} is not a number")))?;
            if !m.prices.set(k, price) {
                return Err(serde::de::Error::custom(format!("unknown price {k}")));
            }
        }
        for f in &row.supports {
            let f = Feature::from_name(f)
                .ok_or_else(|| serde::de::Error::custom(format!("unknown feature {f}")))?;
            m.set_supports(f, true);
        }
        Ok(m)
    }
}

impl Serialize for ModelInfo {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("key", &self.key)?;
        map.serialize_entry("litellm_provider", &self.litellm_provider)?;
        map.serialize_entry("mode", &self.mode)?;
        map.serialize_entry("max_tokens", &self.max_output_tokens)?;
        map.serialize_entry("max_input_tokens", &self.max_input_tokens)?;
        map.serialize_entry("max_output_tokens", &self.max_output_tokens)?;
        for (k, v) in self.prices.entries() {
            map.serialize_entry(k, &v)?;
        }
        for (f, name) in Feature::ALL {
            map.serialize_entry(&format!("supports_{name}"), &self.supports(f))?;
        }
        if let Some(d) = &self.deprecation_date {
            map.serialize_entry("deprecation_date", d)?;
        }
        if let Some(e) = &self.reasoning_efforts {
            map.serialize_entry("reasoning_effort_levels", e)?;
        }
        map.end()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn data_rows_read_and_litellm_keys_written() {
        let m: ModelInfo = serde_json::from_value(json!({
            "name": "gpt-4o", "provider": "openai", "mode": "chat", "context": 128000,
            "max_output": 16384, "usd_per_token": {"in": 2.5e-6, "out": 1e-5, "cache_read": 1.25e-6},
            "supports": ["vision", "function_calling"]
        }))
        .unwrap();
        assert_eq!(m.cache_read_input_token_cost, Some(1.25e-6));
        assert!(m.supports(Feature::Vision));
        assert!(!m.supports(Feature::Reasoning));
        let v = serde_json::to_value(&m).unwrap();
        assert_eq!(v["input_cost_per_token"], 2.5e-6);
        assert_eq!(v["max_input_tokens"], 128000);
        assert_eq!(v["max_tokens"], 16384);
        assert_eq!(v["supports_vision"], true);
        assert_eq!(v["supports_reasoning"], false);
    }

    #[test]
    fn unknown_price_names_are_rejected() {
        let r: Result<ModelInfo, _> = serde_json::from_value(
            json!({"name": "x", "provider": "openai", "usd_per_token": {"bogus": 1.0}}),
        );
        assert!(r.is_err());
    }
}
