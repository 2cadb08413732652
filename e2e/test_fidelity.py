"""What a client sees through llmgate matches what LiteLLM 1.110.2 gives for the same upstream
answer (each expected value was printed by LiteLLM against the same mock bodies)."""
import openai
import pytest

from conftest import Gateway


def config(mock):
    return (
        "model_list:\n"
        "  - model_name: filtered\n    litellm_params:\n      model: azure/mock-content-filter\n"
        f"      api_base: {mock.base}\n      api_key: sk-az\n      api_version: '2024-10-21'\n"
        "  - model_name: azure-limited\n    litellm_params:\n      model: azure/mock-error-429\n"
        f"      api_base: {mock.base}\n      api_key: sk-az\n      api_version: '2024-10-21'\n"
    )


@pytest.fixture
def client(mock, tmp_path):
    g = Gateway(tmp_path, config(mock)).wait_ready()
    yield openai.OpenAI(base_url=g.base, api_key="anything", max_retries=0)
    g.stop()


def test_an_azure_content_filter_is_a_content_policy_error_with_azures_details(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model="filtered", messages=[{"role": "user", "content": "Hi"}])
    err = e.value.body
    assert err["message"].startswith(
        "litellm.BadRequestError: litellm.ContentPolicyViolationError: The response was filtered")
    fields = err["provider_specific_fields"]
    assert fields["azure_error"]["code"] == "content_filter"
    assert fields["innererror"]["code"] == "ResponsibleAIPolicyViolation"
    assert fields["inner_error"]["content_filter_result"]["hate"] == {"filtered": True, "severity": "high"}


def test_azure_errors_name_azures_class(client):
    with pytest.raises(openai.RateLimitError) as e:
        client.chat.completions.create(model="azure-limited", messages=[{"role": "user", "content": "Hi"}])
    assert e.value.body["message"] == "litellm.RateLimitError: AzureException RateLimitError - mock error 429"
