"""`/v1/responses` through the real binary with the official `openai` client: bridged to chat
for an Anthropic upstream and an OpenAI-compatible chat-only upstream, passed through natively to
an OpenAI (and Azure) upstream; stored responses, `previous_response_id`, retrieve, delete and
input items, on SQLite and PostgreSQL."""
import json
import os
import subprocess
import time
import urllib.request
import uuid

import openai
import pytest

from conftest import MASTER, Gateway

PG = os.environ.get("LLMGATE_TEST_PG", "postgres://postgres@127.0.0.1:5432")

TOOLS = [{"type": "function", "name": "get_weather", "description": "Weather of a city",
          "parameters": {"type": "object", "properties": {"location": {"type": "string"}},
                         "required": ["location"]}}]


def config(mock):
    b = f"{mock.base}/v1"
    rows = [
        ("claude", "anthropic/claude-haiku-4-5", mock.base),
        ("claude-tools", "anthropic/claude-tool", mock.base),
        ("chat", "hosted_vllm/qwen-chat", b),
        ("chat-tools", "hosted_vllm/qwen-tool", b),
        ("chat-stream-error", "hosted_vllm/mock-stream-error", b),
        ("gemini", "gemini/gemini-2.5-flash", f"{mock.base}/v1beta"),
        ("gemini-tools", "gemini/gemini-2.5-flash-tool", f"{mock.base}/v1beta"),
        ("native", "openai/gpt-4o", b),
        ("native-tools", "openai/gpt-4o-tool", b),
        ("native-stream-error", "openai/mock-stream-error", b),
    ]
    out = "model_list:\n"
    for name, model, base in rows:
        out += (f"  - model_name: {name}\n    litellm_params:\n      model: {model}\n"
                f"      api_base: {base}\n      api_key: sk-upstream\n")
    for name, model in [("chat-defaults", "hosted_vllm/qwen-chat"), ("native-defaults", "openai/gpt-4o")]:
        out += (f"  - model_name: {name}\n    litellm_params:\n      model: {model}\n      api_base: {b}\n"
                "      api_key: sk-upstream\n      max_tokens: 77\n      temperature: 0.2\n      seed: 3\n")
    out += (f"  - model_name: azure-native\n    litellm_params:\n      model: azure/my-deploy\n"
            f"      api_base: {mock.base}\n      api_key: sk-azure\n      api_version: 2025-03-01-preview\n")
    return out + f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 1\n"


def start_db(tmp, mock, env):
    return Gateway(tmp, config(mock), env=env).wait_ready()


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("responses")
    g = start_db(tmp, mock, {"LLMGATE_DB_PATH": str(tmp / "db.sqlite")})
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=f"{gw.base}/v1", api_key=MASTER, max_retries=0)


def requests_to(mock, path):
    with urllib.request.urlopen(f"{mock.base}/_mock/requests") as r:
        return [x for x in json.loads(r.read()) if x["path"] == path]


def last_to(mock, path):
    return requests_to(mock, path)[-1]


