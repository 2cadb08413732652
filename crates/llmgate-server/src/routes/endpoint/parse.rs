//! Step 2 of the handler: the body parsed, checked and stripped of proxy-only fields, and
//! what admission, the cache, the guardrails and the router need of it.

use super::*;

/// A parsed request, what admission needs of it, and the client-side params it may use.
pub(super) struct Parsed<E> {
    pub(super) req: E,
    pub(super) ask: Ask,
    pub(super) client: ClientSide,
    /// The client asked for the closing usage chunk itself (else it is asked for only to
    /// price the stream, and not sent on).
    pub(super) client_wants_usage: bool,
    /// What the router is asked for this call (fallbacks, retries, simulated failures...).
    pub(super) plan: proxy::CallPlan,
    /// The request's cache controls (None: the response cache is off).
    pub(super) controls: Option<crate::cache::Controls>,
    /// Whether the client asked for a stream's usage chunk (a cache hit's replay).
    pub(super) replay_usage: bool,
    /// The guardrails the request names (`guardrails`, `metadata.guardrails`).
    pub(super) guardrails: Vec<String>,
}

pub(super) fn parse<E: Endpoint>(
    state: &AppState,
    auth: &AuthContext,
    body: &Bytes,
    path_model: Option<String>,
    cache_control: Option<&str>,
) -> Result<Parsed<E>, GatewayError> {
    let mut req: E = proxy::parse_body(body)?;
    if let Some(m) = path_model {
        *req.model_mut() = m;
    }
    if let Some(msg) = req.missing_field() {
        return Err(GatewayError::BadRequest(msg.into()));
    }
    let model = std::mem::take(req.model_mut());
    // An admin's key, not merely auth being off: with no master key, anyone could send one.
    let allowed = proxy::client_side_allowed(state, auth.is_master || auth.is_proxy_admin);
    proxy::check_nested_client_side(allowed, req.metadata(), req.extra())?;
    let client = proxy::client_side(state, allowed, &model, req.extra_mut())?;
    // Read before the proxy-only fields (`metadata` among them) are stripped.
    let ask = Ask {
        tags: req.tags(),
        end_user: req.end_user(),
        model,
        body_bytes: body.len(),
        max_output: req.max_output(),
    };
    // What the call is recorded under is stored: no NUL in it.
    crate::routes::guard::stored("model", &ask.model)?;
    if let Some(u) = &ask.end_user {
        crate::routes::guard::stored("user", u)?;
    }
    for t in &ask.tags {
        crate::routes::guard::stored("tags", t)?;
    }
    // LiteLLM's cache-control check runs whether caching is on or not; both read `cache`
    // before the proxy-only fields (it among them) are stripped.
    if let Some(k) = auth
        .key
        .as_ref()
        .filter(|k| !k.row.allowed_cache_controls.is_empty())
    {
        crate::cache::controls::check_allowed(
            &k.row.allowed_cache_controls,
            req.extra().get("cache"),
        )?;
    }
    let controls = match state.cache {
        Some(_) => Some(crate::cache::Controls::parse(
            req.extra().get("cache"),
            cache_control,
        )?),
        None => None,
    };
    let mut plan = proxy::call_plan(state, req.extra(), ask.tags.clone())?;
    plan.stream = req.is_stream();
    let rs = state.router.settings.as_ref();
    if rs.pre_call_checks || rs.strategy == llmgate::router::Strategy::UsageBased {
        plan.input_tokens = Some(req.prompt_tokens(&ask.model));
    }
    let guardrails = match state.guardrails {
        Some(_) => crate::guardrails::requested(req.extra(), req.metadata()),
        None => Vec::new(),
    };
    proxy::strip_proxy_fields(req.extra_mut());
    // With spend tracking, a stream is priced from the upstream's usage chunk, asked for as
    // LiteLLM's proxy asks for it: where the providers take `stream_options` (or always, with
    // `general_settings.always_include_stream_usage: true`; never with `false`, and then the
    // streamed text is counted).
    let settings = &state.config.general_settings;
    let ask_upstream = state.gov.spend.is_some()
        && req.is_stream()
        && !settings.flag_off("always_include_stream_usage")
        && (settings.flag("always_include_stream_usage")
            || state.deployments().take_stream_options(&ask.model));
    let client_wants_usage = if ask_upstream { req.ask_usage() } else { true };
    // A cached stream's usage chunk goes only to a client that asked for it.
    let replay_usage = match &controls {
        Some(_) if req.is_stream() && !ask_upstream => req.clone().ask_usage(),
        _ => client_wants_usage,
    };
    Ok(Parsed {
        req,
        ask,
        client,
        client_wants_usage,
        replay_usage,
        plan,
        controls,
        guardrails,
    })
}

/// A deployment's default request params, for those the request does not set (as LiteLLM
/// passes a deployment's `litellm_params` under the request's own).
pub(super) fn apply_defaults<E: Endpoint>(req: &mut E, defaults: &Map<String, Value>) {
    let Ok(Value::Object(mut body)) = serde_json::to_value(&*req) else {
        return;
    };
    if !fill_defaults(&mut body, defaults, E::default_param) {
        return;
    }
    match serde_json::from_value(Value::Object(body)) {
        Ok(r) => *req = r,
        Err(e) => {
            tracing::warn!(error = %e, "a deployment's default params do not fit the request: not applied")
        }
    }
}

/// Sets in a JSON body each default the body does not set, under the field `field` names for
/// it (`outer.inner` for one nested object: Google's `generationConfig.temperature`); whether
/// any was set.
pub(super) fn fill_defaults(
    body: &mut Map<String, Value>,
    defaults: &Map<String, Value>,
    field: fn(&str) -> Option<&str>,
) -> bool {
    let mut changed = false;
    for (k, v) in defaults {
        let Some(k) = field(k) else {
            continue;
        };
        let (outer, inner) = match k.split_once('.') {
            Some((o, i)) => {
                let o = body
                    .entry(o.to_string())
                    .or_insert_with(|| Value::Object(Map::new()));
                if o.is_null() {
                    *o = Value::Object(Map::new());
                }
                let Value::Object(o) = o else {
                    continue;
                };
                (o, i)
            }
            None => (&mut *body, k),
        };
        if outer.get(inner).is_none_or(Value::is_null) {
            outer.insert(inner.to_string(), v.clone());
            changed = true;
        }
    }
    changed
}
