//! `/organization/*`: organizations and their members.

use super::*;

/// The fields of `/organization/new` and `/organization/update` we store (LiteLLM's
/// `NewOrganizationRequest`, `LiteLLM_OrganizationTableUpdate`).
#[derive(Deserialize, Default)]
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
    model_max_budget: Option<Map<String, Value>>,
    metadata: Option<Map<String, Value>>,
    /// The MCP servers its keys may use (see `routes::object_permission`).
    object_permission: Option<Map<String, Value>>,
    #[serde(flatten)]
    extra: Extra,
    /// The fields an update set to `null`.
    #[serde(skip)]
    nulls: Vec<String>,
}

/// What LiteLLM's organization requests take beyond [`OrgFields`].
const ORG_EXTRA: Accepted = Accepted {
    metadata: &[
        ("model_rpm_limit", Shape::Object),
        ("model_tpm_limit", Shape::Object),
    ],
    ignored: &[("spend", Shape::Num), ("updated_by", Shape::Str)],
};

impl OrgFields {
    fn budget_fields(&self) -> BudgetFields {
        BudgetFields {
            max_budget: self.max_budget,
            soft_budget: self.soft_budget,
            budget_duration: self.budget_duration.clone(),
            tpm_limit: self.tpm_limit,
            rpm_limit: self.rpm_limit,
            max_parallel_requests: self.max_parallel_requests,
            model_max_budget: self.model_max_budget.clone(),
            cleared: self.nulls.clone(),
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
        .gov
        .keys
        .budgets
        .get(store, &o.budget_id)
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
    crate::routes::object_permission::attach(store, o.object_permission_id.as_deref(), &mut v)
        .await?;
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
        let mut metadata = Value::Object(f.metadata.clone().unwrap_or_default());
        f.extra
            .apply("/organization/new", &ORG_EXTRA, &mut metadata)?;
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
        check_budget_exists(store, &f.budget_id).await?;
        let budget_id = match &f.budget_id {
            Some(b) => b.clone(),
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
            metadata,
            models: f.models.clone().unwrap_or_default(),
            spend: 0.0,
            created_at: Some(now),
            created_by: Some("default_user_id".into()),
            updated_at: Some(now),
            updated_by: Some("default_user_id".into()),
            object_permission_id: match &f.object_permission {
                Some(op) => Some(crate::routes::object_permission::save(store, None, op).await?),
                None => None,
            },
        };
        ORGANIZATIONS.insert(store, &o).await.map_err(db)?;
        let o = state.gov.keys.orgs.put(o);
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
            .gov
            .keys
            .orgs
            .get(store, &id)
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
        let mut f: OrgFields = parse_body(&body)?;
        f.nulls = null_fields(&body);
        let id = f
            .organization_id
            .clone()
            .ok_or_else(|| bad("organization_id is required"))?;
        let mut o: OrgRow = load_row(store, &ORGANIZATIONS, &id, "Organization").await?;
        if let Some(a) = &f.organization_alias {
            o.organization_alias = a.clone();
        }
        if let Some(m) = &f.models {
            o.models = m.clone();
        }
        if let Some(m) = &f.metadata {
            o.metadata = Value::Object(m.clone());
        }
        f.extra
            .apply("/organization/update", &ORG_EXTRA, &mut o.metadata)?;
        clear_nulls(&mut o, &f.nulls, &["models", "metadata"])?;
        if let Some(op) = &f.object_permission {
            let current = o.object_permission_id.clone();
            o.object_permission_id =
                Some(crate::routes::object_permission::save(store, current.as_deref(), op).await?);
        }
        let mut budget_id = Some(o.budget_id.clone());
        apply_inline_budget(&state, store, &mut budget_id, f.budget_fields()).await?;
        o.updated_at = Some(now_ms());
        ORGANIZATIONS.update(store, &id, &o).await.map_err(db)?;
        let o = state.gov.keys.orgs.put(o);
        Ok(Json(org_json(&state, store, &o.row, o.spend()).await?).into_response())
    })
    .await
}

/// LiteLLM's `DeleteOrganizationRequest`.
#[derive(Deserialize)]
struct OrgIds {
    organization_ids: Vec<String>,
    #[serde(flatten)]
    extra: Extra,
}

pub async fn org_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/organization/delete")?;
        let b: OrgIds = parse_body(&body)?;
        b.extra.ignore("/organization/delete", &Accepted::NONE)?;
        delete_rows(
            store,
            &ORGANIZATIONS,
            &state.gov.keys.orgs,
            &b.organization_ids,
            "Organization",
        )
        .await?;
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

/// LiteLLM's `OrganizationMemberAddRequest`.
#[derive(Deserialize)]
struct OrgMemberAdd {
    organization_id: String,
    member: OrgMemberOrList,
    #[serde(flatten)]
    extra: Extra,
}

