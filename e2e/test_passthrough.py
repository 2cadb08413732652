"""LiteLLM's provider pass-through routes through the llmgate binary, against the mock
upstreams: the official `anthropic` client at `/anthropic`, the `openai` client at `/openai`,
plain HTTP for `/gemini` (`?key=`), `/vertex_ai` (the gateway's service-account token),
`/bedrock` (SigV4, verified by the Bedrock mock), the `AzureOpenAI` client at `/azure`, plain
HTTP for `/cohere` and `/mistral`, and custom `general_settings.pass_through_endpoints` routes
(`include_subpath`, the query, `forward_headers`). Each call is authenticated with a virtual key
that never reaches the provider, the provider's own key is put in, and the spend row in the
database carries the usage and cost read from the provider's answer (streams too)."""
import json
import sqlite3
import time
import urllib.error
import urllib.request

import anthropic
import openai
import pytest

from conftest import MASTER, Gateway
from test_virtual_keys import admin

KEY_ID = "AKIDLLMGATEMOCK"
SECRET = "llmgate-mock-bedrock-secret"
CLAUDE_BEDROCK = "us.anthropic.claude-3-5-sonnet-20240620-v1:0"


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("passthrough")
    sa = tmp / "sa.json"
    sa.write_text(urllib.request.urlopen(f"{mock.base}/_mock/service_account").read().decode())
    cfg = f"""
model_list:
  - model_name: gpt-4o
    litellm_params:
      model: openai/gpt-4o
      api_base: {mock.base}/v1
      api_key: sk-chat-only
  - model_name: vertex-pt
    litellm_params:
      model: vertex_ai/gemini-2.0-flash
      api_base: {mock.base}
      vertex_project: proj-pt
      vertex_location: europe-west4
      vertex_credentials: {sa}
      use_in_pass_through: true
  - model_name: bedrock-claude
    litellm_params:
      model: bedrock/{CLAUDE_BEDROCK}
      aws_access_key_id: {KEY_ID}
      aws_secret_access_key: {SECRET}
      aws_region_name: us-east-1
      aws_bedrock_runtime_endpoint: {mock.base}
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 1
  pass_through_endpoints:
    - path: /custom-rerank
      target: {mock.base}/v2/rerank
      headers:
        Authorization: "Bearer os.environ/PT_COHERE_KEY"
      auth: true
      cost_per_request: 0.25
    - path: /open-models
      target: {mock.base}/v1/models
      headers:
        Authorization: "Bearer sk-open"
    - path: /custom-openai
      target: {mock.base}/v1?source=llmgate
      include_subpath: true
      forward_headers: true
      auth: true
      headers:
        Authorization: "Bearer sk-custom-up"
"""
    env = {
        "LLMGATE_DB_PATH": str(tmp / "pt.db"),
        "OPENAI_API_BASE": f"{mock.base}/v1",
        "OPENAI_API_KEY": "sk-real-openai",
        "ANTHROPIC_API_BASE": mock.base,
        "ANTHROPIC_API_KEY": "sk-ant-real",
        "GEMINI_API_BASE": mock.base,
        "GEMINI_API_KEY": "real-gemini-key",
        "AWS_ACCESS_KEY_ID": KEY_ID,
        "AWS_SECRET_ACCESS_KEY": SECRET,
        "AWS_REGION_NAME": "us-west-2",
        "AWS_BEDROCK_RUNTIME_ENDPOINT": mock.base,
        "PT_COHERE_KEY": "co-real",
        "AZURE_API_BASE": mock.base,
        "AZURE_API_KEY": "az-real",
        "COHERE_API_BASE": mock.base,
        "COHERE_API_KEY": "co-env-real",
        "MISTRAL_API_BASE": mock.base,
        "MISTRAL_API_KEY": "mi-real",
    }
    g = Gateway(tmp, cfg, env=env).wait_ready()
    g.db = tmp / "pt.db"
    yield g
    g.stop()


@pytest.fixture(scope="module")
def vkey(gw):
    status, k = admin(gw, "POST", "/key/generate", {"key_alias": "pt"})
    assert status == 200, k
    return k


