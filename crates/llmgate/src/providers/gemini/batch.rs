//! Google AI Studio (`gemini/`) files and batches behind OpenAI's Files and Batches APIs, as
//! LiteLLM serves them: an OpenAI batch JSONL becomes Gemini's (`{"key": custom_id, "request":
//! <GenerateContentRequest>}` lines) uploaded to the Files API; a batch is
//! `models/{model}:batchGenerateContent` over that file, answered as a long-running operation
//! (`batches/{id}`) whose state (`JOB_STATE_*` or `BATCH_STATE_*`) maps to OpenAI's statuses;
//! its responses file reads back as OpenAI batch output (chat.completion bodies with usage).
//! The HTTP calls are the gateway's; this module builds and translates their bodies and checks
//! the ids that go into their URLs.

use llmgate_types::ChatCompletionRequest;
use serde_json::{json, Map, Value};

use super::media::MediaCx;
use super::{request, response};
use crate::providers::batch_output;
use crate::{CallOptions, LlmError};

const NAME: &str = "gemini";

fn bad(msg: impl Into<String>) -> LlmError {
    LlmError::bad_request(msg).with_provider(NAME)
}

/// Google AI Studio's root (`https://generativelanguage.googleapis.com`): the files, upload
/// and download paths carry their version, so a chat `api_base` ending in `/v1beta` (or `/v1`)
/// is cut back to its root.
pub fn api_root(base: &str) -> &str {
    let base = base.trim_end_matches('/');
    base.strip_suffix("/v1beta")
        .or_else(|| base.strip_suffix("/v1"))
        .unwrap_or(base)
}

/// A Files API or batch id as Google writes them: up to 64 lowercase letters, digits and
/// dashes, not starting or ending with a dash (Google documents 40 for files; batch outputs
/// run longer). Anything else is refused before it goes into a URL path.
fn resource_id<'a>(kind: &str, id: &'a str) -> Result<&'a str, LlmError> {
    let bare = id
        .strip_prefix(kind)
        .and_then(|r| r.strip_prefix('/'))
        .unwrap_or(id);
    let ok = !bare.is_empty()
        && bare.len() <= 64
        && !bare.starts_with('-')
        && !bare.ends_with('-')
        && bare
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if ok {
        Ok(bare)
    } else {
        Err(bad(format!("{id:?} is not a valid Gemini {kind} id")))
    }
}

/// A file's resource name (`files/{id}`) from the name or its bare id, checked.
pub fn file_name(id: &str) -> Result<String, LlmError> {
    resource_id("files", id).map(|id| format!("files/{id}"))
}

/// A batch's bare id from `batches/{id}` or the id, checked.
pub fn batch_id(id: &str) -> Result<&str, LlmError> {
    resource_id("batches", id)
}

/// `models/{id}` for the model a batch runs, checked as every Gemini model name is.
pub fn model_path(model: &str) -> Result<String, LlmError> {
    super::Gemini::model_path(batch_model(model)).map_err(|e| e.with_provider(NAME))
}

/// The resumable upload's start body: the file's metadata.
pub fn upload_start(display_name: &str) -> Value {
    json!({"file": {"display_name": display_name}})
}

/// The bare model a batch runs (`gemini/gemini-2.0-flash` → `gemini-2.0-flash`).
pub fn batch_model(model: &str) -> &str {
    let m = model.strip_prefix("gemini/").unwrap_or(model);
    m.strip_prefix("models/").unwrap_or(m)
}

/// An OpenAI batch JSONL as Gemini's batch input JSONL, every request for `model`; the line's
/// `custom_id` is its `key`. A line that is not an OpenAI chat request is a 400.
pub async fn to_gemini_jsonl(
    http: &reqwest::Client,
    opts: &CallOptions,
    model: &str,
    openai: &[u8],
) -> Result<Vec<u8>, LlmError> {
    let text = std::str::from_utf8(openai).map_err(|_| bad("the batch file is not UTF-8"))?;
    let mcx = MediaCx {
        http,
        opts,
        gcs_token: None,
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
        body["model"] = Value::String(batch_model(model).to_string());
        let req: ChatCompletionRequest = serde_json::from_value(body).map_err(|e| {
            bad(format!(
                "line {n} of the batch file is not a chat completion request: {e}"
            ))
        })?;
        let request = request::build(&req, &mcx, NAME).await?;
        let key = match v.get("custom_id") {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => format!("request-{n}"),
            Some(other) => other.to_string(),
        };
        serde_json::to_writer(&mut out, &json!({ "key": key, "request": request }))
            .map_err(|e| bad(e.to_string()))?;
        out.push(b'\n');
    }
    if out.is_empty() {
        return Err(bad("the batch file has no requests"));
    }
    Ok(out)
}

