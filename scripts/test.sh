#!/usr/bin/env bash
# Runs every test: format and lint checks, Rust unit and integration tests, then the end-to-end
# suite (the real binaries driven by the official Python clients). Installs what it needs.
set -euo pipefail
cd "$(dirname "$0")/.."

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/llmgate/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
VENV="${LLMGATE_TEST_VENV:-$HOME/.cache/llmgate/venv}"

echo "== services: PostgreSQL and Redis on 127.0.0.1 (started if they are down)"
if ! pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; then
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no
fi

echo "== cargo fmt --check"
cargo fmt --all -- --check

echo "== cargo clippy"
cargo clippy --workspace --all-targets --quiet -- -D warnings

echo "== cargo build (binaries for the end-to-end suite)"
cargo build --workspace --bins --quiet

echo "== Rust tests"
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run --workspace --no-fail-fast
else
  cargo test --workspace --no-fail-fast
fi

echo "== the SDK's MCP helper (the llmgate crate's \`mcp\` feature): lint and its test"
cargo clippy -p llmgate --features mcp --all-targets --quiet -- -D warnings
if cargo nextest --version >/dev/null 2>&1; then
  cargo nextest run -p llmgate --features mcp --test mcp_tools --no-fail-fast
else
  cargo test -p llmgate --features mcp --test mcp_tools --no-fail-fast
fi

echo "== Python end-to-end tests"
# The dashboard's browser tests run Debian's chromium (never a downloaded browser).
if [ ! -x /usr/bin/chromium ]; then
  apt-get install -y chromium >/dev/null || { apt-get update >/dev/null && apt-get install -y chromium >/dev/null; }
fi
if [ ! -x "$VENV/bin/python" ]; then
  python3 -m venv "$VENV"
fi
"$VENV/bin/pip" install --quiet --disable-pip-version-check -r e2e/requirements.txt
# The coding agents the /v1/messages and /v1/responses bridges are judged with (npm registry
# only: their native binaries come in platform packages from the same registry).
NPM_DIR="${LLMGATE_TEST_NPM:-$HOME/.cache/llmgate/npm}"
CLAUDE_CODE_VERSION=2.1.332
CODEX_VERSION=0.171.0
if [ "$("$NPM_DIR/node_modules/.bin/claude" --version 2>/dev/null | cut -d' ' -f1)" != "$CLAUDE_CODE_VERSION" ] ||
   [ "$("$NPM_DIR/node_modules/.bin/codex" --version 2>/dev/null | cut -d' ' -f2)" != "$CODEX_VERSION" ]; then
  mkdir -p "$NPM_DIR"
  npm install --prefix "$NPM_DIR" --no-audit --no-fund --loglevel=error \
    "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION" "@openai/codex@$CODEX_VERSION"
fi
export LLMGATE_CLAUDE_BIN="$NPM_DIR/node_modules/.bin/claude"
export LLMGATE_CODEX_BIN="$NPM_DIR/node_modules/.bin/codex"
export LLMGATE_BIN="$CARGO_TARGET_DIR/debug/llmgate"
export LLMGATE_MOCK_BIN="$CARGO_TARGET_DIR/debug/llmgate-mock"
# The dashboard tests' screenshots of every page, kept for review.
export LLMGATE_UI_SCREENSHOTS="${LLMGATE_UI_SCREENSHOTS:-$CARGO_TARGET_DIR/ui-screenshots}"
"$VENV/bin/python" -m pytest e2e -q

echo "== Python package (python/): pip install ./python, then its tests against the mock"
# maturin (the PEP 517 backend, from PyPI) builds with PyO3's extension-module settings, which
# differ from the plain cargo builds above: a target dir of its own keeps both incremental
# instead of rebuilding PyO3 each time. The dev profile keeps the build short.
CARGO_TARGET_DIR="$CARGO_TARGET_DIR/python-package" MATURIN_PEP517_ARGS="--profile dev" \
  "$VENV/bin/pip" install --quiet --disable-pip-version-check --force-reinstall --no-deps ./python
"$VENV/bin/python" -m pytest python/tests -q
