//! OpenAI's Files API (`/v1/files`: upload, list, retrieve, content, delete) in front of OpenAI,
//! Azure, Mistral (`mistral.rs`), Gemini (`gemini.rs`), Vertex AI (Cloud Storage, `vertex.rs`)
//! and Bedrock (S3, `bedrock.rs`), as LiteLLM's proxy serves it, and the Batches API
//! (`batches.rs`).
//!
//! Every file uploaded through the gateway is recorded in `LiteLLM_ManagedFileTable` with who
//! uploaded it (the key's user, else the key; its team): only they (and admins) list, read or
//! delete it — anyone else gets a 404, as for a file that does not exist. An upload naming
//! `target_model_names` goes to each model's deployment and is answered with LiteLLM's managed
//! file id (base64 of `litellm_proxy:<mime>;unified_id,<uuid>;target_model_names,<names>`);
//! otherwise the provider's own id is returned (a provider id that is no URL path segment — a
//! Vertex file's `gs://` URI, a Bedrock file's `s3://` URI, a Gemini file's `files/{id}` —
//! always gets the managed id). Where a call goes: `target.rs`. An upload and
//! a batch create are admitted as every LLM call is (budgets, rate limits, parallel slot).

mod batches;
mod bedrock;
mod gemini;
mod logged;
mod mistral;
mod target;
mod vertex;

use axum::body::Body;
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Extension, Json, Router};
use base64::Engine;
use futures::StreamExt;
use llmgate_store::managed::ManagedFile;
use serde_json::{json, Value};

use super::Listed;
use crate::auth::AuthContext;
use crate::error::GatewayError;
use crate::state::AppState;
use logged::{Answer, Logged};
use target::{object_id, Target};

/// The files and batches routes, with and without `/v1`.
pub(super) fn add_routes(mut r: Router<AppState>) -> Router<AppState> {
    for prefix in ["", "/v1"] {
        r = r
            .add(
                &format!("{prefix}/files"),
                "GET,POST",
                post(upload).get(list),
            )
            .add(
                &format!("{prefix}/files/{{file_id}}"),
                "GET,DELETE",
                get(retrieve).delete(delete),
            )
            .add(
                &format!("{prefix}/files/{{file_id}}/content"),
                "GET",
                get(content),
            )
            .add(
                &format!("{prefix}/batches"),
                "GET,POST",
                post(batches::create).get(batches::list),
            )
            .add(
                &format!("{prefix}/batches/{{batch_id}}"),
                "GET",
                get(batches::retrieve),
            )
            .add(
                &format!("{prefix}/batches/{{batch_id}}/cancel"),
                "POST",
                post(batches::cancel),
            );
    }
    r
}

/// Who owns what the caller creates: (`created_by`, `team_id`). The master key (or no auth)
/// owns nothing in particular: only admins see its objects.
pub(crate) fn owner(auth: &AuthContext) -> (Option<String>, Option<String>) {
    match &auth.key {
        Some(k) => (
            Some(k.row.user_id.clone().unwrap_or_else(|| k.row.token.clone())),
            k.row.team_id.clone(),
        ),
        None => (None, None),
    }
}

/// Whether the caller may see an object created by `created_by` in `team`.
pub(crate) fn visible(auth: &AuthContext, created_by: Option<&str>, team: Option<&str>) -> bool {
    if auth.is_admin() {
        return true;
    }
    let (me, my_team) = owner(auth);
    (me.is_some() && me.as_deref() == created_by)
        || (my_team.is_some() && my_team.as_deref() == team)
}

fn store(state: &AppState) -> Result<&llmgate_store::Store, GatewayError> {
    state.gov.store.as_ref().ok_or(GatewayError::NoDb)
}

fn db(e: llmgate_store::StoreError) -> GatewayError {
    tracing::warn!(error = %e, "managed files table");
    GatewayError::Unavailable("the files database is unavailable".into())
}

