"""The official `openai` client through the llmgate binary to IBM watsonx.ai (the watsonx mock:
an IAM token endpoint that checks the API-key grant, and chat, generation and embeddings routes
that require the issued bearer token, the `version` query and a project or space)."""
import json
import urllib.request

import openai
import pytest

from conftest import MASTER

# llmgate_mock::WATSONX_API_KEY / WATSONX_TOKEN.
API_KEY = "llmgate-mock-watsonx-apikey"
TOKEN = "llmgate-mock-watsonx-token"
TOOLS = [{"type": "function", "function": {"name": "get_weather", "strict": True, "parameters": {
    "type": "object", "additionalProperties": False, "properties": {"city": {"type": "string"}}}}}]


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    from conftest import Gateway

    def dep(name, model, auth=f"api_key: {API_KEY}", scope="project_id: e2e-project"):
        return f"""
  - model_name: {name}
    litellm_params:
      model: {model}
      api_base: {mock.base}
      {auth}
      {scope}"""
    cfg = ("model_list:"
           + dep("granite", "watsonx/ibm/granite-3-8b-instruct")
           + dep("granite-text", "watsonx_text/ibm/granite-13b-chat-v2", scope="space_id: e2e-space")
           + dep("slate", "watsonx/ibm/slate-30m-english-rtrvr")
           + dep("dep", "watsonx/deployment/my-dep", scope="")
           + dep("ready-token", "watsonx/ibm/granite-3-8b-instruct", auth=f"token: {TOKEN}")
           + dep("bad-key", "watsonx/ibm/granite-3-8b-instruct", auth="api_key: not-the-key")
           + dep("no-project", "watsonx/ibm/granite-3-8b-instruct", scope="")
           + dep("wx-error", "watsonx/mock-error-429")) + f"""
general_settings:
  master_key: {MASTER}
"""
    g = Gateway(tmp_path_factory.mktemp("watsonx"), cfg,
                env={"WATSONX_IAM_URL": f"{mock.base}/identity/token"}).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)


def requests_to(mock, prefix):
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    return [r for r in reqs if r["path"].startswith(prefix)]


def test_chat_exchanges_the_key_once(client, mock):
    before = len(requests_to(mock, "/identity/token"))
    for _ in range(3):
        r = client.chat.completions.create(
            model="granite", messages=[{"role": "user", "content": "Hi"}], max_tokens=20)
        assert r.choices[0].message.content == "Hello from the watsonx mock."
        assert r.model == "granite"
        assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (9, 7)
    # Every other test may exchange too; this one's three calls add at most the one exchange.
    tokens = requests_to(mock, "/identity/token")
    assert len(tokens) - before <= 1
    assert tokens[-1]["body"]["grant_type"] == "urn:ibm:params:oauth:grant-type:apikey"
    sent = requests_to(mock, "/ml/v1/text/chat")[-1]
    assert sent["query"] == "version=2024-03-13"
    assert sent["headers"]["authorization"].startswith("Bearer wx-iam-token-")
    assert sent["body"]["model_id"] == "ibm/granite-3-8b-instruct"
    assert sent["body"]["project_id"] == "e2e-project"
    assert sent["body"]["max_tokens"] == 20


def test_several_calls_one_exchange(client, mock):
    # The key was exchanged by an earlier call (or this one); more calls exchange nothing.
    client.chat.completions.create(model="granite", messages=[{"role": "user", "content": "Hi"}])
    before = len(requests_to(mock, "/identity/token"))
    for _ in range(3):
        client.chat.completions.create(model="granite", messages=[{"role": "user", "content": "Hi"}])
        client.embeddings.create(model="slate", input="hello")
    assert len(requests_to(mock, "/identity/token")) == before


def test_chat_is_priced_from_the_catalog(client):
    raw = client.chat.completions.with_raw_response.create(
        model="granite", messages=[{"role": "user", "content": "Hi"}])
    # watsonx/ibm/granite-3-8b-instruct: 9 input and 7 output tokens at 2e-7.
    assert float(raw.headers["x-litellm-response-cost"]) == pytest.approx(3.2e-6, rel=1e-9)


