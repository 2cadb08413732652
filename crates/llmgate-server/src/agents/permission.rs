//! Which agents a caller may use, as LiteLLM's `AgentRequestHandler` decides it: the key's
//! `object_permission` (its `agents` and `agent_access_groups`) and its team's; a team that
//! restricts and a key that restricts meet in their intersection, a key without its own list
//! inherits its team's, and no list anywhere allows every agent. The master key and proxy
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
    let team_ids = match &key.row.team_id {
        Some(t) => {
            let team = gov.keys.teams.get(store, t).await.map_err(unavailable)?;
            let id = team.and_then(|t| t.row.object_permission_id.clone());
            ids(store, agents, id.as_deref()).await?
        }
        None => HashSet::new(),
    };
    Ok(Allowed(match (key_ids.is_empty(), team_ids.is_empty()) {
        (true, true) => None,
        (false, true) => Some(key_ids),
        (true, false) => Some(team_ids),
        (false, false) => Some(key_ids.intersection(&team_ids).cloned().collect()),
    }))
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
