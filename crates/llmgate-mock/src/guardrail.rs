//! A guardrail service speaking LiteLLM's Basic Guardrail API (`generic_guardrail_api`):
//! `POST /guardrail/beta/litellm_basic_guardrail_api` (api_base `<mock>/guardrail`).
//! It wants `x-api-key: GUARDRAIL_API_KEY`, a `texts` list and `input_type`
//! `request|response`, and decides by the texts: `forbidden` → `BLOCKED`, `secret` →
//! `GUARDRAIL_INTERVENED` with it masked, `slowguard` → answers after 5 s, `guarderror` →
//! 500; anything else `NONE`. And OpenAI's `POST /v1/moderations` (`openai_moderation`; Mistral's answer for `mistral-moderation*` models), Presidio's analyzer and
//! anonymizer under `/presidio/analyzer` and `/presidio/anonymizer` (`presidio`), Lakera
//! Guard's `/lakera/v2/guard` (`lakera_v2`), Aporia's `/aporia/validate` (`aporia`).

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};

use crate::openai::recorded;
use crate::Shared;

pub const GUARDRAIL_API_KEY: &str = "mock-guardrail-key";

fn err(status: StatusCode, msg: &str) -> Response {
    (status, axum::Json(json!({"detail": msg}))).into_response()
}

pub(crate) async fn basic(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.record(|| recorded(&method, &uri, &headers, body.clone()));
    if headers.get("x-api-key").and_then(|v| v.to_str().ok()) != Some(GUARDRAIL_API_KEY) {
        return err(StatusCode::UNAUTHORIZED, "invalid x-api-key");
    }
    let Some(texts) = body.get("texts").and_then(Value::as_array) else {
        return err(StatusCode::UNPROCESSABLE_ENTITY, "texts is required");
    };
    let texts: Vec<&str> = texts.iter().filter_map(Value::as_str).collect();
    if !matches!(
        body.get("input_type").and_then(Value::as_str),
        Some("request" | "response")
    ) {
        return err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "input_type must be request or response",
        );
    }
    let has = |w: &str| texts.iter().any(|t| t.to_lowercase().contains(w));
    if has("guarderror") {
        return err(StatusCode::INTERNAL_SERVER_ERROR, "guardrail service error");
    }
    if has("slowguard") {
        tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    }
    if has("forbidden") {
        return axum::Json(json!({"action": "BLOCKED", "blocked_reason": "forbidden topic"}))
            .into_response();
    }
    if has("secret") {
        let masked: Vec<String> = texts
            .iter()
            .map(|t| t.replace("secret", "[MASKED]"))
            .collect();
        return axum::Json(json!({"action": "GUARDRAIL_INTERVENED", "texts": masked}))
            .into_response();
    }
    axum::Json(json!({"action": "NONE"})).into_response()
}

const MODERATION_CATEGORIES: &[&str] = &["harassment", "hate", "self-harm", "sexual", "violence"];

/// OpenAI's `POST /v1/moderations` (and Mistral's, for its models): a bearer key, `input` (a
/// string or strings) and a moderation `model` required; a text with `violent` in it is
/// flagged for `violence`.
pub(crate) async fn moderations(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.record(|| recorded(&method, &uri, &headers, body.clone()));
    let openai_err = |status: StatusCode, msg: &str| {
        (status, axum::Json(json!({"error": {"message": msg, "type": "invalid_request_error", "param": null, "code": null}})))
            .into_response()
    };
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .filter(|k| !k.is_empty());
    if bearer.is_none() {
        return openai_err(StatusCode::UNAUTHORIZED, "You didn't provide an API key.");
    }
    let model = body["model"].as_str().unwrap_or("omni-moderation-latest");
    if !model.contains("moderation") {
        return openai_err(StatusCode::BAD_REQUEST, "invalid moderation model");
    }
    let inputs: Vec<&str> = match &body["input"] {
        Value::String(s) => vec![s.as_str()],
        Value::Array(a) => a.iter().filter_map(Value::as_str).collect(),
        _ => return openai_err(StatusCode::BAD_REQUEST, "input is required"),
    };
    if model.starts_with("mistral-moderation") {
        return mistral_moderations(model, &inputs);
    }
    let results: Vec<Value> = inputs
        .iter()
        .map(|t| {
            let violent = t.to_lowercase().contains("violent");
            let mut cats = serde_json::Map::new();
            let mut scores = serde_json::Map::new();
            let mut applied = serde_json::Map::new();
            for c in MODERATION_CATEGORIES {
                let hit = violent && *c == "violence";
                cats.insert(c.to_string(), hit.into());
                scores.insert(c.to_string(), json!(if hit { 0.97 } else { 0.01 }));
                applied.insert(c.to_string(), json!(["text"]));
            }
            json!({"flagged": violent, "categories": cats, "category_scores": scores,
                   "category_applied_input_types": applied})
        })
        .collect();
    axum::Json(json!({"id": "modr-mock", "model": model, "results": results})).into_response()
}

