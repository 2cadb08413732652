#!/usr/bin/env python3
"""Per-call overhead of the Python SDK: `llmgate.completion` vs `litellm.completion`, each in
its own interpreter, against the same mock upstream (`llmgate-mock --no-record`, loopback).

    python bench/python_sdk.py                       # llmgate only (installed in this python)
    python bench/python_sdk.py --litellm-python ~/.cache/llmgate/litellm-venv/bin/python

Reports, per SDK: sequential blocking calls (p50/p99 latency, calls/s) and `acompletion`
throughput at concurrency 32 on one event loop; the mock's own time is in both."""
import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HELLO = [{"role": "user", "content": "Hello"}]


def worker(sdk: str, base: str, n: int, conc: int) -> dict:
    if sdk == "litellm":
        os.environ.setdefault("LITELLM_LOCAL_MODEL_COST_MAP", "True")
        import litellm as lib

        lib.telemetry = False
    else:
        import llmgate as lib
    kw = {"model": "openai/gpt-4o", "messages": HELLO, "api_base": f"{base}/v1", "api_key": "sk-bench"}
    for _ in range(min(200, n)):  # warm-up: imports, pools, caches
        lib.completion(**kw)
    lat = []
    t0 = time.perf_counter()
    for _ in range(n):
        t = time.perf_counter()
        r = lib.completion(**kw)
        lat.append(time.perf_counter() - t)
        assert r.choices[0].message.content
    wall = time.perf_counter() - t0
    lat.sort()

    async def many():
        sem = asyncio.Semaphore(conc)

        async def one():
            async with sem:
                await lib.acompletion(**kw)

        t = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(n)))
        return time.perf_counter() - t

    async_wall = asyncio.run(many())
    return {
        "sdk": sdk,
        "p50_ms": statistics.median(lat) * 1000,
        "p99_ms": lat[int(len(lat) * 0.99) - 1] * 1000,
        "seq_calls_per_s": n / wall,
        "async_calls_per_s": n / async_wall,
    }


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--worker", choices=["llmgate", "litellm"])
    ap.add_argument("--base")
    ap.add_argument("-n", type=int, default=2000)
    ap.add_argument("--concurrency", type=int, default=32)
    ap.add_argument("--litellm-python", help="a python with litellm installed (optional)")
    ap.add_argument("--mock-bin", default=os.environ.get("LLMGATE_MOCK_BIN") or str(
        Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target")) / "release" / "llmgate-mock"))
    a = ap.parse_args()
    if a.worker:
        print(json.dumps(worker(a.worker, a.base, a.n, a.concurrency)))
        return
    mock = subprocess.Popen([a.mock_bin, "--port", "0", "--no-record"], stdout=subprocess.PIPE, text=True)
    try:
        base = "http://" + mock.stdout.readline().strip().removeprefix("listening on ")
        runs = [(sys.executable, "llmgate")]
        if a.litellm_python:
            runs.append((a.litellm_python, "litellm"))
        rows = []
        for py, sdk in runs:
            out = subprocess.run([py, __file__, "--worker", sdk, "--base", base, "-n", str(a.n),
                                  "--concurrency", str(a.concurrency)],
                                 check=True, capture_output=True, text=True).stdout
            rows.append(json.loads(out.strip().splitlines()[-1]))
        print(f"| SDK | p50 ms | p99 ms | sequential calls/s | acompletion calls/s (conc {a.concurrency}) |")
        print("|---|---:|---:|---:|---:|")
        for r in rows:
            print(f"| {r['sdk']} | {r['p50_ms']:.3f} | {r['p99_ms']:.3f} | "
                  f"{r['seq_calls_per_s']:.0f} | {r['async_calls_per_s']:.0f} |")
    finally:
        mock.kill()
        mock.wait()


if __name__ == "__main__":
    main()
