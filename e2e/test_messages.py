"""`/v1/messages` through the llmgate binary with the official `anthropic` client: an
OpenAI-compatible upstream and Gemini (translated through chat) and Anthropic / Claude on
Vertex AI (passed natively), plain, streamed, tools with a follow-up turn, thinking,
count_tokens, errors in Anthropic's shape, a virtual key's budget and limits, spend logs; and
a request in the shape Claude Code sends, to a non-Anthropic model and back."""
import json
import time
import urllib.error
import urllib.request

import anthropic
import pytest

from conftest import MASTER, Gateway
from test_virtual_keys import admin

WEATHER = {"name": "get_weather", "description": "The weather in a place.",
           "input_schema": {"type": "object", "properties": {"location": {"type": "string"}},
                            "required": ["location"]}}


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("messages")
    sa = tmp / "sa.json"
    sa.write_text(urllib.request.urlopen(f"{mock.base}/_mock/service_account").read().decode())
    v1 = f"{mock.base}/v1"
    rows = [
        ("gpt", "openai/gpt-4o", v1, ""),
        ("gpt-tools", "openai/gpt-4o-tool", v1, ""),
        ("gpt-reasoning", "openai/o4-mini-reasoning", v1, ""),
        ("gpt-stream-error", "openai/mock-stream-error", v1, ""),
        ("gemini", "gemini/gemini-2.5-flash", f"{mock.base}/v1beta", ""),
        ("gemini-tools", "gemini/gemini-2.5-flash-tool", f"{mock.base}/v1beta", ""),
        ("claude", "anthropic/claude-haiku-4-5", mock.base, ""),
        ("claude-tools", "anthropic/claude-tool", mock.base, ""),
        ("claude-stream-error", "anthropic/mock-stream-error", mock.base, ""),
        ("vertex-claude", "vertex_ai/claude-sonnet-4-5", mock.base,
         f"      vertex_project: proj-e2e\n      vertex_location: global\n      vertex_credentials: {sa}\n"),
    ]
    cfg = "model_list:\n"
    for name, model, base, extra in rows:
        cfg += (f"  - model_name: {name}\n    litellm_params:\n      model: {model}\n"
                f"      api_base: {base}\n      api_key: sk-upstream\n"
                f"      input_cost_per_token: 0.001\n      output_cost_per_token: 0.002\n{extra}")
    cfg += f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 0.2\n"
    g = Gateway(tmp, cfg, env={"LLMGATE_DB_PATH": str(tmp / "spend.db")}).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return anthropic.Anthropic(base_url=gw.base, api_key=MASTER, max_retries=0)


def requests_of(mock):
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())


def last(mock, path_part="/"):
    return [r for r in requests_of(mock) if path_part in r["path"]][-1]


def header(rec, name):
    return rec["headers"].get(name)


def new_key(gw, **fields):
    status, k = admin(gw, "POST", "/key/generate", fields)
    assert status == 200, k
    return k["key"]


