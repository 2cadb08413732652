//! Bedrock batch inference behind OpenAI's Files and Batches APIs, as LiteLLM serves it: a
//! file is an S3 object (`s3_bucket_name`, else `AWS_S3_BUCKET_NAME`; a `bucket/prefix` puts
//! objects under the prefix) in the S3 region (`s3_region_name`, else the deployment's); a
//! `purpose: batch` OpenAI JSONL first becomes Bedrock's `{"recordId", "modelInput"}` lines
//! (the model's own InvokeModel body: Anthropic Messages for Claude, Converse for Nova, else
//! the OpenAI messages as they are). A batch is a model invocation job on the control plane
//! (`bedrock.{region}.amazonaws.com`) with the IAM role `aws_batch_role_arn`, writing under
//! `litellm-batch-outputs/{job name}/`; its status maps to OpenAI's and its
//! `{output}{job id}/{input file}.out` reads back as an OpenAI batch output file. The HTTP
//! calls are the gateway's; this module builds and translates their bodies.

use llmgate_types::ChatCompletionRequest;
use serde_json::{json, Map, Value};

use super::NAME;
use crate::providers::aws::{checked_region, env, param};
use crate::providers::{anthropic, batch_output};
use crate::{CallOptions, LlmError};

/// Where LiteLLM keeps batch inputs (`{prefix}{model}-{uuid}.jsonl`), other uploads
/// (`{prefix}{hex uuid}-{file name}`) and batch outputs.
pub const BATCH_PREFIX: &str = "litellm-bedrock-files-";
pub const UPLOAD_PREFIX: &str = "litellm-bedrock-files/";
pub const OUTPUT_PREFIX: &str = "litellm-batch-outputs/";
/// The Messages API version Claude's InvokeModel body names on Bedrock.
const ANTHROPIC_VERSION: &str = "bedrock-2023-05-31";

fn bad(msg: impl Into<String>) -> LlmError {
    LlmError::bad_request(msg).with_provider(NAME)
}

/// The model id a deployment's `model` names (`bedrock/`, `converse/`, `invoke/` dropped).
pub fn model_id(model: &str) -> &str {
    let m = model.strip_prefix("bedrock/").unwrap_or(model);
    m.strip_prefix("converse/")
        .or_else(|| m.strip_prefix("invoke/"))
        .unwrap_or(m)
}

/// Where files go: the bucket, an object prefix, the S3 region and endpoint.
pub struct S3 {
    pub bucket: String,
    pub prefix: Option<String>,
    pub region: String,
    pub endpoint: String,
}

impl S3 {
    pub fn of(opts: &CallOptions, region: &str) -> Result<S3, LlmError> {
        let name = param(opts, "s3_bucket_name")
            .or_else(|| env("AWS_S3_BUCKET_NAME"))
            .map(|b| b.trim().trim_matches('/').to_string())
            .filter(|b| !b.is_empty())
            .ok_or_else(|| {
                bad("S3 bucket_name is required for Bedrock files: set 's3_bucket_name' in litellm_params or AWS_S3_BUCKET_NAME env var")
            })?;
        let (bucket, prefix) = match name.split_once('/') {
            Some((b, p)) => (b.to_string(), Some(p.trim_matches('/').to_string())),
            None => (name, None),
        };
        if !bucket_ok(&bucket) || prefix.as_deref().is_some_and(|p| !key_ok(p)) {
            return Err(bad(format!(
                "{bucket:?} is not a valid S3 bucket name (and optional /prefix)"
            )));
        }
        let region = match param(opts, "s3_region_name") {
            Some(r) => checked_region(r)?,
            None => region.to_string(),
        };
        let endpoint = param(opts, "s3_endpoint_url")
            .unwrap_or_else(|| format!("https://s3.{region}.amazonaws.com"))
            .trim_end_matches('/')
            .to_string();
        Ok(S3 {
            bucket,
            prefix,
            region,
            endpoint,
        })
    }

