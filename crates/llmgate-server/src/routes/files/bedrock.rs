//! Files and batches on Bedrock, as LiteLLM serves them: a file is an S3 object in the
//! deployment's bucket (`s3_bucket_name` / `AWS_S3_BUCKET_NAME`, region `s3_region_name`,
//! endpoint `s3_endpoint_url`), written and read with SigV4-signed (service `s3`) path-style
//! requests — a `purpose: batch` JSONL first translated to Bedrock's batch records; a batch is a
//! model invocation job over it on the control plane (service `bedrock`), its role
//! `aws_batch_role_arn` / `AWS_BATCH_ROLE_ARN`. Provider ids are `s3://` URIs and job ARNs (the
//! gateway's managed ids are what clients see). Both sign with the deployment's AWS
//! credentials, resolved as its chat calls resolve them (a Bedrock API key cannot sign S3).

use llmgate::providers::aws::Keys;
use llmgate::providers::bedrock::auth::{self, Auth};
use llmgate::providers::bedrock::batch::{self, S3};
use llmgate::{CallOptions, LlmError};
use serde_json::{json, Value};

use super::target::Target;
use super::{json_of, send};
use crate::error::GatewayError;
use crate::state::AppState;

const NAME: &str = "bedrock";

fn llm(e: LlmError) -> GatewayError {
    GatewayError::Llm(e.with_provider(NAME))
}

/// A deployment's AWS side: its credentials, Bedrock region, S3 settings and model id.
struct Aws {
    auth: auth::Target,
    s3: S3,
    opts: CallOptions,
    model: String,
}

impl Aws {
    async fn of(state: &AppState, t: &Target) -> Result<Aws, GatewayError> {
        let opts = t.opts();
        let model = t
            .deployment
            .as_ref()
            .map(|d| batch::model_id(&d.model).to_string())
            .unwrap_or_default();
        let (region, _) = auth::locate(&opts).map_err(llm)?;
        let s3 = S3::of(&opts, &region).map_err(llm)?;
        let auth = auth::Target::from_options(state.client.http(), &opts)
            .await
            .map_err(llm)?;
        Ok(Aws {
            auth,
            s3,
            opts,
            model,
        })
    }

    fn keys(&self) -> Result<&Keys, GatewayError> {
        match &self.auth.auth {
            Auth::SigV4(k) => Ok(k),
            Auth::Bearer(_) => Err(GatewayError::BadRequest(
                "Bedrock files are S3 objects, which a Bedrock API key cannot sign: give the deployment AWS credentials (aws_access_key_id / aws_secret_access_key, a role or a profile)".into(),
            )),
        }
    }

    /// A signed S3 request on `bucket`/`key`; a non-2xx answer is the provider's error
    /// (`missing_ok`: a 404 is fine).
    async fn s3_call(
        &self,
        state: &AppState,
        method: reqwest::Method,
        (bucket, key): (&str, &str),
        body: Vec<u8>,
        missing_ok: bool,
    ) -> Result<reqwest::Response, GatewayError> {
        let url = self.s3.url(bucket, key);
        let headers: &[(&str, &str)] = if body.is_empty() {
            &[]
        } else {
            &[("content-type", "application/json")]
        };
        let rb = llmgate::providers::aws::signed_request(
            state.client.http(),
            method,
            &url,
            body,
            &self.s3.region,
            "s3",
            self.keys()?,
            headers,
        )
        .map_err(llm)?;
        checked(send(rb, NAME).await?, missing_ok).await
    }

    /// A control-plane request to `path` (`/model-invocation-job...`).
    async fn control(
        &self,
        state: &AppState,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
    ) -> Result<Value, GatewayError> {
        let url = format!(
            "{}{path}",
            batch::control_plane(&self.opts, &self.auth.region)
        );
        let bytes = body
            .map(|b| serde_json::to_vec(b).unwrap_or_default())
            .unwrap_or_default();
        let rb = self
            .auth
            .request(state.client.http(), method, &url, bytes)
            .map_err(llm)?;
        let res = checked(send(rb, NAME).await?, false).await?;
        // StopModelInvocationJob answers an empty body.
        if res.content_length() == Some(0) {
            return Ok(Value::Null);
        }
        json_of(res).await
    }
}

/// The answer, or the provider's error as its errors are classified.
async fn checked(
    res: reqwest::Response,
    missing_ok: bool,
) -> Result<reqwest::Response, GatewayError> {
    if res.status().is_success() || (missing_ok && res.status().as_u16() == 404) {
        return Ok(res);
    }
    let status = res.status().as_u16();
    let headers = llmgate::providers::http::header_pairs(res.headers());
    let body = res.bytes().await.unwrap_or_default();
    Err(GatewayError::Llm(LlmError::from_upstream(
        status, headers, &body, NAME,
    )))
}

