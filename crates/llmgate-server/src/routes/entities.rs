//! Users, teams, organizations, end users and budgets as LiteLLM's proxy manages them:
//! `/user/*`, `/team/*`, `/organization/*`, `/customer/*`, `/budget/*`, `/tag/*`. Admin only.

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use llmgate_store::entities::{
    BudgetRow, CustomerRow, OrgMemberRow, OrgRow, TagRow, TeamRow, UserRow, BUDGETS, CUSTOMERS,
    ORGANIZATIONS, ORG_MEMBERS, TAGS, TEAMS, USERS,
};
use llmgate_store::keys::{KeyFilter, KeyRow};
use llmgate_store::{now_ms, Store};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::keys::{admin_store, db, duration_ms, generate_key, run};
use super::proxy::parse_body;
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::state::AppState;

fn bad(m: impl Into<String>) -> GatewayError {
    GatewayError::BadRequest(m.into())
}

fn not_found(what: &str, id: &str) -> GatewayError {
    GatewayError::NotFound(format!("{what} not found: {id}"))
}

fn budget_reset(d: &Option<String>) -> Result<Option<i64>, GatewayError> {
    d.as_ref()
        .map(|d| {
            duration_ms(d)
                .map(|ms| now_ms() + ms)
                .ok_or_else(|| bad(format!("invalid budget_duration '{d}'")))
        })
        .transpose()
}

fn check_budget(b: Option<f64>) -> Result<(), GatewayError> {
    match b {
        Some(b) if b < 0.0 => Err(bad("max_budget must not be negative")),
        _ => Ok(()),
    }
}

// ---- users ----

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct UserFields {
    user_id: Option<String>,
    user_alias: Option<String>,
    user_email: Option<String>,
    user_role: Option<String>,
    team_id: Option<String>,
    teams: Option<Vec<String>>,
    organization_id: Option<String>,
    max_budget: Option<f64>,
    budget_duration: Option<String>,
    models: Option<Vec<String>>,
    metadata: Option<Map<String, Value>>,
    tpm_limit: Option<i64>,
    rpm_limit: Option<i64>,
    max_parallel_requests: Option<i64>,
    auto_create_key: Option<bool>,
    /// Accepted for compatibility; llmgate sends no email.
    #[serde(rename = "send_invite_email")]
    _send_invite_email: Option<bool>,
    key_alias: Option<String>,
    duration: Option<String>,
}

impl UserFields {
    fn apply(&self, u: &mut UserRow) -> Result<(), GatewayError> {
        check_budget(self.max_budget)?;
        macro_rules! set {
            ($($f:ident),*) => {$( if let Some(v) = &self.$f { u.$f = Some(v.clone()); } )*};
        }
        set!(
            user_alias,
            user_email,
            user_role,
            team_id,
            organization_id,
            max_budget,
            tpm_limit,
            rpm_limit,
            max_parallel_requests
        );
        if let Some(t) = &self.teams {
            u.teams = t.clone();
        }
        if let Some(m) = &self.models {
            u.models = m.clone();
        }
        if let Some(m) = &self.metadata {
            u.metadata = Value::Object(m.clone());
        }
        if self.budget_duration.is_some() {
            u.budget_reset_at = budget_reset(&self.budget_duration)?;
            u.budget_duration = self.budget_duration.clone();
        }
        u.updated_at = Some(now_ms());
        Ok(())
    }
}

fn user_json(u: &UserRow, spend: f64) -> Value {
    let mut v = serde_json::to_value(u).unwrap_or(Value::Null);
    v["spend"] = json!(spend);
    v
}

pub async fn user_new(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/user/new")?;
        let f: UserFields = if body.is_empty() {
            UserFields::default()
        } else {
            parse_body(&body)?
        };
        let id = f
            .user_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if USERS
            .get::<UserRow>(store, &id)
            .await
            .map_err(db)?
            .is_some()
        {
            return Err(bad(format!("User already exists: {id}")));
        }
        let mut u = UserRow {
            user_id: id.clone(),
            created_at: Some(now_ms()),
            user_role: Some("internal_user".into()),
            ..Default::default()
        };
        f.apply(&mut u)?;
        USERS.insert(store, &u).await.map_err(db)?;
        let u = state.keys.users.put(u);
        let mut out = user_json(&u.row, 0.0);
        // As LiteLLM: /user/new also creates a key for the user unless told not to.
        if f.auto_create_key.unwrap_or(true) {
            let mut key = KeyRow {
                user_id: Some(id),
                models: u.row.models.clone(),
                key_alias: f.key_alias.clone(),
                ..Default::default()
            };
            if let Some(d) = &f.duration {
                key.expires = Some(
                    now_ms()
                        + duration_ms(d).ok_or_else(|| bad(format!("invalid duration '{d}'")))?,
                );
            }
            let (secret, row) = generate_key(&state, store, None, key).await?;
            out["key"] = json!(secret);
            out["token"] = json!(row.token);
        }
        Ok(Json(out).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct UserQuery {
    user_id: Option<String>,
}

pub async fn user_info(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<UserQuery>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/user/info")?;
        let id = q.user_id.ok_or_else(|| bad("user_id is required (?user_id=...)"))?;
        let u = state.keys.user(store, &id).await.map_err(db)?.ok_or_else(|| not_found("User", &id))?;
        let (keys, _) = store.list_keys(&KeyFilter { user_id: Some(id.clone()), ..Default::default() }, 1, 1000).await.map_err(db)?;
        let keys: Vec<Value> = keys.iter().map(|k| json!({"token": k.token, "key_alias": k.key_alias, "key_name": k.key_name, "spend": k.spend, "models": k.models})).collect();
        Ok(Json(json!({"user_id": id, "user_info": user_json(&u.row, u.spend()), "keys": keys, "teams": u.row.teams})).into_response())
    })
    .await
}

