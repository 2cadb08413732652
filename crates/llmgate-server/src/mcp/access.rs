//! Which MCP servers (and tools) a caller may use, as LiteLLM decides it: the master key and
//! proxy admins every server; a virtual key the servers its `object_permission` grants
//! (`mcp_servers`, or `mcp_access_groups` naming servers' `access_groups`), narrowed to its
//! team's grant when both have one, its team's when only the team has one, none when neither
//! has (`no-mcp-servers` in a grant: none at all) — plus every `allow_all_keys` server.
//! An organization's grant (the key's, else its team's organization) caps that set, or is the
//! set when neither the key nor the team grants (LiteLLM's org ceiling).
//! `mcp_tool_permissions` (`{"server": ["tool", ...]}`) narrow a server to some tools;
//! `mcp_toolsets` add each toolset's (server, tool) pairs to the grant (as LiteLLM's
//! `_merge_toolset_permissions` does, except that a server the grant names whole stays whole);
//! `blocked_tools` of any of the three grants hide a tool everywhere.

use std::collections::{HashMap, HashSet};

use llmgate_store::mcp_toolsets::McpToolsetRow;
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

/// A toolset's pairs by server name (a pair names its server by stored id or by name; pairs of
/// servers the gateway does not have are left out): per server, the bare tools.
pub fn toolset_tools(t: &McpToolsetRow, specs: &[&ServerSpec]) -> HashMap<String, HashSet<String>> {
    let mut out: HashMap<String, HashSet<String>> = HashMap::new();
    for pair in &t.tools {
        let Some(s) = specs
            .iter()
            .find(|s| s.server_id == pair.server_id)
            .or_else(|| specs.iter().find(|s| s.name == pair.server_id))
        else {
            continue;
        };
        let set = out.entry(s.name.clone()).or_default();
        // Stored bare, as LiteLLM's UI writes it; `<server>-<tool>` means the same tool.
        if let Some(bare) = pair.tool_name.strip_prefix(&s.prefix()) {
            set.insert(bare.to_string());
        }
        set.insert(pair.tool_name.clone());
    }
    out
}

/// What one grant gives: its servers (None when it names none) and per-server tool lists.
struct Grant {
    servers: Option<HashSet<String>>,
    tools: HashMap<String, HashSet<String>>,
}

fn grant_of(p: &ObjectPermissionRow, specs: &[&ServerSpec], toolsets: &[McpToolsetRow]) -> Grant {
    let mut servers = granted(p, specs);
    let mut tools = tool_lists(p, specs);
    let blocked_all = p.mcp_servers.iter().any(|s| s == NO_SERVERS);
    if !p.mcp_toolsets.is_empty() && !blocked_all {
        // Toolsets named but all gone still make a grant: an empty one, not the team's.
        let own = servers.clone().unwrap_or_default();
        let set = servers.get_or_insert_with(HashSet::new);
        for t in toolsets.iter().filter(|t| {
            p.mcp_toolsets
                .iter()
                .any(|g| *g == t.toolset_id || *g == t.toolset_name)
        }) {
            for (server, names) in toolset_tools(t, specs) {
                if own.contains(&server) && !tools.contains_key(&server) {
                    continue;
                }
                set.insert(server.clone());
                tools.entry(server).or_default().extend(names);
            }
        }
    }
    Grant { servers, tools }
}

/// The key's, its team's and its organization's grants; None for the master key and admins.
type Grants = (
    Option<ObjectPermissionRow>,
    Option<ObjectPermissionRow>,
    Option<ObjectPermissionRow>,
);

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
    toolsets: &[McpToolsetRow],
) -> Result<Allowed, GatewayError> {
    let Some((key, team, org)) = grants(state, ctx).await? else {
        return Ok(Allowed::All);
    };
    Ok(combine(
        key.as_ref(),
        team.as_ref(),
        org.as_ref(),
        specs,
        toolsets,
    ))
}

