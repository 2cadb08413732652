"""The admin dashboard at /ui in a real headless Chromium (Debian's, driven by Playwright),
against the real binary and the mock upstream: login, keys, usage charts, logs, models,
teams, the internal-user view, CSRF, sessions shared by two instances, phone width.
Screenshots of each page go to $LLMGATE_UI_SCREENSHOTS (default: the test's temp dir)."""
import json
import os
import subprocess
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import openai
import pytest

from conftest import MASTER, Gateway, models_yaml

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = os.environ.get("LLMGATE_CHROMIUM", "/usr/bin/chromium")
PG = os.environ.get("LLMGATE_TEST_PG", "postgres://postgres@127.0.0.1:5432")
UI_USER, UI_PASS = "ui-admin", "ui-pass-0123"
# Secrets the config holds (literal, from the environment, in the environment_variables
# section, in headers): none may reach the settings page or its API answer.
UPSTREAM_ENV_SECRET = "sk-upstream-env-secret-4242"
LITERAL_SECRET = "sk-literal-upstream-secret-777"
HEADER_SECRET = "hdr-secret-0f0f"
ENV_SECTION_SECRET = "env-section-secret-9393"
SECRETS = [MASTER, UPSTREAM_ENV_SECRET, LITERAL_SECRET, HEADER_SECRET, ENV_SECTION_SECRET, UI_PASS]

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")


def call(gw, method, path, body=None, key=MASTER, headers=None):
    """One JSON call: (status, body, response headers)."""
    h = {"Content-Type": "application/json", **(headers or {})}
    if key:
        h["Authorization"] = f"Bearer {key}"
    req = urllib.request.Request(f"{gw.base}{path}", method=method,
                                 data=json.dumps(body).encode() if body is not None else None, headers=h)
    try:
        with urllib.request.urlopen(req) as r:
            raw = r.read()
            return r.status, (json.loads(raw) if raw else None), r.headers
    except urllib.error.HTTPError as e:
        raw = e.read()
        try:
            return e.code, json.loads(raw), e.headers
        except ValueError:
            return e.code, raw.decode(), e.headers


def config(mock):
    return models_yaml(mock) + (
        # A deployment with a literal key and an auth header: the settings page masks both.
        f"  - model_name: secret-model\n    litellm_params:\n      model: openai/gpt-4o\n"
        f"      api_base: {mock.base}/v1\n      api_key: {LITERAL_SECRET}\n"
        f"      extra_headers: {{Authorization: 'Bearer {HEADER_SECRET}'}}\n"
        f"environment_variables:\n  UI_TEST_SECTION_VAR: {ENV_SECTION_SECRET}\n"
        f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 1\n  store_model_in_db: true\n"
        # A LiteLLM key llmgate does not implement: the settings page names it.
        "  infer_model_from_keys: true\n"
    )


@pytest.fixture(params=["sqlite", "postgres"])
def database(request, tmp_path):
    if request.param == "sqlite":
        yield {"LLMGATE_DB_PATH": str(tmp_path / "ui.db")}
        return
    name = f"llmgate_ui_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    yield {"DATABASE_URL": f"{PG}/{name}"}
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


def start(tmp_path, mock, env, sub="gw", extra=""):
    d = tmp_path / sub
    d.mkdir(exist_ok=True)
    full = {"UPSTREAM_KEY": UPSTREAM_ENV_SECRET, "UI_USERNAME": UI_USER, "UI_PASSWORD": UI_PASS, "LITELLM_SALT_KEY": "sk-ui-salt-0123456789", **env}
    return Gateway(d, config(mock) + extra, env=full).wait_ready()


@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield b
        b.close()


class Page:
    """A browser tab that records console errors and saves screenshots."""

    def __init__(self, browser, gw, shots: Path, width=1280, height=800):
        self.ctx = browser.new_context(viewport={"width": width, "height": height}, base_url=gw.base)
        self.page = self.ctx.new_page()
        self.page.set_default_timeout(10_000)
        self.errors = []
        self.page.on("console", lambda m: self.errors.append(m.text) if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))
        self.shots = shots
        shots.mkdir(parents=True, exist_ok=True)

    def shot(self, name):
        # A toast left from the last action is not part of the page.
        self.page.evaluate("document.getElementById('toast')?.replaceChildren()")
        self.page.screenshot(path=str(self.shots / f"{name}.png"), full_page=True)

    def login(self, username, password):
        p = self.page
        p.goto("/ui/")
        p.fill("#username", username)
        p.fill("#password", password)
        p.click("button[type=submit]")

    def close(self):
        self.ctx.close()


def shots_dir(tmp_path):
    return Path(os.environ.get("LLMGATE_UI_SCREENSHOTS") or tmp_path / "screenshots")


def wait_for(pred, timeout=15.0, what="condition"):
    deadline = time.time() + timeout
    while time.time() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}")


