//! OpenAI-compatible providers: one row each. Adding a provider is adding a row.

/// How the upstream wants to be addressed and authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Style {
    /// `POST {base}/chat/completions`, `Authorization: Bearer`.
    OpenAi,
    /// Azure OpenAI: deployment or v1 paths, `api-key` or an Entra ID token
    /// ([`crate::providers::azure`]).
    Azure,
    /// Azure AI Foundry / model inference: `{base}/models/chat/completions` or
    /// `{base}/chat/completions`, `api-key` on Azure hosts ([`crate::providers::azure::ai`]).
    AzureAi,
    /// `POST {base}`: the base is the endpoint itself (Codestral's FIM), `Authorization: Bearer`.
    Endpoint,
}

/// A vendor whose dialect differs from OpenAI's beyond a list of unsupported params: its
/// rewrites live in a module of their own (the row stays one row).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quirks {
    /// Speaks OpenAI's protocol as it is.
    None,
    /// Mistral's API (`mistral`, `codestral`): see [`super::mistral`].
    Mistral,
    /// OpenAI's and Azure's model families (o-series, catalog models): see [`super::openai`].
    OpenAi,
    /// DeepSeek: `reasoning_effort` as `thinking` ([`super::vendors::deepseek`]).
    DeepSeek,
    /// OpenRouter: usage with its cost always asked for ([`super::vendors::openrouter`]).
    OpenRouter,
    /// Fireworks: models named as resources ([`super::vendors::fireworks`]).
    Fireworks,
    /// Groq: JSON schemas as a forced tool call on models without them ([`super::vendors::groq`]).
    Groq,
    /// DeepInfra: `tool_choice` only `auto` or `none` ([`super::vendors::deepinfra`]).
    DeepInfra,
    /// Codestral's fill-in-the-middle completions ([`super::fim`]).
    CodestralFim,
    /// Azure AI Foundry: content lists as text, `tool_choice` only where the catalog marks it
    /// ([`crate::providers::azure::ai`]).
    AzureAi,
}

#[derive(Debug)]
pub struct CompatSpec {
    /// The model prefix (`groq/...`).
    pub name: &'static str,
    /// Default base URL; empty when the user must give `api_base`.
    pub base_url: &'static str,
    /// Environment variables consulted for the key, in order.
    pub key_env: &'static [&'static str],
    /// Environment variable that overrides the base URL.
    pub base_env: &'static str,
    /// Whether a call without any key is refused before it is sent (local servers need none).
    pub key_required: bool,
    /// OpenAI parameters this provider rejects: an error, or dropped with `drop_params`.
    pub unsupported: &'static [&'static str],
    /// Sends `max_completion_tokens` as `max_tokens` (most OpenAI-likes only know the latter).
    pub max_tokens_only: bool,
    /// Sends `user`; LiteLLM leaves it out, silently, where the vendor's params lack it.
    pub sends_user: bool,
    /// `reasoning_effort` only for models the catalog marks as reasoning (refused otherwise).
    pub reasoning_gated: bool,
    /// `tools` and `parallel_tool_calls` only for models the catalog marks as calling functions,
    /// `tool_choice` only for those marked as taking it.
    pub tools_gated: bool,
    /// Whether LiteLLM counts `stream_options` among the vendor's params: where it does not,
    /// its proxy asks no usage of the stream (a gateway asks only on the client's behalf).
    pub stream_options: bool,
    pub style: Style,
    pub quirks: Quirks,
    /// The `special_handling`/`constraints` of a JSON-defined vendor ([`super::table_like`]).
    pub special: super::table_like::Special,
}

pub(super) const fn row(
    name: &'static str,
    base_url: &'static str,
    key_env: &'static [&'static str],
    base_env: &'static str,
) -> CompatSpec {
    CompatSpec {
        name,
        base_url,
        key_env,
        base_env,
        key_required: true,
        unsupported: &[],
        max_tokens_only: true,
        sends_user: true,
        reasoning_gated: false,
        tools_gated: false,
        stream_options: true,
        style: Style::OpenAi,
        quirks: Quirks::None,
        special: super::table_like::Special::NONE,
    }
}

