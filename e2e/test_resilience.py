"""The request path survives a database outage (cached keys keep working, spend waits in the
journal and lands when the database is back), bad keys do not hammer the database, proxy
admins' keys manage the proxy, access groups grant models, and budget alerts reach a webhook."""
import json
import socket
import subprocess
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import openai
import pytest

from conftest import MASTER, Gateway, models_yaml
from test_virtual_keys import PG, admin


class TcpProxy:
    """A TCP relay in front of PostgreSQL that can cut every connection (an outage)."""

    def __init__(self, target_port=5432):
        self.target = ("127.0.0.1", target_port)
        self.sock = socket.socket()
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.port = self.sock.getsockname()[1]
        self.up = True
        self.conns = []
        self.lock = threading.Lock()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if not self.up:
                c.close()
                continue
            try:
                u = socket.create_connection(self.target)
            except OSError:
                c.close()
                continue
            with self.lock:
                self.conns += [c, u]
            for a, b in ((c, u), (u, c)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(a, b):
        try:
            while data := a.recv(65536):
                b.sendall(data)
        except OSError:
            pass
        for s in (a, b):
            try:
                s.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def cut(self):
        self.up = False
        with self.lock:
            for s in self.conns:
                try:
                    s.shutdown(socket.SHUT_RDWR)
                    s.close()
                except OSError:
                    pass
            self.conns = []

    def restore(self):
        self.up = True


def psql(url, sql):
    return subprocess.run(["psql", url, "-Atc", sql], check=True, capture_output=True, text=True).stdout.strip()


def test_database_outage_degrades_the_request_path(mock, tmp_path):
    name = f"llmgate_outage_{uuid.uuid4().hex[:10]}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    proxy = TcpProxy()
    url = f"postgres://postgres@127.0.0.1:{proxy.port}/{name}"
    cfg = models_yaml(mock) + f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 1\n"
    gw = Gateway(tmp_path, cfg, env={"UPSTREAM_KEY": "sk-up", "DATABASE_URL": url}).wait_ready()
    try:
        _, k = admin(gw, "POST", "/key/generate", {"max_budget": 1.0})
        client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0, timeout=20)
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        time.sleep(1.5)

        proxy.cut()
        t0 = time.time()
        for _ in range(5):  # a known key needs no database
            assert client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}]).choices
        assert time.time() - t0 < 5
        # An unknown key cannot be checked: a clear 503 in bounded time, not a hang.
        bad = openai.OpenAI(base_url=gw.base, api_key="sk-not-a-key-0000", max_retries=0, timeout=30)
        t0 = time.time()
        with pytest.raises(openai.APIStatusError) as e:
            bad.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        assert e.value.status_code in (401, 503) and time.time() - t0 < 15
        status, _ = admin(gw, "GET", f"/key/info?key={k['key']}")  # served from memory or a clean 5xx
        assert status in (200, 503)
        time.sleep(2.5)  # batches fail meanwhile and are kept

        proxy.restore()
        deadline = time.time() + 30
        direct = f"{PG}/{name}"
        while psql(direct, f"""SELECT count(*) FROM "LiteLLM_SpendLogs" WHERE api_key = '{k["token"]}'""") != "6":
            assert time.time() < deadline, "spend written during the outage never reached the database"
            time.sleep(0.5)
        spend = float(psql(direct, f"""SELECT spend FROM "LiteLLM_VerificationToken" WHERE token = '{k["token"]}'"""))
        assert abs(spend - 6 * 7.5e-5) < 1e-10
    finally:
        gw.stop()
        proxy.restore()
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


class Hook(BaseHTTPRequestHandler):
    events = []

    def do_POST(self):
        Hook.events.append(json.loads(self.rfile.read(int(self.headers["content-length"]))))
        self.send_response(200)
        self.end_headers()

    def log_message(self, *a):
        pass


