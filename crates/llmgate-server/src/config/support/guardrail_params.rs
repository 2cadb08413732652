//! The `litellm_params` of a `guardrails:` entry, per guardrail type: what every entry may
//! carry (`guardrails/config.rs` reads the `yes` rows), what each type llmgate runs reads
//! (its module under `guardrails/`), and the rest of LiteLLM's `LitellmParams` fields, which
//! other types read (named "not read by this guardrail type").
//!
//! The rows follow LiteLLM 1.110's `litellm/types/guardrails.py` and each type's initializer
//! under `litellm/proxy/guardrails/guardrail_hooks/`.

use super::tables::{by_value, no, yes, Row, GUARDRAIL_TYPES};

/// Keys of a `guardrails:` entry beside its `litellm_params` (LiteLLM's `Guardrail`).
#[rustfmt::skip]
pub const GUARDRAIL_ENTRY: &[Row] = &[
    yes("guardrail_name", "the name requests and keys use"),
    yes("litellm_params", "see its table"),
    yes("guardrail_info", "served by /guardrails/list"),
    no("guardrail_id", "guardrails kept in the database"),
    no("policy_template", "content filter policy templates"),
];

/// Keys every entry may carry, whatever its type.
#[rustfmt::skip]
pub const GUARDRAIL_COMMON: &[Row] = &[
    by_value("guardrail", GUARDRAIL_TYPES, "guardrails"),
    yes("mode", "pre_call, during_call, post_call, logging_only (one or a list)"),
    yes("default_on", "run on every call"),
    yes("unreachable_fallback", "fail_closed or fail_open when the service fails"),
    yes("timeout", "bound on the guardrail's service call"),
    no("experimental_use_latest_role_message_only", "guardrails see every text of the call"),
    no("skip_system_message_in_guardrail", "guardrails see every text of the call"),
    no("skip_tool_message_in_guardrail", "guardrails see every text of the call"),
    no("violation_message_template", "custom block messages"),
    no("end_session_after_n_fails", "realtime API"),
    no("on_violation", "realtime API"),
    no("realtime_violation_message", "realtime API"),
    no("on_sensitive_data", "sensitive-data routing"),
    no("sensitive_data_route_to_model", "sensitive-data routing"),
    no("run_in_parallel", "a mode's guardrails run one after another"),
    no("scan_raw_request", "a mode's guardrails see what the previous one masked"),
    no("only_scan_new_messages", "guardrails see every text of the call"),
    no("stream_scope", "post-call guardrails check a stream whole"),
    no("logging_only_scope", "logging_only guardrails"),
    no("mask_request_content", "masking as the guardrail answers"),
    no("mask_response_content", "masking as the guardrail answers"),
];

#[rustfmt::skip]
pub const CONTENT_FILTER: &[Row] = &[
    yes("patterns", "prebuilt and regex patterns"),
    yes("blocked_words", "keywords, BLOCK or MASK"),
    yes("pattern_redaction_format", "pattern mask"),
    yes("keyword_redaction_tag", "keyword mask"),
    no("blocked_words_file", "content filter word files (refused at start)"),
    no("categories", "content filter categories"),
    no("severity_threshold", "content filter categories"),
    no("image_model", "content filter image checks"),
    no("competitor_intent_config", "content filter competitor intent"),
];

#[rustfmt::skip]
pub const GENERIC_API: &[Row] = &[
    yes("api_base", "the service's base URL"),
    yes("api_key", "sent as x-api-key"),
    yes("headers", "sent as given"),
    yes("additional_provider_specific_params", "posted with the texts"),
    no("fail_on_error", "use unreachable_fallback"),
    no("forward_messages_as_sent", "structured messages to the generic guardrail API"),
    no("extra_headers", "client headers forwarded to the generic guardrail API"),
    no("num_retries", "guardrail call retries"),
    no("streaming_end_of_stream_only", "post-call guardrails check a stream whole"),
    no("streaming_sampling_rate", "post-call guardrails check a stream whole"),
    no("streaming_transform_mode", "post-call guardrails check a stream whole"),
    no("streaming_buffer_until_moderated", "post-call guardrails check a stream whole"),
];

#[rustfmt::skip]
pub const OPENAI_MODERATION: &[Row] = &[
    yes("api_key", "OpenAI key"),
    yes("api_base", "OpenAI base URL"),
    yes("model", "moderation model"),
    no("streaming_end_of_stream_only", "post-call guardrails check a stream whole"),
    no("streaming_sampling_rate", "post-call guardrails check a stream whole"),
];

