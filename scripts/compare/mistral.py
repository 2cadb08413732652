#!/usr/bin/env python3
"""Parity check, LiteLLM vs llmgate, for the OpenAI-compatible rows (openai, mistral, codestral).

Dev tool, not part of the test suite (CI has no LiteLLM). For every fixture and provider that
`crates/llmgate/tests/golden_compat.rs` snapshots, it sends the same request with LiteLLM to a
local `llmgate-mock`, reads the body the mock received, and diffs it with llmgate's body (the
snapshot `crates/llmgate/tests/snapshots/<fixture>.<provider>.snap`). Objects compare without
regard to key order, except tool schemas, whose key order must match too.

    cargo build -p llmgate-mock
    /work/litellm-venv/bin/python scripts/compare/mistral.py [--mock PATH] [--verbose]

Exit status 1 when a body differs. Known, deliberate differences are listed in KNOWN.
"""
import argparse, json, os, subprocess, sys, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS = os.path.join(ROOT, "crates", "llmgate", "tests")
FIXTURES = ["basic", "full", "tool-call", "multi-turn-tools", "reasoning"]
PROVIDERS = ["openai", "mistral", "codestral"]
# (fixture, provider) -> why llmgate differs on purpose.
# All are OpenAI base-class behaviours of LiteLLM, shared by every row, not Mistral's.
FILENAME = "LiteLLM names a file_data part without filename 'my_file.pdf'; llmgate sends the part as given"
KNOWN = {
    ("full", "openai"): FILENAME,
    ("full", "mistral"): FILENAME,
    ("full", "codestral"): FILENAME,
}


def fixture(name):
    sub = "" if name in ("basic", "full") else "chat"
    with open(os.path.join(TESTS, "fixtures", sub, name + ".json")) as f:
        return json.load(f)


def snapshot(name):
    with open(os.path.join(TESTS, "snapshots", name + ".snap")) as f:
        text = f.read()
    return json.loads(text.split("---\n", 2)[2])


def main():
    ap = argparse.ArgumentParser()
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    ap.add_argument("--mock", default=os.path.join(target, "debug", "llmgate-mock"))
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    mock = subprocess.Popen([args.mock, "--port", "0"], stdout=subprocess.PIPE, text=True)
    try:
        addr = mock.stdout.readline().split()[-1]
        return compare("http://" + addr, args.verbose)
    finally:
        mock.terminate()


def params(body):
    """The tool schemas, serialized in their key order."""
    return [json.dumps((t.get("function") or {}).get("parameters")) for t in body.get("tools") or []]


def compare(base, verbose):
    # LiteLLM fetches its cost map from the internet at import unless told to use its own copy.
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    import litellm

    failed = 0
    for name in FIXTURES:
        for provider in PROVIDERS:
            req = fixture(name)
            req["model"] = provider + "/" + req["model"]
            try:
                r = litellm.completion(api_base=base + "/v1", api_key="sk-up",
                                       drop_params=(name == "full"), **req)
                if req.get("stream"):
                    for _ in r:
                        pass
            except Exception as e:  # a refusal is a result too
                print(f"ERROR  {name}.{provider}: LiteLLM raised {type(e).__name__}: {str(e)[:120]}")
                failed += 1
                continue
            theirs = json.load(urllib.request.urlopen(base + "/_mock/requests"))[-1]["body"]
            ours = snapshot(f"{name}.{provider}")
            same = theirs == ours and params(theirs) == params(ours)
            label = "same" if same else ("KNOWN" if (name, provider) in KNOWN else "DIFF")
            print(f"{label:6} {name}.{provider}" + (f": {KNOWN[(name, provider)]}" if label == "KNOWN" else ""))
            if not same and (verbose or label == "DIFF"):
                for k in sorted(set(theirs) | set(ours)):
                    if theirs.get(k) != ours.get(k) or (k == "tools" and params(theirs) != params(ours)):
                        print(f"    {k}:\n      litellm: {json.dumps(theirs.get(k))[:400]}\n      llmgate: {json.dumps(ours.get(k))[:400]}")
            failed += label == "DIFF"
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
