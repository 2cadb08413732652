#!/usr/bin/env bash
# System calls per request (counted, so repeatable on a busy box): the bare relay
# (`llmgate-relay`, the floor) and the gateway with a virtual key, each under `strace -c -f`
# while one keep-alive client sends BENCH_SYS_N requests. A futex or an eventfd `write` per
# request means threads waking each other (a context switch each under load); the relay
# makes none.
#   BENCH_SYS_BIN=dir-with-llmgate-llmgate-mock-llmgate-relay (default: $CARGO_TARGET_DIR/release, built)
#   BENCH_SYS_N=2000
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/llmgate/target}"
N="${BENCH_SYS_N:-2000}"
MASTER="sk-bench-master-0123456789"
source bench/lib.sh
bench_init
command -v strace >/dev/null || apt-get install -y -q strace >/dev/null
if [ -z "${BENCH_SYS_BIN:-}" ]; then
  cargo build --release --quiet -p llmgate-server -p llmgate-mock
  BENCH_SYS_BIN="$CARGO_TARGET_DIR/release"
fi
start_mock "$BENCH_SYS_BIN/llmgate-mock"
write_config "$MASTER"
start_gateway "$BENCH_SYS_BIN/llmgate"
make_vkey "$MASTER"
RELAY_PORT="$(free_port)"
"$BENCH_SYS_BIN/llmgate-relay" --port "$RELAY_PORT" --upstream "http://127.0.0.1:$MOCK_PORT" >"$WORK/relay.out" &
RELAY_PID=$!
PIDS+=($RELAY_PID)
for _ in $(seq 50); do grep -q listening "$WORK/relay.out" && break; sleep 0.1; done

send() { # port key count
  python3 - "$@" <<'PY'
import http.client, os, sys
port, key, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
for _ in range(n):
    c.request("POST", "/v1/chat/completions", os.environ["BENCH_BODY"],
              {"Authorization": "Bearer " + key, "Content-Type": "application/json"})
    r = c.getresponse(); r.read()
    assert r.status == 200, r.status
PY
}

count() { # name pid port key
  send "$3" "$4" 200 # warm: connections pooled, caches filled
  strace -c -f -q -p "$2" -o "$WORK/$1.strace" &
  local st=$!
  sleep 0.5
  send "$3" "$4" "$N"
  sleep 0.5
  kill -INT "$st"; wait "$st" 2>/dev/null || true
  python3 - "$1" "$N" "$WORK/$1.strace" <<'PY'
import sys
name, n, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
rows = {}
for line in open(path):
    f = line.split()
    if len(f) >= 5 and f[0][0].isdigit() and f[-1] != "total":
        rows[f[-1]] = int(f[3])
top = sorted(rows.items(), key=lambda kv: -kv[1])
per = "  ".join(f"{k} {v / n:.2f}" for k, v in top if v / n >= 0.05)
print(f"{name:<14} {sum(rows.values()) / n:6.2f} per request: {per}")
PY
}
echo "system calls per request, $N keep-alive requests, one client"
count relay "$RELAY_PID" "$RELAY_PORT" sk-upstream
count llmgate-vkey "$GW_PID" "$GW_PORT" "$VKEY"
