"""Media endpoints on providers beyond OpenAI, Azure and Groq, through the llmgate binary with
the official `openai` client against the mock: Mistral's `/audio/transcriptions` (Voxtral,
multipart, priced per second from the answer's `usage.prompt_audio_seconds`) and
`/moderations` (Mistral's answer given OpenAI's `flagged`) and `/audio/speech` (`voice_id`,
the answer's base64 audio decoded); Fireworks AI's
`/audio/transcriptions` (OpenAI's protocol under the row's base, the model name as given);
Azure AI's `/images/generations` on the deployment path (priced per image, or by usage tokens)
MAI's own endpoint (its body, usage mapped to OpenAI's, priced by tokens) and FLUX.2 on Black
Forest Labs' path (BFL's fields, priced per pixel); Azure AI's `/images/edits` by family
(FLUX.1 Kontext's form on the deployment path, MAI's form on its edit endpoint, FLUX.2's JSON
with the image inlined) and `/audio/transcriptions` (OpenAI's form under the base, a bearer);
xAI's `/audio/transcriptions` on its `/v1/stt` (xAI's answer in OpenAI's shape, priced per
second); watsonx's `/ml/v1/audio/transcriptions` (its token, `model` and `project_id` in the
form); DashScope's image generation on its multimodal-generation endpoint (the prompt as a
message, `size` as `W*H`, image URLs back, priced per image); an endpoint a provider does not serve is a 400 naming it, with nothing sent upstream."""

import openai
import pytest

from conftest import MASTER, Gateway
from test_media import PNG, cost, requests_to, wav

AUDIO = wav(2.5)


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("media_providers")
    v1 = f"{mock.base}/v1"
    cfg = f"""
model_list:
  - model_name: voxtral
    litellm_params: {{model: mistral/voxtral-mini-latest, api_base: {v1}, api_key: ms-key}}
  - model_name: mistral-mod
    litellm_params: {{model: mistral/mistral-moderation-latest, api_base: {v1}, api_key: ms-key}}
  - model_name: mistral-tts
    litellm_params: {{model: mistral/voxtral-mini-tts-latest, api_base: {v1}, api_key: ms-key}}
  - model_name: fw-whisper
    litellm_params: {{model: fireworks_ai/whisper-v3, api_base: {v1}, api_key: fw-key, input_cost_per_second: 2.5e-5}}
  - model_name: flux-azure-ai
    litellm_params: {{model: azure_ai/FLUX-1.1-pro, api_base: {mock.base}, api_key: aai-key}}
  - model_name: gpt-image-azure-ai
    litellm_params: {{model: azure_ai/gpt-image-2, api_base: {mock.base}, api_key: aai-key}}
  - model_name: mai-azure-ai
    litellm_params: {{model: azure_ai/MAI-Image-2.5, api_base: {mock.base}, api_key: aai-key}}
  - model_name: flux2-azure-ai
    litellm_params: {{model: azure_ai/FLUX.2-flex, api_base: {mock.base}, api_key: aai-key}}
  - model_name: kontext-azure-ai
    litellm_params: {{model: azure_ai/FLUX.1-Kontext-pro, api_base: {mock.base}, api_key: aai-key, api_version: 2025-04-01-preview}}
  - model_name: kontext-no-version
    litellm_params: {{model: azure_ai/FLUX.1-Kontext-pro, api_base: {mock.base}, api_key: aai-key}}
  - model_name: whisper-azure-ai
    litellm_params: {{model: azure_ai/whisper, api_base: {mock.base}, api_key: aai-key}}
  - model_name: grok-stt
    litellm_params: {{model: xai/grok-voice-transcribe-1.0, api_base: {v1}, api_key: xai-key}}
  - model_name: grok-stt-drop
    litellm_params: {{model: xai/grok-voice-transcribe-1.0, api_base: {v1}, api_key: xai-key, drop_params: true}}
  - model_name: sd-azure-ai
    litellm_params: {{model: azure_ai/Stable-Diffusion-3.5-Large, api_base: {mock.base}, api_key: aai-key}}
  - model_name: qwen-image
    litellm_params: {{model: dashscope/qwen-image-2.0, api_base: "{mock.base}/api/v1/services/aigc/multimodal-generation/generation", api_key: ds-key}}
  - model_name: wx-whisper
    litellm_params: {{model: watsonx/whisper-large-v3-turbo, api_base: {mock.base}, token: llmgate-mock-watsonx-token, project_id: p1}}
  - model_name: fw-image
    litellm_params: {{model: fireworks_ai/accounts/fireworks/models/flux-1-schnell-fp8, api_base: {v1}, api_key: fw-key}}
  - model_name: db-image
    litellm_params: {{model: databricks/databricks-shutterstock-imageai, api_base: "{mock.base}/serving-endpoints", api_key: dapi-key}}
router_settings:
  num_retries: 0
general_settings:
  master_key: {MASTER}
"""
    g = Gateway(tmp, cfg).wait_ready()
    yield g
    g.stop()