/// The purposes OpenAI's Files API takes (checked where the gateway writes the object itself).
const PURPOSES: &[&str] = &[
    "batch",
    "assistants",
    "fine-tune",
    "vision",
    "user_data",
    "evals",
];

fn check_purpose(purpose: &str) -> Result<(), GatewayError> {
    if PURPOSES.contains(&purpose) {
        Ok(())
    } else {
        Err(GatewayError::BadRequest(format!(
            "Invalid value for 'purpose': {purpose:?} (one of {})",
            PURPOSES.join(", ")
        )))
    }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(s)
}

/// An upstream answer that is an error: relayed with its status and body.
async fn upstream_error(res: reqwest::Response) -> Response {
    let status = StatusCode::from_u16(res.status().as_u16()).unwrap_or(StatusCode::BAD_GATEWAY);
    let body = res.bytes().await.unwrap_or_default();
    (status, [("content-type", "application/json")], body).into_response()
}

/// A provider's error answer classified by its status (OpenAI's shape).
async fn classified(res: reqwest::Response, provider: &str) -> llmgate::LlmError {
    let status = res.status().as_u16();
    let headers = llmgate::providers::http::header_pairs(res.headers());
    let body = res.bytes().await.unwrap_or_default();
    llmgate::LlmError::from_upstream(status, headers, &body, provider)
}

/// Sends `rb`; a transport failure is a 502 in OpenAI's shape.
async fn send(
    rb: reqwest::RequestBuilder,
    provider: &str,
) -> Result<reqwest::Response, GatewayError> {
    rb.send()
        .await
        .map_err(|e| GatewayError::Llm(llmgate::LlmError::from_transport(&e, provider)))
}

async fn json_of(res: reqwest::Response) -> Result<Value, GatewayError> {
    res.json::<Value>().await.map_err(|e| {
        GatewayError::Llm(llmgate::LlmError::new(
            llmgate::ErrorKind::InternalServer,
            format!("the provider's answer is not JSON: {e}"),
        ))
    })
}

/// A `multipart/form-data` upload read whole: its fields and its file.
struct Form {
    fields: Vec<(String, String)>,
    file: Option<(String, Option<String>, axum::body::Bytes)>,
}

impl Form {
    async fn read(mut m: Multipart) -> Result<Form, GatewayError> {
        let bad = |e: axum::extract::multipart::MultipartError| {
            GatewayError::BadRequest(format!("could not read the multipart body: {e}"))
        };
        let mut form = Form {
            fields: Vec::new(),
            file: None,
        };
        while let Some(field) = m.next_field().await.map_err(bad)? {
            let name = field.name().unwrap_or("").to_string();
            if name == "file" {
                let filename = field.file_name().unwrap_or("upload").to_string();
                let ct = field.content_type().map(str::to_string);
                let bytes = field.bytes().await.map_err(bad)?;
                form.file = Some((filename, ct, bytes));
            } else {
                let text = field.text().await.map_err(bad)?;
                form.fields.push((name, text));
            }
        }
        Ok(form)
    }

    fn get(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
    }
}

/// LiteLLM's routing fields, never sent to the provider.
const ROUTING_FIELDS: &[&str] = &[
    "custom_llm_provider",
    "target_model_names",
    "model",
    "litellm_metadata",
];

/// The targets of a call: the models it names, else its `custom_llm_provider`.
async fn targets(
    state: &AppState,
    auth: &AuthContext,
    headers: &HeaderMap,
    model: Option<&str>,
    target_model_names: Option<&str>,
    provider: Option<&str>,
) -> Result<(Vec<Target>, Vec<String>), GatewayError> {
    let named: Vec<String> = target_model_names
        .map(|t| {
            t.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        })
        .unwrap_or_default();
    if !named.is_empty() {
        let mut out = Vec::new();
        for m in &named {
            out.push(Target::for_model(state, auth, m).await?);
        }
        return Ok((out, named));
    }
    let header_model = headers
        .get("x-litellm-model")
        .and_then(|v| v.to_str().ok())
        .filter(|v| !v.is_empty());
    if let Some(m) = header_model.or(model) {
        return Ok((vec![Target::for_model(state, auth, m).await?], Vec::new()));
    }
    Ok((
        vec![Target::provider(provider.unwrap_or("openai"))?],
        Vec::new(),
    ))
}

