"""The A2A agent gateway with the official `a2a-sdk` client, as LiteLLM's docs use it
(`A2ACardResolver` + `A2AClient` against `/a2a/{agent}`), in front of an agent built with the
same SDK's server parts (`a2a_echo_agent.py`): agent listing and permissions by key, the card's
URL rewritten to the gateway, send and stream (events relayed as they come), the agent's own
key added and the client's never forwarded, bad keys, an agent that is down or slow, A2A 1.0
method names, and each call in the spend logs."""
import asyncio
import hashlib
import json
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from uuid import uuid4

import httpx
import pytest
from a2a.client import A2ACardResolver, A2AClient
from a2a.client.errors import A2AClientHTTPError
from a2a.types import MessageSendParams, SendMessageRequest, SendStreamingMessageRequest

from conftest import MASTER, Gateway, free_port
from test_virtual_keys import admin, database  # noqa: F401 (fixture)

AGENT_KEY = "agent-own-secret-42"


@pytest.fixture(scope="module")
def agent():
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("a2a_echo_agent.py")),
                             "--port", str(port), "--key", AGENT_KEY])
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while True:
        try:
            urllib.request.urlopen(f"{base}/.well-known/agent-card.json", timeout=1)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the echo agent did not start")
            time.sleep(0.1)
    yield base
    proc.kill()
    proc.wait()


def config(agent_url):
    card = """
    agent_card_params:
      name: {name}
      description: Echoes what it is sent
      url: {url}
      version: 1.0.0
      defaultInputModes: [text]
      defaultOutputModes: [text]
      capabilities:
        streaming: true
      skills:
        - id: echo
          name: Echo
          description: echoes
          tags: [echo]"""
    return f"""
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 1
agent_list:
  - agent_name: echo
{card.format(name="Echo Agent", url=agent_url + "/")}
    static_headers:
      Authorization: os.environ/AGENT_KEY
    extra_headers: [x-tenant, x-litellm-api-key]
    litellm_params:
      cost_per_query: 0.01
  - agent_name: other
{card.format(name="Other Agent", url=agent_url + "/")}
    static_headers:
      Authorization: os.environ/AGENT_KEY
    agent_access_groups: [others]
  - agent_name: down
{card.format(name="Down Agent", url="http://127.0.0.1:9/")}
    litellm_params:
      cost_per_query: 1.0
  - agent_name: slow
{card.format(name="Slow Agent", url=agent_url + "/")}
    static_headers:
      Authorization: os.environ/AGENT_KEY
    litellm_params:
      timeout: 1
"""


def message(text):
    return MessageSendParams(message={"role": "user", "parts": [{"kind": "text", "text": text}],
                                      "messageId": uuid4().hex})


def artifact_text(result):
    return "".join(p["text"] for a in result.get("artifacts", []) for p in a["parts"])


async def client_for(gw, key, agent_name):
    """As LiteLLM's README: resolve the card at /a2a/{agent}, then an A2AClient on it. The
    client also sends a header the agent asks for (`extra_headers`), and its key a second time
    in a header the agent names too: neither may carry the gateway key to the agent."""
    http = httpx.AsyncClient(headers={"Authorization": f"Bearer {key}", "x-tenant": "acme",
                                      "x-litellm-api-key": key}, timeout=30)
    resolver = A2ACardResolver(httpx_client=http, base_url=f"{gw.base}/a2a/{agent_name}")
    card = await resolver.get_agent_card()
    return http, card, A2AClient(httpx_client=http, agent_card=card)


def test_agents_through_the_gateway(agent, tmp_path, database):
    env, _ = database
    gw = Gateway(tmp_path, config(agent), env={"AGENT_KEY": f"Bearer {AGENT_KEY}", **env}).wait_ready()
    try:
        status, k = admin(gw, "POST", "/key/generate", {"object_permission": {"agents": ["echo", "slow", "down"]}})
        assert status == 200, k
        key = k["key"]
        status, k2 = admin(gw, "POST", "/key/generate", {"object_permission": {"agent_access_groups": ["others"]}})
        assert status == 200, k2
        other_key = k2["key"]
        asyncio.run(scenario(gw, agent, key, other_key, k["token"]))
    except BaseException:
        print(gw.log_path.read_text())
        raise
    finally:
        gw.stop()