@pytest.fixture(scope="module")
def client(gw):
    return openai.OpenAI(api_key=MASTER, base_url=f"{gw.base}/v1", max_retries=0)


# --- mistral --------------------------------------------------------------------------------

def test_mistral_transcription_is_a_multipart_upload_priced_per_second(client, mock):
    raw = client.audio.transcriptions.with_raw_response.create(
        model="voxtral", file=("talk.wav", AUDIO, "audio/wav"), language="en", temperature=0.1)
    t = raw.parse()
    assert t.text.startswith(f"Hello from mock audio: {len(AUDIO)} bytes") and t.text.endswith("talk.wav")
    rec = requests_to(mock, "/v1/audio/transcriptions")[-1]
    assert rec["headers"]["authorization"] == "Bearer ms-key"
    assert rec["body"]["model"] == "voxtral-mini-latest" and rec["body"]["language"] == "en"
    assert rec["body"]["file"] == {"filename": "talk.wav", "bytes": len(AUDIO)}
    # voxtral-mini-latest at 5e-5 a second; Mistral's answer says 3 s of audio.
    assert cost(raw) == pytest.approx(3 * 5e-5)


def test_mistral_moderation_answers_in_openais_shape(client, mock):
    raw = client.moderations.with_raw_response.create(model="mistral-mod", input=["I am violent", "I am calm"])
    m = raw.parse()
    assert [r.flagged for r in m.results] == [True, False]
    assert m.model == "mistral-moderation-latest"
    first = m.results[0].model_dump()
    assert first["categories"]["violence_and_threats"] is True
    assert first["category_scores"]["violence_and_threats"] == pytest.approx(0.93)
    rec = requests_to(mock, "/v1/moderations")[-1]
    assert rec["body"] == {"model": "mistral-moderation-latest", "input": ["I am violent", "I am calm"]}
    assert rec["headers"]["authorization"] == "Bearer ms-key"


def test_mistral_speech_sends_a_voice_id_and_decodes_the_audio(client, mock):
    raw = client.audio.speech.with_raw_response.create(model="mistral-tts", voice="alloy", input="hello there",
                                                       response_format="wav", speed=1.2)
    audio = raw.http_response.content
    assert audio.startswith(b"RIFF") and len(audio) == 4 + 11 * 64
    assert raw.http_response.headers["content-type"] == "audio/wav"
    rec = requests_to(mock, "/v1/audio/speech")[-1]
    assert rec["headers"]["authorization"] == "Bearer ms-key"
    # OpenAI's `alloy` as Mistral's voice; `speed` has no Mistral field.
    assert rec["body"] == {"model": "voxtral-mini-tts-latest", "input": "hello there",
                           "voice_id": "en_paul_neutral", "response_format": "wav"}
    # voxtral-mini-tts-latest at 1.6e-5 a character.
    assert cost(raw) == pytest.approx(11 * 1.6e-5)


def test_mistral_speech_refusal_is_relayed_as_an_openai_error(client, mock):
    with pytest.raises(openai.APIStatusError) as e:
        client.audio.speech.create(model="mistral-tts", voice="", input="hi")
    assert e.value.status_code == 422 and "voice_id" in e.value.body["message"]


