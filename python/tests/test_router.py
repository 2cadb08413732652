"""Router: LiteLLM's model_list with fallbacks, retries and routing strategies."""
import asyncio

import pytest

import llmgate

HELLO = [{"role": "user", "content": "Hello"}]


def model_list(mock):
    b = f"{mock.base}/v1"
    return [
        {"model_name": "gpt", "litellm_params": {"model": "openai/mock-error-500",
                                                 "api_base": b, "api_key": "sk-a"}},
        {"model_name": "backup", "litellm_params": {"model": "openai/gpt-4o",
                                                    "api_base": b, "api_key": "sk-b"}},
        {"model_name": "anthropic", "litellm_params": {"model": "anthropic/claude-sonnet-4-5",
                                                       "api_base": mock.base, "api_key": "sk-c"}},
        {"model_name": "embed", "litellm_params": {"model": "openai/text-embedding-3-small",
                                                   "api_base": b, "api_key": "sk-d"}},
        {"model_name": "limited", "litellm_params": {"model": "openai/mock-error-429",
                                                     "api_base": b, "api_key": "sk-e"}},
    ]


def test_fallbacks(mock):
    router = llmgate.Router(model_list=model_list(mock), fallbacks=[{"gpt": ["backup"]}],
                            num_retries=0)
    resp = router.completion(model="gpt", messages=HELLO)
    assert resp.choices[0].message.content == "Hello from mock"
    sent = mock.requests()[-1]
    assert sent["headers"]["authorization"] == "Bearer sk-b"
    assert resp._hidden_params["response_cost"] > 0
    resp = asyncio.run(router.acompletion(model="gpt", messages=HELLO))
    assert resp.choices[0].message.content == "Hello from mock"


def test_no_fallback_raises_the_error(mock):
    router = llmgate.Router(model_list=model_list(mock), num_retries=0)
    with pytest.raises(llmgate.RateLimitError):
        router.completion(model="limited", messages=HELLO)
    with pytest.raises(llmgate.BadRequestError):
        router.completion(model="no-such-group", messages=HELLO)


@pytest.mark.parametrize("strategy", ["simple-shuffle", "least-busy", "usage-based-routing",
                                      "latency-based-routing", "cost-based-routing"])
def test_strategies_and_streams(mock, strategy):
    router = llmgate.Router(model_list=model_list(mock), routing_strategy=strategy)
    chunks = list(router.completion(model="anthropic", messages=HELLO, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == \
        "Hello from mock"

    async def go():
        s = await router.acompletion(model="backup", messages=HELLO, stream=True)
        return [c async for c in s]

    chunks = asyncio.run(go())
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == \
        "Hello from mock"


def test_embedding(mock):
    router = llmgate.Router(model_list=model_list(mock))
    resp = router.embedding(model="embed", input=["a", "b"])
    assert len(resp.data) == 2
    assert len(asyncio.run(router.aembedding(model="embed", input="a")).data) == 1


def test_bad_settings_are_named(mock):
    with pytest.raises(ValueError, match="routing_strategy"):
        llmgate.Router(model_list=model_list(mock), routing_strategy="fastest-ever")
    with pytest.raises(TypeError, match="redis_host"):
        llmgate.Router(model_list=model_list(mock), redis_host="127.0.0.1")
    router = llmgate.Router(model_list=model_list(mock))
    with pytest.raises(llmgate.UnsupportedParamsError, match="api_key"):
        router.completion(model="backup", messages=HELLO, api_key="sk-x")


def test_mock_response_answers_locally(mock):
    router = llmgate.Router(model_list=model_list(mock))
    before = len(mock.requests())
    resp = router.completion(model="backup", messages=HELLO, mock_response="routed mock")
    assert resp.choices[0].message.content == "routed mock"
    chunks = list(router.completion(model="backup", messages=HELLO, mock_response="abc def",
                                    stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "abc def"
    resp = asyncio.run(router.acompletion(model="backup", messages=HELLO, mock_response="a"))
    assert resp.choices[0].message.content == "a"
    with pytest.raises(llmgate.RateLimitError):
        router.completion(model="backup", messages=HELLO, mock_response="litellm.RateLimitError")
    with pytest.raises(llmgate.BadRequestError):
        router.completion(model="nope", messages=HELLO, mock_response="x")
    assert len(mock.requests()) == before
