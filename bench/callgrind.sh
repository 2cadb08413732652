#!/usr/bin/env bash
# Instructions per request (deterministic, unlike wall-clock figures on a shared box): the gateway
# runs under `valgrind --tool=callgrind`, a virtual key (full governance, spend logged) sends
# BENCH_CG_WARM requests uncounted, then BENCH_CG_N counted ones, including the spend batch that
# writes them. Prints the total per request and the functions that cost most (inclusive).
#   BENCH_CG_BIN=dir-with-llmgate-and-llmgate-mock (default: $CARGO_TARGET_DIR/release, built)
#   BENCH_CG_N=1000 BENCH_CG_WARM=1000 BENCH_CG_OUT=file (the callgrind output, kept)
# Compare totals only between builds of the same merge base (other merged features move them).
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/llmgate/target}"
N="${BENCH_CG_N:-1000}"
WARM="${BENCH_CG_WARM:-1000}"
MASTER="sk-bench-master-0123456789"
source bench/lib.sh
bench_init
command -v valgrind >/dev/null || apt-get install -y -q valgrind >/dev/null
if [ -z "${BENCH_CG_BIN:-}" ]; then
  cargo build --release --quiet -p llmgate-server -p llmgate-mock
  BENCH_CG_BIN="$CARGO_TARGET_DIR/release"
fi
OUT="${BENCH_CG_OUT:-$WORK/callgrind.out}"

start_mock "$BENCH_CG_BIN/llmgate-mock"
write_config "$MASTER"
GW_PORT="$(free_port)"
RUST_LOG=warn valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file="$OUT" \
  "$BENCH_CG_BIN/llmgate" --config "$WORK/config.yaml" --host 127.0.0.1 --port "$GW_PORT" \
  2>"$WORK/llmgate.log" &
GW_PID=$!
PIDS+=($GW_PID)
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$GW_PORT/health/liveliness" >/dev/null && break; sleep 0.1; done
make_vkey "$MASTER"

send() { # count: keep-alive requests, one at a time, every answer checked
  python3 - "$1" "$GW_PORT" "$VKEY" <<'PY'
import http.client, sys
n, port, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
c = http.client.HTTPConnection("127.0.0.1", port)
body = b'{"model":"bench","messages":[{"role":"user","content":"Hello"}]}'
for _ in range(n):
    c.request("POST", "/v1/chat/completions", body,
              {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
}
send "$WARM"
sleep 2 # the warm-up's spend batch lands before counting starts
callgrind_control -i on "$GW_PID" >/dev/null
send "$N"
sleep 2 # the counted requests' spend batch
callgrind_control -i off "$GW_PID" >/dev/null
callgrind_control -d "$GW_PID" >/dev/null
sleep 1
kill "$GW_PID"; wait "$GW_PID" 2>/dev/null || true
F="$(ls -S "$OUT"* | head -1)" # the dump taken on request (the biggest)
TOTAL="$(callgrind_annotate "$F" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) (100.0%).*PROGRAM TOTALS.*/\1/p' | tr -d ,)"
echo "instructions per request: $((TOTAL / N)) (total $TOTAL over $N requests)"
callgrind_annotate --inclusive=yes "$F" 2>/dev/null | sed -n '/file:function/,$p' | head -"${BENCH_CG_TOP:-45}"
[ -n "${BENCH_CG_OUT:-}" ] && ls "$OUT"* || true