async def scenario(gw, agent, key, other_key, token):
    # /v1/agents lists what each key may use.
    async with httpx.AsyncClient(timeout=10) as h:
        listed = (await h.get(f"{gw.base}/v1/agents", headers={"Authorization": f"Bearer {key}"})).json()
        assert sorted(a["agent_name"] for a in listed) == ["down", "echo", "slow"]
        assert all(len(a["agent_id"]) == 64 for a in listed)
        listed = (await h.get(f"{gw.base}/v1/agents", headers={"Authorization": f"Bearer {other_key}"})).json()
        assert [a["agent_name"] for a in listed] == ["other"]
        listed = (await h.get(f"{gw.base}/v1/agents", headers={"Authorization": f"Bearer {MASTER}"})).json()
        assert len(listed) == 4
        # Bad key: 401 on every agent route.
        for r in [await h.get(f"{gw.base}/v1/agents", headers={"Authorization": "Bearer sk-wrong"}),
                  await h.get(f"{gw.base}/a2a/echo/.well-known/agent-card.json", headers={"Authorization": "Bearer sk-wrong"}),
                  await h.post(f"{gw.base}/a2a/echo", json={"jsonrpc": "2.0", "id": 1, "method": "message/send"},
                               headers={"Authorization": "Bearer sk-wrong"})]:
            assert r.status_code == 401, r.text
        # The legacy card path, and an unknown agent.
        legacy = await h.get(f"{gw.base}/a2a/echo/.well-known/agent.json", headers={"Authorization": f"Bearer {key}"})
        assert legacy.status_code == 200 and legacy.json()["url"] == f"{gw.base}/a2a/echo"
        missing = await h.get(f"{gw.base}/a2a/nobody/.well-known/agent-card.json", headers={"Authorization": f"Bearer {key}"})
        assert missing.status_code == 404
        # A key without the agent: refused, card and call alike.
        card = await h.get(f"{gw.base}/a2a/echo/.well-known/agent-card.json", headers={"Authorization": f"Bearer {other_key}"})
        assert card.status_code == 403, card.text
        assert "not allowed" in card.json()["error"]["message"]
        call = await h.post(f"{gw.base}/a2a/echo", headers={"Authorization": f"Bearer {other_key}"},
                            json={"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {}})
        assert call.status_code == 403
        # Bad JSON-RPC: clear errors.
        bad = await h.post(f"{gw.base}/a2a/echo", headers={"Authorization": f"Bearer {key}"}, json={"id": 3, "method": "message/send"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == -32600
        bad = await h.post(f"{gw.base}/a2a/echo", headers={"Authorization": f"Bearer {key}"}, content=b"{nope")
        assert bad.status_code == 400 and bad.json()["error"]["code"] == -32700
        bad = await h.post(f"{gw.base}/a2a/echo", headers={"Authorization": f"Bearer {key}"},
                           json={"jsonrpc": "2.0", "id": 4, "method": "no/such"})
        assert bad.status_code == 400 and bad.json()["error"]["code"] == -32601
        # A message that is not an object: the agent's JSON-RPC error, relayed (no crash).
        for junk in ["text", 5, ["a"], None]:
            bad = await h.post(f"{gw.base}/a2a/echo", headers={"Authorization": f"Bearer {key}"},
                               json={"jsonrpc": "2.0", "id": 5, "method": "message/send", "params": {"message": junk}})
            assert bad.json()["error"]["code"] in (-32602, -32600, -32603), bad.text
        unknown = await h.post(f"{gw.base}/a2a/nobody", headers={"Authorization": f"Bearer {key}"},
                               json={"jsonrpc": "2.0", "id": 6, "method": "message/send"})
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == -32000

    seen_before = len(httpx.get(f"{agent}/_seen").json())
    http, card, client = await client_for(gw, key, "echo")
    try:
        # The card is the configured one, its URL the gateway's.
        assert card.name == "Echo Agent" and card.url == f"{gw.base}/a2a/echo"

        # Send.
        res = await client.send_message(SendMessageRequest(id=str(uuid4()), params=message("hello gateway")))
        result = res.model_dump(mode="json", exclude_none=True)["result"]
        assert result["kind"] == "task" and result["status"]["state"] == "completed", result
        assert artifact_text(result) == "echo: hello gateway"

        # Stream: events arrive as the agent sends them (0.3 s apart), not at the end.
        started = time.time()
        arrivals, chunks = [], []
        req = SendStreamingMessageRequest(id=str(uuid4()), params=message("slow one two three"))
        async for chunk in client.send_message_streaming(req):
            arrivals.append(time.time() - started)
            chunks.append(chunk.model_dump(mode="json", exclude_none=True)["result"])
        kinds = [c["kind"] for c in chunks]
        assert kinds[0] == "task" and kinds[-1] == "status-update" and chunks[-1]["status"]["state"] == "completed"
        words = "".join(p["text"] for c in chunks if c["kind"] == "artifact-update" for p in c["artifact"]["parts"])
        assert words == "echo: slow one two three"
        first_artifact = arrivals[kinds.index("artifact-update")]
        assert arrivals[-1] - first_artifact > 1.0, arrivals  # relayed one by one

        # tasks/get and tasks/cancel reach the agent (the task is done: the agent says so).
        task_id = result["id"]
        async with httpx.AsyncClient(timeout=10, headers={"Authorization": f"Bearer {key}"}) as h:
            got = (await h.post(f"{gw.base}/a2a/echo", json={"jsonrpc": "2.0", "id": 5, "method": "tasks/get",
                                                            "params": {"id": task_id}})).json()
            assert got["result"]["id"] == task_id and got["result"]["status"]["state"] == "completed"
            # A2A 1.0's names get 1.0's shapes back (enums, no `kind`) from this 0.3 agent.
            got = (await h.post(f"{gw.base}/a2a/echo", json={"jsonrpc": "2.0", "id": 6, "method": "GetTask",
                                                            "params": {"id": task_id}})).json()
            assert got["result"]["id"] == task_id and got["result"]["status"]["state"] == "TASK_STATE_COMPLETED"
            assert "kind" not in got["result"], got
            got = (await h.post(f"{gw.base}/a2a/echo", json={"jsonrpc": "2.0", "id": 6, "method": "GetTask",
                                                            "params": {"name": f"tasks/{task_id}"}})).json()
            assert got["result"]["id"] == task_id
            cancelled = (await h.post(f"{gw.base}/a2a/echo", json={"jsonrpc": "2.0", "id": 7, "method": "tasks/cancel",
                                                                  "params": {"id": task_id}})).json()
            assert cancelled["error"]["code"] == -32002, cancelled  # TaskNotCancelableError
            # A2A 1.0's method name and message shape.
            v1 = (await h.post(f"{gw.base}/a2a/echo", json={"jsonrpc": "2.0", "id": 8, "method": "SendMessage",
                  "params": {"message": {"role": "ROLE_USER", "messageId": uuid4().hex, "parts": [{"text": "one"}]}}})).json()
            task = v1["result"]["task"]
            assert artifact_text(task) == "echo: one", v1
            assert task["status"]["state"] == "TASK_STATE_COMPLETED" and "kind" not in task
            assert all("kind" not in p for a in task["artifacts"] for p in a["parts"])
            assert {m["role"] for m in task.get("history", [])} <= {"ROLE_USER", "ROLE_AGENT"}
            # SendStreamingMessage: 1.0's StreamResponse oneof per event, no `final`.
            events = []
            async with h.stream("POST", f"{gw.base}/a2a/echo", json={"jsonrpc": "2.0", "id": 9,
                                "method": "SendStreamingMessage", "params": {"message": {
                                    "role": "ROLE_USER", "messageId": uuid4().hex, "parts": [{"text": "two words"}]}}}) as r:
                async for line in r.aiter_lines():
                    if line.startswith("data: "):
                        events.append(json.loads(line[6:])["result"])
            assert list(events[0]) == ["task"] and list(events[-1]) == ["statusUpdate"], events
            assert events[-1]["statusUpdate"]["status"]["state"] == "TASK_STATE_COMPLETED"
            assert "final" not in events[-1]["statusUpdate"]
            words = "".join(p["text"] for e in events if "artifactUpdate" in e for p in e["artifactUpdate"]["artifact"]["parts"])
            assert words == "echo: two words"
            cancelled = (await h.post(f"{gw.base}/a2a/echo", json={"jsonrpc": "2.0", "id": 10, "method": "CancelTask",
                                                                  "params": {"id": task_id}})).json()
            assert cancelled["error"]["code"] == -32002, cancelled
    finally:
        await http.aclose()

    # What the agent received: its own key, never the gateway's; LiteLLM's headers.
    seen = httpx.get(f"{agent}/_seen").json()[seen_before:]
    assert len(seen) >= 5
    assert any(h.get("x-tenant") == "acme" for h in seen)  # a header the agent asked for
    for h in seen:
        assert h["authorization"] == f"Bearer {AGENT_KEY}"
        assert key not in str(h) and MASTER not in str(h)
        assert len(h["x-litellm-agent-id"]) == 64 and h["x-litellm-trace-id"]

    # An agent that is down, or slower than its timeout: a clear error, quickly.
    for name, wait in [("down", 5), ("slow", 4)]:
        http, card, client = await client_for(gw, key, name)
        try:
            started = time.time()
            with pytest.raises(A2AClientHTTPError) as e:
                await client.send_message(SendMessageRequest(id=str(uuid4()), params=message("sleep please")))
            assert e.value.status_code == 502 and time.time() - started < wait
            async with httpx.AsyncClient(timeout=10, headers={"Authorization": f"Bearer {key}"}) as h:
                r = await h.post(f"{gw.base}/a2a/{name}", json={"jsonrpc": "2.0", "id": 9, "method": "message/send",
                                                               "params": message("sleep").model_dump(mode="json")})
                assert r.status_code == 502 and "unreachable" in r.json()["error"]["message"]
                events = []
                async with h.stream("POST", f"{gw.base}/a2a/{name}", json={"jsonrpc": "2.0", "id": 10, "method": "message/stream",
                                    "params": message("sleep").model_dump(mode="json")}) as s:
                    async for line in s.aiter_lines():
                        if line.startswith("data:"):
                            events.append(line)
                assert len(events) == 1 and "unreachable" in events[0]
        finally:
            await http.aclose()

    # Each send and stream is in the spend logs, charged the agent's cost per query.
    deadline = time.time() + 10
    while True:
        async with httpx.AsyncClient(timeout=10) as h:
            logs = (await h.get(f"{gw.base}/spend/logs?api_key={token}", headers={"Authorization": f"Bearer {MASTER}"})).json()
        ok = [row for row in logs if row["model_group"] == "a2a_agent/Echo Agent" and row["status"] == "success"]
        if len(ok) >= 4 or time.time() > deadline:
            break
        await asyncio.sleep(0.3)
    types = sorted(row["call_type"] for row in ok)
    assert types == ["asend_message", "asend_message", "asend_message_streaming", "asend_message_streaming"], logs
    assert all(abs(row["spend"] - 0.01) < 1e-9 for row in ok)
    # LiteLLM's `agent_id` column: the agent's id (sha256 of its name when the config has none).
    assert all(row["agent_id"] == hashlib.sha256(b"echo").hexdigest() for row in ok), ok
    assert all(row["prompt_tokens"] > 0 and row["completion_tokens"] > 0 for row in ok), ok
    refused = [row for row in logs if row["model_group"] == "a2a_agent/Echo Agent" and row["status"] == "failure"]
    assert len(refused) == 4 and all(row["spend"] == 0 for row in refused)  # the junk messages
    failed = [row for row in logs if row["model_group"] in ("a2a_agent/Down Agent", "a2a_agent/Slow Agent")]
    assert failed and all(row["status"] == "failure" for row in failed)
    assert all(row["spend"] == 0 for row in failed)  # a query that was not answered costs nothing
    async with httpx.AsyncClient(timeout=10) as h:
        info = (await h.get(f"{gw.base}/key/info?key={key}", headers={"Authorization": f"Bearer {MASTER}"})).json()
    assert abs(info["info"]["spend"] - 0.04) < 1e-9


def test_team_agent_permissions_inherit_and_intersect(agent, tmp_path, database):
    env, _ = database
    gw = Gateway(tmp_path, config(agent), env={"AGENT_KEY": f"Bearer {AGENT_KEY}", **env}).wait_ready()
    try:
        status, team = admin(gw, "POST", "/team/new", {"team_alias": "t", "object_permission": {"agents": ["other", "slow"]}})
        assert status == 200, team
        tid = team["team_id"]
        status, info = admin(gw, "GET", f"/team/info?team_id={tid}")
        assert info["team_info"]["object_permission"]["agents"] == ["other", "slow"]
        _, inherits = admin(gw, "POST", "/key/generate", {"team_id": tid})
        _, narrows = admin(gw, "POST", "/key/generate", {"team_id": tid, "object_permission": {"agents": ["echo", "other"]}})
        _, info = admin(gw, "GET", f"/key/info?key={narrows['key']}")
        assert info["info"]["object_permission"]["agents"] == ["echo", "other"]

        def names(key):
            r = httpx.get(f"{gw.base}/v1/agents", headers={"Authorization": f"Bearer {key}"})
            assert r.status_code == 200, r.text
            return sorted(a["agent_name"] for a in r.json())

        assert names(inherits["key"]) == ["other", "slow"]  # no list of its own: the team's
        assert names(narrows["key"]) == ["other"]  # both lists: their intersection
        r = httpx.post(f"{gw.base}/a2a/echo", headers={"Authorization": f"Bearer {narrows['key']}"},
                       json={"jsonrpc": "2.0", "id": 1, "method": "message/send",
                             "params": message("hi").model_dump(mode="json")})
        assert r.status_code == 403, r.text
        # Widening the team's list (update) reaches the key.
        status, _ = admin(gw, "POST", "/team/update", {"team_id": tid, "object_permission": {"agents": ["echo", "other"]}})
        assert status == 200
        assert names(narrows["key"]) == ["echo", "other"]
        r = httpx.post(f"{gw.base}/a2a/echo", headers={"Authorization": f"Bearer {narrows['key']}"},
                       json={"jsonrpc": "2.0", "id": 2, "method": "message/send",
                             "params": message("hi").model_dump(mode="json")}, timeout=10)
        assert r.status_code == 200 and artifact_text(r.json()["result"]) == "echo: hi"
        # An organization's grant: the set for its keys without one, a cap on those with one,
        # and it reaches keys of its teams too.
        status, org = admin(gw, "POST", "/organization/new", {
            "organization_alias": "agents-org", "object_permission": {"agents": ["echo", "slow"]}})
        assert status == 200, org
        oid = org["organization_id"]
        _, in_org = admin(gw, "POST", "/key/generate", {"organization_id": oid})
        _, capped = admin(gw, "POST", "/key/generate", {"organization_id": oid,
                                                        "object_permission": {"agents": ["echo", "other"]}})
        assert names(in_org["key"]) == ["echo", "slow"]
        assert names(capped["key"]) == ["echo"]
        r = httpx.post(f"{gw.base}/a2a/other", headers={"Authorization": f"Bearer {capped['key']}"},
                       json={"jsonrpc": "2.0", "id": 3, "method": "message/send",
                             "params": message("hi").model_dump(mode="json")})
        assert r.status_code == 403, r.text
        status, org_team = admin(gw, "POST", "/team/new", {"team_alias": "ot", "organization_id": oid})
        assert status == 200, org_team
        _, via_team = admin(gw, "POST", "/key/generate", {"team_id": org_team["team_id"]})
        assert names(via_team["key"]) == ["echo", "slow"]
        # A permission list of something llmgate does not serve is refused, not stored.
        status, err = admin(gw, "POST", "/key/generate", {"object_permission": {"search_tools": ["web"]}})
        assert status == 400 and "search_tools" in err["error"]["message"]
    except BaseException:
        print(gw.log_path.read_text())
        raise
    finally:
        gw.stop()


def test_agents_registered_through_the_admin_api(agent, tmp_path, database):
    env, _ = database
    env = {"AGENT_KEY": f"Bearer {AGENT_KEY}", **env}
    gw = Gateway(tmp_path, f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 1\n", env=env).wait_ready()
    body = {"agent_name": "stored-echo",
            "agent_card_params": {"name": "Stored Echo", "description": "echoes", "url": agent + "/", "version": "1.0.0",
                                  "defaultInputModes": ["text"], "defaultOutputModes": ["text"],
                                  "capabilities": {"streaming": True}, "skills": []},
            "static_headers": {"Authorization": f"Bearer {AGENT_KEY}"},
            "litellm_params": {"cost_per_query": 0.5, "api_key": "sk-secret-of-agent"}}
    try:
        status, created = admin(gw, "POST", "/v1/agents", body)
        assert status == 200, created
        agent_id = created["agent_id"]
        assert created["agent_name"] == "stored-echo" and created["created_at"]
        assert created["litellm_params"]["api_key"] != "sk-secret-of-agent"  # redacted
        assert "static_headers" not in created
        # Same name again, a card without a URL, a non-admin: refused.
        assert admin(gw, "POST", "/v1/agents", body)[0] == 400
        bad = {**body, "agent_name": "x", "agent_card_params": {"name": "x"}}
        status, err = admin(gw, "POST", "/v1/agents", bad)
        assert status == 400 and "url" in err["error"]["message"]
        _, k = admin(gw, "POST", "/key/generate", {"object_permission": {"agents": ["stored-echo"]}})
        assert admin(gw, "POST", "/v1/agents", {**body, "agent_name": "y"}, key=k["key"])[0] == 401
        # Served at once, by id and by name, and callable with the SDK.
        status, one = admin(gw, "GET", f"/v1/agents/{agent_id}", key=k["key"])
        assert status == 200 and one["agent_card_params"]["name"] == "Stored Echo"

        async def call(name):
            http, card, client = await client_for(gw, k["key"], name)
            try:
                assert card.url == f"{gw.base}/a2a/{name}"
                res = await client.send_message(SendMessageRequest(id=str(uuid4()), params=message("stored hi")))
                return artifact_text(res.model_dump(mode="json", exclude_none=True)["result"])
            finally:
                await http.aclose()

        assert asyncio.run(call("stored-echo")) == "echo: stored hi"
        assert asyncio.run(call(agent_id)) == "echo: stored hi"
        # PATCH changes one field; the agent keeps working.
        status, patched = admin(gw, "PATCH", f"/v1/agents/{agent_id}", {"litellm_params": {"cost_per_query": 0.25}})
        assert status == 200 and patched["litellm_params"] == {"cost_per_query": 0.25}
    except BaseException:
        print(gw.log_path.read_text())
        raise
    finally:
        gw.stop()
    # A restart serves it from the table.
    gw = Gateway(tmp_path, f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 1\n", env=env).wait_ready()
    try:
        assert asyncio.run(call("stored-echo")) == "echo: stored hi"
        deadline = time.time() + 10
        while True:
            status, logs = admin(gw, "GET", f"/spend/logs?api_key={k['token']}")
            assert status == 200
            spent = sorted(row["spend"] for row in logs if row["call_type"] == "asend_message")
            if len(spent) >= 3 or time.time() > deadline:
                break
            time.sleep(0.3)
        assert spent == [0.25, 0.5, 0.5]
        status, gone = admin(gw, "DELETE", f"/v1/agents/{agent_id}")
        assert status == 200 and "deleted" in gone["message"]
        assert admin(gw, "GET", f"/v1/agents/{agent_id}")[0] == 404
        assert admin(gw, "DELETE", f"/v1/agents/{agent_id}")[0] == 404
        r = httpx.post(f"{gw.base}/a2a/stored-echo", headers={"Authorization": f"Bearer {MASTER}"},
                       json={"jsonrpc": "2.0", "id": 1, "method": "message/send", "params": {}})
        assert r.status_code == 404
    except BaseException:
        print(gw.log_path.read_text())
        raise
    finally:
        gw.stop()


def test_usage_the_agent_reports_is_charged(mock, tmp_path):
    """An agent that reports its usage (the mock's A2A agent, as LiteLLM's own A2A answers carry
    `usage`) is charged by it at the agent's per-token prices; one that does not, by the text."""
    cfg = f"""
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 1
agent_list:
  - agent_name: metered
    agent_card_params: {{name: Metered, url: "{mock.base}/a2a-agent"}}
    static_headers: {{Authorization: Bearer a2a-agent-key}}
    litellm_params: {{input_cost_per_token: 0.001, output_cost_per_token: 0.002}}
"""
    gw = Gateway(tmp_path, cfg, env={"LLMGATE_DB_PATH": str(tmp_path / "k.db")}).wait_ready()
    try:
        _, k = admin(gw, "POST", "/key/generate", {})
        for text in ["report usage please", "plain words"]:
            r = httpx.post(f"{gw.base}/a2a/metered", headers={"Authorization": f"Bearer {k['key']}"}, timeout=10,
                           json={"jsonrpc": "2.0", "id": 1, "method": "message/send",
                                 "params": message(text).model_dump(mode="json")})
            assert r.status_code == 200 and r.json()["result"]["status"]["state"] == "completed", r.text
        deadline = time.time() + 10
        while True:
            _, logs = admin(gw, "GET", f"/spend/logs?api_key={k['token']}")
            if len(logs) >= 2 or time.time() > deadline:
                break
            time.sleep(0.3)
        reported = [row for row in logs if row["prompt_tokens"] == 11]
        assert len(reported) == 1 and reported[0]["completion_tokens"] == 7, logs
        assert abs(reported[0]["spend"] - (11 * 0.001 + 7 * 0.002)) < 1e-9
        counted = [row for row in logs if row is not reported[0]]
        assert counted[0]["prompt_tokens"] > 0 and counted[0]["spend"] > 0
    except BaseException:
        print(gw.log_path.read_text())
        raise
    finally:
        gw.stop()


def test_a_0_3_client_reaches_an_a2a_1_0_agent(tmp_path):
    """An agent whose card says A2A 1.0 (`a2a_v1_agent.py`, which refuses 0.3's names and
    shapes): the installed SDK's 0.3 client sends `message/send` and `message/stream` through
    the gateway, which calls the agent with 1.0's names (`A2A-Version: 1.0`) and gives the
    client 0.3's shapes back (`kind`, lower-case states, `final` on the last event)."""
    port = free_port()
    proc = subprocess.Popen([sys.executable, str(Path(__file__).with_name("a2a_v1_agent.py")),
                             "--port", str(port)])
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 20
    while True:
        try:
            urllib.request.urlopen(f"{base}/.well-known/agent-card.json", timeout=1)
            break
        except OSError:
            if time.time() > deadline or proc.poll() is not None:
                proc.kill()
                raise RuntimeError("the 1.0 agent did not start")
            time.sleep(0.1)
    cfg = f"""
general_settings:
  master_key: {MASTER}
agent_list:
  - agent_name: v1
    agent_card_params:
      protocolVersion: "1.0"
      name: V1 Agent
      description: echoes, in A2A 1.0
      supportedInterfaces: [{{url: "{base}/", protocolBinding: JSONRPC, protocolVersion: "1.0"}}]
      version: 1.0.0
      capabilities: {{streaming: true}}
      defaultInputModes: [text]
      defaultOutputModes: [text]
      skills: [{{id: echo, name: Echo, description: echoes, tags: [echo]}}]
"""
    gw = Gateway(tmp_path, cfg).wait_ready()

    async def go():
        http, card, client = await client_for(gw, MASTER, "v1")
        try:
            assert card.url == f"{gw.base}/a2a/v1"
            res = await client.send_message(SendMessageRequest(id=str(uuid4()), params=message("hi there")))
            result = res.model_dump(mode="json", exclude_none=True)["result"]
            assert result["kind"] == "task" and result["status"]["state"] == "completed", result
            assert artifact_text(result) == "v1 echo: hi there"
            assert result["artifacts"][0]["parts"][0]["kind"] == "text"
            assert result["history"][0]["role"] == "user"
            chunks = []
            req = SendStreamingMessageRequest(id=str(uuid4()), params=message("streamed"))
            async for chunk in client.send_message_streaming(req):
                chunks.append(chunk.model_dump(mode="json", exclude_none=True)["result"])
            assert [c["kind"] for c in chunks] == ["task", "artifact-update", "status-update"], chunks
            assert chunks[-1]["final"] is True and chunks[-1]["status"]["state"] == "completed"
            assert chunks[1]["artifact"]["parts"][0]["text"] == "v1 echo: streamed"
            async with httpx.AsyncClient(timeout=10, headers={"Authorization": f"Bearer {MASTER}"}) as h:
                got = (await h.post(f"{gw.base}/a2a/v1", json={"jsonrpc": "2.0", "id": 3, "method": "tasks/get",
                                                              "params": {"id": result["id"]}})).json()
                assert got["result"]["kind"] == "task" and got["result"]["status"]["state"] == "completed", got
                # A 1.0 client talks to it as it is.
                v1 = (await h.post(f"{gw.base}/a2a/v1", json={"jsonrpc": "2.0", "id": 4, "method": "SendMessage",
                      "params": {"message": {"role": "ROLE_USER", "messageId": "m", "parts": [{"text": "x"}]}}})).json()
                assert v1["result"]["task"]["status"]["state"] == "TASK_STATE_COMPLETED", v1
                seen = (await h.get(f"{base}/_seen")).json()
            assert [s["method"] for s in seen] == ["SendMessage", "SendStreamingMessage", "GetTask", "SendMessage"]
            assert all(s["a2a-version"] == "1.0" for s in seen)
        finally:
            await http.aclose()

    try:
        asyncio.run(go())
    except BaseException:
        print(gw.log_path.read_text())
        raise
    finally:
        gw.stop()
        proc.kill()
        proc.wait()
