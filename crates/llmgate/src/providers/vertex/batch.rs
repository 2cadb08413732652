//! Vertex AI batch prediction behind OpenAI's Files and Batches APIs, as LiteLLM serves it:
//! an OpenAI batch JSONL becomes Vertex's (`{"request": <generateContent body>}` lines, the
//! line's `custom_id` kept in the request's labels) stored in Cloud Storage; a batch is a
//! `batchPredictionJobs` resource whose state maps to OpenAI's statuses; its
//! `predictions.jsonl` reads back as an OpenAI batch output file. The HTTP calls are the
//! gateway's; this module builds and translates their bodies.

use llmgate_types::ChatCompletionRequest;
use serde_json::{json, Map, Value};

use super::{Model, Site, NAME};
use crate::providers::gemini::media::MediaCx;
use crate::providers::gemini::{request, response};
use crate::providers::{batch_output, Ctx};
use crate::{CallOptions, LlmError};

/// Where LiteLLM keeps the objects it uploads in the bucket.
pub const OBJECT_PREFIX: &str = "litellm-vertex-files/";
/// GCP label values: at most 63 characters.
const LABEL_MAX: usize = 63;
const RAW_PREFIX: &str = "b32_";

fn bad(msg: impl Into<String>) -> LlmError {
    LlmError::bad_request(msg).with_provider(NAME)
}

/// A project and location's URL (`{base}/v1/projects/{p}/locations/{l}`) and an access token.
pub struct Location {
    pub url: String,
    pub token: String,
}

/// The deployment's (or the environment's) project, location and credentials.
pub async fn location(http: &reqwest::Client, opts: &CallOptions) -> Result<Location, LlmError> {
    let s = Site::resolve(&Ctx { http, opts }).await?;
    Ok(Location {
        url: format!(
            "{}/v1/projects/{}/locations/{}",
            s.base, s.project, s.location
        ),
        token: s.token,
    })
}

/// The publisher model path a batch runs (`publishers/google/models/gemini-2.5-flash`): Gemini
/// only — a Claude model on Vertex is not served by batch prediction through LiteLLM.
pub fn model_path(model: &str) -> Result<String, LlmError> {
    let id = model.strip_prefix("vertex_ai/").unwrap_or(model);
    let m = Model::parse(id)?;
    if m.claude || m.scope.is_some() || !m.path.starts_with("publishers/google/models/") {
        return Err(bad(format!(
            "{model:?} is not a Gemini publisher model: Vertex batch prediction runs publishers/google/models/{{id}}"
        )));
    }
    Ok(m.path)
}

/// The publisher model a batch file's object name holds (LiteLLM names uploads
/// `litellm-vertex-files/publishers/google/models/{id}/{uuid}`: Vertex's job needs the model,
/// OpenAI's batch create names none).
pub fn model_of_object(gs_uri: &str) -> Option<String> {
    let rest = gs_uri.split_once("/publishers/")?.1;
    let parts: Vec<&str> = rest.split('/').take(3).collect();
    (parts.len() == 3).then(|| format!("publishers/{}", parts.join("/")))
}

/// An OpenAI batch JSONL as Vertex's batch-prediction JSONL, every request for `model` (a
/// publisher model path). A line that is not an OpenAI chat request is a 400.
pub async fn to_vertex_jsonl(
    http: &reqwest::Client,
    opts: &CallOptions,
    token: &str,
    model: &str,
    openai: &[u8],
) -> Result<Vec<u8>, LlmError> {
    let id = model.rsplit('/').next().unwrap_or(model);
    let text = std::str::from_utf8(openai).map_err(|_| bad("the batch file is not UTF-8"))?;
    let mcx = MediaCx {
        http,
        opts,
        gcs_token: Some(token),
    };
    let mut out = Vec::new();
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let n = i + 1;
        let v: Value = serde_json::from_str(line)
            .map_err(|e| bad(format!("line {n} of the batch file is not JSON: {e}")))?;
        let mut body = v["body"].clone();
        if !body.is_object() {
            return Err(bad(format!(
                "line {n} of the batch file has no `body` object"
            )));
        }
        body["model"] = Value::String(id.to_string());
        let req: ChatCompletionRequest = serde_json::from_value(body).map_err(|e| {
            bad(format!(
                "line {n} of the batch file is not a chat completion request: {e}"
            ))
        })?;
        let mut request = request::build(&req, &mcx, NAME).await?;
        if let Some(custom_id) = v.get("custom_id").filter(|c| !c.is_null()) {
            let custom_id = match custom_id {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            set_custom_id(&mut request, &custom_id);
        }
        serde_json::to_writer(&mut out, &json!({ "request": request }))
            .map_err(|e| bad(e.to_string()))?;
        out.push(b'\n');
    }
    if out.is_empty() {
        return Err(bad("the batch file has no requests"));
    }
    Ok(out)
}