const MISTRAL_CATEGORIES: &[&str] = &[
    "sexual",
    "hate_and_discrimination",
    "violence_and_threats",
    "dangerous_and_criminal_content",
    "selfharm",
    "health",
    "financial",
    "law",
    "pii",
];

/// Mistral's `POST /v1/moderations` answer (a moderation model named `mistral-moderation*`):
/// per input `categories` and `category_scores` under Mistral's names, and no `flagged`; a
/// text with `violent` in it is in `violence_and_threats`.
fn mistral_moderations(model: &str, inputs: &[&str]) -> Response {
    let results: Vec<Value> = inputs
        .iter()
        .map(|t| {
            let violent = t.to_lowercase().contains("violent");
            let mut cats = serde_json::Map::new();
            let mut scores = serde_json::Map::new();
            for c in MISTRAL_CATEGORIES {
                let hit = violent && *c == "violence_and_threats";
                cats.insert(c.to_string(), hit.into());
                scores.insert(c.to_string(), json!(if hit { 0.93 } else { 0.002 }));
            }
            json!({"categories": cats, "category_scores": scores})
        })
        .collect();
    axum::Json(json!({"id": "mod-mistral-mock", "model": model, "results": results}))
        .into_response()
}

/// What the Presidio analyzer mock recognises: words with an `@` (`EMAIL_ADDRESS`) and runs
/// of 16 digits (`CREDIT_CARD`), as character offsets (Presidio's, Python's).
pub(crate) fn presidio_find(text: &str) -> Vec<(String, usize, usize)> {
    let chars: Vec<char> = text.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_whitespace() {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && !chars[i].is_whitespace() {
            i += 1;
        }
        let word: String = chars[start..i].iter().collect();
        let trimmed = word.trim_end_matches(['.', ',', '!', '?']);
        let end = start + trimmed.chars().count();
        if trimmed.contains('@') {
            out.push(("EMAIL_ADDRESS".into(), start, end));
        } else if trimmed.len() == 16 && trimmed.chars().all(|c| c.is_ascii_digit()) {
            out.push(("CREDIT_CARD".into(), start, end));
        }
    }
    out
}

/// Presidio's analyzer: `POST /presidio/analyzer/analyze` with `text` and `language`
/// required, `entities` filtering what is reported.
pub(crate) async fn presidio_analyze(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.record(|| recorded(&method, &uri, &headers, body.clone()));
    let (Some(text), Some(_)) = (body["text"].as_str(), body["language"].as_str()) else {
        return err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "text and language are required",
        );
    };
    let wanted: Option<Vec<&str>> = body["entities"]
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect());
    let found: Vec<Value> = presidio_find(text)
        .into_iter()
        .filter(|(k, _, _)| wanted.as_ref().is_none_or(|w| w.contains(&k.as_str())))
        .map(|(k, s, e)| {
            json!({"entity_type": k, "start": s, "end": e, "score": 1.0,
                                "analysis_explanation": null, "recognition_metadata": {}})
        })
        .collect();
    axum::Json(Value::Array(found)).into_response()
}

/// Presidio's anonymizer: `POST /presidio/anonymizer/anonymize`; each finding's span
/// replaced by `<ENTITY_TYPE>` (the default `replace` operator).
pub(crate) async fn presidio_anonymize(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.record(|| recorded(&method, &uri, &headers, body.clone()));
    let (Some(text), Some(found)) = (body["text"].as_str(), body["analyzer_results"].as_array())
    else {
        return err(
            StatusCode::UNPROCESSABLE_ENTITY,
            "text and analyzer_results are required",
        );
    };
    let chars: Vec<char> = text.chars().collect();
    let mut spans: Vec<(usize, usize, String)> = found
        .iter()
        .filter_map(|f| {
            Some((
                f["start"].as_u64()? as usize,
                f["end"].as_u64()? as usize,
                f["entity_type"].as_str()?.to_string(),
            ))
        })
        .filter(|(s, e, _)| s < e && *e <= chars.len())
        .collect();
    spans.sort();
    let mut out = String::new();
    let mut at = 0;
    let mut items = Vec::new();
    for (s, e, k) in spans {
        if s < at {
            continue;
        }
        out.extend(&chars[at..s]);
        let tag = format!("<{k}>");
        items.push(
            json!({"start": out.chars().count(), "end": out.chars().count() + tag.chars().count(),
                          "entity_type": k, "text": tag, "operator": "replace"}),
        );
        out.push_str(&tag);
        at = e;
    }
    out.extend(&chars[at..]);
    axum::Json(json!({"text": out, "items": items})).into_response()
}

