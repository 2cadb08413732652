"""Management API parity with LiteLLM 1.110: the calls an admin script, Terraform or LiteLLM's UI
make, on PostgreSQL, answered as LiteLLM answers them (bodies, update semantics, statuses,
filtering by the caller, spend-log ids, members, routes)."""
import json
import subprocess
import urllib.request
import uuid

import openai
import pytest

from conftest import MASTER, Gateway, models_yaml
from test_virtual_keys import PG, admin as call

HI = [{"role": "user", "content": "Hi"}]


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    name = f"llmgate_e2e_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    tmp = tmp_path_factory.mktemp("mgmt")
    cfg = models_yaml(mock) + (
        f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 1\n"
        "  dangerously_allow_mock_testing_request_params: true\n  store_model_in_db: true\n"
    )
    g = Gateway(tmp, cfg, env={"UPSTREAM_KEY": "sk-up", "DATABASE_URL": f"{PG}/{name}"}).wait_ready()
    yield g
    g.stop()
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


def test_bodies_litellm_accepts(gw):
    s, u = call(gw, "POST", "/user/new", {"user_id": "b-u1", "aliases": {"x": "gpt-4o"}})
    assert s == 200, u
    s, u = call(gw, "POST", "/user/update", {"user_id": "b-u1", "spend": 0.5})
    assert s == 200, u
    _, info = call(gw, "GET", "/user/info?user_id=b-u1")
    assert info["user_info"]["spend"] == 0.5
    # LiteLLM creates the user an update names when it does not exist.
    s, u = call(gw, "POST", "/user/update", {"user_id": "litellm-proxy-budget", "max_budget": 10})
    assert s == 200, u
    s, t = call(gw, "POST", "/team/new", {"team_id": "b-t1", "model_aliases": {"a": "gpt-4o"}})
    assert s == 200, t


def test_key_update_replaces_metadata(gw):
    _, k = call(gw, "POST", "/key/generate", {"metadata": {"a": 1}})
    s, _ = call(gw, "POST", "/key/update", {"key": k["key"], "metadata": {}})
    assert s == 200
    _, info = call(gw, "GET", f"/key/info?key={k['key']}")
    assert info["info"]["metadata"] == {}


def test_statuses(gw):
    call(gw, "POST", "/user/new", {"user_id": "s-u1"})
    call(gw, "POST", "/user/new", {"user_id": "s-u2"})
    call(gw, "POST", "/team/new", {"team_id": "s-t1"})
    _, mine = call(gw, "POST", "/key/generate", {"user_id": "s-u1", "team_id": "s-t1"})
    _, theirs = call(gw, "POST", "/key/generate", {"user_id": "s-u2"})
    s, e = call(gw, "GET", "/key/info?key=sk-nope-unknown", key=mine["key"])
    assert (s, e["error"]["message"], e["error"]["param"]) == (404, "Key not found in database", "key"), e
    s, e = call(gw, "GET", f"/key/info?key={theirs['key']}", key=mine["key"])
    assert s == 403 and e["error"]["message"] == "You are not allowed to access this key's info. Your role=internal_user", e
    assert e["error"]["type"] == "auth_error"
    assert call(gw, "GET", f"/key/info?key={mine['key']}", key=mine["key"])[0] == 200
    assert call(gw, "GET", "/team/info?team_id=s-t1", key=mine["key"])[0] == 200
    s, e = call(gw, "GET", "/user/info?user_id=s-u2", key=mine["key"])
    assert s == 403 and e["error"]["message"] == (
        "key not allowed to access this user's info. user_id=s-u2, key's user_id=s-u1"), e
    s, e = call(gw, "GET", "/team/info?team_id=s-t1", key=theirs["key"])
    assert s == 403 and e["error"]["message"] == "User=s-u2 not authorized to access this team=s-t1", e
    assert call(gw, "POST", "/team/member_add", {"team_id": "s-t1", "member": {"user_id": "s-u2", "role": "user"}})[0] == 200
    assert call(gw, "POST", "/team/member_add", {"team_id": "s-t1", "member": {"user_id": "s-u2", "role": "user"}})[0] == 400
    assert call(gw, "POST", "/team/member_delete", {"team_id": "s-t1", "user_id": "nobody"})[0] == 400


