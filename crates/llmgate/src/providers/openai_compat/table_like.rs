//! The OpenAI-compatible vendors LiteLLM defines as JSON (its `openai_like` providers), and
//! the OpenAI-compatible serving APIs (Databricks, Hugging Face, Cloudflare Workers AI): one
//! row each, like [`super::table`].
//! `max_tokens_only` is set where LiteLLM renames `max_completion_tokens` to `max_tokens`.

use serde_json::{Map, Value};

use super::table::{row as base_row, CompatSpec};
use crate::providers::http::{path_segment, SegmentKind};

/// What LiteLLM's JSON definition asks beyond base URL and key, applied to chat bodies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Special {
    /// `convert_content_list_to_string`: each message's text parts joined into one string.
    pub flatten_content: bool,
    /// `constraints.temperature_max`: a higher `temperature` is clamped to it.
    pub temperature_max: Option<f64>,
    /// `max_tokens` sent as `max_completion_tokens` (the reverse of most rows' mapping).
    pub max_completion_tokens: bool,
    /// `cache_control` marks removed from messages and tools (LiteLLM keeps them only where
    /// the definition says `preserve_cache_control`).
    pub strip_cache_control: bool,
    /// Assistant turns sent without `reasoning_content`/`thinking_blocks`, and no
    /// `stream_options` (Databricks: LiteLLM leaves both out, silently).
    pub strip_reasoning: bool,
    /// `tool_choice` allowed wherever tools are (not only where the catalog marks it).
    pub tool_choice_with_tools: bool,
    /// Cloudflare Workers AI: without a base, the account's OpenAI-compatible endpoint from
    /// `CLOUDFLARE_ACCOUNT_ID`; a native `/ai/run` base rewritten to `/ai/v1`, as LiteLLM.
    pub cloudflare_base: bool,
    /// Hugging Face: a TGI endpoint's base gets `/v1` (a full `/chat/completions` URL is
    /// taken as it is), as LiteLLM builds it.
    pub huggingface_base: bool,
}

/// What every JSON-defined row gets unless its definition says otherwise.
const JSON: Special = Special {
    strip_cache_control: true,
    tool_choice_with_tools: true,
    ..Special::NONE
};

impl Special {
    pub const NONE: Special = Special {
        flatten_content: false,
        temperature_max: None,
        max_completion_tokens: false,
        strip_cache_control: false,
        strip_reasoning: false,
        tool_choice_with_tools: false,
        cloudflare_base: false,
        huggingface_base: false,
    };

    /// The base URL as the vendor needs it (`base` as configured; empty when none is).
    pub(super) fn rebase(&self, base: String) -> Result<String, crate::LlmError> {
        if self.huggingface_base && !base.is_empty() {
            let trimmed = base.trim_end_matches('/');
            return Ok(match trimmed.strip_suffix("/chat/completions") {
                Some(root) => root.to_string(),
                None if trimmed.ends_with("/v1") => trimmed.to_string(),
                None => format!("{trimmed}/v1"),
            });
        }
        if !self.cloudflare_base {
            return Ok(base);
        }
        if base.is_empty() {
            let Some(account) = std::env::var("CLOUDFLARE_ACCOUNT_ID")
                .ok()
                .filter(|a| !a.is_empty())
            else {
                return Err(crate::LlmError::bad_request(
                    "Missing CLOUDFLARE_ACCOUNT_ID - set CLOUDFLARE_ACCOUNT_ID in the environment or pass api_base explicitly",
                ));
            };
            let account = path_segment(&account, SegmentKind::Segment)?;
            return Ok(format!(
                "https://api.cloudflare.com/client/v4/accounts/{account}/ai/v1"
            ));
        }
        let trimmed = base.trim_end_matches('/');
        Ok(match trimmed.strip_suffix("/ai/run") {
            Some(root) => format!("{root}/ai/v1"),
            None => base,
        })
    }

