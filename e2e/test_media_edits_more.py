"""`/images/edits` on Bedrock and DashScope and `/audio/speech` on DashScope, through the llmgate
binary with the official `openai` client, as LiteLLM sends them: Bedrock's Stability edit models
(the image base64 in one InvokeModel body with the prompt, mask and Stability's own fields) and
Nova Canvas's tasks (INPAINTING with a mask, IMAGE_VARIATION without), signed with SigV4 that the
mock recomputes, images back as `b64_json`; DashScope's qwen-image-edit (the images as data URLs
in one multimodal message, URLs back) and Qwen-TTS (`input.text`/`input.voice`, the answer's audio
file downloaded only where the deployment's `media_url_allowlist` trusts its host). Each is
priced (per image, per character) in the cost header and the spend log; bad input (no image, no
prompt where the model needs one, a model without edits, an OpenAI param the model lacks) is an
OpenAI-shaped 4xx."""
import base64
import json
import time
import urllib.error
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway
from test_media import PNG, cost
from test_virtual_keys import admin

KEY_ID = "AKIDLLMGATEMOCK"
SECRET = "llmgate-mock-bedrock-secret"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
B64_PNG = base64.b64encode(PNG).decode()


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("media_edits_more")
    ds = f"{mock.base}/api/v1/services/aigc/multimodal-generation/generation"

    def bedrock(name, model):
        return f"""
  - model_name: {name}
    litellm_params:
      model: bedrock/{model}
      aws_access_key_id: {KEY_ID}
      aws_secret_access_key: {SECRET}
      aws_region_name: us-east-1
      aws_bedrock_runtime_endpoint: {mock.base}"""
    cfg = ("model_list:"
           + bedrock("inpaint", "stability.stable-image-inpaint-v1:0")
           + bedrock("search-replace", "us.stability.stable-image-search-replace-v1:0")
           + bedrock("nova-edit", "amazon.nova-canvas-v1:0")
           + bedrock("titan", "amazon.titan-image-generator-v2:0")
           + bedrock("ultra", "us.stability.stable-image-ultra-v1:1")
           + f"""
  - model_name: qwen-edit
    litellm_params: {{model: dashscope/qwen-image-edit-plus, api_base: "{ds}", api_key: ds-key}}
    model_info: {{output_cost_per_image: 0.03}}
  - model_name: qwen-tts
    litellm_params: {{model: dashscope/qwen3-tts-flash, api_base: "{ds}", api_key: ds-key, media_url_allowlist: "127.0.0.1"}}
  - model_name: qwen-tts-untrusted
    litellm_params: {{model: dashscope/qwen3-tts-flash, api_base: "{ds}", api_key: ds-key}}
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 0.2
router_settings:
  num_retries: 0
""")
    g = Gateway(tmp, cfg, env={"LLMGATE_DB_PATH": str(tmp / "spend.db")}).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(api_key=MASTER, base_url=f"{gw.base}/v1", max_retries=0)


def recorded(mock):
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())


def last_invoke(mock, model_id):
    path = f"/model/{model_id.replace(':', '%3A')}/invoke"
    return [r for r in recorded(mock) if r["path"] == path][-1]


def last_dashscope(mock):
    return [r for r in recorded(mock) if r["path"].endswith("/multimodal-generation/generation")][-1]


def pngs(img):
    assert img.data, img
    out = [base64.b64decode(d.b64_json) for d in img.data]
    assert all(b.startswith(PNG_MAGIC) for b in out)
    return out


# --- bedrock --------------------------------------------------------------------------------

def test_stability_inpaint_sends_image_mask_and_prompt_signed(client, mock):
    raw = client.images.with_raw_response.edit(
        model="inpaint", image=("cat.png", PNG, "image/png"), mask=("mask.png", PNG, "image/png"),
        prompt="a red hat", size="1024x1024", extra_body={"seed": "7", "negative_prompt": "blur"})
    assert len(pngs(raw.parse())) == 1
    rec = last_invoke(mock, "stability.stable-image-inpaint-v1:0")
    assert rec["headers"]["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={KEY_ID}/")
    assert "/us-east-1/bedrock/aws4_request" in rec["headers"]["authorization"]
    assert rec["body"] == {"output_format": "png", "prompt": "a red hat", "image": B64_PNG,
                           "aspect_ratio": "1:1", "mask": B64_PNG, "seed": 7, "negative_prompt": "blur"}
    # stability.stable-image-inpaint-v1:0 at $0.07 an image.
    assert cost(raw) == pytest.approx(0.07)


