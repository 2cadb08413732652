"""Google's native paths as LiteLLM serves them from the model list
(`/v1beta/models/{model}:generateContent`, `:streamGenerateContent?alt=sse`, `:countTokens`,
also under `/models/...`), with Google's official `google-genai` client pointed at the gateway
(`http_options.base_url`) and plain HTTP, against the Gemini and Vertex AI mocks: the model
group's deployment gets the body with its own credentials, the virtual key (sent as
`x-goog-api-key`, `?key=` or `Authorization`) never reaches the provider, and the spend row
carries the answer's `usageMetadata`."""
import json
import sqlite3
import time
import urllib.request

import pytest
from google import genai
from google.genai import types

from conftest import Gateway
from test_passthrough import no_virtual_key, post, recorded
from test_virtual_keys import admin

MASTER = "sk-master-google-native"


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("google_native")
    sa = tmp / "sa.json"
    sa.write_text(urllib.request.urlopen(f"{mock.base}/_mock/service_account").read().decode())
    cfg = f"""
model_list:
  - model_name: my-gemini
    litellm_params:
      model: gemini/gemini-2.5-flash
      api_base: {mock.base}/v1beta
      api_key: real-native-gemini-key
  - model_name: my-vertex
    litellm_params:
      model: vertex_ai/gemini-2.5-pro
      api_base: {mock.base}
      vertex_project: proj-native
      vertex_location: europe-west4
      vertex_credentials: {sa}
  - model_name: gem-*
    litellm_params:
      model: gemini/*
      api_base: {mock.base}/v1beta
      api_key: real-wildcard-gemini-key
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: {mock.base}/v1
      api_key: sk-openai-native
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 1
"""
    g = Gateway(tmp, cfg, env={"LLMGATE_DB_PATH": str(tmp / "gn.db")}).wait_ready()
    g.db = tmp / "gn.db"
    yield g
    g.stop()


def key(gw, **body):
    req = urllib.request.Request(f"{gw.base}/key/generate", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", "Authorization": f"Bearer {MASTER}"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())


@pytest.fixture(scope="module")
def vkey(gw):
    return key(gw, key_alias="google-native")


def rows_of(gw, token, n, timeout=15):
    deadline = time.time() + timeout
    while True:
        with sqlite3.connect(gw.db) as db:
            db.row_factory = sqlite3.Row
            rows = [dict(r) for r in db.execute(
                'SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = ? ORDER BY "startTime"', (token,))]
        if len(rows) >= n or time.time() > deadline:
            return rows
        time.sleep(0.2)


def client(gw, k):
    return genai.Client(api_key=k, http_options=types.HttpOptions(base_url=gw.base))


BODY = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}


def test_the_official_client_generates_streams_and_counts(gw, mock, vkey):
    c = client(gw, vkey["key"])
    r = c.models.generate_content(model="my-gemini", contents="Hi",
                                  config=types.GenerateContentConfig(system_instruction="Be brief",
                                                                     max_output_tokens=50))
    assert r.text
    assert (r.usage_metadata.prompt_token_count, r.usage_metadata.candidates_token_count) == (10, 5)
    chunks = list(c.models.generate_content_stream(model="my-gemini", contents="Stream please"))
    assert len(chunks) >= 1 and "".join(ch.text or "" for ch in chunks)
    assert chunks[-1].usage_metadata.prompt_token_count == 10
    n = c.models.count_tokens(model="my-gemini", contents="Count me")
    assert n.total_tokens == 7
    sent = recorded(mock, "/v1beta/models/gemini-2.5-flash:")[-3:]
    assert [r["path"].rsplit(":", 1)[1] for r in sent] == [
        "generateContent", "streamGenerateContent", "countTokens"]
    assert all(r["headers"].get("x-goog-api-key") == "real-native-gemini-key" for r in sent)
    assert "alt=sse" in (sent[1]["query"] or "")
    # The body went as the client wrote it (Google's shape: systemInstruction, generationConfig).
    assert sent[0]["body"]["generationConfig"]["maxOutputTokens"] == 50
    assert sent[0]["body"]["systemInstruction"]["parts"][0]["text"] == "Be brief"
    no_virtual_key(sent, vkey["key"])
    rows = rows_of(gw, vkey["token"], 3)
    by_type = {}
    for row in rows:
        by_type.setdefault(row["call_type"], []).append(row)
    for ct in ("agenerate_content", "agenerate_content_stream"):
        (row,) = by_type[ct]
        assert (row["prompt_tokens"], row["completion_tokens"]) == (10, 5), row
        assert row["spend"] > 0
        assert row["model_group"] == "my-gemini"
        assert row["custom_llm_provider"] == "gemini"
    assert len(by_type["pass_through_endpoint"]) == 1


