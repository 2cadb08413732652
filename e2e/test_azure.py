"""The official `openai` client through the llmgate binary to Azure OpenAI and Azure AI Foundry
(the mock checks what Azure checks: `api-version` on deployment paths, an `api-key` or a live
token its Entra ID endpoint issued; it serves the client-credentials grant and counts it)."""
import json
import time
import urllib.parse
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway

# llmgate_mock::AZURE_CLIENT_SECRET
SECRET = "mock-azure-client-secret"
# Tokens of this tenant live 3 s (the mock reads the lifetime from the name).
CC_TENANT = "ttl-3-e2e"
HI = [{"role": "user", "content": "Hi"}]


def token_requests(mock, tenant):
    with urllib.request.urlopen(f"{mock.base}/_mock/entra/{tenant}") as r:
        return json.loads(r.read())["token_requests"]


def requests_to(mock, prefix):
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    return [r for r in reqs if r["path"].startswith(prefix)]


def issue_token(mock, tenant):
    body = urllib.parse.urlencode({"client_id": "e2e", "client_secret": SECRET, "grant_type": "client_credentials",
                                   "scope": "https://cognitiveservices.azure.com/.default"}).encode()
    with urllib.request.urlopen(urllib.request.Request(f"{mock.base}/{tenant}/oauth2/v2.0/token", data=body)) as r:
        return json.loads(r.read())["access_token"]


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    azure = f"{mock.base}/azure"
    ad_token = issue_token(mock, "e2e-static")

    def dep(name, model, extra="", base=azure, info=""):
        return f"""
  - model_name: {name}
    litellm_params:
      model: {model}
      api_base: {base}{extra}{info}"""
    key = "\n      api_key: os.environ/AZURE_KEY_E2E\n      api_version: '2024-10-21'"
    cc = (f"\n      tenant_id: {CC_TENANT}\n      client_id: llmgate-e2e\n"
          "      client_secret: os.environ/AZURE_SECRET_E2E")
    cfg = ("model_list:"
           + dep("az-key", "azure/gpt4o-prod", key, info="\n    model_info:\n      base_model: azure/gpt-4o")
           + dep("az-token", "azure/gpt4o-token", "\n      azure_ad_token: os.environ/AZURE_AD_TOKEN_E2E")
           + dep("az-cc", "azure/gpt4o-cc", cc)
           + dep("az-cc-bad", "azure/gpt4o-cc", f"\n      tenant_id: bad-e2e\n      client_id: x\n      client_secret: nope")
           + dep("az-v1", "azure/my-deploy", "\n      api_key: os.environ/AZURE_KEY_E2E\n      api_version: latest")
           + dep("az-filtered", "azure/mock-content-filter", key)
           + dep("az-filtered-fb", "azure/mock-content-filter", key)
           + dep("az-safe", "azure/gpt-4o", key)
           + dep("az-cut", "azure/mock-content-filter-output", key)
           + dep("az-embed", "azure/text-embed-prod", key,
                 info="\n    model_info:\n      base_model: azure/text-embedding-3-small")
           + dep("foundry", "azure_ai/Llama-3.3-70B-Instruct",
                 "\n      api_key: foundry-key\n      api_version: 2024-05-01-preview", base=f"{mock.base}/models")
           + dep("foundry-embed", "azure_ai/Cohere-embed-v3-english",
                 "\n      api_key: foundry-key\n      api_version: 2024-05-01-preview", base=f"{mock.base}/models")
           + f"""
router_settings:
  content_policy_fallbacks: [{{"az-filtered-fb": ["az-safe"]}}]
general_settings:
  master_key: {MASTER}
""")
    env = {"AZURE_KEY_E2E": "azure-key-e2e", "AZURE_SECRET_E2E": SECRET, "AZURE_AD_TOKEN_E2E": ad_token,
           "AZURE_AUTHORITY_HOST": mock.base}
    g = Gateway(tmp_path_factory.mktemp("azure"), cfg, env=env).wait_ready()
    g.ad_token = ad_token
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)


def test_api_key_deployment_priced_by_its_base_model(client, mock):
    raw = client.chat.completions.with_raw_response.create(model="az-key", messages=HI)
    r = raw.parse()
    assert r.choices[0].message.content == "Hello from mock"
    # gpt4o-prod is no catalog model: azure/gpt-4o's prices, 10 in at 2.5e-6, 5 out at 1e-5.
    assert float(raw.headers["x-litellm-response-cost"]) == pytest.approx(7.5e-5, rel=1e-9)
    sent = requests_to(mock, "/azure/openai/deployments/gpt4o-prod/")[-1]
    assert sent["query"] == "api-version=2024-10-21"
    assert sent["headers"]["api-key"] == "azure-key-e2e"
    assert "authorization" not in sent["headers"]


def test_ad_token_is_sent_as_a_bearer(client, mock, gw):
    r = client.chat.completions.create(model="az-token", messages=HI)
    assert r.choices[0].message.content == "Hello from mock"
    sent = requests_to(mock, "/azure/openai/deployments/gpt4o-token/")[-1]
    assert sent["headers"]["authorization"] == f"Bearer {gw.ad_token}"
    assert "api-key" not in sent["headers"]


