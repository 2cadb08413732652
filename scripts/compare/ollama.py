#!/usr/bin/env python3
"""Parity check, LiteLLM vs llmgate, for Ollama (`ollama/` → /api/generate, `ollama_chat/` → /api/chat).

Dev tool, not part of the test suite (CI has no LiteLLM). Every chat fixture that
`crates/llmgate/tests/golden_ollama.rs` snapshots is sent with LiteLLM (drop_params, as the
snapshot) to a local `llmgate-mock`; the body the mock received is diffed with llmgate's body in
the snapshot.

    cargo build -p llmgate-mock
    /work/litellm-venv/bin/python scripts/compare/ollama.py [--mock PATH] [--verbose]

Exit status 1 when a body differs outside KNOWN.
"""
import argparse, json, os, subprocess, sys, urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTS = os.path.join(ROOT, "crates", "llmgate", "tests")
APIS = {"ollama": "/api/generate", "ollama_chat": "/api/chat"}
ORDER = "a tool's keys in the prompt in llmgate's struct order (type, function; name, description, parameters, then the rest), not as sent"
KNOWN = {
    ("claude-schemas.json", "ollama"): ORDER,
    ("tool-call.json", "ollama"): ORDER,
}


def snapshot(api):
    text = open(os.path.join(TESTS, "snapshots", f"golden_ollama__requests.{api}.snap")).read()
    return json.loads(text.split("---", 2)[2])


def main():
    ap = argparse.ArgumentParser()
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    ap.add_argument("--mock", default=os.path.join(target, "debug", "llmgate-mock"))
    ap.add_argument("--verbose", action="store_true")
    args = ap.parse_args()
    import litellm

    mock = subprocess.Popen([args.mock, "--port", "0"], stdout=subprocess.PIPE, text=True)
    base = "http://" + mock.stdout.readline().strip().removeprefix("listening on ")
    bad = 0
    try:
        for api, path in APIS.items():
            ours = snapshot(api)
            for name, body in ours.items():
                req = json.load(open(os.path.join(TESTS, "fixtures", "chat", name)))
                req.pop("stream", None)
                model = req.pop("model")
                try:
                    litellm.completion(model=f"{api}/{model}", api_base=base, drop_params=True, **req)
                except Exception as e:  # an answer LiteLLM cannot read still sent its body
                    if args.verbose:
                        print(f"  ({name} {api}: {type(e).__name__})")
                sent = [r for r in json.loads(urllib.request.urlopen(f"{base}/_mock/requests").read()) if r["path"] == path]
                theirs = sent[-1]["body"] if sent else None
                same = theirs == body
                if not same and (name, api) not in KNOWN:
                    bad += 1
                tag = "same" if same else ("known: " + KNOWN[(name, api)] if (name, api) in KNOWN else "DIFF")
                print(f"{api:12} {name:28} {tag}")
                if not same and args.verbose:
                    print("  litellm", json.dumps(theirs, sort_keys=True))
                    print("  llmgate", json.dumps(body, sort_keys=True))
    finally:
        mock.kill()
    sys.exit(1 if bad else 0)


main()
