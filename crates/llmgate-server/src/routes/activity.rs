//! Usage analytics from the daily roll-ups, in LiteLLM's `SpendAnalyticsPaginatedResponse`
//! shape: `/user|team|organization|customer|tag/daily/activity`. Rows are paged as stored
//! (`page`, `page_size`), then summed per day (newest first) with breakdowns by model, model
//! group, provider, endpoint, key and entity.

use std::collections::{BTreeMap, HashMap};

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use llmgate_store::daily::{self, Daily, DailyFilter, DailyRow, Metrics};
use llmgate_store::Store;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::admin::{db, run, token_of};
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::state::AppState;

#[derive(Deserialize, Default)]
pub struct ActivityQuery {
    start_date: Option<String>,
    end_date: Option<String>,
    model: Option<String>,
    api_key: Option<String>,
    user_id: Option<String>,
    team_ids: Option<String>,
    organization_ids: Option<String>,
    end_user_ids: Option<String>,
    tags: Option<String>,
    page: Option<u64>,
    page_size: Option<u64>,
}

fn list(s: &Option<String>) -> Vec<String> {
    s.as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn user(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<ActivityQuery>,
) -> Response {
    // A key that is not an admin's sees only its own user's activity.
    let own = auth.key.as_ref().and_then(|k| k.row.user_id.clone());
    let entities = match (&auth.key, q.user_id.clone()) {
        (Some(_), requested) if !auth.is_admin() => match (own, requested) {
            (Some(me), None) => vec![me],
            (Some(me), Some(u)) if me == u => vec![me],
            _ => {
                return GatewayError::Forbidden {
                    message: "Non-admin users can only view their own spend data.".into(),
                    kind: "auth_error",
                }
                .into_response()
            }
        },
        (_, requested) => requested.into_iter().collect(),
    };
    serve(state, auth, daily::USER, entities, q, Some(None)).await
}

/// Admins see every team. Anyone else sees only teams their user (or key) belongs to (404
/// otherwise, as LiteLLM), and only their own keys' rows unless they admin every team asked.
pub async fn team(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<ActivityQuery>,
) -> Response {
    let mut ids = list(&q.team_ids);
    if auth.is_admin() {
        return serve(state, auth, daily::TEAM, ids, q, None).await;
    }
    let scoped = async {
        let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
        let key = auth.key.as_ref().ok_or(GatewayError::NoDb)?;
        let uid = key.row.user_id.clone();
        let user = match &uid {
            Some(u) => state.gov.keys.users.get(store, u).await.map_err(db)?,
            None => None,
        };
        let mut mine: Vec<String> = user.map(|u| u.row.teams.clone()).unwrap_or_default();
        mine.extend(key.row.team_id.clone());
        if ids.is_empty() {
            ids = mine.clone();
        }
        let mut admin_of_all = uid.is_some();
        for id in &ids {
            let team = state.gov.keys.teams.get(store, id).await.map_err(db)?;
            let member = mine.contains(id)
                || team.as_ref().is_some_and(|t| {
                    uid.as_ref()
                        .is_some_and(|u| t.row.members.contains(u) || t.row.admins.contains(u))
                });
            if !member {
                return Err(GatewayError::NotFound(format!(
                    "User does not belong to Team= {id}"
                )));
            }
            let is_admin = team.as_ref().is_some_and(|t| {
                uid.as_ref().is_some_and(|u| {
                    t.row.admins.contains(u)
                        || t.row.members_with_roles.as_array().is_some_and(|m| {
                            m.iter().any(|m| {
                                m["user_id"].as_str() == Some(u.as_str())
                                    && m["role"].as_str() == Some("admin")
                            })
                        })
                })
            });
            admin_of_all &= is_admin;
        }
        let only = if admin_of_all {
            None
        } else {
            Some(own_keys(store, &auth).await?)
        };
        Ok::<_, GatewayError>(only)
    };
    match scoped.await {
        Ok(only) => serve(state, auth, daily::TEAM, ids, q, Some(only)).await,
        Err(e) => e.into_response(),
    }
}

/// The caller's keys: every key of its user, else just the key itself.
async fn own_keys(store: &Store, auth: &AuthContext) -> Result<Vec<String>, GatewayError> {
    let Some(key) = &auth.key else {
        return Ok(Vec::new());
    };
    match &key.row.user_id {
        Some(u) => {
            let filter = llmgate_store::keys::KeyFilter {
                user_id: Some(u.clone()),
                ..Default::default()
            };
            let (keys, _) = store.list_keys(&filter, 1, 10_000).await.map_err(db)?;
            Ok(keys.into_iter().map(|k| k.token).collect())
        }
        None => Ok(vec![key.row.token.clone()]),
    }
}

pub async fn organization(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<ActivityQuery>,
) -> Response {
    let ids = list(&q.organization_ids);
    serve(state, auth, daily::ORGANIZATION, ids, q, None).await
}

pub async fn customer(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<ActivityQuery>,
) -> Response {
    let ids = list(&q.end_user_ids);
    serve(state, auth, daily::END_USER, ids, q, None).await
}

/// Admins see every key's rows; anyone else only their own keys'.
pub async fn tag(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<ActivityQuery>,
) -> Response {
    let ids = list(&q.tags);
    if auth.is_admin() {
        return serve(state, auth, daily::TAG, ids, q, None).await;
    }
    let Some(store) = state.gov.store.clone() else {
        return GatewayError::NoDb.into_response();
    };
    match own_keys(&store, &auth).await {
        Ok(keys) => serve(state, auth, daily::TAG, ids, q, Some(Some(keys))).await,
        Err(e) => e.into_response(),
    }
}

async fn serve(
    state: AppState,
    auth: AuthContext,
    table: Daily,
    entities: Vec<String>,
    q: ActivityQuery,
    // None: admins only. Some(None): the caller may see these entities' rows of any key;
    // Some(Some(keys)): only the rows of these keys.
    scope: Option<Option<Vec<String>>>,
) -> Response {
    run(async {
        let admin_only = scope.is_none();
        if admin_only && !auth.is_admin() {
            return Err(GatewayError::Auth(
                "Authentication Error, only the proxy admin can view this activity".into(),
            ));
        }
        let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
        let (Some(start), Some(end)) = (q.start_date.clone(), q.end_date.clone()) else {
            return Err(GatewayError::BadRequest(
                "Please provide start_date and end_date".into(),
            ));
        };
        for d in [&start, &end] {
            if d.len() != 10 || llmgate_store::time::day_ms(d).is_none() {
                return Err(GatewayError::BadRequest(
                    "start_date and end_date must be valid YYYY-MM-DD dates".into(),
                ));
            }
        }
        if start > end {
            return Err(GatewayError::BadRequest(
                "end_date must be on or after start_date".into(),
            ));
        }
        let page = q.page.unwrap_or(1);
        // LiteLLM's defaults: 50 rows for users, 10 for the others.
        let size = q
            .page_size
            .unwrap_or(if table == daily::USER { 50 } else { 10 });
        if page < 1 || !(1..=1000).contains(&size) {
            return Err(GatewayError::BadRequest(
                "page must be >= 1 and page_size between 1 and 1000".into(),
            ));
        }
        let filter = DailyFilter {
            start_date: start,
            end_date: end,
            entities,
            model: q.model.clone(),
            only_keys: scope.flatten(),
            api_key: q.api_key.as_deref().map(token_of),
        };
        let rows = store.daily_rows(table, &filter).await.map_err(db)?;
        let total = rows.len() as u64;
        let page_rows: Vec<&DailyRow> = rows
            .iter()
            .skip(((page - 1) * size) as usize)
            .take(size as usize)
            .collect();
        let keys = key_metadata(&state, store, &page_rows).await;
        let entities = entity_metadata(&state, store, table, &page_rows).await;
        Ok(Json(build(&page_rows, &keys, &entities, page, size, total)).into_response())
    })
    .await
}

/// `key_alias`, `team_id`, `user_id` of each key in the rows (one lookup per key, from the
/// key cache when it is there).
async fn key_metadata(
    state: &AppState,
    store: &Store,
    rows: &[&DailyRow],
) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for r in rows {
        if out.contains_key(&r.api_key) {
            continue;
        }
        let meta = match state.gov.keys.get(store, &r.api_key).await {
            Ok(Some(k)) => json!({
                "key_alias": k.row.key_alias,
                "team_id": k.row.team_id,
                "user_id": k.row.user_id,
                "key_exists": true,
            }),
            _ if r.api_key.is_empty() => json!({"key_alias": "Unattributed", "key_exists": false}),
            _ => json!({"key_alias": null, "team_id": null, "user_id": null, "key_exists": false}),
        };
        out.insert(r.api_key.clone(), meta);
    }
    out
}

