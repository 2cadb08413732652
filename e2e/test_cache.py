"""Response caching (`litellm_settings.cache`) through the real binary with the `openai` and
`anthropic` clients: hits and misses (the mock sees one call), streams stored as they pass and
replayed, every per-request control, `default_off`, `allowed_cache_controls`, embeddings cached
per item, two instances sharing the Redis cache, Redis unreachable, the embedded semantic
cache above and below its threshold, the `/cache/*` routes, spend logs with `cache_hit`.

Redis entries live under a namespace unique to the run; only those are flushed."""
import json
import subprocess
import time
import urllib.request
import uuid

import anthropic
import openai
import pytest

from conftest import MASTER, Gateway, models_yaml
from test_resilience import TcpProxy
from test_virtual_keys import admin

REDIS_PORT = 6379
CHAT = "/v1/chat/completions"


def config(mock, cache_params: str, extra: str = "") -> str:
    out = models_yaml(mock)
    out += (f"  - model_name: sem-embed\n    litellm_params:\n      model: openai/text-embedding-semantic\n"
            f"      api_base: {mock.base}/v1\n      api_key: sk-up\n")
    out += (f"  - model_name: claude\n    litellm_params:\n      model: anthropic/claude-haiku-4-5\n"
            f"      api_base: {mock.base}\n      api_key: sk-ant\n")
    out += f"litellm_settings:\n  cache: true\n  cache_params: {cache_params}\n"
    out += f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 0.2\n" + extra
    return out


@pytest.fixture
def start(mock, tmp_path):
    started = []

    def go(cache_params: str, extra: str = "", env: dict | None = None) -> Gateway:
        d = tmp_path / f"gw{len(started)}"
        d.mkdir()
        full = {"UPSTREAM_KEY": "sk-upstream", "LLMGATE_DB_PATH": str(tmp_path / "shared.db")}
        full.update(env or {})
        g = Gateway(d, config(mock, cache_params, extra), env=full).wait_ready()
        started.append(g)
        return g

    yield go
    for g in started:
        g.stop()


@pytest.fixture
def ns():
    """A namespace of this test's own; its Redis keys are deleted afterwards."""
    n = f"e2e-cache-{uuid.uuid4().hex[:10]}"
    yield n
    keys = subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "--scan", "--pattern", f"{n}:*"],
                          capture_output=True, text=True).stdout.split()
    if keys:
        subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "DEL", *keys], capture_output=True)


def client(gw, key=MASTER):
    return openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)


def calls(mock, marker, path=None):
    """Requests the mock received whose body names `marker` (to `path`, if given)."""
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    return [r for r in reqs if marker in json.dumps(r.get("body")) and (path is None or r["path"] == path)]


def chat(gw, text, key=MASTER, **kw):
    raw = client(gw, key).chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": text}], **kw)
    return raw.headers, raw.parse()


def marker():
    return f"q-{uuid.uuid4().hex}"


def test_local_hit_and_miss(mock, start):
    gw = start("{type: local}")
    m = marker()
    h1, a1 = chat(gw, m)
    h2, a2 = chat(gw, m)
    assert len(calls(mock, m)) == 1
    assert a2.choices[0].message.content == a1.choices[0].message.content
    assert a2.id == a1.id and a2.model == "gpt-4o"
    assert h2["x-litellm-response-cost"] == "0.0"
    assert h1["x-litellm-cache-key"] == h2["x-litellm-cache-key"]
    assert len(h2["x-litellm-cache-key"]) == 64
    assert float(h1["x-litellm-response-cost"]) > 0
    # Any parameter that changes the answer is another entry; who asks is not.
    chat(gw, m, temperature=0.3)
    assert len(calls(mock, m)) == 2
    chat(gw, m, user="someone-else")
    assert len(calls(mock, m)) == 2


