//! The SDK's one error type, with LiteLLM's exception classes.

use std::fmt;

use serde_json::Value;

mod mask;
#[cfg(test)]
mod tests;

use mask::redact_value;
pub use mask::{mask_secrets, REDACTED};

/// LiteLLM's exception classes; each has one HTTP status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorKind {
    BadRequest,
    UnsupportedParams,
    ContextWindowExceeded,
    ContentPolicyViolation,
    Authentication,
    PermissionDenied,
    NotFound,
    Timeout,
    UnprocessableEntity,
    RateLimit,
    InternalServer,
    BadGateway,
    ServiceUnavailable,
    /// LiteLLM's `APIError`: an upstream status its OpenAI mapping has no class for (403, 409,
    /// 413, 418, 529 from OpenAI); the upstream's status is answered.
    Api,
    /// The upstream could not be reached at all.
    ApiConnection,
}

impl ErrorKind {
    pub fn status(self) -> u16 {
        match self {
            ErrorKind::BadRequest
            | ErrorKind::UnsupportedParams
            | ErrorKind::ContextWindowExceeded
            | ErrorKind::ContentPolicyViolation => 400,
            ErrorKind::Authentication => 401,
            ErrorKind::PermissionDenied => 403,
            ErrorKind::NotFound => 404,
            ErrorKind::Timeout => 408,
            ErrorKind::UnprocessableEntity => 422,
            ErrorKind::RateLimit => 429,
            ErrorKind::InternalServer | ErrorKind::ApiConnection | ErrorKind::Api => 500,
            ErrorKind::BadGateway => 502,
            ErrorKind::ServiceUnavailable => 503,
        }
    }

    /// LiteLLM's class name, which clients see in the message.
    pub fn class_name(self) -> &'static str {
        match self {
            ErrorKind::BadRequest => "BadRequestError",
            ErrorKind::UnsupportedParams => "UnsupportedParamsError",
            ErrorKind::ContextWindowExceeded => "ContextWindowExceededError",
            ErrorKind::ContentPolicyViolation => "ContentPolicyViolationError",
            ErrorKind::Authentication => "AuthenticationError",
            ErrorKind::PermissionDenied => "PermissionDeniedError",
            ErrorKind::NotFound => "NotFoundError",
            ErrorKind::Timeout => "Timeout",
            ErrorKind::UnprocessableEntity => "UnprocessableEntityError",
            ErrorKind::RateLimit => "RateLimitError",
            ErrorKind::InternalServer => "InternalServerError",
            ErrorKind::BadGateway => "BadGatewayError",
            ErrorKind::ServiceUnavailable => "ServiceUnavailableError",
            ErrorKind::Api => "APIError",
            ErrorKind::ApiConnection => "APIConnectionError",
        }
    }

    /// The error `type` LiteLLM's proxy puts in the body for this class.
    pub fn openai_type(self) -> &'static str {
        match self {
            ErrorKind::Authentication => "authentication_error",
            ErrorKind::PermissionDenied => "permission_error",
            ErrorKind::RateLimit => "throttling_error",
            ErrorKind::InternalServer
            | ErrorKind::BadGateway
            | ErrorKind::ServiceUnavailable
            | ErrorKind::ApiConnection => "internal_server_error",
            // LiteLLM reports timeouts and not-found models as invalid requests too.
            _ => "invalid_request_error",
        }
    }

    /// Whether a retry or another deployment may succeed.
    pub fn is_retryable(self) -> bool {
        matches!(
            self,
            ErrorKind::Timeout
                | ErrorKind::RateLimit
                | ErrorKind::InternalServer
                | ErrorKind::BadGateway
                | ErrorKind::ServiceUnavailable
                | ErrorKind::ApiConnection
        )
    }

    /// The kind for an upstream HTTP status.
    pub fn from_status(status: u16) -> ErrorKind {
        match status {
            400 => ErrorKind::BadRequest,
            401 => ErrorKind::Authentication,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            408 => ErrorKind::Timeout,
            413 => ErrorKind::ContextWindowExceeded,
            422 => ErrorKind::UnprocessableEntity,
            429 => ErrorKind::RateLimit,
            502 => ErrorKind::BadGateway,
            503 | 529 => ErrorKind::ServiceUnavailable,
            s if (400..500).contains(&s) => ErrorKind::BadRequest,
            _ => ErrorKind::InternalServer,
        }
    }
}

