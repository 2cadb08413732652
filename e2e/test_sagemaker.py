"""The official `openai` client through the llmgate binary to AWS SageMaker endpoints (the
SageMaker mock verifies each SigV4 signature for service `sagemaker` and streams TGI's SSE in
InvokeEndpointWithResponseStream's `PayloadPart` event-stream frames)."""
import json
import urllib.request

import openai
import pytest

from conftest import MASTER

# The mock's test credentials (llmgate_mock::AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
KEY_ID = "AKIDLLMGATEMOCK"
SECRET = "llmgate-mock-bedrock-secret"
TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"city": {"type": "string"}}}}}]
TEXT = "Hello from the SageMaker mock."


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
      aws_region_name: us-east-1
      api_base: {mock.base}{extra}"""
    cfg = ("model_list:"
           + dep("tgi", "sagemaker/my-tgi-endpoint")
           + dep("tgi-ic", "sagemaker/my-tgi-endpoint", extra="\n      model_id: my-component")
           + dep("sm-chat", "sagemaker_chat/my-chat-endpoint")
           + dep("embed", "sagemaker/my-embed-endpoint")
           + dep("badsig", "sagemaker/my-tgi-endpoint", secret="not-the-secret")
           + dep("stream-error", "sagemaker/mock-stream-error")) + f"""
general_settings:
  master_key: {MASTER}
"""
    g = Gateway(tmp_path_factory.mktemp("sagemaker"), cfg, env={"AWS_SECRET_ACCESS_KEY": SECRET}).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)


def last_request(mock):
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    return [r for r in reqs if r["path"].startswith("/endpoints/")][-1]


def test_tgi_chat_signed(client, mock):
    r = client.chat.completions.create(
        model="tgi", messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}],
        max_tokens=30, temperature=0)
    assert r.choices[0].message.content == TEXT
    assert r.model == "tgi"
    assert r.usage.prompt_tokens > 0 and r.usage.completion_tokens > 0
    sent = last_request(mock)
    assert sent["path"] == "/endpoints/my-tgi-endpoint/invocations"
    assert sent["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDLLMGATEMOCK/")
    assert "/us-east-1/sagemaker/aws4_request" in sent["headers"]["authorization"]
    assert sent["body"] == {"inputs": "Be brief. Hi", "parameters": {"max_new_tokens": 30, "temperature": 0.01}}


def test_tgi_stream_from_payload_parts(client, mock):
    chunks = list(client.chat.completions.create(
        model="tgi", messages=[{"role": "user", "content": "Hi"}], stream=True,
        stream_options={"include_usage": True}))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    assert any(c.choices and c.choices[0].finish_reason == "stop" for c in chunks)
    assert chunks[-1].usage.completion_tokens > 0
    sent = last_request(mock)
    assert sent["path"] == "/endpoints/my-tgi-endpoint/invocations-response-stream"
    assert sent["body"]["stream"] is True


def test_inference_component_header(client, mock):
    client.chat.completions.create(model="tgi-ic", messages=[{"role": "user", "content": "Hi"}])
    assert last_request(mock)["headers"]["x-amzn-sagemaker-inference-component"] == "my-component"


def test_text_completions(client, mock):
    r = client.completions.create(model="tgi", prompt="Say hello", max_tokens=5)
    assert r.choices[0].text == TEXT
    assert last_request(mock)["body"]["inputs"] == "Say hello"


def test_messages_api_chat_and_tools(client, mock):
    msgs = [{"role": "user", "content": "Weather in Paris?"}]
    r = client.chat.completions.create(model="sm-chat", messages=msgs, tools=TOOLS)
    assert r.choices[0].finish_reason == "tool_calls"
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    sent = last_request(mock)
    assert sent["path"] == "/endpoints/my-chat-endpoint/invocations"
    assert sent["body"]["messages"][0]["content"] == "Weather in Paris?"
    assert sent["body"]["tools"][0]["function"]["name"] == "get_weather"
    msgs += [r.choices[0].message.model_dump(exclude_none=True),
             {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    r2 = client.chat.completions.create(model="sm-chat", messages=msgs, tools=TOOLS)
    assert r2.choices[0].message.content == TEXT


def test_messages_api_stream(client, mock):
    chunks = list(client.chat.completions.create(
        model="sm-chat", messages=[{"role": "user", "content": "Hi"}], stream=True))
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == TEXT
    assert any(c.choices and c.choices[0].finish_reason == "stop" for c in chunks)
    sent = last_request(mock)
    assert sent["path"] == "/endpoints/my-chat-endpoint/invocations-response-stream"
    assert "stream" not in sent["body"]


def test_embeddings(client, mock):
    r = client.embeddings.create(model="embed", input=["hello world", "a b c"])
    assert [len(d.embedding) for d in r.data] == [3, 3]
    assert r.usage.prompt_tokens == 5
    sent = last_request(mock)
    assert sent["body"] == {"inputs": ["hello world", "a b c"]}
    assert sent["headers"]["x-amzn-sagemaker-custom-attributes"] == "accept_eula=true"


def test_bad_signature_is_403(client):
    with pytest.raises(openai.PermissionDeniedError) as e:
        client.chat.completions.create(model="badsig", messages=[{"role": "user", "content": "Hi"}])
    assert "signature" in str(e.value)
    assert "not-the-secret" not in str(e.value)


def test_exception_frame_mid_stream(client):
    got = ""
    with pytest.raises(openai.APIError) as e:
        for c in client.chat.completions.create(model="stream-error",
                                                messages=[{"role": "user", "content": "Hi"}], stream=True):
            got += (c.choices[0].delta.content or "") if c.choices else ""
    assert got.startswith("Hello")
    assert "failed while streaming" in str(e.value)


def test_unsupported_params_are_named(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="tgi", messages=[{"role": "user", "content": "Hi"}], tools=TOOLS)
    assert "tools" in str(e.value)
