-- End users (the request's `user`): the SQLite mirror of LiteLLM's table.
CREATE TABLE IF NOT EXISTS "LiteLLM_EndUserTable" (
    "user_id" TEXT NOT NULL,
    "alias" TEXT,
    "spend" REAL NOT NULL DEFAULT 0.0,
    "allowed_model_region" TEXT,
    "default_model" TEXT,
    "budget_id" TEXT,
    "blocked" INTEGER NOT NULL DEFAULT 0,
    "object_permission_id" TEXT,
    "models" TEXT DEFAULT '[]',
    CONSTRAINT "LiteLLM_EndUserTable_pkey" PRIMARY KEY ("user_id")
);
