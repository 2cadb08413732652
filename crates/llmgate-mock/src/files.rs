//! OpenAI's Files and Batches APIs (`/v1/files`, `/v1/batches`; Azure's under `/openai/...`
//! with `api-version`), as the API documents them: a multipart upload with `purpose`, list /
//! retrieve / content / delete, and batches over an uploaded JSONL file whose lines are
//! `{custom_id, method, url, body}`. A batch moves one status per retrieve (`validating` →
//! `in_progress` → `completed`) and completes with an output file holding one answer per line
//! (a chat completion or an embedding, with usage). `cancel` stops a batch not yet completed.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::{RecordedRequest, Shared};

pub(crate) struct File {
    pub(crate) object: Value,
    pub(crate) content: Vec<u8>,
}

/// Uploaded files and batches.
#[derive(Default)]
pub(crate) struct Objects {
    pub(crate) files: Mutex<HashMap<String, File>>,
    pub(crate) batches: Mutex<HashMap<String, Value>>,
    next: Mutex<u64>,
}

impl Objects {
    pub(crate) fn id(&self, prefix: &str) -> String {
        let mut n = self.next.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        format!("{prefix}-mock{:06}", *n)
    }
}

pub(crate) fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

fn error(status: u16, message: &str) -> Response {
    let body = json!({"error": {"message": message, "type": "invalid_request_error", "param": null, "code": null}});
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        Json(body),
    )
        .into_response()
}

/// Key, and Azure's `api-version` on its paths.
fn refused(uri: &Uri, h: &HeaderMap) -> Option<Response> {
    if !h.contains_key("authorization") && !h.contains_key("api-key") {
        return Some(error(401, "You didn't provide an API key."));
    }
    if uri.path().starts_with("/openai/") && !uri.query().unwrap_or("").contains("api-version=") {
        return Some(error(404, "Resource not found"));
    }
    None
}

pub(crate) fn record(shared: &Shared, m: &Method, uri: &Uri, h: &HeaderMap, body: Value) {
    shared.record(|| RecordedRequest {
        method: m.to_string(),
        path: uri.path().to_string(),
        query: uri.query().map(str::to_string),
        headers: h
            .iter()
            .map(|(k, v)| (k.as_str().to_string(), v.to_str().unwrap_or("").to_string()))
            .collect(),
        body,
    });
}

/// One part of a `multipart/form-data` body: (name, filename, bytes).
pub(crate) type Part = (String, Option<String>, Vec<u8>);