def logs_of(gw, key, want=1, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        _, logs = admin(gw, "GET", f"/spend/logs?api_key={key}")
        if isinstance(logs, list) and len(logs) >= want:
            return logs
        time.sleep(0.1)
    raise AssertionError(f"no spend log for the key within {timeout}s")


@pytest.mark.parametrize("model", ["gpt", "gemini", "claude", "vertex-claude"])
def test_plain(client, mock, model):
    r = client.messages.create(model=model, max_tokens=100, system="Be brief.",
                               messages=[{"role": "user", "content": "Hi"}])
    assert r.type == "message" and r.role == "assistant"
    assert r.model == model
    assert [b.type for b in r.content] == ["text"]
    assert r.content[0].text == "Hello from mock"
    assert r.stop_reason == "end_turn"
    assert r.usage.input_tokens > 0 and r.usage.output_tokens > 0
    if model == "gpt":
        sent = last(mock, "/chat/completions")["body"]
        assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
        assert sent["max_tokens"] == 100


@pytest.mark.parametrize("model", ["gpt", "gemini", "claude", "vertex-claude"])
def test_stream(client, model):
    with client.messages.stream(model=model, max_tokens=100,
                                messages=[{"role": "user", "content": "Hi"}]) as s:
        events = list(s)
        final = s.get_final_message()
    kinds = [e.type for e in events]
    assert kinds[0] == "message_start"
    assert "content_block_delta" in kinds
    assert kinds[-1] == "message_stop"
    text_deltas = [e for e in events if e.type == "content_block_delta" and e.delta.type == "text_delta"]
    assert len(text_deltas) > 1, "the text arrives in several deltas"
    assert final.content[0].text == "Hello from mock"
    assert final.stop_reason == "end_turn"
    assert final.model == model
    assert final.usage.output_tokens > 0


@pytest.mark.parametrize("model", ["gpt-tools", "gemini-tools", "claude-tools"])
def test_tools_with_a_follow_up_turn(client, mock, model):
    msgs = [{"role": "user", "content": "Weather in Paris?"}]
    r = client.messages.create(model=model, max_tokens=200, messages=msgs, tools=[WEATHER],
                               tool_choice={"type": "auto"})
    assert r.stop_reason == "tool_use"
    [use] = [b for b in r.content if b.type == "tool_use"]
    assert use.name == "get_weather" and use.input == {"location": "Paris"}
    msgs += [{"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in r.content]},
             {"role": "user", "content": [{"type": "tool_result", "tool_use_id": use.id, "content": "sunny, 21C"}]}]
    r2 = client.messages.create(model=model, max_tokens=200, messages=msgs, tools=[WEATHER])
    assert r2.type == "message"
    if model == "gpt-tools":
        sent = last(mock, "/chat/completions")["body"]
        assert sent["messages"][1]["tool_calls"][0]["id"] == use.id
        assert sent["messages"][2] == {"role": "tool", "tool_call_id": use.id, "content": "sunny, 21C"}
        assert sent["tools"][0]["function"]["name"] == "get_weather"
    else:
        assert r2.content[-1].type == "text"


@pytest.mark.parametrize("model", ["gpt-tools", "gemini-tools", "claude-tools"])
def test_streamed_tool_call(client, model):
    with client.messages.stream(model=model, max_tokens=200, tools=[WEATHER],
                                messages=[{"role": "user", "content": "Weather?"}]) as s:
        events = list(s)
        final = s.get_final_message()
    fragments = [e.delta.partial_json for e in events
                 if e.type == "content_block_delta" and e.delta.type == "input_json_delta"]
    assert json.loads("".join(fragments)) == {"location": "Paris"}
    if model == "gpt-tools":
        assert len(fragments) > 1, "every fragment is kept"
    assert final.stop_reason == "tool_use"
    [use] = [b for b in final.content if b.type == "tool_use"]
    assert use.input == {"location": "Paris"}


@pytest.mark.parametrize("none_or_any", [("none", "none"), ("any", "required")])
def test_tool_choice_maps_exactly(client, mock, none_or_any):
    anthropic_choice, openai_choice = none_or_any
    client.messages.create(model="gpt", max_tokens=50, tools=[WEATHER], tool_choice={"type": anthropic_choice},
                           messages=[{"role": "user", "content": "Hi"}])
    assert last(mock, "/chat/completions")["body"]["tool_choice"] == openai_choice


def test_thinking_through_chat(client, mock):
    r = client.messages.create(model="gpt-reasoning", max_tokens=4000,
                               thinking={"type": "enabled", "budget_tokens": 2048},
                               messages=[{"role": "user", "content": "Think"}])
    assert last(mock, "/chat/completions")["body"]["reasoning_effort"] == "medium"
    assert [b.type for b in r.content] == ["thinking", "text"]
    assert r.content[0].thinking == "Let me think."
    with client.messages.stream(model="gpt-reasoning", max_tokens=4000,
                                thinking={"type": "enabled", "budget_tokens": 5000},
                                messages=[{"role": "user", "content": "Think"}]) as s:
        events = list(s)
        final = s.get_final_message()
    thinking = "".join(e.delta.thinking for e in events
                       if e.type == "content_block_delta" and e.delta.type == "thinking_delta")
    assert thinking == "Let me think."
    assert [b.type for b in final.content] == ["thinking", "text"]


def test_thinking_passes_natively_with_signatures(client, mock):
    thinking = {"type": "enabled", "budget_tokens": 1024}
    r = client.messages.create(model="claude", max_tokens=2000, thinking=thinking,
                               messages=[{"role": "user", "content": "Think"}],
                               extra_headers={"anthropic-beta": "interleaved-thinking-2025-05-14"})
    assert r.content[0].type == "thinking" and r.content[0].signature == "sig-mock"
    sent = last(mock, "/v1/messages")
    assert "interleaved-thinking-2025-05-14" in header(sent, "anthropic-beta")
    # The signed block goes back as it came, with cache_control and a document block.
    doc = {"type": "document", "source": {"type": "text", "media_type": "text/plain", "data": "notes"},
           "cache_control": {"type": "ephemeral"}}
    client.messages.create(model="claude", max_tokens=2000, thinking=thinking, messages=[
        {"role": "user", "content": [doc, {"type": "text", "text": "Think"}]},
        {"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in r.content]},
        {"role": "user", "content": "Again"}])
    body = last(mock, "/v1/messages")["body"]
    assert body["messages"][0]["content"][0] == doc
    assert body["messages"][1]["content"][0]["signature"] == "sig-mock"
    assert body["thinking"] == thinking


def test_count_tokens(client, mock):
    msgs = [{"role": "user", "content": "How many tokens is this?"}]
    assert client.messages.count_tokens(model="claude", messages=msgs).input_tokens == 13
    assert last(mock, "count_tokens")["body"]["model"] == "claude-haiku-4-5"
    assert client.messages.count_tokens(model="gemini", messages=msgs).input_tokens == 7
    local = client.messages.count_tokens(model="gpt", messages=msgs, system="Be brief.").input_tokens
    assert 5 < local < 40


def test_a_wrong_key_is_refused_in_anthropic_shape_and_nothing_goes_upstream(gw, mock):
    before = len(requests_of(mock))
    bad = anthropic.Anthropic(base_url=gw.base, api_key="sk-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as e:
        bad.messages.create(model="gpt", max_tokens=10, messages=[{"role": "user", "content": "Hi"}])
    assert e.value.status_code == 401
    assert e.value.body["type"] == "error"
    assert e.value.body["error"]["type"] == "authentication_error"
    # The bearer form too.
    req = urllib.request.Request(f"{gw.base}/v1/messages", method="POST", data=b"{}",
                                 headers={"Authorization": "Bearer sk-wrong", "content-type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as h:
        urllib.request.urlopen(req)
    assert h.value.code == 401
    assert json.loads(h.value.read())["error"]["type"] == "authentication_error"
    assert len(requests_of(mock)) == before


def test_errors_are_in_anthropic_shape(client):
    with pytest.raises(anthropic.BadRequestError) as e:
        client.messages.create(model="no-such-model", max_tokens=10, messages=[{"role": "user", "content": "Hi"}])
    assert e.value.body["type"] == "error"
    assert e.value.body["error"]["type"] == "invalid_request_error"


@pytest.mark.parametrize("model,message", [("gpt-stream-error", "mock stream failure"),
                                           ("claude-stream-error", "Overloaded")])
def test_a_mid_stream_error_is_an_error_event(gw, model, message):
    key = new_key(gw)
    c = anthropic.Anthropic(base_url=gw.base, api_key=key, max_retries=0)
    got = []
    with pytest.raises(anthropic.APIStatusError) as e:
        with c.messages.stream(model=model, max_tokens=50, messages=[{"role": "user", "content": "Hi"}]) as s:
            for ev in s:
                got.append(ev.type)
    assert message in str(e.value)
    assert "content_block_delta" in got, "what came before the error was relayed"
    [log] = logs_of(gw, key)
    assert log["status"] == "failure"
    assert log["call_type"] == "anthropic_messages"


def test_a_virtual_key_limits_budget_and_spend_log(gw):
    key = new_key(gw, rpm_limit=1)
    c = anthropic.Anthropic(base_url=gw.base, api_key=key, max_retries=0)
    c.messages.create(model="gpt", max_tokens=10, messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(anthropic.RateLimitError) as e:
        c.messages.create(model="gpt", max_tokens=10, messages=[{"role": "user", "content": "Hi"}])
    assert e.value.body["error"]["type"] == "rate_limit_error"
    [log] = logs_of(gw, key)
    assert log["call_type"] == "anthropic_messages"
    assert log["model_group"] == "gpt"
    assert log["spend"] > 0
    assert log["prompt_tokens"] > 0 and log["completion_tokens"] > 0

    # A budget the first call uses up: the next is refused.
    key = new_key(gw, max_budget=0.000001)
    c = anthropic.Anthropic(base_url=gw.base, api_key=key, max_retries=0)
    with c.messages.stream(model="claude", max_tokens=10, messages=[{"role": "user", "content": "Hi"}]) as s:
        s.get_final_message()
    [log] = logs_of(gw, key)
    assert log["call_type"] == "anthropic_messages"
    # The mock's 10 input and 5 output tokens (message_start and the closing message_delta)
    # at this deployment's prices.
    assert log["spend"] == pytest.approx(10 * 0.001 + 5 * 0.002)
    with pytest.raises(anthropic.APIStatusError) as e:
        c.messages.create(model="claude", max_tokens=10, messages=[{"role": "user", "content": "Hi"}])
    assert e.value.status_code == 400
    assert e.value.body["type"] == "error"
    assert "Budget has been exceeded" in e.value.body["error"]["message"]

    # A key that may not call the model.
    key = new_key(gw, models=["gemini"])
    c = anthropic.Anthropic(base_url=gw.base, api_key=key, max_retries=0)
    with pytest.raises(anthropic.PermissionDeniedError):
        c.messages.create(model="gpt", max_tokens=10, messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(anthropic.PermissionDeniedError):
        c.messages.count_tokens(model="gpt", messages=[{"role": "user", "content": "Hi"}])


# What Claude Code 2.1 sends (recorded from `claude -p`, texts trimmed): system blocks with
# cache_control, many tools, thinking with a budget, context management, metadata.user_id,
# streaming, its beta headers, `?beta=true`.
CLAUDE_CODE_HEADERS = {
    "anthropic-version": "2023-06-01",
    "anthropic-beta": "claude-code-20250219,interleaved-thinking-2025-05-14,context-management-2025-06-27,"
                      "thinking-token-count-2026-05-13,advanced-tool-use-2025-11-20",
    "anthropic-dangerous-direct-browser-access": "true",
    "x-app": "cli",
    "x-claude-code-session-id": "c73a50ca-3641-46c1-ad7a-6e84b04cb98b",
    "x-stainless-lang": "js",
    "x-stainless-retry-count": "0",
    "user-agent": "claude-cli/2.1.332 (external, sdk-cli)",
    "content-type": "application/json",
}
CLAUDE_CODE_USER_ID = ('{"device_id":"a99a1a50c05e68d4ac9920bd0b08894802bd3e9026f5e9871420a8cf2a12843a",'
                       '"account_uuid":"","session_id":"c73a50ca-3641-46c1-ad7a-6e84b04cb98b"}')


def claude_code_tools():
    names = ["Agent", "Bash", "Edit", "ListAgents", "Read", "ReportFindings", "ScheduleWakeup", "Skill",
             "ToolSearch", "Workflow", "DeferredToolPlaceholder", "Write", "Glob", "Grep", "WebFetch", "TodoWrite"]
    return [{"name": n, "description": f"The {n} tool.",
             "input_schema": {"type": "object", "$schema": "http://json-schema.org/draft-07/schema#",
                              "additionalProperties": False,
                              "properties": {"file_path": {"type": "string", "description": "Absolute path"}},
                              "required": ["file_path"]}} for n in names]


def claude_code_request(messages):
    return {
        "model": "gpt-tools", "max_tokens": 32000, "stream": True,
        "thinking": {"budget_tokens": 31999, "type": "enabled", "display": "omitted"},
        "context_management": {"edits": [{"type": "clear_thinking_20251015", "keep": "all"}]},
        "system": [
            {"type": "text", "text": "x-anthropic-billing-header: cc_version=2.1.332.daa; cc_entrypoint=sdk-cli;"},
            {"type": "text", "text": "You are Claude Code, Anthropic's official CLI for Claude.",
             "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": "You are an interactive CLI tool that helps users with software engineering tasks.",
             "cache_control": {"type": "ephemeral"}},
        ],
        "messages": messages,
        "tools": claude_code_tools(),
        "metadata": {"user_id": CLAUDE_CODE_USER_ID},
    }


def sse_events(gw, body):
    req = urllib.request.Request(f"{gw.base}/v1/messages?beta=true", method="POST",
                                 data=json.dumps(body).encode(),
                                 headers={**CLAUDE_CODE_HEADERS, "x-api-key": MASTER})
    with urllib.request.urlopen(req) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        raw = r.read().decode()
    events = []
    for block in raw.strip().split("\n\n"):
        lines = dict(line.split(": ", 1) for line in block.splitlines())
        data = json.loads(lines["data"])
        assert lines["event"] == data["type"], "the event line names the event"
        events.append(data)
    return events


def test_a_claude_code_shaped_sequence_to_a_non_anthropic_model(gw, mock):
    user = {"role": "user", "content": [
        {"type": "text", "text": "<system-reminder>context</system-reminder>"},
        {"type": "text", "text": "What's the weather?", "cache_control": {"type": "ephemeral"}}]}
    events = sse_events(gw, claude_code_request([user]))
    kinds = [e["type"] for e in events]
    assert kinds[:2] == ["message_start", "ping"]
    assert kinds[-2:] == ["message_delta", "message_stop"]
    assert events[0]["message"]["model"] == "gpt-tools"
    start = next(e for e in events if e["type"] == "content_block_start")
    assert start["content_block"]["type"] == "tool_use"
    args = "".join(e["delta"]["partial_json"] for e in events if e["type"] == "content_block_delta")
    assert json.loads(args) == {"location": "Paris"}
    assert events[-2]["delta"]["stop_reason"] == "tool_use"
    assert events[-2]["usage"]["output_tokens"] > 0

    up = last(mock, "/chat/completions")
    assert header(up, "anthropic-beta") is None, "Anthropic's headers do not reach another provider"
    body = up["body"]
    assert body["messages"][0]["role"] == "system"
    assert "You are Claude Code" in body["messages"][0]["content"]
    assert "cache_control" not in json.dumps(body)
    assert "context_management" not in body and "thinking" not in body
    assert body["reasoning_effort"] == "high", "a model the catalog does not know may reason"
    assert len(body["tools"]) == 16
    assert body["stream_options"] == {"include_usage": True}

    # The next turn: the tool's result, as Claude Code sends it.
    tool_use = {"type": "tool_use", "id": start["content_block"]["id"], "name": start["content_block"]["name"],
                "input": json.loads(args)}
    follow = [user, {"role": "assistant", "content": [tool_use]},
              {"role": "user", "content": [{"type": "tool_result", "tool_use_id": tool_use["id"],
                                            "content": "sunny", "cache_control": {"type": "ephemeral"}}]}]
    body = claude_code_request(follow)
    body["model"] = "gpt"
    events = sse_events(gw, body)
    text = "".join(e["delta"].get("text", "") for e in events if e["type"] == "content_block_delta")
    assert text == "Hello from mock"
    assert events[-2]["delta"]["stop_reason"] == "end_turn"
    up = last(mock, "/chat/completions")["body"]
    assert up["user"] == CLAUDE_CODE_USER_ID, "metadata.user_id is the end user"
    assert "reasoning_effort" not in up, "gpt-4o does not reason: thinking is left out, not refused"
    sent = up["messages"]
    assert sent[-2]["tool_calls"][0]["id"] == tool_use["id"]
    assert sent[-1] == {"role": "tool", "tool_call_id": tool_use["id"], "content": "sunny"}