/// What `ctx` may use through the toolset's own endpoint: exactly its pairs (less the grants'
/// `blocked_tools`), when the caller is an admin or its key's or team's grant lists the
/// toolset (by id, as LiteLLM's UI grants it, or by name); else a 403.
pub async fn toolset(
    state: &AppState,
    ctx: &AuthContext,
    t: &McpToolsetRow,
    specs: &[&ServerSpec],
) -> Result<Allowed, GatewayError> {
    let tools = toolset_tools(t, specs);
    let servers = tools.keys().cloned().collect();
    let Some((key, team, org)) = grants(state, ctx).await? else {
        return Ok(Allowed::Only {
            servers,
            tools,
            blocked: HashSet::new(),
        });
    };
    let lists = |p: &Option<ObjectPermissionRow>| {
        p.as_ref().is_some_and(|p| {
            p.mcp_toolsets
                .iter()
                .any(|g| *g == t.toolset_id || *g == t.toolset_name)
        })
    };
    if !lists(&key) && !lists(&team) {
        return Err(GatewayError::Forbidden {
            message: format!(
                "API key does not have access to toolset '{}'.",
                t.toolset_name
            ),
            kind: "mcp_toolset_access_denied",
        });
    }
    let blocked = [&key, &team, &org]
        .into_iter()
        .flatten()
        .flat_map(|p| p.blocked_tools.iter().cloned())
        .collect();
    Ok(Allowed::Only {
        servers,
        tools,
        blocked,
    })
}

/// The toolsets (ids or names, as granted) `ctx`'s key and team are granted; None for the
/// master key and admins, who may use every toolset.
pub async fn granted_toolsets(
    state: &AppState,
    ctx: &AuthContext,
) -> Result<Option<Vec<String>>, GatewayError> {
    let Some((key, team, _)) = grants(state, ctx).await? else {
        return Ok(None);
    };
    Ok(Some(
        [key, team]
            .into_iter()
            .flatten()
            .flat_map(|p| p.mcp_toolsets)
            .collect(),
    ))
}

