"""Users and teams through the real binary: their budgets and model lists limit the keys that
belong to them, and the spend of those keys adds up on them (SQLite and PostgreSQL)."""
import openai
import pytest

from test_virtual_keys import admin, database, start  # noqa: F401  (fixture)

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
        assert admin(gw, "POST", "/team/member_delete", {"team_id": "t1", "user_id": "nobody"})[0] == 404
        assert admin(gw, "POST", "/user/delete", {"user_ids": ["nobody"]})[0] == 404
        assert admin(gw, "POST", "/user/update", {"max_budget": 1})[0] == 400

        assert admin(gw, "POST", "/user/delete", {"user_ids": ["u2"]}) == (200, {"deleted_users": ["u2"]})
        assert admin(gw, "POST", "/team/delete", {"team_ids": ["t1"]}) == (200, {"deleted_teams": ["t1"]})
    finally:
        gw.stop()