def test_filtering_by_caller(gw):
    call(gw, "POST", "/team/new", {"team_id": "f-t1", "models": ["gpt-4o"]})
    _, k = call(gw, "POST", "/key/generate", {"team_id": "f-t1", "models": []})
    _, info = call(gw, "GET", "/model/info", key=k["key"])
    assert sorted({m["model_name"] for m in info["data"]}) == ["gpt-4o"], info
    _, info = call(gw, "GET", "/v2/model/info", key=k["key"])
    assert sorted({m["model_name"] for m in info["data"]}) == ["gpt-4o"], info
    client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)
    assert [m.id for m in client.models.list()] == ["gpt-4o"]
    # user-level models for a key without its own
    call(gw, "POST", "/user/new", {"user_id": "f-u1", "models": ["demo"], "auto_create_key": False})
    _, uk = call(gw, "POST", "/key/generate", {"user_id": "f-u1", "models": []})
    uc = openai.OpenAI(base_url=gw.base, api_key=uk["key"], max_retries=0)
    uc.chat.completions.create(model="demo", messages=HI)
    with pytest.raises(openai.APIStatusError):
        uc.chat.completions.create(model="gpt-4o", messages=HI)


def test_spend_log_request_id_is_the_response_id(gw):
    _, k = call(gw, "POST", "/key/generate", {"key_alias": "sl-alias"})
    client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)
    r = client.chat.completions.create(model="gpt-4o", messages=HI)
    import time
    for _ in range(50):
        s, logs = call(gw, "GET", f"/spend/logs?request_id={r.id}")
        if s == 200 and logs:
            break
        time.sleep(0.1)
    assert logs and logs[0]["request_id"] == r.id, logs
    assert logs[0]["metadata"]["user_api_key_alias"] == "sl-alias"


def test_members_and_users(gw):
    call(gw, "POST", "/user/new", {"user_id": "m-u1", "user_email": "m1@example.com"})
    s, t = call(gw, "POST", "/team/new", {"team_id": "m-t1"})
    s, t = call(gw, "POST", "/team/member_add", {"team_id": "m-t1", "member": {"user_email": "m1@example.com", "role": "user"}})
    assert s == 200, t
    _, u = call(gw, "GET", "/user/info?user_id=m-u1")
    assert [x["team_id"] for x in u["teams"]] == ["m-t1"], u


def test_missing_routes_exist(gw):
    for method, path, body in [
        ("POST", "/end_user/new", {"user_id": "eu1"}),
        ("GET", "/end_user/info?end_user_id=eu1", None),
        ("GET", "/end_user/list", None),
        ("GET", "/v2/model/info", None),
        ("GET", "/model_group/info", None),
        ("GET", "/routes", None),
        ("GET", "/global/spend/teams", None),
        ("GET", "/global/spend/keys", None),
        ("GET", "/global/spend/models", None),
    ]:
        s, b = call(gw, method, path, body)
        assert s == 200, (path, s, b)
    s, r = call(gw, "GET", "/health/readiness")
    assert r == {"status": "healthy", "db": "connected"}, r
    s, r = call(gw, "GET", "/health/readiness/details")
    assert s == 200 and "litellm_version" in r, r


def test_org_members_and_spend_views(gw):
    assert call(gw, "POST", "/organization/new", {"organization_id": "o-1", "organization_alias": "acme"})[0] == 200
    call(gw, "POST", "/user/new", {"user_id": "o-u1", "user_email": "o1@example.com", "auto_create_key": False})
    assert call(gw, "POST", "/organization/member_add", {"organization_id": "o-1", "member": {"user_id": "o-u1", "role": "internal_user"}})[0] == 200
    s, m = call(gw, "PATCH", "/organization/member_update", {"organization_id": "o-1", "user_email": "o1@example.com", "role": "org_admin"})
    assert s == 200 and m["user_role"] == "org_admin", m
    assert call(gw, "DELETE", "/organization/member_delete", {"organization_id": "o-1", "user_id": "o-u1"})[0] == 200
    assert call(gw, "DELETE", "/organization/member_delete", {"organization_id": "o-1", "user_id": "o-u1"})[0] == 400

    call(gw, "POST", "/team/new", {"team_id": "sv-t", "team_alias": "spenders"})
    _, k = call(gw, "POST", "/key/generate", {"team_id": "sv-t", "key_alias": "top-key"})
    client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)
    for _ in range(2):
        client.chat.completions.create(model="gpt-4o", messages=HI)
    import time
    for _ in range(50):
        _, keys = call(gw, "GET", "/global/spend/keys?limit=50")
        if any(x["key_alias"] == "top-key" for x in keys):
            break
        time.sleep(0.1)
    mine = [x for x in keys if x["key_alias"] == "top-key"]
    assert mine and mine[0]["total_spend"] > 0, keys
    assert keys == sorted(keys, key=lambda x: -x["total_spend"])
    assert call(gw, "GET", "/global/spend/keys?limit=0")[0] == 422
    _, models = call(gw, "GET", "/global/spend/models")
    assert any(x["model"] == "gpt-4o" for x in models), models
    _, teams = call(gw, "GET", "/global/spend/teams")
    assert "spenders" in teams["teams"] and teams["daily_spend"], teams
    _, routes = call(gw, "GET", "/routes")
    paths = {r["path"]: r["methods"] for r in routes["routes"]}
    assert paths["/chat/completions"] == ["POST"] and "DELETE" in paths["/organization/member_delete"]


