//! Key management as LiteLLM's proxy serves it: `/key/generate`, `/key/info`, `/key/update`,
//! `/key/delete`, `/key/list`, `/key/block`, `/key/unblock`. Admin only (the master key).

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use llmgate_store::keys::{KeyFilter, KeyRow};
use llmgate_store::{now_ms, Store};
use serde::Deserialize;
use serde_json::{json, Map, Value};

use super::admin::{admin_store, db, generate_key, run, set_spend, token_of};
use super::entities::{check_budget_exists, set_key_soft_budget};
use super::fields::{clear_nulls, null_fields, Accepted, Extra, Shape};
use super::proxy::parse_body;
use crate::auth::{abbreviate, AuthContext};
use crate::error::GatewayError;
use crate::governance::budgets::duration_ms;
use crate::state::AppState;

mod self_service;

/// The fields of `/key/generate`, `/key/update` and `/key/regenerate` we store
/// (LiteLLM's `GenerateKeyRequest`, `UpdateKeyRequest`, `RegenerateKeyRequest`).
#[derive(Deserialize, Default)]
struct KeyFields {
    key: Option<String>,
    key_alias: Option<String>,
    duration: Option<String>,
    models: Option<Vec<String>>,
    max_budget: Option<f64>,
    budget_duration: Option<String>,
    budget_id: Option<String>,
    soft_budget: Option<f64>,
    tpm_limit: Option<i64>,
    rpm_limit: Option<i64>,
    max_parallel_requests: Option<i64>,
    model_max_budget: Option<Map<String, Value>>,
    user_id: Option<String>,
    team_id: Option<String>,
    organization_id: Option<String>,
    metadata: Option<Map<String, Value>>,
    allowed_routes: Option<Vec<String>>,
    allowed_cache_controls: Option<Vec<String>>,
    blocked: Option<bool>,
    aliases: Option<Map<String, Value>>,
    permissions: Option<Map<String, Value>>,
    config: Option<Map<String, Value>>,
    router_settings: Option<Map<String, Value>>,
    key_type: Option<KeyType>,
    policies: Option<Vec<String>>,
    access_group_ids: Option<Vec<String>>,
    auto_rotate: Option<bool>,
    rotation_interval: Option<String>,
    /// Set by an admin (`/key/update`), as LiteLLM allows; ignored on `/key/generate`.
    spend: Option<f64>,
    /// The agents (and MCP servers) the key may use: stored in its own table, see
    /// [`super::object_permission`].
    object_permission: Option<Map<String, Value>>,
    #[serde(flatten)]
    extra: Extra,
}

/// LiteLLM's `LiteLLMKeyType`.
#[derive(Deserialize, Clone, Copy)]
#[serde(rename_all = "snake_case")]
enum KeyType {
    LlmApi,
    Management,
    ReadOnly,
    Default,
}

impl KeyType {
    fn as_str(self) -> &'static str {
        match self {
            KeyType::LlmApi => "llm_api",
            KeyType::Management => "management",
            KeyType::ReadOnly => "read_only",
            KeyType::Default => "default",
        }
    }
}

/// What LiteLLM's key requests take beyond [`KeyFields`]: the fields it moves into the key's
/// metadata (`LiteLLM_ManagementEndpoint_MetadataFields` and the rest that have no column),
/// and those llmgate has no use for.
const KEY_EXTRA: Accepted = Accepted {
    metadata: &[
        ("tags", Shape::Strs),
        ("guardrails", Shape::Strs),
        ("prompts", Shape::Strs),
        ("enforced_params", Shape::Strs),
        ("model_rpm_limit", Shape::Object),
        ("model_tpm_limit", Shape::Object),
        ("temp_budget_increase", Shape::Num),
        ("temp_budget_expiry", Shape::Str),
        ("allowed_passthrough_routes", Shape::List),
        ("allowed_vector_store_indexes", Shape::List),
        ("rpm_limit_type", Shape::Str),
        ("tpm_limit_type", Shape::Str),
    ],
    ignored: &[
        ("agent_id", Shape::Str),
        ("project_id", Shape::Str),
        // llmgate sends no email.
        ("send_invite_email", Shape::Bool),
        // `/key/regenerate`: the old secret stops working at once; there is no master-key rotation.
        ("grace_period", Shape::Str),
        ("new_master_key", Shape::Str),
    ],
};

