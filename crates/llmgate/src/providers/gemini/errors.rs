//! Google's error answers classed and worded as LiteLLM's `_map_vertex_exception` does for
//! `gemini` and `vertex_ai`: its message rules come first (a bad API key arrives as a 400 but is
//! an authentication error), then the status. LiteLLM embeds the raw body as Google sent it
//! (`details` included), with a prefix that depends on the rule that fired; the message here is
//! that whole text, which the error's `Display` shows as it is.

use serde_json::Value;

use crate::{ErrorKind, LlmError};

/// LiteLLM's context-window substrings (`is_error_str_context_window_exceeded`), lower-cased.
const CONTEXT_WINDOW: &[&str] = &[
    "exceed context limit",
    "this model's maximum context length is",
    "requested token count exceeds the model's maximum context length",
    "string too long. expected a string with maximum length",
    "model's maximum context limit",
    "is longer than the model's context length",
    "input tokens exceed the configured limit",
    "`inputs` tokens + `max_new_tokens` must be",
    "exceeds the available context size",
    "exceeds the maximum number of tokens allowed",
    "\"code\": \"context_length_exceeded\"",
    "prompt is too long",
];

fn context_window(raw: &str) -> bool {
    let l = raw.to_lowercase();
    if l.contains("string_above_max_length")
        || (l.contains("invalid 'user'") && l.contains("string too long"))
    {
        return false;
    }
    CONTEXT_WINDOW.iter().any(|s| l.contains(s))
        || (l.contains("current length is") && l.contains("while limit is"))
        || (l.contains("maximum input length is") && l.contains("tokens"))
        || (l.contains("input too long:") && l.contains("input tokens, limit is"))
}

/// `403` as a token of its own (LiteLLM's `(?<![0-9A-Za-z])403(?![0-9A-Za-z])`).
fn mentions_403(raw: &str) -> bool {
    raw.match_indices("403").any(|(i, _)| {
        let alnum = |c: Option<char>| c.is_some_and(|c| c.is_ascii_alphanumeric());
        !alnum(raw[..i].chars().next_back()) && !alnum(raw[i + 3..].chars().next())
    })
}