/// Boxed so `Result<_, LlmError>` stays small on the hot path.
#[derive(Debug, Clone)]
pub struct LlmError(Box<LlmErrorData>);

#[derive(Debug, Clone)]
pub struct LlmErrorData {
    pub kind: ErrorKind,
    /// The upstream's (or our) message, without LiteLLM's prefixes.
    pub message: String,
    /// Provider name as in the model prefix (`openai`, `groq`, ...); empty before routing.
    pub provider: String,
    pub model: Option<String>,
    /// Status to answer with; usually `kind.status()`, but an upstream 418 stays 418.
    pub status: u16,
    /// The upstream's `Retry-After`, passed on to the client.
    pub retry_after: Option<String>,
    pub param: Option<Value>,
    pub code: Option<Value>,
    /// Headers the upstream sent with the error.
    pub headers: Vec<(String, String)>,
    /// The upstream's own status and raw body: LiteLLM's Anthropic messages embed the body
    /// as sent, and an overload (529) changes what the proxy answers.
    pub upstream: Option<Upstream>,
    /// LiteLLM's `provider_specific_fields` of the error (Azure's content-filter details).
    pub provider_fields: Option<Value>,
    /// What the router adds once it gives up (LiteLLM's note of the fallbacks tried).
    pub note: Option<String>,
}

/// What the upstream answered, as LiteLLM keeps it.
#[derive(Debug, Clone)]
pub struct Upstream {
    pub status: u16,
    /// The body as sent (lossy UTF-8).
    pub body: String,
    /// The body's error `type` (OpenAI bodies carry one; LiteLLM's proxy repeats it).
    pub kind: Option<String>,
}

impl std::ops::Deref for LlmError {
    type Target = LlmErrorData;
    fn deref(&self) -> &LlmErrorData {
        &self.0
    }
}

impl std::ops::DerefMut for LlmError {
    fn deref_mut(&mut self) -> &mut LlmErrorData {
        &mut self.0
    }
}

