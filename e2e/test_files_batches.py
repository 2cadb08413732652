"""OpenAI's Files and Batches APIs through the llmgate binary with the official `openai`
client, against the mock's Files/Batches API (OpenAI's paths and Azure's): uploads routed by
`target_model_names` (LiteLLM's managed file id), `x-litellm-model`, a `model` field or
`?model=`, the model of the JSONL's first line, or `custom_llm_provider` (openai, azure, azure_ai);
list/retrieve/content/delete; a batch run to completion whose cost — read from its output file
at the catalog's batch rate — is charged once to the key that created it (spend row in the
database), the upload and the create each logged at spend 0 (LiteLLM's `acreate_file` /
`acreate_batch` rows); cancel; files and batches invisible to other keys but shared within a team; uploads
and batch creates admitted (budgets, rate limits); bad input, an oversized upload (413)."""
import base64
import json
import subprocess
import time
import uuid

import openai
import pytest

from conftest import MASTER, Gateway
from test_virtual_keys import PG, admin

LINES = [
    {"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hi"}]}},
    {"custom_id": "r2", "method": "POST", "url": "/v1/chat/completions",
     "body": {"model": "gpt-4o", "messages": [{"role": "user", "content": "Hello"}]}},
]
JSONL = "".join(json.dumps(line) + "\n" for line in LINES).encode()


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def gw(request, mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("files")
    if request.param == "sqlite":
        db_env = {"LLMGATE_DB_PATH": str(tmp / "files.db")}
    else:
        name = f"llmgate_e2e_files_{uuid.uuid4().hex[:10]}"
        subprocess.run(["psql", f"{PG}/postgres", "-qc", f"CREATE DATABASE {name}"], check=True)
        db_env = {"DATABASE_URL": f"{PG}/{name}"}
        request.addfinalizer(lambda: subprocess.run(
            ["psql", f"{PG}/postgres", "-qc", f"DROP DATABASE IF EXISTS {name} WITH (FORCE)"], check=False))
    cfg = f"""
model_list:
  - model_name: gpt-4o-batch
    litellm_params:
      model: openai/gpt-4o
      api_base: {mock.base}/v1
      api_key: sk-upstream-files
  - model_name: azure-batch
    litellm_params:
      model: azure/gpt-4o
      api_base: {mock.base}
      api_key: azure-key-files
      api_version: "2024-10-21"
  - model_name: foundry-batch
    litellm_params:
      model: azure_ai/gpt-4o
      api_base: {mock.base}/models
      api_key: aai-key-files
  - model_name: foundry-env-batch
    litellm_params:
      model: azure_ai/gpt-4o
  - model_name: claude
    litellm_params:
      model: anthropic/claude-3-5-sonnet-20240620
      api_base: {mock.base}
      api_key: sk-ant
  - model_name: gpt-35-batch
    litellm_params:
      model: openai/gpt-3.5-turbo-1106
      api_base: {mock.base}/v1
      api_key: sk-upstream-35
  - model_name: gpt-4o-own
    litellm_params:
      model: openai/gpt-4o
      api_base: {mock.base}/v1
      api_key: sk-upstream-own
      input_cost_per_token: 1.0e-6
      output_cost_per_token: 2.0e-6
      output_cost_per_token_batches: 3.0e-6
general_settings:
  master_key: {MASTER}
  proxy_batch_write_at: 1
  max_request_size_mb: 1
"""
    env = {**db_env, "OPENAI_API_BASE": f"{mock.base}/v1", "OPENAI_API_KEY": "sk-env-openai",
           "AZURE_API_BASE": mock.base, "AZURE_API_KEY": "azure-env-key",
           "AZURE_AI_API_BASE": f"{mock.base}/models", "AZURE_AI_API_KEY": "aai-env-key"}
    g = Gateway(tmp, cfg, env=env).wait_ready()
    yield g
    g.stop()


def key(gw, **kw):
    status, k = admin(gw, "POST", "/key/generate", kw)
    assert status == 200, k
    return k


def client(gw, k):
    return openai.OpenAI(base_url=f"{gw.base}/v1", api_key=k["key"], max_retries=0)


def spend_rows(gw, token, call_type, n, timeout=15):
    """The key's spend rows of `call_type` in the database (through `/spend/logs`)."""
    deadline = time.time() + timeout
    while True:
        status, logs = admin(gw, "GET", f"/spend/logs?api_key={token}")
        assert status == 200, logs
        rows = [r for r in logs if r["call_type"] == call_type]
        if len(rows) >= n or time.time() > deadline:
            return rows
        time.sleep(0.2)


def charged_once(gw, token):
    """The key's one `aretrieve_batch` spend row, still one after a while (a retrieve of a
    completed batch charges it once, whichever instance sees it first)."""
    spend_rows(gw, token, "aretrieve_batch", 1)
    time.sleep(1.5)
    rows = spend_rows(gw, token, "aretrieve_batch", 1)
    assert len(rows) == 1, rows
    return rows[0]


def priced_at_batch_rate(row, usage, in_rate, out_rate):
    """The spend row carries the output's usage, priced at the deployment's batch rates."""
    prompt = sum(u["prompt_tokens"] for u in usage)
    completion = sum(u["completion_tokens"] for u in usage)
    assert (row["prompt_tokens"], row["completion_tokens"]) == (prompt, completion)
    assert row["spend"] == pytest.approx(prompt * in_rate + completion * out_rate, rel=1e-6)


def hidden_from_another_key(gw, alias, file_id, content_id, batch_id):
    """A key that did not create them gets a 404 for the file, its content, the batch and the
    delete; returns that key's client."""
    other = client(gw, key(gw, key_alias=alias))
    for call in (lambda: other.files.retrieve(file_id), lambda: other.files.content(content_id),
                 lambda: other.batches.retrieve(batch_id), lambda: other.files.delete(file_id)):
        with pytest.raises(openai.NotFoundError):
            call()
    return other


def test_managed_file_and_batch_to_completion_with_its_cost(gw, mock):
    a = key(gw, key_alias="files-a")
    c = client(gw, a)
    f = c.files.create(file=("batch.jsonl", JSONL), purpose="batch",
                       extra_body={"target_model_names": "gpt-4o-batch"})
    decoded = base64.urlsafe_b64decode(f.id + "=" * (-len(f.id) % 4)).decode()
    assert decoded.startswith("litellm_proxy:") and "target_model_names,gpt-4o-batch" in decoded
    assert f.purpose == "batch" and f.bytes == len(JSONL)
    assert c.files.retrieve(f.id).id == f.id
    assert c.files.content(f.id).content == JSONL
    assert f.id in [x.id for x in c.files.list().data]

    b = c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h",
                         extra_body={"litellm_metadata": {"tags": ["nightly-run"]}})
    assert base64.urlsafe_b64decode(b.id + "=" * (-len(b.id) % 4)).decode().startswith("litellm_proxy;model_id:")
    assert b.input_file_id == f.id
    assert b.status == "validating"
    assert c.batches.retrieve(b.id).status == "in_progress"
    done = c.batches.retrieve(b.id)
    assert done.status == "completed" and done.output_file_id
    out = [json.loads(line) for line in c.files.content(done.output_file_id).text.splitlines()]
    assert [o["custom_id"] for o in out] == ["r1", "r2"]
    # Retrieved again: charged once.
    assert c.batches.retrieve(b.id).status == "completed"
    assert b.id in [x.id for x in c.batches.list().data]

    row = charged_once(gw, a["token"])
    # LiteLLM's rows: the upload's and the create's at spend 0, keyed by the object's id; the
    # cost's keyed `{batch}_batch_cost`, with the create's tags.
    [fr] = spend_rows(gw, a["token"], "acreate_file", 1)
    [br] = spend_rows(gw, a["token"], "acreate_batch", 1)
    assert (fr["request_id"], fr["spend"], fr["model_group"]) == (f.id, 0, "gpt-4o-batch")
    assert (br["request_id"], br["spend"], br["status"]) == (b.id, 0, "success")
    assert br["request_tags"] == ["nightly-run"] and row["request_tags"] == ["nightly-run"]
    assert row["request_id"] == f"{b.id}_batch_cost"
    # gpt-4o at the batch rate (half): 2 answers of 10 prompt and 5 completion tokens.
    assert row["spend"] == pytest.approx(2 * (10 * 1.25e-6 + 5 * 5e-6), rel=1e-6)
    assert (row["prompt_tokens"], row["completion_tokens"]) == (20, 10)
    _, info = admin(gw, "GET", f"/key/info?key={a['key']}")
    assert info["info"]["spend"] == pytest.approx(7.5e-5, rel=1e-6)

    # The provider was sent its own ids and key, never LiteLLM's routing fields.
    import urllib.request
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    create = [r for r in reqs if r["path"] == "/v1/batches" and r["method"] == "POST"][-1]
    assert create["body"]["input_file_id"].startswith("file-mock")
    assert create["headers"]["authorization"] == "Bearer sk-upstream-files"
    upload = [r for r in reqs if r["path"] == "/v1/files" and r["method"] == "POST"][-1]
    assert "target_model_names" not in upload["body"]

    # Another key sees none of it.
    other = hidden_from_another_key(gw, "files-b", f.id, f.id, b.id)
    assert f.id not in [x.id for x in other.files.list().data]
    assert b.id not in [x.id for x in other.batches.list().data]

    assert c.files.delete(f.id).deleted
    with pytest.raises(openai.NotFoundError):
        c.files.retrieve(f.id)


