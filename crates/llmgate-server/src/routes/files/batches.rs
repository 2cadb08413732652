//! OpenAI's Batches API (`/v1/batches`: create, retrieve, list, cancel) in front of OpenAI,
//! Azure, Mistral (batch jobs, `mistral.rs`), Gemini (`batchGenerateContent`, `gemini.rs`),
//! Vertex AI (batchPredictionJobs, `vertex.rs`) and Bedrock (model invocation jobs,
//! `bedrock.rs`), with LiteLLM's batch cost tracking: when a retrieve first sees a batch `completed`,
//! its output file is read, each answer's usage priced at the batch rate (the catalog's
//! `input_cost_per_token_batches` / `output_cost_per_token_batches`, else half the per-token
//! price, as LiteLLM's `batch_cost_calculator` prices them) and the
//! total charged once — `batch_processed` is claimed in the database, so one instance of a
//! fleet charges it — to the key that created the batch, with a spend log (`call_type`
//! `aretrieve_batch`). Batches are recorded in `LiteLLM_ManagedObjectTable`; like files, only
//! their creator (key's user or key, or its team) and admins see them.
//!
//! The batch goes where its input file is: the deployment (or provider) holding it. A batch
//! over a managed file gets LiteLLM's managed batch id (base64 of
//! `litellm_proxy;model_id:<deployment>;llm_batch_id:<id>`); otherwise the provider's id.

use std::time::{Duration, Instant};

use axum::extract::{Path, Query, State};
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use llmgate::Usage;
use llmgate_store::managed::{ManagedFile, ManagedObject};
use serde_json::{json, Value};

use super::logged::{refused, request_tags, Answer, Logged};
use super::target::{object_id, Target};
use super::{
    b64, bedrock, db, find_file, first_copy, gemini, json_of, mistral, owner, send, store,
    translated_content, upstream_error, vertex, visible, FILE_MODEL_FIELD,
};
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::governance::access;
use crate::governance::settle::{CallMeta, Outcome};
use crate::state::AppState;

/// Where the batch's target is kept in the stored object (never shown to clients).
const TARGET_FIELD: &str = "_llmgate_target";

/// The object as the client sees it: the gateway's id, no internal field.
fn shown(mut obj: Value, unified: &str) -> Value {
    if let Some(m) = obj.as_object_mut() {
        m.remove(TARGET_FIELD);
        m.insert("id".into(), Value::String(unified.to_string()));
    }
    obj
}

/// `POST /v1/batches`.
pub async fn create(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Json(mut body): Json<Value>,
) -> Result<Response, GatewayError> {
    let store = store(&state)?;
    let input = body["input_file_id"]
        .as_str()
        .ok_or_else(|| {
            GatewayError::BadRequest("Missing required parameter: 'input_file_id'.".into())
        })?
        .to_string();
    for k in ["endpoint", "completion_window"] {
        if !body[k].is_string() {
            return Err(GatewayError::BadRequest(format!(
                "Missing required parameter: '{k}'."
            )));
        }
    }
    let file: ManagedFile = find_file(&state, &auth, &input).await?;
    let (target, provider_file) = first_copy(&state, &file)?;
    if target.translates() {
        if file.file_object["purpose"].as_str() != Some("batch") {
            return Err(GatewayError::BadRequest(format!(
                "file {input} has purpose {}: a batch's input file must have purpose 'batch'",
                file.file_object["purpose"]
            )));
        }
        if body["endpoint"].as_str() != Some("/v1/chat/completions") {
            return Err(GatewayError::BadRequest(format!(
                "{} batches run /v1/chat/completions requests, not {}",
                target.display_name(),
                body["endpoint"]
            )));
        }
    }
    let tags = request_tags(body.get("litellm_metadata"), Some(&body));
    let logged = Logged::admit(&state, &auth, &target, "acreate_batch", "/batches", tags).await?;
    // A Mistral or Gemini batch without a deployment runs the create's `model` (`mistral.rs`,
    // `gemini.rs`).
    let keep_model = (target.is_mistral() || target.is_gemini()) && target.deployment.is_none();
    if let Some(m) = body.as_object_mut() {
        for k in [
            "custom_llm_provider",
            "target_model_names",
            "model",
            "litellm_metadata",
        ] {
            if !(keep_model && k == "model") {
                m.remove(k);
            }
        }
        m.insert("input_file_id".into(), Value::String(provider_file.clone()));
    }
    let tags = logged.tags().to_vec();
    let made = start(
        &state,
        &auth,
        store,
        &file,
        &target,
        &provider_file,
        &body,
        tags,
    )
    .await;
    logged.end(made)
}

