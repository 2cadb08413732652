"""Users and teams through the real binary: their budgets and model lists limit the keys that
belong to them, and the spend of those keys adds up on them (SQLite and PostgreSQL)."""
import time

import openai
import pytest

from conftest import MASTER
from test_virtual_keys import admin, database, start  # noqa: F401  (fixture)


def admin_key():
    return MASTER

HI = [{"role": "user", "content": "Hi"}]


def test_team_and_user_limits_and_spend(mock, tmp_path, database):  # noqa: F811
    env, _ = database
    gw = start(tmp_path, mock, env)
    try:
        status, team = admin(gw, "POST", "/team/new", {"team_id": "t1", "team_alias": "core", "models": ["gpt-4o"], "max_budget": 0.0002})
        assert status == 200, team
        assert team["team_id"] == "t1" and team["models"] == ["gpt-4o"]
        status, user = admin(gw, "POST", "/user/new", {"user_id": "u1", "user_email": "u1@example.com", "max_budget": 1.0})
        assert status == 200 and user["key"].startswith("sk-"), user
        _, k = admin(gw, "POST", "/key/generate", {"team_id": "t1", "user_id": "u1"})
        client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)

        with pytest.raises(openai.PermissionDeniedError) as e:
            client.chat.completions.create(model="demo", messages=HI)
        assert e.value.body["type"] == "team_model_access_denied"
        for _ in range(3):
            client.chat.completions.create(model="gpt-4o", messages=HI)
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model="gpt-4o", messages=HI)
        assert e.value.body["type"] == "budget_exceeded"
        assert "Team=t1" in e.value.body["message"]

        _, info = admin(gw, "GET", "/team/info?team_id=t1")
        assert info["team_info"]["spend"] == pytest.approx(3 * 7.5e-5, abs=1e-12)
        assert [x["token"] for x in info["keys"]] == [k["token"]]
        _, uinfo = admin(gw, "GET", "/user/info?user_id=u1")
        assert uinfo["user_info"]["spend"] == pytest.approx(3 * 7.5e-5, abs=1e-12)
        assert len(uinfo["keys"]) == 2

        # Raise the team budget; block and unblock the team.
        assert admin(gw, "POST", "/team/update", {"team_id": "t1", "max_budget": 10})[0] == 200
        client.chat.completions.create(model="gpt-4o", messages=HI)
        assert admin(gw, "POST", "/team/block", {"team_id": "t1"})[1]["blocked"] is True
        with pytest.raises(openai.AuthenticationError):
            client.chat.completions.create(model="gpt-4o", messages=HI)
        admin(gw, "POST", "/team/unblock", {"team_id": "t1"})
        client.chat.completions.create(model="gpt-4o", messages=HI)

        # Members.
        status, t = admin(gw, "POST", "/team/member_add", {"team_id": "t1", "member": {"user_id": "u2", "role": "admin"}})
        assert status == 200 and "u2" in t["members"] and "u2" in t["admins"]
        _, u2 = admin(gw, "GET", "/user/info?user_id=u2")
        assert "t1" in u2["user_info"]["teams"]
        status, t = admin(gw, "POST", "/team/member_delete", {"team_id": "t1", "user_id": "u2"})
        assert status == 200 and "u2" not in t["members"]

        _, teams = admin(gw, "GET", "/team/list")
        assert [x["team_id"] for x in teams] == ["t1"]
        _, users = admin(gw, "GET", "/user/list")
        assert users["total"] == 2

        # Bad input: clear 4xx.
        assert admin(gw, "POST", "/team/new", {"team_id": "t1"})[0] == 400
        assert admin(gw, "POST", "/team/new", {"max_budget": "lots"})[0] == 400
        assert admin(gw, "GET", "/team/info?team_id=nope")[0] == 404
        assert admin(gw, "GET", "/team/info")[0] == 400
        assert admin(gw, "POST", "/team/member_add", {"team_id": "t1", "member": {"user_id": "x", "role": "owner"}})[0] == 400
        assert admin(gw, "POST", "/team/member_delete", {"team_id": "t1", "user_id": "nobody"})[0] == 400
        assert admin(gw, "POST", "/user/delete", {"user_ids": ["nobody"]})[0] == 404
        assert admin(gw, "POST", "/user/update", {"max_budget": 1})[0] == 400

        assert admin(gw, "POST", "/user/delete", {"user_ids": ["u2"]}) == (200, {"deleted_users": ["u2"]})
        assert admin(gw, "POST", "/team/delete", {"team_ids": ["t1"]}) == (200, {"deleted_teams": ["t1"]})
    finally:
        gw.stop()


