"""Alerts through the binary, as LiteLLM 1.110 sends them (`general_settings.alerting: [slack,
webhook]`), against a local HTTP receiver standing in for Slack's incoming webhook and for the
`WEBHOOK_URL`: LLM exceptions (to their own `alert_to_webhook_url` channel), slow and hanging
requests, model outages (minor, then major), key budget events (`threshold_crossed`, then
`budget_crossed`, each once), the daily deployment report, database write failures, the
`/health/services` test alerts; and, with two instances on one PostgreSQL and Redis, one alert
for the fleet."""
import json
import re
import subprocess
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer

import openai
import pytest

from conftest import MASTER, Gateway
from test_resilience import TcpProxy
from test_virtual_keys import PG, admin

REDIS = "redis://127.0.0.1:6379/0"
COST = 10 * 1e-4 + 5 * 2e-4  # the mock's usage (10 prompt, 5 completion tokens) at these prices


class Receiver:
    """Records every POST: (path, JSON body)."""

    def __init__(self):
        self.events = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                outer.events.append((self.path, body))
                self.send_response(200)
                self.end_headers()
                self.wfile.write(b"ok")

            def log_message(self, *a):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_port}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def texts(self, path="/slack"):
        return [b["text"] for p, b in self.events if p == path]

    def webhooks(self):
        return [b for p, b in self.events if p == "/hook"]

    def wait(self, pred, what, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            got = pred()
            if got:
                return got
            time.sleep(0.05)
        raise AssertionError(f"no {what} in {json.dumps(self.events, indent=1)}")


def dep(mock, name, model, params=""):
    return (
        f"  - model_name: {name}\n    litellm_params:\n      model: openai/{model}\n"
        f"      api_base: {mock.base}/v1\n      api_key: sk-up\n{params}"
        "      input_cost_per_token: 0.0001\n      output_cost_per_token: 0.0002\n"
    )


def config(mock, rx, general=""):
    return (
        "model_list:\n"
        + dep(mock, "gpt-4o", "gpt-4o")
        + dep(mock, "broken", "mock-error-500")
        + dep(mock, "slow", "mock-slow-1600")
        + f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 0.3\n"
        "  alerting: [slack, webhook]\n" + general
    )


def env(rx, **more):
    return {"SLACK_WEBHOOK_URL": f"{rx.base}/slack", "WEBHOOK_URL": f"{rx.base}/hook",
            "DEFAULT_FLUSH_INTERVAL_SECONDS": "0.3", "PROXY_BASE_URL": "http://proxy.example", **more}


def chat(gw, model, key=MASTER):
    c = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
    return c.chat.completions.create(model=model, messages=[{"role": "user", "content": "Hi"}])


HEAD = re.compile(r"^Alert type: `(\w+)`\nLevel: `(\w+)`\nTimestamp: `\d\d:\d\d:\d\d`\n\nMessage: ", re.S)


def body(text):
    """The message of a formatted Slack alert (without the `[Num Alerts: n]` and Proxy URL)."""
    text = re.sub(r"^\[Num Alerts: \d+\]\n\n", "", text)
    m = HEAD.match(text)
    assert m, text
    assert text.endswith("\n\nProxy URL: `http://proxy.example`"), text
    return m.group(1), m.group(2), text[m.end():-len("\n\nProxy URL: `http://proxy.example`")]


def test_slack_and_webhook_alerts(mock, tmp_path):
    rx = Receiver()
    general = (
        "  alerting_threshold: 1\n"
        "  alert_types: [llm_exceptions, llm_too_slow, llm_requests_hanging, budget_alerts, outage_alerts, daily_reports]\n"
        f"  alert_to_webhook_url: {{llm_exceptions: \"{rx.base}/exceptions\"}}\n"
        "  alerting_args: {minor_outage_alert_threshold: 2, major_outage_alert_threshold: 3,"
        " daily_report_frequency: 4, report_check_interval: 1, budget_alert_ttl: 600}\n"
    )
    gw = Gateway(tmp_path, config(mock, rx, general),
                 env=env(rx, LLMGATE_DB_PATH=str(tmp_path / "keys.db"))).wait_ready()
    try:
        # An LLM exception goes to its own channel; three 500s of one deployment are a minor,
        # then a major outage.
        for _ in range(3):
            with pytest.raises(openai.InternalServerError):
                chat(gw, "broken")
        exc = rx.wait(lambda: rx.texts("/exceptions"), "llm_exceptions alert")
        kind, level, msg = body(exc[0])
        assert (kind, level) == ("llm_exceptions", "High")
        assert msg.startswith("LLM API call failed: `litellm.InternalServerError"), msg
        assert f"\nModel: mock-error-500\nAPI Base: `{mock.base}/v1`" in msg
        assert "\nMessages: `[{'role': 'user', 'content': 'Hi'}]`" in msg and "\nmodel_group: `broken`\n" in msg
        outages = rx.wait(lambda: [t for t in rx.texts() if "Service Outage" in t and "Major" in t] and
                          [t for t in rx.texts() if "Service Outage" in t], "outage alerts")
        assert len(outages) == 2, outages
        # Sent concurrently: the minor one first by content, not by arrival.
        outages = sorted(outages, key=lambda t: "Minor" not in t)
        (k1, l1, minor), (k2, l2, major) = map(body, outages)
        assert (k1, l1, k2, l2) == ("outage_alerts", "Medium", "outage_alerts", "High")
        assert minor.startswith("\n\n\n*⚠️ Minor Service Outage*\n\n\n*Model Name:* `mock-error-500`\n"
                                f"*Provider:* `openai`\n*API Base:* `{mock.base}/v1`\n\n\n*Errors:*\n\nAPI Errors: 2\n"), minor
        assert "*⚠️ Major Service Outage*" in major and "\nAPI Errors: 3\n" in major
        assert not any(t for t in rx.texts() if "llm_exceptions" in t), "llm_exceptions went to the default URL"

        # A slow answer (1.6 s > 1 s) is slow, and hanging while it runs.
        chat(gw, "slow")
        slow = rx.wait(lambda: [t for t in rx.texts() if "`llm_too_slow`" in t], "slow alert")
        kind, level, msg = body(slow[0])
        assert level == "Low"
        assert re.match(r"`Responses are slow - 1\.\d+s response time > Alerting threshold: 1s`\n"
                        r"Request Model: `mock-slow-1600`\nAPI Base: `http://[^`]+/v1`\n"
                        r"Messages: `\[\{'role': 'user', 'content': 'Hi'\}\]`$", msg), msg
        hanging = rx.wait(lambda: [t for t in rx.texts() if "`llm_requests_hanging`" in t], "hanging alert")
        assert len(hanging) == 1
        kind, level, msg = body(hanging[0])
        assert level == "Medium"
        assert msg == ("`Requests are hanging - 1s+ request time`\nRequest Model: `slow`\nAPI Base: `None`\n"
                       "Key Alias: `None`\nTeam Alias: `None`")

        # A key's budget: 15 % left is `threshold_crossed`, then spent is `budget_crossed`, each once
        # (to the webhook as LiteLLM's WebhookEvent, to Slack as text).
        status, k = admin(gw, "POST", "/key/generate", {"max_budget": COST * 1.1, "key_alias": "alerted"})
        assert status == 200, k
        chat(gw, "gpt-4o", k["key"])
        chat(gw, "gpt-4o", k["key"])
        with pytest.raises(openai.BadRequestError):
            chat(gw, "gpt-4o", k["key"])
        hooks = rx.wait(lambda: len(rx.webhooks()) >= 2 and rx.webhooks(), "webhook events")
        time.sleep(1)
        hooks = rx.webhooks()
        assert [h["event"] for h in hooks] == ["threshold_crossed", "budget_crossed"], hooks
        first, second = hooks
        assert first["event_message"] == "Key Budget: 15% or less of budget remaining"
        assert second["event_message"] == f"Key Budget: Budget Crossed\n Total Budget:`{COST * 1.1!r}`"
        assert first["token"] == k["token"] and first["key_alias"] == "alerted" and first["event_group"] == "key"
        assert abs(first["spend"] - COST) < 1e-12 and first["max_budget"] == COST * 1.1
        assert list(first)[:3] == ["spend", "max_budget", "soft_budget"] and list(first)[-2:] == ["event", "event_message"]
        # Sent concurrently: their order on arrival is not theirs.
        budget = sorted((body(t) for t in rx.texts() if "`budget_alerts`" in t), key=lambda b: "15%" not in b[2])
        assert [b[1] for b in budget] == ["High", "High"]
        assert budget[1][2].startswith(f"Key Budget: Budget Crossed\n Total Budget:`{COST * 1.1!r}`\n\n*spend:* `")
        assert budget[0][2] == ("Key Budget: 15% or less of budget remaining\n\n"
                                f"*spend:* `{COST!r}`\n*max_budget:* `{COST * 1.1!r}`\n"
                                "*key_alias:* `alerted`\n*event_group:* `key`\n")

        # The daily report: the failed deployment and the slowest, from this traffic.
        report = rx.wait(lambda: [t for t in rx.texts() if t.startswith("Alert type: `daily_reports`")],
                         "daily report", timeout=15)
        text = report[0]
        assert text.startswith("Alert type: `daily_reports`\n\nTime: `"), text
        assert "*❗️ Top Deployments with Most Failed Requests:*\n\n\t1. Deployment: `openai/mock-error-500`, " \
               f"Failed Requests: `3`,  API Base: `{mock.base}/v1`\n" in text, text
        assert "*😅 Top Slowest Deployments:*\n\n\t1. Deployment: `openai/mock-slow-1600`" in text

        # /health/services: Slack's test alert (one per alert_to_webhook_url type), the webhook's.
        status, r = admin(gw, "GET", "/health/services?service=slack")
        assert status == 200 and r["status"] == "success", r
        assert r["message"] == "Mock Slack Alert sent, verify Slack Alert Received on your channel"
        assert "llm_exceptions" in r["alert_types"]
        rx.wait(lambda: [t for t in rx.texts("/exceptions") if "LLM Exception test alert" in t], "test alert")
        status, r = admin(gw, "GET", "/health/services?service=webhook")
        assert status == 200 and r["message"] == "Mock Webhook Alert sent, verify Webhook Alert Received"
        test = rx.wait(lambda: [h for h in rx.webhooks() if h["event_message"].startswith("User Budget")], "webhook test")
        assert test[0]["event"] == "budget_crossed" and test[0]["spend"] == 1.0 and test[0]["max_budget"] == 0.0
        assert test[0]["event_message"] == "User Budget: Budget Crossed\n Total Budget:`0.0`"
        status, r = admin(gw, "GET", "/health/services?service=webhook", key=k["key"])
        assert status == 403 and r["error"]["message"] == "Only proxy admins can trigger the webhook test alert."
        status, r = admin(gw, "GET", "/health/services?service=nope")
        assert status == 400
    finally:
        gw.stop()
    # What the gateway said at start: nothing about these settings being unsupported.
    log = (tmp_path / "llmgate.log").read_text()
    assert "not supported by llmgate" not in log or "alert" not in log.split("not supported by llmgate")[1][:400]


def test_alerting_off_by_type_and_unsupported_types_named(mock, tmp_path):
    rx = Receiver()
    general = "  alert_types: [budget_alerts, fallback_reports]\n"
    gw = Gateway(tmp_path, config(mock, rx, general), env=env(rx)).wait_ready()
    try:
        with pytest.raises(openai.InternalServerError):
            chat(gw, "broken")
        status, r = admin(gw, "GET", "/health/services?service=slack")
        assert status == 200 and r["alert_types"] == ["budget_alerts", "fallback_reports"]
        rx.wait(lambda: rx.texts(), "test alert")
        time.sleep(1)
        # The exception is not an alert type asked for: only the test alert came.
        assert len(rx.texts()) == 1 and "This is a test slack alert message" in rx.texts()[0], rx.events
    finally:
        gw.stop()
    log = (tmp_path / "llmgate.log").read_text()
    assert "general_settings.alert_types: fallback_reports (fallback reports)" in log, log


@pytest.fixture
def pg():
    name = f"llmgate_alerts_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    yield name
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


def test_a_fleet_sends_one_budget_alert_and_database_failures_alert(mock, tmp_path, pg):
    rx = Receiver()
    proxy = TcpProxy()
    gws = []
    try:
        for i in range(2):
            d = tmp_path / f"gw{i}"
            d.mkdir()
            gws.append(Gateway(d, config(mock, rx, "  alert_types: [budget_alerts, db_exceptions]\n"),
                               env=env(rx, DATABASE_URL=f"postgresql://postgres@127.0.0.1:{proxy.port}/{pg}",
                                       REDIS_URL=REDIS)).wait_ready())
        a, b = gws
        status, k = admin(a, "POST", "/key/generate", {"max_budget": COST * 10})
        assert status == 200, k
        # Calls 9 and 10 leave 10 % then 0 %: the key is in `threshold_crossed` on both instances;
        # the fleet sends it once (Redis SET NX on the alert's key before sending).
        for i in range(9):
            chat(gws[i % 2], "gpt-4o", k["key"])
            time.sleep(0.25)  # the instances share the key's spend through Redis every 100 ms
        for gw in gws:
            for _ in range(2):
                try:
                    chat(gw, "gpt-4o", k["key"])
                except openai.BadRequestError:
                    pass
                time.sleep(0.25)
        rx.wait(lambda: [h for h in rx.webhooks() if h["event"] == "budget_crossed"], "budget_crossed")
        time.sleep(1.5)
        events = [h["event"] for h in rx.webhooks()]
        assert events.count("threshold_crossed") == 1 and events.count("budget_crossed") == 1, events
        assert len([t for t in rx.texts() if "`budget_alerts`" in t]) == 2, rx.texts()

        # The database goes away: the spend writer's failures are a `db_exceptions` alert.
        proxy.cut()
        chat(a, "gpt-4o")
        db = rx.wait(lambda: [t for t in rx.texts() if "`db_exceptions`" in t], "db_exceptions alert", timeout=20)
        kind, level, msg = body(db[0])
        assert level == "High" and msg.startswith("DB read/write call failed: "), msg
    finally:
        proxy.restore()
        for gw in gws:
            gw.stop()


def test_redis_outage_alert_and_exceptions_without_messages(mock, tmp_path):
    """A Redis that is not there: its failures are `db_exceptions` alerts, one per flush interval at
    most however many calls fail; with message logging off, an LLM exception names no message."""
    from conftest import free_port

    rx = Receiver()
    cfg = config(mock, rx, "  alert_types: [db_exceptions, llm_exceptions]\n") + (
        "litellm_settings:\n  turn_off_message_logging: true\n  cache: true\n"
        f"  cache_params: {{type: redis, host: 127.0.0.1, port: {free_port()}, ttl: 60}}\n")
    gw = Gateway(tmp_path, cfg, env=env(rx, DEFAULT_FLUSH_INTERVAL_SECONDS="1")).wait_ready()
    try:
        t0 = time.time()
        for _ in range(6):  # each call's cache lookup fails
            chat(gw, "gpt-4o")
        redis = rx.wait(lambda: [t for t in rx.texts() if "Redis read/write call failed" in t], "Redis alert")
        kind, level, msg = body(redis[0])
        assert (kind, level) == ("db_exceptions", "High"), msg
        assert re.match(r"Redis read/write call failed: \w+: (ConnectionError|TimeoutError)", msg), msg
        assert re.search(r"\(failures: \d+\)$", msg), msg
        time.sleep(1.5)
        alerts = [t for t in rx.texts() if "Redis read/write call failed" in t]
        # Rate-limited: at most one per 1 s flush interval since the calls began.
        assert 1 <= len(alerts) <= int(time.time() - t0) + 1, alerts

        with pytest.raises(openai.InternalServerError):
            chat(gw, "broken")
        exc = rx.wait(lambda: [t for t in rx.texts() if "`llm_exceptions`" in t], "llm_exceptions alert")
        kind, level, msg = body(exc[0])
        assert msg.startswith("LLM API call failed: `litellm.InternalServerError"), msg
        assert "\nmodel_group: `broken`\n" in msg and "Messages:" not in msg and "'Hi'" not in msg, msg
    finally:
        gw.stop()


def test_management_events_and_new_models_are_alerted(mock, tmp_path):
    rx = Receiver()
    general = ("  alert_types: [new_virtual_key_created, virtual_key_deleted, new_team_created, team_updated,"
               " new_model_added]\n  store_model_in_db: true\n")
    gw = Gateway(tmp_path, config(mock, rx, general), env=env(rx)).wait_ready()
    try:
        status, team = admin(gw, "POST", "/team/new", {"team_alias": "alerted-team"})
        assert status == 200
        assert admin(gw, "POST", "/team/update", {"team_id": team["team_id"], "max_budget": 5})[0] == 200
        status, key = admin(gw, "POST", "/key/generate", {"key_alias": "alerted-key", "key": "sk-custom-secret-1"})
        assert status == 200
        assert admin(gw, "POST", "/key/update", {"key": key["key"], "max_budget": 1})[0] == 200  # not asked for
        assert admin(gw, "POST", "/key/delete", {"keys": [key["key"]]})[0] == 200
        assert admin(gw, "POST", "/team/delete", {"team_ids": ["no-such-team"]})[0] != 200  # failed: no alert
        assert admin(gw, "POST", "/model/new", {"model_name": "added-model",
                                                "litellm_params": {"model": "openai/gpt-4o", "api_key": "sk-x"}})[0] == 200
        got = rx.wait(lambda: len(rx.texts()) >= 5 and rx.texts(), "management alerts", timeout=15)
        time.sleep(1)
        texts = rx.texts()
        events = {}
        for t in texts:
            if t.startswith("Alert type: `new_model_added`"):
                events["new_model_added"] = t
                continue
            kind, level, message = body(t)
            assert level == "High"
            events[kind] = message
        assert sorted(events) == ["new_model_added", "new_team_created", "new_virtual_key_created",
                                  "team_updated", "virtual_key_deleted"], texts
        created = events["new_virtual_key_created"]
        assert created.startswith("`New Virtual Key Created`\n*Action Done by:*\ncreated_by_user_id: `Unknown`\n"
                                  "created_by_user_role: `proxy_admin`\ncreated_by_key_alias: `None`\n\n"
                                  "*Arguments passed:*\ndata: `"), created
        data = json.loads(created.split("data: `", 1)[1].rstrip("\n").rstrip("`"))
        # The custom key is masked; the rest is the request as sent.
        assert data == {"key_alias": "alerted-key", "key": "sk-c****"}
        assert "`Team Updated`" in events["team_updated"] and '"max_budget":5' in events["team_updated"]
        assert '"team_alias":"alerted-team"' in events["new_team_created"]
        model = events["new_model_added"]
        assert "New Model Added*\nModel Name: `added-model`" in model and "base_url=http://proxy.example" in model
        assert "input_cost_per_token: 0.00000250" in model  # gpt-4o's catalog price, as LiteLLM prints it
    finally:
        gw.stop()


def test_spend_report_per_team_and_tag(mock, tmp_path):
    rx = Receiver()
    general = "  alert_types: [spend_reports]\n  spend_report_frequency: 2d\n"
    gw = Gateway(tmp_path, config(mock, rx, general), env=env(rx)).wait_ready()
    try:
        _, team = admin(gw, "POST", "/team/new", {"team_alias": "report-team"})
        _, key = admin(gw, "POST", "/key/generate", {"team_id": team["team_id"]})
        c = openai.OpenAI(base_url=gw.base, api_key=key["key"], max_retries=0)
        for tags in (["tag-a"], ["tag-a", "tag-b"]):
            c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}],
                                      extra_body={"metadata": {"tags": tags}})
        chat(gw, "gpt-4o")  # the master key: no team
        # LiteLLM's scheduler sends the first report 10 s after the start.
        (text,) = rx.wait(lambda: rx.texts(), "spend report", timeout=25)
        kind, level, message = body(text)
        assert (kind, level) == ("spend_reports", "Low")
        today = time.strftime("%m-%d-%Y", time.gmtime())
        start = time.strftime("%m-%d-%Y", time.gmtime(time.time() - 2 * 86400))
        assert message == (
            f"*💸 Spend Report for `{start} - {today}` (2 days)*\n\n*Team Spend Report:*\n"
            f"Team: `report-team` | Spend: `${round(2 * COST, 4)}`\nTeam: `None` | Spend: `${round(COST, 4)}`\n"
            f"\n*Tag Spend Report:*\nTag: `tag-a` | Spend: `${round(2 * COST, 4)}`\n"
            f"Tag: `tag-b` | Spend: `${round(COST, 4)}`\n"), message
    finally:
        gw.stop()