def stream_text(gw, text, **kw):
    raw = client(gw).chat.completions.with_raw_response.create(
        model="gpt-4o", messages=[{"role": "user", "content": text}], stream=True, **kw)
    chunks = list(raw.parse())
    content = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    return raw.headers, chunks, content


def test_stream_is_stored_and_replayed(mock, start):
    gw = start("{type: local}")
    m = marker()
    h1, chunks1, text1 = stream_text(gw, m)
    assert len(chunks1) > 2, "the upstream stream is forwarded chunk by chunk"
    # The stored stream answers a plain call and a stream alike.
    _, plain = chat(gw, m)
    assert plain.choices[0].message.content == text1
    h2, chunks2, text2 = stream_text(gw, m, stream_options={"include_usage": True})
    assert text2 == text1
    assert h2["x-litellm-response-cost"] == "0.0"
    assert h2["x-litellm-cache-key"] == h1["x-litellm-cache-key"]
    assert chunks2[-1].usage is not None and chunks2[-1].usage.total_tokens > 0
    assert chunks2[-2].choices[0].finish_reason == "stop"
    # Without include_usage, no usage chunk.
    _, chunks3, text3 = stream_text(gw, m)
    assert text3 == text1 and all(c.usage is None for c in chunks3)
    assert chunks3[-1].choices[0].finish_reason == "stop"
    assert len(calls(mock, m)) == 1


def test_controls(mock, start):
    gw = start("{type: local}")
    m = marker()
    chat(gw, m)
    # no-cache: the upstream answers (and the answer is stored again).
    chat(gw, m, extra_body={"cache": {"no-cache": True}})
    assert len(calls(mock, m)) == 2
    chat(gw, m)
    assert len(calls(mock, m)) == 2
    # no-store: nothing kept for the next one.
    m2 = marker()
    chat(gw, m2, extra_body={"cache": {"no-store": True}})
    chat(gw, m2)
    assert len(calls(mock, m2)) == 2
    # s-maxage: only entries young enough.
    time.sleep(1.2)
    chat(gw, m2, extra_body={"cache": {"s-maxage": 1}})
    assert len(calls(mock, m2)) == 3
    chat(gw, m2, extra_body={"cache": {"s-maxage": 600}})
    assert len(calls(mock, m2)) == 3
    # The Cache-Control header says the same (the body wins where both speak).
    chat(gw, m2, extra_headers={"Cache-Control": "no-cache"})
    assert len(calls(mock, m2)) == 4
    # ttl: the entry goes after its own ttl.
    m3 = marker()
    chat(gw, m3, extra_body={"cache": {"ttl": 1}})
    chat(gw, m3)
    assert len(calls(mock, m3)) == 1
    time.sleep(1.5)
    chat(gw, m3)
    assert len(calls(mock, m3)) == 2
    # namespace: another tenant's entries are apart, and the key says whose.
    h, _ = chat(gw, m3, extra_body={"cache": {"namespace": "tenant-b"}})
    assert h["x-litellm-cache-key"].startswith("tenant-b:")
    assert len(calls(mock, m3)) == 3
    chat(gw, m3, extra_body={"cache": {"namespace": "tenant-b"}})
    assert len(calls(mock, m3)) == 3
    # ttl 0 keeps nothing.
    m4 = marker()
    chat(gw, m4, extra_body={"cache": {"ttl": 0}})
    chat(gw, m4)
    assert len(calls(mock, m4)) == 2
    # A control of the wrong type is a 400.
    with pytest.raises(openai.BadRequestError):
        chat(gw, m3, extra_body={"cache": {"ttl": "soon"}})


def test_default_off(mock, start):
    gw = start("{type: local, mode: default_off}")
    m = marker()
    chat(gw, m)
    chat(gw, m)
    assert len(calls(mock, m)) == 2
    chat(gw, m, extra_body={"cache": {"use-cache": True}})
    h, _ = chat(gw, m, extra_body={"cache": {"use-cache": True}})
    assert len(calls(mock, m)) == 3
    assert h["x-litellm-response-cost"] == "0.0"


