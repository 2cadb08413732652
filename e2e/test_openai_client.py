"""The official `openai` package against the real `llmgate` binary and the mock upstream."""
import json
import subprocess
import urllib.request

import openai
import pytest

from conftest import MASTER


@pytest.fixture
def client(gateway):
    return openai.OpenAI(base_url=f"{gateway.base}/v1", api_key=MASTER, max_retries=0)


def test_chat(client):
    r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hello"}])
    assert r.choices[0].message.content == "Hello from mock"
    assert r.model == "gpt-4o"
    assert r.usage.total_tokens == 15
    raw = client.chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Hello"}]
    )
    assert raw.headers["x-litellm-model-group"] == "gpt-4o"
    assert float(raw.headers["x-litellm-response-cost"]) == pytest.approx(7.5e-5, abs=1e-12)
    assert raw.headers["llm_provider-x-request-id"] == "mock-req-1"
    assert len(raw.headers["x-litellm-model-id"]) == 64


def test_chat_without_v1_prefix(gateway):
    c = openai.OpenAI(base_url=gateway.base, api_key=MASTER, max_retries=0)
    r = c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert r.choices[0].message.content == "Hello from mock"


def test_stream_with_usage(client):
    stream = client.chat.completions.create(
        model="gpt-4o",
        messages=[{"role": "user", "content": "Hello"}],
        stream=True,
        stream_options={"include_usage": True},
    )
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from mock"
    assert all(c.model == "gpt-4o" for c in chunks)
    assert chunks[-1].usage.total_tokens == 15
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"


def test_tools_round_trip(client):
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {"location": {"type": "string"}}}}}]
    msgs = [{"role": "user", "content": "Weather in Paris?"}]
    r = client.chat.completions.create(model="tools", messages=msgs, tools=tools)
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"location": "Paris"}
    msgs += [r.choices[0].message.model_dump(exclude_none=True), {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    r2 = client.chat.completions.create(model="gpt-4o", messages=msgs, tools=tools)
    assert r2.choices[0].message.content == "Hello from mock"


def test_stream_tool_calls(client):
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]
    stream = client.chat.completions.create(
        model="tools", messages=[{"role": "user", "content": "Weather?"}], tools=tools, stream=True
    )
    args, name = "", None
    for c in stream:
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            assert tc.index == 0
            name = name or tc.function.name
            args += tc.function.arguments or ""
    assert name == "get_weather"
    assert json.loads(args) == {"location": "Paris"}


def test_embeddings(client):
    r = client.embeddings.create(model="embed", input=["a", "b"])
    assert len(r.data) == 2
    assert len(r.data[0].embedding) == 8
    # The client asks for base64 by default when numpy is present; ask explicitly too.
    r = client.embeddings.create(model="embed", input="a", encoding_format="base64")
    assert len(r.data) == 1


def test_legacy_completions(client):
    r = client.completions.create(model="gpt-4o", prompt="Say hi")
    assert r.choices[0].text == "Hello from mock"
    chunks = list(client.completions.create(model="gpt-4o", prompt="Say hi", stream=True))
    assert "".join(c.choices[0].text for c in chunks if c.choices) == "Hello from mock"


def test_models(client):
    ids = [m.id for m in client.models.list()]
    assert ids[0] == "gpt-4o"
    assert "demo" in ids and "embed" in ids
    # One model, as the list shows it (LiteLLM's `GET /v1/models/{model}`), with and without /v1.
    m = client.models.retrieve("gpt-4o")
    assert (m.id, m.object, m.owned_by) == ("gpt-4o", "model", "openai")
    with pytest.raises(openai.NotFoundError) as e:
        client.models.retrieve("no-such-model")
    assert e.value.body["param"] == "model" and "no-such-model" in e.value.body["message"]
    bare = openai.OpenAI(base_url=str(client.base_url).removesuffix("/v1/"), api_key=MASTER, max_retries=0)
    assert bare.models.retrieve("demo").id == "demo"


def test_mock_response_deployment(client):
    r = client.chat.completions.create(model="demo", messages=[{"role": "user", "content": "Hi"}])
    assert r.choices[0].message.content == "Hello from the demo"
    assert r.model == "demo"


def test_bad_key(gateway):
    c = openai.OpenAI(base_url=f"{gateway.base}/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert e.value.status_code == 401
    assert e.value.body["type"] == "auth_error"
    assert e.value.body["code"] == "401"


def test_unknown_model(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "Hi"}])
    assert "Invalid model name passed in model=no-such-model" in e.value.message


