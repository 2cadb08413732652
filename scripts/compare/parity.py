#!/usr/bin/env python3
"""Side-by-side parity harness: llmgate (the proxy) vs LiteLLM (the SDK), on the same mock.

Dev tool, NOT part of the test command (scripts/test.sh, CI): it needs LiteLLM installed.
It starts `llmgate-mock --port 0` and the real `llmgate` binary (generated config.yaml, no
master key, LLMGATE_DB_PATH in a temp dir). For every provider x case it sends one request
  (a) through llmgate with the official `openai` client, and
  (b) with `litellm.completion(model="<provider>/<model>", api_base=..., api_key=...)` to the mock,
then compares
  (i)  the upstream request the mock recorded (method, path, query, auth/version headers, body;
       objects compare regardless of key order, but the key order of schemas -- tool
       parameters, response schemas -- is checked and reported on its own; Gemini bodies are
       camelized first, since protobuf JSON takes snake_case and camelCase alike), and
  (ii) what the client saw: choices / message / finish_reason / tool_calls / usage (ids,
       timestamps, model names, Nones and zero usage details dropped; tool arguments as JSON);
       errors by status code and the openai class that status gives a proxy client; streams by
       concatenated content, tool arguments, finish_reason, usage and chunk count (+-2).
Noted but not counted: upstream attempts (retries are proxy policy), and the class of an error
that ends a stream already started (a proxy has no status to give after its 200).
A case whose every difference is listed in DELIBERATE (with a README "llmgate and LiteLLM" row that
exists) is reported as "deliberate", apart from "same". Providers marked "marker" send their real
catalog model and name the mock behaviour in an `x-mock-model` header (catalog lookups stay real).

    /work/litellm-venv/bin/python scripts/compare/parity.py [--verbose] [--only PROVIDER ...]
        [--bin DIR]   # default: $CARGO_TARGET_DIR/debug or ~/.cache/llmgate/target/debug

Always exits 0: it is a report, not a gate.
"""
import argparse, json, os, socket, subprocess, sys, tempfile, time, traceback, urllib.request

os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")  # no network fetch at import
KEY = "sk-upstream-parity"
# Upstream model names per provider; mock behaviours are picked by the name (behaviour.rs).
ERRS = {"e429": "mock-error-429", "e500": "mock-error-500", "ctx": "mock-context-window",
        "serr": "mock-stream-error"}
PROVIDERS = {
    "openai": {"normal": "gpt-4o", "tool": "gpt-4o-tool", "base": "/v1"},
    "mistral": {"normal": "mistral-small-latest", "tool": "mistral-small-tool", "base": "/v1"},
    "azure": {"normal": "gpt-4o", "tool": "gpt-4o-tool", "base": "", "api_version": "2024-10-21"},
    "anthropic": {"normal": "claude-haiku-4-5", "tool": "claude-tool", "base": ""},
    "gemini": {"normal": "gemini-2.5-flash", "tool": "gemini-2.5-flash-tool", "base": "/v1beta"},
}
# ---- OpenAI-compatible vendors (openai helper): other rows of llmgate's table, on the OpenAI mock.
# "marker": tool and error roles use the real model, the behaviour named in a header.
PROVIDERS.update({
    "groq": {"normal": "llama-3.3-70b-versatile", "tool": "llama-3.3-70b-tool", "base": "/openai/v1", "marker": True},
    "deepseek": {"normal": "deepseek-chat", "tool": "deepseek-chat-tool", "base": "/v1", "marker": True},
    "together_ai": {"normal": "meta-llama/Llama-3.3-70B-Instruct-Turbo", "tool": "llama-tool", "base": "/v1", "marker": True},
    "fireworks_ai": {"normal": "accounts/fireworks/models/llama-v3p1-8b-instruct", "tool": "llama-tool",
                     "base": "/v1", "marker": True},
    "openrouter": {"normal": "openai/gpt-4o", "tool": "openai/gpt-4o-tool", "base": "/v1", "marker": True},
    "xai": {"normal": "grok-3", "tool": "grok-3-tool", "base": "/v1", "marker": True},
    "perplexity": {"normal": "sonar", "tool": "sonar-tool", "base": "/v1", "marker": True},
    "cerebras": {"normal": "llama3.1-8b", "tool": "llama-tool", "base": "/v1", "marker": True},
    "deepinfra": {"normal": "meta-llama/Meta-Llama-3.1-8B-Instruct", "tool": "llama-tool", "base": "/v1",
                  "marker": True},
})
OPENAI_LIKE = {"openai", "azure", "mistral", "groq", "deepseek", "together_ai", "fireworks_ai", "openrouter", "xai",
               "perplexity", "cerebras", "deepinfra"}
