//! `/budget/*`: `LiteLLM_BudgetTable` rows, and the inline budgets of customers, organizations and tags.

use super::*;

/// LiteLLM's `BudgetNewRequest` (`/budget/new`, `/budget/update`), also the inline budget
/// of customers, organizations and tags.
#[derive(Deserialize, Default)]
pub(super) struct BudgetFields {
    pub(super) budget_id: Option<String>,
    pub(super) max_budget: Option<f64>,
    pub(super) soft_budget: Option<f64>,
    pub(super) budget_duration: Option<String>,
    pub(super) tpm_limit: Option<i64>,
    pub(super) rpm_limit: Option<i64>,
    pub(super) max_parallel_requests: Option<i64>,
    pub(super) model_max_budget: Option<Map<String, Value>>,
    #[serde(flatten)]
    pub(super) extra: Extra,
    /// The limits an update set to `null` (cleared in the budget row).
    #[serde(skip)]
    pub(super) cleared: Vec<String>,
}

/// The limits a `null` clears in a budget row (`/budget/update`, and the inline budget of
/// `/customer/update`, `/organization/update` and `/tag/update`).
pub(super) const BUDGET_CLEARABLE: &[&str] = &[
    "max_budget",
    "soft_budget",
    "max_parallel_requests",
    "tpm_limit",
    "rpm_limit",
    "model_max_budget",
    "budget_duration",
];

/// `budget_reset_at` follows from `budget_duration` here.
const BUDGET_EXTRA: Accepted = Accepted {
    metadata: &[],
    ignored: &[("budget_reset_at", Shape::Str)],
};

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
        clear_nulls(b, &self.cleared, BUDGET_CLEARABLE)?;
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
            || self.model_max_budget.is_some()
    }
}

/// A key's `soft_budget`, kept as LiteLLM keeps it: in a `LiteLLM_BudgetTable` row linked by
/// the key's `budget_id` (created, or updated in place).
pub(crate) async fn set_key_soft_budget(
    state: &AppState,
    store: &Store,
    budget_id: &mut Option<String>,
    soft_budget: f64,
) -> Result<(), GatewayError> {
    let fields = BudgetFields {
        soft_budget: Some(soft_budget),
        ..BudgetFields::default()
    };
    apply_inline_budget(state, store, budget_id, fields).await
}

/// Limits given inline (`max_budget` on a customer or tag) live in a budget row, as in LiteLLM:
/// the row's own budget is updated, or one is created and linked.
pub(super) async fn apply_inline_budget(
    state: &AppState,
    store: &Store,
    budget_id: &mut Option<String>,
    fields: BudgetFields,
) -> Result<(), GatewayError> {
    if !fields.has_limits() && (fields.cleared.is_empty() || budget_id.is_none()) {
        return Ok(());
    }
    match budget_id {
        Some(id) => {
            let mut b: BudgetRow = load_row(store, &BUDGETS, id, "Budget").await?;
            fields.apply(&mut b)?;
            BUDGETS.update(store, id, &b).await.map_err(db)?;
            state.gov.keys.budgets.put(b);
        }
        None => *budget_id = Some(create_budget(state, store, &fields).await?.budget_id),
    }
    Ok(())
}

pub(super) async fn create_budget(
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
    state.gov.keys.budgets.put(b.clone());
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
        f.extra.ignore("/budget/new", &BUDGET_EXTRA)?;
        Ok(Json(create_budget(&state, store, &f).await?).into_response())
    })
    .await
}

/// LiteLLM's `BudgetRequest`.
#[derive(Deserialize)]
struct BudgetIds {
    budgets: Vec<String>,
    #[serde(flatten)]
    extra: Extra,
}

pub async fn budget_info(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/budget/info")?;
        let b: BudgetIds = parse_body(&body)?;
        b.extra.ignore("/budget/info", &Accepted::NONE)?;
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
        let mut f: BudgetFields = parse_body(&body)?;
        f.extra.ignore("/budget/update", &BUDGET_EXTRA)?;
        f.cleared = null_fields(&body);
        let id = f
            .budget_id
            .clone()
            .ok_or_else(|| bad("budget_id is required"))?;
        let mut b: BudgetRow = load_row(store, &BUDGETS, &id, "Budget").await?;
        f.apply(&mut b)?;
        BUDGETS.update(store, &id, &b).await.map_err(db)?;
        state.gov.keys.budgets.put(b.clone());
        Ok(Json(b).into_response())
    })
    .await
}

/// LiteLLM's `BudgetDeleteRequest`.
#[derive(Deserialize)]
struct BudgetDelete {
    id: String,
    #[serde(flatten)]
    extra: Extra,
}

pub async fn budget_delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/budget/delete")?;
        let b: BudgetDelete = parse_body(&body)?;
        b.extra.ignore("/budget/delete", &Accepted::NONE)?;
        if !BUDGETS.delete(store, &b.id).await.map_err(db)? {
            return Err(not_found("Budget", &b.id));
        }
        state.gov.keys.budgets.remove(&b.id);
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
