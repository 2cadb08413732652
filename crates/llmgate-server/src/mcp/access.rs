//! Which MCP servers (and tools) a caller may use, as LiteLLM decides it: the master key and
//! proxy admins every server; a virtual key the servers its `object_permission` grants
//! (`mcp_servers`, or `mcp_access_groups` naming servers' `access_groups`), narrowed to its
//! team's grant when both have one, its team's when only the team has one, none when neither
//! has (`no-mcp-servers` in a grant: none at all) — plus every `allow_all_keys` server.
//! `mcp_tool_permissions` (`{"server": ["tool", ...]}`) narrow a server to some tools.

use std::collections::{HashMap, HashSet};

use llmgate_store::object_permissions::ObjectPermissionRow;

use super::config::ServerSpec;
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::state::AppState;

/// LiteLLM's sentinel for a grant that blocks all MCP access.
const NO_SERVERS: &str = "no-mcp-servers";

#[derive(Debug, Clone)]
pub enum Allowed {
    All,
    Only {
        servers: HashSet<String>,
        /// Per server, the bare tool names allowed (absent: every tool).
        tools: HashMap<String, HashSet<String>>,
    },
}

impl Allowed {
    pub fn server(&self, name: &str) -> bool {
        match self {
            Allowed::All => true,
            Allowed::Only { servers, .. } => servers.contains(name),
        }
    }

    pub fn tool(&self, server: &str, tool: &str) -> bool {
        match self {
            Allowed::All => true,
            Allowed::Only { servers, tools } => {
                servers.contains(server) && tools.get(server).is_none_or(|t| t.contains(tool))
            }
        }
    }
}

/// One grant (a key's or a team's): the servers it names, None when it names none.
fn granted(p: &ObjectPermissionRow, specs: &[&ServerSpec]) -> Option<HashSet<String>> {
    if p.mcp_servers.is_empty() && p.mcp_access_groups.is_empty() {
        return None;
    }
    if p.mcp_servers.iter().any(|s| s == NO_SERVERS) {
        return Some(HashSet::new());
    }
    let mut out: HashSet<String> = p.mcp_servers.iter().cloned().collect();
    for s in specs {
        if s.access_groups
            .iter()
            .any(|g| p.mcp_access_groups.contains(g))
        {
            out.insert(s.name.clone());
        }
    }
    Some(out)
}

fn tool_lists(p: &ObjectPermissionRow) -> HashMap<String, HashSet<String>> {
    let Some(m) = p.mcp_tool_permissions.as_object() else {
        return HashMap::new();
    };
    m.iter()
        .filter_map(|(server, tools)| {
            let tools = tools.as_array()?;
            Some((
                server.clone(),
                tools
                    .iter()
                    .filter_map(|t| t.as_str().map(str::to_string))
                    .collect(),
            ))
        })
        .collect()
}

async fn permission(
    state: &AppState,
    id: Option<&str>,
) -> Result<Option<ObjectPermissionRow>, GatewayError> {
    let (Some(id), Some(store)) = (id, state.gov.store.as_ref()) else {
        return Ok(None);
    };
    store
        .get_object_permission(id)
        .await
        .map_err(GatewayError::store)
}

/// What `ctx` may use among `specs`. Reads the key's and team's grants (the MCP routes only:
/// the LLM request path never comes here).
pub async fn allowed(
    state: &AppState,
    ctx: &AuthContext,
    specs: &[&ServerSpec],
) -> Result<Allowed, GatewayError> {
    let Some(key) = ctx.key.as_ref().filter(|_| !ctx.is_admin()) else {
        return Ok(Allowed::All);
    };
    let key_grant = permission(state, key.row.object_permission_id.as_deref()).await?;
    let team_grant = match (&key.row.team_id, state.gov.store.as_ref()) {
        (Some(tid), Some(store)) => {
            let team = state
                .gov
                .keys
                .teams
                .get(store, tid)
                .await
                .map_err(GatewayError::store)?;
            let id = team.and_then(|t| t.row.object_permission_id.clone());
            permission(state, id.as_deref()).await?
        }
        _ => None,
    };
    Ok(combine(key_grant.as_ref(), team_grant.as_ref(), specs))
}