/// `custom_id` in the request's labels, as LiteLLM keeps it: `litellm_custom_id` label-safe,
/// `litellm_custom_id_raw[_n]` its exact text (base32, in 63-character values).
fn set_custom_id(request: &mut Value, custom_id: &str) {
    if !request["labels"].is_object() {
        request["labels"] = json!({});
    }
    let labels = &mut request["labels"];
    let safe: String = custom_id
        .to_lowercase()
        .chars()
        .map(|c| {
            if c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-' {
                c
            } else {
                '_'
            }
        })
        .take(LABEL_MAX)
        .collect();
    labels["litellm_custom_id"] = json!(safe);
    let encoded = base32(custom_id.as_bytes());
    let width = LABEL_MAX - RAW_PREFIX.len();
    let chunks: Vec<&str> = if encoded.is_empty() {
        vec![""]
    } else {
        encoded
            .as_bytes()
            .chunks(width)
            .map(|c| std::str::from_utf8(c).unwrap_or(""))
            .collect()
    };
    for (i, c) in chunks.iter().enumerate() {
        let key = if i == 0 {
            "litellm_custom_id_raw".to_string()
        } else {
            format!("litellm_custom_id_raw_{i}")
        };
        labels[key] = json!(format!("{RAW_PREFIX}{c}"));
    }
}

/// The `custom_id` the labels hold (the raw chunks preferred).
fn custom_id(labels: &Value) -> String {
    if let Some(first) = labels["litellm_custom_id_raw"].as_str() {
        let mut chunks = vec![(0usize, first)];
        for (k, v) in labels.as_object().into_iter().flatten() {
            let n = k.strip_prefix("litellm_custom_id_raw_");
            if let (Some(n), Some(v)) = (n.and_then(|n| n.parse().ok()), v.as_str()) {
                chunks.push((n, v));
            }
        }
        chunks.sort_by_key(|(n, _)| *n);
        let text: Option<String> = chunks
            .iter()
            .map(|(_, c)| c.strip_prefix(RAW_PREFIX))
            .collect();
        if let Some(s) = text.and_then(|t| unbase32(&t)) {
            return s;
        }
        return first.to_string();
    }
    labels["litellm_custom_id"]
        .as_str()
        .unwrap_or("unknown")
        .to_string()
}

const B32: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// RFC 4648 base32, lower case, unpadded.
fn base32(bytes: &[u8]) -> String {
    let mut out = String::new();
    let (mut buf, mut bits) = (0u32, 0);
    for b in bytes {
        buf = (buf << 8) | u32::from(*b);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(B32[((buf >> bits) & 31) as usize] as char);
        }
    }
    if bits > 0 {
        out.push(B32[((buf << (5 - bits)) & 31) as usize] as char);
    }
    out
}

fn unbase32(text: &str) -> Option<String> {
    let mut out = Vec::new();
    let (mut buf, mut bits) = (0u32, 0);
    for c in text.bytes() {
        let v = B32.iter().position(|x| *x == c.to_ascii_lowercase())? as u32;
        buf = ((buf << 5) | v) & 0xFFFF;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buf >> bits) as u8);
        }
    }
    String::from_utf8(out).ok()
}

/// The `batchPredictionJobs` create body for a file in Cloud Storage: its model from the
/// object name, the output next to the input.
pub fn job_request(input_uri: &str) -> Result<Value, LlmError> {
    let model = model_of_object(input_uri).ok_or_else(|| {
        bad(format!(
            "{input_uri} was not uploaded for a Vertex batch (its object name names no publishers/google/models/{{id}})"
        ))
    })?;
    let prefix = input_uri.rsplit_once('/').map_or(input_uri, |(p, _)| p);
    Ok(json!({
        "displayName": format!("litellm-vertex-batch-{}", uuid::Uuid::new_v4()),
        "model": model,
        "inputConfig": {"instancesFormat": "jsonl", "gcsSource": {"uris": [input_uri]}},
        "outputConfig": {"predictionsFormat": "jsonl", "gcsDestination": {"outputUriPrefix": prefix}},
    }))
}

