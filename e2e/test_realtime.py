"""`/v1/realtime` (and `/realtime`): the Realtime API's WebSocket proxied to OpenAI, Azure and xAI,
through the llmgate binary with the official `openai` client (its beta and GA realtime
connections) and a raw `websockets` client, on PostgreSQL: session events relayed both ways
(text and binary), the gateway's upstream credentials sent instead of the client's key, one
`_arealtime` spend row per session with the summed `response.done` usage and its cost at the
catalog's text and audio prices; refusals (bad key, model not allowed, unknown model, spent
budget, upstream failure) answered as HTTP errors before any upgrade."""
import hashlib
import json
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import openai
import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from conftest import MASTER, Gateway
from test_virtual_keys import PG, admin

# What the mock's every `response.done` reports (crates/llmgate-mock/src/realtime.rs).
USAGE_IN, USAGE_OUT = 120, 45
TEXT = "Hello from the realtime mock"


def per_response(p):
    """One mock response at prices `p`: 80 text tokens in (16 cached), 40 audio in, 15 text
    out, 30 audio out."""
    return (64 * p["in"] + 16 * p["cache_read"] + 40 * p["audio_in"]
            + 15 * p["out"] + 30 * p["audio_out"])


# The catalog's rows (LiteLLM's map): `gpt-realtime` and `azure/gpt-realtime-2025-08-28`.
OPENAI_PRICES = {"in": 4e-6, "out": 1.6e-5, "cache_read": 4e-7, "audio_in": 3.2e-5, "audio_out": 6.4e-5}
AZURE_PRICES = OPENAI_PRICES


