//! `/user/*`: internal users.

use super::*;

/// The fields of `/user/new` and `/user/update` we store (LiteLLM's `NewUserRequest`,
/// `UpdateUserRequest`).
#[derive(Deserialize, Default)]
struct UserFields {
    user_id: Option<String>,
    user_alias: Option<String>,
    user_email: Option<String>,
    user_role: Option<String>,
    team_id: Option<String>,
    teams: Option<Vec<TeamRef>>,
    organization_id: Option<String>,
    max_budget: Option<f64>,
    budget_duration: Option<String>,
    models: Option<Vec<String>>,
    metadata: Option<Map<String, Value>>,
    tpm_limit: Option<i64>,
    rpm_limit: Option<i64>,
    max_parallel_requests: Option<i64>,
    sso_user_id: Option<String>,
    allowed_cache_controls: Option<Vec<String>>,
    policies: Option<Vec<String>>,
    model_max_budget: Option<Map<String, Value>>,
    auto_create_key: Option<bool>,
    key_alias: Option<String>,
    duration: Option<String>,
    /// Set by an admin on `/user/update`, as LiteLLM allows.
    spend: Option<f64>,
    #[serde(flatten)]
    extra: Extra,
}

/// A team of `teams`: its id, or LiteLLM's `NewUserRequestTeam` object.
#[derive(Deserialize, Clone)]
#[serde(untagged)]
enum TeamRef {
    Id(String),
    Team { team_id: String },
}

/// What LiteLLM's user requests take beyond [`UserFields`]: kept in the user's metadata as
/// LiteLLM's `generate_key_helper_fn` keeps them, or accepted without a use in llmgate.
const USER_EXTRA: Accepted = Accepted {
    metadata: &[
        ("model_rpm_limit", Shape::Object),
        ("model_tpm_limit", Shape::Object),
        ("guardrails", Shape::Strs),
        ("prompts", Shape::Strs),
    ],
    ignored: &[
        // llmgate sends no email and has no UI login.
        ("send_invite_email", Shape::Bool),
        ("password", Shape::Str),
        // Membership is made with /organization/member_add.
        ("organizations", Shape::Strs),
        // Key settings LiteLLM's base model shares with /key/generate.
        ("config", Shape::Object),
        ("permissions", Shape::Object),
        ("aliases", Shape::Object),
        ("blocked", Shape::Bool),
        ("object_permission", Shape::Object),
        ("agent_id", Shape::Str),
    ],
};

/// What `/user/update` clears when given `null`: only `max_budget`, as LiteLLM's
/// `_update_internal_user_params` (which skips every other `None`, `[]` and `{}`, so that a
/// client sending defaults resets nothing).
const USER_CLEARABLE: &[&str] = &["max_budget"];

/// LiteLLM's `user_role` values for `/user/*`.
const USER_ROLES: &[&str] = &[
    "proxy_admin",
    "proxy_admin_viewer",
    "internal_user",
    "internal_user_viewer",
];

