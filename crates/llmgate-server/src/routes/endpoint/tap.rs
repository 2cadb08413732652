//! A stream's [`Tap`]: what the handler's SSE body reports to the settlement (and to the
//! response cache's recorder) chunk by chunk.

use super::*;

/// A stream's view of its settlement: restamps chunks, notes what the client was sent, and
/// settles at the usage chunk, an error or the end — or, dropped before any, as abandoned.
pub(super) struct Tap<E: Endpoint> {
    pub(super) settle: Settlement,
    pub(super) deployment: Arc<Deployment>,
    /// Told of the first chunk (the deployment's time to first token).
    pub(super) routed: Option<Arc<crate::deployments::Routed>>,
    pub(super) client_wants_usage: bool,
    pub(super) observer: Option<Observer<E>>,
    /// The response cache's copy of the stream (a miss that will be stored).
    pub(super) recorder: Option<cached::Recorder>,
    pub(super) _e: std::marker::PhantomData<fn() -> E>,
}

impl<E: Endpoint> StreamTap<E::Chunk> for Tap<E> {
    fn chunk(&mut self, c: &mut E::Chunk) -> bool {
        if let Some(r) = self.routed.take() {
            r.first_token();
            self.settle.chunk_sent();
        }
        E::finish_chunk(c, self.settle.group(), &self.deployment);
        if let Some(r) = self.recorder.as_mut() {
            r.chunk(c);
        }
        if let Some(o) = self.observer.as_mut() {
            o(c);
        }
        if self.settle.is_settled() {
            return true;
        }
        E::chunk_text(c, &mut |t| self.settle.produced(t));
        if let Some(id) = E::chunk_id(c) {
            self.settle.response_id(id);
        }
        let Some(u) = E::chunk_usage(c) else {
            return true;
        };
        if E::chunk_has_choices(c) {
            // Usage on a content or finish chunk (Mistral puts it on the finish): kept for the
            // settlement; the chunk goes on, without the usage the client did not ask for.
            self.settle.saw_usage(u);
            if !self.client_wants_usage {
                E::strip_usage(c);
            }
            return true;
        }
        // The closing usage chunk: the call is complete and priced.
        let u = u.clone();
        self.settle.success(Some(&u));
        self.client_wants_usage
    }

    fn error(&mut self, e: &GatewayError) {
        // A failed stream is not stored.
        self.recorder = None;
        self.settle.failure(e);
    }

    fn end(&mut self) {
        if let Some(r) = self.recorder.take() {
            r.finish::<E>();
        }
        // A stream that ended without a usage chunk: counted from the request and the text.
        self.settle.success(None);
    }
}
