//! Where a Bedrock call goes and how it authenticates: SigV4 (service `bedrock`) with the
//! keys [`aws::credentials`] resolves (static keys, an STS role or web identity, a profile, the
//! ambient chain), or a Bedrock API key sent as a bearer token.

use crate::providers::aws::sts::Caller;
use crate::providers::aws::{self, checked_region, credentials, env, param, Keys};
use crate::{CallOptions, ErrorKind, LlmError};

/// LiteLLM's region when none is configured.
const DEFAULT_REGION: &str = "us-west-2";

/// The session policy LiteLLM sends with `AssumeRoleWithWebIdentity` for Bedrock: a ceiling
/// of the Bedrock runtime actions it calls.
pub const SESSION_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"BedrockLiteLLM","Effect":"Allow","Action":["bedrock:InvokeModel","bedrock:InvokeModelWithResponseStream","bedrock:CountTokens","bedrock:ApplyGuardrail","bedrock:GetGuardrail","bedrock:ListGuardrails"],"Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}"#;

pub enum Auth {
    Bearer(String),
    SigV4(Keys),
}

pub struct Target {
    pub region: String,
    /// `https://bedrock-runtime.{region}.amazonaws.com` or the configured override.
    pub endpoint: String,
    pub auth: Auth,
}

/// The region and endpoint of a deployment (no credentials needed).
pub fn locate(opts: &CallOptions) -> Result<(String, String), LlmError> {
    let region = param(opts, "aws_region_name")
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
        .unwrap_or_else(|| DEFAULT_REGION.to_string());
    let region = checked_region(region)?;
    let endpoint = param(opts, "aws_bedrock_runtime_endpoint")
        .or_else(|| opts.api_base.clone())
        .unwrap_or_else(|| format!("https://bedrock-runtime.{region}.amazonaws.com"))
        .trim_end_matches('/')
        .to_string();
    Ok((region, endpoint))
}

impl Target {
    /// As LiteLLM: an `api_key` is a bearer token; the deployment's AWS credentials (keys, a
    /// role, a web identity, a profile) come next, then `AWS_BEARER_TOKEN_BEDROCK`, then the
    /// ambient ones.
    pub async fn from_options(
        http: &reqwest::Client,
        opts: &CallOptions,
    ) -> Result<Target, LlmError> {
        let (region, endpoint) = locate(opts)?;
        let bearer = opts.api_key.clone().filter(|k| !k.is_empty()).or_else(|| {
            (!credentials::configured(opts))
                .then(|| env("AWS_BEARER_TOKEN_BEDROCK"))
                .flatten()
        });
        let auth = match bearer {
            Some(t) => Auth::Bearer(t),
            None => {
                let caller = Caller {
                    provider: super::NAME,
                    label: "BedrockException",
                    policy: Some(SESSION_POLICY),
                    timeout: opts.timeout,
                };
                let keys = credentials::resolve(http, opts, &region, caller).await?;
                Auth::SigV4(keys.ok_or_else(|| {
                    LlmError::new(
                        ErrorKind::Authentication,
                        "BedrockException - Unable to locate credentials: set aws_access_key_id and aws_secret_access_key (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), aws_role_name, aws_profile_name, or a Bedrock API key (api_key / AWS_BEARER_TOKEN_BEDROCK)",
                    )
                    .with_provider(super::NAME)
                })?)
            }
        };
        Ok(Target {
            region,
            endpoint,
            auth,
        })
    }

    /// A POST of `body` to `url`, signed (or carrying the bearer token), with the
    /// deployment's extra headers (unsigned, as AWS allows).
    pub fn post(
        &self,
        http: &reqwest::Client,
        opts: &CallOptions,
        url: &str,
        body: Vec<u8>,
    ) -> Result<reqwest::RequestBuilder, LlmError> {
        let mut rb = self.request(http, reqwest::Method::POST, url, body)?;
        for (k, v) in &opts.extra_headers {
            rb = rb.header(k, v);
        }
        Ok(rb)
    }

    /// A JSON `method` request of `body` to `url` for service `bedrock`, signed (or carrying
    /// the bearer token).
    pub fn request(
        &self,
        http: &reqwest::Client,
        method: reqwest::Method,
        url: &str,
        body: Vec<u8>,
    ) -> Result<reqwest::RequestBuilder, LlmError> {
        let json = [
            ("content-type", "application/json"),
            ("accept", "application/json"),
        ];
        match &self.auth {
            Auth::Bearer(t) => {
                let mut rb = http.request(method, url).bearer_auth(t);
                for (k, v) in json {
                    rb = rb.header(k, v);
                }
                Ok(rb.body(body))
            }
            Auth::SigV4(keys) => aws::signed_request(
                http,
                method,
                url,
                body,
                &self.region,
                "bedrock",
                keys,
                &json,
            )
            .map_err(|e| e.with_provider(super::NAME)),
        }
    }
}