/// `error.code` of a JSON error body.
fn body_code(raw: &str) -> Option<i64> {
    let v: Value = serde_json::from_str(raw).ok()?;
    match &v.get("error")?["code"] {
        Value::Number(n) => n.as_i64().or_else(|| n.as_f64().map(|f| f as i64)),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Re-classes an upstream error (from an answer or a stream's error event) of a Gemini or
/// Vertex AI call. Errors llmgate raised itself (no upstream answer) pass unchanged.
pub fn litellm_class(mut e: LlmError) -> LlmError {
    let Some(up) = e.upstream.as_ref() else {
        return e;
    };
    let (status, raw) = (up.status, up.body.clone());
    // LiteLLM names the provider two ways: as given (`vertex_aiException`) in some rules,
    // capitalised (`Vertex_aiException`, `GeminiException`) in the others.
    let p = e.provider.clone();
    let cap = {
        let mut c = p.chars();
        c.next()
            .map(|f| f.to_uppercase().chain(c).collect::<String>())
            .unwrap_or_default()
    };
    let code = body_code(&raw);
    let has = |s: &str| raw.contains(s);
    use ErrorKind::*;
    let (kind, answer, message) = if has("Vertex AI API has not been used in project")
        || has("Unable to find your project")
    {
        (
            BadRequest,
            400,
            format!("litellm.BadRequestError: litellm.BadRequestError: {p}Exception - {raw}"),
        )
    } else if has("400 Request payload size exceeds") {
        (
            ContextWindowExceeded,
            400,
            format!("litellm.ContextWindowExceededError: litellm.BadRequestError: {cap}Exception - {raw}"),
        )
    } else if context_window(&raw) {
        (
            ContextWindowExceeded,
            400,
            format!("litellm.ContextWindowExceededError: litellm.BadRequestError: ContextWindowExceededError: {cap}Exception - {raw}"),
        )
    } else if has("None Unknown Error.") || has("Content has no parts.") {
        (
            InternalServer,
            500,
            format!(
                "litellm.InternalServerError: litellm.InternalServerError: {p}Exception - {raw}"
            ),
        )
    } else if has("API key not valid.") {
        // Google's `API_KEY_INVALID` answer is a 400.
        (
            Authentication,
            401,
            format!("litellm.AuthenticationError: {cap}Exception - {raw}"),
        )
    } else if matches!(status, 403 | 500) && matches!(code, None | Some(403)) && mentions_403(&raw)
    {
        // LiteLLM raises BadRequestError for Google's 403s, keeping the 403 status.
        (
            BadRequest,
            403,
            format!("litellm.BadRequestError: {cap}Exception BadRequestError - {raw}"),
        )
    } else if has("The response was blocked.") || has("Output blocked by content filtering policy")
    {
        (
            ContentPolicyViolation,
            400,
            format!("litellm.BadRequestError: litellm.ContentPolicyViolationError: {cap}Exception ContentPolicyViolationError - {raw}"),
        )
    } else if has("429 Quota exceeded")
        || has("Quota exceeded for")
        || has("Resource exhausted")
        || has("IndexError: list index out of range")
        || has("429 Unable to submit request because the service is temporarily out of capacity.")
        || ((500..600).contains(&status) && code == Some(429))
    {
        (
            RateLimit,
            429,
            format!("litellm.RateLimitError: litellm.RateLimitError: {p}Exception - {raw}"),
        )
    } else if has("500 Internal Server Error") || has("The model is overloaded.") {
        (
            InternalServer,
            500,
            format!(
                "litellm.InternalServerError: litellm.InternalServerError: {p}Exception - {raw}"
            ),
        )
    } else {
        let plain = |class: &str| format!("litellm.{class}: {cap}Exception - {raw}");
        match status {
            400 => (
                BadRequest,
                400,
                format!("litellm.BadRequestError: {cap}Exception BadRequestError - {raw}"),
            ),
            401 => (Authentication, 401, plain("AuthenticationError")),
            403 => (PermissionDenied, 403, plain("PermissionDeniedError")),
            404 => (NotFound, 404, plain("NotFoundError")),
            408 => (Timeout, 408, plain("Timeout")),
            429 => (
                RateLimit,
                429,
                format!("litellm.RateLimitError: litellm.RateLimitError: {cap}Exception - {raw}"),
            ),
            500 => (
                InternalServer,
                500,
                format!("litellm.InternalServerError: {cap}Exception InternalServerError - {raw}"),
            ),
            // LiteLLM's APIConnectionError (500).
            502 => (ApiConnection, 500, plain("APIConnectionError")),
            503 => (ServiceUnavailable, 503, plain("ServiceUnavailableError")),
            // Unmapped statuses: LiteLLM's generic table, which keeps the upstream's status.
            504 => (Timeout, 504, plain("Timeout")),
            s if s < 500 => (BadRequest, s, plain("BadRequestError")),
            s => (Api, s, plain("APIError")),
        }
    };
    e.kind = kind;
    e.status = answer;
    e.message = message;
    e
}

#[cfg(test)]
mod tests {
    use super::*;

    fn google(status: u16, msg: &str) -> LlmError {
        let body = serde_json::json!({"error": {"code": status, "message": msg, "status": "X",
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
                "litellm.AuthenticationError: GeminiException - {",
            ),
            (
                403,
                "Permission denied",
                ErrorKind::BadRequest,
                403,
                "litellm.BadRequestError: GeminiException BadRequestError - {",
            ),
            (
                503,
                "The model is overloaded. Please try again later.",
                ErrorKind::InternalServer,
                500,
                "litellm.InternalServerError: litellm.InternalServerError: geminiException - {",
            ),
            (
                400,
                "Quota exceeded for metric",
                ErrorKind::RateLimit,
                429,
                "litellm.RateLimitError: litellm.RateLimitError: geminiException - {",
            ),
            (
                502,
                "bad gateway",
                ErrorKind::ApiConnection,
                500,
                "litellm.APIConnectionError: GeminiException - {",
            ),
            (
                400,
                "The input token count (5) exceeds the maximum number of tokens allowed (4).",
                ErrorKind::ContextWindowExceeded,
                400,
                "litellm.ContextWindowExceededError: litellm.BadRequestError: ContextWindowExceededError: GeminiException - {",
            ),
            (
                404,
                "models/x is not found",
                ErrorKind::NotFound,
                404,
                "litellm.NotFoundError: GeminiException - {",
            ),
            (
                400,
                "bad",
                ErrorKind::BadRequest,
                400,
                "litellm.BadRequestError: GeminiException BadRequestError - {",
            ),
        ];
        for (status, msg, kind, answer, prefix) in cases {
            let e = google(status, msg);
            assert_eq!((e.kind, e.status), (kind, answer), "{status} {msg}");
            assert!(e.to_string().starts_with(prefix), "{e}");
            // The raw body, `details` included.
            assert!(e.to_string().contains("API_KEY_INVALID"), "{e}");
        }
    }

    #[test]
    fn own_errors_pass_unchanged() {
        let e = litellm_class(LlmError::bad_request("no"));
        assert_eq!((e.kind, e.message.as_str()), (ErrorKind::BadRequest, "no"));
    }

    #[test]
    fn a_403_is_a_token() {
        assert!(mentions_403(r#"{"code":403}"#));
        assert!(!mentions_403("x4030"));
    }
}
