"""rpm / tpm / parallel limits and per-model budgets on virtual keys, users, teams and end users,
through the openai client; shared by two instances through Redis; degraded, not failed,
when Redis is down."""
import threading
import time

import openai
import pytest

from conftest import MASTER, Gateway, models_yaml
from test_virtual_keys import admin

REDIS = "redis://127.0.0.1:6379/0"


def fresh_window():
    """Limits count in one-minute windows: start a test early in one so it cannot straddle two."""
    s = time.time() % 60
    if s > 45:
        time.sleep(60 - s + 0.2)


def config(mock):
    return models_yaml(mock) + (
        "  - model_name: slow\n    litellm_params:\n      model: openai/mock-slow-800\n"
        f"      api_base: {mock.base}/v1\n      api_key: sk-up\n"
        "  - model_name: slow-stream\n    litellm_params:\n      model: openai/mock-stream-slow-300\n"
        f"      api_base: {mock.base}/v1\n      api_key: sk-up\n"
        f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 1\n"
    )


def start(tmp_path, mock, sub="a", redis=None):
    d = tmp_path / sub
    d.mkdir(exist_ok=True)
    env = {"UPSTREAM_KEY": "sk-up", "LLMGATE_DB_PATH": str(tmp_path / "shared.db")}
    if redis:
        env["REDIS_URL"] = redis
    return Gateway(d, config(mock), env=env).wait_ready()


def chat(key, gw, model="gpt-4o", **kw):
    client = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}], **kw)


def refused(key, gw, model="gpt-4o", **kw):
    with pytest.raises(openai.RateLimitError) as e:
        chat(key, gw, model, **kw)
    return e.value


def test_key_user_team_and_end_user_limits(mock, tmp_path):
    gw = start(tmp_path, mock)
    try:
        fresh_window()
        _, k = admin(gw, "POST", "/key/generate", {"rpm_limit": 2})
        raw = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0).chat.completions.with_raw_response.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        assert raw.headers["x-ratelimit-api_key-limit-requests"] == "2"
        assert raw.headers["x-ratelimit-api_key-remaining-requests"] == "1"
        # LiteLLM's key headers, Python-formatted.
        assert raw.headers["x-litellm-key-rpm-limit"] == "2" and raw.headers["x-litellm-key-tpm-limit"] == "None"
        assert raw.headers["x-litellm-key-max-budget"] == "None"
        assert raw.headers["x-litellm-key-spend"] == raw.headers["x-litellm-response-cost"]
        chat(k["key"], gw)
        e = refused(k["key"], gw)
        assert e.status_code == 429
        assert e.body["type"] == "throttling_error" and e.body["code"] == "429"
        assert f"Rate limit exceeded for api_key: {k['token']}. Limit type: requests. Current limit: 2" in e.body["message"]
        assert e.response.headers["retry-after"] == "60" and e.response.headers["rate_limit_type"] == "requests"

        # Tokens: each mock answer uses 15; a 30-token limit admits two calls.
        _, k = admin(gw, "POST", "/key/generate", {"tpm_limit": 30})
        chat(k["key"], gw)
        list(chat(k["key"], gw, stream=True))
        assert "Limit type: tokens" in refused(k["key"], gw).body["message"]

        # Per model on one key.
        _, k = admin(gw, "POST", "/key/generate", {"model_rpm_limit": {"gpt-4o": 1}})
        chat(k["key"], gw)
        refused(k["key"], gw)
        chat(k["key"], gw, model="demo")

        # A user's and a team's limit hold across their keys.
        admin(gw, "POST", "/user/new", {"user_id": "rl-user", "rpm_limit": 1, "auto_create_key": False})
        _, k1 = admin(gw, "POST", "/key/generate", {"user_id": "rl-user"})
        _, k2 = admin(gw, "POST", "/key/generate", {"user_id": "rl-user"})
        chat(k1["key"], gw)
        assert "for user: rl-user" in refused(k2["key"], gw).body["message"]
        admin(gw, "POST", "/team/new", {"team_id": "rl-team", "rpm_limit": 1})
        _, k1 = admin(gw, "POST", "/key/generate", {"team_id": "rl-team"})
        _, k2 = admin(gw, "POST", "/key/generate", {"team_id": "rl-team"})
        chat(k1["key"], gw)
        assert "for team: rl-team" in refused(k2["key"], gw).body["message"]

        # An end user's limit comes from its budget.
        admin(gw, "POST", "/customer/new", {"user_id": "rl-cust", "rpm_limit": 1})
        _, k = admin(gw, "POST", "/key/generate", {})
        chat(k["key"], gw, user="rl-cust")
        assert "for end_user: rl-cust" in refused(k["key"], gw, user="rl-cust").body["message"]
        chat(k["key"], gw, user="someone-else")
    finally:
        gw.stop()