/// What LiteLLM shows of an entity: a user's email and alias, a team's alias.
async fn entity_metadata(
    state: &AppState,
    store: &Store,
    table: Daily,
    rows: &[&DailyRow],
) -> HashMap<String, Value> {
    let mut out = HashMap::new();
    for id in rows.iter().filter_map(|r| r.entity.as_ref()) {
        if out.contains_key(id) {
            continue;
        }
        let meta = if table == daily::USER {
            match state.gov.keys.users.get(store, id).await {
                Ok(Some(u)) => {
                    json!({"user_email": u.row.user_email, "user_alias": u.row.user_alias})
                }
                _ => json!({}),
            }
        } else if table == daily::TEAM {
            match state.gov.keys.teams.get(store, id).await {
                Ok(Some(t)) => json!({"team_alias": t.row.team_alias}),
                _ => json!({}),
            }
        } else {
            json!({})
        };
        out.insert(id.clone(), meta);
    }
    out
}

fn metrics_json(m: &Metrics) -> Value {
    json!({
        "spend": m.spend,
        "flat_cost": 0.0,
        "ptu_hours": 0.0,
        "prompt_tokens": m.prompt_tokens,
        "completion_tokens": m.completion_tokens,
        "cache_read_input_tokens": m.cache_read_input_tokens,
        "cache_creation_input_tokens": m.cache_creation_input_tokens,
        "compression_saved_tokens": 0,
        "compression_savings_spend": 0.0,
        "prompt_caching_savings_spend": 0.0,
        "gateway_injected_caching_savings_spend": 0.0,
        "autorouter_savings_spend": 0.0,
        "total_tokens": m.prompt_tokens + m.completion_tokens,
        "successful_requests": m.successful_requests,
        "failed_requests": m.failed_requests,
        "api_requests": m.api_requests,
        "total_response_time_ms": m.total_response_time_ms,
        "timed_requests": m.timed_requests,
    })
}

