"""completion / acompletion, plain and streamed, against the OpenAI, Anthropic and Gemini mocks."""
import asyncio
import json

import pytest

import llmgate

HELLO = [{"role": "user", "content": "Hello"}]
PROVIDERS = ["openai", "anthropic", "gemini"]


def last_request(mock):
    return mock.requests()[-1]


def check_answer(resp, model):
    assert isinstance(resp, llmgate.ModelResponse)
    assert resp.choices[0].message.content == "Hello from mock"
    assert resp["choices"][0]["message"]["content"] == "Hello from mock"
    assert resp.choices[0].message.role == "assistant"
    assert resp.choices[0].message.tool_calls is None
    assert resp.choices[0].finish_reason == "stop"
    assert resp.object == "chat.completion"
    assert resp.usage.prompt_tokens == 10 and resp.usage.completion_tokens == 5
    assert resp.usage.total_tokens == 15
    cost = resp._hidden_params["response_cost"]
    info = llmgate.get_model_info(model)
    assert cost == pytest.approx(10 * info["input_cost_per_token"] + 5 * info["output_cost_per_token"])
    assert llmgate.completion_cost(completion_response=resp) == cost
    # A dict: JSON and back, and into the next call's messages.
    assert json.loads(json.dumps(resp))["choices"][0]["message"]["content"] == "Hello from mock"
    assert resp.model_dump()["usage"]["total_tokens"] == 15


@pytest.mark.parametrize("provider", PROVIDERS)
def test_completion(providers, mock, provider):
    model, kw = providers[provider]
    resp = llmgate.completion(model=model, messages=HELLO, max_tokens=20, **kw)
    check_answer(resp, model)
    assert resp._hidden_params["custom_llm_provider"] == provider
    sent = last_request(mock)
    assert sent["body"].get("max_tokens", sent["body"].get("generationConfig", {}).get("maxOutputTokens")) == 20
    # LiteLLM parameters never reach the upstream.
    assert "api_key" not in sent["body"] and "api_base" not in sent["body"]


@pytest.mark.parametrize("provider", PROVIDERS)
def test_acompletion(providers, provider):
    model, kw = providers[provider]
    resp = asyncio.run(llmgate.acompletion(model=model, messages=HELLO, **kw))
    check_answer(resp, model)


def collect(chunks):
    text, usage = "", None
    for c in chunks:
        assert isinstance(c, llmgate.ModelResponseStream)
        if c.choices:
            text += c.choices[0].delta.content or ""
        if c.usage:
            usage = c.usage
    return text, usage


@pytest.mark.parametrize("provider", PROVIDERS)
def test_completion_stream(providers, provider):
    model, kw = providers[provider]
    stream = llmgate.completion(model=model, messages=HELLO, stream=True,
                                stream_options={"include_usage": True}, **kw)
    assert isinstance(stream, llmgate.CustomStreamWrapper)
    chunks = list(stream)
    assert len(chunks) >= 2
    text, usage = collect(chunks)
    assert text == "Hello from mock"
    assert usage is not None and usage.total_tokens == 15
    assert chunks[-1]._hidden_params["response_cost"] > 0
    assert any(c.choices and c.choices[0].finish_reason == "stop" for c in chunks)


@pytest.mark.parametrize("provider", PROVIDERS)
def test_acompletion_stream(providers, provider):
    model, kw = providers[provider]

    async def go():
        stream = await llmgate.acompletion(model=model, messages=HELLO, stream=True, **kw)
        return [c async for c in stream]

    text, _ = collect(asyncio.run(go()))
    assert text == "Hello from mock"


def test_stream_closed_early_stops_reading(providers):
    model, kw = providers["openai"]
    stream = llmgate.completion(model=model, messages=HELLO, stream=True, **kw)
    first = next(stream)
    assert first.choices[0].delta is not None
    stream.close()
    with pytest.raises(StopIteration):
        next(stream)


def test_tools_round_trip(providers, mock):
    model, kw = providers["openai"]
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {
        "type": "object", "properties": {"city": {"type": "string"}}}}}]
    resp = llmgate.completion(model=model, messages=HELLO, tools=tools, tool_choice="auto",
                              temperature=0.2, seed=7, user="u1", **kw)
    body = last_request(mock)["body"]
    assert body["tools"] == tools and body["tool_choice"] == "auto"
    assert body["temperature"] == 0.2 and body["seed"] == 7 and body["user"] == "u1"
    # The previous answer's message goes back in as it is (it is a dict).
    follow = HELLO + [resp.choices[0].message, {"role": "user", "content": "more"}]
    again = llmgate.completion(model=model, messages=follow, **kw)
    assert again.choices[0].message.content == "Hello from mock"
    assert last_request(mock)["body"]["messages"][1]["content"] == "Hello from mock"