    /// The object's key under the configured prefix.
    pub fn key(&self, name: &str) -> String {
        match &self.prefix {
            Some(p) if !p.is_empty() => format!("{p}/{name}"),
            _ => name.to_string(),
        }
    }

    /// The path-style URL of `bucket`/`key` on this endpoint, the key encoded once (`/` kept).
    pub fn url(&self, bucket: &str, key: &str) -> String {
        format!(
            "{}/{bucket}/{}",
            self.endpoint,
            crate::providers::http::percent_encode(key, b"/")
        )
    }
}

fn bucket_ok(b: &str) -> bool {
    (3..=63).contains(&b.len())
        && b.bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b".-".contains(&c))
}

fn key_ok(k: &str) -> bool {
    !k.is_empty()
        && k.len() <= 1024
        && !k.starts_with('/')
        && !k.chars().any(char::is_control)
        && k.split('/').all(|s| s != ".." && s != ".")
}

/// An `s3://bucket/key` URI's bucket and key, checked (they go into URL paths).
pub fn s3_parts(uri: &str) -> Result<(&str, &str), LlmError> {
    uri.strip_prefix("s3://")
        .and_then(|p| p.split_once('/'))
        .filter(|(b, k)| bucket_ok(b) && key_ok(k))
        .ok_or_else(|| bad(format!("{uri:?} is not a valid s3:// file id")))
}

/// A name as one safe object-key component (LiteLLM's `sanitize_cloud_object_component`).
fn safe_component(name: &str, fallback: &str) -> String {
    let base = name.rsplit(['/', '\\']).next().unwrap_or("").trim();
    let s: String = base
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    let s = s.trim_matches(['.', '_']);
    if s.is_empty() {
        fallback.to_string()
    } else {
        s.chars().take(255).collect()
    }
}

/// The object name of an upload: a batch input named for its model, else the file's name.
pub fn object_name(batch_model: Option<&str>, filename: &str) -> String {
    let id = uuid::Uuid::new_v4();
    match batch_model {
        Some(m) => format!(
            "{BATCH_PREFIX}{}-{id}.jsonl",
            safe_component(&m.replace(':', "-"), "model")
        ),
        None => format!(
            "{UPLOAD_PREFIX}{}-{}",
            id.simple(),
            safe_component(filename, "file")
        ),
    }
}

/// Which InvokeModel body a model takes.
#[derive(Debug, PartialEq)]
enum Family {
    Anthropic,
    Converse,
    OpenAi,
}

fn family(model: &str) -> Family {
    if model.contains("anthropic.") {
        Family::Anthropic
    } else if model.contains("nova") {
        Family::Converse
    } else {
        Family::OpenAi
    }
}

/// The `modelInput` of one OpenAI chat request for `model` (a Bedrock model id).
fn model_input(
    model: &str,
    body: &Value,
    opts: &CallOptions,
    line: usize,
) -> Result<Value, LlmError> {
    let mut body = body.clone();
    body["model"] = json!(model);
    let req = || -> Result<ChatCompletionRequest, LlmError> {
        serde_json::from_value(body.clone()).map_err(|e| {
            bad(format!(
                "line {line} of the batch file is not a chat completion request: {e}"
            ))
        })
    };
    let mut out = match family(model) {
        Family::Anthropic => {
            let mut b = anthropic::request::build_with(&req()?, model, opts, false)
                .map_err(|e| e.with_provider(NAME))?;
            if let Some(o) = b.as_object_mut() {
                o.insert("anthropic_version".into(), json!(ANTHROPIC_VERSION));
            }
            b
        }
        Family::Converse => super::request::build(&req()?, model)?,
        Family::OpenAi => body,
    };
    if let Some(o) = out.as_object_mut() {
        o.shift_remove("model");
        o.shift_remove("stream");
    }
    Ok(out)
}