impl UserFields {
    fn apply(&self, route: &str, u: &mut UserRow) -> Result<(), GatewayError> {
        check_budget(self.max_budget)?;
        if let Some(r) = self
            .user_role
            .as_deref()
            .filter(|r| !USER_ROLES.contains(r))
        {
            return Err(bad(format!(
                "user_role must be one of {USER_ROLES:?}, not '{r}'"
            )));
        }
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
            max_parallel_requests,
            sso_user_id
        );
        if let Some(t) = &self.teams {
            u.teams = t
                .iter()
                .map(|t| match t {
                    TeamRef::Id(id) | TeamRef::Team { team_id: id } => id.clone(),
                })
                .collect();
        }
        for (dst, src) in [
            (&mut u.models, &self.models),
            (&mut u.allowed_cache_controls, &self.allowed_cache_controls),
            (&mut u.policies, &self.policies),
        ] {
            if let Some(v) = src {
                *dst = v.clone();
            }
        }
        if let Some(m) = &self.model_max_budget {
            u.model_max_budget = Value::Object(m.clone());
        }
        if let Some(m) = &self.metadata {
            u.metadata = Value::Object(m.clone());
        }
        self.extra.apply(route, &USER_EXTRA, &mut u.metadata)?;
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
        f.apply("/user/new", &mut u)?;
        USERS.insert(store, &u).await.map_err(db)?;
        let u = state.gov.keys.users.put(u);
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
        // A user's own key may read its user (the default without `user_id`), as in LiteLLM.
        let own = auth.key.as_ref().and_then(|k| k.row.user_id.clone());
        let id = q.user_id.clone().or(own.clone()).ok_or_else(|| bad("user_id is required (?user_id=...)"))?;
        if !auth.is_admin() && own.as_deref() != Some(id.as_str()) {
            // LiteLLM's words.
            return Err(GatewayError::Forbidden {
                message: format!(
                    "key not allowed to access this user's info. user_id={id}, key's user_id={}",
                    own.as_deref().unwrap_or("None")
                ),
                kind: "auth_error",
            });
        }
        let store = reader_store(&state, &auth, true, "/user/info")?;
        let u = state.gov.keys.users.get(store, &id).await.map_err(db)?.ok_or_else(|| not_found("User", &id))?;
        let (keys, _) = store.list_keys(&KeyFilter { user_id: Some(id.clone()), ..Default::default() }, 1, 1000).await.map_err(db)?;
        let keys: Vec<Value> = keys.iter().map(|k| json!({"token": k.token, "key_alias": k.key_alias, "key_name": k.key_name, "spend": k.spend, "models": k.models})).collect();
        // As LiteLLM: the teams the user belongs to, as team objects.
        let mut teams = Vec::new();
        for tid in &u.row.teams {
            if let Some(t) = state.gov.keys.teams.get(store, tid).await.map_err(db)? {
                teams.push(super::teams::team_json(&t.row, t.spend()));
            }
        }
        Ok(Json(json!({"user_id": id, "user_info": user_json(&u.row, u.spend()), "keys": keys, "teams": teams})).into_response())
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
        // As LiteLLM (an upsert): updating a user that does not exist creates it.
        let existing: Option<UserRow> = USERS.get(store, &id).await.map_err(db)?;
        let created = existing.is_none();
        let mut u = existing.unwrap_or_else(|| UserRow {
            user_id: id.clone(),
            created_at: Some(now_ms()),
            ..Default::default()
        });
        f.apply("/user/update", &mut u)?;
        let nulls = null_fields(&body);
        clear_nulls(&mut u, &nulls, USER_CLEARABLE)?;
        if created {
            USERS.insert(store, &u).await.map_err(db)?;
        } else {
            USERS.update(store, &id, &u).await.map_err(db)?;
        }
        let u = state.gov.keys.users.put(u);
        let users = &state.gov.keys.users;
        set_spend(&state, store, (USERS.name, USERS.id), users, &id, f.spend).await?;
        Ok(Json(user_json(&u.row, f.spend.unwrap_or_else(|| u.spend()))).into_response())
    })
    .await
}

/// LiteLLM's `DeleteUserRequest`.
#[derive(Deserialize)]
struct UserDelete {
    user_ids: Vec<String>,
    #[serde(flatten)]
    extra: Extra,
}

pub async fn user_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/user/delete")?;
        let b: UserDelete = parse_body(&body)?;
        b.extra.ignore("/user/delete", &Accepted::NONE)?;
        // As LiteLLM: the users' invitations go first (LiteLLM's schema restricts the delete).
        for id in &b.user_ids {
            llmgate_store::invitations::delete_for_user(store, id)
                .await
                .map_err(db)?;
        }
        delete_rows(store, &USERS, &state.gov.keys.users, &b.user_ids, "User").await?;
        Ok(Json(json!({"deleted_users": b.user_ids})).into_response())
    })
    .await
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
