//! One handler for every proxied LLM endpoint (chat, legacy completions, embeddings, rerank,
//! Anthropic's Messages, the Responses API, Google's `generateContent`): parse, check, strip
//! proxy-only fields, call a deployment with retries, restamp the public model name, price the
//! call, answer as JSON or as an SSE stream. What differs per endpoint is the [`Endpoint`] impl.

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Response};
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
    self, call_with_retries, error_response_in, json_response, sse_response, ClientSide, SseFormat,
    StreamTap,
};
use crate::auth::AuthContext;
use crate::deployments::Deployment;
use crate::error::{ErrorShape, GatewayError};
use crate::governance::admit::{admit, Ask};
use crate::governance::headers::{self as h, AnswerHeaders};
use crate::governance::settle::{PromptTokens, Settlement};
use crate::guardrails;
use crate::state::AppState;

mod batch;
mod cache_forms;
mod cache_hit;
mod cached;
pub mod generate_content;
pub(crate) mod guarded;
mod kinds;
pub mod mcp_loop;
mod messages;
mod parse;
mod rerank;
mod responses;
mod tap;

use parse::{apply_defaults, parse, Parsed};
use tap::Tap;

pub use messages::count_tokens as messages_count_tokens;
pub use responses::ResponsesCall;

type SdkResult<T> = Result<llmgate::Response<T>, LlmError>;

