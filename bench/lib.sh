# Shared by run.sh, profile.sh and memory.sh (sourced): a temp dir and the processes to stop at
# exit, ports, the mock upstream, the gateway's config and a virtual key with full governance.

bench_init() { # -> WORK (a temp dir, removed at exit), PIDS (killed at exit); wrk installed
  WORK="$(mktemp -d)"
  PIDS=()
  trap bench_cleanup EXIT
  command -v wrk >/dev/null || { echo "installing wrk"; apt-get install -y -q wrk >/dev/null; }
}

bench_cleanup() {
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  wait 2>/dev/null || true
  if [ -n "${BENCH_PG_DB:-}" ]; then
    psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $BENCH_PG_DB" >/dev/null 2>&1 || true
  fi
  rm -rf "$WORK"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

wait_up() { # url
  for _ in $(seq 300); do curl -sf "$1" >/dev/null && return 0; sleep 0.1; done
  echo "no answer from $1" >&2; return 1
}

start_mock() { # mock binary -> MOCK_PORT
  "$1" --port 0 --no-record >"$WORK/mock.out" &
  PIDS+=($!)
  for _ in $(seq 50); do grep -q listening "$WORK/mock.out" && break; sleep 0.1; done
  MOCK_PORT="$(sed -n 's/listening on 127.0.0.1:\([0-9]*\)/\1/p' "$WORK/mock.out")"
}

write_config() { # master key -> $WORK/config.yaml
  cat >"$WORK/config.yaml" <<YAML
model_list:
  - model_name: bench
    litellm_params:
      model: openai/gpt-4o
      api_base: http://127.0.0.1:$MOCK_PORT/v1
      api_key: sk-upstream
general_settings:
  master_key: $1
YAML
}

start_gateway() { # llmgate binary -> GW_PORT, GW_PID
  GW_PORT="$(free_port)"
  RUST_LOG=warn "$1" --config "$WORK/config.yaml" --host 127.0.0.1 --port "$GW_PORT" 2>"$WORK/llmgate.log" &
  GW_PID=$!
  PIDS+=($GW_PID)
  wait_up "http://127.0.0.1:$GW_PORT/health/liveliness"
}

start_instance() { # name, llmgate binary, then VAR=value... for its environment -> INST_PORT
  # One more gateway with its own directory (so its own embedded SQLite unless DATABASE_URL
  # says otherwise) and log, same config.
  local name="$1" bin="$2"
  shift 2
  mkdir -p "$WORK/$name"
  INST_PORT="$(free_port)"
  (cd "$WORK/$name" && exec env "$@" RUST_LOG=warn "$bin" --config "$WORK/config.yaml" \
    --host 127.0.0.1 --port "$INST_PORT" 2>"$WORK/$name/llmgate.log") &
  PIDS+=($!)
  wait_up "http://127.0.0.1:$INST_PORT/health/liveliness"
}

pg_database() { # -> BENCH_PG_DB, a fresh PostgreSQL database (dropped at exit)
  BENCH_PG_DB="llmgate_bench_$$"
  psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $BENCH_PG_DB" >/dev/null
}

make_vkey() { # master key -> VKEY
  # The path real traffic takes: a virtual key with a user, a team, a budget and rpm/tpm limits
  # (high enough never to refuse), so key lookup, budget and limit checks and spend
  # attribution are all on the measured path.
  local auth=(-H "Authorization: Bearer $1" -H 'content-type: application/json')
  curl -sf "${auth[@]}" "http://127.0.0.1:$GW_PORT/team/new" -d '{"team_id":"bench-team","max_budget":1000000}' >/dev/null
  curl -sf "${auth[@]}" "http://127.0.0.1:$GW_PORT/user/new" -d '{"user_id":"bench-user","auto_create_key":false}' >/dev/null
  VKEY="$(curl -sf "${auth[@]}" "http://127.0.0.1:$GW_PORT/key/generate" \
    -d '{"team_id":"bench-team","user_id":"bench-user","max_budget":1000000,"rpm_limit":100000000,"tpm_limit":100000000000}' |
    python3 -c 'import json,sys; print(json.load(sys.stdin)["key"])')"
}

export BENCH_BODY='{"model":"bench","messages":[{"role":"user","content":"Hello"}]}'
