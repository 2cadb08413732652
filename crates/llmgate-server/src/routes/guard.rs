//! No NUL character reaches the database: PostgreSQL refuses it in text and JSON, and the
//! error it answers is nothing to show a client (nor should a stored row differ between the
//! two databases). Admin requests are checked whole — path, query and every string and key of
//! the JSON body — before their handler runs; LLM requests only in what is stored (`user`,
//! tags, the model name), as their messages may carry a NUL to the provider.

use axum::body::{to_bytes, Body};
use axum::extract::Request;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

use crate::error::GatewayError;

fn refused(what: &str) -> GatewayError {
    GatewayError::BadRequest(format!(
        "Invalid request: {what} contains a NUL character (\\u0000), which cannot be stored"
    ))
}

/// A stored value of an LLM request, named `field` in the error.
pub fn stored(field: &str, value: &str) -> Result<(), GatewayError> {
    if value.contains('\0') {
        return Err(refused(field));
    }
    Ok(())
}

/// Where in `v` a string or key holds a NUL, as a dotted path (`metadata.team`, `models[1]`).
fn nul_at(v: &Value, path: &str) -> Option<String> {
    let join = |k: &str| {
        if path.is_empty() {
            k.to_string()
        } else {
            format!("{path}.{k}")
        }
    };
    match v {
        Value::String(s) if s.contains('\0') => Some(path.to_string()),
        Value::Array(a) => a
            .iter()
            .enumerate()
            .find_map(|(i, v)| nul_at(v, &format!("{path}[{i}]"))),
        Value::Object(m) => m.iter().find_map(|(k, v)| {
            if k.contains('\0') {
                Some(join(&k.replace('\0', "\\u0000")))
            } else {
                nul_at(v, &join(k))
            }
        }),
        _ => None,
    }
}

/// The admin routes' middleware. A percent-escaped `%00` is the only way a URL carries a NUL
/// (a `%` is never part of another escape's digits). A body that is not JSON passes on, for
/// its handler to refuse.
pub async fn admin_input(req: Request, next: Next) -> Response {
    let uri = req.uri();
    if uri.path().contains("%00") {
        return refused("the path").into_response();
    }
    if let Some(q) = uri.query().filter(|q| q.contains("%00")) {
        let param = q
            .split('&')
            .find(|p| p.contains("%00"))
            .and_then(|p| p.split('=').next())
            .unwrap_or_default();
        return refused(&format!("query parameter {param}")).into_response();
    }
    let (parts, body) = req.into_parts();
    // The listener (`conn.rs`) already bounds every body to `max_request_size_mb`.
    let bytes = match to_bytes(body, usize::MAX).await {
        Ok(b) => b,
        Err(e) => {
            return GatewayError::BadRequest(format!("cannot read the request body: {e}"))
                .into_response()
        }
    };
    if let Ok(v) = serde_json::from_slice::<Value>(&bytes) {
        if let Some(path) = nul_at(&v, "") {
            let what = if path.is_empty() {
                "the body".to_string()
            } else {
                format!("field {path}")
            };
            return refused(&what).into_response();
        }
    }
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_path_of_a_nul_is_named() {
        assert_eq!(
            nul_at(&json!({"key_alias": "a\u{0}b"}), ""),
            Some("key_alias".into())
        );
        assert_eq!(
            nul_at(&json!({"metadata": {"tags": ["ok", "x\u{0}"]}}), ""),
            Some("metadata.tags[1]".into())
        );
        assert_eq!(nul_at(&json!({"k\u{0}": 1}), ""), Some("k\\u0000".into()));
        assert_eq!(nul_at(&json!({"key_alias": "a\\u0000b", "n": 1}), ""), None);
    }
}
