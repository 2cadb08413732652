//! A call's attempts, as the router plans them after each failure.

use super::plan::mock_attempt;
use super::*;

/// Calls `f` on deployments the router picks for the settlement's model group: after a
/// failure the router's plan decides — retry (another deployment first), fall back to
/// another group, or answer the error. Every attempt's outcome feeds the router (cooldowns,
/// latency); the settlement learns each deployment tried, so a call abandoned while waiting
/// is charged to the right one.
pub async fn call_with_retries<T, F, Fut>(
    state: &AppState,
    route: &'static str,
    settle: &mut Settlement,
    plan: &CallPlan,
    f: F,
) -> Result<(T, CallMeta), (GatewayError, Option<CallMeta>)>
where
    F: Fn(Arc<Deployment>, String) -> Fut,
    Fut: Future<Output = Result<SdkResponse<T>, LlmError>>,
{
    let deployments = state.deployments();
    let router = deployments.router();
    let model_name = settle.group().to_string();
    if !router.serves(&model_name) {
        return Err((
            GatewayError::UnknownModel {
                route,
                model: model_name,
            },
            None,
        ));
    }
    // As LiteLLM's pre-call check: an end user limited to a region is served only by the
    // deployments whose `region_name` is that region.
    let region = settle.allowed_region().map(str::to_string);
    let mut banned: Vec<String> = Vec::new();
    if let (Some(r), Some(group)) = (&region, deployments.group(&model_name)) {
        let outside = |d: &&Arc<Deployment>| {
            d.entry
                .litellm_params
                .extra
                .get("region_name")
                .and_then(Value::as_str)
                != Some(r)
        };
        banned.extend(group.iter().filter(outside).map(|d| d.id.clone()));
        if banned.len() == group.len() {
            return Err((
                GatewayError::BadRequest(format!(
                    "No deployments available for model={model_name} in the end user's allowed_model_region={r}"
                )),
                None,
            ));
        }
    }
    let settings = router.settings();
    let mut at = router
        .attempts(&model_name)
        .with_request_fallbacks(plan.fallbacks.clone())
        .with_retries(plan.num_retries);
    let mut upstream = Duration::ZERO;
    let mut last: Option<CallMeta> = None;
    // Read once: the settlement is borrowed mutably in the loop, and the tags never change.
    let tags = settle.tags().to_vec();
    // The error that made the call fall back, for the fallback metrics.
    let mut fell_back: Option<LlmError> = None;
    loop {
        let group = at.group().to_string();
        let asked = at.fallbacks == 0;
        let ask = Ask {
            tags: &tags,
            input_tokens: plan.input_tokens,
            exclude: at.tried(),
            banned: if asked { &banned } else { &[] },
        };
        let pick = match router.pick(&group, ask) {
            Ok(p) => p,
            Err(e) => {
                let may = |g: &str| settle.may_call(&deployments, g);
                if let Next::Fallback { group: to } = at.after(router, None, &e, &may) {
                    tracing::warn!(model = %group, fallback = %to, error = %e, "falling back");
                    if fell_back.is_none() && settle.observing() {
                        fell_back = Some(e.clone());
                    }
                    continue;
                }
                if let Some(m) = &last {
                    settle.answered(m);
                }
                let e = at.final_error(router, e.with_model(&group));
                return Err((GatewayError::Llm(e), last));
            }
        };
        let dep = pick.target().clone();
        at.attempted(&dep.id);
        settle.attempt(&dep);
        let max_retries = plan
            .num_retries
            .or(dep.max_retries)
            .unwrap_or(settings.num_retries);
        let t0 = Instant::now();
        let res = match mock_attempt(plan, &dep, &group, asked).await {
            Some(e) => Err(e),
            None => f(dep.clone(), pick.model.clone()).await,
        };
        let took = t0.elapsed();
        upstream += took;
        let meta = |headers, routed| CallMeta {
            start: settle.start(),
            call_id: settle.call_id().to_string(),
            deployment: dep.clone(),
            model_group: group.clone(),
            attempted_retries: at.retries,
            attempted_fallbacks: at.fallbacks,
            max_retries,
            timeout: plan.timeout.or(dep.entry.litellm_params.timeout),
            model_region: region.clone(),
            upstream_headers: headers,
            upstream,
            routed,
            api_start: Some(t0),
        };
        match res {
            Ok(r) => {
                router.succeeded(&pick.member, None, None);
                settle.observe_attempt(&dep, None, false);
                if let Some(original) = &fell_back {
                    settle.observe_fallback(&group, original, true);
                }
                let routed = Routed::new(pick, t0, router);
                if !plan.stream {
                    routed.first_token();
                }
                let meta = meta(r.headers, Some(Arc::new(routed)));
                settle.answered(&meta);
                return Ok((r.body, meta));
            }
            Err(e) => {
                let cooled = router.failed(&pick.member, &e);
                settle.observe_attempt(&dep, Some(&e), cooled);
                if let Some(original) = &fell_back {
                    settle.observe_fallback(&group, original, false);
                }
                let m = meta(e.headers.clone(), None);
                let may = |g: &str| settle.may_call(&deployments, g);
                let next = at.after(router, Some(&pick.member), &e, &may);
                drop(pick);
                match next {
                    Next::Retry { delay } => {
                        tracing::warn!(model = %group, deployment = %dep.id, error = %e, "retrying");
                        if !delay.is_zero() {
                            tokio::time::sleep(delay).await;
                        }
                        last = Some(m);
                    }
                    Next::Fallback { group: to } => {
                        tracing::warn!(model = %group, fallback = %to, error = %e, "falling back");
                        if fell_back.is_none() && settle.observing() {
                            fell_back = Some(e.clone());
                        }
                        last = Some(m);
                    }
                    Next::Stop => {
                        settle.answered(&m);
                        let e = at.final_error(router, e.with_model(&group));
                        return Err((GatewayError::Llm(e), Some(m)));
                    }
                }
            }
        }
    }
}