def test_plain_http_streams_sse_chunk_by_chunk(gw, vkey):
    req = urllib.request.Request(
        f"{gw.base}/v1beta/models/my-gemini:streamGenerateContent?alt=sse&key={vkey['key']}",
        data=json.dumps(BODY).encode(), method="POST", headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        assert r.headers["content-type"].startswith("text/event-stream")
        events = [json.loads(l[5:]) for l in r.read().decode().splitlines() if l.startswith("data:")]
    assert events and events[-1]["usageMetadata"]["totalTokenCount"] == 15
    # `/models/...` too, and a Bearer key.
    status, _, raw = post(gw, "/models/my-gemini:generateContent", BODY,
                          {"Authorization": f"Bearer {vkey['key']}"})
    assert status == 200, raw
    assert json.loads(raw)["candidates"][0]["content"]["parts"][0]["text"]


def test_vertex_deployment_gets_the_service_account_token(gw, mock, vkey):
    c = client(gw, vkey["key"])
    r = c.models.generate_content(model="my-vertex", contents="Hi")
    assert r.text
    (sent,) = recorded(mock, "/v1/projects/proj-native/locations/europe-west4/publishers/google/models/gemini-2.5-pro:")[-1:]
    assert sent["path"].endswith(":generateContent")
    assert sent["headers"]["authorization"].startswith("Bearer ")
    no_virtual_key([sent], vkey["key"])


def test_a_wildcard_route_serves_the_model_it_names(gw, mock):
    k = key(gw, models=["gem-gemini-2.5-flash"])
    status, _, raw = post(gw, "/v1beta/models/gem-gemini-2.5-flash:generateContent", BODY,
                          {"x-goog-api-key": k["key"]})
    assert status == 200, raw
    sent = recorded(mock, "/v1beta/models/gemini-2.5-flash:generateContent")[-1]
    assert sent["headers"]["x-goog-api-key"] == "real-wildcard-gemini-key"
    (row,) = rows_of(gw, k["token"], 1)
    assert row["call_type"] == "agenerate_content" and row["spend"] > 0, row
    assert row["model_group"] == "gem-gemini-2.5-flash"


def test_keys_and_models_are_checked(gw, mock, vkey):
    before = len(recorded(mock, "/v1beta/models/"))
    limited = key(gw, models=["gpt-4o"])
    status, _, raw = post(gw, "/v1beta/models/my-gemini:generateContent", BODY,
                          {"x-goog-api-key": limited["key"]})
    assert status == 403, raw
    assert json.loads(raw)["error"]["type"] == "key_model_access_denied"
    status, _, raw = post(gw, "/v1beta/models/my-gemini:generateContent", BODY,
                          {"x-goog-api-key": "sk-not-a-key"})
    assert status == 401, raw
    status, _, raw = post(gw, "/v1beta/models/no-such-model:generateContent", BODY,
                          {"x-goog-api-key": vkey["key"]})
    assert status in (400, 404), raw
    # Another provider's group is translated through chat (`test_google_genai_translated.py`).
    status, _, raw = post(gw, "/v1beta/models/gpt-4o:generateContent", BODY,
                          {"x-goog-api-key": vkey["key"]})
    assert status == 200, raw
    assert json.loads(raw)["candidates"][0]["content"]["parts"][0]["text"]
    for bad in ["/v1beta/models/my-gemini%2F..%2Fx:generateContent",
                "/v1beta/models/a/..:generateContent",
                "/v1beta/models/my%3Fgemini:generateContent",
                "/v1beta/models/..:generateContent"]:
        status, _, raw = post(gw, bad, BODY, {"x-goog-api-key": vkey["key"]})
        assert status in (400, 404), (bad, status, raw)
    assert len(recorded(mock, "/v1beta/models/")) == before
