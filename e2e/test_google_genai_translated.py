"""Google's native `generateContent` paths in front of models that are not Google's: Google's
official `google-genai` client (and plain HTTP) against OpenAI-compatible, Anthropic and Claude
on Vertex AI deployments of the mock. The gateway translates Google's body to chat and the
answer (and each stream chunk) back, as LiteLLM does: plain and streamed calls, an upstream
failing mid-stream, function calling round trips (manual, streamed, and the client's automatic
function calling), `countTokens` counted locally, spend rows with LiteLLM's call types, a key
without access to the model, bad bodies."""
import json
import time
import urllib.error
import urllib.request

import pytest
from google import genai
from google.genai import errors, types

from conftest import MASTER, Gateway
from test_passthrough import no_virtual_key, post, recorded
from test_virtual_keys import admin

MODELS = [
    ("gpt", "openai/gpt-4o", "/v1"),
    ("gpt-agent", "openai/mock-agent", "/v1"),
    ("gpt-stream-error", "openai/mock-stream-error", "/v1"),
    ("claude", "anthropic/claude-haiku-4-5", ""),
    ("claude-tools", "anthropic/claude-tool", ""),
    # Claude on Vertex AI speaks Anthropic's protocol, not generateContent: through chat too.
    ("vertex-claude", "vertex_ai/claude-sonnet-4-5", ""),
]
# Where each group's requests land on the mock.
UPSTREAM = {"gpt": "/v1/chat/completions", "gpt-agent": "/v1/chat/completions",
            "claude": "/v1/messages", "claude-tools": "/v1/messages",
            "vertex-claude": "/v1/projects/proj-genai/locations/global/publishers/anthropic/"}

WEATHER = types.FunctionDeclaration(
    name="get_weather", description="The weather in a place.",
    parameters=types.Schema(type="OBJECT", properties={"location": types.Schema(type="STRING")},
                            required=["location"]))


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("genai_translated")
    sa = tmp / "sa.json"
    sa.write_text(urllib.request.urlopen(f"{mock.base}/_mock/service_account").read().decode())
    cfg = "model_list:\n"
    for name, model, path in MODELS:
        cfg += (f"  - model_name: {name}\n    litellm_params:\n      model: {model}\n"
                f"      api_base: {mock.base}{path}\n      api_key: sk-upstream-genai\n"
                f"      input_cost_per_token: 0.001\n      output_cost_per_token: 0.002\n")
        if model.startswith("vertex_ai/"):
            cfg += (f"      vertex_project: proj-genai\n      vertex_location: global\n"
                    f"      vertex_credentials: {sa}\n")
    cfg += f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 0.2\n"
    g = Gateway(tmp, cfg, env={"LLMGATE_DB_PATH": str(tmp / "spend.db")}).wait_ready()
    yield g
    g.stop()


def new_key(gw, **fields):
    status, k = admin(gw, "POST", "/key/generate", fields)
    assert status == 200, k
    return k["key"]


@pytest.fixture(scope="module")
def vkey(gw):
    return new_key(gw, key_alias="genai-translated")


def client(gw, key):
    return genai.Client(api_key=key, http_options=types.HttpOptions(base_url=gw.base))


def last_body(mock, group):
    return recorded(mock, UPSTREAM[group])[-1]["body"]


