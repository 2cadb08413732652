"""OpenAI's Files and Batches APIs on Bedrock through the llmgate binary with the official
`openai` client, against the mock's S3 and model-invocation-job APIs: an OpenAI batch JSONL
uploaded to the bucket as Bedrock's `{"recordId", "modelInput"}` records (Claude's Messages
body), SigV4-signed for `s3`; a job created over it with the deployment's role (signed for
`bedrock`), retrieved until it completed, its `{job id}/{input}.out` read back as an OpenAI
batch output file, its usage charged once at the batch rate to the key that created it; cancel
(StopModelInvocationJob); files and batches invisible to other keys; no bucket, no role ARN, a
non-chat endpoint or bad JSONL are 4xx."""
import base64
import json
import urllib.parse
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway
from test_files_batches import (charged_once, client, hidden_from_another_key, key,
                                priced_at_batch_rate)

# The mock's test credentials (llmgate_mock::AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY).
KEY_ID = "AKIDLLMGATEMOCK"
SECRET = "llmgate-mock-bedrock-secret"
MODEL_ID = "us.anthropic.claude-3-5-sonnet-20240620-v1:0"
BUCKET = "llmgate-bedrock-batches"
ROLE = "arn:aws:iam::123456789012:role/BedrockBatchRole"
LINES = [
    {"custom_id": "Req-1", "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "bedrock-batch", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20}},
    {"custom_id": "r2", "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "bedrock-batch", "messages": [{"role": "system", "content": "Be brief."},
                                                     {"role": "user", "content": "Hello"}]}},
]
JSONL = "".join(json.dumps(line) + "\n" for line in LINES).encode()
IN_BATCH, OUT_BATCH = 1.5e-6, 7.5e-6


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("bbatch")

    def dep(name, extra=""):
        return f"""
  - model_name: {name}
    litellm_params:
      model: bedrock/{MODEL_ID}
      aws_access_key_id: {KEY_ID}
      aws_secret_access_key: os.environ/AWS_SECRET_ACCESS_KEY
      aws_region_name: us-west-2
      aws_bedrock_runtime_endpoint: {mock.base}
      bedrock_api_base: {mock.base}
      s3_endpoint_url: {mock.base}/s3
      s3_region_name: us-east-1{extra}"""
    cfg = "model_list:" + dep("bedrock-batch", f"""
      s3_bucket_name: {BUCKET}
      aws_batch_role_arn: {ROLE}
      input_cost_per_token: 3.0e-6
      output_cost_per_token: 1.5e-5
      input_cost_per_token_batches: {IN_BATCH}
      output_cost_per_token_batches: {OUT_BATCH}""") + dep("bedrock-nobucket") + dep(
        "bedrock-norole", f"\n      s3_bucket_name: {BUCKET}") + f"""
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 1
"""
    env = {"LLMGATE_DB_PATH": str(tmp / "bbatch.db"), "AWS_SECRET_ACCESS_KEY": SECRET}
    g = Gateway(tmp, cfg, env=env).wait_ready()
    yield g
    g.stop()


def requests(mock):
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())


def objects(mock):
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/s3").read())


def upload(c, data=JSONL, model="bedrock-batch", purpose="batch"):
    return c.files.create(file=("batch.jsonl", data), purpose=purpose,
                          extra_body={"target_model_names": model})


def signed_for(r, service, region):
    auth = r["headers"]["authorization"]
    return auth.startswith("AWS4-HMAC-SHA256 ") and f"/{region}/{service}/aws4_request" in auth


def test_batch_settings_are_known_at_start(gw):
    # Each setting these batches read is implemented: none is named unknown or unsupported.
    log = gw.log_path.read_text()
    for k in ['s3_bucket_name', 's3_region_name', 's3_endpoint_url', 'aws_batch_role_arn', 'bedrock_api_base']:
        assert f"litellm_params.{k}" not in log, log


