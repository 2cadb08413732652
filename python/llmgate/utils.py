"""What needs no upstream: ``token_counter``, ``completion_cost``, ``cost_per_token`` and
``get_model_info``, from llmgate's tokenizer and model catalog."""
from __future__ import annotations

from . import _llmgate as _native
from . import exceptions as _exc


def _not_mapped(model, provider=None):
    return Exception(
        f"This model isn't mapped yet. model={model}, custom_llm_provider={provider}. "
        "Add it to the model's input_cost_per_token / output_cost_per_token."
    )


def token_counter(model: str = "", text=None, messages=None, **_kw) -> int:
    """Tokens of ``messages`` (with the chat format's per-message overhead) or of ``text``
    (a string or a list of strings), with tiktoken's encoding for the model."""
    try:
        return _native.token_counter(model or "", messages=messages, text=text)
    except _native.NativeError as e:
        raise _exc.from_native(e) from None


def _usage_of(resp):
    usage = resp.get("usage") if isinstance(resp, dict) else getattr(resp, "usage", None)
    if usage is None and isinstance(resp, dict) and "meta" in resp:
        return None
    return usage


def completion_cost(completion_response=None, model: str = None, prompt: str = "",
                    messages: list = None, completion: str = "",
                    custom_llm_provider: str = None, custom_cost_per_token: dict = None,
                    **_kw) -> float:
    """USD for a call: the answer's ``_hidden_params["response_cost"]``, else its ``usage``
    priced by the catalog, else the tokens of ``prompt``/``messages`` and ``completion``."""
    params = {}
    if custom_llm_provider:
        params["custom_llm_provider"] = custom_llm_provider
    if custom_cost_per_token:
        params["input_cost_per_token"] = custom_cost_per_token.get("input_cost_per_token")
        params["output_cost_per_token"] = custom_cost_per_token.get("output_cost_per_token")
    if completion_response is not None:
        hidden = getattr(completion_response, "_hidden_params", None) or {}
        if model is None and not custom_cost_per_token and hidden.get("response_cost") is not None:
            return hidden["response_cost"]
        model = model or completion_response.get("model")
        usage = _usage_of(completion_response)
        if usage is None:
            raise _not_mapped(model, custom_llm_provider)
    else:
        if not model:
            raise ValueError("completion_cost needs a completion_response or a model")
        if messages:
            p = token_counter(model, messages=messages)
        else:
            p = token_counter(model, text=prompt or "")
        c = token_counter(model, text=completion or "")
        usage = {"prompt_tokens": p, "completion_tokens": c, "total_tokens": p + c}
    cost = _native.cost(model, dict(usage), params)
    if cost is None:
        raise _not_mapped(model, custom_llm_provider)
    return cost


def cost_per_token(model: str = "", prompt_tokens: int = 0, completion_tokens: int = 0,
                   custom_llm_provider: str = None, **_kw):
    """``(prompt_cost, completion_cost)`` in USD for the token counts."""
    params = {"custom_llm_provider": custom_llm_provider} if custom_llm_provider else {}
    p = _native.cost(model, {"prompt_tokens": prompt_tokens}, params)
    c = _native.cost(model, {"completion_tokens": completion_tokens}, params)
    if p is None or c is None:
        raise _not_mapped(model, custom_llm_provider)
    return p, c


def get_model_info(model: str, custom_llm_provider: str = None, **_kw) -> dict:
    """The catalog's entry for the model, with LiteLLM's ``model_info`` keys."""
    info = _native.model_info(model, custom_llm_provider)
    if info is None:
        raise _not_mapped(model, custom_llm_provider)
    return info
