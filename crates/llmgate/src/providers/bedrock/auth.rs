//! Where a Bedrock call goes and how it authenticates: SigV4 (service `bedrock`) with keys from
//! litellm_params or the standard AWS variables, or a Bedrock API key sent as a bearer token.

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use serde_json::Value;

use crate::{CallOptions, ErrorKind, LlmError};

/// LiteLLM's region when none is configured.
const DEFAULT_REGION: &str = "us-west-2";

pub enum Auth {
    Bearer(String),
    SigV4 {
        key_id: String,
        secret: String,
        token: Option<String>,
    },
}

pub struct Target {
    pub region: String,
    /// `https://bedrock-runtime.{region}.amazonaws.com` or the configured override.
    pub endpoint: String,
    pub auth: Auth,
}

fn param(opts: &CallOptions, key: &str) -> Option<String> {
    match opts.extra.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

impl Target {
    /// As LiteLLM: an `api_key` is a bearer token; explicit AWS keys come next, then
    /// `AWS_BEARER_TOKEN_BEDROCK`, then the standard AWS variables.
    pub fn from_options(opts: &CallOptions) -> Result<Target, LlmError> {
        let region = param(opts, "aws_region_name")
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| DEFAULT_REGION.to_string());
        if !region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        {
            return Err(LlmError::bad_request(format!(
                "aws_region_name {region:?} is not a valid AWS region"
            )));
        }
        let endpoint = param(opts, "aws_bedrock_runtime_endpoint")
            .or_else(|| opts.api_base.clone())
            .unwrap_or_else(|| format!("https://bedrock-runtime.{region}.amazonaws.com"))
            .trim_end_matches('/')
            .to_string();
        let sigv4 = |key_id: String, secret: Option<String>, token: Option<String>| {
            secret.map(|secret| Auth::SigV4 {
                key_id,
                secret,
                token,
            })
        };
        let auth = opts
            .api_key
            .clone()
            .filter(|k| !k.is_empty())
            .map(Auth::Bearer)
            .or_else(|| {
                param(opts, "aws_access_key_id").and_then(|id| {
                    sigv4(
                        id,
                        param(opts, "aws_secret_access_key"),
                        param(opts, "aws_session_token"),
                    )
                })
            })
            .or_else(|| env("AWS_BEARER_TOKEN_BEDROCK").map(Auth::Bearer))
            .or_else(|| {
                env("AWS_ACCESS_KEY_ID").and_then(|id| {
                    sigv4(
                        id,
                        env("AWS_SECRET_ACCESS_KEY"),
                        env("AWS_SESSION_TOKEN"),
                    )
                })
            })
            .ok_or_else(|| {
                LlmError::new(
                    ErrorKind::Authentication,
                    "BedrockException - Unable to locate credentials: set aws_access_key_id and aws_secret_access_key (or AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY), or a Bedrock API key (api_key / AWS_BEARER_TOKEN_BEDROCK)",
                )
                .with_provider(super::NAME)
            })?;
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
        let mut rb = http
            .post(url)
            .header("content-type", "application/json")
            .header("accept", "application/json");
        match &self.auth {
            Auth::Bearer(t) => rb = rb.bearer_auth(t),
            Auth::SigV4 {
                key_id,
                secret,
                token,
            } => {
                for (k, v) in sigv4_headers(
                    url,
                    &body,
                    &self.region,
                    key_id,
                    secret,
                    token.as_deref(),
                    SystemTime::now(),
                )? {
                    rb = rb.header(k, v);
                }
            }
        }
        for (k, v) in &opts.extra_headers {
            rb = rb.header(k, v);
        }
        Ok(rb.body(body))
    }
}

/// The headers SigV4 adds (`authorization`, `x-amz-date`, `x-amz-security-token`) for a JSON
/// POST signing `host`, `content-type` and `accept`.
pub fn sigv4_headers(
    url: &str,
    body: &[u8],
    region: &str,
    key_id: &str,
    secret: &str,
    token: Option<&str>,
    time: SystemTime,
) -> Result<Vec<(String, String)>, LlmError> {
    let fail = |e: &dyn std::fmt::Display| {
        LlmError::bad_request(format!("could not sign the Bedrock request: {e}"))
            .with_provider(super::NAME)
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| fail(&e))?;
    let host = match (parsed.host_str(), parsed.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => return Err(fail(&"no host")),
    };
    let identity =
        Credentials::new(key_id, secret, token.map(str::to_string), None, "llmgate").into();
    let params: aws_sigv4::http_request::SigningParams = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name("bedrock")
        .time(time)
        .settings(SigningSettings::default())
        .build()
        .map_err(|e| fail(&e))?
        .into();
    let headers = [
        ("host", host.as_str()),
        ("content-type", "application/json"),
        ("accept", "application/json"),
    ];
    let signable =
        SignableRequest::new("POST", url, headers.into_iter(), SignableBody::Bytes(body))
            .map_err(|e| fail(&e))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| fail(&e))?.into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}
