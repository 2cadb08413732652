"""OpenAI's Files and Batches APIs on Vertex AI through the llmgate binary with the official
`openai` client, against the mock's Cloud Storage JSON API and batchPredictionJobs: an OpenAI
batch JSONL uploaded to the bucket as Vertex's `{"request": <generateContent body>}` lines
(service-account token, `uploadType=media`), a job created over it, retrieved until it
succeeded, its `predictions.jsonl` read back as an OpenAI batch output file, its usage charged
once at the batch rate to the key that created it; cancel; files and batches invisible to
other keys; no bucket, a wrong purpose, a non-chat endpoint or bad JSONL are 4xx."""
import base64
import json
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway
from test_files_batches import (charged_once, client, hidden_from_another_key, key,
                                priced_at_batch_rate)

BUCKET = "llmgate-batches"
LINES = [
    {"custom_id": "Req-1/a", "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "vertex-batch", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20}},
    {"custom_id": "r2", "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "vertex-batch", "messages": [{"role": "system", "content": "Be brief."},
                                                    {"role": "user", "content": "Hello"}]}},
]
JSONL = "".join(json.dumps(line) + "\n" for line in LINES).encode()
IN_BATCH, OUT_BATCH = 5e-7, 1e-6


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("vbatch")
    sa = tmp / "sa.json"
    sa.write_text(urllib.request.urlopen(f"{mock.base}/_mock/service_account").read().decode())
    common = f"""
      api_base: {mock.base}
      gcs_api_base: {mock.base}
      vertex_project: proj-batch
      vertex_location: us-central1
      vertex_credentials: {sa}"""
    cfg = f"""
model_list:
  - model_name: vertex-batch
    litellm_params:
      model: vertex_ai/gemini-2.5-flash{common}
      bucket_name: {BUCKET}
      input_cost_per_token: 1.0e-6
      output_cost_per_token: 2.0e-6
      input_cost_per_token_batches: {IN_BATCH}
      output_cost_per_token_batches: {OUT_BATCH}
  - model_name: vertex-nobucket
    litellm_params:
      model: vertex_ai/gemini-2.5-flash{common}
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 1
"""
    g = Gateway(tmp, cfg, env={"LLMGATE_DB_PATH": str(tmp / "vbatch.db")}).wait_ready()
    yield g
    g.stop()


def requests(mock):
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())


def upload(c, data=JSONL, model="vertex-batch", purpose="batch"):
    return c.files.create(file=("batch.jsonl", data), purpose=purpose,
                          extra_body={"target_model_names": model})


def test_batch_settings_are_known_at_start(gw):
    # Each setting these batches read is implemented: none is named unknown or unsupported.
    log = gw.log_path.read_text()
    for k in ['bucket_name', 'gcs_api_base']:
        assert f"litellm_params.{k}" not in log, log