def test_supported_call_types(mock, start):
    gw = start("{type: local, supported_call_types: [embedding]}")
    m = marker()
    chat(gw, m)
    chat(gw, m)
    assert len(calls(mock, m)) == 2


def test_allowed_cache_controls(mock, start):
    gw = start("{type: local}")
    status, k = admin(gw, "POST", "/key/generate", {"allowed_cache_controls": ["no-cache"]})
    assert status == 200, k
    key = k["key"]
    m = marker()
    chat(gw, m, key=key, extra_body={"cache": {"no-cache": True}})
    with pytest.raises(openai.PermissionDeniedError) as e:
        chat(gw, m, key=key, extra_body={"cache": {"ttl": 5}})
    assert "Not allowed to set ttl as a cache control. Contact admin to change permissions." in str(e.value)
    assert len(calls(mock, m)) == 1


def embed(gw, inputs):
    raw = client(gw).embeddings.with_raw_response.create(model="embed", input=inputs)
    return raw.headers, raw.parse()


def test_embeddings_cached_per_item(mock, start):
    gw = start("{type: local}")
    a, b, c = marker(), marker(), marker()
    _, first = embed(gw, [a, b])
    assert len(calls(mock, a)) == 1 and len(calls(mock, b)) == 1
    # b is cached: only c goes upstream.
    _, second = embed(gw, [b, c])
    assert len(calls(mock, b)) == 1
    sent = calls(mock, c)
    assert len(sent) == 1 and sent[0]["body"]["input"] == [c]
    assert [d.index for d in second.data] == [0, 1]
    assert second.data[0].embedding == first.data[1].embedding
    # All cached: no upstream call, cost 0.
    h, third = embed(gw, [a, c])
    assert len(calls(mock, a)) == 1 and len(calls(mock, c)) == 1
    assert h["x-litellm-response-cost"] == "0.0"
    assert third.data[0].embedding == first.data[0].embedding
    assert third.data[1].embedding == second.data[1].embedding
    # A single string is one item too.
    embed(gw, b)
    assert len(calls(mock, b)) == 1


def redis_ttl(key):
    return int(subprocess.run(["redis-cli", "-p", str(REDIS_PORT), "PTTL", key],
                              capture_output=True, text=True).stdout.strip())


def test_redis_shared_by_two_instances(mock, start, ns):
    params = f"{{type: redis, host: 127.0.0.1, port: {REDIS_PORT}, namespace: {ns}, ttl: 120}}"
    a, b = start(params), start(params)
    m = marker()
    h1, first = chat(a, m)
    key = h1["x-litellm-cache-key"]
    assert key.startswith(f"{ns}:")
    deadline = time.time() + 5
    while redis_ttl(key) < 0 and time.time() < deadline:
        time.sleep(0.05)
    assert 0 < redis_ttl(key) <= 120_000
    h2, second = chat(b, m)
    assert h2["x-litellm-response-cost"] == "0.0"
    assert second.choices[0].message.content == first.choices[0].message.content
    assert len(calls(mock, m)) == 1
    # Streams too, across instances.
    s = marker()
    _, _, text = stream_text(a, s)
    time.sleep(0.3)  # the write runs off the request path
    _, _, replayed = stream_text(b, s)
    assert replayed == text
    assert len(calls(mock, s)) == 1
    # Embedding items (written in one pipeline) too.
    x, y = marker(), marker()
    _, e1 = embed(a, [x, y])
    time.sleep(0.3)
    h, e2 = embed(b, [y, x])
    assert h["x-litellm-response-cost"] == "0.0"
    assert [d.embedding for d in e2.data] == [e1.data[1].embedding, e1.data[0].embedding]
    assert len(calls(mock, x)) == 1


