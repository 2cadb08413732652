"""`/v1/completions` on Anthropic and Gemini deployments (no text-completion API upstream):
the official `openai` client's `completions.create`, plain and streamed, through the llmgate
binary; the prompt goes through the provider's chat, as LiteLLM's text_completion does."""
import json
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    cfg = f"""
model_list:
  - model_name: claude
    litellm_params:
      model: anthropic/claude-haiku-4-5
      api_base: {mock.base}
      api_key: sk-ant-e2e
  - model_name: gemini
    litellm_params:
      model: gemini/gemini-2.5-flash
      api_base: {mock.base}/v1beta
      api_key: gm-e2e
  - model_name: claude-limited
    litellm_params:
      model: anthropic/mock-error-429
      api_base: {mock.base}
      api_key: sk-ant-e2e
general_settings:
  master_key: {MASTER}
"""
    g = Gateway(tmp_path_factory.mktemp("completions_bridge"), cfg).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)


def last_sent(mock):
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())[-1]


def test_anthropic_plain_and_stream(client, mock):
    raw = client.completions.with_raw_response.create(model="claude", prompt="Say hi", max_tokens=20)
    r = raw.parse()
    assert r.object == "text_completion"
    assert r.model == "claude"
    assert r.choices[0].text == "Hello from mock"
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.total_tokens == 15
    # Priced as the chat call it was: 10 input tokens at 1e-6, 5 output tokens at 5e-6.
    assert float(raw.headers["x-litellm-response-cost"]) == pytest.approx(3.5e-5, rel=1e-9)
    sent = last_sent(mock)
    assert sent["path"] == "/v1/messages"
    assert sent["body"]["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Say hi"}]}]

    chunks = list(client.completions.create(
        model="claude", prompt=["Say", "hi"], max_tokens=20, stream=True,
        stream_options={"include_usage": True}))
    assert all(c.object == "text_completion" for c in chunks)
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "Hello from mock"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].usage.total_tokens == 15
    assert last_sent(mock)["body"]["stream"] is True


def test_gemini_plain_and_stream(client, mock):
    r = client.completions.create(model="gemini", prompt="Say hi", max_tokens=20)
    assert r.object == "text_completion"
    assert r.model == "gemini"
    assert r.choices[0].text
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.total_tokens > 0
    sent = last_sent(mock)
    assert sent["path"] == "/v1beta/models/gemini-2.5-flash:generateContent"
    assert sent["body"]["contents"][0]["parts"][0]["text"] == "Say hi"

    chunks = list(client.completions.create(model="gemini", prompt="Say hi", max_tokens=20, stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == r.choices[0].text
    assert last_sent(mock)["path"].endswith(":streamGenerateContent")


def test_errors_keep_their_status(client):
    with pytest.raises(openai.RateLimitError):
        client.completions.create(model="claude-limited", prompt="Hi")
    with pytest.raises(openai.BadRequestError) as e:
        client.completions.create(model="claude", prompt=[[1, 2, 3]])
    assert "Unmapped prompt format" in str(e.value)
