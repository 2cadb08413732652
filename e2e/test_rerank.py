"""`/v1/rerank`, `/rerank` and `/v2/rerank` through the llmgate binary (plain HTTP) to Cohere's
rerank (the mock's `/v2/rerank` and `/v1/rerank`): Cohere's response shape, cost per search
unit in the header and the spend log (`call_type` `arerank`), a key without access refused as
on chat, missing fields as 400, upstream errors mapped, `/model/info` with LiteLLM's keys."""
import json
import time
import urllib.error
import urllib.request

import pytest

from conftest import MASTER, Gateway
from test_virtual_keys import admin

DOCS = ["Paris is the capital of France", "Berlin is in Germany", "The capital of Italy is Rome"]


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("rerank")
    rows = [
        ("rerank", "cohere/rerank-v3.5", mock.base),
        # A base naming v1: LiteLLM's v1 client, `max_chunks_per_doc`.
        ("rerank-v1", "cohere/rerank-english-v3.0", f"{mock.base}/v1/rerank"),
        ("rerank-limited", "cohere/mock-error-429", mock.base),
        ("rerank-broken", "cohere/mock-error-500", mock.base),
        ("command", "cohere/command-r-08-2024", mock.base),
        ("chat-only", "cohere_chat/command-r-08-2024", mock.base),
    ]
    cfg = "model_list:\n"
    for name, model, base in rows:
        cfg += (f"  - model_name: {name}\n    litellm_params:\n      model: {model}\n"
                f"      api_base: {base}\n      api_key: sk-co\n")
    cfg += f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 0.2\n"
    cfg += "router_settings:\n  num_retries: 0\n  fallbacks: [{\"rerank-broken\": [\"rerank\"]}]\n"
    g = Gateway(tmp, cfg, env={"LLMGATE_DB_PATH": str(tmp / "spend.db")}).wait_ready()
    yield g
    g.stop()


class Answer:
    def __init__(self, status, headers, raw):
        self.status_code, self.headers, self.text = status, headers, raw.decode()

    def json(self):
        return json.loads(self.text)


def post(gw, path, body, key=MASTER):
    req = urllib.request.Request(f"{gw.base}{path}", method="POST", data=json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return Answer(r.status, r.headers, r.read())
    except urllib.error.HTTPError as e:
        return Answer(e.code, e.headers, e.read())


def last_request(mock, path):
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    return [r for r in reqs if r["path"] == path][-1]


@pytest.mark.parametrize("path", ["/v1/rerank", "/rerank", "/v2/rerank"])
def test_rerank_on_every_path(gw, mock, path):
    r = post(gw, path, {"model": "rerank", "query": "capital of France", "documents": DOCS,
                        "top_n": 2, "return_documents": True, "max_tokens_per_doc": 256})
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["index"] for x in body["results"]] == [0, 2]
    assert body["results"][0]["relevance_score"] == 1.0
    assert body["results"][0]["document"] == {"text": DOCS[0]}
    assert body["meta"]["billed_units"]["search_units"] == 1
    assert body["meta"]["api_version"]["version"] == "2" and body["id"] == "mock-rerank-1"
    rec = last_request(mock, "/v2/rerank")
    assert rec["headers"]["authorization"] == "Bearer sk-co"
    assert rec["body"] == {"model": "rerank-v3.5", "query": "capital of France", "documents": DOCS,
                           "top_n": 2, "return_documents": True, "max_tokens_per_doc": 256}
    # LiteLLM's `input_cost_per_query` (0.002) × one search unit.
    assert float(r.headers["x-litellm-response-cost"]) == pytest.approx(0.002)
    assert r.headers["x-litellm-model-id"]


def test_v1_base_sends_v1_params(gw, mock):
    r = post(gw, "/v1/rerank", {"model": "rerank-v1", "query": "Germany", "documents": DOCS,
                                "max_chunks_per_doc": 3})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["index"] == 1
    rec = last_request(mock, "/v1/rerank")
    assert rec["body"]["max_chunks_per_doc"] == 3 and "max_tokens_per_doc" not in rec["body"]


