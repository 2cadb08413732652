//! AWS STS's Query API at `POST /`: `AssumeRole` (SigV4 for service `sts`, checked by the
//! Bedrock verifier against the test secret or an issued temporary key) and
//! `AssumeRoleWithWebIdentity` (unsigned, [`WEB_IDENTITY_TOKEN`] only). Role ARNs are checked
//! as STS does; roles named `denied*` are refused, roles whose name contains `external` need
//! [`EXTERNAL_ID`]. `DurationSeconds` (900–43200) is honoured; a role named `ttl-<s>-…` gets
//! `<s>`-second credentials, so a test sees them expire. Answers are STS's XML with fresh
//! temporary keys, which the Bedrock and SageMaker mocks then accept (with their
//! `x-amz-security-token`) until they expire. `GET /_mock/sts` lists the calls;
//! `GET /_mock/container-credentials` is an ECS-style container endpoint
//! (`Authorization: `[`CONTAINER_TOKEN`]).

use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use aws_smithy_types::date_time::{DateTime, Format};
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::bedrock::{verify, Denied};
use crate::openai::recorded;
use crate::Shared;

/// The OIDC token the mock's identity provider issued (a JWT with `aud`/`iss` claims).
pub const WEB_IDENTITY_TOKEN: &str = "eyJhbGciOiJSUzI1NiIsInR5cCI6IkpXVCJ9.eyJhdWQiOiJzdHMuYW1hem9uYXdzLmNvbSIsImlzcyI6Imh0dHBzOi8vb2lkYy5sbG1nYXRlLW1vY2suZXhhbXBsZSIsInN1YiI6InN5c3RlbTpzZXJ2aWNlYWNjb3VudDpsbG1nYXRlOmUyZSJ9.bGxtZ2F0ZS1tb2NrLXNpZ25hdHVyZQ";
/// The external id roles whose name contains `external` require.
pub const EXTERNAL_ID: &str = "llmgate-mock-external-id";
/// The `Authorization` the container credentials endpoint requires.
pub const CONTAINER_TOKEN: &str = "llmgate-mock-container-token";
const ACCOUNT: &str = "123456789012";
const XMLNS: &str = "https://sts.amazonaws.com/doc/2011-06-15/";

struct Temp {
    secret: String,
    token: String,
    expires: Instant,
}

/// Temporary credentials the mock issued, and the STS calls it answered.
#[derive(Default)]
pub(crate) struct Issued {
    creds: Mutex<HashMap<String, Temp>>,
    calls: Mutex<Vec<Value>>,
    n: AtomicUsize,
}

impl Issued {
    fn issue(&self, life: Duration) -> (String, String, String, u64) {
        let n = self.n.fetch_add(1, Ordering::SeqCst);
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let salt = ring::digest::digest(
            &ring::digest::SHA256,
            format!("{n}-{}", now.as_nanos()).as_bytes(),
        );
        let hex: String = salt.as_ref().iter().map(|b| format!("{b:02x}")).collect();
        let key_id = format!("ASIAMOCK{n:012}");
        let secret = format!("temp-secret/{}", &hex[..32]);
        let token = format!("FwoGZXIvYXdzE{}", &hex[32..]);
        self.creds.lock().unwrap_or_else(|e| e.into_inner()).insert(
            key_id.clone(),
            Temp {
                secret: secret.clone(),
                token: token.clone(),
                expires: Instant::now() + life,
            },
        );
        (key_id, secret, token, now.as_secs() + life.as_secs())
    }