/// The `batchGenerateContent` body over an uploaded file (`files/{id}`).
pub fn batch_request(file_name: &str, display_name: &str) -> Value {
    json!({"batch": {"display_name": display_name, "input_config": {"file_name": file_name}}})
}

/// OpenAI's status for a batch state (Google uses both `JOB_STATE_*` and `BATCH_STATE_*`).
pub fn status(state: &str) -> &'static str {
    let s = state
        .strip_prefix("JOB_STATE_")
        .or_else(|| state.strip_prefix("BATCH_STATE_"))
        .unwrap_or(state);
    match s {
        "PENDING" | "QUEUED" => "validating",
        "RUNNING" => "in_progress",
        "SUCCEEDED" => "completed",
        "CANCELLING" => "cancelling",
        "CANCELLED" => "cancelled",
        "EXPIRED" => "expired",
        "FAILED" => "failed",
        _ => "in_progress",
    }
}

/// An int64 count (JSON strings in Google's APIs).
fn count(v: &Value) -> u64 {
    v.as_u64()
        .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
        .unwrap_or(0)
}

/// A batch operation (or the bare `GenerateContentBatch`) as an OpenAI batch: its id the name's
/// last segment, its output the responses file's name.
pub fn job_to_openai(op: &Value) -> Value {
    let meta = if op["metadata"].is_object() {
        &op["metadata"]
    } else {
        op
    };
    let name = op["name"].as_str().or(meta["name"].as_str()).unwrap_or("");
    let id = name.rsplit('/').next().unwrap_or(name);
    let input = meta["inputConfig"]["fileName"]
        .as_str()
        .or(meta["inputConfig"]["file_name"].as_str())
        .unwrap_or("");
    let output = meta["output"]["responsesFile"]
        .as_str()
        .or(op["response"]["responsesFile"].as_str())
        .or(meta["dest"]["fileName"].as_str())
        .map_or(Value::Null, |f| json!(f));
    let time = |k: &str| {
        meta[k]
            .as_str()
            .and_then(crate::parse_rfc3339)
            .map_or(Value::Null, |t| json!(t))
    };
    let status = status(meta["state"].as_str().unwrap_or(""));
    let stats = &meta["batchStats"];
    let end = time("endTime");
    let end = if end.is_null() {
        time("updateTime")
    } else {
        end
    };
    let at = |s: &str| {
        if status == s {
            end.clone()
        } else {
            Value::Null
        }
    };
    let error = op["error"]["message"].as_str();
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
        "in_progress_at": null,
        "completed_at": at("completed"),
        "failed_at": at("failed"),
        "cancelled_at": at("cancelled"),
        "expired_at": at("expired"),
        "errors": batch_output::errors("gemini_error", error),
        "request_counts": {
            "total": count(&stats["requestCount"]),
            "completed": count(&stats["successfulRequestCount"]),
            "failed": count(&stats["failedRequestCount"]),
        },
        "metadata": null,
    })
}

/// Gemini's batch responses JSONL (`{key, response}` or `{key, error|status}` lines) as an OpenAI
/// batch output file; anything else is returned as it is.
pub fn output_to_openai(content: &[u8], model: &str) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(content) else {
        return content.to_vec();
    };
    let mut out = Vec::new();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            return content.to_vec();
        };
        let answered = ["response", "error", "status"]
            .iter()
            .any(|k| v.get(k).is_some());
        if v.get("key").is_none() || !answered {
            return content.to_vec();
        }
        let _ = serde_json::to_writer(&mut out, &line_to_openai(&v, model));
        out.push(b'\n');
    }
    out
}

