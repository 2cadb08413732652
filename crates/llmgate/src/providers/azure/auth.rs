//! Which credential an Azure OpenAI call carries, as LiteLLM 1.110.2 resolves it: an Entra ID
//! token given as it is (`azure_ad_token`, else `AZURE_AD_TOKEN`), else the API key (`api_key`,
//! else `AZURE_OPENAI_API_KEY`, `AZURE_API_KEY`), else the client-credentials flow
//! (`tenant_id`, `client_id`, `client_secret`, each from litellm_params or `AZURE_TENANT_ID`,
//! `AZURE_CLIENT_ID`, `AZURE_CLIENT_SECRET`). A token wins over a key as the Azure OpenAI SDK
//! LiteLLM calls sends it.

use serde_json::Value;

use super::entra::{self, ClientSecret};
use crate::providers::Ctx;
use crate::{CallOptions, ErrorKind, LlmError};

/// Keys read before `AZURE_API_KEY`, as LiteLLM's Azure branch reads them.
pub const KEY_ENV: &[&str] = &["AZURE_OPENAI_API_KEY", "AZURE_API_KEY"];
const DEFAULT_SCOPE: &str = "https://cognitiveservices.azure.com/.default";

/// How the request authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Header {
    /// `api-key: <key>` (the deployment paths).
    ApiKey(String),
    /// `Authorization: Bearer <token or key>`.
    Bearer(String),
}

impl Header {
    /// The header as a (name, value) pair.
    pub fn pair(self) -> (&'static str, String) {
        match self {
            Header::ApiKey(k) => ("api-key", k),
            Header::Bearer(t) => ("authorization", format!("Bearer {t}")),
        }
    }
}

/// A credential before any token is fetched.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credential {
    Key(String),
    AdToken(String),
    ClientSecret(ClientSecret),
}

/// A litellm_param as a non-empty string.
pub(super) fn param(opts: &CallOptions, key: &str) -> Option<String> {
    match opts.extra.get(key) {
        Some(Value::String(s)) if !s.is_empty() => Some(s.clone()),
        _ => None,
    }
}

pub(super) fn env(key: &str) -> Option<String> {
    std::env::var(key).ok().filter(|v| !v.is_empty())
}

fn param_or_env(opts: &CallOptions, key: &str, var: &str) -> Option<String> {
    param(opts, key).or_else(|| env(var))
}

fn auth_error(message: impl Into<String>) -> LlmError {
    LlmError::new(ErrorKind::Authentication, message).with_provider("azure")
}

impl Credential {
    pub fn resolve(opts: &CallOptions) -> Result<Credential, LlmError> {
        if let Some(token) = param_or_env(opts, "azure_ad_token", "AZURE_AD_TOKEN") {
            if token.starts_with("oidc/") {
                return Err(LlmError::bad_request(
                    "azure_ad_token 'oidc/...' (OIDC federation) is not supported by llmgate: give a token, an api_key, or tenant_id/client_id/client_secret",
                )
                .with_provider("azure"));
            }
            return Ok(Credential::AdToken(token));
        }
        let key = opts
            .api_key
            .clone()
            .filter(|k| !k.is_empty())
            .or_else(|| KEY_ENV.iter().find_map(|v| env(v)));
        if let Some(k) = key {
            return Ok(Credential::Key(k));
        }
        let tenant = param_or_env(opts, "tenant_id", "AZURE_TENANT_ID");
        let client = param_or_env(opts, "client_id", "AZURE_CLIENT_ID");
        let secret = param_or_env(opts, "client_secret", "AZURE_CLIENT_SECRET");
        match (tenant, client, secret) {
            (Some(tenant), Some(client_id), Some(secret)) => {
                let scope = param_or_env(opts, "azure_scope", "AZURE_SCOPE")
                    .unwrap_or_else(|| DEFAULT_SCOPE.to_string());
                Ok(Credential::ClientSecret(ClientSecret {
                    tenant,
                    client_id,
                    secret,
                    scope,
                }))
            }
            (None, None, None) => Err(auth_error(
                "Missing credentials. Please pass one of `api_key`, `azure_ad_token`, or `tenant_id`/`client_id`/`client_secret` (or the AZURE_OPENAI_API_KEY, AZURE_API_KEY, AZURE_AD_TOKEN or AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET environment variables).",
            )),
            (t, c, s) => {
                let missing: Vec<&str> = [(t, "tenant_id"), (c, "client_id"), (s, "client_secret")]
                    .into_iter()
                    .filter(|(v, _)| v.is_none())
                    .map(|(_, n)| n)
                    .collect();
                Err(auth_error(format!(
                    "Azure AD client credentials are incomplete: {} missing (litellm_params or AZURE_TENANT_ID/AZURE_CLIENT_ID/AZURE_CLIENT_SECRET), and no api_key or azure_ad_token is set",
                    missing.join(", ")
                )))
            }
        }
    }

