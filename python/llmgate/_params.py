"""How a call's keyword arguments divide, as LiteLLM divides them: LiteLLM's own parameters
(credentials, timeouts, retries, provider settings) go to the engine's call options; the rest is
the request body the provider translates."""
from __future__ import annotations

# Call options, never sent in the request body.
OPTION_KEYS = frozenset({
    "api_key", "api_base", "api_version", "organization", "timeout", "stream_timeout",
    "extra_headers", "drop_params", "mock_response", "num_retries", "custom_llm_provider",
    "input_cost_per_token", "output_cost_per_token", "base_model", "region_name",
    "tenant_id", "client_id", "client_secret", "azure_ad_token", "azure_username",
    "azure_password", "azure_scope", "hf_model_name", "media_url_allowlist", "project_id",
    "space_id", "zen_api_key",
})
# Provider settings by prefix (aws_region_name, vertex_project, watsonx_credentials, ...).
OPTION_PREFIXES = ("aws_", "vertex_", "watsonx_", "wx_", "azure_")
# Other names LiteLLM accepts for an option.
ALIASES = {"base_url": "api_base", "request_timeout": "timeout", "max_retries": "num_retries"}
# LiteLLM's logging and bookkeeping parameters: they shape no request, so they are not sent.
IGNORED = frozenset({
    "metadata", "litellm_metadata", "litellm_call_id", "litellm_logging_obj", "logger_fn",
    "litellm_trace_id", "litellm_session_id", "verbose", "no-log", "proxy_server_request",
    "litellm_request_debug", "acompletion", "aembedding", "arerank", "atext_completion",
})
# LiteLLM parameters this package does not implement: an error names them rather than send
# them to the provider or ignore them.
UNSUPPORTED = frozenset({
    "fallbacks", "context_window_fallback_dict", "model_list", "retry_policy", "retry_strategy",
    "caching", "cache", "mock_timeout", "mock_tool_calls", "custom_prompt_dict",
    "input_cost_per_second", "output_cost_per_second", "cooldown_time", "azure_ad_token_provider",
    "ssl_verify", "client", "shared_session", "guardrails", "prompt_id", "prompt_variables",
})


def split(model: str, kwargs: dict, defaults: dict):
    """``(body, params)``: the request body and the call's options (LiteLLM's litellm_params)."""
    from .exceptions import UnsupportedParamsError

    body = {}
    params = {"model": model}
    headers = {}
    for k, v in kwargs.items():
        k = ALIASES.get(k, k)
        if k in OPTION_KEYS or k.startswith(OPTION_PREFIXES):
            if v is None:
                continue
            if k == "extra_headers":
                headers.update(v)
            elif k == "timeout" and not isinstance(v, (int, float)):
                # An httpx.Timeout: its read timeout, as the whole-call bound.
                v = getattr(v, "read", None) or getattr(v, "connect", None)
                if v is not None:
                    params[k] = float(v)
            else:
                params[k] = v
        elif k == "headers":
            if v:
                headers.update(v)
        elif k in IGNORED:
            continue
        elif k in UNSUPPORTED:
            if v is None:
                continue
            raise UnsupportedParamsError(
                f"llmgate does not support the `{k}` parameter of LiteLLM's SDK calls"
                + ("; use llmgate.Router" if k in ("fallbacks", "model_list", "retry_policy") else ""),
                model=model,
            )
        elif v is not None:
            body[k] = v
    if headers:
        params["extra_headers"] = {str(k): str(v) for k, v in headers.items()}
    for k, v in defaults.items():
        if v is not None and k not in params:
            params[k] = v
    return body, params