NO_STREAM_OPTIONS = {"perplexity", "cerebras", "deepinfra"}  # LiteLLM sends them no stream_options
# Codestral's fill-in-the-middle (legacy completions; its api_base is the endpoint): FIM cases only.
PROVIDERS["text-completion-codestral"] = {"normal": "codestral-latest", "tool": "codestral-tool", "base": "/v1/fim/completions",
                                          "cases": {"fim", "fim_stream", "fim_refused"}}
# Tool schema and response schema with deliberately non-alphabetical property order.
TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "description": "Weather for a city",
    "parameters": {"type": "object", "properties": {
        "location": {"type": "string", "description": "City"},
        "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
        "days": {"type": "integer"}}, "required": ["location"]}}}]
SCHEMA = {"type": "json_schema", "json_schema": {"name": "person", "strict": True, "schema": {
    "type": "object", "properties": {"zname": {"type": "string"}, "age": {"type": "integer"},
                                     "mid": {"type": "string"}},
    "required": ["zname", "age", "mid"], "additionalProperties": False}}}
PNG = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8Bw"
       "HwAFBQIAX8jx0gAAAABJRU5ErkJggg==")
HI = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}]
FOLLOW_UP = [
    {"role": "user", "content": "Weather in Paris?"},
    {"role": "assistant", "content": None, "tool_calls": [{"id": "call_1", "type": "function",
        "function": {"name": "get_weather", "arguments": '{"location":"Paris"}'}}]},
    {"role": "tool", "tool_call_id": "call_1", "content": '{"temp_c": 21}'}]