/// The columns `/key/update` clears when given `null` (LiteLLM's `prepare_key_update_data`
/// stores every field set, `None` included).
const KEY_CLEARABLE: &[&str] = &[
    "key_alias",
    "models",
    "max_budget",
    "budget_duration",
    "budget_id",
    "tpm_limit",
    "rpm_limit",
    "max_parallel_requests",
    "model_max_budget",
    "user_id",
    "team_id",
    "organization_id",
    "metadata",
    "allowed_routes",
    "allowed_cache_controls",
    "aliases",
    "permissions",
    "config",
    "router_settings",
    "key_type",
    "policies",
    "access_group_ids",
    "auto_rotate",
    "rotation_interval",
];

impl KeyFields {
    fn apply(self, route: &str, row: &mut KeyRow) -> Result<(), GatewayError> {
        let bad = |m: String| GatewayError::BadRequest(m);
        if let Some(d) = &self.duration {
            let ms = duration_ms(d).ok_or_else(|| {
                bad(format!(
                    "invalid duration '{d}': use e.g. 30s, 1h, 30d, 1mo"
                ))
            })?;
            row.expires = Some(now_ms() + ms);
        }
        if let Some(d) = &self.budget_duration {
            let ms = duration_ms(d).ok_or_else(|| bad(format!("invalid budget_duration '{d}'")))?;
            row.budget_duration = Some(d.clone());
            row.budget_reset_at = Some(now_ms() + ms);
        }
        if let Some(d) = self
            .rotation_interval
            .as_deref()
            .filter(|d| duration_ms(d).is_none())
        {
            return Err(bad(format!("invalid rotation_interval '{d}'")));
        }
        if let Some(b) = self.max_budget {
            if b < 0.0 {
                return Err(bad("max_budget must not be negative".into()));
            }
            row.max_budget = Some(b);
        }
        // As LiteLLM: a given `metadata` replaces the old one (`{}` clears it).
        if let Some(m) = self.metadata {
            row.metadata = Value::Object(m);
        }
        self.extra.apply(route, &KEY_EXTRA, &mut row.metadata)?;
        macro_rules! set {
            ($($f:ident),*) => {$( if let Some(v) = self.$f { row.$f = Some(v); } )*};
        }
        set!(
            key_alias,
            tpm_limit,
            rpm_limit,
            max_parallel_requests,
            user_id,
            team_id,
            organization_id,
            budget_id,
            blocked,
            auto_rotate,
            rotation_interval
        );
        if let Some(t) = self.key_type {
            row.key_type = Some(t.as_str().into());
        }
        for (dst, src) in [
            (&mut row.models, self.models),
            (&mut row.allowed_routes, self.allowed_routes),
            (&mut row.allowed_cache_controls, self.allowed_cache_controls),
            (&mut row.policies, self.policies),
            (&mut row.access_group_ids, self.access_group_ids),
        ] {
            if let Some(v) = src {
                *dst = v;
            }
        }
        for (dst, src) in [
            (&mut row.model_max_budget, self.model_max_budget),
            (&mut row.aliases, self.aliases),
            (&mut row.permissions, self.permissions),
            (&mut row.config, self.config),
            (&mut row.router_settings, self.router_settings),
        ] {
            if let Some(m) = src {
                *dst = Value::Object(m);
            }
        }
        Ok(())
    }
}