def test_routing_by_header_model_and_provider(gw, mock):
    c = client(gw, key(gw, key_alias="files-route"))
    f = c.files.create(file=("a.jsonl", JSONL), purpose="batch", extra_headers={"x-litellm-model": "azure-batch"})
    assert f.id.startswith("file-mock")
    import urllib.request
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    up = [r for r in reqs if r["method"] == "POST" and r["path"].endswith("/files")][-1]
    assert up["path"] == "/openai/files" and "api-version=2024-10-21" in up["query"]
    assert up["headers"]["api-key"] == "azure-key-files"
    # Its batch goes to Azure too, and can be cancelled.
    b = c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert c.batches.cancel(b.id).status == "cancelling"
    assert c.batches.retrieve(b.id).status == "cancelled"
    with pytest.raises(openai.BadRequestError):
        c.batches.cancel(b.id)
    # `custom_llm_provider` (default openai) uses the environment's key.
    f2 = c.files.create(file=("b.jsonl", JSONL), purpose="batch")
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    up = [r for r in reqs if r["method"] == "POST" and r["path"].endswith("/files")][-1]
    assert up["path"] == "/v1/files" and up["headers"]["authorization"] == "Bearer sk-env-openai"
    assert c.files.retrieve(f2.id).id == f2.id


