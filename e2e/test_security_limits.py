"""The listener's limits through the real binary: slow clients, idle connections past the cap,
oversized bodies, and a token count that must not stall the gateway. Every wait is bounded."""
import http.client
import json
import socket
import threading
import time

import openai
import pytest

from conftest import MASTER, Gateway, models_yaml

CAP = 50
HEADER_TIMEOUT = 1.0
KEEP_ALIVE = 2.0
BODY_TIMEOUT = 2.0
MAX_MB = 8
AUTH = {"Authorization": f"Bearer {MASTER}", "Content-Type": "application/json"}


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    cfg = models_yaml(mock) + (
        "  - model_name: slow-stream\n    litellm_params:\n      model: openai/mock-stream-slow-300\n"
        f"      api_base: {mock.base}/v1\n      api_key: sk-up\n"
        f"general_settings:\n  master_key: {MASTER}\n  max_request_size_mb: {MAX_MB}\n"
    )
    env = {
        "UPSTREAM_KEY": "sk-up",
        "LIMIT_CONCURRENCY": str(CAP),
        "LLMGATE_HEADER_TIMEOUT_SECONDS": str(HEADER_TIMEOUT),
        "KEEPALIVE_TIMEOUT": str(KEEP_ALIVE),
        "LLMGATE_BODY_TIMEOUT_SECONDS": str(BODY_TIMEOUT),
    }
    g = Gateway(tmp_path_factory.mktemp("limits"), cfg, env=env).wait_ready()
    yield g
    g.stop()


def get(gw, path, timeout=5.0):
    c = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=timeout)
    try:
        c.request("GET", path)
        r = c.getresponse()
        return r.status, r.read()
    finally:
        c.close()


def post(gw, path, body, timeout=30.0, chunked=False):
    c = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=timeout)
    try:
        if chunked:
            c.request("POST", path, body=body, headers=AUTH, encode_chunked=True)
        else:
            c.request("POST", path, body=body, headers=AUTH)
        r = c.getresponse()
        return r.status, r.getheader("content-type"), r.read()
    finally:
        c.close()


def closed_by_server(s: socket.socket, within: float) -> float:
    """Seconds until the server closes `s` (reads EOF or a reset); fails past `within`."""
    start = time.monotonic()
    s.settimeout(within)
    try:
        while s.recv(65536):
            pass
    except ConnectionResetError:
        pass
    except socket.timeout:
        pytest.fail(f"the server kept the connection open for {within}s")
    return time.monotonic() - start


def vm(pid, field):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise KeyError(field)


def test_control_requests_work(gw):
    client = openai.OpenAI(base_url=f"{gw.base}/v1", api_key=MASTER, max_retries=0, timeout=10)
    r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hello"}])
    assert r.choices[0].message.content == "Hello from mock"
    # A large body under the limit is served (the mock upstream takes up to 2 MB).
    big = json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "x " * 400_000}]})
    status, _, raw = post(gw, "/v1/chat/completions", big.encode())
    assert status == 200, raw[:300]


def test_slowloris_is_closed_after_the_header_timeout(gw):
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
    start = time.monotonic()
    closed = False
    try:
        # Each byte well within the keep-alive: only the header timeout can end this.
        for b in b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: " + b"a" * 100:
            if time.monotonic() - start > HEADER_TIMEOUT + 3:
                break
            try:
                s.send(bytes([b]))
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            s.settimeout(0.2)
            try:
                if s.recv(65536) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
            except ConnectionResetError:
                closed = True
                break
        elapsed = time.monotonic() - start
    finally:
        s.close()
    assert closed, "the slowloris connection was never closed"
    # Before the keep-alive could have closed it.
    assert HEADER_TIMEOUT * 0.8 <= elapsed <= KEEP_ALIVE - 0.3, elapsed


