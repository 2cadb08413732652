"""Images, audio and moderations through the llmgate binary with the official `openai` client,
on PostgreSQL: `/images/generations` (OpenAI gpt-image priced by tokens, Azure DALL·E priced
per pixel by size and quality, Vertex Imagen `:predict`, Gemini image models through
`generateContent`), `/images/edits` and `/images/variations` (multipart), `/audio/transcriptions`
and `/audio/translations` (multipart, every `response_format`, priced per second or per
token), `/audio/speech` (audio streamed back with its content type, priced per character),
`/moderations` (routed, and LiteLLM's `moderation_model` default); with and without `/v1`;
spend rows in `LiteLLM_SpendLogs` with LiteLLM's call types and costs; a key over budget
refused, a key's rate limit applied; fallbacks; bad input answered 4xx (a wrong file type is
the provider's 400 relayed, an oversized upload a 413)."""
import hashlib
import json
import struct
import subprocess
import time
import urllib.error
import urllib.request
import uuid

import openai
import pytest

from conftest import MASTER, Gateway
from test_virtual_keys import PG, admin

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000a49444154789c63000100000500010d0a2db40000000049454e44ae426082")


def wav(seconds: float, rate: int = 8000) -> bytes:
    """A mono 16-bit PCM WAV of `seconds` seconds (its header says how long it plays)."""
    data = bytes((i * 7) % 256 for i in range(int(rate * seconds) * 2))
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (b"RIFF" + struct.pack("<I", 36 + len(data)) + b"WAVE" + b"fmt " + struct.pack("<I", 16) + fmt
            + b"data" + struct.pack("<I", len(data)) + data)


def psql(url, sql):
    return subprocess.run(["psql", url, "-tAc", sql], check=True, capture_output=True, text=True).stdout


