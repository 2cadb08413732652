//! Service-account auth for Vertex AI: a JWT signed with the account's RSA key (RS256) is
//! exchanged at the credentials' `token_uri` for an access token, cached until shortly before
//! it expires (`providers/token_cache.rs`).

use std::sync::OnceLock;
use std::time::Duration;

use base64::Engine;
use serde::Deserialize;
use serde_json::{json, Value};

use crate::providers::token_cache::{Fetched, TokenCache};
use crate::{ErrorKind, LlmError};

const SCOPE: &str = "https://www.googleapis.com/auth/cloud-platform";

#[derive(Clone, Deserialize)]
pub struct ServiceAccount {
    pub client_email: String,
    pub private_key: String,
    #[serde(default)]
    pub private_key_id: Option<String>,
    #[serde(default = "default_token_uri")]
    pub token_uri: String,
    #[serde(default)]
    pub project_id: Option<String>,
}

fn default_token_uri() -> String {
    "https://oauth2.googleapis.com/token".into()
}

fn auth_error(msg: impl Into<String>) -> LlmError {
    LlmError::new(ErrorKind::Authentication, msg).with_provider("vertex_ai")
}

impl ServiceAccount {
    /// From `vertex_credentials` (a JSON object, a JSON string or a file path), else
    /// `GOOGLE_APPLICATION_CREDENTIALS`.
    pub fn from_param(param: Option<&Value>) -> Result<Option<ServiceAccount>, LlmError> {
        let text = match param {
            Some(Value::Object(_)) => param.map(Value::to_string),
            Some(Value::String(s)) if s.trim_start().starts_with('{') => Some(s.clone()),
            Some(Value::String(path)) => Some(read(path)?),
            _ => match std::env::var("GOOGLE_APPLICATION_CREDENTIALS") {
                Ok(path) if !path.is_empty() => Some(read(&path)?),
                _ => None,
            },
        };
        text.map(|t| {
            serde_json::from_str(&t)
                .map_err(|e| auth_error(format!("invalid service account credentials: {e}")))
        })
        .transpose()
    }

    fn jwt(&self, now: u64) -> Result<String, LlmError> {
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let mut header = json!({"alg": "RS256", "typ": "JWT"});
        if let Some(kid) = &self.private_key_id {
            header["kid"] = json!(kid);
        }
        let claims = json!({"iss": self.client_email, "scope": SCOPE, "aud": self.token_uri, "iat": now, "exp": now + 3600});
        let signing_input = format!(
            "{}.{}",
            b64.encode(header.to_string()),
            b64.encode(claims.to_string())
        );
        let der = pem_to_der(&self.private_key)?;
        let key = ring::signature::RsaKeyPair::from_pkcs8(&der).map_err(|e| {
            auth_error(format!(
                "the service account's private_key is not a PKCS#8 RSA key: {e}"
            ))
        })?;
        let mut sig = vec![0u8; key.public().modulus_len()];
        key.sign(
            &ring::signature::RSA_PKCS1_SHA256,
            &ring::rand::SystemRandom::new(),
            signing_input.as_bytes(),
            &mut sig,
        )
        .map_err(|_| auth_error("could not sign the token request"))?;
        Ok(format!("{signing_input}.{}", b64.encode(sig)))
    }
}

fn read(path: &str) -> Result<String, LlmError> {
    std::fs::read_to_string(path)
        .map_err(|e| auth_error(format!("cannot read credentials file {path}: {e}")))
}

fn pem_to_der(pem: &str) -> Result<Vec<u8>, LlmError> {
    let body: String = pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .map(str::trim)
        .collect();
    base64::engine::general_purpose::STANDARD
        .decode(body)
        .map_err(|_| auth_error("the service account's private_key is not valid PEM"))
}

fn cache() -> &'static TokenCache {
    static C: OnceLock<TokenCache> = OnceLock::new();
    C.get_or_init(TokenCache::default)
}

/// An access token for the account, from the cache while it is fresh (one exchange at a time
/// per account).
pub async fn access_token(http: &reqwest::Client, sa: &ServiceAccount) -> Result<String, LlmError> {
    let key = format!("{}\n{}", sa.client_email, sa.token_uri);
    cache().get(&key, || exchange(http, sa)).await
}

async fn exchange(http: &reqwest::Client, sa: &ServiceAccount) -> Result<Fetched, LlmError> {
    let now = crate::now_secs();
    let assertion = sa.jwt(now)?;
    let res = http
        .post(&sa.token_uri)
        .form(&[
            ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"),
            ("assertion", assertion.as_str()),
        ])
        .send()
        .await
        .map_err(|e| LlmError::from_transport(&e, "vertex_ai"))?;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let token = body["access_token"]
        .as_str()
        .filter(|_| status == 200)
        .ok_or_else(|| {
            auth_error(format!(
                "the token endpoint refused the service account ({status}): {}",
                body["error_description"]
                    .as_str()
                    .or(body["error"].as_str())
                    .unwrap_or("")
            ))
        })?;
    Ok(Fetched {
        token: token.to_string(),
        expires_in: Duration::from_secs(body["expires_in"].as_u64().unwrap_or(3600)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_from_a_param_or_the_environment() {
        let json = r#"{"client_email": "a@p.iam.gserviceaccount.com", "private_key": "k", "project_id": "p"}"#;
        let sa = ServiceAccount::from_param(Some(&Value::String(json.into())))
            .unwrap()
            .unwrap();
        assert_eq!(sa.token_uri, "https://oauth2.googleapis.com/token");
        let obj: Value = serde_json::from_str(json).unwrap();
        assert!(ServiceAccount::from_param(Some(&obj)).unwrap().is_some());

        let path = std::env::temp_dir().join(format!("llmgate-sa-{}.json", std::process::id()));
        std::fs::write(&path, json).unwrap();
        // Tests run one per process (nextest), so the environment is this test's own.
        std::env::set_var("GOOGLE_APPLICATION_CREDENTIALS", &path);
        let sa = ServiceAccount::from_param(None).unwrap().unwrap();
        assert_eq!(sa.project_id.as_deref(), Some("p"));
        std::env::remove_var("GOOGLE_APPLICATION_CREDENTIALS");
        assert!(ServiceAccount::from_param(Some(&Value::String("/no/such/file".into()))).is_err());
    }
}