# --- fireworks_ai ---------------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "verbose_json", "text"])
def test_fireworks_transcription_in_each_format(client, mock, fmt):
    raw = client.audio.transcriptions.with_raw_response.create(
        model="fw-whisper", file=("call.wav", AUDIO), response_format=fmt, prompt="a phone call")
    if fmt == "text":
        assert raw.http_response.text.startswith("Hello from mock audio")
    else:
        assert raw.parse().text.startswith("Hello from mock audio")
    rec = requests_to(mock, "/v1/audio/transcriptions")[-1]
    assert rec["headers"]["authorization"] == "Bearer fw-key"
    # LiteLLM sends a Fireworks transcription's model as given (no `accounts/...` resource).
    assert rec["body"]["model"] == "whisper-v3" and rec["body"]["prompt"] == "a phone call"
    # 2.5 s of audio (the answer's duration, else the WAV header's; `json` says 3 s).
    assert cost(raw) == pytest.approx((3 if fmt == "json" else 2.5) * 2.5e-5)


def test_fireworks_images_are_a_400_as_litellm_has_no_handler(client, mock):
    before = len(requests_to(mock, "/images/generations"))
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="fw-image", prompt="a cat")
    assert "fireworks_ai does not support /images/generations" in str(e.value)
    assert len(requests_to(mock, "/images/generations")) == before


def test_databricks_images_are_a_400_as_litellm_has_no_handler(client, mock):
    # LiteLLM 1.110's image_generation has no databricks branch (databricks is not among its
    # OpenAI-compatible providers, and llms/databricks has no image config): nothing is sent.
    before = len(requests_to(mock, "/images/generations"))
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="db-image", prompt="a cat")
    assert "databricks does not support /images/generations" in str(e.value)
    assert len(requests_to(mock, "/images/generations")) == before


# --- azure_ai -------------------------------------------------------------------------------

def test_azure_ai_image_generation_on_the_deployment_path_priced_per_image(client, mock):
    raw = client.images.with_raw_response.generate(model="flux-azure-ai", prompt="a lighthouse", n=2,
                                                   size="1024x1024")
    imgs = raw.parse()
    assert len(imgs.data) == 2 and imgs.data[0].url.startswith("https://mock.images.local/")
    rec = requests_to(mock, "/openai/deployments/FLUX-1.1-pro/images/generations")[-1]
    assert rec["query"] == "api-version=2024-10-21" and rec["headers"]["api-key"] == "aai-key"
    assert rec["body"]["prompt"] == "a lighthouse" and rec["body"]["n"] == 2
    # FLUX-1.1-pro at $0.04 an image.
    assert cost(raw) == pytest.approx(2 * 0.04)


def test_azure_ai_gpt_image_is_priced_by_its_usage_tokens(client, mock):
    raw = client.images.with_raw_response.generate(model="gpt-image-azure-ai", prompt="a lighthouse")
    assert raw.parse().usage.output_tokens == 1056
    assert requests_to(mock, "/openai/deployments/gpt-image-2/images/generations")[-1]["body"]["model"] == "gpt-image-2"
    # The mock's usage: 2 prompt words + 5 text tokens in, 1056 image tokens out.
    assert cost(raw) == pytest.approx(7 * 5e-6 + 1056 * 3e-5)


def test_azure_ai_mai_image_on_its_own_endpoint_priced_by_tokens(client, mock):
    raw = client.images.with_raw_response.generate(model="mai-azure-ai", prompt="a quiet harbour at dawn",
                                                   size="1024x768")
    imgs = raw.parse()
    assert len(imgs.data) == 1 and imgs.data[0].b64_json
    assert imgs.usage.input_tokens == 10 and imgs.usage.output_tokens == 1056
    assert raw.http_response.json()["size"] == "1024x768"
    rec = requests_to(mock, "/mai/v1/images/generations")[-1]
    assert rec["query"] == "api-version=preview" and rec["headers"]["api-key"] == "aai-key"
    assert rec["body"] == {"model": "MAI-Image-2.5", "prompt": "a quiet harbour at dawn", "width": 1024, "height": 768}
    # MAI-Image-2.5: 10 text tokens at 5e-6, 1056 image tokens out at 4.7e-5.
    assert cost(raw) == pytest.approx(10 * 5e-6 + 1056 * 4.7e-5)