pub fn s3_parts(uri: &str) -> Result<(&str, &str), GatewayError> {
    batch::s3_parts(uri).map_err(llm)
}

/// `POST /v1/files` to S3: the OpenAI file object (`id` the `s3://` URI).
pub async fn upload(
    state: &AppState,
    t: &Target,
    filename: &str,
    purpose: &str,
    bytes: &[u8],
) -> Result<Value, GatewayError> {
    super::check_purpose(purpose)?;
    let aws = Aws::of(state, t).await?;
    let (name, body) = if purpose == "batch" {
        let model = match aws.model.as_str() {
            "" => batch::first_line_model(bytes).unwrap_or_default(),
            m => m.to_string(),
        };
        let body = batch::to_bedrock_jsonl(&model, &aws.opts, bytes).map_err(llm)?;
        (batch::object_name(Some(&model), filename), body)
    } else {
        (batch::object_name(None, filename), bytes.to_vec())
    };
    let key = aws.s3.key(&name);
    let size = body.len() as u64;
    aws.s3_call(
        state,
        reqwest::Method::PUT,
        (&aws.s3.bucket, &key),
        body,
        false,
    )
    .await?;
    let mut obj = batch::object_to_openai(&aws.s3.bucket, &key, purpose, size);
    obj["filename"] = json!(filename);
    Ok(obj)
}

/// The object's size (`HEAD`) as an OpenAI file object.
pub async fn retrieve(
    state: &AppState,
    t: &Target,
    uri: &str,
    purpose: &str,
) -> Result<Value, GatewayError> {
    let parts = s3_parts(uri)?;
    let aws = Aws::of(state, t).await?;
    let res = aws
        .s3_call(state, reqwest::Method::HEAD, parts, Vec::new(), false)
        .await?;
    let size = res
        .headers()
        .get("content-length")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    Ok(batch::object_to_openai(parts.0, parts.1, purpose, size))
}

/// The object's bytes, a batch's `.out` file as an OpenAI batch output file.
pub async fn content(state: &AppState, t: &Target, uri: &str) -> Result<Vec<u8>, GatewayError> {
    let parts = s3_parts(uri)?;
    let aws = Aws::of(state, t).await?;
    let res = aws
        .s3_call(state, reqwest::Method::GET, parts, Vec::new(), false)
        .await?;
    let bytes = res
        .bytes()
        .await
        .map_err(|e| GatewayError::Llm(LlmError::from_transport(&e, NAME)))?;
    Ok(batch::output_to_openai(&bytes, &aws.model))
}

/// Deletes the object (already gone is gone).
pub async fn delete(state: &AppState, t: &Target, uri: &str) -> Result<(), GatewayError> {
    let parts = s3_parts(uri)?;
    let aws = Aws::of(state, t).await?;
    aws.s3_call(state, reqwest::Method::DELETE, parts, Vec::new(), true)
        .await?;
    Ok(())
}

/// `POST /v1/batches`: a model invocation job over the input file, as an OpenAI batch.
pub async fn create_batch(
    state: &AppState,
    t: &Target,
    input_uri: &str,
    body: &Value,
) -> Result<Value, GatewayError> {
    s3_parts(input_uri)?;
    let aws = Aws::of(state, t).await?;
    let job = batch::job_request(
        &aws.model,
        input_uri,
        &aws.opts,
        body["completion_window"].as_str(),
    )
    .map_err(llm)?;
    let created = aws
        .control(
            state,
            reqwest::Method::POST,
            "/model-invocation-job",
            Some(&job),
        )
        .await?;
    let arn = created["jobArn"].as_str().unwrap_or("");
    // The create answers only the ARN: the batch is what a get would say of it now.
    Ok(batch::job_to_openai(&json!({
        "jobArn": arn,
        "status": created["status"].as_str().unwrap_or("Submitted"),
        "inputDataConfig": job["inputDataConfig"],
        "modelId": job["modelId"],
        "jobName": job["jobName"],
        "roleArn": job["roleArn"],
    })))
}

/// The job as an OpenAI batch (`cancel`: stopped first, then read).
pub async fn job(
    state: &AppState,
    t: &Target,
    arn: &str,
    cancel: bool,
) -> Result<Value, GatewayError> {
    let path = batch::job_path(arn).map_err(llm)?;
    let aws = Aws::of(state, t).await?;
    if cancel {
        aws.control(state, reqwest::Method::POST, &format!("{path}/stop"), None)
            .await?;
    }
    let job = aws
        .control(state, reqwest::Method::GET, &path, None)
        .await?;
    Ok(batch::job_to_openai(&job))
}
