//! What the AWS providers (Bedrock, SageMaker) share: the keys a call signs with
//! ([`credentials`]: static keys, STS roles and web identities, profiles, the ambient chain),
//! region checks, SigV4 signing (`aws-sigv4`) and the binary event-stream decoder
//! ([`eventstream`]).

pub mod container;
pub mod credentials;
pub mod eventstream;
pub mod profile;
pub mod sts;
pub mod web_identity;

use std::time::SystemTime;

use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use serde_json::Value;

use crate::{CallOptions, LlmError};

/// An access key pair (and session token) to sign with.
#[derive(Clone)]
pub struct Keys {
    pub key_id: String,
    pub secret: String,
    pub token: Option<String>,
}

/// A non-empty string litellm_param.
pub fn param(opts: &CallOptions, key: &str) -> Option<String> {
    match opts.extra.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

/// A non-empty environment variable.
pub fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

/// `aws_access_key_id`/`aws_secret_access_key`/`aws_session_token` from litellm_params.
pub fn keys_from_params(opts: &CallOptions) -> Option<Keys> {
    Some(Keys {
        key_id: param(opts, "aws_access_key_id")?,
        secret: param(opts, "aws_secret_access_key")?,
        token: param(opts, "aws_session_token"),
    })
}

/// `AWS_ACCESS_KEY_ID`/`AWS_SECRET_ACCESS_KEY`/`AWS_SESSION_TOKEN`.
pub fn keys_from_env() -> Option<Keys> {
    Some(Keys {
        key_id: env("AWS_ACCESS_KEY_ID")?,
        secret: env("AWS_SECRET_ACCESS_KEY")?,
        token: env("AWS_SESSION_TOKEN"),
    })
}

/// A region goes into the host name: letters, digits and `-` only.
pub fn checked_region(region: String) -> Result<String, LlmError> {
    if !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-')
    {
        Ok(region)
    } else {
        Err(LlmError::bad_request(format!(
            "aws_region_name {region:?} is not a valid AWS region"
        )))
    }
}

/// The headers SigV4 adds (`authorization`, `x-amz-date`, `x-amz-security-token`) for a POST
/// of `body` to `url` for `service`, signing `host` and `signed` (the headers the request
/// carries, lower-case names).
pub fn sigv4_headers(
    url: &str,
    body: &[u8],
    region: &str,
    service: &str,
    keys: &Keys,
    signed: &[(&str, &str)],
    time: SystemTime,
) -> Result<Vec<(String, String)>, LlmError> {
    sigv4_sign("POST", url, body, region, service, keys, signed, time)
}

/// [`sigv4_headers`] for any method. For `s3` the path is signed as sent (encoded once, not
/// normalized) and `x-amz-content-sha256` is added and signed, as S3 requires.
#[allow(clippy::too_many_arguments)]
pub fn sigv4_sign(
    method: &str,
    url: &str,
    body: &[u8],
    region: &str,
    service: &str,
    keys: &Keys,
    signed: &[(&str, &str)],
    time: SystemTime,
) -> Result<Vec<(String, String)>, LlmError> {
    let fail = |e: &dyn std::fmt::Display| {
        LlmError::bad_request(format!("could not sign the {service} request: {e}"))
    };
    let parsed = reqwest::Url::parse(url).map_err(|e| fail(&e))?;
    let host = match (parsed.host_str(), parsed.port()) {
        (Some(h), Some(p)) => format!("{h}:{p}"),
        (Some(h), None) => h.to_string(),
        _ => return Err(fail(&"no host")),
    };
    let identity = Credentials::new(
        &keys.key_id,
        &keys.secret,
        keys.token.clone(),
        None,
        "llmgate",
    )
    .into();
    let params: aws_sigv4::http_request::SigningParams = v4::SigningParams::builder()
        .identity(&identity)
        .region(region)
        .name(service)
        .time(time)
        .settings(settings(service))
        .build()
        .map_err(|e| fail(&e))?
        .into();
    let headers = std::iter::once(("host", host.as_str())).chain(signed.iter().copied());
    let signable = SignableRequest::new(method, url, headers, SignableBody::Bytes(body))
        .map_err(|e| fail(&e))?;
    let (instructions, _) = sign(signable, &params).map_err(|e| fail(&e))?.into_parts();
    Ok(instructions
        .headers()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect())
}

/// A `method` request of `body` to `url`, carrying `headers` (lower-case names) and signed
/// with them for `service` in `region`.
#[allow(clippy::too_many_arguments)]
pub fn signed_request(
    http: &reqwest::Client,
    method: reqwest::Method,
    url: &str,
    body: Vec<u8>,
    region: &str,
    service: &str,
    keys: &Keys,
    headers: &[(&str, &str)],
) -> Result<reqwest::RequestBuilder, LlmError> {
    let auth = sigv4_sign(
        method.as_str(),
        url,
        &body,
        region,
        service,
        keys,
        headers,
        SystemTime::now(),
    )?;
    let mut rb = http.request(method, url);
    for (k, v) in headers {
        rb = rb.header(*k, *v);
    }
    for (k, v) in auth {
        rb = rb.header(k, v);
    }
    Ok(rb.body(body))
}

/// The signing settings of `service`: S3's differ from every other service's.
fn settings(service: &str) -> SigningSettings {
    let mut s = SigningSettings::default();
    if service == "s3" {
        s.payload_checksum_kind = aws_sigv4::http_request::PayloadChecksumKind::XAmzSha256;
        s.percent_encoding_mode = aws_sigv4::http_request::PercentEncodingMode::Single;
        s.uri_path_normalization_mode = aws_sigv4::http_request::UriPathNormalizationMode::Disabled;
    }
    s
}