    /// The header for a call; the client-credentials flow fetches (or reuses) a token. On the
    /// v1 path a key is a bearer too (LiteLLM calls it with the plain OpenAI client).
    pub async fn header(self, cx: &Ctx<'_>, v1: bool) -> Result<Header, LlmError> {
        Ok(match self {
            Credential::Key(k) if v1 => Header::Bearer(k),
            Credential::Key(k) => Header::ApiKey(k),
            Credential::AdToken(t) => Header::Bearer(t),
            Credential::ClientSecret(c) => Header::Bearer(entra::token(cx, &c).await?),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(pairs: &[(&str, &str)], key: Option<&str>) -> CallOptions {
        CallOptions {
            api_key: key.map(str::to_string),
            extra: pairs
                .iter()
                .map(|(k, v)| (k.to_string(), Value::String(v.to_string())))
                .collect(),
            ..Default::default()
        }
    }

    #[test]
    fn a_token_wins_over_a_key_and_a_key_over_client_credentials() {
        let ad = opts(&[("azure_ad_token", "tok")], Some("key"));
        assert_eq!(
            Credential::resolve(&ad).unwrap(),
            Credential::AdToken("tok".into())
        );
        let cc = [
            ("tenant_id", "t"),
            ("client_id", "c"),
            ("client_secret", "s"),
        ];
        assert_eq!(
            Credential::resolve(&opts(&cc, Some("key"))).unwrap(),
            Credential::Key("key".into())
        );
        let Credential::ClientSecret(c) = Credential::resolve(&opts(&cc, None)).unwrap() else {
            panic!("client credentials expected");
        };
        assert_eq!(c.scope, DEFAULT_SCOPE);
        let scoped = [&cc[..], &[("azure_scope", "api://x/.default")]].concat();
        let Credential::ClientSecret(c) = Credential::resolve(&opts(&scoped, None)).unwrap() else {
            panic!("client credentials expected");
        };
        assert_eq!(c.scope, "api://x/.default");
    }

    #[test]
    fn missing_or_unsupported_credentials_are_clear_errors() {
        let e = Credential::resolve(&opts(&[], None)).unwrap_err();
        assert_eq!(e.kind, ErrorKind::Authentication);
        assert!(e.message.contains("Missing credentials"), "{}", e.message);
        let partial = opts(&[("tenant_id", "t"), ("client_id", "c")], None);
        let e = Credential::resolve(&partial).unwrap_err();
        assert!(e.message.contains("client_secret missing"), "{}", e.message);
        let oidc = opts(&[("azure_ad_token", "oidc/MY_TOKEN")], None);
        let e = Credential::resolve(&oidc).unwrap_err();
        assert_eq!(e.kind, ErrorKind::BadRequest);
        assert!(e.message.contains("OIDC"));
    }

    #[test]
    fn environment_variables_stand_in_for_params() {
        // nextest runs each test in its own process: the environment is this test's.
        std::env::set_var("AZURE_TENANT_ID", "t-env");
        std::env::set_var("AZURE_CLIENT_ID", "c-env");
        std::env::set_var("AZURE_CLIENT_SECRET", "s-env");
        let Credential::ClientSecret(c) = Credential::resolve(&opts(&[], None)).unwrap() else {
            panic!("client credentials expected");
        };
        assert_eq!(
            (c.tenant.as_str(), c.client_id.as_str()),
            ("t-env", "c-env")
        );
        std::env::set_var("AZURE_API_KEY", "k-env");
        assert_eq!(
            Credential::resolve(&opts(&[], None)).unwrap(),
            Credential::Key("k-env".into())
        );
        std::env::set_var("AZURE_AD_TOKEN", "ad-env");
        assert_eq!(
            Credential::resolve(&opts(&[], None)).unwrap(),
            Credential::AdToken("ad-env".into())
        );
        for v in [
            "AZURE_TENANT_ID",
            "AZURE_CLIENT_ID",
            "AZURE_CLIENT_SECRET",
            "AZURE_API_KEY",
            "AZURE_AD_TOKEN",
        ] {
            std::env::remove_var(v);
        }
    }
}