def test_dashboard_admin(browser, mock, tmp_path, database):
    gw = start(tmp_path, mock, database)
    tab = Page(browser, gw, shots_dir(tmp_path))
    p = tab.page
    try:
        # A key made through the API, to be found in the UI.
        s, made, _ = call(gw, "POST", "/key/generate", {"key_alias": "api-made", "models": ["gpt-4o"]})
        assert s == 200, made
        # A user's key in a team, with a tag: the usage page breaks spend down by each.
        s, team, _ = call(gw, "POST", "/team/new", {"team_alias": "usage-team"})
        assert s == 200, team
        assert call(gw, "POST", "/user/new", {"user_id": "usage-user"})[0] == 200
        s, usage_key, _ = call(gw, "POST", "/key/generate", {"key_alias": "usage-key", "user_id": "usage-user",
                                                            "team_id": team["team_id"], "metadata": {"tags": ["usage-tag"]}})
        assert s == 200, usage_key

        # Wrong password: an error that says nothing more, no session.
        tab.login(UI_USER, "wrong-password")
        p.wait_for_selector("#login-error:has-text('Invalid username or password.')")
        assert not [c for c in tab.ctx.cookies() if c["name"] == "llmgate_session"]
        tab.shot("login-failed")
        # Chromium logs the refused login's 401 itself; nothing else may be logged.
        assert all("401" in e for e in tab.errors), tab.errors
        tab.errors.clear()

        tab.login(UI_USER, UI_PASS)
        p.wait_for_selector("h1:has-text('Virtual keys')")
        p.wait_for_selector("td:has-text('api-made')")
        cookies = {c["name"]: c for c in tab.ctx.cookies()}
        assert cookies["llmgate_session"]["httpOnly"] and cookies["llmgate_session"]["sameSite"] == "Strict"
        assert cookies["llmgate_session"]["expires"] > time.time() + 3600
        assert not cookies["llmgate_csrf"]["httpOnly"]
        tab.shot("keys")

        # Create a key in the UI: the secret is shown once, and the API finds the key.
        p.click("#create-key")
        p.fill("#f-key_alias", "ui-made")
        p.fill("#f-models", "gpt-4o, demo")
        p.fill("#f-max_budget", "5")
        p.fill("#f-tpm_limit", "1000")
        p.click("button:has-text('Save')")
        secret = p.wait_for_selector("#new-secret").inner_text().strip()
        assert secret.startswith("sk-")
        tab.shot("key-created")
        p.click("button:has-text('Done')")
        s, info, _ = call(gw, "GET", f"/key/info?key={secret}")
        assert s == 200 and info["info"]["key_alias"] == "ui-made", info
        assert info["info"]["models"] == ["gpt-4o", "demo"] and info["info"]["max_budget"] == 5
        p.wait_for_selector("td:has-text('ui-made')")
        assert secret not in p.content(), "the secret is not shown again"

        # Search by alias.
        p.fill("#key-search", "ui-made")
        p.click("button:has-text('Search')")
        p.wait_for_selector("td:has-text('api-made')", state="detached")
        assert p.locator("tbody tr").count() == 1

        # Block: the key stops working; unblock: it works again.
        p.click("tbody tr button:has-text('Block')")
        p.wait_for_selector("tbody .badge:has-text('Blocked')")
        client = openai.OpenAI(base_url=gw.base, api_key=secret, max_retries=0)
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        p.click("tbody tr button:has-text('Unblock')")
        p.wait_for_selector("tbody .badge:has-text('Active')")

        # Edit: a new budget.
        p.click("tbody tr button:has-text('Edit')")
        p.fill("#f-max_budget", "7.5")
        p.click("button:has-text('Save')")
        p.wait_for_selector("td:has-text('$7.50')")
        assert call(gw, "GET", f"/key/info?key={secret}")[1]["info"]["max_budget"] == 7.5

        # Regenerate (POST /key/{key}/regenerate): a new secret shown once; the old one stops
        # working, the new one works, the key keeps its settings.
        p.click("tbody tr button:has-text('Regenerate')")
        p.click("dialog button:has-text('Regenerate')")
        new_secret = p.wait_for_selector("#new-secret").inner_text().strip()
        assert new_secret.startswith("sk-") and new_secret != secret
        tab.shot("key-regenerated")
        p.click("button:has-text('Done')")
        p.wait_for_selector("#new-secret", state="detached")
        assert new_secret not in p.content()
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        secret = new_secret
        client = openai.OpenAI(base_url=gw.base, api_key=secret, max_retries=0)
        s, info, _ = call(gw, "GET", f"/key/info?key={secret}")
        assert s == 200 and info["info"]["key_alias"] == "ui-made" and info["info"]["max_budget"] == 7.5, info

        # Real requests, then the usage charts and the logs show them.
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        usage_client = openai.OpenAI(base_url=gw.base, api_key=usage_key["key"], max_retries=0)
        usage_client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        with pytest.raises(openai.InternalServerError):
            usage_client.chat.completions.create(model="broken", messages=[{"role": "user", "content": "Hi"}])
        today = time.strftime("%Y-%m-%d", time.gmtime())
        wait_for(lambda: (lambda m: m["total_api_requests"] >= 4 and m["total_failed_requests"] >= 1)(
            call(gw, "GET", f"/user/daily/activity?start_date={today}&end_date={today}")[1]["metadata"]),
            what="the daily roll-up")
        p.click("nav a:has-text('Usage')")
        p.wait_for_selector("#spend-chart svg rect.bar", state="attached")
        heights = p.eval_on_selector_all("#spend-chart rect.bar", "bs => bs.map(b => Number(b.getAttribute('height')))")
        assert max(heights) > 0, "today's spend is drawn"
        # Breakdowns by key, model, provider, user, team and tag: a bar chart and a table each.
        p.wait_for_selector("#by-key td:has-text('ui-made')")
        p.wait_for_selector("#by-key td:has-text('usage-key')")
        p.wait_for_selector("#by-model td:text-is('gpt-4o')")
        p.wait_for_selector("#by-provider td:text-is('openai')")
        p.wait_for_selector("#by-user td:text-is('usage-user')")
        p.wait_for_selector("#by-team td:text-is('usage-team')")
        p.wait_for_selector("#by-tag td:text-is('usage-tag')")
        for card in ["by-key", "by-model", "by-provider", "by-user", "by-team", "by-tag"]:
            widths = p.eval_on_selector_all(f"#{card} svg rect.bar", "bs => bs.map(b => Number(b.getAttribute('width')))")
            assert widths and max(widths) > 0, card
        # The failed request is counted and drawn.
        assert int(p.inner_text(".stats .stat:has-text('Failed') strong")) >= 1
        failed = p.eval_on_selector_all("#failures-chart rect.bar", "bs => bs.map(b => Number(b.getAttribute('height')))")
        assert max(failed) > 0
        assert p.inner_text("#by-team tbody tr:has-text('usage-team') td[data-label=Failed]") == "1"
        tab.shot("usage")
        # A past date range has no usage; the range back to today shows it again.
        p.fill("#start", "2020-01-01")
        p.fill("#end", "2020-01-31")
        p.click("#main button:has-text('Apply')")
        p.wait_for_selector("#by-model:has-text('No usage in this range.')")
        assert p.inner_text(".stats .stat:has-text('Requests') strong") == "0"
        p.fill("#end", "2020-01-01")
        p.fill("#start", "2020-02-01")
        p.click("#main button:has-text('Apply')")
        p.wait_for_selector("#usage-body .error:has-text('start date')")
        p.fill("#start", today)
        p.fill("#end", today)
        p.click("#main button:has-text('Apply')")
        p.wait_for_selector("#by-model td:text-is('gpt-4o')")

        p.click("nav a:has-text('Logs')")
        p.wait_for_selector("#logs-body td:has-text('ui-made')")
        p.click("#logs-body tr:has(td:has-text('ui-made')) button.view-log >> nth=0")
        detail = p.wait_for_selector("#log-detail [role=region]")
        assert "gpt-4o" in detail.inner_text() and "Prompt tokens" in detail.inner_text()
        tab.shot("log-detail")

        # Models: health from the router; a database model added and deleted, its key never shown.
        p.click("nav a:has-text('Models')")
        p.wait_for_selector("td:has-text('gpt-4o')")
        p.wait_for_selector(".badge:has-text('Healthy')")
        # "Test": a one-token call to each deployment of the model (LiteLLM's /health?model=).
        p.click("tr:has(td:text-is('gpt-4o')) button:has-text('Test')")
        p.wait_for_selector("#toast:has-text('gpt-4o: 1 deployment(s) answered.')")
        p.click("tr:has(td:text-is('down')) button:has-text('Test')")
        p.wait_for_selector("#toast.bad:has-text('down: 1 deployment(s) failed')")
        p.click("button:has-text('Add model')")
        p.fill("#f-model_name", "ui-db-model")
        p.fill("#f-model", "openai/gpt-4o")
        p.fill("#f-api_base", f"{mock.base}/v1")
        p.fill("#f-api_key", "sk-upstream-secret-xyz")
        p.click("button:has-text('Save')")
        row = p.wait_for_selector("tr:has(td:has-text('ui-db-model'))")
        assert "database" in row.inner_text()
        assert "sk-upstream-secret-xyz" not in p.content()
        tab.shot("models")
        s, info, _ = call(gw, "GET", "/v2/model/info")
        assert "ui-db-model" in [m["model_name"] for m in info["data"]]
        p.click("tr:has(td:has-text('ui-db-model')) button:has-text('Delete')")
        p.click("dialog button:has-text('Delete')")
        p.wait_for_selector("td:has-text('ui-db-model')", state="detached")

        # Teams, users, organizations and budgets: create through the UI, found through the API.
        p.click("nav a:has-text('Teams')")
        p.click("button:has-text('New team')")
        p.fill("#f-team_alias", "ui-team")
        p.fill("#f-max_budget", "10")
        p.click("button:has-text('Save')")
        p.wait_for_selector("td:has-text('ui-team')")
        assert "ui-team" in [t.get("team_alias") for t in call(gw, "GET", "/team/list")[1]]
        tab.shot("teams")
        p.click("nav a:has-text('Users')")
        p.click("button:has-text('New user')")
        p.fill("#f-user_id", "ui-user")
        p.fill("#f-user_email", "ui@example.com")
        p.click("button:has-text('Save')")
        p.wait_for_selector("td:has-text('ui@example.com')")
        tab.shot("users")
        # Team members and their roles.
        p.click("nav a:has-text('Teams')")
        p.click("tr:has(td:has-text('ui-team')) button:has-text('Members')")
        p.fill("#member-user", "ui-user")
        p.select_option("#member-role", "admin")
        p.click("button:has-text('Add member')")
        p.wait_for_selector("dialog td:has-text('ui-user')")
        team = next(t for t in call(gw, "GET", "/team/list")[1] if t.get("team_alias") == "ui-team")
        assert {"user_id": "ui-user", "role": "admin"}.items() <= team["members_with_roles"][0].items(), team
        tab.shot("team-members")
        p.click("dialog button:has-text('Done')")
        p.wait_for_selector("tr:has(td:has-text('ui-team')) td:has-text('1')")
        # Tags and end users.
        p.click("nav a:has-text('Tags')")
        p.click("button:has-text('New tag')")
        p.fill("#f-name", "ui-tag")
        p.fill("#f-description", "made in the dashboard")
        p.click("button:has-text('Save')")
        p.wait_for_selector("td:has-text('made in the dashboard')")
        p.click("nav a:has-text('End users')")
        p.click("button:has-text('New end user')")
        p.fill("#f-user_id", "ui-end-user")
        p.click("button:has-text('Save')")
        p.wait_for_selector("td:has-text('ui-end-user')")
        tab.shot("end-users")
        p.click("nav a:has-text('Budgets')")
        p.click("button:has-text('New budget')")
        p.fill("#f-budget_id", "ui-budget")
        p.fill("#f-max_budget", "3")
        p.click("button:has-text('Save')")
        p.wait_for_selector("td:has-text('ui-budget')")
        p.click("nav a:has-text('Organizations')")
        p.click("button:has-text('New organization')")
        p.fill("#f-organization_alias", "ui-org")
        p.click("button:has-text('Save')")
        p.click("tr:has(td:has-text('ui-org')) button:has-text('Members')")
        p.fill("#member-user", "ui-user")
        p.select_option("#member-role", "org_admin")
        p.click("button:has-text('Add member')")
        p.wait_for_selector("dialog td:has-text('org_admin')")
        org = next(o for o in call(gw, "GET", "/organization/list")[1] if o.get("organization_alias") == "ui-org")
        assert [(m["user_id"], m["user_role"]) for m in org["members"]] == [("ui-user", "org_admin")], org
        tab.shot("organizations")
        p.click("dialog button:has-text('Done')")
        # Settings: the loaded config, read-only, every secret masked; the unsupported keys named.
        p.click("nav a:has-text('Settings')")
        p.wait_for_selector("#unsupported code:has-text('infer_model_from_keys')")
        assert "connected" in p.inner_text("main")
        models = p.inner_text("#model-list")
        assert "secret-model" in models and "os.environ/UPSTREAM_KEY" in models and "********" in models
        general = p.inner_text("#general-settings")
        assert "store_model_in_db: true" in general and "master_key: \"********\"" in general
        p.click("#config-yaml summary")
        assert "UI_TEST_SECTION_VAR" in p.inner_text("#config-yaml")
        tab.shot("settings")
        page_text = p.content() + p.inner_text("body")
        s, answer, _ = call(gw, "GET", "/get/config/callbacks")
        assert s == 200 and answer["status"] == "success", answer
        assert answer["config"]["model_list"][0]["litellm_params"]["api_key"] == "os.environ/UPSTREAM_KEY"
        assert "general_settings.infer_model_from_keys" in [x["path"] for x in answer["unsupported_settings"]], answer
        assert [a["name"] for a in answer["alerts"]] == ["email"] and answer["router_settings"] == {}
        for secret_value in SECRETS:
            assert secret_value not in page_text, secret_value
            assert secret_value not in json.dumps(answer), secret_value

        # Delete the key with confirmation.
        p.click("nav a:has-text('Keys')")
        p.click("tr:has(td:has-text('ui-made')) button:has-text('Delete')")
        p.click("dialog button:has-text('Delete')")
        p.wait_for_selector("td:has-text('ui-made')", state="detached")
        assert call(gw, "GET", f"/key/info?key={secret}")[0] == 404

        # Phone width: the same pages, nothing wider than the screen.
        p.set_viewport_size({"width": 390, "height": 844})
        for page in ["keys", "usage", "logs", "models", "settings"]:
            p.goto(f"/ui/#/{page}")
            p.wait_for_selector("main section h1")
            p.wait_for_load_state("networkidle")
            assert p.evaluate("document.documentElement.scrollWidth") <= 391, page
            tab.shot(f"phone-{page}")

        # Logout: the session is gone, the cookie no longer works anywhere.
        old = {c["name"]: c["value"] for c in tab.ctx.cookies()}
        p.set_viewport_size({"width": 1280, "height": 800})
        p.click("#logout")
        p.wait_for_selector("#password")
        cookie = f"llmgate_session={old['llmgate_session']}"
        assert call(gw, "GET", "/key/list", key=None, headers={"Cookie": cookie})[0] == 401
        assert tab.errors == [], tab.errors
    finally:
        tab.close()
        gw.stop()