/// OpenAI's status for a Vertex `JobState`.
fn status(state: &str) -> &'static str {
    match state {
        "JOB_STATE_QUEUED" | "JOB_STATE_PENDING" => "validating",
        "JOB_STATE_RUNNING" | "JOB_STATE_PAUSED" | "JOB_STATE_UPDATING" => "in_progress",
        "JOB_STATE_SUCCEEDED" | "JOB_STATE_PARTIALLY_SUCCEEDED" => "completed",
        "JOB_STATE_CANCELLING" => "cancelling",
        "JOB_STATE_CANCELLED" => "cancelled",
        "JOB_STATE_EXPIRED" => "expired",
        _ => "failed",
    }
}

/// A `batchPredictionJobs` resource as an OpenAI batch (its id the job name's last segment,
/// its output file `{gcsOutputDirectory}/predictions.jsonl`).
pub fn job_to_openai(job: &Value) -> Value {
    let name = job["name"].as_str().unwrap_or("");
    let id = name.rsplit('/').next().unwrap_or(name);
    let input = job["inputConfig"]["gcsSource"]["uris"]
        .get(0)
        .and_then(Value::as_str)
        .unwrap_or("");
    let output = match job["outputInfo"]["gcsOutputDirectory"].as_str() {
        Some(dir) if !dir.is_empty() => Value::String(format!("{dir}/predictions.jsonl")),
        _ => Value::Null,
    };
    let time = |k: &str| {
        job[k]
            .as_str()
            .and_then(crate::parse_rfc3339)
            .map_or(Value::Null, |t| json!(t))
    };
    let status = status(job["state"].as_str().unwrap_or(""));
    let stats = &job["completionStats"];
    let (ok, failed) = (
        count(&stats["successfulCount"]),
        count(&stats["failedCount"]),
    );
    json!({
        "id": id,
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
        "input_file_id": input,
        "output_file_id": output,
        "error_file_id": null,
        "status": status,
        "created_at": time("createTime").as_u64().unwrap_or_else(crate::now_secs),
        "in_progress_at": time("startTime"),
        "completed_at": if status == "completed" { time("endTime") } else { Value::Null },
        "failed_at": if status == "failed" { time("endTime") } else { Value::Null },
        "cancelled_at": if status == "cancelled" { time("endTime") } else { Value::Null },
        "errors": batch_output::errors("vertex_ai_error", job["error"]["message"].as_str()),
        "request_counts": {"total": ok + failed, "completed": ok, "failed": failed},
    })
}

/// An int64 count (JSON strings in Google's APIs).
fn count(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

/// Vertex's `predictions.jsonl` as an OpenAI batch output file (one
/// `{id, custom_id, response: {status_code, request_id, body}, error}` line per prediction);
/// anything else is returned as it is, as LiteLLM does.
pub fn output_to_openai(content: &[u8]) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(content) else {
        return content.to_vec();
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let Some(Ok(first)) = lines.first().map(|l| serde_json::from_str::<Value>(l)) else {
        return content.to_vec();
    };
    let is_prediction = first.get("request").is_some()
        && (first["response"].get("candidates").is_some()
            || first["response"].get("promptFeedback").is_some()
            || first["status"].as_str().is_some_and(|s| !s.is_empty()));
    if !is_prediction {
        return content.to_vec();
    }
    let mut out = Vec::new();
    for line in lines {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            return content.to_vec();
        };
        let _ = serde_json::to_writer(&mut out, &prediction_to_openai(&v));
        out.push(b'\n');
    }
    out
}

fn prediction_to_openai(v: &Value) -> Value {
    let custom_id = json!(custom_id(&v["request"]["labels"]));
    if let Some(status) = v["status"].as_str().filter(|s| !s.is_empty()) {
        return batch_output::failed(custom_id, json!("vertex_ai_error"), status);
    }
    let resp = &v["response"];
    let model = resp["modelVersion"].as_str().unwrap_or("gemini");
    let model = model.split('@').next().unwrap_or(model);
    let body = response::translate(resp, model, crate::now_secs());
    let body = serde_json::to_value(&body).unwrap_or(Value::Object(Map::new()));
    batch_output::answered(custom_id, body)
}

