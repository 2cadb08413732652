"""OpenAI-compatible table rows through the llmgate binary with the official `openai` client:
Databricks serving endpoints (priced from the catalog) and a JSON-defined vendor (publicai)."""
import json
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    cfg = f"""
model_list:
  - model_name: dbx-claude
    litellm_params:
      model: databricks/databricks-claude-haiku-4-5
      api_key: os.environ/DATABRICKS_API_KEY
  - model_name: publicai
    litellm_params:
      model: publicai/swiss-ai/apertus-8b-instruct
      api_base: {mock.base}/v1
      api_key: pa-key
general_settings:
  master_key: {MASTER}
"""
    env = {"DATABRICKS_API_KEY": "dapi-e2e", "DATABRICKS_API_BASE": f"{mock.base}/v1"}
    g = Gateway(tmp_path_factory.mktemp("compat_rows"), cfg, env=env).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)


def last_sent(mock):
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())[-1]


def test_databricks_from_its_env_vars(client, mock):
    raw = client.chat.completions.with_raw_response.create(
        model="dbx-claude", max_tokens=20, messages=[{"role": "user", "content": "Hi"}])
    r = raw.parse()
    assert r.choices[0].message.content == "Hello from mock"
    assert r.model == "dbx-claude"
    assert float(raw.headers["x-litellm-response-cost"]) > 0
    sent = last_sent(mock)
    assert sent["path"] == "/v1/chat/completions"
    assert sent["headers"].get("authorization") == "Bearer dapi-e2e"
    assert sent["body"]["model"] == "databricks-claude-haiku-4-5"
    chunks = list(client.chat.completions.create(
        model="dbx-claude", stream=True, messages=[{"role": "user", "content": "Hi"}]))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from mock"


def test_json_defined_row(client, mock):
    r = client.chat.completions.create(model="publicai", max_completion_tokens=9, messages=[
        {"role": "user", "content": [{"type": "text", "text": "Hi "}, {"type": "text", "text": "there"}]}])
    assert r.choices[0].message.content == "Hello from mock"
    body = last_sent(mock)["body"]
    # As LiteLLM: content lists flattened, max_completion_tokens sent as max_tokens.
    assert body["messages"] == [{"role": "user", "content": "Hi there"}]
    assert body["max_tokens"] == 9 and "max_completion_tokens" not in body
