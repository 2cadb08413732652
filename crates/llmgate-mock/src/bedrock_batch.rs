//! Bedrock batch inference on the control plane (`bedrock.{region}.amazonaws.com`), as AWS
//! documents it: `CreateModelInvocationJob` (`POST /model-invocation-job`),
//! `GetModelInvocationJob` (`GET /model-invocation-job/{jobIdentifier}`, the job's ARN
//! URL-encoded) and `StopModelInvocationJob` (`POST /model-invocation-job/{jobIdentifier}/stop`),
//! SigV4 for `bedrock` checked. A job reads `{"recordId", "modelInput"}` lines from the S3
//! mock (`inputDataConfig.s3InputDataConfig.s3Uri`) and writes
//! `{outputDataConfig.s3OutputDataConfig.s3Uri}{job id}/{input file name}.out`, one line per
//! record with its `modelOutput` (Claude's Messages answer, with `usage`) or an `error`, and a
//! `manifest.json.out`. A job moves one status per get: `Submitted` → `InProgress` →
//! `Completed`; a stopped one reads `Stopping` once, then `Stopped`.

use std::collections::{BTreeMap, HashSet};
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::bedrock::{aws_error, verify};
use crate::openai::recorded;
use crate::vertex_batch::rfc3339_now;
use crate::Shared;

const ACCOUNT: &str = "123456789012";

/// Jobs by id (the ARN's last segment).
#[derive(Default)]
pub(crate) struct Jobs {
    jobs: Mutex<BTreeMap<String, Value>>,
    next: Mutex<u64>,
    /// Jobs asked to stop and not read since: still `Stopping` at the next get.
    stop_asked: Mutex<HashSet<String>>,
}

/// `s3://bucket/key` as (bucket, key).
fn s3(uri: &str) -> Option<(&str, &str)> {
    uri.strip_prefix("s3://")?.split_once('/')
}

fn invalid(m: &str) -> Response {
    aws_error(400, "ValidationException", m)
}

/// Why a create body is not a valid job, if it is not (AWS's constraints on each field).
fn refused(shared: &Shared, body: &Value) -> Option<String> {
    let name = body["jobName"].as_str().unwrap_or("");
    let name_ok = !name.is_empty()
        && name.len() <= 63
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c));
    if !name_ok {
        return Some(format!("1 validation error detected: Value '{name}' at 'jobName' failed to satisfy constraint: Member must satisfy regular expression pattern: [a-zA-Z0-9]{{1,63}}(-*[a-zA-Z0-9\\+\\-\\.]){{0,63}}"));
    }
    let role = body["roleArn"].as_str().unwrap_or("");
    if !role.starts_with("arn:aws:iam::") || !role.contains(":role/") {
        return Some(format!("1 validation error detected: Value '{role}' at 'roleArn' failed to satisfy constraint: Member must satisfy regular expression pattern: ^arn:aws(-[^:]+)?:iam::([0-9]{{12}})?:role/.+$"));
    }
    if body["modelId"].as_str().is_none_or(str::is_empty) {
        return Some("1 validation error detected: Value null at 'modelId' failed to satisfy constraint: Member must not be null".into());
    }
    let input = body["inputDataConfig"]["s3InputDataConfig"]["s3Uri"]
        .as_str()
        .unwrap_or("");
    match s3(input) {
        Some((b, k)) if shared.s3.object(b, k).is_some() => {}
        _ => {
            return Some(format!(
                "Unable to access the input data at {input:?}: no such S3 object."
            ))
        }
    }
    let output = body["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
        .as_str()
        .unwrap_or("");
    s3(output)
        .is_none()
        .then(|| format!("Invalid S3 output location {output:?}."))
}

/// `POST /model-invocation-job`: the job's ARN.
pub async fn create(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&b).unwrap_or(Value::Null);
    shared.record(|| recorded(&m, &u, &h, body.clone()));
    if let Err((status, kind, message)) = verify(&shared, &m, &u, &h, &b, "bedrock") {
        return aws_error(status, kind, &message);
    }
    if let Some(msg) = refused(&shared, &body) {
        return invalid(&msg);
    }
    let id = {
        let mut n = shared
            .bedrock_jobs
            .next
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        *n += 1;
        format!("mockjob{:05}", *n)
    };
    let region = h
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|a| a.split("Credential=").nth(1))
        .and_then(|c| c.split('/').nth(2))
        .unwrap_or("us-west-2")
        .to_string();
    let arn = format!("arn:aws:bedrock:{region}:{ACCOUNT}:model-invocation-job/{id}");
    let now = rfc3339_now();
    let mut job = body.clone();
    job["jobArn"] = json!(arn);
    job["status"] = json!("Submitted");
    job["submitTime"] = json!(now);
    job["lastModifiedTime"] = json!(now);
    shared
        .bedrock_jobs
        .jobs
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(id, job);
    Json(json!({"jobArn": arn})).into_response()
}

