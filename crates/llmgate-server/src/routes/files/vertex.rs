//! Files and batches on Vertex AI, as LiteLLM serves them: a file is a Cloud Storage object in
//! the configured bucket (`bucket_name` in litellm_params, else `GCS_BUCKET_NAME`; a
//! `bucket/prefix` puts objects under the prefix), uploaded with the JSON API's
//! `uploadType=media` — a `purpose: batch` JSONL first translated to Vertex's batch-prediction
//! lines and named `litellm-vertex-files/publishers/google/models/{id}/{uuid}` so the batch
//! knows its model; a batch is a `batchPredictionJobs` job over it, writing next to it. Its
//! provider ids are `gs://` URIs (the gateway's managed ids are what clients see) and numeric
//! job ids. Cloud Storage's host: `gcs_api_base` / `LLMGATE_GCS_API_BASE`, as media reads.
//! Both are called with the deployment's (or the environment's) service-account token.

use llmgate::providers::gemini::media::{gcs_api_base, url_encode};
use llmgate::providers::vertex::batch::{self, OBJECT_PREFIX};
use llmgate::{CallOptions, LlmError};
use serde_json::{json, Value};

use super::target::Target;
use super::{classified, json_of, send};
use crate::error::GatewayError;
use crate::state::AppState;

const NAME: &str = "vertex_ai";
/// A `gs://bucket/object` URI's bucket and object, checked (they go into URL paths).
pub fn gs_parts(uri: &str) -> Result<(&str, &str), GatewayError> {
    let bad = || GatewayError::BadRequest(format!("{uri:?} is not a valid gs:// file id"));
    let (bucket, object) = uri
        .strip_prefix("gs://")
        .and_then(|p| p.split_once('/'))
        .ok_or_else(bad)?;
    let bucket_ok = !bucket.is_empty()
        && bucket.len() <= 222
        && bucket
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"-_.".contains(&b));
    let object_ok = !object.is_empty()
        && object.len() <= 1024
        && !object.chars().any(char::is_control)
        && object.split('/').all(|s| s != ".." && s != ".");
    if bucket_ok && object_ok {
        Ok((bucket, object))
    } else {
        Err(bad())
    }
}

/// The bucket and optional object prefix files go to.
fn bucket(opts: &CallOptions) -> Result<(String, Option<String>), GatewayError> {
    let name = opts
        .extra
        .get("bucket_name")
        .and_then(Value::as_str)
        .map(str::to_string)
        .or_else(|| std::env::var("GCS_BUCKET_NAME").ok())
        .map(|b| b.trim().trim_start_matches("gs://").trim_matches('/').to_string())
        .filter(|b| !b.is_empty())
        .ok_or_else(|| {
            GatewayError::BadRequest(
                "GCS bucket_name is required for Vertex AI files: set GCS_BUCKET_NAME or the deployment's litellm_params.bucket_name".into(),
            )
        })?;
    let (bucket, prefix) = match name.split_once('/') {
        Some((b, p)) => (b.to_string(), Some(p.to_string())),
        None => (name, None),
    };
    // Checked as a URI would be.
    gs_parts(&format!("gs://{bucket}/x"))?;
    Ok((bucket, prefix))
}

fn llm(e: LlmError) -> GatewayError {
    GatewayError::Llm(e.with_provider(NAME))
}

/// Sends `rb` with the token; a non-2xx answer is the provider's error.
async fn call(rb: reqwest::RequestBuilder, token: &str) -> Result<reqwest::Response, GatewayError> {
    let res = send(rb.bearer_auth(token), NAME).await?;
    if res.status().is_success() {
        Ok(res)
    } else {
        Err(GatewayError::Llm(classified(res, NAME).await))
    }
}

