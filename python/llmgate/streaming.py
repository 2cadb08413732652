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
