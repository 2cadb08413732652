"""Virtual keys through the real binary: key management with the master key, then the keys
used by the official `openai` client, on the embedded SQLite and on PostgreSQL."""
import json
import os
import subprocess
import time
import urllib.request
import uuid

import openai
import pytest

from conftest import MASTER, Gateway, models_yaml

PG = os.environ.get("LLMGATE_TEST_PG", "postgres://postgres@127.0.0.1:5432")


def admin(gw, method, path, body=None, key=MASTER):
    """One JSON call (with the master key unless `key` says otherwise): (status, body)."""
    req = urllib.request.Request(
        f"{gw.base}{path}", method=method,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def config(mock, batch_seconds=1):
    return models_yaml(mock) + (
        f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: {batch_seconds}\n"
        "  proxy_budget_rescheduler_min_time: 1\n"
    )


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield {"LLMGATE_DB_PATH": str(tmp_path / "keys.db")}, None
        return
    name = f"llmgate_e2e_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    yield {"DATABASE_URL": f"{PG}/{name}"}, f"{PG}/{name}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


def start(tmp_path, mock, env, batch_seconds=1):
    return Gateway(tmp_path, config(mock, batch_seconds), env={"UPSTREAM_KEY": "sk-up", **env}).wait_ready()


def test_keys_end_to_end(mock, tmp_path, database):
    env, pg_url = database
    gw = start(tmp_path, mock, env)
    try:
        status, k = admin(gw, "POST", "/key/generate", {"models": ["gpt-4o"], "max_budget": 0.0002, "key_alias": "e2e", "metadata": {"team": "a"}})
        assert status == 200, k
        key = k["key"]
        assert key.startswith("sk-") and k["token"] != key
        client = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
        assert [m.id for m in client.models.list()] == ["gpt-4o"], "a key sees only its models"
        assert client.models.retrieve("gpt-4o").id == "gpt-4o"
        with pytest.raises(openai.NotFoundError):
            client.models.retrieve("demo")  # not this key's: as if it did not exist

        # Allowed model, and the key's spend grows with each call (7.5e-5 each for gpt-4o).
        for _ in range(2):
            r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
            assert r.choices[0].message.content == "Hello from mock"
        # Another model is refused.
        with pytest.raises(openai.PermissionDeniedError) as e:
            client.chat.completions.create(model="demo", messages=[{"role": "user", "content": "Hi"}])
        assert e.value.body["type"] == "key_model_access_denied"
        # A streamed call is priced too.
        list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True))
        # Over budget now (3 × 7.5e-5 > 2e-4): refused before reaching the provider.
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        assert e.value.body["type"] == "budget_exceeded"
        assert e.value.body["code"] == "400"

        status, info = admin(gw, "GET", f"/key/info?key={key}")
        assert status == 200
        assert info["info"]["spend"] == pytest.approx(3 * 7.5e-5, abs=1e-12)
        assert info["info"]["models"] == ["gpt-4o"]

        # Spend reaches the database in batches (proxy_batch_write_at: 1) and survives a restart.
        time.sleep(2.5)
        gw.stop()
        gw = start(tmp_path, mock, env)
        status, info = admin(gw, "GET", f"/key/info?key={key}")
        assert info["info"]["spend"] == pytest.approx(3 * 7.5e-5, abs=1e-12)
        if pg_url:
            out = subprocess.run(["psql", pg_url, "-Atc", 'SELECT count(*), sum(spend) FROM "LiteLLM_SpendLogs"'],
                                 capture_output=True, text=True, check=True).stdout.strip()
            count, total = out.split("|")
            assert int(count) == 3 and float(total) == pytest.approx(3 * 7.5e-5)

        # Raise the budget: the key works again. Block it: refused. Unblock, delete: gone.
        assert admin(gw, "POST", "/key/update", {"key": key, "max_budget": 1.0})[0] == 200
        client = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        assert admin(gw, "POST", "/key/block", {"key": key})[1]["blocked"] is True
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        admin(gw, "POST", "/key/unblock", {"key": key})
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        status, listing = admin(gw, "GET", "/key/list?key_alias=e2e")
        assert listing["total_count"] == 1
        assert admin(gw, "POST", "/key/delete", {"keys": [key]}) == (200, {"deleted_keys": [key]})
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    finally:
        gw.stop()