/// A row as LiteLLM reports it (`/key/info`'s `info`, `/key/update`'s answer).
fn public(row: &KeyRow, spend: f64) -> Value {
    let mut v = serde_json::to_value(row).unwrap_or(Value::Null);
    v["spend"] = json!(spend);
    for k in ["expires", "budget_reset_at", "created_at", "updated_at"] {
        if let Some(ms) = v[k].as_i64() {
            v[k] = json!(llmgate_store::time::iso(ms));
        }
    }
    v
}

pub async fn generate(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let mut fields: KeyFields = if body.is_empty() {
            KeyFields::default()
        } else {
            parse_body(&body)?
        };
        let store = match auth.is_admin() {
            true => admin_store(&state, &auth, "/key/generate")?,
            false => self_service::check(&state, &auth, &mut fields).await?,
        };
        let custom = fields.key.clone();
        let soft = soft_budget(&fields)?;
        check_budget_exists(store, &fields.budget_id).await?;
        let mut template = KeyRow::default();
        if let Some(op) = fields.object_permission.take() {
            // Which agents and MCP servers a key reaches is the admin's to grant.
            if !auth.is_admin() {
                return Err(super::admin::forbidden(
                    "/key/generate with object_permission",
                ));
            }
            template.object_permission_id =
                Some(super::object_permission::save(store, None, &op).await?);
        }
        fields.apply("/key/generate", &mut template)?;
        if let Some(sb) = soft {
            set_key_soft_budget(&state, store, &mut template.budget_id, sb).await?;
        }
        let (secret, row) = generate_key(&state, store, custom, template).await?;
        let mut out = public(&row, 0.0);
        out["soft_budget"] = json!(soft);
        out["key"] = json!(secret);
        out["token"] = json!(row.token);
        out["token_id"] = json!(row.token);
        Ok(Json(out).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct KeyQuery {
    key: Option<String>,
}

pub async fn info(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<KeyQuery>,
) -> Response {
    run(async {
        // A key may always read its own info.
        let key = match (&q.key, &auth.key) {
            (None, Some(own)) => {
                let mut info = public(&own.row, own.spend());
                if let Some(store) = &state.gov.store {
                    let id = own.row.object_permission_id.as_deref();
                    super::object_permission::attach(store, id, &mut info).await?;
                }
                return Ok(Json(json!({"key": own.row.token, "info": info})).into_response());
            }
            (Some(k), _) => k.clone(),
            (None, None) => {
                return Err(GatewayError::BadRequest(
                    "key is required (?key=sk-...)".into(),
                ))
            }
        };
        let token = token_of(&key);
        let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
        let cached = state.gov.keys.get(store, &token).await.map_err(db)?;
        // As LiteLLM: an unknown key is 404 for anyone; another's key is 403 unless it belongs
        // to the caller's own user.
        let k = cached.ok_or_else(|| GatewayError::NotFoundParam {
            message: "Key not found in database".into(),
            param: "key",
        })?;
        let own = auth.key.as_ref().is_some_and(|c| c.row.token == token)
            || auth
                .user_id()
                .is_some_and(|u| k.row.user_id.as_deref() == Some(u));
        if !own && !auth.is_admin() {
            // LiteLLM's words, naming the caller's role.
            let user = match auth.user_id() {
                Some(u) => state.gov.keys.users.get(store, u).await.map_err(db)?,
                None => None,
            };
            let role = user.and_then(|u| u.row.user_role.clone());
            return Err(GatewayError::Forbidden {
                message: format!(
                    "You are not allowed to access this key's info. Your role={}",
                    role.as_deref().unwrap_or("None")
                ),
                kind: "auth_error",
            });
        }
        let mut info = public(&k.row, k.spend());
        let id = k.row.object_permission_id.as_deref();
        super::object_permission::attach(store, id, &mut info).await?;
        Ok(Json(json!({"key": key, "info": info})).into_response())
    })
    .await
}

#[derive(Deserialize)]
struct UpdateBody {
    key: String,
    #[serde(flatten)]
    fields: Value,
}

pub async fn update(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/key/update")?;
        let b: UpdateBody = parse_body(&body)?;
        let mut fields: KeyFields = serde_json::from_value(b.fields)
            .map_err(|e| GatewayError::BadRequest(format!("Invalid request body: {e}")))?;
        let permission_id = match fields.object_permission.take() {
            Some(op) => {
                let current = store.get_key(&token_of(&b.key)).await.map_err(db)?;
                let current = current.and_then(|r| r.object_permission_id);
                Some(super::object_permission::save(store, current.as_deref(), &op).await?)
            }
            None => None,
        };
        if fields.key.is_some() {
            return Err(GatewayError::BadRequest(
                "the key value cannot be changed; use /key/regenerate".into(),
            ));
        }
        let soft = soft_budget(&fields)?;
        check_budget_exists(store, &fields.budget_id).await?;
        let spend = fields.spend;
        let nulls = null_fields(&body);
        let res = change_key(&state, store, &b.key, |row| {
            if permission_id.is_some() {
                row.object_permission_id = permission_id;
            }
            fields.apply("/key/update", row)?;
            // The fields LiteLLM keeps in the metadata are left as they are when null (its
            // `prepare_metadata_fields` drops None); a new `metadata` replaces them.
            clear_nulls(row, &nulls, KEY_CLEARABLE)
        })
        .await?;
        if spend.is_some() {
            let token = token_of(&b.key);
            let cache = &state.gov.keys.keys;
            set_spend(
                &state,
                store,
                (llmgate_store::keys::TABLE, "token"),
                cache,
                &token,
                spend,
            )
            .await?;
        }
        let Some(sb) = soft else {
            return match spend {
                Some(_) => info_of(&state, store, &b.key).await,
                None => Ok(res),
            };
        };
        // The soft budget lives in the key's budget row (created on first use).
        let mut row = store
            .get_key(&token_of(&b.key))
            .await
            .map_err(db)?
            .ok_or_else(|| {
                GatewayError::NotFound(format!("Key not found: {}", abbreviate(&b.key)))
            })?;
        let before = row.budget_id.clone();
        set_key_soft_budget(&state, store, &mut row.budget_id, sb).await?;
        if row.budget_id != before {
            store.update_key(&row).await.map_err(db)?;
        }
        let k = state.gov.keys.put(row);
        let mut out = public(&k.row, k.spend());
        out["soft_budget"] = json!(sb);
        Ok(Json(out).into_response())
    })
    .await
}

