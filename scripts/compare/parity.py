#!/usr/bin/env python3
"""Side-by-side parity harness: llmgate (the proxy) vs LiteLLM (the SDK), on the same mock.

Dev tool, NOT part of the test command (scripts/test.sh, CI): it needs LiteLLM installed
(and google-auth for vertex_ai: both sides sign in at the mock's /token endpoint with its test
service account; without google-auth vertex_ai is skipped).
It starts `llmgate-mock --port 0` and the real `llmgate` binary (generated config.yaml, no
master key, LLMGATE_DB_PATH in a temp dir). For every provider x case it sends one request
  (a) through llmgate with the official `openai` client, and
  (b) with `litellm.completion(model="<provider>/<model>", api_base=..., api_key=...)` to the mock
      (`litellm.text_completion` for the legacy-completion cases, e.g. Codestral's FIM),
then compares
  (i)  the upstream request the mock recorded (method, path, query, auth/version headers, body;
       objects compare regardless of key order, but the key order of schemas -- tool
       parameters, response schemas -- is checked and reported on its own; Gemini/Vertex
       bodies are camelized first, since protobuf JSON takes snake_case and camelCase alike;
       `anthropic-beta` compares as a set, LiteLLM joins a Python set; Vertex's OAuth token
       exchange at /token is auth, not the call, and is left out), and
  (ii) what the client saw: choices / message / finish_reason / tool_calls / usage (ids,
       timestamps, model names, Nones and zero usage details dropped; tool arguments as JSON);
       errors by status code and the openai class that status gives a proxy client (an
       upstream 529 counts as the 503 LiteLLM's proxy answers for it); streams by concatenated
       content, reasoning_content, tool arguments, finish_reason, usage and chunk count (+-2).
       DEEPER providers (anthropic) compare more: error bodies (type/code/param as LiteLLM's
       proxy builds them), and in streams thinking blocks and each tool call's start.
Noted but not counted: upstream attempts (retries are proxy policy), and the class of an error
that ends a stream already started (a proxy has no status to give after its 200).

Cases: the shared CASES run on every provider (unless it has "own_cases_only"), plus the
provider's own table in EXTRA_CASES. Mock behaviours are picked by model name (behaviour.rs),
or, for a provider in MARKED, by a header (`x-mock-model` on the OpenAI-compatible mock,
`x-mock-behaviour` on the Anthropic and Google mocks) while the request names a real catalog
model, so catalog lookups (default max_tokens, system-prompt support, ...) stay real.
A case whose every difference matches a DELIBERATE entry -- and only while the README's "llmgate
and LiteLLM" table has the row that entry names (the reason is there) -- is reported as
"deliberate (README: <row>)", counted apart from "same"; anything else "differs".

    /work/litellm-venv/bin/python scripts/compare/parity.py [--verbose] [--only PROVIDER ...]
        [--case CASE ...] [--bin DIR]   # default: $CARGO_TARGET_DIR/debug or ~/.cache/llmgate/target/debug

Always exits 0: it is a report, not a gate.
"""
import argparse, json, os, re, socket, subprocess, sys, tempfile, time, traceback, urllib.request

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch at import
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # LiteLLM's token counter: no tokenizer download (tiktoken instead)
KEY = "sk-upstream-parity"
# Mock behaviours for error roles (the model name, or the header value for MARKED providers).
ERRS = {"e429": "mock-error-429", "e500": "mock-error-500", "ctx": "mock-context-window",
        "serr": "mock-stream-error", **{f"e{c}": f"mock-error-{c}" for c in (400, 401, 403, 404, 413, 503)},
        "cfilter": "mock-content-filter"}
# Upstream model per role and provider. A role not listed is an ERRS behaviour or (anthropic) a
# model name of its own; a MARKED role sends the `normal` model and names its behaviour in a header.
PROVIDERS = {
    "openai": {"normal": "gpt-4o", "tool": "gpt-4o-tool", "base": "/v1", "reasoner": "o3-mini",
               "gpt5": "gpt-5-mini"},
    "mistral": {"normal": "mistral-small-latest", "tool": "mistral-small-tool", "base": "/v1",
                "reasoner": "magistral-medium-latest"},
    "azure": {"normal": "gpt-4o", "tool": "gpt-4o-tool", "base": "", "api_version": "2024-10-21",
              "reasoner": "o3-mini", "gpt5": "gpt-5-mini"},
    "anthropic": {"normal": "claude-haiku-4-5", "tool": "claude-tool", "base": ""},
    "gemini": {"normal": "gemini-2.5-flash", "tool": "gemini-2.5-flash", "base": "/v1beta",
               "gemma": "gemma-3-27b-it", "g3": "gemini-3-pro-preview", "badkey": "gemini-2.5-flash"},
    "vertex_ai": {"normal": "gemini-2.5-flash", "tool": "gemini-2.5-flash", "base": "", "vertex": True,
                  "g3": "gemini-3-pro-preview"},
    # ---- OpenAI-compatible vendors: other rows of llmgate's table, on the OpenAI mock.
    "groq": {"normal": "llama-3.3-70b-versatile", "tool": "llama-3.3-70b-tool", "base": "/openai/v1"},
    "deepseek": {"normal": "deepseek-chat", "tool": "deepseek-chat-tool", "base": "/v1"},
    "together_ai": {"normal": "meta-llama/Llama-3.3-70B-Instruct-Turbo", "tool": "llama-tool", "base": "/v1"},
    "fireworks_ai": {"normal": "accounts/fireworks/models/llama-v3p1-8b-instruct", "tool": "llama-tool",
                     "base": "/v1"},
    "openrouter": {"normal": "openai/gpt-4o", "tool": "openai/gpt-4o-tool", "base": "/v1"},
    "xai": {"normal": "grok-3", "tool": "grok-3-tool", "base": "/v1"},
    "perplexity": {"normal": "sonar", "tool": "sonar-tool", "base": "/v1"},
    "cerebras": {"normal": "llama3.1-8b", "tool": "llama-tool", "base": "/v1"},
    "deepinfra": {"normal": "meta-llama/Meta-Llama-3.1-8B-Instruct", "tool": "llama-tool", "base": "/v1"},
    # Codestral's fill-in-the-middle (legacy completions; its api_base is the endpoint): FIM cases only.
    "text-completion-codestral": {"normal": "codestral-latest", "tool": "codestral-tool",
                                  "base": "/v1/fim/completions", "own_cases_only": True},
}
VENDORS = ["groq", "deepseek", "together_ai", "fireworks_ai", "openrouter", "xai", "perplexity", "cerebras",
           "deepinfra"]
