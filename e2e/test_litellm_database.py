"""The in-place switch: a PostgreSQL database built by LiteLLM's own migrations (shipped in
the `litellm-proxy-extras` package), with a key, a user and a budget written the way LiteLLM
writes them. llmgate starts on it without changing LiteLLM's tables, the key authenticates,
the budget holds, and spend lands in LiteLLM's columns."""
import hashlib
import os
import subprocess
import time
import uuid
from pathlib import Path

import openai
import pytest

from conftest import MASTER, Gateway, models_yaml

PG = os.environ.get("LLMGATE_TEST_PG", "postgres://postgres@127.0.0.1:5432")


def psql(url, sql):
    return subprocess.run(["psql", url, "-v", "ON_ERROR_STOP=1", "-Atqc", sql], capture_output=True, text=True, check=True).stdout.strip()


@pytest.fixture
def litellm_db():
    import litellm_proxy_extras
    migrations = Path(litellm_proxy_extras.__file__).parent / "migrations"
    name = f"llmgate_litellm_{uuid.uuid4().hex[:12]}"
    psql(f"{PG}/postgres", f"CREATE DATABASE {name}")
    url = f"{PG}/{name}"
    for d in sorted(p for p in migrations.iterdir() if (p / "migration.sql").exists()):
        subprocess.run(["psql", url, "-q", "-v", "ON_ERROR_STOP=1", "-f", str(d / "migration.sql")],
                       check=True, capture_output=True)
    yield url
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


def columns(url):
    return psql(url, "SELECT string_agg(table_name || '.' || column_name || ':' || data_type, ',' ORDER BY table_name, column_name) "
                     "FROM information_schema.columns WHERE table_name LIKE 'LiteLLM_%'")


def test_llmgate_runs_on_a_litellm_database(mock, tmp_path, litellm_db):
    key = "sk-made-by-litellm-0001"
    token = hashlib.sha256(key.encode()).hexdigest()
    psql(litellm_db, f"""
        INSERT INTO "LiteLLM_UserTable" (user_id, spend, models, max_budget) VALUES ('u-1', 0.0, ARRAY[]::TEXT[], 10.0);
        INSERT INTO "LiteLLM_VerificationToken" (token, key_name, key_alias, models, spend, max_budget, user_id, metadata, created_at, updated_at)
        VALUES ('{token}', 'sk-...0001', 'litellm-key', ARRAY['gpt-4o'], 0.0, 0.0002, 'u-1', '{{}}', now(), now());
    """)
    before = columns(litellm_db)
    cfg = models_yaml(mock) + f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 1\n"
    gw = Gateway(tmp_path, cfg, env={"UPSTREAM_KEY": "sk-up", "DATABASE_URL": litellm_db}).wait_ready()
    try:
        assert columns(litellm_db) == before, "LiteLLM's tables are untouched"
        client = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
        for _ in range(3):
            assert client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}]).choices
        # 3 × 7.5e-5 > 2e-4: the budget LiteLLM stored holds.
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        assert e.value.body["type"] == "budget_exceeded"
        with pytest.raises(openai.PermissionDeniedError):
            client.chat.completions.create(model="demo", messages=[{"role": "user", "content": "Hi"}])
        time.sleep(2.5)
        key_spend = float(psql(litellm_db, f"""SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = '{token}'"""))
        user_spend = float(psql(litellm_db, """SELECT spend FROM "LiteLLM_UserTable" WHERE user_id = 'u-1'"""))
        logs = psql(litellm_db, f"""SELECT count(*), sum(spend) FROM "LiteLLM_SpendLogs" WHERE api_key = '{token}' AND status = 'success'""")
        assert key_spend == pytest.approx(3 * 7.5e-5, abs=1e-12)
        assert user_spend == pytest.approx(3 * 7.5e-5, abs=1e-12)
        count, total = logs.split("|")
        assert int(count) == 3 and float(total) == pytest.approx(3 * 7.5e-5, abs=1e-12)
        # LiteLLM's daily roll-up, in its own table, as its UI reads it.
        daily = psql(litellm_db, f"""SELECT api_requests, spend, model, custom_llm_provider, endpoint FROM "LiteLLM_DailyUserSpend" WHERE user_id = 'u-1' AND api_key = '{token}'""")
        requests, spend, model, provider, endpoint = daily.split("|")
        assert int(requests) == 3 and float(spend) == pytest.approx(3 * 7.5e-5, abs=1e-12)
        assert (model, provider, endpoint) == ("gpt-4o", "openai", "/chat/completions")
    finally:
        gw.stop()
