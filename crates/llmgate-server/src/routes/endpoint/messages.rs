//! `/v1/messages`: Anthropic's Messages API in front of every model, through the one handler
//! (keys, budgets, limits, routing and spend as on chat). The SDK passes Anthropic-family
//! upstreams the request natively and translates it through chat for every other one.
//! `/v1/messages/count_tokens` counts a request's input tokens.

use axum::Json;
use llmgate::messages::{EventStream, MessagesAnswer, MessagesEvent, MessagesRequest};
use serde_json::json;

use super::*;
use crate::governance::access;

impl Endpoint for MessagesRequest {
    const ROUTE: &'static str = "/v1/messages";
    const CALL_TYPE: &'static str = "anthropic_messages";
    const ERROR_SHAPE: ErrorShape = ErrorShape::Anthropic;
    /// The client's API version and betas reach an Anthropic-family upstream (the SDK drops
    /// them for any other).
    const FORWARDED_HEADERS: &'static [&'static str] = &["anthropic-beta", "anthropic-version"];
    type Answer = MessagesAnswer;
    type Chunk = MessagesEvent;
    type Chunks = EventStream;

    fn request_texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        if let Some(sys) = self.system.as_mut() {
            super::guarded::value_texts(sys, f);
        }
        for m in &mut self.messages {
            if let Some(c) = m.get_mut("content") {
                super::guarded::value_texts(c, f);
            }
        }
    }
    fn answer_texts(a: &mut Self::Answer, f: &mut dyn FnMut(&mut String)) {
        if let Some(c) = a.body.get_mut("content") {
            super::guarded::value_texts(c, f);
        }
    }
    fn chunk_texts(c: &mut Self::Chunk, f: &mut dyn FnMut(&mut String, bool)) {
        // `content_block_delta`'s `text_delta`.
        if let Some(d) = c.data.get_mut("delta").and_then(Value::as_object_mut) {
            if d.get("type").and_then(Value::as_str) == Some("text_delta") {
                if let Some(Value::String(t)) = d.get_mut("text") {
                    f(t, false);
                }
            }
        }
    }

    fn model_mut(&mut self) -> &mut String {
        &mut self.model
    }
    fn extra_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.extra
    }
    fn extra(&self) -> &Map<String, Value> {
        &self.extra
    }
    fn missing_field(&self) -> Option<&'static str> {
        self.messages
            .is_empty()
            .then_some("messages: Field required (a non-empty list)")
    }
    fn is_stream(&self) -> bool {
        MessagesRequest::is_stream(self)
    }
    async fn call(self, client: Client, opts: Opts) -> SdkResult<Self::Answer> {
        client.messages(self, opts.get()).await
    }
    async fn call_stream(self, client: Client, opts: Opts) -> SdkResult<Self::Chunks> {
        client.messages_stream(self, opts.get()).await
    }
    fn finish<'a>(answer: &'a mut Self::Answer, group: &str) -> Option<&'a Usage> {
        answer.body.insert("model".into(), json!(group));
        Some(&answer.usage)
    }
    fn finish_chunk(c: &mut Self::Chunk, group: &str, _dep: &Deployment) {
        if c.kind() == "message_start" {
            if let Some(Value::Object(m)) = c.data.get_mut("message") {
                m.insert("model".into(), json!(group));
            }
        }
    }
    fn answer_id(a: &Self::Answer) -> Option<&str> {
        a.body.get("id").and_then(Value::as_str)
    }
    fn chunk_id(c: &Self::Chunk) -> Option<&str> {
        c.data.get("message")?.get("id")?.as_str()
    }
    /// Anthropic's streams always report usage; the SDK asks other upstreams for it.
    fn ask_usage(&mut self) -> bool {
        true
    }
    fn chunk_usage(c: &Self::Chunk) -> Option<&Usage> {
        c.usage.as_ref()
    }
    fn strip_usage(_c: &mut Self::Chunk) {}
    fn chunk_text(c: &Self::Chunk, out: &mut dyn FnMut(&str)) {
        let d = match c.kind() {
            "content_block_delta" => c.data.get("delta"),
            "content_block_start" => c.data.get("content_block"),
            _ => None,
        };
        for k in ["text", "thinking", "partial_json", "name"] {
            if let Some(t) = d.and_then(|d| d.get(k)).and_then(Value::as_str) {
                out(t);
            }
        }
    }
    fn prompt_tokens(&self, model: &str) -> u64 {
        llmgate::messages::client::local_count(self, model)
    }
    fn max_output(&self) -> Option<u64> {
        self.max_tokens
    }
    fn metadata(&self) -> Option<&Value> {
        self.metadata.as_ref()
    }
    fn end_user(&self) -> Option<String> {
        MessagesRequest::end_user(self)
    }
    fn tags(&self) -> Vec<String> {
        tags_in(self.metadata.as_ref(), &self.extra)
    }
    fn sse_format() -> SseFormat<Self::Chunk> {
        SseFormat {
            event: MessagesEvent::event_name,
            done: false,
            error: |e| (Some("error"), e.body_in(ErrorShape::Anthropic)),
        }
    }
    const CACHEABLE: bool = true;
    fn cached_answer(v: Value) -> Option<Self::Answer> {
        let Value::Object(body) = v else { return None };
        let usage = llmgate::messages::usage::to_openai(body.get("usage").unwrap_or(&Value::Null));
        Some(MessagesAnswer { body, usage })
    }
    fn cached_chunk(v: Value) -> Option<Self::Chunk> {
        v.is_object().then(|| MessagesEvent::new(v))
    }
    fn semantic_text(&self) -> Option<String> {
        super::cached::prompt_text(&serde_json::to_value(&self.messages).ok()?)
    }
}

/// `POST /v1/messages/count_tokens`: `{"input_tokens": n}`, from the provider's count where
/// it has one (Anthropic, Gemini, Vertex AI), else tiktoken. The key must be allowed the model.
pub async fn count_tokens(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let shape = ErrorShape::Anthropic;
    let mut req: MessagesRequest = match proxy::parse_body(&body) {
        Ok(r) => r,
        Err(e) => return e.into_response_in(shape),
    };
    let key = auth.key.as_deref();
    let group = access::alias(key, &req.model).unwrap_or_else(|| req.model.clone());
    let deployments = state.deployments();
    if let Some(k) = key {
        if !access::may_call(&deployments, k, &group) {
            return GatewayError::Forbidden {
                message: format!(
                    "key not allowed to access model. This key can only access models={:?}. Tried to access {group}",
                    k.row.models
                ),
                kind: "key_model_access_denied",
            }
            .into_response_in(shape);
        }
    }
    let Some((dep, model)) = deployments.peek(&group) else {
        return GatewayError::UnknownModel {
            route: "/v1/messages/count_tokens",
            model: group,
        }
        .into_response_in(shape);
    };
    proxy::strip_proxy_fields(&mut req.extra);
    req.model = model;
    let forward = forwarded(&headers, MessagesRequest::FORWARDED_HEADERS);
    let opts = Opts::for_call(dep, &forward, &ClientSide::default(), None);
    match state.client.messages_count_tokens(req, opts.get()).await {
        Ok(n) => Json(json!({"input_tokens": n})).into_response(),
        Err(e) => GatewayError::Llm(e.with_model(&group)).into_response_in(shape),
    }
}
