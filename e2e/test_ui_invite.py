"""Invitations and onboarding as LiteLLM's: `/invitation/*` (admin), `/onboarding/get_token` and
`/onboarding/claim_token` (the invitation is the credential), and the dashboard login with the
password set from it. API-level with httpx on SQLite and PostgreSQL; the whole flow in a real
headless Chromium: the admin invites, the link opens the set-password form, the user lands in
their own view."""
import hashlib
import re
import sqlite3
import subprocess
import uuid
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest

from conftest import MASTER
from test_litellm_database import litellm_db  # noqa: F401
from test_ui import CHROMIUM, UI_PASS, UI_USER, Page, browser, database, shots_dir, start  # noqa: F401

LOGIN_ERROR = "Invalid credentials used to access UI.\nCheck 'UI_USERNAME', 'UI_PASSWORD' in .env file"


def admin(gw):
    return httpx.Client(base_url=gw.base, headers={"Authorization": f"Bearer {MASTER}"}, timeout=10)


def anon(gw):
    return httpx.Client(base_url=gw.base, timeout=10)


def sql(env, statement):
    """Runs a statement on the gateway's database (SQLite file or PostgreSQL); returns rows."""
    if "LLMGATE_DB_PATH" in env:
        with sqlite3.connect(env["LLMGATE_DB_PATH"]) as c:
            return c.execute(statement).fetchall()
    out = subprocess.run(["psql", env["DATABASE_URL"], "-qAtc", statement], check=True, capture_output=True, text=True)
    return [tuple(line.split("|")) for line in out.stdout.splitlines()]


def iso(v):
    return datetime.fromisoformat(v.replace("Z", "+00:00"))


