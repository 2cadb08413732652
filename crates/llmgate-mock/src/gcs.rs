//! Cloud Storage's JSON API, as Google documents it: a simple upload
//! (`POST /upload/storage/v1/b/{bucket}/o?uploadType=media&name=...`, the body the object),
//! object metadata (`GET /storage/v1/b/{bucket}/o/{object}`, the name URL-encoded),
//! its bytes (`?alt=media`) and `DELETE`, with the service account's access token. Objects
//! live in memory; Vertex's batch mock (`vertex_batch.rs`) reads and writes them too. An
//! object never uploaded answers metadata only (a content type from its name), for the
//! media tests' `gs://` lookups.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde_json::{json, Value};

use crate::google::{error, ACCESS_TOKEN};
use crate::openai::recorded;
use crate::Shared;

struct Object {
    meta: Value,
    bytes: Vec<u8>,
}

/// The objects, by (bucket, name).
#[derive(Default)]
pub(crate) struct Store {
    objects: Mutex<HashMap<(String, String), Object>>,
    generation: Mutex<u64>,
}

impl Store {
    /// Stores an object; its metadata as the API answers it.
    pub(crate) fn put(
        &self,
        bucket: &str,
        name: &str,
        content_type: &str,
        bytes: Vec<u8>,
    ) -> Value {
        let generation = {
            let mut g = self.generation.lock().unwrap_or_else(|e| e.into_inner());
            *g += 1;
            1_700_000_000_000_000 + *g
        };
        let now = crate::vertex_batch::rfc3339_now();
        let meta = json!({"kind": "storage#object", "id": format!("{bucket}/{name}/{generation}"),
            "selfLink": format!("https://www.googleapis.com/storage/v1/b/{bucket}/o/{name}"),
            "name": name, "bucket": bucket, "generation": generation.to_string(), "metageneration": "1",
            "contentType": content_type, "size": bytes.len().to_string(), "timeCreated": now, "updated": now,
            "storageClass": "STANDARD"});
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                (bucket.to_string(), name.to_string()),
                Object {
                    meta: meta.clone(),
                    bytes,
                },
            );
        meta
    }

    pub(crate) fn get(&self, bucket: &str, name: &str) -> Option<Vec<u8>> {
        self.objects
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(&(bucket.to_string(), name.to_string()))
            .map(|o| o.bytes.clone())
    }
}

fn authorized(h: &HeaderMap) -> bool {
    h.get("authorization").and_then(|v| v.to_str().ok()) == Some(&format!("Bearer {ACCESS_TOKEN}"))
}

/// `POST /upload/storage/v1/b/{bucket}/o?uploadType=media&name={name}`.
pub async fn upload(
    State(shared): State<Arc<Shared>>,
    Path(bucket): Path<String>,
    Query(q): Query<HashMap<String, String>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    b: Bytes,
) -> Response {
    let text = String::from_utf8_lossy(&b).into_owned();
    shared.record(|| recorded(&m, &u, &h, json!({"media": text})));
    if !authorized(&h) {
        return error(
            401,
            "Anonymous caller does not have storage.objects.create access.",
        );
    }
    if q.get("uploadType").map(String::as_str) != Some("media") {
        return error(
            400,
            "Invalid upload type: this mock takes uploadType=media.",
        );
    }
    let Some(name) = q.get("name").filter(|n| !n.is_empty()) else {
        return error(400, "Required parameter: name");
    };
    let ct = h
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("application/octet-stream");
    Json(shared.gcs.put(&bucket, name, ct, b.to_vec())).into_response()
}

/// `GET|DELETE /storage/v1/b/{bucket}/o/{object}` (`?alt=media`: the bytes).
pub async fn object(
    State(shared): State<Arc<Shared>>,
    Path((bucket, name)): Path<(String, String)>,
    Query(q): Query<HashMap<String, String>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
) -> Response {
    let key = (bucket.clone(), name.clone());
    let mut objects = shared.gcs.objects.lock().unwrap_or_else(|e| e.into_inner());
    let Some(obj) = objects.get(&key) else {
        if m == Method::GET && !q.contains_key("alt") {
            let content_type = if name.contains("report") {
                "application/pdf"
            } else {
                "image/png"
            };
            return Json(json!({"kind": "storage#object", "bucket": bucket, "name": name, "contentType": content_type})).into_response();
        }
        return error(404, &format!("No such object: {bucket}/{name}"));
    };
    shared.record(|| recorded(&m, &u, &h, Value::Null));
    if !authorized(&h) {
        return error(
            401,
            "Anonymous caller does not have storage.objects.get access.",
        );
    }
    if m == Method::DELETE {
        objects.remove(&key);
        return StatusCode::NO_CONTENT.into_response();
    }
    if q.get("alt").map(String::as_str) == Some("media") {
        let ct = obj.meta["contentType"]
            .as_str()
            .unwrap_or("application/octet-stream")
            .to_string();
        return ([("content-type", ct)], obj.bytes.clone()).into_response();
    }
    Json(obj.meta.clone()).into_response()
}
