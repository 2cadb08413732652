//! `"model": "a,b"`: LiteLLM's batch completion, one full call per model.

use super::*;

/// Most models one comma-separated request may fan out to.
const MAX_BATCH_MODELS: usize = 16;

/// One full call per model (each admitted, limited and charged on its own), concurrently;
/// answered as LiteLLM's `abatch_completion` is: a JSON list of the answers, a failed model's
/// error body in its place.
pub(super) async fn batch(
    state: AppState,
    auth: AuthContext,
    forward: Vec<(String, String)>,
    cache_control: Option<String>,
    body: Bytes,
    model: &str,
) -> Response {
    let models: Vec<String> = model
        .split(',')
        .map(|m| m.trim().to_string())
        .filter(|m| !m.is_empty())
        .collect();
    if models.len() > MAX_BATCH_MODELS {
        return GatewayError::BadRequest(format!(
            "at most {MAX_BATCH_MODELS} comma-separated models per request, got {}",
            models.len()
        ))
        .into_response();
    }
    let Ok(Value::Object(template)) = serde_json::from_slice::<Value>(&body) else {
        return GatewayError::BadRequest("the request body is not a JSON object".into())
            .into_response();
    };
    let calls = models.into_iter().map(|m| {
        let mut one = template.clone();
        one.insert("model".into(), Value::String(m));
        let body = Bytes::from(serde_json::to_vec(&one).unwrap_or_default());
        // Boxed: `handle` is what sent the request here.
        // Each model's call has spans of its own.
        let trace = state
            .gov
            .observe
            .as_ref()
            .and_then(|o| o.trace(&axum::http::HeaderMap::new()));
        Box::pin(handle::<ChatCompletionRequest>(
            state.clone(),
            auth.clone(),
            None,
            forward.clone(),
            cache_control.clone(),
            body,
            trace,
        ))
    });
    let mut out = Vec::new();
    for res in futures::future::join_all(calls).await {
        let bytes = axum::body::to_bytes(res.into_body(), usize::MAX)
            .await
            .unwrap_or_default();
        out.push(serde_json::from_slice::<Value>(&bytes).unwrap_or(Value::Null));
    }
    axum::Json(Value::Array(out)).into_response()
}