pub trait Endpoint: DeserializeOwned + Serialize + Clone + Send + Sync + 'static {
    /// The path LiteLLM names in errors (`/chat/completions`).
    const ROUTE: &'static str;
    /// LiteLLM's `call_type` in spend logs.
    const CALL_TYPE: &'static str;
    type Answer: Serialize + Send + 'static;
    type Chunk: Serialize + Send + 'static;
    type Chunks: Stream<Item = Result<Self::Chunk, LlmError>> + Send + 'static;

    fn model_mut(&mut self) -> &mut String;
    fn extra_mut(&mut self) -> &mut Map<String, Value>;
    fn extra(&self) -> &Map<String, Value>;
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
    /// Whether `"model": "a,b"` fans out to one call per model (chat, as LiteLLM).
    const BATCH_MODELS: bool = false;
    /// The answer's `id` (`chatcmpl-...`): LiteLLM's spend-log `request_id`.
    fn answer_id(_answer: &Self::Answer) -> Option<&str> {
        None
    }
    fn chunk_id(_chunk: &Self::Chunk) -> Option<&str> {
        None
    }
    /// Asks the upstream for a closing usage chunk (to price the stream); returns whether the
    /// client had asked for it itself.
    fn ask_usage(&mut self) -> bool {
        true
    }
    fn chunk_usage(_chunk: &Self::Chunk) -> Option<&Usage> {
        None
    }
    /// Whether a chunk carries choices: a usage chunk without any closes the stream (some
    /// servers send running usage on every chunk).
    fn chunk_has_choices(_chunk: &Self::Chunk) -> bool {
        true
    }
    /// Removes a chunk's `usage` (asked for only to price the call).
    fn strip_usage(_chunk: &mut Self::Chunk) {}
    /// The text and tool arguments a chunk sends the client.
    fn chunk_text(_chunk: &Self::Chunk, _out: &mut dyn FnMut(&str)) {}
    /// The request's prompt tokens, for a call that ends without the upstream's usage.
    fn prompt_tokens(&self, model: &str) -> u64;
    /// `max_tokens` / `max_completion_tokens`: the most the answer can cost.
    fn max_output(&self) -> Option<u64> {
        None
    }
    /// A typed `metadata` field (else it is in `extra`).
    fn metadata(&self) -> Option<&Value> {
        None
    }
    /// The request's `user` (the end user, for spend logs and end-user budgets).
    fn end_user(&self) -> Option<String>;
    /// Tags the request carries (`metadata.tags`, or LiteLLM's top-level `tags`).
    fn tags(&self) -> Vec<String>;
    /// The shape of the route's errors (Anthropic's on `/v1/messages`).
    const ERROR_SHAPE: ErrorShape = ErrorShape::OpenAi;
    /// Client headers passed on to the provider (Anthropic's `anthropic-beta`, as LiteLLM).
    const FORWARDED_HEADERS: &'static [&'static str] = &["anthropic-beta"];
    /// How the route frames its streams.
    fn sse_format() -> SseFormat<Self::Chunk> {
        SseFormat::openai()
    }
    /// Runs after parsing, before admission, with the gateway's state (the Responses API
    /// loads the conversation a `previous_response_id` names here).
    fn prepare(
        &mut self,
        _state: &AppState,
        _auth: &AuthContext,
    ) -> impl Future<Output = Result<(), GatewayError>> + Send {
        async { Ok(()) }
    }
    /// The request field a deployment's default param (a chat param name) sets, if this
    /// request type has one.
    fn default_param(name: &str) -> Option<&str> {
        Some(name)
    }
    /// Sees the answer before it is sent (after `finish`): the Responses API stores it.
    fn answered(&self, _state: &AppState, _auth: &AuthContext, _answer: &mut Self::Answer) {}
    /// Sees each chunk before it is sent (after `finish_chunk`), as `answered` does the answer.
    fn chunk_observer(&self, _state: &AppState, _auth: &AuthContext) -> Option<Observer<Self>> {
        None
    }

    // The response cache's hooks (`cached.rs`): an endpoint opts in with `CACHEABLE`.
    /// Whether the response cache serves this endpoint.
    const CACHEABLE: bool = false;
    /// Each input item is its own entry (embeddings, as LiteLLM).
    const CACHE_PER_ITEM: bool = false;
    /// A stream is stored as the answer it assembles into (`assemble`) and an answer can be
    /// replayed as a stream (`replay`), so streams and plain calls share entries; else each
    /// has its own and a stream is stored as its events.
    const CACHE_STREAM_AS_ANSWER: bool = false;
    /// An answer from its cached JSON.
    fn cached_answer(_v: Value) -> Option<Self::Answer> {
        None
    }
    /// A chunk from its cached JSON.
    fn cached_chunk(_v: Value) -> Option<Self::Chunk> {
        None
    }
    /// A stream's chunks (JSON, as the upstream sent them) as one answer.
    fn assemble(_chunks: &[Value]) -> Option<Value> {
        None
    }
    /// An answer (JSON) as the chunks that replay it.
    fn replay(_answer: &Value) -> Option<Vec<Value>> {
        None
    }
    /// The prompt a semantic cache embeds (LiteLLM: the messages' text joined).
    fn semantic_text(&self) -> Option<String> {
        None
    }

    // The guardrails' hooks (`guarded.rs`): the text they check and may mask.
    /// The request's text (messages, prompt, input), in a stable order.
    fn request_texts(&mut self, _f: &mut dyn FnMut(&mut String)) {}
    /// The answer's text.
    fn answer_texts(_answer: &mut Self::Answer, _f: &mut dyn FnMut(&mut String)) {}
    /// A chunk's streamed text pieces (`false`), and any text it repeats whole (`true`:
    /// the Responses API's `*.done` and `response.completed` events).
    fn chunk_texts(_chunk: &mut Self::Chunk, _f: &mut dyn FnMut(&mut String, bool)) {}
    /// The answer (JSON, as `cached_answer` reads it) that replies `text` in place of the
    /// call, for a guardrail that answers instead of refusing (`GatewayError::GuardrailAnswer`);
    /// None: the endpoint has no such answer and the refusal is a 400.
    fn guardrail_answer(_text: &str, _model: &str) -> Option<Value> {
        None
    }
}

/// What [`Endpoint::chunk_observer`] returns.
pub type Observer<E> = Box<dyn FnMut(&mut <E as Endpoint>::Chunk) + Send>;

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