def test_edit_clear_delete_filter_and_page(browser, mock, tmp_path):
    """Every list page's edit (a value changed, another cleared with an empty field: the API
    gets null and clears it) and delete; the key form's advanced fields; key search by secret
    and hash; key paging; a database model edited; logs filtered by model, status, key and
    team with a failed request's error shown."""
    gw = start(tmp_path, mock, {"LLMGATE_DB_PATH": str(tmp_path / "ui.db")})
    tab = Page(browser, gw, shots_dir(tmp_path) / "edit")
    p = tab.page
    try:
        def ok(path, body):
            s, r, _ = call(gw, "POST", path, body)
            assert s == 200, (path, r)
            return r

        def info(path):
            s, r, _ = call(gw, "GET", path)
            assert s == 200, (path, r)
            return r

        def save():
            p.click("dialog button:has-text('Save')")
            p.wait_for_selector("dialog", state="detached")

        def edit_row(cell, fills):
            p.click(f"tr:has(td:text-is('{cell}')) button:has-text('Edit')")
            for sel, v in fills.items():
                p.fill(sel, v)
            save()

        def delete_row(cell):
            p.click(f"tr:has(td:text-is('{cell}')) button:has-text('Delete')")
            p.click("dialog button:has-text('Delete')")
            p.wait_for_selector(f"td:text-is('{cell}')", state="detached")

        team = ok("/team/new", {"team_alias": "t-edit", "tpm_limit": 40, "max_budget": 9})
        log_team = ok("/team/new", {"team_alias": "t-log"})
        ok("/user/new", {"user_id": "u-edit", "rpm_limit": 3, "max_budget": 8, "auto_create_key": False})
        org = ok("/organization/new", {"organization_alias": "o-edit", "max_budget": 20})
        ok("/customer/new", {"user_id": "c-edit", "max_budget": 4, "tpm_limit": 11})
        ok("/budget/new", {"budget_id": "b-edit", "max_budget": 2, "rpm_limit": 6})
        ok("/budget/new", {"budget_id": "b-key"})
        ok("/tag/new", {"name": "tag-edit", "description": "to edit", "max_budget": 1})
        searched = ok("/key/generate", {"key_alias": "search-me", "max_budget": 5, "tpm_limit": 100,
                                        "metadata": {"tags": ["kt1"], "owner": "ops"}})
        log_key = ok("/key/generate", {"key_alias": "log-key", "team_id": log_team["team_id"]})
        for i in range(11):
            ok("/key/generate", {"key_alias": f"page-key-{i:02}"})
        ok("/model/new", {"model_name": "db-edit", "litellm_params": {
            "model": "openai/gpt-4o", "api_base": f"{mock.base}/v1", "api_key": "sk-db-edit-secret", "rpm": 3}})

        # Requests for the logs: two answered and one failed with the team's key, one with another.
        c = openai.OpenAI(base_url=gw.base, api_key=log_key["key"], max_retries=0)
        for _ in range(2):
            c.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        with pytest.raises(openai.InternalServerError):
            c.chat.completions.create(model="broken", messages=[{"role": "user", "content": "Hi"}])
        openai.OpenAI(base_url=gw.base, api_key=searched["key"], max_retries=0).chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        wait_for(lambda: info("/spend/logs/ui?start_date=2000-01-01 00:00:00&end_date=2100-01-01 00:00:00".replace(" ", "%20"))["total"] >= 4,
                 what="the spend logs")

        tab.login(UI_USER, UI_PASS)
        p.wait_for_selector("td:text-is('page-key-10')")

        # Key search by its secret (hashed by /key/list) and by its hash.
        for needle in [searched["key"], searched["token"]]:
            p.fill("#key-search", needle)
            p.click("button:has-text('Search')")
            p.wait_for_selector("td:text-is('page-key-00')", state="detached")
            assert p.locator("tbody tr").count() == 1 and p.inner_text("tbody tr td[data-label=Alias]") == "search-me"
        assert info(f"/key/list?key_hash={searched['key']}")["total_count"] == 1
        assert info(f"/key/list?key_hash={searched['token']}")["total_count"] == 1

        # Edit: the tags come from its metadata; a budget and a limit cleared; the advanced fields set.
        p.click("tbody tr button:has-text('Edit')")
        assert p.input_value("#f-tags") == "kt1"
        assert "tags" not in p.input_value("#f-metadata") and "ops" in p.input_value("#f-metadata")
        assert not p.is_visible("#f-guardrails"), "the advanced fields start folded"
        p.fill("#f-max_budget", "")
        p.fill("#f-tpm_limit", "")
        p.fill("#f-rpm_limit", "12")
        p.click("#advanced-fields summary")
        p.fill("#f-guardrails", "g1, g2")
        p.fill("#f-enforced_params", "user")
        p.fill("#f-allowed_cache_controls", "no-cache")
        p.fill("#f-permissions", '{"allow_pii_controls": true}')
        p.select_option("#f-key_type", "llm_api")
        p.check("#f-auto_rotate")
        p.fill("#f-rotation_interval", "30d")
        p.fill("#f-organization_id", org["organization_id"])
        p.fill("#f-model_tpm_limit", "{not json")
        p.click("dialog button:has-text('Save')")
        p.wait_for_selector("dialog .error:has-text('invalid JSON')")
        tab.shot("key-form-json-error")
        p.fill("#f-model_tpm_limit", '{"gpt-4o": 500}')
        p.fill("#f-model_rpm_limit", '{"gpt-4o": 5}')
        tab.shot("key-form-advanced")
        save()
        k = info(f"/key/info?key={searched['key']}")["info"]
        assert k["max_budget"] is None and k["tpm_limit"] is None and k["rpm_limit"] == 12, k
        assert k["key_type"] == "llm_api" and k["auto_rotate"] is True and k["rotation_interval"] == "30d", k
        assert k["allowed_cache_controls"] == ["no-cache"] and k["permissions"] == {"allow_pii_controls": True}, k
        assert k["organization_id"] == org["organization_id"], k
        assert k["metadata"] == {"tags": ["kt1"], "owner": "ops", "guardrails": ["g1", "g2"], "enforced_params": ["user"],
                                 "model_tpm_limit": {"gpt-4o": 500}, "model_rpm_limit": {"gpt-4o": 5}}, k
        # Tags cleared, the metadata's own field changed: the rest stays.
        p.click("tbody tr button:has-text('Edit')")
        p.fill("#f-tags", "")
        p.click("#advanced-fields summary")
        p.fill("#f-metadata", '{"owner": "sre"}')
        save()
        k = info(f"/key/info?key={searched['key']}")["info"]
        assert k["metadata"] == {"owner": "sre", "guardrails": ["g1", "g2"], "enforced_params": ["user"],
                                 "model_tpm_limit": {"gpt-4o": 500}, "model_rpm_limit": {"gpt-4o": 5}}, k

        # A key with a custom secret and a budget, from the advanced fields.
        p.fill("#key-search", "")
        p.click("button:has-text('Search')")
        p.click("#create-key")
        p.fill("#f-key_alias", "custom-secret")
        p.click("#advanced-fields summary")
        p.fill("#f-key", "sk-custom-ui-secret-4711")
        p.fill("#f-budget_id", "b-key")
        p.click("dialog button:has-text('Save')")
        assert p.wait_for_selector("#new-secret").inner_text().strip() == "sk-custom-ui-secret-4711"
        p.click("button:has-text('Done')")
        k = info("/key/info?key=sk-custom-ui-secret-4711")["info"]
        assert k["key_alias"] == "custom-secret" and k["budget_id"] == "b-key", k

        # Key paging: 10 a page.
        total = info("/key/list")["total_count"]
        assert total == 14
        p.wait_for_selector(".page-of:has-text('Page 1 of 2')")
        one = p.eval_on_selector_all("tbody td[data-label=Alias]", "ts => ts.map(t => t.innerText)")
        p.click("button:has-text('Next ›')")
        p.wait_for_selector(".page-of:has-text('Page 2 of 2')")
        two = p.eval_on_selector_all("tbody td[data-label=Alias]", "ts => ts.map(t => t.innerText)")
        assert len(one) == 10 and len(two) == total - 10 and not set(one) & set(two), (one, two)
        p.click("button:has-text('‹ Prev')")
        p.wait_for_selector(".page-of:has-text('Page 1 of 2')")

        # Teams: a limit changed, another cleared; then deleted.
        p.click("nav a:has-text('Teams')")
        edit_row("t-edit", {"#f-tpm_limit": "", "#f-rpm_limit": "8", "#f-max_budget": "12"})
        t = info(f"/team/info?team_id={team['team_id']}")["team_info"]
        assert (t["tpm_limit"], t["rpm_limit"], t["max_budget"]) == (None, 8, 12), t
        delete_row("t-edit")
        assert call(gw, "GET", f"/team/info?team_id={team['team_id']}")[0] == 404

        # Users: limits at the user level. As LiteLLM's /user/update, a null clears only
        # max_budget: the form refuses to empty another field rather than send a no-op.
        p.click("nav a:has-text('Users')")
        edit_row("u-edit", {"#f-max_budget": "", "#f-rpm_limit": "4", "#f-tpm_limit": "900", "#f-budget_duration": "7d"})
        u = info("/user/info?user_id=u-edit")["user_info"]
        assert (u["max_budget"], u["rpm_limit"], u["tpm_limit"], u["budget_duration"]) == (None, 4, 900, "7d"), u
        assert u["budget_reset_at"]
        p.click("tr:has(td:text-is('u-edit')) button:has-text('Edit')")
        p.fill("#f-rpm_limit", "")
        p.click("dialog button:has-text('Save')")
        p.wait_for_selector("dialog .error:has-text('cannot be emptied')")
        p.click("dialog button:has-text('Cancel')")
        p.wait_for_selector("dialog", state="detached")
        assert ok("/user/update", {"user_id": "u-edit", "rpm_limit": None})["rpm_limit"] == 4
        delete_row("u-edit")
        assert call(gw, "GET", "/user/info?user_id=u-edit")[0] == 404

        # Organizations: their limits live in their budget row.
        p.click("nav a:has-text('Organizations')")
        p.click("tr:has(td:text-is('o-edit')) button:has-text('Edit')")
        assert p.input_value("#f-max_budget") == "20"
        p.fill("#f-max_budget", "")
        p.fill("#f-tpm_limit", "700")
        p.fill("#f-rpm_limit", "70")
        p.fill("#f-budget_duration", "30d")
        save()
        b = info(f"/organization/info?organization_id={org['organization_id']}")["litellm_budget_table"]
        assert (b["max_budget"], b["tpm_limit"], b["rpm_limit"], b["budget_duration"]) == (None, 700, 70, "30d"), b
        p.wait_for_selector("tr:has(td:text-is('o-edit')) td:has-text('700 tpm · 70 rpm')")
        # The key that names it goes first (LiteLLM's foreign key), then the organization.
        ok("/key/update", {"key": searched["key"], "organization_id": None})
        delete_row("o-edit")

        # End users: limits in their budget row too.
        p.click("nav a:has-text('End users')")
        p.click("tr:has(td:text-is('c-edit')) button:has-text('Edit')")
        assert p.input_value("#f-tpm_limit") == "11"
        p.fill("#f-tpm_limit", "15")
        p.fill("#f-rpm_limit", "5")
        p.fill("#f-alias", "renamed end user")
        save()
        cu = info("/customer/info?end_user_id=c-edit")
        assert cu["alias"] == "renamed end user", cu
        assert (cu["litellm_budget_table"]["tpm_limit"], cu["litellm_budget_table"]["rpm_limit"]) == (15, 5), cu
        # LiteLLM's /customer/update skips nulls: emptying is refused in the form.
        p.click("tr:has(td:text-is('c-edit')) button:has-text('Edit')")
        p.fill("#f-tpm_limit", "")
        p.click("dialog button:has-text('Save')")
        p.wait_for_selector("dialog .error:has-text('cannot be emptied')")
        p.click("dialog button:has-text('Cancel')")
        p.wait_for_selector("dialog", state="detached")
        p.wait_for_selector("td:text-is('renamed end user')")
        delete_row("c-edit")
        assert call(gw, "GET", "/customer/info?end_user_id=c-edit")[0] == 404

        # Budgets.
        p.click("nav a:has-text('Budgets')")
        edit_row("b-edit", {"#f-rpm_limit": "", "#f-max_budget": "2.5", "#f-tpm_limit": "60"})
        b = next(x for x in info("/budget/list") if x["budget_id"] == "b-edit")
        assert (b["rpm_limit"], b["max_budget"], b["tpm_limit"]) == (None, 2.5, 60), b
        delete_row("b-edit")
        assert "b-edit" not in [x["budget_id"] for x in info("/budget/list")]

        # Tags: limits at the tag level.
        p.click("nav a:has-text('Tags')")
        edit_row("tag-edit", {"#f-tpm_limit": "300", "#f-rpm_limit": "30", "#f-description": ""})
        tg = call(gw, "POST", "/tag/info", {"names": ["tag-edit"]})[1]["tag-edit"]
        assert tg["description"] is None, tg
        assert (tg["litellm_budget_table"]["tpm_limit"], tg["litellm_budget_table"]["rpm_limit"]) == (300, 30), tg
        p.wait_for_selector("tr:has(td:text-is('tag-edit')) td:has-text('300 tpm · 30 rpm')")
        tab.shot("tags-limits")
        delete_row("tag-edit")

        # A database model edited: a limit changed, then removed; its key never shown back.
        p.click("nav a:has-text('Models')")
        p.click("tr:has(td:text-is('db-edit')) button:has-text('Edit')")
        assert p.input_value("#f-api_key") == ""
        p.fill("#f-rpm", "7")
        save()
        def db_model():
            return next(m for m in info("/v2/model/info")["data"] if m["model_name"] == "db-edit")
        assert db_model()["litellm_params"]["rpm"] == 7
        p.click("tr:has(td:text-is('db-edit')) button:has-text('Edit')")
        p.fill("#f-rpm", "")
        save()
        assert "rpm" not in db_model()["litellm_params"]
        assert "sk-db-edit-secret" not in p.content()

        # Logs: by model and status, the failed request's error; by key; by team.
        p.click("nav a:has-text('Logs')")
        p.wait_for_selector("#logs-body tbody tr")
        p.fill("#log-model", "broken")
        p.select_option("#log-status_filter", "failure")
        p.click("button:has-text('Filter')")
        p.wait_for_selector("#logs-body p.muted:has-text('1 request(s)')")
        p.click("#logs-body button.view-log")
        err = p.inner_text("#log-detail dt:text-is('Error') + dd")
        assert "InternalServerError" in err or "500" in err, err
        assert p.inner_text("#log-detail dt:text-is('Status') + dd") == "failure"
        # No `store_prompts_in_spend_logs` here: the view says message logging is off.
        assert "Message logging is off" in p.inner_text("#log-messages-off")
        tab.shot("log-failure-detail")
        p.fill("#log-model", "")
        p.select_option("#log-status_filter", "")
        p.fill("#log-api_key", log_key["key"])
        p.click("button:has-text('Filter')")
        p.wait_for_selector("#logs-body p.muted:has-text('3 request(s)')")
        p.fill("#log-api_key", "")
        p.fill("#log-team_id", log_team["team_id"])
        p.click("button:has-text('Filter')")
        p.wait_for_selector("#logs-body p.muted:has-text('3 request(s)')")
        assert "search-me" not in p.inner_text("#logs-body")
        p.fill("#log-team_id", "")
        p.click("button:has-text('Filter')")
        p.wait_for_selector("#logs-body p.muted:has-text('4 request(s)')")
        assert tab.errors == [], tab.errors
    finally:
        tab.close()
        gw.stop()


