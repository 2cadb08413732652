//! The media endpoints — `/images/generations`, `/images/edits`, `/images/variations`,
//! `/audio/transcriptions`, `/audio/translations`, `/audio/speech`, `/moderations` — through
//! one short pipeline: the request read (JSON, or a multipart form held once: its files are
//! slices of the body), the proxy's own fields and client-side credentials checked as on
//! chat, admission (keys, budgets, limits), the router's attempts (retries, fallbacks,
//! cooldowns), the settlement (spend log with LiteLLM's call type, cost from the catalog as
//! LiteLLM prices each kind), then the answer: JSON, the upstream's text, or audio streamed.

mod audio;
mod form;
mod images;
mod moderations;

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

use axum::response::Response;
use llmgate::{CallOptions, Client, LlmError, Usage};
use serde_json::{Map, Value};

pub use audio::{speech, transcriptions, translations};
pub use images::{edits, generations, variations};
pub use moderations::moderations;

use super::proxy::{self, call_with_retries, error_response_in, CallPlan, ClientSide};
use crate::auth::AuthContext;
use crate::deployments::Deployment;
use crate::error::{ErrorShape, GatewayError};
use crate::governance::admit::{admit, Ask};
use crate::governance::headers::{self as h, AnswerHeaders};
use crate::governance::settle::{CallMeta, PromptTokens, Settlement};
use crate::routes::endpoint::guarded::Guard;
use crate::state::AppState;

type SdkResult<T> = Result<llmgate::Response<T>, LlmError>;

/// The media routes (each also served under `/v1`).
pub fn routes() -> Vec<(&'static str, axum::routing::MethodRouter<AppState>)> {
    use axum::routing::post;
    vec![
        ("/images/generations", post(generations)),
        ("/images/edits", post(edits)),
        ("/images/variations", post(variations)),
        ("/audio/transcriptions", post(transcriptions)),
        ("/audio/translations", post(translations)),
        ("/audio/speech", post(speech)),
        ("/moderations", post(moderations)),
    ]
}

/// One media request kind, for [`run`].
trait MediaCall: Clone + Send + Sync + 'static {
    /// The path LiteLLM names in errors.
    const ROUTE: &'static str;
    /// LiteLLM's `call_type` in spend logs.
    const CALL_TYPE: &'static str;
    type Answer: Send + 'static;

    /// The upstream's model name, set before each attempt.
    fn set_model(&mut self, model: String);
    fn call(
        self,
        client: Client,
        opts: CallOptions,
    ) -> impl Future<Output = SdkResult<Self::Answer>> + Send;
    /// The usage to log and the cost of `answer` from `dep` (None: not priced).
    fn price(&self, dep: &Deployment, answer: &Self::Answer) -> (Usage, Option<f64>);
    /// Prompt tokens, for a call abandoned before it answered.
    fn prompt_tokens(&self, _model: &str) -> u64 {
        0
    }
    /// The request's texts the `pre_call` guardrails check (and may mask): a prompt, an input.
    fn request_texts(&mut self, _f: &mut dyn FnMut(&mut String)) {}
}

/// What every kind shares once its body is read: admission's ask, the router's plan and a
/// permitted client-side `api_base`.
struct Parts {
    ask: Ask,
    plan: CallPlan,
    client: ClientSide,
    /// The guardrails the request names (`guardrails`, `metadata.guardrails`).
    guardrails: Vec<String>,
}

/// The checks chat's parser makes, on a body's fields (`extra`: a JSON body's unknown fields,
/// or a form's text fields): client-side credentials, the proxy's own fields stripped, the
/// router's plan (fallbacks, retries, timeout, mock failures), tags and end user.
fn prepare(
    state: &AppState,
    auth: &AuthContext,
    route: &'static str,
    model: String,
    end_user: Option<String>,
    extra: &mut Map<String, Value>,
    body_bytes: usize,
) -> Result<Parts, GatewayError> {
    if model.is_empty() {
        return Err(GatewayError::UnknownModel { route, model });
    }
    let allowed = proxy::client_side_allowed(state, auth.is_master || auth.is_proxy_admin);
    proxy::check_nested_client_side(allowed, None, extra)?;
    let client = proxy::client_side(state, allowed, &model, extra)?;
    let mut tags = tag_list(extra.get("tags"));
    if let Some(m) = extra.get("metadata") {
        tags.extend(tag_list(m.get("tags")));
    }
    super::guard::stored("model", &model)?;
    if let Some(u) = &end_user {
        super::guard::stored("user", u)?;
    }
    for t in &tags {
        super::guard::stored("tags", t)?;
    }
    let plan = proxy::call_plan(state, extra, tags.clone())?;
    let guardrails = crate::guardrails::requested(extra, None);
    extra.shift_remove("guardrails");
    proxy::strip_proxy_fields(extra);
    extra.shift_remove("metadata");
    Ok(Parts {
        ask: Ask {
            model,
            end_user,
            tags,
            body_bytes,
            max_output: None,
        },
        plan,
        client,
        guardrails,
    })
}

/// A default model from `general_settings` (`image_generation_model`, `moderation_model`),
/// which LiteLLM puts before the body's.
fn default_model(state: &AppState, setting: &str) -> Option<String> {
    state
        .config
        .general_settings
        .extra
        .get(setting)
        .and_then(Value::as_str)
        .filter(|m| !m.is_empty())
        .map(str::to_string)
}

fn tag_list(v: Option<&Value>) -> Vec<String> {
    v.and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(|t| t.as_str().map(str::to_string))
        .collect()
}