def test_bad_input_is_a_clear_4xx(gw):
    c = client(gw, key(gw, key_alias="files-bad"))
    with pytest.raises(openai.BadRequestError):
        c.files.create(file=("x.txt", b"not json\n"), purpose="batch")
    with pytest.raises(openai.BadRequestError) as e:
        c.files.create(file=("x.jsonl", JSONL), purpose="batch", extra_body={"custom_llm_provider": "groq"})
    assert "groq" in e.value.message and "files and batches" in e.value.message
    # A model whose provider has no files API is refused the same way.
    with pytest.raises(openai.BadRequestError) as e:
        c.files.create(file=("x.jsonl", JSONL), purpose="batch", extra_body={"model": "claude"})
    assert "anthropic" in e.value.message and "no files or batches API" in e.value.message
    # Gemini serves them, with credentials this gateway lacks.
    with pytest.raises(openai.BadRequestError) as e:
        c.files.create(file=("x.jsonl", JSONL), purpose="batch", extra_body={"custom_llm_provider": "gemini"})
    assert "GEMINI_API_KEY" in e.value.message
    with pytest.raises(openai.BadRequestError) as e:
        c.files.create(file=("x.jsonl", JSONL), purpose="batch", extra_headers={"x-litellm-model": "claude"})
    assert "served by anthropic" in e.value.message and "files or batches" in e.value.message
    with pytest.raises((openai.BadRequestError, openai.NotFoundError)):
        c.files.create(file=("x.jsonl", JSONL), purpose="batch", extra_headers={"x-litellm-model": "nope"})
    with pytest.raises(openai.NotFoundError):
        c.files.retrieve("file-does-not-exist")
    with pytest.raises(openai.BadRequestError):
        c.files.retrieve("..%2Fetc")
    with pytest.raises(openai.NotFoundError):
        c.batches.create(input_file_id="file-nope", endpoint="/v1/chat/completions", completion_window="24h")
    # A key limited to other models may not route a file to this one.
    limited = client(gw, key(gw, key_alias="files-limited", models=["claude"]))
    with pytest.raises((openai.AuthenticationError, openai.PermissionDeniedError, openai.BadRequestError)):
        limited.files.create(file=("x.jsonl", JSONL), purpose="batch", extra_headers={"x-litellm-model": "gpt-4o-batch"})