def test_credentials_from_environment(providers, mock, monkeypatch):
    model, kw = providers["openai"]
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    llmgate.completion(model=model, messages=HELLO, api_base=kw["api_base"])
    assert last_request(mock)["headers"]["authorization"] == "Bearer sk-from-env"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-env")
    amodel, akw = providers["anthropic"]
    llmgate.completion(model=amodel, messages=HELLO, api_base=akw["api_base"])
    assert last_request(mock)["headers"]["x-api-key"] == "sk-ant-env"


def test_extra_headers_and_api_version(providers, mock):
    model, kw = providers["openai"]
    llmgate.completion(model=model, messages=HELLO, extra_headers={"x-trace": "t1"}, **kw)
    assert last_request(mock)["headers"]["x-trace"] == "t1"


def test_mock_response_calls_no_upstream(mock):
    before = len(mock.requests())
    resp = llmgate.completion(model="openai/gpt-4o", messages=HELLO, mock_response="Hi there")
    assert resp.choices[0].message.content == "Hi there"
    chunks = list(llmgate.completion(model="openai/gpt-4o", messages=HELLO,
                                     mock_response="Hi there", stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hi there"
    with pytest.raises(llmgate.RateLimitError):
        llmgate.completion(model="openai/gpt-4o", messages=HELLO,
                           mock_response="litellm.RateLimitError")
    assert len(mock.requests()) == before


def test_drop_params(providers, mock):
    model, kw = providers["anthropic"]
    # Anthropic has no `logit_bias`: an error naming it, unless drop_params.
    with pytest.raises(llmgate.UnsupportedParamsError):
        llmgate.completion(model=model, messages=HELLO, logit_bias={"1": 1}, **kw)
    resp = llmgate.completion(model=model, messages=HELLO, logit_bias={"1": 1},
                              drop_params=True, **kw)
    assert resp.choices[0].message.content == "Hello from mock"
    assert "logit_bias" not in last_request(mock)["body"]


def test_text_completion(providers):
    model, kw = providers["openai"]
    resp = llmgate.text_completion(prompt="Say hi", model="openai/gpt-3.5-turbo-instruct", **kw)
    assert isinstance(resp, llmgate.TextCompletionResponse)
    assert resp.object == "text_completion"
    assert resp.choices[0].text
    assert resp.usage.total_tokens > 0
    chunks = list(llmgate.text_completion(prompt="Say hi", model="openai/gpt-3.5-turbo-instruct",
                                          stream=True, **kw))
    assert "".join(c.choices[0].text for c in chunks if c.choices)
    aresp = asyncio.run(llmgate.atext_completion(prompt="Say hi",
                                                 model="openai/gpt-3.5-turbo-instruct", **kw))
    assert aresp.choices[0].text == resp.choices[0].text


def test_stream_chunk_builder(providers):
    model, kw = providers["openai"]
    chunks = list(llmgate.completion(model=model, messages=HELLO, stream=True,
                                     stream_options={"include_usage": True}, **kw))
    resp = llmgate.stream_chunk_builder(chunks, messages=HELLO)
    assert isinstance(resp, llmgate.ModelResponse)
    assert resp.choices[0].message.content == "Hello from mock"
    assert resp.choices[0].finish_reason == "stop"
    assert resp.usage.total_tokens == 15
    # Without the stream's usage: counted.
    no_usage = list(llmgate.completion(model=model, messages=HELLO, stream=True, **kw))
    counted = llmgate.stream_chunk_builder(no_usage, messages=HELLO)
    assert counted.usage.prompt_tokens == llmgate.token_counter(model=model, messages=HELLO)
    assert counted.usage.completion_tokens == llmgate.token_counter(model=model, text="Hello from mock")


def test_azure_api_version_and_key(mock):
    resp = llmgate.completion(model="azure/my-deploy", messages=HELLO, api_base=mock.base,
                              api_key="az-key", api_version="2024-10-21")
    assert resp.choices[0].message.content == "Hello from mock"
    sent = last_request(mock)
    assert sent["path"] == "/openai/deployments/my-deploy/chat/completions"
    assert "api-version=2024-10-21" in sent["query"]
    assert sent["headers"]["api-key"] == "az-key"
    assert resp._hidden_params["custom_llm_provider"] == "azure"