def recorded(mock, prefix):
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    return [r for r in reqs if r["path"].startswith(prefix)]


def spend_rows(gw, token, pred, n, timeout=15):
    """The key's spend rows in the database that `pred` keeps, once `n` are there."""
    deadline = time.time() + timeout
    while True:
        with sqlite3.connect(gw.db) as db:
            db.row_factory = sqlite3.Row
            rows = [dict(r) for r in db.execute(
                'SELECT * FROM "LiteLLM_SpendLogs" WHERE api_key = ? ORDER BY "startTime"', (token,))]
        rows = [r for r in rows if pred(r)]
        if len(rows) >= n or time.time() > deadline:
            return rows
        time.sleep(0.2)


def post(gw, path, body, headers):
    req = urllib.request.Request(f"{gw.base}{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Content-Type": "application/json", **headers})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def no_virtual_key(reqs, key):
    for r in reqs:
        for k, v in r["headers"].items():
            assert key not in v, (k, r["path"])
        assert key not in (r.get("query") or "")


def test_anthropic_client_through_the_anthropic_route(gw, mock, vkey):
    key = vkey["key"]
    c = anthropic.Anthropic(base_url=f"{gw.base}/anthropic", api_key=key, max_retries=0)
    msg = c.messages.create(model="claude-sonnet-4-5", max_tokens=50,
                            messages=[{"role": "user", "content": "Hi"}])
    assert msg.content[0].type == "text"
    assert (msg.usage.input_tokens, msg.usage.output_tokens) == (10, 5)
    with c.messages.stream(model="claude-sonnet-4-5", max_tokens=50,
                           messages=[{"role": "user", "content": "Stream please"}]) as s:
        text = "".join(s.text_stream)
    assert text
    sent = recorded(mock, "/v1/messages")[-2:]
    assert all(r["headers"].get("x-api-key") == "sk-ant-real" for r in sent)
    assert all(r["headers"].get("anthropic-version") for r in sent)
    no_virtual_key(sent, key)
    rows = spend_rows(gw, vkey["token"], lambda r: r["custom_llm_provider"] == "anthropic", 2)
    assert len(rows) == 2, rows
    for r in rows:
        assert r["call_type"] == "pass_through_endpoint"
        assert (r["prompt_tokens"], r["completion_tokens"]) == (10, 5)
        # claude-sonnet-4-5: 10 input tokens at 3e-6, 5 output at 1.5e-5.
        assert r["spend"] == pytest.approx(1.05e-4, rel=1e-6)
        assert r["model"] == "claude-sonnet-4-5"


def test_openai_client_through_the_openai_route(gw, mock, vkey):
    key = vkey["key"]
    c = openai.OpenAI(base_url=f"{gw.base}/openai", api_key=key, max_retries=0)
    r = c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert r.choices[0].message.content
    chunks = list(c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}],
                                            stream=True, stream_options={"include_usage": True}))
    assert chunks[-1].usage is not None
    sent = recorded(mock, "/v1/chat/completions")[-2:]
    assert all(r["headers"].get("authorization") == "Bearer sk-real-openai" for r in sent)
    no_virtual_key(sent, key)
    rows = spend_rows(gw, vkey["token"], lambda r: r["custom_llm_provider"] == "openai", 2)
    assert len(rows) == 2, rows
    for row in rows:
        assert row["call_type"] == "pass_through_endpoint"
        assert row["prompt_tokens"] > 0 and row["spend"] > 0
    # A GET is relayed too.
    models = c.models.list()
    assert models.data


def test_gemini_route_with_the_key_in_the_query(gw, mock, vkey):
    key = vkey["key"]
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    status, _, raw = post(gw, f"/gemini/v1beta/models/gemini-2.5-flash:generateContent?key={key}", body, {})
    assert status == 200, raw
    assert json.loads(raw)["candidates"]
    status, headers, raw = post(gw, "/gemini/v1beta/models/gemini-2.5-flash:streamGenerateContent?alt=sse",
                                body, {"x-goog-api-key": key})
    assert status == 200, raw
    assert headers["content-type"].startswith("text/event-stream")
    assert raw.count(b"data: ") >= 2
    sent = recorded(mock, "/v1beta/models/gemini-2.5-flash")[-2:]
    assert all("key=real-gemini-key" in r["query"] for r in sent)
    assert "alt=sse" in sent[-1]["query"]
    no_virtual_key(sent, key)
    rows = spend_rows(gw, vkey["token"], lambda r: r["custom_llm_provider"] == "gemini", 2)
    assert len(rows) == 2 and all(r["prompt_tokens"] > 0 and r["spend"] > 0 for r in rows), rows


