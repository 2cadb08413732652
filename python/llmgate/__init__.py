"""llmgate: LiteLLM's Python SDK calling convention over llmgate's Rust engine, in-process.

    from llmgate import completion
    resp = completion(model="openai/gpt-4o", messages=[{"role": "user", "content": "Hi"}])
    print(resp.choices[0].message.content, resp._hidden_params["response_cost"])
"""
from . import exceptions
from ._llmgate import __version__
from .exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    AuthenticationError,
    BadGatewayError,
    BadRequestError,
    BudgetExceededError,
    ContentPolicyViolationError,
    ContextWindowExceededError,
    InternalServerError,
    NotFoundError,
    PermissionDeniedError,
    RateLimitError,
    RejectedRequestError,
    ServiceUnavailableError,
    Timeout,
    UnprocessableEntityError,
    UnsupportedParamsError,
)
from .main import (
    acompletion,
    aembedding,
    arerank,
    atext_completion,
    completion,
    embedding,
    rerank,
    text_completion,
)
from .router import Router
from .streaming import CustomStreamWrapper, stream_chunk_builder
from .types import (
    Choices,
    Delta,
    EmbeddingResponse,
    Message,
    ModelResponse,
    ModelResponseStream,
    RerankResponse,
    StreamingChoices,
    TextCompletionResponse,
    Usage,
)
from .utils import completion_cost, cost_per_token, get_model_info, token_counter

# LiteLLM's module-wide settings read by every call: drop unsupported params, retries, and the
# whole-call timeout in seconds (None: the engine's defaults).
drop_params = False
num_retries = None
request_timeout = None
