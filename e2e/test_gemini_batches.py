"""OpenAI's Files and Batches APIs on Google AI Studio (`gemini/`) through the llmgate binary
with the official `openai` client, against the mock's Gemini Files API (resumable upload) and
Batch API (`batchGenerateContent`, `batches/{id}`, `:cancel`, `:download`), every call keyed
with `x-goog-api-key`: an OpenAI batch JSONL uploaded as Gemini's `{"key", "request"}` lines,
a batch created over it for the deployment's model, retrieved until it succeeded, its responses
file read back as an OpenAI batch output file (custom_id, status 200, chat.completion bodies
with usage; a request Gemini refused as an error line) and its usage charged once at the batch
rate to the key that created it; the upload and the create each leave a spend-0 row; cancel;
the environment's key without a deployment; files and batches invisible to other keys; a
wrong purpose, a non-chat endpoint, bad JSONL, a bad id and Gemini's own refusals are
OpenAI-shaped 4xx."""
import base64
import json
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway
from test_files_batches import (charged_once, client, hidden_from_another_key, key,
                                priced_at_batch_rate, spend_rows)

LINES = [
    {"custom_id": "g1", "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "gemini-batch", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 20}},
    {"custom_id": "g2", "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "gemini-batch", "messages": [{"role": "system", "content": "Be brief."},
                                                    {"role": "user", "content": "Hello"}]}},
]
JSONL = "".join(json.dumps(line) + "\n" for line in LINES).encode()
IN_BATCH, OUT_BATCH = 5e-8, 2e-7


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("gbatch")
    cfg = f"""
model_list:
  - model_name: gemini-batch
    litellm_params:
      model: gemini/gemini-2.5-flash
      api_base: {mock.base}/v1beta
      api_key: gm-upstream
      input_cost_per_token: 1.0e-7
      output_cost_per_token: 4.0e-7
      input_cost_per_token_batches: {IN_BATCH}
      output_cost_per_token_batches: {OUT_BATCH}
  - model_name: gemini-badkey
    litellm_params:
      model: gemini/gemini-2.5-flash
      api_base: {mock.base}
      api_key: bad-gemini-key
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 1
"""
    env = {"LLMGATE_DB_PATH": str(tmp / "gbatch.db"), "GEMINI_API_BASE": mock.base,
           "GEMINI_API_KEY": "gm-env"}
    g = Gateway(tmp, cfg, env=env).wait_ready()
    yield g
    g.stop()


def requests(mock):
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())


def upload(c, data=JSONL, purpose="batch", model="gemini-batch", **extra):
    return c.files.create(file=("batch.jsonl", data), purpose=purpose,
                          extra_body={"target_model_names": model, **extra})


def b64(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4)).decode()


