"""LiteLLM's ``Router``: a ``model_list`` with retries, fallbacks, cooldowns and routing
strategies, run by llmgate's router."""
from __future__ import annotations

import time

from . import _llmgate as _native
from . import exceptions as _exc
from . import _params
from .streaming import CustomStreamWrapper
from .types import EmbeddingResponse, ModelResponse, RerankResponse

# Router settings llmgate's router implements (LiteLLM's names).
SETTINGS = (
    "routing_strategy", "routing_strategy_args", "num_retries", "retry_policy",
    "model_group_retry_policy", "retry_after", "allowed_fails", "allowed_fails_policy",
    "cooldown_time", "disable_cooldowns", "fallbacks", "context_window_fallbacks",
    "content_policy_fallbacks", "default_fallbacks", "max_fallbacks", "enable_pre_call_checks",
    "enable_tag_filtering", "tag_filtering_match_any", "model_group_alias",
)
# Router arguments about logging only.
_QUIET = ("set_verbose", "debug_level")


class Router:
    """``Router(model_list=[...], fallbacks=[...], routing_strategy="simple-shuffle", ...)``.

    Arguments of LiteLLM's Router that llmgate does not implement (Redis settings, caching,
    budgets, ...) raise ``TypeError`` naming them.
    """

    def __init__(self, model_list: list = None, **kwargs):
        settings = {}
        for k, v in kwargs.items():
            if k in SETTINGS:
                if v is not None:
                    settings[k] = v
            elif k in _QUIET:
                continue
            elif v is not None:
                raise TypeError(f"llmgate.Router does not support the `{k}` argument")
        self.model_list = list(model_list or [])
        self._native = _native.Router(self.model_list, settings)

    def _body(self, model, kwargs):
        body, params = _params.split(model, kwargs, {})
        extra = sorted(k for k in params if k not in ("model", "mock_response"))
        if extra:
            raise _exc.UnsupportedParamsError(
                "llmgate.Router takes call options from model_list; per-call "
                + ", ".join(f"`{k}`" for k in extra) + " is not supported",
                model=model,
            )
        body["model"] = model
        if "mock_response" in params:
            body["mock_response"] = params["mock_response"]
        return body

    def _mocked(self, op, body):
        """A call with ``mock_response``: answered locally, as LiteLLM's router does, without
        an upstream (no deployment is picked)."""
        from . import main

        if self._native.has_group(body["model"]) is False:
            raise _exc.BadRequestError(f"no deployments for model group {body['model']!r}",
                                       model=body["model"], llm_provider=None)
        body = dict(body)
        model = body.pop("model")
        kw = {"mock_response": body.pop("mock_response")}
        if op.startswith("chat"):
            body["stream"] = op == "chat_stream"
            return main.completion(model, body.pop("messages"), **body, **kw)
        if op == "embedding":
            return main.embedding(model, body.pop("input"), **body, **kw)
        return main.rerank(model, body.pop("query"), body.pop("documents"), **body, **kw)

    def _answer(self, cls, raw, started, model):
        if cls is None:
            return CustomStreamWrapper(raw, model, {})
        data, hidden = raw
        r = cls(data, hidden)
        r._response_ms = (time.perf_counter() - started) * 1000.0
        return r

    def _run(self, op, cls, body):
        if "mock_response" in body:
            return self._mocked(op, body)
        started = time.perf_counter()
        try:
            raw = self._native.call(op, body)
        except _native.NativeError as e:
            raise _exc.from_native(e) from None
        return self._answer(cls, raw, started, body.get("model"))

    async def _arun(self, op, cls, body):
        if "mock_response" in body:
            return self._mocked(op, body)
        started = time.perf_counter()
        try:
            raw = await self._native.acall(op, body)
        except _native.NativeError as e:
            raise _exc.from_native(e) from None
        return self._answer(cls, raw, started, body.get("model"))

    def _chat(self, model, messages, kwargs):
        stream = bool(kwargs.pop("stream", False))
        body = self._body(model, kwargs)
        body["messages"] = list(messages or [])
        if stream:
            body["stream"] = True
            return "chat_stream", None, body
        return "chat", ModelResponse, body

    def completion(self, model: str, messages: list, **kwargs):
        return self._run(*self._chat(model, messages, kwargs))

    async def acompletion(self, model: str, messages: list, **kwargs):
        return await self._arun(*self._chat(model, messages, kwargs))

    def embedding(self, model: str, input, **kwargs) -> EmbeddingResponse:
        body = self._body(model, kwargs)
        body["input"] = input
        return self._run("embedding", EmbeddingResponse, body)

    async def aembedding(self, model: str, input, **kwargs) -> EmbeddingResponse:
        body = self._body(model, kwargs)
        body["input"] = input
        return await self._arun("embedding", EmbeddingResponse, body)

    def _rerank(self, model, query, documents, kwargs):
        kwargs.setdefault("return_documents", True)
        body = self._body(model, kwargs)
        body["query"] = query
        body["documents"] = list(documents or [])
        return body

    def rerank(self, model: str, query: str, documents: list, **kwargs) -> RerankResponse:
        return self._run("rerank", RerankResponse, self._rerank(model, query, documents, kwargs))

    async def arerank(self, model: str, query: str, documents: list, **kwargs) -> RerankResponse:
        body = self._rerank(model, query, documents, kwargs)
        return await self._arun("rerank", RerankResponse, body)

    def get_model_list(self):
        return list(self.model_list)

    def get_model_names(self):
        return sorted({m.get("model_name") for m in self.model_list if m.get("model_name")})
