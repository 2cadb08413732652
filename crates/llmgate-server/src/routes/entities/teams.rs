//! `/team/*`: teams and their members.

use super::*;

/// The fields of `/team/new` and `/team/update` we store (LiteLLM's `NewTeamRequest`,
/// `UpdateTeamRequest`).
#[derive(Deserialize, Default)]
struct TeamFields {
    team_id: Option<String>,
    team_alias: Option<String>,
    organization_id: Option<String>,
    models: Option<Vec<String>>,
    max_budget: Option<f64>,
    soft_budget: Option<f64>,
    budget_duration: Option<String>,
    tpm_limit: Option<i64>,
    rpm_limit: Option<i64>,
    max_parallel_requests: Option<i64>,
    metadata: Option<Map<String, Value>>,
    members_with_roles: Option<Vec<Member>>,
    blocked: Option<bool>,
    team_member_permissions: Option<Vec<String>>,
    router_settings: Option<Map<String, Value>>,
    access_group_ids: Option<Vec<String>>,
    policies: Option<Vec<String>>,
    /// The agents (and MCP servers) the team's keys may use (see `routes::object_permission`).
    object_permission: Option<Map<String, Value>>,
    #[serde(flatten)]
    extra: Extra,
}

/// What LiteLLM's team requests take beyond [`TeamFields`]: kept in the team's metadata as
/// LiteLLM keeps them, or accepted without a use in llmgate.
/// The columns `/team/update` clears when given `null` (LiteLLM updates the row with the
/// fields set, `None` included; a metadata field's `None` changes nothing, as there).
const TEAM_CLEARABLE: &[&str] = &[
    "team_alias",
    "organization_id",
    "metadata",
    "max_budget",
    "soft_budget",
    "models",
    "max_parallel_requests",
    "tpm_limit",
    "rpm_limit",
    "budget_duration",
    "team_member_permissions",
    "router_settings",
    "access_group_ids",
    "policies",
];

const TEAM_EXTRA: Accepted = Accepted {
    metadata: &[
        ("tags", Shape::Strs),
        ("guardrails", Shape::Strs),
        ("prompts", Shape::Strs),
        ("model_rpm_limit", Shape::Object),
        ("model_tpm_limit", Shape::Object),
        ("team_member_key_duration", Shape::Str),
        ("allowed_passthrough_routes", Shape::List),
        ("rpm_limit_type", Shape::Str),
        ("tpm_limit_type", Shape::Str),
    ],
    ignored: &[
        ("allowed_vector_store_indexes", Shape::List),
        // LiteLLM keeps these in tables llmgate does not have (LiteLLM_ModelTable, member budgets).
        ("model_aliases", Shape::Object),
        ("team_member_budget", Shape::Num),
        ("team_member_budget_duration", Shape::Str),
        ("team_member_rpm_limit", Shape::Int),
        ("team_member_tpm_limit", Shape::Int),
        // Secrets are not kept in plain metadata; llmgate has no secret manager.
        ("secret_manager_settings", Shape::Object),
        ("enforced_batch_output_expires_after", Shape::Object),
        ("enforced_file_expires_after", Shape::Object),
        // The member lists follow members_with_roles and /team/member_*.
        ("admins", Shape::List),
        ("members", Shape::List),
    ],
};

/// LiteLLM's `Member`.
#[derive(Deserialize, Clone)]
struct Member {
    user_id: Option<String>,
    user_email: Option<String>,
    #[serde(default = "member_role")]
    role: String,
    #[serde(flatten)]
    extra: Extra,
}

fn member_role() -> String {
    "user".into()
}

