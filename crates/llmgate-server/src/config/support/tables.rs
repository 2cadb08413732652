//! One row per LiteLLM config key: implemented (`yes`), read without effect (`no`), or judged
//! per value (`by_value`). Implementing a setting is flipping its row.

/// What llmgate does with a key LiteLLM documents.
#[derive(Debug, Clone, Copy)]
pub enum Support {
    /// Read and acted on (or served back as LiteLLM does).
    Yes,
    /// Read, but without effect.
    No,
    /// Decided per value (a callback name, a routing strategy...) by this table; a value the
    /// table lacks is unknown.
    Values(&'static [Row]),
}

/// One key (or value). `key` may end in `*` (a prefix: `supports_*`) or be `*.*` (a dotted
/// Python path, LiteLLM's custom callbacks and guardrails).
#[derive(Debug, Clone, Copy)]
pub struct Row {
    pub key: &'static str,
    pub support: Support,
    /// What llmgate does with it, or what is missing.
    pub note: &'static str,
}

const fn yes(key: &'static str, note: &'static str) -> Row {
    Row {
        key,
        support: Support::Yes,
        note,
    }
}

const fn no(key: &'static str, note: &'static str) -> Row {
    Row {
        key,
        support: Support::No,
        note,
    }
}

const fn by_value(key: &'static str, values: &'static [Row], note: &'static str) -> Row {
    Row {
        key,
        support: Support::Values(values),
        note,
    }
}

/// A table of one config section, as the README names it.
pub struct Section {
    pub path: &'static str,
    pub rows: &'static [Row],
}

/// Every table, in README order.
pub const SECTIONS: &[Section] = &[
    Section {
        path: "top level",
        rows: TOP_LEVEL,
    },
    Section {
        path: "model_list[]",
        rows: MODEL_ENTRY,
    },
    Section {
        path: "model_list[].litellm_params",
        rows: LITELLM_PARAMS,
    },
    Section {
        path: "model_list[].model_info",
        rows: MODEL_INFO,
    },
    Section {
        path: "litellm_settings",
        rows: LITELLM_SETTINGS,
    },
    Section {
        path: "litellm_settings.cache_params",
        rows: CACHE_PARAMS,
    },
    Section {
        path: "general_settings",
        rows: GENERAL_SETTINGS,
    },
    Section {
        path: "router_settings",
        rows: ROUTER_SETTINGS,
    },
    Section {
        path: "guardrails[].litellm_params",
        rows: GUARDRAIL_PARAMS,
    },
];

#[rustfmt::skip]
pub const TOP_LEVEL: &[Row] = &[
    yes("model_list", "deployments"),
    yes("litellm_settings", "see its table"),
    yes("general_settings", "see its table"),
    yes("router_settings", "see its table"),
    yes("environment_variables", "set into the process environment at start"),
    yes("include", "other files merged in"),
    // Checked entry by entry (the guardrail type): see GUARDRAIL_PARAMS.
    yes("guardrails", "each entry is named by its guardrail type"),
    no("mcp_servers", "MCP gateway"),
    no("callback_settings", "logging callbacks"),
    no("credential_list", "reusable credentials (litellm_credential_name)"),
    no("assistant_settings", "Assistants API"),
    no("finetune_settings", "fine-tuning API"),
    no("files_settings", "files API"),
    no("vector_store_registry", "vector stores"),
    no("search_tools", "search API"),
    no("prompts", "prompt management"),
    no("policies", "policy engine"),
    no("policy_attachments", "policy engine"),
];

/// Keys beside `litellm_params` in a `model_list` entry.
#[rustfmt::skip]
pub const MODEL_ENTRY: &[Row] = &[
    yes("model_name", "the public name"),
    yes("litellm_params", "see its table"),
    yes("model_info", "see its table"),
    no("rpm", "deployment rate limits and usage-based routing"),
    no("tpm", "deployment rate limits and usage-based routing"),
];

#[rustfmt::skip]
pub const LITELLM_PARAMS: &[Row] = &[
    yes("model", "provider/model"),
    yes("api_base", "the upstream URL"),
    yes("api_key", "the upstream key"),
    yes("api_version", "Azure api-version"),
    yes("organization", "OpenAI-Organization header"),
    yes("timeout", "request timeout"),
    yes("stream_timeout", "time to first byte and between chunks"),
    yes("max_retries", "retries of this deployment"),
    yes("extra_headers", "sent upstream"),
    yes("mock_response", "answered without an upstream call"),
    yes("mock_timeout", "each attempt a simulated timeout after `timeout`"),
    yes("input_cost_per_token", "price override"),
    yes("output_cost_per_token", "price override"),
    yes("drop_params", "drop unsupported params"),
    yes("custom_llm_provider", "picks the adapter"),
    // llmgate's own: hosts/CIDRs whose media URLs may be fetched over http or privately.
    yes("media_url_allowlist", "trusted media sources (llmgate)"),
    yes("gcs_api_base", "Cloud Storage endpoint for gs:// media (llmgate)"),
    yes("vertex_project", "Vertex AI"),
    yes("vertex_ai_project", "Vertex AI"),
    yes("vertex_location", "Vertex AI"),
    yes("vertex_ai_location", "Vertex AI"),
    yes("vertex_credentials", "Vertex AI"),
    yes("vertex_ai_credentials", "Vertex AI"),
    no("rpm", "deployment rate limits and usage-based routing"),
    no("tpm", "deployment rate limits and usage-based routing"),
    no("itpm", "deployment rate limits"),
    no("otpm", "deployment rate limits"),
    no("max_parallel_requests", "deployment parallel-request limit"),
    no("weight", "weighted shuffle"),
    no("order", "deployment priority order"),
    no("tags", "tag-based routing"),
    no("num_retries", "per-deployment retries (use max_retries)"),
    no("base_model", "pricing by another model"),
    yes("region_name", "end users' allowed_model_region"),
    no("aws_access_key_id", "Bedrock/SageMaker (no such provider yet)"),
    no("aws_secret_access_key", "Bedrock/SageMaker (no such provider yet)"),
    no("aws_session_token", "Bedrock/SageMaker (no such provider yet)"),
    no("aws_region_name", "Bedrock/SageMaker (no such provider yet)"),
    no("aws_session_name", "Bedrock/SageMaker (no such provider yet)"),
    no("aws_profile_name", "Bedrock/SageMaker (no such provider yet)"),
    no("aws_role_name", "Bedrock/SageMaker (no such provider yet)"),
    no("aws_web_identity_token", "Bedrock/SageMaker (no such provider yet)"),
    no("aws_sts_endpoint", "Bedrock/SageMaker (no such provider yet)"),
    no("aws_external_id", "Bedrock/SageMaker (no such provider yet)"),
    no("aws_bedrock_runtime_endpoint", "Bedrock/SageMaker (no such provider yet)"),
    no("watsonx_region_name", "watsonx (no such provider yet)"),
    no("azure_ad_token", "Azure AD auth"),
    no("azure_ad_token_provider", "Azure AD auth"),
    no("tenant_id", "Azure AD auth"),
    no("client_id", "Azure AD auth"),
    no("client_secret", "Azure AD auth"),
    no("azure_username", "Azure AD auth"),
    no("azure_password", "Azure AD auth"),
    no("azure_scope", "Azure AD auth"),
    no("litellm_credential_name", "reusable credentials"),
    yes("configurable_clientside_auth_params", "client-side api_base allowed per deployment"),
    no("max_file_size_mb", "files API"),
    no("default_api_key_tpm_limit", "deployment default key limits"),
    no("default_api_key_rpm_limit", "deployment default key limits"),
    no("max_budget", "deployment budgets"),
    no("budget_duration", "deployment budgets"),
    no("use_in_pass_through", "pass-through routes"),
    no("use_litellm_proxy", "calling through another LiteLLM proxy"),
    no("use_chat_completions_api", "Responses API bridging"),
    no("merge_reasoning_content_in_choices", "reasoning content merging"),
    no("litellm_trace_id", "logging callbacks"),
    no("input_cost_per_second", "per-second pricing"),
    no("output_cost_per_second", "per-second pricing"),
    no("cache_read_input_token_cost", "cached-token price override"),
    no("cache_creation_input_token_cost", "cache-write price override"),
    no("output_cost_per_reasoning_token", "reasoning price override"),
    no("input_cost_per_token_*", "tiered price overrides"),
    no("output_cost_per_token_*", "tiered price overrides"),
    no("tiered_pricing", "tiered price overrides"),
    // LiteLLM passes these to every call as defaults; llmgate takes them from the request only.
    no("temperature", "request parameter defaults"),
    no("max_tokens", "request parameter defaults"),
    no("max_completion_tokens", "request parameter defaults"),
    no("top_p", "request parameter defaults"),
    no("top_k", "request parameter defaults"),
    no("stop", "request parameter defaults"),
    no("seed", "request parameter defaults"),
    no("n", "request parameter defaults"),
    no("presence_penalty", "request parameter defaults"),
    no("frequency_penalty", "request parameter defaults"),
    no("response_format", "request parameter defaults"),
    no("reasoning_effort", "request parameter defaults"),
    no("thinking", "request parameter defaults"),
    no("tools", "request parameter defaults"),
    no("tool_choice", "request parameter defaults"),
    no("user", "request parameter defaults"),
    no("logprobs", "request parameter defaults"),
    no("extra_body", "request parameter defaults"),
    no("metadata", "request parameter defaults"),
];

#[rustfmt::skip]
pub const MODEL_INFO: &[Row] = &[
    yes("id", "x-litellm-model-id"),
    yes("mode", "health checks, /model/info"),
    yes("input_cost_per_token", "price override"),
    yes("output_cost_per_token", "price override"),
    yes("access_groups", "key access by group"),
    // Informational in LiteLLM too: served back in /model/info over the catalog's facts.
    yes("description", "/model/info"),
    yes("metadata", "/model/info"),
    yes("max_tokens", "/model/info"),
    yes("max_input_tokens", "/model/info"),
    yes("max_output_tokens", "/model/info"),
    yes("litellm_provider", "/model/info"),
    yes("supports_*", "/model/info"),
    yes("db_model", "/model/info"),
    yes("team_id", "/model/info"),
    yes("team_public_model_name", "/model/info"),
    yes("tier", "/model/info"),
    yes("key", "/model/info"),
    no("base_model", "pricing by another model (Azure deployments)"),
    no("input_cost_per_second", "per-second pricing"),
    no("output_cost_per_second", "per-second pricing"),
    no("cache_read_input_token_cost", "cached-token price override"),
    no("cache_creation_input_token_cost", "cache-write price override"),
    no("output_cost_per_reasoning_token", "reasoning price override"),
    no("input_cost_per_token_*", "tiered price overrides"),
    no("output_cost_per_token_*", "tiered price overrides"),
    no("health_check_model", "health-check model override"),
    no("health_check_timeout", "health-check timeout"),
];

/// LiteLLM's logging callbacks: llmgate has none yet.
#[rustfmt::skip]
const CALLBACKS: &[Row] = &[
    no("langfuse", "logging callback"),
    no("langfuse_otel", "logging callback"),
    no("otel", "logging callback"),
    no("prometheus", "metrics callback"),
    no("datadog", "logging callback"),
    no("datadog_llm_observability", "logging callback"),
    no("sentry", "logging callback"),
    no("langsmith", "logging callback"),
    no("lago", "logging callback"),
    no("openmeter", "logging callback"),
    no("logfire", "logging callback"),
    no("literalai", "logging callback"),
    no("dynamic_rate_limiter", "dynamic rate limiting"),
    no("galileo", "logging callback"),
    no("braintrust", "logging callback"),
    no("arize", "logging callback"),
    no("arize_phoenix", "logging callback"),
    no("langtrace", "logging callback"),
    no("gcs_bucket", "logging callback"),
    no("gcs_pubsub", "logging callback"),
    no("azure_storage", "logging callback"),
    no("s3", "logging callback"),
    no("s3_v2", "logging callback"),
    no("opik", "logging callback"),
    no("argilla", "logging callback"),
    no("mlflow", "logging callback"),
    no("pagerduty", "alerting callback"),
    no("humanloop", "logging callback"),
    no("agentops", "logging callback"),
    no("anthropic_cache_control_hook", "cache-control hook"),
    no("bedrock_vector_store", "vector store hook"),
    no("generic_api", "logging callback"),
    no("resend_email", "email callback"),
    no("smtp_email", "email callback"),
    no("deepeval", "logging callback"),
    no("helicone", "logging callback"),
    no("lunary", "logging callback"),
    no("posthog", "logging callback"),
    no("slack", "logging callback"),
    no("supabase", "logging callback"),
    no("dynamodb", "logging callback"),
    no("athina", "logging callback"),
    no("traceloop", "logging callback"),
    no("greenscale", "logging callback"),
    no("wandb", "logging callback"),
    no("clickhouse", "logging callback"),
    no("custom_callback_api", "logging callback"),
    no("*.*", "custom Python callback"),
];

/// LiteLLM's guardrail integrations: llmgate has none yet.
#[rustfmt::skip]
const GUARDRAIL_TYPES: &[Row] = &[
    no("aporia", "guardrail"),
    no("bedrock", "guardrail"),
    no("dynamoai", "guardrail"),
    no("guardrails_ai", "guardrail"),
    no("lakera", "guardrail"),
    no("lakera_v2", "guardrail"),
    no("presidio", "guardrail"),
    no("hide-secrets", "guardrail"),
    no("hiddenlayer", "guardrail"),
    no("aim", "guardrail"),
    no("pangea", "guardrail"),
    no("lasso", "guardrail"),
    no("pillar", "guardrail"),
    no("grayswan", "guardrail"),
    no("panw_prisma_airs", "guardrail"),
    no("azure/prompt_shield", "guardrail"),
    no("azure/text_moderations", "guardrail"),
    no("model_armor", "guardrail"),
    no("openai_moderation", "guardrail"),
    no("noma", "guardrail"),
    no("tool_permission", "guardrail"),
    no("zscaler_ai_guard", "guardrail"),
    no("javelin", "guardrail"),
    no("enkryptai", "guardrail"),
    no("ibm_guardrails", "guardrail"),
    no("litellm_content_filter", "guardrail"),
    no("prompt_security", "guardrail"),
    no("generic_guardrail_api", "guardrail"),
    no("custom_guardrail", "guardrail"),
    no("*.*", "custom Python guardrail"),
];

#[rustfmt::skip]
pub const GUARDRAIL_PARAMS: &[Row] = &[by_value("guardrail", GUARDRAIL_TYPES, "guardrails")];

#[rustfmt::skip]
const CACHE_TYPES: &[Row] = &[
    // Its host/port/password are where the rate-limit counters are shared.
    yes("redis", "the rate-limit Redis; no response cache"),
    no("local", "response cache"),
    no("redis-semantic", "semantic cache"),
    no("qdrant-semantic", "semantic cache"),
    no("s3", "response cache"),
    no("gcs", "response cache"),
    no("disk", "response cache"),
    no("azure-blob", "response cache"),
];

/// Only what names a Redis server is read; the rest configures the response cache, which
/// `litellm_settings.cache` already names as unsupported.
#[rustfmt::skip]
pub const CACHE_PARAMS: &[Row] = &[by_value("type", CACHE_TYPES, "cache backend")];

#[rustfmt::skip]
pub const LITELLM_SETTINGS: &[Row] = &[
    yes("drop_params", "drop unsupported params"),
    yes("num_retries", "retries across deployments"),
    yes("request_timeout", "default timeout"),
    yes("cache_params", "host/port/password: the rate-limit Redis"),
    no("set_verbose", "use --debug / --detailed_debug"),
    no("cache", "response caching"),
    by_value("callbacks", CALLBACKS, "logging callbacks"),
    by_value("success_callback", CALLBACKS, "logging callbacks"),
    by_value("failure_callback", CALLBACKS, "logging callbacks"),
    no("service_callback", "service health callbacks"),
    no("service_callbacks", "service health callbacks"),
    no("input_callback", "logging callbacks"),
    no("callback_settings", "logging callbacks"),
    no("turn_off_message_logging", "logging callbacks"),
    no("redact_messages_in_exceptions", "error message redaction"),
    no("redact_user_api_key_info", "logging callbacks"),
    no("langfuse_default_tags", "logging callbacks"),
    no("json_logs", "JSON log format"),
    no("force_ipv4", "IPv4-only upstream calls"),
    no("ssl_verify", "upstream TLS verification switch"),
    no("modify_params", "request rewriting for providers"),
    no("enable_preview_features", "preview features"),
    no("fallbacks", "fallbacks"),
    no("default_fallbacks", "fallbacks"),
    no("content_policy_fallbacks", "fallbacks"),
    no("context_window_fallbacks", "fallbacks"),
    no("allowed_fails", "deployment cooldowns"),
    no("cooldown_time", "deployment cooldowns"),
    no("max_parallel_requests", "parallel-request limit"),
    no("mcp_aliases", "MCP gateway"),
    no("guardrails", "guardrails"),
    no("max_budget", "proxy-wide budget"),
    no("budget_duration", "proxy-wide budget"),
    no("max_end_user_budget", "default end-user budget"),
    no("max_internal_user_budget", "default user budget"),
    no("internal_user_budget_duration", "default user budget"),
    no("default_internal_user_params", "user defaults"),
    no("default_team_settings", "team defaults"),
    no("default_key_generate_params", "key defaults"),
    no("upperbound_key_generate_params", "key upper bounds"),
    no("key_generation_settings", "who may generate keys"),
    no("public_model_groups", "public model hub"),
    no("return_response_headers", "upstream headers in the answer"),
    no("extra_spend_tag_headers", "spend tags from headers"),
    no("disable_end_user_cost_tracking", "end-user cost switch"),
    no("disable_end_user_cost_tracking_prometheus_only", "Prometheus metrics"),
    no("disable_add_transform_inline_image_block", "Fireworks image URLs"),
    no("use_chat_completions_url_for_anthropic_messages", "/v1/messages"),
    no("disable_hf_tokenizer_download", "Hugging Face tokenizers"),
    no("enable_json_schema_validation", "JSON schema validation"),
    no("enable_key_alias_format_validation", "key alias validation"),
    no("disable_copilot_system_to_assistant", "GitHub Copilot"),
    no("telemetry", "telemetry"),
];

#[rustfmt::skip]
pub const GENERAL_SETTINGS: &[Row] = &[
    yes("master_key", "admin key"),
    yes("database_url", "PostgreSQL"),
    yes("dangerously_permit_weak_or_unset_master_key", "weak-key check"),
    yes("store_model_in_db", "/model/new"),
    yes("proxy_batch_write_at", "spend batch interval"),
    yes("proxy_budget_rescheduler_min_time", "budget reset interval"),
    yes("disable_error_logs", "no spend logs for failures"),
    yes("allow_requests_on_db_unavailable", "/health/readiness stays 200"),
    yes("allow_public_health_readiness_details", "/health/readiness answers the details"),
    yes("always_include_stream_usage", "false: no usage asked of streams for pricing"),
    yes("encryption_algorithm", "stored model credentials"),
    yes("use_x_forwarded_for", "client IP in spend logs"),
    yes("spend_journal_dir", "llmgate's spend journal"),
    by_value("alerting", ALERTING, "alerting"),
    no("completion_model", "default model"),
    no("embedding_model", "default model"),
    no("image_generation_model", "default model"),
    no("moderation_model", "default model"),
    no("store_prompts_in_spend_logs", "prompts in spend logs"),
    no("forward_client_headers_to_llm_api", "client header forwarding"),
    no("forward_openai_org_id", "client header forwarding"),
    no("disable_spend_logs", "spend-log switch"),
    no("disable_spend_updates", "spend switch"),
    no("disable_master_key_return", "UI"),
    no("disable_retry_on_max_parallel_request_limit_error", "retry switch"),
    no("disable_reset_budget", "budget reset switch"),
    no("disable_adding_master_key_hash_to_db", "master key in the database"),
    no("disable_responses_id_security", "Responses API"),
    no("enable_jwt_auth", "JWT auth"),
    no("litellm_jwtauth", "JWT auth"),
    no("enable_oauth2_auth", "OAuth2 auth"),
    no("enable_oauth2_proxy_auth", "OAuth2 auth"),
    no("oauth2_config_mappings", "OAuth2 auth"),
    no("enforce_user_param", "required `user` param"),
    no("reject_clientside_metadata_tags", "tag policy"),
    no("allowed_routes", "proxy-wide route allow-list (per-key allowed_routes works)"),
    no("public_routes", "route lists"),
    no("admin_only_routes", "route lists"),
    no("allowed_ips", "IP allow-list"),
    no("key_management_system", "secret managers"),
    no("key_management_settings", "secret managers"),
    no("use_azure_key_vault", "secret managers"),
    no("use_google_kms", "secret managers"),
    no("database_connection_pool_limit", "database pool size"),
    no("database_connection_timeout", "database timeout"),
    no("disable_prisma_schema_update", "schema update switch"),
    no("custom_auth", "custom auth"),
    no("custom_key_generate", "custom key generation"),
    no("custom_sso", "SSO"),
    no("ui_access_mode", "UI"),
    no("max_parallel_requests", "deployment parallel-request limit"),
    no("global_max_parallel_requests", "proxy parallel-request limit"),
    no("infer_model_from_keys", "model inference"),
    no("background_health_checks", "background health checks"),
    no("health_check_interval", "background health checks"),
    no("health_check_details", "health details switch"),
    no("alerting_threshold", "slow-request alerts"),
    no("alerting_args", "Slack alerting"),
    no("alert_types", "Slack alerting"),
    no("alert_to_webhook_url", "Slack alerting"),
    no("spend_report_frequency", "spend reports"),
    no("use_client_credentials_pass_through_routes", "pass-through routes"),
    no("pass_through_endpoints", "pass-through routes"),
    no("enforced_params", "required params"),
    no("service_account_settings", "service accounts"),
    no("supported_db_objects", "database object types"),
    no("user_mcp_management_mode", "MCP gateway"),
    yes("max_request_size_mb", "request body limit, enforced while reading (413)"),
    no("max_response_size_mb", "response size limit"),
    no("proxy_budget_rescheduler_max_time", "budget reset jitter"),
    no("proxy_batch_polling_interval", "batches API"),
    no("default_team_disabled", "personal keys switch"),
    no("allow_user_auth", "deprecated user auth"),
    yes("user_api_key_cache_ttl", "key/user/team cache TTL"),
    no("litellm_key_header_name", "custom key header"),
    yes("allow_client_side_credentials", "client-side api_base allowed proxy-wide"),
    no("litellm_license", "enterprise licence"),
    no("maximum_spend_logs_retention_period", "spend-log retention"),
    no("maximum_spend_logs_retention_interval", "spend-log retention"),
];

#[rustfmt::skip]
const ALERTING: &[Row] = &[
    yes("webhook", "budget events to WEBHOOK_URL"),
    no("slack", "Slack alerting"),
    no("email", "email alerting"),
];

#[rustfmt::skip]
const ROUTING_STRATEGIES: &[Row] = &[
    yes("simple-shuffle", "what llmgate does"),
    no("least-busy", "routing strategy"),
    no("usage-based-routing", "routing strategy"),
    no("usage-based-routing-v2", "routing strategy"),
    no("latency-based-routing", "routing strategy"),
    no("cost-based-routing", "routing strategy"),
];

#[rustfmt::skip]
pub const ROUTER_SETTINGS: &[Row] = &[
    yes("num_retries", "retries across deployments"),
    yes("timeout", "default timeout"),
    yes("redis_host", "the rate-limit Redis"),
    yes("redis_port", "the rate-limit Redis"),
    yes("redis_password", "the rate-limit Redis"),
    by_value("routing_strategy", ROUTING_STRATEGIES, "routing strategy"),
    no("allowed_fails", "deployment cooldowns"),
    no("cooldown_time", "deployment cooldowns"),
    no("disable_cooldowns", "deployment cooldowns"),
    no("allowed_fails_policy", "deployment cooldowns"),
    no("retry_policy", "retries per error type"),
    no("model_group_retry_policy", "retries per error type"),
    no("retry_after", "retry delay"),
    no("fallbacks", "fallbacks"),
    no("default_fallbacks", "fallbacks"),
    no("content_policy_fallbacks", "fallbacks"),
    no("context_window_fallbacks", "fallbacks"),
    no("max_fallbacks", "fallbacks"),
    no("stream_timeout", "default stream timeout (per-deployment stream_timeout works)"),
    no("redis_db", "Redis database number"),
    no("redis_url", "Redis URL here (REDIS_URL works)"),
    no("cache_kwargs", "Redis options"),
    no("routing_strategy_args", "routing strategy"),
    no("model_group_alias", "model aliases"),
    no("enable_pre_call_checks", "context-window checks"),
    no("enable_pre_call_check", "context-window checks"),
    no("optional_pre_call_checks", "pre-call checks"),
    no("enable_tag_filtering", "tag-based routing"),
    no("tag_filtering_match_any", "tag-based routing"),
    no("default_max_parallel_requests", "deployment parallel-request limit"),
    no("default_priority", "request scheduler"),
    no("polling_interval", "request scheduler"),
    no("default_litellm_params", "request parameter defaults"),
    no("provider_budget_config", "provider budgets"),
    no("cache_responses", "response caching"),
    no("caching_groups", "response caching"),
    no("client_ttl", "client cache"),
    no("debug_level", "router logging"),
    no("set_verbose", "use --debug / --detailed_debug"),
    no("ignore_invalid_deployments", "invalid deployments"),
    no("deployment_affinity_ttl_seconds", "deployment affinity"),
    no("search_tools", "search API"),
    no("guardrail_list", "guardrails"),
    no("assistants_config", "Assistants API"),
    no("alerting_config", "Slack alerting"),
    no("router_general_settings", "router options"),
];