def lines_for(model):
    return "".join(json.dumps({**line, "body": {**line["body"], "model": model}}) + "\n" for line in LINES).encode()


def mock_requests(mock):
    import urllib.request
    return json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())


def last_upload(mock):
    return [r for r in mock_requests(mock) if r["method"] == "POST" and r["path"].endswith("/files")][-1]


def test_a_batch_file_goes_to_the_model_its_jsonl_names_at_its_batch_price(gw, mock):
    """No header, field or target_model_names: the first line's `body.model`, a model group,
    picks the deployment (LiteLLM's `is_known_model`); the batch is priced at the catalog's
    batch rows — gpt-3.5-turbo-1106 bills batches at its full token price, not half."""
    a = key(gw, key_alias="files-jsonl", max_budget=3e-5)
    c = client(gw, a)
    f = c.files.create(file=("35.jsonl", lines_for("gpt-35-batch")), purpose="batch")
    assert f.id.startswith("file-mock")
    up = last_upload(mock)
    assert up["path"] == "/v1/files" and up["headers"]["authorization"] == "Bearer sk-upstream-35"
    b = c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    create = [r for r in mock_requests(mock) if r["path"] == "/v1/batches" and r["method"] == "POST"][-1]
    assert create["headers"]["authorization"] == "Bearer sk-upstream-35"
    while c.batches.retrieve(b.id).status != "completed":
        pass
    rows = spend_rows(gw, a["token"], "aretrieve_batch", 1)
    assert len(rows) == 1, rows
    # 2 answers of 10 prompt and 5 completion tokens at 1e-6 / 2e-6 (its batch rows).
    assert rows[0]["spend"] == pytest.approx(2 * (10 * 1e-6 + 5 * 2e-6), rel=1e-6)

    # Now over its budget (4e-5 of 3e-5): no more uploads or batches, the provider not called.
    before = len(mock_requests(mock))
    with pytest.raises(openai.BadRequestError) as e:
        c.files.create(file=("again.jsonl", lines_for("gpt-35-batch")), purpose="batch")
    assert e.value.body["type"] == "budget_exceeded"
    with pytest.raises(openai.BadRequestError) as e:
        c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert e.value.body["type"] == "budget_exceeded"
    assert len(mock_requests(mock)) == before

    # A model the JSONL names that the key may not use is refused; one that is no model
    # group falls back to `custom_llm_provider` (openai, the environment's key).
    limited = client(gw, key(gw, key_alias="files-jsonl-limited", models=["claude"]))
    with pytest.raises((openai.AuthenticationError, openai.PermissionDeniedError, openai.BadRequestError)):
        limited.files.create(file=("35.jsonl", lines_for("gpt-35-batch")), purpose="batch")
    c2 = client(gw, key(gw, key_alias="files-jsonl-2"))
    c2.files.create(file=("x.jsonl", lines_for("not-a-group")), purpose="batch")
    assert last_upload(mock)["headers"]["authorization"] == "Bearer sk-env-openai"