def logs_of(gw, key, want, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        _, logs = admin(gw, "GET", f"/spend/logs?api_key={key}")
        if isinstance(logs, list) and len(logs) >= want:
            return logs
        time.sleep(0.1)
    raise AssertionError(f"fewer than {want} spend logs for the key within {timeout}s")


@pytest.mark.parametrize("model", ["gpt", "claude", "vertex-claude"])
def test_generate_content(gw, mock, vkey, model):
    c = client(gw, vkey)
    r = c.models.generate_content(
        model=model, contents="Hi",
        config=types.GenerateContentConfig(system_instruction="Be brief.", max_output_tokens=50,
                                           temperature=0.3))
    assert r.text == "Hello from mock"
    assert r.candidates[0].finish_reason == types.FinishReason.STOP
    assert r.candidates[0].content.role == "model"
    u = r.usage_metadata
    assert (u.prompt_token_count, u.candidates_token_count, u.total_token_count) == (10, 5, 15)
    assert r.model_version == model
    sent = last_body(mock, model)
    if model == "gpt":
        assert sent["messages"] == [{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": "Hi"}]
    else:
        assert sent["system"] == "Be brief." or sent["system"][0]["text"] == "Be brief."
        (msg,) = sent["messages"]
        assert msg["role"] == "user"
        assert msg["content"] in ("Hi", [{"type": "text", "text": "Hi"}])
    assert (sent["max_tokens"], sent["temperature"]) == (50, 0.3)
    no_virtual_key(recorded(mock, UPSTREAM[model])[-1:], vkey)


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_stream_arrives_in_several_chunks(gw, vkey, model):
    c = client(gw, vkey)
    chunks = list(c.models.generate_content_stream(model=model, contents="Hi"))
    texts = [c.text for c in chunks if c.text]
    assert len(texts) > 1, "the text arrives in several chunks"
    assert "".join(texts) == "Hello from mock"
    last = chunks[-1]
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    assert last.usage_metadata.prompt_token_count == 10
    assert last.usage_metadata.candidates_token_count > 0
    assert all(c.model_version == model for c in chunks)


def test_plain_http_stream_is_sse(gw, vkey):
    req = urllib.request.Request(
        f"{gw.base}/v1beta/models/gpt:streamGenerateContent?alt=sse",
        data=json.dumps({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}).encode(),
        method="POST", headers={"Content-Type": "application/json", "x-goog-api-key": vkey})
    with urllib.request.urlopen(req) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    events = [json.loads(l[len("data: "):]) for l in raw.split("\n") if l.startswith("data: ")]
    assert "[DONE]" not in raw
    assert len(events) > 2
    assert events[-1]["candidates"][0]["finishReason"] == "STOP"
    assert events[-1]["usageMetadata"] == {"promptTokenCount": 10, "candidatesTokenCount": 5,
                                           "totalTokenCount": 15}
    # Also under `/models/...` with a Bearer key, not streamed.
    status, _, body = post(gw, "/models/claude:generateContent",
                           {"contents": [{"parts": [{"text": "Hi"}]}]},
                           {"Authorization": f"Bearer {vkey}"})
    assert status == 200, body
    assert json.loads(body)["candidates"][0]["content"]["parts"] == [{"text": "Hello from mock"}]


def test_an_upstream_failing_mid_stream_ends_with_an_error_event(gw, vkey):
    req = urllib.request.Request(
        f"{gw.base}/v1beta/models/gpt-stream-error:streamGenerateContent?alt=sse",
        data=json.dumps({"contents": [{"parts": [{"text": "Hi"}]}]}).encode(),
        method="POST", headers={"Content-Type": "application/json", "x-goog-api-key": vkey})
    with urllib.request.urlopen(req) as r:
        events = [json.loads(l[len("data: "):]) for l in r.read().decode().split("\n")
                  if l.startswith("data: ")]
    assert events[0]["candidates"][0]["content"]["parts"][0]["text"], events
    assert "error" in events[-1] and events[-1]["error"]["message"], events
    assert not any("usageMetadata" in e for e in events)


@pytest.mark.parametrize("model", ["gpt-agent", "claude-tools"])
def test_function_calling_round_trip(gw, mock, vkey, model):
    c = client(gw, vkey)
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[WEATHER])],
        tool_config=types.ToolConfig(function_calling_config=types.FunctionCallingConfig(mode="AUTO")))
    ask = types.Content(role="user", parts=[types.Part(text="Weather in Paris?")])
    r = c.models.generate_content(model=model, contents=[ask], config=config)
    (call,) = r.function_calls
    assert call.name == "get_weather"
    assert call.args == ({"location": "x"} if model == "gpt-agent" else {"location": "Paris"})
    assert call.id
    sent = last_body(mock, model)
    if model == "gpt-agent":
        f = sent["tools"][0]["function"]
        assert f["parameters"] == {"type": "object", "properties": {"location": {"type": "string"}},
                                   "required": ["location"]}
        assert sent["tool_choice"] == "auto"
    else:
        assert sent["tools"][0]["input_schema"]["properties"]["location"] == {"type": "string"}
    answer = types.Part(function_response=types.FunctionResponse(
        id=call.id, name=call.name, response={"result": "sunny, 21C"}))
    r2 = c.models.generate_content(
        model=model, config=config,
        contents=[ask, r.candidates[0].content, types.Content(role="user", parts=[answer])])
    if model == "gpt-agent":
        assert "sunny, 21C" in r2.text
    else:
        assert r2.text == "Hello from mock"
    sent = last_body(mock, model)
    if model == "gpt-agent":
        assert sent["messages"][1]["tool_calls"][0]["id"] == call.id
        assert sent["messages"][2] == {"role": "tool", "tool_call_id": call.id,
                                       "content": '{"result":"sunny, 21C"}'}
    else:
        (use,) = [b for b in sent["messages"][1]["content"] if b["type"] == "tool_use"]
        (result,) = sent["messages"][2]["content"]
        assert use["id"] == call.id and result["tool_use_id"] == call.id


