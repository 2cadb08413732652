//! The guardrails' step in the handler: which ones a call runs, and each mode at its place —
//! `pre_call` (and `logging_only`) on the request before the router, `during_call` beside the
//! upstream call (its answer held until they pass), `post_call` on the answer; a stream a
//! post-call guardrail applies to is buffered and checked whole before its first byte is
//! sent. Text goes in and out through the `Endpoint` hooks `request_texts`,
//! `answer_texts` and `chunk_texts`.

use futures::StreamExt;
use serde_json::{json, Map, Value};

use super::*;
use crate::guardrails::{self, Ctx, Guardrails, Input, Mode};

/// The guardrails one call runs, and what they did so far.
pub(crate) struct Guard {
    gs: Arc<Guardrails>,
    sel: Vec<usize>,
    caller: Map<String, Value>,
    http: reqwest::Client,
    pub(crate) info: Vec<Value>,
}

impl Guard {
    /// None when no guardrail applies to the call.
    pub(crate) fn new(
        state: &AppState,
        requested: &[String],
        auth: &AuthContext,
        team_meta: Option<&Value>,
    ) -> Option<Guard> {
        let gs = state.guardrails.as_ref()?;
        let key = auth.key.as_ref().map(|k| &k.row);
        let null = Value::Null;
        let sel = gs.select(
            requested,
            key.map_or(&null, |k| &k.metadata),
            team_meta.unwrap_or(&null),
        );
        if sel.is_empty() {
            return None;
        }
        let mut caller = Map::new();
        for (k, v) in [
            ("user_api_key_hash", key.map(|k| k.token.clone())),
            ("user_api_key_alias", key.and_then(|k| k.key_alias.clone())),
            ("user_api_key_team_id", key.and_then(|k| k.team_id.clone())),
            ("user_api_key_user_id", key.and_then(|k| k.user_id.clone())),
            (
                "user_api_key_org_id",
                key.and_then(|k| k.organization_id.clone()),
            ),
        ] {
            caller.insert(k.into(), json!(v));
        }
        Some(Guard {
            gs: gs.clone(),
            sel,
            caller,
            http: state.client.http().clone(),
            info: Vec::new(),
        })
    }

    pub(super) fn runs(&self, mode: Mode) -> bool {
        guardrails::run::any(&self.gs, &self.sel, mode)
    }

    /// Runs `mode` over `texts`; a block is the error the call ends with.
    async fn check(
        &mut self,
        mode: Mode,
        input: Input,
        texts: Vec<String>,
        call_id: &str,
    ) -> Result<Option<Vec<String>>, GatewayError> {
        let ctx = Ctx {
            http: &self.http,
            call_id,
            caller: &self.caller,
        };
        let out = guardrails::run(&self.gs, &self.sel, mode, input, texts, &ctx).await;
        self.info.extend(out.info);
        if let Some(text) = out.answered {
            return Err(GatewayError::GuardrailAnswer(text));
        }
        match out.blocked {
            Some(m) => Err(GatewayError::Guardrail(m)),
            None => Ok(out.texts),
        }
    }

    /// `pre_call` on the request (masks applied), then `logging_only` (masks never applied:
    /// llmgate stores no prompt, so there is nothing else to mask).
    pub(super) async fn pre_call<E: Endpoint>(
        &mut self,
        req: &mut E,
        call_id: &str,
    ) -> Result<(), GatewayError> {
        for mode in [Mode::PreCall, Mode::LoggingOnly] {
            if !self.runs(mode) {
                continue;
            }
            let mut texts = Vec::new();
            req.request_texts(&mut |t| texts.push(t.clone()));
            if texts.is_empty() {
                continue;
            }
            let masked = self.check(mode, Input::Request, texts, call_id).await;
            if mode == Mode::LoggingOnly {
                continue;
            }
            if let Some(m) = masked? {
                let mut it = m.into_iter();
                req.request_texts(&mut |t| {
                    if let Some(n) = it.next() {
                        *t = n;
                    }
                });
            }
        }
        Ok(())
    }

