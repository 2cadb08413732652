//! One handler for every proxied OpenAI endpoint (chat, legacy completions, embeddings): parse,
//! check, strip proxy-only fields, call a deployment with retries, restamp the public model name,
//! price the call, answer as JSON or as an SSE stream. What differs per endpoint is the
//! [`Endpoint`] impl.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::Extension;
use futures::Stream;
use llmgate::{
    CallOptions, ChatCompletionChunk, ChatCompletionRequest, ChatCompletionResponse, ChunkStream,
    Client, CompletionChunkStream, CompletionRequest, CompletionResponse, EmbeddingRequest,
    EmbeddingResponse, LlmError, Usage,
};
use serde::de::DeserializeOwned;
use serde::Serialize;
use serde_json::{Map, Value};

use super::proxy::{
    self, call_with_retries, error_response, json_response, sse_response, CallMeta,
};
use crate::auth::AuthContext;
use crate::deployments::Deployment;
use crate::error::GatewayError;
use crate::keys::access;
use crate::state::AppState;

type SdkResult<T> = Result<llmgate::Response<T>, LlmError>;

pub trait Endpoint: DeserializeOwned + Clone + Send + Sync + 'static {
    /// The path LiteLLM names in errors (`/chat/completions`).
    const ROUTE: &'static str;
    /// LiteLLM's `call_type` in spend logs.
    const CALL_TYPE: &'static str;
    type Answer: Serialize + Send + 'static;
    type Chunk: Serialize + Send + 'static;
    type Chunks: Stream<Item = Result<Self::Chunk, LlmError>> + Send + 'static;

    fn model_mut(&mut self) -> &mut String;
    fn extra_mut(&mut self) -> &mut Map<String, Value>;
    /// A required field is missing: LiteLLM's message for it.
    fn missing_field(&self) -> Option<&'static str>;
    fn is_stream(&self) -> bool;
    fn call(
        self,
        client: Client,
        opts: Opts,
    ) -> impl Future<Output = SdkResult<Self::Answer>> + Send;
    fn call_stream(
        self,
        client: Client,
        opts: Opts,
    ) -> impl Future<Output = SdkResult<Self::Chunks>> + Send;
    /// Restamps the public model name; returns the usage to price.
    fn finish<'a>(answer: &'a mut Self::Answer, group: &str) -> Option<&'a Usage>;
    fn finish_chunk(chunk: &mut Self::Chunk, group: &str, deployment: &Deployment);
    /// Asks the upstream for a closing usage chunk (to price the stream); returns whether the
    /// client had asked for it itself.
    fn ask_usage(&mut self) -> bool {
        true
    }
    fn chunk_usage(_chunk: &Self::Chunk) -> Option<&Usage> {
        None
    }
    /// The request's `user` (the end user, for spend logs and end-user budgets).
    fn end_user(&self) -> Option<String>;
    /// Tags the request carries (`metadata.tags`, or LiteLLM's top-level `tags`).
    fn tags(&self) -> Vec<String>;
}

/// Tags from a `metadata` object or a top-level `tags` list.
fn tags_in(metadata: Option<&Value>, extra: &Map<String, Value>) -> Vec<String> {
    let from = |v: Option<&Value>| -> Vec<String> {
        v.and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|t| t.as_str().map(str::to_string))
            .collect()
    };
    let mut tags = from(metadata.and_then(|m| m.get("tags")));
    tags.extend(from(extra.get("metadata").and_then(|m| m.get("tags"))));
    tags.extend(from(extra.get("tags")));
    tags
}

/// A deployment's call options, or a copy with headers the client asked to forward.
pub enum Opts {
    Deployment(Arc<Deployment>),
    Custom(Box<CallOptions>),
}

impl Opts {
    fn get(&self) -> &CallOptions {
        match self {
            Opts::Deployment(d) => &d.opts,
            Opts::Custom(o) => o,
        }
    }

    /// Client headers passed on to the provider (Anthropic's `anthropic-beta`, as LiteLLM does);
    /// without any, the deployment's options are used as they are.
    fn for_call(dep: Arc<Deployment>, forward: &[(String, String)]) -> Opts {
        if forward.is_empty() {
            return Opts::Deployment(dep);
        }
        let mut o = dep.opts.clone();
        o.extra_headers.extend(forward.iter().cloned());
        Opts::Custom(Box::new(o))
    }
}

