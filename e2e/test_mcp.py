"""The MCP gateway through the real binary: upstream MCP servers built with the official `mcp`
SDK (streamable HTTP, the legacy HTTP+SSE transport, and a stdio child the gateway spawns),
reached by the official `mcp` client through `/mcp/`, with virtual keys, permissions, the
REST routes and the spend logs."""
import asyncio
import json
import socket
import subprocess
import sys
import time
import os
import urllib.request
import uuid
from pathlib import Path

import httpx2
import openai
import pytest
from mcp import ClientSession, MCPError
from mcp.client.sse import sse_client
from mcp.client.streamable_http import streamable_http_client

from conftest import MASTER, Gateway

HERE = Path(__file__).resolve().parent
UPSTREAM = HERE / "mcp_upstream.py"
WEB_TOKEN = "web-upstream-token-42"
PG = os.environ.get("LLMGATE_TEST_PG", "postgres://postgres@127.0.0.1:5432")
# The fixtures' bound on one upstream request (and on opening a session).
MCP_TIMEOUT_S = 15


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port: int, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"upstream exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
            return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"upstream on {port} did not start")


def upstream(name: str, transport: str):
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(UPSTREAM), name, transport, str(port)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_port(port, proc)
    return proc, port


def admin(gw, method, path, body=None, key=MASTER):
    req = urllib.request.Request(
        f"{gw.base}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def mcp_gateway(request, tmp_path_factory, mock):
    """A gateway (keys on SQLite or PostgreSQL, master key) in front of four MCP servers: `web`
    (streamable HTTP, bearer credential from the environment, one client header forwarded),
    `legacy` (HTTP+SSE), `local` (stdio, spawned by the gateway) and `down` (nothing listens)."""
    tmp = tmp_path_factory.mktemp("mcp")
    pg_name = None
    if request.param == "sqlite":
        db_env = {"LLMGATE_DB_PATH": str(tmp / "keys.db")}
    else:
        pg_name = f"llmgate_e2e_mcp_{uuid.uuid4().hex[:12]}"
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {pg_name}"], check=True)
        db_env = {"DATABASE_URL": f"{PG}/{pg_name}"}
    web, web_port = upstream("web", "http")
    legacy, sse_port = upstream("legacy", "sse")
    cfg = f"""
model_list:
  - model_name: agent
    litellm_params:
      model: openai/mock-agent
      api_base: {mock.base}/v1
      api_key: sk-upstream
mcp_servers:
  web:
    url: http://127.0.0.1:{web_port}/mcp
    transport: http
    auth_type: bearer_token
    auth_value: os.environ/WEB_MCP_TOKEN
    description: The streamable HTTP server
    extra_headers: ["x-trace-id"]
    disallowed_tools: ["crash"]
    mcp_info:
      mcp_server_cost_info:
        default_cost_per_query: 0.01
        tool_name_to_cost_per_query: {{add: 0.25}}
  legacy:
    url: http://127.0.0.1:{sse_port}/sse
    transport: sse
    allowed_tools: ["add", "echo"]
  local:
    transport: stdio
    command: {sys.executable}
    args: ["{UPSTREAM}", "local", "stdio"]
  down:
    url: http://127.0.0.1:9/mcp
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 1
"""
    # 15 s: a stdio child may start slowly on a loaded machine; the slow-server test keeps its
    # own bound on top of it.
    gw = Gateway(tmp, cfg, env={"WEB_MCP_TOKEN": WEB_TOKEN, "LLMGATE_MCP_TIMEOUT_SECONDS": str(MCP_TIMEOUT_S),
                                **db_env}).wait_ready()
    yield gw
    gw.stop()
    for p in (web, legacy):
        p.kill()
        p.wait()
    if pg_name:
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {pg_name} WITH (FORCE)"],
                       check=False)


def run(coro):
    return asyncio.run(asyncio.wait_for(coro, 60))


async def session_do(gw, key, fn, path="/mcp/", headers=None, sse=False, bearer=False):
    """Opens an MCP session on the gateway with `key` (x-litellm-api-key, as LiteLLM documents;
    `Authorization: Bearer` with `bearer`) and runs `fn(session)`; over the legacy HTTP+SSE
    transport (`sse_client`) with `sse`."""
    auth = {"Authorization": f"Bearer {key}"} if bearer else {"x-litellm-api-key": f"Bearer {key}"}
    h = {**auth, **(headers or {})}
    try:
        if sse:
            async with sse_client(f"{gw.base}{path}", headers=h, timeout=30) as (r, w):
                async with ClientSession(r, w) as s:
                    await s.initialize()
                    return await fn(s)
        async with httpx2.AsyncClient(headers=h, timeout=30) as http:
            async with streamable_http_client(f"{gw.base}{path}", http_client=http) as (r, w):
                async with ClientSession(r, w) as s:
                    await s.initialize()
                    return await fn(s)
    except BaseExceptionGroup as group:
        # The client's task groups wrap what the call raised: raise that.
        leaf = group
        while isinstance(leaf, BaseExceptionGroup):
            leaf = leaf.exceptions[0]
        raise leaf from None


async def tool_names(s):
    return sorted(t.name for t in (await s.list_tools()).tools)


def text(result):
    return "".join(c.text for c in result.content if getattr(c, "type", "") == "text")


def new_key(gw, **body):
    status, k = admin(gw, "POST", "/key/generate", body)
    assert status == 200, k
    return k["key"]


def test_tools_of_every_server_listed_and_called_through_the_gateway(mcp_gateway):
    async def go(s):
        names = await tool_names(s)
        add = await s.call_tool("web-add", {"a": 2, "b": 40})
        echo_local = await s.call_tool("local-echo", {"text": "hi"})
        echo_legacy = await s.call_tool("legacy-echo", {"text": "old"})
        auth = await s.call_tool("web-header", {"header_name": "authorization"})
        schema = next(t for t in (await s.list_tools()).tools if t.name == "web-add").input_schema
        return names, add, echo_local, echo_legacy, auth, schema

    names, add, echo_local, echo_legacy, auth, schema = run(session_do(mcp_gateway, MASTER, go))
    # LiteLLM's names: `<server>-<tool>`; the filters apply; the down server is left out.
    assert "web-add" in names and "local-pid" in names and "legacy-add" in names
    assert "web-crash" not in names, "disallowed_tools"
    assert sorted(n for n in names if n.startswith("legacy-")) == ["legacy-add", "legacy-echo"]
    assert not any(n.startswith("down-") for n in names)
    assert text(add) == "42" and add.is_error is False
    assert text(echo_local) == "local: hi"
    assert text(echo_legacy) == "legacy: old"
    # The upstream credential comes from the config, never the client's gateway key.
    assert text(auth) == f"Bearer {WEB_TOKEN}"
    assert schema["properties"]["a"]["type"] == "integer", "schemas pass unchanged"


