//! Which keys an AWS call signs with, in the order of LiteLLM's `BaseAWSLLM.get_credentials`:
//! a web identity (`aws_web_identity_token` + `aws_role_name` + `aws_session_name`:
//! `AssumeRoleWithWebIdentity`), a role (`aws_role_name`: `AssumeRole` with the deployment's keys,
//! else the ambient ones), a profile (`aws_profile_name`), static keys, then the ambient chain
//! boto3 would walk (the `AWS_*` keys, `AWS_PROFILE`'s or the default profile, the environment's
//! web identity `AWS_ROLE_ARN` + `AWS_WEB_IDENTITY_TOKEN_FILE`, container credentials; not
//! IMDS or SSO). Each param falls back to LiteLLM's variable (`AWS_ROLE_NAME`, ...).
//! Temporary credentials are cached per (endpoint, role, session, base credential) until
//! shortly before they expire; one STS call at a time per such key.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use super::profile::{Base, Plan, Profiles};
use super::sts::{self, Caller, Endpoint, RoleRequest};
use super::{container, env, keys_from_env, keys_from_params, param, web_identity, Keys};
use crate::providers::token_cache::{Fetched, TokenCache};
use crate::{CallOptions, ErrorKind, LlmError};

/// LiteLLM's `STS_CREDENTIAL_EXPIRY_SAFETY_MARGIN_SECONDS`.
const STS_MARGIN: Duration = Duration::from_secs(60);
/// How long the shared files are kept once read (LiteLLM keeps ambient credentials ten
/// minutes).
const FILES_TTL: Duration = Duration::from_secs(600);

/// The credential params of a deployment, each falling back to LiteLLM's variable.
#[derive(Default, Debug)]
pub struct Params {
    pub role: Option<String>,
    pub session: Option<String>,
    pub profile: Option<String>,
    pub web_identity_token: Option<String>,
    pub sts_endpoint: Option<String>,
    pub external_id: Option<String>,
}

impl Params {
    pub fn read(opts: &CallOptions) -> Params {
        let get = |p: &str, v: &str| param(opts, p).or_else(|| env(v));
        Params {
            role: get("aws_role_name", "AWS_ROLE_NAME"),
            session: get("aws_session_name", "AWS_SESSION_NAME"),
            profile: get("aws_profile_name", "AWS_PROFILE_NAME"),
            web_identity_token: get("aws_web_identity_token", "AWS_WEB_IDENTITY_TOKEN"),
            sts_endpoint: get("aws_sts_endpoint", "AWS_STS_ENDPOINT"),
            external_id: get("aws_external_id", "AWS_EXTERNAL_ID"),
        }
    }
}

/// Whether the deployment itself names AWS credentials (keys, a role, a web identity or a
/// profile), which Bedrock prefers over `AWS_BEARER_TOKEN_BEDROCK`.
pub fn configured(opts: &CallOptions) -> bool {
    keys_from_params(opts).is_some()
        || [
            "aws_role_name",
            "aws_profile_name",
            "aws_web_identity_token",
        ]
        .iter()
        .any(|k| param(opts, k).is_some())
}

fn keys_cache() -> &'static TokenCache<Keys> {
    static C: OnceLock<TokenCache<Keys>> = OnceLock::new();
    C.get_or_init(|| TokenCache::with_max_margin(STS_MARGIN))
}

fn files_cache() -> &'static TokenCache<Arc<Profiles>> {
    static C: OnceLock<TokenCache<Arc<Profiles>>> = OnceLock::new();
    C.get_or_init(TokenCache::default)
}

