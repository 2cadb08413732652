//! `/moderations`: OpenAI's moderation API, routed by `model` (else
//! `general_settings.moderation_model`, as LiteLLM resolves it); priced per input token
//! where the catalog prices the model (OpenAI's are free). Without any model, as LiteLLM
//! does, the call goes straight to OpenAI with the environment's credentials
//! (`OPENAI_API_KEY`, `OPENAI_API_BASE`) and OpenAI's default model, admitted and logged
//! like a routed one.

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::HeaderValue;
use axum::response::Response;
use axum::Extension;
use llmgate::{CallOptions, Client, ModerationRequest, ModerationResponse, Usage};

use super::*;

#[derive(Clone)]
struct Moderation(ModerationRequest);

impl MediaCall for Moderation {
    const ROUTE: &'static str = "/moderations";
    const CALL_TYPE: &'static str = "amoderation";
    type Answer = ModerationResponse;

    fn set_model(&mut self, model: String) {
        self.0.model = model;
    }
    async fn call(self, client: Client, opts: CallOptions) -> SdkResult<ModerationResponse> {
        client.moderation(self.0, &opts).await
    }
    fn price(&self, dep: &Deployment, _answer: &ModerationResponse) -> (Usage, Option<f64>) {
        let usage = Usage::new(self.prompt_tokens(dep.bare_model()), 0);
        (usage, None)
    }
    fn prompt_tokens(&self, model: &str) -> u64 {
        let mut text = String::new();
        texts(&self.0.input, &mut text);
        llmgate::tokens::count_text(model, &text) as u64
    }
    fn request_texts(&mut self, f: &mut dyn FnMut(&mut String)) {
        crate::routes::endpoint::guarded::value_texts(&mut self.0.input, f);
    }
}

/// The text of an input: a string, strings, or `{"type": "text", "text": ...}` parts.
fn texts(v: &Value, out: &mut String) {
    match v {
        Value::String(s) => out.push_str(s),
        Value::Array(a) => a.iter().for_each(|i| texts(i, out)),
        Value::Object(o) => {
            if let Some(t) = o.get("text").and_then(Value::as_str) {
                out.push_str(t);
            }
        }
        _ => {}
    }
}

pub async fn moderations(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    body: Bytes,
) -> Response {
    let mut req: ModerationRequest = match proxy::parse_body(&body) {
        Ok(r) => r,
        Err(e) => return refused(e),
    };
    if req.input.is_null() {
        return refused(GatewayError::BadRequest("input is a required field".into()));
    }
    let model =
        default_model(&state, "moderation_model").unwrap_or_else(|| std::mem::take(&mut req.model));
    if model.is_empty() {
        return direct(&state, &auth, req).await;
    }
    let end_user = req
        .extra
        .get("user")
        .and_then(Value::as_str)
        .map(str::to_string);
    let mut extra = std::mem::take(&mut req.extra);
    let parts = match prepare(
        &state,
        &auth,
        Moderation::ROUTE,
        model,
        end_user,
        &mut extra,
        body.len(),
    ) {
        Ok(p) => p,
        Err(e) => return refused(e),
    };
    req.extra = extra;
    run(
        &state,
        &auth,
        Moderation(req),
        parts,
        |a: ModerationResponse, done| {
            let bytes = serde_json::to_vec(&a).unwrap_or_default();
            let mut res = Response::new(Body::from(bytes));
            res.headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            done.finish(res)
        },
    )
    .await
}

/// OpenAI's default moderation model (what OpenAI answers a request without `model` with).
const OPENAI_DEFAULT: &str = "omni-moderation-latest";

/// A request without a model: to OpenAI itself (no router), as LiteLLM's `amoderation`.
async fn direct(state: &AppState, auth: &AuthContext, mut req: ModerationRequest) -> Response {
    let start = Instant::now();
    let mut extra = std::mem::take(&mut req.extra);
    // The proxy's own fields stay here; a client-side `api_base` only where allowed.
    let allowed = proxy::client_side_allowed(state, auth.is_master || auth.is_proxy_admin);
    let client = match proxy::check_nested_client_side(allowed, None, &extra)
        .and_then(|_| proxy::client_side(state, allowed, OPENAI_DEFAULT, &mut extra))
    {
        Ok(c) => c,
        Err(e) => return refused(e),
    };
    proxy::strip_proxy_fields(&mut extra);
    extra.shift_remove("metadata");
    req.extra = extra;
    let model = format!("openai/{OPENAI_DEFAULT}");
    let entry = crate::config::ModelEntry {
        model_name: OPENAI_DEFAULT.to_string(),
        litellm_params: crate::config::LitellmParams::new(model.clone()),
        ..Default::default()
    };
    let base = state
        .client
        .api_base(&model, &CallOptions::default())
        .unwrap_or_default();
    let dep = Arc::new(Deployment::for_target(
        &entry,
        &state.config,
        &state.client,
        &base,
    ));
    let admission =
        match crate::governance::admit::admit_target(&state.gov, auth, OPENAI_DEFAULT).await {
            Ok(a) => a,
            Err(e) => return refused(e),
        };
    let mut headers = admission.headers.clone();
    let spend_before = admission.spend_before;
    let call = Moderation(req);
    let mut settle = Settlement::new(
        &state.gov,
        auth,
        admission,
        Moderation::CALL_TYPE,
        Moderation::ROUTE,
        start,
        Arc::new(Prompt(Arc::new(call.clone()))),
    );
    settle.attempt(&dep);
    let mut sent = call.0.clone();
    sent.model = model;
    let t0 = Instant::now();
    let res = state
        .client
        .moderation(sent, &options(&dep, &client, None))
        .await;
    let meta = CallMeta {
        start,
        call_id: settle.call_id().to_string(),
        deployment: dep.clone(),
        model_group: OPENAI_DEFAULT.to_string(),
        attempted_retries: 0,
        attempted_fallbacks: 0,
        max_retries: 0,
        timeout: None,
        model_region: None,
        upstream_headers: res.as_ref().map(|r| r.headers.clone()).unwrap_or_default(),
        upstream: t0.elapsed(),
        routed: None,
        api_start: Some(t0),
    };
    settle.answered(&meta);
    match res {
        Ok(r) => {
            let (usage, _) = call.price(&dep, &r.body);
            let cost = settle.success(Some(&usage));
            headers.py_float(h::KEY_SPEND, Some(spend_before + cost.unwrap_or(0.0)));
            let bytes = serde_json::to_vec(&r.body).unwrap_or_default();
            let mut res = Response::new(Body::from(bytes));
            res.headers_mut()
                .insert("content-type", HeaderValue::from_static("application/json"));
            Done {
                meta: &meta,
                cost,
                headers,
            }
            .finish(res)
        }
        Err(e) => {
            let e = GatewayError::Llm(e);
            settle.failure(&e);
            error_response_in(e, Some(&meta), ErrorShape::OpenAi)
        }
    }
}