/// A Cloud Storage object's metadata as an OpenAI file object (`gs://{bucket}/{name}`).
pub fn object_to_openai(obj: &Value, purpose: &str) -> Value {
    let bucket = obj["bucket"].as_str().unwrap_or("");
    let name = obj["name"].as_str().unwrap_or("");
    json!({
        "id": format!("gs://{bucket}/{name}"),
        "object": "file",
        "purpose": purpose,
        "filename": name,
        "bytes": count(&obj["size"]),
        "created_at": obj["timeCreated"].as_str().and_then(crate::parse_rfc3339).unwrap_or_else(crate::now_secs),
        "status": "processed",
        "status_details": null,
    })
}

/// A file name as a safe object-name segment (LiteLLM's managed `uploads/` names).
pub fn safe_name(filename: &str) -> String {
    let s: String = filename
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .take(128)
        .collect();
    let s = s.trim_start_matches('.').to_string();
    if s.is_empty() {
        "file".into()
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn custom_ids_round_trip_through_labels() {
        for id in ["r1", "Request 1/ä", &"x".repeat(100), ""] {
            let mut req = json!({"contents": []});
            set_custom_id(&mut req, id);
            assert_eq!(custom_id(&req["labels"]), id, "{}", req["labels"]);
            for v in req["labels"].as_object().unwrap().values() {
                assert!(v.as_str().unwrap().len() <= LABEL_MAX);
            }
        }
        assert_eq!(base32(b"foobar"), "mzxw6ytboi");
    }

    #[test]
    fn predictions_read_as_openai_batch_output() {
        let mut req = json!({"contents": []});
        set_custom_id(&mut req, "Req-1");
        let ok = json!({"request": req, "status": "", "processed_time": "2026-01-01T00:00:00Z",
            "response": {"candidates": [{"content": {"role": "model", "parts": [{"text": "Hi"}]}, "finishReason": "STOP"}],
                "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5},
                "modelVersion": "gemini-2.5-flash@001"}});
        let failed = json!({"request": {"labels": {"litellm_custom_id": "r2"}}, "status": "Bad Request: no contents",
            "processed_time": "2026-01-01T00:00:00Z"});
        let text = format!("{ok}\n{failed}\n");
        let out: Vec<Value> = String::from_utf8(output_to_openai(text.as_bytes()))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(out[0]["custom_id"], "Req-1");
        let body = &out[0]["response"]["body"];
        assert_eq!(out[0]["response"]["status_code"], 200);
        assert_eq!(body["model"], "gemini-2.5-flash");
        assert_eq!(body["choices"][0]["message"]["content"], "Hi");
        assert_eq!(body["usage"]["prompt_tokens"], 3);
        assert_eq!(body["usage"]["completion_tokens"], 2);
        assert_eq!(out[1]["custom_id"], "r2");
        assert_eq!(out[1]["error"]["message"], "Bad Request: no contents");
        // Not predictions: as it is.
        assert_eq!(output_to_openai(b"{\"a\": 1}\n"), b"{\"a\": 1}\n");
    }

    #[test]
    fn jobs_map_to_openai_batches() {
        let job = json!({"name": "projects/p/locations/l/batchPredictionJobs/123", "state": "JOB_STATE_SUCCEEDED",
            "createTime": "2026-01-01T00:00:00.5Z", "inputConfig": {"gcsSource": {"uris": ["gs://b/x"]}},
            "outputInfo": {"gcsOutputDirectory": "gs://b/out"}, "completionStats": {"successfulCount": "2"}});
        let b = job_to_openai(&job);
        assert_eq!(b["id"], "123");
        assert_eq!(b["status"], "completed");
        assert_eq!(b["output_file_id"], "gs://b/out/predictions.jsonl");
        assert_eq!(b["created_at"], 1_767_225_600);
        assert_eq!(b["request_counts"]["completed"], 2);
        assert_eq!(status("JOB_STATE_PENDING"), "validating");
        assert_eq!(
            model_of_object(
                "gs://b/litellm-vertex-files/publishers/google/models/gemini-2.5-flash/u"
            )
            .as_deref(),
            Some("publishers/google/models/gemini-2.5-flash")
        );
        assert!(model_path("claude-sonnet-4-5").is_err());
        assert_eq!(
            model_path("vertex_ai/gemini-2.5-flash").unwrap(),
            "publishers/google/models/gemini-2.5-flash"
        );
    }
}
