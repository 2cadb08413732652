"""token_counter, completion_cost, cost_per_token and get_model_info: the Rust SDK's tokenizer
and catalog, so the numbers are the ones its own tests assert (crates/llmgate/src/tokens.rs,
crates/llmgate/src/catalog)."""
import pytest

import llmgate

HELLO_WORLD = [{"role": "user", "content": "hello world"}]


def test_token_counter_equals_the_sdk():
    # tokens.rs `counts_like_the_openai_cookbook`: 3 per message + role + text + 3 priming.
    assert llmgate.token_counter(model="gpt-4o", messages=HELLO_WORLD) == 9
    assert llmgate.token_counter(model="gpt-3.5-turbo", messages=HELLO_WORLD) == 9
    assert llmgate.token_counter(model="gpt-4o", text="hello world") == 2
    assert llmgate.token_counter(model="gpt-4o", text=["hello world", "hello world"]) == 4
    # A name costs its tokens plus one; image parts the fixed low/high-detail price.
    named = [{"role": "user", "name": "bob", "content": [
        {"type": "text", "text": "hi"},
        {"type": "image_url", "image_url": {"url": "https://x/y.png", "detail": "low"}}]}]
    assert llmgate.token_counter(model="gpt-4o", messages=named) == 3 + 3 + 1 + 1 + 1 + 1 + 85
    # The encodings differ: o200k for gpt-4o, cl100k for gpt-4.
    text = "Hyperparameter tuning für Sprachmodelle – ünïcödé 漢字"
    assert llmgate.token_counter(model="gpt-4o", text=text) != llmgate.token_counter(
        model="gpt-4", text=text)


def test_token_counter_long_input_is_fast():
    import time

    t = time.perf_counter()
    n = llmgate.token_counter(model="gpt-4o", text="a" * 100_000)
    assert time.perf_counter() - t < 2
    assert 10_000 <= n <= 25_000


def test_model_info_is_the_catalog():
    info = llmgate.get_model_info("gpt-4o")
    assert info["max_input_tokens"] == 128000
    assert info["input_cost_per_token"] == 2.5e-6
    assert info["litellm_provider"] == "openai" and info["mode"] == "chat"
    assert info["supports_function_calling"] is True
    assert llmgate.get_model_info("openai/gpt-4o") == info
    assert llmgate.get_model_info("gpt-4o", custom_llm_provider="openai") == info
    with pytest.raises(Exception, match="isn't mapped"):
        llmgate.get_model_info("no-such-model-xyz")


def test_completion_cost_from_text_and_tokens():
    info = llmgate.get_model_info("gpt-4o")
    p, c = info["input_cost_per_token"], info["output_cost_per_token"]
    # "hello world" is 2 tokens, "hi" is 1.
    assert llmgate.completion_cost(model="gpt-4o", prompt="hello world", completion="hi") == \
        pytest.approx(2 * p + 1 * c)
    assert llmgate.completion_cost(model="gpt-4o", messages=HELLO_WORLD, completion="hi") == \
        pytest.approx(9 * p + 1 * c)
    assert llmgate.cost_per_token(model="gpt-4o", prompt_tokens=1000, completion_tokens=500) == \
        (pytest.approx(1000 * p), pytest.approx(500 * c))
    with pytest.raises(Exception, match="isn't mapped"):
        llmgate.completion_cost(model="no-such-model-xyz", prompt="x")


def test_cached_tokens_are_priced_at_the_cache_price(providers):
    # The catalog's cache-read price applies to cached prompt tokens (catalog/cost.rs).
    info = llmgate.get_model_info("gpt-4o")
    resp = llmgate.ModelResponse({"model": "gpt-4o", "choices": [], "usage": {
        "prompt_tokens": 1000, "completion_tokens": 0, "total_tokens": 1000,
        "prompt_tokens_details": {"cached_tokens": 600}}})
    assert llmgate.completion_cost(completion_response=resp) == pytest.approx(
        400 * info["input_cost_per_token"] + 600 * info["cache_read_input_token_cost"])


def test_custom_prices(providers):
    model, kw = providers["openai"]
    resp = llmgate.completion(model=model, messages=HELLO_WORLD, input_cost_per_token=1.0,
                              output_cost_per_token=2.0, **kw)
    assert resp._hidden_params["response_cost"] == pytest.approx(10 * 1.0 + 5 * 2.0)
    assert llmgate.completion_cost(completion_response=resp,
                                   custom_cost_per_token={"input_cost_per_token": 1.0,
                                                          "output_cost_per_token": 1.0}) == 15.0


def test_anthropic_cost_counts_cache_tokens(providers):
    model, kw = providers["anthropic"]
    resp = llmgate.completion(model=model, messages=HELLO_WORLD, **kw)
    info = llmgate.get_model_info(model)
    expected = 10 * info["input_cost_per_token"] + 5 * info["output_cost_per_token"]
    assert resp._hidden_params["response_cost"] == pytest.approx(expected)