def test_log_detail_shows_messages_when_stored(browser, mock, tmp_path, database):
    """With `store_prompts_in_spend_logs`, a log's detail view shows the request's messages and
    the answer, a stream's too."""
    gw = start(tmp_path, mock, database, extra="  store_prompts_in_spend_logs: true\n")
    tab = Page(browser, gw, shots_dir(tmp_path))
    p = tab.page
    try:
        client = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        r = client.chat.completions.create(model="gpt-4o", messages=[
            {"role": "system", "content": "You are terse."}, {"role": "user", "content": "What is a prompt log?"}])
        chunks = list(client.chat.completions.create(
            model="gpt-4o", messages=[{"role": "user", "content": "Stream a line"}], stream=True))
        streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
        wait_for(lambda: len(call(gw, "GET", "/spend/logs")[1]) == 2, what="the spend logs")
        tab.login(UI_USER, UI_PASS)
        p.wait_for_selector("nav a:has-text('Logs')")
        p.click("nav a:has-text('Logs')")
        p.wait_for_selector("#logs-body p.muted:has-text('2 request(s)')")
        rows = p.query_selector_all("#logs-body button.view-log")
        seen = {}
        for i in range(len(rows)):
            p.click(f"#logs-body button.view-log >> nth={i}")
            p.wait_for_selector("#log-detail [role=region]")
            msgs = p.inner_text("#log-request-messages")
            seen[msgs] = p.inner_text("#log-response")
            assert p.query_selector("#log-messages-off") is None
        [plain] = [m for m in seen if "What is a prompt log?" in m]
        assert "system" in plain and "You are terse." in plain and "user" in plain
        assert seen[plain] == r.choices[0].message.content
        [stream] = [m for m in seen if "Stream a line" in m]
        assert seen[stream] == streamed
        p.click("#logs-body button.view-log >> nth=0")
        p.wait_for_selector("#log-detail #log-response")
        tab.shot("log-detail-messages")
        assert tab.errors == [], tab.errors
    finally:
        tab.close()
        gw.stop()


