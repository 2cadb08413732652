//! Container credentials (ECS task roles, EKS Pod Identity), as botocore's
//! `ContainerProvider` reads them: `GET http://169.254.170.2{AWS_CONTAINER_CREDENTIALS_RELATIVE_URI}`
//! or `AWS_CONTAINER_CREDENTIALS_FULL_URI` (plain http only to loopback or the ECS/EKS agent
//! addresses), with `AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE` / `AWS_CONTAINER_AUTHORIZATION_TOKEN`
//! as `Authorization`; the JSON answer carries the keys and their `Expiration`.

use std::time::Duration;

use aws_smithy_types::date_time::{DateTime, Format};
use serde_json::Value;

use super::{env, Keys};
use crate::providers::token_cache::Fetched;
use crate::{ErrorKind, LlmError};

const ECS_HOST: &str = "http://169.254.170.2";
const TIMEOUT: Duration = Duration::from_secs(5);
/// botocore's allowed plain-http hosts besides loopback.
const AGENT_HOSTS: [&str; 3] = ["169.254.170.2", "169.254.170.23", "[fd00:ec2::23]"];

/// The endpoint the environment names, if any.
pub fn url() -> Option<String> {
    env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI")
        .map(|rel| format!("{ECS_HOST}{rel}"))
        .or_else(|| env("AWS_CONTAINER_CREDENTIALS_FULL_URI"))
}

fn refused(label: &str, why: impl std::fmt::Display) -> LlmError {
    LlmError::new(
        ErrorKind::Authentication,
        format!("{label} - Error retrieving credentials from container metadata endpoint: {why}"),
    )
}

fn allowed(url: &str) -> bool {
    let Ok(u) = reqwest::Url::parse(url) else {
        return false;
    };
    match (u.scheme(), u.host_str()) {
        ("https", Some(_)) => true,
        ("http", Some(h)) => {
            AGENT_HOSTS.contains(&h)
                || h == "localhost"
                || h.trim_matches(['[', ']'])
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|ip| ip.is_loopback())
        }
        _ => false,
    }
}

/// The container's credentials and their lifetime.
pub async fn fetch(
    http: &reqwest::Client,
    url: &str,
    label: &str,
) -> Result<Fetched<Keys>, LlmError> {
    if !allowed(url) {
        return Err(refused(
            label,
            format!("{url} is not https, a loopback address or the ECS/EKS agent"),
        ));
    }
    let mut rb = http.get(url).timeout(TIMEOUT);
    let token = match env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE") {
        Some(path) => Some(
            tokio::fs::read_to_string(&path)
                .await
                .map_err(|e| refused(label, format!("cannot read {path}: {e}")))?,
        ),
        None => env("AWS_CONTAINER_AUTHORIZATION_TOKEN"),
    };
    let secrets: Vec<String> = token.iter().map(|t| t.trim().to_string()).collect();
    if let Some(t) = &token {
        rb = rb.header("authorization", t.trim());
    }
    let res = rb
        .send()
        .await
        .map_err(|e| refused(label, e).redact(&secrets))?;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let field = |k: &str| {
        body[k]
            .as_str()
            .filter(|s| !s.is_empty())
            .map(str::to_string)
    };
    let (Some(key_id), Some(secret), 200) =
        (field("AccessKeyId"), field("SecretAccessKey"), status)
    else {
        let why = field("message")
            .or_else(|| field("Message"))
            .unwrap_or_default();
        return Err(refused(label, format!("HTTP {status} {why}")).redact(&secrets));
    };
    let left = field("Expiration")
        .and_then(|e| DateTime::from_str(&e, Format::DateTime).ok())
        .map(|d| {
            u64::try_from(d.secs())
                .unwrap_or(0)
                .saturating_sub(crate::now_secs())
        })
        .unwrap_or(3600);
    Ok(Fetched {
        token: Keys {
            key_id,
            secret,
            token: field("Token"),
        },
        expires_in: Duration::from_secs(left),
    })
}

#[cfg(test)]
mod tests {
    use super::allowed;

    #[test]
    fn plain_http_only_to_the_agent_or_loopback() {
        assert!(allowed("http://169.254.170.2/v2/credentials/x"));
        assert!(allowed("http://169.254.170.23/v1/credentials"));
        assert!(allowed("http://127.0.0.1:8080/creds"));
        assert!(allowed("http://[::1]:8080/creds"));
        assert!(allowed("https://creds.example.com/x"));
        assert!(!allowed("http://creds.example.com/x"));
        assert!(!allowed("file:///etc/passwd"));
    }
}
