"""Upstream failures raise LiteLLM's exception classes, which are the openai package's too."""
import asyncio
import json
import socket
import urllib.request

import openai
import pytest

import llmgate

HELLO = [{"role": "user", "content": "Hello"}]


@pytest.mark.parametrize("model,cls,base,status", [
    ("mock-error-429", llmgate.RateLimitError, openai.RateLimitError, 429),
    ("mock-error-401", llmgate.AuthenticationError, openai.AuthenticationError, 401),
    ("mock-error-404", llmgate.NotFoundError, openai.NotFoundError, 404),
    ("mock-error-400", llmgate.BadRequestError, openai.BadRequestError, 400),
    # LiteLLM's OpenAI mapping answers 422 with BadRequestError.
    ("mock-error-422", llmgate.BadRequestError, openai.BadRequestError, 422),
    ("mock-error-500", llmgate.InternalServerError, openai.InternalServerError, 500),
    ("mock-error-502", llmgate.BadGatewayError, openai.APIStatusError, 502),
    ("mock-error-503", llmgate.ServiceUnavailableError, openai.APIStatusError, 503),
    # LiteLLM's OpenAI mapping has no class for 403: an APIError with the status.
    ("mock-error-403", llmgate.APIError, openai.APIError, 403),
    ("mock-context-window", llmgate.ContextWindowExceededError, openai.BadRequestError, 400),
])
def test_openai_statuses(mock, model, cls, base, status):
    kw = {"api_base": f"{mock.base}/v1", "api_key": "sk"}
    with pytest.raises(cls) as ei:
        llmgate.completion(model=f"openai/{model}", messages=HELLO, **kw)
    e = ei.value
    assert type(e) is cls
    assert isinstance(e, base) and isinstance(e, openai.APIError)
    assert e.status_code == (400 if status == 422 else status)
    assert e.llm_provider == "openai"
    assert str(e).startswith(f"litellm.{cls.__name__}: ")
    assert "OpenAIException" in str(e)
    if status != 403:
        assert e.response.status_code == status
    # The same from acompletion.
    with pytest.raises(cls):
        asyncio.run(llmgate.acompletion(model=f"openai/{model}", messages=HELLO, **kw))


def test_except_openai_class_catches(mock):
    try:
        llmgate.completion(model="openai/mock-error-429", messages=HELLO,
                           api_base=f"{mock.base}/v1", api_key="sk")
    except openai.RateLimitError as e:
        assert isinstance(e, llmgate.exceptions.RateLimitError)
    else:
        pytest.fail("no error")


@pytest.mark.parametrize("provider,prefix,base", [
    ("anthropic", "anthropic/", ""),
    ("gemini", "gemini/", "/v1beta"),
])
@pytest.mark.parametrize("model,cls", [
    ("mock-error-429", llmgate.RateLimitError),
    ("mock-error-401", llmgate.AuthenticationError),
    ("mock-error-500", llmgate.InternalServerError),
])
def test_other_providers(mock, provider, prefix, base, model, cls):
    with pytest.raises(cls) as ei:
        llmgate.completion(model=prefix + model, messages=HELLO,
                           api_base=mock.base + base, api_key="k")
    assert ei.value.llm_provider == provider


def test_stream_error_mid_way(mock):
    chunks = llmgate.completion(model="openai/mock-stream-error", messages=HELLO, stream=True,
                                api_base=f"{mock.base}/v1", api_key="sk")
    got = []
    with pytest.raises(openai.APIError):
        for c in chunks:
            got.append(c)
    assert got, "the chunks before the error arrive"


def test_timeout(mock):
    with pytest.raises(llmgate.Timeout) as ei:
        llmgate.completion(model="openai/mock-slow-3000", messages=HELLO, timeout=0.2,
                           api_base=f"{mock.base}/v1", api_key="sk")
    assert isinstance(ei.value, openai.APITimeoutError)
    assert ei.value.status_code == 408


def test_connection_refused():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(llmgate.APIConnectionError) as ei:
        llmgate.completion(model="openai/gpt-4o", messages=HELLO,
                           api_base=f"http://127.0.0.1:{port}/v1", api_key="sk")
    assert isinstance(ei.value, openai.APIConnectionError)


def set_behaviour(mock, model, behaviour, times):
    req = urllib.request.Request(
        f"{mock.base}/_mock/behaviour", method="POST",
        data=json.dumps({"model": model, "behaviour": behaviour, "times": times}).encode(),
        headers={"content-type": "application/json"})
    urllib.request.urlopen(req, timeout=5).close()


def count(mock, model):
    return sum(1 for r in mock.requests() if (r.get("body") or {}).get("model") == model)


def test_num_retries(mock):
    kw = {"api_base": f"{mock.base}/v1", "api_key": "sk"}
    set_behaviour(mock, "flaky-sync", "mock-error-500", 2)
    resp = llmgate.completion(model="openai/flaky-sync", messages=HELLO, num_retries=2, **kw)
    assert resp.choices[0].message.content == "Hello from mock"
    assert count(mock, "flaky-sync") == 3
    set_behaviour(mock, "flaky-async", "mock-error-503", 1)
    resp = asyncio.run(llmgate.acompletion(model="openai/flaky-async", messages=HELLO,
                                           num_retries=1, **kw))
    assert count(mock, "flaky-async") == 2
    # Retries used up: the last error, saying how often it was retried.
    with pytest.raises(llmgate.InternalServerError) as ei:
        llmgate.completion(model="openai/mock-error-500", messages=HELLO, num_retries=1, **kw)
    assert "Retried: 1 times" in str(ei.value)


def test_bad_arguments_are_bad_requests():
    with pytest.raises(llmgate.BadRequestError):
        llmgate.completion(model="openai/gpt-4o", messages="not a list", mock_response="x")
    with pytest.raises(llmgate.BadRequestError):
        llmgate.completion(model="", messages=HELLO)
    with pytest.raises(llmgate.UnsupportedParamsError):
        llmgate.completion(model="openai/gpt-4o", messages=HELLO, fallbacks=["x"])
    with pytest.raises(TypeError):
        llmgate.completion(model="openai/gpt-4o", messages=HELLO, mock_response="x",
                           temperature=object())