/// The model a batch file's first request names (`body.model`). Only the first line is read.
fn first_line_model(bytes: &[u8]) -> Option<String> {
    let first = bytes
        .split(|b| *b == b'\n')
        .find(|l| !l.trim_ascii().is_empty())?;
    let line: Value = serde_json::from_slice(first).ok()?;
    line["body"]["model"].as_str().map(str::to_string)
}

/// The model a batch file's first request names, when it is one of the gateway's model groups.
fn jsonl_model(state: &AppState, bytes: &[u8]) -> Option<String> {
    first_line_model(bytes).filter(|m| state.deployments().group(m).is_some())
}

/// The model a provider that translates batch files writes one for when no deployment names
/// it: the first request's `body.model` (a 400 without one).
fn batch_file_model(bytes: &[u8], provider: &str) -> Result<String, GatewayError> {
    first_line_model(bytes).ok_or_else(|| {
        GatewayError::BadRequest(format!(
            "the batch file's first line names no body.model ({provider} needs the model)"
        ))
    })
}

/// Where a file's stored object keeps the model its batch file was written for (never shown).
const FILE_MODEL_FIELD: &str = "_llmgate_model";

/// A stored file object as clients see it.
fn shown_file(mut obj: Value) -> Value {
    if let Some(m) = obj.as_object_mut() {
        m.remove(FILE_MODEL_FIELD);
    }
    obj
}

/// Admits a files or batches call that goes to `target` as LiteLLM's proxy does for every
/// route: the key's budgets (a key over budget gets its budget error) and its rate limits and
/// parallel slot, counted against the target's model group (or its provider). The slot is
/// held while the admission lives.
pub(crate) async fn admit(
    state: &AppState,
    auth: &AuthContext,
    target: &Target,
) -> Result<crate::governance::admit::Admission, GatewayError> {
    let group = match &target.deployment {
        Some(d) => d.model_name.clone(),
        None => target.provider.to_string(),
    };
    crate::governance::admit::admit_target(&state.gov, auth, &group).await
}

/// `POST /v1/files`.
async fn upload(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Query(q): Query<std::collections::HashMap<String, String>>,
    headers: HeaderMap,
    multipart: Multipart,
) -> Result<Response, GatewayError> {
    let store = store(&state)?;
    let form = Form::read(multipart).await?;
    let Some((_, _, bytes)) = &form.file else {
        return Err(GatewayError::BadRequest(
            "Missing required parameter: 'file'.".into(),
        ));
    };
    if form.get("purpose").is_none() {
        return Err(GatewayError::BadRequest(
            "Missing required parameter: 'purpose'.".into(),
        ));
    }
    let provider = form
        .get("custom_llm_provider")
        .or(q.get("custom_llm_provider").map(String::as_str));
    // A batch file naming one of the gateway's models goes to that model's deployment when
    // nothing else says where (LiteLLM's `is_known_model` on the JSONL's first line).
    let in_file = match (form.get("purpose"), provider) {
        (Some("batch"), None) => jsonl_model(&state, bytes),
        _ => None,
    };
    let (targets, names) = targets(
        &state,
        &auth,
        &headers,
        form.get("model")
            .or(q.get("model").map(String::as_str))
            .or(in_file.as_deref()),
        form.get("target_model_names"),
        provider,
    )
    .await?;
    let litellm_metadata = form
        .get("litellm_metadata")
        .and_then(|m| serde_json::from_str::<Value>(m).ok());
    let logged = Logged::admit(
        &state,
        &auth,
        &targets[0],
        "acreate_file",
        "/files",
        logged::request_tags(litellm_metadata.as_ref(), None),
    )
    .await?;
    let made = store_upload(&state, &auth, store, &form, &targets, &names).await;
    logged.end(made)
}