def test_prompts_and_resources_are_proxied(mcp_gateway):
    async def go(s):
        prompts = sorted(p.name for p in (await s.list_prompts()).prompts)
        got = await s.get_prompt("local-greet", {"who": "Ada"})
        resources = sorted(str(r.uri) for r in (await s.list_resources()).resources)
        read = await s.read_resource("note://web/readme")
        return prompts, got, resources, read

    prompts, got, resources, read = run(session_do(mcp_gateway, MASTER, go))
    assert {"web-greet", "local-greet", "legacy-greet"} <= set(prompts)
    assert got.messages[0].content.text == "Say hello to Ada, from local."
    assert {"note://web/readme", "note://local/readme"} <= set(resources)
    assert read.contents[0].text == "readme of web"

    # A key sees the prompts and resources of its servers only.
    key = new_key(mcp_gateway, object_permission={"mcp_servers": ["web"]})

    async def seen(s):
        return ([p.name for p in (await s.list_prompts()).prompts],
                [str(r.uri) for r in (await s.list_resources()).resources])

    prompts, resources = run(session_do(mcp_gateway, key, seen))
    assert prompts == ["web-greet"] and resources == ["note://web/readme"]

    async def other(s):
        return await s.read_resource("note://local/readme")

    with pytest.raises(MCPError):
        run(session_do(mcp_gateway, key, other))


def test_one_server_path_and_the_x_mcp_servers_header(mcp_gateway):
    only_local = run(session_do(mcp_gateway, MASTER, tool_names, path="/mcp/local"))
    assert only_local and all(n.startswith("local-") for n in only_local)
    narrowed = run(session_do(mcp_gateway, MASTER, tool_names, headers={"x-mcp-servers": "web,legacy"}))
    assert {n.split("-")[0] for n in narrowed} == {"web", "legacy"}


def test_client_headers_named_in_extra_headers_are_forwarded(mcp_gateway):
    async def go(s):
        return text(await s.call_tool("web-header", {"header_name": "x-trace-id"})), \
            text(await s.call_tool("web-header", {"header_name": "x-other"}))

    trace, other = run(session_do(mcp_gateway, MASTER, go, headers={"x-trace-id": "t-77", "x-other": "no"}))
    assert trace == "t-77"
    assert other == "<absent>", "only the headers extra_headers names"


def test_legacy_sse_clients_reach_the_gateway_with_keys_and_permissions(mcp_gateway):
    """Old clients (`mcp.client.sse.sse_client`): `GET /mcp/sse` opens the event stream, the
    messages go to LiteLLM's `/mcp/sse/messages?session_id=`; the same tools, names, grants
    and refusals as on streamable HTTP."""
    async def go(s):
        return await tool_names(s), text(await s.call_tool("web-add", {"a": 2, "b": 40})), \
            text(await s.call_tool("legacy-echo", {"text": "old"}))

    names, add, echo = run(session_do(mcp_gateway, MASTER, go, path="/mcp/sse", sse=True))
    assert {"web-add", "local-echo", "legacy-add"} <= set(names) and "web-crash" not in names
    assert add == "42" and echo == "legacy: old"
    # One server's path, and the x-mcp-servers header, as on /mcp.
    only_local = run(session_do(mcp_gateway, MASTER, tool_names, path="/mcp/local/sse", sse=True))
    assert only_local and all(n.startswith("local-") for n in only_local)
    narrowed = run(session_do(mcp_gateway, MASTER, tool_names, path="/mcp/sse", sse=True,
                              headers={"x-mcp-servers": "web"}))
    assert narrowed and all(n.startswith("web-") for n in narrowed)

    # A key sees and calls its servers only.
    web_only = new_key(mcp_gateway, object_permission={"mcp_servers": ["web"]})
    names = run(session_do(mcp_gateway, web_only, tool_names, path="/mcp/sse", sse=True))
    assert names and all(n.startswith("web-") for n in names)

    async def call_local(s):
        return await s.call_tool("local-echo", {"text": "x"})

    with pytest.raises(MCPError) as e:
        run(session_do(mcp_gateway, web_only, call_local, path="/mcp/sse", sse=True))
    assert "not allowed" in str(e.value) and "local" in str(e.value)
    r = httpx2.get(f"{mcp_gateway.base}/mcp/local/sse", headers={"x-litellm-api-key": web_only})
    assert r.status_code == 403, r.text

    # Bad keys are 401s on the stream and on the messages.
    for path, method in (("/mcp/sse", "GET"), ("/mcp/sse/messages?session_id=x", "POST")):
        r = httpx2.request(method, f"{mcp_gateway.base}{path}", headers={"Authorization": "Bearer sk-wrong"},
                           json={"jsonrpc": "2.0", "id": 1, "method": "ping"})
        assert r.status_code == 401, r.text
        assert r.json()["error"]["type"] == "auth_error"

    # The wire: the endpoint event, 202 for a message of the session's key, whose answer comes
    # on the stream; another key's message, an unknown or missing session, bad JSON refused.
    with httpx2.Client(base_url=mcp_gateway.base, timeout=10) as http:
        with http.stream("GET", "/mcp/sse", headers={"x-litellm-api-key": MASTER}) as stream:
            assert stream.headers["content-type"].startswith("text/event-stream")
            lines = stream.iter_lines()
            assert next(lines) == "event: endpoint"
            endpoint = next(lines).removeprefix("data: ")
            assert endpoint.startswith("/mcp/sse/messages?session_id=")
            ping = {"jsonrpc": "2.0", "id": 7, "method": "ping"}
            other = http.post(endpoint, json=ping, headers={"x-litellm-api-key": web_only})
            assert other.status_code == 404, "another key may not drive the session"
            assert http.post("/mcp/sse/messages?session_id=nope", json=ping,
                             headers={"x-litellm-api-key": MASTER}).status_code == 404
            assert http.post("/mcp/sse/messages", json=ping,
                             headers={"x-litellm-api-key": MASTER}).status_code == 400
            assert http.post(endpoint, content=b"{not json", headers={"x-litellm-api-key": MASTER,
                             "content-type": "application/json"}).status_code == 400
            init = {"jsonrpc": "2.0", "id": 1, "method": "initialize", "params": {
                "protocolVersion": "2024-11-05", "capabilities": {},
                "clientInfo": {"name": "raw", "version": "0"}}}
            sent = http.post(endpoint, json=init, headers={"x-litellm-api-key": MASTER})
            assert sent.status_code == 202
            answer = json.loads(next(l for l in lines if l.startswith("data: ")).removeprefix("data: "))
            assert answer["id"] == 1 and answer["result"]["serverInfo"]["name"] == "llmgate", answer


def test_bad_key_is_401_and_no_key_too(mcp_gateway):
    body = {"jsonrpc": "2.0", "id": 1, "method": "tools/list"}
    for headers in ({"Authorization": "Bearer sk-wrong"}, {"x-litellm-api-key": "sk-wrong"}, {}):
        r = httpx2.post(f"{mcp_gateway.base}/mcp/", json=body, headers={
            "accept": "application/json, text/event-stream", **headers})
        assert r.status_code == 401, r.text
        assert r.json()["error"]["type"] == "auth_error"
    with pytest.raises(Exception):
        run(session_do(mcp_gateway, "sk-wrong", tool_names))