def test_bad_admin_requests(mock, tmp_path):
    gw = start(tmp_path, mock, {"LLMGATE_DB_PATH": str(tmp_path / "k.db")})
    try:
        assert admin(gw, "POST", "/key/generate", {"max_budget": "lots"})[0] == 400
        assert admin(gw, "POST", "/key/generate", {"duration": "forever"})[0] == 400
        # Unknown fields are ignored, as LiteLLM's request models ignore them; known ones are typed.
        assert admin(gw, "POST", "/key/generate", {"no_such_field": 1})[0] == 200
        assert admin(gw, "POST", "/key/generate", {"guardrails": "pii"})[0] == 400
        assert admin(gw, "POST", "/key/delete", {"keys": ["sk-unknown"]})[0] == 404
        assert admin(gw, "GET", "/key/info?key=sk-unknown")[0] == 404
        assert admin(gw, "POST", "/key/update", {"max_budget": 1})[0] == 400
        # Expired keys are refused.
        _, k = admin(gw, "POST", "/key/generate", {"duration": "1s"})
        time.sleep(1.5)
        with pytest.raises(openai.AuthenticationError) as e:
            openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0).models.list()
        assert "Expired Key" in e.value.body["message"]
        # A virtual key cannot manage keys.
        _, k = admin(gw, "POST", "/key/generate", {})
        req = urllib.request.Request(f"{gw.base}/key/generate", method="POST", data=b"{}",
                                     headers={"Authorization": f"Bearer {k['key']}"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req)
        assert e.value.code == 401
    finally:
        gw.stop()


def test_spend_survives_kill_9(mock, tmp_path, database):
    """Calls answered, then the process killed before any batch was written: after a restart
    the spend of every answered call is in the database (from the on-disk journal)."""
    env, pg_url = database
    gw = start(tmp_path, mock, env, batch_seconds=3600)
    _, k = admin(gw, "POST", "/key/generate", {"user_id": "u-kill"})
    client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)
    for _ in range(3):
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True))
    gw.proc.kill()
    gw.proc.wait()
    gw.log.close()
    gw = start(tmp_path, mock, env)
    try:
        _, info = admin(gw, "GET", f"/key/info?key={k['key']}")
        assert info["info"]["spend"] == pytest.approx(4 * 7.5e-5, abs=1e-12)
        if pg_url:
            out = subprocess.run(["psql", pg_url, "-Atc", f"SELECT count(*) FROM \"LiteLLM_SpendLogs\" WHERE api_key = '{k['token']}'"],
                                 capture_output=True, text=True, check=True).stdout.strip()
            assert out == "4"
    finally:
        gw.stop()


def test_budgets_reset_after_their_duration(mock, tmp_path, database):
    env, _ = database
    gw = start(tmp_path, mock, env)
    try:
        _, k = admin(gw, "POST", "/key/generate", {"max_budget": 0.0001, "budget_duration": "2s"})
        _, t = admin(gw, "POST", "/team/new", {"max_budget": 0.001, "budget_duration": "2s"})
        assert k["budget_duration"] == "2s" and k["budget_reset_at"]
        client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)
        for _ in range(2):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        time.sleep(4)
        # A new period: the spend is back to 0 and the key works again.
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        _, info = admin(gw, "GET", f"/key/info?key={k['key']}")
        assert info["info"]["spend"] == pytest.approx(7.5e-5, abs=1e-12)
    finally:
        gw.stop()


def test_concurrent_bursts_add_up_exactly_and_failures_cost_nothing(mock, tmp_path, database):
    """200 concurrent calls on one key (streamed and not): the key's, user's, team's and
    organization's totals equal the sum of the per-request costs, in memory and in the
    database. Failed calls are not charged."""
    from concurrent.futures import ThreadPoolExecutor
    env, pg_url = database
    gw = start(tmp_path, mock, env)
    try:
        admin(gw, "POST", "/organization/new", {"organization_id": "burst-org", "organization_alias": "burst"})
        admin(gw, "POST", "/team/new", {"team_id": "burst-team", "organization_id": "burst-org"})
        admin(gw, "POST", "/user/new", {"user_id": "burst-user", "auto_create_key": False})
        _, k = admin(gw, "POST", "/key/generate", {"team_id": "burst-team", "user_id": "burst-user"})
        client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)

        def call(i):
            if i % 4 == 0:
                return list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True))
            if i % 10 == 1:
                try:
                    client.chat.completions.create(model="limited", messages=[{"role": "user", "content": "Hi"}])
                except openai.RateLimitError:
                    return "failed"
            return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])

        with ThreadPoolExecutor(32) as pool:
            results = list(pool.map(call, range(200)))
        ok = sum(1 for r in results if r != "failed")
        assert ok == 180
        want = ok * 7.5e-5
        _, info = admin(gw, "GET", f"/key/info?key={k['key']}")
        assert abs(info["info"]["spend"] - want) < 1e-10
        time.sleep(2.5)
        gw.stop()
        gw = start(tmp_path, mock, env)
        _, info = admin(gw, "GET", f"/key/info?key={k['key']}")
        assert abs(info["info"]["spend"] - want) < 1e-10
        _, t = admin(gw, "GET", "/team/info?team_id=burst-team")
        assert abs(t["team_info"]["spend"] - want) < 1e-10
        _, u = admin(gw, "GET", "/user/info?user_id=burst-user")
        assert abs(u["user_info"]["spend"] - want) < 1e-10
        _, o = admin(gw, "GET", "/organization/info?organization_id=burst-org")
        assert abs(o["spend"] - want) < 1e-10
        if pg_url:
            out = subprocess.run(["psql", pg_url, "-Atc", f"SELECT count(*), sum(spend) FROM \"LiteLLM_SpendLogs\" WHERE api_key = '{k['token']}' AND status = 'success'"],
                                 capture_output=True, text=True, check=True).stdout.strip()
            count, total = out.split("|")
            assert int(count) == ok and abs(float(total) - want) < 1e-10
            # Failed calls are logged as LiteLLM logs them: status failure, nothing charged.
            out = subprocess.run(["psql", pg_url, "-Atc", f"SELECT count(*), sum(spend), min(metadata->'error_information'->>'error_code') FROM \"LiteLLM_SpendLogs\" WHERE api_key = '{k['token']}' AND status = 'failure'"],
                                 capture_output=True, text=True, check=True).stdout.strip()
            assert out == "20|0|429"
    finally:
        gw.stop()


