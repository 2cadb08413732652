//! AWS STS over its Query API, as boto3 calls it for LiteLLM: `AssumeRole` (SigV4, service
//! `sts`) and `AssumeRoleWithWebIdentity` (unsigned), form-encoded POSTs to the endpoint's
//! root, XML answers. Only the credential elements (and an error's code and message) are read,
//! by a purpose-built scanner: STS's documents are flat and have no attributes we need.

use std::time::{Duration, SystemTime};

use aws_smithy_types::date_time::{DateTime, Format};

use super::{checked_region, env, sigv4_headers, Keys};
use crate::providers::token_cache::Fetched;
use crate::{ErrorKind, LlmError};

const VERSION: &str = "2011-06-15";
const FORM: &str = "application/x-www-form-urlencoded; charset=utf-8";
/// How long an STS call may take when the deployment sets no timeout.
const STS_TIMEOUT: Duration = Duration::from_secs(30);
/// What LiteLLM asks of `AssumeRoleWithWebIdentity`.
pub const WEB_IDENTITY_DURATION: u64 = 3600;

/// Who is calling STS, for errors and the web-identity session policy.
#[derive(Clone, Copy)]
pub struct Caller<'a> {
    /// The provider the error is reported for (`bedrock`, `sagemaker`).
    pub provider: &'a str,
    /// LiteLLM's prefix for its messages (`BedrockException`).
    pub label: &'a str,
    /// The session policy sent with `AssumeRoleWithWebIdentity`, if any.
    pub policy: Option<&'a str>,
    pub timeout: Option<Duration>,
}

/// Where STS calls go and the region they are signed for.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Endpoint {
    pub url: String,
    pub region: String,
}

impl Endpoint {
    /// LiteLLM's `_build_sts_client_kwargs`: the configured endpoint (`aws_sts_endpoint`, else
    /// boto3's `AWS_ENDPOINT_URL_STS`), else STS's regional endpoint (boto3's default) or the
    /// global one with `AWS_STS_REGIONAL_ENDPOINTS=legacy`. The signing region is the one in
    /// the endpoint's host, else `AWS_REGION`, `AWS_DEFAULT_REGION`, else the call's region.
    pub fn resolve(configured: Option<&str>, call_region: &str) -> Result<Endpoint, LlmError> {
        let configured = configured
            .map(str::to_string)
            .or_else(|| env("AWS_ENDPOINT_URL_STS"));
        let region = configured
            .as_deref()
            .and_then(region_in_host)
            .or_else(|| env("AWS_REGION"))
            .or_else(|| env("AWS_DEFAULT_REGION"))
            .unwrap_or_else(|| call_region.to_string());
        let region = checked_region(region)?;
        let url = match configured {
            Some(u) => u,
            None if env("AWS_STS_REGIONAL_ENDPOINTS").as_deref() == Some("legacy") => {
                "https://sts.amazonaws.com".to_string()
            }
            None => format!("https://sts.{region}.amazonaws.com"),
        };
        if !(url.starts_with("https://") || url.starts_with("http://")) {
            return Err(LlmError::bad_request(format!(
                "aws_sts_endpoint {url:?} is not an http(s) URL"
            )));
        }
        Ok(Endpoint { url, region })
    }
}

/// The region of `sts.{region}.amazonaws.com` (also `sts-fips.`, `.com.cn`, VPC endpoints).
fn region_in_host(url: &str) -> Option<String> {
    let host = reqwest::Url::parse(url).ok()?.host_str()?.to_string();
    let labels: Vec<&str> = host.split('.').collect();
    let at = labels
        .iter()
        .position(|l| *l == "sts" || *l == "sts-fips")?;
    let region = labels.get(at + 1)?;
    let rest = labels[at + 2..].join(".");
    let known = ["amazonaws.com", "amazonaws.com.cn", "vpce.amazonaws.com"];
    (known.contains(&rest.as_str()) && !region.is_empty()).then(|| region.to_string())
}

