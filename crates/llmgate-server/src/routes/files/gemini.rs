//! Files and batches on Google AI Studio (`gemini/`), as LiteLLM serves them: an upload goes
//! through the Files API's resumable protocol (`POST upload/v1beta/files` with
//! `X-Goog-Upload-Command: start` and the file's size and type, then the bytes to the
//! `x-goog-upload-url` it answers with — only on the target's own host — as
//! `upload, finalize`), a `purpose: batch` JSONL first rewritten as Gemini's keyed
//! GenerateContentRequests for the batch's model; a batch is
//! `v1beta/models/{model}:batchGenerateContent` over that file, read (`v1beta/batches/{id}`)
//! and cancelled (`:cancel`, then read) as an OpenAI batch; a file's bytes come from
//! `download/v1beta/{name}:download?alt=media`, a responses file as OpenAI batch output.
//! Every call carries the key as `x-goog-api-key`; every id is checked before it goes into a
//! path. Bodies and translations: `llmgate::providers::gemini::batch`.

use llmgate::providers::gemini::{batch, errors};
use llmgate::{ErrorKind, LlmError};
use serde_json::{json, Value};

use super::target::Target;
use super::{classified, json_of, send};
use crate::error::GatewayError;
use crate::state::AppState;

const NAME: &str = "gemini";

fn llm(e: LlmError) -> GatewayError {
    GatewayError::Llm(e.with_provider(NAME))
}

/// Gemini's error answer in OpenAI's shape, classed as chat's are (LiteLLM's
/// `_map_vertex_exception`: an invalid key's 400 is an authentication error).
async fn refusal(res: reqwest::Response) -> GatewayError {
    GatewayError::Llm(errors::litellm_class(classified(res, NAME).await))
}

/// Sends `rb`; a non-2xx answer is Gemini's error.
async fn call(rb: reqwest::RequestBuilder) -> Result<reqwest::Response, GatewayError> {
    let res = send(rb, NAME).await?;
    if res.status().is_success() {
        Ok(res)
    } else {
        Err(refusal(res).await)
    }
}

fn upstream_broke(msg: &str) -> GatewayError {
    llm(LlmError::new(ErrorKind::BadGateway, msg))
}

/// The model a batch file is written for and a batch runs: the deployment's, else `named`.
fn model_of(t: &Target, named: Option<&str>) -> Option<String> {
    match &t.deployment {
        Some(d) => Some(d.model.clone()),
        None => named.map(str::to_string),
    }
}

/// What an upload made: the OpenAI file object, and the model a batch file was written for.
pub struct Uploaded {
    pub object: Value,
    pub model: Option<String>,
}

/// `POST /v1/files` through the resumable upload.
pub async fn upload(
    state: &AppState,
    t: &Target,
    filename: &str,
    content_type: Option<&str>,
    purpose: &str,
    bytes: &bytes::Bytes,
) -> Result<Uploaded, GatewayError> {
    super::check_purpose(purpose)?;
    let http = state.client.http();
    let (body, mime, model) = if purpose == "batch" {
        let model = match model_of(t, None) {
            Some(m) => m,
            None => super::batch_file_model(bytes, "Gemini")?,
        };
        batch::model_path(&model).map_err(llm)?;
        let jsonl = batch::to_gemini_jsonl(http, &t.opts(), &model, bytes)
            .await
            .map_err(llm)?;
        (
            bytes::Bytes::from(jsonl),
            "application/jsonl".to_string(),
            Some(model),
        )
    } else {
        let mime = content_type
            .unwrap_or("application/octet-stream")
            .to_string();
        (bytes.clone(), mime, None)
    };
    let mime = axum::http::HeaderValue::from_str(&mime).map_err(|_| {
        GatewayError::BadRequest(format!("the file's content type {mime:?} is not valid"))
    })?;
    let start = call(
        t.request(http, reqwest::Method::POST, "upload/v1beta/files")?
            .header("x-goog-upload-protocol", "resumable")
            .header("x-goog-upload-command", "start")
            .header(
                "x-goog-upload-header-content-length",
                body.len().to_string(),
            )
            .header("x-goog-upload-header-content-type", mime)
            .json(&batch::upload_start(filename)),
    )
    .await?;
    // The session URL Google answers with; followed only on the target's own host.
    let session = start
        .headers()
        .get("x-goog-upload-url")
        .and_then(|v| v.to_str().ok())
        .and_then(|u| reqwest::Url::parse(u).ok())
        .filter(|u| t.same_origin(u))
        .ok_or_else(|| upstream_broke("Gemini's upload answer has no upload URL on its host"))?;
    let res = call(
        t.authorized(http.post(session))?
            .header("x-goog-upload-offset", "0")
            .header("x-goog-upload-command", "upload, finalize")
            .body(body),
    )
    .await?;
    let mut object = batch::file_to_openai(&json_of(res).await?, purpose);
    let name = object["id"].as_str().unwrap_or("").to_string();
    t.provider_id(&name)
        .map_err(|_| upstream_broke("Gemini's uploaded file has no valid name"))?;
    object["filename"] = json!(filename);
    Ok(Uploaded { object, model })
}