/// One bucket of a breakdown: its metrics and, per key, the key's share.
#[derive(Default)]
struct Bucket {
    metrics: Metrics,
    by_key: BTreeMap<String, Metrics>,
}

impl Bucket {
    fn add(&mut self, r: &DailyRow) {
        self.metrics.add(&r.metrics);
        self.by_key
            .entry(r.api_key.clone())
            .or_default()
            .add(&r.metrics);
    }

    fn to_json(&self, keys: &HashMap<String, Value>, metadata: Value) -> Value {
        let breakdown = by_key_json(&self.by_key, keys);
        json!({"metrics": metrics_json(&self.metrics), "metadata": metadata, "api_key_breakdown": breakdown})
    }
}

/// Per-key metrics with each key's metadata (`api_keys`, `api_key_breakdown`).
fn by_key_json(
    by_key: &BTreeMap<String, Metrics>,
    keys: &HashMap<String, Value>,
) -> Map<String, Value> {
    by_key
        .iter()
        .map(|(k, m)| {
            let meta = keys.get(k).cloned().unwrap_or(json!({}));
            (
                k.clone(),
                json!({"metrics": metrics_json(m), "metadata": meta}),
            )
        })
        .collect()
}

#[derive(Default)]
struct Day {
    metrics: Metrics,
    models: BTreeMap<String, Bucket>,
    model_groups: BTreeMap<String, Bucket>,
    providers: BTreeMap<String, Bucket>,
    endpoints: BTreeMap<String, Bucket>,
    entities: BTreeMap<String, Bucket>,
    api_keys: BTreeMap<String, Metrics>,
}