    /// `pre_call` then `logging_only` on a request's texts outside an `Endpoint` (the media
    /// routes' prompt or input): the texts as masked (None: unchanged), or the refusal.
    pub(crate) async fn pre_call_texts(
        &mut self,
        texts: Vec<String>,
        call_id: &str,
    ) -> Result<Option<Vec<String>>, GatewayError> {
        let mut masked = None;
        if texts.is_empty() {
            return Ok(None);
        }
        if self.runs(Mode::PreCall) {
            masked = self
                .check(Mode::PreCall, Input::Request, texts.clone(), call_id)
                .await?;
        }
        if self.runs(Mode::LoggingOnly) {
            let seen = masked.clone().unwrap_or(texts);
            let _ = self
                .check(Mode::LoggingOnly, Input::Request, seen, call_id)
                .await;
        }
        Ok(masked)
    }

    /// `during_call` on the request: only a block matters (the request has gone).
    pub(super) async fn during_call<E: Endpoint>(
        &mut self,
        req: &E,
        call_id: &str,
    ) -> Result<(), GatewayError> {
        if !self.runs(Mode::DuringCall) {
            return Ok(());
        }
        let mut texts = Vec::new();
        req.clone().request_texts(&mut |t| texts.push(t.clone()));
        self.check(Mode::DuringCall, Input::Request, texts, call_id)
            .await
            .map(|_| ())
    }

    /// `post_call` on an answer (masks applied), and `logging_only` on it.
    pub(super) async fn post_call<E: Endpoint>(
        &mut self,
        answer: &mut E::Answer,
        call_id: &str,
    ) -> Result<(), GatewayError> {
        for mode in [Mode::PostCall, Mode::LoggingOnly] {
            if !self.runs(mode) {
                continue;
            }
            let mut texts = Vec::new();
            E::answer_texts(answer, &mut |t| texts.push(t.clone()));
            if texts.is_empty() {
                continue;
            }
            let masked = self.check(mode, Input::Response, texts, call_id).await;
            if mode == Mode::LoggingOnly {
                continue;
            }
            if let Some(m) = masked? {
                let mut it = m.into_iter();
                E::answer_texts(answer, &mut |t| {
                    if let Some(n) = it.next() {
                        *t = n;
                    }
                });
            }
        }
        Ok(())
    }

    /// `post_call` on a whole stream: the streamed text joined is checked; a mask puts the
    /// masked text in the last text piece (the others emptied, as LiteLLM sends it: the
    /// whole text with the finish reason) and in every event that repeats the whole text.
    pub(super) async fn post_call_stream<E: Endpoint>(
        &mut self,
        chunks: &mut [Result<E::Chunk, LlmError>],
        call_id: &str,
    ) -> Result<(), GatewayError> {
        let mut joined = String::new();
        let mut pieces = 0usize;
        for c in chunks.iter_mut().flatten() {
            E::chunk_texts(c, &mut |t, whole| {
                if !whole {
                    joined.push_str(t);
                    pieces += 1;
                }
            });
        }
        let Some(m) = self
            .check(Mode::PostCall, Input::Response, vec![joined], call_id)
            .await?
        else {
            return Ok(());
        };
        let masked = m.into_iter().next().unwrap_or_default();
        let mut seen = 0usize;
        for c in chunks.iter_mut().flatten() {
            E::chunk_texts(c, &mut |t, whole| {
                // A whole-text event is not a piece.
                if whole {
                    t.clone_from(&masked);
                    return;
                }
                seen += 1;
                if seen == pieces {
                    t.clone_from(&masked);
                } else {
                    t.clear();
                }
            });
        }
        Ok(())
    }
}

/// A stream read whole (for a post-call guardrail), to be checked and sent on.
pub(super) async fn buffer<S, T>(stream: S) -> Vec<Result<T, LlmError>>
where
    S: Stream<Item = Result<T, LlmError>>,
{
    let mut stream = std::pin::pin!(stream);
    let mut out = Vec::new();
    while let Some(c) = stream.next().await {
        let end = c.is_err();
        out.push(c);
        if end {
            break;
        }
    }
    out
}