impl TeamFields {
    fn apply(&self, route: &str, t: &mut TeamRow) -> Result<(), GatewayError> {
        check_budget(self.max_budget)?;
        macro_rules! set {
            ($($f:ident),*) => {$( if let Some(v) = &self.$f { t.$f = Some(v.clone()); } )*};
        }
        set!(
            team_alias,
            organization_id,
            max_budget,
            soft_budget,
            tpm_limit,
            rpm_limit,
            max_parallel_requests
        );
        if let Some(m) = &self.models {
            t.models = m.clone();
        }
        // As LiteLLM: a given `metadata` replaces the old one (`{}` clears it).
        if let Some(m) = &self.metadata {
            t.metadata = Value::Object(m.clone());
        }
        self.extra.apply(route, &TEAM_EXTRA, &mut t.metadata)?;
        for (dst, src) in [
            (
                &mut t.team_member_permissions,
                &self.team_member_permissions,
            ),
            (&mut t.access_group_ids, &self.access_group_ids),
            (&mut t.policies, &self.policies),
        ] {
            if let Some(v) = src {
                *dst = v.clone();
            }
        }
        if let Some(r) = &self.router_settings {
            t.router_settings = Value::Object(r.clone());
        }
        if let Some(b) = self.blocked {
            t.blocked = b;
        }
        if self.budget_duration.is_some() {
            t.budget_reset_at = budget_reset(&self.budget_duration)?;
            t.budget_duration = self.budget_duration.clone();
        }
        if let Some(members) = &self.members_with_roles {
            for m in members {
                add_member(route, t, m)?;
            }
        }
        t.updated_at = Some(now_ms());
        Ok(())
    }
}

fn add_member(route: &str, t: &mut TeamRow, m: &Member) -> Result<(), GatewayError> {
    m.extra.ignore(route, &Accepted::NONE)?;
    let id = m
        .user_id
        .clone()
        .or_else(|| m.user_email.clone())
        .ok_or_else(|| bad("a member needs user_id or user_email"))?;
    if m.role != "user" && m.role != "admin" {
        return Err(bad(format!(
            "member role must be 'user' or 'admin', not '{}'",
            m.role
        )));
    }
    let mut list: Vec<Value> = t.members_with_roles.as_array().cloned().unwrap_or_default();
    list.retain(|x| x["user_id"] != json!(id));
    list.push(json!({"user_id": id, "user_email": m.user_email, "role": m.role}));
    t.members_with_roles = Value::Array(list);
    if !t.members.contains(&id) {
        t.members.push(id.clone());
    }
    if m.role == "admin" && !t.admins.contains(&id) {
        t.admins.push(id);
    }
    Ok(())
}

/// The user a member names: by `user_id`, else the user with that `user_email`; created (as
/// LiteLLM creates it) when there is none, with a new id when only the email is known.
async fn member_user(store: &Store, m: &Member) -> Result<UserRow, GatewayError> {
    if let Some(uid) = &m.user_id {
        if let Some(u) = USERS.get::<UserRow>(store, uid).await.map_err(db)? {
            return Ok(u);
        }
    } else if let Some(email) = &m.user_email {
        if let Some(u) = user_by_email(store, email).await? {
            return Ok(u);
        }
    } else {
        return Err(bad("a member needs user_id or user_email"));
    }
    let u = UserRow {
        user_id: m
            .user_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        user_email: m.user_email.clone(),
        created_at: Some(now_ms()),
        user_role: Some("internal_user".into()),
        ..Default::default()
    };
    USERS.insert(store, &u).await.map_err(db)?;
    Ok(u)
}

pub(super) fn team_json(t: &TeamRow, spend: f64) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
    v["spend"] = json!(spend);
    if !v["members_with_roles"].is_array() {
        v["members_with_roles"] = json!([]);
    }
    v
}

async fn load_team(store: &Store, id: &str) -> Result<TeamRow, GatewayError> {
    load_row(store, &TEAMS, id, "Team").await
}

async fn save_team(state: &AppState, store: &Store, t: TeamRow) -> Result<Response, GatewayError> {
    TEAMS
        .update(store, &t.team_id.clone(), &t)
        .await
        .map_err(db)?;
    let t = state.gov.keys.teams.put(t);
    Ok(Json(team_json(&t.row, t.spend())).into_response())
}