def test_cooldown_badge_keyboard_load_time_and_session_expiry(browser, mock, tmp_path):
    """A deployment the router cooled down (after real failing requests) shows its badge;
    the login form, the nav and a dialog work from the keyboard, with a visible focus; the
    keys page loads in under a second; a session ends after LITELLM_UI_SESSION_DURATION."""
    d = tmp_path / "gw"
    d.mkdir()
    b = f"{mock.base}/v1"
    cfg = config(mock).replace("model_list:\n", (
        "model_list:\n"
        f"  - model_name: flaky\n    litellm_params: {{model: openai/mock-error-401, api_base: '{b}', api_key: sk-up}}\n"
        "    model_info: {id: flaky-bad}\n"
        f"  - model_name: flaky\n    litellm_params: {{model: openai/gpt-4o, api_base: '{b}', api_key: sk-up}}\n"
        "    model_info: {id: flaky-ok}\n"), 1) + "router_settings:\n  cooldown_time: 600\n"
    session_s = 12
    env = {"UPSTREAM_KEY": UPSTREAM_ENV_SECRET, "UI_USERNAME": UI_USER, "UI_PASSWORD": UI_PASS,
           "LLMGATE_DB_PATH": str(tmp_path / "ui.db"), "LITELLM_UI_SESSION_DURATION": f"{session_s}s"}
    gw = Gateway(d, cfg, env=env).wait_ready()
    tab = Page(browser, gw, shots_dir(tmp_path) / "cooldown")
    p = tab.page
    try:
        for i in range(20):
            assert call(gw, "POST", "/key/generate", {"key_alias": f"load-{i:02}"})[0] == 200
        # Real requests until the 401 deployment answers once: the router cools it for 600 s.
        client = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        for _ in range(40):
            try:
                client.chat.completions.create(model="flaky", messages=[{"role": "user", "content": "Hi"}])
            except openai.AuthenticationError:
                break
        else:
            raise AssertionError("the failing deployment was never picked")

        # The login form from the keyboard: Tab from the username to the password to the
        # button, each focus visible; Enter logs in.
        p.goto("/ui/")
        p.wait_for_selector("#username:focus")
        p.keyboard.type(UI_USER)
        p.keyboard.press("Tab")
        assert p.evaluate("document.activeElement.id") == "password"
        assert p.evaluate("document.activeElement.matches(':focus-visible')")
        p.keyboard.type(UI_PASS)
        p.keyboard.press("Tab")
        assert p.evaluate("document.activeElement.type") == "submit"
        assert p.evaluate("document.activeElement.matches(':focus-visible')")
        outline = p.evaluate("getComputedStyle(document.activeElement).outlineStyle")
        assert outline not in ("none", ""), outline
        p.keyboard.press("Enter")
        login_t = time.monotonic()
        p.wait_for_selector("td:text-is('load-19')")

        # The nav from the keyboard: Tab to the "Models" link, Enter opens it.
        p.focus("a.brand")
        for _ in range(10):
            p.keyboard.press("Tab")
            if p.evaluate("document.activeElement.textContent") == "Models":
                break
        assert p.evaluate("document.activeElement.matches('nav a:focus-visible')")
        p.keyboard.press("Enter")
        row = p.wait_for_selector("tr:has(td:text-is('openai/mock-error-401'))")
        badge = row.query_selector(".badge")
        assert badge.inner_text() == "Cooling down", badge.inner_text()
        assert p.inner_text("tr:has(td:text-is('openai/gpt-4o')):has(td:text-is('flaky')) .badge") == "Healthy"
        s, r, _ = call(gw, "GET", "/v2/model/info")
        state = next(m for m in r["data"] if m["model_info"]["id"] == "flaky-bad")["deployment_state"]
        assert state["cooling_down"] is True and state["cooldown_until"], state
        tab.shot("models-cooldown")

        # A dialog from the keyboard: Enter on "+ Create key" opens it with the focus inside;
        # Escape closes it.
        p.goto("/ui/#/keys")
        p.wait_for_selector("td:text-is('load-19')")
        p.focus("#create-key")
        p.keyboard.press("Enter")
        p.wait_for_selector("dialog[open]")
        assert p.evaluate("document.querySelector('dialog').contains(document.activeElement)")
        p.keyboard.press("Escape")
        p.wait_for_selector("dialog", state="detached")

        # Load time on SQLite, measured in the browser: from the navigation's start (a reload of
        # /ui/ with the session cookie, the files revalidated by ETag) to the keys table drawn.
        times = []
        for _ in range(3):
            p.goto("/ui/")
            p.wait_for_selector("#keys-body tbody tr")
            times.append(p.evaluate("performance.now()"))
        print(f"/ui/ to the keys table drawn (ms, performance.now()): {times}")
        assert min(times) < 1000, times
        assert tab.errors == [], tab.errors

        # The session expires after LITELLM_UI_SESSION_DURATION: the next call is refused and
        # the page asks to log in again.
        cookies = {c["name"]: c["value"] for c in tab.ctx.cookies()}
        assert call(gw, "GET", "/key/list", key=None, headers={"Cookie": f"llmgate_session={cookies['llmgate_session']}"})[0] == 200
        time.sleep(max(0.0, session_s + 0.5 - (time.monotonic() - login_t)))
        assert call(gw, "GET", "/key/list", key=None, headers={"Cookie": f"llmgate_session={cookies['llmgate_session']}"})[0] == 401
        p.click("nav a:has-text('Usage')")
        p.wait_for_selector("#login-error:has-text('Your session has ended')")
        tab.shot("session-expired")
        p.goto("/ui/")
        p.wait_for_selector("#password")
        # The browser logs the refused calls' 401s itself; nothing else.
        assert all("401" in e for e in tab.errors), tab.errors
    finally:
        tab.close()
        gw.stop()


