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

    /work/litellm-venv/bin/python scripts/compare/parity.py [--verbose] [--only PROVIDER]
        [--bin DIR]   # default: $CARGO_TARGET_DIR/debug or ~/.cache/llmgate/target/debug
vertex_ai needs google-auth next to LiteLLM (both sides sign in at the mock's token endpoint with
its test service account). Differences the README table lists are reported as "deliberate".

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
    "gemini": {"normal": "gemini-2.5-flash", "tool": "gemini-2.5-flash", "base": "/v1beta", "by_header": True,
               "gemma": "gemma-3-27b-it", "g3": "gemini-3-pro-preview"},
    "vertex_ai": {"normal": "gemini-2.5-flash", "tool": "gemini-2.5-flash", "base": "", "by_header": True,
                  "vertex": True, "g3": "gemini-3-pro-preview"},
}
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

# ---------------------------------------------------------------- Google (gemini, vertex_ai)
# The mock picks a Google behaviour from the `x-mock-behaviour` header (else the model name), so
# these providers call a real catalog model (`gemini-2.5-flash`): LiteLLM shapes the request by
# its catalog entry (system instruction, schema support), and an unknown `mock-error-429` would
# make both sides fold the system prompt into the user turn, a path real deployments never take.
MOCK_HEADER = "x-mock-behaviour"
GOOGLE = {"gemini", "vertex_ai"}
GOOGLE_ROLES = {"tool": "mock-tool", "parallel": "mock-tool-parallel", "safety": "mock-safety",
                "blocked": "mock-blocked", "e400": "mock-error-400", "e401": "mock-error-401",
                "e403": "mock-error-403", "e404": "mock-error-404", "e503": "mock-error-503",
                "badkey": None, "gemma": None, "g3": None}
