"""AWS credentials beyond static keys, through the llmgate binary and the official `openai`
client: STS AssumeRole (signed with the deployment's keys), AssumeRoleWithWebIdentity, shared
credentials/config file profiles, for Bedrock and SageMaker. The mock's STS verifies each SigV4
signature and issues temporary keys, which its Bedrock and SageMaker endpoints then require
(with their session token) until they expire."""
import json
import time
import urllib.request

import openai
import pytest

from conftest import MASTER

# The mock's test credentials (llmgate_mock::AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY) and its
# identity provider's token (llmgate_mock::WEB_IDENTITY_TOKEN).
KEY_ID = "AKIDLLMGATEMOCK"
SECRET = "llmgate-mock-bedrock-secret"
WEB_TOKEN = ("eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJzdHMuYW1hem9uYXdzLmNvbSIsImlzcyI6Imh0dHBzOi8v"
             "b2lkYy5sbG1nYXRlLW1vY2suZXhhbXBsZSIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDpsbG1nYXRlOmUyZSJ9"
             ".bGxtZ2F0ZS1tb2NrLXNpZ25hdHVyZQ")
CLAUDE = "bedrock/us.anthropic.claude-3-5-sonnet-20240620-v1:0"
ACCOUNT = "arn:aws:iam::123456789012:role"
# Three-second credentials (the mock's `ttl-<s>-` role names), so a test sees them refreshed.
SHORT_ROLE = f"{ACCOUNT}/ttl-3-e2e-bedrock"
HI = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    from conftest import Gateway

    tmp = tmp_path_factory.mktemp("awscred")
    (tmp / "token").write_text(WEB_TOKEN + "\n")
    (tmp / "credentials").write_text(f"[e2e]\naws_access_key_id = {KEY_ID}\naws_secret_access_key = {SECRET}\n")
    (tmp / "config").write_text(
        f"[profile e2e-admin]\nrole_arn = {ACCOUNT}/e2e-profile-role\nsource_profile = e2e\n"
        "role_session_name = e2e-from-profile\n")
    bedrock = f"""
      aws_region_name: us-east-1
      aws_bedrock_runtime_endpoint: {mock.base}"""
    base_keys = f"""
      aws_access_key_id: {KEY_ID}
      aws_secret_access_key: os.environ/E2E_AWS_SECRET"""
    sts = f"""
      aws_sts_endpoint: {mock.base}"""
    cfg = f"""model_list:
  - model_name: claude-role
    litellm_params:
      model: {CLAUDE}{bedrock}{base_keys}{sts}
      aws_role_name: {SHORT_ROLE}
      aws_session_name: e2e-bedrock
  - model_name: claude-web
    litellm_params:
      model: {CLAUDE}{bedrock}{sts}
      aws_web_identity_token: oidc/file/{tmp / "token"}
      aws_role_name: {ACCOUNT}/e2e-web-role
      aws_session_name: e2e-web
  - model_name: claude-web-env
    litellm_params:
      model: {CLAUDE}{bedrock}{sts}
      aws_web_identity_token: os.environ/E2E_OIDC_TOKEN
      aws_role_name: {ACCOUNT}/e2e-web-env-role
      aws_session_name: e2e-web-env
  - model_name: claude-profile
    litellm_params:
      model: {CLAUDE}{bedrock}
      aws_profile_name: e2e
  - model_name: claude-profile-role
    litellm_params:
      model: {CLAUDE}{bedrock}{sts}
      aws_profile_name: e2e-admin
  - model_name: claude-denied
    litellm_params:
      model: {CLAUDE}{bedrock}{base_keys}{sts}
      aws_role_name: {ACCOUNT}/denied-e2e
  - model_name: sm-role
    litellm_params:
      model: sagemaker_chat/my-chat-endpoint
      aws_region_name: us-east-1
      api_base: {mock.base}{base_keys}{sts}
      aws_role_name: {ACCOUNT}/e2e-sagemaker-role
      aws_session_name: e2e-sagemaker
general_settings:
  master_key: {MASTER}
"""
    env = {
        "E2E_AWS_SECRET": SECRET,
        "E2E_OIDC_TOKEN": WEB_TOKEN,
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp / "credentials"),
        "AWS_CONFIG_FILE": str(tmp / "config"),
    }
    g = Gateway(tmp, cfg, env=env).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)


def get(mock, path):
    return json.loads(urllib.request.urlopen(f"{mock.base}{path}").read())


def sts_calls(mock, role):
    return [c for c in get(mock, "/_mock/sts") if c.get("role") == role]