def call(gw, method, path, body=None, key=MASTER):
    req = urllib.request.Request(
        f"{gw.base}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def sse_events(text):
    """(event name, data) of each SSE event in a raw body."""
    out = []
    for block in text.strip().split("\n\n"):
        name, data = None, None
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
        out.append((name, data))
    return out


UPSTREAM_PATH = {"claude": "/v1/messages", "chat": "/v1/chat/completions", "native": "/v1/responses"}


def test_plain_gemini(client):
    r = client.responses.create(model="gemini", input="Hello", instructions="Be brief.")
    assert r.output_text and r.status == "completed" and r.usage.total_tokens > 0


@pytest.mark.parametrize("model", ["claude", "chat", "native"])
def test_plain(client, mock, model):
    r = client.responses.create(model=model, input="Hello", instructions="Be brief.",
                                max_output_tokens=50, metadata={"k": "v"})
    assert r.output_text == "Hello from mock"
    assert r.model == model
    assert r.id.startswith("resp_")
    assert r.status == "completed"
    assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0
    assert r.usage.total_tokens == r.usage.input_tokens + r.usage.output_tokens
    sent = last_to(mock, UPSTREAM_PATH[model])["body"]
    if model == "claude":
        assert sent["system"] in ("Be brief.", [{"type": "text", "text": "Be brief."}])
        assert sent["max_tokens"] == 50
        assert sent["messages"] in ([{"role": "user", "content": "Hello"}],
                                    [{"role": "user", "content": [{"type": "text", "text": "Hello"}]}])
    elif model == "chat":
        assert sent["messages"] == [{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": "Hello"}]
        assert sent["max_tokens"] == 50
        assert "metadata" not in sent and "instructions" not in sent
    else:
        # Native: the Responses request as the client sent it, model name mapped.
        assert sent["model"] == "gpt-4o"
        assert sent["input"] == "Hello" and sent["instructions"] == "Be brief."
        assert sent["max_output_tokens"] == 50


@pytest.mark.parametrize("model", ["claude", "chat", "gemini", "native"])
def test_streamed(client, mock, model):
    events = list(client.responses.create(model=model, input="Hello", stream=True))
    kinds = [e.type for e in events]
    assert kinds[:2] == ["response.created", "response.in_progress"]
    assert kinds[-1] == "response.completed"
    for k in ["response.output_item.added", "response.content_part.added", "response.output_text.delta",
              "response.output_text.done", "response.content_part.done", "response.output_item.done"]:
        assert k in kinds, k
    assert [e.sequence_number for e in events] == sorted(e.sequence_number for e in events)
    text = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert text == "Hello from mock"
    assert len([e for e in events if e.type == "response.output_text.delta"]) > 1
    done = events[-1].response
    assert done.output_text == "Hello from mock"
    assert done.model == model
    assert done.usage.total_tokens > 0
    assert events[0].response.id == done.id


def test_stream_wire_format(gw):
    """Named events, JSON data with `type` and `sequence_number`, no `data: [DONE]`."""
    status, body = call(gw, "POST", "/v1/responses", {"model": "chat", "input": "Hi", "stream": True})
    assert status == 200
    assert "[DONE]" not in body
    evs = sse_events(body)
    for name, data in evs:
        d = json.loads(data)
        assert name == d["type"]
        assert isinstance(d["sequence_number"], int)
    assert [json.loads(d)["sequence_number"] for _, d in evs] == list(range(len(evs)))


@pytest.mark.parametrize("tools_model,next_model", [("claude-tools", "chat"), ("chat-tools", "claude"),
                                                     ("gemini-tools", "gemini"), ("native-tools", "native")])
def test_function_tools_round_trip(client, mock, tools_model, next_model):
    r = client.responses.create(model=tools_model, input="Weather in Paris?", tools=TOOLS,
                                tool_choice="auto")
    calls = [o for o in r.output if o.type == "function_call"]
    assert len(calls) == 1, r.output
    fc = calls[0]
    assert fc.name == "get_weather"
    assert json.loads(fc.arguments) == {"location": "Paris"}
    r2 = client.responses.create(
        model=next_model, previous_response_id=r.id, tools=TOOLS,
        input=[{"type": "function_call_output", "call_id": fc.call_id, "output": "sunny"}])
    assert r2.output_text == "Hello from mock"
    assert r2.previous_response_id == r.id
    if next_model == "chat":
        msgs = last_to(mock, "/v1/chat/completions")["body"]["messages"]
        assert msgs[0] == {"role": "user", "content": "Weather in Paris?"}
        assert msgs[1]["role"] == "assistant" and msgs[1]["tool_calls"][0]["id"] == fc.call_id
        assert msgs[2] == {"role": "tool", "content": "sunny", "tool_call_id": fc.call_id}
        assert last_to(mock, "/v1/chat/completions")["body"]["tools"][0]["function"]["name"] == "get_weather"
    elif next_model == "claude":
        msgs = last_to(mock, "/v1/messages")["body"]["messages"]
        assert msgs[1]["content"][-1]["type"] == "tool_use"
        assert msgs[2]["content"][0]["type"] == "tool_result"
    elif next_model == "gemini":
        sent = last_to(mock, "/v1beta/models/gemini-2.5-flash:generateContent")["body"]
        parts = [p for c in sent["contents"] for p in c["parts"]]
        assert any("functionCall" in p for p in parts) and any("functionResponse" in p for p in parts)
    else:
        sent = last_to(mock, "/v1/responses")["body"]
        assert "previous_response_id" not in sent
        assert [i.get("type") for i in sent["input"]][-2:] == ["function_call", "function_call_output"]


@pytest.mark.parametrize("stream", [False, True])
def test_claude_thinking_goes_back_signed(client, mock, stream):
    """Thinking and a tool call from Claude; the follow-up (previous_response_id) sends the
    signed thinking block back before the tool use, as Anthropic requires."""
    kw = dict(tools=TOOLS, reasoning={"effort": "low", "summary": "auto"}, max_output_tokens=3000)
    if stream:
        events = list(client.responses.create(model="claude-tools", input="Weather?", stream=True, **kw))
        r = events[-1].response
        assert "response.reasoning_summary_text.delta" in [e.type for e in events]
    else:
        r = client.responses.create(model="claude-tools", input="Weather?", **kw)
    kinds = [o.type for o in r.output]
    assert kinds[0] == "reasoning" and kinds[-1] == "function_call", kinds
    assert r.output[0].encrypted_content and r.output[0].summary[0].text
    fc = r.output[-1]
    client.responses.create(model="claude", previous_response_id=r.id, input=[
        {"type": "function_call_output", "call_id": fc.call_id, "output": "sunny"}], **kw)
    msgs = last_to(mock, "/v1/messages")["body"]["messages"]
    blocks = msgs[1]["content"]
    assert blocks[0]["type"] == "thinking" and blocks[0]["signature"], blocks
    assert blocks[-1]["type"] == "tool_use" and blocks[-1]["id"] == fc.call_id
    assert msgs[2]["content"][0]["type"] == "tool_result"


def test_streamed_function_call(client):
    events = list(client.responses.create(model="chat-tools", input="Weather?", tools=TOOLS, stream=True))
    kinds = [e.type for e in events]
    assert "response.function_call_arguments.delta" in kinds
    assert "response.function_call_arguments.done" in kinds
    args = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    assert json.loads(args) == {"location": "Paris"}
    fc = events[-1].response.output[-1]
    assert fc.type == "function_call" and fc.arguments == args and fc.call_id


def test_previous_response_id_continues_on_another_provider(client, mock):
    r1 = client.responses.create(model="claude", input="My name is Ada.")
    r2 = client.responses.create(model="chat", previous_response_id=r1.id, input="What is my name?")
    assert r2.previous_response_id == r1.id
    msgs = last_to(mock, "/v1/chat/completions")["body"]["messages"]
    assert msgs == [{"role": "user", "content": "My name is Ada."},
                    {"role": "assistant", "content": "Hello from mock"},
                    {"role": "user", "content": "What is my name?"}]
    # A third turn carries both earlier ones.
    client.responses.create(model="claude", previous_response_id=r2.id, input="And again?")
    msgs = last_to(mock, "/v1/messages")["body"]["messages"]
    assert [m["role"] for m in msgs] == ["user", "assistant", "user", "assistant", "user"]


def test_streamed_answer_is_stored(client, mock):
    events = list(client.responses.create(model="chat", input="Remember me", stream=True))
    rid = events[-1].response.id
    r2 = client.responses.create(model="chat", previous_response_id=rid, input="Again")
    msgs = last_to(mock, "/v1/chat/completions")["body"]["messages"]
    assert msgs[0]["content"] == "Remember me" and msgs[1]["content"] == "Hello from mock"
    assert r2.output_text == "Hello from mock"


def test_retrieve_delete_input_items(client):
    r = client.responses.create(model="chat", input=[
        {"role": "developer", "content": "Rules."},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "Hi"}]}])
    got = client.responses.retrieve(r.id)
    assert got.id == r.id and got.output_text == "Hello from mock" and got.model == "chat"
    items = client.responses.input_items.list(r.id)
    assert [i.role for i in items.data] == ["user", "developer"]  # newest first, as OpenAI
    assert all(i.id for i in items.data)
    asc = client.responses.input_items.list(r.id, order="asc")
    assert [i.role for i in asc.data] == ["developer", "user"]
    client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError) as e:
        client.responses.retrieve(r.id)
    assert e.value.body["message"] == f"Response with id '{r.id}' not found."
    with pytest.raises(openai.NotFoundError):
        client.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve("resp_unknown")