OPENAI_LIKE = {"openai", "azure", "mistral", *VENDORS}
NO_STREAM_OPTIONS = {"perplexity", "cerebras", "deepinfra"}  # LiteLLM sends them no stream_options
GOOGLE = {"gemini", "vertex_ai"}
ROLE_KEY = {"badkey": "bad-key-parity"}  # the mock answers a `bad-` key as Google does (400)
VERTEX_PROJECT, VERTEX_LOCATION = "mock-project", "us-central1"
# Tool schema and response schema with deliberately non-alphabetical property order.
TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {
        "location": {"type": "string", "description": "City"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer"}}, "required": ["location"]}}}]
SCHEMA = {"type": "json_schema", "json_schema": {"name": "person", "strict": True, "schema": {
    "type": "object", "properties": {"zname": {"type": "string"}, "age": {"type": "integer"},
                                     "mid": {"type": "string"}},
    "required": ["zname", "age", "mid"], "additionalProperties": False}}}
PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Bw"
       "HwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
HI = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
FOLLOW_UP = [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 21}'}]
# case -> (model role, request params): shared by every provider.
CASES = {
    "plain": ("normal", {"messages": HI, "temperature": 0.2, "max_tokens": 50}),
    "stream": ("normal", {"messages": HI, "stream": True}),
    "stream_usage": ("normal", {"messages": HI, "stream": True, "stream_options": {"include_usage": True}}),
    "tools": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "tool_choice": "auto"}),
    "tools_stream": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "stream": True}),
    "tool_follow_up": ("tool", {"messages": FOLLOW_UP, "tools": TOOLS}),
    "json_schema": ("normal", {"messages": HI, "response_format": SCHEMA}),
    "reasoning": ("normal", {"messages": HI, "reasoning_effort": "low"}),
    "image": ("normal", {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": PNG}}]}]}),
    "error_429": ("e429", {"messages": HI}),
    "error_500": ("e500", {"messages": HI}),
    "context_window": ("ctx", {"messages": HI}),
    "stream_error": ("serr", {"messages": HI, "stream": True}),
}
# Request headers worth comparing (others: user-agent, content-length, ... are noise).
HEADERS = {"authorization", "api-key", "x-api-key", "x-goog-api-key", "anthropic-version",
           "anthropic-beta", "content-type"}
VOLATILE = {"id", "created", "system_fingerprint", "model", "response_ms", "_response_ms",
            "_hidden_params", "object", "service_tier"}

# ---------------------------------------------------------------- per-provider cases
# ---- OpenAI-compatible rows (openai, azure, mistral, VENDORS); a case whose role the provider
# lacks (reasoner, gpt5) is left out for it.
OPENAI_CASES = {
    "n2": ("normal", {"messages": HI, "n": 2}),
    "logprobs": ("normal", {"messages": HI, "logprobs": True, "top_logprobs": 2}),
    "stop_seed": ("normal", {"messages": HI, "stop": ["\n\n", "END"], "seed": 7, "top_p": 0.9}),
    "penalties": ("normal", {"messages": HI, "presence_penalty": 0.5, "frequency_penalty": 0.1}),
    "user": ("normal", {"messages": HI, "user": "end-user-1"}),
    "max_completion": ("normal", {"messages": HI, "max_completion_tokens": 20}),
    "developer_role": ("normal", {"messages": [{"role": "developer", "content": "Be brief."},
                                               {"role": "user", "content": "Hi"}]}),
    "json_object": ("normal", {"messages": HI, "response_format": {"type": "json_object"}}),
    "parallel_tools": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "parallel_tool_calls": False}),
    "tool_required": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "tool_choice": "required"}),
    "tool_none": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "tool_choice": "none"}),
    "tool_named": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS,
                            "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}),
    "reasoner": ("reasoner", {"messages": HI, "max_tokens": 30, "reasoning_effort": "low"}),
    "reasoner_temp": ("reasoner", {"messages": HI, "temperature": 0.3}),
    "gpt5": ("gpt5", {"messages": HI, "max_tokens": 30, "reasoning_effort": "low"}),
    "gpt5_temp": ("gpt5", {"messages": HI, "temperature": 0.3}),
    "gpt5_sampling": ("gpt5", {"messages": HI, "top_p": 0.5, "stop": ["END"]}),
    "reasoner_stream": ("reasoner", {"messages": HI, "stream": True, "stream_options": {"include_usage": True},
                                     "reasoning_effort": "high"}),
    **{f"error_{c}": (f"e{c}", {"messages": HI}) for c in (400, 401, 403, 404, 413, 503)},
    "content_filter": ("cfilter", {"messages": HI}),
    "prefix": ("normal", {"messages": [{"role": "user", "content": "Say hi in French"},
                                       {"role": "assistant", "content": "Bonjour", "prefix": True}]}),
    "stream_n2": ("normal", {"messages": HI, "stream": True, "n": 2, "stream_options": {"include_usage": True}}),
}
# `_endpoint: completions`: a legacy completion (client.completions / litellm.text_completion).
FIM = {"_endpoint": "completions", "prompt": "def f(", "suffix": "return 1", "max_tokens": 20, "seed": 3,
       "temperature": 0.1, "stop": ["\n\n"], "user": "u1"}
FIM_CASES = {
    "fim": ("normal", FIM),
    "fim_stream": ("normal", {**FIM, "stream": True}),
    "fim_refused": ("normal", {"_endpoint": "completions", "prompt": "def f(", "logprobs": 2}),
}

# ---- Anthropic (roles: `normal`, `tool`, MARKED behaviours, or a model name of its own).
PDF = "data:application/pdf;base64,JVBERi0xLjQKJcfsj6IKMSAwIG9iago8PD4+CmVuZG9iagp0cmFpbGVyCjw8Pj4KJSVFT0YK"
CACHED = [{"role": "system", "content": [{"type": "text", "text": "Long policy.", "cache_control": {"type": "ephemeral"}}]},
          {"role": "user", "content": [{"type": "text", "text": "Hi", "cache_control": {"type": "ephemeral", "ttl": "1h"}}]}]