const FORWARDED_HEADERS: &[&str] = &["anthropic-beta"];

fn forwarded(headers: &HeaderMap) -> Vec<(String, String)> {
    FORWARDED_HEADERS
        .iter()
        .filter_map(|n| Some((n.to_string(), headers.get(*n)?.to_str().ok()?.to_string())))
        .collect()
}

pub async fn serve<E: Endpoint>(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle::<E>(state, auth, None, forwarded(&headers), body).await
}

/// Azure-style and engine paths name the model in the URL.
pub async fn serve_for_model<E: Endpoint>(
    State(state): State<AppState>,
    Path(model): Path<String>,
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    handle::<E>(state, auth, Some(model), forwarded(&headers), body).await
}

async fn handle<E: Endpoint>(
    state: AppState,
    auth: AuthContext,
    path_model: Option<String>,
    forward: Vec<(String, String)>,
    body: Bytes,
) -> Response {
    let start = Instant::now();
    let mut req: E = match proxy::parse_body(&body) {
        Ok(r) => r,
        Err(e) => return error_response(e, None),
    };
    if let Some(m) = path_model {
        *req.model_mut() = m;
    }
    if let Some(msg) = req.missing_field() {
        return error_response(GatewayError::BadRequest(msg.into()), None);
    }
    // Read before the proxy-only fields (`metadata` among them) are stripped.
    let request_tags = req.tags();
    proxy::strip_proxy_fields(req.extra_mut());
    let requested = std::mem::take(req.model_mut());
    let end_user = req.end_user();
    let mut owners = match &auth.key {
        Some(key) => match access::check(&state, key, &requested).await {
            Ok(o) => o,
            Err(e) => return error_response(e, None),
        },
        None => access::Owners::default(),
    };
    // A key's `aliases` send a model name to another group; access is checked on the name
    // the key asked for.
    let group = access::alias(auth.key.as_deref(), &requested).unwrap_or(requested);
    if let Err(e) = access::check_end_user(&state, &mut owners, end_user.as_deref()).await {
        return error_response(e, None);
    }
    if let Err(e) = access::check_tags(&state, &mut owners, &auth, request_tags).await {
        return error_response(e, None);
    }
    let (scopes, parallel) = access::limit_scopes(auth.key.as_deref(), &owners, &group);
    let mut slot = match state
        .limiter
        .admit(&scopes, parallel.as_ref().map(|(k, n)| (k.as_str(), *n)))
    {
        Ok(s) => s,
        Err(e) => return error_response(e, None),
    };
    owners.limits = scopes;
    let mut limit_headers = std::mem::take(&mut slot.headers);
    // LiteLLM's `x-litellm-key-*` headers, Python-formatted ("None" when unset).
    let key = auth.key.as_ref().map(|k| &k.row);
    let py_int = |v: Option<i64>| v.map_or("None".into(), |n| n.to_string());
    limit_headers.push((
        "x-litellm-key-tpm-limit".into(),
        py_int(key.and_then(|k| k.tpm_limit)),
    ));
    limit_headers.push((
        "x-litellm-key-rpm-limit".into(),
        py_int(key.and_then(|k| k.rpm_limit)),
    ));
    limit_headers.push((
        "x-litellm-key-max-budget".into(),
        key.and_then(|k| k.max_budget)
            .map_or("None".into(), proxy::py_float),
    ));
    let spend_before = auth.key.as_ref().map_or(0.0, |k| k.spend());
    // With spend tracking, a stream is priced from the upstream's usage chunk.
    let client_wants_usage = if state.spend.is_some() && req.is_stream() {
        req.ask_usage()
    } else {
        true
    };
    let call = |model: String| {
        let mut r = req.clone();
        *r.model_mut() = model;
        (r, state.client.clone())
    };
    if req.is_stream() {
        let res = call_with_retries(&state, E::ROUTE, &group, start, |dep, model| {
            let (r, client) = call(model);
            r.call_stream(client, Opts::for_call(dep, &forward))
        })
        .await;
        return match res {
            Ok((stream, meta)) => {
                let dep = meta.deployment.clone();
                let meta_for_spend = meta.clone();
                let res = sse_response(stream, &meta, move |c: &mut E::Chunk| {
                    // The parallel slot is held until the stream ends.
                    let _slot = &slot;
                    E::finish_chunk(c, &group, &dep);
                    if let Some(u) = E::chunk_usage(c) {
                        let call = access::Call {
                            call_type: E::CALL_TYPE,
                            route: E::ROUTE,
                            meta: &meta_for_spend,
                            usage: Some(u),
                            cost: dep.cost(u),
                            end_user: end_user.clone(),
                        };
                        access::record(&state, &auth, &owners, call);
                        return client_wants_usage;
                    }
                    true
                });
                limit_headers.push(("x-litellm-key-spend".into(), proxy::py_float(spend_before)));
                with_headers(res, &limit_headers)
            }
            Err((e, meta)) => failed::<E>(&state, &auth, &owners, end_user, e, meta),
        };
    }
    let res = call_with_retries(&state, E::ROUTE, &group, start, |dep, model| {
        let (r, client) = call(model);
        r.call(client, Opts::for_call(dep, &forward))
    })
    .await;
    match res {
        Ok((mut answer, meta)) => {
            let usage = E::finish(&mut answer, &group);
            let cost = usage.and_then(|u| meta.deployment.cost(u));
            let call = access::Call {
                call_type: E::CALL_TYPE,
                route: E::ROUTE,
                meta: &meta,
                usage,
                cost,
                end_user,
            };
            access::record(&state, &auth, &owners, call);
            drop(slot);
            limit_headers.push((
                "x-litellm-key-spend".into(),
                proxy::py_float(spend_before + cost.unwrap_or(0.0)),
            ));
            with_headers(json_response(&answer, &meta, cost), &limit_headers)
        }
        Err((e, meta)) => failed::<E>(&state, &auth, &owners, end_user, e, meta),
    }
}