pub async fn user_update(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/user/update")?;
        let f: UserFields = parse_body(&body)?;
        let id = f
            .user_id
            .clone()
            .ok_or_else(|| bad("user_id is required"))?;
        let mut u: UserRow = USERS
            .get(store, &id)
            .await
            .map_err(db)?
            .ok_or_else(|| not_found("User", &id))?;
        f.apply(&mut u)?;
        USERS.update(store, &id, &u).await.map_err(db)?;
        let u = state.keys.users.put(u);
        Ok(Json(user_json(&u.row, u.spend())).into_response())
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UserDelete {
    user_ids: Vec<String>,
}

pub async fn user_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/user/delete")?;
        let b: UserDelete = parse_body(&body)?;
        for id in &b.user_ids {
            if !USERS.delete(store, id).await.map_err(db)? {
                return Err(not_found("User", id));
            }
            state.keys.users.remove(id);
        }
        Ok(Json(json!({"deleted_users": b.user_ids})).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct Page {
    page: Option<u64>,
    page_size: Option<u64>,
    team_id: Option<String>,
    organization_id: Option<String>,
}

pub async fn user_list(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<Page>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/user/list")?;
        let (page, size) = (q.page.unwrap_or(1).max(1), q.page_size.unwrap_or(25).clamp(1, 100));
        let mut filters = Vec::new();
        if let Some(o) = q.organization_id {
            filters.push(("organization_id", o));
        }
        let (users, total): (Vec<UserRow>, u64) = USERS.list(store, &filters, page, size).await.map_err(db)?;
        let users: Vec<Value> = users.iter().map(|u| user_json(u, u.spend)).collect();
        Ok(Json(json!({"users": users, "total": total, "page": page, "page_size": size, "total_pages": total.div_ceil(size)})).into_response())
    })
    .await
}

// ---- teams ----

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
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
    tags: Option<Vec<String>>,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct Member {
    user_id: Option<String>,
    user_email: Option<String>,
    #[serde(default = "member_role")]
    role: String,
}

fn member_role() -> String {
    "user".into()
}

impl TeamFields {
    fn apply(&self, t: &mut TeamRow) -> Result<(), GatewayError> {
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
        let mut metadata = t.metadata.as_object().cloned().unwrap_or_default();
        if let Some(m) = &self.metadata {
            metadata.extend(m.clone());
        }
        if let Some(tags) = &self.tags {
            metadata.insert("tags".into(), json!(tags));
        }
        t.metadata = Value::Object(metadata);
        if let Some(b) = self.blocked {
            t.blocked = b;
        }
        if self.budget_duration.is_some() {
            t.budget_reset_at = budget_reset(&self.budget_duration)?;
            t.budget_duration = self.budget_duration.clone();
        }
        if let Some(members) = &self.members_with_roles {
            for m in members {
                add_member(t, m)?;
            }
        }
        t.updated_at = Some(now_ms());
        Ok(())
    }
}

