"""LiteLLM's ``CustomStreamWrapper``: a streamed answer, iterated with ``for`` or
``async for``, each chunk a ``ModelResponseStream`` (``TextCompletionResponse`` for
``text_completion``)."""
from __future__ import annotations

from . import _llmgate as _native
from . import exceptions as _exc
from .types import ModelResponseStream, TextCompletionResponse


class CustomStreamWrapper:
    def __init__(self, native, model, params):
        self._native = native
        self.model = model
        self._params = params
        self._hidden_params = dict(native.hidden)
        self.custom_llm_provider = self._hidden_params.get("custom_llm_provider")

    def _chunk(self, d):
        if d.get("object") == "text_completion":
            cls = TextCompletionResponse
        else:
            cls = ModelResponseStream
        usage = d.get("usage")
        if usage:
            # The final chunk's usage prices the whole stream, as LiteLLM's response_cost.
            try:
                self._hidden_params["response_cost"] = _native.cost(self.model, usage, self._params)
            except _native.NativeError:
                pass
        return cls(d, self._hidden_params)

    def __iter__(self):
        return self

    def __next__(self):
        try:
            d = next(self._native)
        except _native.NativeError as e:
            raise _exc.from_native(e) from None
        return self._chunk(d)

    def __aiter__(self):
        return self

    async def __anext__(self):
        try:
            d = await self._native.__anext__()
        except _native.NativeError as e:
            raise _exc.from_native(e) from None
        return self._chunk(d)

    def close(self):
        """Stops the stream and closes the upstream connection."""
        self._native.close()

    async def aclose(self):
        self._native.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


def stream_chunk_builder(chunks, messages=None):
    """LiteLLM's ``stream_chunk_builder``: the streamed chunks as one ``ModelResponse`` (text
    joined, tool calls assembled by index, the last finish reason). Usage is the stream's own
    when it sent one, else counted with ``token_counter`` (the prompt from ``messages``)."""
    from .types import ModelResponse
    from .utils import token_counter

    chunks = list(chunks or [])
    if not chunks:
        return None
    first = chunks[0]
    model = first.get("model") or ""
    states = {}
    usage = None
    for c in chunks:
        if c.get("usage"):
            usage = dict(c["usage"])
        for ch in c.get("choices") or []:
            st = states.setdefault(ch.get("index", 0), {
                "role": "assistant", "content": [], "reasoning": [], "tools": {}, "finish": None})
            d = ch.get("delta") or {}
            if d.get("role"):
                st["role"] = d["role"]
            if d.get("content"):
                st["content"].append(d["content"])
            if d.get("reasoning_content"):
                st["reasoning"].append(d["reasoning_content"])
            for tc in d.get("tool_calls") or []:
                t = st["tools"].setdefault(tc.get("index", 0), {
                    "id": None, "type": "function", "function": {"name": "", "arguments": ""}})
                if tc.get("id"):
                    t["id"] = tc["id"]
                f = tc.get("function") or {}
                t["function"]["name"] += f.get("name") or ""
                t["function"]["arguments"] += f.get("arguments") or ""
            if ch.get("finish_reason"):
                st["finish"] = ch["finish_reason"]
    choices = []
    for i in sorted(states):
        st = states[i]
        msg = {"role": st["role"], "content": "".join(st["content"]) or None}
        if st["reasoning"]:
            msg["reasoning_content"] = "".join(st["reasoning"])
        if st["tools"]:
            msg["tool_calls"] = [st["tools"][j] for j in sorted(st["tools"])]
        choices.append({"index": i, "message": msg, "finish_reason": st["finish"] or "stop"})
    if usage is None:
        prompt = token_counter(model, messages=messages) if messages else 0
        text = "".join(c["message"]["content"] or "" for c in choices)
        completion = token_counter(model, text=text) if text else 0
        usage = {"prompt_tokens": prompt, "completion_tokens": completion,
                 "total_tokens": prompt + completion}
    hidden = dict(getattr(chunks[-1], "_hidden_params", None) or {})
    return ModelResponse({
        "id": first.get("id"), "object": "chat.completion", "created": first.get("created"),
        "model": model, "system_fingerprint": first.get("system_fingerprint"),
        "choices": choices, "usage": usage}, hidden)
