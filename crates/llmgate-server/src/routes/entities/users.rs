//! `/user/*`: internal users.

use super::*;

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
        // A user's own key may read its user (the default without `user_id`), as in LiteLLM.
        let own = auth.key.as_ref().and_then(|k| k.row.user_id.clone());
        let id = q.user_id.clone().or(own.clone()).ok_or_else(|| bad("user_id is required (?user_id=...)"))?;
        let store = if !auth.is_admin() && own.as_deref() == Some(id.as_str()) {
            state.store.as_ref().ok_or(GatewayError::NoDb)?
        } else {
            admin_store(&state, &auth, "/user/info")?
        };
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
        let mut u: UserRow = load_row(store, &USERS, &id, "User").await?;
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
        delete_rows(store, &USERS, &state.keys.users, &b.user_ids, "User").await?;
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
