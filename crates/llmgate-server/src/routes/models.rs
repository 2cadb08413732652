//! The models kept in the database: `/model/new`, `/model/update` (and
//! `PATCH /model/{id}/update`), `/model/delete`. Reading them is [`super::model_info`].
//!
//! A database model is a `LiteLLM_ProxyModelTable` row whose `litellm_params` string values
//! are encrypted with the salt key ([`crate::salt`]); it is served as soon as it is written,
//! by every instance within 10 s ([`crate::db_models`]), and after a restart.

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use llmgate_store::entities::{TeamRow, TEAMS};
use llmgate_store::models::{ModelRow, MODELS};
use llmgate_store::Store;
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::admin::{admin_store, db, run};
use super::proxy::parse_body;
use crate::auth::AuthContext;
use crate::db_models::{changed, entry_from_json};
use crate::error::GatewayError;
use crate::state::AppState;

/// `store_model_in_db` (general_settings or `STORE_MODEL_IN_DB`), as LiteLLM requires for
/// `/model/*` writes.
fn store_model_in_db(state: &AppState) -> bool {
    state.config.general_settings.flag("store_model_in_db")
        || std::env::var("STORE_MODEL_IN_DB").is_ok_and(|v| v.eq_ignore_ascii_case("true"))
}

fn writable<'a>(
    state: &'a AppState,
    auth: &AuthContext,
    route: &str,
) -> Result<&'a Store, GatewayError> {
    let store = admin_store(state, auth, route)?;
    models_store(state, store)
}

/// The database, when models may be stored in it (and their credentials encrypted).
fn models_store<'a>(state: &'a AppState, store: &'a Store) -> Result<&'a Store, GatewayError> {
    if !store_model_in_db(state) {
        return Err(GatewayError::Internal(
            "Set `'STORE_MODEL_IN_DB='True'` in your env to enable this feature.".into(),
        ));
    }
    if state.salt.is_none() {
        return Err(GatewayError::Internal(
            "Set LITELLM_SALT_KEY (or a master key) to store model credentials encrypted.".into(),
        ));
    }
    Ok(store)
}

/// What `/model/new` and `/model/update` take (`PATCH` also `litellm_params_to_remove`).
#[derive(Deserialize)]
struct ModelBody {
    model_name: Option<String>,
    #[serde(default)]
    litellm_params_to_remove: Vec<String>,
    #[serde(default)]
    litellm_params: Option<Map<String, Value>>,
    #[serde(default)]
    model_info: Option<Map<String, Value>>,
}

/// A row as the routes answer it: the stored (encrypted) params, never plaintext secrets.
fn public_row(row: &ModelRow) -> Value {
    let mut v = serde_json::to_value(row).unwrap_or(Value::Null);
    for k in ["created_at", "updated_at"] {
        if let Some(ms) = v[k].as_i64() {
            v[k] = json!(llmgate_store::time::iso(ms));
        }
    }
    v
}

fn who(auth: &AuthContext) -> String {
    auth.key
        .as_ref()
        .and_then(|k| k.row.user_id.clone())
        .unwrap_or_else(|| "default_user_id".into())
}

/// Who may add a model: a proxy admin, or for a team's model (`model_info.team_id`) that
/// team's admin, as LiteLLM 1.110 checks (its enterprise licence aside).
async fn creator_store<'a>(
    state: &'a AppState,
    auth: &AuthContext,
    team_id: Option<&str>,
) -> Result<(&'a Store, Option<TeamRow>), GatewayError> {
    let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
    let team = match team_id {
        Some(t) => Some(
            TEAMS
                .get::<TeamRow>(store, t)
                .await
                .map_err(db)?
                .ok_or_else(|| {
                    GatewayError::BadRequest(format!("Team id={t} does not exist in db"))
                })?,
        ),
        None => None,
    };
    let user = auth.key.as_ref().and_then(|k| k.row.user_id.clone());
    let team_admin = team
        .as_ref()
        .is_some_and(|t| user.as_ref().is_some_and(|u| t.admins.contains(u)));
    if !auth.is_admin() && !team_admin {
        let role = match auth.user_id() {
            Some(u) => state.gov.keys.users.get(store, u).await.map_err(db)?,
            None => None,
        }
        .and_then(|u| u.row.user_role.clone())
        .unwrap_or_else(|| "None".into());
        return Err(GatewayError::Forbidden {
            message: match team_id {
                Some(t) => format!(
                    "Team ID={t} does not match the API key's team ID={}, OR you are not the admin for this team. Check `/user/info` to verify your team admin status.",
                    auth.key
                        .as_ref()
                        .and_then(|k| k.row.team_id.clone())
                        .unwrap_or_else(|| "None".into())
                ),
                None => format!(
                    "User does not have permission to make this model call. Your role={role}. You can only make model calls if you are a PROXY_ADMIN or if you are a team admin, by specifying a team_id in the model_info."
                ),
            },
            kind: "auth_error",
        });
    }
    Ok((models_store(state, store)?, team))
}