CONSTRAINED = {"type": "json_schema", "json_schema": {"name": "c", "schema": {
    "type": "object", "properties": {"age": {"type": "integer", "minimum": 0, "maximum": 150},
                                     "tags": {"type": "array", "items": {"type": "string", "maxLength": 9},
                                              "maxItems": 3},
                                     "kind": {"oneOf": [{"type": "string"}, {"type": "null"}]}},
    "required": ["age", "tags", "kind"]}}}
OPEN = {"type": "json_schema", "json_schema": {"name": "o", "schema": {
    "type": "object", "properties": {"extra": {"type": "object", "additionalProperties": {"type": "string"}}}}}}
ANTHROPIC_CASES = {
    "reasoning_stream": ("normal", {"messages": HI, "reasoning_effort": "medium", "stream": True,
                                    "stream_options": {"include_usage": True}}),
    "thinking_param": ("normal", {"messages": HI, "extra_body": {"thinking": {"type": "enabled", "budget_tokens": 2048}}}),
    "thinking_max_tokens": ("normal", {"messages": HI, "reasoning_effort": "low", "max_tokens": 500}),
    "adaptive_effort": ("claude-opus-4-6", {"messages": HI, "reasoning_effort": "high"}),
    "adaptive_thinking": ("claude-haiku-4-5", {"messages": HI, "extra_body": {"thinking": {"type": "adaptive"}}}),
    "cache_control": ("normal", {"messages": CACHED}),
    "tool_choice_required": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "tool_choice": "required"}),
    "tool_choice_named": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS,
                                   "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}),
    "tool_choice_none": ("normal", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "tool_choice": "none"}),
    "parallel_off": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "parallel_tool_calls": False}),
    "parallel_calls": ("mock-tool-parallel", {"messages": FOLLOW_UP[:1], "tools": TOOLS}),
    "parallel_stream": ("mock-tool-parallel", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "stream": True}),
    "tools_thinking": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "reasoning_effort": "low"}),
    "stop_user": ("normal", {"messages": HI, "stop": ["END", "STOP"], "user": "user-123", "top_p": 0.9}),
    "max_completion": ("normal", {"messages": HI, "max_completion_tokens": 77}),
    "developer_role": ("normal", {"messages": [{"role": "developer", "content": "Be terse."}, HI[1]]}),
    "pdf": ("normal", {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "Summarise"}, {"type": "file", "file": {"file_data": PDF, "filename": "a.pdf"}}]}]}),
    "prefill": ("normal", {"messages": [HI[1], {"role": "assistant", "content": "Sure:"}]}),
    "json_constraints": ("normal", {"messages": HI, "response_format": CONSTRAINED}),
    "json_open": ("normal", {"messages": HI, "response_format": OPEN}),
    "json_object": ("normal", {"messages": HI, "response_format": {"type": "json_object"}}),
    "unknown_model": ("claude-mock-unknown", {"messages": HI}),
    "mid_system": ("normal", {"messages": [HI[1], {"role": "assistant", "content": "Hello."},
                                           {"role": "system", "content": "Now be formal."},
                                           {"role": "user", "content": "Again"}]}),
    **{f"mid_system_{m.split('-', 1)[1]}": (m, {"messages": [
        HI[1], {"role": "system", "content": "After a user turn."}, {"role": "assistant", "content": "Hello."},
        {"role": "system", "content": "After an assistant turn."}, {"role": "user", "content": "Again"},
        {"role": "assistant", "content": None, "tool_calls": FOLLOW_UP[1]["tool_calls"]},
        {"role": "system", "content": "Before a tool result."}, FOLLOW_UP[2],
        {"role": "system", "content": "At the end."}], "tools": TOOLS}) for m in ("claude-opus-4-8", "claude-opus-5")},
    "two_users": ("normal", {"messages": [{"role": "user", "content": "A"}, {"role": "user", "content": "B"}]}),
    "tool_result_parts": ("tool", {"messages": FOLLOW_UP[:2] + [{"role": "tool", "tool_call_id": "call_1", "content": [
        {"type": "text", "text": "21 C"}]}], "tools": TOOLS}),
    "assistant_text_tools": ("tool", {"messages": [FOLLOW_UP[0], {**FOLLOW_UP[1], "content": "Checking."}, FOLLOW_UP[2]],
                                      "tools": TOOLS}),
    "tools_no_tools_param": ("normal", {"messages": FOLLOW_UP}),
    "msg_cache_control": ("normal", {"messages": [{"role": "user", "content": "Hi", "cache_control": {"type": "ephemeral"}}]}),
    "tool_cache_control": ("tool", {"messages": FOLLOW_UP[:1], "tools": [{**TOOLS[0], "cache_control": {"type": "ephemeral"}}]}),
    "stop_string": ("normal", {"messages": HI, "stop": "END"}),
    "user_email": ("normal", {"messages": HI, "user": "a@b.com"}),
    "top_k": ("normal", {"messages": HI, "extra_body": {"top_k": 5}}),
    "service_tier": ("normal", {"messages": HI, "service_tier": "auto"}),
    "web_search": ("normal", {"messages": HI, "web_search_options": {"search_context_size": "medium"}}),
    "seed_unsupported": ("normal", {"messages": HI, "seed": 3}),
    "n_unsupported": ("normal", {"messages": HI, "n": 2}),
    "json_stream": ("normal", {"messages": HI, "response_format": SCHEMA, "stream": True}),
    "tools_stream_usage": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "stream": True,
                                    "stream_options": {"include_usage": True}}),
    "thinking_tools_stream": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "reasoning_effort": "low",
                                       "stream": True}),
    "cache_usage": ("mock-cache", {"messages": HI}),
    "cache_usage_stream": ("mock-cache", {"messages": HI, "stream": True, "stream_options": {"include_usage": True}}),
    "stream_529": ("e529", {"messages": HI, "stream": True}),
    "stream_429": ("e429", {"messages": HI, "stream": True}),
    "tool_choice_auto_dict": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "tool_choice": {"type": "auto"}}),
    "parallel_on": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "parallel_tool_calls": True}),
    "thinking_replay": ("normal", {"messages": [FOLLOW_UP[0], {**FOLLOW_UP[1], "thinking_blocks": [
        {"type": "thinking", "thinking": "Need weather.", "signature": "sig-1"}]}, FOLLOW_UP[2]],
        "tools": TOOLS, "reasoning_effort": "low"}),
    "pdf_url": ("normal", {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "Read"}, {"type": "file", "file": {"file_id": "https://example.com/a.pdf"}}]}]}),
    "file_id": ("normal", {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "Read"}, {"type": "file", "file": {"file_id": "file_011abc"}}]}]}),
    "json_with_tools": ("normal", {"messages": HI, "response_format": SCHEMA, "tools": TOOLS}),
    "json_thinking": ("normal", {"messages": HI, "response_format": SCHEMA, "reasoning_effort": "low"}),
    "logprobs": ("normal", {"messages": HI, "logprobs": True}),
    "user_name_field": ("normal", {"messages": [{"role": "user", "content": "Hi", "name": "bob"}]}),
    "empty_assistant": ("tool", {"messages": [FOLLOW_UP[0], {**FOLLOW_UP[1], "content": ""}, FOLLOW_UP[2]],
                                 "tools": TOOLS}),
    "temperature_high": ("normal", {"messages": HI, "temperature": 1.5}),
    "tool_names": ("tool", {"messages": FOLLOW_UP[:1], "tools": [
        {**TOOLS[0], "function": {**TOOLS[0]["function"], "name": "weather/get.now"}}]}),
    "tool_names_stream": ("tool", {"messages": FOLLOW_UP[:1], "stream": True, "tools": [
        {**TOOLS[0], "function": {**TOOLS[0]["function"], "name": "weather/get.now"}}]}),
    "computer_tool": ("normal", {"messages": HI, "tools": [{"type": "computer_20250124", "function": {
        "name": "computer", "parameters": {"display_width_px": 1024, "display_height_px": 768}}}]}),
    "bash_tool": ("normal", {"messages": HI, "tools": [{"type": "bash_20250124", "name": "bash"}]}),
    "anthropic_tool": ("normal", {"messages": HI, "tools": [
        {"name": "lookup", "input_schema": {"type": "object", "properties": {}}}]}),
    **{f"stop_{r}": (f"mock-stop-{r}", {"messages": HI}) for r in ("max_tokens", "stop_sequence", "refusal", "pause_turn")},
    "stop_max_tokens_stream": ("mock-stop-max_tokens", {"messages": HI, "stream": True}),
    "json_open_stream": ("normal", {"messages": HI, "response_format": OPEN, "stream": True}),
    "json_tool_thinking": ("tool", {"messages": HI, "response_format": OPEN, "reasoning_effort": "low"}),
    "tool_result_image": ("tool", {"messages": FOLLOW_UP[:2] + [{"role": "tool", "tool_call_id": "call_1", "content": [
        {"type": "text", "text": "map"}, {"type": "image_url", "image_url": {"url": PNG}}]}], "tools": TOOLS}),
    "stop_refusal_stream": ("mock-stop-refusal", {"messages": HI, "stream": True}),
    "prefix": ("normal", {"messages": [HI[1], {"role": "assistant", "content": "Sure:", "prefix": True}]}),
    "sampling_removed": ("claude-opus-4-7", {"messages": HI, "temperature": 0.5}),
    "sampling_temperature_1": ("claude-opus-4-7", {"messages": HI, "temperature": 1}),
    "sampling_top_p": ("claude-opus-4-7", {"messages": HI, "top_p": 0.9}),
    "top_k_removed": ("claude-opus-4-7", {"messages": HI, "extra_body": {"top_k": 5}}),
    "empty_user": ("normal", {"messages": [{"role": "user", "content": ""}, {"role": "assistant", "content": "Ok."},
                                           {"role": "user", "content": "Hi"}]}),
    "empty_assistant_text": ("normal", {"messages": [HI[1], {"role": "assistant", "content": ""},
                                                     {"role": "user", "content": "Again"}]}),
    "whitespace_text": ("normal", {"messages": [{"role": "user", "content": [{"type": "text", "text": " "},
                                                                             {"type": "text", "text": "Hi"}]}]}),
    "tool_empty_result": ("tool", {"messages": FOLLOW_UP[:2] + [{"role": "tool", "tool_call_id": "call_1", "content": ""}],
                                   "tools": TOOLS}),
    "metadata_user": ("normal", {"messages": HI, "metadata": {"user_id": "u-9", "team": "x"}}),
    "metadata_other": ("normal", {"messages": HI, "metadata": {"team": "x"}}),
    "effort_max_tokens_adaptive": ("claude-opus-4-6", {"messages": HI, "reasoning_effort": "high", "max_tokens": 500}),
    "adaptive_none": ("claude-opus-4-6", {"messages": HI, "reasoning_effort": "none"}),
    "adaptive_stream": ("claude-opus-4-6", {"messages": HI, "reasoning_effort": "medium", "stream": True}),
    "image_url_jpeg": ("normal", {"messages": [{"role": "user", "content": [
        {"type": "image_url", "image_url": {"url": PNG.replace("image/png", "image/jpeg"), "detail": "high"}}]}]}),
    **{f"error_{c}": (f"e{c}", {"messages": HI}) for c in (400, 401, 403, 404, 413, 503, 529)},
}

