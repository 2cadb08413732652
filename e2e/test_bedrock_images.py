"""`/images/generations` on Bedrock deployments through the llmgate binary with the official
`openai` client: InvokeModel on the Bedrock mock (which verifies each SigV4 signature and checks
each body against its model's schema) for Stability SDXL (`text_prompts`, `width`/`height`),
Stability 3 / Stable Image (`prompt`, `aspect_ratio`), Amazon Titan Image and Nova Canvas
(`taskType`, `textToImageParams`, `imageGenerationConfig`); images back as decoded PNG bytes,
cost per image from the catalog (SDXL by size and steps) in the header and the spend log; bad
input (no prompt, a bad size, an OpenAI param the model lacks, `response_format: url`) a 400;
Bedrock's own refusals (a filtered prompt, a bad signature) mapped as on chat."""
import base64
import json
import time
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway
from test_media import cost
from test_virtual_keys import admin

# The mock's test credentials (llmgate_mock::AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
KEY_ID = "AKIDLLMGATEMOCK"
SECRET = "llmgate-mock-bedrock-secret"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bedrock_images")

    def dep(name, model, secret=SECRET, extra=""):
        return f"""
  - model_name: {name}
    litellm_params:
      model: {model}
      aws_access_key_id: {KEY_ID}
      aws_secret_access_key: {secret}
      aws_region_name: us-east-1
      aws_bedrock_runtime_endpoint: {mock.base}{extra}"""
    cfg = ("model_list:"
           + dep("sdxl", "bedrock/stability.stable-diffusion-xl-v1")
           + dep("sd3", "bedrock/stability.sd3-large-v1:0")
           + dep("ultra", "bedrock/us.stability.stable-image-ultra-v1:1")
           + dep("titan", "bedrock/amazon.titan-image-generator-v2:0")
           + dep("badsig", "bedrock/amazon.titan-image-generator-v2:0", secret="not-the-secret")
           + dep("sdxl-drop", "bedrock/stability.stable-diffusion-xl-v1", extra="\n      drop_params: true")
           + f"""
  - model_name: nova
    litellm_params:
      model: bedrock/amazon.nova-canvas-v1:0
      api_key: bedrock-api-key-e2e
      aws_bedrock_runtime_endpoint: {mock.base}
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


def last_invoke(mock, model_id):
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    path = f"/model/{model_id.replace(':', '%3A')}/invoke"
    return [r for r in reqs if r["path"] == path][-1]


def pngs(img):
    assert img.data, img
    out = [base64.b64decode(d.b64_json) for d in img.data]
    assert all(b.startswith(PNG_MAGIC) for b in out)
    assert all(d.url is None for d in img.data)
    return out


def test_stability_xl_text_prompts_signed_priced_by_size_and_steps(client, mock):
    raw = client.images.with_raw_response.generate(
        model="sdxl", prompt="a lighthouse\nat dusk", size="1024x1024",
        extra_body={"cfg_scale": 9, "steps": 60, "seed": 11})
    assert len(pngs(raw.parse())) == 1
    rec = last_invoke(mock, "stability.stable-diffusion-xl-v1")
    assert rec["headers"]["authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={KEY_ID}/")
    assert "/us-east-1/bedrock/aws4_request" in rec["headers"]["authorization"]
    assert rec["body"] == {"text_prompts": [{"text": "a lighthouse at dusk", "weight": 1}],
                           "width": 1024, "height": 1024, "cfg_scale": 9, "steps": 60, "seed": 11}
    # Over 50 steps: the `1024-x-1024/max-steps/stability.stable-diffusion-xl-v1` row.
    assert cost(raw) == pytest.approx(0.08)
    raw = client.images.with_raw_response.generate(model="sdxl", prompt="a lighthouse")
    assert last_invoke(mock, "stability.stable-diffusion-xl-v1")["body"] == {
        "text_prompts": [{"text": "a lighthouse", "weight": 1}]}
    assert cost(raw) == pytest.approx(0.04)  # 1024-x-1024/50-steps


@pytest.mark.parametrize("name,model_id,price", [
    ("sd3", "stability.sd3-large-v1:0", 0.08),
    ("ultra", "us.stability.stable-image-ultra-v1:1", 0.14),
])
def test_stability_3_prompt_and_aspect_ratio(client, mock, name, model_id, price):
    raw = client.images.with_raw_response.generate(
        model=name, prompt="a fox", size="1792x1024", extra_body={"output_format": "png", "seed": 3})
    assert len(pngs(raw.parse())) == 1
    assert last_invoke(mock, model_id)["body"] == {"prompt": "a fox", "aspect_ratio": "16:9",
                                                   "output_format": "png", "seed": 3}
    assert cost(raw) == pytest.approx(price)


def test_titan_image_generation_config(client, mock):
    raw = client.images.with_raw_response.generate(
        model="titan", prompt="a red boat", n=3, size="512x512", quality="hd",
        extra_body={"seed": 42, "cfgScale": 8.0, "negativeText": "people"})
    assert len(pngs(raw.parse())) == 3
    assert last_invoke(mock, "amazon.titan-image-generator-v2:0")["body"] == {
        "taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a red boat", "negativeText": "people"},
        "imageGenerationConfig": {"numberOfImages": 3, "width": 512, "height": 512, "quality": "premium",
                                  "seed": 42, "cfgScale": 8.0}}
    assert cost(raw) == pytest.approx(3 * 0.008)


def test_nova_canvas_with_a_bedrock_api_key(client, mock):
    raw = client.images.with_raw_response.generate(
        model="nova", prompt="a green field", n=2, quality="standard", response_format="b64_json")
    assert len(pngs(raw.parse())) == 2
    rec = last_invoke(mock, "amazon.nova-canvas-v1:0")
    assert rec["headers"]["authorization"] == "Bearer bedrock-api-key-e2e"
    assert rec["body"] == {"taskType": "TEXT_IMAGE", "textToImageParams": {"text": "a green field"},
                           "imageGenerationConfig": {"numberOfImages": 2, "quality": "standard"}}
    assert cost(raw) == pytest.approx(2 * 0.06)


def test_spend_rows_with_the_image_cost(gw):
    status, k = admin(gw, "POST", "/key/generate", {"key_alias": "bedrock-images"})
    assert status == 200, k
    c = openai.OpenAI(api_key=k["key"], base_url=f"{gw.base}/v1", max_retries=0)
    c.images.generate(model="titan", prompt="two cats", n=2)
    c.images.generate(model="sdxl", prompt="a dog")
    deadline = time.time() + 10
    logs = []
    while time.time() < deadline and len(logs) < 2:
        _, logs = admin(gw, "GET", f"/spend/logs?api_key={k['key']}")
        logs = logs if isinstance(logs, list) else []
        time.sleep(0.2)
    rows = {log["model_group"]: log for log in logs}
    assert set(rows) == {"titan", "sdxl"}, logs
    for log in rows.values():
        assert log["call_type"] == "aimage_generation" and log["custom_llm_provider"] == "bedrock"
    assert rows["titan"]["spend"] == pytest.approx(0.016)
    assert rows["titan"]["model"] == "amazon.titan-image-generator-v2:0"
    assert rows["sdxl"]["spend"] == pytest.approx(0.04)
    _, info = admin(gw, "GET", f"/key/info?key={k['key']}")
    assert info["info"]["spend"] == pytest.approx(0.056)


def test_bad_input_is_a_400_before_bedrock(client, mock):
    before = len(json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read()))
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="titan", prompt="")
    assert "prompt" in str(e.value)
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="titan", prompt="x", size="huge")
    assert "size must be WIDTHxHEIGHT" in str(e.value)
    # SDXL takes no n: LiteLLM's UnsupportedParamsError, with its drop_params hint.
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="sdxl", prompt="x", n=2)
    assert "does not support parameters: ['n']" in str(e.value) and "drop_params" in str(e.value)
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="nova", prompt="x", response_format="url")
    assert "base64 only" in str(e.value)
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    assert not [r for r in reqs[before:] if r["path"].startswith("/model/")]


def test_drop_params_drops_what_the_model_lacks(client, mock):
    img = client.images.generate(model="sdxl-drop", prompt="x", n=2, quality="hd", response_format="url")
    assert len(pngs(img)) == 1
    assert last_invoke(mock, "stability.stable-diffusion-xl-v1")["body"] == {
        "text_prompts": [{"text": "x", "weight": 1}]}


def test_bedrock_refusals_are_mapped(client):
    # Stability 3's content filter answers 200 with finish_reasons: a 400, as LiteLLM raises it.
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="sd3", prompt="mock-filtered scene")
    assert "Filter reason: prompt" in str(e.value)
    with pytest.raises(openai.PermissionDeniedError) as e:
        client.images.generate(model="badsig", prompt="x")
    assert "signature" in str(e.value) and "not-the-secret" not in str(e.value)
    # A field the model's schema refuses: Bedrock's ValidationException relayed as a 400.
    with pytest.raises(openai.BadRequestError) as e:
        client.images.generate(model="sd3", prompt="x", extra_body={"cfg_scale": 7})
    assert "extraneous key [cfg_scale]" in str(e.value)