/// The parts of a `multipart/form-data` body.
pub(crate) fn multipart(h: &HeaderMap, body: &[u8]) -> Option<Vec<Part>> {
    let ct = h.get("content-type")?.to_str().ok()?;
    let boundary = ct.split(';').find_map(|p| {
        p.trim()
            .strip_prefix("boundary=")
            .map(|b| b.trim_matches('"').to_string())
    })?;
    let delim = format!("--{boundary}");
    let mut parts = Vec::new();
    let mut rest = body;
    loop {
        let start = find(rest, delim.as_bytes())?;
        rest = &rest[start + delim.len()..];
        if rest.starts_with(b"--") {
            return Some(parts);
        }
        rest = rest.strip_prefix(b"\r\n")?;
        let head_end = find(rest, b"\r\n\r\n")?;
        let head = String::from_utf8_lossy(&rest[..head_end]).to_string();
        rest = &rest[head_end + 4..];
        let end = find(rest, format!("\r\n{delim}").as_bytes())?;
        let content = rest[..end].to_vec();
        rest = &rest[end + 2..];
        let attr = |name: &str| {
            let key = format!("{name}=\"");
            let i = head.find(&key)? + key.len();
            let j = head[i..].find('"')?;
            Some(head[i..i + j].to_string())
        };
        parts.push((attr("name")?, attr("filename"), content));
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// `POST /v1/files`.
pub async fn upload(
    State(shared): State<Arc<Shared>>,
    m: Method,
    uri: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let Some(parts) = multipart(&h, &b) else {
        record(&shared, &m, &uri, &h, Value::Null);
        return error(400, "The request must be multipart/form-data with a file.");
    };
    let fields: Value = parts
        .iter()
        .filter(|(_, f, _)| f.is_none())
        .map(|(n, _, c)| (n.clone(), Value::String(String::from_utf8_lossy(c).into())))
        .collect::<serde_json::Map<_, _>>()
        .into();
    record(&shared, &m, &uri, &h, fields.clone());
    if let Some(r) = refused(&uri, &h) {
        return r;
    }
    let Some((_, filename, content)) = parts.iter().find(|(n, f, _)| n == "file" && f.is_some())
    else {
        return error(400, "Missing required parameter: 'file'.");
    };
    let purpose = fields["purpose"].as_str().unwrap_or("");
    if ![
        "batch",
        "assistants",
        "fine-tune",
        "vision",
        "user_data",
        "evals",
    ]
    .contains(&purpose)
    {
        return error(400, "Invalid value for 'purpose'.");
    }
    for (name, _, _) in &parts {
        if ![
            "file",
            "purpose",
            "expires_after[anchor]",
            "expires_after[seconds]",
        ]
        .contains(&name.as_str())
        {
            return error(
                400,
                &format!("Unrecognized request argument supplied: {name}"),
            );
        }
    }
    if purpose == "batch" {
        let text = String::from_utf8_lossy(content);
        for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
            let v: Value = match serde_json::from_str(line) {
                Ok(v) => v,
                Err(_) => return error(400, &format!("Line {} is not valid JSON.", i + 1)),
            };
            if !v["custom_id"].is_string() || !v["url"].is_string() || !v["body"].is_object() {
                return error(
                    400,
                    &format!("Line {} needs custom_id, method, url and body.", i + 1),
                );
            }
        }
    }
    let id = shared.objects.id("file");
    let object = json!({"id": id, "object": "file", "bytes": content.len(), "created_at": now(),
        "filename": filename.clone().unwrap_or_default(), "purpose": purpose, "status": "processed",
        "expires_at": null, "status_details": null});
    shared
        .objects
        .files
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(
            id,
            File {
                object: object.clone(),
                content: content.clone(),
            },
        );
    Json(object).into_response()
}

/// `GET /v1/files`.
pub async fn list(
    State(shared): State<Arc<Shared>>,
    m: Method,
    uri: Uri,
    h: HeaderMap,
) -> Response {
    record(&shared, &m, &uri, &h, Value::Null);
    if let Some(r) = refused(&uri, &h) {
        return r;
    }
    let files = shared
        .objects
        .files
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut data: Vec<Value> = files.values().map(|f| f.object.clone()).collect();
    data.sort_by(|a, b| a["id"].as_str().cmp(&b["id"].as_str()));
    Json(json!({"object": "list", "data": data, "has_more": false})).into_response()
}

/// `GET|DELETE /v1/files/{id}`.
pub async fn one(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    m: Method,
    uri: Uri,
    h: HeaderMap,
) -> Response {
    record(&shared, &m, &uri, &h, Value::Null);
    if let Some(r) = refused(&uri, &h) {
        return r;
    }
    let mut files = shared
        .objects
        .files
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if m == Method::DELETE {
        return match files.remove(&id) {
            Some(_) => Json(json!({"id": id, "object": "file", "deleted": true})).into_response(),
            None => error(404, &format!("No such File object: {id}")),
        };
    }
    match files.get(&id) {
        Some(f) => Json(f.object.clone()).into_response(),
        None => error(404, &format!("No such File object: {id}")),
    }
}

/// `GET /v1/files/{id}/content`.
pub async fn content(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    m: Method,
    uri: Uri,
    h: HeaderMap,
) -> Response {
    record(&shared, &m, &uri, &h, Value::Null);
    if let Some(r) = refused(&uri, &h) {
        return r;
    }
    let files = shared
        .objects
        .files
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    match files.get(&id) {
        Some(f) => (
            [("content-type", "application/octet-stream")],
            f.content.clone(),
        )
            .into_response(),
        None => error(404, &format!("No such File object: {id}")),
    }
}

/// `POST /v1/batches`.
pub async fn create_batch(
    State(shared): State<Arc<Shared>>,
    m: Method,
    uri: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
    record(&shared, &m, &uri, &h, body.clone());
    if let Some(r) = refused(&uri, &h) {
        return r;
    }
    let (Some(input), Some(endpoint)) = (body["input_file_id"].as_str(), body["endpoint"].as_str())
    else {
        return error(
            400,
            "input_file_id, endpoint and completion_window are required.",
        );
    };
    if ![
        "/v1/chat/completions",
        "/v1/embeddings",
        "/v1/completions",
        "/v1/responses",
    ]
    .contains(&endpoint)
    {
        return error(400, "Invalid value for 'endpoint'.");
    }
    if body["completion_window"].as_str() != Some("24h") {
        return error(
            400,
            "Invalid value for 'completion_window': only '24h' is supported.",
        );
    }
    {
        let files = shared
            .objects
            .files
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match files.get(input) {
            Some(f) if f.object["purpose"] == "batch" => {}
            Some(_) => return error(400, "The input file must have purpose 'batch'."),
            None => return error(404, &format!("No such File object: {input}")),
        }
    }
    let id = shared.objects.id("batch");
    let batch = json!({"id": id, "object": "batch", "endpoint": endpoint, "errors": null,
        "input_file_id": input, "completion_window": "24h", "status": "validating",
        "output_file_id": null, "error_file_id": null, "created_at": now(), "in_progress_at": null,
        "expires_at": now() + 86400, "finalizing_at": null, "completed_at": null, "failed_at": null,
        "expired_at": null, "cancelling_at": null, "cancelled_at": null,
        "request_counts": {"total": 0, "completed": 0, "failed": 0},
        "metadata": body.get("metadata").cloned().unwrap_or(Value::Null)});
    shared
        .objects
        .batches
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, batch.clone());
    Json(batch).into_response()
}