def test_malformed_json(gateway):
    req = urllib.request.Request(
        f"{gateway.base}/v1/chat/completions",
        data=b"{not json",
        headers={"Authorization": f"Bearer {MASTER}", "Content-Type": "application/json"},
    )
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 400
    body = json.loads(e.value.read())
    assert body["error"]["code"] == "400"
    assert body["error"]["message"]


def test_upstream_429_keeps_retry_after(client):
    with pytest.raises(openai.RateLimitError) as e:
        client.chat.completions.create(model="limited", messages=[{"role": "user", "content": "Hi"}])
    assert e.value.status_code == 429
    assert e.value.response.headers["retry-after"] == "7"
    assert e.value.body["message"].startswith("litellm.RateLimitError: RateLimitError: OpenAIException - ")


def test_upstream_500(client):
    with pytest.raises(openai.InternalServerError) as e:
        client.chat.completions.create(model="broken", messages=[{"role": "user", "content": "Hi"}])
    assert e.value.status_code == 500


def test_upstream_down(client):
    with pytest.raises(openai.InternalServerError) as e:
        client.chat.completions.create(model="down", messages=[{"role": "user", "content": "Hi"}])
    assert "APIConnectionError" in e.value.message


def test_context_window(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="too-long", messages=[{"role": "user", "content": "Hi"}])
    assert "ContextWindowExceededError" in e.value.message


def test_error_in_the_middle_of_a_stream(client):
    stream = client.chat.completions.create(
        model="stream-error", messages=[{"role": "user", "content": "Hi"}], stream=True
    )
    with pytest.raises(openai.APIError) as e:
        for _ in stream:
            pass
    assert "mock stream failure" in str(e.value)


def test_azure_client(gateway):
    c = openai.AzureOpenAI(
        azure_endpoint=gateway.base, api_key=MASTER, api_version="2024-10-21", max_retries=0
    )
    r = c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert r.choices[0].message.content == "Hello from mock"


def test_curl_and_health(gateway):
    out = subprocess.run(
        ["curl", "-sS", f"{gateway.base}/health/readiness"], capture_output=True, text=True, check=True
    ).stdout
    # Public: status and db only, as LiteLLM 1.110; the rest behind a key.
    assert json.loads(out) == {"status": "healthy", "db": "connected"}
    out = subprocess.run(
        ["curl", "-sS", "-H", f"Authorization: Bearer {MASTER}", f"{gateway.base}/health/readiness/details"],
        capture_output=True, text=True, check=True,
    ).stdout
    ready = json.loads(out)
    assert (ready["status"], ready["db"], ready["redis"]) == ("healthy", "connected", "Not connected")
    assert ready["litellm_version"] and ready["success_callbacks"] == []
    assert ready["spend_backlog"] >= 0
    out = subprocess.run(
        ["curl", "-sS", "-H", f"Authorization: Bearer {MASTER}", f"{gateway.base}/health"],
        capture_output=True, text=True, check=True,
    ).stdout
    health = json.loads(out)
    healthy = {e["model"] for e in health["healthy_endpoints"]}
    assert "openai/gpt-4o" in healthy
    assert health["unhealthy_count"] >= 1
    out = subprocess.run(
        ["curl", "-sS", "-H", f"x-litellm-api-key: {MASTER}", "-d",
         json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "hello world"}]}),
         f"{gateway.base}/utils/token_counter"],
        capture_output=True, text=True, check=True,
    ).stdout
    assert json.loads(out)["total_tokens"] == 9
