//! `/audio/transcriptions` and `/audio/translations` (forms; priced per second of audio —
//! the answer's duration, else the file's — or per token where the answer reports tokens),
//! and `/audio/speech` (priced per character, or by the tokens a token-priced TTS model
//! reports; the audio streamed back as it arrives with the upstream's content type). Every
//! `response_format` is answered as the upstream sent it: `text`, `srt` and `vtt` as text, not
//! as a JSON string.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use axum::Extension;
use futures::StreamExt;
use llmgate::media::{cost, duration, Audio, FormKind, FormRequest, Transcript};
use llmgate::{CallOptions, Client, SpeechRequest, Usage};

use super::*;

/// `/audio/transcriptions` (`T = true`) and `/audio/translations`.
#[derive(Clone)]
struct Heard<const T: bool> {
    req: FormRequest,
    /// The uploaded file's playing time, when its header says.
    file_seconds: Option<f64>,
}

impl<const T: bool> Heard<T> {
    const KIND: FormKind = if T {
        FormKind::Transcription
    } else {
        FormKind::Translation
    };
}

impl<const T: bool> MediaCall for Heard<T> {
    const ROUTE: &'static str = if T {
        "/audio/transcriptions"
    } else {
        "/audio/translations"
    };
    // LiteLLM logs translations as transcriptions too.
    const CALL_TYPE: &'static str = "atranscription";
    type Answer = Transcript;

    fn set_model(&mut self, model: String) {
        self.req.model = model;
    }
    async fn call(self, client: Client, opts: CallOptions) -> SdkResult<Transcript> {
        client.audio_form(Self::KIND, self.req, &opts).await
    }
    fn price(&self, dep: &Deployment, answer: &Transcript) -> (Usage, Option<f64>) {
        let usage = answer.token_usage().map_or_else(Usage::default, |u| {
            let n = |k: &str| u.get(k).and_then(Value::as_u64).unwrap_or(0);
            Usage::new(n("input_tokens"), n("output_tokens"))
        });
        let c = dep
            .info
            .as_ref()
            .and_then(|i| cost::transcription(i, answer, self.file_seconds));
        (usage, c)
    }
}

/// `/audio/speech`.
#[derive(Clone)]
struct Speech(SpeechRequest);

impl MediaCall for Speech {
    const ROUTE: &'static str = "/audio/speech";
    const CALL_TYPE: &'static str = "aspeech";
    type Answer = Audio;

    fn set_model(&mut self, model: String) {
        self.0.model = model;
    }
    async fn call(self, client: Client, opts: CallOptions) -> SdkResult<Audio> {
        client.speech(self.0, &opts).await
    }
    fn price(&self, dep: &Deployment, answer: &Audio) -> (Usage, Option<f64>) {
        // A token-priced TTS model (Gemini) reports what it used.
        if let Some(u) = &answer.usage {
            let c = dep.info.as_ref().and_then(|i| cost::speech_tokens(i, u));
            return (Usage::new(u.input_tokens, u.output_tokens), c);
        }
        let input = self.0.input.as_deref().unwrap_or("");
        let tokens = self.prompt_tokens(dep.bare_model());
        let c = dep
            .info
            .as_ref()
            .and_then(|i| cost::speech(i, input, tokens));
        (Usage::new(tokens, 0), c)
    }
    fn prompt_tokens(&self, model: &str) -> u64 {
        let input = self.0.input.as_deref().unwrap_or("");
        llmgate::tokens::count_text(model, input) as u64
    }
    fn request_texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        if let Some(i) = self.0.input.as_mut() {
            f(i);
        }
    }
}

async fn heard<const T: bool>(
    state: AppState,
    auth: AuthContext,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let kind = Heard::<T>::KIND;
    let mut form = match super::form::read(&headers, &body, kind) {
        Ok(f) => f,
        Err(e) => return refused(e),
    };
    let model = form.field("model").unwrap_or_default().to_string();
    let mut fields = super::form::fields(&form);
    let end_user = form.field("user").map(str::to_string);
    let parts = match prepare(
        &state,
        &auth,
        Heard::<T>::ROUTE,
        model,
        end_user,
        &mut fields,
        body.len(),
    ) {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    super::form::keep_only(&mut form, &fields);
    let file_seconds = form.file("file").and_then(|f| duration::seconds(&f.data));
    drop(body);
    let call = Heard::<T> {
        req: FormRequest {
            model: String::new(),
            form,
        },
        file_seconds,
    };
    run(&state, &auth, call, parts, |t: Transcript, done| {
        let mut res = Response::new(Body::from(t.body));
        let ct = HeaderValue::try_from(t.content_type.as_str())
            .unwrap_or(HeaderValue::from_static("application/json"));
        res.headers_mut().insert("content-type", ct);
        done.finish(res)
    })
    .await
}

pub async fn transcriptions(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    heard::<true>(state, auth, headers, body).await
}

pub async fn translations(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    heard::<false>(state, auth, headers, body).await
}

pub async fn speech(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    let mut req: SpeechRequest = match proxy::parse_body(&body) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    if req.input.as_deref().is_none_or(str::is_empty) {
        return refused(GatewayError::BadRequest("input is a required field".into()));
    }
    let model = std::mem::take(&mut req.model);
    let end_user = req
        .extra
        .get("user")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut extra = std::mem::take(&mut req.extra);
    let parts = match prepare(
        &state,
        &auth,
        Speech::ROUTE,
        model,
        end_user,
        &mut extra,
        body.len(),
    ) {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    req.extra = extra;
    run(&state, &auth, Speech(req), parts, |a: Audio, done| {
        // Passed on chunk by chunk; an upstream failure mid-way ends the body early.
        let stream = a
            .stream
            .map(|r| r.map_err(|e| std::io::Error::other(e.to_string())));
        let mut res = Response::new(Body::from_stream(stream));
        let ct = HeaderValue::try_from(a.content_type.as_str())
            .unwrap_or(HeaderValue::from_static("audio/mpeg"));
        res.headers_mut().insert("content-type", ct);
        done.finish(res)
    })
    .await
}