/// A request's prompt tokens (counted only for an abandoned call).
struct Prompt<C>(Arc<C>);

impl<C: MediaCall> PromptTokens for Prompt<C> {
    fn prompt_tokens(&self, model: &str) -> u64 {
        self.0.prompt_tokens(model)
    }
}

/// The deployment's options, with what the request may change: a lower timeout, a permitted
/// client-side `api_base` (and its key).
fn options(dep: &Deployment, client: &ClientSide, timeout: Option<f64>) -> CallOptions {
    let mut o = dep.opts.clone();
    if let Some(t) = timeout.map(std::time::Duration::from_secs_f64) {
        if o.timeout.is_none_or(|d| t < d) {
            o.timeout = Some(t);
            o.stream_timeout = o.stream_timeout.map(|s| s.min(t));
        }
    }
    if let Some(base) = &client.api_base {
        o.api_base = Some(base.clone());
        if let Some(k) = &client.api_key {
            o.api_key = Some(k.clone());
        }
    }
    o
}

/// What a finished call hands the kind's answer builder.
struct Done<'a> {
    meta: &'a CallMeta,
    cost: Option<f64>,
    /// Admission's rate-limit headers and the key's spend after the call.
    headers: AnswerHeaders,
}

impl Done<'_> {
    /// Adds LiteLLM's headers (the call's and admission's) to `res`.
    fn finish(self, mut res: Response) -> Response {
        proxy::add_litellm_headers(res.headers_mut(), self.meta, self.cost);
        self.headers.apply(res.headers_mut());
        res
    }
}

/// admit → call (router attempts) → settle → answer (`respond`).
async fn run<C: MediaCall>(
    state: &AppState,
    auth: &AuthContext,
    call: C,
    parts: Parts,
    respond: impl FnOnce(C::Answer, Done<'_>) -> Response,
) -> Response {
    let start = Instant::now();
    let Parts {
        ask,
        plan,
        client,
        guardrails,
    } = parts;
    let admission = match admit(&state.gov, &state.deployments(), auth, ask).await {
        Ok(a) => a,
        Err(e) => return error_response_in(e, None, ErrorShape::OpenAi),
    };
    // The pre-call guardrails on the prompt or input, only when configured.
    let mut call = call;
    let call_id = uuid::Uuid::new_v4().to_string();
    let mut guard = Guard::new(
        state,
        &guardrails,
        auth,
        admission.owners.team.as_ref().map(|t| &t.row.metadata),
    );
    let mut pre = Ok(());
    if let Some(g) = guard.as_mut() {
        let mut texts = Vec::new();
        call.request_texts(&mut |t| texts.push(t.clone()));
        match g.pre_call_texts(texts, &call_id).await {
            Ok(Some(masked)) => {
                let mut it = masked.into_iter();
                call.request_texts(&mut |t| {
                    if let Some(m) = it.next() {
                        *t = m;
                    }
                });
            }
            Ok(None) => {}
            Err(e) => pre = Err(e),
        }
    }
    let call = Arc::new(call);
    let mut headers = admission.headers.clone();
    let spend_before = admission.spend_before;
    let mut settle = Settlement::new(
        &state.gov,
        auth,
        admission,
        C::CALL_TYPE,
        C::ROUTE,
        start,
        Arc::new(Prompt(call.clone())),
    );
    settle.use_call_id(call_id);
    if let Some(g) = guard {
        settle.guardrails(g.info);
    }
    if let Err(e) = pre {
        // Logged against the group's deployment, as chat logs a refused call.
        if let Some((dep, _)) = state.deployments().peek(settle.group()) {
            settle.attempt(&dep);
        }
        settle.failure(&e);
        return error_response_in(e, None, ErrorShape::OpenAi);
    }
    let res = call_with_retries(state, C::ROUTE, &mut settle, &plan, |dep, model| {
        let mut c = (*call).clone();
        c.set_model(model);
        let opts = options(&dep, &client, plan.timeout);
        c.call(state.client.clone(), opts)
    })
    .await;
    match res {
        Ok((answer, meta)) => {
            let (usage, cost) = call.price(&meta.deployment, &answer);
            if let Some(c) = cost {
                settle.fixed_cost(c);
            }
            let cost = settle.success(Some(&usage));
            headers.py_float(h::KEY_SPEND, Some(spend_before + cost.unwrap_or(0.0)));
            respond(
                answer,
                Done {
                    meta: &meta,
                    cost,
                    headers,
                },
            )
        }
        Err((e, meta)) => {
            settle.failure(&e);
            error_response_in(e, meta.as_ref(), ErrorShape::OpenAi)
        }
    }
}

/// A refusal before admission, in OpenAI's shape.
fn refused(e: GatewayError) -> Response {
    error_response_in(e, None, ErrorShape::OpenAi)
}

/// A deployment's catalog model (its `base_model`, else its own model without the provider
/// prefix), for the rows priced by size and quality.
fn catalog_model(dep: &Deployment) -> String {
    dep.entry
        .model_info
        .extra
        .get("base_model")
        .or(dep.entry.litellm_params.extra.get("base_model"))
        .and_then(Value::as_str)
        .map(|b| b.rsplit_once('/').map_or(b, |(_, m)| m).to_string())
        .unwrap_or_else(|| dep.bare_model().to_string())
}

/// The deployment's provider as LiteLLM's cost map names it.
fn provider_of(dep: &Deployment) -> &str {
    match dep.provider.as_str() {
        "vertex_ai_beta" => "vertex_ai",
        p => p,
    }
}