def test_azure_ai_mai_refuses_what_it_cannot_do_before_anything_is_sent(client, mock):
    before = len(requests_to(mock, "/mai/"))
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="mai-azure-ai", prompt="a cat", n=2)
    assert "n=2 is not supported" in str(e.value)
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="mai-azure-ai", prompt="a cat", size="512x512")
    assert "at least 768" in str(e.value)
    assert len(requests_to(mock, "/mai/")) == before


def test_azure_ai_flux2_on_black_forest_labs_path_priced_per_pixel(client, mock):
    raw = client.images.with_raw_response.generate(model="flux2-azure-ai", prompt="a red fox", n=2,
                                                   size="1024x768", quality="high",
                                                   extra_body={"guidance": 4.5, "steps": 32})
    assert len(raw.parse().data) == 2
    rec = requests_to(mock, "/providers/blackforestlabs/v1/flux-2-flex")[-1]
    assert rec["query"] == "api-version=preview" and rec["headers"]["api-key"] == "aai-key"
    assert rec["body"] == {"model": "FLUX.2-flex", "prompt": "a red fox", "num_images": 2, "width": 1024,
                           "height": 768, "guidance": 4.5, "steps": 32}
    # FLUX.2-flex at 5e-8 a pixel, for each image.
    assert cost(raw) == pytest.approx(2 * 1024 * 768 * 5e-8)


def test_azure_ai_flux2_refuses_a_field_bfl_has_not(client, mock):
    before = len(requests_to(mock, "/providers/"))
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="flux2-azure-ai", prompt="a cat", style="vivid")
    assert "not supported for model FLUX.2-flex" in str(e.value)
    assert len(requests_to(mock, "/providers/")) == before


# --- azure_ai edits and transcriptions ------------------------------------------------------

def test_azure_ai_kontext_edit_is_a_form_on_the_deployment_path_priced_per_image(client, mock):
    raw = client.images.with_raw_response.edit(model="kontext-azure-ai", image=("cat.png", PNG, "image/png"),
                                               prompt="add a hat", n=2)
    assert len(raw.parse().data) == 2
    rec = requests_to(mock, "/openai/deployments/FLUX.1-Kontext-pro/images/edits")[-1]
    assert rec["query"] == "api-version=2025-04-01-preview" and rec["headers"]["api-key"] == "aai-key"
    assert "authorization" not in rec["headers"]
    assert rec["body"]["prompt"] == "add a hat" and rec["body"]["model"] == "FLUX.1-Kontext-pro"
    assert rec["body"]["image"] == {"filename": "cat.png", "bytes": len(PNG)}
    # FLUX.1-Kontext-pro at $0.04 an image.
    assert cost(raw) == pytest.approx(2 * 0.04)


def test_azure_ai_kontext_edit_needs_an_api_version_as_in_litellm(client, mock):
    before = len(requests_to(mock, "/images/edits"))
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(model="kontext-no-version", image=("cat.png", PNG, "image/png"), prompt="add a hat")
    assert "API version is required" in e.value.body["message"]
    assert e.value.status_code == 400 and e.value.body["type"] == "invalid_request_error"
    assert len(requests_to(mock, "/images/edits")) == before


def test_azure_ai_mai_edit_is_a_form_on_its_endpoint_priced_by_tokens(client, mock):
    raw = client.images.with_raw_response.edit(
        model="mai-azure-ai", image=[("a.png", PNG, "image/png"), ("b.png", PNG, "image/png")],
        mask=("m.png", PNG, "image/png"), prompt="add a hat")
    imgs = raw.parse()
    assert len(imgs.data) == 1 and imgs.data[0].b64_json
    assert imgs.usage.input_tokens == 8 + 258 and imgs.usage.output_tokens == 1056
    rec = requests_to(mock, "/mai/v1/images/edits")[-1]
    assert rec["query"] == "api-version=preview" and rec["headers"]["api-key"] == "aai-key"
    # One image (the first), no mask; the size MAI needs filled in.
    assert rec["body"] == {"model": "MAI-Image-2.5", "prompt": "add a hat", "size": "1024x1024",
                           "image": {"filename": "a.png", "bytes": len(PNG)}}
    # MAI-Image-2.5: 8 text tokens at 5e-6, 258 image tokens at 8e-6, 1056 out at 4.7e-5.
    assert cost(raw) == pytest.approx(8 * 5e-6 + 258 * 8e-6 + 1056 * 4.7e-5)