/// The job of a provider the gateway translates for knows nothing of OpenAI's batch fields:
/// the create's are kept (on every read too).
fn keep_openai_fields(obj: &mut Value, from: &Value) {
    for k in ["endpoint", "completion_window", "metadata"] {
        if let Some(v) = from.get(k).filter(|v| !v.is_null()) {
            obj[k] = v.clone();
        }
    }
}

/// The batch started at its provider and recorded: the batch object the client gets.
#[allow(clippy::too_many_arguments)]
async fn start(
    state: &AppState,
    auth: &AuthContext,
    store: &llmgate_store::Store,
    file: &ManagedFile,
    target: &Target,
    provider_file: &str,
    body: &Value,
    tags: Vec<String>,
) -> Result<Answer, GatewayError> {
    let mut obj = if target.translates() {
        let mut obj = if target.is_vertex() {
            vertex::create_batch(state, target, provider_file).await?
        } else if target.is_gemini() {
            // The create's `model`, else the one the file was written for.
            let named = body["model"]
                .as_str()
                .or(file.file_object[FILE_MODEL_FIELD].as_str());
            gemini::create_batch(state, target, provider_file, named).await?
        } else {
            bedrock::create_batch(state, target, provider_file, body).await?
        };
        keep_openai_fields(&mut obj, body);
        obj
    } else if target.is_mistral() {
        match mistral::create_batch(state, target, body).await? {
            Ok(obj) => obj,
            Err(refused) => return Ok(refused),
        }
    } else {
        let res = send(
            target
                .request(state.client.http(), reqwest::Method::POST, "batches")?
                .json(body),
            target.provider,
        )
        .await?;
        if !res.status().is_success() {
            return Ok(refused(res, target.provider).await);
        }
        json_of(res).await?
    };
    let batch_id = target
        .batch_id(obj["id"].as_str().unwrap_or(""))?
        .to_string();
    let managed = file.unified_file_id
        != file
            .flat_model_file_ids
            .first()
            .cloned()
            .unwrap_or_default();
    let unified = if managed {
        b64(&format!(
            "litellm_proxy;model_id:{};llm_batch_id:{batch_id}",
            target.mapping_key()
        ))
    } else {
        batch_id.clone()
    };
    obj["input_file_id"] = Value::String(file.unified_file_id.clone());
    obj[TARGET_FIELD] = Value::String(target.mapping_key());
    let (created_by, team_id) = owner(auth);
    let now = llmgate_store::now_ms();
    let row = ManagedObject {
        id: uuid::Uuid::new_v4().to_string(),
        unified_object_id: unified.clone(),
        model_object_id: batch_id,
        file_object: obj.clone(),
        file_purpose: "batch".into(),
        status: obj["status"].as_str().map(str::to_string),
        batch_processed: Some(false),
        created_at: Some(now),
        updated_at: Some(now),
        created_by: created_by.clone(),
        updated_by: created_by,
        team_id,
        org_id: None,
        api_key: auth.key.as_ref().map(|k| k.row.token.clone()),
        request_tags: json!(tags),
        end_user_id: None,
    };
    store.insert_managed_object(&row).await.map_err(db)?;
    Ok(Answer::Made(shown(obj, &unified)))
}