#[rustfmt::skip]
pub const PRESIDIO: &[Row] = &[
    yes("presidio_analyzer_api_base", "analyzer URL"),
    yes("presidio_anonymizer_api_base", "anonymizer URL"),
    yes("presidio_language", "analysis language"),
    yes("pii_entities_config", "entity types, MASK or BLOCK"),
    // `true` refuses the start (presidio.rs); `false` asks nothing.
    yes("output_parse_pii", "refused at start when true"),
    no("presidio_filter_scope", "Presidio input/output scope (use mode)"),
    no("presidio_run_on", "Presidio input/output scope (use mode)"),
    no("presidio_score_thresholds", "Presidio score thresholds"),
    no("presidio_entities_deny_list", "Presidio entity deny list"),
    no("presidio_ad_hoc_recognizers", "Presidio ad-hoc recognizers"),
    no("presidio_analyze_chunk_size_bytes", "Presidio chunked analysis"),
    no("mock_redacted_text", "Presidio test answers"),
    no("mask_pii_fail_closed", "use unreachable_fallback"),
];

#[rustfmt::skip]
pub const LAKERA_V2: &[Row] = &[
    yes("api_key", "bearer key"),
    yes("api_base", "Lakera base URL"),
    yes("project_id", "sent to Lakera"),
    yes("payload", "sent to Lakera"),
    yes("breakdown", "sent to Lakera"),
    yes("metadata", "sent to Lakera"),
    yes("dev_info", "sent to Lakera"),
    yes("on_flagged", "block or monitor"),
];

#[rustfmt::skip]
pub const APORIA: &[Row] = &[
    yes("api_key", "X-APORIA-API-KEY"),
    yes("api_base", "Aporia base URL"),
];

#[rustfmt::skip]
pub const BEDROCK: &[Row] = &[
    yes("guardrailIdentifier", "the guardrail's id"),
    yes("guardrailVersion", "the guardrail's version"),
    yes("aws_region_name", "region"),
    yes("aws_access_key_id", "AWS credentials"),
    yes("aws_secret_access_key", "AWS credentials"),
    yes("aws_session_token", "AWS credentials"),
    yes("aws_session_name", "AWS credentials"),
    yes("aws_profile_name", "AWS credentials"),
    yes("aws_role_name", "AWS credentials"),
    yes("aws_web_identity_token", "AWS credentials"),
    yes("aws_sts_endpoint", "AWS credentials"),
    yes("aws_external_id", "AWS credentials"),
    yes("aws_bedrock_runtime_endpoint", "runtime endpoint"),
    // Bedrock's masked outputs are applied whenever it returns them (as LiteLLM 1.110).
    yes("mask_request_content", "Bedrock's masked outputs replace the request's texts"),
    yes("mask_response_content", "Bedrock's masked outputs replace the answer's texts"),
    yes("disable_exception_on_block", "a block answered 200 with Bedrock's blocked message (chat completions)"),
    yes("outputScope", "sent to ApplyGuardrail"),
    no("checks", "Bedrock InvokeGuardrailChecks"),
    no("content_filter_threshold", "Bedrock InvokeGuardrailChecks"),
    no("prompt_attack_threshold", "Bedrock InvokeGuardrailChecks"),
    no("pii_confidence_threshold", "Bedrock InvokeGuardrailChecks"),
    no("chunk_budget_chars", "Bedrock request chunking"),
    no("contextual_grounding_from_messages", "Bedrock contextual grounding"),
    no("skip_unscannable_attachments", "Bedrock attachment scans"),
    no("streaming_buffer_until_moderated", "post-call guardrails check a stream whole"),
    no("streaming_sampling_rate", "post-call guardrails check a stream whole"),
    no("streaming_end_of_stream_only", "post-call guardrails check a stream whole"),
    no("streaming_buffer_release_on_scan", "post-call guardrails check a stream whole"),
    no("streaming_scan_in_background", "post-call guardrails check a stream whole"),
];

#[rustfmt::skip]
pub const AZURE_TEXT_MODERATIONS: &[Row] = &[
    yes("api_key", "Ocp-Apim-Subscription-Key"),
    yes("api_base", "Content Safety endpoint"),
    yes("api_version", "api-version"),
    yes("severity_threshold", "blocking severity, every category"),
    yes("severity_threshold_by_category", "blocking severity per category"),
    yes("categories", "categories analysed"),
    yes("blocklistNames", "sent to text:analyze"),
    yes("haltOnBlocklistHit", "sent to text:analyze"),
    yes("outputType", "sent to text:analyze"),
];

#[rustfmt::skip]
pub const AZURE_PROMPT_SHIELD: &[Row] = &[
    yes("api_key", "Ocp-Apim-Subscription-Key"),
    yes("api_base", "Content Safety endpoint"),
    yes("api_version", "api-version"),
    no("cost_tier", "Azure Prompt Shield cost tracking"),
    no("price_per_1000_text_records", "Azure Prompt Shield cost tracking"),
];