fn line_to_openai(v: &Value, model: &str) -> Value {
    let custom_id = match &v["key"] {
        Value::String(s) => json!(s),
        other => json!(other.to_string()),
    };
    // A failed request's line carries a `google.rpc.Status` (as `error`, or `status`).
    if v["error"].is_object() || v["response"].is_null() {
        let status = if v["error"].is_object() {
            &v["error"]
        } else {
            &v["status"]
        };
        let msg = status["message"].as_str().unwrap_or("the request failed");
        return batch_output::failed(custom_id, json!("gemini_error"), msg);
    }
    let resp = &v["response"];
    let model = resp["modelVersion"].as_str().unwrap_or(batch_model(model));
    let body = response::translate(resp, model, crate::now_secs());
    let body = serde_json::to_value(&body).unwrap_or(Value::Object(Map::new()));
    batch_output::answered(custom_id, body)
}

/// A Files API file (`{file: {...}}`, the upload's answer, or the bare file a get answers) as
/// an OpenAI file object; its id is the file's name (`files/{id}`). Its status as LiteLLM gives
/// it: `uploaded` for an upload, a get's `state` mapped (`ACTIVE` → `processed`, `FAILED` →
/// `error`, else `uploaded`).
pub fn file_to_openai(f: &Value, purpose: &str) -> Value {
    let (f, status) = if f["file"].is_object() {
        (&f["file"], "uploaded")
    } else {
        let status = match f["state"].as_str() {
            Some("ACTIVE") => "processed",
            Some("FAILED") => "error",
            _ => "uploaded",
        };
        (f, status)
    };
    json!({
        "id": f["name"],
        "object": "file",
        "bytes": count(&f["sizeBytes"]),
        "created_at": f["createTime"].as_str().and_then(crate::parse_rfc3339).unwrap_or_else(crate::now_secs),
        "filename": f["displayName"].as_str().unwrap_or(""),
        "purpose": purpose,
        "status": status,
        "expires_at": f["expirationTime"].as_str().and_then(crate::parse_rfc3339),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_map_in_both_spellings() {
        assert_eq!(status("JOB_STATE_SUCCEEDED"), "completed");
        assert_eq!(status("BATCH_STATE_SUCCEEDED"), "completed");
        assert_eq!(status("BATCH_STATE_PENDING"), "validating");
        assert_eq!(status("JOB_STATE_RUNNING"), "in_progress");
        assert_eq!(status("JOB_STATE_CANCELLED"), "cancelled");
        assert_eq!(status("BATCH_STATE_FAILED"), "failed");
        assert_eq!(status("BATCH_STATE_EXPIRED"), "expired");
    }

    #[test]
    fn an_operation_reads_as_an_openai_batch() {
        let op = json!({"name": "batches/b1", "done": true,
            "metadata": {"name": "batches/b1", "state": "BATCH_STATE_SUCCEEDED",
                "createTime": "2026-01-01T00:00:00Z", "endTime": "2026-01-01T00:01:00Z",
                "inputConfig": {"fileName": "files/in1"},
                "output": {"responsesFile": "files/out1"},
                "batchStats": {"requestCount": "2", "successfulRequestCount": "2", "failedRequestCount": "0"}},
            "response": {"responsesFile": "files/out1"}});
        let b = job_to_openai(&op);
        assert_eq!(b["id"], "b1");
        assert_eq!(b["status"], "completed");
        assert_eq!(b["input_file_id"], "files/in1");
        assert_eq!(b["output_file_id"], "files/out1");
        assert_eq!(b["request_counts"]["total"], 2);
        assert_eq!(b["completed_at"], b["created_at"].as_u64().unwrap() + 60);
        assert_eq!(b["failed_at"], Value::Null);
    }

    #[test]
    fn output_lines_become_chat_completions_keyed_by_custom_id() {
        let line = json!({"key": "r1", "response": {"candidates": [{"content": {"role": "model",
            "parts": [{"text": "hi"}]}, "finishReason": "STOP"}],
            "usageMetadata": {"promptTokenCount": 3, "candidatesTokenCount": 2, "totalTokenCount": 5}}});
        let err = json!({"key": "r2", "error": {"code": 400, "message": "bad"}});
        let out = output_to_openai(
            format!("{line}\n{err}\n").as_bytes(),
            "gemini/gemini-2.0-flash",
        );
        let lines: Vec<Value> = std::str::from_utf8(&out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["custom_id"], "r1");
        let body = &lines[0]["response"]["body"];
        assert_eq!(body["object"], "chat.completion");
        assert_eq!(body["usage"]["prompt_tokens"], 3);
        assert_eq!(body["usage"]["completion_tokens"], 2);
        assert_eq!(body["choices"][0]["message"]["content"], "hi");
        assert_eq!(lines[1]["custom_id"], "r2");
        assert_eq!(lines[1]["error"]["message"], "bad");
        // Not Gemini's output: as it is.
        assert_eq!(output_to_openai(b"{\"a\":1}\n", "m"), b"{\"a\":1}\n");
    }

    #[test]
    fn files_and_models() {
        let f = file_to_openai(
            &json!({"file": {"name": "files/abc", "displayName": "in.jsonl",
            "sizeBytes": "12", "createTime": "2026-01-01T00:00:00Z"}}),
            "batch",
        );
        assert_eq!(f["id"], "files/abc");
        assert_eq!(f["bytes"], 12);
        assert_eq!(f["filename"], "in.jsonl");
        assert_eq!(f["status"], "uploaded");
        let got = file_to_openai(&json!({"name": "files/abc", "state": "ACTIVE"}), "batch");
        assert_eq!(got["status"], "processed");
        assert_eq!(batch_model("gemini/gemini-2.0-flash"), "gemini-2.0-flash");
        assert_eq!(
            batch_request("files/abc", "d")["batch"]["input_config"]["file_name"],
            "files/abc"
        );
    }

    #[test]
    fn ids_are_checked_before_they_reach_a_url() {
        assert_eq!(file_name("files/abc-123").unwrap(), "files/abc-123");
        assert_eq!(file_name("abc123").unwrap(), "files/abc123");
        assert_eq!(batch_id("batches/b9x").unwrap(), "b9x");
        assert_eq!(batch_id("123456").unwrap(), "123456");
        let hostile = [
            "",
            "files/",
            "files/../batches/x",
            "files/a/b",
            "a?alt=media",
            "a:download",
            "ABC",
            "-a",
            "a-",
            "a%2F",
            &"a".repeat(65),
        ];
        for id in hostile {
            assert!(file_name(id).is_err(), "{id:?}");
            assert!(batch_id(id).is_err(), "{id:?}");
        }
        assert_eq!(
            model_path("gemini/gemini-2.5-flash").unwrap(),
            "models/gemini-2.5-flash"
        );
        assert!(model_path("gemini/../x").is_err());
        assert_eq!(api_root("https://g.example/v1beta/"), "https://g.example");
        assert_eq!(api_root("http://127.0.0.1:9"), "http://127.0.0.1:9");
    }

    #[test]
    fn a_status_line_is_a_failed_request() {
        let line = json!({"key": "r3", "status": {"code": 3, "message": "invalid"}});
        let out = output_to_openai(format!("{line}\n").as_bytes(), "m");
        let v: Value = serde_json::from_slice(out.trim_ascii_end()).unwrap();
        assert_eq!(v["custom_id"], "r3");
        assert_eq!(v["error"]["message"], "invalid");
        assert_eq!(v["response"], Value::Null);
    }

    #[tokio::test]
    async fn openai_lines_become_keyed_generate_content_requests() {
        let http = reqwest::Client::new();
        let opts = CallOptions::default();
        let line = json!({"custom_id": "r1", "method": "POST", "url": "/v1/chat/completions",
            "body": {"model": "x", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 5}});
        let out = to_gemini_jsonl(
            &http,
            &opts,
            "gemini/gemini-2.0-flash",
            format!("{line}\n").as_bytes(),
        )
        .await
        .unwrap();
        let v: Value = serde_json::from_slice(out.trim_ascii_end()).unwrap();
        assert_eq!(v["key"], "r1");
        assert_eq!(v["request"]["contents"][0]["parts"][0]["text"], "hi");
        assert_eq!(v["request"]["generationConfig"]["maxOutputTokens"], 5);
        assert!(
            to_gemini_jsonl(&http, &opts, "m", b"{\"custom_id\": \"a\"}\n")
                .await
                .is_err()
        );
        assert!(to_gemini_jsonl(&http, &opts, "m", b"not json\n")
            .await
            .is_err());
        assert!(to_gemini_jsonl(&http, &opts, "m", b"\n").await.is_err());
    }
}