fn add_member(t: &mut TeamRow, m: &Member) -> Result<(), GatewayError> {
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

fn team_json(t: &TeamRow, spend: f64) -> Value {
    let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
    v["spend"] = json!(spend);
    if !v["members_with_roles"].is_array() {
        v["members_with_roles"] = json!([]);
    }
    v
}

async fn load_team(store: &Store, id: &str) -> Result<TeamRow, GatewayError> {
    TEAMS
        .get(store, id)
        .await
        .map_err(db)?
        .ok_or_else(|| not_found("Team", id))
}

async fn save_team(state: &AppState, store: &Store, t: TeamRow) -> Result<Response, GatewayError> {
    TEAMS
        .update(store, &t.team_id.clone(), &t)
        .await
        .map_err(db)?;
    let t = state.keys.teams.put(t);
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
        f.apply(&mut t)?;
        TEAMS.insert(store, &t).await.map_err(db)?;
        let t = state.keys.teams.put(t);
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
        let store = admin_store(&state, &auth, "/team/info")?;
        let id = q
            .team_id
            .ok_or_else(|| bad("team_id is required (?team_id=...)"))?;
        let t = state
            .keys
            .team(store, &id)
            .await
            .map_err(db)?
            .ok_or_else(|| not_found("Team", &id))?;
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
        Ok(
            Json(json!({"team_id": id, "team_info": team_json(&t.row, t.spend()), "keys": keys}))
                .into_response(),
        )
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
        f.apply(&mut t)?;
        save_team(&state, store, t).await
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamDelete {
    team_ids: Vec<String>,
}

pub async fn team_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/team/delete")?;
        let b: TeamDelete = parse_body(&body)?;
        for id in &b.team_ids {
            if !TEAMS.delete(store, id).await.map_err(db)? {
                return Err(not_found("Team", id));
            }
            state.keys.teams.remove(id);
        }
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

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberAdd {
    team_id: String,
    member: MemberOrList,
    max_budget_in_team: Option<f64>,
}

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
        let mut t = load_team(store, &b.team_id).await?;
        let members = match b.member {
            MemberOrList::One(m) => vec![m],
            MemberOrList::Many(v) => v,
        };
        let _ = b.max_budget_in_team;
        for m in &members {
            add_member(&mut t, m)?;
            // The user row records the team too, as LiteLLM keeps it.
            if let Some(uid) = &m.user_id {
                let mut u: UserRow = match USERS.get(store, uid).await.map_err(db)? {
                    Some(u) => u,
                    None => {
                        let u = UserRow {
                            user_id: uid.clone(),
                            user_email: m.user_email.clone(),
                            created_at: Some(now_ms()),
                            user_role: Some("internal_user".into()),
                            ..Default::default()
                        };
                        USERS.insert(store, &u).await.map_err(db)?;
                        u
                    }
                };
                if !u.teams.contains(&t.team_id) {
                    u.teams.push(t.team_id.clone());
                    USERS.update(store, uid, &u).await.map_err(db)?;
                    state.keys.users.put(u);
                }
            }
        }
        t.updated_at = Some(now_ms());
        save_team(&state, store, t).await
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MemberDelete {
    team_id: String,
    user_id: Option<String>,
    user_email: Option<String>,
}

pub async fn team_member_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/team/member_delete")?;
        let b: MemberDelete = parse_body(&body)?;
        let id = b
            .user_id
            .or(b.user_email)
            .ok_or_else(|| bad("user_id or user_email is required"))?;
        let mut t = load_team(store, &b.team_id).await?;
        if !t.members.contains(&id) {
            return Err(not_found("Team member", &id));
        }
        t.members.retain(|m| m != &id);
        t.admins.retain(|m| m != &id);
        if let Some(list) = t.members_with_roles.as_array_mut() {
            list.retain(|x| x["user_id"] != json!(id));
        }
        t.updated_at = Some(now_ms());
        save_team(&state, store, t).await
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TeamId {
    team_id: String,
}

async fn set_team_blocked(
    state: AppState,
    auth: AuthContext,
    body: Bytes,
    blocked: bool,
) -> Result<Response, GatewayError> {
    let store = admin_store(
        &state,
        &auth,
        if blocked {
            "/team/block"
        } else {
            "/team/unblock"
        },
    )?;
    let b: TeamId = parse_body(&body)?;
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

// ---- budgets ----

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct BudgetFields {
    budget_id: Option<String>,
    max_budget: Option<f64>,
    soft_budget: Option<f64>,
    budget_duration: Option<String>,
    tpm_limit: Option<i64>,
    rpm_limit: Option<i64>,
    max_parallel_requests: Option<i64>,
    model_max_budget: Option<Map<String, Value>>,
}

impl BudgetFields {
    fn apply(&self, b: &mut BudgetRow) -> Result<(), GatewayError> {
        check_budget(self.max_budget)?;
        macro_rules! set {
            ($($f:ident),*) => {$( if let Some(v) = &self.$f { b.$f = Some(v.clone()); } )*};
        }
        set!(
            max_budget,
            soft_budget,
            tpm_limit,
            rpm_limit,
            max_parallel_requests
        );
        if let Some(m) = &self.model_max_budget {
            b.model_max_budget = Value::Object(m.clone());
        }
        if self.budget_duration.is_some() {
            b.budget_reset_at = budget_reset(&self.budget_duration)?;
            b.budget_duration = self.budget_duration.clone();
        }
        b.updated_at = Some(now_ms());
        b.updated_by = Some("default_user_id".into());
        Ok(())
    }
}

impl BudgetFields {
    fn has_limits(&self) -> bool {
        self.max_budget.is_some()
            || self.soft_budget.is_some()
            || self.budget_duration.is_some()
            || self.tpm_limit.is_some()
            || self.rpm_limit.is_some()
            || self.max_parallel_requests.is_some()
    }
}

/// Limits given inline (`max_budget` on a customer or tag) live in a budget row, as in LiteLLM:
/// the row's own budget is updated, or one is created and linked.
async fn apply_inline_budget(
    state: &AppState,
    store: &Store,
    budget_id: &mut Option<String>,
    fields: BudgetFields,
) -> Result<(), GatewayError> {
    if !fields.has_limits() {
        return Ok(());
    }
    match budget_id {
        Some(id) => {
            let mut b: BudgetRow = BUDGETS
                .get(store, id)
                .await
                .map_err(db)?
                .ok_or_else(|| not_found("Budget", id))?;
            fields.apply(&mut b)?;
            BUDGETS.update(store, id, &b).await.map_err(db)?;
            state.keys.budgets.put(b);
        }
        None => *budget_id = Some(create_budget(state, store, &fields).await?.budget_id),
    }
    Ok(())
}

async fn create_budget(
    state: &AppState,
    store: &Store,
    f: &BudgetFields,
) -> Result<BudgetRow, GatewayError> {
    let id = f
        .budget_id
        .clone()
        .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
    if BUDGETS
        .get::<BudgetRow>(store, &id)
        .await
        .map_err(db)?
        .is_some()
    {
        return Err(bad(format!("Budget id = {id} already exists")));
    }
    let mut b = BudgetRow {
        budget_id: id,
        created_at: Some(now_ms()),
        created_by: Some("default_user_id".into()),
        ..Default::default()
    };
    f.apply(&mut b)?;
    BUDGETS.insert(store, &b).await.map_err(db)?;
    state.keys.budgets.put(b.clone());
    Ok(b)
}

pub async fn budget_new(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/budget/new")?;
        let f: BudgetFields = if body.is_empty() {
            BudgetFields::default()
        } else {
            parse_body(&body)?
        };
        Ok(Json(create_budget(&state, store, &f).await?).into_response())
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetIds {
    budgets: Vec<String>,
}

pub async fn budget_info(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/budget/info")?;
        let b: BudgetIds = parse_body(&body)?;
        let mut out = Vec::new();
        for id in &b.budgets {
            out.push(
                BUDGETS
                    .get::<BudgetRow>(store, id)
                    .await
                    .map_err(db)?
                    .ok_or_else(|| not_found("Budget", id))?,
            );
        }
        Ok(Json(out).into_response())
    })
    .await
}

pub async fn budget_update(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/budget/update")?;
        let f: BudgetFields = parse_body(&body)?;
        let id = f
            .budget_id
            .clone()
            .ok_or_else(|| bad("budget_id is required"))?;
        let mut b: BudgetRow = BUDGETS
            .get(store, &id)
            .await
            .map_err(db)?
            .ok_or_else(|| not_found("Budget", &id))?;
        f.apply(&mut b)?;
        BUDGETS.update(store, &id, &b).await.map_err(db)?;
        state.keys.budgets.put(b.clone());
        Ok(Json(b).into_response())
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BudgetDelete {
    id: String,
}

pub async fn budget_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/budget/delete")?;
        let b: BudgetDelete = parse_body(&body)?;
        if !BUDGETS.delete(store, &b.id).await.map_err(db)? {
            return Err(not_found("Budget", &b.id));
        }
        state.keys.budgets.remove(&b.id);
        Ok(Json(json!({"deleted_budget": b.id})).into_response())
    })
    .await
}

