#!/usr/bin/env bash
# Load test: the mock upstream directly, then through llmgate (and the LiteLLM proxy with
# BENCH_LITELLM=1), same request, same machine. Prints throughput and latency side by side.
#   BENCH_CONNS="1 32 128"  BENCH_DURATION=10s  BENCH_THREADS=2  BENCH_STREAM_N=2000  BENCH_LITELLM=0  BENCH_LITELLM_VENV=...
#   BENCH_BASELINE_BIN=/path/to/older/llmgate (an A/B row from another build, same run)
#   BENCH_BIN=dir (llmgate, llmgate-mock, llmgate-relay already built; no cargo build)
#   BENCH_PG=1: also a gateway on PostgreSQL (spend written there), virtual key
#   BENCH_REDIS=1: also one on PostgreSQL + Redis (limits shared through it), virtual key
#   BENCH_FLEET=1: two instances sharing PostgreSQL + Redis, each driven by its own wrk with
#     half the connections (their throughputs summed, the worse p99), one virtual key
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


if [ -n "${BENCH_BIN:-}" ]; then
  BIN="$BENCH_BIN" # llmgate, llmgate-mock and llmgate-relay built already
else
  echo "== building release binaries"
  cargo build --release --quiet -p llmgate-server -p llmgate-mock
  BIN="$CARGO_TARGET_DIR/release"
fi

start_mock "$BIN/llmgate-mock"
write_config "$MASTER"
start_gateway "$BIN/llmgate"

# The floor: a bare hyper relay in front of the same mock (one server and one client exchange
# per request, nothing read): the gateway's ratio to direct is to be read against this one's.
RELAY_PORT="$(free_port)"
"$BIN/llmgate-relay" --port "$RELAY_PORT" --upstream "http://127.0.0.1:$MOCK_PORT" >"$WORK/relay.out" &
PIDS+=($!)
for _ in $(seq 50); do grep -q listening "$WORK/relay.out" && break; sleep 0.1; done

TARGETS=("mock-direct $MOCK_PORT sk-upstream" "relay $RELAY_PORT sk-upstream" "llmgate $GW_PORT $MASTER")
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
# Instances on PostgreSQL (and Redis): their own database for this run, one virtual key made
# on the first and used on every one (which reads it from the shared database).
if [ "${BENCH_PG:-0}${BENCH_REDIS:-0}${BENCH_FLEET:-0}" != 000 ]; then
  pg_database
  PG_URL="postgresql://postgres@127.0.0.1:5432/$BENCH_PG_DB"
  REDIS="redis://127.0.0.1:6379/${BENCH_REDIS_DB:-7}"
  start_instance pg "$BIN/llmgate" DATABASE_URL="$PG_URL"
  PG_PORT="$INST_PORT"
  GW_SAVED="$GW_PORT"; GW_PORT="$PG_PORT"; make_vkey "$MASTER"; GW_PORT="$GW_SAVED"
  [ "${BENCH_PG:-0}" = 1 ] && TARGETS+=("llmgate-pg $PG_PORT $VKEY")
  if [ "${BENCH_REDIS:-0}${BENCH_FLEET:-0}" != 00 ]; then
    start_instance redis-a "$BIN/llmgate" DATABASE_URL="$PG_URL" REDIS_URL="$REDIS"
    REDIS_A="$INST_PORT"
    [ "${BENCH_REDIS:-0}" = 1 ] && TARGETS+=("llmgate-redis $REDIS_A $VKEY")
  fi
  if [ "${BENCH_FLEET:-0}" = 1 ]; then
    start_instance redis-b "$BIN/llmgate" DATABASE_URL="$PG_URL" REDIS_URL="$REDIS"
    TARGETS+=("fleet-2 $REDIS_A,$INST_PORT $VKEY")
  fi
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

fleet_wrk() { # "port1,port2" key conns -> one RESULT line: summed rps, the worse p50/p99
  local a="${1%,*}" b="${1#*,}" half=$(( $3 > 1 ? $3 / 2 : 1 ))
  local th=$(( half < THREADS ? half : THREADS ))
  for p in "$a" "$b"; do
    BENCH_KEY="$2" wrk -t"$th" -c"$half" -d2s -s bench/post.lua "http://127.0.0.1:$p" >/dev/null &
  done
  wait
  for p in "$a" "$b"; do
    BENCH_KEY="$2" wrk -t"$th" -c"$half" -d"$DURATION" -s bench/post.lua "http://127.0.0.1:$p" | grep RESULT >"$WORK/fleet.$p" &
  done
  wait
  python3 - "$WORK/fleet.$a" "$WORK/fleet.$b" <<'PY'
import re, sys
rows = [dict(re.findall(r"(\w+)=([0-9.]+)", open(f).read())) for f in sys.argv[1:]]
s = lambda k: sum(float(r[k]) for r in rows)
m = lambda k: max(float(r[k]) for r in rows)
print(f"RESULT rps={s('rps'):.0f} p50={m('p50'):.3f} p99={m('p99'):.3f} errors={s('errors'):.0f} non2xx={s('non2xx'):.0f}")
PY
}

declare -A RPS P99
printf '\n%-12s %5s %10s %9s %9s %7s\n' target conns req/s p50_ms p99_ms errors
for conns in $CONNS; do
  threads=$((conns < THREADS ? conns : THREADS))
  for t in "${TARGETS[@]}"; do
    read -r name port key <<<"$t"
    if [[ "$port" == *,* ]]; then
      line="$(fleet_wrk "$port" "$key" "$conns")"
    else
      BENCH_KEY="$key" wrk -t"$threads" -c"$conns" -d2s -s bench/post.lua "http://127.0.0.1:$port" >/dev/null
      line="$(BENCH_KEY="$key" wrk -t"$threads" -c"$conns" -d"$DURATION" -s bench/post.lua "http://127.0.0.1:$port" | grep RESULT)"
    fi
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
  for t in "${TARGETS[@]}"; do
    read -r name _ _ <<<"$t"
    [ "$name" = mock-direct ] && continue
    python3 - "${RPS[mock-direct.$conns]}" "${RPS[$name.$conns]}" "${P99[mock-direct.$conns]}" "${P99[$name.$conns]}" "$conns" "$name" <<'PY'
import sys
d_rps, g_rps, d_p99, g_p99, c = map(float, sys.argv[1:6])
print(f"c={int(c)}: {sys.argv[6]} throughput = {100 * g_rps / d_rps:.0f}% of direct; added p99 = {g_p99 - d_p99:.3f} ms")
PY
  done
done

echo
printf '%-12s %9s %9s  (streaming, time to first byte, %s requests at concurrency 16)\n' target p50_ms p99_ms "$STREAM_N"
for t in "${TARGETS[@]}"; do
  read -r name port key <<<"$t"
  port="${port%%,*}" # a fleet's first instance
  python3 bench/ttfb.py 127.0.0.1 "$port" /v1/chat/completions "$key" 200 16 >/dev/null
  line="$(python3 bench/ttfb.py 127.0.0.1 "$port" /v1/chat/completions "$key" "$STREAM_N" 16)"
  p50="$(sed 's/.*p50=\([0-9.]*\).*/\1/' <<<"$line")"
  p99="$(sed 's/.*p99=\([0-9.]*\).*/\1/' <<<"$line")"
  printf '%-12s %9s %9s\n' "$name" "$p50" "$p99"
done
