//! The gateway's one error type, mapped once to LiteLLM's error body and status.

use axum::http::{HeaderName, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use llmgate::{ErrorKind, LlmError};
use serde_json::{json, Value};

#[derive(Debug)]
pub enum GatewayError {
    /// From the SDK: upstream failures, bad params, unknown providers.
    Llm(LlmError),
    /// Missing or wrong key.
    Auth(String),
    /// A request we refuse before any upstream is involved.
    BadRequest(String),
    /// A request body over `max_request_size_mb` (or a route's own cap): 413.
    TooLarge(String),
    /// A request body that did not arrive in time: 408.
    SlowRequest(String),
    /// A well-formed request whose values cannot be used (a bad `limit`): 422, as FastAPI.
    Unprocessable(String),
    /// A model name with no deployment.
    UnknownModel {
        route: &'static str,
        model: String,
    },
    NotFound(String),
    /// A 404 about one request field (LiteLLM's `param`, e.g. `key` on `/key/info`).
    NotFoundParam {
        message: String,
        param: &'static str,
    },
    Internal(String),
    /// A key may not do this (model access, admin routes).
    Forbidden {
        message: String,
        kind: &'static str,
    },
    /// A budget is spent: LiteLLM answers 400 with type `budget_exceeded`.
    BudgetExceeded(String),
    /// Key management without a database.
    NoDb,
    /// The database is down and the answer needs it.
    Unavailable(String),
    /// A key, user, team or end user is over its rpm/tpm/parallel limit.
    RateLimited {
        message: String,
        limit_type: String,
        retry_after: String,
        reset_at: String,
    },
    /// A guardrail refused the request or the answer, with its `HTTPException.detail` (a
    /// message, or an object): a 400 as LiteLLM 1.110's proxy relays it.
    Guardrail(Value),
    /// A guardrail refused and asked to answer 200 with this reply instead; an endpoint that
    /// cannot (`Endpoint::guardrail_answer`) answers it as a [`GatewayError::Guardrail`] 400.
    GuardrailAnswer(String),
}

impl From<LlmError> for GatewayError {
    fn from(e: LlmError) -> Self {
        GatewayError::Llm(e)
    }
}

/// A guardrail's detail as LiteLLM's proxy serializes it (`serialize_http_exception_detail`):
/// a string is the message; an object's `error` (or `error.message`, or `message`) is, and
/// the whole object goes in `provider_specific_fields`.
fn guardrail_message(detail: &Value) -> (String, Option<&Value>) {
    let Value::Object(o) = detail else {
        let m = detail
            .as_str()
            .map_or_else(|| detail.to_string(), str::to_string);
        return (m, None);
    };
    let message = o
        .get("error")
        .and_then(|e| e.as_str().or_else(|| e.get("message")?.as_str()))
        .or_else(|| o.get("message")?.as_str())
        .map_or_else(|| detail.to_string(), str::to_string);
    (message, Some(detail))
}

impl GatewayError {
    /// A store failure as a client sees it: the detail is logged, never sent (database error
    /// text names tables, columns and values). A value the database refuses is the request's
    /// fault (400); anything else is ours (500).
    pub fn store(e: llmgate_store::StoreError) -> GatewayError {
        if e.is_refusal() {
            tracing::warn!(error = %e, "the database refused a value of a request");
            GatewayError::BadRequest("the database refused a value of this request".into())
        } else if e.is_unavailable() {
            tracing::warn!(error = %e, "the database is unavailable");
            GatewayError::Unavailable("the database is unavailable; try again shortly".into())
        } else {
            tracing::error!(error = %e, "database error");
            GatewayError::Internal("the database could not complete the request".into())
        }
    }

    pub fn status(&self) -> u16 {
        match self {
            GatewayError::Llm(e) => e.status,
            GatewayError::Auth(_) => 401,
            GatewayError::BadRequest(_)
            | GatewayError::UnknownModel { .. }
            | GatewayError::Guardrail(_)
            | GatewayError::GuardrailAnswer(_) => 400,
            GatewayError::TooLarge(_) => 413,
            GatewayError::SlowRequest(_) => 408,
            GatewayError::Unprocessable(_) => 422,
            GatewayError::NotFound(_) | GatewayError::NotFoundParam { .. } => 404,
            GatewayError::Internal(_) => 500,
            GatewayError::Forbidden { .. } => 403,
            GatewayError::BudgetExceeded(_) | GatewayError::NoDb => 400,
            GatewayError::Unavailable(_) => 503,
            GatewayError::RateLimited { .. } => 429,
        }
    }

    /// `{"error": {"message", "type", "param", "code"}}` as LiteLLM's proxy writes it: `code` is
    /// the status as a string, `param` and `type` are strings or null.
    pub fn body(&self) -> Value {
        let status = self.status().to_string();
        let (message, kind, param): (String, Value, Value) = match self {
            // LiteLLM's proxy picks `type`, `code` and `param` per class and provider (the
            // SDK knows which).
            GatewayError::Llm(e) => {
                let mut err = json!({
                    "message": e.to_string(), "type": e.proxy_type(),
                    "param": e.proxy_param(), "code": e.proxy_code(),
                });
                if let Some(f) = &e.provider_fields {
                    err["provider_specific_fields"] = f.clone();
                }
                return json!({ "error": err });
            }
            GatewayError::Auth(m) => (m.clone(), json!("auth_error"), Value::Null),
            GatewayError::GuardrailAnswer(text) => {
                return GatewayError::Guardrail(json!(text)).body();
            }
            GatewayError::Guardrail(detail) => {
                let (message, fields) = guardrail_message(detail);
                let mut err = json!({
                    "message": message, "type": "invalid_request_error", "param": null, "code": status,
                });
                if let Some(f) = fields {
                    err["provider_specific_fields"] = f.clone();
                }
                return json!({ "error": err });
            }
            GatewayError::BadRequest(m)
            | GatewayError::TooLarge(m)
            | GatewayError::SlowRequest(m)
            | GatewayError::Unprocessable(m) => {
                (m.clone(), json!("invalid_request_error"), Value::Null)
            }
            GatewayError::UnknownModel { route, model } => {
                // LiteLLM prints Python's `None` for a request without a model.
                let model = if model.is_empty() {
                    "None"
                } else {
                    model.as_str()
                };
                let message = format!(
                    "{route}: Invalid model name passed in model={model}. Call `/v1/models` to view available models for your key."
                );
                return json!({"error": {
                    "message": message, "type": "invalid_request_error", "param": null, "code": status,
                    "provider_specific_fields": {"error": message},
                }});
            }
            GatewayError::NotFound(m) => (m.clone(), json!("not_found_error"), Value::Null),
            GatewayError::NotFoundParam { message, param } => {
                (message.clone(), json!("not_found_error"), json!(param))
            }
            GatewayError::Internal(m) => (m.clone(), json!("internal_server_error"), Value::Null),
            GatewayError::Forbidden { message, kind } => {
                (message.clone(), json!(kind), Value::Null)
            }
            GatewayError::BudgetExceeded(m) => (m.clone(), json!("budget_exceeded"), Value::Null),
            GatewayError::NoDb => (
                "No connected db.".into(),
                json!("no_db_connection"),
                Value::Null,
            ),
            GatewayError::Unavailable(m) => (m.clone(), json!("service_unavailable"), Value::Null),
            GatewayError::RateLimited { message, .. } => (
                format!("litellm.RateLimitError: {message}"),
                json!("throttling_error"),
                Value::Null,
            ),
        };
        json!({"error": {"message": message, "type": kind, "param": param, "code": status}})
    }

    /// The body in a route's error shape: OpenAI's (every route but Anthropic's), or
    /// Anthropic's `{"type": "error", "error": {"type", "message"}}` on `/v1/messages`.
    pub fn body_in(&self, shape: ErrorShape) -> Value {
        match shape {
            ErrorShape::OpenAi => self.body(),
            ErrorShape::Anthropic => {
                let message = self.body()["error"]["message"]
                    .as_str()
                    .unwrap_or_default()
                    .to_string();
                let kind = match self.status() {
                    400 | 408 | 422 => "invalid_request_error",
                    401 => "authentication_error",
                    402 => "billing_error",
                    403 => "permission_error",
                    404 => "not_found_error",
                    413 => "request_too_large",
                    429 => "rate_limit_error",
                    503 | 529 => "overloaded_error",
                    _ => "api_error",
                };
                let mut out = json!({"type": "error", "error": {"type": kind, "message": message}});
                // A guardrail's detail travels along, as LiteLLM's Anthropic route sends it.
                if let GatewayError::Guardrail(d @ Value::Object(_)) = self {
                    out["error"]["provider_specific_fields"] = d.clone();
                }
                out
            }
        }
    }

    /// The answer in a route's error shape (status and headers as [`IntoResponse`]).
    pub fn into_response_in(self, shape: ErrorShape) -> Response {
        if shape == ErrorShape::OpenAi {
            return self.into_response();
        }
        let body = self.body_in(shape);
        let mut res = self.into_response();
        *res.body_mut() = axum::body::Body::from(body.to_string());
        res.headers_mut().remove(axum::http::header::CONTENT_LENGTH);
        res
    }

    pub fn kind(&self) -> Option<ErrorKind> {
        match self {
            GatewayError::Llm(e) => Some(e.kind),
            _ => None,
        }
    }
}

/// The error shape a route answers in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ErrorShape {
    OpenAi,
    Anthropic,
}