/// `POST /v1/files` to Cloud Storage: the OpenAI file object (`id` the `gs://` URI).
pub async fn upload(
    state: &AppState,
    t: &Target,
    filename: &str,
    purpose: &str,
    bytes: &[u8],
) -> Result<Value, GatewayError> {
    super::check_purpose(purpose)?;
    let opts = t.opts();
    let (bucket, prefix) = bucket(&opts)?;
    let http = state.client.http();
    let loc = batch::location(http, &opts).await.map_err(llm)?;
    let id = uuid::Uuid::new_v4();
    let (name, body, content_type) = if purpose == "batch" {
        let model = match &t.deployment {
            Some(d) => d.model.clone(),
            None => super::batch_file_model(bytes, "Vertex")?,
        };
        let model = batch::model_path(&model).map_err(llm)?;
        let body = batch::to_vertex_jsonl(http, &opts, &loc.token, &model, bytes)
            .await
            .map_err(llm)?;
        (
            format!("{OBJECT_PREFIX}{model}/{id}"),
            body,
            "application/json",
        )
    } else {
        let name = format!("{OBJECT_PREFIX}uploads/{id}-{}", batch::safe_name(filename));
        (name, bytes.to_vec(), "application/octet-stream")
    };
    let name = match prefix {
        Some(p) => format!("{p}/{name}"),
        None => name,
    };
    let url = format!(
        "{}/upload/storage/v1/b/{bucket}/o?uploadType=media&name={}",
        gcs_api_base(&opts),
        url_encode(&name)
    );
    let res = call(
        http.post(url)
            .header("content-type", content_type)
            .body(body),
        &loc.token,
    )
    .await?;
    let mut obj = batch::object_to_openai(&json_of(res).await?, purpose);
    obj["filename"] = json!(filename);
    Ok(obj)
}

/// The object's URL on Cloud Storage's JSON API.
fn object_url(opts: &CallOptions, uri: &str) -> Result<String, GatewayError> {
    let (bucket, object) = gs_parts(uri)?;
    Ok(format!(
        "{}/storage/v1/b/{bucket}/o/{}",
        gcs_api_base(opts),
        url_encode(object)
    ))
}

/// The object's metadata as an OpenAI file object.
pub async fn retrieve(
    state: &AppState,
    t: &Target,
    uri: &str,
    purpose: &str,
) -> Result<Value, GatewayError> {
    let opts = t.opts();
    let url = object_url(&opts, uri)?;
    let http = state.client.http();
    let loc = batch::location(http, &opts).await.map_err(llm)?;
    let res = call(http.get(url), &loc.token).await?;
    Ok(batch::object_to_openai(&json_of(res).await?, purpose))
}

/// The object's bytes, a batch's `predictions.jsonl` as an OpenAI batch output file.
pub async fn content(state: &AppState, t: &Target, uri: &str) -> Result<Vec<u8>, GatewayError> {
    let opts = t.opts();
    let url = object_url(&opts, uri)?;
    let http = state.client.http();
    let loc = batch::location(http, &opts).await.map_err(llm)?;
    let res = call(http.get(url).query(&[("alt", "media")]), &loc.token).await?;
    let bytes = res
        .bytes()
        .await
        .map_err(|e| GatewayError::Llm(LlmError::from_transport(&e, NAME)))?;
    Ok(batch::output_to_openai(&bytes))
}

/// Deletes the object (already gone is gone).
pub async fn delete(state: &AppState, t: &Target, uri: &str) -> Result<(), GatewayError> {
    let opts = t.opts();
    let url = object_url(&opts, uri)?;
    let http = state.client.http();
    let loc = batch::location(http, &opts).await.map_err(llm)?;
    let res = send(http.delete(url).bearer_auth(&loc.token), NAME).await?;
    if res.status().is_success() || res.status().as_u16() == 404 {
        Ok(())
    } else {
        Err(GatewayError::Llm(classified(res, NAME).await))
    }
}

/// `POST /v1/batches`: a batch-prediction job over the input file, as an OpenAI batch.
pub async fn create_batch(
    state: &AppState,
    t: &Target,
    input_uri: &str,
) -> Result<Value, GatewayError> {
    gs_parts(input_uri)?;
    let job = batch::job_request(input_uri).map_err(llm)?;
    let opts = t.opts();
    let http = state.client.http();
    let loc = batch::location(http, &opts).await.map_err(llm)?;
    let res = call(
        http.post(format!("{}/batchPredictionJobs", loc.url))
            .json(&job),
        &loc.token,
    )
    .await?;
    Ok(batch::job_to_openai(&json_of(res).await?))
}

/// The job as an OpenAI batch (`cancel`: asked to stop first, then read, as LiteLLM does).
pub async fn job(
    state: &AppState,
    t: &Target,
    id: &str,
    cancel: bool,
) -> Result<Value, GatewayError> {
    let opts = t.opts();
    let http = state.client.http();
    let loc = batch::location(http, &opts).await.map_err(llm)?;
    let url = format!("{}/batchPredictionJobs/{id}", loc.url);
    if cancel {
        call(
            http.post(format!("{url}:cancel")).json(&json!({})),
            &loc.token,
        )
        .await?;
    }
    let res = call(http.get(url), &loc.token).await?;
    Ok(batch::job_to_openai(&json_of(res).await?))
}
