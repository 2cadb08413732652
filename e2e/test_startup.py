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