/// The file's metadata as an OpenAI file object.
pub async fn retrieve(
    state: &AppState,
    t: &Target,
    name: &str,
    purpose: &str,
) -> Result<Value, GatewayError> {
    let name = batch::file_name(name).map_err(llm)?;
    let res = call(t.request(
        state.client.http(),
        reqwest::Method::GET,
        &format!("v1beta/{name}"),
    )?)
    .await?;
    Ok(batch::file_to_openai(&json_of(res).await?, purpose))
}

/// The file's bytes; a batch's responses file as an OpenAI batch output file.
pub async fn content(state: &AppState, t: &Target, name: &str) -> Result<Vec<u8>, GatewayError> {
    let name = batch::file_name(name).map_err(llm)?;
    let res = call(
        t.request(
            state.client.http(),
            reqwest::Method::GET,
            &format!("download/v1beta/{name}:download"),
        )?
        .query(&[("alt", "media")]),
    )
    .await?;
    let bytes = res
        .bytes()
        .await
        .map_err(|e| GatewayError::Llm(LlmError::from_transport(&e, NAME)))?;
    let model = model_of(t, None).unwrap_or_default();
    Ok(batch::output_to_openai(&bytes, &model))
}

/// Deletes the file (already gone is gone).
pub async fn delete(state: &AppState, t: &Target, name: &str) -> Result<(), GatewayError> {
    let name = batch::file_name(name).map_err(llm)?;
    let res = send(
        t.request(
            state.client.http(),
            reqwest::Method::DELETE,
            &format!("v1beta/{name}"),
        )?,
        NAME,
    )
    .await?;
    if res.status().is_success() || res.status().as_u16() == 404 {
        Ok(())
    } else {
        Err(refusal(res).await)
    }
}

/// `POST /v1/batches`: `batchGenerateContent` over the input file for the deployment's model,
/// else the create's `model`, else the one the file was written for.
pub async fn create_batch(
    state: &AppState,
    t: &Target,
    input: &str,
    named: Option<&str>,
) -> Result<Value, GatewayError> {
    let input = batch::file_name(input).map_err(llm)?;
    let model = model_of(t, named).ok_or_else(|| {
        GatewayError::BadRequest(
            "a Gemini batch runs one model: name a model (a Gemini deployment, or `model` in the create)".into(),
        )
    })?;
    let path = batch::model_path(&model).map_err(llm)?;
    let display = format!("llmgate-batch-{}", uuid::Uuid::new_v4());
    let res = call(
        t.request(
            state.client.http(),
            reqwest::Method::POST,
            &format!("v1beta/{path}:batchGenerateContent"),
        )?
        .json(&batch::batch_request(&input, &display)),
    )
    .await?;
    Ok(batch::job_to_openai(&json_of(res).await?))
}

/// The batch as an OpenAI batch (`cancel`: asked to stop first, then read).
pub async fn job(
    state: &AppState,
    t: &Target,
    id: &str,
    cancel: bool,
) -> Result<Value, GatewayError> {
    let id = batch::batch_id(id).map_err(llm)?;
    let http = state.client.http();
    if cancel {
        call(
            t.request(
                http,
                reqwest::Method::POST,
                &format!("v1beta/batches/{id}:cancel"),
            )?
            .json(&json!({})),
        )
        .await?;
    }
    let res = call(t.request(http, reqwest::Method::GET, &format!("v1beta/batches/{id}"))?).await?;
    Ok(batch::job_to_openai(&json_of(res).await?))
}