def test_spend_log_is_written_with_cost(gw):
    status, k = admin(gw, "POST", "/key/generate", {"models": ["rerank"]})
    assert status == 200, k
    r = post(gw, "/v1/rerank", {"model": "rerank", "query": "Rome", "documents": DOCS}, key=k["key"])
    assert r.status_code == 200, r.text
    deadline = time.time() + 10
    logs = []
    while time.time() < deadline and not logs:
        _, logs = admin(gw, "GET", f"/spend/logs?api_key={k['key']}")
        logs = logs if isinstance(logs, list) else []
        time.sleep(0.2)
    assert len(logs) == 1, logs
    log = logs[0]
    assert log["call_type"] == "arerank" and log["model"] == "rerank-v3.5"
    assert log["model_group"] == "rerank" and log["custom_llm_provider"] == "cohere"
    assert log["spend"] == pytest.approx(0.002)
    _, info = admin(gw, "GET", f"/key/info?key={k['key']}")
    assert info["info"]["spend"] == pytest.approx(0.002)


def test_a_key_without_access_is_refused_as_on_chat(gw):
    status, k = admin(gw, "POST", "/key/generate", {"models": ["command"]})
    assert status == 200, k
    r = post(gw, "/v1/rerank", {"model": "rerank", "query": "q", "documents": DOCS}, key=k["key"])
    chat = post(gw, "/v1/chat/completions", {"model": "rerank", "messages": [{"role": "user", "content": "hi"}]},
                key=k["key"])
    assert r.status_code == chat.status_code and r.status_code in (401, 403), r.text
    assert r.json()["error"]["type"] == chat.json()["error"]["type"]
    assert post(gw, "/v1/rerank", {"model": "rerank", "query": "q", "documents": DOCS}, key="sk-wrong").status_code == 401


@pytest.mark.parametrize("body,field", [
    ({"model": "rerank", "documents": DOCS}, "query"),
    ({"model": "rerank", "query": "q"}, "documents"),
])
def test_missing_fields_are_400(gw, body, field):
    r = post(gw, "/v1/rerank", body)
    assert r.status_code == 400, r.text
    assert field in r.json()["error"]["message"]


def test_upstream_errors_are_mapped(gw):
    r = post(gw, "/v1/rerank", {"model": "rerank", "query": "q", "documents": []})
    assert r.status_code == 400 and "documents must not be empty" in r.json()["error"]["message"], r.text
    r = post(gw, "/v1/rerank", {"model": "rerank-limited", "query": "q", "documents": DOCS})
    assert r.status_code == 429, r.text
    r = post(gw, "/v1/rerank", {"model": "chat-only", "query": "q", "documents": DOCS})
    assert r.status_code == 400 and "does not support rerank" in r.json()["error"]["message"], r.text
    r = post(gw, "/v1/rerank", {"model": "nope", "query": "q", "documents": DOCS})
    assert r.status_code == 400, r.text


def test_a_failing_group_falls_back(gw, mock):
    r = post(gw, "/v1/rerank", {"model": "rerank-broken", "query": "Berlin", "documents": DOCS})
    assert r.status_code == 200, r.text
    assert r.json()["results"][0]["index"] == 1
    assert r.headers["x-litellm-attempted-fallbacks"] == "1"
    assert last_request(mock, "/v2/rerank")["body"]["model"] == "rerank-v3.5"


def test_model_info_has_the_query_price(gw):
    _, info = admin(gw, "GET", "/model/info")
    rows = {m["model_name"]: m["model_info"] for m in info["data"]}
    assert rows["rerank"]["input_cost_per_query"] == 0.002 and rows["rerank"]["mode"] == "rerank"


def test_health_probes_rerank_models_with_a_rerank_call(gw, mock):
    _, health = admin(gw, "GET", "/health")
    healthy = {e["model"] for e in health["healthy_endpoints"]}
    unhealthy = {e["model"] for e in health["unhealthy_endpoints"]}
    assert "cohere/rerank-v3.5" in healthy and "cohere/mock-error-500" in unhealthy, health
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    probes = [r for r in reqs if r["path"] == "/v2/rerank" and r["body"].get("query") == "test from llmgate"]
    assert probes and probes[-1]["body"]["documents"] == ["test from llmgate"]
