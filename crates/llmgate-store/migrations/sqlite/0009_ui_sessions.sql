-- llmgate's own table (LiteLLM keeps its UI sessions as keys of the `litellm-dashboard` team):
-- dashboard sessions, shared by every instance on the database. `session_id` is the SHA-256 of
-- the cookie's value, never the value itself.
CREATE TABLE IF NOT EXISTS "LLMGate_UISessionTable" (
    "session_id" TEXT NOT NULL,
    "csrf_token" TEXT NOT NULL,
    "user_role" TEXT NOT NULL,
    "user_id" TEXT,
    "key_token" TEXT,
    "expires" TEXT NOT NULL,
    "created_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    CONSTRAINT "LLMGate_UISessionTable_pkey" PRIMARY KEY ("session_id")
);
