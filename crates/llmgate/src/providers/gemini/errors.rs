//! Google's error answers classed as LiteLLM's `_map_vertex_exception` does for `gemini` and
//! `vertex_ai`: its message rules come first (a bad API key arrives as a 400 but is an
//! authentication error), then the status. The message is Google's error object, as LiteLLM
//! embeds the raw body.

use serde_json::{json, Value};

use crate::{ErrorKind, LlmError};

/// Google's canonical status name for an HTTP status (the `status` of its error objects).
fn google_status(code: u64) -> &'static str {
    match code {
        400 => "INVALID_ARGUMENT",
        401 => "UNAUTHENTICATED",
        403 => "PERMISSION_DENIED",
        404 => "NOT_FOUND",
        409 => "ABORTED",
        429 => "RESOURCE_EXHAUSTED",
        501 => "NOT_IMPLEMENTED",
        503 => "UNAVAILABLE",
        504 => "DEADLINE_EXCEEDED",
        _ => "INTERNAL",
    }
}

/// Re-classes an upstream error (from an answer or a stream's error event) of a Gemini call.
/// Errors llmgate raised itself (no upstream status code in the body) pass unchanged.
pub fn litellm_class(mut e: LlmError) -> LlmError {
    let Some(body_code) = e.code.as_ref().and_then(Value::as_u64) else {
        return e;
    };
    // Google's error object, the text LiteLLM matches its rules against and shows.
    let raw = json!({"error": {"code": body_code, "message": e.message, "status": google_status(body_code)}})
        .to_string();
    let status = e.status;
    let has = |s: &str| raw.contains(s);
    let kind = if has("Vertex AI API has not been used in project")
        || has("Unable to find your project")
    {
        ErrorKind::BadRequest
    } else if has("400 Request payload size exceeds") || e.kind == ErrorKind::ContextWindowExceeded
    {
        ErrorKind::ContextWindowExceeded
    } else if has("None Unknown Error.") || has("Content has no parts.") {
        ErrorKind::InternalServer
    } else if has("API key not valid.") {
        // Google's `API_KEY_INVALID` answer is a 400.
        ErrorKind::Authentication
    } else if matches!(status, 403 | 500) && body_code == 403 {
        // LiteLLM raises BadRequestError for Google's 403s, keeping the 403 status.
        e.kind = ErrorKind::BadRequest;
        e.message = raw;
        e.status = 403;
        return e;
    } else if has("The response was blocked.") {
        ErrorKind::ContentPolicyViolation
    } else if has("429 Quota exceeded")
        || has("Quota exceeded for")
        || has("Resource exhausted")
        || has("429 Unable to submit request because the service is temporarily out of capacity.")
        || ((500..600).contains(&status) && body_code == 429)
    {
        ErrorKind::RateLimit
    } else if has("500 Internal Server Error") || has("The model is overloaded.") {
        ErrorKind::InternalServer
    } else {
        match status {
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Authentication,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            408 => ErrorKind::Timeout,
            429 => ErrorKind::RateLimit,
            500 => ErrorKind::InternalServer,
            // LiteLLM's APIConnectionError (500).
            502 => ErrorKind::ApiConnection,
            503 => ErrorKind::ServiceUnavailable,
            _ => e.kind,
        }
    };
    e.kind = kind;
    e.status = kind.status();
    e.message = raw;
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn google(status: u16, msg: &str) -> LlmError {
        let body = json!({"error": {"code": status, "message": msg, "status": google_status(status as u64),
            "details": [{"@type": "type.googleapis.com/google.rpc.ErrorInfo", "reason": "API_KEY_INVALID"}]}});
        litellm_class(LlmError::from_upstream(
            status,
            vec![],
            body.to_string().as_bytes(),
            "gemini",
        ))
    }

    #[test]
    fn classes_follow_litellm() {
        let cases = [
            (
                400,
                "API key not valid. Please pass a valid API key.",
                ErrorKind::Authentication,
                401,
            ),
            (403, "Permission denied", ErrorKind::BadRequest, 403),
            (
                503,
                "The model is overloaded. Please try again later.",
                ErrorKind::InternalServer,
                500,
            ),
            (400, "Quota exceeded for metric", ErrorKind::RateLimit, 429),
            (502, "bad gateway", ErrorKind::ApiConnection, 500),
            (
                400,
                "The input token count (5) exceeds the maximum number of tokens allowed (4).",
                ErrorKind::ContextWindowExceeded,
                400,
            ),
            (404, "models/x is not found", ErrorKind::NotFound, 404),
        ];
        for (status, msg, kind, answer) in cases {
            let e = google(status, msg);
            assert_eq!((e.kind, e.status), (kind, answer), "{status} {msg}");
            assert!(
                e.message.starts_with(r#"{"error":{"code":"#),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn own_errors_pass_unchanged() {
        let e = litellm_class(LlmError::bad_request("no"));
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::BadRequest, "no"));
    }
}