/// A call a guardrail refused: recorded as a failure (with what the guardrails did) and
/// answered in the route's error shape. A call that had no attempt yet is recorded against
/// its model group's first deployment, as LiteLLM logs a pre-call failure.
pub(super) fn refuse<E: Endpoint>(
    state: &AppState,
    settle: &mut Settlement,
    guard: Option<Guard>,
    e: GatewayError,
    meta: Option<&crate::governance::settle::CallMeta>,
    stream: bool,
) -> Response {
    record_refusal(state, settle, guard, &e, meta.is_some());
    if let Some(res) = answer_instead::<E>(state, settle, &e, meta, stream) {
        return res;
    }
    error_response_in(e, meta, E::ERROR_SHAPE)
}

/// A refusal a guardrail answers in place of the call (LiteLLM's `ModifyResponseException`):
/// the endpoint's reply with the guardrail's text, `finish_reason: content_filter`, as JSON
/// or replayed as the route's stream, status 200 (the call is still recorded as refused).
fn answer_instead<E: Endpoint>(
    state: &AppState,
    settle: &Settlement,
    e: &GatewayError,
    meta: Option<&crate::governance::settle::CallMeta>,
    stream: bool,
) -> Option<Response> {
    let GatewayError::GuardrailAnswer(text) = e else {
        return None;
    };
    let answer = E::guardrail_answer(text, settle.group())?;
    let fresh;
    let meta = match meta {
        Some(m) => m,
        None => {
            fresh = super::cache_hit::meta_for(state, settle)?;
            &fresh
        }
    };
    super::cache_hit::answer_json::<E>(answer, meta, stream)
}

/// A buffered stream a post-call guardrail refused: recorded as [`refuse`] records it, and
/// answered with the route's stream error event alone (none of the answer is sent).
pub(super) fn refuse_stream<E: Endpoint>(
    state: &AppState,
    settle: &mut Settlement,
    e: GatewayError,
    meta: &crate::governance::settle::CallMeta,
) -> Response {
    record_refusal(state, settle, None, &e, true);
    if let Some(res) = answer_instead::<E>(state, settle, &e, Some(meta), true) {
        return res;
    }
    crate::routes::proxy::sse_error_response(&e, meta, E::sse_format())
}

fn record_refusal(
    state: &AppState,
    settle: &mut Settlement,
    guard: Option<Guard>,
    e: &GatewayError,
    attempted: bool,
) {
    if let Some(g) = guard {
        settle.guardrails(g.info);
    }
    if !attempted {
        if let Some((dep, _)) = state.deployments().peek(settle.group()) {
            settle.attempt(&dep);
        }
    }
    settle.failure(e);
}

/// The text pieces of a JSON content value: a string, or a list of strings and blocks
/// (`text`, `input_text`, `output_text`; nested `content` too). Token arrays are not text.
pub(crate) fn value_texts(v: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match v {
        Value::String(s) => f(s),
        Value::Array(items) => {
            for i in items {
                item_texts(i, f);
            }
        }
        Value::Object(_) => item_texts(v, f),
        _ => {}
    }
}

fn item_texts(v: &mut Value, f: &mut dyn FnMut(&mut String)) {
    match v {
        Value::String(s) => f(s),
        Value::Object(o) => {
            let text = matches!(
                o.get("type").and_then(Value::as_str),
                Some("text" | "input_text" | "output_text")
            );
            if text {
                if let Some(Value::String(s)) = o.get_mut("text") {
                    f(s);
                }
            }
            if let Some(c) = o.get_mut("content") {
                value_texts(c, f);
            }
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn walks_text_blocks_only() {
        let mut v = json!([
            "a",
            {"type": "text", "text": "b"},
            {"type": "image_url", "image_url": {"url": "x"}},
            {"role": "user", "content": [{"type": "input_text", "text": "c"}]},
            {"type": "function_call_output", "output": "no"},
            [1, 2]
        ]);
        let mut seen = Vec::new();
        value_texts(&mut v, &mut |t| {
            seen.push(t.clone());
            t.push('!');
        });
        assert_eq!(seen, ["a", "b", "c"]);
        assert_eq!(v[1]["text"], "b!");
    }
}