/// One STS role request.
pub struct RoleRequest<'a> {
    pub role_arn: &'a str,
    pub session_name: &'a str,
    pub external_id: Option<&'a str>,
}

/// `AssumeRole` signed with `base`: the role's temporary credentials and their lifetime.
pub async fn assume_role(
    http: &reqwest::Client,
    ep: &Endpoint,
    base: &Keys,
    req: &RoleRequest<'_>,
    caller: Caller<'_>,
) -> Result<Fetched<Keys>, LlmError> {
    let mut form = vec![
        ("Action", "AssumeRole"),
        ("Version", VERSION),
        ("RoleArn", req.role_arn),
        ("RoleSessionName", req.session_name),
    ];
    if let Some(id) = req.external_id {
        form.push(("ExternalId", id));
    }
    let body = encode_form(&form);
    let signed = [("content-type", FORM)];
    let auth = sigv4_headers(
        &ep.url,
        body.as_bytes(),
        &ep.region,
        "sts",
        base,
        &signed,
        SystemTime::now(),
    )
    .map_err(|e| e.with_provider(caller.provider))?;
    let mut rb = http.post(&ep.url).header("content-type", FORM);
    for (k, v) in auth {
        rb = rb.header(k, v);
    }
    let mut secrets = vec![base.secret.clone()];
    secrets.extend(base.token.clone());
    call(rb.body(body), "AssumeRole", caller, &secrets).await
}

/// `AssumeRoleWithWebIdentity` with an OIDC token (unsigned), for `DurationSeconds` 3600 and
/// the caller's session policy, as LiteLLM asks.
pub async fn assume_role_with_web_identity(
    http: &reqwest::Client,
    ep: &Endpoint,
    req: &RoleRequest<'_>,
    token: &str,
    caller: Caller<'_>,
) -> Result<Fetched<Keys>, LlmError> {
    let duration = WEB_IDENTITY_DURATION.to_string();
    let mut form = vec![
        ("Action", "AssumeRoleWithWebIdentity"),
        ("Version", VERSION),
        ("RoleArn", req.role_arn),
        ("RoleSessionName", req.session_name),
        ("WebIdentityToken", token),
        ("DurationSeconds", duration.as_str()),
    ];
    if let Some(p) = caller.policy {
        form.push(("Policy", p));
    }
    let rb = http
        .post(&ep.url)
        .header("content-type", FORM)
        .body(encode_form(&form));
    call(
        rb,
        "AssumeRoleWithWebIdentity",
        caller,
        &[token.to_string()],
    )
    .await
    .map_err(|e| {
        if !e
            .message
            .contains("An error occurred (InvalidIdentityToken)")
        {
            return e;
        }
        // LiteLLM names the audience it sent (public claims only) when STS refuses a token.
        let detail = audience(token)
            .map(|a| format!(" Token {a}"))
            .unwrap_or_default();
        let why = e
            .message
            .split_once(" - ")
            .map_or("", |(_, m)| m)
            .to_string();
        let mut e = e;
        e.message = format!(
            "{} - AWS STS rejected the web identity token: {why}.{detail}",
            caller.label
        );
        e
    })
}

async fn call(
    rb: reqwest::RequestBuilder,
    operation: &str,
    caller: Caller<'_>,
    secrets: &[String],
) -> Result<Fetched<Keys>, LlmError> {
    let res = rb
        .timeout(caller.timeout.unwrap_or(STS_TIMEOUT))
        .send()
        .await
        .map_err(|e| LlmError::from_transport(&e, caller.provider).redact(secrets))?;
    let status = res.status().as_u16();
    let text = res.text().await.unwrap_or_default();
    if status == 200 {
        if let Some(f) = parse_credentials(&text, crate::now_secs()) {
            return Ok(f);
        }
    }
    let code = element(&text, "Code").unwrap_or_else(|| format!("HTTP {status}"));
    let message = element(&text, "Message").unwrap_or_default();
    // boto3's ClientError text, which LiteLLM relays.
    let msg = format!(
        "{} - An error occurred ({code}) when calling the {operation} operation: {message}",
        caller.label
    );
    let kind = match (status, code.as_str()) {
        (_, "Throttling") => ErrorKind::RateLimit,
        (500.., _) => ErrorKind::ServiceUnavailable,
        // A refused role, token, signature or key: the deployment's credentials are wrong.
        _ => ErrorKind::Authentication,
    };
    Err(LlmError::new(kind, msg)
        .with_provider(caller.provider)
        .redact(secrets))
}