@pytest.fixture(scope="module")
def db():
    name = f"llmgate_media_{uuid.uuid4().hex[:12]}"
    psql(f"{PG}/postgres", f"CREATE DATABASE {name}")
    yield f"{PG}/{name}"
    subprocess.run(["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False)


@pytest.fixture(scope="module")
def gw(mock, db, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("media")
    sa = tmp / "sa.json"
    sa.write_text(urllib.request.urlopen(f"{mock.base}/_mock/service_account").read().decode())
    v1 = f"{mock.base}/v1"
    cfg = f"""
model_list:
  - model_name: gpt-image
    litellm_params: {{model: openai/gpt-image-1, api_base: {v1}, api_key: sk-up}}
  - model_name: img-broken
    litellm_params: {{model: openai/mock-error-500, api_base: {v1}, api_key: sk-up}}
  - model_name: dalle-azure
    litellm_params: {{model: azure/my-dalle, api_base: {mock.base}, api_key: az-key, api_version: "2024-10-21"}}
    model_info: {{base_model: dall-e-3}}
  - model_name: dalle-2
    litellm_params: {{model: openai/dall-e-2, api_base: {v1}, api_key: sk-up, output_cost_per_image: 0.02}}
  - model_name: imagen
    litellm_params:
      model: vertex_ai/imagen-3.0-generate-002
      api_base: {mock.base}
      vertex_project: proj-e2e
      vertex_location: us-central1
      vertex_credentials: {sa}
    model_info: {{output_cost_per_image: 0.03}}
  - model_name: gemini-image
    litellm_params: {{model: gemini/gemini-2.5-flash-image, api_base: {mock.base}/v1beta, api_key: gm-key}}
  - model_name: whisper
    litellm_params: {{model: openai/whisper-1, api_base: {v1}, api_key: sk-up}}
  - model_name: whisper-groq
    litellm_params: {{model: groq/whisper-large-v3, api_base: {mock.base}/openai/v1, api_key: gq-key}}
  - model_name: whisper-azure
    litellm_params: {{model: azure/my-whisper, api_base: {mock.base}, api_key: az-key}}
    model_info: {{base_model: azure/whisper-1}}
  - model_name: transcribe
    litellm_params: {{model: openai/gpt-4o-transcribe, api_base: {v1}, api_key: sk-up}}
  - model_name: tts
    litellm_params: {{model: openai/tts-1, api_base: {v1}, api_key: sk-up}}
  - model_name: tts-azure
    litellm_params: {{model: azure/my-tts, api_base: {mock.base}, api_key: az-key}}
    model_info: {{base_model: azure/tts-1}}
  - model_name: omni
    litellm_params: {{model: openai/omni-moderation-latest, api_base: {v1}, api_key: sk-up}}
  - model_name: chat
    litellm_params: {{model: openai/gpt-4o, api_base: {v1}, api_key: sk-up}}
  - model_name: claude
    litellm_params: {{model: anthropic/claude-haiku-4-5, api_base: {mock.base}, api_key: sk-ant}}
guardrails:
  - guardrail_name: media-guard
    litellm_params:
      guardrail: litellm_content_filter
      mode: pre_call
      default_on: false
      patterns: [{{pattern_type: prebuilt, pattern_name: email, action: MASK}}]
      blocked_words: [{{keyword: forbidden-media, action: BLOCK, description: not allowed}}]
router_settings:
  num_retries: 0
  fallbacks: [{{"img-broken": ["gpt-image"]}}]
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 0.2
  max_request_size_mb: 1
"""
    g = Gateway(tmp, cfg, env={"DATABASE_URL": db}).wait_ready()
    yield g
    g.stop()


@pytest.fixture(scope="module")
def client(gw):
    return openai.OpenAI(api_key=MASTER, base_url=f"{gw.base}/v1", max_retries=0)


def requests_to(mock, path_part):
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    return [r for r in reqs if path_part in r["path"]]


def cost(raw):
    return float(raw.headers["x-litellm-response-cost"])


# --- images ---------------------------------------------------------------------------------

@pytest.mark.parametrize("prefix", ["/v1", ""])
def test_gpt_image_generation_is_priced_by_tokens(gw, mock, prefix):
    c = openai.OpenAI(api_key=MASTER, base_url=f"{gw.base}{prefix}", max_retries=0)
    raw = c.images.with_raw_response.generate(model="gpt-image", prompt="a red cat", n=2, size="1024x1536",
                                              quality="low")
    img = raw.parse()
    assert len(img.data) == 2 and img.data[0].b64_json
    assert img.usage.output_tokens == 2112
    # LiteLLM's gpt-image pricing: 8 text tokens in at 5e-6, 2112 image tokens out at 4e-5.
    assert cost(raw) == pytest.approx(8 * 5e-6 + 2112 * 4e-5)
    rec = requests_to(mock, "/v1/images/generations")[-1]
    assert rec["body"] == {"model": "gpt-image-1", "prompt": "a red cat", "n": 2, "size": "1024x1536",
                           "quality": "low"}
    assert rec["headers"]["authorization"] == "Bearer sk-up"


def test_azure_dalle_is_priced_per_pixel_by_size_and_quality(client, mock):
    raw = client.images.with_raw_response.generate(model="dalle-azure", prompt="a dog", size="1024x1024",
                                                   quality="hd")
    img = raw.parse()
    assert img.data[0].url.startswith("https://mock.images.local/")
    assert img.data[0].revised_prompt == "a dog (revised)"
    # LiteLLM's `azure/hd/1024-x-1024/dall-e-3` row: 8.39233e-08 per pixel.
    assert cost(raw) == pytest.approx(1024 * 1024 * 8.39233e-08)
    rec = requests_to(mock, "/openai/deployments/my-dalle/images/generations")[-1]
    assert rec["query"] == "api-version=2024-10-21" and rec["headers"]["api-key"] == "az-key"
    assert rec["body"]["model"] == "my-dalle" and rec["body"]["quality"] == "hd"


def test_vertex_imagen_goes_through_predict(client, mock):
    raw = client.images.with_raw_response.generate(model="imagen", prompt="a lighthouse", n=2, size="1792x1024")
    img = raw.parse()
    assert len(img.data) == 2 and img.data[0].b64_json
    rec = requests_to(mock, "/publishers/google/models/imagen-3.0-generate-002:predict")[-1]
    assert rec["path"].startswith("/v1/projects/proj-e2e/locations/us-central1/")
    assert rec["body"] == {"instances": [{"prompt": "a lighthouse"}],
                           "parameters": {"sampleCount": 2, "aspectRatio": "16:9"}}
    # The deployment's own `output_cost_per_image` × the images returned.
    assert cost(raw) == pytest.approx(0.06)


def test_gemini_image_model_goes_through_generate_content(client, mock):
    raw = client.images.with_raw_response.generate(model="gemini-image", prompt="a blue bird")
    img = raw.parse()
    assert len(img.data) == 1 and img.data[0].b64_json
    rec = requests_to(mock, "/v1beta/models/gemini-2.5-flash-image:generateContent")[-1]
    assert rec["body"]["contents"] == [{"parts": [{"text": "a blue bird"}]}]
    assert rec["body"]["generationConfig"]["response_modalities"] == ["IMAGE", "TEXT"]
    assert rec["headers"]["x-goog-api-key"] == "gm-key"
    # From the usage: 7 prompt tokens at 3e-7, 1290 image tokens at 3e-5.
    assert cost(raw) == pytest.approx(7 * 3e-7 + 1290 * 3e-5)


def test_image_edit_is_a_multipart_upload(client, mock):
    raw = client.images.with_raw_response.edit(model="gpt-image", image=("cat.png", PNG, "image/png"),
                                               prompt="add a hat", size="1024x1024")
    img = raw.parse()
    assert img.data[0].b64_json and img.usage.input_tokens_details.image_tokens == 323
    rec = requests_to(mock, "/v1/images/edits")[-1]
    assert rec["body"]["model"] == "gpt-image-1" and rec["body"]["prompt"] == "add a hat"
    assert rec["body"]["image"] == {"filename": "cat.png", "bytes": len(PNG)}
    assert rec["headers"]["content-type"].startswith("multipart/form-data; boundary=")
    text_in, image_in, out = 8, 323, 1056
    assert cost(raw) == pytest.approx(text_in * 5e-6 + image_in * 1e-5 + out * 4e-5)


def test_image_variation(client, mock):
    raw = client.images.with_raw_response.create_variation(model="dalle-2", image=("a.png", PNG, "image/png"), n=3)
    assert len(raw.parse().data) == 3
    assert cost(raw) == pytest.approx(0.06)
    rec = requests_to(mock, "/v1/images/variations")[-1]
    assert rec["body"]["n"] == "3" and rec["body"]["model"] == "dall-e-2"


def test_a_failing_image_group_falls_back(client):
    raw = client.images.with_raw_response.generate(model="img-broken", prompt="x")
    assert raw.headers["x-litellm-attempted-fallbacks"] == "1"
    assert raw.parse().data[0].b64_json


# --- audio ----------------------------------------------------------------------------------

AUDIO = wav(2.5)
SUM = sum(AUDIO)


def test_transcription_json_is_priced_by_the_answers_duration(client, mock):
    raw = client.audio.transcriptions.with_raw_response.create(model="whisper", file=("talk.wav", AUDIO, "audio/wav"))
    t = raw.parse()
    assert t.text == f"Hello from mock audio: {len(AUDIO)} bytes, sum {SUM}, talk.wav"
    # whisper-1 at 1e-4 a second; the answer's `usage.seconds` is 3.
    assert cost(raw) == pytest.approx(3 * 1e-4)
    rec = requests_to(mock, "/v1/audio/transcriptions")[-1]
    assert rec["body"]["model"] == "whisper-1"
    assert rec["body"]["file"] == {"filename": "talk.wav", "bytes": len(AUDIO)}


def test_transcription_text_is_plain_text_priced_by_the_files_length(gw, mock):
    c = openai.OpenAI(api_key=MASTER, base_url=gw.base, max_retries=0)
    raw = c.audio.transcriptions.with_raw_response.create(model="whisper", file=("talk.wav", AUDIO),
                                                          response_format="text")
    assert raw.headers["content-type"].startswith("text/plain")
    body = raw.http_response.text
    assert body == f"Hello from mock audio: {len(AUDIO)} bytes, sum {SUM}, talk.wav\n"
    assert not body.startswith('"')
    # No duration in the answer: the WAV header's 2.5 s.
    assert cost(raw) == pytest.approx(2.5 * 1e-4)


@pytest.mark.parametrize("fmt,ctype,start", [("srt", "text/plain", "1\n00:00:00,000 --> 00:00:02,500\n"),
                                             ("vtt", "text/vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:02.500\n")])
def test_transcription_subtitles(client, fmt, ctype, start):
    raw = client.audio.transcriptions.with_raw_response.create(model="whisper", file=("t.wav", AUDIO),
                                                               response_format=fmt)
    assert raw.headers["content-type"].startswith(ctype)
    assert raw.http_response.text.startswith(start)


def test_transcription_verbose_json_with_word_timestamps(client, mock):
    raw = client.audio.transcriptions.with_raw_response.create(
        model="whisper", file=("t.wav", AUDIO), response_format="verbose_json",
        timestamp_granularities=["word", "segment"], language="en", temperature=0.2)
    t = raw.parse()
    assert t.duration == pytest.approx(2.5) and t.words[0].word == "Hello" and t.segments[0].end == pytest.approx(2.5)
    assert cost(raw) == pytest.approx(2.5 * 1e-4)
    rec = requests_to(mock, "/v1/audio/transcriptions")[-1]
    assert rec["body"]["language"] == "en" and rec["body"]["temperature"] == "0.2"


def test_gpt4o_transcribe_is_priced_by_tokens(client):
    raw = client.audio.transcriptions.with_raw_response.create(model="transcribe", file=("t.wav", AUDIO))
    assert raw.parse().usage.type == "tokens"
    assert cost(raw) == pytest.approx(100 * 2.5e-6 + 20 * 2.5e-6 + 15 * 1e-5)


def test_translation_on_groq(client, mock):
    raw = client.audio.translations.with_raw_response.create(model="whisper-groq", file=("fr.wav", AUDIO),
                                                             response_format="verbose_json")
    assert raw.parse().text.startswith("Hello from mock audio")
    rec = requests_to(mock, "/openai/v1/audio/translations")[-1]
    assert rec["headers"]["authorization"] == "Bearer gq-key" and rec["body"]["model"] == "whisper-large-v3"
    assert cost(raw) == pytest.approx(2.5 * 3.083e-05)


def test_transcription_on_azure(client, mock):
    raw = client.audio.transcriptions.with_raw_response.create(model="whisper-azure", file=("t.wav", AUDIO),
                                                               response_format="text")
    assert raw.http_response.text.startswith("Hello from mock audio")
    rec = requests_to(mock, "/openai/deployments/my-whisper/audio/transcriptions")[-1]
    assert rec["query"].startswith("api-version=") and rec["headers"]["api-key"] == "az-key"
    assert cost(raw) == pytest.approx(2.5 * 1e-4)


def test_speech_is_streamed_with_its_content_type(client):
    text = "hello world"
    with client.audio.speech.with_streaming_response.create(model="tts", voice="alloy", input=text,
                                                            response_format="wav") as r:
        assert r.headers["content-type"] == "audio/wav"
        chunks = list(r.iter_bytes(4096))
        c = float(r.headers["x-litellm-response-cost"])
    audio = b"".join(chunks)
    assert len(audio) == len(text) * 1024 and audio.startswith(b"RIFF") and len(chunks) > 1
    # tts-1 at 1.5e-5 a character.
    assert c == pytest.approx(len(text) * 1.5e-5)


def test_speech_on_azure_defaults_to_mp3(client, mock):
    r = client.audio.speech.with_raw_response.create(model="tts-azure", voice="nova", input="abc")
    assert r.headers["content-type"] == "audio/mpeg" and r.content.startswith(b"ID3")
    assert len(requests_to(mock, "/openai/deployments/my-tts/audio/speech")) >= 1
    assert cost(r) == pytest.approx(3 * 1.5e-5)


# --- moderations ----------------------------------------------------------------------------

def test_moderation_routed_by_model(client, mock):
    raw = client.moderations.with_raw_response.create(model="omni", input=["I am violent", "I am calm"])
    m = raw.parse()
    assert [r.flagged for r in m.results] == [True, False] and m.model == "omni-moderation-latest"
    assert raw.headers["x-litellm-model-group"] == "omni"
    assert requests_to(mock, "/v1/moderations")[-1]["body"]["model"] == "omni-moderation-latest"


def test_moderation_model_default(mock, start_gateway):
    cfg = (f"model_list:\n  - model_name: mod\n    litellm_params:\n      model: openai/omni-moderation-latest\n"
           f"      api_base: {mock.base}/v1\n      api_key: sk-up\n"
           f"general_settings:\n  master_key: {MASTER}\n  moderation_model: mod\n")
    g = start_gateway(cfg).wait_ready()
    c = openai.OpenAI(api_key=MASTER, base_url=f"{g.base}/v1", max_retries=0)
    raw = c.moderations.with_raw_response.create(input="violent words")
    assert raw.parse().results[0].flagged and raw.headers["x-litellm-model-group"] == "mod"


def test_moderation_without_a_model_goes_to_openai(mock, start_gateway, tmp_path):
    cfg = f"general_settings:\n  master_key: {MASTER}\n"
    g = start_gateway(cfg, env={"OPENAI_API_KEY": "sk-env", "OPENAI_BASE_URL": f"{mock.base}/v1",
                                "LLMGATE_DB_PATH": str(tmp_path / "spend.db")}).wait_ready()
    c = openai.OpenAI(api_key=MASTER, base_url=f"{g.base}/v1", max_retries=0)
    raw = c.moderations.with_raw_response.create(input="a violent text")
    m = raw.parse()
    assert m.results[0].flagged and m.model == "omni-moderation-latest"
    rec = requests_to(mock, "/v1/moderations")[-1]
    assert rec["headers"]["authorization"] == "Bearer sk-env"
    assert rec["body"] == {"model": "omni-moderation-latest", "input": "a violent text"}
    assert raw.headers["x-litellm-model-group"] == "omni-moderation-latest"


# --- keys, spend, budgets -------------------------------------------------------------------

def test_spend_rows_with_litellm_call_types(gw, db):
    status, k = admin(gw, "POST", "/key/generate", {"key_alias": "media-spend"})
    assert status == 200, k
    c = openai.OpenAI(api_key=k["key"], base_url=f"{gw.base}/v1", max_retries=0)
    c.images.generate(model="dalle-azure", prompt="p", size="1024x1024", quality="hd")
    c.images.edit(model="gpt-image", image=("a.png", PNG, "image/png"), prompt="edit me")
    c.audio.transcriptions.create(model="whisper", file=("t.wav", AUDIO), response_format="text")
    c.audio.speech.create(model="tts", voice="alloy", input="four").read()
    c.moderations.create(model="omni", input="calm")
    want = {"aimage_generation": 1024 * 1024 * 8.39233e-08, "aimage_edit": 7 * 5e-6 + 323 * 1e-5 + 1056 * 4e-5,
            "atranscription": 2.5e-4, "aspeech": 4 * 1.5e-5, "amoderation": 0.0}
    token = hashlib.sha256(k["key"].encode()).hexdigest()
    deadline = time.time() + 15
    rows = {}
    while time.time() < deadline:
        out = psql(db, f"SELECT call_type, spend, model_group FROM \"LiteLLM_SpendLogs\" WHERE api_key = '{token}'")
        rows = {line.split("|")[0]: line.split("|") for line in out.strip().splitlines() if line}
        if set(want) <= set(rows):
            break
        time.sleep(0.3)
    assert set(want) <= set(rows), rows
    for call_type, spend in want.items():
        assert float(rows[call_type][1]) == pytest.approx(spend), call_type
    assert rows["atranscription"][2] == "whisper" and rows["aspeech"][2] == "tts"
    _, info = admin(gw, "GET", f"/key/info?key={k['key']}")
    assert info["info"]["spend"] == pytest.approx(sum(want.values()))


def test_a_key_over_budget_is_refused(gw, mock):
    status, k = admin(gw, "POST", "/key/generate", {"max_budget": 0.01})
    assert status == 200, k
    c = openai.OpenAI(api_key=k["key"], base_url=f"{gw.base}/v1", max_retries=0)
    c.images.generate(model="dalle-azure", prompt="p", size="1024x1024", quality="hd")  # 0.088
    before = len(requests_to(mock, "/audio/transcriptions"))
    with pytest.raises(openai.BadRequestError) as e:
        c.audio.transcriptions.create(model="whisper", file=("t.wav", AUDIO))
    assert e.value.body["type"] == "budget_exceeded"
    assert len(requests_to(mock, "/audio/transcriptions")) == before


def test_a_key_without_access_is_refused(gw):
    status, k = admin(gw, "POST", "/key/generate", {"models": ["chat"]})
    assert status == 200, k
    c = openai.OpenAI(api_key=k["key"], base_url=f"{gw.base}/v1", max_retries=0)
    with pytest.raises(openai.APIStatusError) as e:
        c.images.generate(model="gpt-image", prompt="x")
    assert e.value.status_code in (401, 403)
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(api_key="sk-wrong", base_url=f"{gw.base}/v1", max_retries=0).moderations.create(
            model="omni", input="x")


# --- bad input ------------------------------------------------------------------------------

def post_raw(gw, path, data, ctype):
    req = urllib.request.Request(f"{gw.base}{path}", method="POST", data=data,
                                 headers={"Authorization": f"Bearer {MASTER}", "Content-Type": ctype})
    try:
        with urllib.request.urlopen(req, timeout=20) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_bad_input_is_a_clear_4xx(gw, client):
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="nope", prompt="x")
    assert "Invalid model name" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(model="nope", file=("t.wav", AUDIO))
    assert "Invalid model name" in e.value.message
    # No prompt, no input, no file, not a form, a broken form, a provider without speech.
    s, body = post_raw(gw, "/v1/images/generations", b'{"model": "gpt-image"}', "application/json")
    assert s == 400 and "prompt" in json.loads(body)["error"]["message"]
    s, body = post_raw(gw, "/v1/audio/speech", b'{"model": "tts", "voice": "alloy"}', "application/json")
    assert s == 400 and "input" in json.loads(body)["error"]["message"]
    s, body = post_raw(gw, "/v1/moderations", b'{"model": "omni"}', "application/json")
    assert s == 400 and "input" in json.loads(body)["error"]["message"]
    form = (b"--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\nwhisper\r\n--b--\r\n")
    s, body = post_raw(gw, "/v1/audio/transcriptions", form, "multipart/form-data; boundary=b")
    assert s == 400 and "`file` is a required file field" in json.loads(body)["error"]["message"]
    s, body = post_raw(gw, "/v1/audio/transcriptions", b'{"model": "whisper"}', "application/json")
    assert s == 400 and "multipart/form-data" in json.loads(body)["error"]["message"]
    s, body = post_raw(gw, "/v1/images/edits", b"--b\r\nbroken", "multipart/form-data; boundary=b")
    assert s == 400 and "multipart" in json.loads(body)["error"]["message"]
    s, body = post_raw(gw, "/v1/audio/speech", b'{"model": "claude", "voice": "alloy", "input": "x"}',
                       "application/json")
    assert s == 400 and "does not support audio/speech" in json.loads(body)["error"]["message"], body
    s, body = post_raw(gw, "/v1/images/generations", b"{not json", "application/json")
    assert s == 400 and "Invalid JSON" in json.loads(body)["error"]["message"]
    # The upstream's own 400 is relayed (an unknown response_format).
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(model="whisper", file=("t.wav", AUDIO), response_format="xml")
    assert "response_format" in e.value.message


def test_a_wrong_file_type_is_openais_400(client, mock):
    """The provider refuses a file it cannot read (as OpenAI does: audio by its extension, an
    image by its content type); the gateway relays its 400 and error body."""
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(model="whisper", file=("notes.txt", b"plain text", "text/plain"))
    assert "Invalid file format. Supported formats:" in e.value.message and "'wav'" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.translations.create(model="whisper-groq", file=("notes.pdf", b"%PDF-1.4"))
    assert "Invalid file format" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(model="gpt-image", image=("cat.txt", b"not an image", "text/plain"), prompt="a hat")
    assert "unsupported mimetype ('text/plain')" in e.value.message
    assert "'image/jpeg', 'image/png', and 'image/webp'" in e.value.message
    # DALL·E 2 takes PNG only.
    with pytest.raises(openai.BadRequestError) as e:
        client.images.create_variation(model="dalle-2", image=("a.jpg", b"\xff\xd8\xff\xe0", "image/jpeg"))
    assert "Supported file formats are 'image/png'" in e.value.message


def test_an_oversized_upload_is_an_openai_413(client, mock):
    before = len(requests_to(mock, "/audio/transcriptions"))
    with pytest.raises(openai.APIStatusError) as e:
        client.audio.transcriptions.create(model="whisper", file=("long.wav", wav(80)))  # 1.3 MB > 1 MB
    assert e.value.status_code == 413
    assert e.value.body["type"] == "invalid_request_error"
    assert "max_request_size_mb" in e.value.body["message"]
    assert len(requests_to(mock, "/audio/transcriptions")) == before


def test_a_media_route_counts_against_the_keys_rate_limit(gw, mock):
    status, k = admin(gw, "POST", "/key/generate", {"rpm_limit": 1})
    assert status == 200, k
    c = openai.OpenAI(api_key=k["key"], base_url=f"{gw.base}/v1", max_retries=0)
    # One request a minute: of three quick calls (at most one minute boundary), one is refused.
    with pytest.raises(openai.RateLimitError) as e:
        for _ in range(3):
            c.audio.transcriptions.create(model="whisper", file=("t.wav", AUDIO))
    assert e.value.status_code == 429
    with pytest.raises(openai.RateLimitError):
        for _ in range(2):
            c.images.generate(model="gpt-image", prompt="x")


def test_health_probes_each_media_mode(gw):
    _, health = admin(gw, "GET", "/health")
    # The media price keys of the config are read (none named unsupported or unknown).
    assert health["unsupported_settings"] == [] and health["unknown_settings"] == [], health
    healthy = {e["model"] for e in health["healthy_endpoints"]}
    for m in ["openai/gpt-image-1", "openai/whisper-1", "openai/tts-1", "openai/omni-moderation-latest",
              "vertex_ai/imagen-3.0-generate-002", "gemini/gemini-2.5-flash-image", "azure/my-tts"]:
        assert m in healthy, (m, health)


# --- guardrails -----------------------------------------------------------------------------

def test_pre_call_guardrails_check_prompts_and_inputs(client, mock, db):
    """A guardrail the request names runs pre-call on the image prompt, the speech input and the
    moderation input: a blocked word refuses the call before any upstream request, an e-mail
    address is masked in what the provider receives."""
    guard = {"guardrails": ["media-guard"]}
    before = len(requests_to(mock, "/v1/images/generations"))
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="gpt-image", prompt="draw forbidden-media now", extra_body=guard)
    assert "forbidden-media" in str(e.value) or "not allowed" in str(e.value)
    assert len(requests_to(mock, "/v1/images/generations")) == before
    client.images.generate(model="gpt-image", prompt="mail bob@corp.example a cat", extra_body=guard)
    rec = requests_to(mock, "/v1/images/generations")[-1]
    assert rec["body"]["prompt"] == "mail [EMAIL_REDACTED] a cat" and "guardrails" not in rec["body"]
    client.audio.speech.create(model="tts", voice="alloy", input="write to bob@corp.example",
                               extra_body=guard).read()
    assert requests_to(mock, "/v1/audio/speech")[-1]["body"]["input"] == "write to [EMAIL_REDACTED]"
    client.moderations.create(model="omni", input=["ok", "bob@corp.example"], extra_body=guard)
    assert requests_to(mock, "/v1/moderations")[-1]["body"]["input"] == ["ok", "[EMAIL_REDACTED]"]
    # Without the guardrail named, nothing is changed.
    client.images.generate(model="gpt-image", prompt="mail bob@corp.example a cat")
    assert requests_to(mock, "/v1/images/generations")[-1]["body"]["prompt"] == "mail bob@corp.example a cat"