impl LlmError {
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        LlmError(Box::new(LlmErrorData {
            kind,
            message: message.into(),
            provider: String::new(),
            model: None,
            status: kind.status(),
            retry_after: None,
            param: None,
            code: None,
            headers: Vec::new(),
            upstream: None,
            provider_fields: None,
            note: None,
        }))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::BadRequest, message)
    }

    pub fn with_provider(mut self, provider: &str) -> Self {
        self.provider = provider.to_string();
        self
    }

    /// Worth another attempt (or another deployment): the retryable classes, and LiteLLM's
    /// `APIError` when the upstream failed (5xx).
    pub fn is_retryable(&self) -> bool {
        self.kind.is_retryable() || (self.kind == ErrorKind::Api && self.status >= 500)
    }

    pub fn with_model(mut self, model: &str) -> Self {
        self.model = Some(model.to_string());
        self
    }

    pub fn with_param(mut self, param: &str) -> Self {
        self.param = Some(Value::String(param.to_string()));
        self
    }

    /// `OpenAIException`, `GroqException`, ...: how LiteLLM names the provider in messages.
    pub fn provider_exception(&self) -> String {
        match self.provider.as_str() {
            "" => String::new(),
            "openai" | "openai_compatible" | "custom_openai" | "text-completion-openai" => {
                "OpenAIException".into()
            }
            "azure" => "AzureException".into(),
            // LiteLLM capitalises the first letter only: `Together_aiException`.
            p => {
                let mut c = p.chars();
                let first: String = c
                    .next()
                    .map(|f| f.to_uppercase().collect())
                    .unwrap_or_default();
                format!("{first}{}Exception", c.as_str())
            }
        }
    }

    /// Builds the error for a non-2xx upstream answer, classified as LiteLLM 1.110.2 does for
    /// `provider` (Anthropic and the OpenAI family each have their own table).
    pub fn from_upstream(
        status: u16,
        headers: Vec<(String, String)>,
        body: &[u8],
        provider: &str,
    ) -> Self {
        let parsed: Option<Value> = serde_json::from_slice(body).ok();
        let detail = parsed.as_ref().map(|v| v.get("error").unwrap_or(v));
        let message = detail
            .and_then(|d| match d {
                Value::String(s) => Some(s.clone()),
                _ => d
                    .get("message")
                    .or_else(|| d.get("detail"))
                    .and_then(|m| m.as_str().map(str::to_string)),
            })
            .unwrap_or_else(|| String::from_utf8_lossy(body).trim().to_string());
        let code = detail.and_then(|d| d.get("code")).cloned();
        let param = detail.and_then(|d| d.get("param")).cloned();
        let raw = String::from_utf8_lossy(body).into_owned();
        let mut provider_fields = None;
        let (kind, status_out) = match family(provider) {
            Family::Anthropic => anthropic_kind(status, &raw),
            Family::Azure => {
                let k = azure_kind(status, &message, code.as_ref(), detail);
                if k.0 == ErrorKind::ContentPolicyViolation {
                    provider_fields = azure_filter_fields(parsed.as_ref());
                }
                k
            }
            Family::OpenAi => openai_kind(status, &message, code.as_ref()),
            Family::Google | Family::Other => {
                let kind = classify(status, &message, code.as_ref());
                (kind, answer_status(status, kind))
            }
        };
        let retry_after = headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case("retry-after"))
            .map(|(_, v)| v.clone());
        let upstream_kind = detail
            .and_then(|d| d.get("type"))
            .and_then(Value::as_str)
            .map(str::to_string);
        LlmError(Box::new(LlmErrorData {
            kind,
            message,
            provider: provider.to_string(),
            model: None,
            status: status_out,
            retry_after,
            param: param.filter(|p| !p.is_null()),
            code: code.filter(|c| !c.is_null()),
            headers,
            upstream: Some(Upstream {
                status,
                body: raw,
                kind: upstream_kind,
            }),
            provider_fields,
            note: None,
        }))
    }

    /// LiteLLM's `UnsupportedParamsError`, worded as 1.110.2 prints it (Python list repr
    /// included): clients and scripts match on the hint.
    pub fn unsupported_params(provider: &str, params: &[&str], model: &str) -> Self {
        let list = format!(
            "[{}]",
            params
                .iter()
                .map(|p| format!("'{p}'"))
                .collect::<Vec<_>>()
                .join(", ")
        );
        LlmError::new(
            ErrorKind::UnsupportedParams,
            format!(
                "{provider} does not support parameters: {list}, for model={model}. To drop these, set `litellm.drop_params=True` or for proxy:\n\n`litellm_settings:\n drop_params: true`\n. \n If you want to use these params dynamically send allowed_openai_params={list} in your request."
            ),
        )
        .with_provider(provider)
    }

    /// A provider overload: Anthropic's 529 (or `overloaded_error` in a 5xx) and OpenAI's 529.
    /// LiteLLM raises it as a 500 class but its proxy answers 503 `server_is_overloaded`.
    pub fn is_overloaded(&self) -> bool {
        let Some(u) = &self.upstream else {
            return false;
        };
        match family(&self.provider) {
            Family::Anthropic => {
                u.status >= 500 && (u.status == 529 || is_anthropic_overload(&u.body))
            }
            Family::OpenAi => u.status == 529,
            Family::Azure | Family::Google | Family::Other => false,
        }
    }

    /// The error `type` LiteLLM's proxy answers with on chat routes: the overload's; the
    /// upstream's own for the OpenAI classes that keep the body; the two classes that set one
    /// (`throttling_error`, `internal_server_error`); else the answered status's.
    pub fn proxy_type(&self) -> &str {
        if self.is_overloaded() {
            return "service_unavailable_error";
        }
        let keeps_body = family(&self.provider) == Family::OpenAi
            && matches!(
                self.kind,
                ErrorKind::BadRequest
                    | ErrorKind::ContextWindowExceeded
                    | ErrorKind::ContentPolicyViolation
            );
        match (&self.upstream, self.kind) {
            (Some(Upstream { kind: Some(k), .. }), _) if keeps_body => k,
            (_, ErrorKind::RateLimit) => "throttling_error",
            (_, ErrorKind::InternalServer) => "internal_server_error",
            _ => match self.status {
                401 => "authentication_error",
                403 => "permission_error",
                429 => "rate_limit_error",
                s if s < 500 => "invalid_request_error",
                _ => "internal_server_error",
            },
        }
    }

    /// The `code` LiteLLM's proxy answers with: the status as a string, or `server_is_overloaded`.
    pub fn proxy_code(&self) -> String {
        if self.is_overloaded() {
            "server_is_overloaded".into()
        } else {
            self.status.to_string()
        }
    }

    /// The `param` LiteLLM's proxy answers with: the upstream's, where LiteLLM keeps the upstream
    /// body (the OpenAI family's 400/422/429/500 classes; never Anthropic's, whose bodies name
    /// none); our own (`with_param`) always.
    pub fn proxy_param(&self) -> Option<&Value> {
        let from_upstream = self.upstream.is_some();
        let kept = !from_upstream
            || (family(&self.provider) == Family::OpenAi
                && matches!(
                    self.kind,
                    ErrorKind::BadRequest
                        | ErrorKind::ContextWindowExceeded
                        | ErrorKind::ContentPolicyViolation
                        | ErrorKind::RateLimit
                        | ErrorKind::InternalServer
                ));
        self.param.as_ref().filter(|_| kept)
    }

    /// Maps a transport error (connect, timeout, broken body).
    pub fn from_transport(err: &reqwest::Error, provider: &str) -> Self {
        Self::transport(None, err, err.is_timeout(), provider)
    }

    /// A failure to reach the upstream or read its answer: `lead` (what was being done), then
    /// the error and its causes, as reqwest words its own.
    pub(crate) fn transport(
        lead: Option<&str>,
        err: &(dyn std::error::Error + 'static),
        timeout: bool,
        provider: &str,
    ) -> Self {
        let kind = if timeout {
            ErrorKind::Timeout
        } else {
            ErrorKind::ApiConnection
        };
        let mut msg = lead.map(|l| format!("{l}: ")).unwrap_or_default();
        msg.push_str(&err.to_string());
        let mut src = err.source();
        while let Some(s) = src {
            msg.push_str(": ");
            msg.push_str(&s.to_string());
            src = s.source();
        }
        if kind == ErrorKind::Timeout {
            msg = format!("Request timed out. {msg}");
        }
        LlmError::new(kind, msg).with_provider(provider)
    }

    /// Masks `secrets` (the credentials the request carried) wherever the error would show
    /// them to the client: message, `param`, `code`, the upstream's headers. An upstream that
    /// quotes the key it was sent ("Incorrect API key provided: sk-...") must not hand the
    /// deployment's key to whoever made the call.
    pub fn redact(mut self, secrets: &[String]) -> Self {
        if secrets.is_empty() {
            return self;
        }
        let d = &mut *self.0;
        if let Some(m) = mask_secrets(&d.message, secrets) {
            d.message = m;
        }
        for v in [&mut d.param, &mut d.code].into_iter().flatten() {
            redact_value(v, secrets);
        }
        for (_, v) in &mut d.headers {
            if let Some(m) = mask_secrets(v, secrets) {
                *v = m;
            }
        }
        if let Some(u) = d.upstream.as_mut() {
            if let Some(m) = mask_secrets(&u.body, secrets) {
                u.body = m;
            }
        }
        self
    }

    pub fn timeout(provider: &str, secs: f64) -> Self {
        LlmError::new(
            ErrorKind::Timeout,
            format!("Request timed out after {secs} seconds."),
        )
        .with_provider(provider)
    }
}