/// A valid `soft_budget` from the body, if any.
fn soft_budget(f: &KeyFields) -> Result<Option<f64>, GatewayError> {
    match f.soft_budget {
        Some(b) if !b.is_finite() || b < 0.0 => Err(GatewayError::BadRequest(format!(
            "soft_budget must be a non-negative finite number. Received: {b}"
        ))),
        other => Ok(other),
    }
}

/// The key as `/key/update` answers it, read afresh (after its spend was set).
async fn info_of(state: &AppState, store: &Store, key: &str) -> Result<Response, GatewayError> {
    let k = state
        .gov
        .keys
        .get(store, &token_of(key))
        .await
        .map_err(db)?;
    let k =
        k.ok_or_else(|| GatewayError::NotFound(format!("Key not found: {}", abbreviate(key))))?;
    Ok(Json(public(&k.row, k.spend())).into_response())
}

/// Loads a key (by secret or hash), changes it, writes it back and refreshes the cache.
async fn change_key(
    state: &AppState,
    store: &Store,
    key: &str,
    change: impl FnOnce(&mut KeyRow) -> Result<(), GatewayError>,
) -> Result<Response, GatewayError> {
    let mut row = store
        .get_key(&token_of(key))
        .await
        .map_err(db)?
        .ok_or_else(|| GatewayError::NotFound(format!("Key not found: {}", abbreviate(key))))?;
    change(&mut row)?;
    row.updated_at = Some(now_ms());
    store.update_key(&row).await.map_err(db)?;
    let k = state.gov.keys.put(row);
    Ok(Json(public(&k.row, k.spend())).into_response())
}