# ---- Google (gemini, vertex_ai). Per-model capabilities come from the catalog: Gemma takes no
# system instruction and does not think; Gemini 3 takes no penalties (Vertex refuses them, AI
# Studio drops them). Google's built-in tools: Search grounding (sources as annotations, searches
# counted), OpenAI's web_search_options, a search tool next to functions (dropped), code execution.
WEATHER_2 = [{"role": "user", "content": "Weather in Paris and Lyon?"}]
GOOGLE_CASES = {
    "thinking_stream": ("normal", {"messages": HI, "reasoning_effort": "low", "stream": True}),
    "tool_required": ("normal", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "tool_choice": "required"}),
    "tool_named": ("normal", {"messages": FOLLOW_UP[:1], "tools": TOOLS,
                              "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}),
    "tool_none": ("normal", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "tool_choice": "none"}),
    "parallel_tools": ("parallel", {"messages": WEATHER_2, "tools": TOOLS}),
    "parallel_stream": ("parallel", {"messages": WEATHER_2, "tools": TOOLS, "stream": True}),
    "stop_n": ("normal", {"messages": HI, "stop": ["\n\n", "END"], "n": 2, "top_p": 0.9, "seed": 7,
                          "max_completion_tokens": 40}),
    "json_object": ("normal", {"messages": HI, "response_format": {"type": "json_object"}}),
    "system_only": ("normal", {"messages": HI[:1]}),
    "safety": ("safety", {"messages": HI}),
    "blocked": ("blocked", {"messages": HI}),
    "blocked_stream": ("blocked", {"messages": HI, "stream": True}),
    "safety_stream": ("safety", {"messages": HI, "stream": True, "stream_options": {"include_usage": True}}),
    "bad_key": ("badkey", {"messages": HI}),
    # Per-model capabilities from the catalog: Gemma takes no system instruction and does not
    # think; Gemini 3 takes no penalties (Vertex refuses them, AI Studio drops them).
    "gemma_system": ("gemma", {"messages": HI}),
    "gemma_reasoning": ("gemma", {"messages": HI, "reasoning_effort": "low"}),
    "penalties_g3": ("g3", {"messages": HI, "frequency_penalty": 0.5, "presence_penalty": 0.1}),
    "penalties": ("normal", {"messages": HI, "frequency_penalty": 0.5, "presence_penalty": 0.1}),
    "logprobs": ("normal", {"messages": HI, "logprobs": True, "top_logprobs": 3}),
    "logit_bias": ("normal", {"messages": HI, "logit_bias": {"50256": -100}}),
    # Google's built-in tools: Search grounding (sources as annotations, searches counted),
    # OpenAI's web_search_options, a search tool next to functions (dropped), code execution.
    "google_search": ("normal", {"messages": HI, "tools": [{"googleSearch": {}}]}),
    "web_search_options": ("normal", {"messages": HI, "web_search_options": {}}),
    "search_and_functions": ("normal", {"messages": FOLLOW_UP[:1], "tools": [*TOOLS, {"googleSearch": {}}]}),
    "code_execution": ("normal", {"messages": HI, "tools": [{"codeExecution": {}}]}),
    # Message shapes and generation params.
    "multi_system": ("normal", {"messages": [
        {"role": "system", "content": "A"}, {"role": "system", "content": [{"type": "text", "text": "B"},
                                                                          {"type": "text", "text": "C"}]},
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}, {"role": "user", "content": "Again"}]}),
    "assistant_parts": ("normal", {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [
        {"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}, {"role": "user", "content": "c"}]}),
    "empty_user": ("normal", {"messages": [{"role": "user", "content": ""}]}),
    "tool_no_params": ("normal", {"messages": FOLLOW_UP[:1], "tools": [
        {"type": "function", "function": {"name": "now", "description": "The time"}}]}),
    "schema_defs": ("normal", {"messages": HI, "response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"type": "object", "$defs": {"p": {"type": "object", "properties": {"n": {"type": "string"}}}},
                                "properties": {"a": {"$ref": "#/$defs/p"}, "b": {"type": ["string", "null"]}},
                                "required": ["a"]}}}}),
    "reasoning_none": ("normal", {"messages": HI, "reasoning_effort": "none"}),
    "reasoning_minimal": ("normal", {"messages": HI, "reasoning_effort": "minimal"}),
    "reasoning_g3": ("g3", {"messages": HI, "reasoning_effort": "high"}),
    "modalities": ("normal", {"messages": HI, "modalities": ["text"]}),
    **{f"error_{r[1:]}": (r, {"messages": HI}) for r in ("e400", "e401", "e403", "e404", "e503")},
}