    pub(super) fn apply(&self, map: &mut Map<String, Value>) {
        if let (Some(max), Some(t)) = (
            self.temperature_max,
            map.get("temperature").and_then(Value::as_f64),
        ) {
            if t > max {
                map.insert("temperature".into(), max.into());
            }
        }
        if self.max_completion_tokens {
            if let Some(m) = map.shift_remove("max_tokens") {
                map.entry("max_completion_tokens").or_insert(m);
            }
        }
        if self.strip_cache_control {
            for key in ["messages", "tools"] {
                if let Some(v) = map.get_mut(key) {
                    without_cache_control(v);
                }
            }
        }
        let messages = map.get_mut("messages").and_then(Value::as_array_mut);
        for m in messages.into_iter().flatten() {
            if self.flatten_content {
                flatten(m);
            }
            if self.strip_reasoning {
                if let Some(o) = m.as_object_mut() {
                    o.shift_remove("reasoning_content");
                    o.shift_remove("thinking_blocks");
                }
            }
        }
        if self.strip_reasoning {
            map.shift_remove("stream_options");
        }
    }
}

/// Every `cache_control` key removed, at any depth.
fn without_cache_control(v: &mut Value) {
    match v {
        Value::Object(o) => {
            o.shift_remove("cache_control");
            o.values_mut().for_each(without_cache_control);
        }
        Value::Array(a) => a.iter_mut().for_each(without_cache_control),
        _ => {}
    }
}

/// LiteLLM's content-list flattening: the text parts concatenated; a message without text
/// (only images, say) is left as it was.
fn flatten(message: &mut Value) {
    let Some(parts) = message.get("content").and_then(Value::as_array) else {
        return;
    };
    let text: String = parts
        .iter()
        .filter_map(|p| p.get("text").and_then(Value::as_str))
        .collect();
    if !text.is_empty() {
        message["content"] = Value::String(text);
    }
}

/// A JSON-defined row: as LiteLLM's generated config, `user` left out, tools only for models
/// the catalog marks as calling functions, `reasoning_effort` only for reasoning models.
const fn row(
    name: &'static str,
    base_url: &'static str,
    key_env: &'static [&'static str],
    base_env: &'static str,
) -> CompatSpec {
    CompatSpec {
        sends_user: false,
        reasoning_gated: true,
        tools_gated: true,
        special: JSON,
        ..base_row(name, base_url, key_env, base_env)
    }
}

/// A JSON-defined row whose `max_completion_tokens` passes through as it is.
const fn gpt(
    name: &'static str,
    base_url: &'static str,
    key_env: &'static [&'static str],
    base_env: &'static str,
) -> CompatSpec {
    CompatSpec {
        max_tokens_only: false,
        ..row(name, base_url, key_env, base_env)
    }
}