def test_internal_user_sees_only_their_own(browser, mock, tmp_path):
    gw = start(tmp_path, mock, {"LLMGATE_DB_PATH": str(tmp_path / "ui.db")})
    tab = Page(browser, gw, shots_dir(tmp_path) / "internal")
    p = tab.page
    try:
        for uid in ["alice", "bob"]:
            assert call(gw, "POST", "/user/new", {"user_id": uid, "user_role": "internal_user"})[0] == 200
        s, mine, _ = call(gw, "POST", "/key/generate", {"user_id": "alice", "key_alias": "alice-key", "models": ["gpt-4o"]})
        assert s == 200
        assert call(gw, "POST", "/key/generate", {"user_id": "alice", "key_alias": "alice-second"})[0] == 200
        s, theirs, _ = call(gw, "POST", "/key/generate", {"user_id": "bob", "key_alias": "bob-key"})
        assert s == 200
        for k in [mine["key"], theirs["key"]]:
            openai.OpenAI(base_url=gw.base, api_key=k, max_retries=0).chat.completions.create(
                model="gpt-4o", messages=[{"role": "user", "content": "Hi"}])
        wait_for(lambda: len(call(gw, "GET", "/spend/logs")[1]) >= 2, what="spend logs")

        # Alice logs in with her own key: her keys only, no admin pages.
        tab.login("alice", mine["key"])
        p.wait_for_selector("td:has-text('alice-key')")
        p.wait_for_selector("td:has-text('alice-second')")
        assert "bob-key" not in p.inner_text("main")
        nav = p.inner_text("nav.nav")
        assert "Users" not in nav and "Budgets" not in nav
        tab.shot("internal-keys")
        p.click("nav a:has-text('Logs')")
        p.wait_for_selector("#logs-body tbody tr")
        assert p.locator("#logs-body tbody tr").count() == 1
        assert "bob" not in p.inner_text("#logs-body")
        tab.shot("internal-logs")
        p.click("nav a:has-text('Usage')")
        p.wait_for_selector(".card:has-text('Top keys') td:has-text('alice-key')")
        assert "bob-key" not in p.inner_text("main")
        assert "Top users" not in p.inner_text("main")
        tab.shot("internal-usage")

        # Her session is authorised as her key is: another's keys and admin routes refused.
        cookies = {c["name"]: c["value"] for c in tab.ctx.cookies()}
        jar = f"llmgate_session={cookies['llmgate_session']}; llmgate_csrf={cookies['llmgate_csrf']}"
        csrf = {"Cookie": jar, "x-csrf-token": cookies["llmgate_csrf"]}
        assert call(gw, "GET", "/key/list?user_id=bob", key=None, headers=csrf)[0] == 403
        assert call(gw, "GET", "/user/list", key=None, headers=csrf)[0] in (401, 403)
        s, body, _ = call(gw, "POST", "/key/block", {"key": theirs["token"]}, key=None, headers=csrf)
        assert s in (401, 403), body
        assert call(gw, "GET", "/spend/logs/ui?start_date=2000-01-01&end_date=2100-01-01&user_id=bob", key=None, headers=csrf)[0] == 403
        # LiteLLM's paged team list: her own teams only.
        assert call(gw, "POST", "/team/new", {"team_alias": "alice-team", "members_with_roles": [{"user_id": "alice", "role": "user"}]})[0] == 200
        assert call(gw, "POST", "/team/new", {"team_alias": "bob-team", "members_with_roles": [{"user_id": "bob", "role": "user"}]})[0] == 200
        s, r, _ = call(gw, "GET", "/v2/team/list", key=mine["key"])
        assert s == 200 and [t["team_alias"] for t in r["teams"]] == ["alice-team"], r
        assert call(gw, "GET", "/v2/team/list?user_id=bob", key=mine["key"])[0] == 403
        # The config (even masked) is the proxy admin's.
        s, body, _ = call(gw, "GET", "/get/config/callbacks", key=None, headers=csrf)
        assert s in (401, 403) and "config" not in body, body
        assert call(gw, "GET", "/get/config/callbacks", key=mine["key"])[0] in (401, 403)

        # Blocking her key ends her session.
        assert call(gw, "POST", "/key/block", {"key": mine["key"]})[0] == 200
        wait_for(lambda: call(gw, "GET", "/key/list", key=None, headers=csrf)[0] == 401, what="the session to end")
        assert tab.errors == [], tab.errors
    finally:
        tab.close()
        gw.stop()


