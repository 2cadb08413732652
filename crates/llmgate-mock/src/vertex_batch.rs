//! Vertex AI's batch prediction for Gemini (`projects/{p}/locations/{l}/batchPredictionJobs`:
//! create, get, list, `:cancel`), as Google documents it: a job reads JSONL `{"request":
//! <GenerateContentRequest>}` lines from Cloud Storage (`inputConfig.gcsSource.uris`, the
//! `gcs.rs` mock's objects) and writes `predictions.jsonl` under
//! `outputConfig.gcsDestination.outputUriPrefix`, one line per request with the request, its
//! `response` (a generateContent answer with `usageMetadata`) or an error `status`, and
//! `processed_time`. A job moves one state per get: `JOB_STATE_PENDING` → `JOB_STATE_RUNNING`
//! → `JOB_STATE_SUCCEEDED` (output written, `outputInfo.gcsOutputDirectory` set); a cancelled
//! one reads `JOB_STATE_CANCELLING` once, then `JOB_STATE_CANCELLED`.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::google::{answer, camel, error, validate, ACCESS_TOKEN};
use crate::openai::recorded;
use crate::Shared;

/// Jobs by id.
#[derive(Default)]
pub(crate) struct Jobs {
    jobs: Mutex<BTreeMap<String, Value>>,
    next: Mutex<u64>,
    /// Jobs asked to cancel and not read since: still `JOB_STATE_CANCELLING` at the next get.
    cancel_asked: Mutex<std::collections::HashSet<String>>,
}

/// Now as RFC 3339 (UTC, microseconds), as Google's APIs write times.
pub(crate) fn rfc3339_now() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = d.as_secs() as i64;
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // The civil date of a day count (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:06}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60,
        d.subsec_micros()
    )
}

fn authorized(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {ACCESS_TOKEN}"))
}

/// `gs://bucket/object` as (bucket, object).
fn gs(uri: &str) -> Option<(&str, &str)> {
    uri.strip_prefix("gs://")?.split_once('/')
}

/// Why a create body is not a valid Gemini batch job, if it is not.
fn invalid(shared: &Shared, body: &Value) -> Option<String> {
    if !body["displayName"].is_string() {
        return Some("BatchPredictionJob.display_name is required.".into());
    }
    let model = body["model"].as_str().unwrap_or("");
    if !model.starts_with("publishers/google/models/") && !model.starts_with("projects/") {
        return Some(format!("Invalid model: {model:?}."));
    }
    if body["inputConfig"]["instancesFormat"] != "jsonl" {
        return Some("inputConfig.instancesFormat must be jsonl for Gemini.".into());
    }
    let Some(uris) = body["inputConfig"]["gcsSource"]["uris"].as_array() else {
        return Some("inputConfig.gcsSource.uris must be a list of gs:// URIs.".into());
    };
    if uris.is_empty() {
        return Some("inputConfig.gcsSource.uris is required.".into());
    }
    for u in uris {
        let Some((bucket, object)) = u.as_str().and_then(gs) else {
            return Some(format!("Invalid GCS URI: {u}."));
        };
        if shared.gcs.get(bucket, object).is_none() {
            return Some(format!("No such object: {u}."));
        }
    }
    if body["outputConfig"]["predictionsFormat"] != "jsonl" {
        return Some("outputConfig.predictionsFormat must be jsonl.".into());
    }
    let prefix = body["outputConfig"]["gcsDestination"]["outputUriPrefix"]
        .as_str()
        .unwrap_or("");
    gs(&format!("{}/x", prefix.trim_end_matches('/')))
        .is_none()
        .then(|| format!("Invalid outputUriPrefix: {prefix:?}."))
}

/// `POST .../batchPredictionJobs` and `GET` (list).
pub async fn jobs(
    State(shared): State<Arc<Shared>>,
    Path((project, location)): Path<(String, String)>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
    shared.record(|| recorded(&m, &u, &h, body.clone()));
    if !authorized(&h) {
        return error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        );
    }
    if m == Method::GET {
        let jobs = shared
            .vertex_jobs
            .jobs
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        let list: Vec<Value> = jobs.values().rev().cloned().collect();
        return Json(json!({"batchPredictionJobs": list})).into_response();
    }
    if let Some(msg) = invalid(&shared, &body) {
        return error(400, &msg);
    }
    let id = {
        let mut n = shared
            .vertex_jobs
            .next
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *n += 1;
        format!("{}", 3_814_889_423_749_775_000u64 + *n)
    };
    let now = rfc3339_now();
    let mut job = body.clone();
    job["name"] = json!(format!(
        "projects/{project}/locations/{location}/batchPredictionJobs/{id}"
    ));
    job["state"] = json!("JOB_STATE_PENDING");
    job["createTime"] = json!(now);
    job["updateTime"] = json!(now);
    shared
        .vertex_jobs
        .jobs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, job.clone());
    Json(job).into_response()
}

