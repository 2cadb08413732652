"""`/v1/realtime` to Gemini Live (`gemini/` deployments), through the llmgate binary with the
official `openai` client (beta and GA realtime connections) and a raw `websockets` client, on
PostgreSQL: OpenAI's realtime events translated to Google's `BidiGenerateContent` messages and
back as LiteLLM's `GeminiRealtimeConfig` does (the client's `session.update` as the one
`setup`, text and audio turns as OpenAI response events, `usageMetadata` as `response.done`
usage), the gateway's key in `?key=` and never the client's, one `_arealtime` spend row per
session priced at the catalog's Gemini Live row, and refusals (no upstream key, a key Google
refuses, an unknown model) answered as HTTP errors before the upgrade. Vertex AI Live
(`vertex_ai/` deployments, LiteLLM's `VertexAIRealtimeConfig`) with its token and setup."""
import json
import urllib.request

import openai
import pytest
from websockets.sync.client import connect

from conftest import MASTER, Gateway
from test_realtime import collect_response, db, new_key, refusal, spend_row, ws_url  # noqa: F401
from test_virtual_keys import admin

LIVE_PATH = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent"
VERTEX_PATH = "/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent"
TEXT = "Hello from the gemini live mock"
# What the mock's every turn reports (crates/llmgate-mock/src/gemini_live.rs): 80 text and 40
# audio tokens in, 45 out (text or audio as the setup asked).
USAGE_IN, USAGE_OUT = 120, 45
# The catalog's `gemini/gemini-2.0-flash-live-001` row.
PRICES = {"in": 3.5e-7, "audio_in": 2.1e-6, "out": 1.5e-6, "audio_out": 8.5e-6}
TEXT_TURN = 80 * PRICES["in"] + 40 * PRICES["audio_in"] + 45 * PRICES["out"]
AUDIO_TURN = 80 * PRICES["in"] + 40 * PRICES["audio_in"] + 45 * PRICES["audio_out"]


@pytest.fixture(scope="module")
def gw(mock, db, tmp_path_factory):  # noqa: F811
    tmp = tmp_path_factory.mktemp("realtime_gemini")
    sa = tmp / "sa.json"
    sa.write_text(urllib.request.urlopen(f"{mock.base}/_mock/service_account").read().decode())
    cfg = f"""
model_list:
  - model_name: rt-gemini
    litellm_params: {{model: gemini/gemini-2.0-flash-live-001, api_base: {mock.base}/v1beta, api_key: gm-up}}
  - model_name: rt-gemini-nokey
    litellm_params: {{model: gemini/gemini-2.0-flash-live-001, api_base: {mock.base}}}
  - model_name: rt-gemini-badkey
    litellm_params: {{model: gemini/gemini-2.0-flash-live-001, api_base: {mock.base}, api_key: bad-key}}
  - model_name: rt-vertex
    litellm_params: {{model: vertex_ai/gemini-live-2.5-flash-preview-native-audio-09-2025, api_base: {mock.base},
                      vertex_project: proj-e2e, vertex_location: us-central1, vertex_credentials: {sa}}}
  - model_name: rt-vertex-nocreds
    litellm_params: {{model: vertex_ai/gemini-2.0-flash-live-001, api_base: {mock.base}, vertex_project: proj-e2e}}
router_settings:
  num_retries: 0
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 0.2
"""
    env = {"DATABASE_URL": db, "GEMINI_API_KEY": "", "GOOGLE_API_KEY": "", "GEMINI_API_BASE": "",
           "GOOGLE_APPLICATION_CREDENTIALS": ""}
    g = Gateway(tmp, cfg, env=env).wait_ready()
    yield g
    g.stop()


def live_requests(mock, suffix="", path=LIVE_PATH):
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    return [r for r in reqs if r["path"] == path + suffix]


