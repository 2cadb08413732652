//! OpenAI's and Azure OpenAI's model families as LiteLLM tells them apart: the o-series takes
//! `max_completion_tokens`, only `temperature: 1`, a `developer` turn as it is and, where the
//! catalog says the model has no system turns, the system prompt as a user turn; a model the
//! catalog knows takes `reasoning_effort` only when it reasons. Every other model of these rows
//! gets the GPT rules (`developer` sent as `system`, done for every row in `super::build`).

use serde_json::{json, Map, Value};

use crate::catalog::{self, Feature};
use crate::{CallOptions, LlmError};

/// Which of LiteLLM's OpenAI configs a model gets.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// `o1`, `o3-mini`, ...: LiteLLM's `OpenAIOSeriesConfig` (Azure: `AzureOpenAIO1Config`).
    OSeries,
    /// `gpt-5*`, `gpt-6*` but `gpt-5-chat*`, by name: LiteLLM's `OpenAIGPT5Config` (reasoning,
    /// `max_completion_tokens`).
    GptReasoning,
    /// A chat model the catalog knows for this row.
    Known,
    /// A name the catalog does not know (a proxy alias, a deployment name).
    Unknown,
}

/// Parameters the o-series refuses (LiteLLM's list), whatever the model.
const O_SERIES_UNSUPPORTED: &[&str] = &[
    "logprobs",
    "top_p",
    "presence_penalty",
    "frequency_penalty",
    "top_logprobs",
];

/// Parameters LiteLLM's GPT-5 config refuses on every model of the family.
const GPT_REASONING_UNSUPPORTED: &[&str] = &[
    "presence_penalty",
    "frequency_penalty",
    "stop",
    "logit_bias",
    "modalities",
    "prediction",
    "audio",
    "web_search_options",
];

/// And on the models without a `none` effort (the first gpt-5 models: `gpt-5`, `gpt-5-mini`,
/// ...; from gpt-5.1 on they take them when reasoning is off, which the catalog does not say).
const GPT_REASONING_SAMPLING: &[&str] = &["logprobs", "top_p", "top_logprobs"];

/// The first gpt-5 models, which always reason: `gpt-5`, `gpt-5-mini`, not `gpt-5.1`.
fn always_reasons(model: &str) -> bool {
    let name = model.rsplit('/').next().unwrap_or(model);
    name.strip_prefix("gpt-5")
        .is_some_and(|rest| rest.is_empty() || rest.starts_with('-'))
}

/// Parameters Azure's GPT config does not list as supported (the OpenAI ones it leaves out);
/// `reasoning_effort` first, since Azure's gpt-5 config takes it and the rest not.
const AZURE_UNSUPPORTED: &[&str] = &[
    "reasoning_effort",
    "service_tier",
    "safety_identifier",
    "prompt_cache_retention",
];

/// What the catalog says of a model: (known chat model, reasoning, system turns, tools,
/// parallel tool calls, response schemas).
#[derive(Debug, Clone, Copy, Default)]
struct Caps {
    known: bool,
    reasoning: bool,
    system_messages: bool,
    tools: bool,
    parallel_tools: bool,
    response_schema: bool,
}

fn caps(provider: &str, model: &str) -> Caps {
    let cat = catalog::global();
    // LiteLLM looks up `provider/model`, then the bare name (Azure's entries mostly live under
    // the bare OpenAI name).
    let m = cat
        .get_for(provider, model)
        .filter(|m| m.mode == "chat" && matches!(m.provider(), "openai" | "azure"));
    match m {
        Some(m) => Caps {
            known: true,
            reasoning: m.supports(Feature::Reasoning),
            system_messages: m.supports(Feature::SystemMessages),
            tools: m.supports(Feature::FunctionCalling),
            parallel_tools: m.supports(Feature::ParallelFunctionCalling),
            response_schema: m.supports(Feature::ResponseSchema),
        },
        None => Caps::default(),
    }
}

fn is_o_series_name(model: &str) -> bool {
    let b = model.as_bytes();
    b.len() > 1 && b[0] == b'o' && b[1].is_ascii_digit()
}