pub async fn team_new(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/team/new")?;
        let f: TeamFields = if body.is_empty() {
            TeamFields::default()
        } else {
            parse_body(&body)?
        };
        let id = f
            .team_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if TEAMS
            .get::<TeamRow>(store, &id)
            .await
            .map_err(db)?
            .is_some()
        {
            return Err(bad(format!(
                "Team id = {id} already exists. Please use a different team id."
            )));
        }
        let mut t = TeamRow {
            team_id: id,
            created_at: Some(now_ms()),
            members_with_roles: json!([]),
            ..Default::default()
        };
        if let Some(op) = &f.object_permission {
            t.object_permission_id =
                Some(crate::routes::object_permission::save(store, None, op).await?);
        }
        f.apply("/team/new", &mut t)?;
        // As LiteLLM 1.110: a user who creates a team is its admin.
        if let Some(uid) = auth.user_id().filter(|u| !t.members.iter().any(|m| m == u)) {
            let creator = Member {
                user_id: Some(uid.to_string()),
                user_email: None,
                role: "admin".into(),
                extra: Extra::default(),
            };
            add_member("/team/new", &mut t, &creator)?;
        }
        TEAMS.insert(store, &t).await.map_err(db)?;
        let t = state.gov.keys.teams.put(t);
        Ok(Json(team_json(&t.row, 0.0)).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct TeamQuery {
    team_id: Option<String>,
}

pub async fn team_info(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<TeamQuery>,
) -> Response {
    run(async {
        // A team's own keys and its members may read it, as in LiteLLM.
        let id = q
            .team_id
            .or_else(|| auth.team_id().map(str::to_string))
            .ok_or_else(|| bad("team_id is required (?team_id=...)"))?;
        let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
        let t = state
            .gov
            .keys
            .teams
            .get(store, &id)
            .await
            .map_err(db)?
            .ok_or_else(|| not_found("Team", &id))?;
        let member = auth.team_id() == Some(id.as_str())
            || auth
                .user_id()
                .is_some_and(|u| t.row.members.iter().any(|m| m == u));
        if !member && !auth.is_admin() {
            // LiteLLM's words for a key outside the team.
            let message = match (auth.user_id(), auth.team_id()) {
                (None, Some(own)) => format!(
                    "Team key for team={own} not authorized to access this team={id}"
                ),
                (None, None) => format!(
                    "API key not authorized to access this team={id}. No user_id or team_id associated with this key."
                ),
                (Some(u), _) => format!(
                    "User={u} not authorized to access this team={id}"
                ),
            };
            return Err(GatewayError::Forbidden {
                message,
                kind: "auth_error",
            });
        }
        let (keys, _) = store
            .list_keys(
                &KeyFilter {
                    team_id: Some(id.clone()),
                    ..Default::default()
                },
                1,
                1000,
            )
            .await
            .map_err(db)?;
        let keys: Vec<Value> = keys
            .iter()
            .map(|k| json!({"token": k.token, "key_alias": k.key_alias, "spend": k.spend}))
            .collect();
        let mut info = team_json(&t.row, t.spend());
        let op = t.row.object_permission_id.as_deref();
        crate::routes::object_permission::attach(store, op, &mut info).await?;
        Ok(Json(json!({"team_id": id, "team_info": info, "keys": keys})).into_response())
    })
    .await
}

pub async fn team_update(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/team/update")?;
        let f: TeamFields = parse_body(&body)?;
        let id = f
            .team_id
            .clone()
            .ok_or_else(|| bad("team_id is required"))?;
        let mut t = load_team(store, &id).await?;
        if let Some(op) = &f.object_permission {
            let current = t.object_permission_id.clone();
            t.object_permission_id =
                Some(crate::routes::object_permission::save(store, current.as_deref(), op).await?);
        }
        f.apply("/team/update", &mut t)?;
        let nulls = null_fields(&body);
        clear_nulls(&mut t, &nulls, TEAM_CLEARABLE)?;
        save_team(&state, store, t).await
    })
    .await
}