def login_cookies(gw, username=UI_USER, password=UI_PASS):
    s, body, headers = call(gw, "POST", "/v2/login", {"username": username, "password": password}, key=None)
    assert s == 200, body
    set_cookies = headers.get_all("Set-Cookie")
    jar = {c.split("=", 1)[0]: c.split("=", 1)[1].split(";", 1)[0] for c in set_cookies}
    return jar, set_cookies, body


def test_login_csrf_and_headers(mock, tmp_path):
    gw = start(tmp_path, mock, {"LLMGATE_DB_PATH": str(tmp_path / "ui.db")})
    try:
        # Wrong username or wrong password: the same 401, the same words.
        a = call(gw, "POST", "/v2/login", {"username": "nobody", "password": UI_PASS}, key=None)
        b = call(gw, "POST", "/v2/login", {"username": UI_USER, "password": "nope"}, key=None)
        assert a[0] == b[0] == 401 and a[1] == b[1]
        assert a[1]["error"]["type"] == "auth_error" and "Set-Cookie" not in a[2]

        # Another site's page may not log a visitor in (login CSRF).
        s, body, headers = call(gw, "POST", "/v2/login", {"username": UI_USER, "password": UI_PASS}, key=None,
                                headers={"Origin": "https://evil.example"})
        assert s == 403 and "Set-Cookie" not in headers, body
        # The master key logs in too (as LiteLLM's default UI_PASSWORD would).
        jar, set_cookies, body = login_cookies(gw, "admin", MASTER)
        assert body["user_role"] == "proxy_admin"
        session = next(c for c in set_cookies if c.startswith("llmgate_session="))
        assert "HttpOnly" in session and "SameSite=Strict" in session and "Max-Age=" in session

        jar, _, _ = login_cookies(gw)
        cookie = f"llmgate_session={jar['llmgate_session']}; llmgate_csrf={jar['llmgate_csrf']}"
        # Reads with the cookie alone work; a state-changing call needs the token.
        assert call(gw, "GET", "/key/list", key=None, headers={"Cookie": cookie})[0] == 200
        s, body, _ = call(gw, "POST", "/key/generate", {"key_alias": "csrf"}, key=None, headers={"Cookie": cookie})
        assert s == 403 and body["error"]["type"] == "csrf_error", body
        s, _, _ = call(gw, "POST", "/key/generate", {"key_alias": "csrf"}, key=None,
                       headers={"Cookie": cookie, "x-csrf-token": "forged"})
        assert s == 403
        # The right token in the header but not the cookie (no double submit): refused.
        s, _, _ = call(gw, "POST", "/key/generate", {"key_alias": "csrf"}, key=None,
                       headers={"Cookie": f"llmgate_session={jar['llmgate_session']}", "x-csrf-token": jar["llmgate_csrf"]})
        assert s == 403
        s, made, _ = call(gw, "POST", "/key/generate", {"key_alias": "csrf"}, key=None,
                          headers={"Cookie": cookie, "x-csrf-token": jar["llmgate_csrf"]})
        assert s == 200 and made["key"].startswith("sk-")
        # The session is for the management API only, not for LLM calls.
        s, _, _ = call(gw, "POST", "/v1/chat/completions", {"model": "gpt-4o", "messages": [{"role": "user", "content": "x"}]},
                       key=None, headers={"Cookie": cookie, "x-csrf-token": jar["llmgate_csrf"]})
        assert s == 401
        # A forged session id.
        assert call(gw, "GET", "/key/list", key=None, headers={"Cookie": "llmgate_session=forged"})[0] == 401

        # LiteLLM's form login: a redirect to the dashboard with the cookies.
        req = urllib.request.Request(f"{gw.base}/login", method="POST",
                                     data=f"username={UI_USER}&password={UI_PASS}".encode(),
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *a, **k):
                return None
        try:
            urllib.request.build_opener(NoRedirect).open(req)
            raise AssertionError("expected a redirect")
        except urllib.error.HTTPError as e:
            assert e.code == 303 and e.headers["Location"] == "/ui/?login=success"
            assert any(c.startswith("llmgate_session=") for c in e.headers.get_all("Set-Cookie"))

        # Logout needs the token, then the session is gone.
        assert call(gw, "POST", "/logout", key=None, headers={"Cookie": cookie})[0] == 403
        assert call(gw, "POST", "/logout", key=None, headers={"Cookie": cookie, "x-csrf-token": jar["llmgate_csrf"]})[0] == 200
        assert call(gw, "GET", "/key/list", key=None, headers={"Cookie": cookie})[0] == 401

        # The page and its files: a strict CSP, validators.
        with urllib.request.urlopen(f"{gw.base}/ui/") as r:
            csp = r.headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "default-src 'none'" in csp and "frame-ancestors 'none'" in csp
            assert r.headers["Cache-Control"] == "no-cache" and r.headers["X-Content-Type-Options"] == "nosniff"
        with urllib.request.urlopen(f"{gw.base}/ui/app.js") as r:
            etag = r.headers["ETag"]
            assert r.headers["Content-Type"].startswith("text/javascript") and "max-age" in r.headers["Cache-Control"]
        try:
            urllib.request.urlopen(urllib.request.Request(f"{gw.base}/ui/app.js", headers={"If-None-Match": etag}))
            raise AssertionError("expected 304")
        except urllib.error.HTTPError as e:
            assert e.code == 304
        assert call(gw, "GET", "/ui/../../etc/passwd", key=None)[0] == 404
    finally:
        gw.stop()


def test_session_is_shared_by_instances(mock, tmp_path):
    """Two instances on one PostgreSQL: a login on one works on the other, a logout on one
    ends it on both at once (every request reads the session row)."""
    name = f"llmgate_ui_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    a = b = None
    try:
        env = {"DATABASE_URL": f"{PG}/{name}"}
        a = start(tmp_path, mock, env, "a")
        b = start(tmp_path, mock, env, "b")
        jar, _, _ = login_cookies(a)
        cookie = {"Cookie": f"llmgate_session={jar['llmgate_session']}; llmgate_csrf={jar['llmgate_csrf']}",
                  "x-csrf-token": jar["llmgate_csrf"]}
        assert call(b, "GET", "/key/list", key=None, headers=cookie)[0] == 200
        assert call(b, "POST", "/key/generate", {"key_alias": "from-b"}, key=None, headers=cookie)[0] == 200
        assert call(b, "POST", "/logout", key=None, headers=cookie)[0] == 200
        assert call(a, "GET", "/key/list", key=None, headers=cookie)[0] == 401
    finally:
        for gw in (a, b):
            if gw:
                gw.stop()
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