def test_invitation_and_onboarding_routes(mock, tmp_path, database):
    gw = start(tmp_path, mock, database)
    a, u = admin(gw), anon(gw)
    try:
        assert a.post("/user/new", json={"user_id": "ivy", "user_email": "ivy@example.com", "user_role": "internal_user",
                                         "auto_create_key": False}).status_code == 200
        ivy_key = a.post("/key/generate", json={"user_id": "ivy", "key_alias": "ivy-key"}).json()
        a.post("/user/new", json={"user_id": "other"})
        assert a.post("/key/generate", json={"user_id": "other", "key_alias": "other-key"}).status_code == 200

        # /invitation/new: the row, valid 7 days, made by the admin.
        r = a.post("/invitation/new", json={"user_id": "ivy"})
        assert r.status_code == 200, r.text
        inv = r.json()
        assert set(inv) == {"id", "user_id", "is_accepted", "accepted_at", "expires_at", "created_at", "created_by", "updated_at", "updated_by"}
        assert inv["user_id"] == "ivy" and inv["is_accepted"] is False and inv["accepted_at"] is None
        assert inv["created_by"] == inv["updated_by"] == "default_user_id"
        assert abs(iso(inv["expires_at"]) - iso(inv["created_at"]) - timedelta(days=7)) < timedelta(seconds=2)
        uuid.UUID(inv["id"])
        # An unknown user, a missing field, a non-admin key: refused with the right 4xx.
        r = a.post("/invitation/new", json={"user_id": "nobody"})
        assert r.status_code == 400 and "does not exist in 'LiteLLM_UserTable'" in r.json()["error"]["message"], r.text
        assert a.post("/invitation/new", json={}).status_code == 400
        assert a.post("/invitation/new", content=b"not json").status_code == 400
        r = httpx.post(f"{gw.base}/invitation/new", json={"user_id": "ivy"}, headers={"Authorization": f"Bearer {ivy_key['key']}"})
        assert r.status_code in (401, 403), r.text
        assert u.post("/invitation/new", json={"user_id": "ivy"}).status_code == 401

        # /invitation/info.
        r = a.get("/invitation/info", params={"invitation_id": inv["id"]})
        assert r.status_code == 200 and r.json() == inv, r.text
        r = a.get("/invitation/info", params={"invitation_id": "missing"})
        assert r.status_code == 400 and r.json()["error"]["message"] == "Invitation id does not exist in the database."
        assert a.get("/invitation/info").status_code == 400

        # /onboarding/get_token: no key needed; LiteLLM's shape.
        r = u.get("/onboarding/get_token", params={"invite_link": inv["id"]})
        assert r.status_code == 200, r.text
        tok = r.json()
        assert set(tok) == {"login_url", "token", "user_email"} and tok["user_email"] == "ivy@example.com"
        assert "ui/onboarding" in tok["login_url"] and "token=" in tok["login_url"]
        r = u.get("/onboarding/get_token", params={"invite_link": "does-not-exist"})
        assert r.status_code == 401 and r.json()["error"]["message"] == "Invitation link does not exist in db."
        assert u.get("/onboarding/get_token").status_code == 400

        claim = {"invitation_link": inv["id"], "user_id": "ivy", "password": "ivy-pass-123"}
        bearer = {"Authorization": f"Bearer {tok['token']}"}
        # Without the onboarding token, with a forged one, for another user: refused, nothing set.
        r = u.post("/onboarding/claim_token", json=claim)
        assert r.status_code == 401 and r.json()["error"]["message"] == "Invalid onboarding session for invitation link."
        head, body, sig = tok["token"].split(".")
        forged = f"{head}.{body}.{sig[:-2]}AA"
        assert u.post("/onboarding/claim_token", json=claim, headers={"Authorization": f"Bearer {forged}"}).status_code == 401
        r = u.post("/onboarding/claim_token", json={**claim, "user_id": "other"}, headers=bearer)
        assert r.status_code == 401 and "Got=other, Expected=ivy" in r.json()["error"]["message"], r.text
        r = u.post("/onboarding/claim_token", json={"invitation_link": inv["id"], "user_id": "ivy"}, headers=bearer)
        assert r.status_code == 400, r.text
        assert u.post("/onboarding/claim_token", json={**claim, "password": ""}, headers=bearer).status_code == 400
        # A cross-site page may not claim (it would log the browser in).
        r = u.post("/onboarding/claim_token", json=claim, headers={**bearer, "Origin": "https://evil.example"})
        assert r.status_code == 403, r.text
        assert sql(database, "SELECT \"password\" FROM \"LiteLLM_UserTable\" WHERE \"user_id\" = 'ivy'")[0][0] in (None, "")
        assert a.get("/invitation/info", params={"invitation_id": inv["id"]}).json()["is_accepted"] is False

        # The claim: password stored as LiteLLM stores it (SHA-256 hex), invitation accepted,
        # and a session for the user.
        r = u.post("/onboarding/claim_token", json=claim, headers=bearer)
        assert r.status_code == 200, r.text
        body = r.json()
        assert set(body) == {"login_url", "token", "user_email", "user"}
        assert body["login_url"].endswith("/ui/?login=success") and body["user_email"] == "ivy@example.com"
        assert body["user"]["user_id"] == "ivy" and body["user"]["user_role"] == "internal_user"
        assert "llmgate_session" in r.cookies and "llmgate_csrf" in r.cookies
        stored = sql(database, "SELECT \"password\" FROM \"LiteLLM_UserTable\" WHERE \"user_id\" = 'ivy'")[0][0]
        assert stored == hashlib.sha256(b"ivy-pass-123").hexdigest()
        got = a.get("/invitation/info", params={"invitation_id": inv["id"]}).json()
        assert got["is_accepted"] is True and got["accepted_at"] and got["updated_by"] == "ivy"
        # The password is never shown back.
        assert "password" not in a.get("/user/info", params={"user_id": "ivy"}).text

        # The claim's session is hers: her keys only, no admin routes.
        who = u.get("/ui/session").json()
        assert who["logged_in"] and who["user_id"] == "ivy" and who["user_role"] == "internal_user", who
        keys = u.get("/key/list", params={"return_full_object": "true"}).json()["keys"]
        assert [k["key_alias"] for k in keys] == ["ivy-key"], keys
        assert u.get("/key/list", params={"user_id": "other"}).status_code == 403
        assert u.get("/user/list").status_code in (401, 403)
        assert u.post("/invitation/new", json={"user_id": "ivy"}, headers={"x-csrf-token": u.cookies["llmgate_csrf"]}).status_code in (401, 403)
        # Without the CSRF token a state-changing call is refused.
        assert u.post("/key/generate", json={}).status_code == 403

        # A used invitation: refused by both onboarding routes.
        r = anon(gw).post("/onboarding/claim_token", json={**claim, "password": "again-123456"}, headers=bearer)
        assert r.status_code == 401 and "already been used" in r.json()["error"]["message"], r.text
        r = anon(gw).get("/onboarding/get_token", params={"invite_link": inv["id"]})
        assert r.status_code == 401 and "already been used" in r.json()["error"]["message"]

        # The login: by user id or email with the password; a wrong one as any wrong login.
        for name in ["ivy", "ivy@example.com"]:
            r = anon(gw).post("/v2/login", json={"username": name, "password": "ivy-pass-123"})
            assert r.status_code == 200 and r.json()["user_id"] == "ivy" and r.json()["user_role"] == "internal_user", r.text
        for name, pw in [("ivy", "wrong-pass"), ("ivy@example.com", ""), ("ivy", stored), ("other", "ivy-pass-123"), (UI_USER, "nope")]:
            r = anon(gw).post("/v2/login", json={"username": name, "password": pw})
            assert r.status_code == 401 and r.json()["error"]["message"] == LOGIN_ERROR, (name, r.text)
            assert "set-cookie" not in r.headers
        # Deleting the user ends her sessions.
        assert a.post("/user/delete", json={"user_ids": ["ivy"]}).status_code == 200
        assert u.get("/key/list").status_code == 401

        # An expired invitation (expires_at moved into the past in the database): refused,
        # even with an onboarding token obtained before it expired.
        a.post("/user/new", json={"user_id": "late", "auto_create_key": False})
        late = a.post("/invitation/new", json={"user_id": "late"}).json()
        late_tok = u.get("/onboarding/get_token", params={"invite_link": late["id"]}).json()["token"]
        sql(database, f"UPDATE \"LiteLLM_InvitationLink\" SET \"expires_at\" = '2000-01-01 00:00:00' WHERE \"id\" = '{late['id']}'")
        r = u.get("/onboarding/get_token", params={"invite_link": late["id"]})
        assert r.status_code == 401 and r.json()["error"]["message"] == "Invitation link has expired."
        r = u.post("/onboarding/claim_token", json={"invitation_link": late["id"], "user_id": "late", "password": "late-pass-1"},
                   headers={"Authorization": f"Bearer {late_tok}"})
        assert r.status_code == 401 and r.json()["error"]["message"] == "Invitation link has expired."
        assert a.get("/invitation/info", params={"invitation_id": late["id"]}).json()["expires_at"].startswith("2000-01-01")

        # /invitation/update and /invitation/delete.
        r = a.post("/invitation/update", json={"invitation_id": late["id"], "is_accepted": True})
        assert r.status_code == 200 and r.json()["is_accepted"] is True and r.json()["accepted_at"], r.text
        assert a.post("/invitation/update", json={"invitation_id": "missing", "is_accepted": True}).status_code == 400
        assert a.post("/invitation/update", json={"invitation_id": late["id"]}).status_code == 400
        r = a.post("/invitation/delete", json={"invitation_id": late["id"]})
        assert r.status_code == 200 and r.json()["id"] == late["id"], r.text
        assert a.get("/invitation/info", params={"invitation_id": late["id"]}).status_code == 400
        assert a.post("/invitation/delete", json={"invitation_id": late["id"]}).status_code == 400
        assert sql(database, f"SELECT COUNT(*) FROM \"LiteLLM_InvitationLink\" WHERE \"id\" = '{late['id']}'")[0][0] in (0, "0")
    finally:
        gw.stop()