pub async fn budget_list(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/budget/list")?;
        let (rows, _): (Vec<BudgetRow>, u64) =
            BUDGETS.list(store, &[], 1, 1000).await.map_err(db)?;
        Ok(Json(rows).into_response())
    })
    .await
}

// ---- end users (customers) ----

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct CustomerFields {
    user_id: Option<String>,
    alias: Option<String>,
    blocked: Option<bool>,
    max_budget: Option<f64>,
    budget_id: Option<String>,
    budget_duration: Option<String>,
    allowed_model_region: Option<String>,
    default_model: Option<String>,
    models: Option<Vec<String>>,
    tpm_limit: Option<i64>,
    rpm_limit: Option<i64>,
}

impl CustomerFields {
    /// Applies the fields; a `max_budget` without a `budget_id` gets a budget row of its own,
    /// as LiteLLM creates one.
    async fn apply(
        &self,
        state: &AppState,
        store: &Store,
        c: &mut CustomerRow,
    ) -> Result<(), GatewayError> {
        macro_rules! set {
            ($($f:ident),*) => {$( if let Some(v) = &self.$f { c.$f = Some(v.clone()); } )*};
        }
        set!(alias, allowed_model_region, default_model, budget_id);
        if let Some(b) = self.blocked {
            c.blocked = b;
        }
        if let Some(m) = &self.models {
            c.models = m.clone();
        }
        if self.budget_id.is_none() {
            let fields = BudgetFields {
                max_budget: self.max_budget,
                budget_duration: self.budget_duration.clone(),
                tpm_limit: self.tpm_limit,
                rpm_limit: self.rpm_limit,
                ..Default::default()
            };
            apply_inline_budget(state, store, &mut c.budget_id, fields).await?;
        }
        if let Some(b) = &self.budget_id {
            if BUDGETS
                .get::<BudgetRow>(store, b)
                .await
                .map_err(db)?
                .is_none()
            {
                return Err(not_found("Budget", b));
            }
        }
        Ok(())
    }
}

