//! Google AI Studio's Files and Batch APIs as Google documents them: the Files API's resumable
//! upload (`POST /upload/v1beta/files` with `X-Goog-Upload-Protocol: resumable`,
//! `X-Goog-Upload-Command: start`, the size and type in `X-Goog-Upload-Header-Content-*` and
//! the file's metadata as JSON, answered with an `x-goog-upload-url`; then the bytes there with
//! `upload, finalize` at offset 0, answered with `{"file": File}`), `GET`/`DELETE
//! /v1beta/files/{id}`, `GET /download/v1beta/files/{id}:download?alt=media`; batches
//! `POST /v1beta/models/{model}:batchGenerateContent` over an uploaded JSONL file whose lines
//! are `{"key", "request": GenerateContentRequest}` (answered as an operation), `GET
//! /v1beta/batches/{id}` — `BATCH_STATE_PENDING`, then `BATCH_STATE_SUCCEEDED` on the next
//! read with a responses file of `{"key", "response"}` lines (`{"key", "error"}` for a request
//! Gemini refuses, or whose first text is a `mock-error-{code}` behaviour) — and `POST /v1beta/batches/{id}:cancel`. Every call needs
//! `x-goog-api-key` (a `bad-` key is refused as Google refuses an invalid key; a file named
//! `mock-foreign-upload-url` gets a session URL on another host); ids are
//! lowercase letters and digits; errors are Google's `{"error": {code, message, status}}`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::behaviour::Behaviour;
use crate::google::{answer, camel, error, validate};
use crate::openai::recorded;
use crate::vertex_batch::rfc3339_now;
use crate::Shared;

const BATCH_TYPE: &str =
    "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatch";
const OUTPUT_TYPE: &str =
    "type.googleapis.com/google.ai.generativelanguage.v1main.GenerateContentBatchOutput";

/// An uploaded (or generated) file: its `File` resource and bytes.
struct File {
    meta: Value,
    bytes: Vec<u8>,
}

/// An upload started and not finalized: what its start declared.
struct Session {
    display_name: String,
    length: usize,
    mime: String,
}

/// Files, upload sessions and batches by id.
#[derive(Default)]
pub(crate) struct Store {
    files: Mutex<BTreeMap<String, File>>,
    sessions: Mutex<BTreeMap<String, Session>>,
    batches: Mutex<BTreeMap<String, Value>>,
    next: Mutex<u64>,
}

impl Store {
    fn id(&self, prefix: &str) -> String {
        let mut n = self.next.lock().unwrap_or_else(|e| e.into_inner());
        *n += 1;
        format!("{prefix}{:06}", *n)
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|e| e.into_inner())
}

fn header<'a>(h: &'a HeaderMap, name: &str) -> Option<&'a str> {
    h.get(name).and_then(|v| v.to_str().ok())
}

/// Google's answer to a call without a key, or with one it does not know.
fn refused_key(h: &HeaderMap) -> Option<Response> {
    match header(h, "x-goog-api-key") {
        None | Some("") => Some(error(
            403,
            "Method doesn't allow unregistered callers (callers without established identity). Please use API Key or other form of API consumer identity to call this API.",
        )),
        Some(k) if k.starts_with("bad-") => {
            Some(error(400, "API key not valid. Please pass a valid API key."))
        }
        Some(_) => None,
    }
}

/// A bare id as Google writes them.
fn valid_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 64
        && id
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

fn query_param<'a>(u: &'a Uri, name: &str) -> Option<&'a str> {
    u.query()?
        .split('&')
        .find_map(|kv| kv.strip_prefix(name)?.strip_prefix('='))
}

fn file_meta(host: &str, id: &str, display: &str, mime: &str, size: usize, source: &str) -> Value {
    let now = rfc3339_now();
    json!({"name": format!("files/{id}"), "displayName": display, "mimeType": mime,
        "sizeBytes": size.to_string(), "createTime": now, "updateTime": now,
        "expirationTime": now, "sha256Hash": "bW9jaw==", "uri": format!("http://{host}/v1beta/files/{id}"),
        "state": "ACTIVE", "source": source})
}

