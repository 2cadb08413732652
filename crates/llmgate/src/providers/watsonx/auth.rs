//! watsonx.ai authentication as LiteLLM does it: a ready token (`token` / `WATSONX_TOKEN`), an
//! on-prem Zen API key (`zen_api_key` / `WATSONX_ZENAPIKEY`, sent as `ZenApiKey`), or an IBM
//! Cloud API key exchanged at IAM (`WATSONX_IAM_URL`, else `iam.cloud.ibm.com`) for a bearer
//! token, cached per key until shortly before it expires.

use std::sync::OnceLock;
use std::time::Duration;

use serde_json::Value;

use crate::providers::aws::{env, param};
use crate::providers::token_cache::{Fetched, TokenCache};
use crate::{CallOptions, ErrorKind, LlmError};

const DEFAULT_IAM_URL: &str = "https://iam.cloud.ibm.com/identity/token";
const GRANT_TYPE: &str = "urn:ibm:params:oauth:grant-type:apikey";

fn auth_error(provider: &str, msg: impl Into<String>) -> LlmError {
    LlmError::new(ErrorKind::Authentication, msg).with_provider(provider)
}

/// The IAM token endpoint: `WATSONX_IAM_URL`, else IBM Cloud's.
pub fn iam_url() -> String {
    env("WATSONX_IAM_URL").unwrap_or_else(|| DEFAULT_IAM_URL.to_string())
}

/// How a call authenticates, before any exchange.
#[derive(Debug, PartialEq, Eq)]
pub enum Credential {
    /// The deployment's `extra_headers` already carry `Authorization`.
    Given,
    /// A ready `Authorization` value.
    Header(String),
    /// An API key to exchange at IAM.
    ApiKey(String),
}

/// A field of the `watsonx_credentials` (or `wx_credentials`) object: the first of `keys`
/// that is a non-empty string. LiteLLM lets the object's `url`, `apikey`/`api_key` and
/// `token`/`watsonx_token` win over the separate params.
pub fn from_credentials(opts: &CallOptions, keys: &[&str]) -> Option<String> {
    let obj = ["watsonx_credentials", "wx_credentials"]
        .iter()
        .find_map(|k| opts.extra.get(*k)?.as_object())?;
    keys.iter()
        .find_map(|k| obj.get(*k)?.as_str().filter(|s| !s.is_empty()))
        .map(str::to_string)
}

/// LiteLLM's order: token, Zen API key, then an API key (`api_key`, `apikey`,
/// `WATSONX_APIKEY`, `WATSONX_API_KEY`, `WX_API_KEY`).
pub fn credential(opts: &CallOptions, provider: &str) -> Result<Credential, LlmError> {
    if opts
        .extra_headers
        .iter()
        .any(|(k, _)| k.eq_ignore_ascii_case("authorization"))
    {
        return Ok(Credential::Given);
    }
    if let Some(t) = from_credentials(opts, &["token", "watsonx_token"])
        .or_else(|| param(opts, "token"))
        .or_else(|| param(opts, "watsonx_token"))
        .or_else(|| env("WATSONX_TOKEN"))
    {
        return Ok(Credential::Header(format!("Bearer {t}")));
    }
    if let Some(z) = param(opts, "zen_api_key").or_else(|| env("WATSONX_ZENAPIKEY")) {
        return Ok(Credential::Header(format!("ZenApiKey {z}")));
    }
    from_credentials(opts, &["apikey", "api_key"])
        .or_else(|| opts.api_key.clone().filter(|k| !k.is_empty()))
        .or_else(|| param(opts, "apikey"))
        .or_else(|| env("WATSONX_APIKEY"))
        .or_else(|| env("WATSONX_API_KEY"))
        .or_else(|| env("WX_API_KEY"))
        .map(Credential::ApiKey)
        .ok_or_else(|| {
            auth_error(
                provider,
                "Error: Watsonx API key not set. Set WATSONX_API_KEY in environment variables or pass in as parameter - 'api_key='.",
            )
        })
}

fn cache() -> &'static TokenCache {
    static C: OnceLock<TokenCache> = OnceLock::new();
    C.get_or_init(TokenCache::default)
}

/// A bearer token for `api_key`, cached per IAM URL and key ([`TokenCache`]: one exchange at a
/// time, refreshed shortly before it expires).
pub async fn iam_token(
    http: &reqwest::Client,
    api_key: &str,
    provider: &str,
) -> Result<String, LlmError> {
    let url = iam_url();
    let key = format!("{url} {api_key}");
    cache()
        .get(&key, || exchange(http, &url, api_key, provider))
        .await
}

async fn exchange(
    http: &reqwest::Client,
    url: &str,
    api_key: &str,
    provider: &str,
) -> Result<Fetched, LlmError> {
    let secret = [api_key.to_string()];
    let res = http
        .post(url)
        .header("accept", "application/json")
        .form(&[("grant_type", GRANT_TYPE), ("apikey", api_key)])
        .send()
        .await
        .map_err(|e| LlmError::from_transport(&e, provider).redact(&secret))?;
    let status = res.status().as_u16();
    let body: Value = res.json().await.unwrap_or(Value::Null);
    let token = body["access_token"]
        .as_str()
        .filter(|t| status == 200 && !t.is_empty())
        .ok_or_else(|| {
            let why = body["errorMessage"]
                .as_str()
                .or(body["error_description"].as_str())
                .unwrap_or("");
            auth_error(
                provider,
                format!("WatsonxException - IAM token exchange failed ({status}): {why}"),
            )
            .redact(&secret)
        })?
        .to_string();
    Ok(Fetched {
        token,
        expires_in: Duration::from_secs(body["expires_in"].as_u64().unwrap_or(3600)),
    })
}