async fn customer_json(
    state: &AppState,
    store: &Store,
    c: &CustomerRow,
    spend: f64,
) -> Result<Value, GatewayError> {
    let mut v = serde_json::to_value(c).unwrap_or(Value::Null);
    v["spend"] = json!(spend);
    v["litellm_budget_table"] = match &c.budget_id {
        Some(b) => serde_json::to_value(
            state
                .keys
                .budget(store, b)
                .await
                .map_err(db)?
                .map(|b| b.row.clone()),
        )
        .unwrap_or(Value::Null),
        None => Value::Null,
    };
    Ok(v)
}

pub async fn customer_new(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/customer/new")?;
        let f: CustomerFields = parse_body(&body)?;
        let id = f
            .user_id
            .clone()
            .ok_or_else(|| bad("user_id is required"))?;
        if CUSTOMERS
            .get::<CustomerRow>(store, &id)
            .await
            .map_err(db)?
            .is_some()
        {
            return Err(bad(format!("Customer already exists: {id}")));
        }
        let mut c = CustomerRow {
            user_id: id,
            ..Default::default()
        };
        f.apply(&state, store, &mut c).await?;
        CUSTOMERS.insert(store, &c).await.map_err(db)?;
        let c = state.keys.customers.put(c);
        Ok(Json(customer_json(&state, store, &c.row, 0.0).await?).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct CustomerQuery {
    end_user_id: Option<String>,
}

pub async fn customer_info(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<CustomerQuery>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/customer/info")?;
        let id = q
            .end_user_id
            .ok_or_else(|| bad("end_user_id is required (?end_user_id=...)"))?;
        let c = state
            .keys
            .customer(store, &id)
            .await
            .map_err(db)?
            .ok_or_else(|| not_found("Customer", &id))?;
        Ok(Json(customer_json(&state, store, &c.row, c.spend()).await?).into_response())
    })
    .await
}

pub async fn customer_update(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/customer/update")?;
        let f: CustomerFields = parse_body(&body)?;
        let id = f
            .user_id
            .clone()
            .ok_or_else(|| bad("user_id is required"))?;
        let mut c: CustomerRow = CUSTOMERS
            .get(store, &id)
            .await
            .map_err(db)?
            .ok_or_else(|| not_found("Customer", &id))?;
        f.apply(&state, store, &mut c).await?;
        CUSTOMERS.update(store, &id, &c).await.map_err(db)?;
        let c = state.keys.customers.put(c);
        Ok(Json(customer_json(&state, store, &c.row, c.spend()).await?).into_response())
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CustomerIds {
    user_ids: Vec<String>,
}

pub async fn customer_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/customer/delete")?;
        let b: CustomerIds = parse_body(&body)?;
        for id in &b.user_ids {
            if !CUSTOMERS.delete(store, id).await.map_err(db)? {
                return Err(not_found("Customer", id));
            }
            state.keys.customers.remove(id);
        }
        Ok(Json(json!({"deleted_customers": b.user_ids})).into_response())
    })
    .await
}

async fn set_customers_blocked(
    state: AppState,
    auth: AuthContext,
    body: Bytes,
    blocked: bool,
) -> Result<Response, GatewayError> {
    let store = admin_store(
        &state,
        &auth,
        if blocked {
            "/customer/block"
        } else {
            "/customer/unblock"
        },
    )?;
    let b: CustomerIds = parse_body(&body)?;
    for id in &b.user_ids {
        // LiteLLM blocks end users it has not seen yet, too.
        let existing: Option<CustomerRow> = CUSTOMERS.get(store, id).await.map_err(db)?;
        let exists = existing.is_some();
        let mut c = existing.unwrap_or(CustomerRow {
            user_id: id.clone(),
            ..Default::default()
        });
        c.blocked = blocked;
        if exists {
            CUSTOMERS.update(store, id, &c).await.map_err(db)?;
        } else {
            CUSTOMERS.insert(store, &c).await.map_err(db)?;
        }
        state.keys.customers.put(c);
    }
    Ok(Json(json!({"blocked_users": if blocked { b.user_ids.clone() } else { vec![] }, "unblocked_users": if blocked { vec![] } else { b.user_ids }})).into_response())
}