def last_upstream(mock, prefix):
    return [r for r in get(mock, "/_mock/requests") if r["path"].startswith(prefix)][-1]


def credential(req):
    """The access key id a SigV4 `Authorization` header names."""
    return req["headers"]["authorization"].split("Credential=")[1].split("/")[0]


def test_bedrock_assume_role_once_then_refreshed(client, mock):
    for _ in range(3):
        r = client.chat.completions.create(model="claude-role", messages=HI)
        assert r.choices[0].message.content == "Hello from the Bedrock mock."
    chunks = list(client.chat.completions.create(model="claude-role", messages=HI, stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from the Bedrock mock."
    calls = sts_calls(mock, SHORT_ROLE)
    assert len(calls) == 1, calls
    assert (calls[0]["action"], calls[0]["session"]) == ("AssumeRole", "e2e-bedrock")
    sent = last_upstream(mock, "/model/")
    first = credential(sent)
    assert first.startswith("ASIA")
    assert sent["headers"]["x-amz-security-token"]
    # The mock refuses these keys once they expire: the gateway must have fetched new ones.
    time.sleep(3.2)
    r = client.chat.completions.create(model="claude-role", messages=HI)
    assert r.choices[0].message.content == "Hello from the Bedrock mock."
    assert len(sts_calls(mock, SHORT_ROLE)) == 2
    assert credential(last_upstream(mock, "/model/")) != first


def test_bedrock_web_identity_from_a_token_file(client, mock):
    r = client.chat.completions.create(model="claude-web", messages=HI)
    assert r.choices[0].message.content == "Hello from the Bedrock mock."
    client.chat.completions.create(model="claude-web", messages=HI)
    calls = sts_calls(mock, f"{ACCOUNT}/e2e-web-role")
    assert len(calls) == 1, calls
    c = calls[0]
    assert (c["action"], c["session"], c["duration"]) == ("AssumeRoleWithWebIdentity", "e2e-web", "3600")
    # LiteLLM's session policy for Bedrock.
    assert "bedrock:InvokeModel" in json.loads(c["policy"])["Statement"][0]["Action"]
    assert credential(last_upstream(mock, "/model/")).startswith("ASIA")


def test_bedrock_web_identity_token_from_the_environment(client, mock):
    r = client.chat.completions.create(model="claude-web-env", messages=HI)
    assert r.choices[0].message.content == "Hello from the Bedrock mock."
    assert len(sts_calls(mock, f"{ACCOUNT}/e2e-web-env-role")) == 1


def test_bedrock_profile_from_the_shared_credentials_file(client, mock):
    r = client.chat.completions.create(model="claude-profile", messages=HI)
    assert r.choices[0].message.content == "Hello from the Bedrock mock."
    assert credential(last_upstream(mock, "/model/")) == KEY_ID


def test_bedrock_profile_that_assumes_a_role(client, mock):
    r = client.chat.completions.create(model="claude-profile-role", messages=HI)
    assert r.choices[0].message.content == "Hello from the Bedrock mock."
    calls = sts_calls(mock, f"{ACCOUNT}/e2e-profile-role")
    assert [(c["action"], c["session"]) for c in calls] == [("AssumeRole", "e2e-from-profile")]
    assert credential(last_upstream(mock, "/model/")).startswith("ASIA")


def test_sagemaker_assume_role(client, mock):
    for _ in range(2):
        r = client.chat.completions.create(model="sm-role", messages=HI)
        assert r.choices[0].message.content
    calls = sts_calls(mock, f"{ACCOUNT}/e2e-sagemaker-role")
    assert [(c["action"], c["session"]) for c in calls] == [("AssumeRole", "e2e-sagemaker")]
    sent = last_upstream(mock, "/endpoints/")
    assert credential(sent).startswith("ASIA")
    assert "/sagemaker/aws4_request" in sent["headers"]["authorization"]


def test_refused_role_is_401_without_the_secret(gw, mock):
    req = urllib.request.Request(
        f"{gw.base}/chat/completions", data=json.dumps({"model": "claude-denied", "messages": HI}).encode(),
        headers={"Authorization": f"Bearer {MASTER}", "Content-Type": "application/json"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 401
    body = e.value.read().decode()
    assert SECRET not in body
    err = json.loads(body)["error"]
    assert "An error occurred (AccessDenied) when calling the AssumeRole operation" in err["message"], err
    assert err["code"] == "401"
    # Through the client as well: an AuthenticationError.
    client = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="claude-denied", messages=HI)