def test_client_credentials_one_token_for_many_calls_then_a_refresh(client, mock):
    before = token_requests(mock, CC_TENANT)
    for _ in range(4):
        assert client.chat.completions.create(model="az-cc", messages=HI).choices[0].message.content
    chunks = list(client.chat.completions.create(model="az-cc", messages=HI, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from mock"
    assert token_requests(mock, CC_TENANT) - before == 1
    tok = requests_to(mock, f"/{CC_TENANT}/oauth2/v2.0/token")[-1]
    assert tok["body"]["grant_type"] == "client_credentials"
    assert tok["body"]["client_id"] == "llmgate-e2e"
    assert tok["body"]["scope"] == "https://cognitiveservices.azure.com/.default"
    first = requests_to(mock, "/azure/openai/deployments/gpt4o-cc/")[-1]["headers"]["authorization"]
    assert first.startswith(f"Bearer mock-entra-{CC_TENANT}-")
    # The token lives 3 s; the mock refuses it once expired, so a call after that needs a new one.
    time.sleep(3.2)
    assert client.chat.completions.create(model="az-cc", messages=HI).choices[0].message.content
    assert token_requests(mock, CC_TENANT) - before == 2
    assert requests_to(mock, "/azure/openai/deployments/gpt4o-cc/")[-1]["headers"]["authorization"] != first


def test_a_refused_client_secret_is_a_401(client, mock):
    with pytest.raises(openai.AuthenticationError) as e:
        client.chat.completions.create(model="az-cc-bad", messages=HI)
    assert e.value.status_code == 401
    assert "AADSTS7000215" in e.value.body["message"]
    assert "nope" not in json.dumps(e.value.body)


def test_v1_path_carries_the_deployment_in_the_body(client, mock):
    r = client.chat.completions.create(model="az-v1", messages=HI)
    assert r.choices[0].message.content == "Hello from mock"
    sent = requests_to(mock, "/azure/openai/v1/")[-1]
    assert sent["path"] == "/azure/openai/v1/chat/completions"
    assert sent["query"] is None
    assert sent["body"]["model"] == "my-deploy"
    assert sent["headers"]["authorization"] == "Bearer azure-key-e2e"


@pytest.mark.parametrize("stream", [False, True])
def test_a_filtered_prompt_is_a_content_policy_violation(client, stream):
    with pytest.raises(openai.BadRequestError) as e:
        r = client.chat.completions.create(model="az-filtered", messages=HI, stream=stream)
        list(r) if stream else None
    assert e.value.status_code == 400
    err = e.value.body
    assert err["message"].startswith("litellm.BadRequestError: litellm.ContentPolicyViolationError: ")
    assert err["code"] == "400"
    fields = err["provider_specific_fields"]
    assert fields["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert fields["innererror"]["content_filter_result"]["hate"]["filtered"] is True


def test_content_policy_fallbacks_fire(client):
    raw = client.chat.completions.with_raw_response.create(model="az-filtered-fb", messages=HI)
    assert raw.parse().choices[0].message.content == "Hello from mock"
    assert raw.headers["x-litellm-model-group"] == "az-safe"
    assert raw.headers["x-litellm-attempted-fallbacks"] == "1"


def test_a_filtered_answer_keeps_its_finish_reason_and_verdicts(client):
    r = client.chat.completions.create(model="az-cut", messages=HI)
    choice = r.choices[0].model_dump()
    assert choice["finish_reason"] == "content_filter"
    verdicts = choice.get("provider_specific_fields", {}).get("content_filter_results") \
        or choice.get("content_filter_results")
    assert verdicts["violence"] == {"filtered": True, "severity": "medium"}
    chunks = list(client.chat.completions.create(model="az-cut", messages=HI, stream=True))
    last = [c for c in chunks if c.choices and c.choices[0].finish_reason][-1]
    assert last.choices[0].finish_reason == "content_filter"
    assert last.choices[0].model_dump()["content_filter_results"]["violence"]["filtered"] is True


def test_embeddings_through_the_deployment_path_priced_by_base_model(client, mock):
    raw = client.embeddings.with_raw_response.create(model="az-embed", input="hello")
    assert len(raw.parse().data) == 1
    # 2 tokens at azure/text-embedding-3-small's 2.2e-8.
    assert float(raw.headers["x-litellm-response-cost"]) == pytest.approx(4.4e-8, rel=1e-9)
    sent = requests_to(mock, "/azure/openai/deployments/text-embed-prod/embeddings")[-1]
    assert sent["query"] == "api-version=2024-10-21"


def test_azure_ai_chat_and_embeddings(client, mock):
    r = client.chat.completions.create(model="foundry", messages=[
        {"role": "user", "content": [{"type": "text", "text": "Hello "}, {"type": "text", "text": "Foundry"}]}])
    assert r.choices[0].message.content == "Hello from mock"
    sent = requests_to(mock, "/models/chat/completions")[-1]
    assert sent["query"] == "api-version=2024-05-01-preview"
    assert sent["headers"]["authorization"] == "Bearer foundry-key"
    assert sent["body"]["model"] == "Llama-3.3-70B-Instruct"
    assert sent["body"]["messages"][0]["content"] == "Hello Foundry"
    raw = client.embeddings.with_raw_response.create(model="foundry-embed", input=["a", "b"])
    assert len(raw.parse().data) == 2
    # 4 tokens at Cohere-embed-v3-english's 1e-7.
    assert float(raw.headers["x-litellm-response-cost"]) == pytest.approx(4e-7, rel=1e-9)
    sent = requests_to(mock, "/models/embeddings")[-1]
    assert sent["query"] == "api-version=2024-05-01-preview"
