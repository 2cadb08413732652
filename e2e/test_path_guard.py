"""Wildcard routes pass the client's model name on; through the real binary, a name that would
choose the upstream path is a 400 `BadRequestError` and the mock upstream sees no request."""
import json
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway, Mock

HOSTILE = ["../../v1/evil", "x?alt=evil", "x%2F..%2Fevil", "x#frag", "x/../../evil"]


@pytest.fixture(scope="module")
def upstream():
    """A mock of its own, so that what it recorded is this module's alone."""
    m = Mock()
    yield m
    m.stop()


@pytest.fixture(scope="module")
def gw(upstream, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("path_guard")
    sa = tmp / "sa.json"
    sa.write_text(urllib.request.urlopen(f"{upstream.base}/_mock/service_account").read().decode())
    cfg = f"""
model_list:
  - model_name: "gemini/*"
    litellm_params:
      model: "gemini/*"
      api_base: {upstream.base}/v1beta
      api_key: gm-e2e
  - model_name: "vertex_ai/*"
    litellm_params:
      model: "vertex_ai/*"
      api_base: {upstream.base}
      vertex_project: proj-e2e
      vertex_location: us-central1
      vertex_credentials: {sa}
  - model_name: "azure/*"
    litellm_params:
      model: "azure/*"
      api_base: {upstream.base}
      api_key: az-e2e
general_settings:
  master_key: {MASTER}
"""
    g = Gateway(tmp, cfg).wait_ready()
    yield g
    g.stop()


def recorded(upstream):
    return json.loads(urllib.request.urlopen(f"{upstream.base}/_mock/requests").read())


@pytest.mark.parametrize("prefix", ["gemini", "vertex_ai", "azure"])
def test_hostile_wildcard_model_is_refused_before_the_upstream(gw, upstream, prefix):
    client = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
    before = len(recorded(upstream))
    for name in HOSTILE:
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(
                model=f"{prefix}/{name}", messages=[{"role": "user", "content": "hi"}])
        assert e.value.status_code == 400
        assert "upstream URL" in e.value.message or "model name" in e.value.message, e.value.message
    assert recorded(upstream)[before:] == []
    # The same route still reaches the upstream with a real name.
    model = {"gemini": "gemini-2.0-flash-001", "vertex_ai": "gemini-2.0-flash-001",
             "azure": "my-gpt-4o"}[prefix]
    r = client.chat.completions.create(
        model=f"{prefix}/{model}", messages=[{"role": "user", "content": "hi"}])
    assert r.choices[0].message.content == "Hello from mock"
    assert model in recorded(upstream)[-1]["path"]