def test_stability_search_replace_on_a_cross_region_profile(client, mock):
    raw = client.images.with_raw_response.edit(
        model="search-replace", image=("cat.png", PNG, "image/png"), prompt="a dog",
        extra_body={"search_prompt": "cat"})
    assert len(pngs(raw.parse())) == 1
    assert last_invoke(mock, "us.stability.stable-image-search-replace-v1:0")["body"] == {
        "output_format": "png", "prompt": "a dog", "image": B64_PNG, "search_prompt": "cat"}
    assert cost(raw) == pytest.approx(0.07)


def test_nova_canvas_inpaints_with_a_mask_and_varies_without(client, mock):
    raw = client.images.with_raw_response.edit(
        model="nova-edit", image=("cat.png", PNG, "image/png"), mask=("mask.png", PNG, "image/png"),
        prompt="a blue sky", n=2, size="512x512", quality="hd")
    assert len(pngs(raw.parse())) == 2
    assert last_invoke(mock, "amazon.nova-canvas-v1:0")["body"] == {
        "taskType": "INPAINTING",
        "inPaintingParams": {"image": B64_PNG, "text": "a blue sky", "maskImage": B64_PNG},
        "imageGenerationConfig": {"width": 512, "height": 512, "numberOfImages": 2, "quality": "premium"}}
    assert cost(raw) == pytest.approx(2 * 0.06)
    img = client.images.edit(model="nova-edit", image=("cat.png", PNG, "image/png"), prompt="in winter",
                             extra_body={"similarityStrength": "0.8"})
    assert len(pngs(img)) == 1
    assert last_invoke(mock, "amazon.nova-canvas-v1:0")["body"] == {
        "taskType": "IMAGE_VARIATION",
        "imageVariationParams": {"images": [B64_PNG], "text": "in winter", "similarityStrength": 0.8}}


def test_bedrock_edit_refusals(client, mock):
    before = len(recorded(mock))
    # Models LiteLLM does not edit on Bedrock: refused before any call.
    for model in ("titan", "ultra"):
        with pytest.raises(openai.BadRequestError) as e:
            client.images.edit(model=model, image=("a.png", PNG, "image/png"), prompt="x")
        assert "Unsupported Bedrock image-edit model" in e.value.body["message"]
    # quality is not a Stability edit param: LiteLLM's UnsupportedParamsError.
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(model="inpaint", image=("a.png", PNG, "image/png"), prompt="x", quality="high")
    assert "'quality'" in e.value.body["message"]
    # Nova's INPAINTING needs a prompt.
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(model="nova-edit", image=("a.png", PNG, "image/png"), prompt="",
                           extra_body={"taskType": "INPAINTING", "maskPrompt": "the cat"})
    assert "requires a text prompt" in e.value.body["message"]
    assert not [r for r in recorded(mock)[before:] if r["path"].startswith("/model/")]
    # Inpainting without a prompt reaches Bedrock, whose ValidationException is relayed.
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(model="inpaint", image=("a.png", PNG, "image/png"), prompt="")
    assert "prompt is required" in e.value.body["message"]
    # A content-filtered prompt (finish_reasons) is a 400, as LiteLLM raises it.
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(model="inpaint", image=("a.png", PNG, "image/png"), prompt="mock-filtered")
    assert "Filter reason" in e.value.body["message"]


def test_an_edit_without_an_image_is_a_400(gw):
    body = (b"--b\r\nContent-Disposition: form-data; name=\"model\"\r\n\r\ninpaint\r\n"
            b"--b\r\nContent-Disposition: form-data; name=\"prompt\"\r\n\r\nx\r\n--b--\r\n")
    req = urllib.request.Request(f"{gw.base}/v1/images/edits", data=body, method="POST", headers={
        "authorization": f"Bearer {MASTER}", "content-type": "multipart/form-data; boundary=b"})
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req)
    assert e.value.code == 400
    err = json.loads(e.value.read())["error"]
    assert "`image` is a required file field" in err["message"]


# --- dashscope ------------------------------------------------------------------------------