def test_keep_alive_connection_is_closed_after_its_requests(gw):
    # The watchdog is re-armed by the request's end (seen after hyper's poll, with no wake-up):
    # an idle keep-alive connection still goes after KEEP_ALIVE, measured from its last answer.
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
    try:
        for _ in range(3):
            s.sendall(b"GET /health/liveliness HTTP/1.1\r\nHost: x\r\n\r\n")
            got = b""
            while b"\r\n\r\n" not in got:
                chunk = s.recv(65536)
                assert chunk, "closed within the keep-alive"
                got += chunk
            assert got.startswith(b"HTTP/1.1 200"), got
            time.sleep(KEEP_ALIVE * 0.6)  # each gap within the keep-alive: the connection stays
        waited = closed_by_server(s, within=KEEP_ALIVE + 3)
        assert waited >= KEEP_ALIVE * 0.4 - 0.2, waited
    finally:
        s.close()


def test_slow_body_gets_408(gw):
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
    try:
        s.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {MASTER}\r\nContent-Type: application/json\r\n".encode()
            + b"Content-Length: 1000\r\n\r\n{"
        )
        start = time.monotonic()
        answer = b""
        s.settimeout(0.3)
        while time.monotonic() - start < BODY_TIMEOUT + 5:
            try:
                s.send(b" ")
            except (BrokenPipeError, ConnectionResetError):
                break
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                break
            if not chunk:
                break
            answer += chunk
            if b"\r\n\r\n" in answer and answer.rstrip().endswith(b"}"):
                break
        elapsed = time.monotonic() - start
    finally:
        s.close()
    assert answer.startswith(b"HTTP/1.1 408"), answer[:200]
    body = json.loads(answer.split(b"\r\n\r\n", 1)[1])
    assert body["error"]["code"] == "408"
    assert BODY_TIMEOUT * 0.8 <= elapsed <= BODY_TIMEOUT + 3, elapsed


def test_idle_connections_past_the_cap_wait_not_lock_out(gw):
    idle = [socket.create_connection(("127.0.0.1", gw.port), timeout=5) for _ in range(CAP + 10)]
    try:
        time.sleep(0.3)
        start = time.monotonic()
        # The cap is full of idle connections: this one waits in the backlog until the idle
        # timeout frees slots, then is served.
        status, body = get(gw, "/health/liveliness", timeout=KEEP_ALIVE + 8)
        waited = time.monotonic() - start
        assert status == 200, body
        assert waited <= KEEP_ALIVE + 4, waited
        assert waited >= KEEP_ALIVE * 0.5, f"served at once ({waited}s): the cap was not applied"
        # The idle connections were closed by the server, not kept forever.
        for s in idle[:CAP]:
            closed_by_server(s, within=KEEP_ALIVE + 4)
    finally:
        for s in idle:
            s.close()
    # Slots come back: a request goes straight through again.
    start = time.monotonic()
    assert get(gw, "/health/liveliness")[0] == 200
    assert time.monotonic() - start < 1.0


def test_long_slow_stream_outlives_every_timeout(gw):
    client = openai.OpenAI(base_url=f"{gw.base}/v1", api_key=MASTER, max_retries=0, timeout=20)
    start = time.monotonic()
    stream = client.chat.completions.create(
        model="slow-stream", messages=[{"role": "user", "content": "Hello"}], stream=True
    )
    text = "".join(c.choices[0].delta.content or "" for c in stream if c.choices)
    elapsed = time.monotonic() - start
    assert text == "Hello from mock"
    assert elapsed > max(HEADER_TIMEOUT, KEEP_ALIVE, BODY_TIMEOUT), elapsed


