"""The official `openai` client through the llmgate binary to AWS Bedrock (the Bedrock mock,
which verifies each SigV4 signature and streams binary event-stream frames)."""
import base64
import json
import urllib.request

import openai
import pytest

from conftest import MASTER

# The mock's test credentials (llmgate_mock::AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
KEY_ID = "AKIDLLMGATEMOCK"
SECRET = "llmgate-mock-bedrock-secret"
CLAUDE = "bedrock/us.anthropic.claude-3-5-sonnet-20240620-v1:0"
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}}}}]


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    from conftest import Gateway

    def dep(name, model, secret="os.environ/AWS_SECRET_ACCESS_KEY", extra=""):
        return f"""
  - model_name: {name}
    litellm_params:
      model: {model}
      aws_access_key_id: {KEY_ID}
      aws_secret_access_key: {secret}
      aws_session_token: e2e-session
      aws_region_name: us-east-1
      aws_bedrock_runtime_endpoint: {mock.base}{extra}"""
    cfg = ("model_list:" + dep("claude", CLAUDE) + dep("badsig", CLAUDE, secret="not-the-secret")
           + dep("titan", "bedrock/amazon.titan-embed-text-v2:0")) + f"""
  - model_name: claude-bearer
    litellm_params:
      model: {CLAUDE}
      api_key: bedrock-api-key-e2e
      aws_bedrock_runtime_endpoint: {mock.base}
  - model_name: claude-media
    litellm_params:
      model: {CLAUDE}
      api_key: bedrock-api-key-e2e
      aws_bedrock_runtime_endpoint: {mock.base}
      media_url_allowlist: ["127.0.0.1"]
  - model_name: nova-stream-error
    litellm_params:
      model: bedrock/mock-stream-error
      api_key: bedrock-api-key-e2e
      aws_bedrock_runtime_endpoint: {mock.base}
general_settings:
  master_key: {MASTER}
"""
    g = Gateway(tmp_path_factory.mktemp("bedrock"), cfg, env={"AWS_SECRET_ACCESS_KEY": SECRET}).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)


def last_bedrock_request(mock):
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    reqs = [r for r in reqs if r["path"].startswith("/model/")]
    return reqs[-1]


def test_chat_signed_with_cost(client, mock):
    raw = client.chat.completions.with_raw_response.create(
        model="claude", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}])
    r = raw.parse()
    assert r.choices[0].message.content == "Hello from the Bedrock mock."
    assert r.model == "claude"
    assert (r.usage.prompt_tokens, r.usage.completion_tokens) == (10, 6)
    # us.anthropic.claude-3-5-sonnet-20240620-v1:0: 10 input tokens at 3e-6, 6 output at 1.5e-5.
    assert float(raw.headers["x-litellm-response-cost"]) == pytest.approx(1.2e-4, rel=1e-9)
    sent = last_bedrock_request(mock)
    assert sent["path"] == "/model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse"
    assert sent["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDLLMGATEMOCK/")
    assert sent["body"]["system"] == [{"text": "Be brief."}]


def test_stream_with_usage(client):
    chunks = list(client.chat.completions.create(
        model="claude", messages=[{"role": "user", "content": "Hi"}], stream=True,
        stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from the Bedrock mock."
    assert chunks[-1].usage.total_tokens == 16
    assert any(c.choices and c.choices[0].finish_reason == "stop" for c in chunks)


def test_tool_call_and_follow_up(client):
    msgs = [{"role": "user", "content": "Weather in Paris?"}]
    r = client.chat.completions.create(model="claude", messages=msgs, tools=TOOLS)
    assert r.choices[0].finish_reason == "tool_calls"
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    msgs += [r.choices[0].message.model_dump(exclude_none=True),
             {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    r2 = client.chat.completions.create(model="claude", messages=msgs, tools=TOOLS)
    assert r2.choices[0].message.content == "Hello from the Bedrock mock."


def test_streamed_tool_call(client):
    args, name = "", None
    for c in client.chat.completions.create(model="claude", messages=[{"role": "user", "content": "Weather?"}],
                                            tools=TOOLS, stream=True):
        for tc in (c.choices[0].delta.tool_calls or []) if c.choices else []:
            name = name or tc.function.name
            args += tc.function.arguments or ""
    assert name == "get_weather"
    assert json.loads(args) == {"city": "Paris"}


def test_bearer_key(client, mock):
    r = client.chat.completions.create(model="claude-bearer", messages=[{"role": "user", "content": "Hi"}])
    assert r.choices[0].message.content == "Hello from the Bedrock mock."
    assert last_bedrock_request(mock)["headers"]["authorization"] == "Bearer bedrock-api-key-e2e"


def test_bad_signature_is_403(client):
    with pytest.raises(openai.PermissionDeniedError) as e:
        client.chat.completions.create(model="badsig", messages=[{"role": "user", "content": "Hi"}])
    assert "signature" in str(e.value)
    assert "not-the-secret" not in str(e.value)


def test_exception_frame_mid_stream(client):
    got = ""
    with pytest.raises(openai.APIError) as e:
        for c in client.chat.completions.create(model="nova-stream-error",
                                                messages=[{"role": "user", "content": "Hi"}], stream=True):
            got += (c.choices[0].delta.content or "") if c.choices else ""
    assert got.startswith("Hello")
    assert "Too many requests" in str(e.value)


def test_titan_embeddings_with_cost(client, mock):
    raw = client.embeddings.with_raw_response.create(model="titan", input=["hello world", "a b c"], dimensions=3)
    r = raw.parse()
    assert [len(d.embedding) for d in r.data] == [3, 3]
    assert r.usage.prompt_tokens == 5
    # amazon.titan-embed-text-v2:0: 5 input tokens at 2e-8.
    assert float(raw.headers["x-litellm-response-cost"]) == pytest.approx(1e-7, rel=1e-9)
    assert last_bedrock_request(mock)["path"] == "/model/amazon.titan-embed-text-v2%3A0/invoke"


def image_ask(client, model, url):
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": [
        {"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": url}}]}])


def test_image_url_is_fetched_and_inlined(client, mock):
    # Bedrock takes bytes only: the gateway downloads the URL (here an allow-listed loopback
    # source) and sends it as an image block, typed by the response's Content-Type.
    image_ask(client, "claude-media", f"{mock.base}/files/cat.png")
    block = last_bedrock_request(mock)["body"]["messages"][0]["content"][1]
    assert block == {"image": {"format": "png", "source": {"bytes": base64.b64encode(b"\x89PNG\r\n\x1a\nmock").decode()}}}


def test_image_url_to_an_internal_address_is_refused(client, mock):
    before = len(json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read()))
    with pytest.raises(openai.BadRequestError) as e:
        image_ask(client, "claude-bearer", f"{mock.base}/files/cat.png")
    assert "could not fetch the media URL" in str(e.value)
    after = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    assert len(after) == before  # neither the file nor Bedrock was called
