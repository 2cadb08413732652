"""Google's native paths with the router's machinery, as LiteLLM's `google_genai` routes: a
429/5xx from a Gemini deployment is retried on the group's next deployment or falls back to
another group (a stream too, before its first byte), the error that ends a call is
OpenAI-shaped (LiteLLM's `ProxyException`), and a deployment's default params (`temperature`,
`max_tokens`) fill the `generationConfig` fields the request does not set, on the native relay
and on the translated path. Google's `google-genai` client and plain HTTP against the mock."""
import json

import pytest
from google import genai
from google.genai import errors, types

from conftest import Gateway
from test_google_native import rows_of
from test_passthrough import post, recorded

MASTER = "sk-master-google-routing"


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("google_routing")
    gem = f"{mock.base}/v1beta"
    cfg = f"""
model_list:
  - model_name: gem-flaky
    litellm_params: {{model: gemini/mock-error-503, api_base: {gem}, api_key: k-flaky-bad, order: 1}}
  - model_name: gem-flaky
    litellm_params: {{model: gemini/gemini-2.5-flash, api_base: {gem}, api_key: k-flaky-good, order: 2}}
  - model_name: gem-broken
    litellm_params: {{model: gemini/mock-error-429, api_base: {gem}, api_key: k-broken}}
  - model_name: gem-backup
    litellm_params: {{model: gemini/gemini-2.5-pro, api_base: {gem}, api_key: k-backup,
                      temperature: 0.3, max_tokens: 77}}
  - model_name: gem-dead
    litellm_params: {{model: gemini/mock-error-429, api_base: {gem}, api_key: k-dead}}
  - model_name: gpt-defaults
    litellm_params: {{model: openai/gpt-4o, api_base: {mock.base}/v1, api_key: sk-openai-defaults,
                      temperature: 0.2, max_tokens: 33}}
router_settings:
  num_retries: 1
  retry_after: 0
  fallbacks: [{{gem-broken: [gem-backup]}}]
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 1
"""
    g = Gateway(tmp, cfg, env={"LLMGATE_DB_PATH": str(tmp / "gr.db")}).wait_ready()
    g.db = tmp / "gr.db"
    yield g
    g.stop()


@pytest.fixture(scope="module")
def vkey(gw):
    status, _, raw = post(gw, "/key/generate", {"key_alias": "google-routing"},
                          {"Authorization": f"Bearer {MASTER}"})
    assert status == 200, raw
    return json.loads(raw)


def client(gw, k):
    return genai.Client(api_key=k, http_options=types.HttpOptions(base_url=gw.base))


BODY = {"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}


def test_a_failing_deployment_is_retried_on_the_next_one(gw, mock, vkey):
    before = len(recorded(mock, "/v1beta/models/"))
    c = client(gw, vkey["key"])
    r = c.models.generate_content(model="gem-flaky", contents="Hi")
    assert r.text
    sent = recorded(mock, "/v1beta/models/")[before:]
    # The first deployment (order 1) answered 503; the second answered the client.
    assert [s["path"] for s in sent] == ["/v1beta/models/mock-error-503:generateContent",
                                         "/v1beta/models/gemini-2.5-flash:generateContent"]
    assert [s["headers"]["x-goog-api-key"] for s in sent] == ["k-flaky-bad", "k-flaky-good"]
    assert sent[0]["body"] == sent[1]["body"]
    (row,) = rows_of(gw, vkey["token"], 1)
    assert row["call_type"] == "agenerate_content" and row["model_group"] == "gem-flaky"
    assert row["model"] == "gemini-2.5-flash" and row["spend"] > 0, row


def test_a_failing_group_falls_back_with_the_backups_defaults(gw, mock, vkey):
    before = len(recorded(mock, "/v1beta/models/"))
    c = client(gw, vkey["key"])
    r = c.models.generate_content(
        model="gem-broken", contents="Hi", config=types.GenerateContentConfig(temperature=0.9))
    assert r.text
    sent = recorded(mock, "/v1beta/models/")[before:]
    assert sent[0]["path"] == "/v1beta/models/mock-error-429:generateContent"
    assert sent[-1]["path"] == "/v1beta/models/gemini-2.5-pro:generateContent"
    assert sent[-1]["headers"]["x-goog-api-key"] == "k-backup"
    # The backup's defaults fill what the client left unset; the client's own value wins.
    cfg = sent[-1]["body"]["generationConfig"]
    assert (cfg["temperature"], cfg["maxOutputTokens"]) == (0.9, 77), cfg
    # The failing deployment got the client's body as it came.
    assert sent[0]["body"]["generationConfig"] == {"temperature": 0.9}


def test_a_stream_falls_back_before_its_first_byte(gw, mock, vkey):
    before = len(recorded(mock, "/v1beta/models/"))
    status, headers, raw = post(gw, "/v1beta/models/gem-broken:streamGenerateContent?alt=sse", BODY,
                                {"x-goog-api-key": vkey["key"]})
    assert status == 200, raw
    events = [json.loads(l[5:]) for l in raw.decode().splitlines() if l.startswith("data:")]
    assert events and events[-1]["usageMetadata"]["totalTokenCount"] == 15
    assert not any("error" in e for e in events)
    sent = recorded(mock, "/v1beta/models/")[before:]
    assert sent[-1]["path"] == "/v1beta/models/gemini-2.5-pro:streamGenerateContent"
    assert "alt=sse" in sent[-1]["query"]
    assert sent[-1]["body"]["generationConfig"] == {"temperature": 0.3, "maxOutputTokens": 77}


def test_the_last_error_is_openai_shaped_as_litellm_answers_it(gw, mock, vkey):
    before = len(recorded(mock, "/v1beta/models/"))
    status, _, raw = post(gw, "/v1beta/models/gem-dead:generateContent", BODY,
                          {"x-goog-api-key": vkey["key"]})
    assert status == 429, raw
    err = json.loads(raw)["error"]
    assert set(err) >= {"message", "type", "param", "code"}, err
    assert err["code"] == "429" and "mock error 429" in err["message"]
    # num_retries: 1 — the one deployment was asked twice, and the key never left the gateway.
    sent = recorded(mock, "/v1beta/models/")[before:]
    assert [s["path"] for s in sent] == ["/v1beta/models/mock-error-429:generateContent"] * 2
    assert all(s["headers"]["x-goog-api-key"] == "k-dead" for s in sent)
    # Google's client raises its own error class from it, with the status.
    with pytest.raises(errors.ClientError) as e:
        c = client(gw, vkey["key"])
        c.models.generate_content(model="gem-dead", contents="Hi")
    assert e.value.code == 429


def test_the_translated_path_applies_the_deployments_defaults(gw, mock, vkey):
    before = len(recorded(mock, "/v1/chat/completions"))
    c = client(gw, vkey["key"])
    r = c.models.generate_content(
        model="gpt-defaults", contents="Hi", config=types.GenerateContentConfig(max_output_tokens=50))
    assert r.text
    (sent,) = recorded(mock, "/v1/chat/completions")[before:]
    # The deployment's temperature fills in; the client's maxOutputTokens wins over max_tokens.
    assert (sent["body"]["temperature"], sent["body"]["max_tokens"]) == (0.2, 50), sent["body"]
