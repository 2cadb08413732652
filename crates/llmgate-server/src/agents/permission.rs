//! Which agents a caller may use, as LiteLLM's `AgentRequestHandler` decides it: the key's
//! `object_permission` (its `agents` and `agent_access_groups`) and its team's; a team that
//! restricts and a key that restricts meet in their intersection, a key without its own list
//! inherits its team's, and no list anywhere allows every agent. The key's organization (else
//! its team's) caps that, or is the list when neither has one. The master key and proxy
//! admins see every agent.

use std::collections::HashSet;

use llmgate_store::object_permissions::ObjectPermissionRow;
use llmgate_store::Store;

use super::{Agent, Agents};
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::governance::Governance;

/// The agent ids a caller may use; `None`: every agent.
pub struct Allowed(Option<HashSet<String>>);

impl Allowed {
    pub fn admits(&self, agent: &Agent) -> bool {
        self.0
            .as_ref()
            .is_none_or(|ids| ids.contains(&agent.agent_id))
    }
}

/// What `auth` may use among `agents`. Reads the key's and its team's permission rows (one
/// query each, on agent routes only; keys without `object_permission` cost none).
pub async fn allowed(
    gov: &Governance,
    agents: &Agents,
    auth: &AuthContext,
) -> Result<Allowed, GatewayError> {
    let (Some(key), Some(store)) = (&auth.key, &gov.store) else {
        return Ok(Allowed(None));
    };
    if auth.is_admin() {
        return Ok(Allowed(None));
    }
    let key_ids = ids(store, agents, key.row.object_permission_id.as_deref()).await?;
    let team = match &key.row.team_id {
        Some(t) => gov.keys.teams.get(store, t).await.map_err(unavailable)?,
        None => None,
    };
    let team_ids = match &team {
        Some(t) => ids(store, agents, t.row.object_permission_id.as_deref()).await?,
        None => HashSet::new(),
    };
    // The key's organization, else its team's, as for MCP servers.
    let org_id = key
        .row
        .organization_id
        .clone()
        .or_else(|| team.as_ref().and_then(|t| t.row.organization_id.clone()));
    let org_ids = match org_id {
        Some(o) => {
            let org = gov.keys.orgs.get(store, &o).await.map_err(unavailable)?;
            let id = org.and_then(|o| o.row.object_permission_id.clone());
            ids(store, agents, id.as_deref()).await?
        }
        None => HashSet::new(),
    };
    Ok(Allowed(combine(key_ids, team_ids, org_ids)))
}

/// Key ∩ team (either alone when the other grants none); an organization's grant caps that,
/// or is the set when neither grants (LiteLLM's organization ceiling, as for MCP servers);
/// None: no grant anywhere, every agent.
fn combine(
    key: HashSet<String>,
    team: HashSet<String>,
    org: HashSet<String>,
) -> Option<HashSet<String>> {
    let lower = match (key.is_empty(), team.is_empty()) {
        (true, true) => None,
        (false, true) => Some(key),
        (true, false) => Some(team),
        (false, false) => Some(key.intersection(&team).cloned().collect()),
    };
    match (lower, org.is_empty()) {
        (lower, true) => lower,
        (None, false) => Some(org),
        (Some(l), false) => Some(l.intersection(&org).cloned().collect()),
    }
}

/// The agent ids a permission row grants: its agents (by id or name) and its access groups'.
async fn ids(
    store: &Store,
    agents: &Agents,
    id: Option<&str>,
) -> Result<HashSet<String>, GatewayError> {
    let Some(id) = id else {
        return Ok(HashSet::new());
    };
    let Some(row) = store.get_object_permission(id).await.map_err(unavailable)? else {
        return Ok(HashSet::new());
    };
    Ok(grants(agents, &row))
}

fn grants(agents: &Agents, row: &ObjectPermissionRow) -> HashSet<String> {
    let mut out: HashSet<String> = HashSet::new();
    for a in &row.agents {
        // LiteLLM stores ids; a name (what an admin writes by hand) names the same agent.
        match agents.find(a) {
            Some(agent) => out.insert(agent.agent_id.clone()),
            None => out.insert(a.clone()),
        };
    }
    for agent in agents.all() {
        if agent
            .access_groups
            .iter()
            .any(|g| row.agent_access_groups.contains(g))
        {
            out.insert(agent.agent_id.clone());
        }
    }
    out
}

fn unavailable(e: llmgate_store::StoreError) -> GatewayError {
    tracing::warn!(error = %e, "permission lookup failed");
    GatewayError::Unavailable("the key database is unavailable".into())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[&str]) -> HashSet<String> {
        ids.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn an_organization_grant_caps_or_sets() {
        let none = HashSet::new();
        assert_eq!(combine(none.clone(), none.clone(), none.clone()), None);
        assert_eq!(
            combine(none.clone(), none.clone(), set(&["a"])),
            Some(set(&["a"]))
        );
        assert_eq!(
            combine(set(&["a", "b"]), none.clone(), set(&["b", "c"])),
            Some(set(&["b"]))
        );
        assert_eq!(
            combine(set(&["a", "b"]), set(&["b"]), none.clone()),
            Some(set(&["b"]))
        );
        assert_eq!(
            combine(none.clone(), set(&["c"]), set(&["a"])),
            Some(set(&[]))
        );
    }
}