def test_azure_ai_mai_edit_refuses_a_field_it_has_not(client, mock):
    before = len(requests_to(mock, "/mai/"))
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(model="mai-azure-ai", image=("a.png", PNG, "image/png"), prompt="x", quality="high")
    assert "Parameter quality is not supported" in str(e.value)
    assert len(requests_to(mock, "/mai/")) == before


def test_azure_ai_flux2_edit_inlines_the_image_on_bfls_path(client, mock):
    import base64
    raw = client.images.with_raw_response.edit(model="flux2-azure-ai", image=("cat.png", PNG, "image/png"),
                                               prompt="make it red", size="1024x768",
                                               extra_body={"seed": 7})
    assert len(raw.parse().data) == 1
    rec = requests_to(mock, "/providers/blackforestlabs/v1/flux-2-flex")[-1]
    assert rec["headers"]["api-key"] == "aai-key" and rec["headers"]["content-type"].startswith("application/json")
    assert rec["body"] == {"prompt": "make it red", "image": base64.b64encode(PNG).decode(), "model": "FLUX.2-flex",
                           "width": 1024, "height": 768, "seed": 7}
    # FLUX.2-flex at 5e-8 a pixel.
    assert cost(raw) == pytest.approx(1024 * 768 * 5e-8)


def test_azure_ai_edits_of_a_model_litellm_does_not_edit_are_a_400(client, mock):
    before = len(requests_to(mock, "/images/edits"))
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(model="sd-azure-ai", image=("a.png", PNG, "image/png"), prompt="x")
    assert "not supported for Azure AI image editing" in e.value.body["message"]
    assert len(requests_to(mock, "/images/edits")) == before


@pytest.mark.parametrize("fmt", ["json", "verbose_json", "text"])
def test_azure_ai_transcription_is_openais_form_under_the_base(client, mock, fmt):
    raw = client.audio.transcriptions.with_raw_response.create(
        model="whisper-azure-ai", file=("talk.wav", AUDIO, "audio/wav"), response_format=fmt, language="en")
    text = raw.http_response.text if fmt == "text" else raw.http_response.json()["text"]
    assert text.startswith(f"Hello from mock audio: {len(AUDIO)} bytes")
    rec = [r for r in requests_to(mock, "/audio/transcriptions") if r["path"] == "/audio/transcriptions"][-1]
    # LiteLLM's OpenAI client: a bearer, no api-version.
    assert rec["headers"]["authorization"] == "Bearer aai-key" and rec["query"] is None
    assert rec["body"]["model"] == "whisper" and rec["body"]["language"] == "en"
    assert rec["body"]["response_format"] == fmt
    # azure_ai/whisper at 1e-4 a second: the answer's 3 s (`json`), else 2.5 s.
    assert cost(raw) == pytest.approx((3 if fmt == "json" else 2.5) * 1e-4)


# --- xai transcriptions ---------------------------------------------------------------------

