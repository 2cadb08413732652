"""Voyage, Jina AI, DashScope and Bedrock rerank — and Voyage, Jina AI and DashScope embeddings —
through the llmgate binary against their mocks: the bodies each upstream gets (as LiteLLM sends
them), Cohere's response shape back, the cost of each call (per token for the token-billed
rerankers, per query for Bedrock's) in the header and in the spend log."""
import json
import time

import openai
import pytest

from conftest import MASTER, Gateway
from test_rerank import post
from test_virtual_keys import admin
from test_embeddings_matrix import requests_to

KEY_ID, SECRET = "AKIDLLMGATEMOCK", "llmgate-mock-bedrock-secret"
DOCS = ["Paris is the capital of France", "Berlin is in Germany", "The capital of Italy is Rome"]
QUERY = "capital of France"
# The mocks count whitespace words: the query's and every document's.
TOKENS = 3 + 6 + 4 + 6
AWS = (f"aws_access_key_id: {KEY_ID}\n      aws_secret_access_key: {SECRET}\n"
       "      aws_region_name: eu-central-1\n      aws_bedrock_runtime_endpoint: {base}")
ROWS = [
    ("voyage-rerank", "voyage/rerank-2.5", "api_base: {base}/voyage/v1\n      api_key: pa-voyage"),
    ("voyage-embed", "voyage/voyage-3.5", "api_base: {base}/voyage/v1\n      api_key: pa-voyage"),
    ("voyage-nokey", "voyage/rerank-2.5", "api_base: {base}/voyage/v1"),
    ("jina-rerank", "jina_ai/jina-reranker-m0", "api_base: {base}/jina/v1\n      api_key: jina-key"),
    ("jina-embed", "jina_ai/jina-embeddings-v3", "api_base: {base}/jina/v1\n      api_key: jina-key"),
    ("qwen-rerank", "dashscope/qwen3-rerank", "api_base: {base}/compatible-api/v1\n      api_key: sk-ds"),
    ("qwen-embed", "dashscope/text-embedding-v4", "api_base: {base}/compatible-mode/v1\n      api_key: sk-ds"),
    ("bedrock-rerank", "bedrock/amazon.rerank-v1:0", AWS),
    ("bedrock-cohere-rerank", "bedrock/cohere.rerank-v3-5:0", AWS),
    ("bedrock-badsig", "bedrock/amazon.rerank-v1:0", AWS.replace(SECRET, "wrong-secret")),
]


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("retrieval")
    cfg = "model_list:\n"
    for name, model, params in ROWS:
        cfg += (f"  - model_name: {name}\n    litellm_params:\n      model: {model}\n      "
                + params.format(base=mock.base) + "\n")
    cfg += f"general_settings:\n  master_key: {MASTER}\n  proxy_batch_write_at: 0.2\n"
    cfg += "router_settings:\n  num_retries: 0\n"
    g = Gateway(tmp, cfg, env={"LLMGATE_DB_PATH": str(tmp / "spend.db"), "VOYAGE_API_KEY": "",
                               "VOYAGE_AI_API_KEY": ""}).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=f"{gw.base}/v1", api_key=MASTER, max_retries=0)


def rerank(gw, model, **extra):
    return post(gw, "/v1/rerank", {"model": model, "query": QUERY, "documents": DOCS, **extra})


def cost(r):
    return float(r.headers["x-litellm-response-cost"])


def test_voyage_rerank(gw, mock):
    r = rerank(gw, "voyage-rerank", top_n=2)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["index"] for x in body["results"]] == [0, 2]
    # LiteLLM sends `return_documents: true` unless told otherwise; strings come back as {"text"}.
    assert body["results"][0]["document"] == {"text": DOCS[0]}
    assert body["meta"]["billed_units"]["total_tokens"] == TOKENS
    sent = requests_to(mock, "/voyage/v1/rerank")[-1]
    assert sent["headers"]["authorization"] == "Bearer pa-voyage"
    assert sent["body"] == {"model": "rerank-2.5", "query": QUERY, "documents": DOCS, "top_k": 2,
                            "return_documents": True}
    assert cost(r) == pytest.approx(5e-8 * TOKENS)
    r = rerank(gw, "voyage-rerank", return_documents=False)
    assert all("document" not in x for x in r.json()["results"])


def test_voyage_without_a_key_is_a_401(gw):
    r = rerank(gw, "voyage-nokey")
    assert r.status_code == 401, r.text


def test_voyage_embeddings(client, mock):
    raw = client.embeddings.with_raw_response.create(model="voyage-embed", input=["a b", "c"],
                                                     dimensions=4, extra_body={"input_type": "document"})
    e = raw.parse()
    assert len(e.data) == 2 and len(e.data[0].embedding) == 4 and e.usage.prompt_tokens == 3
    sent = requests_to(mock, "/voyage/v1/embeddings")[-1]["body"]
    # The client's default base64 goes through as Voyage's own `encoding_format`.
    assert sent == {"input": ["a b", "c"], "model": "voyage-3.5", "encoding_format": "base64",
                    "output_dimension": 4, "input_type": "document"}
    assert float(raw.headers["x-litellm-response-cost"]) == pytest.approx(6e-8 * 3)