def test_vertex_batch_to_completion_with_its_cost(gw, mock):
    a = key(gw, key_alias="vbatch-a")
    c = client(gw, a)
    f = upload(c)
    decoded = base64.urlsafe_b64decode(f.id + "=" * (-len(f.id) % 4)).decode()
    assert decoded.startswith("litellm_proxy:") and "target_model_names,vertex-batch" in decoded
    assert f.purpose == "batch" and f.filename == "batch.jsonl"

    # The bucket got Vertex's JSONL, named for the model, with the service account's token.
    up = [r for r in requests(mock) if r["path"] == f"/upload/storage/v1/b/{BUCKET}/o"][-1]
    assert "uploadType=media" in up["query"]
    assert "name=litellm-vertex-files%2Fpublishers%2Fgoogle%2Fmodels%2Fgemini-2.5-flash%2F" in up["query"]
    assert up["headers"]["authorization"] == "Bearer ya29.mock-access-token"
    sent = [json.loads(line) for line in up["body"]["media"].splitlines()]
    assert sent[0]["request"]["contents"] == [{"role": "user", "parts": [{"text": "Hi"}]}]
    assert sent[0]["request"]["generationConfig"]["maxOutputTokens"] == 20
    assert sent[0]["request"]["labels"]["litellm_custom_id"] == "req-1_a"
    assert sent[1]["request"]["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert f.bytes == len(up["body"]["media"].encode())
    assert c.files.retrieve(f.id).id == f.id
    assert c.files.content(f.id).text == up["body"]["media"]

    b = c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert base64.urlsafe_b64decode(b.id + "=" * (-len(b.id) % 4)).decode().startswith("litellm_proxy;model_id:")
    assert b.input_file_id == f.id and b.status == "validating"
    create = [r for r in requests(mock) if r["path"].endswith("/batchPredictionJobs") and r["method"] == "POST"][-1]
    assert create["path"] == "/v1/projects/proj-batch/locations/us-central1/batchPredictionJobs"
    job = create["body"]
    assert job["model"] == "publishers/google/models/gemini-2.5-flash"
    [uri] = job["inputConfig"]["gcsSource"]["uris"]
    assert uri.startswith(f"gs://{BUCKET}/litellm-vertex-files/publishers/google/models/gemini-2.5-flash/")
    assert job["outputConfig"]["gcsDestination"]["outputUriPrefix"] == uri.rsplit("/", 1)[0]

    assert c.batches.retrieve(b.id).status == "in_progress"
    done = c.batches.retrieve(b.id)
    assert done.status == "completed" and done.output_file_id
    assert done.request_counts.completed == 2
    out = [json.loads(line) for line in c.files.content(done.output_file_id).text.splitlines()]
    assert [o["custom_id"] for o in out] == ["Req-1/a", "r2"]
    assert all(o["response"]["status_code"] == 200 and o["error"] is None for o in out)
    assert out[0]["response"]["body"]["choices"][0]["message"]["content"] == "Hello from mock"
    usage = [o["response"]["body"]["usage"] for o in out]
    assert all(u["prompt_tokens"] > 0 and u["completion_tokens"] > 0 for u in usage)

    # Retrieved again: charged once, at the deployment's batch rate.
    assert c.batches.retrieve(b.id).status == "completed"
    assert b.id in [x.id for x in c.batches.list().data]
    priced_at_batch_rate(charged_once(gw, a["token"]), usage, IN_BATCH, OUT_BATCH)

    # Another key sees none of it.
    hidden_from_another_key(gw, "vbatch-b", f.id, done.output_file_id, b.id)

    assert c.files.delete(f.id).deleted
    gone = [r for r in requests(mock) if r["method"] == "DELETE"][-1]
    assert gone["path"].startswith(f"/storage/v1/b/{BUCKET}/o/litellm-vertex-files%2F")
    with pytest.raises(openai.NotFoundError):
        c.files.retrieve(f.id)


def test_vertex_batch_cancel(gw, mock):
    c = client(gw, key(gw, key_alias="vbatch-cancel"))
    b = c.batches.create(input_file_id=upload(c).id, endpoint="/v1/chat/completions", completion_window="24h")
    assert c.batches.cancel(b.id).status == "cancelling"
    assert any(r["path"].endswith(":cancel") for r in requests(mock))
    assert c.batches.retrieve(b.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        c.batches.cancel(b.id)


def test_vertex_bad_input_is_a_clear_4xx(gw):
    c = client(gw, key(gw, key_alias="vbatch-bad"))
    with pytest.raises(openai.BadRequestError) as e:
        upload(c, model="vertex-nobucket")
    assert "bucket_name" in e.value.message and "GCS_BUCKET_NAME" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        upload(c, purpose="not-a-purpose")
    assert "purpose" in e.value.message
    with pytest.raises(openai.BadRequestError):
        upload(c, data=b"not json\n")
    # A file that is not a batch input cannot run as one.
    f = upload(c, data=b"some notes", purpose="user_data")
    with pytest.raises(openai.BadRequestError) as e:
        c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert "purpose" in e.value.message
    f = upload(c)
    with pytest.raises(openai.BadRequestError) as e:
        c.batches.create(input_file_id=f.id, endpoint="/v1/embeddings", completion_window="24h")
    assert "/v1/chat/completions" in e.value.message