def test_admin_keys_access_groups_alerts_and_unknown_keys(mock, tmp_path):
    hook = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=hook.serve_forever, daemon=True).start()
    cfg = models_yaml(mock) + (
        "  - model_name: grouped\n    litellm_params:\n      model: openai/gpt-4o\n"
        f"      api_base: {mock.base}/v1\n      api_key: sk-up\n    model_info:\n      access_groups: [beta-models]\n"
        f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 1\n  alerting: [webhook]\n"
    )
    db = tmp_path / "keys.db"
    gw = Gateway(tmp_path, cfg, env={"UPSTREAM_KEY": "sk-up", "LLMGATE_DB_PATH": str(db),
                                     "WEBHOOK_URL": f"http://127.0.0.1:{hook.server_port}/hook"}).wait_ready()
    try:
        # A proxy admin's key manages keys; an ordinary key may not.
        admin(gw, "POST", "/user/new", {"user_id": "ops", "user_role": "proxy_admin", "auto_create_key": False})
        _, ak = admin(gw, "POST", "/key/generate", {"user_id": "ops"})
        _, plain = admin(gw, "POST", "/key/generate", {})

        def as_key(key, path, body):
            req = urllib.request.Request(f"{gw.base}{path}", method="POST", data=json.dumps(body).encode(),
                                         headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(req) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())
        status, made = as_key(ak["key"], "/key/generate", {"models": ["beta-models"], "soft_budget": 0.0001})
        assert status == 200, made
        # As LiteLLM: the soft budget lives in a LiteLLM_BudgetTable row linked to the key.
        assert made["soft_budget"] == 0.0001 and made["budget_id"]
        _, budget = admin(gw, "POST", "/budget/info", {"budgets": [made["budget_id"]]})
        assert budget[0]["soft_budget"] == 0.0001
        assert admin(gw, "POST", "/key/generate", {"soft_budget": -1})[0] == 400
        assert as_key(plain["key"], "/key/generate", {})[0] == 401

        # An access group grants the models that list it, and only those.
        client = openai.OpenAI(base_url=gw.base, api_key=made["key"], max_retries=0)
        assert [m.id for m in client.models.list()] == ["grouped"]
        client.chat.completions.create(model="grouped", messages=[{"role": "user", "content": "Hi"}])
        with pytest.raises(openai.PermissionDeniedError):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])

        # A key's alias sends a name it may call to another model group.
        _, aliased = admin(gw, "POST", "/key/generate", {"models": ["fast"], "aliases": {"fast": "gpt-4o"}})
        ac = openai.OpenAI(base_url=gw.base, api_key=aliased["key"], max_retries=0)
        r = ac.chat.completions.with_raw_response.create(model="fast", messages=[{"role": "user", "content": "Hi"}])
        assert r.headers["x-litellm-model-group"] == "gpt-4o" and r.parse().choices[0].message.content == "Hello from mock"
        with pytest.raises(openai.PermissionDeniedError):
            ac.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])

        # The second call crosses the soft budget (7.5e-5 each): one alert, the call still answered.
        client.chat.completions.create(model="grouped", messages=[{"role": "user", "content": "Hi"}])
        client.chat.completions.create(model="grouped", messages=[{"role": "user", "content": "Hi"}])
        deadline = time.time() + 5
        while not Hook.events:
            assert time.time() < deadline, "no webhook event"
            time.sleep(0.1)
        time.sleep(0.3)
        [ev] = Hook.events
        assert ev["event"] == "soft_budget_crossed" and ev["event_group"] == "key"
        assert ev["event_message"] == "Soft Budget Crossed: Total Soft Budget:`0.0001`"
        assert ev["token"] == made["token"] and ev["soft_budget"] == 0.0001 and ev["spend"] >= 0.0001

        # A team's soft budget alerts too.
        admin(gw, "POST", "/team/new", {"team_id": "soft-team", "soft_budget": 0.0001})
        _, tk = admin(gw, "POST", "/key/generate", {"team_id": "soft-team"})
        tc = openai.OpenAI(base_url=gw.base, api_key=tk["key"], max_retries=0)
        for _ in range(2):
            tc.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        deadline = time.time() + 5
        while len(Hook.events) < 2:
            assert time.time() < deadline, "no team webhook event"
            time.sleep(0.1)
        assert Hook.events[1]["event_group"] == "team" and Hook.events[1]["team_id"] == "soft-team"

        # Unknown keys: refused; a key written to the database by another instance works soon after.
        import hashlib
        import sqlite3
        secret = "sk-made-elsewhere-0001"
        bad = openai.OpenAI(base_url=gw.base, api_key=secret, max_retries=0)
        for _ in range(3):
            with pytest.raises(openai.AuthenticationError):
                bad.models.list()
        with sqlite3.connect(db) as c:
            c.execute('INSERT INTO "LiteLLM_VerificationToken" (token, models, spend, metadata) VALUES (?, ?, 0, ?)',
                      (hashlib.sha256(secret.encode()).hexdigest(), "[]", "{}"))
        deadline = time.time() + 15
        while True:
            try:
                bad.models.list()
                break
            except openai.AuthenticationError:
                assert time.time() < deadline, "a new key was refused for good"
                time.sleep(0.5)
    finally:
        gw.stop()
        hook.shutdown()


def test_key_list_filters_sorting_and_own_keys(mock, tmp_path):
    cfg = models_yaml(mock) + f"general_settings:\n  master_key: {MASTER}\n"
    gw = Gateway(tmp_path, cfg, env={"UPSTREAM_KEY": "sk-up", "LLMGATE_DB_PATH": str(tmp_path / "k.db")}).wait_ready()
    try:
        admin(gw, "POST", "/user/new", {"user_id": "lister", "auto_create_key": False})
        made = [admin(gw, "POST", "/key/generate", {"user_id": "lister", "key_alias": f"k{i}", "max_budget": i})[1] for i in range(3)]
        admin(gw, "POST", "/key/generate", {"key_alias": "other"})
        _, page = admin(gw, "GET", "/key/list?user_id=lister&size=2&page=2&sort_by=max_budget&sort_order=asc&return_full_object=true")
        assert page["total_count"] == 3 and page["total_pages"] == 2 and page["current_page"] == 2
        assert [k["key_alias"] for k in page["keys"]] == ["k2"]
        _, desc = admin(gw, "GET", "/key/list?user_id=lister&sort_by=max_budget")
        assert desc["keys"] == [m["token"] for m in reversed(made)]
        _, one = admin(gw, "GET", f"/key/list?key_hash={made[1]['token']}")
        assert one["keys"] == [made[1]["token"]]
        assert admin(gw, "GET", "/key/list?sort_by=secret")[0] == 400
        assert admin(gw, "GET", "/key/list?sort_order=sideways")[0] == 400

        def get_as(key, path):
            req = urllib.request.Request(f"{gw.base}{path}", headers={"Authorization": f"Bearer {key}"})
            try:
                with urllib.request.urlopen(req) as r:
                    return r.status, json.loads(r.read())
            except urllib.error.HTTPError as e:
                return e.code, json.loads(e.read())
        # A user's key reads its own user, not another's.
        status, me = get_as(made[0]["key"], "/user/info")
        assert status == 200 and me["user_id"] == "lister" and len(me["keys"]) == 3
        assert get_as(made[0]["key"], "/user/info?user_id=someone-else")[0] == 403
        # A user's key lists that user's keys only.
        status, own = get_as(made[0]["key"], "/key/list")
        assert status == 200 and sorted(own["keys"]) == sorted(m["token"] for m in made)
        assert get_as(made[0]["key"], "/key/list?user_id=someone-else")[0] == 403
    finally:
        gw.stop()