/// The caller's batch `id` (404 when it does not exist or is another's) and its target.
async fn find(
    state: &AppState,
    auth: &AuthContext,
    id: &str,
) -> Result<(ManagedObject, Target), GatewayError> {
    object_id(id)?;
    let row = store(state)?
        .managed_object(id)
        .await
        .map_err(db)?
        .filter(|r| r.file_purpose == "batch")
        .filter(|r| visible(auth, r.created_by.as_deref(), r.team_id.as_deref()))
        .ok_or_else(|| GatewayError::NotFound(format!("No such Batch object: {id}")))?;
    let key = row.file_object[TARGET_FIELD]
        .as_str()
        .unwrap_or("provider:openai");
    let target = Target::from_mapping(state, key)?.ok_or_else(|| {
        GatewayError::NotFound(format!(
            "the deployment that ran batch {id} is no longer configured"
        ))
    })?;
    Ok((row, target))
}

/// The provider's answer about the batch, stored; the cost charged once it completed.
async fn refresh(
    state: &AppState,
    mut row: ManagedObject,
    target: &Target,
    mut obj: Value,
) -> Result<Value, GatewayError> {
    let store = store(state)?;
    obj["input_file_id"] = row.file_object["input_file_id"].clone();
    obj[TARGET_FIELD] = Value::String(target.mapping_key());
    if target.translates() {
        keep_openai_fields(&mut obj, &row.file_object);
    }
    let completed = obj["status"].as_str() == Some("completed");
    let output = obj["output_file_id"]
        .as_str()
        .filter(|s| completed && !s.is_empty())
        .map(str::to_string);
    if let Some(out) = &output {
        obj["output_file_id"] = Value::String(register_output(state, &row, target, out).await?);
    }
    row.status = obj["status"].as_str().map(str::to_string);
    row.file_object = obj.clone();
    row.updated_at = Some(llmgate_store::now_ms());
    store.update_managed_object(&row).await.map_err(db)?;
    if let Some(out) = &output {
        if row.batch_processed != Some(true)
            && store
                .claim_batch_cost(&row.unified_object_id)
                .await
                .map_err(db)?
        {
            charge(state, &row, target, out).await?;
        }
    }
    Ok(shown(obj, &row.unified_object_id))
}

/// The batch's output file, owned by the batch's creator (its content is read through
/// `/v1/files/{id}/content`), and the id clients see for it: the provider's, or for a `gs://`
/// URI (no URL path segment) its base64.
async fn register_output(
    state: &AppState,
    batch: &ManagedObject,
    target: &Target,
    provider_id: &str,
) -> Result<String, GatewayError> {
    let store = store(state)?;
    target.provider_id(provider_id)?;
    let unified = match object_id(provider_id) {
        Ok(id) => id.to_string(),
        Err(_) => b64(provider_id),
    };
    if store.managed_file(&unified).await.map_err(db)?.is_some() {
        return Ok(unified);
    }
    let mut mappings = serde_json::Map::new();
    mappings.insert(target.mapping_key(), Value::String(provider_id.into()));
    let row = ManagedFile {
        id: uuid::Uuid::new_v4().to_string(),
        unified_file_id: unified.clone(),
        file_object: json!({"id": unified, "object": "file", "purpose": "batch_output"}),
        model_mappings: Value::Object(mappings),
        flat_model_file_ids: vec![provider_id.to_string()],
        created_at: Some(llmgate_store::now_ms()),
        updated_at: Some(llmgate_store::now_ms()),
        created_by: batch.created_by.clone(),
        updated_by: batch.created_by.clone(),
        team_id: batch.team_id.clone(),
    };
    // Two retrieves racing: the second insert is refused by the unique id; either way it is there.
    if let Err(e) = store.insert_managed_file(&row).await {
        if store.managed_file(&unified).await.map_err(db)?.is_none() {
            return Err(db(e));
        }
    }
    Ok(unified)
}