pub async fn customer_block(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(set_customers_blocked(state, auth, body, true)).await
}

pub async fn customer_unblock(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(set_customers_blocked(state, auth, body, false)).await
}

pub async fn customer_list(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/customer/list")?;
        let (rows, _): (Vec<CustomerRow>, u64) =
            CUSTOMERS.list(store, &[], 1, 1000).await.map_err(db)?;
        Ok(Json(rows).into_response())
    })
    .await
}

// ---- organizations ----

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct OrgFields {
    organization_id: Option<String>,
    organization_alias: Option<String>,
    models: Option<Vec<String>>,
    budget_id: Option<String>,
    max_budget: Option<f64>,
    soft_budget: Option<f64>,
    budget_duration: Option<String>,
    tpm_limit: Option<i64>,
    rpm_limit: Option<i64>,
    max_parallel_requests: Option<i64>,
    metadata: Option<Map<String, Value>>,
}

impl OrgFields {
    fn budget_fields(&self) -> BudgetFields {
        BudgetFields {
            max_budget: self.max_budget,
            soft_budget: self.soft_budget,
            budget_duration: self.budget_duration.clone(),
            tpm_limit: self.tpm_limit,
            rpm_limit: self.rpm_limit,
            max_parallel_requests: self.max_parallel_requests,
            ..Default::default()
        }
    }
}

async fn org_json(
    state: &AppState,
    store: &Store,
    o: &OrgRow,
    spend: f64,
) -> Result<Value, GatewayError> {
    let mut v = serde_json::to_value(o).unwrap_or(Value::Null);
    v["spend"] = json!(spend);
    let budget = state
        .keys
        .budget(store, &o.budget_id)
        .await
        .map_err(db)?
        .map(|b| b.row.clone());
    v["litellm_budget_table"] = serde_json::to_value(budget).unwrap_or(Value::Null);
    let (members, _): (Vec<OrgMemberRow>, u64) = ORG_MEMBERS
        .list(
            store,
            &[("organization_id", o.organization_id.clone())],
            1,
            1000,
        )
        .await
        .map_err(db)?;
    v["members"] = serde_json::to_value(members).unwrap_or(Value::Null);
    Ok(v)
}

pub async fn org_new(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/organization/new")?;
        let f: OrgFields = parse_body(&body)?;
        let alias = f
            .organization_alias
            .clone()
            .ok_or_else(|| bad("organization_alias is required"))?;
        let id = f
            .organization_id
            .clone()
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        if ORGANIZATIONS
            .get::<OrgRow>(store, &id)
            .await
            .map_err(db)?
            .is_some()
        {
            return Err(bad(format!("Organization id = {id} already exists")));
        }
        // Every organization has a budget row (LiteLLM's column is NOT NULL).
        let budget_id = match &f.budget_id {
            Some(b) => {
                if BUDGETS
                    .get::<BudgetRow>(store, b)
                    .await
                    .map_err(db)?
                    .is_none()
                {
                    return Err(not_found("Budget", b));
                }
                b.clone()
            }
            None => {
                create_budget(&state, store, &f.budget_fields())
                    .await?
                    .budget_id
            }
        };
        let now = now_ms();
        let o = OrgRow {
            organization_id: id,
            organization_alias: alias,
            budget_id,
            metadata: Value::Object(f.metadata.clone().unwrap_or_default()),
            models: f.models.clone().unwrap_or_default(),
            spend: 0.0,
            created_at: Some(now),
            created_by: Some("default_user_id".into()),
            updated_at: Some(now),
            updated_by: Some("default_user_id".into()),
        };
        ORGANIZATIONS.insert(store, &o).await.map_err(db)?;
        let o = state.keys.orgs.put(o);
        Ok(Json(org_json(&state, store, &o.row, 0.0).await?).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct OrgQuery {
    organization_id: Option<String>,
}

pub async fn org_info(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<OrgQuery>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/organization/info")?;
        let id = q
            .organization_id
            .ok_or_else(|| bad("organization_id is required (?organization_id=...)"))?;
        let o = state
            .keys
            .org(store, &id)
            .await
            .map_err(db)?
            .ok_or_else(|| not_found("Organization", &id))?;
        Ok(Json(org_json(&state, store, &o.row, o.spend()).await?).into_response())
    })
    .await
}