def test_stream_with_usage(client, mock):
    chunks = list(client.chat.completions.create(
        model="granite", messages=[{"role": "user", "content": "Hi"}], stream=True,
        stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from the watsonx mock."
    assert any(c.choices and c.choices[0].finish_reason == "stop" for c in chunks)
    assert chunks[-1].usage.total_tokens == 9 + 5
    assert requests_to(mock, "/ml/v1/text/chat_stream")[-1]["query"] == "version=2024-03-13"


def test_tools_as_watsonx_takes_them(client, mock):
    msgs = [{"role": "user", "content": "Weather in Paris?"}]
    r = client.chat.completions.create(model="granite", messages=msgs, tools=TOOLS, tool_choice="required")
    assert r.choices[0].finish_reason == "tool_calls"
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    sent = requests_to(mock, "/ml/v1/text/chat")[-1]["body"]
    assert sent["tool_choice_option"] == "required"
    fn = sent["tools"][0]["function"]
    assert "strict" not in fn and "additionalProperties" not in fn["parameters"]
    msgs += [r.choices[0].message.model_dump(exclude_none=True),
             {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    r2 = client.chat.completions.create(model="granite", messages=msgs, tools=TOOLS)
    assert r2.choices[0].message.content == "Hello from the watsonx mock."


def test_text_generation_chat_and_stream(client, mock):
    r = client.chat.completions.create(
        model="granite-text", messages=[{"role": "system", "content": "Be brief."},
                                        {"role": "user", "content": "Hi"}], max_tokens=9, seed=3)
    assert r.choices[0].message.content == "Hello from watsonx text generation."
    assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (5, 6)
    sent = requests_to(mock, "/ml/v1/text/generation")[-1]["body"]
    assert sent["input"] == "<|system|>\nBe brief.\n<|user|>\nHi\n<|assistant|>"
    assert sent["parameters"] == {"max_new_tokens": 9, "random_seed": 3}
    assert sent["space_id"] == "e2e-space"
    chunks = list(client.chat.completions.create(
        model="granite-text", messages=[{"role": "user", "content": "Hi"}], stream=True,
        stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from watsonx text generation."
    assert (chunks[-1].usage.prompt_tokens, chunks[-1].usage.completion_tokens) == (5, 5)


def test_text_completions(client, mock):
    r = client.completions.create(model="granite-text", prompt="Say hello", max_tokens=5)
    assert r.choices[0].text == "Hello from watsonx text generation."
    sent = requests_to(mock, "/ml/v1/text/generation")[-1]["body"]
    assert sent["input"] == "<|user|>\nSay hello\n<|assistant|>"
    got = "".join(c.choices[0].text for c in client.completions.create(
        model="granite-text", prompt="Say hello", stream=True) if c.choices)
    assert got == "Hello from watsonx text generation."


def test_embeddings_with_token_usage(client, mock):
    r = client.embeddings.create(model="slate", input=["hello world", "a b c"])
    assert [d.index for d in r.data] == [0, 1]
    assert len(r.data[0].embedding) == 3
    assert r.usage.prompt_tokens == 5
    sent = requests_to(mock, "/ml/v1/text/embeddings")[-1]["body"]
    assert sent["inputs"] == ["hello world", "a b c"] and sent["project_id"] == "e2e-project"


def test_deployment_model(client, mock):
    r = client.chat.completions.create(model="dep", messages=[{"role": "user", "content": "Hi"}])
    assert r.choices[0].message.content == "Hello from the watsonx mock."
    sent = requests_to(mock, "/ml/v1/deployments/")[-1]
    assert sent["path"] == "/ml/v1/deployments/my-dep/text/chat"
    assert "model_id" not in sent["body"] and "project_id" not in sent["body"]


def test_ready_token_skips_iam(client, mock):
    before = len(requests_to(mock, "/identity/token"))
    r = client.chat.completions.create(model="ready-token", messages=[{"role": "user", "content": "Hi"}])
    assert r.choices[0].message.content == "Hello from the watsonx mock."
    assert requests_to(mock, "/ml/v1/text/chat")[-1]["headers"]["authorization"] == f"Bearer {TOKEN}"
    assert len(requests_to(mock, "/identity/token")) == before


def test_bad_api_key_is_401(client):
    with pytest.raises(openai.AuthenticationError) as e:
        client.chat.completions.create(model="bad-key", messages=[{"role": "user", "content": "Hi"}])
    assert e.value.status_code == 401
    body = e.value.body
    assert body["code"] == "401" and body["type"] == "authentication_error"
    assert "could not be found" in body["message"]
    assert "not-the-key" not in body["message"]


def test_missing_project_is_401(client):
    with pytest.raises(openai.AuthenticationError) as e:
        client.chat.completions.create(model="no-project", messages=[{"role": "user", "content": "Hi"}])
    assert "project_id" in str(e.value)


def test_upstream_errors_map(client):
    with pytest.raises(openai.RateLimitError):
        client.chat.completions.create(model="wx-error", messages=[{"role": "user", "content": "Hi"}])


def test_text_params_on_chat_are_refused(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="granite", messages=[{"role": "user", "content": "Hi"}],
                                       extra_body={"decoding_method": "greedy"})
    assert "watsonx_text" in str(e.value)