/// The status we answer with: the kind's, except that an unusual 4xx (409, 418, ...) is kept.
fn answer_status(upstream: u16, kind: ErrorKind) -> u16 {
    match upstream {
        400 | 401 | 403 | 404 | 408 | 413 | 422 | 429 => kind.status(),
        s if (400..500).contains(&s) && kind == ErrorKind::BadRequest => s,
        _ => kind.status(),
    }
}

/// Which of LiteLLM's exception tables a provider's errors go through.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Family {
    Anthropic,
    /// `_map_azure_exception`: Azure's own class names in messages, content-filter details.
    Azure,
    /// `_map_openai_exception` as LiteLLM applies it to OpenAI itself (verified per status).
    OpenAi,
    /// `_map_vertex_exception` (Gemini, Vertex AI): the adapter writes LiteLLM's whole message,
    /// whose prefix depends on the rule that fired (`providers/gemini/errors.rs`).
    Google,
    /// Everything else: LiteLLM's generic status table.
    Other,
}

fn family(provider: &str) -> Family {
    match provider {
        "anthropic" | "anthropic_text" => Family::Anthropic,
        "azure" | "azure_text" => Family::Azure,
        "openai" | "openai_compatible" | "custom_openai" | "text-completion-openai" => {
            Family::OpenAi
        }
        // Mistral and LiteLLM's `openai_compatible_providers` (those llmgate has rows for) go
        // through `_map_openai_exception` too; OpenRouter's own table classes statuses alike.
        "mistral" | "codestral" | "openrouter" | "groq" | "deepseek" | "together_ai"
        | "fireworks_ai" | "xai" | "perplexity" | "deepinfra" | "cerebras" | "nvidia_nim"
        | "hosted_vllm" | "lm_studio" | "llamafile" | "xinference" | "sambanova" | "moonshot"
        | "dashscope" | "nebius" | "github" | "anyscale" | "novita" | "hyperbolic"
        | "lambda_ai" | "nscale" | "featherless_ai" | "friendliai" | "volcengine" | "zai"
        | "azure_ai" => Family::OpenAi,
        "gemini" | "vertex_ai" => Family::Google,
        _ => Family::Other,
    }
}

