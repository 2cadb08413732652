//! An S3-compatible object store at `/s3` (path style: `PUT /s3/{bucket}/{key}`): every PUT's
//! SigV4 signature is recomputed from the test secret (`bedrock::verify`, service `s3`, the
//! path signed as sent) and its `x-amz-content-sha256` checked against the body, as S3 does
//! (403 `SignatureDoesNotMatch` / 400 `XAmzContentSHA256Mismatch` otherwise). `GET` reads an
//! object back (unsigned: a public-read bucket's anonymous GET), `HEAD` its size, `DELETE`
//! removes it (each recorded in `/_mock/requests`, a signed one checked); `GET /_mock/s3` lists
//! what was stored, with each PUT's headers. The batch-inference mock (`bedrock_batch.rs`)
//! reads its input and writes its output here.

use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use ring::digest;
use serde_json::{json, Value};

use crate::Shared;

#[derive(Default)]
pub(crate) struct Bucket {
    objects: Mutex<Vec<Stored>>,
}

struct Stored {
    bucket: String,
    key: String,
    headers: Vec<(String, String)>,
    body: Bytes,
}

fn s3_error(status: StatusCode, code: &str, message: &str) -> Response {
    let xml = format!(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<Error><Code>{code}</Code><Message>{message}</Message></Error>"
    );
    (status, [("content-type", "application/xml")], xml).into_response()
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

impl Bucket {
    /// The object's bytes.
    pub(crate) fn object(&self, bucket: &str, key: &str) -> Option<Bytes> {
        let objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        objects
            .iter()
            .find(|o| o.bucket == bucket && o.key == key)
            .map(|o| o.body.clone())
    }

    /// Stores (or replaces) an object.
    pub(crate) fn store(&self, bucket: &str, key: &str, body: Vec<u8>) {
        let mut objects = self.objects.lock().unwrap_or_else(|e| e.into_inner());
        objects.retain(|o| !(o.bucket == bucket && o.key == key));
        objects.push(Stored {
            bucket: bucket.to_string(),
            key: key.to_string(),
            headers: Vec::new(),
            body: body.into(),
        });
    }
}

/// Why S3 refuses a request: status, error code, message.
type Refusal = (StatusCode, &'static str, String);

/// The content hash and signature checks every S3 request passes: the body's hash.
fn checked(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    h: &HeaderMap,
    body: &[u8],
) -> Result<String, Refusal> {
    let sha = hex(digest::digest(&digest::SHA256, body).as_ref());
    match h.get("x-amz-content-sha256").and_then(|v| v.to_str().ok()) {
        Some(v) if v == sha => {}
        Some(_) => {
            return Err((
                StatusCode::BAD_REQUEST,
                "XAmzContentSHA256Mismatch",
                "The provided 'x-amz-content-sha256' header does not match what was computed."
                    .into(),
            ))
        }
        None => {
            return Err((
                StatusCode::BAD_REQUEST,
                "InvalidRequest",
                "Missing required header for this request: x-amz-content-sha256".into(),
            ))
        }
    }
    if let Err((_, _, message)) = crate::bedrock::verify(shared, method, uri, h, body, "s3") {
        return Err((StatusCode::FORBIDDEN, "SignatureDoesNotMatch", message));
    }
    Ok(sha)
}

pub async fn put(
    State(shared): State<Arc<Shared>>,
    Path((bucket, key)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    h: HeaderMap,
    body: Bytes,
) -> Response {
    let sha = match checked(&shared, &method, &uri, &h, &body) {
        Ok(sha) => sha,
        Err((status, code, message)) => return s3_error(status, code, &message),
    };
    let headers = h
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_str().unwrap_or_default().to_string()))
        .collect();
    let mut objects = shared.s3.objects.lock().unwrap_or_else(|e| e.into_inner());
    objects.retain(|o| !(o.bucket == bucket && o.key == key));
    objects.push(Stored {
        bucket,
        key,
        headers,
        body,
    });
    let etag = format!("\"{}\"", &sha[..32]);
    (StatusCode::OK, [("etag", etag)]).into_response()
}

/// `GET` (the bytes), `HEAD` (the size) and `DELETE` of an object.
pub async fn get(
    State(shared): State<Arc<Shared>>,
    Path((bucket, key)): Path<(String, String)>,
    method: Method,
    uri: Uri,
    h: HeaderMap,
) -> Response {
    shared.record(|| crate::openai::recorded(&method, &uri, &h, Value::Null));
    // An unsigned read is a public-read bucket's anonymous GET; a signed request is checked.
    let anonymous = method == Method::GET && !h.contains_key("authorization");
    if !anonymous {
        if let Err((status, code, message)) = checked(&shared, &method, &uri, &h, b"") {
            return s3_error(status, code, &message);
        }
    }
    let mut objects = shared.s3.objects.lock().unwrap_or_else(|e| e.into_inner());
    let found = objects
        .iter()
        .position(|o| o.bucket == bucket && o.key == key);
    match (found, method.as_str()) {
        (Some(i), "DELETE") => {
            objects.remove(i);
            StatusCode::NO_CONTENT.into_response()
        }
        // Deleting what is not there succeeds, as S3 answers.
        (None, "DELETE") => StatusCode::NO_CONTENT.into_response(),
        (Some(i), "HEAD") => (
            StatusCode::OK,
            [("content-length", objects[i].body.len().to_string())],
        )
            .into_response(),
        (Some(i), _) => (StatusCode::OK, objects[i].body.clone()).into_response(),
        (None, _) => s3_error(
            StatusCode::NOT_FOUND,
            "NoSuchKey",
            "The specified key does not exist.",
        ),
    }
}

pub async fn list(State(shared): State<Arc<Shared>>) -> axum::Json<Value> {
    let objects = shared.s3.objects.lock().unwrap_or_else(|e| e.into_inner());
    let out: Vec<Value> = objects
        .iter()
        .map(|o| {
            json!({
                "bucket": o.bucket,
                "key": o.key,
                "headers": o
                    .headers
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect::<serde_json::Map<_, _>>(),
                "body": serde_json::from_slice::<Value>(&o.body).unwrap_or(Value::Null),
                "text": String::from_utf8_lossy(&o.body),
            })
        })
        .collect();
    axum::Json(Value::Array(out))
}