/// `POST /upload/v1beta/files`: the resumable upload's start, or (`?upload_id=`) its bytes.
pub async fn upload(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let Some(session_id) = query_param(&u, "upload_id").map(str::to_string) else {
        let body: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
        shared.record(|| recorded(&m, &u, &h, body.clone()));
        return start(&shared, &h, &body);
    };
    // The bytes, recorded as text so a test can read what was uploaded.
    shared.record(|| recorded(&m, &u, &h, json!(String::from_utf8_lossy(&b))));
    if header(&h, "x-goog-upload-command") != Some("upload, finalize") {
        return error(400, "X-Goog-Upload-Command must be `upload, finalize`.");
    }
    if header(&h, "x-goog-upload-offset") != Some("0") {
        return error(
            400,
            "X-Goog-Upload-Offset must be 0 for a single-chunk upload.",
        );
    }
    let Some(session) = lock(&shared.gemini.sessions).remove(&session_id) else {
        return error(404, "No such upload session.");
    };
    if session.length != b.len() {
        return error(
            400,
            &format!(
                "The upload declared {} bytes and sent {}.",
                session.length,
                b.len()
            ),
        );
    }
    let id = shared.gemini.id("mockfile");
    let host = header(&h, "host").unwrap_or("127.0.0.1");
    let meta = file_meta(
        host,
        &id,
        &session.display_name,
        &session.mime,
        b.len(),
        "UPLOADED",
    );
    lock(&shared.gemini.files).insert(
        id,
        File {
            meta: meta.clone(),
            bytes: b.to_vec(),
        },
    );
    let mut res = Json(json!({"file": meta})).into_response();
    res.headers_mut()
        .insert("x-goog-upload-status", HeaderValue::from_static("final"));
    res
}

fn start(shared: &Shared, h: &HeaderMap, body: &Value) -> Response {
    if let Some(r) = refused_key(h) {
        return r;
    }
    if header(h, "x-goog-upload-protocol") != Some("resumable")
        || header(h, "x-goog-upload-command") != Some("start")
    {
        return error(
            400,
            "Uploads need X-Goog-Upload-Protocol: resumable and X-Goog-Upload-Command: start.",
        );
    }
    let Some(length) =
        header(h, "x-goog-upload-header-content-length").and_then(|v| v.parse::<usize>().ok())
    else {
        return error(
            400,
            "X-Goog-Upload-Header-Content-Length is required and must be a number.",
        );
    };
    let Some(mime) = header(h, "x-goog-upload-header-content-type").filter(|v| !v.is_empty())
    else {
        return error(400, "X-Goog-Upload-Header-Content-Type is required.");
    };
    if !header(h, "content-type").is_some_and(|c| c.starts_with("application/json")) {
        return error(400, "The upload's metadata must be JSON.");
    }
    let file = &body["file"];
    let display = file["display_name"]
        .as_str()
        .or(file["displayName"].as_str())
        .unwrap_or("")
        .to_string();
    let sid = shared.gemini.id("session");
    lock(&shared.gemini.sessions).insert(
        sid.clone(),
        Session {
            display_name: display.clone(),
            length,
            mime: mime.to_string(),
        },
    );
    // A test asks for a session URL on another host by the file's name: a gateway must not go there.
    let host = if display == "mock-foreign-upload-url" {
        "198.51.100.7:9"
    } else {
        header(h, "host").unwrap_or("127.0.0.1")
    };
    let url =
        format!("http://{host}/upload/v1beta/files?upload_id={sid}&upload_protocol=resumable");
    let mut res = StatusCode::OK.into_response();
    if let Ok(v) = HeaderValue::from_str(&url) {
        res.headers_mut().insert("x-goog-upload-url", v);
    }
    res.headers_mut()
        .insert("x-goog-upload-status", HeaderValue::from_static("active"));
    res
}

