"""MCP servers kept in the database through LiteLLM's `/v1/mcp/server` admin routes
(`LiteLLM_MCPServerTable`): served at once by the instance that stored them and, on the same
PostgreSQL database, by another instance within a measured bound (PostgreSQL NOTIFY, the timer
set far off so it cannot be what delivers the change); credentials stored encrypted with
LITELLM_SALT_KEY as LiteLLM encrypts them (checked with PyNaCl); keys see only the servers
they are granted, without URLs or headers; organization grants and `blocked_tools` apply;
toolsets (`/v1/mcp/toolset`) reach the other instance within the same bound."""
import base64
import hashlib
import json
import sqlite3
import subprocess
import time
import urllib.request
import uuid

import nacl.secret
import pytest

from conftest import MASTER, Gateway
from test_mcp import MCP_TIMEOUT_S, PG, WEB_TOKEN, new_key, run, session_do, text, tool_names, upstream

SALT = "sk-e2e-mcp-salt-0123456789abcdef"
# How soon another instance must serve a change (the timer is 60 s: only NOTIFY is this fast).
FLEET_BOUND_S = 1.0


def call(gw, method, path, body=None, key=MASTER):
    req = urllib.request.Request(
        f"{gw.base}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            raw = r.read()
            return r.status, json.loads(raw) if raw else None
    except urllib.error.HTTPError as e:
        raw = e.read()
        return e.code, json.loads(raw) if raw else None


def config(static_port):
    return f"""
mcp_servers:
  static:
    url: http://127.0.0.1:{static_port}/mcp
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 1
"""


def nacl_decrypt(value: str) -> str:
    box = nacl.secret.SecretBox(hashlib.sha256(SALT.encode()).digest())
    return box.decrypt(base64.urlsafe_b64decode(value)).decode()


def rest_tools(gw, server, key=MASTER):
    status, body = call(gw, "GET", f"/mcp-rest/tools/list?server_id={server}", key=key)
    assert status == 200, body
    return sorted(t["name"] for t in body["tools"])


def visible(gw, server, key):
    """The server's tools for `key`, None when the key is refused it (403)."""
    status, body = call(gw, "GET", f"/mcp-rest/tools/list?server_id={server}", key=key)
    if status == 403:
        return None
    assert status == 200, body
    return sorted(t["name"] for t in body["tools"])


def wait_until(cond, bound, what):
    start = time.time()
    while not cond():
        assert time.time() - start < bound, f"{what} not seen within {bound}s"
        time.sleep(0.02)
    return time.time() - start


@pytest.fixture(scope="module")
def upstreams():
    web, web_port = upstream("web", "http")
    static, static_port = upstream("static", "http")
    yield web_port, static_port
    for p in (web, static):
        p.kill()
        p.wait()


@pytest.fixture
def pg_pair(tmp_path, upstreams):
    """Two instances on one fresh PostgreSQL database (no Redis: invalidations by NOTIFY)."""
    _, static_port = upstreams
    name = f"llmgate_e2e_mcpdb_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    env = {"DATABASE_URL": f"{PG}/{name}", "LITELLM_SALT_KEY": SALT,
           "LLMGATE_MODEL_REFRESH_SECONDS": "60", "LLMGATE_MCP_TIMEOUT_SECONDS": str(MCP_TIMEOUT_S)}
    gws = []
    for sub in ("a", "b"):
        d = tmp_path / sub
        d.mkdir()
        gws.append(Gateway(d, config(static_port), env=env).wait_ready())
    yield gws[0], gws[1], f"{PG}/{name}"
    for g in gws:
        g.stop()
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"],
                   check=False)


def web_server(web_port, **extra):
    return {"server_name": "dbweb", "url": f"http://127.0.0.1:{web_port}/mcp", "transport": "http",
            "auth_type": "bearer_token", "credentials": {"auth_value": WEB_TOKEN},
            "description": "stored", "mcp_access_groups": ["db-group"], **extra}