fn build(
    rows: &[&DailyRow],
    keys: &HashMap<String, Value>,
    entities: &HashMap<String, Value>,
    page: u64,
    size: u64,
    total_rows: u64,
) -> Value {
    let mut days: BTreeMap<&str, Day> = BTreeMap::new();
    let mut totals = Metrics::default();
    for r in rows {
        totals.add(&r.metrics);
        let d = days.entry(r.date.as_str()).or_default();
        d.metrics.add(&r.metrics);
        // LiteLLM's bucket names for missing values.
        let some = |v: &Option<String>| v.clone().filter(|v| !v.is_empty());
        let model = some(&r.model);
        d.models
            .entry(model.clone().unwrap_or_else(|| "unknown-model".into()))
            .or_default()
            .add(r);
        d.model_groups
            .entry(
                some(&r.model_group)
                    .or(model)
                    .unwrap_or_else(|| "unknown-model-group".into()),
            )
            .or_default()
            .add(r);
        let provider = some(&r.custom_llm_provider).unwrap_or_else(|| "unknown".into());
        d.providers.entry(provider).or_default().add(r);
        if let Some(e) = r.endpoint.as_ref().filter(|e| !e.is_empty()) {
            d.endpoints.entry(e.clone()).or_default().add(r);
        }
        let entity = r.entity.clone().unwrap_or_else(|| "Unassigned".into());
        d.entities.entry(entity).or_default().add(r);
        d.api_keys
            .entry(r.api_key.clone())
            .or_default()
            .add(&r.metrics);
    }
    let group = |m: &BTreeMap<String, Bucket>| -> Map<String, Value> {
        m.iter()
            .map(|(k, b)| (k.clone(), b.to_json(keys, json!({}))))
            .collect()
    };
    let entities_of = |m: &BTreeMap<String, Bucket>| -> Map<String, Value> {
        m.iter()
            .map(|(k, b)| {
                let meta = entities.get(k).cloned().unwrap_or(json!({}));
                (k.clone(), b.to_json(keys, meta))
            })
            .collect()
    };
    let results: Vec<Value> = days
        .iter()
        .rev()
        .map(|(date, d)| {
            let api_keys = by_key_json(&d.api_keys, keys);
            let providers: Map<String, Value> = d
                .providers
                .iter()
                .map(|(k, b)| (k.clone(), b.to_json(keys, json!({"provider": k}))))
                .collect();
            json!({
                "date": date,
                "metrics": metrics_json(&d.metrics),
                "breakdown": {
                    "mcp_servers": {},
                    "models": group(&d.models),
                    "model_groups": group(&d.model_groups),
                    "providers": providers,
                    "endpoints": group(&d.endpoints),
                    "api_keys": api_keys,
                    "entities": entities_of(&d.entities),
                    "guardrails": {},
                },
            })
        })
        .collect();
    let m = &totals;
    json!({
        "results": results,
        "metadata": {
            "total_spend": m.spend,
            "total_flat_cost": 0.0,
            "total_ptu_hours": 0.0,
            "total_prompt_tokens": m.prompt_tokens,
            "total_completion_tokens": m.completion_tokens,
            "total_tokens": m.prompt_tokens + m.completion_tokens,
            "total_api_requests": m.api_requests,
            "total_successful_requests": m.successful_requests,
            "total_failed_requests": m.failed_requests,
            "total_cache_read_input_tokens": m.cache_read_input_tokens,
            "total_cache_creation_input_tokens": m.cache_creation_input_tokens,
            "total_compression_saved_tokens": 0,
            "total_compression_savings_spend": 0.0,
            "total_prompt_caching_savings_spend": 0.0,
            "total_gateway_injected_caching_savings_spend": 0.0,
            "total_autorouter_savings_spend": 0.0,
            "total_response_time_ms": m.total_response_time_ms,
            "total_timed_requests": m.timed_requests,
            "page": page,
            "total_pages": total_rows.div_ceil(size),
            "has_more": page * size < total_rows,
            "api_key_limit": null,
            "total_api_keys": null,
        },
    })
}
