"""The official `openai` client through the llmgate binary to Claude (the Anthropic mock)."""
import json

import openai
import pytest

from conftest import MASTER

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"location": {"type": "string"}}}}}]


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    from conftest import Gateway
    cfg = f"""
model_list:
  - model_name: claude
    litellm_params:
      model: anthropic/claude-haiku-4-5
      api_base: {mock.base}
      api_key: os.environ/ANTHROPIC_API_KEY
  - model_name: claude-tools
    litellm_params:
      model: anthropic/claude-tool
      api_base: {mock.base}
      api_key: os.environ/ANTHROPIC_API_KEY
  - model_name: claude-overloaded
    litellm_params:
      model: anthropic/mock-error-529
      api_base: {mock.base}
general_settings:
  master_key: {MASTER}
"""
    g = Gateway(tmp_path_factory.mktemp("anthropic"), cfg, env={"ANTHROPIC_API_KEY": "sk-ant-e2e"}).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)


def test_chat_and_cost(client):
    raw = client.chat.completions.with_raw_response.create(
        model="claude", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
    )
    r = raw.parse()
    assert r.choices[0].message.content == "Hello from mock"
    assert r.model == "claude"
    assert r.usage.total_tokens == 15
    # claude-haiku-4-5: 10 input tokens at 1e-6, 5 output tokens at 5e-6.
    assert float(raw.headers["x-litellm-response-cost"]) == pytest.approx(3.5e-5, rel=1e-9)


def test_tools_with_a_follow_up_turn(client):
    msgs = [{"role": "user", "content": "Weather in Paris?"}]
    r = client.chat.completions.create(model="claude-tools", messages=msgs, tools=TOOLS)
    call = r.choices[0].message.tool_calls[0]
    assert r.choices[0].finish_reason == "tool_calls"
    assert json.loads(call.function.arguments) == {"location": "Paris"}
    msgs += [r.choices[0].message.model_dump(exclude_none=True),
             {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"}]
    r2 = client.chat.completions.create(model="claude-tools", messages=msgs, tools=TOOLS)
    assert r2.choices[0].message.content == "Hello from mock"


def test_stream_with_usage(client):
    chunks = list(client.chat.completions.create(
        model="claude", messages=[{"role": "user", "content": "Hi"}], stream=True,
        stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from mock"
    assert chunks[-1].usage.total_tokens == 15
    assert all(c.model == "claude" for c in chunks)


def test_streamed_tool_call(client):
    args = ""
    for c in client.chat.completions.create(model="claude-tools", messages=[{"role": "user", "content": "Weather?"}],
                                            tools=TOOLS, stream=True):
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            args += tc.function.arguments or ""
    assert json.loads(args) == {"location": "Paris"}


def test_overloaded_is_503(client):
    with pytest.raises(openai.InternalServerError) as e:
        client.chat.completions.create(model="claude-overloaded", messages=[{"role": "user", "content": "Hi"}])
    assert e.value.status_code == 503
