"""Response objects in LiteLLM's shapes (``ModelResponse``, ``ModelResponseStream``, ...).

Each is a ``dict`` (so ``resp["choices"][0]["message"]["content"]``, ``json.dumps(resp)`` and
passing a message back into ``messages`` work) with attribute access to its keys
(``resp.choices[0].message.content``); LiteLLM's optional fields read ``None`` when absent.
``model_dump()`` / ``dict()`` / ``json()`` behave as on LiteLLM's pydantic objects.
"""
from __future__ import annotations

import copy
import json as _json


class OpenAIObject(dict):
    """A JSON object with attribute access; nested objects are wrapped as they are read."""

    # Attribute names that read None when the key is absent.
    _fields: tuple = ()
    # Keys whose dict (or list of dicts) value is wrapped in a given class.
    _nested: dict = {}

    def __init__(self, data=None, **kw):
        dict.__init__(self, data or (), **kw)
        for key, cls in self._nested.items():
            v = dict.get(self, key)
            if v is not None:
                dict.__setitem__(self, key, _wrap(v, cls))

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        try:
            v = self[name]
        except KeyError:
            if name in type(self)._fields:
                return None
            raise AttributeError(f"{type(self).__name__} has no attribute {name!r}") from None
        if type(v) is dict or (type(v) is list and v and type(v[0]) is dict):
            v = _wrap(v, OpenAIObject)
            dict.__setitem__(self, name, v)
        return v

    def __setattr__(self, name, value):
        if name.startswith("_"):
            object.__setattr__(self, name, value)
        else:
            self[name] = value

    def __delattr__(self, name):
        if name.startswith("_"):
            object.__delattr__(self, name)
        else:
            try:
                del self[name]
            except KeyError:
                raise AttributeError(name) from None

    def get(self, key, default=None):
        return dict.get(self, key, default)

    def model_dump(self, **_kw) -> dict:
        """A deep copy as plain dicts and lists."""
        return _plain(self)

    dict = model_dump
    to_dict = model_dump

    def json(self, **kw) -> str:
        return _json.dumps(self, **kw)

    def model_dump_json(self, **kw) -> str:
        return _json.dumps(self, **kw)

    def __copy__(self):
        new = type(self)(dict(self))
        new.__dict__.update(self.__dict__)
        return new

    def __deepcopy__(self, memo):
        new = type(self)(copy.deepcopy(dict(self), memo))
        new.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return new

    def __reduce__(self):
        return (type(self), (dict(self),), dict(self.__dict__))

    def __setstate__(self, state):
        self.__dict__.update(state)

    def __repr__(self):
        return f"{type(self).__name__}({dict.__repr__(self)})"


def _wrap(v, cls):
    if type(v) is dict:
        return cls(v)
    if type(v) is list:
        return [cls(x) if type(x) is dict else x for x in v]
    return v


def _plain(v):
    if isinstance(v, dict):
        return {k: _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


class Function(OpenAIObject):
    _fields = ("name", "arguments")


class ChatCompletionMessageToolCall(OpenAIObject):
    _fields = ("id", "type", "function")
    _nested = {"function": Function}


class ChatCompletionDeltaToolCall(OpenAIObject):
    _fields = ("id", "type", "function", "index")
    _nested = {"function": Function}


class PromptTokensDetails(OpenAIObject):
    _fields = ("cached_tokens", "audio_tokens", "text_tokens", "image_tokens")


class CompletionTokensDetails(OpenAIObject):
    _fields = ("reasoning_tokens", "audio_tokens", "accepted_prediction_tokens",
               "rejected_prediction_tokens", "text_tokens")


class Usage(OpenAIObject):
    _fields = ("prompt_tokens", "completion_tokens", "total_tokens", "prompt_tokens_details",
               "completion_tokens_details", "cache_creation_input_tokens",
               "cache_read_input_tokens")
    _nested = {"prompt_tokens_details": PromptTokensDetails,
               "completion_tokens_details": CompletionTokensDetails}


_MESSAGE_FIELDS = ("content", "role", "tool_calls", "function_call", "reasoning_content",
                   "thinking_blocks", "provider_specific_fields", "annotations", "audio",
                   "images", "refusal")


class Message(OpenAIObject):
    _fields = _MESSAGE_FIELDS
    _nested = {"tool_calls": ChatCompletionMessageToolCall, "function_call": Function}


class Delta(OpenAIObject):
    _fields = _MESSAGE_FIELDS
    _nested = {"tool_calls": ChatCompletionDeltaToolCall, "function_call": Function}


class Choices(OpenAIObject):
    _fields = ("finish_reason", "index", "message", "logprobs", "provider_specific_fields")
    _nested = {"message": Message}


class StreamingChoices(OpenAIObject):
    _fields = ("finish_reason", "index", "delta", "logprobs")
    _nested = {"delta": Delta}


class _WithHidden(OpenAIObject):
    """An answer: it carries LiteLLM's ``_hidden_params`` (``response_cost``, ...)."""

    def __init__(self, data=None, hidden=None, **kw):
        OpenAIObject.__init__(self, data, **kw)
        object.__setattr__(self, "_hidden_params", hidden if hidden is not None else {})

    def __reduce__(self):
        return (type(self), (dict(self), self._hidden_params), dict(self.__dict__))


class ModelResponse(_WithHidden):
    _fields = ("id", "created", "model", "object", "system_fingerprint", "choices", "usage")
    _nested = {"choices": Choices, "usage": Usage}


class ModelResponseStream(_WithHidden):
    _fields = ("id", "created", "model", "object", "system_fingerprint", "choices", "usage",
               "provider_specific_fields")
    _nested = {"choices": StreamingChoices, "usage": Usage}


class TextChoices(OpenAIObject):
    _fields = ("text", "index", "logprobs", "finish_reason")


class TextCompletionResponse(_WithHidden):
    _fields = ("id", "object", "created", "model", "choices", "usage", "system_fingerprint")
    _nested = {"choices": TextChoices, "usage": Usage}


class Embedding(OpenAIObject):
    _fields = ("embedding", "index", "object")


class EmbeddingResponse(_WithHidden):
    _fields = ("object", "data", "model", "usage")
    _nested = {"data": Embedding, "usage": Usage}


class RerankResponse(_WithHidden):
    _fields = ("id", "results", "meta")
    _nested = {"results": OpenAIObject, "meta": OpenAIObject}