/// The `aud`/`iss` claims of a JWT (never its signature), as LiteLLM quotes them.
fn audience(token: &str) -> Option<String> {
    use base64::Engine;
    let parts: Vec<&str> = token.split('.').collect();
    if parts.len() != 3 {
        return None;
    }
    let raw = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1].trim_end_matches('='))
        .ok()?;
    let claims: serde_json::Value = serde_json::from_slice(&raw).ok()?;
    let py = |v: &serde_json::Value| match v {
        serde_json::Value::String(s) => format!("'{s}'"),
        serde_json::Value::Array(a) => format!(
            "[{}]",
            a.iter()
                .map(|x| format!("'{}'", x.as_str().unwrap_or_default()))
                .collect::<Vec<_>>()
                .join(", ")
        ),
        _ => "None".to_string(),
    };
    let (aud, iss) = (&claims["aud"], &claims["iss"]);
    if aud.is_null() && iss.is_null() {
        return None;
    }
    Some(format!("aud={}, iss={}", py(aud), py(iss)))
}

/// `<Credentials>` of an AssumeRole[WithWebIdentity] answer, with the time left until its
/// `Expiration` (from `now`, Unix seconds).
pub fn parse_credentials(xml: &str, now: u64) -> Option<Fetched<Keys>> {
    let creds = element(xml, "Credentials")?;
    let keys = Keys {
        key_id: element(&creds, "AccessKeyId")?,
        secret: element(&creds, "SecretAccessKey")?,
        token: element(&creds, "SessionToken"),
    };
    let expires = DateTime::from_str(&element(&creds, "Expiration")?, Format::DateTime).ok()?;
    let left = u64::try_from(expires.secs())
        .unwrap_or(0)
        .saturating_sub(now);
    Some(Fetched {
        token: keys,
        expires_in: Duration::from_secs(left),
    })
}