def psql(url, sql):
    return subprocess.run(["psql", url, "-tAc", sql], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def db():
    name = f"llmgate_realtime_{uuid.uuid4().hex[:12]}"
    psql(f"{PG}/postgres", f"CREATE DATABASE {name}")
    yield f"{PG}/{name}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


@pytest.fixture(scope="module")
def gw(mock, db, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("realtime")
    cfg = f"""
model_list:
  - model_name: rt
    litellm_params: {{model: openai/gpt-realtime, api_base: {mock.base}, api_key: sk-up}}
  - model_name: rt-azure
    litellm_params: {{model: azure/my-realtime, api_base: {mock.base}, api_key: az-key, api_version: "2024-10-01-preview"}}
    model_info: {{base_model: azure/gpt-realtime-2025-08-28}}
  - model_name: rt-azure-ga
    litellm_params: {{model: azure/my-realtime-ga, api_base: {mock.base}, api_key: az-key, realtime_protocol: GA}}
    model_info: {{base_model: azure/gpt-realtime-2025-08-28}}
  - model_name: rt-priced
    litellm_params: {{model: openai/gpt-realtime, api_base: {mock.base}, api_key: sk-up,
                      input_cost_per_audio_token: 0.001, output_cost_per_audio_token: 0.002}}
  - model_name: rt-hangup
    litellm_params: {{model: openai/mock-hangup, api_base: {mock.base}, api_key: sk-up}}
  - model_name: rt-broken
    litellm_params: {{model: openai/mock-error-401, api_base: {mock.base}/v1, api_key: sk-up}}
  - model_name: chat
    litellm_params: {{model: openai/gpt-4o, api_base: {mock.base}/v1, api_key: sk-up}}
  - model_name: rt-xai
    litellm_params: {{model: xai/grok-4, api_base: {mock.base}/v1, api_key: xai-up}}
  - model_name: rt-bedrock
    litellm_params: {{model: bedrock/amazon.nova-sonic-v1:0, aws_access_key_id: AKIA, aws_secret_access_key: s, aws_region_name: us-east-1}}
router_settings:
  num_retries: 0
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 0.2
"""
    g = Gateway(tmp, cfg, env={"DATABASE_URL": db}).wait_ready()
    yield g
    g.stop()


def new_key(gw, **body):
    status, k = admin(gw, "POST", "/key/generate", body)
    assert status == 200, k
    return k["key"]


def ws_url(gw, path="/v1/realtime", model="rt"):
    return f"{gw.base.replace('http://', 'ws://')}{path}?model={model}"


def realtime_requests(mock, part):
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    return [r for r in reqs if part in r["path"]]


def spend_row(db, key, n=1, timeout=15):
    """The key's `_arealtime` spend rows, once `n` are written."""
    token = hashlib.sha256(key.encode()).hexdigest()
    deadline = time.time() + timeout
    rows = []
    while time.time() < deadline:
        out = psql(db, "SELECT call_type, spend, prompt_tokens, completion_tokens, total_tokens, model_group "
                       f"FROM \"LiteLLM_SpendLogs\" WHERE api_key = '{token}'")
        rows = [line.split("|") for line in out.strip().splitlines() if line]
        if len(rows) >= n:
            break
        time.sleep(0.3)
    return rows


def collect_response(conn):
    """Events until `response.done`: (text, audio delta count, the done event)."""
    text, audio = "", 0
    while True:
        ev = conn.recv()
        if ev.type in ("response.text.delta", "response.output_text.delta"):
            text += ev.delta
        elif ev.type in ("response.audio.delta", "response.output_audio.delta"):
            audio += 1
        elif ev.type == "response.done":
            return text, audio, ev
        elif ev.type == "error":
            raise AssertionError(ev)


def test_beta_client_session_is_relayed_and_logged_once(gw, mock, db):
    key = new_key(gw, key_alias="rt-beta")
    # The beta connection always says `wss://` unless told the socket's base (a plain-HTTP proxy).
    client = openai.OpenAI(api_key=key, base_url=f"{gw.base}/v1", max_retries=0,
                           websocket_base_url=ws_url(gw, "/v1", "").split("?")[0])
    with client.beta.realtime.connect(model="rt") as conn:
        ev = conn.recv()
        assert ev.type == "session.created" and ev.session.model == "gpt-realtime"
        conn.session.update(session={"modalities": ["text"], "instructions": "be brief"})
        ev = conn.recv()
        assert ev.type == "session.updated" and ev.session.instructions == "be brief"
        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "hi"}]})
        assert conn.recv().type == "conversation.item.created"
        for _ in range(2):
            conn.response.create()
            text, audio, done = collect_response(conn)
            assert text == TEXT and audio == 2
            assert done.response.usage.input_tokens == USAGE_IN
    # The upstream saw the gateway's key and model, in the beta protocol; never the client's key.
    up = realtime_requests(mock, "/v1/realtime")[-1]
    assert up["headers"]["authorization"] == "Bearer sk-up"
    assert up["headers"]["openai-beta"] == "realtime=v1"
    assert up["query"] == "model=gpt-realtime"
    assert not any(key in v for v in up["headers"].values())
    rows = spend_row(db, key)
    assert len(rows) == 1, rows
    call_type, spend, prompt, completion, total, group = rows[0]
    assert call_type == "_arealtime" and group == "rt"
    assert (int(prompt), int(completion), int(total)) == (2 * USAGE_IN, 2 * USAGE_OUT, 2 * (USAGE_IN + USAGE_OUT))
    assert float(spend) == pytest.approx(2 * per_response(OPENAI_PRICES))
    time.sleep(0.5)
    _, info = admin(gw, "GET", f"/key/info?key={key}")
    assert info["info"]["spend"] == pytest.approx(2 * per_response(OPENAI_PRICES))