/// An OpenAI batch JSONL as Bedrock's batch-inference JSONL, every request for `model` (a
/// Bedrock model id). A line that is not an OpenAI chat request is a 400.
pub fn to_bedrock_jsonl(
    model: &str,
    opts: &CallOptions,
    openai: &[u8],
) -> Result<Vec<u8>, LlmError> {
    let text = std::str::from_utf8(openai).map_err(|_| bad("the batch file is not UTF-8"))?;
    let mut out = Vec::new();
    for (i, line) in text.lines().filter(|l| !l.trim().is_empty()).enumerate() {
        let n = i + 1;
        let v: Value = serde_json::from_str(line)
            .map_err(|e| bad(format!("line {n} of the batch file is not JSON: {e}")))?;
        if !v["body"].is_object() {
            return Err(bad(format!(
                "line {n} of the batch file has no `body` object"
            )));
        }
        let record_id = match v.get("custom_id") {
            Some(Value::String(s)) => json!(s),
            Some(c) if !c.is_null() => c.clone(),
            _ => json!(format!("CALL{i:07}")),
        };
        let input = model_input(model, &v["body"], opts, n)?;
        serde_json::to_writer(
            &mut out,
            &json!({"recordId": record_id, "modelInput": input}),
        )
        .map_err(|e| bad(e.to_string()))?;
        out.push(b'\n');
    }
    if out.is_empty() {
        return Err(bad("the batch file has no requests"));
    }
    Ok(out)
}

/// The `model` of a batch file's first line (`bedrock/` dropped), as LiteLLM names the object.
pub fn first_line_model(openai: &[u8]) -> Option<String> {
    let first = openai
        .split(|b| *b == b'\n')
        .find(|l| !l.trim_ascii().is_empty())?;
    let v: Value = serde_json::from_slice(first).ok()?;
    v["body"]["model"].as_str().map(|m| model_id(m).to_string())
}

/// A job name Bedrock accepts (`[a-zA-Z0-9](-*[a-zA-Z0-9+.-]){0,62}`), unique:
/// `litellm-{model}-{random}`.
fn job_name(model: &str) -> String {
    let m: String = model
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
        .collect();
    let suffix = &uuid::Uuid::new_v4().simple().to_string()[..12];
    let m: String = m
        .chars()
        .take(63 - "litellm--".len() - suffix.len())
        .collect();
    format!("litellm-{}-{suffix}", m.trim_matches('-'))
}

/// The IAM role the job runs as: `aws_batch_role_arn`, else `AWS_BATCH_ROLE_ARN`.
pub fn role_arn(opts: &CallOptions) -> Result<String, LlmError> {
    param(opts, "aws_batch_role_arn")
        .or_else(|| env("AWS_BATCH_ROLE_ARN"))
        .ok_or_else(|| {
            bad("AWS IAM role ARN is required for Bedrock batch jobs. Set 'aws_batch_role_arn' in litellm_params or AWS_BATCH_ROLE_ARN env var")
        })
}

/// The `CreateModelInvocationJob` body for an S3 input file: its output under
/// `litellm-batch-outputs/{job name}/` in `s3_output_bucket_name` (else
/// `AWS_S3_OUTPUT_BUCKET_NAME`, else the input's bucket).
pub fn job_request(
    model: &str,
    input_uri: &str,
    opts: &CallOptions,
    completion_window: Option<&str>,
) -> Result<Value, LlmError> {
    let (bucket, _) = s3_parts(input_uri)?;
    let role = role_arn(opts)?;
    let out_bucket = param(opts, "s3_output_bucket_name")
        .or_else(|| env("AWS_S3_OUTPUT_BUCKET_NAME"))
        .unwrap_or_else(|| bucket.to_string());
    if !bucket_ok(&out_bucket) {
        return Err(bad(format!("{out_bucket:?} is not a valid S3 bucket name")));
    }
    let name = job_name(model);
    let mut output = json!({"s3Uri": format!("s3://{out_bucket}/{OUTPUT_PREFIX}{name}/")});
    if let Some(k) = param(opts, "s3_encryption_key_id").or_else(|| env("AWS_S3_ENCRYPTION_KEY_ID"))
    {
        output["s3EncryptionKeyId"] = json!(k);
    }
    let mut job = json!({
        "modelId": model,
        "jobName": name,
        "inputDataConfig": {"s3InputDataConfig": {"s3Uri": input_uri}},
        "outputDataConfig": {"s3OutputDataConfig": output},
        "roleArn": role,
    });
    if completion_window == Some("24h") {
        job["timeoutDurationInHours"] = json!(24);
    }
    Ok(job)
}