/// `GET|DELETE /v1beta/files/{id}`.
pub async fn file(
    State(shared): State<Arc<Shared>>,
    Path(id): Path<String>,
    m: Method,
    u: Uri,
    h: HeaderMap,
) -> Response {
    shared.record(|| recorded(&m, &u, &h, Value::Null));
    if let Some(r) = refused_key(&h) {
        return r;
    }
    let mut files = lock(&shared.gemini.files);
    if m == Method::DELETE {
        return match files.remove(&id) {
            Some(_) => Json(json!({})).into_response(),
            None => error(404, &format!("File files/{id} not found.")),
        };
    }
    match files.get(&id) {
        Some(f) => Json(f.meta.clone()).into_response(),
        None => error(404, &format!("File files/{id} not found.")),
    }
}

/// `GET /download/v1beta/files/{id}:download?alt=media`.
pub async fn download(
    State(shared): State<Arc<Shared>>,
    Path(spec): Path<String>,
    m: Method,
    u: Uri,
    h: HeaderMap,
) -> Response {
    shared.record(|| recorded(&m, &u, &h, Value::Null));
    if let Some(r) = refused_key(&h) {
        return r;
    }
    let Some(id) = spec.strip_suffix(":download") else {
        return error(404, &format!("method not found: {spec}"));
    };
    if query_param(&u, "alt") != Some("media") {
        return error(400, "Downloads need alt=media.");
    }
    let files = lock(&shared.gemini.files);
    match files.get(id) {
        Some(f) => {
            let ct = f.meta["mimeType"]
                .as_str()
                .unwrap_or("application/octet-stream")
                .to_string();
            ([("content-type", ct)], f.bytes.clone()).into_response()
        }
        None => error(404, &format!("File files/{id} not found.")),
    }
}

/// The batch's operation, as `batchGenerateContent` and `batches.get` answer it.
fn operation(batch: &Value) -> Value {
    let mut op = json!({"name": batch["name"], "metadata": batch});
    if let Some(out) = batch["output"]["responsesFile"].as_str() {
        op["done"] = json!(true);
        op["response"] = json!({"@type": OUTPUT_TYPE, "responsesFile": out});
    } else if batch["state"] != "BATCH_STATE_PENDING" && batch["state"] != "BATCH_STATE_RUNNING" {
        op["done"] = json!(true);
    }
    op
}

/// `POST /v1beta/models/{model}:batchGenerateContent` over an uploaded JSONL file.
pub(crate) fn create(shared: &Shared, model: &str, h: &HeaderMap, body: Option<Value>) -> Response {
    if let Some(r) = refused_key(h) {
        return r;
    }
    let Some(body) = body else {
        return error(400, "Invalid JSON payload received.");
    };
    let batch = &body["batch"];
    let Some(display) = batch["display_name"]
        .as_str()
        .or(batch["displayName"].as_str())
        .filter(|d| !d.is_empty())
    else {
        return error(
            400,
            "* BatchGenerateContentRequest.batch.display_name: required",
        );
    };
    let input = &batch
        .get("input_config")
        .or(batch.get("inputConfig"))
        .cloned()
        .unwrap_or(Value::Null);
    let Some(file_name) = input["file_name"].as_str().or(input["fileName"].as_str()) else {
        return error(
            400,
            "* BatchGenerateContentRequest.batch.input_config: file_name or requests is required",
        );
    };
    let id = file_name.strip_prefix("files/").unwrap_or("");
    let lines = {
        let files = lock(&shared.gemini.files);
        let Some(f) = files.get(id) else {
            return error(404, &format!("File {file_name} not found."));
        };
        String::from_utf8_lossy(&f.bytes).into_owned()
    };
    let mut n = 0;
    for (i, line) in lines.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        if !v["key"].is_string() || !v["request"].is_object() {
            return error(
                400,
                &format!(
                    "line {}: each line of a batch input file is {{\"key\", \"request\": GenerateContentRequest}}",
                    i + 1
                ),
            );
        }
        n += 1;
    }
    if n == 0 {
        return error(400, "The batch input file has no requests.");
    }
    let bid = shared.gemini.id("mockbatch");
    let now = rfc3339_now();
    let batch = json!({"@type": BATCH_TYPE, "name": format!("batches/{bid}"),
        "model": format!("models/{model}"), "displayName": display,
        "inputConfig": {"fileName": file_name}, "createTime": now, "updateTime": now,
        "batchStats": {"requestCount": n.to_string(), "pendingRequestCount": n.to_string()},
        "state": "BATCH_STATE_PENDING"});
    lock(&shared.gemini.batches).insert(bid, batch.clone());
    Json(operation(&batch)).into_response()
}