def test_end_users_and_budgets(mock, tmp_path, database):  # noqa: F811
    env, pg_url = database
    gw = start(tmp_path, mock, env)
    try:
        client = openai.OpenAI(base_url=gw.base, api_key=admin_key(), max_retries=0)
        # End users are created by their first spend.
        client.chat.completions.create(model="gpt-4o", messages=HI, user="walk-in")
        time.sleep(2.5)
        status, c = admin(gw, "GET", "/customer/info?end_user_id=walk-in")
        assert status == 200 and c["spend"] == pytest.approx(7.5e-5)

        status, b = admin(gw, "POST", "/budget/new", {"budget_id": "tiny", "max_budget": 0.0001})
        assert status == 200 and b["max_budget"] == 0.0001
        status, c = admin(gw, "POST", "/customer/new", {"user_id": "acme", "budget_id": "tiny"})
        assert status == 200 and c["litellm_budget_table"]["max_budget"] == 0.0001
        for _ in range(2):
            client.chat.completions.create(model="gpt-4o", messages=HI, user="acme")
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model="gpt-4o", messages=HI, user="acme")
        assert e.value.body["type"] == "budget_exceeded" and "End User=acme" in e.value.body["message"]

        # A budget of its own from max_budget; blocking.
        status, c = admin(gw, "POST", "/customer/new", {"user_id": "beta", "max_budget": 5})
        assert status == 200 and c["budget_id"] and c["litellm_budget_table"]["max_budget"] == 5
        admin(gw, "POST", "/customer/block", {"user_ids": ["beta"]})
        with pytest.raises(openai.PermissionDeniedError):
            client.chat.completions.create(model="gpt-4o", messages=HI, user="beta")
        admin(gw, "POST", "/customer/unblock", {"user_ids": ["beta"]})
        client.chat.completions.create(model="gpt-4o", messages=HI, user="beta")

        assert len(admin(gw, "GET", "/customer/list")[1]) == 3
        assert admin(gw, "POST", "/budget/update", {"budget_id": "tiny", "max_budget": 1})[1]["max_budget"] == 1
        assert len(admin(gw, "GET", "/budget/list")[1]) == 2
        assert admin(gw, "POST", "/budget/info", {"budgets": ["tiny"]})[1][0]["budget_id"] == "tiny"
        # Bad input.
        assert admin(gw, "POST", "/customer/new", {"user_id": "acme"})[0] == 400
        assert admin(gw, "POST", "/customer/new", {"alias": "no id"})[0] == 400
        assert admin(gw, "POST", "/customer/new", {"user_id": "x", "budget_id": "missing"})[0] == 404
        assert admin(gw, "GET", "/customer/info?end_user_id=nobody")[0] == 404
        assert admin(gw, "POST", "/budget/delete", {"id": "missing"})[0] == 404
        assert admin(gw, "POST", "/customer/delete", {"user_ids": ["beta"]}) == (200, {"deleted_customers": ["beta"]})
    finally:
        gw.stop()