/// A job ARN as it goes into a control-plane URL (`arn:aws:bedrock:{region}:...`), checked.
pub fn job_arn(id: &str) -> Result<&str, LlmError> {
    let ok = id.starts_with("arn:aws:bedrock:")
        && id.len() <= 1011
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b":/-_.+".contains(&b))
        && id.split(':').nth(3).is_some_and(|r| {
            !r.is_empty() && r.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
        });
    if ok {
        Ok(id)
    } else {
        Err(bad(format!(
            "{id:?} is not a Bedrock model invocation job ARN"
        )))
    }
}

/// The job's path on the control plane: `/model-invocation-job/{ARN, URL-encoded}`.
pub fn job_path(arn: &str) -> Result<String, LlmError> {
    let arn = job_arn(arn)?;
    Ok(format!(
        "/model-invocation-job/{}",
        arn.replace(':', "%3A")
            .replace('/', "%2F")
            .replace('+', "%2B")
    ))
}

/// The control plane of `region`: `bedrock_api_base` / `LLMGATE_BEDROCK_API_BASE` (tests), else
/// `https://bedrock.{region}.amazonaws.com`.
pub fn control_plane(opts: &CallOptions, region: &str) -> String {
    param(opts, "bedrock_api_base")
        .or_else(|| env("LLMGATE_BEDROCK_API_BASE"))
        .unwrap_or_else(|| format!("https://bedrock.{region}.amazonaws.com"))
        .trim_end_matches('/')
        .to_string()
}

/// OpenAI's status for a Bedrock job status, as LiteLLM maps it.
fn status(s: &str) -> &'static str {
    match s {
        "Scheduled" | "InProgress" => "in_progress",
        "PartiallyCompleted" | "Completed" => "completed",
        "Failed" => "failed",
        "Stopping" => "cancelling",
        "Stopped" => "cancelled",
        "Expired" => "expired",
        _ => "validating",
    }
}

/// A `GetModelInvocationJob` answer as an OpenAI batch (its id the ARN; once completed, its
/// output file the `.out` object Bedrock writes for the input).
pub fn job_to_openai(job: &Value) -> Value {
    let raw = job["status"].as_str().unwrap_or("Submitted");
    let status = status(raw);
    let arn = job["jobArn"].as_str().unwrap_or("");
    let input = job["inputDataConfig"]["s3InputDataConfig"]["s3Uri"]
        .as_str()
        .unwrap_or("");
    let output = job["outputDataConfig"]["s3OutputDataConfig"]["s3Uri"]
        .as_str()
        .filter(|o| !o.is_empty() && status == "completed")
        .map_or(Value::Null, |o| {
            let id = arn.rsplit('/').next().unwrap_or(arn);
            let file = input.rsplit('/').next().unwrap_or(input);
            json!(format!("{}/{id}/{file}.out", o.trim_end_matches('/')))
        });
    let time = |k: &str| {
        job[k]
            .as_str()
            .and_then(crate::parse_rfc3339)
            .map_or(Value::Null, |t| json!(t))
    };
    let at = |when: bool| if when { time("endTime") } else { Value::Null };
    let in_progress = matches!(raw, "InProgress" | "Validating" | "Scheduled");
    let mut metadata = Map::new();
    for k in ["jobName", "modelId", "roleArn", "timeoutDurationInHours"] {
        match &job[k] {
            Value::Null => {}
            Value::String(s) => {
                metadata.insert(k.into(), json!(s));
            }
            other => {
                metadata.insert(k.into(), json!(other.to_string()));
            }
        }
    }
    let errors = batch_output::errors(
        "bedrock_error",
        job["message"].as_str().filter(|m| !m.is_empty()),
    );
    json!({
        "id": arn,
        "object": "batch",
        "endpoint": "/v1/chat/completions",
        "completion_window": "24h",
        "input_file_id": input,
        "output_file_id": output,
        "error_file_id": null,
        "status": status,
        "created_at": time("submitTime").as_u64().unwrap_or_else(crate::now_secs),
        "in_progress_at": if in_progress { time("lastModifiedTime") } else { Value::Null },
        "expires_at": time("jobExpirationTime"),
        "completed_at": at(status == "completed"),
        "failed_at": at(status == "failed"),
        "cancelled_at": at(status == "cancelled"),
        "errors": errors,
        "request_counts": null,
        "metadata": metadata,
    })
}