def test_store_false_is_not_kept(client, mock):
    r = client.responses.create(model="chat", input="Secret", store=False)
    assert r.store is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(r.id)
    before = len(requests_to(mock, "/v1/chat/completions"))
    with pytest.raises(openai.NotFoundError) as e:
        client.responses.create(model="chat", previous_response_id=r.id, input="Again")
    assert e.value.body["message"] == f"Previous response with id '{r.id}' not found."
    assert len(requests_to(mock, "/v1/chat/completions")) == before


def test_only_the_owner_or_an_admin_reads_a_response(gw, client):
    keys = []
    for _ in range(2):
        s, k = call(gw, "POST", "/key/generate", {})
        assert s == 200, k
        keys.append(json.loads(k)["key"])
    a = openai.OpenAI(base_url=f"{gw.base}/v1", api_key=keys[0], max_retries=0)
    b = openai.OpenAI(base_url=f"{gw.base}/v1", api_key=keys[1], max_retries=0)
    r = a.responses.create(model="chat", input="mine")
    assert a.responses.retrieve(r.id).id == r.id
    with pytest.raises(openai.NotFoundError):
        b.responses.retrieve(r.id)
    with pytest.raises(openai.NotFoundError):
        b.responses.delete(r.id)
    with pytest.raises(openai.NotFoundError):
        b.responses.create(model="chat", previous_response_id=r.id, input="steal")
    assert client.responses.retrieve(r.id).id == r.id  # the master key
    a.responses.delete(r.id)