/// A deployment's call options, or a copy with what the client may change.
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

    /// Client headers passed on to the provider (Anthropic's `anthropic-beta`, as LiteLLM does)
    /// and a permitted client-side `api_base`; without either, the deployment's options are
    /// used as they are.
    fn for_call(
        dep: Arc<Deployment>,
        forward: &[(String, String)],
        client: &ClientSide,
        timeout: Option<f64>,
    ) -> Opts {
        // A request may lower the deployment's timeout, never raise it.
        let timeout = timeout
            .map(std::time::Duration::from_secs_f64)
            .filter(|t| dep.opts.timeout.is_none_or(|d| *t < d));
        if forward.is_empty() && client.api_base.is_none() && timeout.is_none() {
            return Opts::Deployment(dep);
        }
        let mut o = dep.opts.clone();
        if let Some(t) = timeout {
            o.timeout = Some(t);
            o.stream_timeout = o.stream_timeout.map(|s| s.min(t));
        }
        o.extra_headers.extend(forward.iter().cloned());
        if let Some(base) = &client.api_base {
            o.api_base = Some(base.clone());
            if let Some(k) = &client.api_key {
                o.api_key = Some(k.clone());
            }
        }
        Opts::Custom(Box::new(o))
    }
}

fn forwarded(headers: &HeaderMap, names: &[&str]) -> Vec<(String, String)> {
    names
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
    let cache_control = cache_control(&state, &headers);
    let trace = state.gov.observe.as_ref().and_then(|o| o.trace(&headers));
    handle::<E>(
        state,
        auth,
        None,
        forwarded(&headers, E::FORWARDED_HEADERS),
        cache_control,
        body,
        trace,
    )
    .await
}

/// The `Cache-Control` request header, read only when the response cache is on.
fn cache_control(state: &AppState, headers: &HeaderMap) -> Option<String> {
    state.cache.as_ref()?;
    Some(headers.get("cache-control")?.to_str().ok()?.to_string())
}

/// Azure-style and engine paths name the model in the URL.
pub async fn serve_for_model<E: Endpoint>(
    State(state): State<AppState>,
    Path(model): Path<String>,
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let cache_control = cache_control(&state, &headers);
    let trace = state.gov.observe.as_ref().and_then(|o| o.trace(&headers));
    handle::<E>(
        state,
        auth,
        Some(model),
        forwarded(&headers, E::FORWARDED_HEADERS),
        cache_control,
        body,
        trace,
    )
    .await
}

/// The request's prompt, counted only for a call that ends without usage.
struct Prompt<E>(Arc<E>);

impl<E: Endpoint> PromptTokens for Prompt<E> {
    fn prompt_tokens(&self, model: &str) -> u64 {
        self.0.prompt_tokens(model)
    }
}