def test_stored_servers_serve_at_once_here_and_on_another_instance(pg_pair, upstreams):
    a, b, pg_url = pg_pair
    web_port, _ = upstreams
    status, created = call(a, "POST", "/v1/mcp/server", web_server(web_port))
    assert status == 201, created
    sid = created["server_id"]
    assert created["credentials"] is None and created["server_name"] == "dbweb"
    # The creating instance serves it at once, under `<server_name>-<tool>`.
    assert "add" in rest_tools(a, "dbweb")
    # The other instance within the bound (the timer is 60 s away).
    took = wait_until(lambda: "add" in rest_tools(b, "dbweb"), FLEET_BOUND_S, "the stored server on B")
    print(f"create seen by the other instance after {took * 1000:.0f} ms")

    # Through the MCP protocol too, with the stored (decrypted) credential sent upstream.
    async def go(s):
        names = await tool_names(s)
        added = await s.call_tool("dbweb-add", {"a": 1, "b": 2})
        auth = await s.call_tool("dbweb-header", {"header_name": "authorization"})
        return names, added, auth
    names, added, auth = run(session_do(b, MASTER, go))
    assert "dbweb-add" in names and "static-add" in names
    assert text(added) == "3" and text(auth) == f"Bearer {WEB_TOKEN}"

    # Stored as LiteLLM stores it: the secret encrypted with the salt key.
    out = subprocess.run(["psql", pg_url, "-tAc",
                          f"SELECT credentials FROM \"LiteLLM_MCPServerTable\" WHERE server_id = '{sid}'"],
                         check=True, capture_output=True, text=True)
    stored = json.loads(out.stdout)
    assert stored["auth_value"] != WEB_TOKEN and nacl_decrypt(stored["auth_value"]) == WEB_TOKEN

    # An update (a tool filter) reaches the other instance within the bound.
    status, updated = call(a, "PUT", "/v1/mcp/server", {"server_id": sid, "allowed_tools": ["echo"]})
    assert status == 202, updated
    assert rest_tools(a, "dbweb") == ["echo"]
    took = wait_until(lambda: rest_tools(b, "dbweb") == ["echo"], FLEET_BOUND_S, "the update on B")
    print(f"update seen by the other instance after {took * 1000:.0f} ms")
    # The credential survived an update that did not name it.
    _, auth_after = call(a, "POST", "/mcp-rest/tools/call",
                         {"name": "dbweb-header", "arguments": {"header_name": "authorization"}})
    # `header` is filtered out now: refused by name.
    assert _ == 403, auth_after

    # Read back: listed with the config's server, one with a health check.
    status, listed = call(b, "GET", "/v1/mcp/server")
    assert status == 200
    by_name = {s["server_name"]: s for s in listed}
    assert {"static", "dbweb"} <= set(by_name) and by_name["dbweb"]["credentials"] is None
    status, one = call(b, "GET", f"/v1/mcp/server/{sid}")
    assert status == 200 and one["status"] == "healthy" and one["allowed_tools"] == ["echo"]

    # Delete: gone here at once and on the other instance within the bound.
    status, _ = call(a, "DELETE", f"/v1/mcp/server/{sid}")
    assert status == 202
    assert call(a, "GET", f"/v1/mcp/server/{sid}")[0] == 404
    took = wait_until(lambda: call(b, "GET", "/mcp-rest/tools/list?server_id=dbweb")[1]["error"]
                      == "server_not_found", FLEET_BOUND_S, "the delete on B")
    print(f"delete seen by the other instance after {took * 1000:.0f} ms")
    assert call(a, "DELETE", f"/v1/mcp/server/{sid}")[0] == 404


def test_stored_servers_survive_a_restart_and_bad_bodies_are_400(tmp_path, upstreams):
    """SQLite this time: the table is made by the migration, rows served after a restart."""
    web_port, static_port = upstreams
    env = {"LLMGATE_DB_PATH": str(tmp_path / "keys.db"), "LITELLM_SALT_KEY": SALT}
    gw = Gateway(tmp_path, config(static_port), env=env).wait_ready()
    try:
        for body, needle in [
            ({"url": f"http://127.0.0.1:{web_port}/mcp"}, "server_name"),
            (web_server(web_port, server_name="bad-name"), "letters, digits"),
            (web_server(web_port, server_name="static"), "already exists"),
            (web_server(web_port, auth_type="oauth2"), "oauth2"),
            (web_server(web_port, spec_path="/openapi.json"), "spec_path"),
            (web_server(web_port, url="ftp://x"), "http(s)"),
            (web_server(web_port, server_id="all-proxy-mcpservers"), "special"),
        ]:
            status, err = call(gw, "POST", "/v1/mcp/server", body)
            assert status == 400 and needle in json.dumps(err), (body, err)
        user = new_key(gw)
        status, err = call(gw, "POST", "/v1/mcp/server", web_server(web_port), key=user)
        assert status in (401, 403), err
        status, created = call(gw, "POST", "/v1/mcp/server", web_server(web_port, server_id="fixed-id"))
        assert status == 201 and created["server_id"] == "fixed-id"
        status, err = call(gw, "POST", "/v1/mcp/server", web_server(web_port, server_id="fixed-id",
                                                                     server_name="other"))
        assert status == 400 and "already exists" in json.dumps(err)
        assert call(gw, "PUT", "/v1/mcp/server", {"server_id": "nope", "description": "x"})[0] == 404
    finally:
        gw.stop()
    with sqlite3.connect(tmp_path / "keys.db") as db:
        (creds,) = db.execute('SELECT credentials FROM "LiteLLM_MCPServerTable"').fetchone()
    assert nacl_decrypt(json.loads(creds)["auth_value"]) == WEB_TOKEN
    gw = Gateway(tmp_path, config(static_port), env=env).wait_ready()
    try:
        assert "add" in rest_tools(gw, "dbweb")
    finally:
        gw.stop()


