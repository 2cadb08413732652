"""Observability through the binary: LiteLLM's Prometheus metrics at /metrics after known traffic
(success, failure, stream, fallback, cache hit, concurrent calls), parsed with the official
`prometheus_client` parser; the `generic_api`, `langfuse`, `datadog` and `s3` logging callbacks
against capture servers and the mock's S3 store (one event per call, messages only when message
logging is on, a dead endpoint slowing nothing); OpenTelemetry spans (guardrail and cache child
spans) at an OTLP capture; Redis and PostgreSQL service metrics."""
import base64
import gzip
import http.server
import json
import re
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor

import openai
import pytest
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from conftest import Gateway

MASTER = "sk-observe-master-0123456789"
IN_PRICE, OUT_PRICE = 0.001, 0.002


def dep(mock, name, model, id, params="", **info):
    info_yaml = "".join(f"      {k}: {v}\n" for k, v in info.items())
    return (
        f"  - model_name: {name}\n    litellm_params:\n      model: openai/{model}\n"
        f"      api_base: {mock.base}/v1\n      api_key: sk-up\n{params}"
        f"      input_cost_per_token: {IN_PRICE}\n      output_cost_per_token: {OUT_PRICE}\n"
        f"    model_info:\n      id: {id}\n{info_yaml}"
    )


def start(mock, tmp_path, settings, env=None, extra="", general=""):
    cfg = (
        "model_list:\n"
        + dep(mock, "ok", "gpt-4o", "ok-1", params="      rpm: 100000\n      tpm: 9000000\n")
        + dep(mock, "broken", "mock-error-500", "broken-1")
        + dep(mock, "limited", "mock-error-429", "limited-1")
        + f"litellm_settings:\n{settings}"
        + "router_settings:\n  num_retries: 0\n  fallbacks: [{broken: [ok]}]\n"
        + f"general_settings:\n  master_key: {MASTER}\n{general}"
        + extra
    )
    full = {"LLMGATE_DB_PATH": str(tmp_path / "o.db")}
    full.update(env or {})
    return Gateway(tmp_path, cfg, env=full).wait_ready()


def scrape(gw, key=MASTER):
    req = urllib.request.Request(f"{gw.base}/metrics")
    if key:
        req.add_header("Authorization", f"Bearer {key}")
    with urllib.request.urlopen(req, timeout=5) as r:
        assert r.headers["content-type"].startswith("application/openmetrics-text")
        text = r.read().decode()
    samples = []
    for fam in text_string_to_metric_families(text):
        for s in fam.samples:
            samples.append((s.name, s.labels, s.value))
    return samples


def total(samples, name, **labels):
    return sum(v for n, l, v in samples if n == name and all(l.get(k) == w for k, w in labels.items()))


def cost(u):
    return u.prompt_tokens * IN_PRICE + u.completion_tokens * OUT_PRICE


def test_prometheus_metrics_after_known_traffic(mock, tmp_path):
    gw = start(mock, tmp_path, '  callbacks: ["prometheus"]\n  cache: true\n  cache_params: {type: local}\n')
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        msg = lambda t: [{"role": "user", "content": t}]
        a = c.chat.completions.create(model="ok", messages=msg("first question"))
        b = c.chat.completions.create(model="ok", messages=msg("second question"))
        hit = c.chat.completions.with_raw_response.create(model="ok", messages=msg("first question"))
        assert hit.headers["x-litellm-cache-key"]
        hit = hit.parse()
        chunks = list(c.chat.completions.create(model="ok", messages=msg("streamed one"), stream=True,
                                                 stream_options={"include_usage": True}))
        su = [x.usage for x in chunks if x.usage][0]
        fb = c.chat.completions.with_raw_response.create(model="broken", messages=msg("falls back"))
        assert fb.headers["x-litellm-model-group"] == "ok"
        fb = fb.parse()
        with pytest.raises(openai.RateLimitError):
            c.chat.completions.create(model="limited", messages=msg("too many"))
        # Concurrent calls are all counted.
        with ThreadPoolExecutor(8) as pool:
            many = list(pool.map(lambda i: c.chat.completions.create(model="ok", messages=msg(f"q {i}")), range(24)))

        # /metrics needs a key (LiteLLM's default).
        with pytest.raises(urllib.error.HTTPError) as e:
            scrape(gw, key=None)
        assert e.value.code == 401

        s = scrape(gw)
        T = "litellm_proxy_total_requests_metric_total"
        assert total(s, T, requested_model="ok", status_code="200", route="/chat/completions") == 28
        assert total(s, T, requested_model="broken", status_code="200") == 1
        assert total(s, T, requested_model="limited", status_code="429") == 1
        assert total(s, "litellm_proxy_failed_requests_metric_total") == 1
        assert total(s, "litellm_proxy_failed_requests_metric_total", requested_model="limited",
                     exception_status="429", exception_class="Openai.RateLimitError", model_id="limited-1") == 1
        # Deployments: every upstream attempt, by model_id; the cache hit reached none.
        assert total(s, "litellm_deployment_success_responses_total", model_id="ok-1", api_provider="openai") == 28
        assert total(s, "litellm_deployment_failure_responses_total", model_id="broken-1", exception_status="500") == 1
        assert total(s, "litellm_deployment_failure_responses_total", model_id="limited-1",
                     exception_class="Openai.RateLimitError") == 1
        assert total(s, "litellm_deployment_total_requests_total") == 28 + 2
        assert total(s, "litellm_deployment_state", model_id="ok-1") == 0
        assert total(s, "litellm_deployment_rpm_limit", model_id="ok-1", litellm_model_name="gpt-4o") == 100000
        assert total(s, "litellm_deployment_tpm_limit", model_id="ok-1") == 9000000
        assert total(s, "litellm_deployment_state", model_id="broken-1") == 1
        assert total(s, "litellm_deployment_successful_fallbacks_total", requested_model="broken",
                     fallback_model="ok", exception_status="500") == 1
        assert total(s, "litellm_deployment_failed_fallbacks_total") == 0
        # Cache: one hit (its tokens counted as cached), every other success a miss.
        assert total(s, "litellm_cache_hits_metric_total", model="gpt-4o", model_id="ok-1") == 1
        assert total(s, "litellm_cached_tokens_metric_total") == hit.usage.total_tokens
        assert total(s, "litellm_cache_misses_metric_total") == 28
        # Tokens and spend: exactly what the answers reported (the hit costs nothing).
        answered = [a.usage, b.usage, su, fb.usage] + [m.usage for m in many]
        everything = answered + [hit.usage]
        assert total(s, "litellm_input_tokens_metric_total") == sum(u.prompt_tokens for u in everything)
        assert total(s, "litellm_output_tokens_metric_total") == sum(u.completion_tokens for u in everything)
        assert total(s, "litellm_total_tokens_metric_total", requested_model="ok") == sum(
            u.total_tokens for u in [a.usage, b.usage, su, hit.usage] + [m.usage for m in many])
        assert total(s, "litellm_spend_metric_total") == pytest.approx(sum(cost(u) for u in answered))
        # Latency histograms with LiteLLM's buckets; time to first token for the stream only.
        assert total(s, "litellm_request_total_latency_metric_count", requested_model="ok") == 28
        assert total(s, "litellm_llm_api_latency_metric_count") == 28
        assert total(s, "litellm_llm_api_time_to_first_token_metric_count") == 1
        buckets = {l["le"] for n, l, _ in s if n == "litellm_request_total_latency_metric_bucket"}
        assert {"0.005", "0.00625", "300.0", "+Inf"} <= buckets and len(buckets) == 36
        assert total(s, "llmgate_in_flight_requests") == 0
        # The master key is labelled by its hash; no raw client input in any label.
        hashes = {l.get("hashed_api_key") for n, l, _ in s if n == T}
        assert len(hashes) == 1 and len(hashes.pop()) == 64
        assert not any("first question" in json.dumps(l) for _, l, _ in s)
    finally:
        gw.stop()


