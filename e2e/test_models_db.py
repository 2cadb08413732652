"""Models kept in the database (`/model/new|update|delete`, `store_model_in_db`): served at
once, by other instances on the same database, and after a restart; credentials stored
encrypted with LITELLM_SALT_KEY exactly as LiteLLM does (checked with PyNaCl)."""
import base64
import hashlib
import json
import sqlite3
import subprocess
import time
import urllib.request

import nacl.secret
import openai
import pytest

from conftest import MASTER, Gateway
from test_virtual_keys import admin, database  # noqa: F401  (fixture)

SALT = "sk-e2e-salt-key-0123456789abcdef"


def config(store_in_db=True):
    return (
        "model_list:\n  - model_name: demo\n    litellm_params:\n      model: openai/demo\n"
        "      mock_response: Hello from the demo\n"
        f"general_settings:\n  master_key: {MASTER}\n  store_model_in_db: {str(store_in_db).lower()}\n"
    )


def start(tmp_path, env, store_in_db=True, sub="a"):
    d = tmp_path / sub
    d.mkdir(exist_ok=True)
    full = {"LITELLM_SALT_KEY": SALT, "LLMGATE_MODEL_REFRESH_SECONDS": "0.5", **env}
    return Gateway(d, config(store_in_db), env=full).wait_ready()


def last_upstream(mock):
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())[-1]


def nacl_decrypt(value: str) -> str:
    box = nacl.secret.SecretBox(hashlib.sha256(SALT.encode()).digest())
    return box.decrypt(base64.urlsafe_b64decode(value)).decode()


def stored_params(env, pg_url, model_id):
    sql = 'SELECT litellm_params FROM "LiteLLM_ProxyModelTable" WHERE model_id = '
    if pg_url:
        out = subprocess.run(["psql", pg_url, "-tAc", f"{sql}'{model_id}'"], check=True, capture_output=True, text=True)
        return json.loads(out.stdout)
    with sqlite3.connect(env["LLMGATE_DB_PATH"]) as db:
        return json.loads(db.execute(sql + "?", (model_id,)).fetchone()[0])


def chat(gw, model):
    client = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}])