/// The member's budget lives in LiteLLM_OrganizationMembership's budget, which llmgate does
/// not enforce.
const ORG_MEMBER_EXTRA: Accepted = Accepted {
    metadata: &[],
    ignored: &[("max_budget_in_organization", Shape::Num)],
};

/// LiteLLM's `OrgMember`.
#[derive(Deserialize, Clone)]
struct OrgMember {
    user_id: Option<String>,
    user_email: Option<String>,
    #[serde(default = "org_member_role")]
    role: String,
    #[serde(flatten)]
    extra: Extra,
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
        b.extra
            .ignore("/organization/member_add", &ORG_MEMBER_EXTRA)?;
        let o: OrgRow = load_row(store, &ORGANIZATIONS, &b.organization_id, "Organization").await?;
        let members = match b.member {
            OrgMemberOrList::One(m) => vec![m],
            OrgMemberOrList::Many(v) => v,
        };
        const ROLES: &[&str] = &["org_admin", "internal_user", "internal_user_viewer"];
        let mut added = Vec::new();
        for m in members {
            m.extra
                .ignore("/organization/member_add", &Accepted::NONE)?;
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
            state.gov.keys.users.put(u);
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

/// LiteLLM's `OrganizationMemberUpdateRequest` / `OrganizationMemberDeleteRequest`.
#[derive(Deserialize)]
struct OrgMemberChange {
    organization_id: String,
    user_id: Option<String>,
    user_email: Option<String>,
    role: Option<String>,
    #[serde(flatten)]
    extra: Extra,
}

/// The membership a change names (by user id, or the email of a member); 400 when the user is
/// not a member, as LiteLLM answers.
async fn membership(store: &Store, b: &OrgMemberChange) -> Result<OrgMemberRow, GatewayError> {
    let uid = match (&b.user_id, &b.user_email) {
        (Some(u), _) => u.clone(),
        (None, Some(email)) => user_by_email(store, email)
            .await?
            .map(|u| u.user_id)
            .ok_or_else(|| bad(format!("User with email {email} not found")))?,
        (None, None) => return Err(bad("user_id or user_email is required")),
    };
    load_row::<OrgRow>(store, &ORGANIZATIONS, &b.organization_id, "Organization").await?;
    let filter = [
        ("organization_id", b.organization_id.clone()),
        ("user_id", uid.clone()),
    ];
    let (found, _): (Vec<OrgMemberRow>, u64) =
        ORG_MEMBERS.list(store, &filter, 1, 1).await.map_err(db)?;
    found.into_iter().next().ok_or_else(|| {
        bad(format!(
            "User={uid} is not a member of organization={}",
            b.organization_id
        ))
    })
}

pub async fn org_member_update(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/organization/member_update")?;
        let b: OrgMemberChange = parse_body(&body)?;
        b.extra
            .ignore("/organization/member_update", &ORG_MEMBER_EXTRA)?;
        let mut m = membership(store, &b).await?;
        if let Some(role) = &b.role {
            const ROLES: &[&str] = &["org_admin", "internal_user", "internal_user_viewer"];
            if !ROLES.contains(&role.as_str()) {
                return Err(bad(format!("role must be one of {ROLES:?}, not '{role}'")));
            }
            m.user_role = Some(role.clone());
        }
        m.updated_at = Some(now_ms());
        let filter = [
            ("organization_id", m.organization_id.clone()),
            ("user_id", m.user_id.clone()),
        ];
        ORG_MEMBERS.delete_where(store, &filter).await.map_err(db)?;
        ORG_MEMBERS.insert(store, &m).await.map_err(db)?;
        Ok(Json(serde_json::to_value(&m).unwrap_or(Value::Null)).into_response())
    })
    .await
}

pub async fn org_member_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/organization/member_delete")?;
        let b: OrgMemberChange = parse_body(&body)?;
        b.extra
            .ignore("/organization/member_delete", &Accepted::NONE)?;
        let m = membership(store, &b).await?;
        let filter = [
            ("organization_id", m.organization_id.clone()),
            ("user_id", m.user_id.clone()),
        ];
        ORG_MEMBERS.delete_where(store, &filter).await.map_err(db)?;
        // The user leaves the organization too.
        if let Some(mut u) = USERS.get::<UserRow>(store, &m.user_id).await.map_err(db)? {
            if u.organization_id.as_deref() == Some(m.organization_id.as_str()) {
                u.organization_id = None;
                USERS.update(store, &m.user_id, &u).await.map_err(db)?;
                state.gov.keys.users.put(u);
            }
        }
        Ok(Json(
            json!({"organization_id": m.organization_id, "user_id": m.user_id, "deleted": true}),
        )
        .into_response())
    })
    .await
}