impl ErrorShape {
    /// The shape of a path's errors before its handler runs (the auth middleware's).
    pub fn of_path(path: &str) -> ErrorShape {
        let p = path.strip_prefix("/v1").unwrap_or(path);
        if p == "/messages" || p.starts_with("/messages/") {
            ErrorShape::Anthropic
        } else {
            ErrorShape::OpenAi
        }
    }
}

impl IntoResponse for GatewayError {
    fn into_response(self) -> Response {
        let status =
            StatusCode::from_u16(self.status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        let mut res = (status, axum::Json(self.body())).into_response();
        if let GatewayError::RateLimited {
            limit_type,
            retry_after,
            reset_at,
            ..
        } = &self
        {
            for (name, v) in [
                ("retry-after", retry_after),
                ("rate_limit_type", limit_type),
                ("reset_at", reset_at),
            ] {
                if let Ok(v) = HeaderValue::from_str(v) {
                    res.headers_mut().insert(HeaderName::from_static(name), v);
                }
            }
        }
        if let GatewayError::Llm(e) = &self {
            if let Some(ra) = e
                .retry_after
                .as_deref()
                .and_then(|v| HeaderValue::from_str(v).ok())
            {
                res.headers_mut()
                    .insert(HeaderName::from_static("retry-after"), ra);
            }
        }
        res
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A guardrail's detail as LiteLLM 1.110's proxy serializes it.
    #[test]
    fn guardrail_details_as_litellm_serializes_them() {
        let detail = json!({"error": "Violated guardrail policy", "guardrail_name": "g"});
        assert_eq!(
            GatewayError::Guardrail(detail.clone()).body(),
            json!({"error": {"message": "Violated guardrail policy", "type": "invalid_request_error",
                "param": null, "code": "400", "provider_specific_fields": detail}})
        );
        assert_eq!(
            GatewayError::Guardrail(json!("forbidden topic")).body(),
            json!({"error": {"message": "forbidden topic", "type": "invalid_request_error",
                "param": null, "code": "400"}})
        );
        let nested = json!({"error": {"message": "nested"}});
        assert_eq!(guardrail_message(&nested).0, "nested");
        assert_eq!(guardrail_message(&json!({"message": "m"})).0, "m");
        assert_eq!(guardrail_message(&json!({"x": 1})).0, "{\"x\":1}");
        // Anthropic's shape keeps the fields; a reply-instead refusal is a plain 400 elsewhere.
        let a = GatewayError::Guardrail(detail.clone()).body_in(ErrorShape::Anthropic);
        assert_eq!(a["error"]["provider_specific_fields"], detail);
        assert_eq!(
            GatewayError::GuardrailAnswer("no".into()).body()["error"]["message"],
            "no"
        );
    }
}
