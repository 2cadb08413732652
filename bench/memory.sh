#!/usr/bin/env bash
# Memory and start-up: the gateway's start-to-ready time and RSS idle, then RSS sampled while
# wrk drives virtual-key requests (full governance, spend logged to the embedded SQLite) until
# BENCH_MEM_REQUESTS have been served, then idle again; then a burst of BENCH_MEM_BURST
# concurrent connections. Prints one line per sample: requests so far, RSS, heap (anonymous).
#   BENCH_MEM_REQUESTS=1000000  BENCH_MEM_CONNS=32  BENCH_MEM_STEP=10s  BENCH_MEM_BURST=10000
#   BENCH_MEM_LATE=<seconds>: one more sample that much later (0: none)
#   BENCH_MEM_BIN=<a llmgate binary> (default: build the release binaries)
#   BENCH_MEM_MOCK=<a llmgate-mock binary> (default: the release one)
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/llmgate/target}"
REQUESTS="${BENCH_MEM_REQUESTS:-1000000}"
CONNS="${BENCH_MEM_CONNS:-32}"
STEP="${BENCH_MEM_STEP:-10s}"
BURST="${BENCH_MEM_BURST:-10000}"
MASTER="sk-bench-master-0123456789"
source bench/lib.sh
bench_init

if [ -z "${BENCH_MEM_BIN:-}" ]; then
  echo "== building release binaries"
  cargo build --release --quiet -p llmgate-server -p llmgate-mock
fi
BIN="$CARGO_TARGET_DIR/release"
GW_BIN="${BENCH_MEM_BIN:-$BIN/llmgate}"

start_mock "${BENCH_MEM_MOCK:-$BIN/llmgate-mock}"
write_config "$MASTER"

rss() { awk '/^Rss:/{r=$2} /^Anonymous:/{a=$2} END{printf "rss %.1f MB, heap %.1f MB", r/1024, a/1024}' "/proc/$GW_PID/smaps_rollup"; }

start_ns=$(date +%s%N)
start_gateway "$GW_BIN"
ready_ms=$(( ($(date +%s%N) - start_ns) / 1000000 ))
echo "start to ready: ${ready_ms} ms (includes the probe's 0.1 s polling)"
sleep 2
echo "idle: $(rss)"

make_vkey "$MASTER"
done_n=0
threads=$((CONNS < 2 ? CONNS : 2))
while [ "$done_n" -lt "$REQUESTS" ]; do
  out="$(BENCH_KEY="$VKEY" wrk -t"$threads" -c"$CONNS" -d"$STEP" -s bench/post.lua \
    "http://127.0.0.1:$GW_PORT" 2>&1)"
  n="$(echo "$out" | sed -n 's/^ *\([0-9]*\) requests in.*/\1/p')"
  done_n=$((done_n + ${n:-0}))
  echo "after $done_n requests: $(rss)  $(echo "$out" | grep RESULT)"
done
sleep 12 # a spend batch and the allocator's purge
echo "idle after load: $(rss)"

# Many connections at once: the connection cap answers or refuses, memory stays bounded.
ulimit -n $((BURST + 1024)) 2>/dev/null || true
out="$(BENCH_KEY="$VKEY" wrk -t2 -c"$BURST" -d5s --timeout 10s -s bench/post.lua \
  "http://127.0.0.1:$GW_PORT" 2>&1 || true)"
echo "burst of $BURST connections: $(rss)  $(echo "$out" | grep -E 'RESULT|Socket errors' | tr '\n' ' ')"
sleep 12
echo "idle after burst: $(rss)"
if [ "${BENCH_MEM_LATE:-0}" -gt 0 ]; then # past the upstream pool's 90 s idle timeout, say
  sleep "$BENCH_MEM_LATE"
  echo "idle $((BENCH_MEM_LATE + 12)) s after burst: $(rss)"
fi