/// The batch's output file as OpenAI's batch output JSONL (None: it could not be read).
async fn output_text(
    state: &AppState,
    row: &ManagedObject,
    target: &Target,
    output_file: &str,
) -> Result<Option<String>, GatewayError> {
    if target.translates() {
        return match translated_content(state, target, output_file).await {
            Ok(b) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
            Err(e) => {
                tracing::warn!(batch = %row.unified_object_id, error = ?e, "could not read a finished batch's output to charge it");
                Ok(None)
            }
        };
    }
    let res = send(
        target.request(
            state.client.http(),
            reqwest::Method::GET,
            &format!("files/{output_file}/content"),
        )?,
        target.provider,
    )
    .await?;
    if !res.status().is_success() {
        tracing::warn!(batch = %row.unified_object_id, status = %res.status(), "could not read a finished batch's output to charge it");
        return Ok(None);
    }
    Ok(Some(res.text().await.unwrap_or_default()))
}

/// Prices the output file's answers and charges them to the batch's creator.
async fn charge(
    state: &AppState,
    row: &ManagedObject,
    target: &Target,
    output_file: &str,
) -> Result<(), GatewayError> {
    let start = Instant::now();
    let Some(text) = output_text(state, row, target, output_file).await? else {
        return Ok(());
    };
    let mut total = Usage::default();
    let mut cost = 0.0;
    let mut model: Option<String> = None;
    let mut priced_dep = target.deployment.clone();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let body = &v["response"]["body"];
        if v["response"]["status_code"].as_u64() != Some(200) || !body["usage"].is_object() {
            continue;
        }
        let Ok(mut u) = serde_json::from_value::<Usage>(body["usage"].clone()) else {
            continue;
        };
        if u.total_tokens == 0 {
            u.total_tokens = u.prompt_tokens + u.completion_tokens;
        }
        let m = body["model"].as_str().map(str::to_string);
        let dep = match &target.deployment {
            Some(d) => d.clone(),
            None => crate::routes::passthrough::priced_for(state, target.provider, m.as_deref()),
        };
        if let Some(c) = dep.batch_cost(&u) {
            cost += c;
        }
        model = model.or(m);
        priced_dep.get_or_insert(dep);
        total.prompt_tokens += u.prompt_tokens;
        total.completion_tokens += u.completion_tokens;
        total.total_tokens += u.total_tokens;
    }
    let Some(dep) = priced_dep else {
        return Ok(());
    };
    let creator = creator(state, row).await?;
    let mut owners = match &creator.key {
        Some(k) => access::load_owners(&state.gov, k).await?,
        None => Default::default(),
    };
    // The tags the batch was created with (its `acreate_batch` row's).
    owners.tag_names = serde_json::from_value(row.request_tags.clone()).unwrap_or_default();
    // LiteLLM's id for the cost row: the create's row has the batch's own id.
    let request_id = format!("{}_batch_cost", row.unified_object_id);
    let group = model.unwrap_or_else(|| dep.model_name.clone());
    let meta = CallMeta {
        start,
        call_id: uuid::Uuid::new_v4().to_string(),
        deployment: dep,
        model_group: group,
        attempted_retries: 0,
        attempted_fallbacks: 0,
        max_retries: 0,
        timeout: None,
        model_region: None,
        upstream_headers: Vec::new(),
        upstream: Duration::ZERO,
        routed: None,
        api_start: None,
    };
    let call = access::Call {
        call_type: "aretrieve_batch",
        route: "/batches",
        meta: &meta,
        usage: Some(&total),
        cost: Some(cost),
        end_user: None,
        partial: false,
        response_id: Some(&request_id),
        cache_hit: false,
        guardrails: &[],
        capture: None,
    };
    access::record(&state.gov, &creator, &owners, call, &Outcome::Success);
    Ok(())
}

/// The key that created the batch, as the caller its cost is charged to.
async fn creator(state: &AppState, row: &ManagedObject) -> Result<AuthContext, GatewayError> {
    let key = match (&row.api_key, &state.gov.store) {
        (Some(hash), Some(store)) => state.gov.keys.get(store, hash).await.map_err(|e| {
            tracing::warn!(error = %e, "key lookup failed");
            GatewayError::Unavailable("the key database is unavailable".into())
        })?,
        _ => None,
    };
    Ok(AuthContext {
        api_key: None,
        is_master: key.is_none(),
        key,
        is_proxy_admin: false,
        client_ip: None,
    })
}