/// Runs the batch: every input line answered into a responses file.
fn run(shared: &Shared, host: &str, bid: &str, batch: &mut Value) {
    let model = batch["model"]
        .as_str()
        .unwrap_or("")
        .trim_start_matches("models/")
        .to_string();
    let input = batch["inputConfig"]["fileName"]
        .as_str()
        .unwrap_or("")
        .trim_start_matches("files/")
        .to_string();
    let text = lock(&shared.gemini.files)
        .get(&input)
        .map(|f| String::from_utf8_lossy(&f.bytes).into_owned())
        .unwrap_or_default();
    let (mut ok, mut failed) = (0u64, 0u64);
    let mut out = String::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        let request = &v["request"];
        // A request can ask for a behaviour (one line of a batch failing) by its first text.
        let asked = request["contents"][0]["parts"][0]["text"]
            .as_str()
            .map(Behaviour::of);
        let checked = match asked {
            Some(Behaviour::Error(code)) => Err(format!("mock error {code}")),
            _ => validate(&model, request),
        };
        let line = match checked {
            Ok(()) => {
                ok += 1;
                json!({"key": v["key"], "response": answer(&model, &model, &camel(request))})
            }
            Err(msg) => {
                failed += 1;
                json!({"key": v["key"], "error": {"code": 400, "message": msg, "status": "INVALID_ARGUMENT"}})
            }
        };
        out.push_str(&line.to_string());
        out.push('\n');
    }
    let out_id = format!("batch-{bid}");
    let meta = file_meta(
        host,
        &out_id,
        &out_id,
        "application/jsonl",
        out.len(),
        "GENERATED",
    );
    lock(&shared.gemini.files).insert(
        out_id.clone(),
        File {
            meta,
            bytes: out.into_bytes(),
        },
    );
    batch["output"] = json!({"responsesFile": format!("files/{out_id}")});
    batch["batchStats"] = json!({"requestCount": (ok + failed).to_string(),
        "successfulRequestCount": ok.to_string(), "failedRequestCount": failed.to_string()});
}

/// `GET /v1beta/batches/{id}` (done on the first read) and `POST .../{id}:cancel`.
pub async fn batch(
    State(shared): State<Arc<Shared>>,
    Path(spec): Path<String>,
    m: Method,
    u: Uri,
    h: HeaderMap,
) -> Response {
    shared.record(|| recorded(&m, &u, &h, Value::Null));
    if let Some(r) = refused_key(&h) {
        return r;
    }
    let (id, method) = spec.split_once(':').unwrap_or((&spec, ""));
    if !valid_id(id) {
        return error(400, &format!("Invalid batch name: batches/{id}"));
    }
    let mut batches = lock(&shared.gemini.batches);
    let Some(batch) = batches.get_mut(id) else {
        return error(404, &format!("Batch batches/{id} not found."));
    };
    let state = batch["state"].as_str().unwrap_or("").to_string();
    let now = json!(rfc3339_now());
    match (m.as_str(), method) {
        ("POST", "cancel") => {
            if !matches!(
                state.as_str(),
                "BATCH_STATE_PENDING" | "BATCH_STATE_RUNNING"
            ) {
                return error(
                    400,
                    &format!("The batch is in state {state} and cannot be cancelled."),
                );
            }
            batch["state"] = json!("BATCH_STATE_CANCELLED");
            batch["endTime"] = now.clone();
            batch["updateTime"] = now;
            return Json(json!({})).into_response();
        }
        ("GET", "") => {}
        _ => return error(404, &format!("method {method} not found")),
    }
    if state == "BATCH_STATE_PENDING" {
        let host = header(&h, "host").unwrap_or("127.0.0.1").to_string();
        run(&shared, &host, id, batch);
        batch["state"] = json!("BATCH_STATE_SUCCEEDED");
        batch["endTime"] = now.clone();
        batch["updateTime"] = now;
    }
    Json(operation(batch)).into_response()
}