def spend_logs(gw, request_id):
    deadline = time.time() + 10
    while time.time() < deadline:
        s, body = call(gw, "GET", f"/spend/logs?request_id={request_id}")
        logs = json.loads(body) if s == 200 else []
        if logs:
            return logs
        time.sleep(0.3)
    raise AssertionError(f"no spend log for {request_id}")


def test_spend_log_call_type(gw, client):
    r = client.responses.create(model="chat", input="Hello")
    logs = spend_logs(gw, r.id)
    assert logs[0]["call_type"] == "aresponses"
    assert logs[0]["model_group"] == "chat"
    assert logs[0]["total_tokens"] == 15


@pytest.mark.parametrize("model", ["chat-stream-error", "native-stream-error"])
def test_mid_stream_error(gw, model):
    status, body = call(gw, "POST", "/v1/responses", {"model": model, "input": "Hi", "stream": True})
    assert status == 200
    evs = sse_events(body)
    names = [n for n, _ in evs]
    assert "response.output_text.delta" in names
    assert "response.failed" in names
    assert "response.completed" not in names
    assert names[-1] == "error"
    err = json.loads(evs[-1][1])
    assert err["type"] == "error" and "mock stream failure" in err["message"]
    # Settled as a failure (charged for what was produced), like a chat stream.
    log = spend_logs(gw, json.loads(evs[0][1])["response"]["id"])[0]
    assert log["status"] == "failure" and log["call_type"] == "aresponses"


def test_structured_output_and_reasoning_settings(client, mock):
    client.responses.create(
        model="chat", input="JSON please",
        text={"format": {"type": "json_schema", "name": "out", "strict": True,
                         "schema": {"type": "object", "properties": {"a": {"type": "string"}},
                                    "required": ["a"], "additionalProperties": False}}},
        reasoning={"effort": "low", "summary": "auto"})
    sent = last_to(mock, "/v1/chat/completions")["body"]
    assert sent["response_format"]["type"] == "json_schema"
    assert sent["response_format"]["json_schema"]["name"] == "out"
    assert sent["reasoning_effort"] == "low"


def test_codex_shaped_request_to_a_chat_model(gw, mock):
    """What Codex sends: store false, encrypted reasoning asked for, developer messages, no
    instructions, tools of other types beside functions, streaming."""
    body = {
        "model": "chat-tools",
        "input": [
            {"type": "message", "role": "developer",
             "content": [{"type": "input_text", "text": "<permissions instructions>..."}]},
            {"type": "message", "role": "user",
             "content": [{"type": "input_text", "text": "<environment_context>cwd=/tmp</environment_context>"}]},
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "list files"}]},
        ],
        "tools": [
            {"type": "function", "name": "shell", "description": "Runs a shell command",
             "strict": False, "parameters": {"type": "object", "properties": {
                 "command": {"type": "array", "items": {"type": "string"}},
                 "workdir": {"type": "string"}}, "required": ["command"], "additionalProperties": False}},
            {"type": "function", "name": "update_plan", "description": "plan", "strict": False,
             "parameters": {"type": "object", "properties": {}}},
            {"type": "web_search"},
            {"type": "namespace", "name": "mcp__docs", "tools": []},
            {"type": "custom", "name": "apply_patch", "format": {"type": "grammar", "syntax": "lark", "definition": "x"}},
        ],
        "tool_choice": "auto",
        "parallel_tool_calls": False,
        "reasoning": {"summary": "auto"},
        "store": False,
        "stream": True,
        "include": ["reasoning.encrypted_content"],
        "prompt_cache_key": str(uuid.uuid4()),
        "text": {"verbosity": "medium"},
    }
    status, text = call(gw, "POST", "/v1/responses", body)
    assert status == 200, text
    evs = [json.loads(d) for _, d in sse_events(text)]
    assert evs[-1]["type"] == "response.completed"
    fc = evs[-1]["response"]["output"][-1]
    assert fc["type"] == "function_call" and fc["name"] == "shell"
    sent = last_to(mock, "/v1/chat/completions")["body"]
    assert [t["function"]["name"] for t in sent["tools"]] == ["shell", "update_plan"]
    assert sent["messages"][0]["role"] == "system"
    assert sent["parallel_tool_calls"] is False
    for k in ["include", "store", "prompt_cache_key", "text", "reasoning", "input"]:
        assert k not in sent, k
    # The tool's output goes back in the next turn (Codex resends the whole input).
    body["input"] += [
        {"type": "reasoning", "id": "rs_1", "summary": [], "encrypted_content": None},
        {"type": "function_call", "name": "shell", "arguments": fc["arguments"], "call_id": fc["call_id"]},
        {"type": "function_call_output", "call_id": fc["call_id"], "output": "a.txt\nb.txt"},
    ]
    body["model"] = "chat"
    status, text = call(gw, "POST", "/v1/responses", body)
    assert status == 200, text
    evs = [json.loads(d) for _, d in sse_events(text)]
    assert evs[-1]["type"] == "response.completed"
    msgs = last_to(mock, "/v1/chat/completions")["body"]["messages"]
    assert msgs[-1] == {"role": "tool", "content": "a.txt\nb.txt", "tool_call_id": fc["call_id"]}
    assert msgs[-2]["tool_calls"][0]["function"]["name"] == "shell"