fn is_anthropic_overload(raw: &str) -> bool {
    raw.contains("overloaded_error") || raw.contains("Overloaded")
}

fn is_anthropic_context_window(raw: &str) -> bool {
    raw.contains("prompt is too long")
        || raw.contains("prompt: length")
        || is_context_window_message(&raw.to_ascii_lowercase())
}

/// LiteLLM's `_map_anthropic_exception`: text checks on the raw body first, then the status.
/// Returns the kind and the status the gateway answers (an overload: 503, as LiteLLM's proxy).
fn anthropic_kind(status: u16, raw: &str) -> (ErrorKind, u16) {
    if is_anthropic_context_window(raw) {
        return (ErrorKind::ContextWindowExceeded, 400);
    }
    if is_anthropic_overload(raw) {
        return (
            ErrorKind::InternalServer,
            if status >= 500 { 503 } else { 500 },
        );
    }
    if raw.contains("Invalid API Key") {
        return (ErrorKind::Authentication, 401);
    }
    if raw.contains("content filtering policy") {
        return (ErrorKind::ContentPolicyViolation, 400);
    }
    match status {
        400 | 413 => (ErrorKind::BadRequest, 400),
        401 => (ErrorKind::Authentication, 401),
        403 => (ErrorKind::PermissionDenied, 403),
        404 => (ErrorKind::NotFound, 404),
        408 | 504 => (ErrorKind::Timeout, status),
        429 => (ErrorKind::RateLimit, 429),
        500 => (ErrorKind::InternalServer, 500),
        529 => (ErrorKind::InternalServer, 503),
        502 => (ErrorKind::BadGateway, 502),
        503 => (ErrorKind::ServiceUnavailable, 503),
        s if s < 500 => (ErrorKind::BadRequest, s),
        s => (ErrorKind::Api, s),
    }
}