def test_keys_see_only_granted_servers_without_their_secrets(pg_pair, upstreams):
    a, _, _ = pg_pair
    web_port, _ = upstreams
    status, created = call(a, "POST", "/v1/mcp/server", web_server(web_port))
    assert status == 201, created
    sid = created["server_id"]
    # Granted by the stored server's id (as LiteLLM's UI grants them) and by access group.
    by_id = new_key(a, object_permission={"mcp_servers": [sid]})
    by_group = new_key(a, object_permission={"mcp_access_groups": ["db-group"]})
    nothing = new_key(a)
    for key in (by_id, by_group):
        assert "add" in rest_tools(a, "dbweb", key=key)
        status, listed = call(a, "GET", "/v1/mcp/server", key=key)
        assert status == 200 and [s["server_id"] for s in listed] == [sid]
        assert listed[0]["url"] is None and listed[0]["static_headers"] is None
        assert call(a, "GET", f"/v1/mcp/server/{sid}", key=key)[0] == 200
    status, listed = call(a, "GET", "/v1/mcp/server", key=nothing)
    assert status == 200 and listed == []
    assert call(a, "GET", f"/v1/mcp/server/{sid}", key=nothing)[0] == 403
    assert visible(a, "dbweb", nothing) is None

    # An organization's grant: the set of a key that has none, a cap on one that has.
    status, org = call(a, "POST", "/organization/new", {
        "organization_alias": "o1", "object_permission": {"mcp_servers": ["static"]}})
    assert status == 200, org
    oid = org["organization_id"]
    assert org["object_permission"]["mcp_servers"] == ["static"]
    in_org = new_key(a, organization_id=oid)
    assert "add" in rest_tools(a, "static", key=in_org)
    assert visible(a, "dbweb", in_org) is None
    capped = new_key(a, organization_id=oid, object_permission={"mcp_servers": [sid, "static"]})
    assert visible(a, "dbweb", capped) is None and "add" in rest_tools(a, "static", key=capped)

    # `blocked_tools`: hidden from listings and refused by name.
    blocked = new_key(a, object_permission={"mcp_servers": [sid], "blocked_tools": ["dbweb-add", "echo"]})
    tools = rest_tools(a, "dbweb", key=blocked)
    assert "add" not in tools and "echo" not in tools and "header" in tools
    status, err = call(a, "POST", "/mcp-rest/tools/call",
                       {"name": "dbweb-add", "arguments": {"a": 1, "b": 1}}, key=blocked)
    assert status == 403, err
    status, info = call(a, "GET", f"/key/info?key={blocked}")
    assert info["info"]["object_permission"]["blocked_tools"] == ["dbweb-add", "echo"]


def test_a_toolset_change_reaches_another_instance(pg_pair):
    """`/v1/mcp/toolset` on one instance: the toolset served at once there and within the
    fleet bound on the other (NOTIFY; the timer is 60 s away) — create, update, delete."""
    a, b, _ = pg_pair
    name = f"ts{uuid.uuid4().hex[:8]}"
    status, ts = call(a, "POST", "/v1/mcp/toolset",
                      {"toolset_name": name, "tools": [{"server_id": "static", "tool_name": "add"}]})
    assert status == 201, ts
    # A toolset's name serves as `/mcp/{name}` does, so the REST listing reaches it by name.
    assert rest_tools(a, name) == ["add"]
    took = wait_until(lambda: rest_tools(b, name) == ["add"], FLEET_BOUND_S, "the toolset on B")
    print(f"toolset create seen by the other instance after {took * 1000:.0f} ms")
    key = new_key(a, object_permission={"mcp_toolsets": [ts["toolset_id"]]})
    assert rest_tools(b, "static", key=key) == ["add"]

    status, _ = call(a, "PUT", "/v1/mcp/toolset", {"toolset_id": ts["toolset_id"], "tools": [
        {"server_id": "static", "tool_name": "add"}, {"server_id": "static", "tool_name": "echo"}]})
    assert status == 200
    assert rest_tools(a, "static", key=key) == ["add", "echo"]
    took = wait_until(lambda: rest_tools(b, "static", key=key) == ["add", "echo"], FLEET_BOUND_S,
                      "the toolset update on B")
    print(f"toolset update seen by the other instance after {took * 1000:.0f} ms")

    assert call(a, "DELETE", f"/v1/mcp/toolset/{ts['toolset_id']}")[0] == 202
    assert visible(a, "static", key) is None
    took = wait_until(lambda: visible(b, "static", key) is None, FLEET_BOUND_S, "the toolset delete on B")
    print(f"toolset delete seen by the other instance after {took * 1000:.0f} ms")