def test_gemini_batch_to_completion_with_its_cost(gw, mock):
    a = key(gw, key_alias="gbatch-a")
    c = client(gw, a)
    f = upload(c, litellm_metadata=json.dumps({"tags": ["nightly"]}))
    assert b64(f.id).startswith("litellm_proxy:") and "target_model_names,gemini-batch" in b64(f.id)
    assert f.purpose == "batch" and f.filename == "batch.jsonl"

    # The resumable upload: a start with the size, type and display name, then the bytes at the
    # session URL Gemini answered with; both with the deployment's key in x-goog-api-key.
    ups = [r for r in requests(mock) if r["path"] == "/upload/v1beta/files"]
    start, data = ups[-2], ups[-1]
    h = start["headers"]
    assert (h["x-goog-upload-protocol"], h["x-goog-upload-command"]) == ("resumable", "start")
    assert h["x-goog-upload-header-content-type"] == "application/jsonl"
    assert h["x-goog-api-key"] == "gm-upstream" and "key=" not in (start["query"] or "")
    assert start["body"] == {"file": {"display_name": "batch.jsonl"}}
    assert "upload_id=" in data["query"]
    assert (data["headers"]["x-goog-upload-command"], data["headers"]["x-goog-upload-offset"]) == ("upload, finalize", "0")
    assert int(h["x-goog-upload-header-content-length"]) == len(data["body"].encode()) == f.bytes
    # What Gemini got: its keyed GenerateContentRequests, the custom_id as the key.
    sent = [json.loads(line) for line in data["body"].splitlines()]
    assert [s["key"] for s in sent] == ["g1", "g2"]
    assert sent[0]["request"]["contents"] == [{"role": "user", "parts": [{"text": "Hi"}]}]
    assert sent[0]["request"]["generationConfig"]["maxOutputTokens"] == 20
    assert sent[1]["request"]["systemInstruction"] == {"parts": [{"text": "Be brief."}]}
    assert f.status == "uploaded"
    got = c.files.retrieve(f.id)
    assert got.id == f.id and got.bytes == f.bytes and got.status == "processed"
    assert c.files.content(f.id).text == data["body"]
    assert f.id in [x.id for x in c.files.list().data]
    assert all("_llmgate" not in json.dumps(x.model_dump()) for x in c.files.list().data)

    b = c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h",
                         metadata={"run": "7"})
    assert b64(b.id).startswith("litellm_proxy;model_id:")
    assert b.input_file_id == f.id and b.status == "validating" and b.metadata == {"run": "7"}
    create = [r for r in requests(mock) if r["path"].endswith(":batchGenerateContent")][-1]
    assert create["path"] == "/v1beta/models/gemini-2.5-flash:batchGenerateContent"
    assert create["headers"]["x-goog-api-key"] == "gm-upstream"
    batch = create["body"]["batch"]
    assert batch["input_config"]["file_name"].startswith("files/") and batch["display_name"]

    done = c.batches.retrieve(b.id)
    assert done.status == "completed" and done.output_file_id and done.completed_at
    assert done.request_counts.completed == 2 and done.request_counts.total == 2
    assert done.metadata == {"run": "7"} and done.input_file_id == f.id
    assert any(r["path"].startswith("/v1beta/batches/") and r["method"] == "GET" for r in requests(mock))
    out = [json.loads(line) for line in c.files.content(done.output_file_id).text.splitlines()]
    dl = [r for r in requests(mock) if r["path"].startswith("/download/v1beta/files/")][-1]
    assert dl["path"].endswith(":download") and dl["query"] == "alt=media"
    assert [o["custom_id"] for o in out] == ["g1", "g2"]
    assert all(o["response"]["status_code"] == 200 and o["error"] is None for o in out)
    body = out[0]["response"]["body"]
    assert body["object"] == "chat.completion" and body["choices"][0]["message"]["content"] == "Hello from mock"
    assert out[0]["id"].startswith("batch_req_") and out[0]["response"]["request_id"] == body["id"]
    usage = [o["response"]["body"]["usage"] for o in out]
    assert all(u["prompt_tokens"] > 0 and u["completion_tokens"] > 0 for u in usage)

    # Retrieved again: charged once, at the deployment's batch rate, to the creating key.
    assert c.batches.retrieve(b.id).status == "completed"
    assert b.id in [x.id for x in c.batches.list().data]
    cost = charged_once(gw, a["token"])
    priced_at_batch_rate(cost, usage, IN_BATCH, OUT_BATCH)
    assert cost["request_id"] == f"{b.id}_batch_cost"
    [fr] = spend_rows(gw, a["token"], "acreate_file", 1)
    [br] = spend_rows(gw, a["token"], "acreate_batch", 1)
    assert (fr["request_id"], fr["spend"], fr["status"]) == (f.id, 0, "success")
    assert (br["request_id"], br["spend"], br["status"]) == (b.id, 0, "success")
    assert fr["model_group"] == br["model_group"] == "gemini-batch"
    assert fr["custom_llm_provider"] == "gemini" and fr["request_tags"] == ["nightly"]
    from test_virtual_keys import admin
    _, info = admin(gw, "GET", f"/key/info?key={a['key']}")
    assert info["info"]["spend"] == pytest.approx(cost["spend"], rel=1e-6)

    hidden_from_another_key(gw, "gbatch-b", f.id, done.output_file_id, b.id)

    assert c.files.delete(f.id).deleted
    gone = [r for r in requests(mock) if r["method"] == "DELETE"][-1]
    assert gone["path"].startswith("/v1beta/files/") and gone["headers"]["x-goog-api-key"] == "gm-upstream"
    with pytest.raises(openai.NotFoundError):
        c.files.retrieve(f.id)


def test_a_request_gemini_refuses_is_an_error_line(gw, mock):
    c = client(gw, key(gw, key_alias="gbatch-err"))
    # The mock fails the request that asks for it; the other is answered.
    bad = {"custom_id": "bad", "method": "POST", "url": "/v1/chat/completions",
           "body": {"model": "gemini-batch", "messages": [{"role": "user", "content": "mock-error-400"}]}}
    data = JSONL.splitlines()[0] + b"\n" + json.dumps(bad).encode() + b"\n"
    b = c.batches.create(input_file_id=upload(c, data=data).id, endpoint="/v1/chat/completions",
                         completion_window="24h")
    done = c.batches.retrieve(b.id)
    assert done.status == "completed"
    out = {o["custom_id"]: o for o in map(json.loads, c.files.content(done.output_file_id).text.splitlines())}
    assert out["g1"]["response"]["status_code"] == 200
    assert out["bad"]["response"] is None and out["bad"]["error"]["message"] == "mock error 400"
    assert done.request_counts.completed == 1 and done.request_counts.failed == 1


