"""`POST /v1/embeddings` through the llmgate binary with the official `openai` client, across every
provider with embeddings (each against its mock): a string, a list of strings and token arrays
(passed through where the upstream takes them, else a 400 before any upstream call), `dimensions`,
`encoding_format` float and base64 (base64 made from the floats where the upstream only answers
floats), and `input_type` where the provider defines it."""
import base64
import json
import struct
import urllib.request

import openai
import pytest

from conftest import MASTER, Gateway

KEY_ID, SECRET = "AKIDLLMGATEMOCK", "llmgate-mock-bedrock-secret"

# name: (model, extra litellm_params, upstream path, takes tokens, the field `dimensions` becomes)
PROVIDERS = {
    "openai": ("openai/text-embedding-3-small", "api_base: {base}/v1\n      api_key: sk-oa",
               "/v1/embeddings", True, "dimensions"),
    "azure": ("azure/text-embed-prod", "api_base: {base}/azure\n      api_key: az-key\n      api_version: '2024-10-21'",
              "/azure/openai/deployments/text-embed-prod/embeddings", True, "dimensions"),
    "bedrock-titan": ("bedrock/amazon.titan-embed-text-v2:0",
                      f"aws_access_key_id: {KEY_ID}\n      aws_secret_access_key: {SECRET}\n"
                      "      aws_region_name: us-east-1\n      aws_bedrock_runtime_endpoint: {base}",
                      "/model/amazon.titan-embed-text-v2:0/invoke", False, "dimensions"),
    "bedrock-cohere": ("bedrock/cohere.embed-english-v3",
                       f"aws_access_key_id: {KEY_ID}\n      aws_secret_access_key: {SECRET}\n"
                       "      aws_region_name: us-east-1\n      aws_bedrock_runtime_endpoint: {base}",
                       "/model/cohere.embed-english-v3/invoke", False, None),
    "cohere": ("cohere/embed-v4.0", "api_base: {base}\n      api_key: sk-co", "/v2/embed", False,
               "output_dimension"),
    "gemini": ("gemini/text-embedding-004", "api_base: {base}/v1beta\n      api_key: gm-e2e",
               "/v1beta/models/text-embedding-004:batchEmbedContents", False, None),
    "vertex": ("vertex_ai/text-embedding-005", "api_base: {base}\n      vertex_project: proj-e2e\n"
               "      vertex_location: us-central1\n      vertex_credentials: {sa}",
               "/v1/projects/proj-e2e/locations/us-central1/publishers/google/models/text-embedding-005:predict",
               False, None),
    "ollama": ("ollama/nomic-embed-text", "api_base: {base}", "/api/embed", False, "dimensions"),
    "dashscope": ("dashscope/text-embedding-v4", "api_base: {base}/compatible-mode/v1\n      api_key: sk-ds",
                  "/compatible-mode/v1/embeddings", True, "dimensions"),
    "voyage": ("voyage/voyage-3.5", "api_base: {base}/voyage/v1\n      api_key: pa-voyage",
               "/voyage/v1/embeddings", False, "output_dimension"),
    "jina": ("jina_ai/jina-embeddings-v3", "api_base: {base}/jina/v1\n      api_key: jina-key",
             "/jina/v1/embeddings", False, "dimensions"),
}
# Each provider's own value for a query.
INPUT_TYPE = {"cohere": "search_query", "voyage": "query", "jina": "query"}


@pytest.fixture(scope="module")
def gw(mock, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("emb-matrix")
    sa = tmp / "sa.json"
    sa.write_text(urllib.request.urlopen(f"{mock.base}/_mock/service_account").read().decode())
    cfg = "model_list:\n"
    for name, (model, params, *_rest) in PROVIDERS.items():
        cfg += (f"  - model_name: {name}\n    litellm_params:\n      model: {model}\n      "
                + params.format(base=mock.base, sa=sa) + "\n")
    cfg += f"general_settings:\n  master_key: {MASTER}\n"
    g = Gateway(tmp, cfg).wait_ready()
    yield g
    g.stop()


@pytest.fixture
def client(gw):
    return openai.OpenAI(base_url=f"{gw.base}/v1", api_key=MASTER, max_retries=0)


def requests_to(mock, path):
    reqs = json.loads(urllib.request.urlopen(f"{mock.base}/_mock/requests").read())
    return [r for r in reqs if r["path"] in (path, path.replace(":", "%3A"))]


def floats(b64):
    raw = base64.b64decode(b64)
    return list(struct.unpack(f"<{len(raw) // 4}f", raw))


@pytest.mark.parametrize("name", PROVIDERS)
def test_a_string_and_a_list(client, mock, name):
    # The client asks for base64 by default and decodes it: floats either way.
    one = client.embeddings.create(model=name, input="hello world")
    assert len(one.data) == 1 and one.data[0].index == 0
    assert all(isinstance(x, float) for x in one.data[0].embedding) and one.data[0].embedding
    assert one.usage.prompt_tokens > 0, one.usage
    many = client.embeddings.create(model=name, input=["a b", "c", "d e f"])
    assert [d.index for d in many.data] == [0, 1, 2]
    assert all(d.embedding for d in many.data)
    assert requests_to(mock, PROVIDERS[name][2]), "the upstream was called"


@pytest.mark.parametrize("name", PROVIDERS)
def test_float_and_base64_agree(client, name):
    f = client.embeddings.create(model=name, input=["x y", "z"], encoding_format="float")
    b = client.embeddings.create(model=name, input=["x y", "z"], encoding_format="base64")
    for fd, bd in zip(f.data, b.data):
        assert isinstance(fd.embedding, list)
        assert isinstance(bd.embedding, str), "base64 asked, base64 answered"
        assert floats(bd.embedding) == pytest.approx(fd.embedding, rel=1e-6)


@pytest.mark.parametrize("name", PROVIDERS)
def test_token_arrays(client, mock, name):
    path, takes = PROVIDERS[name][2], PROVIDERS[name][3]
    before = len(requests_to(mock, path))
    if takes:
        e = client.embeddings.create(model=name, input=[[1, 2, 3], [4, 5]])
        assert len(e.data) >= 1
        assert requests_to(mock, path)[-1]["body"]["input"] == [[1, 2, 3], [4, 5]]
    else:
        with pytest.raises(openai.BadRequestError) as err:
            client.embeddings.create(model=name, input=[[1, 2, 3]])
        assert "token" in str(err.value).lower() or "string" in str(err.value).lower(), err.value
        assert len(requests_to(mock, path)) == before, "refused before any upstream call"


@pytest.mark.parametrize("name", [n for n, p in PROVIDERS.items() if p[4]])
def test_dimensions_reach_the_upstream(client, mock, name):
    path, field = PROVIDERS[name][2], PROVIDERS[name][4]
    client.embeddings.create(model=name, input="hi", dimensions=256, encoding_format="float")
    body = requests_to(mock, path)[-1]["body"]
    assert body.get(field) == 256, body


@pytest.mark.parametrize("name", sorted(INPUT_TYPE))
def test_input_type_is_passed(client, mock, name):
    value = INPUT_TYPE[name]
    client.embeddings.create(model=name, input="hi", extra_body={"input_type": value})
    assert requests_to(mock, PROVIDERS[name][2])[-1]["body"]["input_type"] == value