async fn grants(state: &AppState, ctx: &AuthContext) -> Result<Option<Grants>, GatewayError> {
    let Some(key) = ctx.key.as_ref().filter(|_| !ctx.is_admin()) else {
        return Ok(None);
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
    Ok(Some((key_grant, team_grant, org_grant)))
}

/// A virtual key's access from its own grant, its team's and its organization's: key ∩ team
/// (either alone when the other has none); an organization's grant caps that, or is the set
/// when neither the key nor the team has one (LiteLLM's org ceiling).
fn combine(
    key: Option<&ObjectPermissionRow>,
    team: Option<&ObjectPermissionRow>,
    org: Option<&ObjectPermissionRow>,
    specs: &[&ServerSpec],
    toolsets: &[McpToolsetRow],
) -> Allowed {
    let [key_g, team_g, org_g] = [key, team, org].map(|p| p.map(|p| grant_of(p, specs, toolsets)));
    let k = key_g.as_ref().and_then(|g| g.servers.clone());
    let t = team_g.as_ref().and_then(|g| g.servers.clone());
    let lower = k.is_some() || t.is_some();
    let mut servers = match (k, t) {
        (Some(k), Some(t)) => k.intersection(&t).cloned().collect(),
        (Some(only), None) | (None, Some(only)) => only,
        (None, None) => HashSet::new(),
    };
    if let Some(o) = org_g.as_ref().and_then(|g| g.servers.clone()) {
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
    let mut tools = key_g.map(|g| g.tools).unwrap_or_default();
    for upper in [team_g, org_g].into_iter().flatten() {
        for (server, upper_tools) in upper.tools {
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
        assert_eq!(servers(&combine(None, None, None, &s, &[])), ["pub"]);
        // The key's grant, by name and by access group.
        let k = grant(&["a"], &["dev"], none.clone());
        assert_eq!(
            servers(&combine(Some(&k), None, None, &s, &[])),
            ["a", "b", "pub"]
        );
        // Only the team grants: the key inherits it.
        let t = grant(&["a", "c"], &[], none.clone());
        assert_eq!(
            servers(&combine(None, Some(&t), None, &s, &[])),
            ["a", "c", "pub"]
        );
        // Both: the intersection.
        assert_eq!(
            servers(&combine(Some(&k), Some(&t), None, &s, &[])),
            ["a", "pub"]
        );
        // The sentinel blocks every granted server.
        let blocked = grant(&["no-mcp-servers"], &[], none);
        assert_eq!(
            servers(&combine(Some(&blocked), Some(&t), None, &s, &[])),
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
            servers(&combine(None, None, Some(&org), &s, &[])),
            ["a", "c", "pub"]
        );
        // A key grant: capped by the organization's.
        let k = grant(&["a", "b"], &[], none.clone());
        assert_eq!(
            servers(&combine(Some(&k), None, Some(&org), &s, &[])),
            ["a", "pub"]
        );
        let mut blocking = grant(&["a"], &[], none);
        blocking.blocked_tools = vec!["drop".into(), "pub-x".into()];
        let a = combine(Some(&blocking), None, None, &s, &[]);
        assert!(!a.tool("a", "drop") && a.tool("a", "keep"));
        assert!(!a.tool("pub", "x") && !a.tool("pub", "drop") && a.tool("pub", "y"));
    }

    #[test]
    fn tool_permissions_narrow_and_intersect() {
        let owned = specs();
        let s: Vec<&ServerSpec> = owned.iter().collect();
        let k = grant(&["a"], &[], json!({"a": ["x", "y"]}));
        let t = grant(&["a"], &[], json!({"a": ["y", "z"]}));
        let both = combine(Some(&k), Some(&t), None, &s, &[]);
        assert!(both.tool("a", "y") && !both.tool("a", "x") && !both.tool("a", "z"));
        let only_key = combine(Some(&k), None, None, &s, &[]);
        assert!(only_key.tool("a", "x") && !only_key.tool("a", "z") && !only_key.tool("b", "x"));
        assert!(only_key.tool("pub", "anything"));
    }

    fn toolset(id: &str, pairs: &[(&str, &str)]) -> McpToolsetRow {
        McpToolsetRow {
            toolset_id: id.into(),
            toolset_name: format!("{id}-name"),
            tools: pairs
                .iter()
                .map(|(s, t)| llmgate_store::mcp_toolsets::ToolsetTool {
                    server_id: s.to_string(),
                    tool_name: t.to_string(),
                })
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn toolsets_add_their_pairs_to_a_grant() {
        let owned = specs();
        let s: Vec<&ServerSpec> = owned.iter().collect();
        let sets = [
            toolset("ts1", &[("a", "x"), ("b", "b-y"), ("gone", "z")]),
            toolset("ts2", &[("c", "w")]),
        ];
        let mut k = grant(&[], &[], json!(null));
        k.mcp_toolsets = vec!["ts1".into()];
        let a = combine(Some(&k), None, None, &s, &sets);
        // Exactly the toolset's pairs (a stored `<server>-<tool>` is the bare tool), plus the
        // public server; an unknown server's pair is left out.
        assert_eq!(servers(&a), ["a", "b", "pub"]);
        assert!(a.tool("a", "x") && !a.tool("a", "other"));
        assert!(a.tool("b", "y") && !a.tool("b", "x") && !a.tool("c", "w"));
        // A server the grant names whole stays whole; by name works as by id.
        let mut whole = grant(&["a"], &[], json!(null));
        whole.mcp_toolsets = vec!["ts2-name".into(), "ts1".into()];
        let w = combine(Some(&whole), None, None, &s, &sets);
        assert!(w.tool("a", "anything") && w.tool("c", "w") && !w.tool("c", "v"));
        // The team's toolset grant is inherited, and intersects with the key's.
        let mut team = grant(&[], &[], json!(null));
        team.mcp_toolsets = vec!["ts2".into()];
        assert_eq!(
            servers(&combine(None, Some(&team), None, &s, &sets)),
            ["c", "pub"]
        );
        assert_eq!(
            servers(&combine(Some(&k), Some(&team), None, &s, &sets)),
            ["pub"]
        );
        // A toolset that no longer exists grants nothing (not the team's servers).
        let mut stale = grant(&[], &[], json!(null));
        stale.mcp_toolsets = vec!["deleted".into()];
        let t = grant(&["a", "c"], &[], json!(null));
        assert_eq!(
            servers(&combine(Some(&stale), Some(&t), None, &s, &sets)),
            ["pub"]
        );
    }
}