def _has_role(prov, role):
    return role in PROVIDERS[prov] or role in ERRS


# provider -> its own cases, run after the shared CASES.
EXTRA_CASES = {
    **{p: {c: v for c, v in OPENAI_CASES.items() if _has_role(p, v[0])} for p in ["openai", "azure", "mistral", *VENDORS]},
    "text-completion-codestral": FIM_CASES,
    "anthropic": ANTHROPIC_CASES,
    "gemini": GOOGLE_CASES,
    # Vertex: no API keys (OAuth) and no Gemma in its catalog.
    "vertex_ai": {c: v for c, v in GOOGLE_CASES.items() if v[0] not in ("badkey", "gemma")},
}

# Providers whose mock picks the behaviour from a header (header name, role -> behaviour, same
# names as the model-name behaviours); the request then names the provider's `normal` model, a
# real catalog entry. Unknown models change what each side sends (Anthropic's default
# max_tokens; Gemini folding the system prompt into the user turn; vendors' param support).
MOCK_HEADER = {**{p: "x-mock-model" for p in VENDORS}, "anthropic": "x-mock-behaviour",
               "gemini": "x-mock-behaviour", "vertex_ai": "x-mock-behaviour"}
MARKED = {
    **{p: {"tool": PROVIDERS[p]["tool"], **ERRS} for p in VENDORS},
    "anthropic": {"tool": "mock-tool", **ERRS, "e529": "mock-error-529", "mock-tool-parallel": "mock-tool-parallel",
                  "mock-cache": "mock-cache", **{f"mock-stop-{r}": f"mock-stop-{r}" for r in (
                      "max_tokens", "stop_sequence", "refusal", "pause_turn")}},
    **{p: {"tool": "mock-tool", "parallel": "mock-tool-parallel", "safety": "mock-safety",
           "blocked": "mock-blocked", **ERRS} for p in GOOGLE},
}

# ---------------------------------------------------------------- deliberate differences
# A difference line matching one of these is reported as "deliberate", not as agreement, and only
# while the README's "llmgate and LiteLLM" table has a row starting with the named text (the
# reason is there): (providers, cases or None for all, regex on the difference line, README row).
DELIBERATE = [
    ({"deepseek"}, None, r"^upstream \.body\.messages\[\d+\]\.content: llmgate \[.*image_url.* vs litellm \"",
     "an image to a DeepSeek model without vision"),
    (NO_STREAM_OPTIONS, {"stream_usage", "reasoner_stream", "stream_n2"},
     r"^(upstream \.body\.stream_options: only llmgate = \{\"include_usage\": true\}|answer \.usage\.\w+:.*)$",
     "a stream to a vendor whose LiteLLM config lacks `stream_options`"),
    ({"deepinfra"}, {"tool_none"}, r"^upstream \.body\.tool_choice: only llmgate = \"none\"$",
     "`tool_choice: \"none\"` to DeepInfra"),
    ({"anthropic"}, {"unknown_model"}, r"^upstream \.body\.max_tokens: llmgate 4096 vs litellm 128000$",
     "a Claude model the catalog does not know, no `max_tokens`"),
    ({"anthropic"}, {"thinking_max_tokens"}, r"^upstream \.body\.max_tokens: llmgate 1524 vs litellm 500$",
     "thinking with an explicit `max_tokens` ≤ the thinking budget (Anthropic)"),
    ({"anthropic"}, {"json_open_stream"}, r"^answer \.chunks: llmgate",
     "a JSON schema streamed through the JSON tool (Anthropic, free-form objects)"),
    (GOOGLE, {"google_search", "web_search_options"}, r"^answer \.response\.choices\[0\]\.message\.annotations",
     "Gemini grounding support of the answer's first sentence"),
]