/// The uploaded file as a form part for an upstream: the body shared, not copied, per target.
fn file_part(
    bytes: &bytes::Bytes,
    filename: &str,
    content_type: Option<&str>,
) -> Result<reqwest::multipart::Part, GatewayError> {
    let part = reqwest::multipart::Part::stream_with_length(
        reqwest::Body::from(bytes.clone()),
        bytes.len() as u64,
    )
    .file_name(filename.to_string());
    match content_type {
        Some(ct) => part.mime_str(ct).map_err(|_| {
            GatewayError::BadRequest(format!("the file's content type {ct:?} is not valid"))
        }),
        None => Ok(part),
    }
}

/// The upload sent to every target and recorded: the file object the client gets.
async fn store_upload(
    state: &AppState,
    auth: &AuthContext,
    store: &llmgate_store::Store,
    form: &Form,
    targets: &[Target],
    names: &[String],
) -> Result<Answer, GatewayError> {
    let Some((filename, ct, bytes)) = form.file.clone() else {
        return Err(GatewayError::BadRequest(
            "Missing required parameter: 'file'.".into(),
        ));
    };
    let http = state.client.http();
    let mut mappings = serde_json::Map::new();
    let mut first: Option<Value> = None;
    let mut written_for: Option<String> = None;
    for t in targets {
        if t.is_storage() {
            let purpose = form.get("purpose").unwrap_or("");
            let obj = if t.is_vertex() {
                vertex::upload(state, t, &filename, purpose, &bytes).await?
            } else {
                bedrock::upload(state, t, &filename, purpose, &bytes).await?
            };
            let id = obj["id"].as_str().unwrap_or("").to_string();
            mappings.insert(t.mapping_key(), Value::String(id));
            first.get_or_insert(obj);
            continue;
        }
        if t.is_gemini() {
            let purpose = form.get("purpose").unwrap_or("");
            let up = gemini::upload(state, t, &filename, ct.as_deref(), purpose, &bytes).await?;
            let id = up.object["id"].as_str().unwrap_or("").to_string();
            mappings.insert(t.mapping_key(), Value::String(id));
            if t.deployment.is_none() {
                written_for = written_for.or(up.model);
            }
            first.get_or_insert(up.object);
            continue;
        }
        if t.is_mistral() {
            let purpose = form.get("purpose").unwrap_or("");
            let obj =
                match mistral::upload(state, t, &filename, ct.as_deref(), purpose, &bytes).await? {
                    Ok(obj) => obj,
                    Err(refused) => return Ok(refused),
                };
            let id = obj["id"].as_str().unwrap_or("").to_string();
            object_id(&id)?;
            mappings.insert(t.mapping_key(), Value::String(id));
            first.get_or_insert(obj);
            continue;
        }
        let part = file_part(&bytes, &filename, ct.as_deref())?;
        let mut mp = reqwest::multipart::Form::new().part("file", part);
        for (k, v) in &form.fields {
            if !ROUTING_FIELDS.contains(&k.as_str()) {
                mp = mp.text(k.clone(), v.clone());
            }
        }
        let res = send(
            t.request(http, reqwest::Method::POST, "files")?
                .multipart(mp),
            t.provider,
        )
        .await?;
        if !res.status().is_success() {
            return Ok(logged::refused(res, t.provider).await);
        }
        let obj = json_of(res).await?;
        let id = obj["id"].as_str().unwrap_or("").to_string();
        object_id(&id)?;
        mappings.insert(t.mapping_key(), Value::String(id));
        first.get_or_insert(obj);
    }
    let mut obj = first.unwrap_or(Value::Null);
    let own_id = obj["id"].as_str().unwrap_or("").to_string();
    let unified = if names.is_empty() && object_id(&own_id).is_ok() {
        own_id
    } else {
        let mime = ct.as_deref().unwrap_or("application/octet-stream");
        b64(&format!(
            "litellm_proxy:{mime};unified_id,{};target_model_names,{}",
            uuid::Uuid::new_v4(),
            names.join(",")
        ))
    };
    obj["id"] = Value::String(unified.clone());
    let mut stored = obj.clone();
    if let Some(m) = written_for {
        stored[FILE_MODEL_FIELD] = Value::String(m);
    }
    let (created_by, team_id) = owner(auth);
    let row = ManagedFile {
        id: uuid::Uuid::new_v4().to_string(),
        unified_file_id: unified,
        file_object: stored,
        flat_model_file_ids: mappings
            .values()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        model_mappings: Value::Object(mappings),
        created_at: Some(llmgate_store::now_ms()),
        updated_at: Some(llmgate_store::now_ms()),
        created_by: created_by.clone(),
        updated_by: created_by,
        team_id,
    };
    store.insert_managed_file(&row).await.map_err(db)?;
    Ok(Answer::Made(obj))
}

