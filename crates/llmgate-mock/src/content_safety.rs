//! Azure AI Content Safety: `POST /contentsafety/text:analyze` and
//! `POST /contentsafety/text:shieldPrompt`, each wanting `Ocp-Apim-Subscription-Key:
//! CONTENT_SAFETY_KEY` and an `api-version` query, the bodies as Azure documents them (text at
//! most 10 000 characters, known categories and output types; unknown fields refused).
//! Analysis: `violent` is Violence severity 4 (5 with eight levels), `hateful` Hate 2, every
//! other category 0; a prompt with "ignore previous instructions" is an attack.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::openai::recorded;
use crate::Shared;

pub const CONTENT_SAFETY_KEY: &str = "mock-content-safety-key";
const CATEGORIES: &[&str] = &["Hate", "SelfHarm", "Sexual", "Violence"];
const MAX_TEXT: usize = 10_000;

fn error(status: StatusCode, code: &str, message: &str) -> Response {
    (
        status,
        axum::Json(json!({"error": {"code": code, "message": message}})),
    )
        .into_response()
}

/// The checks both operations share; the body when they pass.
fn admit(
    shared: &Shared,
    (m, u, h): (&Method, &Uri, &HeaderMap),
    q: &HashMap<String, String>,
    bytes: &[u8],
    fields: &[&str],
) -> Result<serde_json::Map<String, Value>, Box<Response>> {
    let body: Option<Value> = serde_json::from_slice(bytes).ok();
    shared.record(|| recorded(m, u, h, body.clone().unwrap_or(Value::Null)));
    if h.get("ocp-apim-subscription-key")
        .and_then(|v| v.to_str().ok())
        != Some(CONTENT_SAFETY_KEY)
    {
        return Err(Box::new(error(
            StatusCode::UNAUTHORIZED,
            "401",
            "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource.",
        )));
    }
    if !q
        .get("api-version")
        .is_some_and(|v| v.len() == 10 && v.starts_with("20"))
    {
        return Err(Box::new(error(
            StatusCode::NOT_FOUND,
            "404",
            "Resource not found",
        )));
    }
    let invalid = |m: &str| error(StatusCode::BAD_REQUEST, "InvalidRequestBody", m);
    let Some(Value::Object(body)) = body else {
        return Err(Box::new(invalid("The request body is not valid JSON.")));
    };
    if let Some(k) = body.keys().find(|k| !fields.contains(&k.as_str())) {
        return Err(Box::new(invalid(&format!(
            "The field {k} is not a known field."
        ))));
    }
    Ok(body)
}

pub async fn analyze(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    bytes: Bytes,
) -> Response {
    let fields = [
        "text",
        "categories",
        "blocklistNames",
        "haltOnBlocklistHit",
        "outputType",
    ];
    let body = match admit(&shared, (&m, &u, &h), &q, &bytes, &fields) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let invalid = |m: &str| error(StatusCode::BAD_REQUEST, "InvalidRequestBody", m);
    let Some(text) = body
        .get("text")
        .and_then(Value::as_str)
        .filter(|t| !t.is_empty())
    else {
        return invalid("The text field is required.");
    };
    if text.chars().count() > MAX_TEXT {
        return invalid("The text is too long: at most 10000 characters are allowed.");
    }
    let categories: Vec<&str> = match body.get("categories") {
        None | Some(Value::Null) => CATEGORIES.to_vec(),
        Some(Value::Array(c)) => match c.iter().map(Value::as_str).collect::<Option<Vec<_>>>() {
            Some(c) if c.iter().all(|x| CATEGORIES.contains(x)) => c,
            _ => return invalid("categories must be Hate, SelfHarm, Sexual or Violence."),
        },
        Some(_) => return invalid("categories must be a list."),
    };
    let eight = match body.get("outputType").and_then(Value::as_str) {
        None | Some("FourSeverityLevels") => false,
        Some("EightSeverityLevels") => true,
        Some(_) => return invalid("outputType must be FourSeverityLevels or EightSeverityLevels."),
    };
    let lower = text.to_lowercase();
    let severity = |c: &str| match c {
        "Violence" if lower.contains("violent") => {
            if eight {
                5
            } else {
                4
            }
        }
        "Hate" if lower.contains("hateful") => 2,
        _ => 0,
    };
    let analysis: Vec<Value> = categories
        .iter()
        .map(|c| json!({"category": c, "severity": severity(c)}))
        .collect();
    axum::Json(json!({"blocklistsMatch": [], "categoriesAnalysis": analysis})).into_response()
}

pub async fn shield_prompt(
    State(shared): State<Arc<Shared>>,
    Query(q): Query<HashMap<String, String>>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    bytes: Bytes,
) -> Response {
    let body = match admit(
        &shared,
        (&m, &u, &h),
        &q,
        &bytes,
        &["userPrompt", "documents"],
    ) {
        Ok(b) => b,
        Err(r) => return *r,
    };
    let invalid = |m: &str| error(StatusCode::BAD_REQUEST, "InvalidRequestBody", m);
    let prompt = body
        .get("userPrompt")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let docs: Option<Vec<&str>> = match body.get("documents") {
        None | Some(Value::Null) => Some(Vec::new()),
        Some(Value::Array(d)) => d.iter().map(Value::as_str).collect(),
        Some(_) => None,
    };
    let Some(docs) = docs else {
        return invalid("documents must be a list of strings.");
    };
    if prompt.is_empty() && docs.is_empty() {
        return invalid("userPrompt or documents is required.");
    }
    if prompt.chars().count() > MAX_TEXT {
        return invalid("The userPrompt is too long: at most 10000 characters are allowed.");
    }
    let attack = |t: &str| t.to_lowercase().contains("ignore previous instructions");
    axum::Json(json!({
        "userPromptAnalysis": {"attackDetected": attack(prompt)},
        "documentsAnalysis": docs.iter().map(|d| json!({"attackDetected": attack(d)})).collect::<Vec<_>>(),
    }))
    .into_response()
}