pub async fn org_update(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/organization/update")?;
        let f: OrgFields = parse_body(&body)?;
        let id = f
            .organization_id
            .clone()
            .ok_or_else(|| bad("organization_id is required"))?;
        let mut o: OrgRow = ORGANIZATIONS
            .get(store, &id)
            .await
            .map_err(db)?
            .ok_or_else(|| not_found("Organization", &id))?;
        if let Some(a) = &f.organization_alias {
            o.organization_alias = a.clone();
        }
        if let Some(m) = &f.models {
            o.models = m.clone();
        }
        if let Some(m) = &f.metadata {
            o.metadata = Value::Object(m.clone());
        }
        let mut budget_id = Some(o.budget_id.clone());
        apply_inline_budget(&state, store, &mut budget_id, f.budget_fields()).await?;
        o.updated_at = Some(now_ms());
        ORGANIZATIONS.update(store, &id, &o).await.map_err(db)?;
        let o = state.keys.orgs.put(o);
        Ok(Json(org_json(&state, store, &o.row, o.spend()).await?).into_response())
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgIds {
    organization_ids: Vec<String>,
}

pub async fn org_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/organization/delete")?;
        let b: OrgIds = parse_body(&body)?;
        for id in &b.organization_ids {
            if !ORGANIZATIONS.delete(store, id).await.map_err(db)? {
                return Err(not_found("Organization", id));
            }
            state.keys.orgs.remove(id);
        }
        Ok(Json(json!({"deleted_organizations": b.organization_ids})).into_response())
    })
    .await
}

pub async fn org_list(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/organization/list")?;
        let (rows, _): (Vec<OrgRow>, u64) =
            ORGANIZATIONS.list(store, &[], 1, 1000).await.map_err(db)?;
        let mut out = Vec::new();
        for o in &rows {
            out.push(org_json(&state, store, o, o.spend).await?);
        }
        Ok(Json(out).into_response())
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OrgMemberAdd {
    organization_id: String,
    member: OrgMemberOrList,
}

#[derive(Deserialize, Clone)]
#[serde(deny_unknown_fields)]
struct OrgMember {
    user_id: Option<String>,
    user_email: Option<String>,
    #[serde(default = "org_member_role")]
    role: String,
}

fn org_member_role() -> String {
    "internal_user".into()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OrgMemberOrList {
    One(OrgMember),
    Many(Vec<OrgMember>),
}

pub async fn org_member_add(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/organization/member_add")?;
        let b: OrgMemberAdd = parse_body(&body)?;
        let o: OrgRow = ORGANIZATIONS
            .get(store, &b.organization_id)
            .await
            .map_err(db)?
            .ok_or_else(|| not_found("Organization", &b.organization_id))?;
        let members = match b.member {
            OrgMemberOrList::One(m) => vec![m],
            OrgMemberOrList::Many(v) => v,
        };
        const ROLES: &[&str] = &["org_admin", "internal_user", "internal_user_viewer"];
        let mut added = Vec::new();
        for m in members {
            if !ROLES.contains(&m.role.as_str()) {
                return Err(bad(format!(
                    "role must be one of {ROLES:?}, not '{}'",
                    m.role
                )));
            }
            let uid = m
                .user_id
                .clone()
                .or(m.user_email.clone())
                .ok_or_else(|| bad("a member needs user_id or user_email"))?;
            let mut u: UserRow = match USERS.get(store, &uid).await.map_err(db)? {
                Some(u) => u,
                None => {
                    let u = UserRow {
                        user_id: uid.clone(),
                        user_email: m.user_email.clone(),
                        created_at: Some(now_ms()),
                        user_role: Some("internal_user".into()),
                        ..Default::default()
                    };
                    USERS.insert(store, &u).await.map_err(db)?;
                    u
                }
            };
            u.organization_id = Some(o.organization_id.clone());
            USERS.update(store, &uid, &u).await.map_err(db)?;
            state.keys.users.put(u);
            let existing: (Vec<OrgMemberRow>, u64) = ORG_MEMBERS
                .list(
                    store,
                    &[
                        ("organization_id", o.organization_id.clone()),
                        ("user_id", uid.clone()),
                    ],
                    1,
                    1,
                )
                .await
                .map_err(db)?;
            let row = OrgMemberRow {
                user_id: uid,
                organization_id: o.organization_id.clone(),
                user_role: Some(m.role),
                created_at: Some(now_ms()),
                updated_at: Some(now_ms()),
                ..Default::default()
            };
            if existing.0.is_empty() {
                ORG_MEMBERS.insert(store, &row).await.map_err(db)?;
            }
            added.push(row);
        }
        Ok(
            Json(json!({"organization_id": o.organization_id, "added_members": added}))
                .into_response(),
        )
    })
    .await
}

