//! A non-admin's `/key/generate`: what an internal user may make for itself.

use llmgate_store::Store;

use super::KeyFields;
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::routes::admin::db;
use crate::state::AppState;

/// A non-admin's `/key/generate`, as LiteLLM allows it: an internal user makes keys for
/// itself, and for a team it admins (or whose `team_member_permissions` list the route).
pub(super) async fn check<'a>(
    state: &'a AppState,
    auth: &AuthContext,
    fields: &mut KeyFields,
) -> Result<&'a Store, GatewayError> {
    let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
    let refuse = |why: &str| GatewayError::Forbidden {
        message: format!("You are not allowed to call /key/generate: {why}"),
        kind: "auth_error",
    };
    // Keys of no user, or of a user who is not an internal user, are refused as LiteLLM's
    // route check refuses them (401); a user overstepping its own keys is 403.
    let not_allowed = || {
        GatewayError::Auth(
            "Authentication Error, only the proxy admin or an internal user can call /key/generate"
                .into(),
        )
    };
    let uid = auth.user_id().ok_or_else(not_allowed)?;
    let user = state.gov.keys.users.get(store, uid).await.map_err(db)?;
    let role = user.as_ref().and_then(|u| u.row.user_role.clone());
    if role.as_deref() != Some("internal_user") {
        return Err(not_allowed());
    }
    if fields.user_id.as_deref().is_some_and(|u| u != uid) {
        return Err(refuse("a user makes keys only for itself"));
    }
    fields.user_id = Some(uid.to_string());
    if let Some(tid) = &fields.team_id {
        let team = state.gov.keys.teams.get(store, tid).await.map_err(db)?;
        let may = team.is_some_and(|t| {
            t.row.admins.iter().any(|a| a == uid)
                || (t.row.members.iter().any(|m| m == uid)
                    && t.row
                        .team_member_permissions
                        .iter()
                        .any(|p| p == "/key/generate"))
        });
        if !may {
            return Err(refuse(
                "only the team's admins (or members the team permits) make its keys",
            ));
        }
    }
    Ok(store)
}
