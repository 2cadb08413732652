"""Security through the real binary with the official `openai` client: media URLs the gateway
downloads for Gemini (no SSRF: internal and metadata addresses refused before any connection,
http and loopback only when allow-listed, 20 MB cap while reading) and upstream errors that quote
the deployment's key (masked).

Nothing here connects anywhere but the loopback mock: the private and metadata addresses are
refused before a connection is attempted, which the quick failure shows."""
import json
import time
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway

UPSTREAM_KEY = "sk-e2e-upstream-secret-0123456789abcdef"
GEMINI_KEY = "gm-e2e-secret-key-9876543210zyxwvu"
GENERIC = "could not fetch the media URL"


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("security")
    gemini = f"""      api_base: {mock.base}/v1beta
      api_key: os.environ/GEMINI_API_KEY"""
    cfg = f"""
model_list:
  - model_name: gemini
    litellm_params:
      model: gemini/gemini-2.5-flash
{gemini}
  - model_name: gemini-trusted
    litellm_params:
      model: gemini/gemini-2.5-flash
{gemini}
      media_url_allowlist: ["127.0.0.1"]
  - model_name: gemini-echo
    litellm_params:
      model: gemini/mock-echo-key
{gemini}
  - model_name: echo-key
    litellm_params:
      model: openai/mock-echo-key
      api_base: {mock.base}/v1
      api_key: os.environ/UPSTREAM_KEY
general_settings:
  master_key: {MASTER}
"""
    g = Gateway(tmp, cfg, env={"GEMINI_API_KEY": GEMINI_KEY, "UPSTREAM_KEY": UPSTREAM_KEY}).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=gw.base, api_key=MASTER, max_retries=0)


def mock_get(mock, path):
    return json.loads(urllib.request.urlopen(f"{mock.base}{path}").read())


def file_fetches(mock):
    return sum(1 for r in mock_get(mock, "/_mock/requests") if r["path"].startswith("/files/"))


def ask(client, model, url):
    return client.chat.completions.create(model=model, messages=[{"role": "user", "content": [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": url}}]}])


def internal_urls(mock):
    port = mock.addr.rsplit(":", 1)[1]
    return [
        f"{mock.base}/files/cat.png",
        f"https://127.0.0.1:{port}/files/cat.png",
        f"http://localhost:{port}/files/cat.png",
        f"https://[::ffff:127.0.0.1]:{port}/files/cat.png",
        "http://169.254.169.254/latest/meta-data/iam/security-credentials/",
        "https://169.254.169.254/computeMetadata/v1/",
        "https://[fd00:ec2::254]/latest/meta-data/",
        "https://10.0.0.1/x.png",
        "https://192.168.0.1/x.png",
        "https://100.64.0.1/x.png",
    ]


def assert_generic_refusal(err, url, took, mock):
    assert err.value.status_code == 400, url
    text = str(err.value) + json.dumps(err.value.body)
    assert GENERIC in text, text
    port = mock.addr.rsplit(":", 1)[1]
    for detail in [port, "refused", "Connection", "tcp connect", "dns error", "error sending request"]:
        assert detail not in text, (url, detail, text)
    assert took < 2.0, f"{url} took {took:.1f}s: a connection was attempted"


def test_internal_media_urls_are_refused_without_a_fetch(client, mock):
    before = file_fetches(mock)
    for url in internal_urls(mock):
        t = time.monotonic()
        with pytest.raises(openai.BadRequestError) as err:
            ask(client, "gemini", url)
        assert_generic_refusal(err, url, time.monotonic() - t, mock)
    assert file_fetches(mock) == before, "the mock saw no fetch"


def test_allow_listed_mock_is_fetched(client, mock):
    before = file_fetches(mock)
    a = ask(client, "gemini-trusted", f"{mock.base}/files/cat.png")
    assert a.choices[0].message.content
    assert file_fetches(mock) == before + 1
    gen = [r for r in mock_get(mock, "/_mock/requests") if ":generateContent" in r["path"]][-1]
    parts = gen["body"]["contents"][0]["parts"]
    assert parts[1]["inlineData"]["mimeType"] == "image/png"
    # Trusting loopback trusts neither the other private ranges nor the metadata service,
    # and a redirect there is refused at that hop.
    for url in ["https://10.0.0.1/x.png",
                f"{mock.base}/files/redirect?to=http://169.254.169.254/latest/meta-data/"]:
        t = time.monotonic()
        with pytest.raises(openai.BadRequestError) as err:
            ask(client, "gemini-trusted", url)
        assert_generic_refusal(err, url, time.monotonic() - t, mock)


@pytest.mark.parametrize("name", ["big-200000000", "endless"])
def test_media_over_20_mb_is_refused_while_reading(client, mock, name):
    before = mock_get(mock, "/_mock/served")["served"]
    t = time.monotonic()
    with pytest.raises(openai.BadRequestError) as err:
        ask(client, "gemini-trusted", f"{mock.base}/files/{name}")
    assert time.monotonic() - t < 8.0
    assert "larger than 20 MB" in str(err.value)
    time.sleep(0.3)
    sent = mock_get(mock, "/_mock/served")["served"] - before
    assert sent < 40 * 1024 * 1024, f"the mock sent {sent} bytes: the gateway kept reading"


def assert_masked(err, key):
    text = str(err.value) + json.dumps(err.value.body)
    assert "[REDACTED]" in text, text
    for piece in [key, key[:10], key[-10:]]:
        assert piece not in text, (piece, text)


def test_upstream_error_quoting_the_key_is_masked(client):
    with pytest.raises(openai.AuthenticationError) as err:
        client.chat.completions.create(model="echo-key", messages=[{"role": "user", "content": "hi"}])
    assert "Incorrect API key provided: [REDACTED]" in str(err.value)
    assert_masked(err, UPSTREAM_KEY)
    with pytest.raises(openai.AuthenticationError) as err:
        client.chat.completions.create(model="echo-key", stream=True,
                                       messages=[{"role": "user", "content": "hi"}])
    assert_masked(err, UPSTREAM_KEY)
    with pytest.raises(openai.AuthenticationError) as err:
        client.chat.completions.create(model="gemini-echo", messages=[{"role": "user", "content": "hi"}])
    assert_masked(err, GEMINI_KEY)