/// A virtual key's access from its own grant and its team's.
fn combine(
    key: Option<&ObjectPermissionRow>,
    team: Option<&ObjectPermissionRow>,
    specs: &[&ServerSpec],
) -> Allowed {
    let k = key.and_then(|p| granted(p, specs));
    let t = team.and_then(|p| granted(p, specs));
    let mut servers = match (k, t) {
        (Some(k), Some(t)) => k.intersection(&t).cloned().collect(),
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => HashSet::new(),
    };
    servers.extend(
        specs
            .iter()
            .filter(|s| s.allow_all_keys)
            .map(|s| s.name.clone()),
    );
    let mut tools = key.map(tool_lists).unwrap_or_default();
    for (server, team_tools) in team.map(tool_lists).unwrap_or_default() {
        match tools.get_mut(&server) {
            Some(mine) => mine.retain(|t| team_tools.contains(t)),
            None => {
                tools.insert(server, team_tools);
            }
        }
    }
    Allowed::Only { servers, tools }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn specs() -> Vec<ServerSpec> {
        super::super::config::parse(Some(&json!({
            "a": {"url": "http://a"}, "b": {"url": "http://b", "access_groups": ["dev"]},
            "c": {"url": "http://c"}, "pub": {"url": "http://p", "allow_all_keys": true},
        })))
        .unwrap()
    }

    fn grant(servers: &[&str], groups: &[&str], tools: serde_json::Value) -> ObjectPermissionRow {
        ObjectPermissionRow {
            object_permission_id: "p".into(),
            mcp_servers: servers.iter().map(|s| s.to_string()).collect(),
            mcp_access_groups: groups.iter().map(|s| s.to_string()).collect(),
            mcp_tool_permissions: tools,
            ..Default::default()
        }
    }

    fn servers(a: &Allowed) -> Vec<String> {
        let Allowed::Only { servers, .. } = a else {
            panic!("all")
        };
        let mut v: Vec<String> = servers.iter().cloned().collect();
        v.sort();
        v
    }

    #[test]
    fn key_and_team_grants_combine_as_litellm_does() {
        let owned = specs();
        let s: Vec<&ServerSpec> = owned.iter().collect();
        let none = json!(null);
        // Neither grants: only the public server.
        assert_eq!(servers(&combine(None, None, &s)), ["pub"]);
        // The key's grant, by name and by access group.
        let k = grant(&["a"], &["dev"], none.clone());
        assert_eq!(servers(&combine(Some(&k), None, &s)), ["a", "b", "pub"]);
        // Only the team grants: the key inherits it.
        let t = grant(&["a", "c"], &[], none.clone());
        assert_eq!(servers(&combine(None, Some(&t), &s)), ["a", "c", "pub"]);
        // Both: the intersection.
        assert_eq!(servers(&combine(Some(&k), Some(&t), &s)), ["a", "pub"]);
        // The sentinel blocks every granted server.
        let blocked = grant(&["no-mcp-servers"], &[], none);
        assert_eq!(servers(&combine(Some(&blocked), Some(&t), &s)), ["pub"]);
    }

    #[test]
    fn tool_permissions_narrow_and_intersect() {
        let owned = specs();
        let s: Vec<&ServerSpec> = owned.iter().collect();
        let k = grant(&["a"], &[], json!({"a": ["x", "y"]}));
        let t = grant(&["a"], &[], json!({"a": ["y", "z"]}));
        let both = combine(Some(&k), Some(&t), &s);
        assert!(both.tool("a", "y") && !both.tool("a", "x") && !both.tool("a", "z"));
        let only_key = combine(Some(&k), None, &s);
        assert!(only_key.tool("a", "x") && !only_key.tool("a", "z") && !only_key.tool("b", "x"));
        assert!(only_key.tool("pub", "anything"));
    }
}