pub async fn new(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let b: ModelBody = parse_body(&body)?;
        let mut info = b.model_info.unwrap_or_default();
        let team_id = info
            .get("team_id")
            .and_then(Value::as_str)
            .map(str::to_string);
        let (store, team) = creator_store(&state, &auth, team_id.as_deref()).await?;
        let mut name = b
            .model_name
            .filter(|n| !n.is_empty())
            .ok_or_else(|| GatewayError::BadRequest("model_name is required".into()))?;
        let params = b
            .litellm_params
            .ok_or_else(|| GatewayError::BadRequest("litellm_params is required".into()))?;
        // A team's model: stored under a unique internal name, served to the team's keys by
        // its public name (`team_public_model_name`), which joins the team's models.
        if let Some(t) = &team {
            info.insert("team_public_model_name".into(), json!(name));
            name = format!("model_name_{}_{}", t.team_id, uuid::Uuid::new_v4());
        }
        let id = info
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
        info.insert("id".into(), json!(id));
        entry_from_json(&name, params.clone(), info.clone()).map_err(GatewayError::BadRequest)?;
        if MODELS
            .get::<ModelRow>(store, &id)
            .await
            .map_err(db)?
            .is_some()
            || state.deployments().all().iter().any(|d| d.id == id)
        {
            return Err(GatewayError::BadRequest(format!(
                "Model with id={id} already exists"
            )));
        }
        let salt = state.salt.as_ref().expect("checked by writable");
        let now = llmgate_store::now_ms();
        let row = ModelRow {
            model_id: id,
            model_name: name,
            litellm_params: Value::Object(salt.encrypt_params(&params)),
            model_info: Value::Object(info),
            blocked: false,
            created_at: Some(now),
            created_by: who(&auth),
            updated_at: Some(now),
            updated_by: who(&auth),
        };
        MODELS.insert(store, &row).await.map_err(db)?;
        if let Some(mut t) = team {
            let public = row.model_info["team_public_model_name"]
                .as_str()
                .unwrap_or_default()
                .to_string();
            // As LiteLLM: a team open to every model keeps that, plus the new one.
            if t.models.is_empty() {
                t.models.push("all-proxy-models".into());
            }
            if !t.models.contains(&public) {
                t.models.push(public);
            }
            t.updated_at = Some(now);
            TEAMS
                .update(store, &t.team_id.clone(), &t)
                .await
                .map_err(db)?;
            state.gov.keys.teams.put(t);
        }
        changed(&state).await?;
        Ok(Json(public_row(&row)).into_response())
    })
    .await
}

pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let b: ModelBody = parse_body(&body)?;
        let id = b
            .model_info
            .as_ref()
            .and_then(|i| i.get("id"))
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| GatewayError::BadRequest("model_info.id is required".into()))?;
        update_model(&state, &auth, &id, b).await
    })
    .await
}

pub async fn patch(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    run(async {
        let b: ModelBody = parse_body(&body)?;
        update_model(&state, &auth, &id, b).await
    })
    .await
}