/// Bedrock's batch output (`{"recordId", "modelInput", "modelOutput" | "error"}` lines) as an
/// OpenAI batch output file, the answers priced against `model`; anything else as it is.
pub fn output_to_openai(content: &[u8], model: &str) -> Vec<u8> {
    let Ok(text) = std::str::from_utf8(content) else {
        return content.to_vec();
    };
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    let records: Option<Vec<Value>> = lines
        .iter()
        .map(|l| serde_json::from_str::<Value>(l).ok())
        .collect();
    let Some(records) = records.filter(|r| {
        r.first()
            .is_some_and(|f| f.get("modelOutput").is_some() || f.get("error").is_some())
    }) else {
        return content.to_vec();
    };
    let mut out = Vec::new();
    for r in &records {
        let _ = serde_json::to_writer(&mut out, &record_to_openai(r, model));
        out.push(b'\n');
    }
    out
}

fn record_to_openai(r: &Value, model: &str) -> Value {
    let custom_id = match &r["recordId"] {
        Value::String(s) => json!(s),
        other => json!(other.to_string()),
    };
    let output = &r["modelOutput"];
    if !output.is_object() {
        let e = &r["error"];
        let message = e["errorMessage"]
            .as_str()
            .map(str::to_string)
            .unwrap_or_else(|| e.to_string());
        return batch_output::failed(custom_id, json!(e["errorCode"].to_string()), &message);
    }
    let created = crate::now_secs();
    let body = if output["type"] == "message" || output["content"].is_array() {
        let mut b = anthropic::response::translate(output, created);
        if b.model.is_empty() {
            b.model = model.to_string();
        }
        serde_json::to_value(b).unwrap_or_default()
    } else if output["output"]["message"].is_object() {
        serde_json::to_value(super::response::translate(output, model, created, &[]))
            .unwrap_or_default()
    } else {
        output.clone()
    };
    batch_output::answered(custom_id, body)
}