/// LiteLLM's `_map_openai_exception`: rate limit and context window first, then the status;
/// a status it has no class for is an `APIError` answered with the upstream's status.
fn openai_kind(status: u16, message: &str, code: Option<&Value>) -> (ErrorKind, u16) {
    let lower = message.to_ascii_lowercase();
    let code = code.and_then(|c| c.as_str()).unwrap_or("");
    if status == 429 {
        return (ErrorKind::RateLimit, 429);
    }
    if code == "context_length_exceeded" || is_context_window_message(&lower) {
        return (ErrorKind::ContextWindowExceeded, 400);
    }
    if status == 400 && (code == "content_policy_violation" || code == "content_filter") {
        return (ErrorKind::ContentPolicyViolation, 400);
    }
    match status {
        400 | 422 => (ErrorKind::BadRequest, status),
        401 => (ErrorKind::Authentication, 401),
        404 => (ErrorKind::NotFound, 404),
        408 | 504 => (ErrorKind::Timeout, status),
        500 => (ErrorKind::InternalServer, 500),
        502 => (ErrorKind::BadGateway, 502),
        503 => (ErrorKind::ServiceUnavailable, 503),
        // An overload: LiteLLM's proxy answers 503 `server_is_overloaded`.
        529 => (ErrorKind::Api, 503),
        s => (ErrorKind::Api, s),
    }
}

/// Azure as LiteLLM 1.110.2 maps it (checked against it): a content filter (`content_filter` /
/// `content_policy_violation`, or an inner `ResponsibleAIPolicyViolation`), a missing deployment,
/// a context window, then the status; a 500 is LiteLLM's `APIError`.
fn azure_kind(
    status: u16,
    message: &str,
    code: Option<&Value>,
    detail: Option<&Value>,
) -> (ErrorKind, u16) {
    let code = code.and_then(|c| c.as_str()).unwrap_or("");
    let inner = detail
        .and_then(|d| d.get("inner_error").or_else(|| d.get("innererror")))
        .and_then(|i| i.get("code"))
        .and_then(Value::as_str);
    if matches!(code, "content_filter" | "content_policy_violation")
        || inner == Some("ResponsibleAIPolicyViolation")
    {
        return (ErrorKind::ContentPolicyViolation, 400);
    }
    if message.contains("Internal server error") {
        return (ErrorKind::InternalServer, 500);
    }
    if code == "DeploymentNotFound" || message.contains("DeploymentNotFound") {
        return (ErrorKind::NotFound, 404);
    }
    let lower = message.to_ascii_lowercase();
    if matches!(status, 400 | 413)
        && (code == "context_length_exceeded" || is_context_window_message(&lower))
    {
        return (ErrorKind::ContextWindowExceeded, 400);
    }
    match status {
        400 | 422 => (ErrorKind::BadRequest, status),
        401 => (ErrorKind::Authentication, 401),
        404 => (ErrorKind::NotFound, 404),
        408 | 504 => (ErrorKind::Timeout, status),
        429 => (ErrorKind::RateLimit, 429),
        502 => (ErrorKind::BadGateway, 502),
        503 => (ErrorKind::ServiceUnavailable, 503),
        s => (ErrorKind::Api, s),
    }
}

/// LiteLLM's `provider_specific_fields` for an Azure content filter: the inner error under both
/// spellings, and Azure's whole error object.
fn azure_filter_fields(body: Option<&Value>) -> Option<Value> {
    let body = body?;
    let azure_error = body.get("error").filter(|e| e.is_object()).unwrap_or(body);
    let inner = azure_error
        .get("inner_error")
        .or_else(|| azure_error.get("innererror"))
        .or_else(|| body.get("innererror"))
        .or_else(|| body.get("inner_error"))
        .cloned()
        .unwrap_or(Value::Null);
    Some(serde_json::json!({
        "innererror": inner,
        "inner_error": inner,
        "azure_error": azure_error,
    }))
}

/// Chooses the kind from status and message: a context-window or content-policy error
/// arrives as a plain 400 and is only recognisable from its text.
fn classify(status: u16, message: &str, code: Option<&Value>) -> ErrorKind {
    let lower = message.to_ascii_lowercase();
    let code = code.and_then(|c| c.as_str()).unwrap_or("");
    if code == "context_length_exceeded" || is_context_window_message(&lower) {
        return ErrorKind::ContextWindowExceeded;
    }
    if status == 400 && (code == "content_policy_violation" || code == "content_filter") {
        return ErrorKind::ContentPolicyViolation;
    }
    ErrorKind::from_status(status)
}

