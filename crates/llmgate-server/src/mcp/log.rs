//! A tool call's spend log, as LiteLLM writes one: `call_type` `call_mcp_tool`, the
//! namespaced tool as the model, the server and tool in `metadata.mcp_tool_call_metadata`.
//! Its cost (`mcp_info.mcp_server_cost_info`, successful calls only) is the log's `spend`,
//! added to the key's and team's live spend (the spend writer adds it to their rows).

use std::time::Instant;

use llmgate_store::spend::SpendLog;
use serde_json::json;

use crate::auth::AuthContext;
use crate::state::AppState;

pub struct ToolCall<'a> {
    pub server: &'a str,
    pub tool: &'a str,
    pub arguments: Option<&'a serde_json::Map<String, serde_json::Value>>,
    pub start: Instant,
    pub started_ms: i64,
    pub status: &'static str,
    pub error: Option<String>,
    pub route: &'static str,
    pub cost: f64,
}

pub async fn record(state: &AppState, ctx: &AuthContext, call: ToolCall<'_>) {
    let elapsed = call.start.elapsed().as_millis() as i64;
    tracing::info!(
        server = call.server,
        tool = call.tool,
        key = ctx.key.as_ref().map(|k| k.row.token.as_str()).unwrap_or(""),
        duration_ms = elapsed,
        status = call.status,
        "MCP tool call"
    );
    let Some(writer) = &state.gov.spend else {
        return;
    };
    let cost = if call.status == "success" {
        call.cost
    } else {
        0.0
    };
    if cost > 0.0 {
        charge(state, ctx, cost).await;
    }
    if call.status == "failure" && state.gov.disable_error_logs {
        return;
    }
    let key = ctx.key.as_ref().map(|k| &k.row);
    let namespaced = format!("{}{}{}", call.server, super::config::SEPARATOR, call.tool);
    let mut metadata = json!({
        "mcp_tool_call_metadata": {
            "name": call.tool,
            "arguments": call.arguments,
            "mcp_server_name": call.server,
            "namespaced_tool_name": namespaced,
        },
        "user_api_key_alias": key.and_then(|k| k.key_alias.clone()),
        "user_api_key_team_id": key.and_then(|k| k.team_id.clone()),
        "user_api_key_user_id": key.and_then(|k| k.user_id.clone()),
    });
    if let Some(e) = &call.error {
        metadata["error_information"] = json!({"error_message": e, "error_class": "MCPError"});
    }
    let id = uuid::Uuid::new_v4().to_string();
    writer.record(SpendLog {
        request_id: id.clone(),
        spend: cost,
        litellm_call_id: Some(id),
        call_type: "call_mcp_tool".into(),
        api_key: key.map(|k| k.token.clone()).unwrap_or_default(),
        start_time: call.started_ms,
        end_time: call.started_ms + elapsed,
        request_duration_ms: Some(elapsed),
        mcp_namespaced_tool_name: Some(namespaced.clone()),
        model: namespaced,
        custom_llm_provider: Some("mcp".into()),
        metadata: metadata.into(),
        team_id: key.and_then(|k| k.team_id.clone()),
        organization_id: key.and_then(|k| k.organization_id.clone()),
        user: key.and_then(|k| k.user_id.clone()),
        user_id: key.and_then(|k| k.user_id.clone()),
        requester_ip_address: ctx.client_ip.clone(),
        status: Some(call.status.into()),
        endpoint: Some(call.route.into()),
        ..Default::default()
    });
}

/// The cost on the key's and its team's live spend, so their budgets see it at once.
async fn charge(state: &AppState, ctx: &AuthContext, cost: f64) {
    let Some(key) = &ctx.key else { return };
    key.add_spend(cost);
    if let (Some(tid), Some(store)) = (&key.row.team_id, &state.gov.store) {
        if let Ok(Some(team)) = state.gov.keys.teams.get(store, tid).await {
            team.add_spend(cost);
        }
    }
}