def raw(gw, body, key=MASTER):
    req = urllib.request.Request(
        f"{gw.base}/chat/completions", method="POST", data=json.dumps(body).encode(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, dict(r.headers), json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), json.loads(e.read())


def test_comma_separated_models_answer_one_completion_each(gw):
    s, _, out = raw(gw, {"model": "gpt-4o, demo", "messages": HI})
    assert s == 200 and isinstance(out, list) and len(out) == 2, out
    assert [o["model"] for o in out] == ["gpt-4o", "demo"]
    assert out[1]["choices"][0]["message"]["content"] == "Hello from the demo"
    s, _, out = raw(gw, {"model": "gpt-4o,nope", "messages": HI})
    assert s == 200 and out[0]["object"] == "chat.completion" and out[1]["error"]["code"] == "400", out


def test_mock_params_are_refused_unless_the_admin_allows_them(gateway):
    # As LiteLLM 1.110: 400 naming every gated param, never a silent success.
    s, _, e = raw(gateway, {"model": "gpt-4o", "messages": HI, "mock_testing_fallbacks": True, "mock_delay": 1})
    assert s == 400, e
    assert "Mock testing request params are disabled on this proxy: mock_testing_fallbacks, mock_delay" in e["error"]["message"]
    assert "dangerously_allow_mock_testing_request_params" in e["error"]["message"]


def test_mock_failures_are_simulated_and_never_forwarded(gw, mock):
    s, h, e = raw(gw, {"model": "gpt-4o", "messages": HI, "mock_testing_rate_limit_error": True})
    assert s == 429, e
    assert "This is a mock exception for model=gpt-4o, to trigger a rate limit error." in e["error"]["message"]
    assert h["x-litellm-attempted-retries"] == h["x-litellm-max-retries"]
    s, h, e = raw(gw, {"model": "gpt-4o", "messages": HI, "mock_timeout": True, "timeout": 0.2, "num_retries": 0})
    assert s == 408 and "This is a mock timeout error" in e["error"]["message"], e
    assert h["x-litellm-timeout"] == "0.2"


def test_internal_user_makes_its_own_keys(gw):
    _, u = call(gw, "POST", "/user/new", {"user_id": "ss-u1", "user_role": "internal_user"})
    call(gw, "POST", "/user/new", {"user_id": "ss-u2", "auto_create_key": False})
    call(gw, "POST", "/team/new", {"team_id": "ss-t1", "members_with_roles": [{"user_id": "ss-u1", "role": "admin"}]})
    call(gw, "POST", "/team/new", {"team_id": "ss-t2"})
    s, k = call(gw, "POST", "/key/generate", {"key_alias": "mine"}, key=u["key"])
    assert s == 200 and k["user_id"] == "ss-u1", k
    assert call(gw, "POST", "/key/generate", {"team_id": "ss-t1"}, key=u["key"])[0] == 200
    assert call(gw, "POST", "/key/generate", {"user_id": "ss-u2"}, key=u["key"])[0] == 403
    assert call(gw, "POST", "/key/generate", {"team_id": "ss-t2"}, key=u["key"])[0] == 403
    # The new key works, and is the user's.
    client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)
    assert client.chat.completions.create(model="demo", messages=HI).choices[0].message.content


