-- LiteLLM's MCP server registry (`/v1/mcp/server`). Arrays and JSON as JSON text.
CREATE TABLE IF NOT EXISTS "LiteLLM_MCPServerTable" (
    "server_id" TEXT NOT NULL,
    "server_name" TEXT,
    "alias" TEXT,
    "description" TEXT,
    "url" TEXT,
    "transport" TEXT NOT NULL DEFAULT 'sse',
    "auth_type" TEXT,
    "credentials" TEXT DEFAULT '{}',
    "created_at" TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    "created_by" TEXT,
    "updated_at" TEXT DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    "updated_by" TEXT,
    "mcp_info" TEXT DEFAULT '{}',
    "mcp_access_groups" TEXT,
    "allowed_tools" TEXT,
    "extra_headers" TEXT,
    "static_headers" TEXT DEFAULT '{}',
    "command" TEXT,
    "args" TEXT,
    "env" TEXT DEFAULT '{}',
    "token_url" TEXT,
    "allow_all_keys" BOOLEAN NOT NULL DEFAULT false,
    "approval_status" TEXT DEFAULT 'active',
    CONSTRAINT "LiteLLM_MCPServerTable_pkey" PRIMARY KEY ("server_id")
);

-- A grant's tools blocked everywhere (LiteLLM's `blocked_tools`).
ALTER TABLE "LiteLLM_ObjectPermissionTable" ADD COLUMN "blocked_tools" TEXT;
