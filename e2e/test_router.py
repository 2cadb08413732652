"""The router end to end (issue #12): the real gateway and mock binaries, the official openai
client, LiteLLM 1.110's routing strategies, order, tags, aliases, default params, base_model
pricing, retries, fallbacks, cooldowns (shared across instances through Redis), pre-call
checks, timeouts, blocked models (in the config and through /model/update on a shared
PostgreSQL) and background health checks. Each test builds its own gateway with uniquely
named models, so picks are counted from `x-litellm-model-id` and the mock's recorded bodies.
The mock's run-time control (`POST /_mock/behaviour`) makes a model fail on demand and recover.
"""
import json
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from collections import Counter

import openai
import pytest

from conftest import MASTER, Gateway

PG = "postgres://postgres@127.0.0.1:5432"
SALT = "sk-e2e-salt-key-0123456789abcdef"
HI = [{"role": "user", "content": "Hi"}]


# --- helpers -----------------------------------------------------------------------------

def uid() -> str:
    return uuid.uuid4().hex[:8]


def dep(mock, name, model, id=None, info=None, **params):
    """A model-list entry on the mock (`model`: the upstream model name, which picks the
    mock's behaviour; `openai/` is added unless a provider is given)."""
    full = model if "/" in model else f"openai/{model}"
    e = {"model_name": name,
         "litellm_params": {"model": full, "api_base": f"{mock.base}/v1", "api_key": "sk-up", **params},
         "model_info": {**({"id": id} if id else {}), **(info or {})}}
    return e


def config(deps, router=None, general=None, litellm=None) -> str:
    """A config as JSON (which is YAML)."""
    c = {"model_list": deps, "general_settings": {"master_key": MASTER, **(general or {})}}
    if router:
        c["router_settings"] = router
    if litellm:
        c["litellm_settings"] = litellm
    return json.dumps(c, indent=1)


_clients = {}


def client(gw, **kw):
    """One client per gateway (and options): building one costs tens of milliseconds."""
    k = (gw.base, tuple(sorted(kw.items())))
    if k not in _clients:
        _clients[k] = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0, **kw)
    return _clients[k]


def raw(gw, model, messages=HI, **kw):
    """One chat call: (headers, parsed response)."""
    r = client(gw).chat.completions.with_raw_response.create(model=model, messages=messages, **kw)
    return r.headers, r.parse()


def picked(gw, model, **kw) -> str:
    return raw(gw, model, **kw)[0]["x-litellm-model-id"]


