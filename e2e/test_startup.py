"""Start-up behaviour of the binary: key checks, config errors, quick start, no auth."""
import subprocess

import openai
import pytest

from conftest import LLMGATE_BIN, MASTER, models_yaml


def run_to_exit(args, env=None, timeout=20):
    import os
    full = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_")}
    full.update(env or {})
    return subprocess.run([LLMGATE_BIN, *args], capture_output=True, text=True, env=full, timeout=timeout)


def test_a_known_master_key_is_refused(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model_list: []\ngeneral_settings:\n  master_key: sk-1234\n")
    r = run_to_exit(["--config", str(cfg), "--port", "0"])
    assert r.returncode != 0
    out = r.stdout + r.stderr
    assert "sk-1234" not in out or "dangerously_permit_weak_or_unset_master_key" in out
    assert "dangerously_permit_weak_or_unset_master_key" in out


def test_a_known_master_key_is_permitted_when_asked(start_gateway):
    gw = start_gateway(
        "model_list: []\ngeneral_settings:\n  master_key: sk-1234\n  dangerously_permit_weak_or_unset_master_key: true\n"
    ).wait_ready()
    c = openai.OpenAI(base_url=gw.base, api_key="sk-1234", max_retries=0)
    assert list(c.models.list()) == []


def test_a_bad_config_names_the_field_and_line(tmp_path):
    cfg = tmp_path / "c.yaml"
    cfg.write_text("model_list:\n  - model_name: a\n    litellm_params:\n      model: openai/x\n      rpm: lots\n")
    r = run_to_exit(["--config", str(cfg)])
    assert r.returncode != 0
    err = r.stdout + r.stderr
    assert "model_list[0].litellm_params.rpm" in err
    assert "line 5" in err


def test_no_master_key_means_no_auth(start_gateway, mock):
    gw = start_gateway(models_yaml(mock), env={"UPSTREAM_KEY": "sk-upstream"}).wait_ready()
    c = openai.OpenAI(base_url=gw.base, api_key="anything", max_retries=0)
    r = c.chat.completions.create(model="demo", messages=[{"role": "user", "content": "Hi"}])
    assert r.choices[0].message.content == "Hello from the demo"
    assert "authentication is OFF" in gw.log_path.read_text()


def test_master_key_from_the_environment(start_gateway, mock):
    gw = start_gateway(models_yaml(mock), env={"UPSTREAM_KEY": "k", "LITELLM_MASTER_KEY": MASTER}).wait_ready()
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=gw.base, api_key="sk-nope", max_retries=0).models.list()
    assert len(list(openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0).models.list())) > 3


def test_quick_start_with_model_flag(start_gateway, mock):
    gw = start_gateway(
        f"model_list: []\nlitellm_settings:\n  drop_params: true\n",
        env={"OPENAI_API_KEY": "sk-up", "OPENAI_BASE_URL": f"{mock.base}/v1"},
        args=["--model", "gpt-4o", "--num_workers", "4", "--detailed_debug"],
    ).wait_ready()
    c = openai.OpenAI(base_url=gw.base, api_key="x", max_retries=0)
    assert [m.id for m in c.models.list()] == ["gpt-4o"]
    r = c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    assert r.choices[0].message.content == "Hello from mock"


UNSUPPORTED_CONFIG = """
model_list:
  - model_name: demo
    litellm_params:
      model: openai/demo
      mock_response: Hello from the demo
      max_parallel_requests: 10
litellm_settings:
  callbacks: ["sentry"]
router_settings:
  routing_strategy: least-busy
  polling_interval: 1
guardrails:
  - guardrail_name: pii
    litellm_params:
      guardrail: lakera
      mode: pre_call
mcp_servers:
  github:
    url: http://127.0.0.1:9/mcp
    spec_path: /tmp/openapi.json
general_settings:
  master_key: os.environ/E2E_MASTER
  mastr_key: sk-typo
"""


def test_unsupported_settings_are_named_at_start_and_on_health(start_gateway):
    """A setting llmgate does not implement never vanishes silently: the gateway starts, the
    log names each one, and /health lists them for an admin."""
    import json
    import urllib.request

    gw = start_gateway(UNSUPPORTED_CONFIG, env={"E2E_MASTER": MASTER}).wait_ready()
    log = gw.log_path.read_text()
    for path in [
        "model_list[0].litellm_params.max_parallel_requests",
        "litellm_settings.callbacks: sentry",
        "router_settings.polling_interval",
        "guardrails[0].litellm_params.guardrail: lakera",
        "mcp_servers.github.spec_path",
    ]:
        assert f"not supported by llmgate, ignored: {path}" in log, log
    assert "unknown config key, ignored: general_settings.mastr_key" in log, log
    assert "sk-typo" not in log

    req = urllib.request.Request(f"{gw.base}/health", headers={"Authorization": f"Bearer {MASTER}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        body = json.load(r)
    assert body["healthy_count"] == 1
    assert sorted(body["unsupported_settings"]) == sorted([
        "mcp_servers.github.spec_path",
        "guardrails[0].litellm_params.guardrail: lakera",
        "model_list[0].litellm_params.max_parallel_requests",
        "litellm_settings.callbacks: sentry",
        "router_settings.polling_interval",
    ])
    # Every routing strategy is implemented: none is named.
    assert "routing_strategy" not in log
    assert body["unknown_settings"] == ["general_settings.mastr_key"]
    # A virtual key gets LiteLLM's /health, without the config's details.
    gen = urllib.request.Request(f"{gw.base}/key/generate", data=b"{}", method="POST", headers={
        "Authorization": f"Bearer {MASTER}", "Content-Type": "application/json"})
    with urllib.request.urlopen(gen, timeout=10) as r:
        vkey = json.load(r)["key"]
    req = urllib.request.Request(f"{gw.base}/health", headers={"Authorization": f"Bearer {vkey}"})
    with urllib.request.urlopen(req, timeout=30) as r:
        body = json.load(r)
    assert body["healthy_count"] == 1 and "unsupported_settings" not in body
    # Without the master key /health is refused, as every admin route is.
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(f"{gw.base}/health", timeout=10)
    assert e.value.code == 401
