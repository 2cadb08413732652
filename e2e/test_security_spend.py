"""One request cannot stop spend from reaching the database: oversized values are stored cut to
what the columns and indexes take, a log the database refuses is quarantined while the rest of
its batch (or of a replayed journal) lands, and NUL characters in what would be stored are a
clean 400 — on the embedded SQLite and on PostgreSQL."""
import json
import sqlite3
import subprocess
import time
import urllib.parse
import uuid

import openai
import pytest

from conftest import Gateway
from test_virtual_keys import admin, config, database  # noqa: F401 (fixture)

REFUSED = "refuse-me"


def noise(n):
    """Text no compression brings under an index entry's limit (what a hostile client sends)."""
    s = ""
    while len(s) < n:
        s += uuid.uuid4().hex
    return s[:n]


def start(tmp_path, mock, env, batch_seconds=1):
    env = {"UPSTREAM_KEY": "sk-up", "LLMGATE_SPEND_JOURNAL_DIR": str(tmp_path / "journal"), **env}
    return Gateway(tmp_path, config(mock, batch_seconds), env=env).wait_ready()


def refuse_end_user(env, pg_url):
    """Makes the database refuse every spend log whose end user is REFUSED, as a constraint
    would that no bounding of values can satisfy."""
    if pg_url:
        subprocess.run(["psql", pg_url, "-qc",
                        f"""ALTER TABLE "LiteLLM_SpendLogs" ADD CONSTRAINT refuse CHECK ("end_user" IS DISTINCT FROM '{REFUSED}')"""],
                       check=True)
    else:
        db = sqlite3.connect(env["LLMGATE_DB_PATH"])
        db.execute(f"""CREATE TRIGGER refuse BEFORE INSERT ON "LiteLLM_SpendLogs" WHEN NEW."end_user" = '{REFUSED}'
                       BEGIN SELECT RAISE(ABORT, 'refused'); END""")
        db.commit()
        db.close()


def logs_of(gw, key, want, timeout=8.0):
    """The key's spend logs once there are `want` of them (batches are written every second)."""
    deadline = time.time() + timeout
    while True:
        status, logs = admin(gw, "GET", f"/spend/logs?api_key={key}")
        assert status == 200, logs
        if len(logs) >= want or time.time() > deadline:
            return logs
        time.sleep(0.2)


def chat(client, **kw):
    return client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], **kw)


def quarantined(tmp_path):
    f = tmp_path / "journal" / "spend-quarantine.jsonl"
    return [json.loads(line) for line in f.read_text().splitlines()] if f.exists() else []


def test_oversized_user_and_tags_are_cut_and_spend_keeps_landing(mock, tmp_path, database):
    env, _ = database
    gw = start(tmp_path, mock, env)
    try:
        _, k = admin(gw, "POST", "/key/generate", {})
        key = k["key"]
        client = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
        user, tag = noise(12_000), noise(2_000)
        chat(client, user=user)
        chat(client, extra_body={"metadata": {"tags": [tag, "short"]}})
        for _ in range(3):
            chat(client)
        logs = logs_of(gw, key, 5)
        assert len(logs) == 5, logs
        by_user = [log for log in logs if log["end_user"]]
        assert [log["end_user"] for log in by_user] == [user[:1000]]
        tagged = [log for log in logs if log["request_tags"]]
        assert [log["request_tags"] for log in tagged] == [[tag[:1000], "short"]]
        # Later calls land too: nothing is stuck behind the long values.
        chat(client)
        assert len(logs_of(gw, key, 6)) == 6
        # The key's spend reached the database with every call (read back after a restart).
        gw.stop()
        gw = start(tmp_path, mock, env)
        _, info = admin(gw, "GET", f"/key/info?key={key}")
        assert info["info"]["spend"] == pytest.approx(6 * 7.5e-5, abs=1e-12)
        assert quarantined(tmp_path) == []
    finally:
        gw.stop()