// ---- tags ----

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TagFields {
    name: String,
    description: Option<String>,
    models: Option<Vec<String>>,
    budget_id: Option<String>,
    max_budget: Option<f64>,
    soft_budget: Option<f64>,
    budget_duration: Option<String>,
    tpm_limit: Option<i64>,
    rpm_limit: Option<i64>,
}

impl TagFields {
    async fn apply(
        &self,
        state: &AppState,
        store: &Store,
        t: &mut TagRow,
    ) -> Result<(), GatewayError> {
        if let Some(d) = &self.description {
            t.description = Some(d.clone());
        }
        if let Some(m) = &self.models {
            t.models = m.clone();
        }
        if let Some(b) = &self.budget_id {
            if BUDGETS
                .get::<BudgetRow>(store, b)
                .await
                .map_err(db)?
                .is_none()
            {
                return Err(not_found("Budget", b));
            }
            t.budget_id = Some(b.clone());
        }
        let bf = BudgetFields {
            max_budget: self.max_budget,
            soft_budget: self.soft_budget,
            budget_duration: self.budget_duration.clone(),
            tpm_limit: self.tpm_limit,
            rpm_limit: self.rpm_limit,
            ..Default::default()
        };
        if self.budget_id.is_none() {
            apply_inline_budget(state, store, &mut t.budget_id, bf).await?;
        }
        t.updated_at = Some(now_ms());
        Ok(())
    }
}

async fn tag_json(
    state: &AppState,
    store: &Store,
    t: &TagRow,
    spend: f64,
) -> Result<Value, GatewayError> {
    let mut v = serde_json::to_value(t).unwrap_or(Value::Null);
    v["name"] = json!(t.tag_name);
    v["spend"] = json!(spend);
    v["litellm_budget_table"] = match &t.budget_id {
        Some(b) => serde_json::to_value(
            state
                .keys
                .budget(store, b)
                .await
                .map_err(db)?
                .map(|b| b.row.clone()),
        )
        .unwrap_or(Value::Null),
        None => Value::Null,
    };
    Ok(v)
}

pub async fn tag_new(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/tag/new")?;
        let f: TagFields = parse_body(&body)?;
        if f.name.is_empty() {
            return Err(bad("name is required"));
        }
        if TAGS
            .get::<TagRow>(store, &f.name)
            .await
            .map_err(db)?
            .is_some()
        {
            return Err(bad(format!("Tag {} already exists", f.name)));
        }
        let mut t = TagRow {
            tag_name: f.name.clone(),
            created_at: Some(now_ms()),
            created_by: Some("default_user_id".into()),
            ..Default::default()
        };
        f.apply(&state, store, &mut t).await?;
        TAGS.insert(store, &t).await.map_err(db)?;
        let t = state.keys.tags.put(t);
        Ok(Json(tag_json(&state, store, &t.row, 0.0).await?).into_response())
    })
    .await
}

pub async fn tag_update(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/tag/update")?;
        let f: TagFields = parse_body(&body)?;
        let mut t: TagRow = TAGS
            .get(store, &f.name)
            .await
            .map_err(db)?
            .ok_or_else(|| not_found("Tag", &f.name))?;
        f.apply(&state, store, &mut t).await?;
        TAGS.update(store, &f.name, &t).await.map_err(db)?;
        let t = state.keys.tags.put(t);
        Ok(Json(tag_json(&state, store, &t.row, t.spend()).await?).into_response())
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagNames {
    names: Vec<String>,
}

/// LiteLLM answers `/tag/info` with an object keyed by tag name.
pub async fn tag_info(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/tag/info")?;
        let b: TagNames = parse_body(&body)?;
        let mut out = Map::new();
        for name in &b.names {
            let t = state
                .keys
                .tag(store, name)
                .await
                .map_err(db)?
                .ok_or_else(|| not_found("Tag", name))?;
            out.insert(
                name.clone(),
                tag_json(&state, store, &t.row, t.spend()).await?,
            );
        }
        Ok(Json(Value::Object(out)).into_response())
    })
    .await
}

pub async fn tag_list(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/tag/list")?;
        let (rows, _): (Vec<TagRow>, u64) = TAGS.list(store, &[], 1, 1000).await.map_err(db)?;
        let mut out = Vec::new();
        for t in &rows {
            out.push(tag_json(&state, store, t, t.spend).await?);
        }
        Ok(Json(out).into_response())
    })
    .await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct TagName {
    name: String,
}

pub async fn tag_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/tag/delete")?;
        let b: TagName = parse_body(&body)?;
        if !TAGS.delete(store, &b.name).await.map_err(db)? {
            return Err(not_found("Tag", &b.name));
        }
        state.keys.tags.remove(&b.name);
        Ok(
            Json(json!({"message": format!("Tag {} deleted successfully", b.name)}))
                .into_response(),
        )
    })
    .await
}
