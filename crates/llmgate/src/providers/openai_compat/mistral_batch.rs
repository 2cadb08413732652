//! Mistral's Files and Batch APIs behind OpenAI's, as LiteLLM serves them: files at
//! `{base}/v1/files` (purposes `batch`, `fine-tune`, `ocr`; an OpenAI upload's JSONL goes as it
//! is), batch jobs at `{base}/v1/batch/jobs` — one model per job, set on the job —, whose
//! status maps to OpenAI's; the output file is already OpenAI batch output JSONL
//! (`{custom_id, response: {status_code, body}}`). The HTTP calls are the gateway's; this
//! module builds and translates their bodies.

use serde_json::{json, Map, Value};

use crate::LlmError;

const NAME: &str = "mistral";

fn bad(msg: impl Into<String>) -> LlmError {
    LlmError::bad_request(msg).with_provider(NAME)
}

/// Mistral's API root (`https://api.mistral.ai`): a base ending in `/v1` loses it, as the
/// files and batch paths carry their own.
pub fn api_root(base: &str) -> &str {
    let b = base.trim_end_matches('/');
    b.strip_suffix("/v1").unwrap_or(b)
}

/// An OpenAI upload purpose as Mistral takes it: only Mistral's own pass (LiteLLM refuses the
/// rest rather than call them `batch`).
pub fn purpose(openai: &str) -> Result<&'static str, LlmError> {
    match openai {
        "batch" => Ok("batch"),
        "fine-tune" => Ok("fine-tune"),
        "ocr" => Ok("ocr"),
        other => Err(bad(format!(
            "Mistral does not support purpose={other:?}. Use one of: batch, fine-tune, ocr"
        ))),
    }
}

/// Mistral's file object as OpenAI's (`ocr` files are OpenAI's `user_data`).
pub fn file_to_openai(f: &Value) -> Value {
    let purpose = match f["purpose"].as_str() {
        Some("ocr") => "user_data",
        Some(p) => p,
        None => "batch",
    };
    json!({
        "id": f["id"],
        "object": "file",
        "bytes": f["bytes"].as_u64().unwrap_or(0),
        "created_at": f["created_at"].as_u64().unwrap_or_else(now),
        "filename": f["filename"].as_str().unwrap_or(""),
        "purpose": purpose,
        "status": "uploaded",
        "expires_at": f.get("expires_at").cloned().unwrap_or(Value::Null),
    })
}

fn now() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// The bare model a Mistral job runs (`mistral/mistral-small-latest` → `mistral-small-latest`).
pub fn job_model(model: &str) -> &str {
    model.strip_prefix("mistral/").unwrap_or(model)
}

/// OpenAI's batch create body (its `input_file_id` already Mistral's) as a job create body.
/// Fields OpenAI's create has and Mistral's job has not (`completion_window`) are left out;
/// anything else the client sent (`extra_body`, e.g. `timeout_hours`) goes along.
pub fn job_request(openai: &Value, model: &str) -> Result<Value, LlmError> {
    let input = openai["input_file_id"]
        .as_str()
        .ok_or_else(|| bad("Missing required parameter: 'input_file_id'."))?;
    let endpoint = openai["endpoint"]
        .as_str()
        .ok_or_else(|| bad("Missing required parameter: 'endpoint'."))?;
    let mut job = Map::new();
    job.insert("input_files".into(), json!([input]));
    job.insert("endpoint".into(), json!(endpoint));
    job.insert("model".into(), json!(job_model(model)));
    if let Some(m) = openai.get("metadata").filter(|m| m.is_object()) {
        job.insert("metadata".into(), m.clone());
    }
    for (k, v) in openai.as_object().into_iter().flatten() {
        if !matches!(
            k.as_str(),
            "input_file_id" | "endpoint" | "completion_window" | "metadata" | "model"
        ) {
            job.entry(k.clone()).or_insert_with(|| v.clone());
        }
    }
    Ok(Value::Object(job))
}

/// A Mistral job status as OpenAI's.
pub fn status(mistral: &str) -> &'static str {
    match mistral {
        "QUEUED" => "validating",
        "RUNNING" => "in_progress",
        "SUCCESS" => "completed",
        "FAILED" => "failed",
        "TIMEOUT_EXCEEDED" => "expired",
        "CANCELLATION_REQUESTED" => "cancelling",
        "CANCELLED" => "cancelled",
        _ => "in_progress",
    }
}