def test_jina_rerank_and_embeddings(gw, client, mock):
    r = rerank(gw, "jina-rerank", top_n=1, return_documents=True, rank_fields=["text"])
    assert r.status_code == 200, r.text
    assert r.json()["results"] == [{"index": 0, "relevance_score": 1.0, "document": {"text": DOCS[0]}}]
    sent = requests_to(mock, "/v1/rerank")[-1]
    assert sent["headers"]["authorization"] == "Bearer jina-key"
    assert sent["body"] == {"model": "jina-reranker-m0", "query": QUERY, "documents": DOCS, "top_n": 1,
                            "return_documents": True}
    assert cost(r) == pytest.approx(5e-8 * TOKENS)
    e = client.embeddings.create(model="jina-embed", input="hello", dimensions=8,
                                 extra_body={"task": "retrieval.query"})
    assert len(e.data) == 1 and len(e.data[0].embedding) == 8
    sent = requests_to(mock, "/jina/v1/embeddings")[-1]["body"]
    assert sent == {"model": "jina-embeddings-v3", "dimensions": 8, "task": "retrieval.query",
                    "input": ["hello"]}


def test_dashscope_rerank_and_embeddings(gw, client, mock):
    r = rerank(gw, "qwen-rerank", top_n=2)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["index"] for x in body["results"]] == [0, 2] and body["id"] == "mock-dashscope-rerank-1"
    assert body["results"][0]["document"] == {"text": DOCS[0]}
    sent = requests_to(mock, "/compatible-api/v1/reranks")[-1]
    assert sent["headers"]["authorization"] == "Bearer sk-ds"
    assert sent["body"] == {"model": "qwen3-rerank", "query": QUERY, "documents": DOCS, "top_n": 2,
                            "return_documents": True}
    e = client.embeddings.create(model="qwen-embed", input=["a", "b"], dimensions=64)
    assert len(e.data) == 2
    sent = requests_to(mock, "/compatible-mode/v1/embeddings")[-1]
    assert sent["headers"]["authorization"] == "Bearer sk-ds"
    assert sent["body"]["model"] == "text-embedding-v4" and sent["body"]["dimensions"] == 64


def test_bedrock_rerank_is_signed_and_priced_per_query(gw, mock):
    r = rerank(gw, "bedrock-rerank", top_n=2, return_documents=True)
    assert r.status_code == 200, r.text
    body = r.json()
    assert [x["index"] for x in body["results"]] == [0, 2]
    assert body["results"][0]["document"] == {"text": DOCS[0]}
    assert body["meta"]["billed_units"] == {"search_units": 1}
    sent = requests_to(mock, "/rerank")[-1]
    assert sent["headers"]["authorization"].startswith("AWS4-HMAC-SHA256 Credential=AKIDLLMGATEMOCK/")
    assert "/eu-central-1/bedrock/aws4_request" in sent["headers"]["authorization"]
    conf = sent["body"]["rerankingConfiguration"]
    assert conf == {"type": "BEDROCK_RERANKING_MODEL", "bedrockRerankingConfiguration": {
        "modelConfiguration": {"modelArn": "arn:aws:bedrock:eu-central-1::foundation-model/amazon.rerank-v1:0"},
        "numberOfResults": 2}}
    assert sent["body"]["queries"] == [{"textQuery": {"text": QUERY}, "type": "TEXT"}]
    assert sent["body"]["sources"][1] == {"inlineDocumentSource": {"textDocument": {"text": DOCS[1]},
                                                                   "type": "TEXT"}, "type": "INLINE"}
    assert cost(r) == pytest.approx(0.001)
    r = rerank(gw, "bedrock-cohere-rerank")
    assert r.status_code == 200 and len(r.json()["results"]) == 3
    assert cost(r) == pytest.approx(0.002)


def test_bedrock_rerank_with_a_bad_signature_is_refused(gw):
    r = rerank(gw, "bedrock-badsig")
    assert r.status_code in (401, 403), r.text


def test_spend_logs_carry_each_calls_cost(gw):
    status, k = admin(gw, "POST", "/key/generate", {})
    assert status == 200, k
    expected = {"voyage-rerank": 5e-8 * TOKENS, "jina-rerank": 5e-8 * TOKENS, "bedrock-rerank": 0.001}
    for model in expected:
        r = post(gw, "/v1/rerank", {"model": model, "query": QUERY, "documents": DOCS}, key=k["key"])
        assert r.status_code == 200, r.text
    deadline = time.time() + 10
    logs = []
    while time.time() < deadline and len(logs) < len(expected):
        _, logs = admin(gw, "GET", f"/spend/logs?api_key={k['key']}")
        logs = logs if isinstance(logs, list) else []
        time.sleep(0.2)
    by_group = {log["model_group"]: log for log in logs}
    assert set(by_group) == set(expected), logs
    for group, spend in expected.items():
        log = by_group[group]
        assert log["call_type"] == "arerank"
        assert log["spend"] == pytest.approx(spend), log
    assert by_group["voyage-rerank"]["custom_llm_provider"] == "voyage"
    assert by_group["jina-rerank"]["custom_llm_provider"] == "jina_ai"
    assert by_group["bedrock-rerank"]["custom_llm_provider"] == "bedrock"
    _, info = admin(gw, "GET", f"/key/info?key={k['key']}")
    assert info["info"]["spend"] == pytest.approx(sum(expected.values()))
