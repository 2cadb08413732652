"""Starts the real binaries: the mock upstream (`llmgate-mock`) and `llmgate` with a config."""
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
_CACHE_TARGET = Path.home() / ".cache" / "llmgate" / "target"
TARGET = Path(os.environ.get("CARGO_TARGET_DIR") or (_CACHE_TARGET if _CACHE_TARGET.exists() else ROOT / "target"))
LLMGATE_BIN = os.environ.get("LLMGATE_BIN", str(TARGET / "debug" / "llmgate"))
MOCK_BIN = os.environ.get("LLMGATE_MOCK_BIN", str(TARGET / "debug" / "llmgate-mock"))
MASTER = "sk-e2e-master-key-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url: str, proc: subprocess.Popen, timeout: float = 20.0) -> None:
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"process exited with {proc.returncode} before {url} answered")
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"{url} did not answer within {timeout}s")


class Mock:
    def __init__(self) -> None:
        self.proc = subprocess.Popen([MOCK_BIN, "--port", "0"], stdout=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline().strip()
        assert line.startswith("listening on "), line
        self.addr = line.removeprefix("listening on ")
        self.base = f"http://{self.addr}"

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()


class Gateway:
    """One `llmgate` process; its stderr goes to a log file printed when a test fails."""

    def __init__(self, tmp: Path, config: str, env: dict | None = None, args: list | None = None):
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.config_path = tmp / "config.yaml"
        self.config_path.write_text(config)
        self.log_path = tmp / "llmgate.log"
        self.log = open(self.log_path, "w")
        full_env = {k: v for k, v in os.environ.items() if not k.startswith("LITELLM_")}
        full_env.update(env or {})
        cmd = [LLMGATE_BIN, "--config", str(self.config_path), "--port", str(self.port), "--host", "127.0.0.1"]
        self.proc = subprocess.Popen(cmd + (args or []), stdout=self.log, stderr=subprocess.STDOUT, env=full_env)

    def wait_ready(self) -> "Gateway":
        try:
            wait_http(f"{self.base}/health/liveliness", self.proc)
        except RuntimeError as e:
            raise RuntimeError(f"{e}\n--- llmgate log ---\n{self.log_path.read_text()}") from None
        return self

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.log.close()


@pytest.fixture(scope="session")
def mock():
    m = Mock()
    yield m
    m.stop()


def models_yaml(mock: Mock) -> str:
    b = f"{mock.base}/v1"
    rows = [
        ("gpt-4o", "openai/gpt-4o", b),
        ("limited", "openai/mock-error-429", b),
        ("broken", "openai/mock-error-500", b),
        ("too-long", "openai/mock-context-window", b),
        ("stream-error", "openai/mock-stream-error", b),
        ("tools", "openai/gpt-4o-tool", b),
        ("embed", "openai/text-embedding-3-small", b),
        ("down", "openai/gpt-4o", "http://127.0.0.1:9/v1"),
    ]
    out = "model_list:\n"
    for name, model, base in rows:
        out += f"  - model_name: {name}\n    litellm_params:\n      model: {model}\n      api_base: {base}\n      api_key: os.environ/UPSTREAM_KEY\n"
    out += "  - model_name: demo\n    litellm_params:\n      model: openai/demo\n      mock_response: Hello from the demo\n"
    return out


@pytest.fixture(scope="session")
def gateway(mock, tmp_path_factory):
    """The gateway most tests share: master key set, every mock behaviour as a model."""
    tmp = tmp_path_factory.mktemp("gw")
    cfg = models_yaml(mock) + f"general_settings:\n  master_key: os.environ/E2E_MASTER\n"
    gw = Gateway(tmp, cfg, env={"UPSTREAM_KEY": "sk-upstream", "E2E_MASTER": MASTER}).wait_ready()
    yield gw
    gw.stop()


@pytest.fixture
def start_gateway(tmp_path):
    """Starts extra gateways for one test (other configs, flags or environment)."""
    started = []

    def start(config: str, env: dict | None = None, args: list | None = None) -> Gateway:
        gw = Gateway(tmp_path, config, env, args)
        started.append(gw)
        return gw

    yield start
    for gw in started:
        gw.stop()
