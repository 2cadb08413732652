"""Stream usage as LiteLLM 1.110's proxy asks for it: `stream_options.include_usage` is added
upstream where the provider takes it (the usage chunk kept from a client that did not ask), never
for a vendor whose params lack it, and never with `always_include_stream_usage: false`."""
import json
import urllib.request

import openai
import pytest

from conftest import Gateway

HI = [{"role": "user", "content": "Hi"}]


def last_request(mock):
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())[-1]


def gateway(mock, tmp_path, settings=""):
    b = f"{mock.base}/v1"
    cfg = (
        "model_list:\n"
        f"  - model_name: gpt\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: {b}\n      api_key: sk-up\n"
        f"  - model_name: ppx\n    litellm_params:\n      model: perplexity/sonar\n      api_base: {b}\n      api_key: sk-up\n"
        f"general_settings:\n  master_key: sk-stream-usage-master-0123\n{settings}"
    )
    return Gateway(tmp_path, cfg, env={"LLMGATE_DB_PATH": str(tmp_path / "s.db")}).wait_ready()


@pytest.mark.parametrize("settings,gpt_asked", [("", True), ("  always_include_stream_usage: false\n", False)])
def test_stream_usage_is_asked_as_litellms_proxy_asks(mock, tmp_path, settings, gpt_asked):
    gw = gateway(mock, tmp_path, settings)
    try:
        client = openai.OpenAI(base_url=gw.base, api_key="sk-stream-usage-master-0123", max_retries=0)
        chunks = list(client.chat.completions.create(model="gpt", messages=HI, stream=True))
        sent = last_request(mock)["body"]
        assert ("stream_options" in sent) == gpt_asked, sent
        assert all(c.usage is None for c in chunks)  # the client did not ask
        assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        list(client.chat.completions.create(model="ppx", messages=HI, stream=True))
        assert "stream_options" not in last_request(mock)["body"]
    finally:
        gw.stop()
