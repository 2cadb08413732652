//! Bedrock Guardrails' ApplyGuardrail: `POST /guardrail/{id}/version/{version}/apply`, its
//! SigV4 signature (service `bedrock`) or bearer key checked by the Bedrock mock's verifier,
//! the body as the API defines it (`source` INPUT|OUTPUT, a non-empty `content` list of
//! `{text: {text}}`, `outputScope`; anything else a ValidationException). What the
//! guardrail finds: `bomb` is a custom word it BLOCKS (outputs: the blocked message), an
//! email address a PII entity it ANONYMIZES as `{EMAIL}` (outputs: each text masked, in
//! order); a guardrail id starting `missing` does not exist.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, Method, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::bedrock::{aws_error, verify};
use crate::guardrail::presidio_find;
use crate::openai::recorded;
use crate::Shared;

/// What the mock guardrail answers when it blocks (the guardrail's `blockedInputMessaging`).
pub const BLOCKED_MESSAGE: &str = "Sorry, the model cannot answer this question.";

pub async fn apply(
    State(shared): State<Arc<Shared>>,
    Path((id, version)): Path<(String, String)>,
    m: Method,
    u: Uri,
    h: HeaderMap,
    bytes: Bytes,
) -> Response {
    let body: Option<Value> = serde_json::from_slice(&bytes).ok();
    shared.record(|| recorded(&m, &u, &h, body.clone().unwrap_or(Value::Null)));
    if let Err((status, kind, message)) = verify(&shared, &m, &u, &h, &bytes, "bedrock") {
        return aws_error(status, kind, &message);
    }
    let invalid = |m: &str| aws_error(400, "ValidationException", m);
    let Some(Value::Object(body)) = body else {
        return aws_error(
            400,
            "SerializationException",
            "Unable to parse the request body",
        );
    };
    if let Some(k) = body
        .keys()
        .find(|k| !["source", "content", "outputScope"].contains(&k.as_str()))
    {
        return invalid(&format!("Unknown field: {k}"));
    }
    if id.starts_with("missing") {
        return aws_error(
            404,
            "ResourceNotFoundException",
            "The guardrail was not found.",
        );
    }
    if version != "DRAFT" && !version.chars().all(|c| c.is_ascii_digit()) {
        return invalid("guardrailVersion must be DRAFT or a version number");
    }
    if !matches!(
        body.get("source").and_then(Value::as_str),
        Some("INPUT" | "OUTPUT")
    ) {
        return invalid("source must be INPUT or OUTPUT");
    }
    if !matches!(
        body.get("outputScope").and_then(Value::as_str),
        None | Some("INTERVENTIONS" | "FULL")
    ) {
        return invalid("outputScope must be INTERVENTIONS or FULL");
    }
    let texts: Option<Vec<&str>> = body
        .get("content")
        .and_then(Value::as_array)
        .filter(|c| !c.is_empty())
        .and_then(|c| c.iter().map(|i| i["text"]["text"].as_str()).collect());
    let Some(texts) = texts else {
        return invalid("content must be a non-empty list of text blocks");
    };
    let usage = json!({"topicPolicyUnits": 1, "contentPolicyUnits": 1, "wordPolicyUnits": 1,
        "sensitiveInformationPolicyUnits": 1, "sensitiveInformationPolicyFreeUnits": 0,
        "contextualGroundingPolicyUnits": 0});
    if texts.iter().any(|t| t.to_lowercase().contains("bomb")) {
        return axum::Json(json!({
            "usage": usage, "action": "GUARDRAIL_INTERVENED", "actionReason": "Guardrail blocked.",
            "outputs": [{"text": BLOCKED_MESSAGE}],
            "assessments": [{"wordPolicy": {"customWords": [{"match": "bomb", "action": "BLOCKED", "detected": true}],
                                            "managedWordLists": []}}],
        }))
        .into_response();
    }
    let mut entities = Vec::new();
    let masked: Vec<String> = texts
        .iter()
        .map(|t| {
            let chars: Vec<char> = t.chars().collect();
            let mut out = String::new();
            let mut at = 0;
            for (kind, s, e) in presidio_find(t) {
                if kind != "EMAIL_ADDRESS" {
                    continue;
                }
                out.extend(&chars[at..s]);
                out.push_str("{EMAIL}");
                entities.push(
                    json!({"match": chars[s..e].iter().collect::<String>(), "type": "EMAIL",
                                     "action": "ANONYMIZED", "detected": true}),
                );
                at = e;
            }
            out.extend(&chars[at..]);
            out
        })
        .collect();
    if entities.is_empty() {
        return axum::Json(
            json!({"usage": usage, "action": "NONE", "outputs": [], "assessments": [{}]}),
        )
        .into_response();
    }
    axum::Json(json!({
        "usage": usage, "action": "GUARDRAIL_INTERVENED", "actionReason": "Guardrail masked.",
        "outputs": masked.iter().map(|t| json!({"text": t})).collect::<Vec<_>>(),
        "assessments": [{"sensitiveInformationPolicy": {"piiEntities": entities, "regexes": []}}],
    }))
    .into_response()
}