/// The caller's file `id` (404 when it does not exist or is another's).
pub(crate) async fn find_file(
    state: &AppState,
    auth: &AuthContext,
    id: &str,
) -> Result<ManagedFile, GatewayError> {
    let store = store(state)?;
    object_id(id)?;
    let row = match store.managed_file(id).await.map_err(db)? {
        Some(r) => Some(r),
        None => store.managed_file_by_provider_id(id).await.map_err(db)?,
    };
    row.filter(|r| visible(auth, r.created_by.as_deref(), r.team_id.as_deref()))
        .ok_or_else(|| GatewayError::NotFound(format!("No such File object: {id}")))
}

/// The first upstream copy of a file: its target and provider id.
fn first_copy(state: &AppState, row: &ManagedFile) -> Result<(Target, String), GatewayError> {
    for (k, v) in row.model_mappings.as_object().into_iter().flatten() {
        if let (Some(t), Some(id)) = (Target::from_mapping(state, k)?, v.as_str()) {
            let id = t.provider_id(id)?.to_string();
            return Ok((t, id));
        }
    }
    Err(GatewayError::NotFound(format!(
        "the deployment that holds file {} is no longer configured",
        row.unified_file_id
    )))
}

/// `GET /v1/files`: the caller's files, newest first (`purpose`, `limit` filters).
async fn list(
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
        None => 10_000,
    };
    let rows = owned_rows(store, &auth, limit).await?;
    let data: Vec<Value> = rows
        .into_iter()
        .filter(|r| {
            q.get("purpose")
                .is_none_or(|p| r.file_object["purpose"].as_str() == Some(p.as_str()))
        })
        .map(|r| shown_file(r.file_object))
        .take(limit as usize)
        .collect();
    Ok(Json(json!({"object": "list", "data": data, "has_more": false})).into_response())
}

async fn owned_rows(
    store: &llmgate_store::Store,
    auth: &AuthContext,
    limit: u64,
) -> Result<Vec<ManagedFile>, GatewayError> {
    let (me, team) = owner(auth);
    let mut rows = Vec::new();
    if auth.is_admin() && auth.key.is_none() {
        rows = llmgate_store::managed::FILES
            .list(store, &[], 1, limit)
            .await
            .map_err(db)?
            .0;
    } else {
        if let Some(me) = &me {
            rows.extend(
                store
                    .managed_files_by("created_by", me, limit)
                    .await
                    .map_err(db)?,
            );
        }
        if let Some(t) = &team {
            for r in store
                .managed_files_by("team_id", t, limit)
                .await
                .map_err(db)?
            {
                if !rows
                    .iter()
                    .any(|x: &ManagedFile| x.unified_file_id == r.unified_file_id)
                {
                    rows.push(r);
                }
            }
        }
    }
    rows.sort_by_key(|r| std::cmp::Reverse(r.created_at));
    Ok(rows)
}