def test_azure_native(client, mock):
    r = client.responses.create(model="azure-native", input="Hi")
    assert r.output_text == "Hello from mock"
    req = last_to(mock, "/openai/responses")
    assert req["query"] == "api-version=2025-03-01-preview"
    assert req["headers"]["api-key"] == "sk-azure"
    assert req["body"]["model"] == "my-deploy"


def test_deployment_defaults_as_responses_params(client, mock):
    client.responses.create(model="chat-defaults", input="Hi")
    sent = last_to(mock, "/v1/chat/completions")["body"]
    assert sent["max_tokens"] == 77 and sent["temperature"] == 0.2
    client.responses.create(model="native-defaults", input="Hi")
    sent = last_to(mock, "/v1/responses")["body"]
    assert sent["max_output_tokens"] == 77 and sent["temperature"] == 0.2
    assert "max_tokens" not in sent and "seed" not in sent


def test_wrong_key_is_401_and_nothing_upstream(gw, mock):
    before = len(requests_to(mock, "/v1/chat/completions"))
    c = openai.OpenAI(base_url=f"{gw.base}/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        c.responses.create(model="chat", input="Hi")
    assert e.value.status_code == 401
    assert "message" in e.value.body
    assert len(requests_to(mock, "/v1/chat/completions")) == before


def test_missing_input_and_unknown_model(client):
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model="chat")
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model="nope", input="Hi")


def test_stored_on_postgres(mock, tmp_path):
    name = f"llmgate_e2e_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    g = start_db(tmp_path, mock, {"DATABASE_URL": f"{PG}/{name}"})
    try:
        c = openai.OpenAI(base_url=f"{g.base}/v1", api_key=MASTER, max_retries=0)
        r1 = c.responses.create(model="claude", input="My name is Ada.")
        r2 = c.responses.create(model="chat", previous_response_id=r1.id, input="Name?")
        assert r2.previous_response_id == r1.id
        # Written behind the answer: poll, and compare as a set (created_at has second resolution).
        deadline, out = time.time() + 10, []
        while time.time() < deadline:
            out = subprocess.run(["psql", f"{PG}/{name}", "-tAc",
                                  'SELECT "response_id", "previous_response_id", jsonb_array_length("context") '
                                  'FROM "LLMGate_ResponsesTable"'],
                                 check=True, capture_output=True, text=True).stdout.split()
            if len(out) >= 2:
                break
            time.sleep(0.05)
        assert sorted(out) == sorted([f"{r1.id}||0", f"{r2.id}|{r1.id}|2"])
        # Read back from the database (not the write-behind copy) after a restart.
        g.stop()
        g = start_db(tmp_path, mock, {"DATABASE_URL": f"{PG}/{name}"})
        c = openai.OpenAI(base_url=f"{g.base}/v1", api_key=MASTER, max_retries=0)
        assert c.responses.retrieve(r2.id).output_text == "Hello from mock"
        assert [i.type for i in c.responses.input_items.list(r2.id).data] == ["message"]
    finally:
        g.stop()
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)
