#!/usr/bin/env bash
# Load test: the mock upstream directly, then through llmgate (and the LiteLLM proxy with
# BENCH_LITELLM=1), same request, same machine. Prints throughput and latency side by side.
#   BENCH_CONNS="1 32 128"  BENCH_DURATION=10s  BENCH_THREADS=2  BENCH_STREAM_N=2000  BENCH_LITELLM=0  BENCH_LITELLM_VENV=...
#   BENCH_BASELINE_BIN=/path/to/older/llmgate (an A/B row from another build, same run)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/llmgate/target}"
DURATION="${BENCH_DURATION:-10s}"
THREADS="${BENCH_THREADS:-2}"
STREAM_N="${BENCH_STREAM_N:-2000}"
# Concurrency 1 shows the per-request overhead; 32 and 128 show throughput under saturation.
CONNS="${BENCH_CONNS:-1 32 128}"
MASTER="sk-bench-master-0123456789"
source bench/lib.sh
bench_init


echo "== building release binaries"
cargo build --release --quiet -p llmgate-server -p llmgate-mock
BIN="$CARGO_TARGET_DIR/release"

start_mock "$BIN/llmgate-mock"
write_config "$MASTER"
start_gateway "$BIN/llmgate"

TARGETS=("mock-direct $MOCK_PORT sk-upstream" "llmgate $GW_PORT $MASTER")
if [ -n "${BENCH_BASELINE_BIN:-}" ]; then
  # Another llmgate build (e.g. an earlier commit's release binary), same config, same run:
  # an A/B on one machine in one run is the only comparison the ratios support.
  mkdir -p "$WORK/baseline"
  BASE_PORT="$(free_port)"
  # Its own database: the embedded SQLite sits beside the config otherwise, and an older build
  # refuses a schema a newer one migrated.
  (cd "$WORK/baseline" && LLMGATE_DB_PATH="$WORK/baseline/llmgate.db" RUST_LOG=warn \
    exec "$BENCH_BASELINE_BIN" --config "$WORK/config.yaml" --host 127.0.0.1 \
    --port "$BASE_PORT" 2>"$WORK/baseline.log") &
  PIDS+=($!)
  wait_up "http://127.0.0.1:$BASE_PORT/health/liveliness"
  TARGETS+=("baseline $BASE_PORT $MASTER")
fi
if [ "${BENCH_VKEY:-0}" = 1 ]; then
  make_vkey "$MASTER"
  TARGETS+=("llmgate-vkey $GW_PORT $VKEY")
fi
if [ "${BENCH_LITELLM:-0}" = 1 ]; then
  VENV="${BENCH_LITELLM_VENV:-$HOME/.cache/llmgate/litellm-venv}"
  if [ ! -x "$VENV/bin/litellm" ]; then
    echo "== installing LiteLLM 1.110.2 into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet litellm==1.110.2 gunicorn uvicorn fastapi starlette backoff rq uvloop \
      orjson apscheduler cryptography python-multipart email-validator websockets PyJWT semver expression \
      fastapi-sso mcp soundfile litellm-proxy-extras litellm-enterprise
  fi
  LL_PORT="$(free_port)"
  LITELLM_LOCAL_MODEL_COST_MAP=True LITELLM_LOG=ERROR "$VENV/bin/litellm" --config "$WORK/config.yaml" \
    --host 127.0.0.1 --port "$LL_PORT" >"$WORK/litellm.log" 2>&1 &
  PIDS+=($!)
  wait_up "http://127.0.0.1:$LL_PORT/health/liveliness"
  TARGETS+=("litellm $LL_PORT $MASTER")
fi

declare -A RPS P99
printf '\n%-12s %5s %10s %9s %9s %7s\n' target conns req/s p50_ms p99_ms errors
for conns in $CONNS; do
  threads=$((conns < THREADS ? conns : THREADS))
  for t in "${TARGETS[@]}"; do
    read -r name port key <<<"$t"
    BENCH_KEY="$key" wrk -t"$threads" -c"$conns" -d2s -s bench/post.lua "http://127.0.0.1:$port" >/dev/null
    line="$(BENCH_KEY="$key" wrk -t"$threads" -c"$conns" -d"$DURATION" -s bench/post.lua "http://127.0.0.1:$port" | grep RESULT)"
    rps="$(sed 's/.*rps=\([0-9.]*\).*/\1/' <<<"$line")"
    p50="$(sed 's/.*p50=\([0-9.]*\).*/\1/' <<<"$line")"
    p99="$(sed 's/.*p99=\([0-9.]*\).*/\1/' <<<"$line")"
    errs="$(sed 's/.*errors=\([0-9]*\) non2xx=\([0-9]*\).*/\1+\2/' <<<"$line")"
    RPS[$name.$conns]="$rps"; P99[$name.$conns]="$p99"
    printf '%-12s %5s %10s %9s %9s %7s\n' "$name" "$conns" "$rps" "$p50" "$p99" "$errs"
  done
done

echo
for conns in $CONNS; do
  python3 - "${RPS[mock-direct.$conns]}" "${RPS[llmgate.$conns]}" "${P99[mock-direct.$conns]}" "${P99[llmgate.$conns]}" "$conns" <<'PY'
import sys
d_rps, g_rps, d_p99, g_p99, c = map(float, sys.argv[1:])
print(f"c={int(c)}: llmgate throughput = {100 * g_rps / d_rps:.0f}% of direct; added p99 = {g_p99 - d_p99:.3f} ms")
PY
done

echo
printf '%-12s %9s %9s  (streaming, time to first byte, %s requests at concurrency 16)\n' target p50_ms p99_ms "$STREAM_N"
for t in "${TARGETS[@]}"; do
  read -r name port key <<<"$t"
  python3 bench/ttfb.py 127.0.0.1 "$port" /v1/chat/completions "$key" 200 16 >/dev/null
  line="$(python3 bench/ttfb.py 127.0.0.1 "$port" /v1/chat/completions "$key" "$STREAM_N" 16)"
  p50="$(sed 's/.*p50=\([0-9.]*\).*/\1/' <<<"$line")"
  p99="$(sed 's/.*p99=\([0-9.]*\).*/\1/' <<<"$line")"
  printf '%-12s %9s %9s\n' "$name" "$p50" "$p99"
done