/// parse → admit → call → answer. Every error before the call is one answer; from the call
/// on, the settlement records how it ended.
async fn handle<E: Endpoint>(
    state: AppState,
    auth: AuthContext,
    path_model: Option<String>,
    mut forward: Vec<(String, String)>,
    cache_control: Option<String>,
    body: Bytes,
    trace: Option<crate::observe::otel::TraceIds>,
) -> Response {
    let start = Instant::now();
    let Parsed {
        mut req,
        ask,
        client,
        client_wants_usage,
        replay_usage,
        plan,
        mut controls,
        guardrails: requested,
    } = match parse::<E>(&state, &auth, &body, path_model, cache_control.as_deref()) {
        Ok(r) => r,
        Err(e) => return rejected::<E>(&state, &auth, None, e),
    };
    if let Err(e) = Box::pin(req.prepare(&state, &auth)).await {
        return rejected::<E>(&state, &auth, Some(&ask.model), e);
    }
    // `"model": "a,b"`: LiteLLM's batch completion (chat, not streamed), one call per model.
    if E::BATCH_MODELS && ask.model.contains(',') && !req.is_stream() {
        return Box::pin(batch::batch(
            state,
            auth,
            forward,
            cache_control,
            body,
            &ask.model,
        ))
        .await;
    }
    // The provider call continues the trace: its span is the upstream's parent.
    if let Some(t) = &trace {
        forward.push(("traceparent".into(), t.upstream_traceparent()));
    }
    // Parsed: the raw bytes need not outlive the call (a large body would be held twice).
    drop(body);
    // Kept for the metrics of a refused call, only when something observes calls.
    let asked = state.gov.observe.as_ref().map(|_| ask.model.clone());
    let admission = match admit(&state.gov, &state.deployments(), &auth, ask).await {
        Ok(a) => a,
        Err(e) => return rejected::<E>(&state, &auth, asked.as_deref(), e),
    };
    // Guardrails, only when configured: which ones this call runs, pre-call on the request.
    let mut guard = guarded::Guard::new(
        &state,
        &requested,
        &auth,
        admission.owners.team.as_ref().map(|t| &t.row.metadata),
    );
    let call_id = uuid::Uuid::new_v4().to_string();
    let mut pre = Ok(());
    if let Some(g) = guard.as_mut() {
        pre = Box::pin(g.pre_call(&mut req, &call_id)).await;
        // A cached answer would skip the checks on the answer.
        if g.runs(guardrails::Mode::PostCall) || g.runs(guardrails::Mode::DuringCall) {
            controls = None;
        }
    }
    let mut req = Arc::new(req);
    let prompt = Arc::new(Prompt(req.clone()));
    let mut headers = admission.headers.clone();
    let spend_before = admission.spend_before;
    let mut settle = Settlement::new(
        &state.gov,
        &auth,
        admission,
        E::CALL_TYPE,
        E::ROUTE,
        start,
        prompt,
    );
    settle.use_call_id(call_id.clone());
    settle.set_stream(req.is_stream());
    settle.set_trace(trace);
    if settle.wants_messages() {
        let mut body = serde_json::to_value(&*req).unwrap_or_default();
        // The model was taken out of the request when it was parsed: the one asked for.
        if let Some(m) = body.as_object_mut() {
            m.insert("model".into(), settle.group().into());
        }
        settle.capture_request(body);
    }
    if let Err(e) = pre {
        return guarded::refuse::<E>(&state, &mut settle, guard, e, None, req.is_stream());
    }
    // The response cache, only when on: after admission (a hit counts toward rate limits),
    // before the router.
    let mut cache_plan = None;
    if let (Some(cache), Some(ctrl)) = (state.cache.as_ref(), controls.as_ref()) {
        // A hit settles the call here: the pre-call guardrails' runs are recorded first.
        if let Some(g) = guard.as_mut() {
            settle.guardrails(std::mem::take(&mut g.info));
        }
        let hit = cached::Hit {
            replay_usage,
            spend_before,
        };
        match Box::pin(cached::step::<E>(
            &state,
            cache,
            &mut settle,
            &req,
            ctrl,
            hit,
            &mut headers,
        ))
        .await
        {
            cached::Step::Answered(res) => return res,
            cached::Step::Go { plan, req: partial } => {
                if let Some(r) = partial {
                    req = Arc::new(r);
                }
                cache_plan = plan;
            }
        }
    }
    let call = |dep: Arc<Deployment>, model: String| {
        let mut r = (*req).clone();
        *r.model_mut() = model;
        if !dep.defaults.is_empty() {
            apply_defaults(&mut r, &dep.defaults);
        }
        let opts = Opts::for_call(dep, &forward, &client, plan.timeout);
        (r, state.client.clone(), opts)
    };
    // `during_call` guardrails run beside the upstream call; its answer waits for them.
    let during = async {
        match guard.as_mut() {
            Some(g) => Box::pin(g.during_call(&*req, &call_id)).await,
            None => Ok(()),
        }
    };
    if req.is_stream() {
        let (res, checked) = tokio::join!(
            call_with_retries(&state, E::ROUTE, &mut settle, &plan, |dep, model| {
                let (r, client, opts) = call(dep, model);
                r.call_stream(client, opts)
            }),
            during
        );
        let (stream, meta) = match res {
            Ok(r) => r,
            Err((e, meta)) => {
                if let Some(g) = guard {
                    settle.guardrails(g.info);
                }
                settle.failure(&e);
                return error_response_in(e, meta.as_ref(), E::ERROR_SHAPE);
            }
        };
        if let Err(e) = checked {
            return guarded::refuse::<E>(&state, &mut settle, guard, e, Some(&meta), true);
        }
        let tap = Tap::<E> {
            recorder: cache_plan.and_then(cached::Recorder::new),
            observer: req.chunk_observer(&state, &auth),
            settle,
            deployment: meta.deployment.clone(),
            routed: meta.routed.clone(),
            client_wants_usage,
            _e: std::marker::PhantomData,
        };
        headers.py_float(h::KEY_SPEND, Some(spend_before));
        let Some(mut g) = guard.filter(|g| g.runs(guardrails::Mode::PostCall)) else {
            return with_headers(sse_response(stream, &meta, tap, E::sse_format()), &headers);
        };
        // A post-call guardrail sees the whole answer before the client sees any of it.
        let mut chunks = Box::pin(guarded::buffer(stream)).await;
        let mut tap = tap;
        let checked = Box::pin(g.post_call_stream::<E>(&mut chunks, &call_id)).await;
        tap.settle.guardrails(std::mem::take(&mut g.info));
        if let Err(e) = checked {
            for c in chunks.iter().flatten() {
                if let Some(u) = E::chunk_usage(c) {
                    tap.settle.saw_usage(u);
                }
            }
            tap.recorder = None;
            return with_headers(
                guarded::refuse_stream::<E>(&state, &mut tap.settle, e, &meta),
                &headers,
            );
        }
        let stream = futures::stream::iter(chunks);
        return with_headers(sse_response(stream, &meta, tap, E::sse_format()), &headers);
    }
    let (res, checked) = tokio::join!(
        call_with_retries(&state, E::ROUTE, &mut settle, &plan, |dep, model| {
            let (r, client, opts) = call(dep, model);
            r.call(client, opts)
        }),
        during
    );
    let res = match (res, checked) {
        (Ok((mut answer, meta)), Err(e)) => {
            if let Some(u) = E::finish(&mut answer, &meta.model_group) {
                settle.saw_usage(u);
            }
            return guarded::refuse::<E>(&state, &mut settle, guard, e, Some(&meta), false);
        }
        (res, _) => res,
    };
    match res {
        Ok((mut answer, meta)) => {
            if let Some(id) = E::answer_id(&answer) {
                settle.response_id(id);
            }
            if let Some(p) = &cache_plan {
                p.merge::<E>(&mut answer);
            }
            let usage = E::finish(&mut answer, &meta.model_group).cloned();
            if let Some(mut g) = guard {
                let checked = Box::pin(g.post_call::<E>(&mut answer, &call_id)).await;
                if let Some(u) = &usage {
                    settle.saw_usage(u);
                }
                if let Err(e) = checked {
                    return guarded::refuse::<E>(
                        &state,
                        &mut settle,
                        Some(g),
                        e,
                        Some(&meta),
                        false,
                    );
                }
                settle.guardrails(g.info);
            }
            if let Some(p) = &cache_plan {
                p.store_answer::<E>(&answer);
            }
            req.answered(&state, &auth, &mut answer);
            if settle.wants_messages() {
                settle.capture_response(serde_json::to_value(&answer).unwrap_or_default());
            }
            let cost = settle.success(usage.as_ref());
            headers.py_float(h::KEY_SPEND, Some(spend_before + cost.unwrap_or(0.0)));
            with_headers(json_response(&answer, &meta, cost), &headers)
        }
        Err((e, meta)) => {
            if let Some(g) = guard {
                settle.guardrails(g.info);
            }
            settle.failure(&e);
            error_response_in(e, meta.as_ref(), E::ERROR_SHAPE)
        }
    }
}

/// A request refused before any call: the error answered, and counted by the observers.
fn rejected<E: Endpoint>(
    state: &AppState,
    auth: &AuthContext,
    model: Option<&str>,
    e: GatewayError,
) -> Response {
    if let Some(o) = &state.gov.observe {
        let key = auth.key.as_ref();
        let master = key
            .is_none()
            .then(|| auth.api_key.as_deref().map(crate::auth::hash_key))
            .flatten();
        // A name the router does not serve is raw client input: no label for it.
        let served = model.filter(|m| state.deployments().router().serves(m));
        o.rejected(&crate::observe::Rejected {
            route: E::ROUTE,
            requested_model: served,
            caller: crate::observe::Caller {
                key: key.map(|k| &k.row),
                key_hash: key.map(|k| k.row.token.as_str()).or(master.as_deref()),
                client_ip: auth.client_ip.as_deref(),
                ..Default::default()
            },
            error: &e,
        });
    }
    error_response_in(e, None, E::ERROR_SHAPE)
}

/// Adds LiteLLM's rate-limit headers to a successful answer.
fn with_headers(mut res: Response, headers: &AnswerHeaders) -> Response {
    headers.apply(res.headers_mut());
    res
}