/// The error answer of a call that failed; logged as a failure when a deployment was tried.
fn failed<E: Endpoint>(
    state: &AppState,
    auth: &AuthContext,
    owners: &access::Owners,
    end_user: Option<String>,
    e: GatewayError,
    meta: Option<CallMeta>,
) -> Response {
    if let Some(m) = &meta {
        let call = access::Call {
            call_type: E::CALL_TYPE,
            route: E::ROUTE,
            meta: m,
            usage: None,
            cost: None,
            end_user,
        };
        access::record_failure(state, auth, owners, call, &e);
    }
    error_response(e, meta.as_ref())
}

/// Adds LiteLLM's rate-limit headers to a successful answer.
fn with_headers(mut res: Response, headers: &[(String, String)]) -> Response {
    for (k, v) in headers {
        if let (Ok(k), Ok(v)) = (
            axum::http::HeaderName::try_from(k.as_str()),
            axum::http::HeaderValue::try_from(v.as_str()),
        ) {
            res.headers_mut().insert(k, v);
        }
    }
    res
}

impl Endpoint for ChatCompletionRequest {
    const ROUTE: &'static str = "/chat/completions";
    const CALL_TYPE: &'static str = "acompletion";
    type Answer = ChatCompletionResponse;
    type Chunk = ChatCompletionChunk;
    type Chunks = ChunkStream;

    fn model_mut(&mut self) -> &mut String {
        &mut self.model
    }
    fn extra_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.extra
    }
    fn missing_field(&self) -> Option<&'static str> {
        self.messages
            .is_empty()
            .then_some("messages is a required field and must be a non-empty list")
    }
    fn is_stream(&self) -> bool {
        ChatCompletionRequest::is_stream(self)
    }
    async fn call(self, client: Client, opts: Opts) -> SdkResult<Self::Answer> {
        client.chat(self, opts.get()).await
    }
    async fn call_stream(self, client: Client, opts: Opts) -> SdkResult<Self::Chunks> {
        client.chat_stream(self, opts.get()).await
    }
    fn finish<'a>(answer: &'a mut Self::Answer, group: &str) -> Option<&'a Usage> {
        group.clone_into(&mut answer.model);
        answer.usage.as_ref()
    }
    fn finish_chunk(c: &mut Self::Chunk, group: &str, dep: &Deployment) {
        group.clone_into(&mut c.model);
        // LiteLLM reports the call's cost in the final usage chunk.
        if let Some(u) = c.usage.as_mut() {
            if let Some(cost) = dep.cost(u) {
                u.extra.insert("cost".into(), cost.into());
            }
        }
    }
    fn ask_usage(&mut self) -> bool {
        if self.include_usage() {
            return true;
        }
        self.stream_options
            .get_or_insert_with(Default::default)
            .include_usage = Some(true);
        false
    }
    fn chunk_usage(c: &Self::Chunk) -> Option<&Usage> {
        c.usage.as_ref()
    }
    fn end_user(&self) -> Option<String> {
        self.user.clone()
    }
    fn tags(&self) -> Vec<String> {
        tags_in(self.metadata.as_ref(), &self.extra)
    }
}

