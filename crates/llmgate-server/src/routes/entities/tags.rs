//! `/tag/*`: tags and their budgets.

use super::*;

/// The fields of `/tag/new` and `/tag/update` (LiteLLM's `TagNewRequest`, `TagUpdateRequest`).
#[derive(Deserialize, Default)]
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
    max_parallel_requests: Option<i64>,
    model_max_budget: Option<Map<String, Value>>,
    model_info: Option<Map<String, Value>>,
    #[serde(flatten)]
    extra: Extra,
    /// The fields an update set to `null`.
    #[serde(skip)]
    nulls: Vec<String>,
}

impl TagFields {
    async fn apply(
        &self,
        route: &str,
        state: &AppState,
        store: &Store,
        t: &mut TagRow,
    ) -> Result<(), GatewayError> {
        self.extra.ignore(route, &Accepted::NONE)?;
        check_budget_exists(store, &self.budget_id).await?;
        if let Some(d) = &self.description {
            t.description = Some(d.clone());
        }
        if let Some(m) = &self.models {
            t.models = m.clone();
        }
        if let Some(m) = &self.model_info {
            t.model_info = Value::Object(m.clone());
        }
        if let Some(b) = &self.budget_id {
            t.budget_id = Some(b.clone());
        }
        clear_nulls(
            t,
            &self.nulls,
            &["description", "models", "budget_id", "model_info"],
        )?;
        let bf = BudgetFields {
            max_budget: self.max_budget,
            soft_budget: self.soft_budget,
            budget_duration: self.budget_duration.clone(),
            tpm_limit: self.tpm_limit,
            rpm_limit: self.rpm_limit,
            max_parallel_requests: self.max_parallel_requests,
            model_max_budget: self.model_max_budget.clone(),
            cleared: self.nulls.clone(),
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
                .gov
                .keys
                .budgets
                .get(store, b)
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
        f.apply("/tag/new", &state, store, &mut t).await?;
        TAGS.insert(store, &t).await.map_err(db)?;
        let t = state.gov.keys.tags.put(t);
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
        let mut f: TagFields = parse_body(&body)?;
        f.nulls = null_fields(&body);
        let mut t: TagRow = load_row(store, &TAGS, &f.name, "Tag").await?;
        f.apply("/tag/update", &state, store, &mut t).await?;
        TAGS.update(store, &f.name, &t).await.map_err(db)?;
        let t = state.gov.keys.tags.put(t);
        Ok(Json(tag_json(&state, store, &t.row, t.spend()).await?).into_response())
    })
    .await
}

/// LiteLLM's `TagInfoRequest`.
#[derive(Deserialize)]
struct TagNames {
    names: Vec<String>,
    #[serde(flatten)]
    extra: Extra,
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
        b.extra.ignore("/tag/info", &Accepted::NONE)?;
        let mut out = Map::new();
        for name in &b.names {
            let t = state
                .gov
                .keys
                .tags
                .get(store, name)
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

/// LiteLLM's `TagDeleteRequest`.
#[derive(Deserialize)]
struct TagName {
    name: String,
    #[serde(flatten)]
    extra: Extra,
}

pub async fn tag_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/tag/delete")?;
        let b: TagName = parse_body(&body)?;
        b.extra.ignore("/tag/delete", &Accepted::NONE)?;
        if !TAGS.delete(store, &b.name).await.map_err(db)? {
            return Err(not_found("Tag", &b.name));
        }
        state.gov.keys.tags.remove(&b.name);
        Ok(
            Json(json!({"message": format!("Tag {} deleted successfully", b.name)}))
                .into_response(),
        )
    })
    .await
}
