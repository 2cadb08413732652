"""Management bodies shaped as LiteLLM's UI and admin scripts send them: every field LiteLLM's
request models accept is taken (stored in its column, kept in metadata where LiteLLM keeps it,
or logged and dropped), unknown fields are ignored as LiteLLM ignores them, and a known field of
the wrong type is still a 400 (SQLite and PostgreSQL)."""
import openai

from test_virtual_keys import admin, database, start  # noqa: F401  (fixture)

HI = [{"role": "user", "content": "Hi"}]

# What LiteLLM's UI sends for a new key (create_key_button.tsx), beyond the basics.
UI_KEY = {
    "key_alias": "ui-key",
    "models": ["gpt-4o"],
    "duration": "30d",
    "metadata": {"source": "ui"},
    "guardrails": ["pii-mask"],
    "prompts": ["greeting-v1"],
    "tags": ["prod", "team-a"],
    "enforced_params": ["user"],
    "object_permission": {"mcp_servers": [], "vector_stores": [], "agents": []},
    "model_rpm_limit": {"gpt-4o": 50},
    "model_tpm_limit": {"gpt-4o": 50000},
    "allowed_cache_controls": ["no-cache"],
    "allowed_passthrough_routes": ["/anthropic/*"],
    "rpm_limit_type": "best_effort_throughput",
    "key_type": "llm_api",
    "auto_rotate": False,
    "rotation_interval": "30d",
    "send_invite_email": False,
    "spend": 0,
    "aliases": {},
    "config": {},
    "permissions": {},
    "router_settings": {},
    "logging": [],
    "some_future_litellm_field": {"x": 1},
}


