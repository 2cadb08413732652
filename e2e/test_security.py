"""Security checks through the real binary, each reproducing an attack and asserting the fix,
with the legitimate request as the control: budget overspend under concurrency, auth failing
open, tag amplification, `/health` as an unmetered upstream caller, credentials in `api_base`."""
import json
import subprocess
import threading
import time
import urllib.request
import uuid

import openai
import pytest

from conftest import MASTER, Gateway
from test_startup import run_to_exit
from test_virtual_keys import PG, admin

COST = 10 * 1e-4 + 5 * 2e-4  # the mock's usage (10 prompt, 5 completion tokens) at these prices


def config(mock, extra_models=""):
    out = "model_list:\n"
    for name, model in [("gpt-4o", "openai/gpt-4o"), ("slow", "openai/mock-slow-300"), ("other", "openai/gpt-4o-mini")]:
        out += (f"  - model_name: {name}\n    litellm_params:\n      model: {model}\n"
                f"      api_base: {mock.base}/v1\n      api_key: sk-up\n"
                "      input_cost_per_token: 0.0001\n      output_cost_per_token: 0.0002\n")
    return out + extra_models + f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 0.2\n"


@pytest.fixture
def gw(mock, tmp_path):
    g = Gateway(tmp_path, config(mock), env={"LLMGATE_DB_PATH": str(tmp_path / "k.db")}).wait_ready()
    yield g
    g.stop()


def chat(gw, key, model="gpt-4o", **kw):
    c = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
    return c.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], **kw)


def mock_requests(mock):
    with urllib.request.urlopen(f"{mock.base}/_mock/requests") as r:
        return json.loads(r.read())


def test_a_budget_holds_at_concurrency_64(gw):
    calls_in_budget = 20
    status, k = admin(gw, "POST", "/key/generate", {"max_budget": calls_in_budget * COST})
    assert status == 200
    served, refused = [], []
    lock = threading.Lock()

    def worker():
        try:
            chat(gw, k["key"], model="slow", max_tokens=5)
            with lock:
                served.append(1)
        except openai.BadRequestError as e:
            assert e.body["type"] == "budget_exceeded"
            with lock:
                refused.append(1)
        except openai.RateLimitError as e:
            # Held by the calls in flight: retryable, not yet spent.
            assert "held by requests in flight" in e.message
            with lock:
                refused.append(1)

    threads = [threading.Thread(target=worker) for _ in range(64)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    print(f"served {len(served)} of 64 concurrent calls on a {calls_in_budget}-call budget")
    # Each call reserves its estimate (prompt from the body's size, completion from max_tokens),
    # which is at least its real cost here: nothing beyond the budget is admitted.
    assert 1 <= len(served) <= calls_in_budget
    assert len(served) + len(refused) == 64


def test_a_master_key_that_resolves_to_nothing_refuses_to_start(tmp_path, mock):
    cfg = tmp_path / "c.yaml"
    cfg.write_text(config(mock).replace(f"master_key: {MASTER}", "master_key: os.environ/SEC_UNSET_MASTER"))
    r = run_to_exit(["--config", str(cfg), "--port", "0"], env={"LLMGATE_DB_PATH": str(tmp_path / "k.db")})
    assert r.returncode != 0
    assert "resolves to nothing" in r.stdout + r.stderr
    # Control: the variable set, the gateway starts and /key/generate needs it.
    g = Gateway(tmp_path, cfg.read_text(), env={"SEC_UNSET_MASTER": MASTER, "LLMGATE_DB_PATH": str(tmp_path / "k.db")})
    try:
        g.wait_ready()
        req = urllib.request.Request(f"{g.base}/key/generate", method="POST", data=b"{}",
                                     headers={"Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req)
        assert e.value.code == 401
    finally:
        g.stop()


@pytest.fixture
def pg():
    name = f"llmgate_sec_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    yield name
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


def commits(name):
    out = subprocess.run(["psql", f"{PG}/postgres", "-tAc",
                          f"SELECT xact_commit FROM pg_stat_database WHERE datname = '{name}'"],
                         capture_output=True, text=True, check=True).stdout
    return int(out.strip())


def test_tags_are_capped_and_unknown_tags_cost_no_repeated_queries(mock, tmp_path, pg):
    g = Gateway(tmp_path, config(mock), env={"DATABASE_URL": f"{PG}/{pg}"}).wait_ready()
    try:
        status, k = admin(g, "POST", "/key/generate", {})
        with pytest.raises(openai.BadRequestError) as e:
            chat(g, k["key"], extra_body={"metadata": {"tags": [f"t{i}" for i in range(2000)]}})
        assert "too many tags" in e.value.message
        tags = {"metadata": {"tags": [f"unknown-{i}" for i in range(60)]}}
        chat(g, k["key"], extra_body=tags)  # the first call looks them up
        time.sleep(1.5)
        before = commits(pg)
        for _ in range(10):
            assert chat(g, k["key"], extra_body=tags).choices[0].message.content == "Hello from mock"
        time.sleep(1.5)
        spent = commits(pg) - before
        print(f"{spent} transactions for 10 calls with 60 unknown tags each")
        assert spent < 60, "unknown tags are remembered, not looked up on every call"
    finally:
        g.stop()


def test_health_probes_only_the_keys_models_and_not_on_every_call(gw, mock):
    status, k = admin(gw, "POST", "/key/generate", {"models": ["gpt-4o"]})
    assert status == 200

    def health(key):
        req = urllib.request.Request(f"{gw.base}/health", headers={"Authorization": f"Bearer {key}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.loads(r.read())

    before = len(mock_requests(mock))
    h = health(k["key"])
    names = {e["model"] for e in h["healthy_endpoints"] + h["unhealthy_endpoints"]}
    assert names == {"openai/gpt-4o"}, "a key probes only its own models"
    assert "unsupported_settings" not in h
    for _ in range(9):
        health(k["key"])
    probes = len(mock_requests(mock)) - before
    assert probes == 1, f"ten /health calls within 10 s sweep once, not {probes} times"
    # The admin sees every deployment.
    a = health(MASTER)
    assert len(a["healthy_endpoints"]) == 3


def test_credentials_in_api_base_are_never_shown(mock, tmp_path):
    host = mock.base.removeprefix("http://")
    extra = ("  - model_name: creds\n    litellm_params:\n      model: openai/gpt-4o\n"
             f"      api_base: http://user:hunter2secret@{host}/v1\n"
             "      api_key: sk-up\n")
    g = Gateway(tmp_path, config(mock, extra), env={"LLMGATE_DB_PATH": str(tmp_path / "k.db")}).wait_ready()
    try:
        c = openai.OpenAI(base_url=g.base, api_key=MASTER, max_retries=0)
        raw = c.chat.completions.with_raw_response.create(model="creds", messages=[{"role": "user", "content": "Hi"}])
        shown = raw.headers["x-litellm-model-api-base"]
        assert "hunter2secret" not in shown
        assert host in shown
        req = urllib.request.Request(f"{g.base}/model/info", headers={"Authorization": f"Bearer {MASTER}"})
        with urllib.request.urlopen(req) as r:
            info = r.read().decode()
        req = urllib.request.Request(f"{g.base}/health", headers={"Authorization": f"Bearer {MASTER}"})
        with urllib.request.urlopen(req, timeout=30) as r:
            health = r.read().decode()
        for text in (info, health):
            assert "hunter2secret" not in text
            assert host in text
    finally:
        g.stop()