/// Runs the job: every input line answered into `predictions.jsonl`.
fn run(shared: &Shared, job: &mut Value) {
    let model = job["model"]
        .as_str()
        .unwrap_or("")
        .rsplit('/')
        .next()
        .unwrap_or("")
        .to_string();
    let mut out = String::new();
    let (mut ok, mut failed) = (0u64, 0u64);
    for uri in job["inputConfig"]["gcsSource"]["uris"]
        .as_array()
        .cloned()
        .unwrap_or_default()
    {
        let Some((bucket, object)) = uri.as_str().and_then(gs) else {
            continue;
        };
        let bytes = shared.gcs.get(bucket, object).unwrap_or_default();
        for line in String::from_utf8_lossy(&bytes)
            .lines()
            .filter(|l| !l.trim().is_empty())
        {
            let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
            let request = v["request"].clone();
            let result = match &request {
                Value::Object(_) => {
                    validate(&model, &request).map(|_| answer(&model, &model, &camel(&request)))
                }
                _ => Err("the line has no request object".into()),
            };
            let line = match result {
                Ok(response) => {
                    ok += 1;
                    json!({"status": "", "processed_time": rfc3339_now(), "request": request, "response": response})
                }
                Err(msg) => {
                    failed += 1;
                    json!({"status": format!("Bad Request: {msg}"), "processed_time": rfc3339_now(), "request": request})
                }
            };
            out.push_str(&line.to_string());
            out.push('\n');
        }
    }
    let prefix = job["outputConfig"]["gcsDestination"]["outputUriPrefix"]
        .as_str()
        .unwrap_or("")
        .trim_end_matches('/')
        .to_string();
    let dir = format!(
        "{prefix}/prediction-model-{}",
        rfc3339_now().replace([':', '.'], "-")
    );
    if let Some((bucket, object)) = gs(&format!("{dir}/predictions.jsonl")) {
        shared
            .gcs
            .put(bucket, object, "application/jsonl", out.into_bytes());
    }
    job["outputInfo"] = json!({"gcsOutputDirectory": dir});
    job["completionStats"] =
        json!({"successfulCount": ok.to_string(), "failedCount": failed.to_string()});
}

/// `GET .../batchPredictionJobs/{id}` (one state further) and `POST .../{id}:cancel`.
pub async fn job(
    State(shared): State<Arc<Shared>>,
    Path((_project, _location, spec)): Path<(String, String, String)>,
    m: Method,
    u: Uri,
    h: HeaderMap,
) -> Response {
    shared.record(|| recorded(&m, &u, &h, Value::Null));
    if !authorized(&h) {
        return error(
            401,
            "Request had invalid authentication credentials. Expected OAuth 2 access token.",
        );
    }
    let (id, method) = spec.split_once(':').unwrap_or((&spec, ""));
    let mut jobs = shared
        .vertex_jobs
        .jobs
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let Some(job) = jobs.get_mut(id) else {
        return error(404, &format!("The BatchPredictionJob does not exist: {id}"));
    };
    let state = job["state"].as_str().unwrap_or("").to_string();
    let now = json!(rfc3339_now());
    match (m.as_str(), method) {
        ("POST", "cancel") => {
            if !matches!(state.as_str(), "JOB_STATE_PENDING" | "JOB_STATE_RUNNING") {
                return error(
                    400,
                    &format!("The job is in state {state} and cannot be cancelled."),
                );
            }
            job["state"] = json!("JOB_STATE_CANCELLING");
            job["updateTime"] = now;
            shared
                .vertex_jobs
                .cancel_asked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id.to_string());
            return Json(json!({})).into_response();
        }
        ("GET", "") => {}
        _ => return error(404, &format!("method {method} not found")),
    }
    match state.as_str() {
        "JOB_STATE_PENDING" => {
            job["state"] = json!("JOB_STATE_RUNNING");
            job["startTime"] = now.clone();
        }
        "JOB_STATE_RUNNING" => {
            run(&shared, job);
            job["state"] = json!("JOB_STATE_SUCCEEDED");
            job["endTime"] = now.clone();
        }
        "JOB_STATE_CANCELLING"
            if shared
                .vertex_jobs
                .cancel_asked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(id) => {}
        "JOB_STATE_CANCELLING" => {
            job["state"] = json!("JOB_STATE_CANCELLED");
            job["endTime"] = now.clone();
        }
        _ => return Json(job.clone()).into_response(),
    }
    job["updateTime"] = now;
    Json(job.clone()).into_response()
}
