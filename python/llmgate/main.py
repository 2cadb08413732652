"""LiteLLM's SDK functions over llmgate's engine: ``completion``, ``acompletion``,
``text_completion``, ``embedding``, ``rerank`` and their async forms."""
from __future__ import annotations

import time

from . import _llmgate as _native
from . import exceptions as _exc
from . import _params
from .streaming import CustomStreamWrapper
from .types import EmbeddingResponse, ModelResponse, RerankResponse, TextCompletionResponse

NativeError = _native.NativeError


def _defaults() -> dict:
    import llmgate

    return {
        "drop_params": True if llmgate.drop_params else None,
        "num_retries": llmgate.num_retries,
        "timeout": llmgate.request_timeout,
    }


def _mock_error(mock, model, params):
    """LiteLLM's error mocks: an exception object, or one of its named mock strings."""
    provider = params.get("custom_llm_provider") or _native.provider_of(model) or "openai"
    if isinstance(mock, BaseException):
        if isinstance(mock, _exc.openai.APIError):
            return mock
        return _exc.APIError(getattr(mock, "status_code", 500),
                             getattr(mock, "text", str(mock)), provider, model)
    named = {
        "litellm.RateLimitError": (_exc.RateLimitError, "this is a mock rate limit error"),
        "litellm.ContextWindowExceededError": (
            _exc.ContextWindowExceededError, "this is a mock context window exceeded error"),
        "litellm.InternalServerError": (
            _exc.InternalServerError, "this is a mock internal server error"),
    }
    if isinstance(mock, str) and mock in named:
        cls, msg = named[mock]
        return cls(msg, llm_provider=provider, model=model)
    return None


def _prepare(model, kwargs):
    if not model:
        raise _exc.BadRequestError("model is required", model=model, llm_provider=None)
    body, params = _params.split(model, kwargs, _defaults())
    mock = params.get("mock_response")
    if mock is not None:
        err = _mock_error(mock, model, params)
        if err is not None:
            raise err
    return body, params


def _answer(cls, raw, started):
    data, hidden = raw
    r = cls(data, hidden)
    r._response_ms = (time.perf_counter() - started) * 1000.0
    return r


def _call(op, cls, model, body, params):
    started = time.perf_counter()
    try:
        raw = _native.call(op, body, params)
    except NativeError as e:
        raise _exc.from_native(e) from None
    if cls is None:
        return CustomStreamWrapper(raw, model, params)
    return _answer(cls, raw, started)


async def _acall(op, cls, model, body, params):
    started = time.perf_counter()
    try:
        raw = await _native.acall(op, body, params)
    except NativeError as e:
        raise _exc.from_native(e) from None
    if cls is None:
        return CustomStreamWrapper(raw, model, params)
    return _answer(cls, raw, started)


def _chat(model, messages, kwargs):
    stream = bool(kwargs.pop("stream", False))
    body, params = _prepare(model, kwargs)
    body["messages"] = list(messages or [])
    if stream:
        body["stream"] = True
        return "chat_stream", None, body, params
    return "chat", ModelResponse, body, params


def completion(model: str = None, messages: list = None, **kwargs):
    """A chat completion (LiteLLM's ``completion``): a ``ModelResponse``, or with
    ``stream=True`` an iterator of ``ModelResponseStream`` chunks."""
    op, cls, body, params = _chat(model, messages, kwargs)
    return _call(op, cls, model, body, params)


async def acompletion(model: str = None, messages: list = None, **kwargs):
    """``completion`` as a coroutine; with ``stream=True`` an async iterator of chunks."""
    op, cls, body, params = _chat(model, messages, kwargs)
    return await _acall(op, cls, model, body, params)


def _text(model, prompt, kwargs):
    stream = bool(kwargs.pop("stream", False))
    kwargs.pop("messages", None)
    body, params = _prepare(model, kwargs)
    body["prompt"] = prompt if prompt is not None else ""
    if stream:
        body["stream"] = True
        return "text_stream", None, body, params
    return "text", TextCompletionResponse, body, params


def text_completion(prompt=None, model: str = None, **kwargs):
    """A legacy completion (LiteLLM's ``text_completion``): a ``TextCompletionResponse``."""
    op, cls, body, params = _text(model, prompt, kwargs)
    return _call(op, cls, model, body, params)


async def atext_completion(prompt=None, model: str = None, **kwargs):
    op, cls, body, params = _text(model, prompt, kwargs)
    return await _acall(op, cls, model, body, params)


def _embedding(model, input, kwargs):
    body, params = _prepare(model, kwargs)
    body["input"] = input
    return body, params


def embedding(model: str = None, input=None, **kwargs) -> EmbeddingResponse:
    """Embeddings (LiteLLM's ``embedding``): an ``EmbeddingResponse``."""
    body, params = _embedding(model, input if input is not None else [], kwargs)
    return _call("embedding", EmbeddingResponse, model, body, params)


async def aembedding(model: str = None, input=None, **kwargs) -> EmbeddingResponse:
    body, params = _embedding(model, input if input is not None else [], kwargs)
    return await _acall("embedding", EmbeddingResponse, model, body, params)


def _rerank(model, query, documents, kwargs):
    kwargs.setdefault("return_documents", True)
    body, params = _prepare(model, kwargs)
    body["query"] = query
    body["documents"] = list(documents or [])
    return body, params


def rerank(model: str = None, query: str = None, documents: list = None, **kwargs) -> RerankResponse:
    """Rerank documents for a query (LiteLLM's ``rerank``): a ``RerankResponse``."""
    body, params = _rerank(model, query, documents, kwargs)
    return _call("rerank", RerankResponse, model, body, params)


async def arerank(model: str = None, query: str = None, documents: list = None,
                  **kwargs) -> RerankResponse:
    body, params = _rerank(model, query, documents, kwargs)
    return await _acall("rerank", RerankResponse, model, body, params)