def test_xai_transcription_goes_to_stt_and_answers_in_openais_shape(client, mock):
    raw = client.audio.transcriptions.with_raw_response.create(
        model="grok-stt", file=("call.wav", AUDIO, "audio/wav"), language="de", extra_body={"diarize": "true"})
    t = raw.http_response.json()
    assert t["text"].startswith(f"Hello from mock audio: {len(AUDIO)} bytes")
    assert t["task"] == "transcribe" and t["language"] == "de" and t["duration"] == 2.5
    assert t["words"][0] == {"word": "Hello", "start": 0.0, "end": 0.25, "speaker": 0}
    rec = requests_to(mock, "/v1/stt")[-1]
    assert rec["headers"]["authorization"] == "Bearer xai-key"
    assert rec["body"] == {"model": "grok-voice-transcribe-1.0", "language": "de", "diarize": "true",
                           "file": {"filename": "call.wav", "bytes": len(AUDIO)}}
    # grok-voice-transcribe-1.0 at 2.778e-5 a second, for the answer's 2.5 s.
    assert cost(raw) == pytest.approx(2.5 * 2.778e-5)


def test_xai_transcription_refuses_openai_params_xai_lacks_unless_dropped(client, mock):
    before = len(requests_to(mock, "/v1/stt"))
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.transcriptions.create(model="grok-stt", file=("call.wav", AUDIO), response_format="srt")
    assert "xai does not support parameters: ['response_format']" in str(e.value)
    assert len(requests_to(mock, "/v1/stt")) == before
    t = client.audio.transcriptions.create(model="grok-stt-drop", file=("call.wav", AUDIO), prompt="a call",
                                           temperature=0.2)
    assert t.text.startswith("Hello from mock audio")
    sent = requests_to(mock, "/v1/stt")[-1]["body"]
    assert "prompt" not in sent and "temperature" not in sent


# --- watsonx transcriptions -----------------------------------------------------------------

def test_watsonx_transcription_carries_its_model_project_and_token(client, mock):
    raw = client.audio.transcriptions.with_raw_response.create(
        model="wx-whisper", file=("talk.wav", AUDIO, "audio/wav"), language="en", extra_body={"diarize": "true"})
    assert raw.parse().text.startswith(f"Hello from mock audio: {len(AUDIO)} bytes")
    rec = requests_to(mock, "/ml/v1/audio/transcriptions")[-1]
    assert rec["query"] == "version=2024-03-13"
    assert rec["headers"]["authorization"] == "Bearer llmgate-mock-watsonx-token"
    # LiteLLM forwards OpenAI's fields only: `diarize` is not sent.
    assert rec["body"] == {"model": "whisper-large-v3-turbo", "project_id": "p1", "language": "en",
                           "file": {"filename": "talk.wav", "bytes": len(AUDIO)}}
    # The answer says no duration: the WAV's 2.5 s at watsonx/whisper-large-v3-turbo's 1e-4.
    assert cost(raw) == pytest.approx(2.5 * 1e-4)


def test_watsonx_translations_are_a_400_as_in_litellm(client, mock):
    before = len(requests_to(mock, "/ml/v1/audio/"))
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.translations.create(model="wx-whisper", file=("talk.wav", AUDIO, "audio/wav"))
    assert "watsonx does not support audio/translations" in e.value.body["message"]
    assert len(requests_to(mock, "/ml/v1/audio/")) == before


# --- dashscope images -----------------------------------------------------------------------

def test_dashscope_image_generation_as_a_multimodal_message_priced_per_image(client, mock):
    raw = client.images.with_raw_response.generate(model="qwen-image", prompt="a paper lantern", n=2,
                                                   size="1024x1024", quality="hd")
    imgs = raw.parse()
    assert [d.url for d in imgs.data] == [f"https://dashscope-result.mock/qwen-image-2.0/{i}.png" for i in range(2)]
    rec = requests_to(mock, "/multimodal-generation/generation")[-1]
    assert rec["headers"]["authorization"] == "Bearer ds-key"
    # `quality` has no DashScope field: LiteLLM leaves it out.
    assert rec["body"] == {"model": "qwen-image-2.0",
                           "input": {"messages": [{"role": "user", "content": [{"text": "a paper lantern"}]}]},
                           "parameters": {"n": 2, "size": "1024*1024"}}
    # qwen-image-2.0 at $0.035 an image.
    assert cost(raw) == pytest.approx(2 * 0.035)


def test_dashscope_refusal_is_an_openai_shaped_400(client, mock):
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="qwen-image", prompt="a cat", n=9)
    assert "n must be between 1 and 4" in e.value.body["message"]
