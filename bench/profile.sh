#!/usr/bin/env bash
# Where the gateway's CPU goes: the same setup as run.sh (mock upstream, llmgate, a virtual key
# with full governance), wrk at one concurrency, and `perf record` (software clock, so it works
# without hardware counters) on the gateway. Builds with frame pointers into a target dir of its
# own; prints the hottest functions (self and with children) and keeps perf.data.
#   BENCH_CONNS=32  BENCH_DURATION=15s  BENCH_PROF_OUT=/tmp/llmgate-profile  BENCH_PROF_KEY=vkey|master
set -euo pipefail
cd "$(dirname "$0")/.."

CONNS="${BENCH_CONNS:-32}"
DURATION="${BENCH_DURATION:-15s}"
OUT="${BENCH_PROF_OUT:-/tmp/llmgate-profile}"
MASTER="sk-bench-master-0123456789"
export CARGO_TARGET_DIR="${BENCH_PROF_TARGET:-${CARGO_TARGET_DIR:-$HOME/.cache/llmgate/target}-prof}"
source bench/lib.sh
bench_init

command -v perf >/dev/null || apt-get install -y -q linux-perf >/dev/null

echo "== building release binaries with frame pointers ($CARGO_TARGET_DIR)"
RUSTFLAGS="-C force-frame-pointers=yes" CARGO_PROFILE_RELEASE_DEBUG=line-tables-only \
  cargo build --release --quiet -p llmgate-server -p llmgate-mock
BIN="$CARGO_TARGET_DIR/release"

start_mock "$BIN/llmgate-mock"
write_config "$MASTER"
start_gateway "$BIN/llmgate"
KEY="$MASTER"
if [ "${BENCH_PROF_KEY:-vkey}" = vkey ]; then make_vkey "$MASTER"; KEY="$VKEY"; fi

mkdir -p "$OUT"
threads=$((CONNS < 2 ? CONNS : 2))
BENCH_KEY="$KEY" wrk -t"$threads" -c"$CONNS" -d2s -s bench/post.lua "http://127.0.0.1:$GW_PORT" >/dev/null
perf record -q -e cpu-clock -F 999 -g -p "$GW_PID" -o "$OUT/perf.data" &
PERF=$!
sleep 0.5
BENCH_KEY="$KEY" wrk -t"$threads" -c"$CONNS" -d"$DURATION" -s bench/post.lua "http://127.0.0.1:$GW_PORT" | grep RESULT
kill -INT "$PERF"; wait "$PERF" 2>/dev/null || true
echo "== self time (top 45)"
perf report -i "$OUT/perf.data" --no-children --sort symbol --stdio 2>/dev/null | grep -E '^ +[0-9]' | head -45
echo "== with children (top 60)"
perf report -i "$OUT/perf.data" --children --sort symbol --stdio -g none 2>/dev/null | grep -E '^ +[0-9]' | head -60
echo "(perf.data in $OUT)"