/// Each type llmgate runs, with the keys it reads (beside [`GUARDRAIL_COMMON`]).
pub const GUARDRAIL_TYPE_PARAMS: &[(&str, &[Row])] = &[
    ("litellm_content_filter", CONTENT_FILTER),
    ("generic_guardrail_api", GENERIC_API),
    ("openai_moderation", OPENAI_MODERATION),
    ("presidio", PRESIDIO),
    ("lakera_v2", LAKERA_V2),
    ("aporia", APORIA),
    ("bedrock", BEDROCK),
    ("azure/text_moderations", AZURE_TEXT_MODERATIONS),
    ("azure/prompt_shield", AZURE_PROMPT_SHIELD),
];

/// LiteLLM 1.110's `LitellmParams` fields: a key here that the entry's type does not read is
/// another type's (ignored); a key in none of these tables is not LiteLLM's at all.
#[rustfmt::skip]
pub const LITELLM_GUARDRAIL_KEYS: &[&str] = &[
    "action", "additional_provider_specific_params", "advisory_system_message", "akto_account_id",
    "akto_api_key", "akto_base_url", "akto_metadata", "akto_vxlan_id", "anonymize_input",
    "api_base", "api_endpoint", "api_id", "api_key", "api_version", "application",
    "application_id", "assertions", "asset_id", "async_mode", "auth_token",
    "aws_access_key_id", "aws_bedrock_runtime_endpoint", "aws_external_id", "aws_profile_name",
    "aws_region_name", "aws_role_name", "aws_secret_access_key", "aws_session_name",
    "aws_session_token", "aws_sts_endpoint", "aws_web_identity_token", "base_url",
    "block_failures", "block_on_error", "block_on_violation", "blocked_languages",
    "blocked_words", "blocked_words_file", "breakdown", "categories", "category_thresholds",
    "ccr_retrieval", "checks", "chunk_budget_chars", "client_id", "client_secret",
    "confidence_threshold", "config", "content_filter_threshold", "content_moderation_check",
    "context_source", "contextual_grounding_from_messages", "credentials", "custom_code",
    "decision_model", "deepkeep_firewall_id", "default_action", "default_on",
    "deployment_name", "detect_execution_intent", "detect_secrets_config", "detector_id",
    "detectors", "dev_info", "disable_exception_on_block", "end_session_after_n_fails",
    "evaluation_id", "experimental_use_latest_role_message_only", "extra_headers",
    "fail_on_error", "file_checkpoint_id", "file_guardrail_timeout", "forward_messages_as_sent",
    "gateway_name", "grounding_check", "grounding_strictness", "guard_name", "guardrail",
    "guardrailIdentifier", "guardrailVersion", "guardrail_timeout", "hallucinations_check",
    "include_evidence", "include_scanners", "inspect_embeddings", "is_detector_server",
    "keyword_redaction_tag", "lasso_conversation_id", "lasso_user_id", "location",
    "logging_only_continue_on_input_failure", "logging_only_scope", "mask",
    "mask_request_content", "mask_response_content", "max_concurrent_decision_calls",
    "max_input_chars", "mcp_block_behavior", "metadata", "mock_redacted_text", "mode", "model",
    "monitor_mode", "num_retries", "on_disallowed_action", "on_flagged", "on_flagged_action",
    "on_sensitive_data", "on_violation", "only_scan_new_messages", "optional_params",
    "outputScope", "output_parse_pii", "pangea_input_recipe", "pangea_output_recipe",
    "pattern_redaction_format", "patterns", "payload", "persist_session", "pii_check",
    "pii_confidence_threshold", "pii_entities_config", "policy_id", "policy_name",
    "policy_names", "post_checkpoint_id", "pre_checkpoint_id", "presidio_ad_hoc_recognizers",
    "presidio_analyze_chunk_size_bytes", "presidio_analyzer_api_base",
    "presidio_anonymizer_api_base", "presidio_entities_deny_list", "presidio_filter_scope",
    "presidio_language", "presidio_run_on", "presidio_score_thresholds", "project_id",
    "prompt_attack_threshold", "prompt_injections", "realtime_violation_message", "rules",
    "run_in_parallel", "sanitize_error_detail", "scan_only_tool_results", "scan_raw_request",
    "send_user_api_key_alias", "send_user_api_key_team_id", "send_user_api_key_user_id",
    "sensitive_data_route_to_model", "severity_threshold", "singulr_api_base",
    "singulr_api_key", "singulr_application_id", "singulr_guardrail_id",
    "skip_system_message_in_guardrail", "skip_tool_message_in_guardrail",
    "skip_unscannable_attachments", "sticky_session_routing", "stream_scope", "template_id",
    "tenant_id", "timeout", "tool_selection_quality_check", "tracker_api_base",
    "tracker_api_key", "unreachable_fallback", "use_v2", "verify_ssl", "version",
    "violation_message_template", "wingback_app_id", "xecguard_model",
];