pub static JSON_LIKE: &[CompatSpec] = &[
    CompatSpec {
        special: Special {
            flatten_content: true,
            ..JSON
        },
        ..row(
            "publicai",
            "https://api.publicai.co/v1",
            &["PUBLICAI_API_KEY"],
            "PUBLICAI_API_BASE",
        )
    },
    gpt(
        "helicone",
        "https://ai-gateway.helicone.ai/",
        &["HELICONE_API_KEY"],
        "",
    ),
    row(
        "xiaomi_mimo",
        "https://api.xiaomimimo.com/v1",
        &["XIAOMI_MIMO_API_KEY"],
        "",
    ),
    row(
        "synthetic",
        "https://api.synthetic.new/openai/v1",
        &["SYNTHETIC_API_KEY"],
        "",
    ),
    row(
        "apertis",
        "https://api.stima.tech/v1",
        &["STIMA_API_KEY"],
        "",
    ),
    row(
        "nano-gpt",
        "https://nano-gpt.com/api/v1",
        &["NANOGPT_API_KEY"],
        "",
    ),
    row("poe", "https://api.poe.com/v1", &["POE_API_KEY"], ""),
    gpt(
        "zerogpu",
        "https://api.zerogpu.ai/v1",
        &["ZEROGPU_API_KEY"],
        "ZEROGPU_API_BASE",
    ),
    row(
        "chutes",
        "https://llm.chutes.ai/v1/",
        &["CHUTES_API_KEY"],
        "",
    ),
    gpt(
        "abliteration",
        "https://api.abliteration.ai/v1",
        &["ABLITERATION_API_KEY"],
        "",
    ),
    row(
        "llamagate",
        "https://api.llamagate.dev/v1",
        &["LLAMAGATE_API_KEY"],
        "",
    ),
    gpt(
        "gmi",
        "https://api.gmi-serving.com/v1",
        &["GMI_API_KEY"],
        "",
    ),
    row(
        "sarvam",
        "https://api.sarvam.ai/v1",
        &["SARVAM_API_KEY"],
        "",
    ),
    gpt(
        "assemblyai",
        "https://llm-gateway.assemblyai.com/v1",
        &["ASSEMBLYAI_API_KEY"],
        "",
    ),
    row(
        "charity_engine",
        "https://api.charityengine.services/remotejobs/v2/inference",
        &["CHARITY_ENGINE_API_KEY"],
        "",
    ),
    gpt(
        "aihubmix",
        "https://aihubmix.com/v1",
        &["AIHUBMIX_API_KEY"],
        "AIHUBMIX_API_BASE",
    ),
    gpt(
        "aiand",
        "https://api.aiand.com/v1",
        &["AIAND_API_KEY"],
        "AIAND_API_BASE",
    ),
    row(
        "crusoe",
        "https://api.inference.crusoecloud.com/v1",
        &["CRUSOE_API_KEY"],
        "CRUSOE_API_BASE",
    ),
    row(
        "darkbloom",
        "https://api.darkbloom.dev/v1",
        &["DARKBLOOM_API_KEY"],
        "DARKBLOOM_API_BASE",
    ),
    row(
        "neosantara",
        "https://api.neosantara.xyz/v1",
        &["NEOSANTARA_API_KEY"],
        "NEOSANTARA_API_BASE",
    ),
    row(
        "tensormesh",
        "https://serverless.tensormesh.ai/v1",
        &["TENSORMESH_INFERENCE_API_KEY"],
        "TENSORMESH_SERVERLESS_BASE_URL",
    ),
    gpt(
        "parasail",
        "https://api.parasail.io/v1",
        &["PARASAIL_API_KEY"],
        "PARASAIL_API_BASE",
    ),
    row(
        "libertai",
        "https://api.libertai.io/v1",
        &["LIBERTAI_API_KEY"],
        "LIBERTAI_API_BASE",
    ),
    row(
        "empiriolabs",
        "https://api.empiriolabs.ai/v1",
        &["EMPIRIOLABS_API_KEY"],
        "EMPIRIOLABS_API_BASE",
    ),
    gpt(
        "meta",
        "https://api.meta.ai/v1",
        &["META_API_KEY"],
        "META_API_BASE",
    ),
    gpt(
        "cognition",
        "https://api.cognition.ai/v1",
        &["COGNITION_API_KEY"],
        "COGNITION_API_BASE",
    ),
    gpt(
        "coralbricks",
        "https://inference.coralbricks.ai/v1",
        &["CORALBRICKS_API_KEY"],
        "CORALBRICKS_API_BASE",
    ),
    gpt(
        "cortecs",
        "https://api.cortecs.ai/v1",
        &["CORTECS_API_KEY"],
        "CORTECS_API_BASE",
    ),
    row(
        "pinstripes",
        "https://pinstripes.io/v1",
        &["PINSTRIPES_API_KEY"],
        "PINSTRIPES_API_BASE",
    ),
    CompatSpec {
        special: Special {
            temperature_max: Some(1.99),
            ..JSON
        },
        ..row(
            "scx-ai",
            "https://api.scx.ai/v1",
            &["SCX_API_KEY"],
            "SCX_API_BASE",
        )
    },
    gpt(
        "prism",
        "https://api.prisminference.com/v1",
        &["PRISM_API_KEY"],
        "PRISM_API_BASE",
    ),
    gpt(
        "hostinger_router",
        "https://router.hostinger.com/v1",
        &["HOSTINGER_ROUTER_API_KEY"],
        "HOSTINGER_ROUTER_API_BASE",
    ),
    gpt(
        "sail",
        "https://api.sailresearch.com/v1",
        &["SAIL_API_KEY"],
        "SAIL_API_BASE",
    ),
    gpt(
        "reka",
        "https://api.reka.ai/v1",
        &["REKA_API_KEY"],
        "REKA_API_BASE",
    ),
    // Its definition says every model calls functions.
    CompatSpec {
        tools_gated: false,
        ..gpt(
            "openinfer",
            "https://api.openinfer.ai/v1",
            &["OPENINFER_API_KEY"],
            "OPENINFER_API_BASE",
        )
    },
    gpt(
        "inferenceapis",
        "https://api.inferenceapis.com/v1",
        &["INFERENCEAPIS_API_KEY"],
        "INFERENCEAPIS_API_BASE",
    ),
    gpt(
        "refuseless",
        "https://api.refuseless.com/v1",
        &["REFUSELESS_API_KEY"],
        "",
    ),
    // Its definition says every model calls functions.
    CompatSpec {
        tools_gated: false,
        ..gpt("kyma", "https://kymaapi.com/v1", &["KYMA_API_KEY"], "")
    },
    CompatSpec {
        special: Special {
            // `preserve_cache_control`: its marks stay.
            max_completion_tokens: true,
            ..Special::NONE
        },
        // Its definition says every model calls functions, and reasons.
        tools_gated: false,
        reasoning_gated: false,
        ..gpt(
            "streamlake",
            "https://vanchin.streamlake.ai/api/gateway/v1/endpoints",
            &["STREAMLAKE_API_KEY"],
            "STREAMLAKE_API_BASE",
        )
    },
    // Its definition says every model calls functions, and reasons.
    CompatSpec {
        tools_gated: false,
        reasoning_gated: false,
        ..gpt(
            "wally",
            "https://inference.runanywhere.ai/v1",
            &["WALLY_API_KEY"],
            "WALLY_API_BASE",
        )
    },
    // Databricks serving endpoints: the workspace's `/serving-endpoints` is the base; the
    // params LiteLLM's DatabricksConfig lacks are refused.
    CompatSpec {
        unsupported: &[
            "audio",
            "frequency_penalty",
            "function_call",
            "functions",
            "logit_bias",
            "logprobs",
            "modalities",
            "parallel_tool_calls",
            "prediction",
            "presence_penalty",
            "prompt_cache_key",
            "prompt_cache_retention",
            "safety_identifier",
            "seed",
            "store",
            "top_logprobs",
            "web_search_options",
        ],
        sends_user: false,
        stream_options: false,
        special: Special {
            strip_reasoning: true,
            ..Special::NONE
        },
        ..base_row(
            "databricks",
            "",
            &["DATABRICKS_API_KEY"],
            "DATABRICKS_API_BASE",
        )
    },
    // Cloudflare Workers AI through its OpenAI-compatible endpoint (LiteLLM's chat route).
    CompatSpec {
        max_tokens_only: false,
        sends_user: false,
        reasoning_gated: true,
        special: Special {
            cloudflare_base: true,
            strip_cache_control: true,
            ..Special::NONE
        },
        ..base_row(
            "cloudflare",
            "",
            &["CLOUDFLARE_API_KEY"],
            "CLOUDFLARE_API_BASE",
        )
    },
    // Hugging Face's router (Inference Providers) and TGI endpoints speak OpenAI's chat.
    CompatSpec {
        max_tokens_only: false,
        sends_user: false,
        reasoning_gated: true,
        special: Special {
            huggingface_base: true,
            ..Special::NONE
        },
        ..base_row(
            "huggingface",
            "https://router.huggingface.co/v1",
            &["HUGGINGFACE_API_KEY"],
            "HUGGINGFACE_API_BASE",
        )
    },
];

#[cfg(test)]
#[path = "table_like_tests.rs"]
mod tests;
