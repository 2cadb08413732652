"""The official `openai` client through the llmgate binary to Cohere's v2 API (the mock's
`/v2/*` routes): chat plain and streamed, tools with a follow-up turn, documents and
citations, JSON schemas, embeddings (base64 and float), `/v1/completions` through chat, and
errors."""
import json
import struct
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway

TOOLS = [{"type": "function", "function": {"name": "get_weather", "parameters": {
    "type": "object", "properties": {"location": {"type": "string"}}, "required": ["location"]}}}]


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("cohere")
    rows = [
        ("command-r", "cohere_chat/command-r-08-2024", "api_key: sk-co"),
        ("command-a", "cohere/command-a-03-2025", "api_key: sk-co"),
        ("embed-v3", "cohere/embed-english-v3.0", "api_key: sk-co"),
        ("embed-v4", "cohere/embed-v4.0", "api_key: sk-co"),
        ("stream-error", "cohere/mock-stream-error", "api_key: sk-co"),
        # No key in the config: COHERE_API_KEY is empty, so the mock refuses the call.
        ("no-key", "cohere/command-r-08-2024", "timeout: 5"),
    ]
    cfg = "model_list:\n"
    for name, model, extra in rows:
        cfg += (f"  - model_name: {name}\n    litellm_params:\n      model: {model}\n"
                f"      api_base: {mock.base}\n      {extra}\n")
    cfg += f"general_settings:\n  master_key: {MASTER}\n"
    g = Gateway(tmp, cfg, env={"COHERE_API_KEY": "", "CO_API_KEY": ""}).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=f"{gw.base}/v1", api_key=MASTER, max_retries=0)


def last_request(mock, path):
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    return [r for r in reqs if r["path"] == path][-1]


def test_chat(client, mock):
    raw = client.chat.completions.with_raw_response.create(
        model="command-r", max_completion_tokens=20, top_p=0.5, stop=["END"], seed=3,
        messages=[{"role": "system", "content": "Be brief."}, {"role": "user", "content": "hi there"}])
    r = raw.parse()
    assert r.choices[0].message.content == "Hello from Cohere"
    assert r.choices[0].finish_reason == "stop"
    assert r.model == "command-r" and r.id.startswith("chatcmpl-")
    # `usage.tokens` (billed units + 10 in the mock), as LiteLLM reports.
    assert r.usage.completion_tokens == 3 and r.usage.prompt_tokens > 10
    rec = last_request(mock, "/v2/chat")
    assert rec["headers"]["authorization"] == "Bearer sk-co"
    sent = rec["body"]
    assert sent["model"] == "command-r-08-2024"
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert (sent["max_tokens"], sent["p"], sent["stop_sequences"], sent["seed"]) == (20, 0.5, ["END"], 3)
    # Priced from the catalog (LiteLLM's map): 1.5e-7 in, 6e-7 out.
    want = r.usage.prompt_tokens * 1.5e-7 + r.usage.completion_tokens * 6e-7
    assert float(raw.headers["x-litellm-response-cost"]) == pytest.approx(want)


@pytest.mark.parametrize("model", ["command-r", "command-a"])
def test_stream(client, model):
    s = client.chat.completions.create(model=model, stream=True, stream_options={"include_usage": True},
                                       messages=[{"role": "user", "content": "hi"}])
    chunks = list(s)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Hello from Cohere"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["stop"]
    assert chunks[-1].usage.completion_tokens == 3 and not chunks[-1].choices
    assert len({c.id for c in chunks}) == 1


def test_stream_without_usage_asked_sends_none(client):
    chunks = list(client.chat.completions.create(model="command-r", stream=True,
                                                 messages=[{"role": "user", "content": "hi"}]))
    assert all(c.usage is None for c in chunks)
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == "Hello from Cohere"


