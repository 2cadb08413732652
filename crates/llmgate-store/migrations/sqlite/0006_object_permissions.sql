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