def test_invitations_on_a_litellm_database(mock, tmp_path, litellm_db):
    """LiteLLM's own schema (its migrations): the invitation table has foreign keys to the users
    (`user_id`, `created_by`, `updated_by`); invitations, claims and deletes still work."""
    env = {"DATABASE_URL": litellm_db}
    gw = start(tmp_path, mock, env)
    a, u = admin(gw), anon(gw)
    try:
        assert a.post("/user/new", json={"user_id": "lou", "user_email": "lou@example.com", "auto_create_key": False}).status_code == 200
        r = a.post("/invitation/new", json={"user_id": "lou"})
        assert r.status_code == 200, r.text
        inv = r.json()
        # The acting admin got the user row LiteLLM's schema requires (as LiteLLM's UI login makes).
        assert sql(env, "SELECT \"user_role\" FROM \"LiteLLM_UserTable\" WHERE \"user_id\" = 'default_user_id'") == [("proxy_admin",)]
        tok = u.get("/onboarding/get_token", params={"invite_link": inv["id"]}).json()["token"]
        r = u.post("/onboarding/claim_token", json={"invitation_link": inv["id"], "user_id": "lou", "password": "lou-pass-123"},
                   headers={"Authorization": f"Bearer {tok}"})
        assert r.status_code == 200, r.text
        assert sql(env, "SELECT \"is_accepted\" FROM \"LiteLLM_InvitationLink\"") == [("t",)]
        r = anon(gw).post("/v2/login", json={"username": "lou@example.com", "password": "lou-pass-123"})
        assert r.status_code == 200 and r.json()["user_id"] == "lou", r.text
        # A user with invitations can be deleted (LiteLLM's foreign key restricts it otherwise).
        assert a.post("/invitation/new", json={"user_id": "lou"}).status_code == 200
        r = a.post("/user/delete", json={"user_ids": ["lou"]})
        assert r.status_code == 200, r.text
        assert sql(env, "SELECT COUNT(*) FROM \"LiteLLM_InvitationLink\"") == [("0",)]
    finally:
        gw.stop()


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed")
def test_invite_in_the_browser(browser, mock, tmp_path):
    env = {"LLMGATE_DB_PATH": str(tmp_path / "ui.db")}
    gw = start(tmp_path, mock, env)
    a = admin(gw)
    shots = shots_dir(tmp_path) / "invite"
    admin_tab = Page(browser, gw, shots)
    user_tab = Page(browser, gw, shots)
    try:
        assert a.post("/user/new", json={"user_id": "dana", "user_email": "dana@example.com", "user_role": "internal_user",
                                         "auto_create_key": False}).status_code == 200
        assert a.post("/key/generate", json={"user_id": "dana", "key_alias": "dana-key"}).status_code == 200
        assert a.post("/user/new", json={"user_id": "erin", "auto_create_key": False}).status_code == 200
        assert a.post("/key/generate", json={"user_id": "erin", "key_alias": "erin-key"}).status_code == 200

        # The admin invites dana from the users page and gets LiteLLM's link.
        p = admin_tab.page
        admin_tab.login(UI_USER, UI_PASS)
        p.wait_for_selector("h1:has-text('Virtual keys')")
        p.click("nav a:has-text('Users')")
        p.wait_for_selector("td:text-is('dana')")
        assert "null" not in p.inner_text("main")
        p.click("tr:has(td:text-is('dana')) button:has-text('Invite')")
        link = p.wait_for_selector("#invitation-link").inner_text().strip()
        m = re.fullmatch(re.escape(gw.base) + r"/ui/\?invitation_id=([0-9a-f-]{36})", link)
        assert m, link
        admin_tab.shot("invitation-link")
        inv = a.get("/invitation/info", params={"invitation_id": m.group(1)}).json()
        assert inv["user_id"] == "dana" and inv["is_accepted"] is False
        p.click("button:has-text('Done')")
        assert admin_tab.errors == [], admin_tab.errors

        # Dana opens it: the set-password form; mismatched passwords are caught on the page.
        q = user_tab.page
        q.goto(link)
        q.wait_for_selector("h1:has-text('Set your password')")
        assert q.input_value("#invited-user") == "dana@example.com"
        user_tab.shot("onboarding-form")
        q.fill("#new-password", "dana-pass-123")
        q.fill("#new-password-again", "dana-pass-124")
        q.click("button[type=submit]")
        q.wait_for_selector("#onboarding-error:has-text('do not match')")
        q.fill("#new-password-again", "dana-pass-123")
        q.click("button[type=submit]")
        # Logged in as herself: her keys only, no admin pages.
        q.wait_for_selector("td:has-text('dana-key')")
        assert "erin-key" not in q.inner_text("main")
        nav = q.inner_text("nav.nav")
        assert "Users" not in nav and "Settings" not in nav
        assert q.inner_text("#who") == "dana"
        assert "invitation_id" not in q.url
        user_tab.shot("onboarded-keys")
        assert a.get("/invitation/info", params={"invitation_id": m.group(1)}).json()["is_accepted"] is True
        assert user_tab.errors == [], user_tab.errors

        # Later: she logs out and in again with her email and password; a wrong one fails.
        q.click("#logout")
        q.wait_for_selector("#login-error:has-text('logged out')")
        user_tab.login("dana@example.com", "wrong-password")
        q.wait_for_selector("#login-error:has-text('Invalid username or password.')")
        user_tab.login("dana@example.com", "dana-pass-123")
        q.wait_for_selector("td:has-text('dana-key')")
        assert "erin-key" not in q.inner_text("main")

        # The link again: used, and the page says so.
        q.goto(link)
        q.wait_for_selector("#onboarding-error:has-text('already been used')")
        user_tab.shot("invitation-used")

        # An expired invitation's link says so too.
        late = a.post("/invitation/new", json={"user_id": "erin"}).json()
        sql(env, f"UPDATE \"LiteLLM_InvitationLink\" SET \"expires_at\" = '2000-01-01 00:00:00' WHERE \"id\" = '{late['id']}'")
        q.goto(f"/ui/?invitation_id={late['id']}")
        q.wait_for_selector("#onboarding-error:has-text('Invitation link has expired.')")
        # LiteLLM's newer link shape opens the same page.
        q.goto(f"/ui/onboarding?invitation_id={late['id']}")
        q.wait_for_selector("#onboarding-error:has-text('Invitation link has expired.')")
        user_tab.shot("invitation-expired")
        # Chromium logs the refused calls' 401s itself; nothing else may be logged.
        assert all("401" in e for e in user_tab.errors), user_tab.errors
    finally:
        admin_tab.close()
        user_tab.close()
        gw.stop()