/// The `Authorization` value for a call (None: the deployment's headers carry it).
pub async fn authorization(
    http: &reqwest::Client,
    opts: &CallOptions,
    provider: &str,
) -> Result<Option<String>, LlmError> {
    Ok(match credential(opts, provider)? {
        Credential::Given => None,
        Credential::Header(h) => Some(h),
        Credential::ApiKey(k) => Some(format!("Bearer {}", iam_token(http, &k, provider).await?)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(api_key: Option<&str>, extra: serde_json::Value) -> CallOptions {
        CallOptions {
            api_key: api_key.map(str::to_string),
            extra: serde_json::from_value(extra).unwrap(),
            ..Default::default()
        }
    }

    #[test]
    fn credentials_in_litellm_order() {
        let o = opts(Some("k"), serde_json::json!({"token": "t"}));
        assert_eq!(
            credential(&o, "watsonx").unwrap(),
            Credential::Header("Bearer t".into())
        );
        let o = opts(Some("k"), serde_json::json!({"zen_api_key": "z"}));
        assert_eq!(
            credential(&o, "watsonx").unwrap(),
            Credential::Header("ZenApiKey z".into())
        );
        let o = opts(Some("k"), serde_json::json!({}));
        assert_eq!(
            credential(&o, "watsonx").unwrap(),
            Credential::ApiKey("k".into())
        );
        let o = opts(
            Some("k"),
            serde_json::json!({"watsonx_credentials": {"apikey": "from-object", "url": "https://x"}}),
        );
        assert_eq!(
            credential(&o, "watsonx").unwrap(),
            Credential::ApiKey("from-object".into())
        );
        let o = opts(
            None,
            serde_json::json!({"wx_credentials": {"watsonx_token": "wt"}}),
        );
        assert_eq!(
            credential(&o, "watsonx").unwrap(),
            Credential::Header("Bearer wt".into())
        );
        let e = credential(&opts(None, serde_json::json!({})), "watsonx").unwrap_err();
        assert_eq!(e.status, 401);
    }

    /// A loopback IAM endpoint: counts exchanges, answers `expires_in`.
    async fn iam(expires_in: u64) -> (String, std::sync::Arc<std::sync::atomic::AtomicUsize>) {
        use std::sync::atomic::{AtomicUsize, Ordering};
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let hits = std::sync::Arc::new(AtomicUsize::new(0));
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/identity/token", l.local_addr().unwrap());
        let h = hits.clone();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let n = h.fetch_add(1, Ordering::SeqCst);
                // Reads the head, then the body its content-length announces.
                let mut req = Vec::new();
                let mut buf = [0u8; 1024];
                loop {
                    let got = s.read(&mut buf).await.unwrap_or(0);
                    req.extend_from_slice(&buf[..got]);
                    let text = String::from_utf8_lossy(&req).to_lowercase();
                    let done = text.find("\r\n\r\n").is_some_and(|end| {
                        let len = text
                            .split("content-length:")
                            .nth(1)
                            .and_then(|r| r.split("\r\n").next())
                            .and_then(|n| n.trim().parse::<usize>().ok())
                            .unwrap_or(0);
                        req.len() >= end + 4 + len
                    });
                    if got == 0 || done {
                        break;
                    }
                }
                let req = String::from_utf8_lossy(&req).to_string();
                let (status, body) = if req.contains("apikey=good")
                    && req.contains("grant_type=urn%3Aibm%3Aparams%3Aoauth%3Agrant-type%3Aapikey")
                {
                    (
                        "200 OK",
                        format!(
                            r#"{{"access_token":"tok-{n}","expires_in":{expires_in},"token_type":"Bearer"}}"#
                        ),
                    )
                } else {
                    (
                        "400 Bad Request",
                        r#"{"errorCode":"BXNIM0415E","errorMessage":"Provided API key could not be found."}"#.to_string(),
                    )
                };
                let resp = format!(
                    "HTTP/1.1 {status}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                    body.len()
                );
                let _ = s.write_all(resp.as_bytes()).await;
            }
        });
        (url, hits)
    }

    #[tokio::test]
    async fn tokens_are_exchanged_once_and_refreshed_near_expiry() {
        use std::sync::atomic::Ordering;
        let http = reqwest::Client::new();
        // Tests run one per process (nextest), so the environment is this test's own.
        let (url, hits) = iam(3600).await;
        std::env::set_var("WATSONX_IAM_URL", &url);
        let a = iam_token(&http, "good", "watsonx").await.unwrap();
        let b = iam_token(&http, "good", "watsonx").await.unwrap();
        assert_eq!((a.as_str(), b.as_str()), ("tok-0", "tok-0"));
        assert_eq!(hits.load(Ordering::SeqCst), 1);

        // A token that is already due is exchanged again on every call.
        let (url, hits) = iam(0).await;
        std::env::set_var("WATSONX_IAM_URL", &url);
        iam_token(&http, "good", "watsonx").await.unwrap();
        iam_token(&http, "good", "watsonx").await.unwrap();
        assert_eq!(hits.load(Ordering::SeqCst), 2);

        let e = iam_token(&http, "bad-key", "watsonx").await.unwrap_err();
        assert_eq!((e.kind, e.status), (ErrorKind::Authentication, 401));
        assert!(e.message.contains("could not be found"), "{}", e.message);
        std::env::remove_var("WATSONX_IAM_URL");
    }
}
