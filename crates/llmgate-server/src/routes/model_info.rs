//! What a caller may learn of the models: `GET /models`, `/model/info`, `/v2/model/info`,
//! `/model_group/info`. A virtual key sees only the models it may call (its own list, else its
//! team's or user's, and its organization's), as LiteLLM filters them; admins see all.

use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::admin::run;
use crate::auth::AuthContext;
use crate::deployments::{Deployment, Deployments};
use crate::error::GatewayError;
use crate::governance::access::ModelLists;
use crate::state::AppState;

/// LiteLLM reports this fixed `created` for every model.
const CREATED: u64 = 1677610602;

/// Which public model names the caller may see.
struct Visible(Option<ModelLists>);

impl Visible {
    async fn of(state: &AppState, auth: &AuthContext) -> Result<Visible, GatewayError> {
        match &auth.key {
            Some(k) if !auth.is_admin() => Ok(Visible(Some(ModelLists::of(&state.gov, k).await?))),
            _ => Ok(Visible(None)),
        }
    }

    fn admits(&self, d: &Deployments, name: &str) -> bool {
        self.0.as_ref().is_none_or(|l| l.admit(d, name))
    }
}

#[derive(Deserialize)]
pub struct ListQuery {
    only_model_access_groups: Option<String>,
}

fn truthy(v: &Option<String>) -> bool {
    v.as_deref()
        .is_some_and(|v| v.eq_ignore_ascii_case("true") || v == "1")
}

pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<ListQuery>,
) -> Response {
    run(async {
        let data = visible_models(&state, &auth, &q).await?;
        Ok(Json(json!({"data": data, "object": "list"})).into_response())
    })
    .await
}

/// `GET /v1/models/{model}` (and `/models/{model}`): one entry of the caller's list, as
/// LiteLLM's `model_info` answers it; a model the caller cannot see is a 404 as one that
/// does not exist.
pub async fn retrieve(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    axum::extract::Path(model): axum::extract::Path<String>,
) -> Response {
    run(async {
        let q = ListQuery {
            only_model_access_groups: None,
        };
        visible_models(&state, &auth, &q)
            .await?
            .into_iter()
            .find(|m| m["id"].as_str() == Some(model.as_str()))
            .map(|m| Json(m).into_response())
            .ok_or_else(|| GatewayError::NotFoundParam {
                message: format!("The model `{model}` does not exist"),
                param: "model",
            })
    })
    .await
}

/// The models the caller may use, as `/v1/models` lists them.
async fn visible_models(
    state: &AppState,
    auth: &AuthContext,
    q: &ListQuery,
) -> Result<Vec<Value>, GatewayError> {
    let deployments = state.deployments();
    let visible = Visible::of(state, auth).await?;
    let names: Vec<String> = if truthy(&q.only_model_access_groups) {
        // The access groups the caller may use (all of a group's models visible to it).
        deployments
            .access_groups()
            .into_iter()
            .filter(|g| {
                deployments
                    .names()
                    .iter()
                    .filter(|n| deployments.in_access_group(g, n))
                    .all(|n| visible.admits(&deployments, n))
            })
            .collect()
    } else {
        // Team models go by their public name to the team's keys, and to no one else by
        // their internal one (admins see the internal names, as in /model/info).
        let team_model = |n: &str| {
            deployments.group(n).is_some_and(|g| {
                g[0].entry
                    .model_info
                    .extra
                    .contains_key("team_public_model_name")
            })
        };
        let mut names: Vec<String> = deployments
            .names()
            .iter()
            .filter(|n| visible.admits(&deployments, n))
            .filter(|n| auth.is_admin() || !team_model(n))
            .cloned()
            .collect();
        if let Some(t) = auth.team_id() {
            for n in deployments.team_public_names(t) {
                if !names.contains(&n) && visible.admits(&deployments, &n) {
                    names.push(n);
                }
            }
        }
        names
    };
    let data: Vec<Value> = names
        .iter()
        .map(|name| {
            let mut m =
                json!({"id": name, "object": "model", "created": CREATED, "owned_by": "openai"});
            // LiteLLM 1.110 adds what the catalog knows of the group's model.
            let info = deployments.group(name).and_then(|g| g[0].info.as_ref());
            if let Some(info) = info {
                m["mode"] = json!(info.mode);
                if let Some(n) = info.max_input_tokens {
                    m["max_input_tokens"] = json!(n);
                }
                if let Some(n) = info.max_output_tokens {
                    m["max_output_tokens"] = json!(n);
                }
            }
            m
        })
        .collect();
    Ok(data)
}

#[derive(Deserialize)]
pub struct InfoQuery {
    litellm_model_id: Option<String>,
}

pub async fn info(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<InfoQuery>,
) -> Response {
    run(async {
        let deployments = state.deployments();
        let visible = Visible::of(&state, &auth).await?;
        let data: Vec<Value> = deployments
            .all()
            .iter()
            .filter(|d| q.litellm_model_id.as_ref().is_none_or(|id| &d.id == id))
            .filter(|d| visible.admits(&deployments, &d.model_name))
            .map(|d| model_info(d))
            .collect();
        Ok(Json(json!({ "data": data })).into_response())
    })
    .await
}

/// LiteLLM's `/v2/model/info` query (the UI's models page).
#[derive(Deserialize)]
pub struct InfoV2Query {
    model: Option<String>,
    search: Option<String>,
    #[serde(rename = "modelId")]
    model_id: Option<String>,
    access_group: Option<String>,
    wildcard_only: Option<String>,
    page: Option<usize>,
    size: Option<usize>,
}