def readme_rows():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")
    try:
        text = open(path).read()
    except OSError:
        return []
    return [l.split("|")[1].strip() for l in text.split("## llmgate and LiteLLM", 1)[-1].splitlines()
            if l.startswith("|") and l.count("|") >= 3]


def deliberate(prov, case, lines, rows):
    """The README rows explaining every line, or None when a line is not a listed difference."""
    why = []
    for line in lines:
        row = next((r for provs, cases, rx, r in DELIBERATE if prov in provs and (cases is None or case in cases)
                    and re.search(rx, line) and any(x.startswith(r) for x in rows)), None)
        if row is None:
            return None
        why.append(row)
    return sorted(set(why))


def cases_of(prov):
    """The cases run on a provider: the shared ones, then its own."""
    shared = {} if PROVIDERS[prov].get("own_cases_only") else CASES
    return {**shared, **EXTRA_CASES.get(prov, {})}


# ---------------------------------------------------------------- processes
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mock(bindir):
    p = subprocess.Popen([os.path.join(bindir, "llmgate-mock"), "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise RuntimeError(f"mock said {line!r}")
    return p, "http://" + line.removeprefix("listening on ")


def alias(prov, role):
    """llmgate's model_name for a provider's role."""
    return f"{prov}--{role}"


def upstream(prov, role):
    """(model sent upstream, headers picking the mock behaviour)."""
    p = PROVIDERS[prov]
    b = MARKED.get(prov, {}).get(role)
    if b:
        return p["normal"], {MOCK_HEADER[prov]: b}
    return p.get(role) or ERRS.get(role) or role, {}


def vertex_params(mock):
    sa = urllib.request.urlopen(mock + "/_mock/service_account").read().decode()
    return {"vertex_project": VERTEX_PROJECT, "vertex_location": VERTEX_LOCATION, "vertex_credentials": sa}


def start_gateway(bindir, mock, tmp, providers):
    rows = []
    for prov in providers:
        p = PROVIDERS[prov]
        roles = ["normal", "tool", *ERRS, *MARKED.get(prov, {}), *(v[0] for v in cases_of(prov).values())]
        for role in dict.fromkeys(roles):
            m, headers = upstream(prov, role)
            extra = "".join(f"      {k}: {json.dumps(v)}\n" for k, v in
                            (vertex_params(mock) if p.get("vertex") else {}).items())
            if "api_version" in p:
                extra += f"      api_version: \"{p['api_version']}\"\n"
            if headers:
                extra += "      extra_headers:\n" + "".join(f"        {k}: {v}\n" for k, v in headers.items())
            rows.append(f"  - model_name: {alias(prov, role)}\n    litellm_params:\n      model: {prov}/{m}\n"
                        f"      api_base: {mock}{p['base']}\n      api_key: {ROLE_KEY.get(role, KEY)}\n" + extra)
    cfg = os.path.join(tmp, "config.yaml")
    with open(cfg, "w") as f:
        f.write("model_list:\n" + "".join(rows))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_")}
    env["LLMGATE_DB_PATH"] = os.path.join(tmp, "llmgate.db")
    log = open(os.path.join(tmp, "llmgate.log"), "w")
    p = subprocess.Popen([os.path.join(bindir, "llmgate"), "--config", cfg, "--port", str(port),
                          "--host", "127.0.0.1"], stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(400):
        if p.poll() is not None:
            raise RuntimeError("llmgate exited:\n" + open(log.name).read()[-2000:])
        try:
            urllib.request.urlopen(base + "/health/liveliness", timeout=1)
            return p, base
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("llmgate did not become ready")


def recorded(mock):
    return json.load(urllib.request.urlopen(mock + "/_mock/requests"))


# ---------------------------------------------------------------- running one side
def consume(make):
    """Runs a request; returns the client-visible outcome as a plain dict."""
    out = {}
    try:
        r = make()
        if not hasattr(r, "__next__"):  # not a stream (pydantic models have __iter__ too)
            return {"response": clean(r.model_dump())}
        content, args, finish, chunks, usage, reasoning = "", "", None, 0, None, ""
        deeper = {"thinking_blocks": [], "tool_starts": []}  # compared for DEEPER providers
        out["stream"] = True
        for ch in r:  # stream: fold the chunks
            chunks += 1
            out["mid_stream"] = True  # an error from here on comes after the stream started
            d = ch.model_dump() if hasattr(ch, "model_dump") else dict(ch)
            usage = d.get("usage") or usage
            for c in d.get("choices") or []:
                delta = c.get("delta") or {}
                content += delta.get("content") or c.get("text") or ""  # chat, or legacy completion
                for tc in delta.get("tool_calls") or []:
                    args += (tc.get("function") or {}).get("arguments") or ""
                    if (tc.get("function") or {}).get("name"):
                        deeper["tool_starts"].append({"index": tc.get("index"), "id": tc.get("id"),
                                                      "name": tc["function"]["name"], "type": tc.get("type")})
                reasoning += delta.get("reasoning_content") or ""
                deeper["thinking_blocks"] += delta.get("thinking_blocks") or []
                finish = c.get("finish_reason") or finish
            out.update(content=content, tool_args=args, finish_reason=finish, chunks=chunks,
                       usage=clean(usage), deeper=clean(deeper), **({"reasoning": reasoning} if reasoning else {}))
        return out
    except Exception as e:
        out["error"] = error_shape(e)
        return out


# The class the `openai` client raises for a status: what a client of the LiteLLM proxy would
# see for a LiteLLM exception with that status_code (litellm's own classes vary by provider).
STATUS_CLASS = {400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError",
                404: "NotFoundError", 409: "ConflictError", 422: "UnprocessableEntityError",
                429: "RateLimitError"}


def error_shape(e):
    status = getattr(e, "status_code", None)
    base = next((c.__name__ for c in type(e).__mro__ if c.__module__.startswith("openai")), type(e).__name__)
    if getattr(e, "provider_status_code", None) == 529:  # the proxy answers an overload 503
        status = 503
    if isinstance(status, int):
        base = STATUS_CLASS.get(status, "InternalServerError" if status >= 500 else "APIStatusError")
    return {"class": base, "status": status, "raw_class": type(e).__name__, "message": str(e)[:160],
            "body": error_body(e, status)}


def error_body(e, status):
    """The error object's `type`, `code`, `param`: as llmgate answered it (the openai client's
    parsed body), or as LiteLLM's proxy would build it from this SDK exception."""
    if type(e).__module__.startswith("openai"):
        b = getattr(e, "body", None)
        return {k: b.get(k) for k in ("type", "code", "param")} if isinstance(b, dict) else None
    if not isinstance(status, int):
        return None
    if getattr(e, "provider_status_code", None) == 529:  # the proxy's OverloadedProxyException
        return {"type": "service_unavailable_error", "code": "server_is_overloaded", "param": None}
    # ProxyException as handle_llm_api_exception builds it (proxy/common_utils/openai_error_payload.py;
    # re-stated here since the proxy extras are not installed).
    t, p = getattr(e, "type", None), getattr(e, "param", None)
    if not isinstance(t, str) or t == "None":
        t = {401: "authentication_error", 403: "permission_error", 429: "rate_limit_error"}.get(
            status, "invalid_request_error" if status < 500 else "internal_server_error")
    return {"type": t, "code": str(status), "param": p if isinstance(p, str) and p != "None" else None}


def clean(v, details=False):
    """Drops volatile fields (ids, timestamps, model names), Nones, empty containers and zero
    counts in usage `*_details`; tool call arguments are compared as parsed JSON."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in VOLATILE:
                continue
            if k == "arguments" and isinstance(x, str):
                try:
                    x = json.loads(x)
                except ValueError:
                    pass
            x = clean(x, k.endswith("_details"))
            if x is None or x == {} or x == [] or (details and x == 0):
                continue
            out[k] = x
        return out
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v


def via_llmgate(client, prov, role, params):
    if params.pop("_endpoint", None) == "completions":
        return consume(lambda: client.completions.create(model=alias(prov, role), **params))
    return consume(lambda: client.chat.completions.create(model=alias(prov, role), **params))


def via_litellm(mock, prov, role, params):
    import litellm
    p = PROVIDERS[prov]
    model, headers = upstream(prov, role)
    extra = {"api_version": p["api_version"]} if "api_version" in p else {}
    if p.get("vertex"):
        extra.update(vertex_params(mock))
    if headers:
        extra["extra_headers"] = headers
    params = {**params.pop("extra_body", {}), **params}  # the openai client's extra_body: kwargs here
    call = litellm.text_completion if params.pop("_endpoint", None) == "completions" else litellm.completion
    strip = proxy_stream_usage(f"{prov}/{model}", params)
    out = consume(lambda: call(
        model=f"{prov}/{model}", api_base=mock + p["base"], api_key=ROLE_KEY.get(role, KEY),
        num_retries=0, max_retries=0, timeout=30, **extra, **params))
    if strip and out.get("stream"):
        out["usage"] = None  # the proxy keeps the usage chunk it asked for from the client
    return out


def proxy_stream_usage(litellm_model, params):
    """What LiteLLM's proxy does to a stream before its SDK sees it (1.110's
    `stream_usage_tracking_updates`, `always_include_stream_usage` unset): when the client did not
    ask for usage and the model's supported params include `stream_options`, it adds
    `include_usage: true` upstream and strips the usage chunk from the client's stream. The harness
    calls the SDK, so it applies that step itself; returns whether the usage is to be stripped."""
    from litellm import get_supported_openai_params
    so = params.get("stream_options")
    if params.get("stream") is not True or (isinstance(so, dict) and so.get("include_usage") is True):
        return False
    try:
        supported = get_supported_openai_params(model=litellm_model) or []
    except Exception:  # noqa: BLE001 -- as the proxy: an unmapped model disables the injection
        return False
    if "stream_options" not in supported:
        return False
    params["stream_options"] = {**(so if isinstance(so, dict) else {}), "include_usage": True}
    return True


# ---------------------------------------------------------------- comparing
def request_view(r):
    """What of an upstream request we compare."""
    q = r.get("query") or ""
    google = r["path"].startswith("/v1beta/") or "/publishers/google/" in r["path"]
    body = camel(r["body"]) if google else r["body"]
    headers = {k: v for k, v in sorted(r["headers"].items()) if k in HEADERS}
    if "anthropic-beta" in headers:  # LiteLLM joins a Python set: the order varies per process
        headers["anthropic-beta"] = sorted(b.strip() for b in headers["anthropic-beta"].split(","))
    return {"method": r["method"], "path": r["path"], "query": "&".join(sorted(q.split("&"))) if q else None,
            "headers": headers, "body": body}


def camel(v):
    """Gemini: protobuf JSON takes snake_case and lowerCamelCase alike, so both sides are
    camelized (as the mock does) -- except user data: property names, call args, responses."""
    if isinstance(v, list):
        return [camel(x) for x in v]
    if not isinstance(v, dict):
        return v
    out = {}
    for k, x in v.items():
        head, *rest = k.split("_")
        key = head + "".join(w[:1].upper() + w[1:] for w in rest)
        if key in ("args", "response", "labels"):
            out[key] = x
        elif key == "properties" and isinstance(x, dict):
            out[key] = {n: camel(s) for n, s in x.items()}
        else:
            out[key] = camel(x)
    return out


def schema_orders(v, path="", out=None):
    """Key order of every schema object (`properties` maps and objects holding them)."""
    out = {} if out is None else out
    if isinstance(v, dict):
        if "properties" in v or path.endswith(".properties"):
            out[path] = list(v)
        for k, x in v.items():
            schema_orders(x, f"{path}.{k}", out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            schema_orders(x, f"{path}[{i}]", out)
    return out


def diff(a, b, path=""):
    """Differences between two JSON values, order-insensitive for objects: list of lines."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            if k not in b:
                out.append(f"{path}.{k}: only llmgate = {short(a[k])}")
            elif k not in a:
                out.append(f"{path}.{k}: only litellm = {short(b[k])}")
            else:
                out += diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: llmgate {short(a)} vs litellm {short(b)}"]


def short(v, n=90):
    s = json.dumps(v, sort_keys=True)
    return s if len(s) <= n else s[:n] + "..."


# Providers compared on more of the answer: error bodies (type, code, param), and in streams
# the thinking blocks and each tool call's start (index, name).
DEEPER = {"anthropic"}


def compare_answers(a, b, prov=None):
    """Differences in what the client saw, plus notes that are not counted as differences."""
    a, b = dict(a), dict(b)
    notes = []
    if a.get("mid_stream") and b.get("mid_stream") and "error" in a and "error" in b:
        # After a 200 the proxy can only end the stream with an error event: no status.
        ea, eb = a.pop("error"), b.pop("error")
        notes.append(f"mid-stream error: llmgate {ea['class']} vs litellm {eb['raw_class']}/{eb['status']}")
    for side in (a, b):
        if "error" in side:  # class + status decide (+ the body where compared); the message is context only
            keep = ("class", "status", "body") if prov in DEEPER else ("class", "status")
            side["error"] = {k: side["error"].get(k) for k in keep}
    for side in (a, b):  # streamed tool arguments compare as parsed JSON too
        try:
            side["tool_args"] = json.loads(side["tool_args"])
        except (KeyError, ValueError):
            pass
    if prov not in DEEPER:
        a.pop("deeper", None), b.pop("deeper", None)
    ca, cb = a.pop("chunks", None), b.pop("chunks", None)
    out = diff(a, b)
    if ca is not None and cb is not None and abs(ca - cb) > 2:
        out.append(f".chunks: llmgate {ca} vs litellm {cb}")
    return out, notes


def run_case(mock, client, prov, case):
    role, params = cases_of(prov)[case]
    n0 = len(recorded(mock))
    ours = via_llmgate(client, prov, role, json.loads(json.dumps(params)))
    n1 = len(recorded(mock))
    theirs = via_litellm(mock, prov, role, json.loads(json.dumps(params)))
    reqs = recorded(mock)
    # Vertex's OAuth token exchange (a signed JWT, new each time) is auth, not the call.
    ra, rb = [[r for r in x if r["path"] != "/token"] for x in (reqs[n0:n1], reqs[n1:])]
    lines, notes = [], []
    if ra and rb:  # (i) upstream request: first attempt of each side
        va, vb = request_view(ra[0]), request_view(rb[0])
        lines += ["upstream " + d for d in diff(va, vb)]
        oa, ob = schema_orders(va["body"]), schema_orders(vb["body"])
        for k in sorted(set(oa) & set(ob)):
            if oa[k] != ob[k] and sorted(oa[k]) == sorted(ob[k]):
                lines.append(f"key order {k}: llmgate {oa[k]} vs litellm {ob[k]}")
    elif ra or rb:
        lines.append(f"upstream: only {'llmgate' if ra else 'litellm'} reached the mock")
    if len(ra) != len(rb):
        notes.append(f"attempts llmgate {len(ra)} vs litellm {len(rb)}")
    answer, more = compare_answers(ours, theirs, prov)  # (ii) client-visible answer
    lines += ["answer " + d for d in answer]
    notes += more
    detail = {"llmgate": ours, "litellm": theirs,
              "upstream_llmgate": [request_view(r) for r in ra], "upstream_litellm": [request_view(r) for r in rb]}
    return lines, notes, detail


# ---------------------------------------------------------------- report
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--verbose", action="store_true", help="print full diffs and both sides")
    ap.add_argument("--only", choices=list(PROVIDERS), action="append", help="these providers")
    ap.add_argument("--case", action="append", help="only these cases (of those a provider runs)")
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.expanduser("~/.cache/llmgate/target")
    ap.add_argument("--bin", default=os.path.join(target, "debug"))
    args = ap.parse_args()
    try:
        import openai  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "openai"], check=False)
    import litellm, openai
    litellm.suppress_debug_info = True
    litellm.set_verbose = False
    provs = list(dict.fromkeys(args.only or PROVIDERS))
    try:  # LiteLLM's Vertex path signs in with google-auth (against the mock's /token)
        import google.auth  # noqa: F401
    except ImportError:
        if "vertex_ai" in provs:
            print("vertex_ai skipped: LiteLLM needs google-auth (pip install google-auth)")
            provs.remove("vertex_ai")
    procs = []
    try:
        with tempfile.TemporaryDirectory(prefix="llmgate-parity-") as tmp:
            mp, mock = start_mock(args.bin)
            procs.append(mp)
            gp, gw = start_gateway(args.bin, mock, tmp, provs)
            procs.append(gp)
            client = openai.OpenAI(base_url=gw, api_key="sk-anything", max_retries=0, timeout=30)
            report(mock, client, provs, args.case, args.verbose)
    except Exception as e:
        print(f"harness error: {type(e).__name__}: {e}")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