def test_upstream_connections_are_kept_alive_and_counted(mock, tmp_path):
    gw = start(mock, tmp_path, '  callbacks: ["prometheus"]\n')
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        s = scrape(gw)
        assert total(s, "llmgate_upstream_connections") == 0
        assert total(s, "llmgate_upstream_connections_opened_total") == 0
        for i in range(3):
            c.chat.completions.create(model="ok", messages=[{"role": "user", "content": f"conn {i}"}])
        s = scrape(gw)
        open_now, made = total(s, "llmgate_upstream_connections"), total(s, "llmgate_upstream_connections_opened_total")
        assert 1 <= open_now <= made <= 2, (open_now, made)
        # Sequential calls reuse the pooled connection: neither number grows per request.
        for i in range(10):
            c.chat.completions.create(model="ok", messages=[{"role": "user", "content": f"again {i}"}])
        s = scrape(gw)
        assert total(s, "llmgate_upstream_connections_opened_total") == made
        assert total(s, "llmgate_upstream_connections") == open_now
    finally:
        gw.stop()


def test_metrics_endpoint_open_when_auth_is_off_and_absent_without_prometheus(mock, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    gw = start(mock, tmp_path / "a", '  callbacks: ["prometheus"]\n  require_auth_for_metrics_endpoint: false\n')
    off = start(mock, tmp_path / "b", "  drop_params: true\n")
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        c.chat.completions.create(model="ok", messages=[{"role": "user", "content": "hi"}])
        s = scrape(gw, key=None)
        assert total(s, "litellm_proxy_total_requests_metric_total", requested_model="ok") == 1
        # A refused request (unknown model) is a failed request without a raw-name label.
        with pytest.raises(openai.BadRequestError):
            c.chat.completions.create(model="no-such-model", messages=[{"role": "user", "content": "hi"}])
        s = scrape(gw, key=None)
        assert total(s, "litellm_proxy_failed_requests_metric_total", exception_status="400") == 1
        assert not any(l.get("requested_model") == "no-such-model" for _, l, _ in s)
        with pytest.raises(urllib.error.HTTPError) as e:
            scrape(off)
        assert e.value.code == 404
    finally:
        gw.stop()
        off.stop()


class Capture:
    """An HTTP server that records every POST (path, headers, JSON body)."""

    def __init__(self):
        self.posts = []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                if self.headers.get("content-encoding") == "gzip":  # Datadog's intake
                    body = gzip.decompress(body)
                try:
                    parsed = json.loads(body)
                except ValueError:  # NDJSON: one payload per line
                    parsed = [json.loads(line) for line in body.splitlines()]
                outer.posts.append((self.path, {k.lower(): v for k, v in self.headers.items()}, parsed))
                self.send_response(207 if self.path.startswith("/api/public")
                                   else 202 if self.path == "/api/v2/logs" else 200)
                self.send_header("content-type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"successes": [], "errors": []}')

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def bodies(self, prefix):
        return [b for p, _, b in self.posts if p.startswith(prefix)]

    def wait(self, prefix, count, key=len, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline:
            if sum(key(b) for b in self.bodies(prefix)) >= count:
                return
            time.sleep(0.1)
        raise AssertionError(f"{prefix}: {self.posts}")

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def capture():
    c = Capture()
    yield c
    c.stop()


def logging_gateway(mock, tmp_path, capture, extra_settings=""):
    settings = (
        '  callbacks: ["langfuse", "capture", "deadhook", "prometheus"]\n'
        "  require_auth_for_metrics_endpoint: false\n" + extra_settings
    )
    callbacks = (
        "callback_settings:\n"
        f"  capture:\n    callback_type: generic_api\n    endpoint: {capture.base}/hook\n"
        "    headers:\n      Authorization: Bearer hook-secret\n"
        # Nothing listens there: its batches fail and are retried without touching the others.
        "  deadhook:\n    callback_type: generic_api\n    endpoint: http://127.0.0.1:9/dead\n"
    )
    env = {
        "LANGFUSE_PUBLIC_KEY": "pk-lf-test",
        "LANGFUSE_SECRET_KEY": "sk-lf-test",
        "LANGFUSE_HOST": capture.base,
        "DEFAULT_FLUSH_INTERVAL_SECONDS": "1",
        "LANGFUSE_FLUSH_INTERVAL": "1",
    }
    return start(mock, tmp_path, settings, env=env, extra=callbacks)


def test_generic_api_and_langfuse_get_one_event_per_call(mock, tmp_path, capture):
    gw = logging_gateway(mock, tmp_path, capture)
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        t0 = time.time()
        ok = c.chat.completions.with_raw_response.create(
            model="ok", messages=[{"role": "user", "content": "log me"}], temperature=0.2)
        ok_id, ok = ok.headers["x-litellm-call-id"], ok.parse()
        s = c.chat.completions.with_raw_response.create(
            model="ok", messages=[{"role": "user", "content": "stream me"}], stream=True)
        s_id = s.headers["x-litellm-call-id"]
        streamed = "".join(ch.choices[0].delta.content or "" for ch in s.parse() if ch.choices)
        with pytest.raises(openai.RateLimitError) as e:
            c.chat.completions.create(model="limited", messages=[{"role": "user", "content": "fail me"}])
        fail_id = e.value.response.headers["x-litellm-call-id"]
        # The dead endpoint costs the requests nothing.
        assert time.time() - t0 < 5

        capture.wait("/hook", 3)
        events = {p["id"]: p for batch in capture.bodies("/hook") for p in batch}
        assert set(events) == {ok_id, s_id, fail_id}
        headers = [h for p, h, _ in capture.posts if p == "/hook"]
        assert all(h["authorization"] == "Bearer hook-secret" for h in headers)
        e1 = events[ok_id]
        assert (e1["status"], e1["model_group"], e1["model_id"], e1["custom_llm_provider"]) == ("success", "ok", "ok-1", "openai")
        assert (e1["prompt_tokens"], e1["completion_tokens"], e1["total_tokens"]) == (
            ok.usage.prompt_tokens, ok.usage.completion_tokens, ok.usage.total_tokens)
        assert e1["response_cost"] == pytest.approx(cost(ok.usage))
        assert e1["messages"] == [{"role": "user", "content": "log me"}]
        assert e1["response"]["choices"][0]["message"]["content"] == ok.choices[0].message.content
        assert e1["model_parameters"]["temperature"] == 0.2
        assert e1["call_type"] == "acompletion" and e1["stream"] is False
        assert len(e1["metadata"]["user_api_key_hash"]) == 64
        assert e1["endTime"] >= e1["startTime"]
        e2 = events[s_id]
        assert e2["stream"] is True and e2["status"] == "success"
        assert e2["response"]["choices"][0]["message"]["content"] == streamed
        assert e2["completionStartTime"] >= e2["startTime"]
        e3 = events[fail_id]
        assert e3["status"] == "failure" and e3["error_information"]["error_code"] == "429"
        assert e3["error_information"]["error_class"] == "RateLimitError"

        # Langfuse: a trace and a generation per call, with basic auth.
        capture.wait("/api/public/ingestion", 6, key=lambda b: len(b["batch"]))
        posts = [(h, b) for p, h, b in capture.posts if p == "/api/public/ingestion"]
        auth = "Basic " + base64.b64encode(b"pk-lf-test:sk-lf-test").decode()
        assert all(h["authorization"] == auth for h, _ in posts)
        items = [i for _, b in posts for i in b["batch"]]
        gens = {i["body"]["id"]: i["body"] for i in items if i["type"] == "generation-create"}
        traces = {i["body"]["id"]: i["body"] for i in items if i["type"] == "trace-create"}
        assert set(gens) == set(traces) == {ok_id, s_id, fail_id}
        g = gens[ok_id]
        assert (g["traceId"], g["name"], g["model"], g["level"]) == (ok_id, "litellm-acompletion", "gpt-4o", "DEFAULT")
        assert (g["usage"]["input"], g["usage"]["output"]) == (ok.usage.prompt_tokens, ok.usage.completion_tokens)
        assert g["input"] == [{"role": "user", "content": "log me"}]
        assert gens[fail_id]["level"] == "ERROR" and gens[fail_id]["statusMessage"]

        # The dead endpoint's failures are counted; the capture got everything regardless.
        deadline = time.time() + 15
        while time.time() < deadline:
            s = scrape(gw, key=None)
            if total(s, "litellm_callback_logging_failures_metric_total", callback_name="deadhook") >= 1:
                break
            time.sleep(0.5)
        assert total(s, "litellm_callback_logging_failures_metric_total", callback_name="deadhook") >= 1
        assert total(s, "litellm_callback_logging_failures_metric_total", callback_name="capture") == 0
    finally:
        gw.stop()


def test_message_logging_off_and_key_info_redacted(mock, tmp_path, capture):
    gw = logging_gateway(mock, tmp_path, capture,
                         "  turn_off_message_logging: true\n  redact_user_api_key_info: true\n")
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        r = c.chat.completions.with_raw_response.create(model="ok", messages=[{"role": "user", "content": "secret text"}])
        call_id = r.headers["x-litellm-call-id"]
        capture.wait("/hook", 1)
        capture.wait("/api/public/ingestion", 2, key=lambda b: len(b["batch"]))
        (e,) = [p for b in capture.bodies("/hook") for p in b]
        assert e["id"] == call_id
        assert e["messages"] == "redacted-by-litellm" and e["response"] == "redacted-by-litellm"
        assert not any(k.startswith("user_api_key") for k in e["metadata"])
        assert e["total_tokens"] > 0
        everything = json.dumps(capture.posts)
        assert "secret text" not in everything and "Hello from mock" not in everything
    finally:
        gw.stop()


@pytest.mark.parametrize("how", ["env", "config"])
def test_json_logs_parse_line_by_line(mock, tmp_path, how):
    env = {"JSON_LOGS": "True"} if how == "env" else {}
    settings = "  json_logs: true\n" if how == "config" else "  drop_params: true\n"
    # An unset os.environ/ reference: a warning logged while the config loads.
    gw = start(mock, tmp_path, settings, env=env, extra="environment_variables:\n  X_UNUSED: os.environ/OBS_NOT_SET\n")
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        c.chat.completions.create(model="ok", messages=[{"role": "user", "content": "hi"}])
        with pytest.raises(openai.RateLimitError):
            c.chat.completions.create(model="limited", messages=[{"role": "user", "content": "hi"}])
    finally:
        gw.stop()
    lines = [l for l in gw.log_path.read_text().splitlines() if l.strip()]
    assert lines
    records = [json.loads(l) for l in lines]
    assert all({"timestamp", "level", "message"} <= r.keys() for r in records)
    assert any("listening on" in r["message"] for r in records)
    assert any(r["level"] == "WARN" and "OBS_NOT_SET" in r["message"] for r in records)
    assert MASTER not in gw.log_path.read_text()


def test_text_logs_have_no_colour_off_a_terminal(mock, tmp_path):
    gw = start(mock, tmp_path, "  drop_params: true\n")
    gw.stop()
    text = gw.log_path.read_text()
    assert "listening on" in text and "\x1b[" not in text



def test_datadog_gets_gzipped_batches_of_litellms_log_entries(mock, tmp_path, capture):
    env = {"DD_API_KEY": "dd-key-1", "DD_SITE": "us5.datadoghq.com", "DD_BASE_URL": capture.base,
           "DD_SOURCE": "llmgate-e2e", "DD_ENV": "test", "DEFAULT_FLUSH_INTERVAL_SECONDS": "1"}
    gw = start(mock, tmp_path, '  callbacks: ["datadog"]\n  turn_off_message_logging: true\n', env=env)
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        ok = c.chat.completions.with_raw_response.create(
            model="ok", messages=[{"role": "user", "content": "dd secret words"}],
            extra_body={"metadata": {"tags": ["dd-tag"]}}).headers["x-litellm-call-id"]
        with pytest.raises(openai.RateLimitError):
            c.chat.completions.create(model="limited", messages=[{"role": "user", "content": "dd fail"}])
        capture.wait("/api/v2/logs", 2)
        (path, headers, _), *_ = [p for p in capture.posts if p[0] == "/api/v2/logs"]
        assert (headers["dd-api-key"], headers["content-encoding"], headers["content-type"]) == (
            "dd-key-1", "gzip", "application/json")
        entries = [e for b in capture.bodies("/api/v2/logs") for e in b]
        assert len(entries) == 2
        by_status = {e["status"]: e for e in entries}
        good, bad = by_status["info"], by_status["error"]
        for e in entries:
            assert e["ddsource"] == "llmgate-e2e" and e["service"] == "litellm-server"
            assert "env:test" in e["ddtags"].split(",") and "service:litellm-server" in e["ddtags"]
        assert "request_tag:dd-tag" in good["ddtags"].split(",")
        msg = json.loads(good["message"])
        assert msg["id"] == ok and msg["status"] == "success" and msg["model_group"] == "ok"
        assert json.loads(bad["message"])["status"] == "failure"
        # Message logging is off: neither the prompt nor the answer reaches Datadog.
        assert "dd secret words" not in json.dumps(entries)
    finally:
        gw.stop()


def s3_settings(mock, secret_var, path):
    return ("  s3_callback_params:\n    s3_bucket_name: llm-logs\n    s3_region_name: us-west-2\n"
            f"    s3_endpoint_url: {mock.base}/s3\n    s3_aws_access_key_id: AKIDLLMGATEMOCK\n"
            f"    s3_aws_secret_access_key: os.environ/{secret_var}\n    s3_path: {path}\n"
            "    s3_flush_interval: 1\n  require_auth_for_metrics_endpoint: false\n")


def test_s3_objects_are_sigv4_signed_puts_of_the_logging_payload(mock, tmp_path):
    (tmp_path / "good").mkdir()
    (tmp_path / "bad").mkdir()
    env = {"S3_SECRET": "llmgate-mock-bedrock-secret", "WRONG_SECRET": "not-the-secret"}
    gw = start(mock, tmp_path / "good", '  callbacks: ["s3", "prometheus"]\n' + s3_settings(mock, "S3_SECRET", "good"), env=env)
    bad = start(mock, tmp_path / "bad", '  callbacks: ["s3", "prometheus"]\n' + s3_settings(mock, "WRONG_SECRET", "bad"), env=env)
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        ok = c.chat.completions.with_raw_response.create(
            model="ok", messages=[{"role": "user", "content": "to the bucket"}]).headers["x-litellm-call-id"]
        with pytest.raises(openai.RateLimitError):
            c.chat.completions.create(model="limited", messages=[{"role": "user", "content": "failed to the bucket"}])
        openai.OpenAI(base_url=bad.base, api_key=MASTER, max_retries=0).chat.completions.create(
            model="ok", messages=[{"role": "user", "content": "never stored"}])
        deadline = time.time() + 15
        objects = []
        while time.time() < deadline and len([o for o in objects if o["key"].startswith("good/")]) < 2:
            time.sleep(0.3)
            objects = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/s3").read())
        good = [o for o in objects if o["key"].startswith("good/")]
        assert len(good) == 2 and all(o["bucket"] == "llm-logs" for o in good)
        by_status = {o["body"]["status"]: o for o in good}
        stored = by_status["success"]
        day = time.strftime("%Y-%m-%d", time.gmtime(stored["body"]["startTime"]))
        assert re.fullmatch(rf"good/{day}/time-\d\d-\d\d-\d\d-\d{{6}}_{ok}\.json", stored["key"]), stored["key"]
        assert stored["body"]["id"] == ok and stored["body"]["model_group"] == "ok"
        assert stored["body"]["messages"] == [{"role": "user", "content": "to the bucket"}]
        h = stored["headers"]
        assert h["content-type"] == "application/json" and h["authorization"].startswith("AWS4-HMAC-SHA256 ")
        assert "/us-west-2/s3/aws4_request" in h["authorization"] and "x-amz-content-sha256" in h["authorization"]
        assert by_status["failure"]["body"]["error_str"]
        # Read back through the store's GET, as a client would.
        back = json.loads(urllib.request.urlopen(f"{mock.base}/s3/llm-logs/{urllib.parse.quote(stored['key'])}").read())
        assert back["id"] == ok
        # Signed with the wrong secret: the store refuses every PUT; the failure is counted.
        deadline = time.time() + 15
        s = scrape(bad)
        while time.time() < deadline and total(s, "litellm_callback_logging_failures_metric_total") < 1:
            time.sleep(0.3)
            s = scrape(bad)
        assert total(s, "litellm_callback_logging_failures_metric_total", callback_name="s3") == 1
        objects = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/s3").read())
        assert not [o for o in objects if o["key"].startswith("bad/")]
    finally:
        gw.stop()
        bad.stop()


# --- OpenTelemetry -------------------------------------------------------------------------

class OtlpCapture:
    """An OTLP/HTTP collector: decodes protobuf or JSON trace exports into plain dicts."""

    def __init__(self):
        from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

        self.spans, self.headers = [], []
        outer = self

        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                outer.headers.append({k.lower(): v for k, v in self.headers.items()})
                if self.headers.get("content-type", "").startswith("application/json"):
                    outer._json(json.loads(body))
                else:
                    req = trace_service_pb2.ExportTraceServiceRequest()
                    req.ParseFromString(body)
                    outer._proto(req)
                self.send_response(200)
                self.send_header("content-type", self.headers.get("content-type", "application/x-protobuf"))
                self.end_headers()

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def _proto(self, req):
        def val(v):
            kind = v.WhichOneof("value")
            return getattr(v, kind) if kind else None

        for rs in req.resource_spans:
            resource = {a.key: val(a.value) for a in rs.resource.attributes}
            for ss in rs.scope_spans:
                for sp in ss.spans:
                    self.spans.append({
                        "name": sp.name, "trace_id": sp.trace_id.hex(), "span_id": sp.span_id.hex(),
                        "parent": sp.parent_span_id.hex(), "kind": sp.kind, "status": sp.status.code,
                        "attrs": {a.key: val(a.value) for a in sp.attributes}, "resource": resource,
                        "start": sp.start_time_unix_nano, "end": sp.end_time_unix_nano,
                    })

    def _json(self, req):
        def val(v):
            (kind, x), = v.items()
            return int(x) if kind == "intValue" else x

        for rs in req["resourceSpans"]:
            resource = {a["key"]: val(a["value"]) for a in rs["resource"]["attributes"]}
            for ss in rs["scopeSpans"]:
                for sp in ss["spans"]:
                    self.spans.append({
                        "name": sp["name"], "trace_id": sp["traceId"], "span_id": sp["spanId"],
                        "parent": sp.get("parentSpanId", ""), "kind": sp["kind"],
                        "status": sp.get("status", {}).get("code", 0),
                        "attrs": {a["key"]: val(a["value"]) for a in sp.get("attributes", [])},
                        "resource": resource, "start": int(sp["startTimeUnixNano"]), "end": int(sp["endTimeUnixNano"]),
                    })

    def wait(self, n, timeout=15):
        deadline = time.time() + timeout
        while time.time() < deadline and len(self.spans) < n:
            time.sleep(0.1)
        assert len(self.spans) >= n, self.spans

    def stop(self):
        self.server.shutdown()


@pytest.fixture
def otlp():
    c = OtlpCapture()
    yield c
    c.stop()


def mock_requests(mock):
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())


TRACE, PARENT = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"


def test_otel_spans_over_otlp_http_protobuf_continue_the_trace(mock, tmp_path, otlp):
    env = {"OTEL_EXPORTER": "otlp_http", "OTEL_ENDPOINT": otlp.base, "OTEL_HEADERS": "x-otel-key=secret-1",
           "OTEL_SERVICE_NAME": "llmgate-e2e", "OTEL_BSP_SCHEDULE_DELAY": "200"}
    gw = start(mock, tmp_path, '  callbacks: ["otel"]\n', env=env)
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        r = c.chat.completions.with_raw_response.create(
            model="ok", messages=[{"role": "user", "content": "trace me"}], temperature=0.5,
            extra_headers={"traceparent": f"00-{TRACE}-{PARENT}-01"})
        call_id, answer = r.headers["x-litellm-call-id"], r.parse()
        upstream = [q for q in mock_requests(mock) if isinstance(q.get("body"), dict) and q["body"].get("messages") == [{"role": "user", "content": "trace me"}]][-1]
        with pytest.raises(openai.RateLimitError):
            c.chat.completions.create(model="limited", messages=[{"role": "user", "content": "fail me"}])
        otlp.wait(4)
        assert all(h["x-otel-key"] == "secret-1" for h in otlp.headers)
        assert all(h["content-type"] == "application/x-protobuf" for h in otlp.headers)
        req = [s for s in otlp.spans if s["name"] == "litellm_request" and s["attrs"]["litellm.call_id"] == call_id][0]
        assert req["resource"]["service.name"] == "llmgate-e2e"
        assert (req["trace_id"], req["parent"], req["status"]) == (TRACE, PARENT, 1)
        a = req["attrs"]
        assert (a["gen_ai.request.model"], a["gen_ai.response.model"], a["gen_ai.system"]) == ("gpt-4o", "ok", "openai")
        assert (a["gen_ai.usage.input_tokens"], a["gen_ai.usage.output_tokens"]) == (
            answer.usage.prompt_tokens, answer.usage.completion_tokens)
        assert a["gen_ai.cost.total_cost"] == pytest.approx(cost(answer.usage))
        assert json.loads(a["gen_ai.input.messages"]) == [{"role": "user", "content": "trace me"}]
        assert json.loads(a["gen_ai.output.messages"])[0]["content"] == answer.choices[0].message.content
        assert a["gen_ai.request.temperature"] == 0.5 and len(a["metadata.user_api_key_hash"]) == 64
        raw = [s for s in otlp.spans if s["name"] == "raw_gen_ai_request" and s["parent"] == req["span_id"]][0]
        assert raw["trace_id"] == TRACE and req["start"] <= raw["start"] <= raw["end"] <= req["end"]
        # The upstream was called with the provider call's span as its parent.
        assert upstream["headers"]["traceparent"] == f"00-{TRACE}-{raw['span_id']}-01"
        failed = [s for s in otlp.spans if s["name"] == "litellm_request" and s["attrs"]["gen_ai.response.model"] == "limited"][0]
        assert failed["status"] == 2 and failed["attrs"]["error.type"] == "Openai.RateLimitError"
        assert failed["trace_id"] != TRACE and failed["parent"] == ""
        assert "gen_ai.cost.total_cost" not in failed["attrs"]
    finally:
        gw.stop()


def test_otel_json_without_messages_and_none_when_off(mock, tmp_path, otlp):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    env = {"OTEL_EXPORTER_OTLP_ENDPOINT": otlp.base, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json",
           "OTEL_BSP_SCHEDULE_DELAY": "200", "OTEL_ENDPOINT": otlp.base}
    gw = start(mock, tmp_path / "a", '  callbacks: ["otel"]\n  turn_off_message_logging: true\n'
               '  redact_user_api_key_info: true\n', env=env)
    off = start(mock, tmp_path / "b", "  drop_params: true\n", env=env)
    try:
        for g in (off, gw):
            c = openai.OpenAI(base_url=g.base, api_key=MASTER, max_retries=0)
            list(c.chat.completions.create(model="ok", messages=[{"role": "user", "content": "json spans"}], stream=True))
        otlp.wait(2)
        time.sleep(1)
        assert len(otlp.spans) == 2  # only the gateway with the callback exports
        assert all(h["content-type"].startswith("application/json") for h in otlp.headers)
        req = [s for s in otlp.spans if s["name"] == "litellm_request"][0]
        assert req["resource"]["service.name"] == "litellm"
        assert req["attrs"]["llm.is_streaming"] is True
        assert "gen_ai.input.messages" not in req["attrs"] and "gen_ai.output.messages" not in req["attrs"]
        assert "json spans" not in json.dumps(otlp.spans)
        # redact_user_api_key_info keeps the key's metadata off the spans.
        assert not [k for s in otlp.spans for k in s["attrs"] if k.startswith("metadata.user_api_key")]
        assert req["attrs"]["litellm.call_id"]
    finally:
        gw.stop()
        off.stop()


def test_otel_spans_over_otlp_grpc(mock, tmp_path, otlp):
    """A real gRPC server (grpcio, OpenTelemetry's TraceService) receives the spans."""
    from concurrent import futures

    import grpc
    from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

    metadata = []

    class Service(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request, context):
            metadata.append(dict(context.invocation_metadata()))
            otlp._proto(request)
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Service(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    env = {"OTEL_EXPORTER": "otlp_grpc", "OTEL_ENDPOINT": f"http://127.0.0.1:{port}",
           "OTEL_HEADERS": "x-otel-key=secret-2", "OTEL_BSP_SCHEDULE_DELAY": "200"}
    gw = start(mock, tmp_path, '  callbacks: ["otel"]\n', env=env)
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        r = c.chat.completions.with_raw_response.create(
            model="ok", messages=[{"role": "user", "content": "grpc me"}],
            extra_headers={"traceparent": f"00-{TRACE}-{PARENT}-01"})
        call_id = r.headers["x-litellm-call-id"]
        otlp.wait(2)
        assert metadata and all(m["x-otel-key"] == "secret-2" for m in metadata)
        req = [s for s in otlp.spans if s["name"] == "litellm_request"][0]
        assert req["attrs"]["litellm.call_id"] == call_id and (req["trace_id"], req["parent"]) == (TRACE, PARENT)
        assert req["resource"]["service.name"] == "litellm"
        assert [s for s in otlp.spans if s["name"] == "raw_gen_ai_request" and s["parent"] == req["span_id"]]
    finally:
        gw.stop()
        server.stop(0)

    # Also with the standard variable (`OTEL_EXPORTER_OTLP_PROTOCOL=grpc`); a bad endpoint refuses the start.
    g = Gateway(tmp_path, "model_list: []\nlitellm_settings:\n  callbacks: [\"otel\"]\n"
                f"general_settings:\n  master_key: {MASTER}\n",
                env={"OTEL_EXPORTER_OTLP_PROTOCOL": "grpc", "OTEL_EXPORTER_OTLP_ENDPOINT": "ftp://x:1",
                     "LLMGATE_DB_PATH": str(tmp_path / "g.db")})
    try:
        g.proc.wait(timeout=20)
        assert g.proc.returncode != 0 and "not http(s)" in g.log_path.read_text()
    finally:
        g.stop()



GUARDS = ("guardrails:\n"
          "  - guardrail_name: pii-mask\n    litellm_params:\n      guardrail: litellm_content_filter\n"
          "      mode: pre_call\n      default_on: true\n"
          "      patterns: [{pattern_type: prebuilt, pattern_name: email, action: MASK}]\n"
          "      blocked_words: [{keyword: forbidden-word, action: BLOCK, description: not allowed}]\n")


def test_otel_child_spans_for_guardrails_and_the_cache(mock, tmp_path, otlp):
    env = {"OTEL_EXPORTER": "otlp_http", "OTEL_ENDPOINT": otlp.base, "OTEL_BSP_SCHEDULE_DELAY": "200"}
    gw = start(mock, tmp_path, '  callbacks: ["otel"]\n  cache: true\n  cache_params: {type: local}\n',
               env=env, extra=GUARDS)
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        body = dict(model="ok", messages=[{"role": "user", "content": "mail me at bob@corp.example"}])
        ids = [c.chat.completions.with_raw_response.create(**body).headers["x-litellm-call-id"] for _ in range(2)]
        with pytest.raises(openai.BadRequestError):
            c.chat.completions.create(model="ok", messages=[{"role": "user", "content": "a forbidden-word"}])
        otlp.wait(9)
        time.sleep(0.5)
        reqs = {s["attrs"]["litellm.call_id"]: s for s in otlp.spans if s["name"] == "litellm_request"}
        assert len(reqs) == 3
        children = lambda r, name: [s for s in otlp.spans if s["name"] == name and s["parent"] == r["span_id"]]
        for i, call_id in enumerate(ids):
            req = reqs[call_id]
            (g,) = children(req, "guardrail")
            a = g["attrs"]
            assert (a["guardrail_name"], a["guardrail_mode"], a["guardrail_status"]) == (
                "pii-mask", "pre_call", "guardrail_intervened")
            assert a["openinference.span.kind"] == "GUARDRAIL"
            assert json.loads(a["masked_entity_count"]) == {"EMAIL": 1}
            assert g["trace_id"] == req["trace_id"] and req["start"] <= g["start"] <= g["end"] <= req["end"]
            (cache,) = children(req, "in_memory")
            assert cache["attrs"]["call_type"] == "async_get_cache" and cache["attrs"]["service"] == "in_memory"
            # The first call misses and asks the upstream; the second is a hit without a provider call.
            assert cache["attrs"]["cache_hit"] is (i == 1)
            assert req["attrs"]["litellm.cache_hit"] is (i == 1)
            assert len(children(req, "raw_gen_ai_request")) == (1 if i == 0 else 0)
            assert g["end"] <= cache["start"] <= cache["end"] <= req["end"]
        (blocked,) = [r for k, r in reqs.items() if k not in ids]
        assert blocked["status"] == 2
        (g,) = children(blocked, "guardrail")
        assert g["attrs"]["guardrail_status"] == "guardrail_intervened"
        assert "forbidden-word" in g["attrs"]["guardrail_response"]
        assert not children(blocked, "in_memory")  # refused before the cache
    finally:
        gw.stop()


def post(gw, path, body):
    req = urllib.request.Request(f"{gw.base}{path}", data=json.dumps(body).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {MASTER}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=10) as r:
        return json.loads(r.read())


def test_budget_gauges_and_labels_of_a_virtual_key(mock, tmp_path):
    import hashlib

    gw = start(mock, tmp_path, '  callbacks: ["prometheus"]\n', general="  proxy_batch_write_at: 1\n")
    try:
        team = post(gw, "/team/new", {"team_alias": "obs-team", "max_budget": 2.0})["team_id"]
        key = post(gw, "/key/generate", {"team_id": team, "key_alias": "obs-key", "max_budget": 1.0})["key"]
        c = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
        r = c.chat.completions.create(model="ok", messages=[{"role": "user", "content": "budget"}])
        spent = cost(r.usage)
        s = scrape(gw)
        h = hashlib.sha256(key.encode()).hexdigest()
        labels = dict(hashed_api_key=h, api_key_alias="obs-key")
        assert total(s, "litellm_remaining_api_key_budget_metric", **labels) == pytest.approx(1.0 - spent)
        assert total(s, "litellm_api_key_max_budget_metric", **labels) == 1.0
        assert total(s, "litellm_remaining_team_budget_metric", team=team, team_alias="obs-team") == pytest.approx(2.0 - spent)
        assert total(s, "litellm_team_max_budget_metric", team=team, team_alias="obs-team") == 2.0
        assert total(s, "litellm_proxy_total_requests_metric_total", team=team, team_alias="obs-team", **labels) == 1
        assert total(s, "litellm_spend_metric_total", **labels) == pytest.approx(spent)
        # The spend log reaches the database: the writer's round trips are on /metrics.
        deadline = time.time() + 10
        while total(s, "llmgate_spend_writes_total") < 1 and time.time() < deadline:
            time.sleep(0.3)
            s = scrape(gw)
        assert total(s, "llmgate_spend_writes_total") >= 1
        assert total(s, "llmgate_spend_write_errors_total") == 0
        assert total(s, "llmgate_spend_log_backlog") == 0
        assert 0 < total(s, "llmgate_spend_write_seconds") < 5
    finally:
        gw.stop()




def test_per_model_key_limits_and_org_budget_gauges(mock, tmp_path):
    import hashlib

    gw = start(mock, tmp_path, '  callbacks: ["prometheus"]\n')
    try:
        post(gw, "/organization/new", {"organization_id": "obs-org", "organization_alias": "obs-acme", "max_budget": 3.0})
        limited = post(gw, "/key/generate", {"organization_id": "obs-org", "key_alias": "per-model",
                                             "model_rpm_limit": {"ok": 5}, "model_tpm_limit": {"ok": 100000}})["key"]
        plain = post(gw, "/key/generate", {"key_alias": "no-limits"})["key"]
        c = openai.OpenAI(base_url=gw.base, api_key=limited, max_retries=0)
        used = [c.chat.completions.create(model="ok", messages=[{"role": "user", "content": f"m{i}"}]).usage
                for i in range(2)]
        openai.OpenAI(base_url=gw.base, api_key=plain, max_retries=0).chat.completions.create(
            model="ok", messages=[{"role": "user", "content": "plain"}])
        s = scrape(gw)
        lab = dict(hashed_api_key=hashlib.sha256(limited.encode()).hexdigest(), api_key_alias="per-model",
                   model="ok", model_id="ok-1")
        # Two requests of five this minute; the tokens of both calls counted.
        assert total(s, "litellm_remaining_api_key_requests_for_model", **lab) == 3
        assert total(s, "litellm_remaining_api_key_tokens_for_model", **lab) == 100000 - sum(u.total_tokens for u in used)
        # A key without per-model limits reads sys.maxsize, as LiteLLM reports it.
        free = dict(hashed_api_key=hashlib.sha256(plain.encode()).hexdigest(), model="ok")
        assert total(s, "litellm_remaining_api_key_requests_for_model", **free) == float(9223372036854775807)  # a float gauge, as Python renders it
        spent = sum(cost(u) for u in used)
        org = dict(org_id="obs-org", org_alias="obs-acme")
        assert total(s, "litellm_org_max_budget_metric", **org) == 3.0
        assert total(s, "litellm_remaining_org_budget_metric", **org) == pytest.approx(3.0 - spent)
    finally:
        gw.stop()



def test_prometheus_metrics_config_picks_metrics_and_labels(mock, tmp_path):
    settings = ('  callbacks: ["prometheus"]\n  prometheus_metrics_config:\n'
                '    - group: tokens\n      metrics: [litellm_input_tokens_metric, litellm_not_a_metric]\n'
                '      include_labels: [model, team]\n'
                '    - group: requests\n      metrics: [litellm_proxy_total_requests_metric]\n'
                '    - group: latency\n      metrics: [litellm_request_total_latency_metric]\n'
                '  prometheus_latency_buckets: [0.5, 2, 30]\n')
    gw = start(mock, tmp_path, settings)
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        u = c.chat.completions.create(model="ok", messages=[{"role": "user", "content": "filtered"}]).usage
        s = scrape(gw)
        names = {n for n, _, _ in s}
        tokens = [(l, v) for n, l, v in s if n == "litellm_input_tokens_metric_total"]
        assert tokens == [({"model": "gpt-4o", "team": "None"}, u.prompt_tokens)]
        # A group without include_labels keeps every label of its metrics.
        req = [l for n, l, _ in s if n == "litellm_proxy_total_requests_metric_total"]
        assert req and {"requested_model", "hashed_api_key", "status_code", "route"} <= set(req[0])
        # Metrics no group lists are not served; llmgate's own still are.
        assert not any(n.startswith(("litellm_spend_metric", "litellm_output_tokens_metric")) for n in names)
        assert "llmgate_in_flight_requests" in names
        # prometheus_latency_buckets replaces LiteLLM's buckets.
        les = sorted({l["le"] for n, l, _ in s if n == "litellm_request_total_latency_metric_bucket"}, key=float)
        assert les == ["0.5", "2.0", "30.0", "+Inf"]
    finally:
        gw.stop()
    log = (tmp_path / "llmgate.log").read_text()
    assert "litellm_not_a_metric" in log and "prometheus_metrics_config" in log



def test_custom_prometheus_tags_label_every_metric(mock, tmp_path):
    gw = start(mock, tmp_path, '  callbacks: ["prometheus"]\n  custom_prometheus_tags: [prod, "team-*"]\n')
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        for tags in (["prod"], ["team-blue", "other"], []):
            c.chat.completions.create(model="ok", messages=[{"role": "user", "content": "tagged"}],
                                      extra_body={"metadata": {"tags": tags}})
        s = scrape(gw)
        seen = sorted((l["tag_prod"], l["tag_team__"], v) for n, l, v in s
                      if n == "litellm_proxy_total_requests_metric_total")
        assert seen == [("false", "false", 1), ("false", "true", 1), ("true", "false", 1)]
        # Every series carries them (a deployment's attempt has no request tags: false).
        assert all(l.get("tag_prod") in ("true", "false") for n, l, _ in s if n.startswith("litellm_deployment_"))
    finally:
        gw.stop()


PG = "postgresql://postgres@127.0.0.1:5432"


def test_redis_and_postgres_round_trips_as_litellms_service_metrics(mock, tmp_path):
    import subprocess
    import uuid

    from conftest import free_port

    db, ns = f"llmgate_obs_{uuid.uuid4().hex[:12]}", f"obs-{uuid.uuid4().hex[:8]}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {db}"], check=True)
    (tmp_path / "up").mkdir()
    (tmp_path / "down").mkdir()
    cache = "  cache: true\n  cache_params: {type: redis, host: 127.0.0.1, port: %d, namespace: %s, ttl: 60}\n"
    gw = start(mock, tmp_path / "up", '  callbacks: ["prometheus"]\n' + cache % (6379, ns),
               env={"DATABASE_URL": f"{PG}/{db}"}, general="  proxy_batch_write_at: 0.3\n")
    # LiteLLM's own switch for these metrics serves /metrics on its own; this Redis is not there.
    down = start(mock, tmp_path / "down", '  service_callback: ["prometheus_system"]\n' + cache % (free_port(), ns))
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        for _ in range(2):  # a miss (GET, then SET off the request path), then a hit
            c.chat.completions.create(model="ok", messages=[{"role": "user", "content": f"svc {ns}"}])
        deadline = time.time() + 10
        s = scrape(gw)
        while time.time() < deadline and (total(s, "litellm_redis_total_requests_total") < 3
                                          or total(s, "litellm_postgres_latency_count") < 1):
            time.sleep(0.3)
            s = scrape(gw)
        # GET, SET, GET; every one a success with its latency observed.
        assert total(s, "litellm_redis_total_requests_total", redis="redis") >= 3
        assert total(s, "litellm_redis_latency_count", redis="redis") == total(s, "litellm_redis_total_requests_total")
        assert 0 < total(s, "litellm_redis_latency_sum", redis="redis") < 5
        assert total(s, "litellm_redis_failed_requests_total") == 0
        # The spend writer's batch is a PostgreSQL round trip.
        assert total(s, "litellm_postgres_latency_count", postgres="postgres") >= 1
        assert total(s, "litellm_postgres_total_requests_total", postgres="postgres") >= 1
        assert total(s, "litellm_postgres_failed_requests_total") == 0
        # The Redis of the second gateway is down: failures by class and function, no latency.
        d = openai.OpenAI(base_url=down.base, api_key=MASTER, max_retries=0)
        d.chat.completions.create(model="ok", messages=[{"role": "user", "content": "redis is down"}])
        s = scrape(down)
        assert total(s, "litellm_redis_failed_requests_total", redis="redis", error_class="ConnectionError",
                     function_name="async_get_cache") >= 1
        assert total(s, "litellm_redis_latency_count") == 0
        # The embedded SQLite is not PostgreSQL: nothing is counted under its name.
        assert total(s, "litellm_postgres_total_requests_total") == 0
    finally:
        gw.stop()
        down.stop()
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {db} WITH (FORCE)"], check=False)


def test_plain_generic_api_from_env_logs_only_successes_as_ndjson(mock, tmp_path, capture):
    env = {"GENERIC_LOGGER_ENDPOINT": f"{capture.base}/env-hook", "GENERIC_LOGGER_HEADERS": "x-hook=env-1,x-two=2",
           "DEFAULT_FLUSH_INTERVAL_SECONDS": "1"}
    gw = start(mock, tmp_path, '  success_callback: ["generic_api"]\n', env=env,
               extra="callback_settings:\n  generic_api:\n    log_format: ndjson\n")
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        ids = [c.chat.completions.with_raw_response.create(
            model="ok", messages=[{"role": "user", "content": f"n{i}"}]).headers["x-litellm-call-id"] for i in range(2)]
        with pytest.raises(openai.RateLimitError):
            c.chat.completions.create(model="limited", messages=[{"role": "user", "content": "not logged"}])
        # One NDJSON line is one JSON object: a batch of one parses as a dict.
        as_list = lambda b: b if isinstance(b, list) else [b]
        capture.wait("/env-hook", 2, key=lambda b: len(as_list(b)))
        time.sleep(1.5)  # a failure would have been sent by now
        got = [p for b in capture.bodies("/env-hook") for p in as_list(b)]
        assert sorted(p["id"] for p in got) == sorted(ids)
        assert all(p["status"] == "success" for p in got)
        h = [h for p, h, _ in capture.posts if p == "/env-hook"][0]
        assert (h["x-hook"], h["x-two"], h["content-type"]) == ("env-1", "2", "application/json")
    finally:
        gw.stop()


class RateLimitedUpstream:
    """An OpenAI-shaped upstream whose answers carry `x-ratelimit-remaining-*` headers."""

    def __init__(self):
        class H(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                self.rfile.read(int(self.headers.get("content-length", 0)))
                body = json.dumps({
                    "id": "chatcmpl-rl", "object": "chat.completion", "created": 1, "model": "gpt-4o",
                    "choices": [{"index": 0, "message": {"role": "assistant", "content": "ok"}, "finish_reason": "stop"}],
                    "usage": {"prompt_tokens": 3, "completion_tokens": 1, "total_tokens": 4},
                }).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.send_header("x-ratelimit-remaining-requests", "42")
                self.send_header("x-ratelimit-remaining-tokens", "9000")
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *a):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), H)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_cooldown_user_labels_provider_limits_and_failure_only_logging(mock, tmp_path, capture):
    up = RateLimitedUpstream()
    cfg = (
        "model_list:\n"
        + dep(mock, "ok", "gpt-4o", "ok-1")
        + dep(mock, "limited", "mock-error-429", "limited-1")
        + dep(mock, "pair", "mock-error-429", "pair-bad", cooldown_time=60)
        + dep(mock, "pair", "gpt-4o", "pair-good")
        + f"  - model_name: headers\n    litellm_params:\n      model: openai/gpt-4o\n"
        f"      api_base: {up.base}/v1\n      api_key: sk-up\n    model_info:\n      id: hdr-1\n"
        + 'litellm_settings:\n  callbacks: ["prometheus", "failures"]\n'
        "  enable_end_user_cost_tracking_prometheus_only: true\n"
        "router_settings:\n  num_retries: 0\n"
        f"general_settings:\n  master_key: {MASTER}\n"
        "callback_settings:\n"
        f"  failures:\n    callback_type: generic_api\n    endpoint: {capture.base}/fail-hook\n"
        "    event_types: [llm_api_failure]\n"
    )
    gw = Gateway(tmp_path, cfg, env={"LLMGATE_DB_PATH": str(tmp_path / "o.db"),
                                     "DEFAULT_FLUSH_INTERVAL_SECONDS": "1"}).wait_ready()
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        msg = [{"role": "user", "content": "hi"}]
        # One deployment of two answers 429: it is cooled down once (60 s), then avoided.
        failed = []
        for _ in range(30):
            try:
                c.chat.completions.create(model="pair", messages=msg)
            except openai.RateLimitError as e:
                failed.append(e.response.headers["x-litellm-call-id"])
        with pytest.raises(openai.RateLimitError) as e:
            c.chat.completions.create(model="limited", messages=msg)
        failed.append(e.value.response.headers["x-litellm-call-id"])
        # A user's key, and an end user named in the body.
        key = post(gw, "/key/generate", {"user_id": "u-obs-1", "key_alias": "user-key"})["key"]
        u = openai.OpenAI(base_url=gw.base, api_key=key, max_retries=0)
        u.chat.completions.create(model="ok", messages=msg, user="cust-7")
        # The upstream's remaining requests and tokens.
        c.chat.completions.create(model="headers", messages=msg)

        s = scrape(gw)
        assert total(s, "litellm_deployment_cooled_down_total", model_id="pair-bad", exception_status="429") == 1
        assert total(s, "litellm_deployment_cooled_down_total") == 1  # a group's only deployment is not cooled
        assert total(s, "litellm_deployment_state", model_id="pair-bad") == 2
        assert total(s, "litellm_deployment_state", model_id="pair-good") == 0
        assert total(s, "litellm_deployment_state", model_id="limited-1") == 1
        assert total(s, "litellm_proxy_total_requests_metric_total", user="u-obs-1", end_user="cust-7",
                     api_key_alias="user-key", requested_model="ok") == 1
        assert total(s, "litellm_spend_metric_total", user="u-obs-1", end_user="cust-7") > 0
        assert total(s, "litellm_proxy_total_requests_metric_total", requested_model="pair", user="None",
                     end_user="None") == 30
        assert total(s, "litellm_remaining_requests_metric", model_group="headers", model_id="hdr-1") == 42
        assert total(s, "litellm_remaining_tokens_metric", model_group="headers", model_id="hdr-1") == 9000

        # `event_types: [llm_api_failure]`: the failures only, one event each.
        capture.wait("/fail-hook", len(failed))
        time.sleep(1.5)  # a success would have been sent by now
        got = [p for b in capture.bodies("/fail-hook") for p in b]
        assert sorted(p["id"] for p in got) == sorted(failed)
        assert all(p["status"] == "failure" for p in got)
    finally:
        gw.stop()
        up.server.shutdown()