/// Merges the body into the stored row: given params replace (encrypted), the rest stay.
async fn update_model(
    state: &AppState,
    auth: &AuthContext,
    id: &str,
    b: ModelBody,
) -> Result<Response, GatewayError> {
    let store = writable(state, auth, "/model/update")?;
    let Some(mut row) = MODELS.get::<ModelRow>(store, id).await.map_err(db)? else {
        let in_config = state
            .deployments()
            .all()
            .iter()
            .any(|d| d.id == id && !d.db_model);
        return Err(if in_config {
            GatewayError::BadRequest(
                "Can't edit model. Model in config. Store model in db via `/model/new`. to edit."
                    .into(),
            )
        } else {
            GatewayError::BadRequest(format!("Model with id={id} not found in db"))
        });
    };
    let salt = state.salt.as_ref().expect("checked by writable");
    let mut params = row.litellm_params.as_object().cloned().unwrap_or_default();
    for k in &b.litellm_params_to_remove {
        if k == "model" {
            return Err(GatewayError::BadRequest(
                "litellm_params.model cannot be removed".into(),
            ));
        }
        params.remove(k);
    }
    for (k, v) in b.litellm_params.unwrap_or_default() {
        if !v.is_null() {
            params.insert(k, v);
        }
    }
    let mut info = row.model_info.as_object().cloned().unwrap_or_default();
    for (k, v) in b.model_info.unwrap_or_default() {
        info.insert(k, v);
    }
    info.insert("id".into(), json!(id));
    if let Some(n) = b.model_name.filter(|n| !n.is_empty()) {
        row.model_name = n;
    }
    // Validate the merged model with the new values in plaintext.
    entry_from_json(&row.model_name, salt.decrypt_params(&params), info.clone())
        .map_err(GatewayError::BadRequest)?;
    // Values already stored stay as they are; new ones are encrypted.
    let stored: Map<String, Value> = params
        .into_iter()
        .map(|(k, v)| match v {
            Value::String(s) if salt.decrypt(&s).is_none() => (k, json!(salt.encrypt(&s))),
            other => (k, other),
        })
        .collect();
    row.litellm_params = Value::Object(stored);
    row.model_info = Value::Object(info);
    row.updated_at = Some(llmgate_store::now_ms());
    row.updated_by = who(auth);
    MODELS.update(store, id, &row).await.map_err(db)?;
    changed(state).await?;
    Ok(Json(public_row(&row)).into_response())
}

#[derive(Deserialize)]
struct BlockBody {
    model_id: Option<String>,
}

/// `/model/block` and `/model/unblock` (LiteLLM 1.110): a stored deployment stops (or starts
/// again) serving, on this instance at once and on the others at their next model refresh.
pub async fn block(state: State<AppState>, auth: Extension<AuthContext>, body: Bytes) -> Response {
    set_blocked(state, auth, body, true).await
}

pub async fn unblock(
    state: State<AppState>,
    auth: Extension<AuthContext>,
    body: Bytes,
) -> Response {
    set_blocked(state, auth, body, false).await
}

async fn set_blocked(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
    blocked: bool,
) -> Response {
    run(async {
        let route = if blocked {
            "/model/block"
        } else {
            "/model/unblock"
        };
        let store = writable(&state, &auth, route)?;
        if !auth.is_admin() {
            return Err(GatewayError::Forbidden {
                message: "Only proxy admins can change a model's blocked flag.".into(),
                kind: "auth_error",
            });
        }
        let b: BlockBody = parse_body(&body)?;
        let id = b
            .model_id
            .ok_or_else(|| GatewayError::BadRequest("model_id is required".into()))?;
        let Some(mut row) = MODELS.get::<ModelRow>(store, &id).await.map_err(db)? else {
            let in_config = state.deployments().all().iter().any(|d| d.id == id);
            return Err(if in_config {
                GatewayError::BadRequest(
                    "Cannot edit config-based model. Store model in DB via /model/new first."
                        .into(),
                )
            } else {
                GatewayError::NotFound(format!("Model {id} not found on proxy."))
            });
        };
        row.blocked = blocked;
        row.updated_at = Some(llmgate_store::now_ms());
        row.updated_by = who(&auth);
        MODELS.update(store, &id, &row).await.map_err(db)?;
        changed(&state).await?;
        Ok(Json(public_row(&row)).into_response())
    })
    .await
}

#[derive(Deserialize)]
struct DeleteBody {
    id: Option<String>,
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = writable(&state, &auth, "/model/delete")?;
        let b: DeleteBody = parse_body(&body)?;
        let id =
            b.id.ok_or_else(|| GatewayError::BadRequest("id is required".into()))?;
        if !MODELS.delete(store, &id).await.map_err(db)? {
            return Err(GatewayError::BadRequest(format!(
                "Model with id={id} not found in db"
            )));
        }
        changed(&state).await?;
        Ok(Json(json!({"message": format!("Model: {id} deleted successfully")})).into_response())
    })
    .await
}
