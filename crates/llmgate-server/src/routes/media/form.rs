//! A multipart request read once: the body is the one buffer, each file a slice of it
//! (`llmgate::media::multipart`), the text fields also seen as JSON values for the checks
//! every LLM route makes (`fallbacks`, `metadata`, client-side credentials...).

use axum::body::Bytes;
use axum::http::HeaderMap;
use llmgate::media::{multipart, Form, FormKind};
use serde_json::{Map, Value};

use crate::error::GatewayError;

/// Reads the form of `kind`; a body that is not one, or lacks the file, is a 400.
pub(super) fn read(
    headers: &HeaderMap,
    body: &Bytes,
    kind: FormKind,
) -> Result<Form, GatewayError> {
    let ct = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let Some(boundary) = multipart::boundary(ct) else {
        return Err(GatewayError::BadRequest(format!(
            "/{}: the request must be multipart/form-data (got {:?})",
            kind.path(),
            ct.split(';').next().unwrap_or("")
        )));
    };
    let form = multipart::parse(body, boundary).map_err(|e| GatewayError::BadRequest(e.0))?;
    let field = kind.file_field();
    let has_file = form
        .files
        .iter()
        .any(|f| f.name == field || f.name == format!("{field}[]"));
    if !has_file {
        return Err(GatewayError::BadRequest(format!(
            "/{}: `{field}` is a required file field",
            kind.path()
        )));
    }
    Ok(form)
}

/// The form's text fields as JSON values: one that parses as JSON (`["a"]`, `{"tags": ..}`,
/// `2`, `true`) is kept parsed, any other as its string.
pub(super) fn fields(form: &Form) -> Map<String, Value> {
    let mut m = Map::new();
    for (k, v) in &form.fields {
        if m.contains_key(k) {
            continue;
        }
        let parsed = serde_json::from_str::<Value>(v)
            .ok()
            .filter(|p| !p.is_string())
            .unwrap_or_else(|| Value::String(v.clone()));
        m.insert(k.clone(), parsed);
    }
    m
}

/// Drops from the form the fields the checks took out of `kept` (proxy-only fields,
/// client-side credentials, `metadata`), so that they are not sent upstream.
pub(super) fn keep_only(form: &mut Form, kept: &Map<String, Value>) {
    form.fields.retain(|(k, _)| kept.contains_key(k));
}
