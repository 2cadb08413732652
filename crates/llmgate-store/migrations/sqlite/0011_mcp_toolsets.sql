-- LiteLLM's MCP toolsets (`/v1/mcp/toolset`): named sets of {server_id, tool_name} pairs.
-- JSON as JSON text.
CREATE TABLE IF NOT EXISTS "LiteLLM_MCPToolsetTable" (
    "toolset_id" TEXT NOT NULL,
    "toolset_name" TEXT NOT NULL,
    "description" TEXT,
    "tools" TEXT NOT NULL DEFAULT '[]',
    "created_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    "created_by" TEXT,
    "updated_at" TEXT NOT NULL DEFAULT (strftime('%Y-%m-%d %H:%M:%f', 'now')),
    "updated_by" TEXT,
    CONSTRAINT "LiteLLM_MCPToolsetTable_pkey" PRIMARY KEY ("toolset_id")
);
CREATE UNIQUE INDEX IF NOT EXISTS "LiteLLM_MCPToolsetTable_toolset_name_key" ON "LiteLLM_MCPToolsetTable"("toolset_name");

-- The toolsets a key, team or organization is granted (their ids).
ALTER TABLE "LiteLLM_ObjectPermissionTable" ADD COLUMN "mcp_toolsets" TEXT;
