//! Files and batches on Mistral, as LiteLLM serves them: an upload goes to `/v1/files` with
//! only `file` and Mistral's `purpose` (`batch`, `fine-tune`, `ocr`; others are a 400 before
//! any upstream call), the OpenAI JSONL unchanged; a batch is a job on `/v1/batch/jobs` running
//! the deployment's model (without one, the create's `model`); get and `/cancel` answer it
//! as an OpenAI batch. Retrieve, content and delete are OpenAI's paths (`Target::request`).
//! Bodies from `llmgate::providers::openai_compat::mistral_batch`.

use llmgate::providers::openai_compat::mistral_batch as batch;
use serde_json::Value;

use super::logged::{refused, Answer};
use super::target::{object_id, Target};
use super::{json_of, send};
use crate::error::GatewayError;
use crate::state::AppState;

fn llm(e: llmgate::LlmError) -> GatewayError {
    GatewayError::Llm(e)
}

/// `POST /v1/files` on Mistral: its file object as OpenAI's, or its refusal.
pub async fn upload(
    state: &AppState,
    t: &Target,
    filename: &str,
    content_type: Option<&str>,
    purpose: &str,
    bytes: &bytes::Bytes,
) -> Result<Result<Value, Answer>, GatewayError> {
    let purpose = batch::purpose(purpose).map_err(llm)?;
    let part = super::file_part(
        bytes,
        filename,
        Some(content_type.unwrap_or("application/octet-stream")),
    )?;
    let form = reqwest::multipart::Form::new()
        .part("file", part)
        .text("purpose", purpose);
    let res = send(
        t.request(state.client.http(), reqwest::Method::POST, "files")?
            .multipart(form),
        t.provider,
    )
    .await?;
    if !res.status().is_success() {
        return Ok(Err(refused(res, t.provider).await));
    }
    Ok(Ok(batch::file_to_openai(&json_of(res).await?)))
}

/// The model a job runs: the deployment's, else the create's `model`.
fn model(t: &Target, body: &Value) -> Result<String, GatewayError> {
    match &t.deployment {
        Some(d) => Ok(d.model.clone()),
        None => body["model"].as_str().map(str::to_string).ok_or_else(|| {
            GatewayError::BadRequest(
                "a Mistral batch runs one model: name a model (a Mistral deployment, or `model` in the create)".into(),
            )
        }),
    }
}

/// `POST /v1/batches` on Mistral: a job over the input file, as an OpenAI batch.
pub async fn create_batch(
    state: &AppState,
    t: &Target,
    body: &Value,
) -> Result<Result<Value, Answer>, GatewayError> {
    let job = batch::job_request(body, &model(t, body)?).map_err(llm)?;
    let res = send(
        t.request(state.client.http(), reqwest::Method::POST, "batch/jobs")?
            .json(&job),
        t.provider,
    )
    .await?;
    if !res.status().is_success() {
        return Ok(Err(refused(res, t.provider).await));
    }
    Ok(Ok(batch::job_to_openai(&json_of(res).await?)))
}

/// The job as an OpenAI batch (`cancel`: as the cancel answers it).
pub async fn job(
    state: &AppState,
    t: &Target,
    id: &str,
    cancel: bool,
) -> Result<Result<Value, Answer>, GatewayError> {
    let id = object_id(id)?;
    let http = state.client.http();
    if cancel {
        let res = send(
            t.request(
                http,
                reqwest::Method::POST,
                &format!("batch/jobs/{id}/cancel"),
            )?,
            t.provider,
        )
        .await?;
        if !res.status().is_success() {
            return Ok(Err(refused(res, t.provider).await));
        }
        // Mistral answers the cancel with the job.
        return Ok(Ok(batch::job_to_openai(&json_of(res).await?)));
    }
    let res = send(
        t.request(http, reqwest::Method::GET, &format!("batch/jobs/{id}"))?,
        t.provider,
    )
    .await?;
    if !res.status().is_success() {
        return Ok(Err(refused(res, t.provider).await));
    }
    Ok(Ok(batch::job_to_openai(&json_of(res).await?)))
}