def report(mock, client, providers, only_cases, verbose):
    rows = readme_rows()
    summary = {}
    print(f"{'provider':12} {'case':22} result")
    for prov in providers:
        same = listed = 0
        mine = [c for c in cases_of(prov) if not only_cases or c in only_cases]
        for case in mine:
            try:
                lines, notes, detail = run_case(mock, client, prov, case)
                why = deliberate(prov, case, lines, rows) if lines else None
                if not lines:
                    verdict = "same"
                elif why:
                    verdict = "deliberate (README: " + "; ".join(why) + ")"
                else:
                    verdict = f"differs ({len(lines)}): {lines[0][:110]}"
            except Exception as e:  # the harness itself failed on this case
                lines, notes, detail, why = [], [], None, None
                verdict = f"error: {type(e).__name__}: {str(e)[:100]}"
                if verbose:
                    traceback.print_exc()
            same += verdict == "same"
            listed += bool(lines and why)
            print(f"{prov:12} {case:22} {verdict}" + (f"  [{'; '.join(notes)}]" if notes else ""))
            if verbose and (lines or detail):
                for l in lines:
                    print("      " + l)
                if lines and not why:
                    print("      full: " + json.dumps(detail, sort_keys=True)[:4000])
        summary[prov] = (same, listed, len(mine))
    print("\nagreement per provider (deliberate = every difference is a README-listed one):")
    for prov, (same, listed, n) in summary.items():
        d = max(n, 1)
        print(f"  {prov:26} same {same}/{n} = {100 * same / d:.0f}%, deliberate {listed}, "
              f"differs {n - same - listed}; same+deliberate {100 * (same + listed) / d:.0f}%")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:  # argparse usage errors too: a report always exits 0
        pass
    sys.exit(0)