def test_keys_see_and_call_only_the_servers_they_are_granted(mcp_gateway):
    web_only = new_key(mcp_gateway, object_permission={"mcp_servers": ["web"]})
    nothing = new_key(mcp_gateway)
    status, info = admin(mcp_gateway, "GET", f"/key/info?key={web_only}")
    assert status == 200 and info["info"]["object_permission_id"]

    names = run(session_do(mcp_gateway, web_only, tool_names))
    assert names and all(n.startswith("web-") for n in names)

    async def call_local(s):
        return await s.call_tool("local-echo", {"text": "x"})

    with pytest.raises(MCPError) as e:
        run(session_do(mcp_gateway, web_only, call_local))
    assert "not allowed" in str(e.value) and "local" in str(e.value)
    with pytest.raises(Exception):
        run(session_do(mcp_gateway, web_only, tool_names, path="/mcp/local"))

    # A key without a grant sees no tool and may call none (LiteLLM's default).
    assert run(session_do(mcp_gateway, nothing, tool_names)) == []
    with pytest.raises(MCPError):
        run(session_do(mcp_gateway, nothing, call_local))

    # The grant changes with /key/update (the row's id echoed back, as LiteLLM's UI does, is fine).
    status, _ = admin(mcp_gateway, "POST", "/key/update",
                      {"key": web_only, "object_permission": {
                          "object_permission_id": info["info"]["object_permission_id"],
                          "mcp_servers": ["local"]}})
    assert status == 200
    status, info = admin(mcp_gateway, "GET", f"/key/info?key={web_only}")
    assert status == 200 and info["info"]["object_permission"]["mcp_servers"] == ["local"]
    names = run(session_do(mcp_gateway, web_only, tool_names))
    assert names and all(n.startswith("local-") for n in names)


def test_team_grant_narrows_the_key_grant(mcp_gateway):
    status, team = admin(mcp_gateway, "POST", "/team/new",
                         {"team_alias": "mcp-team", "object_permission": {"mcp_servers": ["web", "legacy"]}})
    assert status == 200, team
    inherits = new_key(mcp_gateway, team_id=team["team_id"])
    both = new_key(mcp_gateway, team_id=team["team_id"],
                   object_permission={"mcp_servers": ["legacy", "local"]})
    assert {n.split("-")[0] for n in run(session_do(mcp_gateway, inherits, tool_names))} == {"web", "legacy"}
    assert {n.split("-")[0] for n in run(session_do(mcp_gateway, both, tool_names))} == {"legacy"}


def test_tool_permissions_narrow_a_server_to_some_tools(mcp_gateway):
    key = new_key(mcp_gateway, object_permission={"mcp_servers": ["web"],
                                                  "mcp_tool_permissions": {"web": ["add"]}})
    assert run(session_do(mcp_gateway, key, tool_names)) == ["web-add"]

    async def echo(s):
        return await s.call_tool("web-echo", {"text": "x"})

    with pytest.raises(MCPError):
        run(session_do(mcp_gateway, key, echo))


def test_a_server_that_is_down_or_slow_fails_clearly_and_quickly(mcp_gateway):
    with pytest.raises(MCPError) as e:
        run(session_do(mcp_gateway, MASTER, tool_names, path="/mcp/down"))
    assert "down" in str(e.value) and "unreachable" in str(e.value)

    async def slow(s):
        return await s.call_tool("web-slow", {"seconds": 60})

    # The server would answer after 60 s: the gateway gives up at its bound, well before.
    start = time.time()
    with pytest.raises(MCPError) as e:
        run(session_do(mcp_gateway, MASTER, slow))
    took = time.time() - start
    assert MCP_TIMEOUT_S - 1 < took < MCP_TIMEOUT_S + 10, took
    assert f"did not answer tools/call within {MCP_TIMEOUT_S} s" in str(e.value)

    # The server still serves the next call.
    async def add(s):
        return text(await s.call_tool("web-add", {"a": 1, "b": 1}))

    assert run(session_do(mcp_gateway, MASTER, add)) == "2"


def test_a_stdio_server_that_exits_is_spawned_again(mcp_gateway):
    async def pid(s):
        return int(text(await s.call_tool("local-pid", {})))

    async def crash(s):
        return await s.call_tool("local-crash", {})

    first = run(session_do(mcp_gateway, MASTER, pid))
    with pytest.raises(MCPError):
        run(session_do(mcp_gateway, MASTER, crash))
    second = run(session_do(mcp_gateway, MASTER, pid))
    assert second != first


def test_rest_routes_list_and_call(mcp_gateway):
    r = httpx2.get(f"{mcp_gateway.base}/mcp-rest/tools/list", headers={"Authorization": f"Bearer {MASTER}"})
    assert r.status_code == 200
    body = r.json()
    assert body["error"] is None and body["message"] == "Successfully retrieved tools"
    add = next(t for t in body["tools"] if t["name"] == "add" and t["mcp_info"]["server_name"] == "web")
    assert add["inputSchema"]["required"] == ["a", "b"]
    assert add["mcp_info"]["description"] == "The streamable HTTP server"

    r = httpx2.get(f"{mcp_gateway.base}/mcp-rest/tools/list?server_id=down",
                   headers={"Authorization": f"Bearer {MASTER}"})
    assert r.json()["error"] == "server_error" and "unreachable" in r.json()["message"]
    r = httpx2.get(f"{mcp_gateway.base}/mcp-rest/tools/list?server_id=nope",
                   headers={"Authorization": f"Bearer {MASTER}"})
    assert r.json()["error"] == "server_not_found"

    call = lambda body, key=MASTER: httpx2.post(f"{mcp_gateway.base}/mcp-rest/tools/call", json=body,
                                                headers={"Authorization": f"Bearer {key}"}, timeout=30)
    r = call({"name": "web-add", "arguments": {"a": 3, "b": 4}})
    assert r.status_code == 200 and r.json()["content"][0]["text"] == "7", r.text
    r = call({"name": "echo", "server_id": "local", "arguments": {"text": "rest"}})
    assert r.json()["content"][0]["text"] == "local: rest"
    # A tool the upstream does not have: its own error result, relayed.
    r = call({"name": "web-nothing", "arguments": {}})
    assert r.status_code == 200 and r.json()["isError"] is True
    r = call({"name": "nothing-at-all", "arguments": {}})
    assert r.status_code == 404
    key = new_key(mcp_gateway, object_permission={"mcp_servers": ["web"]})
    r = call({"name": "local-echo", "arguments": {"text": "x"}}, key=key)
    assert r.status_code == 403 and "local" in r.json()["error"]["message"]
    r = call({"name": "down-x", "arguments": {}})
    assert r.status_code == 503 and "down" in r.json()["error"]["message"]
    r = call({"arguments": {}})
    assert r.status_code == 400
    r = httpx2.get(f"{mcp_gateway.base}/mcp-rest/tools/list", headers={"Authorization": "Bearer sk-bad"})
    assert r.status_code == 401


