//! `/bedrock/model/{modelId}/{action}`: Bedrock's runtime API signed with the gateway's AWS
//! credentials (SigV4, service `bedrock`, or a Bedrock API key), as LiteLLM's Bedrock
//! pass-through: a `modelId` that names a deployment is sent as that deployment's model with
//! its credentials, region and endpoint; any other id goes with a `use_in_pass_through`
//! Bedrock deployment's credentials, else the environment's (`AWS_ACCESS_KEY_ID`,
//! `AWS_REGION_NAME`, `AWS_BEDROCK_RUNTIME_ENDPOINT`, ...). The id is checked and sent as one
//! percent-encoded segment, as AWS's SDKs send it.

use std::sync::Arc;

use axum::http::Method;
use axum::response::Response;
use llmgate::providers::bedrock::auth::Target;
use llmgate::providers::http::{path_segment, SegmentKind};
use llmgate::CallOptions;
use serde_json::Value;

use super::usage::Format;
use super::{env, pass_through_deployment, path, relay, Incoming};
use crate::auth::AuthContext;
use crate::deployments::Deployment;
use crate::error::GatewayError;
use crate::state::AppState;

pub const PREFIXES: &[&str] = &["/bedrock"];

/// The runtime actions LiteLLM's Bedrock pass-through recognises.
const ACTIONS: &[&str] = &[
    "invoke",
    "invoke-with-response-stream",
    "converse",
    "converse-stream",
    "count-tokens",
];

/// The environment's Bedrock settings, for a call no deployment covers.
fn env_options() -> CallOptions {
    let mut opts = CallOptions::default();
    for (var, param) in [
        ("AWS_REGION_NAME", "aws_region_name"),
        (
            "AWS_BEDROCK_RUNTIME_ENDPOINT",
            "aws_bedrock_runtime_endpoint",
        ),
    ] {
        if let Some(v) = env(var) {
            opts.extra.insert(param.into(), Value::String(v));
        }
    }
    opts
}

pub async fn call(
    state: &AppState,
    auth: &AuthContext,
    inc: Incoming,
) -> Result<Response, GatewayError> {
    let expected = || {
        GatewayError::BadRequest(format!(
            "Model missing from endpoint. Expected format: /model/{{modelId}}/{{action}} with action one of {ACTIONS:?}. Got: /{}",
            inc.rest
        ))
    };
    let segments: Vec<&str> = inc.rest.split('/').collect();
    if segments.len() < 3 || segments[0] != "model" {
        return Err(expected());
    }
    let action = *segments.last().unwrap_or(&"");
    if !ACTIONS.contains(&action) {
        return Err(expected());
    }
    if inc.method != Method::POST {
        return Err(GatewayError::BadRequest(
            "the Bedrock pass-through forwards POST requests only".into(),
        ));
    }
    // Everything between `model` and the action: a deployment name may hold `/`.
    let raw_id = segments[1..segments.len() - 1].join("/");
    let asked = path::percent_decode(&raw_id)
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(expected)?;
    let deployments = state.deployments();
    let named: Option<Arc<Deployment>> = deployments
        .group(&asked)
        .and_then(|g| g.iter().find(|d| d.provider == "bedrock").cloned());
    // A deployment's name is a model the key must be allowed to call.
    if let (Some(d), Some(key)) = (&named, &auth.key) {
        crate::governance::access::check(&state.gov, &deployments, key, &d.model_name).await?;
    }
    let (opts, model_id) = match &named {
        Some(d) => {
            let m = d.bare_model();
            let m = m
                .strip_prefix("converse/")
                .or_else(|| m.strip_prefix("invoke/"))
                .unwrap_or(m);
            (d.opts.clone(), m.to_string())
        }
        None => match pass_through_deployment(state, &["bedrock"]) {
            Some(d) => (d.opts.clone(), asked.clone()),
            None => (env_options(), asked.clone()),
        },
    };
    let id = path_segment(&model_id, SegmentKind::Aws).map_err(GatewayError::Llm)?;
    let encoded = id.replace(':', "%3A").replace('/', "%2F");
    let http = state.client.http();
    let target = Target::from_options(http, &opts)
        .await
        .map_err(GatewayError::Llm)?;
    let url = path::join(&target.endpoint, &format!("model/{encoded}/{action}"), None)?;
    let request = target
        .post(http, &opts, url.as_str(), inc.body.to_vec())
        .map_err(GatewayError::Llm)?;
    let format = if action.starts_with("converse") {
        Format::Bedrock
    } else if model_id.contains("anthropic") {
        Format::Anthropic
    } else {
        Format::Opaque
    };
    let call = relay::Call {
        call_type: "pass_through_endpoint",
        provider: "bedrock",
        route: "/bedrock",
        format,
        request,
        url,
        model: Some(model_id),
        deployment: named,
        cost_per_request: None,
    };
    Ok(relay::relay(state, auth, call).await)
}