@pytest.mark.parametrize("group,path,query", [
    ("rt-azure", "/openai/realtime", "api-version=2024-10-01-preview&deployment=my-realtime"),
    ("rt-azure-ga", "/openai/v1/realtime", "model=my-realtime-ga"),
])
def test_ga_client_to_an_azure_deployment(gw, mock, db, group, path, query):
    key = new_key(gw, key_alias=f"rt-{group}")
    client = openai.OpenAI(api_key=key, base_url=f"{gw.base}/v1", max_retries=0)
    with client.realtime.connect(model=group) as conn:
        ev = conn.recv()
        assert ev.type == "session.created" and ev.session.model == group.replace("rt-azure", "my-realtime")
        conn.response.create()
        text, audio, _ = collect_response(conn)
        assert text == TEXT and audio == 2
    up = [r for r in realtime_requests(mock, path) if r["path"] == path][-1]
    assert up["query"] == query
    assert up["headers"]["api-key"] == "az-key"
    assert "openai-beta" not in up["headers"] and "authorization" not in up["headers"]
    rows = spend_row(db, key)
    assert len(rows) == 1 and rows[0][0] == "_arealtime" and rows[0][5] == group, rows
    assert float(rows[0][1]) == pytest.approx(per_response(AZURE_PRICES))


@pytest.mark.parametrize("path", ["/v1/realtime", "/realtime"])
def test_raw_client_with_the_browser_subprotocol_key(gw, mock, db, path):
    key = new_key(gw, key_alias=f"rt-raw{path.replace('/', '-')}")
    with connect(ws_url(gw, path), subprotocols=["realtime", f"openai-insecure-api-key.{key}",
                                                 "openai-beta.realtime-v1"]) as ws:
        # `realtime` echoed back, as a browser needs one of its subprotocols.
        assert ws.subprotocol == "realtime"
        assert json.loads(ws.recv())["type"] == "session.created"
        # Binary frames go through as binary (the mock echoes them).
        ws.send(b"\x00\x01binary\xff")
        assert ws.recv() == b"\x00\x01binary\xff"
        ws.send(json.dumps({"type": "response.create"}))
        kinds = []
        while not kinds or kinds[-1] != "response.done":
            kinds.append(json.loads(ws.recv())["type"])
        # The browser's `openai-beta.realtime-v1` subprotocol asked for the beta protocol.
        assert kinds.count("response.text.delta") == 3 and "response.audio.delta" in kinds
    up = realtime_requests(mock, "/v1/realtime")[-1]
    assert up["headers"]["authorization"] == "Bearer sk-up"
    assert key not in up["headers"].get("sec-websocket-protocol", "")
    rows = spend_row(db, key)
    assert len(rows) == 1 and int(rows[0][2]) == USAGE_IN, rows


def try_refusal(url, **kw):
    """(status, error body) of a refused upgrade; None when the session opened."""
    try:
        with connect(url, **kw):
            return None
    except InvalidStatus as e:
        return e.response.status_code, json.loads(e.response.body)


def refusal(url, **kw):
    got = try_refusal(url, **kw)
    assert got is not None, "the upgrade was accepted"
    return got


def test_a_bad_key_is_refused_before_the_upgrade(gw, mock):
    before = len(realtime_requests(mock, "/realtime"))
    status, body = refusal(ws_url(gw), additional_headers={"Authorization": "Bearer sk-not-a-key"})
    assert status == 401 and "Authentication Error" in body["error"]["message"]
    status, body = refusal(ws_url(gw), subprotocols=["realtime", "openai-insecure-api-key.sk-nope"])
    assert status == 401
    status, _ = refusal(ws_url(gw))
    assert status == 401
    client = openai.OpenAI(api_key="sk-wrong", base_url=f"{gw.base}/v1", max_retries=0)
    with pytest.raises(Exception) as e:
        with client.realtime.connect(model="rt", max_retries=0):
            pass
    assert "401" in str(e.value)
    assert len(realtime_requests(mock, "/realtime")) == before


def test_a_blocked_key_is_refused(gw):
    key = new_key(gw, key_alias="rt-blocked")
    status, body = admin(gw, "POST", "/key/block", {"key": key})
    assert status == 200, body
    status, body = refusal(ws_url(gw), additional_headers={"Authorization": f"Bearer {key}"})
    assert status == 401 and "blocked" in body["error"]["message"], body