/// LiteLLM's `KeyRequest`.
#[derive(Deserialize)]
struct DeleteBody {
    #[serde(default)]
    keys: Vec<String>,
    #[serde(default)]
    key_aliases: Vec<String>,
    #[serde(flatten)]
    extra: Extra,
}

pub async fn delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/key/delete")?;
        let b: DeleteBody = parse_body(&body)?;
        b.extra.ignore("/key/delete", &Accepted::NONE)?;
        if b.keys.is_empty() && b.key_aliases.is_empty() {
            return Err(GatewayError::BadRequest(
                "keys or key_aliases is required".into(),
            ));
        }
        let mut tokens: Vec<(String, String)> =
            b.keys.iter().map(|k| (k.clone(), token_of(k))).collect();
        for alias in &b.key_aliases {
            let (rows, _) = store
                .list_keys(
                    &KeyFilter {
                        key_alias: Some(alias.clone()),
                        ..Default::default()
                    },
                    1,
                    1000,
                )
                .await
                .map_err(db)?;
            tokens.extend(rows.into_iter().map(|r| (alias.clone(), r.token)));
        }
        let mut deleted = Vec::new();
        for (given, token) in tokens {
            if store.delete_key(&token).await.map_err(db)? {
                state.gov.keys.remove(&token);
                deleted.push(given);
            } else {
                return Err(GatewayError::NotFound(format!(
                    "Key not found: {}",
                    abbreviate(&given)
                )));
            }
        }
        Ok(Json(json!({"deleted_keys": deleted})).into_response())
    })
    .await
}

#[derive(Deserialize)]
pub struct ListQuery {
    page: Option<u64>,
    size: Option<u64>,
    user_id: Option<String>,
    team_id: Option<String>,
    organization_id: Option<String>,
    key_alias: Option<String>,
    key_hash: Option<String>,
    sort_by: Option<String>,
    sort_order: Option<String>,
    return_full_object: Option<bool>,
}

pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<ListQuery>,
) -> Response {
    run(async {
        // Anyone with a key may list; a key that is not an admin's sees its own user's keys.
        let store = state.gov.store.as_ref().ok_or(GatewayError::NoDb)?;
        let mut user_id = q.user_id;
        if !auth.is_admin() {
            let own = auth.key.as_ref().and_then(|k| k.row.user_id.clone());
            match (&own, &user_id) {
                (Some(o), Some(u)) if o != u => {
                    return Err(GatewayError::Forbidden {
                        message: "You can only list your own keys".into(),
                        kind: "auth_error",
                    })
                }
                (None, _) => {
                    return Err(GatewayError::Auth(
                        "Authentication Error, only the proxy admin or a key's user can call /key/list".into(),
                    ))
                }
                _ => user_id = own,
            }
        }
        let page = q.page.unwrap_or(1).max(1);
        let size = q.size.unwrap_or(10).clamp(1, 100);
        const SORTABLE: &[&str] = &["created_at", "updated_at", "spend", "key_alias", "expires", "max_budget"];
        if let Some(c) = q.sort_by.as_deref().filter(|c| !SORTABLE.contains(c)) {
            return Err(GatewayError::BadRequest(format!(
                "sort_by must be one of {SORTABLE:?}; got '{c}'"
            )));
        }
        let descending = match q.sort_order.as_deref().unwrap_or("desc") {
            "desc" => true,
            "asc" => false,
            other => {
                return Err(GatewayError::BadRequest(format!(
                    "sort_order must be asc or desc; got '{other}'"
                )))
            }
        };
        let filter = KeyFilter {
            user_id,
            team_id: q.team_id,
            organization_id: q.organization_id,
            key_alias: q.key_alias,
            // LiteLLM's `key_hash` is the hashed token; a secret (`sk-...`) is hashed here.
            token: q.key_hash.as_deref().map(token_of),
            sort_by: q.sort_by,
            descending,
        };
        let (rows, total) = store.list_keys(&filter, page, size).await.map_err(db)?;
        let keys: Vec<Value> = if q.return_full_object.unwrap_or(false) {
            rows.iter().map(|r| public(r, r.spend)).collect()
        } else {
            rows.iter().map(|r| json!(r.token)).collect()
        };
        Ok(Json(json!({"keys": keys, "total_count": total, "current_page": page, "total_pages": total.div_ceil(size)})).into_response())
    })
    .await
}