ROLE_KEY = {"badkey": "bad-key-parity"}  # the mock answers a `bad-` key as Google does (400)
WEATHER_2 = [{"role": "user", "content": "Weather in Paris and Lyon?"}]
GOOGLE_CASES = {
    "thinking_stream": ("normal", {"messages": HI, "reasoning_effort": "low", "stream": True}),
    "tool_required": ("normal", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "tool_choice": "required"}),
    "tool_named": ("normal", {"messages": FOLLOW_UP[:1], "tools": TOOLS,
                              "tool_choice": {"type": "function", "function": {"name": "get_weather"}}}),
    "tool_none": ("normal", {"messages": FOLLOW_UP[:1], "tools": TOOLS, "tool_choice": "none"}),
    "parallel_tools": ("parallel", {"messages": WEATHER_2, "tools": TOOLS}),
    "parallel_stream": ("parallel", {"messages": WEATHER_2, "tools": TOOLS, "stream": True}),
    "stop_n": ("normal", {"messages": HI, "stop": ["\n\n", "END"], "n": 2, "top_p": 0.9, "seed": 7,
                          "max_completion_tokens": 40}),
    "json_object": ("normal", {"messages": HI, "response_format": {"type": "json_object"}}),
    "system_only": ("normal", {"messages": HI[:1]}),
    "safety": ("safety", {"messages": HI}),
    "blocked": ("blocked", {"messages": HI}),
    "blocked_stream": ("blocked", {"messages": HI, "stream": True}),
    "safety_stream": ("safety", {"messages": HI, "stream": True, "stream_options": {"include_usage": True}}),
    "bad_key": ("badkey", {"messages": HI}),
    # Per-model capabilities from the catalog: Gemma takes no system instruction and does not
    # think; Gemini 3 takes no penalties (Vertex refuses them, AI Studio drops them).
    "gemma_system": ("gemma", {"messages": HI}),
    "gemma_reasoning": ("gemma", {"messages": HI, "reasoning_effort": "low"}),
    "penalties_g3": ("g3", {"messages": HI, "frequency_penalty": 0.5, "presence_penalty": 0.1}),
    "penalties": ("normal", {"messages": HI, "frequency_penalty": 0.5, "presence_penalty": 0.1}),
    "logprobs": ("normal", {"messages": HI, "logprobs": True, "top_logprobs": 3}),
    "logit_bias": ("normal", {"messages": HI, "logit_bias": {"50256": -100}}),
    # Google's built-in tools: Search grounding (sources as annotations, searches counted),
    # OpenAI's web_search_options, a search tool next to functions (dropped), code execution.
    "google_search": ("normal", {"messages": HI, "tools": [{"googleSearch": {}}]}),
    "web_search_options": ("normal", {"messages": HI, "web_search_options": {}}),
    "search_and_functions": ("normal", {"messages": FOLLOW_UP[:1], "tools": [*TOOLS, {"googleSearch": {}}]}),
    "code_execution": ("normal", {"messages": HI, "tools": [{"codeExecution": {}}]}),
    # Message shapes and generation params.
    "multi_system": ("normal", {"messages": [
        {"role": "system", "content": "A"}, {"role": "system", "content": [{"type": "text", "text": "B"},
                                                                          {"type": "text", "text": "C"}]},
        {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Yo"}, {"role": "user", "content": "Again"}]}),
    "assistant_parts": ("normal", {"messages": [{"role": "user", "content": "Hi"}, {"role": "assistant", "content": [
        {"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}, {"role": "user", "content": "c"}]}),
    "empty_user": ("normal", {"messages": [{"role": "user", "content": ""}]}),
    "tool_no_params": ("normal", {"messages": FOLLOW_UP[:1], "tools": [
        {"type": "function", "function": {"name": "now", "description": "The time"}}]}),
    "schema_defs": ("normal", {"messages": HI, "response_format": {"type": "json_schema", "json_schema": {
        "name": "x", "schema": {"type": "object", "$defs": {"p": {"type": "object", "properties": {"n": {"type": "string"}}}},
                                "properties": {"a": {"$ref": "#/$defs/p"}, "b": {"type": ["string", "null"]}},
                                "required": ["a"]}}}}),
    "reasoning_none": ("normal", {"messages": HI, "reasoning_effort": "none"}),
    "reasoning_minimal": ("normal", {"messages": HI, "reasoning_effort": "minimal"}),
    "reasoning_g3": ("g3", {"messages": HI, "reasoning_effort": "high"}),
    "modalities": ("normal", {"messages": HI, "modalities": ["text"]}),
    **{f"error_{r[1:]}": (r, {"messages": HI}) for r in ("e400", "e401", "e403", "e404", "e503")},
}
CASES.update(GOOGLE_CASES)
VERTEX_PROJECT, VERTEX_LOCATION = "mock-project", "us-central1"


# Differences the README's "llmgate and LiteLLM" table lists as deliberate, with its row:
# (providers, cases, start of the diff line).
DELIBERATE = [
    (GOOGLE, {"google_search", "web_search_options"}, "answer .response.choices[0].message.annotations",
     "Gemini grounding support of the answer's first sentence"),
    (GOOGLE, {"empty_user"}, "upstream .body.contents[0].parts[0].text", "an empty user message (Gemini)"),
]


def deliberate(prov, case, line):
    return next((row for provs, cs, start, row in DELIBERATE
                 if prov in provs and case in cs and line.startswith(start)), None)


def case_applies(prov, case):
    if case not in GOOGLE_CASES:
        return True
    role = GOOGLE_CASES[case][0]
    return prov in GOOGLE and (role not in ("badkey", "gemma") or prov == "gemini")


def gw_name(prov, role):
    """The llmgate model_name of a provider's role."""
    return f"{prov}--{role}" if PROVIDERS[prov].get("by_header") else alias(prov, upstream(prov, role))


def mock_headers(prov, role):
    if not PROVIDERS[prov].get("by_header"):
        return {}
    b = GOOGLE_ROLES.get(role) if role in GOOGLE_ROLES else ERRS.get(role)
    return {MOCK_HEADER: b} if b else {}


def vertex_params(mock):
    sa = urllib.request.urlopen(mock + "/_mock/service_account").read().decode()
    return {"vertex_project": VERTEX_PROJECT, "vertex_location": VERTEX_LOCATION, "vertex_credentials": sa}


def google_roles(prov):
    return [r for r in GOOGLE_ROLES if r not in ("badkey", "gemma") or prov == "gemini"] if prov in GOOGLE else []


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
    if p.get("by_header"):
        return p.get(role) or p["normal"]
    return p.get(role) or ERRS[role]


def start_gateway(bindir, mock, tmp):
    rows = []
    for prov, p in PROVIDERS.items():
        for role in ["normal", "tool", *ERRS, *google_roles(prov)]:
            m = upstream(prov, role)
            extra = "".join(f"      {k}: {json.dumps(v)}\n" for k, v in
                            (vertex_params(mock) if p.get("vertex") else {}).items())
            hdr = mock_headers(prov, role)
            if hdr:
                extra += "      extra_headers:\n" + "".join(f"        {k}: {v}\n" for k, v in hdr.items())
            rows.append(f"  - model_name: {gw_name(prov, role)}\n    litellm_params:\n      model: {prov}/{m}\n"
                        f"      api_base: {mock}{p['base']}\n      api_key: {ROLE_KEY.get(role, KEY)}\n" + extra
                        + (f"      api_version: \"{p['api_version']}\"\n" if "api_version" in p else ""))
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
        content, args, finish, chunks, usage, reasoning = "", "", None, 0, None, ""
        out["stream"] = True
        for ch in r:  # stream: fold the chunks
            chunks += 1
            out["mid_stream"] = True  # an error from here on comes after the stream started
            d = ch.model_dump() if hasattr(ch, "model_dump") else dict(ch)
            usage = d.get("usage") or usage
            for c in d.get("choices") or []:
                delta = c.get("delta") or {}
                content += delta.get("content") or ""
                reasoning += delta.get("reasoning_content") or ""
                for tc in delta.get("tool_calls") or []:
                    args += (tc.get("function") or {}).get("arguments") or ""
                finish = c.get("finish_reason") or finish
            out.update(content=content, tool_args=args, finish_reason=finish, chunks=chunks,
                       usage=clean(usage), **({"reasoning": reasoning} if reasoning else {}))
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
    return consume(lambda: client.chat.completions.create(model=gw_name(prov, role), **params))


def via_litellm(mock, prov, role, params):
    import litellm
    p = PROVIDERS[prov]
    extra = {"api_version": p["api_version"]} if "api_version" in p else {}
    if p.get("vertex"):
        extra.update(vertex_params(mock))
    if mock_headers(prov, role):
        extra["extra_headers"] = mock_headers(prov, role)
    return consume(lambda: litellm.completion(
        model=f"{prov}/{upstream(prov, role)}", api_base=mock + p["base"], api_key=ROLE_KEY.get(role, KEY),
        num_retries=0, max_retries=0, timeout=30, **extra, **params))


# ---------------------------------------------------------------- comparing
def request_view(r):
    """What of an upstream request we compare."""
    q = r.get("query") or ""
    google = r["path"].startswith("/v1beta/") or "/publishers/google/" in r["path"]
    body = camel(r["body"]) if google else r["body"]
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
    # Vertex's OAuth token exchange (a signed JWT, new each time) is auth, not the call.
    ra, rb = [[r for r in x if r["path"] != "/token"] for x in (reqs[n0:n1], reqs[n1:])]
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


# ---------------------------------------------------------------- report
def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--verbose", action="store_true", help="print full diffs and both sides")
    ap.add_argument("--only", choices=list(PROVIDERS), help="one provider")
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
            provs = [args.only] if args.only else list(PROVIDERS)
            try:  # LiteLLM's Vertex path signs in with google-auth (against the mock's /token)
                import google.auth  # noqa: F401
            except ImportError:
                if "vertex_ai" in provs:
                    print("vertex_ai skipped: LiteLLM needs google-auth (pip install google-auth)")
                    provs.remove("vertex_ai")
            report(mock, client, provs, args.case or list(CASES), args.verbose)
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
    summary, chosen = {}, {}
    print(f"{'provider':10} {'case':15} result")
    totals = {}
    for prov in providers:
        same = kept = 0
        mine = [c for c in cases if case_applies(prov, c)]
        totals[prov] = len(mine)
        for case in mine:
            try:
                lines, notes, detail = run_case(mock, client, prov, case)
                rows = {deliberate(prov, case, l) for l in lines}
                if lines and None not in rows:
                    verdict = "deliberate: " + "; ".join(sorted(rows))
                    kept += 1
                else:
                    verdict = "same" if not lines else f"differs ({len(lines)}): {lines[0][:110]}"
            except Exception as e:  # the harness itself failed on this case
                lines, notes, detail = [], [], None
                verdict = f"error: {type(e).__name__}: {str(e)[:100]}"
                if verbose:
                    traceback.print_exc()
            same += verdict == "same"
            print(f"{prov:10} {case:15} {verdict}" + (f"  [{'; '.join(notes)}]" if notes else ""))
            if verbose and (lines or detail):
                for l in lines:
                    print("      " + l)
                if lines:
                    print("      full: " + json.dumps(detail, sort_keys=True)[:4000])
        summary[prov], chosen[prov] = same, kept
    print("\nagreement per provider:")
    for prov, same in summary.items():
        n = totals[prov] or 1
        print(f"  {prov:10} {same}/{totals[prov]} = {100 * same / n:.0f}%"
              + (f", deliberate (README) {chosen[prov]}: agree or deliberate {100 * (same + chosen[prov]) / n:.0f}%"
                 if chosen[prov] else ""))


if __name__ == "__main__":
    try:
        main()
    except SystemExit:  # argparse usage errors too: a report always exits 0
        pass
    sys.exit(0)
