"""Gemini (AI Studio) and Vertex AI media endpoints through the llmgate binary with the official
`openai` client against the mock: `/audio/speech` on Gemini TTS models (`generateContent` with
an AUDIO modality and a prebuilt voice, OpenAI's voice names mapped; the PCM answer as a RIFF
WAV or raw PCM; priced by tokens) and on Vertex AI's Cloud Text-to-Speech (Chirp, per
character); `/audio/transcriptions` on AI Studio's Interactions API (json, text, verbose_json
with words, srt), on Vertex AI's Gemini transcription models (`generateContent` with the audio
inline) and Speech-to-Text v2 (Chirp, per second); `/images/edits` on Gemini image models
(`generateContent`, the upload inline) and Vertex Imagen (`:predict` with reference images),
per image; spend logs with each call's cost; bad input refused with a 4xx before Google."""

import base64
import struct
import time
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway
from test_media import PNG, cost, requests_to, wav
from test_virtual_keys import admin

AUDIO = wav(2.5)
SAY = "the quick brown fox"


def mock_pcm(text: str) -> bytes:
    """The PCM the mock speaks for `text`."""
    return b"".join(bytes([b, 0x10]) for b in text.encode())


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("google_media")
    sa = tmp / "sa.json"
    sa.write_text(urllib.request.urlopen(f"{mock.base}/_mock/service_account").read().decode())
    vertex = f"api_base: {mock.base}, vertex_project: proj-e2e, vertex_location: us-central1, vertex_credentials: {sa}"
    studio = f"api_base: {mock.base}/v1beta, api_key: gm-key"
    cfg = f"""
model_list:
  - model_name: gemini-tts
    litellm_params: {{model: gemini/gemini-2.5-flash-preview-tts, {studio}}}
  - model_name: vertex-tts
    litellm_params: {{model: vertex_ai/gemini-2.5-flash-preview-tts, {vertex}}}
  - model_name: chirp-tts
    litellm_params: {{model: vertex_ai/chirp, {vertex}}}
  - model_name: gemini-stt
    litellm_params: {{model: gemini/gemini-3.5-transcribe, {studio}}}
  - model_name: vertex-stt
    litellm_params: {{model: vertex_ai/gemini-3.5-transcribe, {vertex}}}
  - model_name: vertex-stt-global
    litellm_params: {{model: vertex_ai/gemini-3.5-transcribe, api_base: {mock.base}, vertex_project: proj-e2e, vertex_credentials: {sa}}}
  - model_name: chirp-stt
    litellm_params: {{model: vertex_ai/chirp_2, {vertex}}}
  - model_name: gemini-edit
    litellm_params: {{model: gemini/gemini-2.5-flash-image, {studio}}}
  - model_name: vertex-edit
    litellm_params: {{model: vertex_ai/gemini-2.5-flash-image, {vertex}}}
  - model_name: imagen-edit
    litellm_params: {{model: vertex_ai/imagen-3.0-capability-001, {vertex}}}
    model_info: {{output_cost_per_image: 0.02}}
router_settings:
  num_retries: 0
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 0.2
"""
    g = Gateway(tmp, cfg, env={"LLMGATE_DB_PATH": str(tmp / "spend.db")}).wait_ready()
    yield g
    g.stop()


@pytest.fixture(scope="module")
def client(gw):
    return openai.OpenAI(api_key=MASTER, base_url=f"{gw.base}/v1", max_retries=0)


# --- speech ---------------------------------------------------------------------------------