def test_token_counter_is_linear_and_does_not_stall(gw):
    # One 100 000-byte word: BPE merges are quadratic in a piece's length unless the counter
    # splits it. Linear means ~10x the time of a 10 000-byte word (quadratic: ~100x); a ratio,
    # not an absolute bound, so a loaded CI box does not fail it.
    def timed(n):
        body = json.dumps({"model": "gpt-4o", "prompt": "a" * n}).encode()
        start = time.monotonic()
        status, _, answer = post(gw, "/utils/token_counter", body, timeout=30)
        assert status == 200, answer
        return time.monotonic() - start, json.loads(answer)["total_tokens"]

    timed(10_000)  # warm-up: the tokenizer's tables load on first use
    small = min(timed(10_000)[0] for _ in range(3))
    large, tokens = timed(100_000)
    assert tokens > 1000
    assert large < 30 * small + 0.3, (large, small)
    word = json.dumps({"model": "gpt-4o", "prompt": "a" * 100_000}).encode()

    # Several at once, while other requests are timed.
    results = []

    def count():
        results.append(post(gw, "/utils/token_counter", word, timeout=20)[0])

    threads = [threading.Thread(target=count) for _ in range(4)]
    for t in threads:
        t.start()
    slowest = 0.0
    while any(t.is_alive() for t in threads):
        t0 = time.monotonic()
        assert get(gw, "/health/liveliness", timeout=5)[0] == 200
        slowest = max(slowest, time.monotonic() - t0)
        time.sleep(0.02)
    for t in threads:
        t.join(timeout=20)
    assert results == [200] * 4
    assert slowest < 0.5, slowest


def test_token_counter_refuses_oversized_input(gw):
    big = json.dumps({"model": "gpt-4o", "prompt": "word " * (1 << 20)}).encode()
    status, ctype, body = post(gw, "/utils/token_counter", big)
    assert status == 413
    assert ctype.startswith("application/json")
    err = json.loads(body)["error"]
    assert err["code"] == "413" and "token_counter" in err["message"]


def chunks(data, size):
    return (data[i : i + size] for i in range(0, len(data), size))


def oversized(mb):
    return json.dumps({"model": "gpt-4o", "messages": [{"role": "user", "content": "x" * (mb << 20)}]}).encode()


@pytest.mark.parametrize("chunked", [False, True])
def test_body_over_the_limit_is_an_openai_413(gw, chunked):
    body = oversized(MAX_MB + 2)
    if chunked:
        body = chunks(body, 65536)
    status, ctype, raw = post(gw, "/v1/chat/completions", body, chunked=chunked)
    assert status == 413, raw[:200]
    assert ctype.startswith("application/json")
    err = json.loads(raw)["error"]
    assert err["type"] == "invalid_request_error"
    assert err["code"] == "413"
    assert err["param"] is None
    assert f"{MAX_MB}" in err["message"]


def test_memory_stays_bounded_under_oversized_bodies(gw):
    pid = gw.proc.pid
    before = vm(pid, "VmHWM")
    body = oversized(60)
    results = []

    def send(chunked):
        b = body
        if chunked:
            b = chunks(body, 1 << 20)
        results.append(post(gw, "/v1/chat/completions", b, chunked=chunked, timeout=60)[0])

    threads = [threading.Thread(target=send, args=(i % 2 == 1,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert results == [413] * 6
    grown = vm(pid, "VmHWM") - before
    # Six 60 MB bodies: the declared ones are never read into memory, the chunked ones stop at
    # the 8 MB limit.
    assert grown < 150 << 20, f"peak grew by {grown >> 20} MB"
    # The gateway still answers.
    client = openai.OpenAI(base_url=f"{gw.base}/v1", api_key=MASTER, max_retries=0, timeout=10)
    r = client.chat.completions.create(model="gpt-4o", messages=[{"role": "user", "content": "Hello"}])
    assert r.choices[0].message.content == "Hello from mock"


def test_expect_continue_over_the_limit_is_refused_before_the_body(gw):
    s = socket.create_connection(("127.0.0.1", gw.port), timeout=5)
    try:
        s.sendall(
            b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\n"
            + f"Authorization: Bearer {MASTER}\r\nContent-Type: application/json\r\n".encode()
            + f"Content-Length: {100 << 20}\r\nExpect: 100-continue\r\n\r\n".encode()
        )
        answer = b""
        while b"\r\n\r\n" not in answer:
            chunk = s.recv(65536)
            assert chunk, answer
            answer += chunk
    finally:
        s.close()
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