def test_tool_calls_are_in_the_spend_logs(mcp_gateway):
    key = new_key(mcp_gateway, object_permission={"mcp_servers": ["web"]}, key_alias="mcp-logger")

    async def go(s):
        return text(await s.call_tool("web-add", {"a": 5, "b": 6}))

    assert run(session_do(mcp_gateway, key, go)) == "11"
    status, info = admin(mcp_gateway, "GET", f"/key/info?key={key}")
    token = info["key"]
    deadline = time.time() + 15
    logs = []
    while time.time() < deadline:
        _, logs = admin(mcp_gateway, "GET", f"/spend/logs?api_key={token}")
        if logs:
            break
        time.sleep(0.5)
    assert len(logs) == 1, logs
    log = logs[0]
    assert log["call_type"] == "call_mcp_tool" and log["model"] == "web-add"
    assert log["mcp_namespaced_tool_name"] == "web-add", "LiteLLM's column"
    assert log["status"] == "success" and log["request_duration_ms"] is not None
    assert log["spend"] == 0.25, "mcp_server_cost_info's price for the tool"
    meta = log["metadata"]["mcp_tool_call_metadata"]
    assert meta["mcp_server_name"] == "web" and meta["name"] == "add" and meta["arguments"] == {"a": 5, "b": 6}
    # Charged to the key at once: its budget stops the next call.
    _, info = admin(mcp_gateway, "GET", f"/key/info?key={key}")
    assert info["info"]["spend"] == pytest.approx(0.25)