/// The text inside the first `<name>…</name>` (entities decoded).
pub fn element(xml: &str, name: &str) -> Option<String> {
    let open = format!("<{name}>");
    let close = format!("</{name}>");
    let start = xml.find(&open)? + open.len();
    let end = start + xml[start..].find(&close)?;
    Some(unescape(xml[start..end].trim()))
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// `application/x-www-form-urlencoded`, every byte outside RFC 3986's unreserved set
/// percent-encoded (as botocore's query serializer does).
pub fn encode_form(pairs: &[(&str, &str)]) -> String {
    let enc = |s: &str| crate::providers::http::percent_encode(s, b"");
    pairs
        .iter()
        .map(|(k, v)| format!("{}={}", enc(k), enc(v)))
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    const ANSWER: &str = r#"<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <AssumeRoleResult>
    <SourceIdentity>Alice</SourceIdentity>
    <AssumedRoleUser>
      <Arn>arn:aws:sts::123456789012:assumed-role/demo/TestAR</Arn>
      <AssumedRoleId>ARO123EXAMPLE123:TestAR</AssumedRoleId>
    </AssumedRoleUser>
    <Credentials>
      <AccessKeyId>ASIAIOSFODNN7EXAMPLE</AccessKeyId>
      <SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>
      <SessionToken>
       AQoDYXdzEPT//////////wEXAMPLEtc764&amp;bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW
      </SessionToken>
      <Expiration>2019-11-09T13:34:41Z</Expiration>
    </Credentials>
    <PackedPolicySize>6</PackedPolicySize>
  </AssumeRoleResult>
  <ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata>
</AssumeRoleResponse>"#;

    #[test]
    fn credentials_are_read_from_sts_xml() {
        // 2019-11-09T13:34:41Z is 1573306481.
        let f = parse_credentials(ANSWER, 1_573_306_481 - 900).unwrap();
        assert_eq!(f.token.key_id, "ASIAIOSFODNN7EXAMPLE");
        assert_eq!(f.token.secret, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
        assert_eq!(
            f.token.token.as_deref(),
            Some("AQoDYXdzEPT//////////wEXAMPLEtc764&bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQW")
        );
        assert_eq!(f.expires_in, Duration::from_secs(900));
        // Fractional seconds, and an expiry already past.
        let late = ANSWER.replace("13:34:41Z", "13:34:41.000Z");
        assert_eq!(
            parse_credentials(&late, 1_573_306_500).unwrap().expires_in,
            Duration::ZERO
        );
        assert!(parse_credentials("<ErrorResponse/>", 0).is_none());
        let no_secret = ANSWER.replace("SecretAccessKey>", "Other>");
        assert!(parse_credentials(&no_secret, 0).is_none());
    }

    #[test]
    fn errors_are_read_from_sts_xml() {
        let xml = r#"<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <Error><Type>Sender</Type><Code>AccessDenied</Code>
    <Message>User: arn:aws:iam::123456789012:user/x is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::123456789012:role/r &amp; more</Message>
  </Error><RequestId>1</RequestId></ErrorResponse>"#;
        assert_eq!(element(xml, "Code").as_deref(), Some("AccessDenied"));
        assert!(element(xml, "Message").unwrap().ends_with("role/r & more"));
    }

    #[test]
    fn forms_are_encoded_as_botocore_does() {
        assert_eq!(
            encode_form(&[
                ("RoleArn", "arn:aws:iam::1:role/a b"),
                ("Policy", "{\"x\":1}")
            ]),
            "RoleArn=arn%3Aaws%3Aiam%3A%3A1%3Arole%2Fa%20b&Policy=%7B%22x%22%3A1%7D"
        );
    }

    #[test]
    fn endpoints_and_signing_regions_follow_litellm() {
        if ["AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_STS"]
            .iter()
            .any(|v| std::env::var_os(v).is_some())
        {
            return;
        }
        let ep = Endpoint::resolve(None, "eu-west-1").unwrap();
        assert_eq!(ep.url, "https://sts.eu-west-1.amazonaws.com");
        assert_eq!(ep.region, "eu-west-1");
        let ep = Endpoint::resolve(Some("https://sts.ap-south-1.amazonaws.com"), "us-east-1");
        assert_eq!(ep.unwrap().region, "ap-south-1");
        let vpce = "https://vpce-1a2b.sts.eu-central-1.vpce.amazonaws.com";
        assert_eq!(
            Endpoint::resolve(Some(vpce), "us-east-1").unwrap().region,
            "eu-central-1"
        );
        let ep = Endpoint::resolve(Some("http://127.0.0.1:9"), "us-east-2").unwrap();
        assert_eq!(
            (ep.url.as_str(), ep.region.as_str()),
            ("http://127.0.0.1:9", "us-east-2")
        );
        assert!(Endpoint::resolve(Some("file:///etc/passwd"), "us-east-1").is_err());
        assert!(Endpoint::resolve(None, "x.evil/").is_err());
    }

    #[test]
    fn web_identity_audience_is_quoted_without_the_signature() {
        use base64::Engine;
        let claims = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(r#"{"aud":"sts.amazonaws.com","iss":"https://issuer.example"}"#);
        let jwt = format!("eyJhbGciOiJSUzI1NiJ9.{claims}.c2lnbmF0dXJl");
        assert_eq!(
            audience(&jwt).as_deref(),
            Some("aud='sts.amazonaws.com', iss='https://issuer.example'")
        );
        assert_eq!(audience("not-a-jwt"), None);
    }
}