/// `GET /v1/files/{file_id}`.
async fn retrieve(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(file_id): Path<String>,
) -> Result<Response, GatewayError> {
    let row = find_file(&state, &auth, &file_id).await?;
    let (t, id) = first_copy(&state, &row)?;
    let purpose = row.file_object["purpose"].as_str().unwrap_or("batch");
    let mut obj = if t.is_vertex() {
        vertex::retrieve(&state, &t, &id, purpose).await?
    } else if t.is_gemini() {
        gemini::retrieve(&state, &t, &id, purpose).await?
    } else if t.is_bedrock() {
        bedrock::retrieve(&state, &t, &id, purpose).await?
    } else {
        let res = send(
            t.request(
                state.client.http(),
                reqwest::Method::GET,
                &format!("files/{id}"),
            )?,
            t.provider,
        )
        .await?;
        if !res.status().is_success() {
            return Ok(upstream_error(res).await);
        }
        let obj = json_of(res).await?;
        if t.is_mistral() {
            llmgate::providers::openai_compat::mistral_batch::file_to_openai(&obj)
        } else {
            obj
        }
    };
    obj["id"] = Value::String(row.unified_file_id);
    Ok(Json(obj).into_response())
}

/// `GET /v1/files/{file_id}/content`: the provider's bytes relayed as they come.
async fn content(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(file_id): Path<String>,
) -> Result<Response, GatewayError> {
    let row = find_file(&state, &auth, &file_id).await?;
    let (t, id) = first_copy(&state, &row)?;
    if t.translates() {
        let bytes = translated_content(&state, &t, &id).await?;
        return Ok(([("content-type", "application/octet-stream")], bytes).into_response());
    }
    let res = send(
        t.request(
            state.client.http(),
            reqwest::Method::GET,
            &format!("files/{id}/content"),
        )?,
        t.provider,
    )
    .await?;
    if !res.status().is_success() {
        return Ok(upstream_error(res).await);
    }
    let ct = res
        .headers()
        .get("content-type")
        .cloned()
        .unwrap_or_else(|| axum::http::HeaderValue::from_static("application/octet-stream"));
    let body = Body::from_stream(res.bytes_stream().map(|r| r.map_err(std::io::Error::other)));
    let mut out = Response::new(body);
    out.headers_mut().insert("content-type", ct);
    Ok(out)
}

/// A file's bytes from a provider whose files the gateway translates (Vertex's or Bedrock's
/// bucket, Gemini's Files API), a batch's output as an OpenAI batch output file.
async fn translated_content(
    state: &AppState,
    t: &Target,
    id: &str,
) -> Result<Vec<u8>, GatewayError> {
    if t.is_vertex() {
        vertex::content(state, t, id).await
    } else if t.is_gemini() {
        gemini::content(state, t, id).await
    } else {
        bedrock::content(state, t, id).await
    }
}

/// `DELETE /v1/files/{file_id}`: every provider copy, then the record.
async fn delete(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    Path(file_id): Path<String>,
) -> Result<Response, GatewayError> {
    let row = find_file(&state, &auth, &file_id).await?;
    for (k, v) in row.model_mappings.as_object().into_iter().flatten() {
        let (Some(t), Some(id)) = (Target::from_mapping(&state, k)?, v.as_str()) else {
            continue;
        };
        if t.is_vertex() {
            vertex::delete(&state, &t, t.provider_id(id)?).await?;
            continue;
        }
        if t.is_bedrock() {
            bedrock::delete(&state, &t, t.provider_id(id)?).await?;
            continue;
        }
        if t.is_gemini() {
            gemini::delete(&state, &t, t.provider_id(id)?).await?;
            continue;
        }
        let res = send(
            t.request(
                state.client.http(),
                reqwest::Method::DELETE,
                &format!("files/{}", object_id(id)?),
            )?,
            t.provider,
        )
        .await?;
        // Already gone upstream is gone.
        if !res.status().is_success() && res.status().as_u16() != 404 {
            return Ok(upstream_error(res).await);
        }
    }
    store(&state)?
        .delete_managed_file(&row.unified_file_id)
        .await
        .map_err(db)?;
    Ok(Json(json!({"id": row.unified_file_id, "object": "file", "deleted": true})).into_response())
}