def test_organizations(mock, tmp_path, database):  # noqa: F811
    env, _ = database
    gw = start(tmp_path, mock, env)
    try:
        status, org = admin(gw, "POST", "/organization/new", {"organization_id": "o1", "organization_alias": "acme", "models": ["gpt-4o"], "max_budget": 0.0001})
        assert status == 200, org
        assert org["budget_id"] and org["litellm_budget_table"]["max_budget"] == 0.0001
        _, k = admin(gw, "POST", "/key/generate", {"organization_id": "o1"})
        client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)
        with pytest.raises(openai.PermissionDeniedError) as e:
            client.chat.completions.create(model="demo", messages=HI)
        assert e.value.body["type"] == "organization_model_access_denied"
        for _ in range(2):
            client.chat.completions.create(model="gpt-4o", messages=HI)
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model="gpt-4o", messages=HI)
        assert "Organization=o1" in e.value.body["message"]
        _, info = admin(gw, "GET", "/organization/info?organization_id=o1")
        assert info["spend"] == pytest.approx(2 * 7.5e-5, abs=1e-12)

        status, added = admin(gw, "POST", "/organization/member_add", {"organization_id": "o1", "member": [{"user_id": "ou1", "role": "org_admin"}]})
        assert status == 200 and added["added_members"][0]["user_role"] == "org_admin"
        _, info = admin(gw, "GET", "/organization/info?organization_id=o1")
        assert [m["user_id"] for m in info["members"]] == ["ou1"]
        _, u = admin(gw, "GET", "/user/info?user_id=ou1")
        assert u["user_info"]["organization_id"] == "o1"

        assert admin(gw, "PATCH", "/organization/update", {"organization_id": "o1", "max_budget": 1})[1]["litellm_budget_table"]["max_budget"] == 1
        client.chat.completions.create(model="gpt-4o", messages=HI)
        assert len(admin(gw, "GET", "/organization/list")[1]) == 1
        assert admin(gw, "POST", "/organization/new", {"organization_id": "o2"})[0] == 400
        assert admin(gw, "POST", "/organization/member_add", {"organization_id": "o1", "member": {"user_id": "x", "role": "owner"}})[0] == 400
        assert admin(gw, "GET", "/organization/info?organization_id=nope")[0] == 404
        assert admin(gw, "DELETE", "/organization/delete", {"organization_ids": ["o1"]}) == (200, {"deleted_organizations": ["o1"]})
    finally:
        gw.stop()


def test_tags(mock, tmp_path, database):  # noqa: F811
    env, _ = database
    gw = start(tmp_path, mock, env)
    try:
        status, t = admin(gw, "POST", "/tag/new", {"name": "prod", "description": "production", "max_budget": 0.0001})
        assert status == 200 and t["litellm_budget_table"]["max_budget"] == 0.0001
        client = openai.OpenAI(base_url=gw.base, api_key=admin_key(), max_retries=0)
        for _ in range(2):
            client.chat.completions.create(model="gpt-4o", messages=HI, extra_body={"metadata": {"tags": ["prod", "web"]}})
        with pytest.raises(openai.BadRequestError) as e:
            client.chat.completions.create(model="gpt-4o", messages=HI, extra_body={"metadata": {"tags": ["prod"]}})
        assert "Tag=prod" in e.value.body["message"]
        # Untagged calls are not limited by the tag.
        client.chat.completions.create(model="gpt-4o", messages=HI)
        time.sleep(2.5)
        _, info = admin(gw, "POST", "/tag/info", {"names": ["prod"]})
        assert info["prod"]["spend"] == pytest.approx(2 * 7.5e-5, abs=1e-12)
        # "web" was created by its first spend.
        _, tags = admin(gw, "GET", "/tag/list")
        assert sorted(t["name"] for t in tags) == ["prod", "web"]
        _, logs = admin(gw, "GET", "/spend/logs")
        assert ["prod", "web"] in [l["request_tags"] for l in logs]
        assert admin(gw, "POST", "/tag/update", {"name": "prod", "max_budget": 1})[0] == 200
        client.chat.completions.create(model="gpt-4o", messages=HI, extra_body={"metadata": {"tags": ["prod"]}})
        assert admin(gw, "POST", "/tag/new", {"name": "prod"})[0] == 400
        assert admin(gw, "POST", "/tag/info", {"names": ["nope"]})[0] == 404
        assert admin(gw, "POST", "/tag/delete", {"name": "prod"})[0] == 200
    finally:
        gw.stop()


def test_end_user_and_tag_budgets_reset(mock, tmp_path, database):  # noqa: F811
    env, _ = database
    gw = start(tmp_path, mock, env)
    try:
        admin(gw, "POST", "/customer/new", {"user_id": "periodic", "max_budget": 0.0001, "budget_duration": "2s"})
        client = openai.OpenAI(base_url=gw.base, api_key=admin_key(), max_retries=0)
        for _ in range(2):
            client.chat.completions.create(model="gpt-4o", messages=HI, user="periodic")
        with pytest.raises(openai.BadRequestError):
            client.chat.completions.create(model="gpt-4o", messages=HI, user="periodic")
        time.sleep(4.5)
        client.chat.completions.create(model="gpt-4o", messages=HI, user="periodic")
    finally:
        gw.stop()