/// LiteLLM's `DeleteTeamRequest`.
#[derive(Deserialize)]
struct TeamDelete {
    team_ids: Vec<String>,
    #[serde(flatten)]
    extra: Extra,
}

pub async fn team_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/team/delete")?;
        let b: TeamDelete = parse_body(&body)?;
        b.extra.ignore("/team/delete", &Accepted::NONE)?;
        delete_rows(store, &TEAMS, &state.gov.keys.teams, &b.team_ids, "Team").await?;
        Ok(Json(json!({"deleted_teams": b.team_ids})).into_response())
    })
    .await
}

pub async fn team_list(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<Page>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/team/list")?;
        let mut filters = Vec::new();
        if let Some(o) = q.organization_id {
            filters.push(("organization_id", o));
        }
        if let Some(t) = q.team_id {
            filters.push(("team_id", t));
        }
        let (teams, _): (Vec<TeamRow>, u64) =
            TEAMS.list(store, &filters, 1, 1000).await.map_err(db)?;
        // LiteLLM answers /team/list with a plain list.
        Ok(Json(Value::Array(
            teams.iter().map(|t| team_json(t, t.spend)).collect(),
        ))
        .into_response())
    })
    .await
}

/// `/v2/team/list`'s query (LiteLLM's paged list, what its UI reads).
#[derive(Deserialize)]
pub struct TeamListV2 {
    page: Option<u64>,
    page_size: Option<u64>,
    team_id: Option<String>,
    /// Part of the alias, any case.
    team_alias: Option<String>,
    organization_id: Option<String>,
    /// Teams the user is a member of.
    user_id: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
}

/// LiteLLM's `/v2/team/list`: `{teams, total, page, page_size, total_pages}`, newest first
/// unless `sort_by` is `team_id`, `team_alias` or `created_at` (another column is ignored, as
/// LiteLLM ignores it). A non-admin key lists its own user's teams only.
pub async fn team_list_v2(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<TeamListV2>,
) -> Response {
    run(async {
        let own = auth.key.as_ref().and_then(|k| k.row.user_id.clone());
        let user_id = match q.user_id {
            None if !auth.is_admin() => own.clone(),
            u => u,
        };
        let allowed = user_id.is_some() && user_id == own;
        let store = reader_store(&state, &auth, allowed, "/v2/team/list")?;
        let (page, size) = (
            q.page.unwrap_or(1).max(1),
            q.page_size.unwrap_or(10).clamp(1, 100),
        );
        let mut filters = Vec::new();
        for (col, v) in [
            ("team_id", q.team_id),
            ("organization_id", q.organization_id),
        ] {
            if let Some(v) = v {
                filters.push((col, v));
            }
        }
        let desc = q
            .sort_order
            .as_deref()
            .is_some_and(|o| o.eq_ignore_ascii_case("desc"));
        let order = match q.sort_by.as_deref() {
            Some(c @ ("team_id" | "team_alias" | "created_at")) => (c, desc),
            _ => ("created_at", true),
        };
        if let Some(u) = &user_id {
            if USERS.get::<UserRow>(store, u).await.map_err(db)?.is_none() {
                return Err(not_found("User", u));
            }
        }
        let alias = q.team_alias.map(|a| a.to_lowercase());
        let (teams, total): (Vec<TeamRow>, u64) = if user_id.is_none() && alias.is_none() {
            TEAMS
                .list_ordered(store, &filters, Some(order), page, size)
                .await
                .map_err(db)?
        } else {
            // Membership sits in a JSON column and the alias matches in part: filtered here.
            let (all, _): (Vec<TeamRow>, u64) = TEAMS
                .list_ordered(store, &filters, Some(order), 1, 100_000)
                .await
                .map_err(db)?;
            let member = |t: &TeamRow, u: &str| {
                t.members.iter().any(|m| m == u)
                    || t.members_with_roles
                        .as_array()
                        .is_some_and(|ms| ms.iter().any(|m| m["user_id"].as_str() == Some(u)))
            };
            let kept: Vec<TeamRow> = all
                .into_iter()
                .filter(|t| user_id.as_deref().is_none_or(|u| member(t, u)))
                .filter(|t| {
                    alias.as_deref().is_none_or(|a| {
                        t.team_alias
                            .as_deref()
                            .is_some_and(|x| x.to_lowercase().contains(a))
                    })
                })
                .collect();
            let total = kept.len() as u64;
            let skip = ((page - 1) * size) as usize;
            (
                kept.into_iter().skip(skip).take(size as usize).collect(),
                total,
            )
        };
        let teams: Vec<Value> = teams.iter().map(|t| team_json(t, t.spend)).collect();
        Ok(Json(json!({
            "teams": teams, "total": total, "page": page, "page_size": size,
            "total_pages": total.div_ceil(size),
        }))
        .into_response())
    })
    .await
}