/// A short digest of secrets, so a rotated key gets its own cache entry without the key
/// itself becoming one.
fn fingerprint(parts: &[&str]) -> String {
    let digest = ring::digest::digest(&ring::digest::SHA256, parts.join("\n").as_bytes());
    digest.as_ref()[..12]
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

fn auth_error(caller: Caller<'_>, message: impl std::fmt::Display) -> LlmError {
    LlmError::new(
        ErrorKind::Authentication,
        format!("{} - {message}", caller.label),
    )
    .with_provider(caller.provider)
}

/// What one resolution needs besides the params.
struct Resolver<'a> {
    http: &'a reqwest::Client,
    /// `aws_sts_endpoint` and the call's region: where STS is, worked out only when a
    /// credential needs it (static keys never depend on it).
    sts: (Option<String>, &'a str),
    caller: Caller<'a>,
}

/// The keys to sign with, or `None` when nothing is configured or found anywhere (each
/// provider words that error itself).
pub async fn resolve(
    http: &reqwest::Client,
    opts: &CallOptions,
    region: &str,
    caller: Caller<'_>,
) -> Result<Option<Keys>, LlmError> {
    let p = Params::read(opts);
    let r = Resolver {
        http,
        sts: (p.sts_endpoint.clone(), region),
        caller,
    };
    if let (Some(reference), Some(role), Some(session)) =
        (&p.web_identity_token, &p.role, &p.session)
    {
        let token = web_identity::token(reference, caller.label)
            .await
            .map_err(|e| e.with_provider(caller.provider))?;
        return r
            .web_identity(role, Some(session), &token, caller.policy)
            .await
            .map(Some);
    }
    if let Some(role) = &p.role {
        let base = match keys_from_params(opts) {
            Some(k) => k,
            None => {
                // Already running as the role through the environment's web identity (EKS
                // IRSA): its credentials are the role's.
                if env("AWS_ROLE_ARN").as_deref() == Some(role.as_str())
                    && env("AWS_WEB_IDENTITY_TOKEN_FILE").is_some()
                {
                    return r.ambient().await;
                }
                match r.ambient().await? {
                    Some(k) => k,
                    None => return Ok(None),
                }
            }
        };
        let req = RoleRequest {
            role_arn: role,
            session_name: p.session.as_deref().unwrap_or(""),
            external_id: p.external_id.as_deref(),
        };
        return r.assume(&base, &req).await.map(Some);
    }
    if let Some(name) = &p.profile {
        // An explicit profile skips the environment's keys (botocore).
        return match r.profiles().await.plan(name) {
            Ok(Some(plan)) => r.run(plan).await.map(Some),
            Ok(None) => Err(auth_error(
                caller,
                format!("The config profile ({name}) could not be found"),
            )),
            Err(why) => Err(auth_error(caller, why)),
        };
    }
    if let Some(k) = keys_from_params(opts) {
        return Ok(Some(k));
    }
    r.ambient().await
}

impl Resolver<'_> {
    fn endpoint(&self) -> Result<Endpoint, LlmError> {
        Endpoint::resolve(self.sts.0.as_deref(), self.sts.1)
            .map_err(|e| e.with_provider(self.caller.provider))
    }

    async fn profiles(&self) -> Arc<Profiles> {
        let key = format!(
            "{}\n{}",
            super::profile::credentials_path(),
            super::profile::config_path()
        );
        let loaded = files_cache()
            .get(&key, || async {
                Ok(Fetched {
                    token: Arc::new(Profiles::load().await),
                    expires_in: FILES_TTL,
                })
            })
            .await;
        loaded.unwrap_or_default()
    }

    /// `AssumeRole` with `base`, cached. An empty session name is LiteLLM's
    /// `litellm-session-<unix time>`, made when the call is made.
    async fn assume(&self, base: &Keys, req: &RoleRequest<'_>) -> Result<Keys, LlmError> {
        let ep = self.endpoint()?;
        let key = format!(
            "role\n{}\n{}\n{}\n{}\n{}\n{}\n{}",
            ep.url,
            ep.region,
            req.role_arn,
            req.session_name,
            req.external_id.unwrap_or(""),
            base.key_id,
            fingerprint(&[&base.secret, base.token.as_deref().unwrap_or("")]),
        );
        keys_cache()
            .get(&key, || async {
                let session = match req.session_name {
                    "" => format!("litellm-session-{}", crate::now_secs()),
                    s => s.to_string(),
                };
                let req = RoleRequest {
                    session_name: &session,
                    ..*req
                };
                sts::assume_role(self.http, &ep, base, &req, self.caller).await
            })
            .await
    }

    /// `AssumeRoleWithWebIdentity`, cached. Without a session name, boto3's
    /// `botocore-session-<unix time>`, made when the call is made.
    async fn web_identity(
        &self,
        role: &str,
        session: Option<&str>,
        token: &str,
        policy: Option<&str>,
    ) -> Result<Keys, LlmError> {
        let ep = self.endpoint()?;
        let key = format!(
            "web\n{}\n{role}\n{}\n{}",
            ep.url,
            session.unwrap_or(""),
            fingerprint(&[token, policy.unwrap_or("")]),
        );
        let caller = Caller {
            policy,
            ..self.caller
        };
        keys_cache()
            .get(&key, || async {
                let session = session
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("botocore-session-{}", crate::now_secs()));
                let req = RoleRequest {
                    role_arn: role,
                    session_name: &session,
                    external_id: None,
                };
                sts::assume_role_with_web_identity(self.http, &ep, &req, token, caller).await
            })
            .await
    }

    /// A profile's base credentials, then each role of its chain in turn.
    async fn run(&self, plan: Plan) -> Result<Keys, LlmError> {
        let mut keys = match plan.base {
            Base::Static(k) => k.keys(),
            Base::Environment => keys_from_env().ok_or_else(|| {
                auth_error(
                    self.caller,
                    "credential_source Environment, but AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY are not set",
                )
            })?,
            Base::Container => self.container().await?.ok_or_else(|| {
                auth_error(
                    self.caller,
                    "credential_source EcsContainer, but no AWS_CONTAINER_CREDENTIALS_* variable is set",
                )
            })?,
            Base::WebIdentity {
                role_arn,
                token_file,
                session_name,
            } => {
                let token = web_identity::read_token_file(&token_file, self.caller.label)
                    .await
                    .map_err(|e| e.with_provider(self.caller.provider))?;
                self.web_identity(&role_arn, session_name.as_deref(), &token, None)
                    .await?
            }
        };
        for hop in &plan.hops {
            let req = RoleRequest {
                role_arn: &hop.role_arn,
                session_name: hop.session_name.as_deref().unwrap_or(""),
                external_id: hop.external_id.as_deref(),
            };
            keys = self.assume(&keys, &req).await?;
        }
        Ok(keys)
    }

    async fn container(&self) -> Result<Option<Keys>, LlmError> {
        let Some(url) = container::url() else {
            return Ok(None);
        };
        let label = self.caller.label;
        keys_cache()
            .get(&format!("container\n{url}"), || {
                container::fetch(self.http, &url, label)
            })
            .await
            .map(Some)
            .map_err(|e| e.with_provider(self.caller.provider))
    }

    /// boto3's default chain: the `AWS_*` keys; `AWS_PROFILE`'s (else the default) profile if
    /// it assumes a role; the environment's web identity; the profile's static keys; the
    /// container's credentials.
    async fn ambient(&self) -> Result<Option<Keys>, LlmError> {
        if let Some(k) = keys_from_env() {
            return Ok(Some(k));
        }
        let named = env("AWS_PROFILE");
        let name = named.as_deref().unwrap_or("default");
        let plan = match self.profiles().await.plan(name) {
            Ok(plan) => plan,
            Err(why) => return Err(auth_error(self.caller, why)),
        };
        if plan.is_none() && named.is_some() {
            return Err(auth_error(
                self.caller,
                format!("The config profile ({name}) could not be found"),
            ));
        }
        let assumes = |p: &Plan| !p.hops.is_empty() || matches!(p.base, Base::WebIdentity { .. });
        let (role_plan, static_plan) = match plan {
            Some(p) if assumes(&p) => (Some(p), None),
            other => (None, other),
        };
        if let Some(p) = role_plan {
            return self.run(p).await.map(Some);
        }
        if let (Some(role), Some(file)) = (env("AWS_ROLE_ARN"), env("AWS_WEB_IDENTITY_TOKEN_FILE"))
        {
            let token = web_identity::read_token_file(&file, self.caller.label)
                .await
                .map_err(|e| e.with_provider(self.caller.provider))?;
            let session = env("AWS_ROLE_SESSION_NAME");
            return self
                .web_identity(&role, session.as_deref(), &token, None)
                .await
                .map(Some);
        }
        if let Some(p) = static_plan {
            return self.run(p).await.map(Some);
        }
        self.container().await
    }
}

#[cfg(test)]
mod tests;
