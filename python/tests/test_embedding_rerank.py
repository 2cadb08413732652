"""embedding / aembedding and rerank / arerank against the OpenAI, Gemini and Cohere mocks."""
import asyncio

import pytest

import llmgate


@pytest.mark.parametrize("provider,model,base", [
    ("openai", "openai/text-embedding-3-small", "/v1"),
    ("gemini", "gemini/text-embedding-004", "/v1beta"),
])
def test_embedding(mock, provider, model, base):
    kw = {"api_base": mock.base + base, "api_key": "k"}
    resp = llmgate.embedding(model=model, input=["a", "b", "c"], **kw)
    assert isinstance(resp, llmgate.EmbeddingResponse)
    assert len(resp.data) == 3
    assert resp.data[1].index == 1 and resp.data[1]["embedding"] == resp.data[1].embedding
    assert all(isinstance(x, float) for x in resp.data[0].embedding)
    aresp = asyncio.run(llmgate.aembedding(model=model, input="one", **kw))
    assert len(aresp.data) == 1
    assert resp._hidden_params["custom_llm_provider"] == provider


def test_rerank(mock):
    docs = ["the sky is blue", "grass is green", "blue whales"]
    kw = {"api_base": mock.base, "api_key": "co-key"}
    resp = llmgate.rerank(model="cohere/rerank-v3.5", query="blue sky", documents=docs, top_n=2, **kw)
    assert isinstance(resp, llmgate.RerankResponse)
    assert len(resp.results) == 2
    assert resp.results[0].relevance_score >= resp.results[1].relevance_score
    assert resp.results[0]["index"] in range(3)
    body = mock.requests()[-1]["body"]
    assert body["query"] == "blue sky" and body["top_n"] == 2
    # Cohere prices rerank per search unit.
    info = llmgate.get_model_info("cohere/rerank-v3.5")
    assert resp._hidden_params["response_cost"] == pytest.approx(info["input_cost_per_query"])
    aresp = asyncio.run(llmgate.arerank(model="cohere/rerank-v3.5", query="blue sky",
                                        documents=docs, **kw))
    assert len(aresp.results) == 3