/// A local server: no default key needed.
const fn local(
    name: &'static str,
    base_url: &'static str,
    key_env: &'static [&'static str],
    base_env: &'static str,
) -> CompatSpec {
    CompatSpec {
        key_required: false,
        ..row(name, base_url, key_env, base_env)
    }
}

const OPENAI: CompatSpec = CompatSpec {
    max_tokens_only: false,
    quirks: Quirks::OpenAi,
    ..row(
        "openai",
        "https://api.openai.com/v1",
        &["OPENAI_API_KEY"],
        "OPENAI_BASE_URL",
    )
};

pub static PROVIDERS: &[CompatSpec] = &[
    OPENAI,
    CompatSpec {
        name: "text-completion-openai",
        quirks: Quirks::None,
        ..OPENAI
    },
    CompatSpec {
        name: "openai_compatible",
        max_tokens_only: false,
        ..local(
            "openai_compatible",
            "",
            &["OPENAI_API_KEY"],
            "OPENAI_API_BASE",
        )
    },
    CompatSpec {
        name: "custom_openai",
        max_tokens_only: false,
        ..local("custom_openai", "", &["OPENAI_API_KEY"], "OPENAI_API_BASE")
    },
    CompatSpec {
        max_tokens_only: false,
        style: Style::Azure,
        quirks: Quirks::OpenAi,
        ..row(
            "azure",
            "",
            crate::providers::azure::auth::KEY_ENV,
            "AZURE_API_BASE",
        )
    },
    CompatSpec {
        max_tokens_only: false,
        style: Style::AzureAi,
        quirks: Quirks::AzureAi,
        ..row("azure_ai", "", &["AZURE_AI_API_KEY"], "AZURE_AI_API_BASE")
    },
    CompatSpec {
        sends_user: false,
        reasoning_gated: true,
        quirks: Quirks::Groq,
        ..row(
            "groq",
            "https://api.groq.com/openai/v1",
            &["GROQ_API_KEY"],
            "GROQ_API_BASE",
        )
    },
    CompatSpec {
        max_tokens_only: false,
        sends_user: false,
        quirks: Quirks::DeepSeek,
        ..row(
            "deepseek",
            "https://api.deepseek.com/v1",
            &["DEEPSEEK_API_KEY"],
            "DEEPSEEK_API_BASE",
        )
    },
    CompatSpec {
        unsupported: super::mistral::UNSUPPORTED,
        quirks: Quirks::Mistral,
        ..row(
            "mistral",
            "https://api.mistral.ai/v1",
            &["MISTRAL_API_KEY"],
            "MISTRAL_API_BASE",
        )
    },
    // LiteLLM maps codestral's chat params with MistralConfig too.
    CompatSpec {
        unsupported: super::mistral::UNSUPPORTED,
        quirks: Quirks::Mistral,
        ..row(
            "codestral",
            "https://codestral.mistral.ai/v1",
            &["CODESTRAL_API_KEY"],
            "CODESTRAL_API_BASE",
        )
    },
    // LiteLLM posts to the api_base as given: it names the endpoint.
    CompatSpec {
        style: Style::Endpoint,
        quirks: Quirks::CodestralFim,
        max_tokens_only: false,
        ..row(
            "text-completion-codestral",
            "https://codestral.mistral.ai/v1/fim/completions",
            &["CODESTRAL_API_KEY"],
            "CODESTRAL_API_BASE",
        )
    },
    CompatSpec {
        max_tokens_only: false,
        sends_user: false,
        reasoning_gated: true,
        ..row(
            "together_ai",
            "https://api.together.xyz/v1",
            &[
                "TOGETHERAI_API_KEY",
                "TOGETHER_AI_API_KEY",
                "TOGETHER_API_KEY",
            ],
            "TOGETHERAI_API_BASE",
        )
    },
    CompatSpec {
        reasoning_gated: true,
        tools_gated: true,
        quirks: Quirks::Fireworks,
        ..row(
            "fireworks_ai",
            "https://api.fireworks.ai/inference/v1",
            &[
                "FIREWORKS_API_KEY",
                "FIREWORKS_AI_API_KEY",
                "FIREWORKSAI_API_KEY",
                "FIREWORKS_AI_TOKEN",
            ],
            "FIREWORKS_API_BASE",
        )
    },
    CompatSpec {
        max_tokens_only: false,
        sends_user: false,
        quirks: Quirks::OpenRouter,
        ..row(
            "openrouter",
            "https://openrouter.ai/api/v1",
            &["OPENROUTER_API_KEY", "OR_API_KEY"],
            "OPENROUTER_API_BASE",
        )
    },
    CompatSpec {
        reasoning_gated: true,
        ..row(
            "xai",
            "https://api.x.ai/v1",
            &["XAI_API_KEY"],
            "XAI_API_BASE",
        )
    },
    // perplexity, deepinfra, cerebras: the OpenAI params outside LiteLLM's allow-list for them.
    CompatSpec {
        unsupported: &[
            "audio",
            "function_call",
            "functions",
            "logit_bias",
            "logprobs",
            "modalities",
            "n",
            "parallel_tool_calls",
            "prediction",
            "prompt_cache_key",
            "prompt_cache_retention",
            "safety_identifier",
            "seed",
            "service_tier",
            "stop",
            "store",
            "tool_choice",
            "tools",
            "top_logprobs",
        ],
        max_tokens_only: false,
        sends_user: false,
        reasoning_gated: true,
        stream_options: false,
        ..row(
            "perplexity",
            "https://api.perplexity.ai",
            &["PERPLEXITYAI_API_KEY", "PERPLEXITY_API_KEY"],
            "PERPLEXITY_API_BASE",
        )
    },
    CompatSpec {
        unsupported: &[
            "audio",
            "logprobs",
            "modalities",
            "parallel_tool_calls",
            "prediction",
            "prompt_cache_key",
            "prompt_cache_retention",
            "safety_identifier",
            "seed",
            "service_tier",
            "store",
            "top_logprobs",
            "web_search_options",
        ],
        sends_user: false,
        reasoning_gated: true,
        quirks: Quirks::DeepInfra,
        stream_options: false,
        ..row(
            "deepinfra",
            "https://api.deepinfra.com/v1/openai",
            &["DEEPINFRA_API_KEY"],
            "DEEPINFRA_API_BASE",
        )
    },
    CompatSpec {
        unsupported: &[
            "audio",
            "frequency_penalty",
            "function_call",
            "functions",
            "logit_bias",
            "logprobs",
            "modalities",
            "n",
            "parallel_tool_calls",
            "prediction",
            "presence_penalty",
            "prompt_cache_key",
            "prompt_cache_retention",
            "safety_identifier",
            "service_tier",
            "store",
            "top_logprobs",
            "web_search_options",
        ],
        reasoning_gated: true,
        stream_options: false,
        ..row(
            "cerebras",
            "https://api.cerebras.ai/v1",
            &["CEREBRAS_API_KEY"],
            "CEREBRAS_API_BASE",
        )
    },
    row(
        "nvidia_nim",
        "https://integrate.api.nvidia.com/v1",
        &["NVIDIA_NIM_API_KEY"],
        "NVIDIA_NIM_API_BASE",
    ),
    local(
        "hosted_vllm",
        "",
        &["HOSTED_VLLM_API_KEY"],
        "HOSTED_VLLM_API_BASE",
    ),
    local(
        "lm_studio",
        "http://localhost:1234/v1",
        &["LM_STUDIO_API_KEY"],
        "LM_STUDIO_API_BASE",
    ),
    local(
        "llamafile",
        "http://127.0.0.1:8080/v1",
        &["LLAMAFILE_API_KEY"],
        "LLAMAFILE_API_BASE",
    ),
    local(
        "xinference",
        "http://127.0.0.1:9997/v1",
        &["XINFERENCE_API_KEY"],
        "XINFERENCE_API_BASE",
    ),
    row(
        "sambanova",
        "https://api.sambanova.ai/v1",
        &["SAMBANOVA_API_KEY"],
        "SAMBANOVA_API_BASE",
    ),
    row(
        "moonshot",
        "https://api.moonshot.ai/v1",
        &["MOONSHOT_API_KEY"],
        "MOONSHOT_API_BASE",
    ),
    row(
        "dashscope",
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        &["DASHSCOPE_API_KEY"],
        "DASHSCOPE_API_BASE",
    ),
    row(
        "nebius",
        "https://api.studio.nebius.ai/v1",
        &["NEBIUS_API_KEY"],
        "NEBIUS_API_BASE",
    ),
    row(
        "github",
        "https://models.inference.ai.azure.com",
        &["GITHUB_API_KEY"],
        "GITHUB_API_BASE",
    ),
    row(
        "anyscale",
        "https://api.endpoints.anyscale.com/v1",
        &["ANYSCALE_API_KEY"],
        "ANYSCALE_API_BASE",
    ),
    row(
        "novita",
        "https://api.novita.ai/v3/openai",
        &["NOVITA_API_KEY"],
        "NOVITA_API_BASE",
    ),
    row(
        "hyperbolic",
        "https://api.hyperbolic.xyz/v1",
        &["HYPERBOLIC_API_KEY"],
        "HYPERBOLIC_API_BASE",
    ),
    row(
        "lambda_ai",
        "https://api.lambda.ai/v1",
        &["LAMBDA_API_KEY"],
        "LAMBDA_API_BASE",
    ),
    row(
        "nscale",
        "https://inference.api.nscale.com/v1",
        &["NSCALE_API_KEY"],
        "NSCALE_API_BASE",
    ),
    row(
        "featherless_ai",
        "https://api.featherless.ai/v1",
        &["FEATHERLESS_AI_API_KEY", "FEATHERLESS_API_KEY"],
        "FEATHERLESS_API_BASE",
    ),
    row(
        "friendliai",
        "https://api.friendli.ai/serverless/v1",
        &["FRIENDLI_TOKEN", "FRIENDLIAI_API_KEY"],
        "FRIENDLI_API_BASE",
    ),
    row(
        "volcengine",
        "https://ark.cn-beijing.volces.com/api/v3",
        &["ARK_API_KEY", "VOLCENGINE_API_KEY"],
        "VOLCENGINE_API_BASE",
    ),
    row(
        "zai",
        "https://api.z.ai/api/paas/v4",
        &["ZAI_API_KEY"],
        "ZAI_API_BASE",
    ),
    row(
        "scaleway",
        "https://api.scaleway.ai/v1",
        &["SCW_SECRET_KEY"],
        "SCW_API_BASE",
    ),
    row(
        "ovhcloud",
        "https://oai.endpoints.kepler.ai.cloud.ovh.net/v1",
        &["OVHCLOUD_API_KEY"],
        "OVHCLOUD_API_BASE",
    ),
    row(
        "veniceai",
        "https://api.venice.ai/api/v1",
        &["VENICE_AI_API_KEY"],
        "VENICE_AI_API_BASE",
    ),
];

/// Every OpenAI-compatible row: this table's, then the JSON-defined vendors'.
pub fn all() -> impl Iterator<Item = &'static CompatSpec> {
    PROVIDERS.iter().chain(super::table_like::JSON_LIKE.iter())
}
