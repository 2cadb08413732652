"""Media endpoints on providers beyond OpenAI, Azure and Groq, through the llmgate binary with
the official `openai` client against the mock: Mistral's `/audio/transcriptions` (Voxtral,
multipart, priced per second from the answer's `usage.prompt_audio_seconds`) and
`/moderations` (Mistral's answer given OpenAI's `flagged`); Fireworks AI's
`/audio/transcriptions` (OpenAI's protocol under the row's base, the model name as given);
Azure AI's `/images/generations` on the deployment path (priced per image, or by usage tokens)
MAI's own endpoint (its body, usage mapped to OpenAI's, priced by tokens) and FLUX.2 on Black
Forest Labs' path (BFL's fields, priced per pixel); an
endpoint a provider does not serve is a 400 naming it, with nothing sent upstream."""

import openai
import pytest

from conftest import MASTER, Gateway
from test_media import cost, requests_to, wav

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
  - model_name: fw-image
    litellm_params: {{model: fireworks_ai/accounts/fireworks/models/flux-1-schnell-fp8, api_base: {v1}, api_key: fw-key}}
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


def test_an_endpoint_mistral_does_not_serve_is_a_400_naming_it(client, mock):
    before = len(requests_to(mock, "/audio/speech"))
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.speech.create(model="mistral-tts", voice="alloy", input="hi")
    assert "mistral does not support /audio/speech" in str(e.value)
    assert len(requests_to(mock, "/audio/speech")) == before


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
