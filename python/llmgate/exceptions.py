"""LiteLLM's exception classes (``litellm.exceptions``), subclassing the ``openai`` package's
where LiteLLM does, so ``except openai.RateLimitError`` keeps working.

Every class takes LiteLLM's constructor arguments (``message, llm_provider, model, response=None,
litellm_debug_info=None, max_retries=None, num_retries=None``; ``APIError`` takes ``status_code``
first) and carries ``status_code``, ``message``, ``llm_provider``, ``model`` and, for HTTP errors,
``response`` (an httpx ``Response`` with the upstream's status, headers and body: ``httpx2``'s
for openai 3, ``httpx``'s before).
"""
from __future__ import annotations

import json
from typing import Optional

import openai

# The HTTP library the installed openai package builds its errors from.
httpx = getattr(openai._exceptions, "httpx2", None) or getattr(openai._exceptions, "httpx")

# The request an error's httpx objects name: the call did not go through httpx.
_REQUEST_URL = "https://llmgate.invalid/v1"


def _request() -> httpx.Request:
    return httpx.Request(method="POST", url=_REQUEST_URL)


def _response(status: int, headers=None, body: Optional[str] = None) -> httpx.Response:
    return httpx.Response(
        status_code=status,
        headers=headers or [],
        content=(body or "").encode(),
        request=_request(),
    )


class _LiteLLMError:
    """What every LiteLLM exception has: its fields and LiteLLM's ``str()``."""

    def _fields(self, status_code, message, llm_provider, model, litellm_debug_info,
                max_retries, num_retries) -> str:
        self.status_code = status_code
        name = type(self).__name__
        message = "" if message is None else str(message)
        # Messages from the engine already carry LiteLLM's prefix.
        self.message = message if message.startswith("litellm.") else f"litellm.{name}: {message}"
        self.llm_provider = llm_provider
        self.model = model
        self.litellm_debug_info = litellm_debug_info
        self.max_retries = max_retries
        self.num_retries = num_retries
        return self.message

    def __str__(self) -> str:
        msg = self.message
        if self.num_retries:
            msg += f" LiteLLM Retried: {self.num_retries} times"
        if self.max_retries:
            msg += f", LiteLLM Max Retries: {self.max_retries}"
        return msg

    __repr__ = __str__


def _status_class(base, status: int):
    """A LiteLLM class over one of openai's ``APIStatusError`` classes."""

    class _Cls(_LiteLLMError, base):
        def __init__(self, message, llm_provider=None, model=None, response=None,
                     litellm_debug_info=None, max_retries=None, num_retries=None, body=None):
            msg = self._fields(status, message, llm_provider, model, litellm_debug_info,
                               max_retries, num_retries)
            self.response = response if response is not None else _response(status)
            base.__init__(self, msg, response=self.response, body=body)
            self.status_code = status

    return _Cls


class AuthenticationError(_status_class(openai.AuthenticationError, 401)):
    pass


class PermissionDeniedError(_status_class(openai.PermissionDeniedError, 403)):
    pass


class NotFoundError(_status_class(openai.NotFoundError, 404)):
    pass


class BadRequestError(_status_class(openai.BadRequestError, 400)):
    pass


class UnprocessableEntityError(_status_class(openai.UnprocessableEntityError, 422)):
    pass


class RateLimitError(_status_class(openai.RateLimitError, 429)):
    pass


class InternalServerError(_status_class(openai.InternalServerError, 500)):
    pass


class ServiceUnavailableError(_status_class(openai.APIStatusError, 503)):
    pass


class BadGatewayError(_status_class(openai.APIStatusError, 502)):
    pass


class ContextWindowExceededError(BadRequestError):
    pass


class ContentPolicyViolationError(BadRequestError):
    pass


class UnsupportedParamsError(BadRequestError):
    pass


class RejectedRequestError(BadRequestError):
    pass


class Timeout(_LiteLLMError, openai.APITimeoutError):
    def __init__(self, message, model=None, llm_provider=None, litellm_debug_info=None,
                 max_retries=None, num_retries=None, headers=None, exception_status_code=None,
                 response=None):
        openai.APITimeoutError.__init__(self, request=_request())
        self._fields(exception_status_code or 408, message, llm_provider, model,
                     litellm_debug_info, max_retries, num_retries)
        self.headers = headers
        if response is not None:
            self.response = response


class APIError(_LiteLLMError, openai.APIError):
    def __init__(self, status_code, message, llm_provider=None, model=None, request=None,
                 litellm_debug_info=None, max_retries=None, num_retries=None, body=None,
                 response=None):
        msg = self._fields(status_code, message, llm_provider, model, litellm_debug_info,
                           max_retries, num_retries)
        if response is not None:
            self.response = response
        openai.APIError.__init__(self, msg, request if request is not None else _request(), body=body)
        self.status_code = status_code


class APIConnectionError(_LiteLLMError, openai.APIConnectionError):
    def __init__(self, message, llm_provider=None, model=None, request=None,
                 litellm_debug_info=None, max_retries=None, num_retries=None):
        msg = self._fields(500, message, llm_provider, model, litellm_debug_info, max_retries,
                           num_retries)
        openai.APIConnectionError.__init__(self, message=msg, request=request or _request())
        self.status_code = 500


class APIResponseValidationError(_LiteLLMError, openai.APIResponseValidationError):
    def __init__(self, message, llm_provider=None, model=None, litellm_debug_info=None,
                 max_retries=None, num_retries=None):
        msg = self._fields(500, message, llm_provider, model, litellm_debug_info, max_retries,
                           num_retries)
        openai.APIResponseValidationError.__init__(self, response=_response(500), body=None,
                                                   message=msg)


class BudgetExceededError(Exception):
    def __init__(self, current_cost, max_budget, message=None):
        self.current_cost = current_cost
        self.max_budget = max_budget
        message = message or (
            f"Budget has been exceeded! Current cost: {current_cost}, Max budget: {max_budget}"
        )
        super().__init__(message)


LITELLM_EXCEPTION_TYPES = [
    AuthenticationError,
    NotFoundError,
    BadRequestError,
    UnprocessableEntityError,
    UnsupportedParamsError,
    Timeout,
    PermissionDeniedError,
    RateLimitError,
    ContextWindowExceededError,
    RejectedRequestError,
    ContentPolicyViolationError,
    InternalServerError,
    ServiceUnavailableError,
    BadGatewayError,
    APIError,
    APIConnectionError,
    APIResponseValidationError,
]

_BY_NAME = {c.__name__: c for c in LITELLM_EXCEPTION_TYPES}


def from_native(err) -> Exception:
    """The LiteLLM exception for an error of the engine (``_llmgate.NativeError``)."""
    name, status, message, provider, model, _retry_after, headers, body = err.args
    provider = provider or None
    if name == "Timeout":
        return Timeout(message, model=model, llm_provider=provider)
    if name == "APIConnectionError":
        return APIConnectionError(message, llm_provider=provider, model=model)
    if name == "APIError":
        return APIError(status, message, llm_provider=provider, model=model,
                        response=_response(status, headers, body))
    cls = _BY_NAME.get(name, InternalServerError)
    return cls(message, llm_provider=provider, model=model,
               response=_response(status, headers, body), body=_error_body(body))


def _error_body(body):
    """The upstream's error object, as openai's client hands it to its errors (for ``code``,
    ``param`` and ``type``)."""
    try:
        data = json.loads(body) if body else None
    except ValueError:
        return None
    if isinstance(data, dict):
        err = data.get("error", data)
        return err if isinstance(err, dict) else None
    return None
