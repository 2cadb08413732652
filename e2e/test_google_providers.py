"""The official `openai` client through the llmgate binary to Gemini and Vertex AI (mocks)."""
import json
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "additionalProperties": False,
    "properties": {"location": {"type": "string"}, "unit": {"type": ["string", "null"]}},
    "required": ["location"]}}}]


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("google")
    sa = tmp / "sa.json"
    sa.write_text(urllib.request.urlopen(f"{mock.base}/_mock/service_account").read().decode())
    cfg = f"""
model_list:
  - model_name: gemini
    litellm_params:
      model: gemini/gemini-2.5-flash
      api_base: {mock.base}/v1beta
      api_key: os.environ/GEMINI_API_KEY
  - model_name: gemini-tools
    litellm_params:
      model: gemini/gemini-2.5-flash-tool
      api_base: {mock.base}/v1beta
      api_key: os.environ/GEMINI_API_KEY
  - model_name: vertex-gemini
    litellm_params:
      model: vertex_ai/gemini-2.5-pro
      api_base: {mock.base}
      vertex_project: proj-e2e
      vertex_location: europe-west4
      vertex_credentials: {sa}
  - model_name: vertex-claude
    litellm_params:
      model: vertex_ai/claude-sonnet-4-5
      api_base: {mock.base}
      vertex_project: proj-e2e
      vertex_location: global
      vertex_credentials: {sa}
  - model_name: claude
    litellm_params:
      model: anthropic/claude-haiku-4-5
      api_base: {mock.base}
      api_key: sk-ant
general_settings:
  master_key: {MASTER}
"""
    g = Gateway(tmp, cfg, env={"GEMINI_API_KEY": "gm-e2e"}).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)


def sent(mock):
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())[-1]


@pytest.mark.parametrize("model", ["gemini", "vertex-gemini", "vertex-claude"])
def test_chat_and_stream_with_usage(client, model):
    r = client.chat.completions.create(model=model, max_tokens=50, messages=[
        {"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    assert r.choices[0].message.content == "Hello from mock"
    assert r.model == model
    chunks = list(client.chat.completions.create(
        model=model, max_tokens=50, messages=[{"role": "user", "content": "Hi"}], stream=True,
        stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from mock"
    assert chunks[-1].usage.total_tokens == 15


def test_gemini_tools_with_a_follow_up_turn(client, mock):
    msgs = [{"role": "user", "content": "Weather in Paris?"}]
    r = client.chat.completions.create(model="gemini-tools", messages=msgs, tools=TOOLS)
    call = r.choices[0].message.tool_calls[0]
    assert json.loads(call.function.arguments) == {"location": "Paris"}
    # The OpenAI-valid schema reached Gemini in the subset it accepts.
    params = sent(mock)["body"]["tools"][0]["functionDeclarations"][0]["parameters"]
    assert "additionalProperties" not in params
    assert params["properties"]["unit"] == {"type": "string", "nullable": True}
    msgs += [r.choices[0].message.model_dump(exclude_none=True),
             {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    r2 = client.chat.completions.create(model="gemini-tools", messages=msgs, tools=TOOLS)
    assert r2.choices[0].message.content == "Hello from mock"


def test_vertex_uses_the_service_account(client, mock):
    client.chat.completions.create(model="vertex-gemini", messages=[{"role": "user", "content": "Hi"}])
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    assert any(r["path"] == "/token" for r in reqs)
    last = reqs[-1]
    assert last["path"] == "/v1/projects/proj-e2e/locations/europe-west4/publishers/google/models/gemini-2.5-pro:generateContent"
    assert last["headers"]["authorization"] == "Bearer ya29.mock-access-token"


def test_anthropic_beta_header_is_passed_on(client, mock):
    client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "Hi"}],
                                   extra_headers={"anthropic-beta": "context-1m-2025-08-07"})
    assert sent(mock)["headers"]["anthropic-beta"] == "context-1m-2025-08-07"


def test_token_counter_calls_the_provider(gw):
    for model, want in [("claude", 13), ("vertex-gemini", 7)]:
        req = urllib.request.Request(
            f"{gw.base}/utils/token_counter",
            data=json.dumps({"model": model, "messages": [{"role": "user", "content": "hi"}], "call_endpoint": True}).encode(),
            headers={"Authorization": f"Bearer {MASTER}", "Content-Type": "application/json"})
        out = json.loads(urllib.request.urlopen(req).read())
        assert out["total_tokens"] == want, model


def test_errors_map(client):
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gemini", messages=[{"role": "user", "content": [
            {"type": "image_url", "image_url": {"url": ""}}]}])
