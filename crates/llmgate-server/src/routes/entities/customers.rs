//! `/customer/*`: end users (the request's `user`).

use super::*;

/// The fields of `/customer/new` and `/customer/update` we store (LiteLLM's
/// `NewCustomerRequest`, `UpdateCustomerRequest`).
#[derive(Deserialize, Default)]
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
    soft_budget: Option<f64>,
    max_parallel_requests: Option<i64>,
    model_max_budget: Option<Map<String, Value>>,
    #[serde(flatten)]
    extra: Extra,
}

/// What LiteLLM's customer requests take beyond [`CustomerFields`].
const CUSTOMER_EXTRA: Accepted = Accepted {
    metadata: &[],
    ignored: &[
        ("spend", Shape::Num),
        // MCP servers, vector stores and agents: llmgate serves none of them.
        ("object_permission", Shape::Object),
        ("budget_reset_at", Shape::Str),
    ],
};

impl CustomerFields {
    /// Applies the fields; a `max_budget` without a `budget_id` gets a budget row of its own,
    /// as LiteLLM creates one.
    async fn apply(
        &self,
        route: &str,
        state: &AppState,
        store: &Store,
        c: &mut CustomerRow,
    ) -> Result<(), GatewayError> {
        self.extra.ignore(route, &CUSTOMER_EXTRA)?;
        check_budget_exists(store, &self.budget_id).await?;
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
                soft_budget: self.soft_budget,
                max_parallel_requests: self.max_parallel_requests,
                model_max_budget: self.model_max_budget.clone(),
                ..Default::default()
            };
            apply_inline_budget(state, store, &mut c.budget_id, fields).await?;
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
        f.apply("/customer/new", &state, store, &mut c).await?;
        CUSTOMERS.insert(store, &c).await.map_err(db)?;
        let c = state.gov.keys.customers.put(c);
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
            .gov
            .keys
            .customers
            .get(store, &id)
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
        let mut c: CustomerRow = load_row(store, &CUSTOMERS, &id, "Customer").await?;
        f.apply("/customer/update", &state, store, &mut c).await?;
        CUSTOMERS.update(store, &id, &c).await.map_err(db)?;
        let c = state.gov.keys.customers.put(c);
        Ok(Json(customer_json(&state, store, &c.row, c.spend()).await?).into_response())
    })
    .await
}

/// LiteLLM's `DeleteCustomerRequest` and `BlockUsers`.
#[derive(Deserialize)]
struct CustomerIds {
    user_ids: Vec<String>,
    #[serde(flatten)]
    extra: Extra,
}

pub async fn customer_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/customer/delete")?;
        let b: CustomerIds = parse_body(&body)?;
        b.extra.ignore("/customer/delete", &Accepted::NONE)?;
        delete_rows(
            store,
            &CUSTOMERS,
            &state.gov.keys.customers,
            &b.user_ids,
            "Customer",
        )
        .await?;
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
    let route = if blocked {
        "/customer/block"
    } else {
        "/customer/unblock"
    };
    let store = admin_store(&state, &auth, route)?;
    let b: CustomerIds = parse_body(&body)?;
    b.extra.ignore(route, &Accepted::NONE)?;
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
        state.gov.keys.customers.put(c);
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
        // As LiteLLM's (which includes `litellm_budget_table`): each with its budget row.
        let mut out = Vec::with_capacity(rows.len());
        for c in &rows {
            out.push(customer_json(&state, store, c, c.spend).await?);
        }
        Ok(Json(out).into_response())
    })
    .await
}