/// LiteLLM's `TeamMemberAddRequest`.
#[derive(Deserialize)]
struct MemberAdd {
    team_id: String,
    member: MemberOrList,
    #[serde(flatten)]
    extra: Extra,
}

/// `max_budget_in_team` (and the member limits of `/team/member_update`) live in
/// LiteLLM_TeamMembership, a table llmgate does not keep.
const MEMBER_EXTRA: Accepted = Accepted {
    metadata: &[],
    ignored: &[
        ("max_budget_in_team", Shape::Num),
        ("tpm_limit", Shape::Int),
        ("rpm_limit", Shape::Int),
        ("allowed_models", Shape::Strs),
    ],
};

#[derive(Deserialize)]
#[serde(untagged)]
enum MemberOrList {
    One(Member),
    Many(Vec<Member>),
}

pub async fn team_member_add(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/team/member_add")?;
        let b: MemberAdd = parse_body(&body)?;
        b.extra.ignore("/team/member_add", &MEMBER_EXTRA)?;
        let mut t = load_team(store, &b.team_id).await?;
        let members = match b.member {
            MemberOrList::One(m) => vec![m],
            MemberOrList::Many(v) => v,
        };
        for m in &members {
            let mut u = member_user(store, m).await?;
            // As LiteLLM: adding someone already in the team is refused.
            if t.members.contains(&u.user_id) {
                return Err(bad(format!(
                    "User={} already in team. Existing members={:?}",
                    u.user_id, t.members
                )));
            }
            let m = Member {
                user_id: Some(u.user_id.clone()),
                user_email: m.user_email.clone().or_else(|| u.user_email.clone()),
                ..m.clone()
            };
            add_member("/team/member_add", &mut t, &m)?;
            // The user row records the team too, as LiteLLM keeps it.
            if !u.teams.contains(&t.team_id) {
                u.teams.push(t.team_id.clone());
                USERS.update(store, &u.user_id, &u).await.map_err(db)?;
                state.gov.keys.users.put(u);
            }
        }
        t.updated_at = Some(now_ms());
        save_team(&state, store, t).await
    })
    .await
}

/// The member id a delete or update names (a user id, or the email of a member), 400 when the
/// team has no such member, as LiteLLM answers.
async fn member_id(store: &Store, t: &TeamRow, id: String) -> Result<String, GatewayError> {
    if t.members.contains(&id) {
        return Ok(id);
    }
    match user_by_email(store, &id).await? {
        Some(u) if t.members.contains(&u.user_id) => Ok(u.user_id),
        _ => Err(bad(format!("User={id} not found in team={}", t.team_id))),
    }
}