/// An uploaded S3 object as an OpenAI file object.
pub fn object_to_openai(bucket: &str, key: &str, purpose: &str, bytes: u64) -> Value {
    json!({
        "id": format!("s3://{bucket}/{key}"),
        "object": "file",
        "purpose": purpose,
        "filename": key.rsplit('/').next().unwrap_or(key),
        "bytes": bytes,
        "created_at": crate::now_secs(),
        "status": "processed",
        "status_details": null,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn openai_lines_become_bedrock_records() {
        let jsonl = concat!(
            r#"{"custom_id": "r1", "body": {"model": "m", "messages": [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}], "max_tokens": 20}}"#,
            "\n",
            r#"{"body": {"model": "m", "messages": [{"role": "user", "content": "Yo"}]}}"#,
            "\n"
        );
        let model = "us.anthropic.claude-3-5-sonnet-20240620-v1:0";
        let out = to_bedrock_jsonl(model, &CallOptions::default(), jsonl.as_bytes()).unwrap();
        let lines: Vec<Value> = String::from_utf8(out)
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines[0]["recordId"], "r1");
        let input = &lines[0]["modelInput"];
        assert_eq!(input["anthropic_version"], ANTHROPIC_VERSION);
        assert_eq!(input["max_tokens"], 20);
        assert!(input.get("model").is_none());
        assert_eq!(input["system"][0]["text"], "Be brief.");
        assert_eq!(lines[1]["recordId"], "CALL0000001");
        assert!(to_bedrock_jsonl(model, &CallOptions::default(), b"nope\n").is_err());
        assert_eq!(family("amazon.nova-lite-v1:0"), Family::Converse);
    }

    #[test]
    fn jobs_and_outputs_map_to_openai() {
        let job = json!({"jobArn": "arn:aws:bedrock:us-west-2:123456789012:model-invocation-job/abc",
            "status": "Completed", "submitTime": "2026-01-01T00:00:00Z", "endTime": "2026-01-01T00:10:00Z",
            "inputDataConfig": {"s3InputDataConfig": {"s3Uri": "s3://b/litellm-bedrock-files-m-1.jsonl"}},
            "outputDataConfig": {"s3OutputDataConfig": {"s3Uri": "s3://b/litellm-batch-outputs/j/"}}});
        let b = job_to_openai(&job);
        assert_eq!(b["status"], "completed");
        assert_eq!(
            b["output_file_id"],
            "s3://b/litellm-batch-outputs/j/abc/litellm-bedrock-files-m-1.jsonl.out"
        );
        assert_eq!(b["created_at"], 1_767_225_600);
        assert_eq!(b["completed_at"], 1_767_226_200);
        assert_eq!(status("Submitted"), "validating");
        assert_eq!(status("Stopping"), "cancelling");
        assert_eq!(
            job_path(job["jobArn"].as_str().unwrap()).unwrap(),
            "/model-invocation-job/arn%3Aaws%3Abedrock%3Aus-west-2%3A123456789012%3Amodel-invocation-job%2Fabc"
        );
        assert!(job_arn("arn:aws:bedrock:x/../y?z").is_err());

        let ok = json!({"recordId": "r1", "modelInput": {}, "modelOutput": {"id": "msg_1", "type": "message",
            "role": "assistant", "model": "claude", "content": [{"type": "text", "text": "Hi"}],
            "stop_reason": "end_turn", "usage": {"input_tokens": 3, "output_tokens": 2}}});
        let failed = json!({"recordId": "r2", "modelInput": {}, "error": {"errorCode": 400, "errorMessage": "bad"}});
        let out: Vec<Value> = String::from_utf8(output_to_openai(
            format!("{ok}\n{failed}\n").as_bytes(),
            "m",
        ))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
        assert_eq!(out[0]["custom_id"], "r1");
        let body = &out[0]["response"]["body"];
        assert_eq!(body["choices"][0]["message"]["content"], "Hi");
        assert_eq!(body["usage"]["prompt_tokens"], 3);
        assert_eq!(body["usage"]["completion_tokens"], 2);
        assert_eq!(out[1]["error"]["message"], "bad");
        assert_eq!(output_to_openai(b"{\"a\": 1}\n", "m"), b"{\"a\": 1}\n");
    }

    #[test]
    fn object_names_and_uris() {
        let n = object_name(Some("us.anthropic.claude:0"), "x");
        assert!(
            n.starts_with("litellm-bedrock-files-us.anthropic.claude-0-") && n.ends_with(".jsonl")
        );
        let n = object_name(None, "../my notes.txt");
        assert!(
            n.starts_with(UPLOAD_PREFIX) && n.ends_with("-my_notes.txt"),
            "{n}"
        );
        assert!(s3_parts("s3://bucket-1/a/b.jsonl").is_ok());
        assert!(s3_parts("s3://bucket-1/../b").is_err());
        assert!(s3_parts("gs://bucket-1/b").is_err());
        assert_eq!(
            model_id("bedrock/converse/anthropic.claude-3"),
            "anthropic.claude-3"
        );
    }
}