def test_tools_and_the_follow_up_turn(client, mock):
    msgs = [{"role": "user", "content": "weather in Paris?"}]
    r = client.chat.completions.create(model="command-r", tools=TOOLS, tool_choice="required", messages=msgs)
    call = r.choices[0].message.tool_calls[0]
    assert r.choices[0].finish_reason == "tool_calls" and r.choices[0].message.content is None
    assert call.function.name == "get_weather" and json.loads(call.function.arguments) == {"location": "Paris"}
    sent = last_request(mock, "/v2/chat")["body"]
    assert sent["tool_choice"] == "REQUIRED" and sent["tools"] == TOOLS
    msgs += [r.choices[0].message.model_dump(exclude_none=True),
             {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    r2 = client.chat.completions.create(model="command-r", tools=TOOLS, messages=msgs)
    assert r2.choices[0].message.content == "Hello from Cohere"
    turn = last_request(mock, "/v2/chat")["body"]["messages"]
    assert turn[1]["tool_calls"][0]["id"] == call.id and "content" not in turn[1]
    assert turn[2] == {"role": "tool", "tool_call_id": call.id, "content": "sunny"}


def test_streamed_tool_call(client):
    chunks = list(client.chat.completions.create(
        model="command-a", tools=TOOLS, stream=True, messages=[{"role": "user", "content": "weather?"}]))
    deltas = [t for c in chunks if c.choices for t in (c.choices[0].delta.tool_calls or [])]
    assert deltas[0].id == "get_weather_mock1" and deltas[0].function.name == "get_weather"
    args = "".join(t.function.arguments or "" for t in deltas)
    assert json.loads(args) == {"location": "Paris"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]


def test_documents_become_citations(client, mock):
    docs = [{"id": "doc-1", "data": {"title": "Greetings", "text": "Hello is a greeting."}}]
    r = client.chat.completions.create(model="command-r", extra_body={"documents": docs},
                                       messages=[{"role": "user", "content": "what is hello?"}])
    assert last_request(mock, "/v2/chat")["body"]["documents"] == docs
    ann = r.choices[0].message.annotations
    assert ann[0].type == "url_citation"
    assert ann[0].url_citation.url == "source:doc-1" and ann[0].url_citation.title == "Greetings"
    assert (ann[0].url_citation.start_index, ann[0].url_citation.end_index) == (0, 5)
    chunks = list(client.chat.completions.create(model="command-r", stream=True, extra_body={"documents": docs},
                                                 messages=[{"role": "user", "content": "what is hello?"}]))
    cites = [c.choices[0].delta.model_extra.get("provider_specific_fields") for c in chunks if c.choices]
    found = [f["citations"][0] for f in cites if f and "citations" in f]
    assert found[0]["sources"][0]["id"] == "doc-1"


def test_json_schema_is_sent_as_cohere_takes_it(client, mock):
    schema = {"type": "object", "properties": {"answer": {"type": "integer"}}}
    r = client.chat.completions.create(
        model="command-r", messages=[{"role": "user", "content": "json please"}],
        response_format={"type": "json_schema", "json_schema": {"name": "a", "schema": schema}})
    assert json.loads(r.choices[0].message.content) == {"answer": 42}
    assert last_request(mock, "/v2/chat")["body"]["response_format"] == {"type": "json_object", "json_schema": schema}


def floats(b64_or_list):
    return [round(x, 4) for x in b64_or_list]


def test_embeddings(client, mock):
    # The openai client asks for base64 (and decodes it): sent as Cohere's `embedding_types`.
    e = client.embeddings.create(model="embed-v3", input=["a b", "c"])
    assert [d.index for d in e.data] == [0, 1]
    assert floats(e.data[1].embedding) == [0.2, 0.21, 0.22, 0.23]
    assert e.usage.prompt_tokens == 3 and e.model == "embed-v3"
    sent = last_request(mock, "/v2/embed")["body"]
    assert sent == {"model": "embed-english-v3.0", "texts": ["a b", "c"], "input_type": "search_document",
                    "embedding_types": ["base64"]}
    e = client.embeddings.create(model="embed-v4", input="q", encoding_format="float", dimensions=256,
                                 extra_body={"input_type": "search_query"})
    assert len(e.data[0].embedding) == 256
    sent = last_request(mock, "/v2/embed")["body"]
    assert (sent["embedding_types"], sent["output_dimension"], sent["input_type"]) == (["float"], 256, "search_query")
    raw = client.embeddings.with_raw_response.create(model="embed-v3", input="one two three four")
    assert float(raw.headers["x-litellm-response-cost"]) == pytest.approx(4 * 1e-7)


def test_text_completion_goes_through_chat(client, mock):
    r = client.completions.create(model="command-r", prompt="Once upon", max_tokens=4)
    assert r.choices[0].text == "Hello from Cohere"
    sent = last_request(mock, "/v2/chat")["body"]
    assert sent["messages"] == [{"role": "user", "content": "Once upon"}] and sent["max_tokens"] == 4


def test_errors(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="command-r", logit_bias={"1": 1},
                                       messages=[{"role": "user", "content": "hi"}])
    assert "does not support parameters: ['logit_bias']" in str(e.value)
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="command-r", n=2, messages=[{"role": "user", "content": "hi"}])
    # n = 1 is the default: left out, not refused.
    assert client.chat.completions.create(model="command-r", n=1, messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.AuthenticationError):
        client.chat.completions.create(model="no-key", messages=[{"role": "user", "content": "hi"}])
    s = client.chat.completions.create(model="stream-error", stream=True,
                                       messages=[{"role": "user", "content": "hi"}])
    with pytest.raises(openai.APIError):
        list(s)
