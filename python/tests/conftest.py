"""The `llmgate` package against the real mock upstream (`llmgate-mock`), which speaks the
OpenAI, Anthropic, Gemini and Cohere wire protocols; nothing but loopback is reached."""
import json
import os
import subprocess
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
_TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or Path.home() / ".cache" / "llmgate" / "target")
MOCK_BIN = os.environ.get("LLMGATE_MOCK_BIN", str(_TARGET / "debug" / "llmgate-mock"))


class Mock:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([MOCK_BIN, "--port", "0"], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        self.base = "http://" + line.removeprefix("listening on ")

    def requests(self) -> list:
        """The requests the mock has received (method, path, headers, body)."""
        with urllib.request.urlopen(f"{self.base}/_mock/requests", timeout=5) as r:
            return json.load(r)

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="session")
def mock():
    m = Mock()
    yield m
    m.stop()


@pytest.fixture(autouse=True)
def _no_provider_env(monkeypatch):
    """Credentials come from each test, never from the machine's environment."""
    for k in ("OPENAI_API_KEY", "OPENAI_API_BASE", "ANTHROPIC_API_KEY", "ANTHROPIC_API_BASE",
              "GEMINI_API_KEY", "GOOGLE_API_KEY", "GEMINI_API_BASE", "COHERE_API_KEY"):
        monkeypatch.delenv(k, raising=False)


@pytest.fixture
def providers(mock):
    """Per provider: the model and the call options that send it to the mock."""
    return {
        "openai": ("openai/gpt-4o", {"api_base": f"{mock.base}/v1", "api_key": "sk-openai"}),
        "anthropic": ("anthropic/claude-sonnet-4-5",
                      {"api_base": mock.base, "api_key": "sk-ant"}),
        "gemini": ("gemini/gemini-2.5-flash",
                   {"api_base": f"{mock.base}/v1beta", "api_key": "gm-key"}),
    }
