//! `/moderations`: OpenAI's moderation API, routed by `model` (else
//! `general_settings.moderation_model`, as LiteLLM resolves it); priced per input token
//! where the catalog prices the model (OpenAI's are free).

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