/// Runs the job: every record answered into `{output}{job id}/{input file}.out`.
fn run(shared: &Shared, id: &str, job: &mut Value) {
    let model = job["modelId"].as_str().unwrap_or("").to_string();
    let input = job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"]
        .as_str()
        .unwrap_or("")
        .to_string();
    let Some((bucket, key)) = s3(&input) else {
        return;
    };
    let bytes = shared.s3.object(bucket, key).unwrap_or_default();
    let (mut out, mut ok, mut failed) = (String::new(), 0u64, 0u64);
    for line in String::from_utf8_lossy(&bytes)
        .lines()
        .filter(|l| !l.trim().is_empty())
    {
        let v: Value = serde_json::from_str(line).unwrap_or(Value::Null);
        let input = v["modelInput"].clone();
        let answer = if model.contains("anthropic.") {
            crate::anthropic::bedrock_claude(&model, &input)
        } else {
            Err((
                400,
                format!("the mock runs batches of Anthropic models, not {model}"),
            ))
        };
        let record = match answer {
            Ok(output) => {
                ok += 1;
                json!({"recordId": v["recordId"], "modelInput": input, "modelOutput": output})
            }
            Err((code, message)) => {
                failed += 1;
                json!({"recordId": v["recordId"], "modelInput": input,
                    "error": {"errorCode": code, "errorMessage": message}})
            }
        };
        out.push_str(&record.to_string());
        out.push('\n');
    }
    let output = job["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
        .as_str()
        .unwrap_or("")
        .to_string();
    if let Some((out_bucket, prefix)) = s3(&output) {
        let file = key.rsplit('/').next().unwrap_or(key);
        let dir = format!("{}/{id}", prefix.trim_end_matches('/'));
        let dir = dir.trim_start_matches('/');
        shared
            .s3
            .store(out_bucket, &format!("{dir}/{file}.out"), out.into_bytes());
        let manifest = json!({"totalRecordCount": ok + failed, "processedRecordCount": ok + failed,
            "successRecordCount": ok, "errorRecordCount": failed});
        shared.s3.store(
            out_bucket,
            &format!("{dir}/manifest.json.out"),
            manifest.to_string().into_bytes(),
        );
    }
}

/// `GET /model-invocation-job/{jobIdentifier}` (one status further) and `POST .../stop`.
pub async fn job(
    State(shared): State<Arc<Shared>>,
    Path(spec): Path<Vec<String>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    shared.record(|| recorded(&m, &u, &h, Value::Null));
    if let Err((status, kind, message)) = verify(&shared, &m, &u, &h, &b, "bedrock") {
        return aws_error(status, kind, &message);
    }
    let (ident, action) = match spec.as_slice() {
        [ident] => (ident.as_str(), ""),
        [ident, action] => (ident.as_str(), action.as_str()),
        _ => return aws_error(404, "UnknownOperationException", "Unknown operation"),
    };
    let id = ident.rsplit('/').next().unwrap_or(ident);
    let mut jobs = shared
        .bedrock_jobs
        .jobs
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let Some(job) = jobs.get_mut(id) else {
        return aws_error(
            404,
            "ResourceNotFoundException",
            &format!("The specified job {ident} could not be found."),
        );
    };
    let status = job["status"].as_str().unwrap_or("").to_string();
    let now = json!(rfc3339_now());
    match (m.as_str(), action) {
        ("POST", "stop") => {
            if !matches!(
                status.as_str(),
                "Submitted" | "Validating" | "Scheduled" | "InProgress"
            ) {
                return invalid(&format!(
                    "The job is in status {status} and cannot be stopped."
                ));
            }
            job["status"] = json!("Stopping");
            job["lastModifiedTime"] = now;
            shared
                .bedrock_jobs
                .stop_asked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .insert(id.to_string());
            // An empty 200, as AWS answers a stop.
            return axum::http::StatusCode::OK.into_response();
        }
        ("GET", "") => {}
        _ => return aws_error(404, "UnknownOperationException", "Unknown operation"),
    }
    match status.as_str() {
        "Submitted" => job["status"] = json!("InProgress"),
        "InProgress" => {
            run(&shared, id, job);
            job["status"] = json!("Completed");
            job["endTime"] = now.clone();
        }
        "Stopping"
            if shared
                .bedrock_jobs
                .stop_asked
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .remove(id) => {}
        "Stopping" => {
            job["status"] = json!("Stopped");
            job["endTime"] = now.clone();
        }
        _ => return Json(job.clone()).into_response(),
    }
    job["lastModifiedTime"] = now;
    Json(job.clone()).into_response()
}
