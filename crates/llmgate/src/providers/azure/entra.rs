//! Entra ID (Azure AD) client-credentials flow: `POST {authority}/{tenant}/oauth2/v2.0/token`
//! with the app's id and secret, as azure-identity's `ClientSecretCredential` (which LiteLLM
//! uses) sends it. The authority is `AZURE_AUTHORITY_HOST` (azure-identity's variable; sovereign
//! clouds, or a test's mock), else `https://login.microsoftonline.com`. Tokens are cached per
//! credential and scope until shortly before they expire ([`TokenCache`]).

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use crate::providers::http::{path_segment, SegmentKind};
use crate::providers::token_cache::{Fetched, TokenCache};
use crate::providers::Ctx;
use crate::{ErrorKind, LlmError};

const DEFAULT_AUTHORITY: &str = "https://login.microsoftonline.com";
/// How long a token request may take when the deployment sets no timeout.
const TOKEN_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret {
    pub tenant: String,
    pub client_id: String,
    pub secret: String,
    pub scope: String,
}

impl std::fmt::Debug for ClientSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClientSecret")
            .field("tenant", &self.tenant)
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

fn cache() -> &'static TokenCache {
    static C: OnceLock<TokenCache> = OnceLock::new();
    C.get_or_init(TokenCache::default)
}

fn auth_error(message: impl Into<String>) -> LlmError {
    LlmError::new(ErrorKind::Authentication, message).with_provider("azure")
}

/// `AZURE_AUTHORITY_HOST` as azure-identity reads it: a bare host gets `https://`.
fn authority() -> String {
    let host = super::auth::env("AZURE_AUTHORITY_HOST").unwrap_or_else(|| DEFAULT_AUTHORITY.into());
    let host = host.trim_end_matches('/');
    if host.contains("://") {
        host.to_string()
    } else {
        format!("https://{host}")
    }
}

/// The token endpoint of `tenant` (a tenant id or domain, checked as one URL segment).
fn token_url(tenant: &str) -> Result<String, LlmError> {
    let tenant =
        path_segment(tenant, SegmentKind::Segment).map_err(|e| e.with_provider("azure"))?;
    Ok(format!("{}/{tenant}/oauth2/v2.0/token", authority()))
}

/// A bearer token for `c`, from the cache while it is fresh.
pub async fn token(cx: &Ctx<'_>, c: &ClientSecret) -> Result<String, LlmError> {
    let url = token_url(&c.tenant)?;
    // The secret is part of the credential: a rotated secret gets its own token.
    let digest = ring::digest::digest(&ring::digest::SHA256, c.secret.as_bytes());
    let fingerprint: String = digest.as_ref()[..8]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    let key = format!("{url}\n{}\n{}\n{fingerprint}", c.client_id, c.scope);
    let timeout = cx.opts.timeout.unwrap_or(TOKEN_TIMEOUT);
    cache()
        .get(&key, || fetch(cx.http, url.clone(), c, timeout))
        .await
}

async fn fetch(
    http: &reqwest::Client,
    url: String,
    c: &ClientSecret,
    timeout: Duration,
) -> Result<Fetched, LlmError> {
    let res = http
        .post(&url)
        .timeout(timeout)
        .form(&[
            ("client_id", c.client_id.as_str()),
            ("client_secret", c.secret.as_str()),
            ("grant_type", "client_credentials"),
            ("scope", c.scope.as_str()),
        ])
        .send()
        .await
        .map_err(|e| {
            auth_error(format!(
                "Azure AD token request to {url} failed: {}",
                LlmError::from_transport(&e, "azure").message
            ))
        })?;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let token = body["access_token"].as_str().filter(|_| status == 200);
    let Some(token) = token else {
        let why = body["error_description"]
            .as_str()
            .or(body["error"].as_str())
            .unwrap_or("no access_token in the answer");
        return Err(auth_error(format!(
            "Azure AD could not issue a token for client_id {} in tenant {} ({status}): {why}",
            c.client_id, c.tenant
        )));
    };
    // Entra sends `expires_in` as a number; some proxies of it as a string.
    let secs = body["expires_in"]
        .as_u64()
        .or_else(|| body["expires_in"].as_str()?.parse().ok())
        .unwrap_or(3600);
    Ok(Fetched {
        token: token.to_string(),
        expires_in: Duration::from_secs(secs),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_authority_host_is_overridable_and_tenants_are_one_segment() {
        std::env::remove_var("AZURE_AUTHORITY_HOST");
        assert_eq!(
            token_url("contoso.onmicrosoft.com").unwrap(),
            "https://login.microsoftonline.com/contoso.onmicrosoft.com/oauth2/v2.0/token"
        );
        std::env::set_var("AZURE_AUTHORITY_HOST", "login.microsoftonline.us/");
        assert_eq!(
            token_url("t").unwrap(),
            "https://login.microsoftonline.us/t/oauth2/v2.0/token"
        );
        std::env::set_var("AZURE_AUTHORITY_HOST", "http://127.0.0.1:9");
        assert_eq!(
            token_url("t").unwrap(),
            "http://127.0.0.1:9/t/oauth2/v2.0/token"
        );
        std::env::remove_var("AZURE_AUTHORITY_HOST");
        assert!(token_url("../x").is_err());
        assert!(token_url("a/b").is_err());
    }
}