/// A Mistral batch job as an OpenAI batch.
pub fn job_to_openai(job: &Value) -> Value {
    let status = status(job["status"].as_str().unwrap_or(""));
    let done = &job["completed_at"];
    let at = |s: &str| {
        if status == s {
            done.clone()
        } else {
            Value::Null
        }
    };
    let errors: Vec<Value> = job["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let msg = e["message"].as_str().unwrap_or("");
            let count = e["count"].as_u64().unwrap_or(1);
            let message = if count > 1 {
                format!("{msg} (x{count})")
            } else {
                msg.to_string()
            };
            json!({"message": message})
        })
        .collect();
    json!({
        "id": job["id"],
        "object": "batch",
        "endpoint": job["endpoint"],
        "input_file_id": job["input_files"].get(0).cloned().unwrap_or(json!("")),
        "completion_window": "24h",
        "status": status,
        "created_at": job["created_at"],
        "in_progress_at": job.get("started_at").cloned().unwrap_or(Value::Null),
        "completed_at": at("completed"),
        "failed_at": at("failed"),
        "expired_at": at("expired"),
        "cancelled_at": at("cancelled"),
        "output_file_id": job.get("output_file").cloned().unwrap_or(Value::Null),
        "error_file_id": job.get("error_file").cloned().unwrap_or(Value::Null),
        "errors": if errors.is_empty() { Value::Null } else { json!({"object": "list", "data": errors}) },
        "request_counts": {
            "total": job["total_requests"].as_u64().unwrap_or(0),
            "completed": job["succeeded_requests"].as_u64().unwrap_or(0),
            "failed": job["failed_requests"].as_u64().unwrap_or(0),
        },
        "metadata": job.get("metadata").cloned().unwrap_or(Value::Null),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_create_becomes_a_job_for_the_deployments_model() {
        let body = json!({"input_file_id": "f-1", "endpoint": "/v1/chat/completions",
            "completion_window": "24h", "metadata": {"team": "a"}, "timeout_hours": 12});
        let job = job_request(&body, "mistral/mistral-small-latest").unwrap();
        assert_eq!(
            job,
            json!({"input_files": ["f-1"], "endpoint": "/v1/chat/completions",
                "model": "mistral-small-latest", "metadata": {"team": "a"}, "timeout_hours": 12})
        );
        assert!(job_request(&json!({"endpoint": "/v1/chat/completions"}), "m").is_err());
    }

    #[test]
    fn a_job_reads_as_an_openai_batch() {
        let job = json!({"id": "j1", "input_files": ["f-1"], "endpoint": "/v1/chat/completions",
            "model": "mistral-small-latest", "status": "SUCCESS", "created_at": 10,
            "started_at": 11, "completed_at": 12, "total_requests": 2, "succeeded_requests": 2,
            "failed_requests": 0, "output_file": "out-1", "errors": [{"message": "bad line", "count": 3}]});
        let b = job_to_openai(&job);
        assert_eq!(b["status"], "completed");
        assert_eq!(b["completed_at"], 12);
        assert_eq!(b["failed_at"], Value::Null);
        assert_eq!(b["output_file_id"], "out-1");
        assert_eq!(b["input_file_id"], "f-1");
        assert_eq!(b["request_counts"]["completed"], 2);
        assert_eq!(b["errors"]["data"][0]["message"], "bad line (x3)");
        assert_eq!(status("CANCELLATION_REQUESTED"), "cancelling");
        assert_eq!(status("TIMEOUT_EXCEEDED"), "expired");
    }

    #[test]
    fn purposes_and_roots() {
        assert_eq!(purpose("batch").unwrap(), "batch");
        assert!(purpose("assistants").is_err());
        assert_eq!(
            file_to_openai(&json!({"id": "x", "purpose": "ocr"}))["purpose"],
            "user_data"
        );
        assert_eq!(
            api_root("https://api.mistral.ai/v1/"),
            "https://api.mistral.ai"
        );
        assert_eq!(api_root("http://h/mistral"), "http://h/mistral");
    }
}