def test_gemini_speech_is_a_riff_wav_of_the_pcm_priced_by_tokens(client, mock):
    raw = client.audio.speech.with_raw_response.create(model="gemini-tts", voice="alloy", input=SAY,
                                                       response_format="wav")
    audio = raw.http_response.content
    assert raw.http_response.headers["content-type"] == "audio/wav"
    riff, size, wave, fmt, fmt_len, pcm_tag, channels, rate, byte_rate, align, bits, data_tag, data_len = \
        struct.unpack("<4sI4s4sIHHIIHH4sI", audio[:44])
    assert (riff, wave, fmt, data_tag) == (b"RIFF", b"WAVE", b"fmt ", b"data")
    assert (pcm_tag, channels, rate, byte_rate, align, bits) == (1, 1, 24000, 48000, 2, 16)
    assert size == len(audio) - 8 and audio[44:] == mock_pcm(SAY) and data_len == len(mock_pcm(SAY))
    rec = requests_to(mock, "/v1beta/models/gemini-2.5-flash-preview-tts:generateContent")[-1]
    assert rec["headers"]["x-goog-api-key"] == "gm-key"
    assert rec["body"] == {
        "contents": [{"role": "user", "parts": [{"text": SAY}]}],
        "generationConfig": {"responseModalities": ["AUDIO"],
                             "speechConfig": {"voiceConfig": {"prebuiltVoiceConfig": {"voiceName": "Kore"}}}}}
    # 4 prompt tokens at 5e-7, 2 audio tokens at 1e-5 (gemini-2.5-flash-preview-tts).
    assert cost(raw) == pytest.approx(4 * 5e-7 + 2 * 1e-5)


def test_gemini_speech_as_raw_pcm_with_a_gemini_voice(client, mock):
    raw = client.audio.speech.with_raw_response.create(model="gemini-tts", voice="Puck", input=SAY,
                                                       response_format="pcm")
    assert raw.http_response.headers["content-type"] == "audio/pcm"
    assert raw.http_response.content == mock_pcm(SAY)
    rec = requests_to(mock, "gemini-2.5-flash-preview-tts:generateContent")[-1]
    assert rec["body"]["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"] == {"voiceName": "Puck"}


def test_vertex_gemini_speech_goes_to_generate_content_with_a_token(client, mock):
    raw = client.audio.speech.with_raw_response.create(model="vertex-tts", voice="echo", input=SAY)
    assert raw.http_response.headers["content-type"] == "audio/wav"
    assert raw.http_response.content[:4] == b"RIFF" and raw.http_response.content[44:] == mock_pcm(SAY)
    rec = requests_to(mock, "/projects/proj-e2e/locations/us-central1/publishers/google/models/gemini-2.5-flash-preview-tts:generateContent")[-1]
    assert rec["headers"]["authorization"] == "Bearer ya29.mock-access-token"
    assert rec["body"]["generationConfig"]["speechConfig"]["voiceConfig"]["prebuiltVoiceConfig"] == {"voiceName": "Puck"}
    assert cost(raw) == pytest.approx(4 * 5e-7 + 2 * 1e-5)


def test_vertex_chirp_speech_goes_to_cloud_text_to_speech(client, mock):
    raw = client.audio.speech.with_raw_response.create(model="chirp-tts", voice="fable", input=SAY,
                                                       response_format="mp3", speed=1.25)
    assert raw.http_response.content == b"ID3" + SAY.encode()
    assert raw.http_response.headers["content-type"] == "audio/mpeg"
    rec = requests_to(mock, "/v1/text:synthesize")[-1]
    assert rec["headers"]["authorization"] == "Bearer ya29.mock-access-token"
    assert rec["headers"]["x-goog-user-project"] == "proj-e2e"
    assert rec["body"] == {"input": {"text": SAY}, "voice": {"languageCode": "en-GB", "name": "en-GB-Studio-B"},
                           "audioConfig": {"audioEncoding": "MP3", "speakingRate": "1.25"}}
    # vertex_ai/chirp at 3e-5 a character.
    assert cost(raw) == pytest.approx(len(SAY) * 3e-5)


def test_gemini_speech_refuses_a_format_it_cannot_make(client, mock):
    before = len(requests_to(mock, "gemini-2.5-flash-preview-tts"))
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.speech.create(model="gemini-tts", voice="alloy", input=SAY, response_format="mp3")
    assert "response_format='mp3' is not supported" in str(e.value) and "pcm, wav" in str(e.value)
    assert len(requests_to(mock, "gemini-2.5-flash-preview-tts")) == before