pub async fn info_v2(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<InfoV2Query>,
) -> Response {
    run(async {
        let (page, size) = (q.page.unwrap_or(1), q.size.unwrap_or(50));
        if page < 1 || size < 1 {
            return Err(GatewayError::BadRequest(
                "page and size must be at least 1".into(),
            ));
        }
        let deployments = state.deployments();
        let visible = Visible::of(&state, &auth).await?;
        let search = q.search.as_deref().map(str::to_lowercase);
        let wildcard_only = truthy(&q.wildcard_only);
        let matching: Vec<&std::sync::Arc<Deployment>> = deployments
            .all()
            .iter()
            .filter(|d| q.model.as_ref().is_none_or(|m| &d.model_name == m))
            .filter(|d| q.model_id.as_ref().is_none_or(|id| &d.id == id))
            .filter(|d| {
                search
                    .as_ref()
                    .is_none_or(|s| d.model_name.to_lowercase().contains(s))
            })
            .filter(|d| !wildcard_only || d.model_name.contains('*'))
            .filter(|d| {
                q.access_group
                    .as_ref()
                    .is_none_or(|g| deployments.in_access_group(g, &d.model_name))
            })
            .filter(|d| visible.admits(&deployments, &d.model_name))
            .collect();
        let total = matching.len();
        let data: Vec<Value> = matching
            .iter()
            .skip((page - 1) * size)
            .take(size)
            .map(|d| with_router_state(&state, d, model_info(d)))
            .collect();
        Ok(Json(json!({
            "data": data,
            "total_count": total,
            "current_page": page,
            "total_pages": total.div_ceil(size),
            "size": size,
        }))
        .into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct GroupQuery {
    model_group: Option<String>,
}

/// LiteLLM's `ModelGroupInfo` per public model name: its providers, limits, prices and
/// capabilities (from the first deployment the catalog knows).
pub async fn group_info(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<GroupQuery>,
) -> Response {
    run(async {
        let deployments = state.deployments();
        let visible = Visible::of(&state, &auth).await?;
        let data: Vec<Value> = deployments
            .names()
            .iter()
            .filter(|n| q.model_group.as_ref().is_none_or(|g| g == *n))
            .filter(|n| visible.admits(&deployments, n))
            .filter_map(|n| Some(group_json(n, deployments.group(n)?)))
            .collect();
        Ok(Json(json!({ "data": data })).into_response())
    })
    .await
}

fn group_json(name: &str, group: &[std::sync::Arc<Deployment>]) -> Value {
    let mut providers: Vec<&str> = Vec::new();
    for d in group {
        if !providers.contains(&d.provider.as_str()) {
            providers.push(&d.provider);
        }
    }
    let mut out = json!({
        "model_group": name,
        "providers": providers,
        "max_input_tokens": null,
        "max_output_tokens": null,
        "input_cost_per_token": null,
        "output_cost_per_token": null,
        "mode": "chat",
        "tpm": sum(group, "tpm"),
        "rpm": sum(group, "rpm"),
    });
    if let Some(Ok(Value::Object(info))) = group
        .iter()
        .find_map(|d| d.info.as_ref())
        .map(serde_json::to_value)
    {
        for (k, v) in info {
            let wanted = k.starts_with("supports_")
                || matches!(
                    k.as_str(),
                    "max_input_tokens"
                        | "max_output_tokens"
                        | "input_cost_per_token"
                        | "output_cost_per_token"
                        | "mode"
                );
            if wanted {
                out[k] = v;
            }
        }
    }
    out
}

/// The deployments' `rpm`/`tpm` added up (LiteLLM's group figure), null when none sets it.
fn sum(group: &[std::sync::Arc<Deployment>], field: &str) -> Value {
    let values: Vec<u64> = group
        .iter()
        .filter_map(|d| {
            let params = serde_json::to_value(&d.entry.litellm_params).ok()?;
            params.get(field)?.as_u64()
        })
        .collect();
    if values.is_empty() {
        Value::Null
    } else {
        json!(values.iter().sum::<u64>())
    }
}

/// One deployment as `/model/info` shows it: credentials never included.
pub fn public_params(d: &Deployment) -> Map<String, Value> {
    let mut params = match serde_json::to_value(&d.entry.litellm_params) {
        Ok(Value::Object(m)) => m,
        _ => Map::new(),
    };
    params.retain(|k, v| !v.is_null() && !crate::config::secret_looking(k));
    if let Some(Value::String(base)) = params.get_mut("api_base") {
        *base = crate::config::display_url(base);
    }
    params
}

/// A deployment's state in the router (llmgate's addition to `/v2/model/info`, under
/// `deployment_state`): failing its health checks, cooling down until when, calls in flight.
fn with_router_state(state: &AppState, d: &Deployment, mut v: Value) -> Value {
    let stats = state.router.registry.get(&d.id);
    let now = llmgate::router::stats::now_ms();
    let cooling = stats.is_cooling(now);
    v["deployment_state"] = json!({
        "healthy": !stats.is_unhealthy(),
        "cooling_down": cooling,
        "cooldown_until": cooling.then(|| llmgate_store::time::iso(stats.cooldown_until())),
        "in_flight": stats.in_flight(),
    });
    v
}

fn model_info(d: &Deployment) -> Value {
    let mut info = match d.info.as_ref().map(serde_json::to_value) {
        Some(Ok(Value::Object(m))) => m,
        _ => Map::new(),
    };
    for (k, v) in &d.entry.model_info.extra {
        info.insert(k.clone(), v.clone());
    }
    info.insert("id".into(), json!(d.id));
    info.insert("db_model".into(), json!(d.db_model));
    info.entry("litellm_provider").or_insert(json!(d.provider));
    json!({
        "model_name": d.model_name,
        "litellm_params": public_params(d),
        "model_info": info,
    })
}
