//! LiteLLM's management-event alerts: a key, team or internal user created, updated or
//! deleted (`send_management_endpoint_alert` → `send_virtual_key_event_slack`), and a model
//! added (`model_added_alert`, for `/model/new`). A middleware on the admin routes: when the
//! alert type is wanted, the request body is kept and, once the handler answered 2xx, the
//! alert is queued; otherwise the request passes untouched.

use axum::body::{to_bytes, Body};
use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use serde_json::Value;

use crate::governance::caller::AuthContext;
use crate::state::AppState;

/// The admin route → LiteLLM's alert type for it.
fn alert_type(path: &str) -> Option<&'static str> {
    Some(match path {
        "/key/generate" => "new_virtual_key_created",
        "/key/update" => "virtual_key_updated",
        "/key/delete" => "virtual_key_deleted",
        "/team/new" => "new_team_created",
        "/team/update" => "team_updated",
        "/team/delete" => "team_deleted",
        "/user/new" => "new_internal_user_created",
        "/user/update" => "internal_user_updated",
        "/user/delete" => "internal_user_deleted",
        "/model/new" => "new_model_added",
        _ => return None,
    })
}

/// `new_virtual_key_created` → `New Virtual Key Created` (Python's `str.title()`).
fn title(alert_type: &str) -> String {
    alert_type
        .split('_')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().collect::<String>() + &c.as_str().to_lowercase(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// A request body's secrets (a custom key, credentials) masked before it is shown in Slack.
fn masked(mut v: Value) -> Value {
    fn walk(v: &mut Value) {
        match v {
            Value::Object(m) => {
                for (k, x) in m.iter_mut() {
                    let secret = matches!(
                        k.as_str(),
                        "key"
                            | "api_key"
                            | "token"
                            | "master_key"
                            | "password"
                            | "aws_secret_access_key"
                    );
                    match x {
                        Value::String(s) if secret && !s.is_empty() => {
                            let head: String = s.chars().take(4).collect();
                            *s = format!("{head}****");
                        }
                        _ => walk(x),
                    }
                }
            }
            Value::Array(a) => a.iter_mut().for_each(walk),
            _ => {}
        }
    }
    walk(&mut v);
    v
}

/// `send_virtual_key_event_slack`'s message: who acted, then the arguments passed.
pub fn key_event_message(alert_type: &str, auth: &AuthContext, body: &Value) -> String {
    let row = auth.key.as_ref().map(|k| &k.row);
    let user_id = row
        .and_then(|r| r.user_id.clone())
        .unwrap_or_else(|| "Unknown".into());
    let role = if auth.is_master || auth.is_proxy_admin {
        "proxy_admin"
    } else if auth.key.is_some() {
        "internal_user"
    } else {
        "Unknown"
    };
    let alias = row
        .and_then(|r| r.key_alias.clone())
        .unwrap_or_else(|| "None".into());
    format!(
        "`{}`\n*Action Done by:*\ncreated_by_user_id: `{user_id}`\ncreated_by_user_role: `{role}`\ncreated_by_key_alias: `{alias}`\n\n*Arguments passed:*\ndata: `{}`\n",
        title(alert_type),
        masked(body.clone())
    )
}

/// `model_added_alert`'s message for a `/model/new` body.
pub fn model_added_message(body: &Value, proxy_base_url: Option<&str>) -> String {
    let name = body["model_name"].as_str().unwrap_or_default();
    let base_model = body["model_info"]["base_model"]
        .as_str()
        .map(|b| format!("Base Model: `{b}`\n"))
        .unwrap_or_default();
    let base_url = proxy_base_url.unwrap_or("http://0.0.0.0:4000");
    let mut info = String::new();
    let model = body["model_info"]["base_model"]
        .as_str()
        .or_else(|| body["litellm_params"]["model"].as_str())
        .unwrap_or_default();
    let catalog = llmgate::catalog::global();
    if let Some(entry) = catalog.get(model) {
        if let Value::Object(m) = serde_json::to_value(entry).unwrap_or_default() {
            for (k, v) in m {
                let v = match (&*k, v.as_f64()) {
                    ("input_cost_per_token" | "output_cost_per_token", Some(f)) => {
                        format!("{f:.8}")
                    }
                    _ => match v {
                        Value::String(s) => s,
                        other => other.to_string(),
                    },
                };
                info.push_str(&format!("{k}: {v}\n"));
            }
        }
    }
    format!(
        "\n*🚅 New Model Added*\nModel Name: `{name}`\n{base_model}\n\nUsage OpenAI Python SDK:\n```\nimport openai\nclient = openai.OpenAI(\n    api_key=\"your_api_key\",\n    base_url={base_url}\n)\n\nresponse = client.chat.completions.create(\n    model=\"{name}\", # model to send to the proxy\n    messages = [\n        {{\n            \"role\": \"user\",\n            \"content\": \"this is a test request, write a short poem\"\n        }}\n    ]\n)\n```\n\nModel Info: \n```\n{info}\n```\n"
    )
}

/// The admin routes' middleware (after authentication).
pub async fn management_alerts(
    State(state): State<AppState>,
    req: Request,
    next: Next,
) -> Response {
    let alerting = state.gov.observe.as_ref().and_then(|o| o.alerting.clone());
    let wanted = alert_type(req.uri().path())
        .filter(|t| alerting.as_ref().is_some_and(|a| a.settings.slack_wants(t)));
    let (Some(kind), Some(alerting)) = (wanted, alerting) else {
        return next.run(req).await;
    };
    let auth = req.extensions().get::<AuthContext>().cloned();
    let (parts, body) = req.into_parts();
    // The listener (`conn.rs`) already bounds every body to `max_request_size_mb`.
    let Ok(bytes) = to_bytes(body, usize::MAX).await else {
        return next.run(Request::from_parts(parts, Body::empty())).await;
    };
    let res = next
        .run(Request::from_parts(parts, Body::from(bytes.clone())))
        .await;
    if res.status().is_success() {
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        if kind == "new_model_added" {
            let msg = model_added_message(&body, alerting.settings.proxy_base_url.as_deref());
            alerting.slack(kind, "Low", msg);
        } else if let Some(auth) = auth {
            alerting.slack(kind, "High", key_event_message(kind, &auth, &body));
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn event_names_and_masking_are_litellms() {
        assert_eq!(title("new_virtual_key_created"), "New Virtual Key Created");
        assert_eq!(title("team_deleted"), "Team Deleted");
        let v = masked(
            json!({"key": "sk-12345678", "metadata": {"api_key": "abcdefg"}, "key_alias": "a"}),
        );
        assert_eq!(
            v,
            json!({"key": "sk-1****", "metadata": {"api_key": "abcd****"}, "key_alias": "a"})
        );
        let auth = AuthContext {
            api_key: None,
            is_master: true,
            key: None,
            is_proxy_admin: false,
            client_ip: None,
        };
        let m = key_event_message("team_deleted", &auth, &json!({"team_ids": ["t"]}));
        assert!(m.starts_with("`Team Deleted`\n*Action Done by:*\ncreated_by_user_id: `Unknown`\ncreated_by_user_role: `proxy_admin`"));
        assert!(m.ends_with("*Arguments passed:*\ndata: `{\"team_ids\":[\"t\"]}`\n"));
    }
}