def test_vertex_route_with_the_gateway_token(gw, mock, vkey):
    key = vkey["key"]
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    # The client names its own project and region; the pass-through deployment's are used.
    path = "/vertex_ai/v1/projects/proj-pt/locations/europe-west4/publishers/google/models/gemini-2.0-flash:generateContent"
    status, _, raw = post(gw, path, body, {"x-litellm-api-key": key})
    assert status == 200, raw
    # The deployment's public name routes to it.
    path = "/vertex_ai/v1/projects/any/locations/any/publishers/google/models/vertex-pt:generateContent"
    status, _, raw = post(gw, path, body, {"Authorization": f"Bearer {key}"})
    assert status == 200, raw
    sent = recorded(mock, "/v1/projects/")[-2:]
    assert [r["path"] for r in sent] == [
        "/v1/projects/proj-pt/locations/europe-west4/publishers/google/models/gemini-2.0-flash:generateContent"] * 2
    assert all(r["headers"]["authorization"].startswith("Bearer ") for r in sent)
    no_virtual_key(sent, key)
    rows = spend_rows(gw, vkey["token"], lambda r: r["custom_llm_provider"] == "vertex_ai", 2)
    assert len(rows) == 2 and all(r["spend"] > 0 for r in rows), rows


def test_bedrock_route_signed_with_sigv4(gw, mock, vkey):
    key = vkey["key"]
    body = {"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}
    status, _, raw = post(gw, f"/bedrock/model/{CLAUDE_BEDROCK}/converse", body, {"Authorization": f"Bearer {key}"})
    assert status == 200, raw
    assert json.loads(raw)["usage"]["inputTokens"] == 10
    # A deployment's name: its model, keys and endpoint.
    status, headers, raw = post(gw, "/bedrock/model/bedrock-claude/converse-stream", body,
                                {"Authorization": f"Bearer {key}"})
    assert status == 200, raw
    assert headers["content-type"] == "application/vnd.amazon.eventstream"
    sent = recorded(mock, "/model/")[-2:]
    assert all(r["headers"]["authorization"].startswith("AWS4-HMAC-SHA256") for r in sent)
    assert "us-west-2/bedrock" in sent[0]["headers"]["authorization"]
    assert "us-east-1/bedrock" in sent[1]["headers"]["authorization"]
    no_virtual_key(sent, key)
    rows = spend_rows(gw, vkey["token"], lambda r: r["custom_llm_provider"] == "bedrock", 2)
    assert len(rows) == 2, rows
    # 10 input tokens at 3e-6, 6 output at 1.5e-5, read from the answer and from the stream.
    assert all(r["spend"] == pytest.approx(1.2e-4, rel=1e-6) for r in rows), rows


def test_custom_pass_through_endpoints(gw, mock, vkey):
    key = vkey["key"]
    body = {"model": "rerank-v3.5", "query": "fruit", "documents": ["apple", "car"]}
    status, _, raw = post(gw, "/custom-rerank", body, {})
    assert status == 401, raw
    status, _, raw = post(gw, "/custom-rerank", body, {"Authorization": f"Bearer {key}"})
    assert status == 200, raw
    assert json.loads(raw)["results"]
    sent = recorded(mock, "/v2/rerank")[-1]
    assert sent["headers"]["authorization"] == "Bearer co-real"
    no_virtual_key([sent], key)
    rows = spend_rows(gw, vkey["token"], lambda r: r["call_type"] == "pass_through_endpoint"
                      and (r["api_base"] or "").endswith("/v2/rerank"), 1)
    assert len(rows) == 1 and rows[0]["spend"] == pytest.approx(0.25), rows
    # Without `auth`, no key is needed (as LiteLLM); the configured header is sent.
    with urllib.request.urlopen(f"{gw.base}/open-models") as r:
        assert json.loads(r.read())["data"]
    assert recorded(mock, "/v1/models")[-1]["headers"]["authorization"] == "Bearer sk-open"


def test_azure_route_with_the_azure_client(gw, mock, vkey):
    key = vkey["key"]
    c = openai.AzureOpenAI(azure_endpoint=f"{gw.base}/azure", api_key=key, api_version="2024-10-21",
                           max_retries=0)
    r = c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert r.choices[0].message.content
    sent = recorded(mock, "/openai/deployments/gpt-4o/chat/completions")[-1]
    assert sent["headers"]["api-key"] == "az-real"
    assert "api-version=2024-10-21" in sent["query"]
    no_virtual_key([sent], key)
    rows = spend_rows(gw, vkey["token"], lambda r: r["custom_llm_provider"] == "azure", 1)
    assert len(rows) == 1, rows
    assert rows[0]["call_type"] == "pass_through_endpoint"
    assert rows[0]["prompt_tokens"] > 0 and rows[0]["spend"] > 0, rows


def test_cohere_and_mistral_routes(gw, mock, vkey):
    key = vkey["key"]
    body = {"model": "command-a-03-2025", "messages": [{"role": "user", "content": "Hi"}]}
    status, _, raw = post(gw, "/cohere/v2/chat", body, {"Authorization": f"Bearer {key}"})
    assert status == 200, raw
    assert json.loads(raw)["usage"]["billed_units"]["input_tokens"] > 0
    sent = recorded(mock, "/v2/chat")[-1]
    assert sent["headers"]["authorization"] == "Bearer co-env-real"
    no_virtual_key([sent], key)
    body = {"model": "mistral-small-latest", "messages": [{"role": "user", "content": "Hi"}]}
    status, _, raw = post(gw, "/mistral/v1/chat/completions", body, {"Authorization": f"Bearer {key}"})
    assert status == 200, raw
    sent = recorded(mock, "/v1/chat/completions")[-1]
    assert sent["headers"]["authorization"] == "Bearer mi-real"
    no_virtual_key([sent], key)
    for provider in ("cohere", "mistral"):
        rows = spend_rows(gw, vkey["token"], lambda r: r["custom_llm_provider"] == provider, 1)
        assert len(rows) == 1, (provider, rows)
        assert rows[0]["call_type"] == "pass_through_endpoint"
        assert rows[0]["prompt_tokens"] > 0 and rows[0]["spend"] > 0, (provider, rows)


def test_custom_endpoint_with_subpath_query_and_forwarded_headers(gw, mock):
    status, k = admin(gw, "POST", "/key/generate", {"key_alias": "pt-custom"})
    assert status == 200, k
    key = k["key"]
    req = urllib.request.Request(f"{gw.base}/custom-openai/models?limit=2",
                                 headers={"Authorization": f"Bearer {key}", "x-trace-id": "t-123"})
    with urllib.request.urlopen(req) as r:
        assert json.loads(r.read())["data"]
    sent = recorded(mock, "/v1/models")[-1]
    assert sent["path"] == "/v1/models"
    assert "source=llmgate" in sent["query"] and "limit=2" in sent["query"]
    assert sent["headers"]["x-trace-id"] == "t-123"
    # The configured header wins over the client's; the gateway key is never forwarded.
    assert sent["headers"]["authorization"] == "Bearer sk-custom-up"
    no_virtual_key([sent], key)
    body = {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}
    status, _, raw = post(gw, "/custom-openai/chat/completions", body,
                          {"Authorization": f"Bearer {key}", "x-trace-id": "t-456"})
    assert status == 200, raw
    sent = recorded(mock, "/v1/chat/completions")[-1]
    assert sent["headers"]["x-trace-id"] == "t-456" and "source=llmgate" in sent["query"]
    rows = spend_rows(gw, k["token"], lambda r: r["call_type"] == "pass_through_endpoint", 2)
    assert len(rows) == 2, rows
    assert (rows[1]["api_base"] or "").endswith("/v1/chat/completions"), rows
    # Without `include_subpath` a subpath is not served; without a key, nothing is.
    status, _, raw = post(gw, "/custom-rerank/extra", {}, {"Authorization": f"Bearer {key}"})
    assert status == 404, raw
    status, _, raw = post(gw, "/custom-openai/chat/completions", body, {})
    assert status == 401, raw


def test_bad_requests_are_refused_before_the_provider(gw, mock, vkey):
    key = vkey["key"]
    before = len(recorded(mock, "/"))
    for path in ["/openai/v1/%2e%2e/%2e%2e/admin", "/anthropic/v1//messages", "/bedrock/model/x/../y/converse",
                 "/anthropic/v1/a%5cb", "/bedrock/model/x/delete"]:
        status, _, raw = post(gw, path, {}, {"Authorization": f"Bearer {key}"})
        assert status in (400, 404), (path, status, raw)
    status, _, raw = post(gw, "/anthropic/v1/messages", {"model": "x"}, {})
    assert status == 401, raw
    status, _, raw = post(gw, "/anthropic/v1/messages", {"model": "x"}, {"x-api-key": "sk-wrong"})
    assert status == 401, raw
    assert len(recorded(mock, "/")) == before, "nothing refused reached the provider"
    # A provider error is relayed with its status, and logged as a failure.
    status, _, raw = post(gw, "/openai/chat/completions",
                          {"model": "mock-error-429", "messages": [{"role": "user", "content": "x"}]},
                          {"Authorization": f"Bearer {key}"})
    assert status == 429, raw


def test_a_deployment_named_in_the_path_needs_model_access(gw, mock):
    status, k = admin(gw, "POST", "/key/generate", {"models": ["gpt-4o"]})
    assert status == 200, k
    before = len(recorded(mock, "/model/"))
    body = {"messages": [{"role": "user", "content": [{"text": "Hi"}]}]}
    status, _, raw = post(gw, "/bedrock/model/bedrock-claude/converse", body, {"Authorization": f"Bearer {k['key']}"})
    assert status in (401, 403), raw
    path = "/vertex_ai/v1/projects/p/locations/l/publishers/google/models/vertex-pt:generateContent"
    status, _, raw = post(gw, path, {"contents": []}, {"Authorization": f"Bearer {k['key']}"})
    assert status in (401, 403), raw
    assert len(recorded(mock, "/model/")) == before


def test_a_key_limited_to_some_models_may_pass_only_those_through(gw, mock):
    """The model a pass-through call names (the body's `model`, Gemini's path model) is checked
    against the key's `models`, as chat checks it; a call naming no model goes through."""
    status, k = admin(gw, "POST", "/key/generate", {"models": ["gpt-4o", "gemini-2.5-flash"]})
    assert status == 200, k
    key = k["key"]
    c = openai.OpenAI(base_url=f"{gw.base}/openai", api_key=key, max_retries=0)
    assert c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}]).choices
    before = len(recorded(mock, "/v1/chat/completions"))
    with pytest.raises(openai.APIStatusError) as e:
        c.chat.completions.create(model="gpt-4.1", messages=[{"role": "user", "content": "Hi"}])
    assert e.value.status_code in (401, 403) and "gpt-4.1" in str(e.value)
    assert len(recorded(mock, "/v1/chat/completions")) == before
    a = anthropic.Anthropic(base_url=f"{gw.base}/anthropic", api_key=key, max_retries=0)
    with pytest.raises(anthropic.APIStatusError) as e:
        a.messages.create(model="claude-sonnet-4-5", max_tokens=5, messages=[{"role": "user", "content": "Hi"}])
    assert e.value.status_code in (401, 403)
    body = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}
    status, _, raw = post(gw, f"/gemini/v1beta/models/gemini-2.5-flash:generateContent?key={key}", body, {})
    assert status == 200, raw
    status, _, raw = post(gw, f"/gemini/v1beta/models/gemini-2.5-pro:generateContent?key={key}", body, {})
    assert status in (401, 403), raw
    # No model named: the key's list does not apply.
    assert c.models.list().data