def test_gemini_speech_with_an_unknown_voice_is_googles_400(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.speech.create(model="gemini-tts", voice="no-such-voice", input=SAY)
    assert "Voice name no-such-voice is not supported" in str(e.value)


def test_health_probes_the_speech_deployments_with_alloy(gw):
    _, health = admin(gw, "GET", "/health")
    healthy = {e["model"] for e in health["healthy_endpoints"]}
    for m in ["gemini/gemini-2.5-flash-preview-tts", "vertex_ai/gemini-2.5-flash-preview-tts", "vertex_ai/chirp",
              "gemini/gemini-3.5-transcribe", "vertex_ai/chirp_2"]:
        assert m in healthy, (m, health)


# --- transcriptions -------------------------------------------------------------------------

def test_gemini_transcription_json_through_the_interactions_api(client, mock):
    raw = client.audio.transcriptions.with_raw_response.create(
        model="gemini-stt", file=("talk.wav", AUDIO, "audio/wav"), language="en")
    t = raw.parse()
    assert t.text == f"Hello from mock audio: {len(AUDIO)} bytes"
    rec = requests_to(mock, "/v1beta/interactions")[-1]
    assert rec["headers"]["x-goog-api-key"] == "gm-key" and rec["headers"]["api-revision"] == "2026-05-20"
    body = rec["body"]
    assert body["model"] == "gemini-3.5-transcribe"
    assert body["input"][0]["type"] == "audio" and body["input"][0]["mime_type"] == "audio/wav"
    assert base64.b64decode(body["input"][0]["data"]) == AUDIO
    # `en` as LiteLLM's BCP-47 tag.
    assert body["generation_config"] == {"transcription_config": {"language_codes": ["en-US"]}}
    # 290 audio + 10 text input tokens at 2e-6, 20 output at 1.2e-5 (gemini/gemini-3.5-transcribe).
    assert cost(raw) == pytest.approx(300 * 2e-6 + 20 * 1.2e-5)


def test_gemini_transcription_text_is_plain_text_and_still_priced(gw, client):
    raw = client.audio.transcriptions.with_raw_response.create(
        model="gemini-stt", file=("talk.wav", AUDIO), response_format="text")
    assert raw.http_response.headers["content-type"].startswith("text/plain")
    assert raw.http_response.text == f"Hello from mock audio: {len(AUDIO)} bytes"
    assert cost(raw) == pytest.approx(300 * 2e-6 + 20 * 1.2e-5)


def test_gemini_transcription_verbose_json_has_words_and_duration(client, mock):
    t = client.audio.transcriptions.create(model="gemini-stt", file=("talk.mp3", b"ID3" + AUDIO),
                                           response_format="verbose_json", timestamp_granularities=["word"])
    assert t.task == "transcribe" and t.text.startswith("Hello from mock audio")
    words = [w.word for w in t.words]
    assert words == t.text.split()
    assert t.words[1].start == pytest.approx(0.5) and t.duration == pytest.approx(t.words[-1].end)
    body = requests_to(mock, "/v1beta/interactions")[-1]["body"]
    assert body["input"][0]["mime_type"] == "audio/mp3"
    assert body["generation_config"]["transcription_config"]["mode"] == {
        "type": "verbatim", "timestamp_granularities": ["word"], "diarization_mode": "speaker"}


@pytest.mark.parametrize("fmt,head", [("srt", "1\n00:00:00,000 --> 00:00:02,900\nHello from mock audio:"),
                                      ("vtt", "WEBVTT\n\n00:00:00.000 --> 00:00:02.900\nHello from mock audio:")])
def test_gemini_transcription_subtitles_are_built_from_the_word_timings(client, mock, fmt, head):
    raw = client.audio.transcriptions.with_raw_response.create(
        model="gemini-stt", file=("talk.wav", AUDIO), response_format=fmt)
    assert raw.http_response.text.startswith(head), raw.http_response.text
    # Subtitles need timings, so word timestamps were asked for.
    body = requests_to(mock, "/v1beta/interactions")[-1]["body"]
    assert body["generation_config"]["transcription_config"]["mode"]["timestamp_granularities"] == ["word"]


def test_vertex_gemini_transcription_is_generate_content_with_the_audio_inline(client, mock):
    raw = client.audio.transcriptions.with_raw_response.create(
        model="vertex-stt", file=("talk.wav", AUDIO), language="de")
    assert raw.parse().text == f"Hello from mock audio: {len(AUDIO)} bytes (de-DE)"
    rec = requests_to(mock, "/publishers/google/models/gemini-3.5-transcribe:generateContent")[-1]
    assert rec["headers"]["authorization"] == "Bearer ya29.mock-access-token"
    part = rec["body"]["contents"][0]["parts"][0]["inlineData"]
    assert part["mimeType"] == "audio/wav" and base64.b64decode(part["data"]) == AUDIO
    assert rec["body"]["generationConfig"] == {"audioTranscriptionConfig": {"languageCodes": ["de-DE"]}}
    # 440 audio tokens at 2e-6, 62 output at 1.2e-5 (vertex_ai/gemini-3.5-transcribe).
    assert cost(raw) == pytest.approx(440 * 2e-6 + 62 * 1.2e-5)


def test_vertex_gemini_transcription_defaults_to_the_global_location(client, mock):
    client.audio.transcriptions.create(model="vertex-stt-global", file=("talk.wav", AUDIO))
    assert requests_to(mock, "/projects/proj-e2e/locations/global/publishers/google/models/gemini-3.5-transcribe:generateContent")


def test_vertex_chirp_transcription_is_speech_to_text_v2_priced_per_second(client, mock):
    raw = client.audio.transcriptions.with_raw_response.create(
        model="chirp-stt", file=("talk.wav", AUDIO), response_format="text")
    assert raw.http_response.text == f"Hello from mock audio: {len(AUDIO)} bytes"
    rec = requests_to(mock, "/v2/projects/proj-e2e/locations/us-central1/recognizers/_:recognize")[-1]
    assert rec["headers"]["x-goog-user-project"] == "proj-e2e"
    assert rec["body"]["config"] == {"model": "chirp_2", "languageCodes": ["auto"],
                                     "features": {"enableAutomaticPunctuation": True}, "autoDecodingConfig": {}}
    assert base64.b64decode(rec["body"]["content"]) == AUDIO
    # 2.5 s billed as 3 s at 2.6667e-4 (vertex_ai/chirp_2).
    assert cost(raw) == pytest.approx(3 * 0.00026667)


def test_vertex_transcription_refuses_verbose_json_as_litellm_does(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(model="vertex-stt", file=("talk.wav", AUDIO), response_format="verbose_json")
    assert "Supported values: json, text" in str(e.value)


def test_a_file_that_is_not_audio_is_a_400_before_google(client, mock):
    before = len(requests_to(mock, "/v1beta/interactions"))
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(model="gemini-stt", file=("notes.txt", b"just text", "text/plain"))
    assert "not audio" in str(e.value) and "audio/wav" in str(e.value)
    assert len(requests_to(mock, "/v1beta/interactions")) == before


# --- image edits ----------------------------------------------------------------------------

def test_gemini_edit_inlines_the_image_and_returns_b64(client, mock):
    raw = client.images.with_raw_response.edit(model="gemini-edit", image=("cat.png", PNG, "image/png"),
                                               prompt="add a hat", size="1792x1024")
    img = raw.parse()
    assert base64.b64decode(img.data[0].b64_json) == PNG
    rec = requests_to(mock, "/v1beta/models/gemini-2.5-flash-image:generateContent")[-1]
    assert rec["headers"]["x-goog-api-key"] == "gm-key"
    parts = rec["body"]["contents"][0]["parts"]
    assert parts[0]["inlineData"]["mimeType"] == "image/png" and base64.b64decode(parts[0]["inlineData"]["data"]) == PNG
    assert parts[1] == {"text": "add a hat"}
    assert rec["body"]["generationConfig"] == {"imageConfig": {"aspectRatio": "16:9"}}
    # Per image returned (gemini/gemini-2.5-flash-image at 0.039), as LiteLLM prices edits.
    assert cost(raw) == pytest.approx(0.039)


def test_vertex_gemini_edit_asks_for_the_image_modality(client, mock):
    raw = client.images.with_raw_response.edit(model="vertex-edit", image=[("a.png", PNG, "image/png"),
                                                                           ("b.png", PNG, "image/png")],
                                               prompt="merge them")
    assert len(raw.parse().data) == 1
    rec = requests_to(mock, "/publishers/google/models/gemini-2.5-flash-image:generateContent")[-1]
    assert rec["body"]["generationConfig"] == {"responseModalities": ["IMAGE"]}
    assert rec["body"]["contents"][0]["role"] == "user" and len(rec["body"]["contents"][0]["parts"]) == 3
    assert cost(raw) == pytest.approx(0.039)


def test_vertex_imagen_edit_sends_reference_images_to_predict(client, mock):
    raw = client.images.with_raw_response.edit(model="imagen-edit", image=("cat.png", PNG, "image/png"),
                                               mask=("mask.png", PNG, "image/png"), prompt="a red hat", n=2)
    assert [base64.b64decode(d.b64_json) for d in raw.parse().data] == [PNG, PNG]
    rec = requests_to(mock, "/publishers/google/models/imagen-3.0-capability-001:predict")[-1]
    inst = rec["body"]["instances"][0]
    assert inst["prompt"] == "a red hat"
    assert [(r["referenceType"], r["referenceId"]) for r in inst["referenceImages"]] == [
        ("REFERENCE_TYPE_RAW", 1), ("REFERENCE_TYPE_MASK", 2)]
    assert rec["body"]["parameters"] == {"sampleCount": 2, "editMode": "EDIT_MODE_INPAINT_INSERTION",
                                         "editConfig": {"baseSteps": 50}, "guidanceScale": 7.5, "seed": None}
    assert cost(raw) == pytest.approx(2 * 0.02)


def test_imagen_edit_without_a_prompt_is_a_400(client, mock):
    before = len(requests_to(mock, "imagen-3.0-capability-001"))
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(model="imagen-edit", image=("cat.png", PNG, "image/png"), prompt="")
    assert "requires a prompt" in str(e.value)
    assert len(requests_to(mock, "imagen-3.0-capability-001")) == before


def test_an_edit_of_a_file_that_is_not_an_image_is_a_400(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(model="gemini-edit", image=("notes.txt", b"hello", "text/plain"), prompt="p")
    assert "not an image" in str(e.value) and "image/png" in str(e.value)


@pytest.mark.filterwarnings("ignore::DeprecationWarning")
def test_variations_and_translations_are_refused_by_name(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.images.create_variation(model="gemini-edit", image=("cat.png", PNG, "image/png"))
    assert "images/variations" in str(e.value)
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.translations.create(model="gemini-stt", file=("talk.wav", AUDIO))
    assert "audio/translations" in str(e.value)


# --- spend ----------------------------------------------------------------------------------

def test_spend_logs_carry_each_calls_cost(gw):
    status, k = admin(gw, "POST", "/key/generate", {"key_alias": "google-media"})
    assert status == 200, k
    c = openai.OpenAI(api_key=k["key"], base_url=f"{gw.base}/v1", max_retries=0)
    c.audio.speech.create(model="gemini-tts", voice="alloy", input=SAY).read()
    c.audio.transcriptions.create(model="gemini-stt", file=("t.wav", AUDIO))
    c.images.edit(model="imagen-edit", image=("a.png", PNG, "image/png"), prompt="p")
    want = {"gemini-tts": ("aspeech", 4 * 5e-7 + 2 * 1e-5),
            "gemini-stt": ("atranscription", 300 * 2e-6 + 20 * 1.2e-5),
            "imagen-edit": ("aimage_edit", 0.02)}
    deadline = time.time() + 10
    logs = []
    while time.time() < deadline and len(logs) < len(want):
        _, logs = admin(gw, "GET", f"/spend/logs?api_key={k['key']}")
        logs = logs if isinstance(logs, list) else []
        time.sleep(0.2)
    by_group = {log["model_group"]: log for log in logs}
    assert set(by_group) == set(want), logs
    for group, (call_type, spend) in want.items():
        assert by_group[group]["call_type"] == call_type
        assert by_group[group]["spend"] == pytest.approx(spend), by_group[group]
    _, info = admin(gw, "GET", f"/key/info?key={k['key']}")
    assert info["info"]["spend"] == pytest.approx(sum(s for _, s in want.values()))
