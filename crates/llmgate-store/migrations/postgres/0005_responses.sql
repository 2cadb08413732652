-- llmgate's own table (LiteLLM has none): stored /v1/responses answers, so that a follow-up naming
-- `previous_response_id` continues the conversation on any provider.
CREATE TABLE IF NOT EXISTS "LLMGate_ResponsesTable" (
    "response_id" TEXT NOT NULL,
    "api_key" TEXT NOT NULL,
    "model" TEXT,
    "previous_response_id" TEXT,
    "context" JSONB NOT NULL,
    "input_items" JSONB NOT NULL,
    "response" JSONB NOT NULL,
    "created_at" TIMESTAMP(3) NOT NULL DEFAULT CURRENT_TIMESTAMP,
    CONSTRAINT "LLMGate_ResponsesTable_pkey" PRIMARY KEY ("response_id")
);
