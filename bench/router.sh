#!/usr/bin/env bash
# Micro-benchmark of the router's choice of a deployment: mean time per pick (and per pick +
# drop) for each routing strategy, tag filtering and pre-call checks, over groups of 1, 10 and
# 1 000 deployments, in-process (no HTTP). Prints a markdown table.
#   BENCH_PICKS=200000  BENCH_PICKS_1000=20000
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/llmgate/target}"
echo "== building the release example" >&2
cargo build --release --quiet -p llmgate --example router_pick
"$CARGO_TARGET_DIR/release/examples/router_pick" "${BENCH_PICKS:-200000}" "${BENCH_PICKS_1000:-20000}"
