//! `/images/generations` (JSON), `/images/edits` and `/images/variations` (forms): priced per
//! image, per pixel or per token as LiteLLM's image cost calculator does
//! (`llmgate::media::cost::image`).

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue};
use axum::response::Response;
use axum::Extension;
use llmgate::media::cost::{self, ImageAsk};
use llmgate::media::{FormKind, FormRequest};
use llmgate::{CallOptions, Client, ImageGenerationRequest, ImageResponse, Usage};

use super::*;

/// `/images/generations`.
#[derive(Clone)]
struct Generation(ImageGenerationRequest);

/// `/images/edits` (`V = false`), `/images/variations` (`V = true`).
#[derive(Clone)]
struct Edit<const V: bool>(FormRequest);

impl MediaCall for Generation {
    const ROUTE: &'static str = "/images/generations";
    const CALL_TYPE: &'static str = "aimage_generation";
    type Answer = ImageResponse;

    fn set_model(&mut self, model: String) {
        self.0.model = model;
    }
    async fn call(self, client: Client, opts: CallOptions) -> SdkResult<ImageResponse> {
        client.image_generation(self.0, &opts).await
    }
    fn price(&self, dep: &Deployment, answer: &ImageResponse) -> (Usage, Option<f64>) {
        let r = &self.0;
        let ask = ImageAsk {
            size: r.size.as_deref(),
            quality: r.quality.as_deref(),
            n: r.n,
            steps: r.extra.get("steps").and_then(Value::as_u64),
        };
        price(dep, &ask, answer)
    }
    fn prompt_tokens(&self, model: &str) -> u64 {
        let p = self.0.prompt.as_deref().unwrap_or("");
        llmgate::tokens::count_text(model, p) as u64
    }
    fn request_texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        if let Some(p) = self.0.prompt.as_mut() {
            f(p);
        }
    }
}

impl<const V: bool> MediaCall for Edit<V> {
    const ROUTE: &'static str = if V {
        "/images/variations"
    } else {
        "/images/edits"
    };
    // LiteLLM's proxy has no variations route; its SDK function is `image_variation`.
    const CALL_TYPE: &'static str = if V { "aimage_variation" } else { "aimage_edit" };
    type Answer = ImageResponse;

    fn set_model(&mut self, model: String) {
        self.0.model = model;
    }
    async fn call(self, client: Client, opts: CallOptions) -> SdkResult<ImageResponse> {
        let kind = if V {
            FormKind::ImageVariation
        } else {
            FormKind::ImageEdit
        };
        client.image_form(kind, self.0, &opts).await
    }
    fn price(&self, dep: &Deployment, answer: &ImageResponse) -> (Usage, Option<f64>) {
        let f = &self.0.form;
        let ask = ImageAsk {
            size: f.field("size"),
            quality: f.field("quality"),
            n: f.field("n").and_then(|n| n.parse().ok()),
            steps: None,
        };
        price(dep, &ask, answer)
    }
}

fn price(dep: &Deployment, ask: &ImageAsk<'_>, answer: &ImageResponse) -> (Usage, Option<f64>) {
    let cat = llmgate::catalog::global();
    let c = cost::image(
        &cat,
        provider_of(dep),
        &catalog_model(dep),
        dep.info.as_ref(),
        ask,
        answer,
    );
    let tokens = |k: &str| {
        answer
            .usage
            .as_ref()
            .and_then(|u| u.get(k))
            .and_then(Value::as_u64)
            .unwrap_or(0)
    };
    (
        Usage::new(tokens("input_tokens"), tokens("output_tokens")),
        c,
    )
}

/// An image answer as JSON, the model restamped nowhere (OpenAI's answer names none).
fn answer_json(answer: ImageResponse, done: Done<'_>) -> Response {
    let bytes = serde_json::to_vec(&answer).unwrap_or_default();
    let mut res = Response::new(Body::from(bytes));
    res.headers_mut()
        .insert("content-type", HeaderValue::from_static("application/json"));
    done.finish(res)
}

pub async fn generations(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    let mut req: ImageGenerationRequest = match proxy::parse_body(&body) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    if req.prompt.as_deref().is_none_or(str::is_empty) {
        return refused(GatewayError::BadRequest(
            "prompt is a required field".into(),
        ));
    }
    let model = default_model(&state, "image_generation_model")
        .unwrap_or_else(|| std::mem::take(&mut req.model));
    let mut extra = std::mem::take(&mut req.extra);
    let parts = match prepare(
        &state,
        &auth,
        Generation::ROUTE,
        model,
        req.user.clone(),
        &mut extra,
        body.len(),
    ) {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    req.extra = extra;
    drop(body);
    run(&state, &auth, Generation(req), parts, answer_json).await
}

async fn form<const V: bool>(
    state: AppState,
    auth: AuthContext,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let kind = if V {
        FormKind::ImageVariation
    } else {
        FormKind::ImageEdit
    };
    let mut form = match super::form::read(&headers, &body, kind) {
        Ok(f) => f,
        Err(e) => return refused(e),
    };
    let model = default_model(&state, "image_generation_model")
        .or_else(|| form.field("model").map(str::to_string))
        .unwrap_or_default();
    let mut fields = super::form::fields(&form);
    let end_user = form.field("user").map(str::to_string);
    let parts = match prepare(
        &state,
        &auth,
        Edit::<V>::ROUTE,
        model,
        end_user,
        &mut fields,
        body.len(),
    ) {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    super::form::keep_only(&mut form, &fields);
    // The form's files keep the body's buffer alive; nothing else does.
    drop(body);
    let req = FormRequest {
        model: String::new(),
        form,
    };
    run(&state, &auth, Edit::<V>(req), parts, answer_json).await
}

pub async fn edits(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    form::<false>(state, auth, headers, body).await
}

pub async fn variations(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    form::<true>(state, auth, headers, body).await
}