/// LiteLLM's `TeamMemberDeleteRequest`.
#[derive(Deserialize)]
struct MemberDelete {
    team_id: String,
    user_id: Option<String>,
    user_email: Option<String>,
    #[serde(flatten)]
    extra: Extra,
}

pub async fn team_member_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/team/member_delete")?;
        let b: MemberDelete = parse_body(&body)?;
        b.extra.ignore("/team/member_delete", &Accepted::NONE)?;
        let id = b
            .user_id
            .or(b.user_email)
            .ok_or_else(|| bad("user_id or user_email is required"))?;
        let mut t = load_team(store, &b.team_id).await?;
        let id = member_id(store, &t, id).await?;
        t.members.retain(|m| m != &id);
        t.admins.retain(|m| m != &id);
        if let Some(list) = t.members_with_roles.as_array_mut() {
            list.retain(|x| x["user_id"] != json!(id));
        }
        t.updated_at = Some(now_ms());
        // The user row forgets the team too.
        if let Some(mut u) = USERS.get::<UserRow>(store, &id).await.map_err(db)? {
            u.teams.retain(|x| x != &t.team_id);
            USERS.update(store, &id, &u).await.map_err(db)?;
            state.gov.keys.users.put(u);
        }
        save_team(&state, store, t).await
    })
    .await
}

/// LiteLLM's `TeamMemberUpdateRequest`: a member's role (its budget and limits are logged
/// and dropped, see [`MEMBER_EXTRA`]).
#[derive(Deserialize)]
struct MemberUpdate {
    team_id: String,
    user_id: Option<String>,
    user_email: Option<String>,
    role: Option<String>,
    #[serde(flatten)]
    extra: Extra,
}

pub async fn team_member_update(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/team/member_update")?;
        let b: MemberUpdate = parse_body(&body)?;
        b.extra.ignore("/team/member_update", &MEMBER_EXTRA)?;
        let id = b
            .user_id
            .clone()
            .or(b.user_email.clone())
            .ok_or_else(|| bad("user_id or user_email is required"))?;
        let mut t = load_team(store, &b.team_id).await?;
        let id = member_id(store, &t, id).await?;
        if let Some(role) = &b.role {
            let email = t
                .members_with_roles
                .as_array()
                .and_then(|l| l.iter().find(|x| x["user_id"] == json!(id)))
                .and_then(|x| x["user_email"].as_str().map(str::to_string));
            let member = Member {
                user_id: Some(id.clone()),
                user_email: b.user_email.clone().or(email),
                role: role.clone(),
                extra: Extra::default(),
            };
            add_member("/team/member_update", &mut t, &member)?;
            if role != "admin" {
                t.admins.retain(|m| m != &id);
            }
        }
        t.updated_at = Some(now_ms());
        // LiteLLM answers with the member, not the team.
        save_team(&state, store, t).await?;
        Ok(Json(json!({"team_id": b.team_id, "user_id": id, "user_email": b.user_email, "role": b.role}))
            .into_response())
    })
    .await
}

/// LiteLLM's `BlockTeamRequest`.
#[derive(Deserialize)]
struct TeamId {
    team_id: String,
    #[serde(flatten)]
    extra: Extra,
}

async fn set_team_blocked(
    state: AppState,
    auth: AuthContext,
    body: Bytes,
    blocked: bool,
) -> Result<Response, GatewayError> {
    let route = if blocked {
        "/team/block"
    } else {
        "/team/unblock"
    };
    let store = admin_store(&state, &auth, route)?;
    let b: TeamId = parse_body(&body)?;
    b.extra.ignore(route, &Accepted::NONE)?;
    let mut t = load_team(store, &b.team_id).await?;
    t.blocked = blocked;
    t.updated_at = Some(now_ms());
    save_team(&state, store, t).await
}

pub async fn team_block(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(set_team_blocked(state, auth, body, true)).await
}

pub async fn team_unblock(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(set_team_blocked(state, auth, body, false)).await
}
