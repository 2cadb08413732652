//! Which MCP servers (and tools) a caller may use, as LiteLLM decides it: the master key and
//! proxy admins every server; a virtual key the servers its `object_permission` grants
//! (`mcp_servers`, or `mcp_access_groups` naming servers' `access_groups`), narrowed to its
//! team's grant when both have one, its team's when only the team has one, none when neither
//! has (`no-mcp-servers` in a grant: none at all) — plus every `allow_all_keys` server.
//! An organization's grant (the key's, else its team's organization) caps that set, or is the
//! set when neither the key nor the team grants (LiteLLM's org ceiling).
//! `mcp_tool_permissions` (`{"server": ["tool", ...]}`) narrow a server to some tools;
//! `blocked_tools` of any of the three grants hide a tool everywhere.

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
        /// `blocked_tools` of the key's, team's and organization's grants: bare names (any
        /// server) or `<server>-<tool>`.
        blocked: HashSet<String>,
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
            Allowed::Only {
                servers,
                tools,
                blocked,
            } => {
                servers.contains(server)
                    && tools.get(server).is_none_or(|t| t.contains(tool))
                    && !blocked.contains(tool)
                    && !blocked.contains(&format!("{server}{}{tool}", super::config::SEPARATOR))
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
        if p.mcp_servers.contains(&s.server_id)
            || s.access_groups
                .iter()
                .any(|g| p.mcp_access_groups.contains(g))
        {
            out.insert(s.name.clone());
        }
    }
    Some(out)
}

/// `mcp_tool_permissions` by server name (a key may be a server's name or its id).
fn tool_lists(p: &ObjectPermissionRow, specs: &[&ServerSpec]) -> HashMap<String, HashSet<String>> {
    let Some(m) = p.mcp_tool_permissions.as_object() else {
        return HashMap::new();
    };
    m.iter()
        .filter_map(|(server, tools)| {
            let tools = tools.as_array()?;
            let name = specs
                .iter()
                .find(|s| &s.server_id == server)
                .map_or(server.clone(), |s| s.name.clone());
            Some((
                name,
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
    let team = match (&key.row.team_id, state.gov.store.as_ref()) {
        (Some(tid), Some(store)) => state
            .gov
            .keys
            .teams
            .get(store, tid)
            .await
            .map_err(GatewayError::store)?,
        _ => None,
    };
    let team_grant = permission(
        state,
        team.as_ref()
            .and_then(|t| t.row.object_permission_id.as_deref()),
    )
    .await?;
    // The key's organization, else its team's (LiteLLM's `org_id`).
    let org_id = key
        .row
        .organization_id
        .clone()
        .or_else(|| team.as_ref().and_then(|t| t.row.organization_id.clone()));
    let org_grant = match (org_id, state.gov.store.as_ref()) {
        (Some(oid), Some(store)) => {
            let org = state
                .gov
                .keys
                .orgs
                .get(store, &oid)
                .await
                .map_err(GatewayError::store)?;
            let id = org.and_then(|o| o.row.object_permission_id.clone());
            permission(state, id.as_deref()).await?
        }
        _ => None,
    };
    Ok(combine(
        key_grant.as_ref(),
        team_grant.as_ref(),
        org_grant.as_ref(),
        specs,
    ))
}

/// A virtual key's access from its own grant, its team's and its organization's: key ∩ team
/// (either alone when the other has none); an organization's grant caps that, or is the set
/// when neither the key nor the team has one (LiteLLM's org ceiling).
fn combine(
    key: Option<&ObjectPermissionRow>,
    team: Option<&ObjectPermissionRow>,
    org: Option<&ObjectPermissionRow>,
    specs: &[&ServerSpec],
) -> Allowed {
    let k = key.and_then(|p| granted(p, specs));
    let t = team.and_then(|p| granted(p, specs));
    let lower = k.is_some() || t.is_some();
    let mut servers = match (k, t) {
        (Some(k), Some(t)) => k.intersection(&t).cloned().collect(),
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => HashSet::new(),
    };
    if let Some(o) = org.and_then(|p| granted(p, specs)) {
        servers = if lower {
            servers.intersection(&o).cloned().collect()
        } else {
            o
        };
    }
    servers.extend(
        specs
            .iter()
            .filter(|s| s.allow_all_keys)
            .map(|s| s.name.clone()),
    );
    let mut tools = key.map(|p| tool_lists(p, specs)).unwrap_or_default();
    for upper in [team, org].into_iter().flatten() {
        for (server, upper_tools) in tool_lists(upper, specs) {
            match tools.get_mut(&server) {
                Some(mine) => mine.retain(|t| upper_tools.contains(t)),
                None => {
                    tools.insert(server, upper_tools);
                }
            }
        }
    }
    let blocked = [key, team, org]
        .into_iter()
        .flatten()
        .flat_map(|p| p.blocked_tools.iter().cloned())
        .collect();
    Allowed::Only {
        servers,
        tools,
        blocked,
    }
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
        assert_eq!(servers(&combine(None, None, None, &s)), ["pub"]);
        // The key's grant, by name and by access group.
        let k = grant(&["a"], &["dev"], none.clone());
        assert_eq!(
            servers(&combine(Some(&k), None, None, &s)),
            ["a", "b", "pub"]
        );
        // Only the team grants: the key inherits it.
        let t = grant(&["a", "c"], &[], none.clone());
        assert_eq!(
            servers(&combine(None, Some(&t), None, &s)),
            ["a", "c", "pub"]
        );
        // Both: the intersection.
        assert_eq!(
            servers(&combine(Some(&k), Some(&t), None, &s)),
            ["a", "pub"]
        );
        // The sentinel blocks every granted server.
        let blocked = grant(&["no-mcp-servers"], &[], none);
        assert_eq!(
            servers(&combine(Some(&blocked), Some(&t), None, &s)),
            ["pub"]
        );
    }

    #[test]
    fn an_organization_grant_caps_or_sets_and_blocked_tools_hide() {
        let owned = specs();
        let s: Vec<&ServerSpec> = owned.iter().collect();
        let none = json!(null);
        let org = grant(&["a", "c"], &[], none.clone());
        // No key or team grant: the organization's is the set.
        assert_eq!(
            servers(&combine(None, None, Some(&org), &s)),
            ["a", "c", "pub"]
        );
        // A key grant: capped by the organization's.
        let k = grant(&["a", "b"], &[], none.clone());
        assert_eq!(
            servers(&combine(Some(&k), None, Some(&org), &s)),
            ["a", "pub"]
        );
        let mut blocking = grant(&["a"], &[], none);
        blocking.blocked_tools = vec!["drop".into(), "pub-x".into()];
        let a = combine(Some(&blocking), None, None, &s);
        assert!(!a.tool("a", "drop") && a.tool("a", "keep"));
        assert!(!a.tool("pub", "x") && !a.tool("pub", "drop") && a.tool("pub", "y"));
    }

    #[test]
    fn tool_permissions_narrow_and_intersect() {
        let owned = specs();
        let s: Vec<&ServerSpec> = owned.iter().collect();
        let k = grant(&["a"], &[], json!({"a": ["x", "y"]}));
        let t = grant(&["a"], &[], json!({"a": ["y", "z"]}));
        let both = combine(Some(&k), Some(&t), None, &s);
        assert!(both.tool("a", "y") && !both.tool("a", "x") && !both.tool("a", "z"));
        let only_key = combine(Some(&k), None, None, &s);
        assert!(only_key.tool("a", "x") && !only_key.tool("a", "z") && !only_key.tool("b", "x"));
        assert!(only_key.tool("pub", "anything"));
    }
}
