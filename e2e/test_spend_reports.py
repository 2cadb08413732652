"""Spend analytics from LiteLLM's daily roll-ups (`/user|team|tag|organization|customer/daily/
activity`) and `/global/spend/report`, after real calls through the openai client, on SQLite
and PostgreSQL."""
import time

import openai
import pytest

from test_virtual_keys import admin, database, start  # noqa: F401  (fixture)


def close(a, b):
    return abs(a - b) < 1e-10


def test_daily_activity_and_spend_report(mock, tmp_path, database):  # noqa: F811
    env, _ = database
    gw = start(tmp_path, mock, env)
    try:
        assert admin(gw, "POST", "/organization/new", {"organization_id": "o-rep", "organization_alias": "Reports Org"})[0] == 200
        assert admin(gw, "POST", "/team/new", {"team_id": "t-rep", "team_alias": "reporting", "organization_id": "o-rep"})[0] == 200
        admin(gw, "POST", "/user/new", {"user_id": "u-rep", "auto_create_key": False})
        _, k = admin(gw, "POST", "/key/generate", {"team_id": "t-rep", "user_id": "u-rep", "key_alias": "rep-key", "metadata": {"tags": ["reports"]}})
        client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], user="cust-rep")
        list(client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}], stream=True))
        client.embeddings.create(model="embed", input="hello")
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="limited", messages=[{"role": "user", "content": "Hi"}])
        time.sleep(2.5)

        _, logs = admin(gw, "GET", f"/spend/logs?api_key={k['key']}")
        [failed] = [l for l in logs if l["status"] == "failure"]
        assert failed["spend"] == 0 and failed["model_group"] == "limited"
        logs = [l for l in logs if l["status"] == "success"]
        assert len(logs) == 5
        total = sum(l["spend"] for l in logs)
        chat_total = sum(l["spend"] for l in logs if l["call_type"] == "acompletion")
        assert total > 0 and chat_total > 0
        today = time.strftime("%Y-%m-%d", time.gmtime())

        status, act = admin(gw, "GET", f"/user/daily/activity?start_date={today}&end_date={today}&user_id=u-rep")
        assert status == 200, act
        [day] = act["results"]
        assert day["date"] == today
        assert close(day["metrics"]["spend"], total) and day["metrics"]["api_requests"] == 6
        assert day["metrics"]["successful_requests"] == 5 and day["metrics"]["failed_requests"] == 1
        assert day["metrics"]["total_tokens"] == day["metrics"]["prompt_tokens"] + day["metrics"]["completion_tokens"] > 0
        b = day["breakdown"]
        assert set(b["endpoints"]) == {"/chat/completions", "/embeddings"}
        assert close(b["endpoints"]["/chat/completions"]["metrics"]["spend"], chat_total)
        assert b["endpoints"]["/chat/completions"]["metrics"]["api_requests"] == 5
        assert set(b["model_groups"]) == {"gpt-4o", "embed", "limited"}
        assert set(b["models"]) == {"gpt-4o", "text-embedding-3-small", "mock-error-429"}
        assert set(b["providers"]) == {"openai"}
        assert b["api_keys"][k["token"]]["metadata"]["key_alias"] == "rep-key"
        assert set(b["entities"]) == {"u-rep"}
        md = act["metadata"]
        assert close(md["total_spend"], total) and md["total_api_requests"] == 6
        assert md["page"] == 1 and md["total_pages"] == 1 and md["has_more"] is False

        # Paging walks the stored rows (one per model and endpoint here).
        _, p1 = admin(gw, "GET", f"/user/daily/activity?start_date={today}&end_date={today}&user_id=u-rep&page_size=1")
        assert p1["metadata"]["total_pages"] == 3 and p1["metadata"]["has_more"] is True
        # A model filter, and a day with nothing.
        _, only = admin(gw, "GET", f"/user/daily/activity?start_date={today}&end_date={today}&user_id=u-rep&model=gpt-4o")
        assert close(only["metadata"]["total_spend"], chat_total)
        _, empty = admin(gw, "GET", "/user/daily/activity?start_date=2000-01-01&end_date=2000-01-02")
        assert empty["results"] == [] and empty["metadata"]["total_spend"] == 0

        for path, query, entity in [("team", "team_ids=t-rep", "t-rep"), ("organization", "organization_ids=o-rep", "o-rep"),
                                    ("tag", "tags=reports", "reports")]:
            status, a = admin(gw, "GET", f"/{path}/daily/activity?start_date={today}&end_date={today}&{query}")
            assert status == 200, a
            assert close(a["metadata"]["total_spend"], total), path
            assert a["metadata"]["total_failed_requests"] == 1, path
            assert set(a["results"][0]["breakdown"]["entities"]) == {entity}
        _, c = admin(gw, "GET", f"/customer/daily/activity?start_date={today}&end_date={today}&end_user_ids=cust-rep")
        assert close(c["metadata"]["total_spend"], 3 * logs[0]["spend"]) and c["metadata"]["total_api_requests"] == 3

        # The key itself may read its own user's activity, not others'.
        own = admin_as(gw, k["key"], f"/user/daily/activity?start_date={today}&end_date={today}")
        assert own[0] == 200 and close(own[1]["metadata"]["total_spend"], total)
        assert admin_as(gw, k["key"], f"/user/daily/activity?start_date={today}&end_date={today}&user_id=someone")[0] == 403
        # Its team's activity, limited to its own keys (it is not a team admin); not other teams.
        status, mine = admin_as(gw, k["key"], f"/team/daily/activity?start_date={today}&end_date={today}")
        assert status == 200 and close(mine["metadata"]["total_spend"], total)
        assert set(mine["results"][0]["breakdown"]["api_keys"]) == {k["token"]}
        status, err = admin_as(gw, k["key"], f"/team/daily/activity?start_date={today}&end_date={today}&team_ids=other-team")
        assert status == 404 and "User does not belong to Team= other-team" in err["error"]["message"]
        # Tags: only its own keys' rows; another key sees none of them.
        status, tagged = admin_as(gw, k["key"], f"/tag/daily/activity?start_date={today}&end_date={today}&tags=reports")
        assert status == 200 and close(tagged["metadata"]["total_spend"], total)
        _, stranger = admin(gw, "POST", "/key/generate", {})
        assert admin_as(gw, stranger["key"], f"/tag/daily/activity?start_date={today}&end_date={today}&tags=reports")[1]["results"] == []
        assert admin_as(gw, k["key"], f"/organization/daily/activity?start_date={today}&end_date={today}")[0] == 401

        # /global/spend/report in its three groupings.
        _, rep = admin(gw, "GET", f"/global/spend/report?start_date={today}&end_date={today}")
        [d] = rep
        assert d["group_by_day"].startswith(today)
        [team] = d["teams"]
        assert team["team_name"] == "reporting" and close(team["total_spend"], total)
        assert {m["model"] for m in team["metadata"]} == {"gpt-4o", "text-embedding-3-small", "mock-error-429"}
        _, rep = admin(gw, "GET", f"/global/spend/report?start_date={today}&end_date={today}&group_by=api_key")
        [row] = rep
        assert row["api_key"] == k["token"] and close(row["total_cost"], total)
        assert sum(m["total_cost"] for m in row["model_details"]) == pytest.approx(total, abs=1e-10)
        _, rep = admin(gw, "GET", f"/global/spend/report?start_date={today}&end_date={today}&group_by=customer")
        customers = {c["customer"]: c["total_spend"] for c in rep[0]["customers"]}
        assert close(customers["cust-rep"], 3 * logs[0]["spend"])
        _, rep = admin(gw, "GET", f"/global/spend/report?start_date={today}&end_date={today}&team_id=t-rep&customer_id=cust-rep")
        [tc] = rep[0]["teams_customers"]
        assert tc["team_name"] == "reporting" and tc["customer"] == "cust-rep"
        assert close(tc["total_spend"], 3 * logs[0]["spend"])
        _, rep = admin(gw, "GET", f"/global/spend/report?start_date={today}&end_date={today}&api_key={k['key']}")
        assert rep[0]["api_key"] == k["token"]

        # Bad input.
        assert admin(gw, "GET", "/user/daily/activity")[0] == 400
        assert admin(gw, "GET", "/user/daily/activity?start_date=2024-13-01&end_date=2024-12-01")[0] == 400
        assert admin(gw, "GET", f"/user/daily/activity?start_date={today}&end_date=2000-01-01")[0] == 400
        assert admin(gw, "GET", f"/user/daily/activity?start_date={today}&end_date={today}&page=0")[0] in (400, 422)
        assert admin(gw, "GET", "/global/spend/report")[0] == 400
        assert admin(gw, "GET", f"/global/spend/report?start_date={today}&end_date={today}&group_by=planet")[0] == 400
    finally:
        gw.stop()


def admin_as(gw, key, path):
    import json
    import urllib.request
    req = urllib.request.Request(f"{gw.base}{path}", headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_disable_error_logs_keeps_failures_out(mock, tmp_path):
    from conftest import MASTER, Gateway, models_yaml
    cfg = models_yaml(mock) + f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 1\n  disable_error_logs: true\n"
    gw = Gateway(tmp_path, cfg, env={"UPSTREAM_KEY": "sk-up", "LLMGATE_DB_PATH": str(tmp_path / "k.db")}).wait_ready()
    try:
        _, k = admin(gw, "POST", "/key/generate", {})
        client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)
        client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        with pytest.raises(openai.RateLimitError):
            client.chat.completions.create(model="limited", messages=[{"role": "user", "content": "Hi"}])
        time.sleep(2.5)
        _, logs = admin(gw, "GET", f"/spend/logs?api_key={k['key']}")
        assert [l["status"] for l in logs] == ["success"]
    finally:
        gw.stop()
