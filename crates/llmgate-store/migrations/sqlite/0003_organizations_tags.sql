-- Organizations, their members, and tags: the SQLite mirror of LiteLLM's tables.
CREATE TABLE IF NOT EXISTS "LiteLLM_OrganizationTable" (
    "organization_id" TEXT NOT NULL,
    "organization_alias" TEXT NOT NULL,
    "budget_id" TEXT NOT NULL,
    "metadata" TEXT NOT NULL DEFAULT '{}',
    "models" TEXT,
    "spend" REAL NOT NULL DEFAULT 0.0,
    "model_spend" TEXT NOT NULL DEFAULT '{}',
    "created_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    "created_by" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    "updated_by" TEXT NOT NULL,
    "object_permission_id" TEXT,
    CONSTRAINT "LiteLLM_OrganizationTable_pkey" PRIMARY KEY ("organization_id")
);

CREATE TABLE IF NOT EXISTS "LiteLLM_OrganizationMembership" (
    "user_id" TEXT NOT NULL,
    "organization_id" TEXT NOT NULL,
    "user_role" TEXT,
    "spend" REAL DEFAULT 0.0,
    "budget_id" TEXT,
    "created_at" TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    "updated_at" TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    CONSTRAINT "LiteLLM_OrganizationMembership_pkey" PRIMARY KEY ("user_id", "organization_id")
);

CREATE TABLE IF NOT EXISTS "LiteLLM_TagTable" (
    "tag_name" TEXT NOT NULL,
    "description" TEXT,
    "models" TEXT,
    "model_info" TEXT,
    "spend" REAL NOT NULL DEFAULT 0.0,
    "budget_id" TEXT,
    "created_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    "created_by" TEXT,
    "updated_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    CONSTRAINT "LiteLLM_TagTable_pkey" PRIMARY KEY ("tag_name")
);