def test_a_refused_log_is_quarantined_and_the_rest_lands_live_and_on_replay(mock, tmp_path, database):
    env, pg_url = database
    gw = start(tmp_path, mock, env, batch_seconds=2)
    try:
        refuse_end_user(env, pg_url)
        _, k = admin(gw, "POST", "/key/generate", {})
        key = k["key"]
        client = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
        # One batch: good, refused, good, good.
        chat(client, user="before")
        chat(client, user=REFUSED)
        chat(client, user="after-1")
        chat(client, user="after-2")
        logs = logs_of(gw, key, 3)
        assert sorted(log["end_user"] for log in logs) == ["after-1", "after-2", "before"]
        q = quarantined(tmp_path)
        assert [e["log"]["end_user"] for e in q] == [REFUSED], q
        assert q[0]["error"] and q[0]["log"]["api_key"] == k["token"]
        # Later calls are not held back.
        chat(client, user="later")
        assert len(logs_of(gw, key, 4)) == 4
        template = logs[0]
        gw.stop()

        # A journal left by a process that died before its batch: a refused log, a log with a
        # value too long for the index, and good ones. Replay writes all but the refused one.
        def journaled(end_user):
            return {**template, "request_id": str(uuid.uuid4()), "litellm_call_id": None,
                    "end_user": end_user, "spend": 0.5}
        lines = [journaled("replayed-1"), journaled(REFUSED), journaled(noise(12_000)), journaled("replayed-2")]
        journal = tmp_path / "journal" / "spend-1-1.jsonl"
        journal.write_text("".join(json.dumps(line) + "\n" for line in lines))
        gw = start(tmp_path, mock, env, batch_seconds=2)
        assert not journal.exists()
        for line in (lines[0], lines[2], lines[3]):
            status, found = admin(gw, "GET", f"/spend/logs?request_id={line['request_id']}")
            assert status == 200 and len(found) == 1, (line["end_user"][:20], found)
        q = quarantined(tmp_path)
        assert [e["log"]["request_id"] for e in q][1:] == [lines[1]["request_id"]], q
        _, info = admin(gw, "GET", f"/key/info?key={key}")
        assert info["info"]["spend"] == pytest.approx(4 * 7.5e-5 + 3 * 0.5, abs=1e-9)
        # The quarantine is never replayed.
        gw.stop()
        gw = start(tmp_path, mock, env, batch_seconds=2)
        assert len(quarantined(tmp_path)) == 2
        assert len(logs_of(gw, key, 7, timeout=0)) == 7
    finally:
        gw.stop()


def assert_clean_400(status, body, what):
    assert status == 400, (what, status, body)
    err = body["error"]
    assert err["type"] == "invalid_request_error" and err["code"] == "400", (what, body)
    text = json.dumps(body).lower()
    for leak in ("0x00", "byte sequence", "database error", "unicode escape", "sqlx", "index row"):
        assert leak not in text, (what, body)


def test_nul_in_stored_values_is_a_clean_400(mock, tmp_path, database):
    env, pg_url = database
    gw = start(tmp_path, mock, env)
    try:
        status, body = admin(gw, "POST", "/key/generate", {"key_alias": "a\u0000b"})
        assert_clean_400(status, body, "key_alias")
        assert "key_alias" in body["error"]["message"]
        assert_clean_400(*admin(gw, "POST", "/user/new", {"user_id": "u\u0000"}), "user_id")
        assert_clean_400(*admin(gw, "POST", "/team/new", {"metadata": {"a": ["x\u0000"]}}), "nested")
        assert_clean_400(*admin(gw, "GET", "/key/info?key=sk-abc%00"), "query")
        assert_clean_400(*admin(gw, "GET", "/spend/logs?api_key=" + urllib.parse.quote("x\u0000")), "query")
        assert_clean_400(*admin(gw, "POST", "/key/sk-a%00b/regenerate", {}), "path")
        # Controls: the same requests without NUL work; an escaped backslash is no NUL.
        status, k = admin(gw, "POST", "/key/generate", {"key_alias": "ab\\u0000"})
        assert status == 200, k
        assert admin(gw, "POST", "/user/new", {"user_id": "u1"})[0] == 200
        assert admin(gw, "GET", f"/key/info?key={k['key']}")[0] == 200
        # A value the database itself refuses (a primary-key entry too big on PostgreSQL) is a
        # 400 that does not show the database's words either.
        status, body = admin(gw, "POST", "/user/new", {"user_id": noise(12_000)})
        if pg_url:
            assert_clean_400(status, body, "long user_id")
        else:
            assert status == 200, body

        client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)
        for what, kw in [("user", {"user": "a\u0000b"}),
                         ("tags", {"extra_body": {"metadata": {"tags": ["t\u0000"]}}}),
                         ("tags", {"extra_body": {"tags": ["t\u0000"]}})]:
            with pytest.raises(openai.BadRequestError) as e:
                chat(client, **kw)
            assert_clean_400(400, {"error": e.value.body}, what)
            assert what in e.value.body["message"]
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="gpt\u00004o", messages=[{"role": "user", "content": "Hi"}])
        # Messages go to the provider, not the database: a NUL there is the provider's business.
        assert client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "a\u0000b"}], user="fine").choices
        assert len(logs_of(gw, k["key"], 1)) == 1
    finally:
        gw.stop()
