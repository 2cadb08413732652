//! The error map's cases: statuses, bodies and transport failures to LiteLLM's classes.

use super::*;

#[test]
fn context_window_is_recognised_from_code_and_text() {
    let body = br#"{"error":{"message":"This model's maximum context length is 128000 tokens.","type":"invalid_request_error","param":"messages","code":"context_length_exceeded"}}"#;
    let e = LlmError::from_upstream(400, vec![], body, "openai");
    assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);
    assert_eq!(e.status, 400);
    let e = LlmError::from_upstream(
        400,
        vec![],
        b"{\"message\":\"prompt is too long: 300000 tokens\"}",
        "groq",
    );
    assert_eq!(e.kind, ErrorKind::ContextWindowExceeded);
}

#[test]
fn rate_limit_keeps_retry_after_and_names_provider() {
    let e = LlmError::from_upstream(
        429,
        vec![("Retry-After".into(), "7".into())],
        br#"{"error":{"message":"slow down","type":"requests","code":"rate_limit_exceeded"}}"#,
        "together_ai",
    );
    assert_eq!(e.kind, ErrorKind::RateLimit);
    assert_eq!(e.retry_after.as_deref(), Some("7"));
    assert_eq!(
        e.to_string(),
        "litellm.RateLimitError: RateLimitError: Together_aiException - slow down"
    );
}

#[test]
fn credentials_are_masked_whole_and_in_part() {
    let key = "sk-proj-abcdefghijklmnop1234wxyz".to_string();
    let body = format!(
        r#"{{"error":{{"message":"Incorrect API key provided: {key}. You sent sk-proj-ab**********wxyz; key tail mnop1234wxyz.","code":"invalid_api_key","param":"{key}"}}}}"#
    );
    let e = LlmError::from_upstream(
        401,
        vec![("x-echo".into(), key.clone())],
        body.as_bytes(),
        "openai",
    )
    .redact(std::slice::from_ref(&key));
    assert_eq!(
        e.message,
        "Incorrect API key provided: [REDACTED]. You sent [REDACTED]; key tail [REDACTED]."
    );
    assert_eq!(e.param, Some(Value::String(REDACTED.into())));
    assert_eq!(e.code, Some(Value::String("invalid_api_key".into())));
    assert_eq!(e.headers[0].1, REDACTED);
    assert!(!e.to_string().contains("abcdefgh"));
    // Nothing matched, nothing changed; short runs of the key (< 8) stay.
    assert_eq!(
        mask_secrets("the key starts with sk-p", std::slice::from_ref(&key)),
        None
    );
    // Short keys are masked whole only; multi-byte text around a match survives.
    assert_eq!(
        mask_secrets("clé «k3y9» refusée", &["k3y9".into()]).as_deref(),
        Some("clé «[REDACTED]» refusée")
    );
    assert_eq!(mask_secrets("abc", &["abc".into()]), None);
}

#[test]
fn non_json_body_becomes_the_message() {
    let e = LlmError::from_upstream(502, vec![], b"Bad Gateway", "openai");
    assert_eq!(e.kind, ErrorKind::BadGateway);
    assert_eq!(e.message, "Bad Gateway");
    // Anthropic's 529 is LiteLLM's InternalServerError, answered 503 `server_is_overloaded`.
    let e = LlmError::from_upstream(529, vec![], b"{}", "anthropic");
    assert_eq!(e.kind, ErrorKind::InternalServer);
    assert_eq!(
        (e.status, e.proxy_code().as_str()),
        (503, "server_is_overloaded")
    );
    assert_eq!(e.proxy_type(), "service_unavailable_error");
}

#[test]
fn unsupported_params_keep_litellms_hint() {
    let e = LlmError::unsupported_params("anthropic", &["logit_bias", "seed"], "claude-x");
    assert_eq!(
        e.to_string(),
        "litellm.UnsupportedParamsError: anthropic does not support parameters: ['logit_bias', 'seed'], for model=claude-x. To drop these, set `litellm.drop_params=True` or for proxy:\n\n`litellm_settings:\n drop_params: true`\n. \n If you want to use these params dynamically send allowed_openai_params=['logit_bias', 'seed'] in your request."
    );
}

#[test]
fn secrets_in_the_raw_body_are_masked() {
    let key = "sk-ant-abcdefghijklmnop".to_string();
    let body = format!(
        r#"{{"type":"error","error":{{"type":"authentication_error","message":"bad key {key}"}}}}"#
    );
    let e = LlmError::from_upstream(401, vec![], body.as_bytes(), "anthropic")
        .redact(std::slice::from_ref(&key));
    assert!(!e.to_string().contains("abcdefgh"), "{e}");
}

/// Azure as LiteLLM 1.110.2 printed each case against the same bodies (class, status, message).
#[test]
fn azure_errors_read_as_litellms() {
    let body = |s: u16| format!(r#"{{"error": {{"message": "mock error {s}", "type": "x"}}}}"#);
    let cases = [
        (400, "BadRequestError", 400, "litellm.BadRequestError: AzureException - mock error 400"),
        (401, "AuthenticationError", 401, "litellm.AuthenticationError: AzureException AuthenticationError - mock error 401"),
        (404, "NotFoundError", 404, "litellm.NotFoundError: AzureException NotFoundError - mock error 404"),
        (429, "RateLimitError", 429, "litellm.RateLimitError: AzureException RateLimitError - mock error 429"),
        (500, "APIError", 500, "litellm.APIError: AzureException APIError - mock error 500"),
        (503, "ServiceUnavailableError", 503, "litellm.ServiceUnavailableError: AzureException ServiceUnavailableError - mock error 503"),
    ];
    for (status, class, answered, message) in cases {
        let e = LlmError::from_upstream(status, vec![], body(status).as_bytes(), "azure");
        assert_eq!(
            (e.kind.class_name(), e.status),
            (class, answered),
            "{status}"
        );
        assert_eq!(e.to_string(), message);
        assert!(e.provider_fields.is_none());
    }
    // A 500 is retried, as an upstream failure.
    assert!(LlmError::from_upstream(500, vec![], body(500).as_bytes(), "azure").is_retryable());
    let ctx = r#"{"error": {"message": "This model's maximum context length is 128000 tokens.", "code": "context_length_exceeded"}}"#;
    let e = LlmError::from_upstream(400, vec![], ctx.as_bytes(), "azure");
    assert_eq!(
        e.to_string(),
        "litellm.ContextWindowExceededError: litellm.BadRequestError: AzureException ContextWindowExceededError - This model's maximum context length is 128000 tokens."
    );
    let filtered = r#"{"error": {"message": "The response was filtered due to the prompt triggering Azure OpenAI's content management policy.", "type": null, "param": "prompt", "code": "content_filter", "status": 400, "innererror": {"code": "ResponsibleAIPolicyViolation", "content_filter_result": {"hate": {"filtered": true, "severity": "high"}}}}}"#;
    let e = LlmError::from_upstream(400, vec![], filtered.as_bytes(), "azure");
    assert_eq!((e.kind, e.status), (ErrorKind::ContentPolicyViolation, 400));
    assert_eq!(
        e.to_string(),
        "litellm.BadRequestError: litellm.ContentPolicyViolationError: The response was filtered due to the prompt triggering Azure OpenAI's content management policy."
    );
    let f = e.provider_fields.as_ref().unwrap();
    assert_eq!(f["innererror"]["code"], "ResponsibleAIPolicyViolation");
    assert_eq!(f["inner_error"], f["innererror"]);
    assert_eq!(f["azure_error"]["code"], "content_filter");
    assert_eq!(f["azure_error"]["param"], "prompt");
}