/// One answer of the output file for an input line.
fn answer(i: usize, line: &Value) -> Value {
    let body = &line["body"];
    let model = body["model"].as_str().unwrap_or("gpt-4o-mini");
    let answer = if line["url"].as_str().unwrap_or("").contains("embeddings") {
        json!({"object": "list", "model": model, "data": [{"object": "embedding", "index": 0, "embedding": [0.1, 0.2]}],
            "usage": {"prompt_tokens": 4, "total_tokens": 4}})
    } else {
        json!({"id": format!("chatcmpl-batch-{i}"), "object": "chat.completion", "created": now(), "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": "Hello from the batch mock."},
                "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15}})
    };
    json!({"id": format!("batch_req_{i}"), "custom_id": line["custom_id"],
        "response": {"status_code": 200, "request_id": format!("req-{i}"), "body": answer}, "error": null})
}

/// `GET /v1/batches/{id}`: one status further per call.
pub async fn retrieve_batch(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    m: Method,
    uri: Uri,
    h: HeaderMap,
) -> Response {
    record(&shared, &m, &uri, &h, Value::Null);
    if let Some(r) = refused(&uri, &h) {
        return r;
    }
    let mut batches = shared
        .objects
        .batches
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let Some(batch) = batches.get_mut(&id) else {
        return error(404, &format!("No such Batch object: {id}"));
    };
    match batch["status"].as_str() {
        Some("validating") => {
            batch["status"] = json!("in_progress");
            batch["in_progress_at"] = json!(now());
        }
        Some("in_progress") => {
            let input = batch["input_file_id"].as_str().unwrap_or("").to_string();
            let mut files = shared
                .objects
                .files
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let lines: Vec<Value> = files
                .get(&input)
                .map(|f| {
                    String::from_utf8_lossy(&f.content)
                        .lines()
                        .filter_map(|l| serde_json::from_str(l).ok())
                        .collect()
                })
                .unwrap_or_default();
            let out: String = lines
                .iter()
                .enumerate()
                .map(|(i, l)| format!("{}\n", answer(i, l)))
                .collect();
            let out_id = shared.objects.id("file");
            let object = json!({"id": out_id, "object": "file", "bytes": out.len(), "created_at": now(),
                "filename": "batch_output.jsonl", "purpose": "batch_output", "status": "processed"});
            files.insert(
                out_id.clone(),
                File {
                    object,
                    content: out.into_bytes(),
                },
            );
            batch["status"] = json!("completed");
            batch["output_file_id"] = json!(out_id);
            batch["completed_at"] = json!(now());
            batch["request_counts"] =
                json!({"total": lines.len(), "completed": lines.len(), "failed": 0});
        }
        Some("cancelling") => {
            batch["status"] = json!("cancelled");
            batch["cancelled_at"] = json!(now());
        }
        _ => {}
    }
    Json(batch.clone()).into_response()
}

/// `GET /v1/batches`.
pub async fn list_batches(
    State(shared): State<Arc<Shared>>,
    m: Method,
    uri: Uri,
    h: HeaderMap,
) -> Response {
    record(&shared, &m, &uri, &h, Value::Null);
    if let Some(r) = refused(&uri, &h) {
        return r;
    }
    let batches = shared
        .objects
        .batches
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let mut data: Vec<Value> = batches.values().cloned().collect();
    data.sort_by(|a, b| b["id"].as_str().cmp(&a["id"].as_str()));
    Json(json!({"object": "list", "data": data, "has_more": false})).into_response()
}

/// `POST /v1/batches/{id}/cancel`.
pub async fn cancel_batch(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    m: Method,
    uri: Uri,
    h: HeaderMap,
) -> Response {
    record(&shared, &m, &uri, &h, Value::Null);
    if let Some(r) = refused(&uri, &h) {
        return r;
    }
    let mut batches = shared
        .objects
        .batches
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let Some(batch) = batches.get_mut(&id) else {
        return error(404, &format!("No such Batch object: {id}"));
    };
    match batch["status"].as_str() {
        Some("validating") | Some("in_progress") => {
            batch["status"] = json!("cancelling");
            batch["cancelling_at"] = json!(now());
            Json(batch.clone()).into_response()
        }
        Some(s) => error(400, &format!("Cannot cancel a batch with status '{s}'.")),
        None => error(500, "the batch has no status"),
    }
}
