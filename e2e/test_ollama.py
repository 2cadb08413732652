"""The official `openai` client through the llmgate binary to Ollama (the mock's `/api/*` routes):
`ollama_chat/` through `/api/chat`, `ollama/` through `/api/generate`, embeddings through `/api/embed`."""
import json
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}]


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ollama")
    cfg = f"""
model_list:
  - model_name: llama-chat
    litellm_params:
      model: ollama_chat/llama3.1
      api_base: {mock.base}
      keep_alive: 8m
  - model_name: llama-generate
    litellm_params:
      model: ollama/llama3.1
  - model_name: missing
    litellm_params:
      model: ollama_chat/mock-not-found
      api_base: {mock.base}
  - model_name: nomic
    litellm_params:
      model: ollama/nomic-embed-text
      api_base: {mock.base}
general_settings:
  master_key: {MASTER}
"""
    # `llama-generate` has no api_base: it finds the server through OLLAMA_API_BASE, as LiteLLM.
    g = Gateway(tmp, cfg, env={"OLLAMA_API_BASE": mock.base}).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=f"{gw.base}/v1", api_key=MASTER, max_retries=0)


def last_request(mock, path):
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    return [r for r in reqs if r["path"] == path][-1]


def test_chat_and_generate(client, mock):
    r = client.chat.completions.create(model="llama-chat", max_tokens=9,
                                       messages=[{"role": "user", "content": "hi"}])
    assert r.choices[0].message.content == "Hello from Ollama"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (12, 3)
    sent = last_request(mock, "/api/chat")["body"]
    assert sent["model"] == "llama3.1" and sent["stream"] is False
    assert sent["keep_alive"] == "8m" and sent["options"] == {"num_predict": 9}

    r = client.chat.completions.create(model="llama-generate",
                                       messages=[{"role": "user", "content": "hi"}])
    assert r.choices[0].message.content == "Hello from Ollama"
    assert last_request(mock, "/api/generate")["body"]["prompt"] == "### User:\nhi\n\n"


@pytest.mark.parametrize("model", ["llama-chat", "llama-generate"])
def test_stream(client, model):
    s = client.chat.completions.create(model=model, stream=True, stream_options={"include_usage": True},
                                       messages=[{"role": "user", "content": "hi"}])
    chunks = list(s)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from Ollama"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].usage.total_tokens == 15


@pytest.mark.parametrize("model", ["llama-chat", "llama-generate"])
def test_ollama_models_are_free(client, model):
    # As LiteLLM: every Ollama model costs 0 (`ollama_chat/x` priced as `ollama/x`).
    raw = client.chat.completions.with_raw_response.create(
        model=model, messages=[{"role": "user", "content": "hi"}])
    assert float(raw.headers["x-litellm-response-cost"]) == 0.0


def test_tools(client):
    r = client.chat.completions.create(model="llama-chat", tools=TOOLS,
                                       messages=[{"role": "user", "content": "weather in Paris?"}])
    call = r.choices[0].message.tool_calls[0]
    assert r.choices[0].finish_reason == "tool_calls"
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"location": "Paris"}


def test_embeddings(client, mock):
    e = client.embeddings.create(model="nomic", input=["a", "b", "c"])
    assert [d.index for d in e.data] == [0, 1, 2] and len(e.data[0].embedding) == 4
    assert e.usage.prompt_tokens == 12
    assert last_request(mock, "/api/embed")["body"] == {"model": "nomic-embed-text", "input": ["a", "b", "c"]}


def test_model_not_found_is_a_404(client):
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="missing", messages=[{"role": "user", "content": "hi"}])
    assert "not found, try pulling it first" in str(e.value)


def test_text_completion(client, mock):
    r = client.completions.create(model="llama-generate", prompt="Once upon", max_tokens=4)
    assert r.choices[0].text == "Hello from Ollama" and r.usage.total_tokens == 15
    assert last_request(mock, "/api/generate")["body"]["prompt"] == "Once upon"
    s = client.completions.create(model="llama-generate", prompt="Once upon", stream=True)
    assert "".join(c.choices[0].text for c in s if c.choices) == "Hello from Ollama"