def test_redis_env_vars(mock, start, ns):
    gw = start(f"{{type: redis, namespace: {ns}}}", env={"REDIS_HOST": "127.0.0.1", "REDIS_PORT": str(REDIS_PORT)})
    m = marker()
    chat(gw, m)
    time.sleep(0.3)
    h, _ = chat(gw, m)
    assert h["x-litellm-response-cost"] == "0.0"
    assert len(calls(mock, m)) == 1
    # Without a ttl, Redis keeps the entry (-1: no expiry), as LiteLLM.
    assert redis_ttl(h["x-litellm-cache-key"]) == -1


def test_redis_unreachable_is_a_miss(mock, start):
    gw = start("{type: redis, host: 127.0.0.1, port: 1, socket_timeout: 0.2}")
    m = marker()
    t = time.time()
    for _ in range(4):
        _, a = chat(gw, m)
        assert a.choices[0].message.content
        time.sleep(0.3)  # past the reconnect interval: every request may try again
    assert time.time() - t < 10
    assert len(calls(mock, m)) == 4
    log = gw.log_path.read_text()
    assert log.count("Redis cache unreachable") == 1, log
    status, body = admin(gw, "GET", "/cache/ping")
    assert status == 503 and "Service Unhealthy" in body["detail"]


def test_redis_outage_mid_test_and_back(mock, start, ns):
    relay = TcpProxy(REDIS_PORT)
    gw = start(f"{{type: redis, host: 127.0.0.1, port: {relay.port}, namespace: {ns}, socket_timeout: 0.3}}")
    m = marker()
    chat(gw, m)
    time.sleep(0.3)
    h, _ = chat(gw, m)
    assert h["x-litellm-response-cost"] == "0.0"
    relay.cut()
    t = time.time()
    for _ in range(3):
        _, a = chat(gw, m)  # a miss: the upstream answers
        assert a.choices[0].message.content
    assert time.time() - t < 5, "a Redis outage never stalls a request for long"
    assert len(calls(mock, m)) == 4
    relay.restore()
    deadline = time.time() + 10
    while time.time() < deadline:
        h, _ = chat(gw, m)
        if h["x-litellm-response-cost"] == "0.0":
            break
        time.sleep(0.3)
    assert h["x-litellm-response-cost"] == "0.0", "the cache is used again once Redis is back"
    log = gw.log_path.read_text()
    assert log.count("Redis cache unreachable") == 1, log
    assert "Redis cache is back" in log


def test_semantic_cache(mock, start):
    gw = start("{type: local-semantic, redis_semantic_cache_embedding_model: sem-embed, similarity_threshold: 0.85}")
    m = marker()
    h1, a1 = chat(gw, f"{m} tell me the capital city of france please")
    # Close in meaning (most words shared): a hit.
    h2, a2 = chat(gw, f"{m} tell me the capital city of france")
    assert h2["x-litellm-response-cost"] == "0.0"
    assert a2.choices[0].message.content == a1.choices[0].message.content
    assert len(calls(mock, f"{m} tell", CHAT)) == 1
    # Below the threshold: the upstream answers.
    chat(gw, f"{m} how do I bake sourdough bread at home")
    assert len(calls(mock, f"{m} how", CHAT)) == 1
    # Other params never match across: another temperature is another scope.
    chat(gw, f"{m} tell me the capital city of france please", temperature=0.9)
    assert len(calls(mock, f"{m} tell", CHAT)) == 2
    # The embeddings were asked of the configured group.
    assert len(calls(mock, m, "/v1/embeddings")) == 4