def test_dashscope_edit_as_a_multimodal_message_with_urls_back(client, mock):
    raw = client.images.with_raw_response.edit(
        model="qwen-edit", image=[("a.png", PNG, "image/png"), ("b.png", PNG, "image/png")],
        prompt="make them one", n=2, size="1024x768")
    img = raw.parse()
    assert [d.url for d in img.data] == [
        f"https://dashscope-result.mock/qwen-image-edit-plus/edit-{i}.png" for i in range(2)]
    rec = last_dashscope(mock)
    assert rec["headers"]["authorization"] == "Bearer ds-key"
    data_url = f"data:image/png;base64,{B64_PNG}"
    assert rec["body"] == {"model": "qwen-image-edit-plus", "input": {"messages": [{"role": "user", "content": [
        {"image": data_url}, {"image": data_url}, {"text": "make them one"}]}]},
        "parameters": {"n": 2, "size": "1024*768"}}
    assert cost(raw) == pytest.approx(2 * 0.03)


def test_dashscope_edit_refusals(client, mock):
    # No prompt: sent as LiteLLM sends it (image only); DashScope's refusal relayed as a 400.
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(model="qwen-edit", image=("a.png", PNG, "image/png"), prompt="")
    assert "edit instruction" in e.value.body["message"]
    before = len(recorded(mock))
    with pytest.raises(openai.BadRequestError) as e:
        client.images.edit(model="qwen-edit", image=("a.png", PNG, "image/png"), prompt="x", quality="high")
    assert "'quality'" in e.value.body["message"]
    assert len(recorded(mock)) == before


def test_dashscope_speech_downloads_the_audio_file_priced_per_character(client, mock):
    raw = client.audio.speech.with_raw_response.create(
        model="qwen-tts", voice="Cherry", input="hello there", response_format="mp3", speed=1.1,
        extra_body={"language_type": "English"})
    audio = raw.http_response.content
    assert audio.startswith(b"RIFF") and len(audio) == 4 + 11 * 64
    assert raw.http_response.headers["content-type"] == "audio/wav"
    rec = last_dashscope(mock)
    assert rec["headers"]["authorization"] == "Bearer ds-key"
    # response_format and speed have no DashScope field: left out, as LiteLLM does.
    assert rec["body"] == {"model": "qwen3-tts-flash",
                           "input": {"text": "hello there", "voice": "Cherry", "language_type": "English"}}
    # dashscope/qwen3-tts-flash at 1e-5 a character.
    assert cost(raw) == pytest.approx(11 * 1e-5)


def test_dashscope_speech_refusals(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.audio.speech.create(model="qwen-tts", voice="alloy", input="hi")
    assert "Voice 'alloy' is not supported" in e.value.body["message"]
    # The audio file is on a private address the deployment does not trust: not fetched.
    with pytest.raises(openai.APIStatusError) as e:
        client.audio.speech.create(model="qwen-tts-untrusted", voice="Cherry", input="hi")
    assert e.value.status_code == 502
    assert "Failed to download DashScope audio file" in e.value.body["message"]


def test_spend_rows_for_edits_and_speech(gw):
    status, k = admin(gw, "POST", "/key/generate", {"key_alias": "edits-more"})
    assert status == 200, k
    c = openai.OpenAI(api_key=k["key"], base_url=f"{gw.base}/v1", max_retries=0)
    c.images.edit(model="inpaint", image=("a.png", PNG, "image/png"), prompt="a hat")
    c.images.edit(model="qwen-edit", image=("a.png", PNG, "image/png"), prompt="a hat")
    c.audio.speech.create(model="qwen-tts", voice="Cherry", input="four")
    deadline = time.time() + 10
    logs = []
    while time.time() < deadline and len(logs) < 3:
        _, logs = admin(gw, "GET", f"/spend/logs?api_key={k['key']}")
        logs = logs if isinstance(logs, list) else []
        time.sleep(0.2)
    rows = {log["model_group"]: log for log in logs}
    assert set(rows) == {"inpaint", "qwen-edit", "qwen-tts"}, logs
    assert rows["inpaint"]["call_type"] == "aimage_edit"
    assert rows["inpaint"]["custom_llm_provider"] == "bedrock"
    assert rows["inpaint"]["spend"] == pytest.approx(0.07)
    assert rows["qwen-edit"]["custom_llm_provider"] == "dashscope"
    assert rows["qwen-edit"]["spend"] == pytest.approx(0.03)
    assert rows["qwen-tts"]["call_type"] == "aspeech"
    assert rows["qwen-tts"]["spend"] == pytest.approx(4 * 1e-5)