def test_a_deployments_own_prices_price_its_batches(gw, mock):
    """Its own token price halves for the prompt (no batch price of its own: the catalog's
    batch row is for the catalog's price); its `output_cost_per_token_batches` as set."""
    a = key(gw, key_alias="files-own-price")
    c = client(gw, a)
    f = c.files.create(file=("own.jsonl", lines_for("gpt-4o-own")), purpose="batch")
    assert last_upload(mock)["headers"]["authorization"] == "Bearer sk-upstream-own"
    b = c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    while c.batches.retrieve(b.id).status != "completed":
        pass
    rows = spend_rows(gw, a["token"], "aretrieve_batch", 1)
    assert len(rows) == 1, rows
    assert rows[0]["spend"] == pytest.approx(2 * (10 * 0.5e-6 + 5 * 3e-6), rel=1e-6)


def test_uploads_and_batch_creates_count_against_rate_limits(gw, mock):
    c = client(gw, key(gw, key_alias="files-rpm", rpm_limit=1))
    # One request a minute: of three quick uploads (at most one minute boundary), one is refused.
    with pytest.raises(openai.RateLimitError):
        for i in range(3):
            c.files.create(file=(f"r{i}.jsonl", JSONL), purpose="batch")
    c = client(gw, key(gw, key_alias="files-rpm-batch", rpm_limit=2))
    f = c.files.create(file=("r.jsonl", JSONL), purpose="batch")
    with pytest.raises(openai.RateLimitError):
        for _ in range(3):
            c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")


def test_routing_by_model_field_query_and_azure_provider(gw, mock):
    c = client(gw, key(gw, key_alias="files-route-2"))
    c.files.create(file=("a.jsonl", JSONL), purpose="batch", extra_body={"model": "azure-batch"})
    up = last_upload(mock)
    assert up["path"] == "/openai/files" and up["headers"]["api-key"] == "azure-key-files"
    assert "model" not in up["body"]
    c.files.create(file=("b.jsonl", JSONL), purpose="batch", extra_query={"model": "gpt-4o-batch"})
    up = last_upload(mock)
    assert up["path"] == "/v1/files" and up["headers"]["authorization"] == "Bearer sk-upstream-files"
    f = c.files.create(file=("c.jsonl", JSONL), purpose="batch", extra_body={"custom_llm_provider": "azure"})
    up = last_upload(mock)
    assert up["path"] == "/openai/files" and up["headers"]["api-key"] == "azure-env-key"
    assert "custom_llm_provider" not in up["body"]
    # Later calls on the file find its provider without being told again.
    assert c.files.retrieve(f.id).id == f.id
    assert c.files.content(f.id).content == JSONL


def test_files_are_shared_within_a_team(gw):
    status, team = admin(gw, "POST", "/team/new", {"team_alias": f"files-team-{uuid.uuid4().hex[:6]}"})
    assert status == 200, team
    a = client(gw, key(gw, key_alias="files-team-a", team_id=team["team_id"]))
    b = client(gw, key(gw, key_alias="files-team-b", team_id=team["team_id"]))
    outsider = client(gw, key(gw, key_alias="files-team-out"))
    f = a.files.create(file=("t.jsonl", JSONL), purpose="batch")
    assert b.files.retrieve(f.id).id == f.id
    assert f.id in [x.id for x in b.files.list().data]
    bt = a.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert b.batches.retrieve(bt.id).id == bt.id
    with pytest.raises(openai.NotFoundError):
        outsider.files.retrieve(f.id)
    with pytest.raises(openai.NotFoundError):
        outsider.batches.retrieve(bt.id)
    assert f.id not in [x.id for x in outsider.files.list().data]


