"""The real Codex CLI (`codex exec`) through llmgate's `/v1/responses` to an OpenAI-compatible
chat-only upstream (the mock): a model provider with `wire_api = "responses"` and a virtual key
in an env var, as a Codex user sets it up. Nothing leaves loopback: the provider is llmgate,
update checks and analytics are off."""
import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest

from conftest import MASTER, Gateway

CODEX = os.environ.get("LLMGATE_CODEX_BIN",
                       str(Path.home() / ".cache" / "llmgate" / "npm" / "node_modules" / ".bin" / "codex"))

pytestmark = pytest.mark.skipif(not Path(CODEX).exists(), reason="Codex CLI not installed (scripts/test.sh installs it)")


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("codex-gw")
    b = f"{mock.base}/v1"
    cfg = "model_list:\n"
    for name, model in [("codex-plain", "hosted_vllm/qwen-chat"),
                        ("codex-slow", "hosted_vllm/mock-stream-slow-150"),
                        ("codex-agent", "hosted_vllm/mock-agent")]:
        cfg += (f"  - model_name: {name}\n    litellm_params:\n      model: {model}\n"
                f"      api_base: {b}\n      api_key: sk-upstream\n")
    cfg += f"general_settings:\n  master_key: {MASTER}\n"
    g = Gateway(tmp, cfg, env={"LLMGATE_DB_PATH": str(tmp / "db.sqlite")}).wait_ready()
    yield g
    g.stop()


@pytest.fixture(scope="module")
def vkey(gw):
    req = urllib.request.Request(f"{gw.base}/key/generate", method="POST", data=b"{}",
                                 headers={"Authorization": f"Bearer {MASTER}", "Content-Type": "application/json"})
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read())["key"]


def mock_requests(mock):
    with urllib.request.urlopen(f"{mock.base}/_mock/requests") as r:
        return [x for x in json.loads(r.read()) if x["path"] == "/v1/chat/completions"]


def codex(gw, tmp_path, key, model, prompt, *flags):
    home = tmp_path / "codex-home"
    home.mkdir(exist_ok=True)
    (home / "config.toml").write_text(f"""
model = "{model}"
model_provider = "llmgate"
check_for_update_on_startup = false

[model_providers.llmgate]
name = "llmgate"
base_url = "{gw.base}/v1"
env_key = "LLMGATE_VIRTUAL_KEY"
wire_api = "responses"
request_max_retries = 0
stream_max_retries = 0

[analytics]
enabled = false

[otel]
exporter = "none"
""")
    work = tmp_path / "work"
    work.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("OPENAI_", "CODEX_"))}
    env.update({"CODEX_HOME": str(home), "LLMGATE_VIRTUAL_KEY": key, "NO_COLOR": "1"})
    return subprocess.run(
        [CODEX, "exec", "--skip-git-repo-check", "--json", *flags, prompt],
        cwd=work, env=env, stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=60)


def events(out):
    return [json.loads(line) for line in out.stdout.splitlines() if line.startswith("{")]


def agent_messages(out):
    return [e["item"]["text"] for e in events(out)
            if e.get("type") == "item.completed" and e["item"].get("type") == "agent_message"]


def test_plain_prompt(gw, mock, vkey, tmp_path):
    before = len(mock_requests(mock))
    out = codex(gw, tmp_path, vkey, "codex-plain", "Say hello")
    assert out.returncode == 0, out.stderr + out.stdout
    assert agent_messages(out) == ["Hello from mock"]
    sent = mock_requests(mock)[before:]
    assert len(sent) == 1
    body = sent[0]["body"]
    assert body["model"] == "qwen-chat"
    assert body["messages"][-1] == {"role": "user", "content": "Say hello"}
    assert body["stream"] is True
    turn = [e for e in events(out) if e.get("type") == "turn.completed"][0]
    assert turn["usage"]["input_tokens"] == 10 and turn["usage"]["output_tokens"] == 5


def test_streamed_answer(gw, mock, vkey, tmp_path):
    """Chunks 150 ms apart: the answer is streamed through and assembled by Codex."""
    out = codex(gw, tmp_path, vkey, "codex-slow", "Stream me something")
    assert out.returncode == 0, out.stderr + out.stdout
    assert agent_messages(out) == ["Hello from mock"]


def test_shell_tool_round_trip(gw, mock, vkey, tmp_path):
    """The mock calls Codex's shell tool first (`echo mock-tool-ran`), then answers with the
    tool's output once it is in the conversation."""
    before = len(mock_requests(mock))
    out = codex(gw, tmp_path, vkey, "codex-agent", "Run a command",
                "--dangerously-bypass-approvals-and-sandbox")
    assert out.returncode == 0, out.stderr + out.stdout
    evs = events(out)
    runs = [e["item"] for e in evs if e.get("type") == "item.completed"
            and e["item"].get("type") == "command_execution"]
    assert runs and "mock-tool-ran" in runs[0]["command"], evs
    assert "mock-tool-ran" in runs[0]["aggregated_output"]
    final = agent_messages(out)
    assert final and final[-1].startswith("Tool result:") and "mock-tool-ran" in final[-1]
    sent = mock_requests(mock)[before:]
    assert len(sent) == 2
    first, second = sent[0]["body"], sent[1]["body"]
    tool = second["messages"][-1]
    assert tool["role"] == "tool" and "mock-tool-ran" in tool["content"]
    call = second["messages"][-2]["tool_calls"][0]
    assert call["id"] == tool["tool_call_id"]
    assert call["function"]["name"] in [t["function"]["name"] for t in first["tools"]]


def test_wrong_key_is_refused_and_nothing_goes_upstream(gw, mock, tmp_path):
    before = len(mock_requests(mock))
    out = codex(gw, tmp_path, "sk-not-a-key", "codex-plain", "Say hello")
    text = out.stdout + out.stderr
    assert "401" in text, text
    assert agent_messages(out) == []
    assert len(mock_requests(mock)) == before
