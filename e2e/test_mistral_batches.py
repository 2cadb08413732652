"""OpenAI's Files and Batches APIs on Mistral through the llmgate binary with the official
`openai` client, against the mock's Mistral Files and Batch APIs (`/v1/files`,
`/v1/batch/jobs`, bearer key): the OpenAI JSONL uploaded as it is with only `file` and
Mistral's `purpose`, a job created for the deployment's model, retrieved until `SUCCESS`
(read as `completed`), its output read back as an OpenAI batch output file and its usage
charged once at the batch rate to the key that created it; the upload and the create each
leave a spend-0 row (`acreate_file`, `acreate_batch`) keyed by the object's id with the
request's tags; cancel; files and batches invisible to other keys; a purpose Mistral lacks,
bad JSONL and Mistral's own refusals are OpenAI-shaped 4xx."""
import base64
import json
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway
from test_files_batches import (charged_once, client, hidden_from_another_key, key,
                                priced_at_batch_rate, spend_rows)

LINES = [
    {"custom_id": "m1", "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "mistral-batch", "messages": [{"role": "user", "content": "Salut"}], "max_tokens": 20}},
    {"custom_id": "m2", "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "mistral-batch", "messages": [{"role": "user", "content": "Bonjour"}]}},
]
JSONL = "".join(json.dumps(line) + "\n" for line in LINES).encode()
IN_BATCH, OUT_BATCH = 5e-8, 1.5e-7


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("mbatch")
    cfg = f"""
model_list:
  - model_name: mistral-batch
    litellm_params:
      model: mistral/mistral-small-latest
      api_base: {mock.base}/mistral/v1
      api_key: sk-mistral-upstream
      input_cost_per_token: 1.0e-7
      output_cost_per_token: 3.0e-7
      input_cost_per_token_batches: {IN_BATCH}
      output_cost_per_token_batches: {OUT_BATCH}
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 1
"""
    env = {"LLMGATE_DB_PATH": str(tmp / "mbatch.db"), "MISTRAL_API_BASE": f"{mock.base}/mistral",
           "MISTRAL_API_KEY": "sk-mistral-env"}
    g = Gateway(tmp, cfg, env=env).wait_ready()
    yield g
    g.stop()


def requests(mock):
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())


def upload(c, data=JSONL, purpose="batch", **extra):
    return c.files.create(file=("batch.jsonl", data), purpose=purpose,
                          extra_body={"target_model_names": "mistral-batch", **extra})


def test_mistral_batch_to_completion_with_its_cost(gw, mock):
    a = key(gw, key_alias="mbatch-a")
    c = client(gw, a)
    f = upload(c, litellm_metadata=json.dumps({"tags": ["nightly"]}))
    decoded = base64.urlsafe_b64decode(f.id + "=" * (-len(f.id) % 4)).decode()
    assert "target_model_names,mistral-batch" in decoded
    assert f.purpose == "batch" and f.bytes == len(JSONL) and f.filename == "batch.jsonl"

    # Mistral got the JSONL as it is, with only file and purpose, and the deployment's key.
    up = [r for r in requests(mock) if r["path"] == "/mistral/v1/files" and r["method"] == "POST"][-1]
    assert up["body"] == {"purpose": "batch"}
    assert up["headers"]["authorization"] == "Bearer sk-mistral-upstream"
    assert c.files.retrieve(f.id).id == f.id
    assert c.files.content(f.id).content == JSONL

    b = c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h",
                         metadata={"run": "7"})
    assert base64.urlsafe_b64decode(b.id + "=" * (-len(b.id) % 4)).decode().startswith("litellm_proxy;model_id:")
    assert b.input_file_id == f.id and b.status == "validating" and b.metadata == {"run": "7"}
    create = [r for r in requests(mock) if r["path"] == "/mistral/v1/batch/jobs" and r["method"] == "POST"][-1]
    job = create["body"]
    assert job["model"] == "mistral-small-latest" and job["endpoint"] == "/v1/chat/completions"
    assert len(job["input_files"]) == 1 and job["metadata"] == {"run": "7"}
    assert "completion_window" not in job and "input_file_id" not in job

    assert c.batches.retrieve(b.id).status == "in_progress"
    done = c.batches.retrieve(b.id)
    assert done.status == "completed" and done.output_file_id and done.completed_at
    assert done.request_counts.completed == 2 and done.request_counts.total == 2
    out = [json.loads(line) for line in c.files.content(done.output_file_id).text.splitlines()]
    assert [o["custom_id"] for o in out] == ["m1", "m2"]
    assert out[0]["response"]["status_code"] == 200
    assert out[0]["response"]["body"]["choices"][0]["message"]["content"].startswith("Bonjour")
    usage = [o["response"]["body"]["usage"] for o in out]

    # Retrieved again: charged once, at the deployment's batch rate.
    assert c.batches.retrieve(b.id).status == "completed"
    assert b.id in [x.id for x in c.batches.list().data]
    cost = charged_once(gw, a["token"])
    priced_at_batch_rate(cost, usage, IN_BATCH, OUT_BATCH)
    assert cost["request_id"] == f"{b.id}_batch_cost"

    # The upload and the create each left one spend-0 row, keyed by the object's id.
    [fr] = spend_rows(gw, a["token"], "acreate_file", 1)
    [br] = spend_rows(gw, a["token"], "acreate_batch", 1)
    assert (fr["request_id"], fr["spend"], fr["status"]) == (f.id, 0, "success")
    assert (br["request_id"], br["spend"], br["status"]) == (b.id, 0, "success")
    assert fr["model_group"] == br["model_group"] == "mistral-batch"
    assert fr["custom_llm_provider"] == "mistral"
    assert fr["request_tags"] == ["nightly"]
    _, info = admin_key_info(gw, a)
    assert info["info"]["spend"] == pytest.approx(cost["spend"], rel=1e-6)

    hidden_from_another_key(gw, "mbatch-b", f.id, done.output_file_id, b.id)

    assert c.files.delete(f.id).deleted
    gone = [r for r in requests(mock) if r["method"] == "DELETE"][-1]
    assert gone["path"].startswith("/mistral/v1/files/")
    with pytest.raises(openai.NotFoundError):
        c.files.retrieve(f.id)