def post(url, body, key=MASTER):
    """Plain HTTP: (status, headers, JSON body)."""
    req = urllib.request.Request(url, method="POST", data=json.dumps(body).encode(),
                                 headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, r.headers, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, e.headers, json.loads(e.read())


def get(url, key=MASTER):
    req = urllib.request.Request(url, headers={"Authorization": f"Bearer {key}"})
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def chat_http(gw, model, **body):
    return post(f"{gw.base}/v1/chat/completions", {"model": model, "messages": HI, **body})


def behave(mock, model, behaviour, times=None, retry_after=None):
    """The mock's run-time control: `model` behaves as `behaviour` (None clears)."""
    body = {"model": model, "behaviour": behaviour}
    if times is not None:
        body["times"] = times
    if retry_after is not None:
        body["retry_after"] = retry_after
    status, _, b = post(f"{mock.base}/_mock/behaviour", body)
    assert status == 200, b


def upstream(mock, model):
    """Bodies the mock received for `model` (the upstream model name)."""
    with urllib.request.urlopen(f"{mock.base}/_mock/requests") as r:
        reqs = json.loads(r.read())
    return [q["body"] for q in reqs if isinstance(q["body"], dict) and q["body"].get("model") == model]


def model_ids(gw):
    status, body = get(f"{gw.base}/v1/models")
    assert status == 200, body
    return [m["id"] for m in body["data"]]


def counts(gw, model, n, **kw) -> Counter:
    return Counter(picked(gw, model, **kw) for _ in range(n))


def parallel(n, fn):
    """Runs `fn(i)` in n threads started together; their results in order."""
    out = [None] * n
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait()
        out[i] = fn(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return out


def message(e: openai.APIStatusError) -> str:
    body = e.body if isinstance(e.body, dict) else {}
    return body.get("message") or body.get("error", {}).get("message") or str(e)


@pytest.fixture
def gw(tmp_path):
    """Starts gateways (each in its own directory) with a config and waits for them."""
    started = []

    def start(cfg, env=None):
        d = tmp_path / f"gw{len(started)}"
        d.mkdir()
        g = Gateway(d, cfg, env)
        started.append(g)
        return g.wait_ready()

    yield start
    for g in started:
        g.stop()


# --- routing strategies ------------------------------------------------------------------

def test_simple_shuffle_follows_weights_then_rpm(mock, gw):
    g = f"shuf-{uid()}"
    w = f"shufw-{uid()}"
    g1 = gw(config([
        dep(mock, g, "gpt-4o", id=f"{g}-heavy", weight=3), dep(mock, g, "gpt-4o", id=f"{g}-light", weight=1),
        dep(mock, w, "gpt-4o", id=f"{w}-heavy", rpm=30000), dep(mock, w, "gpt-4o", id=f"{w}-light", rpm=10000),
    ]))
    n = 400
    total = sum(parallel(8, lambda i: counts(g1, g, n // 8)), Counter())
    # 300 expected (sd 8.7): within 4.5 sd.
    assert total[f"{g}-heavy"] + total[f"{g}-light"] == n
    assert 260 <= total[f"{g}-heavy"] <= 340, total
    # No weights: rpm weights (3:1).
    total = sum(parallel(8, lambda i: counts(g1, w, 25)), Counter())
    assert 120 <= total[f"{w}-heavy"] <= 180, total


def test_least_busy_spreads_concurrent_calls(mock, gw):
    g = f"busy-{uid()}"
    g1 = gw(config([dep(mock, g, "mock-slow-300", id=f"{g}-{i}") for i in range(3)],
                   router={"routing_strategy": "least-busy"}))
    picks = parallel(9, lambda i: picked(g1, g))
    assert Counter(picks) == {f"{g}-0": 3, f"{g}-1": 3, f"{g}-2": 3}


def test_usage_based_routing_v2_keeps_each_deployment_within_its_rpm(mock, gw):
    g = f"ubr-{uid()}"
    a, b = f"ubra-{uid()}", f"ubrb-{uid()}"
    g1 = gw(config([dep(mock, g, a, id=f"{g}-a", rpm=2), dep(mock, g, b, id=f"{g}-b", rpm=1)],
                   router={"routing_strategy": "usage-based-routing-v2"}))
    if time.time() % 60 > 57:  # the per-minute window would turn mid-test
        time.sleep(60 - time.time() % 60 + 0.1)
    served = Counter(picked(g1, g) for _ in range(3))
    assert served == {f"{g}-a": 2, f"{g}-b": 1}
    with pytest.raises(openai.RateLimitError) as e:
        raw(g1, g)
    # LiteLLM's RateLimitError puts its class before the message.
    text = message(e.value).removeprefix("litellm.RateLimitError: ")
    assert text.startswith("No deployments available for selected model"), message(e.value)
    # Never sent more than its rpm.
    assert (len(upstream(mock, a)), len(upstream(mock, b))) == (2, 1)


def test_latency_based_routing_prefers_the_fast_deployment_unless_buffered(mock, gw):
    g, h = f"lat-{uid()}", f"latb-{uid()}"
    fast = f"fast-{uid()}"
    g1 = gw(config([dep(mock, g, "mock-slow-300", id=f"{g}-slow"), dep(mock, g, fast, id=f"{g}-fast")],
                   router={"routing_strategy": "latency-based-routing"}))
    c = counts(g1, g, 20)
    # Warm-up: each is tried once (no data counts as 0 s); then the fast one takes the rest.
    assert c[f"{g}-fast"] >= 17, c
    g2 = gw(config([dep(mock, h, "mock-slow-100", id=f"{h}-slow"), dep(mock, h, fast, id=f"{h}-fast")],
                   router={"routing_strategy": "latency-based-routing",
                           "routing_strategy_args": {"lowest_latency_buffer": 1000}}))
    c = counts(g2, h, 20)
    assert c[f"{h}-slow"] >= 4 and c[f"{h}-fast"] >= 4, c


def test_cost_based_routing_picks_the_cheaper_deployment(mock, gw):
    g = f"cost-{uid()}"
    g1 = gw(config([
        dep(mock, g, "gpt-4o", id=f"{g}-dear", input_cost_per_token=1e-5, output_cost_per_token=3e-5),
        dep(mock, g, "gpt-4o", id=f"{g}-cheap", input_cost_per_token=1e-7, output_cost_per_token=3e-7),
    ], router={"routing_strategy": "cost-based-routing"}))
    assert counts(g1, g, 20) == {f"{g}-cheap": 20}


def test_order_one_while_healthy_then_the_retry_goes_to_order_two(mock, gw):
    g = f"ord-{uid()}"
    first = f"ord1-{uid()}"
    g1 = gw(config([dep(mock, g, first, id=f"{g}-1", order=1), dep(mock, g, "gpt-4o", id=f"{g}-2", order=2)],
                   router={"num_retries": 1}))
    assert counts(g1, g, 20) == {f"{g}-1": 20}
    behave(mock, first, "mock-error-500")
    try:
        h, r = raw(g1, g)
        assert h["x-litellm-model-id"] == f"{g}-2"
        assert h["x-litellm-attempted-retries"] == "1"
        assert r.choices[0].message.content == "Hello from mock"
    finally:
        behave(mock, first, None)


def test_tag_filtering(mock, gw):
    g = f"tag-{uid()}"
    g1 = gw(config([dep(mock, g, "gpt-4o", id=f"{g}-a", tags=["teamA"]),
                    dep(mock, g, "gpt-4o", id=f"{g}-d", tags=["default"])],
                   router={"enable_tag_filtering": True}))
    assert counts(g1, g, 10, extra_body={"metadata": {"tags": ["teamA"]}}) == {f"{g}-a": 10}
    # Tags that match nothing: the default deployments.
    assert counts(g1, g, 10, extra_body={"metadata": {"tags": ["zzz"]}}) == {f"{g}-d": 10}
    # No tags: the default deployments too (LiteLLM's tag_based_routing).
    assert counts(g1, g, 10) == {f"{g}-d": 10}


def test_model_group_alias_routes_and_hidden_aliases_are_unlisted(mock, gw):
    g = f"grp-{uid()}"
    al, hid = f"al-{uid()}", f"hid-{uid()}"
    g1 = gw(config([dep(mock, g, "gpt-4o", id=f"{g}-x")],
                   router={"model_group_alias": {al: g, hid: {"model": g, "hidden": True}}}))
    for name in (al, hid):
        h, r = raw(g1, name)
        assert h["x-litellm-model-id"] == f"{g}-x"
        assert r.choices[0].message.content == "Hello from mock"
    ids = model_ids(g1)
    assert g in ids and al in ids
    assert hid not in ids


def test_deployment_params_are_defaults_the_request_overrides(mock, gw):
    g = f"defp-{uid()}"
    up = f"defp-up-{uid()}"
    g1 = gw(config([dep(mock, g, up, temperature=0.3, max_tokens=7)]))
    raw(g1, g)
    sent = upstream(mock, up)[-1]
    assert (sent["temperature"], sent["max_tokens"]) == (0.3, 7)
    raw(g1, g, temperature=0.9, max_tokens=99)
    sent = upstream(mock, up)[-1]
    assert (sent["temperature"], sent["max_tokens"]) == (0.9, 99)


def test_base_model_prices_a_custom_deployment_name(mock, gw):
    az, cu = f"az-{uid()}", f"cu-{uid()}"
    g1 = gw(config([
        {"model_name": az, "litellm_params": {"model": "azure/my-deploy", "api_base": mock.base,
                                              "api_key": "sk-up", "api_version": "2024-06-01"},
         "model_info": {"id": f"{az}-x", "base_model": "gpt-4o"}},
        dep(mock, cu, f"custom-{uid()}", id=f"{cu}-x", info={"base_model": "gpt-4o"}),
    ]))
    for name in (az, cu):
        h, r = raw(g1, name)
        assert r.choices[0].message.content == "Hello from mock"
        assert float(h["x-litellm-response-cost"]) > 0, dict(h)


# --- retries ------------------------------------------------------------------------------

def test_a_retry_lands_on_the_healthy_deployment(mock, gw):
    g = f"ret-{uid()}"
    bad = f"retbad-{uid()}"
    behave(mock, bad, "mock-error-500")
    try:
        # The failing deployment takes nearly every first pick.
        g1 = gw(config([dep(mock, g, bad, id=f"{g}-bad", weight=100), dep(mock, g, "gpt-4o", id=f"{g}-ok", weight=1)],
                       router={"num_retries": 1}))
        retried = 0
        for _ in range(4):
            h, r = raw(g1, g)
            assert h["x-litellm-model-id"] == f"{g}-ok"
            retried += h["x-litellm-attempted-retries"] == "1"
        assert retried >= 3
    finally:
        behave(mock, bad, None)


def test_a_single_deployment_429_is_retried_after_its_retry_after(mock, gw):
    g = f"r429-{uid()}"
    up = f"r429-up-{uid()}"
    g1 = gw(config([dep(mock, g, up, id=f"{g}-x")], router={"num_retries": 1}))
    behave(mock, up, "mock-error-429", times=1, retry_after="1")
    t0 = time.monotonic()
    h, r = raw(g1, g)
    took = time.monotonic() - t0
    assert r.choices[0].message.content == "Hello from mock"
    assert h["x-litellm-attempted-retries"] == "1"
    assert took >= 1.0, took
    assert len(upstream(mock, up)) == 2


def test_a_400_is_not_retried(mock, gw):
    g = f"r400-{uid()}"
    up = f"r400-up-{uid()}"
    behave(mock, up, "mock-error-400")
    try:
        g1 = gw(config([dep(mock, g, up), dep(mock, g, up, api_key="sk-up-2")], router={"num_retries": 2}))
        with pytest.raises(openai.BadRequestError):
            raw(g1, g)
        assert len(upstream(mock, up)) == 1
    finally:
        behave(mock, up, None)


# --- fallbacks ----------------------------------------------------------------------------

def test_fallbacks(mock, gw):
    s = uid()
    broken, ok, cw, big, lost, worse = (f"{n}-{s}" for n in ("broken", "ok", "cw", "big", "lost", "worse"))
    cfg = config([
        dep(mock, broken, "mock-error-500"), dep(mock, ok, "gpt-4o", id=f"{ok}-x"),
        dep(mock, cw, "mock-context-window"), dep(mock, big, "gpt-4o", id=f"{big}-x"),
        dep(mock, lost, "mock-error-500"), dep(mock, worse, "mock-error-503"),
    ], router={"fallbacks": [{broken: [ok]}, {lost: [worse]}], "context_window_fallbacks": [{cw: [big]}]},
        general={"dangerously_allow_mock_testing_request_params": True})
    g1 = gw(cfg)
    h, r = raw(g1, broken)
    assert r.choices[0].message.content == "Hello from mock"
    assert (h["x-litellm-model-group"], h["x-litellm-attempted-fallbacks"]) == (ok, "1")

    h, _ = raw(g1, cw)
    assert (h["x-litellm-model-group"], h["x-litellm-model-id"]) == (big, f"{big}-x")

    # The request's own list (worse has none configured as its fallback).
    h, _ = raw(g1, worse, extra_body={"fallbacks": [ok]})
    assert (h["x-litellm-model-group"], h["x-litellm-attempted-fallbacks"]) == (ok, "1")

    # mock_testing_fallbacks: the asked (healthy) group fails on purpose, its fallback answers.
    h, _ = raw(g1, big, extra_body={"mock_testing_fallbacks": True, "fallbacks": [ok]})
    assert h["x-litellm-model-group"] == ok

    # Every fallback failing: the primary's status, with what the fallback did.
    with pytest.raises(openai.InternalServerError) as e:
        raw(g1, lost)
    assert e.value.status_code == 500
    assert f"Fallback to {worse} also failed" in message(e.value), message(e.value)


def test_content_policy_and_default_fallbacks(mock, gw):
    s = uid()
    a, safe, other, anyone = (f"{n}-{s}" for n in ("cp", "safe", "other", "any"))
    cfg = config([dep(mock, a, "gpt-4o"), dep(mock, safe, "gpt-4o"), dep(mock, other, "mock-error-500"),
                  dep(mock, anyone, "gpt-4o")],
                 router={"content_policy_fallbacks": [{a: [safe]}], "default_fallbacks": [anyone]},
                 general={"dangerously_allow_mock_testing_request_params": True})
    g1 = gw(cfg)
    # A content-policy error takes the content-policy list, not the default.
    h, _ = raw(g1, a, extra_body={"mock_testing_content_policy_fallbacks": True})
    assert (h["x-litellm-model-group"], h["x-litellm-attempted-fallbacks"]) == (safe, "1")
    # A context-window error without a list of its own takes the default fallbacks.
    h, _ = raw(g1, a, extra_body={"mock_testing_context_fallbacks": True})
    assert h["x-litellm-model-group"] == anyone
    # Any other failure of a group without fallbacks: the default ones.
    h, _ = raw(g1, other)
    assert h["x-litellm-model-group"] == anyone


def test_mock_testing_fallbacks_needs_the_dangerous_setting(mock, gw):
    s = uid()
    a, b = f"mtf-{s}", f"mtfb-{s}"
    g1 = gw(config([dep(mock, a, "gpt-4o"), dep(mock, b, "gpt-4o")], router={"fallbacks": [{a: [b]}]}))
    with pytest.raises(openai.BadRequestError) as e:
        raw(g1, a, extra_body={"mock_testing_fallbacks": True})
    assert "dangerously_allow_mock_testing_request_params" in message(e.value)


def test_without_fallbacks_the_error_has_no_fallback_note(mock, gw):
    # A deliberate difference (README): LiteLLM appends "No fallback was attempted." to every
    # error; with no fallback configured anywhere llmgate leaves the note out.
    g = f"nofb-{uid()}"
    g1 = gw(config([dep(mock, g, "mock-error-500")]))
    with pytest.raises(openai.InternalServerError) as e:
        raw(g1, g)
    assert "LiteLLM: model group" not in message(e.value), message(e.value)
    assert message(e.value).startswith("litellm.InternalServerError"), message(e.value)


# --- cooldowns ----------------------------------------------------------------------------

def hit_until(gw, model, want, limit=40):
    """Calls until a call goes to deployment `want` (by the mock's record or the answer's
    header); the exception or headers of that call."""
    for _ in range(limit):
        try:
            h, _ = raw(gw, model)
        except openai.APIStatusError as e:
            return e
        if h["x-litellm-model-id"] == want:
            return h
    raise AssertionError(f"{want} never picked in {limit} calls")


def test_a_401_cools_a_deployment_for_cooldown_time(mock, gw):
    g = f"cd-{uid()}"
    a = f"cda-{uid()}"
    g1 = gw(config([dep(mock, g, a, id=f"{g}-a"), dep(mock, g, "gpt-4o", id=f"{g}-b")],
                   router={"cooldown_time": 1}))
    behave(mock, a, "mock-error-401", times=1)
    # Calls until the 401 comes back (num_retries 0 on the proxy).
    for _ in range(40):
        try:
            raw(g1, g)
        except openai.AuthenticationError:
            t0 = time.monotonic()
            break
    else:
        raise AssertionError("a was never picked")
    during = []
    while time.monotonic() - t0 < 0.8:
        during.append(picked(g1, g))
    assert set(during) == {f"{g}-b"}, Counter(during)
    time.sleep(max(0.0, 1.2 - (time.monotonic() - t0)))
    after = counts(g1, g, 20)
    assert after[f"{g}-a"] > 0, after


def test_allowed_fails_then_cooldown_then_back(mock, gw):
    g = f"af-{uid()}"
    a = f"afa-{uid()}"
    g1 = gw(config([dep(mock, g, a, id=f"{g}-a"), dep(mock, g, "gpt-4o", id=f"{g}-b")],
                   router={"allowed_fails": 1, "cooldown_time": 1}))
    behave(mock, a, "mock-error-500")
    try:
        fails = 0
        for _ in range(60):
            try:
                raw(g1, g)
            except openai.InternalServerError:
                fails += 1
                if fails == 2:
                    break
        assert fails == 2
        t0 = time.monotonic()
        during = []
        while time.monotonic() - t0 < 0.7:
            during.append(picked(g1, g))
        assert set(during) == {f"{g}-b"}, Counter(during)
    finally:
        behave(mock, a, None)
    time.sleep(max(0.0, 1.2 - (time.monotonic() - t0)))
    assert counts(g1, g, 20)[f"{g}-a"] > 0


def test_every_deployment_cooling_is_a_429_with_retry_after(mock, gw):
    g = f"cdall-{uid()}"
    x, y = f"cdallx-{uid()}", f"cdally-{uid()}"
    g1 = gw(config([dep(mock, g, x, id=f"{g}-x"), dep(mock, g, y, id=f"{g}-y")], router={"cooldown_time": 2}))
    behave(mock, x, "mock-error-401", times=1)
    behave(mock, y, "mock-error-401", times=1)
    # Each 401 cools its deployment: the first call cools one, the second the other.
    for _ in range(2):
        with pytest.raises(openai.AuthenticationError):
            raw(g1, g)
    status, headers, body = chat_http(g1, g)
    assert status == 429, body
    assert "All deployments for selected model are in cooldown" in body["error"]["message"], body
    assert headers["retry-after"] in ("1", "2"), dict(headers)


REDIS_ROUTER = {"redis_host": "127.0.0.1", "redis_port": 6379}


def test_a_cooldown_is_shared_across_instances_through_redis(mock, tmp_path):
    g = f"rcd-{uid()}"
    x = f"rcdx-{uid()}"
    cfg = config([dep(mock, g, x, id=f"{g}-x"), dep(mock, g, "gpt-4o", id=f"{g}-y")],
                 router={**REDIS_ROUTER, "cooldown_time": 2.5})
    gws = []
    try:
        for i in range(2):
            d = tmp_path / f"gw{i}"
            d.mkdir()
            gws.append(Gateway(d, cfg).wait_ready())
        a, b = gws
        behave(mock, x, "mock-error-401", times=1)
        # A cools X (its 401); X itself answers normally again from then on.
        for _ in range(40):
            try:
                raw(a, g)
            except openai.AuthenticationError:
                t0 = time.monotonic()
                break
        else:
            raise AssertionError("X never picked on A")
        last_on_x = 0.0
        picks = []
        while time.monotonic() - t0 < 1.8:
            p = picked(b, g)
            picks.append(p)
            if p == f"{g}-x":
                last_on_x = time.monotonic() - t0
            time.sleep(0.01)
        print(f"B last sent to X {last_on_x:.3f}s after A cooled it ({Counter(picks)})")
        assert last_on_x < 1.0, f"B still sent to X {last_on_x:.2f}s after A cooled it: {Counter(picks)}"
        time.sleep(max(0.0, 2.8 - (time.monotonic() - t0)))
        assert counts(b, g, 20)[f"{g}-x"] > 0, "X is used again after the cooldown"
    finally:
        for w in gws:
            w.stop()


# --- pre-call checks, timeouts, blocked, health -----------------------------------------------

def test_pre_call_checks_send_long_prompts_to_the_big_context(mock, gw):
    g, only = f"pcc-{uid()}", f"pccs-{uid()}"
    g1 = gw(config([
        dep(mock, g, "gpt-4o", id=f"{g}-small", info={"max_input_tokens": 50}),
        dep(mock, g, "gpt-4o", id=f"{g}-big", info={"max_input_tokens": 100000}),
        dep(mock, only, "gpt-4o", id=f"{only}-small", info={"max_input_tokens": 50}),
    ], router={"enable_pre_call_checks": True}))
    long = [{"role": "user", "content": "hello there " * 200}]
    assert counts(g1, g, 10, messages=long) == {f"{g}-big": 10}
    assert counts(g1, g, 20)[f"{g}-small"] > 0, "short prompts use both"
    with pytest.raises(openai.BadRequestError) as e:
        raw(g1, only, messages=long)
    assert "Context Window exceeded" in message(e.value) or "context" in message(e.value).lower(), message(e.value)


def test_timeouts(mock, gw):
    s = uid()
    t1, t2, t3 = f"to1-{s}", f"to2-{s}", f"to3-{s}"
    g1 = gw(config([
        dep(mock, t1, "mock-slow-1000", timeout=0.3),
        dep(mock, t2, "mock-slow-1000", timeout=5),
        dep(mock, t3, "mock-slow-1000", timeout=5, stream_timeout=0.3),
        dep(mock, f"{t3}-s", "mock-stream-slow-150", timeout=0.3, stream_timeout=5),
    ]))
    c = client(g1, timeout=10)
    for model, extra in ((t1, {}), (t2, {"timeout": 0.3})):
        t0 = time.monotonic()
        with pytest.raises(openai.APIStatusError) as e:
            c.chat.completions.create(model=model, messages=HI, extra_body=extra)
        took = time.monotonic() - t0
        assert e.value.status_code == 408, (model, e.value)
        assert took < 0.9, (model, took)
    # The deployment's stream_timeout bounds a stream's time to its first chunk ...
    t0 = time.monotonic()
    try:
        stream = c.chat.completions.create(model=t3, messages=HI, stream=True)
        for _ in stream:
            break
        failed = None
    except openai.APIStatusError as e:
        failed = e
    took = time.monotonic() - t0
    assert failed is not None and failed.status_code == 408, failed
    assert took < 0.9, took
    # ... not a call's answer (timeout 5),
    assert c.chat.completions.create(model=t3, messages=HI).choices[0].message.content == "Hello from mock"
    # and a stream whose chunks keep coming is not cut by the (shorter) non-stream timeout.
    text = "".join(ch.choices[0].delta.content or "" for ch in
                   c.chat.completions.create(model=f"{t3}-s", messages=HI, stream=True) if ch.choices)
    assert text == "Hello from mock"


def test_a_blocked_deployment_in_the_config(mock, gw):
    g, ok = f"blk-{uid()}", f"blkok-{uid()}"
    g1 = gw(config([dep(mock, g, "gpt-4o", info={"blocked": True}), dep(mock, ok, "gpt-4o")]))
    status, _, body = chat_http(g1, g)
    assert status == 503, body
    ids = model_ids(g1)
    assert ok in ids and g not in ids


@pytest.fixture
def pg():
    name = f"llmgate_router_{uuid.uuid4().hex[:12]}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
    yield f"{PG}/{name}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


def until(cond, limit=3.0, step=0.05):
    """Seconds until `cond()` holds (AssertionError after `limit`)."""
    t0 = time.monotonic()
    while time.monotonic() - t0 < limit:
        if cond():
            return time.monotonic() - t0
        time.sleep(step)
    raise AssertionError(f"not within {limit}s")


def test_blocking_a_database_model_holds_on_both_instances(mock, tmp_path, pg):
    cfg = config([dep(mock, "demo", "gpt-4o")], general={"store_model_in_db": True})
    # The refresh timer is long: the change must travel by the fleet's message (PostgreSQL
    # NOTIFY here), within the README's bound.
    env = {"DATABASE_URL": pg, "LITELLM_SALT_KEY": SALT, "LLMGATE_MODEL_REFRESH_SECONDS": "60"}
    gws = []
    try:
        for i in range(2):
            d = tmp_path / f"gw{i}"
            d.mkdir()
            gws.append(Gateway(d, cfg, env=env).wait_ready())
        a, b = gws
        name, mid = f"dbm-{uid()}", f"dbm-id-{uid()}"
        status, _, row = post(f"{a.base}/model/new", {
            "model_name": name, "model_info": {"id": mid},
            "litellm_params": {"model": "openai/gpt-4o", "api_base": f"{mock.base}/v1", "api_key": "sk-up"}})
        assert status == 200, row
        for w in (a, b):
            until(lambda: chat_http(w, name)[0] == 200)

        status, _, row = post(f"{a.base}/model/update", {"model_info": {"id": mid, "blocked": True}})
        assert status == 200, row
        for w in (a, b):
            took = until(lambda: chat_http(w, name)[0] == 503)
            print(f"blocked seen on :{w.port} after {took:.2f}s")
            assert name not in model_ids(w)

            assert took < 1.0, took

        status, _, row = post(f"{a.base}/model/update", {"model_info": {"id": mid, "blocked": False}})
        assert status == 200, row
        for w in (a, b):
            assert until(lambda: chat_http(w, name)[0] == 200) < 1.0
            assert name in model_ids(w)

        # LiteLLM 1.110's /model/block and /model/unblock do the same through the row's flag.
        status, _, row = post(f"{b.base}/model/block", {"model_id": mid})
        assert status == 200 and row["blocked"] is True, row
        for w in (a, b):
            assert until(lambda: chat_http(w, name)[0] == 503) < 1.0
        status, _, row = post(f"{b.base}/model/unblock", {"model_id": mid})
        assert status == 200, row
        for w in (a, b):
            assert until(lambda: chat_http(w, name)[0] == 200) < 1.0
        status, _, row = post(f"{a.base}/model/block", {"model_id": "no-such-model"})
        assert status == 404, row
    finally:
        for w in gws:
            w.stop()


def test_background_health_checks_take_a_failing_deployment_out_of_rotation(mock, gw):
    g = f"hc-{uid()}"
    a = f"hca-{uid()}"
    g1 = gw(config([dep(mock, g, a, id=f"{g}-a"), dep(mock, g, "gpt-4o", id=f"{g}-b")],
                   general={"background_health_checks": True, "health_check_interval": 1}))

    def health():
        status, body = get(f"{g1.base}/health")
        assert status == 200, body
        return ({e.get("model_id") for e in body["healthy_endpoints"]},
                {e.get("model_id") for e in body["unhealthy_endpoints"]})

    behave(mock, a, "mock-error-500")
    try:
        time.sleep(2.5)  # at least one health check sees it fail
        # Only calls' own requests count here: any deployment the router picks answers 200
        # or fails; the failing one must not be picked.
        c = Counter()
        for _ in range(20):
            try:
                c[picked(g1, g)] += 1
            except openai.InternalServerError:
                c["failed on a"] += 1
        assert c == {f"{g}-b": 20}, c
        assert f"{g}-a" in health()[1]
    finally:
        behave(mock, a, None)
    time.sleep(2.5)
    assert counts(g1, g, 20)[f"{g}-a"] > 0, "back in rotation once its check passes"
    assert f"{g}-a" in health()[0], "and /health lists it healthy"