def test_an_oversized_upload_is_an_openai_413(gw, mock):
    c = client(gw, key(gw, key_alias="files-big"))
    before = len([r for r in mock_requests(mock) if r["path"].endswith("/files")])
    big = b"{}\n" * (600 * 1024)  # 1.8 MB, over max_request_size_mb: 1
    with pytest.raises(openai.APIStatusError) as e:
        c.files.create(file=("big.jsonl", big), purpose="batch")
    assert e.value.status_code == 413
    assert e.value.body["type"] == "invalid_request_error"
    assert "max_request_size_mb" in e.value.body["message"]
    assert len([r for r in mock_requests(mock) if r["path"].endswith("/files")]) == before


def test_azure_ai_foundry_file_and_batch_to_completion_with_its_cost(gw, mock):
    """An `azure_ai/` deployment of an OpenAI model (LiteLLM hands it to Azure OpenAI): its
    files and batches are Azure OpenAI's API on the Foundry resource (`/openai/...` with
    `api-version`, the key as `api-key`; a base naming `/models` loses it)."""
    import urllib.request
    a = key(gw, key_alias="files-foundry")
    c = client(gw, a)
    f = c.files.create(file=("batch.jsonl", JSONL), purpose="batch",
                       extra_body={"target_model_names": "foundry-batch"})
    up = last_upload(mock)
    assert up["path"] == "/openai/files" and "api-version=" in up["query"]
    assert up["headers"]["api-key"] == "aai-key-files" and "authorization" not in up["headers"]
    assert c.files.retrieve(f.id).id == f.id

    b = c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    create = [r for r in reqs if r["path"] == "/openai/batches" and r["method"] == "POST"][-1]
    assert create["headers"]["api-key"] == "aai-key-files"
    assert create["body"]["input_file_id"].startswith("file-mock")
    assert c.batches.retrieve(b.id).status == "in_progress"
    done = c.batches.retrieve(b.id)
    assert done.status == "completed" and done.output_file_id
    out = [json.loads(line) for line in c.files.content(done.output_file_id).text.splitlines()]
    assert [o["custom_id"] for o in out] == ["r1", "r2"]
    usage = [o["response"]["body"]["usage"] for o in out]

    row = charged_once(gw, a["token"])
    assert row["request_id"] == f"{b.id}_batch_cost"
    # gpt-4o at the batch rate (half the catalog's 2.5e-6 / 1e-5).
    priced_at_batch_rate(row, usage, 1.25e-6, 5e-6)
    _, info = admin(gw, "GET", f"/key/info?key={a['key']}")
    assert info["info"]["spend"] == pytest.approx(row["spend"], rel=1e-6)

    hidden_from_another_key(gw, "files-foundry-b", f.id, done.output_file_id, b.id)


def test_azure_ai_with_the_environments_credentials(gw, mock):
    """`custom_llm_provider=azure_ai`, and an `azure_ai/` deployment without a base or key,
    use `AZURE_AI_API_BASE` / `AZURE_AI_API_KEY`."""
    c = client(gw, key(gw, key_alias="files-foundry-env"))
    f = c.files.create(file=("a.jsonl", JSONL), purpose="batch", extra_body={"custom_llm_provider": "azure_ai"})
    up = last_upload(mock)
    assert up["path"] == "/openai/files" and up["headers"]["api-key"] == "aai-env-key"
    assert "custom_llm_provider" not in up["body"]
    b = c.batches.create(input_file_id=f.id, endpoint="/v1/chat/completions", completion_window="24h")
    assert c.batches.retrieve(b.id).id == b.id
    assert c.files.content(f.id).content == JSONL
    c.files.create(file=("b.jsonl", JSONL), purpose="batch", extra_body={"model": "foundry-env-batch"})
    up = last_upload(mock)
    assert up["path"] == "/openai/files" and up["headers"]["api-key"] == "aai-env-key"