def admin_key_info(gw, k):
    from test_virtual_keys import admin
    return admin(gw, "GET", f"/key/info?key={k['key']}")


def test_mistral_batch_cancel(gw, mock):
    c = client(gw, key(gw, key_alias="mbatch-cancel"))
    b = c.batches.create(input_file_id=upload(c).id, endpoint="/v1/chat/completions", completion_window="24h")
    assert c.batches.cancel(b.id).status == "cancelling"
    assert any(r["path"].endswith("/cancel") and r["path"].startswith("/mistral/v1/batch/jobs/")
               for r in requests(mock))
    assert c.batches.retrieve(b.id).status == "cancelled"
    # Mistral refuses to cancel it again: an OpenAI-shaped 400.
    with pytest.raises(openai.BadRequestError) as e:
        c.batches.cancel(b.id)
    assert "Cannot cancel" in e.value.message


def test_mistral_provider_without_a_deployment(gw, mock):
    # custom_llm_provider=mistral with MISTRAL_API_KEY; the job runs the create's model.
    t = key(gw, key_alias="mbatch-env")
    c = client(gw, t)
    f = c.files.create(file=("b.jsonl", JSONL), purpose="batch",
                       extra_body={"custom_llm_provider": "mistral"})
    up = [r for r in requests(mock) if r["path"] == "/mistral/v1/files" and r["method"] == "POST"][-1]
    assert up["headers"]["authorization"] == "Bearer sk-mistral-env"
    with pytest.raises(openai.BadRequestError) as e:
        c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert "model" in e.value.message
    b = c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h",
                         extra_body={"model": "mistral-large-latest"})
    job = [r for r in requests(mock) if r["path"] == "/mistral/v1/batch/jobs" and r["method"] == "POST"][-1]["body"]
    assert job["model"] == "mistral-large-latest"
    assert c.batches.retrieve(b.id).status == "in_progress"


def test_mistral_bad_input_is_a_clear_4xx(gw, mock):
    t = key(gw, key_alias="mbatch-bad")
    c = client(gw, t)
    before = len(requests(mock))
    with pytest.raises(openai.BadRequestError) as e:
        upload(c, purpose="assistants")
    assert "purpose" in e.value.message and "ocr" in e.value.message
    # Refused before any upstream call.
    assert not [r for r in requests(mock)[before:] if r["path"].startswith("/mistral/")]
    # Mistral's own refusal (a line without custom_id) comes back in OpenAI's shape.
    with pytest.raises(openai.UnprocessableEntityError) as e:
        upload(c, data=b'{"body": {}}\n')
    assert "custom_id" in e.value.message
    assert e.value.body["type"]
    # Both refused uploads are logged as failures, with no spend.
    rows = spend_rows(gw, t["token"], "acreate_file", 2)
    assert [r["status"] for r in rows] == ["failure", "failure"] and all(r["spend"] == 0 for r in rows)
    with pytest.raises(openai.UnprocessableEntityError):
        c.batches.create(input_file_id=upload(c).id, endpoint="/v1/not-an-endpoint", completion_window="24h")
