#!/usr/bin/env python3
"""Parity check, LiteLLM vs llmgate, for the JSON-defined OpenAI-like rows, Databricks and
Hugging Face that `crates/llmgate/tests/golden_compat_like.rs` snapshots: the `full` fixture
sent with LiteLLM (drop_params, as the test) to a local `llmgate-mock`, its body diffed with the
snapshot `like.<provider>.snap`. Dev tool, not part of the test suite.

    cargo build -p llmgate-mock
    /work/litellm-venv/bin/python scripts/compare/like.py

Known, deliberate difference (shared by every OpenAI-compatible row, see mistral.py): LiteLLM
names a `file_data` part without a filename 'my_file.pdf'; it is ignored here.
"""
import json, os, subprocess, sys, urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import mistral as m  # noqa: E402  (fixture/snapshot readers)

PROVIDERS = ["databricks", "huggingface", "cloudflare", "publicai", "helicone", "chutes"]


def unnamed(v):
    if isinstance(v, dict):
        return {k: unnamed(x) for k, x in v.items()
                if not (k == "filename" and x == "my_file.pdf")}
    if isinstance(v, list):
        return [unnamed(x) for x in v]
    return v


def main():
    os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(m.ROOT, "target"))
    mock = subprocess.Popen([os.path.join(target, "debug", "llmgate-mock"), "--port", "0"],
                            stdout=subprocess.PIPE, text=True)
    base = "http://" + mock.stdout.readline().split()[-1]
    import litellm
    failed = 0
    try:
        for p in PROVIDERS:
            req = m.fixture("full")
            req["model"] = p + "/some-org/some-model"
            r = litellm.completion(api_base=base + "/v1/", api_key="sk-up", drop_params=True, **req)
            for _ in r:
                pass
            theirs = unnamed(json.load(urllib.request.urlopen(base + "/_mock/requests"))[-1]["body"])
            ours = m.snapshot("like." + p)
            same = theirs == ours
            print(("same  " if same else "DIFF  ") + p)
            for k in sorted(set(theirs) | set(ours)):
                if theirs.get(k) != ours.get(k):
                    print(f"    {k}:\n      litellm: {json.dumps(theirs.get(k))[:600]}\n      llmgate: {json.dumps(ours.get(k))[:600]}")
            failed += not same
    finally:
        mock.terminate()
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