fn is_context_window_message(lower: &str) -> bool {
    const PATTERNS: &[&str] = &[
        "context_length_exceeded",
        "maximum context length",
        "context length exceeded",
        "context window",
        "prompt is too long",
        "exceeds the maximum number of tokens",
        "input is too long",
        "too many tokens",
        "exceeds the maximum number of tokens",
        "reduce the length of the messages",
        "input token count",
    ];
    PATTERNS.iter().any(|p| lower.contains(p))
}

impl fmt::Display for LlmError {
    /// LiteLLM's message, in the form its mapping gives each provider: OpenAI's
    /// `litellm.RateLimitError: RateLimitError: OpenAIException - <message>` (no repeated class
    /// for a bad request), Anthropic's `litellm.BadRequestError: AnthropicException - <raw body>`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.fmt_message(f)?;
        match &self.note {
            Some(n) => f.write_str(n),
            None => Ok(()),
        }
    }
}

impl LlmError {
    fn fmt_message(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let class = self.kind.class_name();
        let provider = self.provider_exception();
        if provider.is_empty() || self.kind == ErrorKind::UnsupportedParams {
            return write!(f, "litellm.{class}: {}", self.message);
        }
        match (family(&self.provider), &self.upstream) {
            (Family::Anthropic, Some(u)) => {
                let raw = &u.body;
                match self.kind {
                    ErrorKind::ContextWindowExceeded => write!(
                        f,
                        "litellm.{class}: litellm.BadRequestError: AnthropicError - {raw}"
                    ),
                    ErrorKind::InternalServer if is_anthropic_overload(raw) => {
                        write!(f, "litellm.{class}: AnthropicError - {raw}")
                    }
                    ErrorKind::Authentication if raw.contains("Invalid API Key") => {
                        write!(f, "litellm.{class}: AnthropicError - {raw}")
                    }
                    ErrorKind::ContentPolicyViolation => {
                        write!(f, "litellm.{class}: AnthropicError - {raw}")
                    }
                    ErrorKind::InternalServer | ErrorKind::ServiceUnavailable => write!(
                        f,
                        "litellm.{class}: AnthropicException - {raw}. Handle with `litellm.{class}`."
                    ),
                    ErrorKind::BadGateway => {
                        write!(f, "litellm.{class}: AnthropicException BadGatewayError - {raw}")
                    }
                    ErrorKind::Timeout if u.status == 504 => {
                        write!(f, "litellm.{class}: AnthropicException Timeout - {raw}")
                    }
                    _ => write!(f, "litellm.{class}: AnthropicException - {raw}"),
                }
            }
            (Family::OpenAi, Some(_)) => {
                let m = &self.message;
                match self.kind {
                    ErrorKind::BadRequest => write!(f, "litellm.{class}: {provider} - {m}"),
                    ErrorKind::Timeout => {
                        write!(f, "litellm.{class}: Timeout Error: {provider} - {m}")
                    }
                    ErrorKind::ContextWindowExceeded => write!(
                        f,
                        "litellm.{class}: litellm.BadRequestError: {class}: {provider} - {m}"
                    ),
                    _ => write!(f, "litellm.{class}: {class}: {provider} - {m}"),
                }
            }
            (Family::Azure, Some(_)) => {
                let m = &self.message;
                match self.kind {
                    ErrorKind::ContentPolicyViolation => {
                        write!(f, "litellm.BadRequestError: litellm.{class}: {m}")
                    }
                    ErrorKind::ContextWindowExceeded => write!(
                        f,
                        "litellm.{class}: litellm.BadRequestError: {provider} {class} - {m}"
                    ),
                    ErrorKind::BadRequest if self.status == 400 => {
                        write!(f, "litellm.{class}: {provider} - {m}")
                    }
                    _ => write!(f, "litellm.{class}: {provider} {class} - {m}"),
                }
            }
            (Family::Google, Some(_)) => f.write_str(&self.message),
            _ => write!(f, "litellm.{class}: {class}: {provider} - {}", self.message),
        }
    }
}

impl std::error::Error for LlmError {}