def test_beta_client_session_update_is_the_setup_and_text_turns_are_openai_events(gw, mock, db):
    key = new_key(gw, key_alias="rt-gemini-beta")
    client = openai.OpenAI(api_key=key, base_url=f"{gw.base}/v1", max_retries=0,
                           websocket_base_url=ws_url(gw, "/v1", "").split("?")[0])
    with client.beta.realtime.connect(model="rt-gemini") as conn:
        ev = conn.recv()
        assert ev.type == "session.created" and ev.session.model == "gemini-2.0-flash-live-001"
        conn.session.update(session={"modalities": ["text"], "instructions": "be brief", "temperature": 0.5})
        ev = conn.recv()
        # Gemini's `setupComplete`, as the session the client configured.
        assert ev.type == "session.updated" and ev.session.instructions == "be brief"
        assert ev.session.modalities == ["text"]
        for question in ("hi", "and again"):
            conn.conversation.item.create(item={"type": "message", "role": "user",
                                                "content": [{"type": "input_text", "text": question}]})
            conn.response.create()
            text, audio, done = collect_response(conn)
            assert text == TEXT and audio == 0
            usage = done.response.usage
            assert (usage.input_tokens, usage.output_tokens) == (USAGE_IN, USAGE_OUT)
            assert done.response.output[0].content[0].text == TEXT
    # The socket was opened with the gateway's key only; the setup carried the session.
    up = live_requests(mock)[-1]
    assert up["query"] == "key=gm-up"
    assert key not in json.dumps(up)
    setup = live_requests(mock, "/setup")[-1]["body"]["setup"]
    assert setup["model"] == "models/gemini-2.0-flash-live-001"
    assert setup["generationConfig"] == {"temperature": 0.5, "responseModalities": ["TEXT"]}
    assert setup["systemInstruction"] == {"role": "user", "parts": [{"text": "be brief"}]}
    rows = spend_row(db, key)
    assert len(rows) == 1, rows
    call_type, spend, prompt, completion, total, group = rows[0]
    assert call_type == "_arealtime" and group == "rt-gemini"
    assert (int(prompt), int(completion), int(total)) == (2 * USAGE_IN, 2 * USAGE_OUT, 2 * (USAGE_IN + USAGE_OUT))
    assert float(spend) == pytest.approx(2 * TEXT_TURN)


def test_ga_client_without_session_update_gets_litellms_default_setup_and_audio(gw, mock, db):
    key = new_key(gw, key_alias="rt-gemini-ga")
    client = openai.OpenAI(api_key=key, base_url=f"{gw.base}/v1", max_retries=0)
    with client.realtime.connect(model="rt-gemini") as conn:
        assert conn.recv().type == "session.created"
        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "say it"}]})
        assert conn.recv().type == "session.updated"
        text, audio, done = collect_response(conn)
        assert text == "" and audio == 2
        assert done.response.usage.output_tokens == USAGE_OUT
    setup = live_requests(mock, "/setup")[-1]["body"]["setup"]
    assert setup == {"model": "models/gemini-2.0-flash-live-001",
                     "generationConfig": {"responseModalities": ["AUDIO"]}, "inputAudioTranscription": {}}
    rows = spend_row(db, key)
    assert len(rows) == 1 and rows[0][0] == "_arealtime", rows
    assert float(rows[0][1]) == pytest.approx(AUDIO_TURN)


def test_raw_client_streams_audio_in_and_gets_ga_event_names(gw, mock, db):
    key = new_key(gw, key_alias="rt-gemini-raw")
    with connect(ws_url(gw, model="rt-gemini"), subprotocols=["realtime", f"openai-insecure-api-key.{key}"]) as ws:
        assert ws.subprotocol == "realtime"
        assert json.loads(ws.recv())["type"] == "session.created"
        ws.send(json.dumps({"type": "session.update", "session": {"type": "realtime", "output_modalities": ["audio"]}}))
        assert json.loads(ws.recv())["type"] == "session.updated"
        ws.send(json.dumps({"type": "input_audio_buffer.append", "audio": "AAAAAAAA"}))
        ws.send(json.dumps({"type": "input_audio_buffer.commit"}))
        events = []
        while not events or events[-1]["type"] != "response.done":
            events.append(json.loads(ws.recv()))
        kinds = [e["type"] for e in events]
        assert kinds[:4] == ["response.created", "response.output_item.added", "conversation.item.added",
                             "response.content_part.added"]
        assert kinds.count("response.output_audio.delta") == 2 and "response.output_audio.done" in kinds
        ids = {e["response_id"] for e in events if "response_id" in e}
        assert ids == {events[-1]["response"]["id"]}
        # A broken event is answered with an error event; the session goes on.
        ws.send("not json")
        assert json.loads(ws.recv())["type"] == "error"
    rows = spend_row(db, key)
    assert len(rows) == 1 and int(rows[0][2]) == USAGE_IN, rows