impl Endpoint for CompletionRequest {
    const ROUTE: &'static str = "/completions";
    const CALL_TYPE: &'static str = "atext_completion";
    type Answer = CompletionResponse;
    type Chunk = CompletionResponse;
    type Chunks = CompletionChunkStream;

    fn model_mut(&mut self) -> &mut String {
        &mut self.model
    }
    fn extra_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.extra
    }
    fn missing_field(&self) -> Option<&'static str> {
        self.prompt
            .is_null()
            .then_some("prompt is a required field")
    }
    fn is_stream(&self) -> bool {
        CompletionRequest::is_stream(self)
    }
    async fn call(self, client: Client, opts: Opts) -> SdkResult<Self::Answer> {
        client.text_completion(self, opts.get()).await
    }
    async fn call_stream(self, client: Client, opts: Opts) -> SdkResult<Self::Chunks> {
        client.text_completion_stream(self, opts.get()).await
    }
    fn finish<'a>(answer: &'a mut Self::Answer, group: &str) -> Option<&'a Usage> {
        group.clone_into(&mut answer.model);
        answer.usage.as_ref()
    }
    fn finish_chunk(c: &mut Self::Chunk, group: &str, _dep: &Deployment) {
        group.clone_into(&mut c.model);
    }
    fn ask_usage(&mut self) -> bool {
        let asked = self
            .stream_options
            .as_ref()
            .and_then(|o| o.include_usage)
            .unwrap_or(false);
        if !asked {
            self.stream_options
                .get_or_insert_with(Default::default)
                .include_usage = Some(true);
        }
        asked
    }
    fn chunk_usage(c: &Self::Chunk) -> Option<&Usage> {
        c.usage.as_ref()
    }
    fn end_user(&self) -> Option<String> {
        self.user.clone()
    }
    fn tags(&self) -> Vec<String> {
        tags_in(None, &self.extra)
    }
}

impl Endpoint for EmbeddingRequest {
    const ROUTE: &'static str = "/embeddings";
    const CALL_TYPE: &'static str = "aembedding";
    type Answer = EmbeddingResponse;
    type Chunk = EmbeddingResponse;
    type Chunks = futures::stream::Empty<Result<EmbeddingResponse, LlmError>>;

    fn model_mut(&mut self) -> &mut String {
        &mut self.model
    }
    fn extra_mut(&mut self) -> &mut Map<String, Value> {
        &mut self.extra
    }
    fn missing_field(&self) -> Option<&'static str> {
        self.input.is_null().then_some("input is a required field")
    }
    fn is_stream(&self) -> bool {
        false
    }
    async fn call(self, client: Client, opts: Opts) -> SdkResult<Self::Answer> {
        client.embedding(self, opts.get()).await
    }
    async fn call_stream(self, _: Client, _: Opts) -> SdkResult<Self::Chunks> {
        Err(LlmError::bad_request("embeddings cannot be streamed"))
    }
    fn finish<'a>(answer: &'a mut Self::Answer, group: &str) -> Option<&'a Usage> {
        group.clone_into(&mut answer.model);
        answer.usage.as_ref()
    }
    fn finish_chunk(_: &mut Self::Chunk, _: &str, _: &Deployment) {}
    fn end_user(&self) -> Option<String> {
        self.user.clone()
    }
    fn tags(&self) -> Vec<String> {
        tags_in(None, &self.extra)
    }
}