    pub(crate) fn calls(&self) -> Vec<Value> {
        self.calls.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    fn record(&self, call: Value) {
        self.calls
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(call);
    }

    /// The secret `key_id` signs with: an issued temporary key's (its session token
    /// required, and not yet expired), else the test secret.
    pub(crate) fn secret(&self, key_id: &str, token: Option<&str>) -> Result<String, Denied> {
        if !key_id.starts_with("ASIA") {
            return Ok(crate::bedrock::AWS_SECRET_ACCESS_KEY.to_string());
        }
        let creds = self.creds.lock().unwrap_or_else(|e| e.into_inner());
        let invalid = (
            403,
            "UnrecognizedClientException",
            "The security token included in the request is invalid.".to_string(),
        );
        let t = creds.get(key_id).ok_or_else(|| invalid.clone())?;
        if token != Some(t.token.as_str()) {
            return Err(invalid);
        }
        if Instant::now() >= t.expires {
            return Err((
                403,
                "ExpiredTokenException",
                "The security token included in the request is expired".to_string(),
            ));
        }
        Ok(t.secret.clone())
    }
}

fn decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'+' => out.push(b' '),
            b'%' if i + 2 < b.len() => {
                let hex = std::str::from_utf8(&b[i + 1..i + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(v) => {
                        out.push(v);
                        i += 2;
                    }
                    Err(_) => out.push(b'%'),
                }
            }
            c => out.push(c),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn form(body: &[u8]) -> HashMap<String, String> {
    String::from_utf8_lossy(body)
        .split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn xml(status: u16, body: String) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        [("content-type", "text/xml")],
        body,
    )
        .into_response()
}

/// STS's error document.
fn sts_error(status: u16, code: &str, message: &str) -> Response {
    xml(
        status,
        format!(
            "<ErrorResponse xmlns=\"{XMLNS}\">\n  <Error>\n    <Type>Sender</Type>\n    <Code>{code}</Code>\n    <Message>{}</Message>\n  </Error>\n  <RequestId>mock-request</RequestId>\n</ErrorResponse>\n",
            escape(message)
        ),
    )
}

/// The signature verifier's refusals under STS's own error codes.
fn denied((status, kind, message): Denied) -> Response {
    let code = match kind {
        "InvalidSignatureException" => "SignatureDoesNotMatch",
        "MissingAuthenticationTokenException" => "MissingAuthenticationToken",
        "IncompleteSignatureException" => "IncompleteSignature",
        "UnrecognizedClientException" => "InvalidClientTokenId",
        "ExpiredTokenException" => "ExpiredToken",
        other => other,
    };
    sts_error(status, code, &message)
}

fn validation(what: &str, value: &str) -> Response {
    sts_error(
        400,
        "ValidationError",
        &format!(
            "1 validation error detected: Value '{value}' at '{what}' failed to satisfy constraint"
        ),
    )
}

/// The role's name, if `arn` is a role ARN (`arn:aws:iam::<12 digits>:role/[path/]name`).
fn role_name(arn: &str) -> Option<&str> {
    let rest = arn
        .strip_prefix("arn:aws:iam::")
        .or_else(|| arn.strip_prefix("arn:aws-cn:iam::"))
        .or_else(|| arn.strip_prefix("arn:aws-us-gov:iam::"))?;
    let (account, resource) = rest.split_once(':')?;
    if account.len() != 12 || !account.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let name = resource.strip_prefix("role/")?.rsplit('/').next()?;
    (!name.is_empty()).then_some(name)
}

fn valid_session(s: &str) -> bool {
    (2..=64).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"_+=,.@-".contains(&b))
}