def test_wildcard_routes_label_their_pattern_not_the_clients_names(mock, tmp_path):
    cfg = (
        "model_list:\n"
        + dep(mock, "ok", "gpt-4o", "ok-1")
        + f"  - model_name: openai/*\n    litellm_params:\n      model: openai/*\n"
        f"      api_base: {mock.base}/v1\n      api_key: sk-up\n    model_info:\n      id: wild-1\n"
        + 'litellm_settings:\n  callbacks: ["prometheus"]\n'
        f"general_settings:\n  master_key: {MASTER}\n"
    )
    gw = Gateway(tmp_path, cfg, env={"LLMGATE_DB_PATH": str(tmp_path / "o.db")}).wait_ready()
    try:
        c = openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)
        names = [f"openai/client-chosen-{i}" for i in range(5)]
        for n in names:
            c.chat.completions.create(model=n, messages=[{"role": "user", "content": "wild"}])
        c.chat.completions.create(model="ok", messages=[{"role": "user", "content": "tame"}])
        s = scrape(gw)
        T = "litellm_proxy_total_requests_metric_total"
        assert total(s, T, requested_model="openai/*", model_id="wild-1") == 5
        assert total(s, T, requested_model="ok") == 1
        assert total(s, "litellm_deployment_success_responses_total", requested_model="openai/*") == 5
        labels = json.dumps([l for _, l, _ in s])
        assert "client-chosen" not in labels, labels
    finally:
        gw.stop()
