//! A response-cache hit answered: the stored answer as JSON, or replayed as the route's
//! stream (OpenAI chunks, Anthropic's or the Responses API's events), settled at cost 0.

use std::time::Duration;

use super::*;
use crate::cache::Stored;
use crate::governance::settle::CallMeta;

/// A hit's answer: JSON, or the entry replayed as the route's stream. None (then the request
/// goes on as a miss) when the group has no deployment left to record the call under or the
/// entry does not fit the endpoint.
pub fn serve<E: Endpoint>(
    state: &AppState,
    settle: &mut Settlement,
    stored: Stored,
    stream: bool,
    client_wants_usage: bool,
) -> Option<Response> {
    let group = settle.group().to_string();
    let meta = meta_for(state, settle)?;
    if !stream {
        let Stored::Answer(v) = stored else {
            return None;
        };
        // The spend log keeps its call id: the answer's id is the stored call's.
        let mut answer = E::cached_answer(v)?;
        let usage = E::finish(&mut answer, &group).cloned();
        settle.cache_hit(&meta, usage.as_ref());
        return Some(json_response(&answer, &meta, Some(0.0)));
    }
    let values = match stored {
        Stored::Stream(events) => events,
        Stored::Answer(a) => E::replay(&a)?,
    };
    let chunks: Vec<E::Chunk> = values
        .into_iter()
        .map(E::cached_chunk)
        .collect::<Option<_>>()?;
    let usage = chunks.iter().rev().find_map(E::chunk_usage).cloned();
    settle.cache_hit(&meta, usage.as_ref());
    let tap = Replay::<E> {
        client_wants_usage,
        _e: std::marker::PhantomData,
    };
    let body = futures::stream::iter(chunks.into_iter().map(Ok));
    let mut res = sse_response(body, &meta, tap, E::sse_format());
    res.headers_mut().insert(
        "x-litellm-response-cost",
        axum::http::HeaderValue::from_static("0.0"),
    );
    Some(res)
}

/// The answer's facts for a call no upstream answered (a hit, a guardrail's reply): recorded
/// under the group's first deployment. None when the group has none left.
pub fn meta_for(state: &AppState, settle: &Settlement) -> Option<CallMeta> {
    let group = settle.group().to_string();
    let (deployment, _) = state.deployments().peek(&group)?;
    Some(CallMeta {
        start: settle.start(),
        call_id: settle.call_id().to_string(),
        deployment,
        model_group: group,
        attempted_retries: 0,
        attempted_fallbacks: 0,
        max_retries: 0,
        timeout: None,
        model_region: None,
        upstream_headers: Vec::new(),
        upstream: Duration::ZERO,
        routed: None,
        api_start: None,
    })
}

/// An answer made here (JSON, as `cached_answer` reads it) sent as JSON or replayed as the
/// route's stream; None when the endpoint cannot read or replay it.
pub fn answer_json<E: Endpoint>(answer: Value, meta: &CallMeta, stream: bool) -> Option<Response> {
    if !stream {
        let answer = E::cached_answer(answer)?;
        return Some(json_response(&answer, meta, Some(0.0)));
    }
    let chunks: Vec<E::Chunk> = E::replay(&answer)?
        .into_iter()
        .map(E::cached_chunk)
        .collect::<Option<_>>()?;
    let tap = Replay::<E> {
        client_wants_usage: false,
        _e: std::marker::PhantomData,
    };
    let body = futures::stream::iter(chunks.into_iter().map(Ok));
    Some(sse_response(body, meta, tap, E::sse_format()))
}

/// A replayed stream's tap: the usage chunk only for a client that asked for it.
struct Replay<E> {
    client_wants_usage: bool,
    _e: std::marker::PhantomData<fn() -> E>,
}

impl<E: Endpoint> StreamTap<E::Chunk> for Replay<E> {
    fn chunk(&mut self, c: &mut E::Chunk) -> bool {
        self.client_wants_usage || E::chunk_usage(c).is_none() || E::chunk_has_choices(c)
    }
    fn error(&mut self, _: &GatewayError) {}
    fn end(&mut self) {}
}
