"""One settlement per call, through the real binary: a stream the client leaves early, or
whose upstream connection is cut, is charged for what it produced and logged as such; client-side
`api_base` is refused unless allowed."""
import json
import time
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway
from test_virtual_keys import admin

PRICE = "      input_cost_per_token: 0.001\n      output_cost_per_token: 0.002\n"


def config(mock):
    b = f"{mock.base}/v1"
    out = "model_list:\n"
    for name, model, extra in [
        ("slow", "openai/mock-stream-slow-200", ""),
        ("drop", "openai/mock-stream-drop", ""),
        ("gpt-4o", "openai/gpt-4o", ""),
        ("slow-answer", "openai/mock-slow-1000", ""),
        ("usage-on-finish", "openai/mock-usage-on-finish", ""),
        ("open-base", "openai/gpt-4o", "      configurable_clientside_auth_params: [\"api_base\"]\n"),
    ]:
        out += (f"  - model_name: {name}\n    litellm_params:\n      model: {model}\n"
                f"      api_base: {b}\n      api_key: sk-up\n{PRICE}{extra}")
    return out + f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 0.2\n"


@pytest.fixture
def gw(mock, tmp_path):
    g = Gateway(tmp_path, config(mock), env={"LLMGATE_DB_PATH": str(tmp_path / "k.db")}).wait_ready()
    yield g
    g.stop()


def logs_of(gw, key, want=1, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        _, logs = admin(gw, "GET", f"/spend/logs?api_key={key}")
        if isinstance(logs, list) and len(logs) >= want:
            return logs
        time.sleep(0.1)
    raise AssertionError(f"no spend log for the key within {timeout}s")


def cancelled(mock):
    with urllib.request.urlopen(f"{mock.base}/_mock/cancelled") as r:
        return json.loads(r.read())["cancelled"]


def new_key(gw):
    status, k = admin(gw, "POST", "/key/generate", {})
    assert status == 200, k
    return k["key"]


def test_a_client_that_leaves_after_five_chunks_is_charged_and_logged(gw, mock):
    key = new_key(gw)
    before = cancelled(mock)
    client = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
    stream = client.chat.completions.create(
        model="slow", messages=[{"role": "user", "content": "Tell me a story"}], stream=True)
    got = []
    for chunk in stream:
        got.append(chunk)
        if len(got) == 5:
            break
    stream.close()  # the client disconnects before the usage chunk
    text = "".join(c.choices[0].delta.content or "" for c in got if c.choices)
    assert text, "content arrived before the disconnect"

    [log] = logs_of(gw, key)
    assert log["status"] == "failure"
    assert log["metadata"]["error_information"]["error_class"] == "ClientDisconnected"
    assert log["metadata"]["partial_response"] is True
    assert log["prompt_tokens"] > 0, "prompt counted from the request"
    assert log["completion_tokens"] > 0, "completion counted from the text sent"
    assert log["spend"] == pytest.approx(
        log["prompt_tokens"] * 0.001 + log["completion_tokens"] * 0.002)
    _, info = admin(gw, "GET", f"/key/info?key={key}")
    assert info["info"]["spend"] == pytest.approx(log["spend"])
    # The upstream request was cancelled too.
    deadline = time.time() + 5
    while cancelled(mock) == before and time.time() < deadline:
        time.sleep(0.05)
    assert cancelled(mock) > before


def test_a_client_that_gives_up_waiting_is_logged_with_its_prompt(gw):
    key = new_key(gw)
    client = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0, timeout=0.3)
    with pytest.raises(openai.APITimeoutError):
        client.chat.completions.create(model="slow-answer", messages=[{"role": "user", "content": "Hi"}])
    [log] = logs_of(gw, key)
    assert log["status"] == "failure"
    assert log["metadata"]["error_information"]["error_class"] == "ClientDisconnected"
    assert log["prompt_tokens"] > 0 and log["completion_tokens"] == 0


def test_an_upstream_cut_mid_stream_is_logged_with_partial_usage(gw):
    key = new_key(gw)
    client = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
    stream = client.chat.completions.create(
        model="drop", messages=[{"role": "user", "content": "Hi"}], stream=True)
    text = ""
    with pytest.raises(openai.APIError):
        for chunk in stream:
            if chunk.choices:
                text += chunk.choices[0].delta.content or ""
    assert text == "Hello fro"
    [log] = logs_of(gw, key)
    assert log["status"] == "failure"
    assert log["metadata"]["partial_response"] is True
    assert log["metadata"]["error_information"]["error_class"] != "ClientDisconnected"
    assert log["completion_tokens"] > 0 and log["prompt_tokens"] > 0
    assert log["spend"] > 0


def test_a_complete_stream_is_charged_once(gw):
    key = new_key(gw)
    client = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
    list(client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True))
    [log] = logs_of(gw, key)
    time.sleep(0.5)
    assert len(logs_of(gw, key)) == 1
    assert log["status"] == "success"
    assert (log["prompt_tokens"], log["completion_tokens"]) == (10, 5), "the upstream's usage"


def test_client_side_api_base_is_refused_unless_allowed(gw, mock):
    key = new_key(gw)
    client = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
    msg = [{"role": "user", "content": "Hi"}]
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="gpt-4o", messages=msg,
                                       extra_body={"api_base": "http://127.0.0.1:9/evil"})
    assert "api_base is not allowed" in e.value.message
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model="gpt-4o", messages=msg,
                                       extra_body={"metadata": {"base_url": "http://127.0.0.1:9"}})
    # The deployment allows it: the call goes where the client said (here: the mock again).
    r = client.chat.completions.create(model="open-base", messages=msg,
                                       extra_body={"api_base": f"{mock.base}/v1"})
    assert r.choices[0].message.content == "Hello from mock"
    # An admin may send it to any model; a bad base is then the admin's own 5xx, not a switch.
    admin_client = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
    r = admin_client.chat.completions.create(model="gpt-4o", messages=msg,
                                             extra_body={"api_base": f"{mock.base}/v1"})
    assert r.choices[0].message.content == "Hello from mock"


def test_usage_on_the_finish_chunk_keeps_the_finish_and_prices_the_call(gw):
    key = new_key(gw)
    client = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
    chunks = list(client.chat.completions.create(
        model="usage-on-finish", messages=[{"role": "user", "content": "Hi"}], stream=True))
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason]
    assert finishes == ["stop"], "the finish chunk reached the client"
    assert all(c.usage is None for c in chunks), "usage it did not ask for is left out"
    [log] = logs_of(gw, key)
    assert log["status"] == "success"
    assert (log["prompt_tokens"], log["completion_tokens"]) == (10, 5)
    # A client that asked for usage gets it on that same chunk.
    chunks = list(client.chat.completions.create(
        model="usage-on-finish", messages=[{"role": "user", "content": "Hi"}], stream=True,
        stream_options={"include_usage": True}))
    assert [c.usage.total_tokens for c in chunks if c.usage] == [15]