/// `POST /`: STS's Query API.
pub async fn sts(
    State(shared): State<Arc<Shared>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    bytes: Bytes,
) -> Response {
    let f = form(&bytes);
    let as_json: serde_json::Map<String, Value> = f
        .iter()
        .map(|(k, v)| (k.clone(), Value::String(v.clone())))
        .collect();
    shared.record(|| recorded(&m, &u, &h, Value::Object(as_json)));
    let get = |k: &str| f.get(k).map(String::as_str).filter(|v| !v.is_empty());
    let Some(action) = get("Action") else {
        return sts_error(400, "MissingAction", "Missing Action");
    };
    if get("Version") != Some("2011-06-15") {
        return sts_error(
            400,
            "InvalidAction",
            &format!(
                "Could not find operation {action} for version {}",
                get("Version").unwrap_or("NO_VERSION_SPECIFIED")
            ),
        );
    }
    let web = match action {
        "AssumeRole" => false,
        "AssumeRoleWithWebIdentity" => true,
        other => {
            return sts_error(
                400,
                "InvalidAction",
                &format!("Could not find operation {other} for version 2011-06-15"),
            )
        }
    };
    if !web {
        if let Err(d) = verify(&shared, &m, &u, &h, &bytes, "sts") {
            return denied(d);
        }
    }
    let role = get("RoleArn").unwrap_or("");
    let Some(name) = role_name(role) else {
        return validation("roleArn", role);
    };
    let session = get("RoleSessionName").unwrap_or("");
    if !valid_session(session) {
        return validation("roleSessionName", session);
    }
    let mut life = match get("DurationSeconds").map(str::parse::<u64>) {
        None => 3600,
        Some(Ok(d)) if (900..=43200).contains(&d) => d,
        Some(_) => return validation("durationSeconds", get("DurationSeconds").unwrap_or("")),
    };
    if let Some(ttl) = name
        .strip_prefix("ttl-")
        .and_then(|r| r.split('-').next())
        .and_then(|n| n.parse().ok())
    {
        life = ttl;
    }
    if web {
        let token = get("WebIdentityToken").unwrap_or("");
        if token.split('.').count() != 3 {
            return sts_error(400, "InvalidIdentityToken", "The ID Token provided is not a valid JWT. (You may see this error if you sent an Access Token)");
        }
        if token != WEB_IDENTITY_TOKEN {
            return sts_error(400, "InvalidIdentityToken", "Couldn't retrieve verification key from your identity provider,  please reference AssumeRoleWithWebIdentity documentation for requirements");
        }
        if let Some(p) = get("Policy") {
            if serde_json::from_str::<Value>(p).is_err() {
                return sts_error(
                    400,
                    "MalformedPolicyDocument",
                    "The policy is not in the valid JSON format.",
                );
            }
        }
    }
    if name.starts_with("denied")
        || (name.contains("external") && get("ExternalId") != Some(EXTERNAL_ID))
    {
        return sts_error(
            403,
            "AccessDenied",
            &format!("User: arn:aws:iam::{ACCOUNT}:user/llmgate-mock is not authorized to perform: sts:{action} on resource: {role}"),
        );
    }
    shared.sts.record(json!({
        "action": action, "role": role, "session": session,
        "external_id": get("ExternalId"), "policy": get("Policy"),
        "duration": get("DurationSeconds"),
    }));
    let (key_id, secret, token, expires) = shared.sts.issue(Duration::from_secs(life));
    let expiration = DateTime::from_secs(expires as i64)
        .fmt(Format::DateTime)
        .unwrap_or_default();
    let extra = if web {
        "<SubjectFromWebIdentityToken>system:serviceaccount:llmgate:e2e</SubjectFromWebIdentityToken>\n    <Audience>sts.amazonaws.com</Audience>\n    <Provider>oidc.llmgate-mock.example</Provider>\n    "
    } else {
        ""
    };
    xml(
        200,
        format!(
            "<{action}Response xmlns=\"{XMLNS}\">\n  <{action}Result>\n    {extra}<AssumedRoleUser>\n      <Arn>arn:aws:sts::{ACCOUNT}:assumed-role/{name}/{session}</Arn>\n      <AssumedRoleId>AROAMOCK:{session}</AssumedRoleId>\n    </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>{key_id}</AccessKeyId>\n      <SecretAccessKey>{secret}</SecretAccessKey>\n      <SessionToken>{token}</SessionToken>\n      <Expiration>{expiration}</Expiration>\n    </Credentials>\n    <PackedPolicySize>6</PackedPolicySize>\n  </{action}Result>\n  <ResponseMetadata>\n    <RequestId>mock-request</RequestId>\n  </ResponseMetadata>\n</{action}Response>\n"
        ),
    )
}

/// `GET /_mock/sts`: the STS calls answered, in order.
pub async fn calls(State(shared): State<Arc<Shared>>) -> axum::Json<Value> {
    axum::Json(Value::Array(shared.sts.calls()))
}

/// `GET /_mock/container-credentials`: an ECS task role's credentials, for
/// `Authorization: CONTAINER_TOKEN`.
pub async fn container(State(shared): State<Arc<Shared>>, h: HeaderMap) -> Response {
    if h.get("authorization").and_then(|v| v.to_str().ok()) != Some(CONTAINER_TOKEN) {
        return (
            StatusCode::UNAUTHORIZED,
            axum::Json(json!({"message": "Authorization token is not valid"})),
        )
            .into_response();
    }
    shared.sts.record(json!({"action": "ContainerCredentials"}));
    let (key_id, secret, token, expires) = shared.sts.issue(Duration::from_secs(3600));
    axum::Json(json!({
        "AccessKeyId": key_id, "SecretAccessKey": secret, "Token": token,
        "Expiration": DateTime::from_secs(expires as i64).fmt(Format::DateTime).unwrap_or_default(),
        "RoleArn": format!("arn:aws:iam::{ACCOUNT}:role/container"),
    }))
    .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_and_arns_are_read_as_sts_reads_them() {
        let f =
            form(b"Action=AssumeRole&RoleArn=arn%3Aaws%3Aiam%3A%3A123456789012%3Arole%2Fx&P=a+b%2");
        assert_eq!(f["RoleArn"], "arn:aws:iam::123456789012:role/x");
        assert_eq!(f["P"], "a b%2");
        assert_eq!(
            role_name("arn:aws:iam::123456789012:role/path/to/r"),
            Some("r")
        );
        assert_eq!(role_name("arn:aws:iam::12345:role/r"), None);
        assert_eq!(role_name("arn:aws:iam::123456789012:user/r"), None);
        assert!(valid_session("litellm-session-1"));
        assert!(!valid_session("a"));
        assert!(!valid_session("bad session"));
    }
}