def test_no_upstream_key_unknown_model_and_a_refused_key_are_http_errors(gw, mock, db):
    before = len(live_requests(mock))
    status, body = refusal(ws_url(gw, model="rt-gemini-nokey"), additional_headers={"Authorization": f"Bearer {MASTER}"})
    assert status == 401 and "GEMINI_API_KEY" in body["error"]["message"], body
    assert len(live_requests(mock)) == before
    status, body = refusal(ws_url(gw, model="gemini-no-such"), additional_headers={"Authorization": f"Bearer {MASTER}"})
    assert status in (400, 404) and "gemini-no-such" in body["error"]["message"], body
    key = new_key(gw, key_alias="rt-gemini-badkey")
    status, body = refusal(ws_url(gw, model="rt-gemini-badkey"), additional_headers={"Authorization": f"Bearer {key}"})
    assert status == 400 and "API key not valid" in body["error"]["message"], body
    rows = spend_row(db, key)
    assert len(rows) == 1 and float(rows[0][1]) == 0.0, rows


def test_health_check_sets_up_a_live_session(gw, mock):
    """The catalog's mode for Gemini Live rows is `realtime`: the check opens the socket, sends
    the default setup and reads `setupComplete`."""
    before = len(live_requests(mock, "/setup"))
    status, body = admin(gw, "GET", "/health?model=rt-gemini")
    assert status == 200, body
    assert body["healthy_count"] == 1 and body["unhealthy_count"] == 0, body
    assert len(live_requests(mock, "/setup")) == before + 1


def test_vertex_ai_sets_up_at_connect_with_its_token_and_resource_name(gw, mock, db):
    """LiteLLM's `VertexAIRealtimeConfig`: the bearer token of the deployment's service account,
    the setup sent at connect (the model as a resource name, server VAD, transcriptions), every
    `session.update` dropped; audio answers as OpenAI events, priced at the model's Vertex row."""
    key = new_key(gw, key_alias="rt-vertex")
    client = openai.OpenAI(api_key=key, base_url=f"{gw.base}/v1", max_retries=0)
    with client.realtime.connect(model="rt-vertex") as conn:
        assert conn.recv().type == "session.created"
        assert conn.recv().type == "session.updated"
        conn.session.update(session={"type": "realtime", "output_modalities": ["text"]})
        conn.conversation.item.create(item={"type": "message", "role": "user",
                                            "content": [{"type": "input_text", "text": "hi"}]})
        text, audio, done = collect_response(conn)
        assert text == "" and audio == 2 and done.response.usage.input_tokens == USAGE_IN
    up = live_requests(mock, path=VERTEX_PATH)[-1]
    assert up["headers"]["authorization"] == "Bearer ya29.mock-access-token"
    assert up["headers"]["x-goog-user-project"] == "proj-e2e"
    assert key not in json.dumps(up)
    setups = live_requests(mock, "/setup", path=VERTEX_PATH)
    setup = setups[-1]["body"]["setup"]
    assert setup["model"] == ("projects/proj-e2e/locations/us-central1/publishers/google/models/"
                              "gemini-live-2.5-flash-preview-native-audio-09-2025")
    assert setup["generationConfig"] == {"responseModalities": ["AUDIO"]}
    assert setup["outputAudioTranscription"] == {} and setup["inputAudioTranscription"] == {}
    rows = spend_row(db, key)
    assert len(rows) == 1 and rows[0][0] == "_arealtime" and rows[0][5] == "rt-vertex", rows
    # The catalog's Vertex row of the model (LiteLLM's native-audio rates).
    assert float(rows[0][1]) == pytest.approx(80 * 5e-7 + 40 * 3e-6 + 45 * 1.2e-5)
    status, body = refusal(ws_url(gw, model="rt-vertex-nocreds"), additional_headers={"Authorization": f"Bearer {MASTER}"})
    assert status == 401 and "Vertex AI credentials" in body["error"]["message"], body