# case -> (model role, request params)
CASES = {
    "plain": ("normal", {"messages": HI, "temperature": 0.2, "max_tokens": 50}),
    "stream": ("normal", {"messages": HI, "stream": True}),
    "stream_usage": ("normal", {"messages": HI, "stream": True, "stream_options": {"include_usage": True}}),
    "tools": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "tool_choice": "auto"}),
    "tools_stream": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "stream": True}),
    "tool_follow_up": ("tool", {"messages": FOLLOW_UP, "tools": TOOLS}),
    "json_schema": ("normal", {"messages": HI, "response_format": SCHEMA}),
    "reasoning": ("normal", {"messages": HI, "reasoning_effort": "low"}),
    "image": ("normal", {"messages": [{"role": "user", "content": [
        {"type": "text", "text": "What is this?"}, {"type": "image_url", "image_url": {"url": PNG}}]}]}),
    "error_429": ("e429", {"messages": HI}),
    "error_500": ("e500", {"messages": HI}),
    "context_window": ("ctx", {"messages": HI}),
    "stream_error": ("serr", {"messages": HI, "stream": True}),
}
# ---- More cases for the OpenAI-compatible rows (openai helper): run only on OPENAI_LIKE.
ERRS.update({f"e{c}": f"mock-error-{c}" for c in (400, 401, 403, 404, 413, 503)}, cfilter="mock-content-filter")
PROVIDERS["openai"]["reasoner"] = "o3-mini"
PROVIDERS["azure"]["reasoner"] = "o3-mini"
PROVIDERS["mistral"]["reasoner"] = "magistral-medium-latest"
PROVIDERS["openai"]["gpt5"] = "gpt-5-mini"
PROVIDERS["azure"]["gpt5"] = "gpt-5-mini"
OPENAI_CASES = {
    "n2": ("normal", {"messages": HI, "n": 2}),
    "logprobs": ("normal", {"messages": HI, "logprobs": True, "top_logprobs": 2}),
    "stop_seed": ("normal", {"messages": HI, "stop": ["\n\n", "END"], "seed": 7, "top_p": 0.9}),
    "penalties": ("normal", {"messages": HI, "presence_penalty": 0.5, "frequency_penalty": 0.1}),
    "user": ("normal", {"messages": HI, "user": "end-user-1"}),
    "max_completion": ("normal", {"messages": HI, "max_completion_tokens": 20}),
    "developer_role": ("normal", {"messages": [{"role": "developer", "content": "Be brief."},
                                               {"role": "user", "content": "Hi"}]}),
    "json_object": ("normal", {"messages": HI, "response_format": {"type": "json_object"}}),
    "parallel_tools": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "parallel_tool_calls": False}),
    "tool_required": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "tool_choice": "required"}),
    "tool_none": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "tool_choice": "none"}),
    "tool_named": ("tool", {"messages": FOLLOW_UP[:1], "tools": TOOLS,
                            "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}),
    "reasoner": ("reasoner", {"messages": HI, "max_tokens": 30, "reasoning_effort": "low"}),
    "reasoner_temp": ("reasoner", {"messages": HI, "temperature": 0.3}),
    "gpt5": ("gpt5", {"messages": HI, "max_tokens": 30, "reasoning_effort": "low"}),
    "gpt5_temp": ("gpt5", {"messages": HI, "temperature": 0.3}),
    "gpt5_sampling": ("gpt5", {"messages": HI, "top_p": 0.5, "stop": ["END"]}),
    "reasoner_stream": ("reasoner", {"messages": HI, "stream": True, "stream_options": {"include_usage": True},
                                     "reasoning_effort": "high"}),
    **{f"error_{c}": (f"e{c}", {"messages": HI}) for c in (400, 401, 403, 404, 413, 503)},
    "content_filter": ("cfilter", {"messages": HI}),
    "prefix": ("normal", {"messages": [{"role": "user", "content": "Say hi in French"},
                                       {"role": "assistant", "content": "Bonjour", "prefix": True}]}),
    "stream_n2": ("normal", {"messages": HI, "stream": True, "n": 2, "stream_options": {"include_usage": True}}),
}
# `_endpoint: completions`: a legacy completion (client.completions / litellm.text_completion).
FIM = {"_endpoint": "completions", "prompt": "def f(", "suffix": "return 1", "max_tokens": 20, "seed": 3,
       "temperature": 0.1, "stop": ["\n\n"], "user": "u1"}
OPENAI_CASES.update({
    "fim": ("normal", FIM),
    "fim_stream": ("normal", {**FIM, "stream": True}),
    "fim_refused": ("normal", {"_endpoint": "completions", "prompt": "def f(", "logprobs": 2}),
})
CASES.update(OPENAI_CASES)
# case -> the providers it runs on (a case not listed runs on all).
CASE_PROVIDERS = {c: OPENAI_LIKE for c in OPENAI_CASES}
# Request headers worth comparing (others: user-agent, content-length, ... are noise).
HEADERS = {"authorization", "api-key", "x-api-key", "x-goog-api-key", "anthropic-version",
           "anthropic-beta", "content-type"}
VOLATILE = {"id", "created", "system_fingerprint", "model", "response_ms", "_response_ms",
            "_hidden_params", "object", "service_tier"}


# ---------------------------------------------------------------- processes
def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_mock(bindir):
    p = subprocess.Popen([os.path.join(bindir, "llmgate-mock"), "--port", "0"], stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise RuntimeError(f"mock said {line!r}")
    return p, "http://" + line.removeprefix("listening on ")


def alias(prov, model):
    return f"{prov}--{model}"


def upstream(prov, role):
    p = PROVIDERS[prov]
    return p.get(role) or ERRS[role]


def marker(prov, role):
    """(model sent, mock behaviour header or None): a provider with "marker" sends its real
    catalog model and names the mock behaviour in the `x-mock-model` header (the mock takes
    that name in place of the model's), so catalog lookups see a real model."""
    p = PROVIDERS[prov]
    if p.get("marker") and role not in ("normal", "reasoner"):
        return p["normal"], upstream(prov, role)
    return upstream(prov, role), None


def start_gateway(bindir, mock, tmp):
    rows = []
    for prov, p in PROVIDERS.items():
        for role in ["normal", "tool", *ERRS, *(r for r in ("reasoner", "gpt5") if r in p)]:
            m, behaviour = marker(prov, role)
            rows.append(f"  - model_name: {alias(prov, upstream(prov, role))}\n    litellm_params:\n      model: {prov}/{m}\n"
                        f"      api_base: {mock}{p['base']}\n      api_key: {KEY}\n"
                        + (f"      api_version: \"{p['api_version']}\"\n" if "api_version" in p else "")
                        + (f"      extra_headers:\n        x-mock-model: {behaviour}\n" if behaviour else ""))
    cfg = os.path.join(tmp, "config.yaml")
    with open(cfg, "w") as f:
        f.write("model_list:\n" + "".join(rows))
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_")}
    env["LLMGATE_DB_PATH"] = os.path.join(tmp, "llmgate.db")
    log = open(os.path.join(tmp, "llmgate.log"), "w")
    p = subprocess.Popen([os.path.join(bindir, "llmgate"), "--config", cfg, "--port", str(port),
                          "--host", "127.0.0.1"], stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    for _ in range(400):
        if p.poll() is not None:
            raise RuntimeError("llmgate exited:\n" + open(log.name).read()[-2000:])
        try:
            urllib.request.urlopen(base + "/health/liveliness", timeout=1)
            return p, base
        except OSError:
            time.sleep(0.05)
    raise RuntimeError("llmgate did not become ready")


def recorded(mock):
    return json.load(urllib.request.urlopen(mock + "/_mock/requests"))


# ---------------------------------------------------------------- running one side
def consume(make):
    """Runs a request; returns the client-visible outcome as a plain dict."""
    out = {}
    try:
        r = make()
        if not hasattr(r, "__next__"):  # not a stream (pydantic models have __iter__ too)
            return {"response": clean(r.model_dump())}
        content, args, finish, chunks, usage = "", "", None, 0, None
        out["stream"] = True
        for ch in r:  # stream: fold the chunks
            chunks += 1
            out["mid_stream"] = True  # an error from here on comes after the stream started
            d = ch.model_dump() if hasattr(ch, "model_dump") else dict(ch)
            usage = d.get("usage") or usage
            for c in d.get("choices") or []:
                delta = c.get("delta") or {}
                content += delta.get("content") or c.get("text") or ""  # chat, or legacy completion
                for tc in delta.get("tool_calls") or []:
                    args += (tc.get("function") or {}).get("arguments") or ""
                finish = c.get("finish_reason") or finish
            out.update(content=content, tool_args=args, finish_reason=finish, chunks=chunks,
                       usage=clean(usage))
        return out
    except Exception as e:
        out["error"] = error_shape(e)
        return out


# The class the `openai` client raises for a status: what a client of the LiteLLM proxy would
# see for a LiteLLM exception with that status_code (litellm's own classes vary by provider).
STATUS_CLASS = {400: "BadRequestError", 401: "AuthenticationError", 403: "PermissionDeniedError",
                404: "NotFoundError", 409: "ConflictError", 422: "UnprocessableEntityError",
                429: "RateLimitError"}


def error_shape(e):
    status = getattr(e, "status_code", None)
    base = next((c.__name__ for c in type(e).__mro__ if c.__module__.startswith("openai")), type(e).__name__)
    if isinstance(status, int):
        base = STATUS_CLASS.get(status, "InternalServerError" if status >= 500 else "APIStatusError")
    return {"class": base, "status": status, "raw_class": type(e).__name__, "message": str(e)[:160]}


def clean(v, details=False):
    """Drops volatile fields (ids, timestamps, model names), Nones, empty containers and zero
    counts in usage `*_details`; tool call arguments are compared as parsed JSON."""
    if isinstance(v, dict):
        out = {}
        for k, x in v.items():
            if k in VOLATILE:
                continue
            if k == "arguments" and isinstance(x, str):
                try:
                    x = json.loads(x)
                except ValueError:
                    pass
            x = clean(x, k.endswith("_details"))
            if x is None or x == {} or x == [] or (details and x == 0):
                continue
            out[k] = x
        return out
    if isinstance(v, list):
        return [clean(x) for x in v]
    return v


def via_llmgate(client, prov, role, params):
    if params.pop("_endpoint", None) == "completions":
        return consume(lambda: client.completions.create(model=alias(prov, upstream(prov, role)), **params))
    return consume(lambda: client.chat.completions.create(model=alias(prov, upstream(prov, role)), **params))


def via_litellm(mock, prov, role, params):
    import litellm
    p = PROVIDERS[prov]
    extra = {"api_version": p["api_version"]} if "api_version" in p else {}
    model, behaviour = marker(prov, role)
    if behaviour:
        extra["extra_headers"] = {"x-mock-model": behaviour}
    if params.pop("_endpoint", None) == "completions":
        return consume(lambda: litellm.text_completion(
            model=f"{prov}/{model}", api_base=mock + p["base"], api_key=KEY,
            num_retries=0, max_retries=0, timeout=30, **extra, **params))
    return consume(lambda: litellm.completion(
        model=f"{prov}/{model}", api_base=mock + p["base"], api_key=KEY,
        num_retries=0, max_retries=0, timeout=30, **extra, **params))


# ---------------------------------------------------------------- comparing
def request_view(r):
    """What of an upstream request we compare."""
    q = r.get("query") or ""
    body = camel(r["body"]) if r["path"].startswith("/v1beta/") else r["body"]
    return {"method": r["method"], "path": r["path"], "query": "&".join(sorted(q.split("&"))) if q else None,
            "headers": {k: v for k, v in sorted(r["headers"].items()) if k in HEADERS}, "body": body}


def camel(v):
    """Gemini: protobuf JSON takes snake_case and lowerCamelCase alike, so both sides are
    camelized (as the mock does) -- except user data: property names, call args, responses."""
    if isinstance(v, list):
        return [camel(x) for x in v]
    if not isinstance(v, dict):
        return v
    out = {}
    for k, x in v.items():
        head, *rest = k.split("_")
        key = head + "".join(w[:1].upper() + w[1:] for w in rest)
        if key in ("args", "response", "labels"):
            out[key] = x
        elif key == "properties" and isinstance(x, dict):
            out[key] = {n: camel(s) for n, s in x.items()}
        else:
            out[key] = camel(x)
    return out


def schema_orders(v, path="", out=None):
    """Key order of every schema object (`properties` maps and objects holding them)."""
    out = {} if out is None else out
    if isinstance(v, dict):
        if "properties" in v or path.endswith(".properties"):
            out[path] = list(v)
        for k, x in v.items():
            schema_orders(x, f"{path}.{k}", out)
    elif isinstance(v, list):
        for i, x in enumerate(v):
            schema_orders(x, f"{path}[{i}]", out)
    return out


def diff(a, b, path=""):
    """Differences between two JSON values, order-insensitive for objects: list of lines."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in list(a) + [k for k in b if k not in a]:
            if k not in b:
                out.append(f"{path}.{k}: only llmgate = {short(a[k])}")
            elif k not in a:
                out.append(f"{path}.{k}: only litellm = {short(b[k])}")
            else:
                out += diff(a[k], b[k], f"{path}.{k}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [d for i, (x, y) in enumerate(zip(a, b)) for d in diff(x, y, f"{path}[{i}]")]
    return [] if a == b else [f"{path}: llmgate {short(a)} vs litellm {short(b)}"]


def short(v, n=90):
    s = json.dumps(v, sort_keys=True)
    return s if len(s) <= n else s[:n] + "..."


def compare_answers(a, b):
    """Differences in what the client saw, plus notes that are not counted as differences."""
    a, b = dict(a), dict(b)
    notes = []
    if a.get("mid_stream") and b.get("mid_stream") and "error" in a and "error" in b:
        # After a 200 the proxy can only end the stream with an error event: no status.
        ea, eb = a.pop("error"), b.pop("error")
        notes.append(f"mid-stream error: llmgate {ea['class']} vs litellm {eb['raw_class']}/{eb['status']}")
    for side in (a, b):
        if "error" in side:  # class + status decide; the message is context only
            side["error"] = {k: side["error"][k] for k in ("class", "status")}
    for side in (a, b):  # streamed tool arguments compare as parsed JSON too
        try:
            side["tool_args"] = json.loads(side["tool_args"])
        except (KeyError, ValueError):
            pass
    ca, cb = a.pop("chunks", None), b.pop("chunks", None)
    out = diff(a, b)
    if ca is not None and cb is not None and abs(ca - cb) > 2:
        out.append(f".chunks: llmgate {ca} vs litellm {cb}")
    return out, notes


def run_case(mock, client, prov, case):
    role, params = CASES[case]
    n0 = len(recorded(mock))
    ours = via_llmgate(client, prov, role, json.loads(json.dumps(params)))
    n1 = len(recorded(mock))
    theirs = via_litellm(mock, prov, role, json.loads(json.dumps(params)))
    reqs = recorded(mock)
    ra, rb = reqs[n0:n1], reqs[n1:]
    lines, notes = [], []
    if ra and rb:  # (i) upstream request: first attempt of each side
        va, vb = request_view(ra[0]), request_view(rb[0])
        lines += ["upstream " + d for d in diff(va, vb)]
        oa, ob = schema_orders(va["body"]), schema_orders(vb["body"])
        for k in sorted(set(oa) & set(ob)):
            if oa[k] != ob[k] and sorted(oa[k]) == sorted(ob[k]):
                lines.append(f"key order {k}: llmgate {oa[k]} vs litellm {ob[k]}")
    elif ra or rb:
        lines.append(f"upstream: only {'llmgate' if ra else 'litellm'} reached the mock")
    if len(ra) != len(rb):
        notes.append(f"attempts llmgate {len(ra)} vs litellm {len(rb)}")
    answer, more = compare_answers(ours, theirs)  # (ii) client-visible answer
    lines += ["answer " + d for d in answer]
    notes += more
    detail = {"llmgate": ours, "litellm": theirs,
              "upstream_llmgate": [request_view(r) for r in ra], "upstream_litellm": [request_view(r) for r in rb]}
    return lines, notes, detail


# ---------------------------------------------------------------- deliberate differences
# A difference line matching one of these is reported as "deliberate", not as agreement, and only
# while the README's "llmgate and LiteLLM" table has a row starting with that text (the reason is
# there). (providers or None for all, regex on the difference line, README row's first cell.)
DELIBERATE = [
    (OPENAI_LIKE - {"mistral"}, r"upstream \.body\.stream_options: only llmgate = \{\"include_usage\": true\}$",
     "a stream without `stream_options`"),
    ({"deepseek"}, r"upstream \.body\.messages\[\d+\]\.content: llmgate \[.*image_url.* vs litellm \"",
     "an image to a DeepSeek model without vision"),
    # (providers, cases, regex, row): only in these cases.
    (NO_STREAM_OPTIONS, {"stream_usage", "reasoner_stream", "stream_n2"},
     r"^(upstream \.body\.stream_options: only llmgate = \{\"include_usage\": true\}|answer \.usage\.\w+:.*)$",
     "a stream to a vendor whose LiteLLM config lacks `stream_options`"),
    ({"deepinfra"}, {"tool_none"}, r"^upstream \.body\.tool_choice: only llmgate = \"none\"$",
     "`tool_choice: \"none\"` to DeepInfra"),
]


def readme_rows():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "README.md")
    try:
        text = open(path).read()
    except OSError:
        return []
    return [l.split("|")[1].strip() for l in text.split("## llmgate and LiteLLM", 1)[-1].splitlines()
            if l.startswith("|") and l.count("|") >= 3]


def deliberate(prov, case, lines, rows):
    """The README rows explaining every line, or None when a line is not a listed difference."""
    import re
    why = []
    for line in lines:
        row = next((e[-1] for e in DELIBERATE if (e[0] is None or prov in e[0])
                    and (len(e) == 3 or case in e[1])
                    and re.search(e[-2], line) and any(x.startswith(e[-1]) for x in rows)), None)
        if row is None:
            return None
        why.append(row)
    return sorted(set(why))


def applies(prov, case):
    role = CASES[case][0]
    only = PROVIDERS[prov].get("cases")
    if only is not None or CASES[case][1].get("_endpoint"):
        return case in (only or ())
    return prov in CASE_PROVIDERS.get(case, PROVIDERS) and (role in PROVIDERS[prov] or role in ERRS)


# ---------------------------------------------------------------- report
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--verbose", action="store_true", help="print full diffs and both sides")
    ap.add_argument("--only", choices=list(PROVIDERS), action="append", help="these providers")
    ap.add_argument("--case", action="append", choices=list(CASES), help="only these cases")
    target = os.environ.get("CARGO_TARGET_DIR") or os.path.expanduser("~/.cache/llmgate/target")
    ap.add_argument("--bin", default=os.path.join(target, "debug"))
    args = ap.parse_args()
    try:
        import openai  # noqa: F401
    except ImportError:
        subprocess.run([sys.executable, "-m", "pip", "install", "-q", "openai"], check=False)
    import litellm, openai
    litellm.suppress_debug_info = True
    litellm.set_verbose = False
    procs = []
    try:
        with tempfile.TemporaryDirectory(prefix="llmgate-parity-") as tmp:
            mp, mock = start_mock(args.bin)
            procs.append(mp)
            gp, gw = start_gateway(args.bin, mock, tmp)
            procs.append(gp)
            client = openai.OpenAI(base_url=gw, api_key="sk-anything", max_retries=0, timeout=30)
            report(mock, client, args.only or list(PROVIDERS), args.case or list(CASES), args.verbose)
    except Exception as e:
        print(f"harness error: {type(e).__name__}: {e}")
    finally:
        for p in procs:
            p.terminate()
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
    return 0


def report(mock, client, providers, cases, verbose):
    summary = {}
    rows = readme_rows()
    print(f"{'provider':12} {'case':15} result")
    for prov in providers:
        same = listed = total = 0
        for case in cases:
            if not applies(prov, case):
                continue
            total += 1
            try:
                lines, notes, detail = run_case(mock, client, prov, case)
                why = deliberate(prov, case, lines, rows) if lines else None
                if not lines:
                    verdict = "same"
                elif why:
                    verdict = "deliberate (README: " + "; ".join(why) + ")"
                else:
                    verdict = f"differs ({len(lines)}): {lines[0][:110]}"
            except Exception as e:  # the harness itself failed on this case
                lines, notes, detail, why = [], [], None, None
                verdict = f"error: {type(e).__name__}: {str(e)[:100]}"
                if verbose:
                    traceback.print_exc()
            same += verdict == "same"
            listed += bool(lines and why)
            print(f"{prov:12} {case:15} {verdict}" + (f"  [{'; '.join(notes)}]" if notes else ""))
            if verbose and (lines or detail):
                for l in lines:
                    print("      " + l)
                if lines and not why:
                    print("      full: " + json.dumps(detail, sort_keys=True)[:4000])
        summary[prov] = (same, listed, total)
    print("\nagreement per provider (same; + deliberate = README-listed differences):")
    for prov, (same, listed, total) in summary.items():
        total = total or 1
        print(f"  {prov:12} same {same}/{total} = {100 * same / total:.0f}%, deliberate {listed}, "
              f"same+deliberate {100 * (same + listed) / total:.0f}%")


if __name__ == "__main__":
    try:
        main()
    except SystemExit:  # argparse usage errors too: a report always exits 0
        pass
    sys.exit(0)
