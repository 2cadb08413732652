-- LiteLLM's per-object permissions (agents, MCP servers, vector stores a key or team may use);
-- keys and teams point at a row by `object_permission_id`. Arrays and JSON as JSON text.
CREATE TABLE IF NOT EXISTS "LiteLLM_ObjectPermissionTable" (
    "object_permission_id" TEXT NOT NULL,
    "mcp_servers" TEXT,
    "mcp_access_groups" TEXT,
    "mcp_tool_permissions" TEXT,
    "vector_stores" TEXT,
    "agents" TEXT,
    "agent_access_groups" TEXT,
    CONSTRAINT "LiteLLM_ObjectPermissionTable_pkey" PRIMARY KEY ("object_permission_id")
);

-- LiteLLM's agent registry (`POST /v1/agents`).
CREATE TABLE IF NOT EXISTS "LiteLLM_AgentsTable" (
    "agent_id" TEXT NOT NULL,
    "agent_name" TEXT NOT NULL,
    "litellm_params" TEXT,
    "agent_card_params" TEXT NOT NULL,
    "static_headers" TEXT DEFAULT '{}',
    "extra_headers" TEXT,
    "agent_access_groups" TEXT,
    "object_permission_id" TEXT,
    "spend" REAL NOT NULL DEFAULT 0.0,
    "created_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    "created_by" TEXT NOT NULL,
    "updated_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    "updated_by" TEXT NOT NULL,
    CONSTRAINT "LiteLLM_AgentsTable_pkey" PRIMARY KEY ("agent_id")
);
CREATE UNIQUE INDEX IF NOT EXISTS "LiteLLM_AgentsTable_agent_name_key" ON "LiteLLM_AgentsTable"("agent_name");
