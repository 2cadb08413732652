//! Mistral's Files and Batch APIs as its docs describe them, mounted under `/mistral` (the
//! OpenAI mock owns `/v1/files`): `POST /v1/files` (multipart `file` and `purpose`, one of
//! `fine-tune`, `batch`, `ocr`; a batch file's lines each need `custom_id` and `body`), get,
//! `/content`, delete; batch jobs `POST /v1/batch/jobs` (`input_files` that exist with purpose
//! `batch`, an `endpoint` Mistral serves, a `model`), get — one status further per read,
//! `QUEUED` → `RUNNING` → `SUCCESS`, writing an output file of chat answers with usage —,
//! list, `/cancel` (`CANCELLATION_REQUESTED`, then `CANCELLED`). A bearer key is required;
//! ids are UUIDs; errors are Mistral's `{"object": "error", "message", "type"}`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::files::{multipart, now, record, File};
use crate::Shared;

const PURPOSES: &[&str] = &["fine-tune", "batch", "ocr"];
const ENDPOINTS: &[&str] = &[
    "/v1/chat/completions",
    "/v1/embeddings",
    "/v1/fim/completions",
    "/v1/moderations",
    "/v1/chat/moderations",
    "/v1/ocr",
];

fn error(status: u16, message: &str) -> Response {
    let body = json!({"object": "error", "message": message, "type": "invalid_request_error",
        "param": null, "code": null});
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        Json(body),
    )
        .into_response()
}

/// A UUID-shaped id, unique in the mock (its ids share the OpenAI mock's counter).
fn uuid(shared: &Shared) -> String {
    let n = shared.objects.id("m");
    let digits: String = n.chars().filter(char::is_ascii_digit).collect();
    format!("7a3f0000-0000-4000-8000-{digits:0>12}")
}

fn unauthorized(h: &HeaderMap) -> Option<Response> {
    let ok = h
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("Bearer ") && v.len() > 7);
    (!ok).then(|| {
        (
            StatusCode::UNAUTHORIZED,
            Json(json!({"message": "Unauthorized", "request_id": "mock"})),
        )
            .into_response()
    })
}

/// `POST /mistral/v1/files`.
pub async fn upload(
    State(shared): State<Arc<Shared>>,
    m: Method,
    uri: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let Some(parts) = multipart(&h, &b) else {
        record(&shared, &m, &uri, &h, Value::Null);
        return error(400, "expected a multipart/form-data body");
    };
    let fields: serde_json::Map<String, Value> = parts
        .iter()
        .filter(|(n, f, _)| n != "file" && f.is_none())
        .map(|(n, _, v)| (n.clone(), json!(String::from_utf8_lossy(v))))
        .collect();
    record(&shared, &m, &uri, &h, Value::Object(fields.clone()));
    if let Some(r) = unauthorized(&h) {
        return r;
    }
    if let Some(extra) = fields.keys().find(|k| *k != "purpose") {
        return error(422, &format!("unknown form field: {extra}"));
    }
    let purpose = fields.get("purpose").and_then(Value::as_str).unwrap_or("");
    if !PURPOSES.contains(&purpose) {
        return error(
            422,
            &format!("Input should be 'fine-tune', 'batch' or 'ocr': {purpose:?}"),
        );
    }
    let Some((_, filename, content)) = parts.into_iter().find(|(n, _, _)| n == "file") else {
        return error(422, "Field required: file");
    };
    let mut lines = 0;
    if purpose == "batch" {
        for (i, line) in String::from_utf8_lossy(&content)
            .lines()
            .filter(|l| !l.trim().is_empty())
            .enumerate()
        {
            let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
            if !v["custom_id"].is_string() || !v["body"].is_object() {
                return error(
                    422,
                    &format!("line {}: each request needs custom_id and body", i + 1),
                );
            }
            lines += 1;
        }
    }
    let id = uuid(&shared);
    let object = json!({"id": id, "object": "file", "bytes": content.len(), "created_at": now(),
        "filename": filename.unwrap_or_else(|| "upload".into()), "purpose": purpose,
        "sample_type": if purpose == "batch" { "batch_request" } else { "pretrain" },
        "num_lines": lines, "mimetype": "application/jsonl", "source": "upload"});
    shared
        .objects
        .files
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(
            id,
            File {
                object: object.clone(),
                content,
            },
        );
    Json(object).into_response()
}

/// `GET|DELETE /mistral/v1/files/{id}`.
pub async fn file(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    m: Method,
    uri: Uri,
    h: HeaderMap,
) -> Response {
    record(&shared, &m, &uri, &h, Value::Null);
    if let Some(r) = unauthorized(&h) {
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
            None => error(404, "File not found"),
        };
    }
    match files.get(&id) {
        Some(f) => {
            let mut o = f.object.clone();
            o["deleted"] = json!(false);
            Json(o).into_response()
        }
        None => error(404, "File not found"),
    }
}

/// `GET /mistral/v1/files/{id}/content`.
pub async fn content(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    m: Method,
    uri: Uri,
    h: HeaderMap,
) -> Response {
    record(&shared, &m, &uri, &h, Value::Null);
    if let Some(r) = unauthorized(&h) {
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
        None => error(404, "File not found"),
    }
}