def test_regenerate_and_allowed_routes(mock, tmp_path):
    gw = start(tmp_path, mock, {"LLMGATE_DB_PATH": str(tmp_path / "r.db")})
    try:
        _, k = admin(gw, "POST", "/key/generate", {"key_alias": "rot", "allowed_routes": ["/chat/completions"]})
        client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        with pytest.raises(openai.PermissionDeniedError) as e:
            client.embeddings.create(model="embed", input="a")
        assert e.value.body["type"] == "key_route_access_denied"

        status, new = admin(gw, "POST", f"/key/{k['key']}/regenerate", {"max_budget": 5})
        assert status == 200 and new["key"] != k["key"] and new["key_alias"] == "rot"
        assert new["max_budget"] == 5 and new["spend"] == pytest.approx(7.5e-5)
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        client = openai.OpenAI(base_url=gw.base, api_key=new["key"], max_retries=0)
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        assert admin(gw, "POST", "/key/regenerate", {"key": "sk-unknown"})[0] == 404
        req = urllib.request.Request(f"{gw.base}/key/health", method="POST", data=b"{}",
                                     headers={"Authorization": f"Bearer {new['key']}"})
        assert json.loads(urllib.request.urlopen(req).read())["key"] == "healthy"
    finally:
        gw.stop()


def test_spend_logs_and_global_spend(mock, tmp_path, database):
    env, _ = database
    gw = start(tmp_path, mock, env)
    try:
        _, k = admin(gw, "POST", "/key/generate", {"user_id": "logger"})
        client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)
        raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], user="eu-1")
        call_id = raw.headers["x-litellm-call-id"]
        client.embeddings.create(model="embed", input="a")
        time.sleep(2.5)
        _, logs = admin(gw, "GET", f"/spend/logs?api_key={k['key']}")
        assert [l["call_type"] for l in logs] == ["acompletion", "aembedding"]
        first = logs[0]
        # As LiteLLM: the log is keyed by the answer's id; the call id is kept beside it.
        answer_id = raw.parse().id
        assert first["request_id"] == answer_id and first["litellm_call_id"] == call_id
        assert first["model_group"] == "gpt-4o" and first["end_user"] == "eu-1"
        assert first["spend"] == pytest.approx(7.5e-5) and first["total_tokens"] == 15 and first["status"] == "success"
        assert first["api_key"] == k["token"]
        assert first["requester_ip_address"] == "127.0.0.1"
        _, one = admin(gw, "GET", f"/spend/logs?request_id={answer_id}")
        assert len(one) == 1
        today = time.strftime("%Y-%m-%d", time.gmtime())
        _, dated = admin(gw, "GET", f"/spend/logs?user_id=logger&start_date={today}&end_date={today}")
        assert len(dated) == 2
        _, none = admin(gw, "GET", "/spend/logs?user_id=logger&start_date=2000-01-01&end_date=2000-01-02")
        assert none == []
        assert admin(gw, "GET", "/spend/logs?start_date=yesterday")[0] == 400
        _, total = admin(gw, "GET", "/global/spend")
        assert total["spend"] >= 7.5e-5
    finally:
        gw.stop()