def test_a_model_the_key_may_not_use_is_refused(gw, mock):
    key = new_key(gw, models=["chat"])
    status, body = refusal(ws_url(gw), additional_headers={"api-key": key})
    assert status in (401, 403), body
    assert "rt" in body["error"]["message"]


def test_unknown_and_missing_models_are_bad_requests(gw):
    status, body = refusal(ws_url(gw, model="no-such-model"), additional_headers={"Authorization": f"Bearer {MASTER}"})
    assert status in (400, 404) and "no-such-model" in body["error"]["message"]
    status, body = refusal(ws_url(gw).split("?")[0], additional_headers={"Authorization": f"Bearer {MASTER}"})
    assert status == 400 and "model" in body["error"]["message"]
    # A plain GET is not a session.
    req = urllib.request.Request(f"{gw.base}/v1/realtime?model=rt", headers={"Authorization": f"Bearer {MASTER}"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 400 and "WebSocket" in json.loads(e.value.read())["error"]["message"]


@pytest.mark.parametrize("group,provider", [("rt-bedrock", "bedrock")])
def test_a_provider_without_realtime_is_a_clear_400(gw, group, provider):
    """LiteLLM serves realtime for bedrock and meta too; llmgate does not yet, and says so
    before the upgrade (Gemini and Vertex AI: e2e/test_realtime_gemini.py)."""
    status, body = refusal(ws_url(gw, model=group), additional_headers={"Authorization": f"Bearer {MASTER}"})
    assert status == 400, body
    assert f"served by {provider}" in body["error"]["message"] and "realtime" in body["error"]["message"]


def test_xai_is_openais_protocol_on_its_own_base_without_the_beta_header(gw, mock, db):
    """LiteLLM's `XAIRealtime`: `{base}/v1/realtime?model=`, the key as a bearer, no
    `OpenAI-Beta` even for a beta client."""
    key = new_key(gw, key_alias="rt-xai")
    client = openai.OpenAI(api_key=key, base_url=f"{gw.base}/v1", max_retries=0,
                           websocket_base_url=ws_url(gw, "/v1", "").split("?")[0])
    with client.beta.realtime.connect(model="rt-xai") as conn:
        assert conn.recv().type == "session.created"
        conn.response.create()
        text, _, done = collect_response(conn)
        assert text == TEXT and done.response.usage.input_tokens == USAGE_IN
    up = [r for r in realtime_requests(mock, "/v1/realtime") if "grok" in (r["query"] or "")][-1]
    assert up["query"] == "model=grok-4"
    assert up["headers"]["authorization"] == "Bearer xai-up" and "openai-beta" not in up["headers"]
    assert not any(key in v for v in up["headers"].values())
    rows = spend_row(db, key)
    assert len(rows) == 1 and rows[0][0] == "_arealtime" and rows[0][5] == "rt-xai", rows
    assert (int(rows[0][2]), int(rows[0][3])) == (USAGE_IN, USAGE_OUT)


def test_a_spent_budget_refuses_the_next_session(gw, db):
    key = new_key(gw, max_budget=1e-6)
    with connect(ws_url(gw), additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        assert json.loads(ws.recv())["type"] == "session.created"
        ws.send(json.dumps({"type": "response.create"}))
        while json.loads(ws.recv())["type"] != "response.done":
            pass
    assert len(spend_row(db, key)) == 1
    status, body = refusal(ws_url(gw), additional_headers={"Authorization": f"Bearer {key}"})
    assert status == 400 and body["error"]["type"] == "budget_exceeded"


def test_an_upstream_refusal_is_the_answer_to_the_upgrade(gw, db):
    key = new_key(gw, key_alias="rt-broken")
    status, body = refusal(ws_url(gw, model="rt-broken"), additional_headers={"Authorization": f"Bearer {key}"})
    assert status == 401 and "mock error 401" in body["error"]["message"]
    rows = spend_row(db, key)
    assert len(rows) == 1 and float(rows[0][1]) == 0.0, rows


def test_health_checks_open_the_realtime_socket(gw, mock):
    """A `mode: realtime` deployment (the catalog's mode for gpt-realtime) is checked as LiteLLM
    checks it: its socket opened and a first event read, not a chat call."""
    before = len(realtime_requests(mock, "/v1/realtime"))
    chats = len(realtime_requests(mock, "/chat/completions"))
    status, body = admin(gw, "GET", "/health?model=rt")
    assert status == 200, body
    assert body["healthy_count"] == 1 and body["unhealthy_count"] == 0, body
    assert len(realtime_requests(mock, "/v1/realtime")) == before + 1
    assert len(realtime_requests(mock, "/chat/completions")) == chats
    status, body = admin(gw, "GET", "/health?model=rt-azure")
    assert status == 200 and body["healthy_count"] == 1, body


def test_a_graceful_shutdown_closes_open_sessions_and_settles_them(mock, db, tmp_path):
    """SIGTERM: an open session is closed with 1001 (going away) and its spend row written
    before the process exits."""
    cfg = f"""
model_list:
  - model_name: rt
    litellm_params: {{model: openai/gpt-realtime, api_base: {mock.base}, api_key: sk-up}}
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 30
"""
    g = Gateway(tmp_path, cfg, env={"DATABASE_URL": db}).wait_ready()
    try:
        key = new_key(g, key_alias="rt-shutdown")
        ws = connect(ws_url(g), additional_headers={"Authorization": f"Bearer {key}"})
        assert json.loads(ws.recv())["type"] == "session.created"
        ws.send(json.dumps({"type": "response.create"}))
        while json.loads(ws.recv())["type"] != "response.done":
            pass
        g.proc.terminate()
        with pytest.raises(ConnectionClosed) as e:
            while True:
                ws.recv(timeout=10)
        assert e.value.rcvd is not None and e.value.rcvd.code == 1001
        assert g.proc.wait(timeout=15) == 0
    finally:
        g.stop()
    rows = spend_row(db, key, timeout=5)
    assert len(rows) == 1 and rows[0][0] == "_arealtime" and int(rows[0][2]) == USAGE_IN, rows


def test_an_upstream_close_closes_the_client_with_its_code(gw, db):
    key = new_key(gw, key_alias="rt-hangup")
    with connect(ws_url(gw, model="rt-hangup"), additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        assert json.loads(ws.recv())["type"] == "session.created"
        ws.send(json.dumps({"type": "response.create"}))
        while json.loads(ws.recv())["type"] != "response.done":
            pass
        with pytest.raises(ConnectionClosed) as e:
            ws.recv(timeout=10)
    assert e.value.rcvd is not None and (e.value.rcvd.code, e.value.rcvd.reason) == (1000, "hangup")
    rows = spend_row(db, key)
    assert len(rows) == 1 and int(rows[0][2]) == USAGE_IN and int(rows[0][3]) == USAGE_OUT, rows


def test_a_deployment_sets_its_own_audio_prices(gw, db):
    key = new_key(gw, key_alias="rt-priced")
    with connect(ws_url(gw, model="rt-priced"), additional_headers={"Authorization": f"Bearer {key}"}) as ws:
        assert json.loads(ws.recv())["type"] == "session.created"
        ws.send(json.dumps({"type": "response.create"}))
        while json.loads(ws.recv())["type"] != "response.done":
            pass
    rows = spend_row(db, key)
    assert len(rows) == 1, rows
    prices = {**OPENAI_PRICES, "audio_in": 0.001, "audio_out": 0.002}
    assert float(rows[0][1]) == pytest.approx(per_response(prices))