def test_end_user_allowed_model_region(mock, tmp_path):
    b = f"{mock.base}/v1"
    cfg = (
        "model_list:\n"
        f"  - model_name: regional\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: {b}\n      api_key: sk-up\n      region_name: eu\n"
        f"  - model_name: regional\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: {b}\n      api_key: sk-up\n      region_name: us\n"
        f"  - model_name: us-only\n    litellm_params:\n      model: openai/gpt-4o\n      api_base: {b}\n      api_key: sk-up\n      region_name: us\n"
        f"general_settings:\n  master_key: {MASTER}\n"
    )
    g = Gateway(tmp_path, cfg, env={"LLMGATE_DB_PATH": str(tmp_path / "r.db")}).wait_ready()
    try:
        assert call(g, "POST", "/end_user/new", {"user_id": "eu-cust", "allowed_model_region": "eu"})[0] == 200
        for _ in range(10):
            s, h, r = raw(g, {"model": "regional", "messages": HI, "user": "eu-cust"})
            assert s == 200, r
            assert h["x-litellm-model-region"] == "eu"
            _, info = call(g, "GET", f"/model/info?litellm_model_id={h['x-litellm-model-id']}")
            assert info["data"][0]["litellm_params"]["region_name"] == "eu"
        s, _, e = raw(g, {"model": "us-only", "messages": HI, "user": "eu-cust"})
        assert s == 400 and "allowed_model_region=eu" in e["error"]["message"], e
        # Others are served by any region.
        assert raw(g, {"model": "us-only", "messages": HI, "user": "someone"})[0] == 200
    finally:
        g.stop()


def test_team_admins_add_models_for_their_team(gw, mock):
    """LiteLLM 1.110's team models: stored as `model_name_{team}_{uuid}` with the public name in
    `team_public_model_name`, which joins the team's models; the team's keys call it by the
    public name, no one else sees it."""
    call(gw, "POST", "/user/new", {"user_id": "tm-admin", "user_role": "internal_user"})
    call(gw, "POST", "/user/new", {"user_id": "tm-user", "user_role": "internal_user"})
    s, _ = call(gw, "POST", "/team/new", {"team_id": "tm-t1", "members_with_roles": [
        {"user_id": "tm-admin", "role": "admin"}, {"user_id": "tm-user", "role": "user"}]})
    assert s == 200
    call(gw, "POST", "/team/new", {"team_id": "tm-t2"})
    _, ka = call(gw, "POST", "/key/generate", {"user_id": "tm-admin", "team_id": "tm-t1"})
    _, ku = call(gw, "POST", "/key/generate", {"user_id": "tm-user", "team_id": "tm-t1"})
    _, other = call(gw, "POST", "/key/generate", {"user_id": "tm-user", "team_id": "tm-t2"})
    model = {"model_name": "team-gpt", "litellm_params": {
        "model": "openai/gpt-4o", "api_base": f"{mock.base}/v1", "api_key": "sk-up"}}

    # Not an admin of the team, or no team named: 403 in LiteLLM's words.
    s, e = call(gw, "POST", "/model/new", {**model, "model_info": {"team_id": "tm-t1"}}, key=ku["key"])
    assert s == 403 and "you are not the admin for this team" in e["error"]["message"], e
    s, e = call(gw, "POST", "/model/new", model, key=ka["key"])
    assert s == 403 and "Your role=internal_user" in e["error"]["message"], e
    s, e = call(gw, "POST", "/model/new", {**model, "model_info": {"team_id": "tm-nope"}}, key=ka["key"])
    assert s == 400 and "Team id=tm-nope does not exist in db" in e["error"]["message"], e

    s, row = call(gw, "POST", "/model/new", {**model, "model_info": {"team_id": "tm-t1"}}, key=ka["key"])
    assert s == 200, row
    assert row["model_name"].startswith("model_name_tm-t1_"), row
    assert row["model_info"]["team_public_model_name"] == "team-gpt"
    _, t = call(gw, "GET", "/team/info?team_id=tm-t1")
    assert t["team_info"]["models"] == ["all-proxy-models", "team-gpt"], t

    # The team's keys call it by its public name and list it so; others cannot.
    c = openai.OpenAI(base_url=gw.base, api_key=ku["key"], max_retries=0)
    r = c.chat.completions.create(model="team-gpt", messages=HI)
    assert r.choices[0].message.content
    ids = [m.id for m in c.models.list()]
    assert "team-gpt" in ids and not any(i.startswith("model_name_") for i in ids), ids
    o = openai.OpenAI(base_url=gw.base, api_key=other["key"], max_retries=0)
    with pytest.raises(openai.BadRequestError):
        o.chat.completions.create(model="team-gpt", messages=HI)
    assert not any(m.id.startswith("model_name_") or m.id == "team-gpt" for m in o.models.list())