/// `GET /v1/batches/{batch_id}`.
pub async fn retrieve(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(batch_id): Path<String>,
) -> Result<Response, GatewayError> {
    job(&state, &auth, &batch_id, false).await
}

/// `POST /v1/batches/{batch_id}/cancel`.
pub async fn cancel(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(batch_id): Path<String>,
) -> Result<Response, GatewayError> {
    job(&state, &auth, &batch_id, true).await
}

/// A batch read (or cancelled, then read) at its provider, and what it now says recorded.
async fn job(
    state: &AppState,
    auth: &AuthContext,
    batch_id: &str,
    cancel: bool,
) -> Result<Response, GatewayError> {
    let (row, target) = find(state, auth, batch_id).await?;
    let id = target.batch_id(&row.model_object_id)?;
    let obj = if target.is_vertex() {
        vertex::job(state, &target, id, cancel).await?
    } else if target.is_gemini() {
        gemini::job(state, &target, id, cancel).await?
    } else if target.is_bedrock() {
        bedrock::job(state, &target, id, cancel).await?
    } else if target.is_mistral() {
        match mistral::job(state, &target, id, cancel).await? {
            Ok(obj) => obj,
            Err(Answer::Refused(res, _)) => return Ok(res),
            Err(Answer::Made(obj)) => obj,
        }
    } else {
        let (method, path) = if cancel {
            (reqwest::Method::POST, format!("batches/{id}/cancel"))
        } else {
            (reqwest::Method::GET, format!("batches/{id}"))
        };
        let res = send(
            target.request(state.client.http(), method, &path)?,
            target.provider,
        )
        .await?;
        if !res.status().is_success() {
            return Ok(upstream_error(res).await);
        }
        json_of(res).await?
    };
    Ok(Json(refresh(state, row, &target, obj).await?).into_response())
}

/// `GET /v1/batches`: the caller's batches as last seen, newest first (`limit`).
pub async fn list(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<std::collections::HashMap<String, String>>,
) -> Result<Response, GatewayError> {
    let store = store(&state)?;
    let limit = match q.get("limit") {
        Some(l) => l
            .parse::<u64>()
            .ok()
            .filter(|n| (1..=10_000).contains(n))
            .ok_or_else(|| GatewayError::BadRequest("limit must be between 1 and 10000".into()))?,
        None => 20,
    };
    let (me, team) = owner(&auth);
    let mut rows: Vec<ManagedObject> = Vec::new();
    if auth.key.is_none() {
        rows = llmgate_store::managed::OBJECTS
            .list(store, &[("file_purpose", "batch".into())], 1, limit)
            .await
            .map_err(db)?
            .0;
    } else {
        if let Some(me) = &me {
            rows.extend(
                store
                    .managed_objects_by("created_by", me, limit)
                    .await
                    .map_err(db)?,
            );
        }
        if let Some(t) = &team {
            for r in store
                .managed_objects_by("team_id", t, limit)
                .await
                .map_err(db)?
            {
                if !rows
                    .iter()
                    .any(|x| x.unified_object_id == r.unified_object_id)
                {
                    rows.push(r);
                }
            }
        }
    }
    rows.retain(|r| r.file_purpose == "batch");
    rows.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    let data: Vec<Value> = rows
        .into_iter()
        .take(limit as usize)
        .map(|r| shown(r.file_object, &r.unified_object_id))
        .collect();
    let first = data
        .first()
        .and_then(|d| d["id"].as_str())
        .map(str::to_string);
    let last = data
        .last()
        .and_then(|d| d["id"].as_str())
        .map(str::to_string);
    Ok(Json(json!({"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": false}))
        .into_response())
}
