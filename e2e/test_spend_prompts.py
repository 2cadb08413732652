"""`general_settings.store_prompts_in_spend_logs`: the request body and the answer in the spend
log's `proxy_server_request` and `response` (LiteLLM's columns, `messages` left `{}` as LiteLLM
leaves it), long strings cut as LiteLLM cuts them; `{}` when the setting is off. Real calls with
the openai client, on SQLite and PostgreSQL."""
import time

import openai

from conftest import Gateway
from test_virtual_keys import admin, config, database  # noqa: F401  (fixture)

MARKER = "... (litellm_truncated skipped {} chars) ..."


def cut(s, limit=2048):
    """LiteLLM's `_sanitize_request_body_for_spend_logs_payload` on one string."""
    if len(s) <= limit:
        return s
    start, end = int(limit * 0.35), int(limit * 0.65)
    return s[:start] + MARKER.format(len(s) - start - end) + s[-end:]


def run_calls(gw):
    _, k = admin(gw, "POST", "/key/generate", {"key_alias": "prompts"})
    client = openai.OpenAI(base_url=gw.base, api_key=k["key"], max_retries=0)
    plain = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi prompts"}]
    r = client.chat.completions.create(model="gpt-4o", messages=plain, temperature=0.2)
    chunks = list(client.chat.completions.create(
        model="gpt-4o", messages=[{"role": "user", "content": "stream me"}], stream=True))
    streamed = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    huge = "A" * 1000 + "B" * 6000 + "C" * 2000
    client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": huge}])
    time.sleep(2.5)
    status, logs = admin(gw, "GET", f"/spend/logs?api_key={k['key']}")
    assert status == 200, logs
    assert len(logs) == 3, logs
    by_prompt = {}
    for log in logs:
        assert log["messages"] == {}, log["messages"]
        req = log["proxy_server_request"]
        by_prompt[req["messages"][-1]["content"] if req else None] = log
    return k, r, streamed, huge, logs, by_prompt


def test_prompts_and_answers_are_stored_when_on(mock, tmp_path, database):  # noqa: F811
    env, _ = database
    cfg = config(mock) + "  store_prompts_in_spend_logs: true\n"
    gw = Gateway(tmp_path, cfg, env={"UPSTREAM_KEY": "sk-up", **env}).wait_ready()
    try:
        k, r, streamed, huge, logs, by_prompt = run_calls(gw)
        # The plain call: the body as sent, the answer as received.
        plain = by_prompt["Hi prompts"]
        req = plain["proxy_server_request"]
        assert req["model"] == "gpt-4o" and req["temperature"] == 0.2
        assert req["messages"] == [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi prompts"}]
        resp = plain["response"]
        assert resp["id"] == r.id == plain["request_id"]
        assert resp["choices"][0]["message"]["content"] == r.choices[0].message.content
        assert resp["usage"]["total_tokens"] == r.usage.total_tokens == plain["total_tokens"]
        # The stream: the request, and the answer assembled from what was sent.
        s = by_prompt["stream me"]
        assert s["proxy_server_request"]["stream"] is True
        assert streamed and s["response"]["choices"][0]["message"]["content"] == streamed
        assert s["response"]["choices"][0]["message"]["role"] == "assistant"
        # A long prompt: its first 35% and last 65% of 2048 characters around LiteLLM's marker.
        [long_log] = [l for p, l in by_prompt.items() if p and p.startswith("A" * 100)]
        content = long_log["proxy_server_request"]["messages"][0]["content"]
        assert content == cut(huge)
        assert content.startswith("A" * 716 + "... (litellm_truncated skipped 6953 chars) ...")
        assert content.endswith("B" * 0 + "C" * 1331) and len(content) == 2047 + len(MARKER.format(6953))

        # /spend/logs/ui answers the same columns.
        today = time.strftime("%Y-%m-%d", time.gmtime())
        status, page = admin(gw, "GET", f"/spend/logs/ui?start_date={today}%2000:00:00&end_date={today}%2023:59:59&api_key={k['key']}")
        assert status == 200, page
        ui = {l["request_id"]: l for l in page["data"]}
        assert ui[plain["request_id"]]["proxy_server_request"]["messages"][1]["content"] == "Hi prompts"
        assert ui[plain["request_id"]]["response"]["choices"][0]["message"]["content"] == r.choices[0].message.content
        assert ui[plain["request_id"]]["messages"] == {}

        # A failed call: its request is logged, no answer.
        _, k2 = admin(gw, "POST", "/key/generate", {})
        client = openai.OpenAI(base_url=gw.base, api_key=k2["key"], max_retries=0)
        try:
            client.chat.completions.create(model="limited", messages=[{"role": "user", "content": "refused"}])
            raise AssertionError("the mock's 429 was not raised")
        except openai.RateLimitError:
            pass
        time.sleep(2.5)
        _, [failed] = admin(gw, "GET", f"/spend/logs?api_key={k2['key']}")
        assert failed["status"] == "failure"
        assert failed["proxy_server_request"]["messages"] == [{"role": "user", "content": "refused"}]
        assert failed["response"] == {}
    finally:
        gw.stop()


def test_nothing_is_stored_when_off(mock, tmp_path, database):  # noqa: F811
    env, _ = database
    gw = Gateway(tmp_path, config(mock), env={"UPSTREAM_KEY": "sk-up", **env}).wait_ready()
    try:
        _, _, _, _, logs, _ = run_calls(gw)
        for log in logs:
            assert log["proxy_server_request"] == {} and log["response"] == {} and log["messages"] == {}
    finally:
        gw.stop()


def test_the_variable_turns_it_on(mock, tmp_path):
    """LiteLLM's `STORE_PROMPTS_IN_SPEND_LOGS=true` does what the setting does."""
    env = {"LLMGATE_DB_PATH": str(tmp_path / "keys.db"), "STORE_PROMPTS_IN_SPEND_LOGS": "True"}
    gw = Gateway(tmp_path, config(mock), env={"UPSTREAM_KEY": "sk-up", **env}).wait_ready()
    try:
        _, r, _, _, _, by_prompt = run_calls(gw)
        assert by_prompt["Hi prompts"]["response"]["choices"][0]["message"]["content"] == r.choices[0].message.content
    finally:
        gw.stop()