def test_a_key_over_its_budget_may_not_call_tools(mcp_gateway):
    key = new_key(mcp_gateway, object_permission={"mcp_servers": ["web"]}, max_budget=0.2)

    async def add(s):
        return text(await s.call_tool("web-add", {"a": 1, "b": 2}))

    assert run(session_do(mcp_gateway, key, add)) == "3"
    with pytest.raises(MCPError) as e:
        run(session_do(mcp_gateway, key, add))
    assert "Budget has been exceeded" in str(e.value)
    r = httpx2.post(f"{mcp_gateway.base}/mcp-rest/tools/call", json={"name": "web-add", "arguments": {"a": 1, "b": 1}},
                    headers={"Authorization": f"Bearer {key}"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "budget_exceeded"


def spend_logs(gw, key, count=1, timeout=15):
    """The spend logs of `key` once `count` of them are written."""
    _, info = admin(gw, "GET", f"/key/info?key={key}")
    deadline = time.time() + timeout
    logs = []
    while time.time() < deadline:
        _, logs = admin(gw, "GET", f"/spend/logs?api_key={info['key']}")
        if len(logs) >= count:
            break
        time.sleep(0.5)
    return logs


def test_a_failed_tool_call_is_logged_as_a_failure_and_costs_nothing(mcp_gateway):
    """A tool that raises: its error result reaches the client, and the spend log says
    `failure` with no spend (the server's `default_cost_per_query` prices successes only)."""
    key = new_key(mcp_gateway, object_permission={"mcp_servers": ["web"]}, key_alias="mcp-failer")

    async def go(s):
        return await s.call_tool("web-fail", {"why": "on purpose"})

    result = run(session_do(mcp_gateway, key, go))
    assert result.is_error is True and "fail" in text(result), result
    logs = spend_logs(mcp_gateway, key)
    assert len(logs) == 1, logs
    log = logs[0]
    assert log["call_type"] == "call_mcp_tool" and log["model"] == "web-fail"
    assert log["status"] == "failure" and log["spend"] == 0, log
    assert log["metadata"]["mcp_tool_call_metadata"]["arguments"] == {"why": "on purpose"}
    _, info = admin(mcp_gateway, "GET", f"/key/info?key={key}")
    assert info["info"]["spend"] == 0


def test_a_team_over_its_budget_may_not_call_tools(mcp_gateway):
    """A tool call's cost is charged to the key's team at once, and the team's `max_budget`
    stops the next call of every key of the team (as the key's own budget does)."""
    status, team = admin(mcp_gateway, "POST", "/team/new", {
        "team_alias": f"mcp-budget-{uuid.uuid4().hex[:6]}", "max_budget": 0.2,
        "object_permission": {"mcp_servers": ["web"]}})
    assert status == 200, team
    first = new_key(mcp_gateway, team_id=team["team_id"])
    second = new_key(mcp_gateway, team_id=team["team_id"])

    async def add(s):
        return text(await s.call_tool("web-add", {"a": 1, "b": 2}))

    assert run(session_do(mcp_gateway, first, add)) == "3"
    for key in (first, second):
        with pytest.raises(MCPError) as e:
            run(session_do(mcp_gateway, key, add))
        assert "Budget has been exceeded" in str(e.value) and "Team" in str(e.value), e.value
    r = httpx2.post(f"{mcp_gateway.base}/mcp-rest/tools/call", json={"name": "web-add", "arguments": {"a": 1, "b": 1}},
                    headers={"Authorization": f"Bearer {second}"})
    assert r.status_code == 400 and r.json()["error"]["type"] == "budget_exceeded", r.text
    _, info = admin(mcp_gateway, "GET", f"/team/info?team_id={team['team_id']}")
    assert info["team_info"]["spend"] == pytest.approx(0.25), info


def test_an_authorization_bearer_session_lists_and_calls(mcp_gateway):
    """The key as `Authorization: Bearer` (what most MCP clients send) opens a session as
    x-litellm-api-key does, with the key's grants; the server still gets its own credential."""
    key = new_key(mcp_gateway, object_permission={"mcp_servers": ["web"]})

    async def go(s):
        return (await tool_names(s), text(await s.call_tool("web-add", {"a": 20, "b": 22})),
                text(await s.call_tool("web-header", {"header_name": "authorization"})))

    names, added, auth = run(session_do(mcp_gateway, key, go, bearer=True))
    assert names and all(n.startswith("web-") for n in names), names
    assert added == "42"
    assert auth == f"Bearer {WEB_TOKEN}", "the server's credential, not the client's key"
    names = run(session_do(mcp_gateway, MASTER, tool_names, bearer=True))
    assert {"web-add", "local-echo", "legacy-add"} <= set(names)


def test_upstream_auth_types_header_forwarding_stdio_env_and_access_groups(tmp_path, start_gateway):
    """`auth_type` api_key, basic and authorization as the upstream receives them; client
    headers forwarded by `extra_headers` and `x-mcp-<server>-<header>` but never the client's
    gateway key (whichever header carries it); a stdio server's `env` in the child; servers
    granted through their `access_groups` (`object_permission.mcp_access_groups`)."""
    web, web_port = upstream("web", "http")
    url = f"http://127.0.0.1:{web_port}/mcp"
    api_key, secret = "upstream-api-key-7", "stdio-secret-9"
    try:
        gw = start_gateway(f"""
mcp_servers:
  apikey:
    url: {url}
    auth_type: api_key
    auth_value: os.environ/E2E_MCP_API_KEY
  basic:
    url: {url}
    auth_type: basic
    auth_value: dXNlcjpwYXNz
  authz:
    url: {url}
    auth_type: authorization
    auth_value: "Token raw-credential"
  fwd:
    url: {url}
    extra_headers: ["Authorization", "x-litellm-api-key", "x-trace-id"]
    access_groups: ["dev"]
  envd:
    transport: stdio
    command: {sys.executable}
    args: ["{UPSTREAM}", "envd", "stdio"]
    env: {{E2E_PLAIN: plain-value, E2E_SECRET: os.environ/E2E_STDIO_SECRET}}
    access_groups: ["dev", "ops"]
general_settings:
  master_key: {MASTER}
""", env={"E2E_MCP_API_KEY": api_key, "E2E_STDIO_SECRET": secret, "LLMGATE_DB_PATH": str(tmp_path / "keys.db"),
          "LLMGATE_MCP_TIMEOUT_SECONDS": str(MCP_TIMEOUT_S)}).wait_ready()

        def seen(server, names, key=MASTER, **kw):
            async def go(s):
                return [text(await s.call_tool(f"{server}-header", {"header_name": n})) for n in names]
            return run(session_do(gw, key, go, path=f"/mcp/{server}", **kw))

        # The configured credential, in the header each auth_type means; the client's
        # Authorization (its gateway key) is not passed on.
        assert seen("apikey", ["x-api-key", "authorization"], bearer=True) == [api_key, "<absent>"]
        assert seen("basic", ["authorization"]) == ["Basic dXNlcjpwYXNz"]
        assert seen("authz", ["authorization"]) == ["Token raw-credential"]

        # extra_headers: named headers pass, except those that carry the gateway key.
        names = ["authorization", "x-litellm-api-key", "x-trace-id"]
        assert seen("fwd", names, bearer=True, headers={"x-trace-id": "t-1"}) == ["<absent>", "<absent>", "t-1"]
        assert seen("fwd", names, headers={"Authorization": "Bearer user-upstream-token"}) == \
            ["Bearer user-upstream-token", "<absent>", "<absent>"], "the client's own token for the server passes"
        dev = new_key(gw, object_permission={"mcp_access_groups": ["dev"]})
        assert seen("fwd", names, key=dev, bearer=True, headers={"x-trace-id": "t-2"}) == \
            ["<absent>", "<absent>", "t-2"], "a virtual key is not passed on either"
        # The REST route forwards as the MCP route does.
        r = httpx2.post(f"{gw.base}/mcp-rest/tools/call", headers={"Authorization": f"Bearer {MASTER}"},
                        json={"name": "fwd-header", "arguments": {"header_name": "authorization"}}, timeout=30)
        assert r.status_code == 200 and r.json()["content"][0]["text"] == "<absent>", r.text

        # x-mcp-<server>-<header> reaches that server as <header>, unless it is the gateway key.
        assert seen("apikey", ["x-user-token", "authorization"], headers={
            "x-mcp-apikey-x-user-token": "u-1", "x-mcp-apikey-authorization": f"Bearer {MASTER}",
            "x-mcp-basic-x-user-token": "not-for-apikey"}) == ["u-1", "<absent>"]
        assert seen("basic", ["x-user-token"], headers={"x-mcp-apikey-x-user-token": "u-1"}) == ["<absent>"]

        # The stdio child gets the config's env (os.environ/ resolved).
        async def env(s):
            return [text(await s.call_tool("envd-env", {"var": v})) for v in ("E2E_PLAIN", "E2E_SECRET")]
        assert run(session_do(gw, MASTER, env)) == ["plain-value", secret]

        # Access groups: a key granted a group sees the servers that list it, and only those.
        ops = new_key(gw, object_permission={"mcp_access_groups": ["ops"]})
        nothing = new_key(gw)
        assert {n.split("-")[0] for n in run(session_do(gw, dev, tool_names))} == {"fwd", "envd"}
        assert {n.split("-")[0] for n in run(session_do(gw, ops, tool_names))} == {"envd"}
        assert run(session_do(gw, nothing, tool_names)) == []
        assert run(session_do(gw, ops, env)) == ["plain-value", secret]
        with pytest.raises(MCPError) as e:
            run(session_do(gw, ops, lambda s: s.call_tool("fwd-add", {"a": 1, "b": 1})))
        assert "not allowed" in str(e.value) and "fwd" in str(e.value)
        status, team = admin(gw, "POST", "/team/new", {"object_permission": {"mcp_access_groups": ["ops"]}})
        assert status == 200, team
        in_team = new_key(gw, team_id=team["team_id"])
        assert {n.split("-")[0] for n in run(session_do(gw, in_team, tool_names))} == {"envd"}
    finally:
        web.kill()
        web.wait()


def test_a_bad_entry_refuses_the_start_and_unsupported_keys_are_named(tmp_path):
    bad = Gateway(tmp_path, "mcp_servers:\n  my-server:\n    url: http://127.0.0.1:9/mcp\n")
    assert bad.proc.wait(timeout=20) != 0
    bad.stop()
    assert "mcp_servers.my-server" in bad.log_path.read_text()

    (tmp_path / "b").mkdir()
    gw = Gateway(tmp_path / "b", "mcp_servers:\n  s:\n    url: http://127.0.0.1:9/mcp\n"
                 "    spec_path: /tmp/openapi.json\n    mcp_info:\n      mcp_server_cost_info: {default_cost_per_query: 1}\n")
    try:
        gw.wait_ready()
        log = gw.log_path.read_text()
        assert "mcp_servers.s.spec_path" in log
        assert "mcp_server_cost_info" not in log, "implemented"
    finally:
        gw.stop()

    (tmp_path / "c").mkdir()
    bad = Gateway(tmp_path / "c", "mcp_servers:\n  s:\n    url: http://127.0.0.1:9/mcp\n"
                  "    mcp_info:\n      mcp_server_cost_info: {default_cost_per_query: -1}\n")
    assert bad.proc.wait(timeout=20) != 0
    bad.stop()
    assert "default_cost_per_query must be a number >= 0" in bad.log_path.read_text()


def test_chat_completions_run_mcp_tools_the_model_calls(mcp_gateway):
    """The seed's example: an `mcp` tool in a chat request; the mock model calls the tool it is
    offered, the gateway runs it on the MCP server and feeds the result back, and the answer is
    the model's last turn."""
    client = openai.OpenAI(base_url=mcp_gateway.base, api_key=MASTER, max_retries=0)
    mcp_tool = {"type": "mcp", "server_label": "litellm", "server_url": "litellm_proxy/mcp/web",
                "allowed_tools": ["add"], "require_approval": "never"}
    r = client.chat.completions.create(model="agent", messages=[{"role": "user", "content": "add 1 and 1"}],
                                       tools=[mcp_tool])
    assert r.choices[0].message.content == "Tool result: 2"
    assert r.choices[0].finish_reason == "stop"

    # Streamed: the same answer, as chunks.
    chunks = list(client.chat.completions.create(
        model="agent", messages=[{"role": "user", "content": "add 1 and 1"}], tools=[mcp_tool], stream=True,
        stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Tool result: 2"
    assert chunks[-1].usage is not None and chunks[-1].usage.total_tokens > 0

    # Approval required: the call is the client's, named as the gateway offered it.
    r = client.chat.completions.create(model="agent", messages=[{"role": "user", "content": "add"}],
                                       tools=[{**mcp_tool, "require_approval": "always"}])
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "web-add" and json.loads(call.function.arguments) == {"a": 1, "b": 1}

    # A key without the server is refused; a URL outside the gateway is a clear 400.
    key = new_key(mcp_gateway, object_permission={"mcp_servers": ["local"]})
    keyed = openai.OpenAI(base_url=mcp_gateway.base, api_key=key, max_retries=0)
    with pytest.raises(openai.PermissionDeniedError) as e:
        keyed.chat.completions.create(model="agent", messages=[{"role": "user", "content": "x"}], tools=[mcp_tool])
    assert "web" in str(e.value)
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="agent", messages=[{"role": "user", "content": "x"}],
                                       tools=[{**mcp_tool, "server_url": "https://mcp.example.com/mcp"}])
    assert "server_url" in str(e.value)


def test_a_server_that_never_answers_does_not_hold_the_others(tmp_path, start_gateway):
    """An upstream that accepts connections and never answers: each request gives up within
    the bound, requests in parallel wait side by side, and a listing still has the others."""
    stuck = socket.socket()
    stuck.bind(("127.0.0.1", 0))
    stuck.listen(64)
    web, web_port = upstream("web", "http")
    try:
        gw = start_gateway(f"""
mcp_servers:
  stuck:
    url: http://127.0.0.1:{stuck.getsockname()[1]}/mcp
  web:
    url: http://127.0.0.1:{web_port}/mcp
general_settings:
  master_key: {MASTER}
""", env={"LLMGATE_MCP_TIMEOUT_SECONDS": "2"}).wait_ready()

        async def parallel():
            return await asyncio.gather(*[session_do(gw, MASTER, tool_names, path="/mcp/stuck")
                                          for _ in range(4)], return_exceptions=True)

        start = time.time()
        results = run(parallel())
        assert time.time() - start < 10, "parallel requests are not queued behind each other"
        assert all(isinstance(r, MCPError) and "stuck" in str(r) and "within 2 s" in str(r) for r in results), results
        start = time.time()
        names = run(session_do(gw, MASTER, tool_names))
        assert time.time() - start < 10
        assert "web-add" in names and not any(n.startswith("stuck-") for n in names)
    finally:
        stuck.close()
        web.kill()
        web.wait()


class TokenEndpoint:
    """An OAuth2 token endpoint (client credentials): tokens `tok-1`, `tok-2`, ... each valid
    `expires_in` seconds; every form it was sent is kept."""

    def __init__(self, expires_in: float):
        import http.server
        import threading
        import urllib.parse

        outer = self
        self.forms = []

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                raw = self.rfile.read(int(self.headers.get("content-length", 0))).decode()
                outer.forms.append(dict(urllib.parse.parse_qsl(raw)))
                if outer.forms[-1].get("client_secret") != "s3cret/+=":
                    body, code = {"error": "invalid_client"}, 401
                else:
                    body, code = {"access_token": f"tok-{len(outer.forms)}", "token_type": "Bearer",
                                  "expires_in": expires_in}, 200
                data = json.dumps(body).encode()
                self.send_response(code)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()


def test_oauth2_client_credentials_to_an_upstream(start_gateway):
    """`auth_type: oauth2`: a token from `token_url` (client credentials, the secret from the
    environment), sent as the bearer token, fetched once while valid and again after expiry;
    a token endpoint that refuses is a clear error."""
    tokens = TokenEndpoint(expires_in=10)
    web, web_port = upstream("web", "http")
    try:
        gw = start_gateway(f"""
mcp_servers:
  secured:
    url: http://127.0.0.1:{web_port}/mcp
    auth_type: oauth2
    token_url: http://127.0.0.1:{tokens.port}/token
    client_id: llmgate-client
    client_secret: os.environ/MCP_OAUTH_SECRET
    scopes: ["tools.read", "tools.call"]
  refused:
    url: http://127.0.0.1:{web_port}/mcp
    auth_type: oauth2
    token_url: http://127.0.0.1:{tokens.port}/token
    client_id: other
    client_secret: wrong
general_settings:
  master_key: {MASTER}
""", env={"MCP_OAUTH_SECRET": "s3cret/+=", "LLMGATE_MCP_TIMEOUT_SECONDS": str(MCP_TIMEOUT_S)}).wait_ready()

        def auth_header():
            return run(session_do(gw, MASTER, lambda s: s.call_tool(
                "secured-header", {"header_name": "authorization"}), path="/mcp/secured"))

        assert text(auth_header()) == "Bearer tok-1"
        assert text(auth_header()) == "Bearer tok-1", "a valid token is reused"
        sent = [f for f in tokens.forms if f.get("client_id") == "llmgate-client"]
        assert len(sent) == 1, tokens.forms
        assert sent[0] == {"grant_type": "client_credentials", "client_id": "llmgate-client",
                           "client_secret": "s3cret/+=", "scope": "tools.read tools.call"}
        time.sleep(10.5)
        after = text(auth_header())
        assert after.startswith("Bearer tok-") and after != "Bearer tok-1", "an expired token is replaced"
        status, body = admin(gw, "GET", "/mcp-rest/tools/list?server_id=refused")
        assert body["error"] == "server_error" and "OAuth2 token" in body["message"], body
    finally:
        tokens.stop()
        web.kill()
        web.wait()


def test_responses_and_messages_run_mcp_tools_the_model_calls(mock, start_gateway):
    """`tools: [{"type": "mcp", ...}]` on `/v1/responses` and `/v1/messages` (the official
    `openai` and `anthropic` clients): the tools are offered in each API's format, the model's
    calls run through the gateway, and the final answer comes back whole or as the API's
    stream; with approval required the calls are the client's."""
    import anthropic

    web, web_port = upstream("web", "http")
    try:
        gw = start_gateway(f"""
model_list:
  - model_name: agent
    litellm_params:
      model: hosted_vllm/mock-agent
      api_base: {mock.base}/v1
      api_key: sk-upstream
mcp_servers:
  web:
    url: http://127.0.0.1:{web_port}/mcp
general_settings:
  master_key: {MASTER}
""").wait_ready()
        mcp_tool = {"type": "mcp", "server_label": "litellm", "server_url": "litellm_proxy/mcp/web",
                    "allowed_tools": ["add"], "require_approval": "never"}
        oa = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        r = oa.responses.create(model="agent", input="add 1 and 1", tools=[mcp_tool])
        assert r.output_text == "Tool result: 2", r
        # OpenAI's MCP items: the entry's tools, the call the gateway ran, then the answer.
        assert [i.type for i in r.output] == ["mcp_list_tools", "mcp_call", "message"], r.output
        listed, ran = r.output[0], r.output[1]
        assert listed.server_label == "litellm" and [t.name for t in listed.tools] == ["web-add"]
        assert listed.tools[0].input_schema["properties"]["a"]["type"] == "integer"
        assert ran.server_label == "litellm" and ran.name == "web-add" and ran.id.startswith("mcp_")
        assert json.loads(ran.arguments) == {"a": 1, "b": 1}
        assert ran.output == "2" and ran.error is None and ran.status == "completed"
        events = list(oa.responses.create(model="agent", input="add 1 and 1", tools=[mcp_tool], stream=True))
        assert events[-1].type == "response.completed"
        assert "".join(e.delta for e in events if e.type == "response.output_text.delta") == "Tool result: 2"
        assert [i.type for i in events[-1].response.output] == ["mcp_list_tools", "mcp_call", "message"]

        # Approval required: an mcp_approval_request; approving it (previous_response_id and an
        # mcp_approval_response) runs the call and the model continues.
        always = {**mcp_tool, "require_approval": "always"}
        r = oa.responses.create(model="agent", input="add", tools=[always])
        asked = next(i for i in r.output if i.type == "mcp_approval_request")
        assert not any(i.type in ("function_call", "mcp_call") for i in r.output), r.output
        assert asked.name == "web-add" and json.loads(asked.arguments) == {"a": 1, "b": 1}
        assert asked.server_label == "litellm" and asked.id.startswith("mcpr_")
        approved = oa.responses.create(model="agent", previous_response_id=r.id, tools=[always], input=[
            {"type": "mcp_approval_response", "approve": True, "approval_request_id": asked.id}])
        assert approved.output_text == "Tool result: 2", approved.output
        assert [i.type for i in approved.output] == ["mcp_call", "message"], "tools listed once"
        assert approved.output[0].approval_request_id == asked.id and approved.output[0].output == "2"
        assert approved.previous_response_id == r.id
        # Streamed, the same items.
        events = list(oa.responses.create(model="agent", input="add", tools=[always], stream=True))
        assert events[-1].type == "response.completed"
        done = [e.item.type for e in events if e.type == "response.output_item.done"]
        assert done == ["mcp_list_tools", "mcp_approval_request"], done
        stored = oa.responses.retrieve(approved.id)
        assert [i.type for i in stored.output] == ["mcp_call", "message"]
        # The conversation goes on from there (the MCP items are the model's calls and outputs).
        more = oa.responses.create(model="agent", previous_response_id=approved.id, input="and again",
                                   tools=[mcp_tool])
        assert more.status == "completed" and more.output_text == "Tool result: 2"
        # Declined: nothing runs, the model is told.
        r = oa.responses.create(model="agent", input="add", tools=[always])
        asked = next(i for i in r.output if i.type == "mcp_approval_request")
        declined = oa.responses.create(model="agent", previous_response_id=r.id, tools=[always], input=[
            {"type": "mcp_approval_response", "approve": False, "approval_request_id": asked.id}])
        assert not any(i.type == "mcp_call" for i in declined.output)
        assert "declined" in declined.output_text
        # Without stored responses the items sent back do the same.
        r = oa.responses.create(model="agent", input="add", tools=[always], store=False)
        asked = next(i for i in r.output if i.type == "mcp_approval_request")
        back = oa.responses.create(model="agent", tools=[always], store=False, input=[
            {"role": "user", "content": "add"}, asked.model_dump(exclude_none=True),
            {"type": "mcp_approval_response", "approve": True, "approval_request_id": asked.id}])
        assert back.output_text == "Tool result: 2"
        assert [i.type for i in back.output] == ["mcp_list_tools", "mcp_call", "message"]
        # An approval of a request that was never made is a 400.
        with pytest.raises(openai.BadRequestError):
            oa.responses.create(model="agent", tools=[always], input=[
                {"type": "mcp_approval_response", "approve": True, "approval_request_id": "mcpr_nope"}])

        an = anthropic.Anthropic(base_url=gw.base, api_key=MASTER, max_retries=0)
        m = an.messages.create(model="agent", max_tokens=100, tools=[mcp_tool],
                               messages=[{"role": "user", "content": "add 1 and 1"}])
        assert m.stop_reason == "end_turn" and m.content[-1].text == "Tool result: 2", m
        with an.messages.stream(model="agent", max_tokens=100, tools=[mcp_tool],
                                messages=[{"role": "user", "content": "add 1 and 1"}]) as s:
            text_out = "".join(s.text_stream)
            final = s.get_final_message()
        assert text_out == "Tool result: 2" and final.stop_reason == "end_turn"
        m = an.messages.create(model="agent", max_tokens=100, tools=[{**mcp_tool, "require_approval": "always"}],
                               messages=[{"role": "user", "content": "add"}])
        use = next(b for b in m.content if b.type == "tool_use")
        assert m.stop_reason == "tool_use" and use.name == "web-add" and use.input == {"a": 1, "b": 1}
    finally:
        web.kill()
        web.wait()


def raw(gw, method, path, body=None, key=MASTER, data=None):
    """An admin call whose answer may have no body (202): (status, JSON or None)."""
    r = httpx2.request(method, f"{gw.base}{path}", headers={"Authorization": f"Bearer {key}"},
                       json=body, content=data, timeout=30)
    return r.status_code, (r.json() if r.content else None)


def test_a_toolset_grants_exactly_its_tools(mcp_gateway):
    """LiteLLM 1.110's MCP toolsets: `/v1/mcp/toolset` makes a named set of (server, tool)
    pairs over two servers; a key granted only that toolset (`object_permission.mcp_toolsets`)
    lists exactly those tools, namespaced, on `/mcp/`, and is refused any other; the toolset is
    its own endpoint (`/toolset/{name}/mcp`, and `/mcp/{name}`)."""
    name = f"ts{uuid.uuid4().hex[:8]}"
    status, ts = raw(mcp_gateway, "POST", "/v1/mcp/toolset", {
        "toolset_name": name, "description": "web's add and local's echo",
        "tools": [{"server_id": "web", "tool_name": "add"}, {"server_id": "local", "tool_name": "echo"}]})
    assert status == 201, ts
    tsid = ts["toolset_id"]
    assert ts["toolset_name"] == name and ts["created_at"] and ts["created_by"]
    assert ts["tools"] == [{"server_id": "web", "tool_name": "add"}, {"server_id": "local", "tool_name": "echo"}]

    key = new_key(mcp_gateway, object_permission={"mcp_toolsets": [tsid]})
    other = new_key(mcp_gateway, object_permission={"mcp_servers": ["web"]})
    status, info = admin(mcp_gateway, "GET", f"/key/info?key={key}")
    assert info["info"]["object_permission"]["mcp_toolsets"] == [tsid]

    async def use(s):
        names = await tool_names(s)
        added = text(await s.call_tool("web-add", {"a": 1, "b": 2}))
        echoed = text(await s.call_tool("local-echo", {"text": "hi"}))
        return names, added, echoed

    for path in ("/mcp/", f"/toolset/{name}/mcp", f"/mcp/{name}"):
        names, added, echoed = run(session_do(mcp_gateway, key, use, path=path))
        assert names == ["local-echo", "web-add"], (path, names)
        assert added == "3" and echoed == "local: hi"
        for tool in ("web-echo", "local-pid", "legacy-add"):
            with pytest.raises(MCPError) as e:
                run(session_do(mcp_gateway, key, lambda s: s.call_tool(tool, {"text": "x"}), path=path))
            assert "not allowed" in str(e.value), (path, tool, e.value)

    # The toolset's endpoint is exactly the toolset, for the master key too; a key not granted
    # it is refused there, and keeps its own grant elsewhere.
    assert run(session_do(mcp_gateway, MASTER, tool_names, path=f"/toolset/{name}/mcp")) == \
        ["local-echo", "web-add"]
    with pytest.raises(MCPError) as e:
        run(session_do(mcp_gateway, other, tool_names, path=f"/toolset/{name}/mcp"))
    assert "does not have access to toolset" in str(e.value)
    assert all(n.startswith("web-") for n in run(session_do(mcp_gateway, other, tool_names)))

    # Read back: an admin sees every toolset, a key the ones it is granted.
    status, listed = raw(mcp_gateway, "GET", "/v1/mcp/toolset")
    assert status == 200 and tsid in [t["toolset_id"] for t in listed]
    assert [t["toolset_id"] for t in raw(mcp_gateway, "GET", "/v1/mcp/toolset", key=key)[1]] == [tsid]
    assert raw(mcp_gateway, "GET", "/v1/mcp/toolset", key=other) == (200, [])
    status, one = raw(mcp_gateway, "GET", f"/v1/mcp/toolset/{tsid}", key=key)
    assert status == 200 and one["toolset_name"] == name
    assert raw(mcp_gateway, "GET", f"/v1/mcp/toolset/{tsid}", key=other)[0] == 403

    # In an LLM call, `litellm_proxy/mcp/<toolset>` offers the toolset's tools.
    tool = {"type": "mcp", "server_label": name, "server_url": f"litellm_proxy/mcp/{name}",
            "allowed_tools": ["add"], "require_approval": "never"}
    r = openai.OpenAI(base_url=mcp_gateway.base, api_key=key, max_retries=0).chat.completions.create(
        model="agent", messages=[{"role": "user", "content": "add 1 and 1"}], tools=[tool])
    assert r.choices[0].message.content == "Tool result: 2"
    with pytest.raises(openai.PermissionDeniedError):
        openai.OpenAI(base_url=mcp_gateway.base, api_key=other, max_retries=0).chat.completions.create(
            model="agent", messages=[{"role": "user", "content": "x"}], tools=[tool])

    # A team's toolset grant reaches its keys.
    status, team = admin(mcp_gateway, "POST", "/team/new",
                         {"team_alias": f"t-{name}", "object_permission": {"mcp_toolsets": [tsid]}})
    assert status == 200, team
    in_team = new_key(mcp_gateway, team_id=team["team_id"])
    assert run(session_do(mcp_gateway, in_team, tool_names)) == ["local-echo", "web-add"]

    # An update (a stored `<server>-<tool>` name means the tool) serves at once.
    status, updated = raw(mcp_gateway, "PUT", "/v1/mcp/toolset", {
        "toolset_id": tsid, "tools": [{"server_id": "web", "tool_name": "add"},
                                      {"server_id": "web", "tool_name": "web-echo"}]})
    assert status == 200 and updated["tools"][1]["tool_name"] == "web-echo", updated
    assert run(session_do(mcp_gateway, key, tool_names)) == ["web-add", "web-echo"]

    # Deleted: the grant names nothing now.
    assert raw(mcp_gateway, "DELETE", f"/v1/mcp/toolset/{tsid}") == (202, None)
    assert run(session_do(mcp_gateway, key, tool_names)) == []
    with pytest.raises(MCPError) as e:
        run(session_do(mcp_gateway, key, tool_names, path=f"/toolset/{name}/mcp"))
    assert "not found" in str(e.value)


def test_toolset_crud_errors(mcp_gateway):
    name = f"ts{uuid.uuid4().hex[:8]}"
    user = new_key(mcp_gateway)
    ok = {"toolset_name": name, "tools": [{"server_id": "web", "tool_name": "add"}]}
    for body, code, needle in [
        ({"description": "no name"}, 422, "toolset_name"),
        ({"toolset_name": 7}, 422, "toolset_name"),
        ({"toolset_name": name, "tools": "add"}, 422, "tools"),
        ({"toolset_name": name, "tools": [{"server_id": "web"}]}, 422, "tools"),
        ({"toolset_name": "a/b"}, 400, "toolset_name"),
        ({"toolset_name": name, "toolset_id": "mine"}, 400, "toolset_id"),
    ]:
        status, err = raw(mcp_gateway, "POST", "/v1/mcp/toolset", body)
        assert status == code and needle in err["error"]["message"], (body, status, err)
    status, err = raw(mcp_gateway, "POST", "/v1/mcp/toolset", data=b"{not json")
    assert status == 400, err
    status, err = raw(mcp_gateway, "POST", "/v1/mcp/toolset", ok, key=user)
    assert status == 403 and "Only proxy admins" in err["error"]["message"], err
    status, ts = raw(mcp_gateway, "POST", "/v1/mcp/toolset", ok)
    assert status == 201, ts
    status, err = raw(mcp_gateway, "POST", "/v1/mcp/toolset", ok)
    assert status == 409 and "already exists" in err["error"]["message"], err
    status, second = raw(mcp_gateway, "POST", "/v1/mcp/toolset", {"toolset_name": name + "b"})
    assert status == 201 and second["tools"] == []
    status, err = raw(mcp_gateway, "PUT", "/v1/mcp/toolset",
                      {"toolset_id": second["toolset_id"], "toolset_name": name})
    assert status == 409, err
    for method, path, body in [("GET", "/v1/mcp/toolset/nope", None),
                               ("DELETE", "/v1/mcp/toolset/nope", None),
                               ("PUT", "/v1/mcp/toolset", {"toolset_id": "nope", "description": "x"})]:
        status, err = raw(mcp_gateway, method, path, body)
        assert status == 404 and "not found" in err["error"]["message"], (method, path, err)
    assert raw(mcp_gateway, "PUT", "/v1/mcp/toolset", {"description": "x"})[0] == 422
    assert raw(mcp_gateway, "PUT", "/v1/mcp/toolset", {"toolset_id": ts["toolset_id"]}, key=user)[0] == 403
    assert raw(mcp_gateway, "DELETE", f"/v1/mcp/toolset/{ts['toolset_id']}", key=user)[0] == 403
    for t in (ts, second):
        assert raw(mcp_gateway, "DELETE", f"/v1/mcp/toolset/{t['toolset_id']}")[0] == 202
    # A grant's list must be a list of strings.
    status, err = admin(mcp_gateway, "POST", "/key/generate", {"object_permission": {"mcp_toolsets": "x"}})
    assert status == 400 and "mcp_toolsets" in err["error"]["message"], err