def test_models_in_the_database(mock, tmp_path, database):
    env, pg_url = database
    gw = start(tmp_path, env)
    other = start(tmp_path, env, sub="b") if pg_url else None
    try:
        body = {"model_name": "added", "litellm_params": {"model": "openai/gpt-4o", "api_base": f"{mock.base}/v1", "api_key": "sk-upstream-db-1"},
                "model_info": {"mode": "chat"}}
        status, row = admin(gw, "POST", "/model/new", body)
        assert status == 200, row
        model_id = row["model_id"]
        assert row["model_name"] == "added" and row["litellm_params"]["api_key"] != "sk-upstream-db-1"

        # Stored encrypted, readable by LiteLLM's own cipher.
        stored = stored_params(env, pg_url, model_id)
        assert nacl_decrypt(stored["api_key"]) == "sk-upstream-db-1"
        assert nacl_decrypt(stored["model"]) == "openai/gpt-4o"

        # Served at once, with the stored credential.
        assert chat(gw, "added").choices[0].message.content == "Hello from mock"
        assert last_upstream(mock)["headers"]["authorization"] == "Bearer sk-upstream-db-1"
        status, info = admin(gw, "GET", f"/model/info?litellm_model_id={model_id}")
        [m] = info["data"]
        assert m["model_name"] == "added" and m["model_info"]["db_model"] is True
        assert "api_key" not in m["litellm_params"] and m["litellm_params"]["model"] == "openai/gpt-4o"
        client = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        assert {"demo", "added"} <= {x.id for x in client.models.list()}

        if other:
            # Another instance on the same database picks it up without a restart.
            deadline = time.time() + 10
            while "added" not in {x["model_name"] for x in admin(other, "GET", "/model/info")[1]["data"]}:
                assert time.time() < deadline, "the second instance never saw the model"
                time.sleep(0.2)
            assert chat(other, "added").choices[0].message.content == "Hello from mock"

        # Update: a new key replaces the old one (encrypted too); the rest stays.
        status, row = admin(gw, "POST", "/model/update", {"model_info": {"id": model_id}, "litellm_params": {"api_key": "sk-upstream-db-2"}})
        assert status == 200, row
        assert nacl_decrypt(stored_params(env, pg_url, model_id)["api_key"]) == "sk-upstream-db-2"
        chat(gw, "added")
        assert last_upstream(mock)["headers"]["authorization"] == "Bearer sk-upstream-db-2"
        status, row = admin(gw, "PATCH", f"/model/{model_id}/update", {"model_name": "renamed"})
        assert status == 200 and row["model_name"] == "renamed"
        admin(gw, "PATCH", f"/model/{model_id}/update", {"litellm_params": {"organization": "org-x"}})
        assert "organization" in stored_params(env, pg_url, model_id)
        status, row = admin(gw, "PATCH", f"/model/{model_id}/update", {"litellm_params_to_remove": ["organization"]})
        assert status == 200 and "organization" not in stored_params(env, pg_url, model_id)
        # Models from the config are edited in the config.
        demo_id = next(m["model_info"]["id"] for m in admin(gw, "GET", "/model/info")[1]["data"] if m["model_name"] == "demo")
        status, err = admin(gw, "POST", "/model/update", {"model_info": {"id": demo_id}, "litellm_params": {"api_key": "x"}})
        assert status == 400 and "Model in config" in err["error"]["message"]
        chat(gw, "renamed")

        # Survives a restart.
        gw.stop()
        gw = start(tmp_path, env)
        assert chat(gw, "renamed").choices[0].message.content == "Hello from mock"
        assert last_upstream(mock)["headers"]["authorization"] == "Bearer sk-upstream-db-2"

        # Bad input: clear 4xx.
        assert admin(gw, "POST", "/model/new", {"litellm_params": {"model": "openai/x"}})[0] == 400
        status, err = admin(gw, "POST", "/model/new", {"model_name": "x", "litellm_params": {"api_base": "http://x"}})
        assert status == 400 and "model" in err["error"]["message"]
        assert admin(gw, "POST", "/model/new", {"model_name": "x", "litellm_params": "openai/x"})[0] == 400
        assert admin(gw, "POST", "/model/new", {"model_name": "dup", "litellm_params": {"model": "openai/x"}, "model_info": {"id": model_id}})[0] == 400
        status, err = admin(gw, "POST", "/model/delete", {"id": "no-such-model"})
        assert status == 400 and "not found" in err["error"]["message"]
        assert admin(gw, "POST", "/model/update", {"litellm_params": {"api_key": "x"}})[0] == 400
        status, k = admin(gw, "POST", "/key/generate", {})
        req = urllib.request.Request(f"{gw.base}/model/new", method="POST", data=json.dumps(body).encode(),
                                     headers={"Authorization": f"Bearer {k['key']}", "Content-Type": "application/json"})
        with pytest.raises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(req)
        assert e.value.code in (401, 403)

        # Delete: no longer served, here and on the other instance.
        status, out = admin(gw, "POST", "/model/delete", {"id": model_id})
        assert status == 200 and out["message"] == f"Model: {model_id} deleted successfully"
        with pytest.raises(openai.BadRequestError):
            chat(gw, "renamed")
        if other:
            deadline = time.time() + 10
            while "renamed" in {x["model_name"] for x in admin(other, "GET", "/model/info")[1]["data"]}:
                assert time.time() < deadline
                time.sleep(0.2)
    finally:
        gw.stop()
        if other:
            other.stop()


def test_model_writes_need_store_model_in_db(mock, tmp_path, database):
    env, _ = database
    gw = start(tmp_path, env, store_in_db=False)
    try:
        status, err = admin(gw, "POST", "/model/new", {"model_name": "x", "litellm_params": {"model": "openai/x"}})
        assert status == 500 and "STORE_MODEL_IN_DB" in err["error"]["message"]
    finally:
        gw.stop()