/// `POST /mistral/v1/batch/jobs` (create) and `GET` (list).
pub async fn jobs(
    State(shared): State<Arc<Shared>>,
    m: Method,
    uri: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
    record(&shared, &m, &uri, &h, body.clone());
    if let Some(r) = unauthorized(&h) {
        return r;
    }
    let mut batches = shared
        .objects
        .batches
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    if m == Method::GET {
        let data: Vec<Value> = batches
            .values()
            .filter(|j| j["object"] == "batch" && j["input_files"].is_array())
            .cloned()
            .collect();
        let total = data.len();
        return Json(json!({"object": "list", "data": data, "total": total})).into_response();
    }
    const KNOWN: &[&str] = &[
        "input_files",
        "endpoint",
        "model",
        "agent_id",
        "metadata",
        "timeout_hours",
    ];
    if let Some(k) = body
        .as_object()
        .and_then(|o| o.keys().find(|k| !KNOWN.contains(&k.as_str())))
    {
        return error(422, &format!("Extra inputs are not permitted: {k}"));
    }
    let inputs: Vec<String> = body["input_files"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    let endpoint = body["endpoint"].as_str().unwrap_or("");
    if inputs.is_empty() {
        return error(422, "Field required: input_files");
    }
    if !ENDPOINTS.contains(&endpoint) {
        return error(422, &format!("Invalid endpoint: {endpoint:?}"));
    }
    let Some(model) = body["model"].as_str().filter(|s| !s.is_empty()) else {
        return error(422, "model or agent_id is required");
    };
    let mut total = 0;
    {
        let files = shared
            .objects
            .files
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        for i in &inputs {
            match files.get(i) {
                Some(f) if f.object["purpose"] == "batch" => {
                    total += f.object["num_lines"].as_u64().unwrap_or(0);
                }
                Some(_) => return error(422, &format!("file {i} is not a batch file")),
                None => return error(404, &format!("File {i} not found")),
            }
        }
    }
    let id = uuid(&shared);
    let job = json!({"id": id, "object": "batch", "input_files": inputs,
        "metadata": body.get("metadata").cloned().unwrap_or(Value::Null),
        "endpoint": endpoint, "model": model, "output_file": null, "error_file": null,
        "errors": [], "status": "QUEUED", "created_at": now(), "total_requests": total,
        "completed_requests": 0, "succeeded_requests": 0, "failed_requests": 0,
        "started_at": null, "completed_at": null});
    batches.insert(id, job.clone());
    Json(job).into_response()
}

/// One line of the output file: an answer to an input line, with usage.
fn answer(i: usize, model: &str, line: &Value) -> Value {
    let body = json!({"id": format!("cmpl-mistral-batch-{i}"), "object": "chat.completion",
        "created": now(), "model": model,
        "choices": [{"index": 0, "message": {"role": "assistant", "content": "Bonjour from the Mistral batch mock.", "tool_calls": null},
            "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 12, "completion_tokens": 6, "total_tokens": 18}});
    json!({"id": format!("batch-{i}"), "custom_id": line["custom_id"],
        "response": {"status_code": 200, "body": body}, "error": null})
}

/// `GET /mistral/v1/batch/jobs/{id}` and `POST .../{id}/cancel`.
pub async fn job(
    State(shared): State<Arc<Shared>>,
    Path(spec): Path<Vec<(String, String)>>,
    m: Method,
    uri: Uri,
    h: HeaderMap,
) -> Response {
    record(&shared, &m, &uri, &h, Value::Null);
    if let Some(r) = unauthorized(&h) {
        return r;
    }
    let id = spec
        .iter()
        .find(|(k, _)| k == "id")
        .map(|(_, v)| v.clone())
        .unwrap_or_default();
    let cancel = spec.iter().any(|(k, v)| k == "action" && v == "cancel");
    if spec.iter().any(|(k, v)| k == "action" && v != "cancel") {
        return error(404, "Not Found");
    }
    let mut batches = shared
        .objects
        .batches
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let Some(job) = batches.get_mut(&id).filter(|j| j["input_files"].is_array()) else {
        return error(404, "Batch job not found");
    };
    let status = job["status"].as_str().unwrap_or("").to_string();
    if cancel {
        return match status.as_str() {
            "QUEUED" | "RUNNING" => {
                job["status"] = json!("CANCELLATION_REQUESTED");
                Json(job.clone()).into_response()
            }
            s => error(400, &format!("Cannot cancel a job with status {s}")),
        };
    }
    match status.as_str() {
        "QUEUED" => {
            job["status"] = json!("RUNNING");
            job["started_at"] = json!(now());
        }
        "RUNNING" => {
            let model = job["model"].as_str().unwrap_or("").to_string();
            let mut files = shared
                .objects
                .files
                .lock()
                .unwrap_or_else(|e| e.into_inner());
            let mut out = String::new();
            let mut n = 0;
            for input in job["input_files"].as_array().into_iter().flatten() {
                let Some(f) = input.as_str().and_then(|i| files.get(i)) else {
                    continue;
                };
                for l in String::from_utf8_lossy(&f.content).lines() {
                    if let Ok(v) = serde_json::from_str::<Value>(l) {
                        out.push_str(&format!("{}\n", answer(n, &model, &v)));
                        n += 1;
                    }
                }
            }
            let out_id = uuid(&shared);
            let object = json!({"id": out_id, "object": "file", "bytes": out.len(), "created_at": now(),
                "filename": format!("{id}.jsonl"), "purpose": "batch", "sample_type": "batch_result",
                "num_lines": n, "source": "mistral"});
            files.insert(
                out_id.clone(),
                File {
                    object,
                    content: out.into_bytes(),
                },
            );
            job["status"] = json!("SUCCESS");
            job["output_file"] = json!(out_id);
            job["completed_at"] = json!(now());
            job["completed_requests"] = json!(n);
            job["succeeded_requests"] = json!(n);
        }
        "CANCELLATION_REQUESTED" => {
            job["status"] = json!("CANCELLED");
            job["completed_at"] = json!(now());
        }
        _ => {}
    }
    Json(job.clone()).into_response()
}
