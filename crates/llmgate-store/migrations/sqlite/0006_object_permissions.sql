-- LiteLLM's object permissions (MCP servers, vector stores, agents a key or team may reach),
-- linked from each owner's "object_permission_id"; created only where missing.
CREATE TABLE IF NOT EXISTS "LiteLLM_ObjectPermissionTable" (
    "object_permission_id" TEXT NOT NULL,
    "mcp_servers" TEXT DEFAULT '[]',
    "mcp_access_groups" TEXT DEFAULT '[]',
    "mcp_tool_permissions" TEXT,
    "vector_stores" TEXT DEFAULT '[]',
    "agents" TEXT DEFAULT '[]',
    "agent_access_groups" TEXT DEFAULT '[]',
    CONSTRAINT "LiteLLM_ObjectPermissionTable_pkey" PRIMARY KEY ("object_permission_id")
);