def test_parallel_requests_and_model_budget(mock, tmp_path):
    gw = start(tmp_path, mock)
    try:
        _, k = admin(gw, "POST", "/key/generate", {"max_parallel_requests": 1})
        t = threading.Thread(target=chat, args=(k["key"], gw, "slow"))
        t.start()
        time.sleep(0.3)
        e = refused(k["key"], gw)
        assert "Limit type: max_parallel_requests" in e.body["message"]
        t.join()
        chat(k["key"], gw)
        # A stream holds its slot until it ends.
        stream = chat(k["key"], gw, model="slow-stream", stream=True)
        refused(k["key"], gw)
        list(stream)
        chat(k["key"], gw)

        # 7.5e-5 per call: the second call crosses 1e-4, the third is refused; other models go on.
        _, k = admin(gw, "POST", "/key/generate", {"model_max_budget": {"gpt-4o": {"budget_limit": 0.0001, "time_period": "1d"}}})
        chat(k["key"], gw)
        chat(k["key"], gw)
        with pytest.raises(openai.BadRequestError) as e:
            chat(k["key"], gw)
        assert e.value.body["type"] == "budget_exceeded"
        assert e.value.body["message"] == f"LiteLLM Virtual Key: {k['token']}, key_alias: None, exceeded budget for model=gpt-4o"
        # Everything else goes on while Redis is down.
        _, other = admin(gw, "POST", "/key/generate", {})
        chat(other["key"], gw)
    finally:
        gw.stop()


def test_two_instances_share_limits_through_redis(mock, tmp_path):
    """rpm, parallel requests and per-model budgets hold across two instances."""
    a = start(tmp_path, mock, "a", REDIS)
    b = start(tmp_path, mock, "b", REDIS)
    try:
        fresh_window()
        _, k = admin(a, "POST", "/key/generate", {"rpm_limit": 4})
        for gw in (a, b, a, b):
            chat(k["key"], gw)
        time.sleep(0.5)  # a sync (every 100 ms) shares the counts
        refused(k["key"], a)
        refused(k["key"], b)

        # In-flight requests count across instances: a slow call on A holds the only slot.
        _, p = admin(a, "POST", "/key/generate", {"max_parallel_requests": 1})
        chat(p["key"], b, "demo")  # B learns the fleet's count of a key within a sync of seeing it
        t = threading.Thread(target=chat, args=(p["key"], a, "slow"))
        t.start()
        time.sleep(0.5)
        assert "max_parallel_requests" in refused(p["key"], b).body["message"]
        t.join()
        time.sleep(0.5)
        chat(p["key"], b)

        # A per-model budget is spent across instances (7.5e-5 a call, 1e-4 allowed).
        _, m = admin(a, "POST", "/key/generate", {"model_max_budget": {"gpt-4o": {"budget_limit": 0.0001, "time_period": "1d"}}})
        chat(m["key"], a)
        chat(m["key"], b)
        time.sleep(0.5)
        for gw in (a, b):
            with pytest.raises(openai.BadRequestError) as e:
                chat(m["key"], gw)
            assert e.value.body["type"] == "budget_exceeded"
    finally:
        a.stop()
        b.stop()


def test_redis_outage_degrades_to_local_limits(mock, tmp_path):
    gw = start(tmp_path, mock, redis="redis://127.0.0.1:9/0")
    try:
        fresh_window()
        _, k = admin(gw, "POST", "/key/generate", {"rpm_limit": 2})
        chat(k["key"], gw)
        chat(k["key"], gw)
        refused(k["key"], gw)
        deadline = time.time() + 10
        while "Redis unreachable" not in gw.log_path.read_text():
            assert time.time() < deadline, "the outage was never logged"
            time.sleep(0.2)
        # Everything else goes on while Redis is down.
        _, other = admin(gw, "POST", "/key/generate", {})
        chat(other["key"], gw)
    finally:
        gw.stop()
