"""The real Claude Code CLI (`claude -p`) against llmgate with a virtual key, its model mapped
to an OpenAI-compatible chat-only upstream (the mock: `mock-plain` answers text,
`mock-agent` calls the `Read` tool on the path the prompt names, then answers with what the
tool returned): a plain prompt,
a streamed answer, a tool round trip, a wrong key. A temp HOME and config dir: nothing of the
machine's user state is read, and no telemetry or update calls are made."""
import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

from conftest import MASTER, Gateway
from test_virtual_keys import admin

CLAUDE = os.environ.get("LLMGATE_CLAUDE_BIN",
                        str(Path.home() / ".cache" / "llmgate" / "npm" / "node_modules" / ".bin" / "claude"))

# scripts/test.sh installs it and names it: missing then is a failure, not a skip.
pytestmark = pytest.mark.skipif(not Path(CLAUDE).exists() and "LLMGATE_CLAUDE_BIN" not in os.environ,
                                reason=f"Claude Code is not installed at {CLAUDE}")


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("claude-code")
    cfg = f"""model_list:
  - model_name: plain
    litellm_params:
      model: openai/mock-plain
      api_base: {mock.base}/v1
      api_key: sk-upstream
  - model_name: agent
    litellm_params:
      model: openai/mock-agent
      api_base: {mock.base}/v1
      api_key: sk-upstream
      input_cost_per_token: 0.000001
      output_cost_per_token: 0.000002
  - model_name: claude-native
    litellm_params:
      model: anthropic/claude-sonnet-4-5
      api_base: {mock.base}
      api_key: sk-ant-upstream
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 0.2
"""
    g = Gateway(tmp, cfg, env={"LLMGATE_DB_PATH": str(tmp / "spend.db")}).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def key(gw):
    status, k = admin(gw, "POST", "/key/generate", {"models": ["plain", "agent", "claude-native"]})
    assert status == 200, k
    return k["key"]


def upstream(mock):
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())


def claude(gw, tmp_path, prompt, key, *args, auth_var="ANTHROPIC_API_KEY", model="plain"):
    home = tmp_path / "home"
    home.mkdir(exist_ok=True)
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "HOME": str(home),
        "CLAUDE_CONFIG_DIR": str(home / ".claude"),
        "XDG_CONFIG_HOME": str(home / ".config"),
        "ANTHROPIC_BASE_URL": gw.base,
        auth_var: key,
        "ANTHROPIC_MODEL": model,
        "ANTHROPIC_SMALL_FAST_MODEL": model,
        "ANTHROPIC_DEFAULT_HAIKU_MODEL": model,
        "ANTHROPIC_DEFAULT_SONNET_MODEL": model,
        "ANTHROPIC_DEFAULT_OPUS_MODEL": model,
        "DISABLE_TELEMETRY": "1",
        "DISABLE_AUTOUPDATER": "1",
        "DISABLE_ERROR_REPORTING": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
        "CLAUDE_CODE_MAX_RETRIES": "0",
    }
    started = time.time()
    p = subprocess.run([CLAUDE, "-p", prompt, *args], cwd=work, env=env, capture_output=True,
                       text=True, timeout=60)
    assert time.time() - started < 60
    return p


def result_of(p):
    assert p.stdout, f"no output; stderr: {p.stderr}"
    return json.loads(p.stdout)


def spend_logs(gw, key, want, timeout=10.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        _, logs = admin(gw, "GET", f"/spend/logs?api_key={key}")
        if isinstance(logs, list) and len(logs) >= want:
            return logs
        time.sleep(0.1)
    raise AssertionError("no spend log for the key")


@pytest.mark.parametrize("auth_var", ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN"])
def test_a_plain_prompt(gw, mock, tmp_path, key, auth_var):
    p = claude(gw, tmp_path, "Say hello", key, "--output-format", "json", auth_var=auth_var)
    r = result_of(p)
    assert p.returncode == 0, p.stderr
    assert r["is_error"] is False
    assert r["result"] == "Hello from mock"
    sent = upstream(mock)[-1]
    assert sent["path"] == "/v1/chat/completions"
    assert sent["body"]["model"] == "mock-plain"
    assert sent["body"]["messages"][0]["role"] == "system"
    logs = spend_logs(gw, key, 1)
    assert {log["call_type"] for log in logs} == {"anthropic_messages"}
    assert all(log["model_group"] == "plain" for log in logs)


def test_a_streamed_answer(gw, mock, tmp_path, key):
    p = claude(gw, tmp_path, "Say hello", key, "--output-format", "stream-json", "--verbose",
               "--include-partial-messages")
    assert p.returncode == 0, p.stderr
    lines = [json.loads(line) for line in p.stdout.splitlines() if line.strip()]
    deltas = [line["event"]["delta"]["text"] for line in lines
              if line.get("type") == "stream_event" and line["event"]["type"] == "content_block_delta"]
    assert len(deltas) > 1, "the answer arrived in several deltas"
    assert "".join(deltas) == "Hello from mock"
    assert lines[-1]["type"] == "result" and lines[-1]["result"] == "Hello from mock"
    assert upstream(mock)[-1]["body"]["stream"] is True


def test_a_tool_round_trip_with_read(gw, mock, tmp_path, key):
    (tmp_path / "work").mkdir()
    notes = tmp_path / "work" / "notes.txt"
    notes.write_text("42 apples\n")
    p = claude(gw, tmp_path, f"Read the file {notes} and tell me what it says.", key,
               "--output-format", "json", "--allowedTools", "Read", model="agent")
    r = result_of(p)
    assert p.returncode == 0, p.stderr
    assert "42 apples" in r["result"]
    assert r["num_turns"] >= 2
    calls = [c for c in upstream(mock) if c["path"] == "/v1/chat/completions"]
    follow = calls[-1]["body"]["messages"]
    assert follow[-2]["tool_calls"][0]["function"]["name"] == "Read"
    assert follow[-1]["role"] == "tool"
    assert "42 apples" in follow[-1]["content"]
    assert follow[-1]["tool_call_id"] == follow[-2]["tool_calls"][0]["id"]


def test_an_anthropic_upstream_gets_the_request_as_claude_code_sent_it(gw, mock, tmp_path, key):
    p = claude(gw, tmp_path, "Say hello", key, "--output-format", "json", model="claude-native")
    r = result_of(p)
    assert p.returncode == 0, p.stderr
    assert r["result"] == "Hello from mock"
    sent = upstream(mock)[-1]
    assert sent["path"] == "/v1/messages"
    assert sent["headers"]["x-api-key"] == "sk-ant-upstream"
    assert "claude-code-20250219" in sent["headers"]["anthropic-beta"]
    assert sent["body"]["model"] == "claude-sonnet-4-5"
    assert "cache_control" in json.dumps(sent["body"]["system"]), "passed natively"
    assert sent["body"]["stream"] is True


def test_a_wrong_key(gw, mock, tmp_path):
    before = len(upstream(mock))
    p = claude(gw, tmp_path, "Say hello", "sk-not-a-key", "--output-format", "json")
    assert p.returncode != 0
    r = result_of(p)
    assert r["is_error"] is True
    assert r["api_error_status"] == 401
    assert "Authentication Error" in r["result"]
    assert len(upstream(mock)) == before, "nothing went upstream"