def test_gemini_batch_cancel(gw, mock):
    c = client(gw, key(gw, key_alias="gbatch-cancel"))
    b = c.batches.create(input_file_id=upload(c).id, endpoint="/v1/chat/completions", completion_window="24h")
    assert c.batches.cancel(b.id).status == "cancelled"
    cancel = [r for r in requests(mock) if r["path"].endswith(":cancel")][-1]
    assert cancel["method"] == "POST" and cancel["path"].startswith("/v1beta/batches/")
    assert c.batches.retrieve(b.id).status == "cancelled"
    # Gemini refuses to cancel it again: an OpenAI-shaped 400.
    with pytest.raises(openai.BadRequestError) as e:
        c.batches.cancel(b.id)
    assert "cannot be cancelled" in e.value.message


def test_gemini_provider_without_a_deployment(gw, mock):
    # custom_llm_provider=gemini with GEMINI_API_BASE/GEMINI_API_KEY; the batch runs the model
    # the file's first line named (what it was written for), or the create's `model`.
    c = client(gw, key(gw, key_alias="gbatch-env"))
    lines = JSONL.replace(b'"gemini-batch"', b'"gemini-2.0-flash"')
    f = c.files.create(file=("b.jsonl", lines), purpose="batch", extra_body={"custom_llm_provider": "gemini"})
    start = [r for r in requests(mock) if r["path"] == "/upload/v1beta/files"][-2]
    assert start["headers"]["x-goog-api-key"] == "gm-env"
    assert b64(f.id).startswith("litellm_proxy:")
    b = c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    create = [r for r in requests(mock) if r["path"].endswith(":batchGenerateContent")][-1]
    assert create["path"] == "/v1beta/models/gemini-2.0-flash:batchGenerateContent"
    assert create["headers"]["x-goog-api-key"] == "gm-env"
    c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h",
                     extra_body={"model": "gemini-2.5-pro"})
    create = [r for r in requests(mock) if r["path"].endswith(":batchGenerateContent")][-1]
    assert create["path"] == "/v1beta/models/gemini-2.5-pro:batchGenerateContent"
    done = c.batches.retrieve(b.id)
    assert done.status == "completed"
    out = [json.loads(line) for line in c.files.content(done.output_file_id).text.splitlines()]
    assert [o["custom_id"] for o in out] == ["g1", "g2"]


def test_gemini_bad_input_is_a_clear_4xx(gw, mock):
    t = key(gw, key_alias="gbatch-bad")
    c = client(gw, t)
    before = len(requests(mock))
    with pytest.raises(openai.BadRequestError) as e:
        upload(c, purpose="not-a-purpose")
    assert "purpose" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        upload(c, data=b"not json\n")
    assert "line 1" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        upload(c, data=b'{"custom_id": "x", "body": {"messages": "hi"}}\n')
    assert "chat completion" in e.value.message
    # Refused before any upstream call.
    assert not [r for r in requests(mock)[before:] if "v1beta" in r["path"]]
    # Gemini's own refusal (a key it does not know) comes back in OpenAI's shape, classed as
    # LiteLLM classes it (an AuthenticationError).
    with pytest.raises(openai.AuthenticationError) as e:
        upload(c, model="gemini-badkey")
    assert "API key not valid" in e.value.message and e.value.body["type"]
    # An upload URL on another host than the target's is not followed.
    with pytest.raises(openai.InternalServerError) as e:
        c.files.create(file=("mock-foreign-upload-url", JSONL), purpose="batch",
                       extra_body={"target_model_names": "gemini-batch"})
    assert e.value.status_code == 502 and "upload URL" in e.value.message
    rows = spend_rows(gw, t["token"], "acreate_file", 5)
    assert len(rows) == 5 and all(r["status"] == "failure" and r["spend"] == 0 for r in rows)
    # A file that is not a batch input cannot run as one; nor can a non-chat endpoint.
    notes = upload(c, data=b"some notes", purpose="user_data")
    with pytest.raises(openai.BadRequestError) as e:
        c.batches.create(input_file_id=notes.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert "purpose" in e.value.message
    assert c.files.content(notes.id).content == b"some notes"
    with pytest.raises(openai.BadRequestError) as e:
        c.batches.create(input_file_id=upload(c).id, endpoint="/v1/embeddings", completion_window="24h")
    assert "/v1/chat/completions" in e.value.message
    # Ids that are no ids: a 400 before any lookup; an unknown one a 404.
    for bad in ["files%2F..%2Fx", "a:download", "x" * 2000]:
        with pytest.raises(openai.BadRequestError):
            c.batches.retrieve(bad)
        with pytest.raises(openai.BadRequestError):
            c.files.retrieve(bad)
    with pytest.raises(openai.NotFoundError):
        c.batches.retrieve("batch_unknown")