def test_cache_routes(mock, start, ns):
    gw = start("{type: local}")
    status, body = admin(gw, "GET", "/cache/ping")
    assert status == 200 and body["status"] == "healthy" and body["cache_type"] == "local"
    assert body["litellm_cache_params"]["mode"] == "CacheMode.default_on"
    m = marker()
    h, _ = chat(gw, m)
    assert admin(gw, "POST", "/cache/delete", {"keys": [h["x-litellm-cache-key"]]}) == (200, {"status": "success"})
    chat(gw, m)
    assert len(calls(mock, m)) == 2
    assert admin(gw, "POST", "/cache/flushall") == (200, {"status": "success"})
    chat(gw, m)
    assert len(calls(mock, m)) == 3
    status, body = admin(gw, "GET", "/cache/redis/info")
    assert status == 500 and body["detail"] == "Cache type local does not support flushing"
    # A key that is not an admin's may not manage the cache.
    _, k = admin(gw, "POST", "/key/generate", {})
    status, _ = admin(gw, "POST", "/cache/flushall", key=k["key"])
    assert status in (401, 403)

    r = start(f"{{type: redis, host: 127.0.0.1, port: {REDIS_PORT}, namespace: {ns}}}")
    status, body = admin(r, "GET", "/cache/ping")
    assert status == 200 and body["ping_response"] is True and body["set_cache_response"] == "success"
    status, body = admin(r, "GET", "/cache/redis/info")
    assert status == 200 and body["num_clients"] >= 1 and "redis_version" in body["info"]
    m = marker()
    h, _ = chat(r, m)
    time.sleep(0.3)
    assert redis_ttl(h["x-litellm-cache-key"]) != -2
    assert admin(r, "POST", "/cache/flushall") == (200, {"status": "success"})
    assert redis_ttl(h["x-litellm-cache-key"]) == -2
    chat(r, m)
    assert len(calls(mock, m)) == 2


def test_spend_log_cache_hit(mock, start):
    gw = start("{type: local}")
    _, k = admin(gw, "POST", "/key/generate", {})
    key = k["key"]
    m = marker()
    chat(gw, m, key=key)
    chat(gw, m, key=key)
    deadline = time.time() + 10
    logs = []
    while time.time() < deadline:
        _, logs = admin(gw, "GET", f"/spend/logs?api_key={key}")
        if isinstance(logs, list) and len(logs) >= 2:
            break
        time.sleep(0.1)
    assert sorted(log["cache_hit"] for log in logs) == ["False", "True"], logs
    hit = next(log for log in logs if log["cache_hit"] == "True")
    miss = next(log for log in logs if log["cache_hit"] == "False")
    assert hit["spend"] == 0 and miss["spend"] > 0
    assert hit["model_group"] == "gpt-4o"
    assert hit["request_id"] != miss["request_id"]
    _, ready = admin(gw, "GET", "/health/readiness/details")
    assert ready["cache"] == "local"


def test_completions_messages_and_responses(mock, start):
    gw = start("{type: local}")
    c = client(gw)
    m = marker()
    first = c.completions.create(model="gpt-4o", prompt=m)
    again = c.completions.create(model="gpt-4o", prompt=m)
    assert again.choices[0].text == first.choices[0].text
    assert len(calls(mock, m)) == 1

    ant = anthropic.Anthropic(base_url=gw.base, api_key=MASTER, max_retries=0)
    m = marker()
    msg = [{"role": "user", "content": m}]
    one = ant.messages.create(model="claude", max_tokens=50, messages=msg)
    two = ant.messages.create(model="claude", max_tokens=50, messages=msg)
    assert two.content[0].text == one.content[0].text and two.model == "claude"
    assert len(calls(mock, m)) == 1
    # A Messages stream is stored as its events and replayed as Anthropic's events.
    with ant.messages.stream(model="claude", max_tokens=50, messages=msg) as s:
        streamed = s.get_final_text()
    with ant.messages.stream(model="claude", max_tokens=50, messages=msg) as s:
        replayed = s.get_final_text()
    assert replayed == streamed
    assert len(calls(mock, m)) == 2

    m = marker()
    r1 = c.responses.create(model="gpt-4o", input=m)
    r2 = c.responses.create(model="gpt-4o", input=m)
    assert r2.output_text == r1.output_text
    assert len(calls(mock, m)) == 1