def test_bedrock_batch_to_completion_with_its_cost(gw, mock):
    a = key(gw, key_alias="bbatch-a")
    c = client(gw, a)
    f = upload(c)
    decoded = base64.urlsafe_b64decode(f.id + "=" * (-len(f.id) % 4)).decode()
    assert decoded.startswith("litellm_proxy:") and "target_model_names,bedrock-batch" in decoded
    assert f.purpose == "batch" and f.filename == "batch.jsonl"

    # The bucket got Bedrock's records, named for the model, signed for S3 in the S3 region.
    [put] = [o for o in objects(mock) if o["bucket"] == BUCKET and o["key"].startswith(
        "litellm-bedrock-files-us.anthropic.claude-3-5-sonnet-20240620-v1-0-")]
    assert put["key"].endswith(".jsonl")
    assert "/us-east-1/s3/aws4_request" in put["headers"]["authorization"]
    records = [json.loads(line) for line in put["text"].splitlines()]
    assert [r["recordId"] for r in records] == ["Req-1", "r2"]
    first = records[0]["modelInput"]
    assert first["anthropic_version"] == "bedrock-2023-05-31" and "model" not in first
    assert first["max_tokens"] == 20
    assert first["messages"] == [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}]
    assert records[1]["modelInput"]["system"][0]["text"] == "Be brief."
    assert f.bytes == len(put["text"].encode())
    assert c.files.retrieve(f.id).bytes == f.bytes
    assert c.files.content(f.id).text == put["text"]
    reads = [r for r in requests(mock) if r["path"] == f"/s3/{BUCKET}/{put['key']}"]
    assert {r["method"] for r in reads} == {"HEAD", "GET"}
    assert all(signed_for(r, "s3", "us-east-1") for r in reads)

    b = c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h",
                         metadata={"run": "e2e"})
    assert base64.urlsafe_b64decode(b.id + "=" * (-len(b.id) % 4)).decode().startswith("litellm_proxy;model_id:")
    assert b.input_file_id == f.id and b.status == "validating" and b.metadata == {"run": "e2e"}
    create = [r for r in requests(mock) if r["path"] == "/model-invocation-job"][-1]
    assert create["method"] == "POST" and signed_for(create, "bedrock", "us-west-2")
    job = create["body"]
    assert job["modelId"] == MODEL_ID and job["roleArn"] == ROLE
    assert job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"] == f"s3://{BUCKET}/{put['key']}"
    out_uri = job["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
    assert out_uri == f"s3://{BUCKET}/litellm-batch-outputs/{job['jobName']}/"
    assert job["jobName"].startswith("litellm-") and job["timeoutDurationInHours"] == 24

    assert c.batches.retrieve(b.id).status == "in_progress"
    get = [r for r in requests(mock) if r["path"].startswith("/model-invocation-job/")][-1]
    assert get["method"] == "GET" and signed_for(get, "bedrock", "us-west-2")
    assert urllib.parse.unquote(get["path"]).startswith("/model-invocation-job/arn:aws:bedrock:us-west-2:")
    done = c.batches.retrieve(b.id)
    assert done.status == "completed" and done.output_file_id and done.completed_at
    out = [json.loads(line) for line in c.files.content(done.output_file_id).text.splitlines()]
    assert [o["custom_id"] for o in out] == ["Req-1", "r2"]
    assert all(o["response"]["status_code"] == 200 and o["error"] is None for o in out)
    assert out[0]["response"]["body"]["choices"][0]["message"]["content"] == "Hello from mock"
    usage = [o["response"]["body"]["usage"] for o in out]
    assert all(u["prompt_tokens"] > 0 and u["completion_tokens"] > 0 for u in usage)
    # The output Bedrock wrote: {output prefix}{job id}/{input file}.out.
    job_id = urllib.parse.unquote(get["path"]).rsplit("/", 1)[1]
    written = f"litellm-batch-outputs/{job['jobName']}/{job_id}/{put['key']}.out"
    assert any(o["key"] == written for o in objects(mock))

    # Retrieved again: charged once, at the deployment's batch rate.
    assert c.batches.retrieve(b.id).status == "completed"
    assert b.id in [x.id for x in c.batches.list().data]
    priced_at_batch_rate(charged_once(gw, a["token"]), usage, IN_BATCH, OUT_BATCH)

    # Another key sees none of it.
    hidden_from_another_key(gw, "bbatch-b", f.id, done.output_file_id, b.id)

    assert c.files.delete(f.id).deleted
    gone = [r for r in requests(mock) if r["method"] == "DELETE"][-1]
    assert gone["path"] == f"/s3/{BUCKET}/{put['key']}" and signed_for(gone, "s3", "us-east-1")
    assert not any(o["key"] == put["key"] for o in objects(mock))
    with pytest.raises(openai.NotFoundError):
        c.files.retrieve(f.id)


def test_bedrock_batch_cancel(gw, mock):
    c = client(gw, key(gw, key_alias="bbatch-cancel"))
    b = c.batches.create(input_file_id=upload(c).id, endpoint="/v1/chat/completions", completion_window="24h")
    assert c.batches.cancel(b.id).status == "cancelling"
    stop = [r for r in requests(mock) if r["path"].endswith("/stop")][-1]
    assert stop["method"] == "POST" and signed_for(stop, "bedrock", "us-west-2")
    assert c.batches.retrieve(b.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        c.batches.cancel(b.id)


def test_bedrock_bad_input_is_a_clear_4xx(gw):
    c = client(gw, key(gw, key_alias="bbatch-bad"))
    with pytest.raises(openai.BadRequestError) as e:
        upload(c, model="bedrock-nobucket")
    assert "s3_bucket_name" in e.value.message and "AWS_S3_BUCKET_NAME" in e.value.message
    f = upload(c, model="bedrock-norole")
    with pytest.raises(openai.BadRequestError) as e:
        c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert "aws_batch_role_arn" in e.value.message and "AWS_BATCH_ROLE_ARN" in e.value.message
    # Bedrock's job needs a deployment's model: the provider alone is not enough.
    with pytest.raises(openai.BadRequestError) as e:
        c.files.create(file=("batch.jsonl", JSONL), purpose="batch",
                       extra_body={"custom_llm_provider": "bedrock"})
    assert "custom_llm_provider=bedrock" in e.value.message
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