def test_ui_access_mode_admin_only(mock, tmp_path):
    d = tmp_path / "gw"
    d.mkdir()
    cfg = config(mock) + "  ui_access_mode: admin_only\n"
    gw = Gateway(d, cfg, env={"UPSTREAM_KEY": "sk-up", "LLMGATE_DB_PATH": str(tmp_path / "ui.db")}).wait_ready()
    try:
        assert call(gw, "POST", "/user/new", {"user_id": "carol", "user_role": "internal_user"})[0] == 200
        s, k, _ = call(gw, "POST", "/key/generate", {"user_id": "carol"})
        assert s == 200
        s, body, headers = call(gw, "POST", "/v2/login", {"username": "carol", "password": k["key"]}, key=None)
        assert s == 403 and "Set-Cookie" not in headers, body
        assert call(gw, "POST", "/v2/login", {"username": "admin", "password": MASTER}, key=None)[0] == 200
    finally:
        gw.stop()


def test_lists_are_paged(browser, mock, tmp_path):
    """Users and teams page through the API (`/user/list`, LiteLLM's `/v2/team/list`), end
    users (a route LiteLLM does not page) in the page, 25 rows at a time."""
    gw = start(tmp_path, mock, {"LLMGATE_DB_PATH": str(tmp_path / "ui.db")})
    tab = Page(browser, gw, shots_dir(tmp_path) / "paging")
    p = tab.page
    try:
        for i in range(30):
            assert call(gw, "POST", "/user/new", {"user_id": f"page-user-{i:02}"})[0] == 200
            assert call(gw, "POST", "/customer/new", {"user_id": f"page-end-user-{i:02}"})[0] == 200
        for i in range(27):
            assert call(gw, "POST", "/team/new", {"team_alias": f"page-team-{i:02}"})[0] == 200
        # LiteLLM's paged team list.
        s, r, _ = call(gw, "GET", "/v2/team/list?page=3&page_size=10")
        assert s == 200 and (r["total"], r["page"], r["page_size"], r["total_pages"], len(r["teams"])) == (27, 3, 10, 3, 7), r
        # As LiteLLM: the alias matches in part and in any case, newest first by default, an
        # unknown sort column ignored.
        s, r, _ = call(gw, "GET", "/v2/team/list?team_alias=PAGE-TEAM-0&page_size=100")
        assert s == 200 and r["total"] == 10 and len(r["teams"]) == 10, r
        s, r, _ = call(gw, "GET", "/v2/team/list?sort_by=team_alias&sort_order=desc&page_size=2")
        assert [t["team_alias"] for t in r["teams"]] == ["page-team-26", "page-team-25"], r
        s, r, _ = call(gw, "GET", "/v2/team/list?sort_by=no_such_column&page_size=100")
        assert s == 200 and r["total"] == 27, r
        assert call(gw, "GET", "/v2/team/list?user_id=nobody")[0] == 404

        tab.login(UI_USER, UI_PASS)
        p.wait_for_selector("h1:has-text('Virtual keys')")
        for page, first_col in [("users", "User"), ("teams", "Team"), ("customers", "End user")]:
            p.goto(f"/ui/#/{page}")
            p.wait_for_selector(".page-of:has-text('Page 1 of 2')")
            total = int(p.inner_text("p.total").split()[0])
            assert total >= 27, total
            cells = f"tbody td[data-label='{first_col}']"
            one = p.eval_on_selector_all(cells, "ts => ts.map(t => t.innerText)")
            assert len(one) == 25, (page, one)
            p.click("button:has-text('Next ›')")
            p.wait_for_selector(".page-of:has-text('Page 2 of 2')")
            two = p.eval_on_selector_all(cells, "ts => ts.map(t => t.innerText)")
            assert len(two) == total - 25 and not set(one) & set(two), (page, one, two)
            tab.shot(f"{page}-page-2")
            p.click("button:has-text('‹ Prev')")
            p.wait_for_selector(".page-of:has-text('Page 1 of 2')")
        assert tab.errors == [], tab.errors
    finally:
        tab.close()
        gw.stop()


def test_settings_show_callbacks_router_and_cache_masked(browser, mock, tmp_path):
    """The settings page and `/get/config/callbacks` with callbacks, alerting, router and
    cache settings: their variables and webhooks masked, the rest shown as configured."""
    secrets = {"LANGFUSE_PUBLIC_KEY": "pk-lf-public-5151", "LANGFUSE_SECRET_KEY": "sk-lf-secret-5252",
               "SLACK_WEBHOOK_URL": "http://127.0.0.1:9/slack-secret-5353"}
    hook = "http://127.0.0.1:9/budget-hook-secret-5454"
    cfg = models_yaml(mock) + (
        f"general_settings:\n  master_key: {MASTER}\n  alerting: [slack]\n"
        f"  alert_to_webhook_url: {{budget_alerts: '{hook}'}}\n"
        "litellm_settings:\n  success_callback: [langfuse]\n  cache: true\n  cache_params: {type: local, ttl: 60}\n"
        "router_settings:\n  routing_strategy: simple-shuffle\n  model_group_alias: {alias-a: gpt-4o}\n"
    )
    d = tmp_path / "gw"
    d.mkdir()
    env = {"UPSTREAM_KEY": UPSTREAM_ENV_SECRET, "UI_USERNAME": UI_USER, "UI_PASSWORD": UI_PASS,
           "LANGFUSE_HOST": "http://127.0.0.1:9", "LLMGATE_DB_PATH": str(tmp_path / "ui.db"), **secrets}
    gw = Gateway(d, cfg, env=env).wait_ready()
    tab = Page(browser, gw, shots_dir(tmp_path) / "settings")
    p = tab.page
    try:
        s, answer, _ = call(gw, "GET", "/get/config/callbacks")
        assert s == 200, answer
        langfuse = next(c for c in answer["callbacks"] if c["name"] == "langfuse")
        assert langfuse["type"] == "success" and langfuse["variables"] == {
            "LANGFUSE_PUBLIC_KEY": "********", "LANGFUSE_SECRET_KEY": "********", "LANGFUSE_HOST": "http://127.0.0.1:9"}
        slack = next(a for a in answer["alerts"] if a["name"] == "slack")
        assert slack["variables"] == {"SLACK_WEBHOOK_URL": "********"}
        assert slack["alerts_to_webhook"] == {"budget_alerts": "********"}
        assert answer["router_settings"] == {"routing_strategy": "simple-shuffle", "model_group_alias": {"alias-a": "gpt-4o"}}
        assert answer["config"]["litellm_settings"]["cache_params"] == {"type": "local", "ttl": 60}

        tab.login(UI_USER, UI_PASS)
        p.wait_for_selector("h1:has-text('Virtual keys')")
        p.goto("/ui/#/settings")
        p.wait_for_selector("#callbacks td:text-is('langfuse')")
        assert "LANGFUSE_HOST http://127.0.0.1:9" in p.inner_text("#callbacks")
        assert "LANGFUSE_SECRET_KEY ********" in p.inner_text("#callbacks")
        p.wait_for_selector("#callbacks td:text-is('slack')")
        assert "alias-a: gpt-4o" in p.inner_text("#router-settings")
        assert "type: local" in p.inner_text("#cache-settings")
        tab.shot("settings-callbacks")
        text = p.content() + p.inner_text("body") + json.dumps(answer)
        for secret_value in [*secrets.values(), hook, MASTER, UPSTREAM_ENV_SECRET]:
            assert secret_value not in text, secret_value
        assert tab.errors == [], tab.errors
    finally:
        tab.close()
        gw.stop()