def test_litellm_shaped_bodies(mock, tmp_path, database):  # noqa: F811
    env, _ = database
    gw = start(tmp_path, mock, env)
    try:
        status, budget = admin(gw, "POST", "/budget/new", {"budget_id": "b1", "max_budget": 10, "budget_reset_at": None})
        assert status == 200, budget
        assert admin(gw, "POST", "/budget/new", {"budget_id": "b2", "model_max_budget": {}})[0] == 200

        status, k = admin(gw, "POST", "/key/generate", {**UI_KEY, "budget_id": "b1"})
        assert status == 200, k
        status, info = admin(gw, "GET", f"/key/info?key={k['key']}")
        assert status == 200, info
        info = info["info"]
        assert info["budget_id"] == "b1"
        assert info["key_type"] == "llm_api" and info["rotation_interval"] == "30d"
        assert info["allowed_cache_controls"] == ["no-cache"]
        meta = info["metadata"]
        assert meta["source"] == "ui"
        for field in ("guardrails", "prompts", "tags", "enforced_params", "model_rpm_limit",
                      "model_tpm_limit", "allowed_passthrough_routes", "rpm_limit_type"):
            assert meta[field] == UI_KEY[field], field
        for dropped in ("logging", "some_future_litellm_field", "send_invite_email"):
            assert dropped not in meta and dropped not in info, dropped
        # object_permission is a row of its own (LiteLLM_ObjectPermissionTable), shown in the info.
        assert "object_permission" not in meta
        assert info["object_permission"]["mcp_servers"] == [] and info["object_permission"]["agents"] == []
        # The key works, with the limits it was given.
        client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)
        client.chat.completions.create(model="gpt-4o", messages=HI)

        # /key/update takes the same fields; metadata fields are added to what is there.
        status, up = admin(gw, "POST", "/key/update", {"key": k["key"], "guardrails": ["toxicity"], "tags": None,
                                                     "object_permission": {"mcp_servers": ["s1"]}, "temp_budget_increase": 5,
                                                     "temp_budget_expiry": "2030-01-01T00:00:00Z"})
        assert status == 200, up
        assert up["metadata"]["guardrails"] == ["toxicity"]
        assert up["metadata"]["tags"] == ["prod", "team-a"], "a null field changes nothing"
        assert up["metadata"]["temp_budget_increase"] == 5
        status, r = admin(gw, "POST", "/key/regenerate", {"key": k["key"], "grace_period": "24h", "prompts": ["v2"]})
        assert status == 200, r
        assert r["metadata"]["prompts"] == ["v2"]

        # Wrongly typed known fields are still refused, before anything is stored.
        for bad in ({"guardrails": "pii-mask"}, {"model_rpm_limit": [50]}, {"key_type": "superuser"},
                    {"allowed_cache_controls": "no-cache"}, {"budget_id": "no-such-budget"}):
            status, err = admin(gw, "POST", "/key/generate", {"key_alias": "bad", **bad})
            assert status in (400, 404), (bad, status, err)
        assert admin(gw, "GET", "/key/list?key_alias=bad")[1]["total_count"] == 0

        # /team/new as LiteLLM's UI sends it.
        status, team = admin(gw, "POST", "/team/new", {
            "team_id": "t-ui", "team_alias": "UI team", "models": ["gpt-4o"],
            "object_permission": {"mcp_servers": [], "vector_stores": []},
            "team_member_permissions": ["/key/generate", "/key/update"],
            "guardrails": ["pii-mask"], "prompts": ["p1"], "tags": ["prod"],
            "model_rpm_limit": {"gpt-4o": 10}, "model_aliases": {}, "metadata": {"owner": "ml"},
            "team_member_budget": 5, "team_member_key_duration": "7d", "admins": [], "members": [],
            "router_settings": {"num_retries": 2}, "policies": [], "access_group_ids": ["ag1"],
            "members_with_roles": [{"user_id": "m1", "role": "admin", "user_email": None}],
        })
        assert status == 200, team
        status, info = admin(gw, "GET", "/team/info?team_id=t-ui")
        assert status == 200, info
        t = info["team_info"]
        assert t["team_member_permissions"] == ["/key/generate", "/key/update"]
        assert t["router_settings"] == {"num_retries": 2} and t["access_group_ids"] == ["ag1"]
        assert t["metadata"] == {"owner": "ml", "guardrails": ["pii-mask"], "prompts": ["p1"], "tags": ["prod"],
                                 "model_rpm_limit": {"gpt-4o": 10}, "team_member_key_duration": "7d"}
        status, t = admin(gw, "POST", "/team/update", {"team_id": "t-ui", "team_member_permissions": ["/key/info"],
                                                     "guardrails": [], "secret_manager_settings": {}})
        assert status == 200, t
        assert t["team_member_permissions"] == ["/key/info"] and t["metadata"]["guardrails"] == []
        status, m = admin(gw, "POST", "/team/member_add", {"team_id": "t-ui", "member": {"user_id": "m2", "role": "user"},
                                                         "max_budget_in_team": 1.5})
        assert status == 200, m
        status, m = admin(gw, "POST", "/team/member_update", {"team_id": "t-ui", "user_id": "m2", "role": "admin",
                                                            "max_budget_in_team": 2})
        assert status == 200, m
        assert "m2" in admin(gw, "GET", "/team/info?team_id=t-ui")[1]["team_info"]["admins"]
        assert admin(gw, "POST", "/team/new", {"team_member_permissions": "/key/generate"})[0] == 400

        # /user/new as LiteLLM's UI sends it.
        status, u = admin(gw, "POST", "/user/new", {
            "user_id": "u-ui", "user_email": "u@example.com", "user_role": "internal_user",
            "send_invite_email": True, "auto_create_key": False, "teams": [{"team_id": "t-ui", "user_role": "user"}],
            "metadata": {}, "guardrails": ["pii-mask"], "model_max_budget": {"gpt-4o": 1},
            "allowed_cache_controls": [], "password": "not-used-here", "organizations": [],
        })
        assert status == 200, u
        assert "key" not in u
        status, info = admin(gw, "GET", "/user/info?user_id=u-ui")
        assert status == 200, info
        assert info["user_info"]["teams"] == ["t-ui"]
        assert info["user_info"]["model_max_budget"] == {"gpt-4o": 1}
        assert info["user_info"]["metadata"] == {"guardrails": ["pii-mask"]}
        assert admin(gw, "POST", "/user/new", {"user_role": "owner"})[0] == 400
        assert admin(gw, "POST", "/user/new", {"send_invite_email": "yes"})[0] == 400

        # Organizations, customers, budgets and tags: LiteLLM's extra fields are taken too.
        status, o = admin(gw, "POST", "/organization/new", {"organization_alias": "acme", "model_rpm_limit": {"gpt-4o": 5},
                                                          "object_permission": {"vector_stores": []}, "model_max_budget": {}})
        assert status == 200, o
        assert o["metadata"] == {"model_rpm_limit": {"gpt-4o": 5}}
        status, c = admin(gw, "POST", "/customer/new", {"user_id": "end-1", "max_budget": 2, "object_permission": None,
                                                      "spend": 0, "soft_budget": 1})
        assert status == 200, c
        assert c["litellm_budget_table"]["soft_budget"] == 1
        status, tag = admin(gw, "POST", "/tag/new", {"name": "prod", "model_info": {"id-1": "gpt-4o"}, "max_parallel_requests": 3})
        assert status == 200, tag
        assert tag["model_info"] == {"id-1": "gpt-4o"} and tag["litellm_budget_table"]["max_parallel_requests"] == 3
        for path, body in (("/key/block", {"key": r["key"], "x": 1}), ("/team/block", {"team_id": "t-ui", "x": 1}),
                           ("/customer/delete", {"user_ids": ["end-1"], "x": 1}), ("/tag/delete", {"name": "prod", "x": 1}),
                           ("/budget/delete", {"id": "b2", "x": 1})):
            status, out = admin(gw, "POST", path, body)
            assert status == 200, (path, out)

        log = gw.log_path.read_text()
        # (object_permission is stored for organizations too now, so it is no longer dropped.)
        assert "some_future_litellm_field" in log, "dropped fields are logged"
    finally:
        gw.stop()