/// The family of `model` on the `openai` row or (`azure`) on Azure, where LiteLLM goes by the
/// deployment name: any name containing `o1`, `o3`, `o4` or `o_series/` is o-series.
pub fn family(azure: bool, model: &str) -> Family {
    let provider = if azure { "azure" } else { "openai" };
    let c = caps(provider, model);
    let o_series = if azure {
        ["o1", "o3", "o4", "o_series/"]
            .iter()
            .any(|p| model.contains(p))
    } else {
        // LiteLLM also requires the name in its OpenAI model list.
        c.known && is_o_series_name(model.rsplit('/').next().unwrap_or(model))
    };
    let name = model.rsplit('/').next().unwrap_or(model);
    let gpt_reasoning =
        ["gpt-5", "gpt-6"].iter().any(|p| model.contains(p)) && !name.contains("gpt-5-chat");
    match (o_series, c.known) {
        (true, _) => Family::OSeries,
        _ if gpt_reasoning => Family::GptReasoning,
        (false, true) => Family::Known,
        (false, false) => Family::Unknown,
    }
}

/// The parameters this model refuses (an error, or dropped with `drop_params`).
pub fn unsupported(azure: bool, model: &str, family: Family) -> Vec<&'static str> {
    let provider = if azure { "azure" } else { "openai" };
    let c = caps(provider, model);
    let mut out = Vec::new();
    match family {
        Family::OSeries => {
            out.extend_from_slice(O_SERIES_UNSUPPORTED);
            // An Azure deployment name the catalog does not know is taken to reason.
            if c.known && !c.reasoning {
                out.push("reasoning_effort");
            }
            if c.known {
                if !c.tools {
                    out.extend_from_slice(&["tools", "tool_choice", "function_call", "functions"]);
                }
                if !c.parallel_tools {
                    out.push("parallel_tool_calls");
                }
                if !c.response_schema {
                    out.push("response_format");
                }
            }
        }
        Family::GptReasoning => {
            if azure {
                out.extend_from_slice(&AZURE_UNSUPPORTED[1..]);
            }
            out.extend_from_slice(GPT_REASONING_UNSUPPORTED);
            if always_reasons(model) {
                out.extend_from_slice(GPT_REASONING_SAMPLING);
            }
        }
        Family::Known | Family::Unknown if azure => out.extend_from_slice(AZURE_UNSUPPORTED),
        Family::Known if !c.reasoning => out.push("reasoning_effort"),
        Family::Known | Family::Unknown => {}
    }
    out
}

/// The reasoning families' rewrites, after the unsupported-parameter check: both take
/// `max_completion_tokens`; the rest is the o-series'.
pub fn translate(
    map: &mut Map<String, Value>,
    family: Family,
    opts: &CallOptions,
) -> Result<(), LlmError> {
    let model = map
        .get("model")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_string();
    if let Some(m) = map.shift_remove("max_tokens").filter(|v| !v.is_null()) {
        map.entry("max_completion_tokens").or_insert(m);
    }
    // Only temperature 1 while the model reasons (always, on the o-series and the first gpt-5s).
    let reasoning_only = family == Family::OSeries || always_reasons(&model);
    match map.get("temperature") {
        Some(t) if reasoning_only && !t.is_null() && t.as_f64() != Some(1.0) => {
            if opts.drop_params {
                map.shift_remove("temperature");
            } else {
                let message = if family == Family::OSeries {
                    format!("O-series models don't support temperature={t}. Only temperature=1 is supported. To drop unsupported openai params from the call, set `litellm.drop_params = True`")
                } else {
                    format!("{model} doesn't support temperature={t} while reasoning is active. Only temperature=1 is supported unless reasoning_effort resolves to 'none', either set explicitly on the request or declared as the model's default_reasoning_effort. To drop unsupported params set `litellm.drop_params = True`")
                };
                return Err(
                    LlmError::new(crate::ErrorKind::UnsupportedParams, message).with_model(&model)
                );
            }
        }
        _ => {}
    }
    if family != Family::OSeries {
        return Ok(());
    }
    // LiteLLM asks the catalog under `openai` on both rows.
    if !caps("openai", &model).system_messages {
        for m in map
            .get_mut("messages")
            .and_then(Value::as_array_mut)
            .into_iter()
            .flatten()
        {
            if m.get("role").and_then(Value::as_str) == Some("system") {
                let content = m.get("content").cloned().unwrap_or(Value::Null);
                *m = json!({"role": "user", "content": content});
            }
        }
    }
    Ok(())
}