/// `/key/health`: whether the calling key works (LiteLLM also reports its logging callbacks;
/// llmgate has none to check).
pub async fn health(Extension(auth): Extension<AuthContext>) -> Response {
    let key = auth.key.as_ref().map(|k| k.row.token.clone());
    Json(json!({"key": "healthy", "logging_callbacks": null, "token": key})).into_response()
}

#[derive(Deserialize)]
struct RegenerateBody {
    key: Option<String>,
    new_key: Option<String>,
    #[serde(flatten)]
    fields: Value,
}

/// `/key/regenerate` and `/key/{key}/regenerate`: a new secret for the same key (its settings
/// and spend carried over); the old secret stops working at once.
pub async fn regenerate(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    path: Option<axum::extract::Path<String>>,
    body: Bytes,
) -> Response {
    run(async {
        let store = admin_store(&state, &auth, "/key/regenerate")?;
        let b: RegenerateBody = if body.is_empty() {
            RegenerateBody {
                key: None,
                new_key: None,
                fields: json!({}),
            }
        } else {
            parse_body(&body)?
        };
        let key = path
            .map(|p| p.0)
            .or(b.key)
            .ok_or_else(|| GatewayError::BadRequest("key is required".into()))?;
        let fields: KeyFields = serde_json::from_value(b.fields)
            .map_err(|e| GatewayError::BadRequest(format!("Invalid request body: {e}")))?;
        check_budget_exists(store, &fields.budget_id).await?;
        let old_token = token_of(&key);
        let mut row = store
            .get_key(&old_token)
            .await
            .map_err(db)?
            .ok_or_else(|| {
                GatewayError::NotFound(format!("Key not found: {}", abbreviate(&key)))
            })?;
        fields.apply("/key/regenerate", &mut row)?;
        let spend = state
            .gov
            .keys
            .keys
            .get_or_load(&old_token, || async { Ok(None) })
            .await
            .ok()
            .flatten()
            .map(|k| k.spend())
            .unwrap_or(row.spend);
        row.spend = spend;
        let (secret, new_row) = generate_key(&state, store, b.new_key, row).await?;
        store.delete_key(&old_token).await.map_err(db)?;
        state.gov.keys.remove(&old_token);
        let mut out = public(&new_row, spend);
        out["key"] = json!(secret);
        out["token"] = json!(new_row.token);
        out["token_id"] = json!(new_row.token);
        Ok(Json(out).into_response())
    })
    .await
}

/// LiteLLM's `BlockKeyRequest`.
#[derive(Deserialize)]
struct BlockBody {
    key: String,
    #[serde(flatten)]
    extra: Extra,
}

async fn set_blocked(
    state: AppState,
    auth: AuthContext,
    body: Bytes,
    blocked: bool,
) -> Result<Response, GatewayError> {
    let route = if blocked {
        "/key/block"
    } else {
        "/key/unblock"
    };
    let store = admin_store(&state, &auth, route)?;
    let b: BlockBody = parse_body(&body)?;
    b.extra.ignore(route, &Accepted::NONE)?;
    change_key(&state, store, &b.key, |row| {
        row.blocked = Some(blocked);
        Ok(())
    })
    .await
}

pub async fn block(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(set_blocked(state, auth, body, true)).await
}

pub async fn unblock(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    run(set_blocked(state, auth, body, false)).await
}