pub const LAKERA_API_KEY: &str = "mock-lakera-key";

/// Lakera Guard's `POST /lakera/v2/guard`: `Authorization: Bearer LAKERA_API_KEY` and
/// `messages` required; "ignore previous instructions" is a `prompt_attack`, a word with an `@`
/// a `pii/email` (its span in `payload` when asked for).
pub(crate) async fn lakera_guard(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.record(|| recorded(&method, &uri, &headers, body.clone()));
    let auth = headers.get("authorization").and_then(|v| v.to_str().ok());
    if auth != Some(&format!("Bearer {LAKERA_API_KEY}")) {
        return err(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    let Some(messages) = body["messages"].as_array() else {
        return err(StatusCode::BAD_REQUEST, "messages is required");
    };
    let mut attack = false;
    let mut payload = Vec::new();
    for (i, m) in messages.iter().enumerate() {
        let text = m["content"].as_str().unwrap_or_default();
        attack |= text.to_lowercase().contains("ignore previous instructions");
        for (kind, s, e) in presidio_find(text) {
            if kind == "EMAIL_ADDRESS" {
                let span: String = text.chars().skip(s).take(e - s).collect();
                payload.push(json!({"start": s, "end": e, "text": span,
                                    "detector_type": "pii/email", "labels": [], "message_id": i}));
            }
        }
    }
    let breakdown = json!([
        {"project_id": "project-mock", "policy_id": "policy-mock", "detector_id": "detector-attack",
         "detector_type": "prompt_attack", "detected": attack},
        {"project_id": "project-mock", "policy_id": "policy-mock", "detector_id": "detector-email",
         "detector_type": "pii/email", "detected": !payload.is_empty()},
    ]);
    let mut out = json!({"flagged": attack || !payload.is_empty()});
    if body["payload"] == Value::Bool(true) {
        out["payload"] = Value::Array(payload);
    }
    if body["breakdown"] == Value::Bool(true) {
        out["breakdown"] = breakdown;
    }
    axum::Json(out).into_response()
}

pub const APORIA_API_KEY: &str = "mock-aporia-key";

/// Aporia's `POST /aporia/validate`: `X-APORIA-API-KEY`, `messages` and a
/// `validation_target` (`prompt`, `response`, `both`; `response` needs the `response` text)
/// required; a word with an `@` is PII and blocked, as Aporia's PII policy does.
pub(crate) async fn aporia_validate(
    State(shared): State<Arc<Shared>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    shared.record(|| recorded(&method, &uri, &headers, body.clone()));
    if headers
        .get("x-aporia-api-key")
        .and_then(|v| v.to_str().ok())
        != Some(APORIA_API_KEY)
    {
        return err(StatusCode::UNAUTHORIZED, "invalid api key");
    }
    let target = body["validation_target"].as_str();
    let Some(messages) = body["messages"].as_array() else {
        return err(StatusCode::UNPROCESSABLE_ENTITY, "messages is required");
    };
    let mut texts: Vec<&str> = messages
        .iter()
        .filter_map(|m| m["content"].as_str())
        .collect();
    match target {
        Some("prompt") => {}
        Some("response" | "both") => match body["response"].as_str() {
            Some(r) => texts.push(r),
            None => return err(StatusCode::UNPROCESSABLE_ENTITY, "response is required"),
        },
        _ => {
            return err(
                StatusCode::UNPROCESSABLE_ENTITY,
                "validation_target is required",
            )
        }
    }
    let pii = texts
        .iter()
        .any(|t| t.split_whitespace().any(|w| w.contains('@')));
    let (action, revised) = if pii {
        ("block", json!("Aporia detected and blocked PII"))
    } else {
        ("passthrough", Value::Null)
    };
    axum::Json(
        json!({"action": action, "revised_prompt": null, "revised_response": revised,
                      "explain_log": null}),
    )
    .into_response()
}