def test_a_streamed_function_call_arrives_whole(gw, vkey):
    config = types.GenerateContentConfig(tools=[types.Tool(function_declarations=[WEATHER])])
    c = client(gw, vkey)
    chunks = list(c.models.generate_content_stream(
        model="gpt-agent", contents="Weather in Paris?", config=config))
    calls = [fc for ch in chunks for fc in (ch.function_calls or [])]
    assert [(fc.name, fc.args) for fc in calls] == [("get_weather", {"location": "x"})]
    assert chunks[-1].usage_metadata.total_token_count == 15


def test_automatic_function_calling_with_a_python_function(gw, mock, vkey):
    ran = []

    def get_weather(location: str) -> str:
        """The weather in a place."""
        ran.append(location)
        return f"sunny in {location}"

    c = client(gw, vkey)
    r = c.models.generate_content(
        model="gpt-agent", contents="Weather in Paris?",
        config=types.GenerateContentConfig(tools=[get_weather]))
    assert ran == ["x"]
    assert "sunny in x" in r.text
    # The client's schema (Google's upper-case types) reached the model as JSON Schema.
    params = last_body(mock, "gpt-agent")["tools"][0]["function"]["parameters"]
    assert params["type"] == "object" and params["properties"]["location"]["type"] == "string"


@pytest.mark.parametrize("model", ["gpt", "claude"])
def test_count_tokens_locally(gw, mock, vkey, model):
    c = client(gw, vkey)
    before = len(recorded(mock, "/"))
    short = c.models.count_tokens(model=model, contents="Count me").total_tokens
    long = c.models.count_tokens(model=model, contents="Count me, please. " * 40).total_tokens
    assert 0 < short < long
    assert len(recorded(mock, "/")) == before, "counted without the upstream"


def test_spend_rows_carry_the_call_types(gw):
    key = new_key(gw, key_alias="genai-spend")
    c = client(gw, key)
    c.models.generate_content(model="gpt", contents="Hi")
    list(c.models.generate_content_stream(model="claude", contents="Hi"))
    logs = logs_of(gw, key, 2)
    by_type = {log["call_type"]: log for log in logs}
    assert set(by_type) == {"agenerate_content", "agenerate_content_stream"}, logs
    plain, stream = by_type["agenerate_content"], by_type["agenerate_content_stream"]
    assert (plain["model_group"], stream["model_group"]) == ("gpt", "claude")
    for log in (plain, stream):
        assert (log["prompt_tokens"], log["completion_tokens"]) == (10, 5), log
        assert log["spend"] == pytest.approx(10 * 0.001 + 5 * 0.002)


def test_a_key_without_the_model_is_refused(gw, mock):
    key = new_key(gw, models=["claude"])
    c = client(gw, key)
    before = len(recorded(mock, "/v1/chat/completions"))
    with pytest.raises(errors.ClientError) as e:
        c.models.generate_content(model="gpt", contents="Hi")
    assert e.value.code == 403
    with pytest.raises(errors.ClientError) as e:
        list(c.models.generate_content_stream(model="gpt", contents="Hi"))
    assert e.value.code == 403
    with pytest.raises(errors.ClientError) as e:
        c.models.count_tokens(model="gpt", contents="Hi")
    assert e.value.code == 403
    assert len(recorded(mock, "/v1/chat/completions")) == before
    # The model it may call works with the same key.
    assert c.models.generate_content(model="claude", contents="Hi").text


@pytest.mark.parametrize("body", [
    b"not json",
    b"[]",
    b"{}",
    b'{"contents": "Hi"}',
    b'{"contents": [{"role": "system", "parts": [{"text": "Hi"}]}]}',
    b'{"contents": [{"parts": [{"text": "Hi"}]}], "generationConfig": {"responseMimeType": "text/x.enum"}}',
])
@pytest.mark.parametrize("method", ["generateContent", "streamGenerateContent", "countTokens"])
def test_a_bad_body_is_a_400(gw, vkey, body, method):
    req = urllib.request.Request(f"{gw.base}/v1beta/models/gpt:{method}", data=body, method="POST",
                                 headers={"Content-Type": "application/json", "x-goog-api-key": vkey})
    try:
        urllib.request.urlopen(req)
        raise AssertionError("accepted")
    except urllib.error.HTTPError as e:
        assert e.code == 400, e.read()
        err = json.loads(e.read())["error"]
        assert err["message"] and err["type"] == "invalid_request_error", err
