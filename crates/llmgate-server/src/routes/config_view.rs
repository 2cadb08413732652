//! `GET /get/config/callbacks`: LiteLLM's admin route for viewing the config (its UI's
//! callback, alerting and router settings pages read it), proxy admin only. LiteLLM answers
//! the callbacks' variables decrypted; llmgate never sends a credential back: every secret is
//! masked. Beside LiteLLM's `callbacks`, `alerts` and `router_settings` it answers `config`
//! (config.yaml as parsed, includes merged, masked) and the keys llmgate does not act on.

use axum::extract::State;
use axum::response::{IntoResponse, Response};
use axum::{Extension, Json};
use serde_json::{json, Map, Value};

use crate::auth::AuthContext;
use crate::config::{ignored_settings, secret_looking};
use crate::error::GatewayError;
use crate::state::AppState;

/// What a masked value shows.
pub const MASK: &str = "********";

pub async fn callbacks(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
) -> Response {
    if !auth.is_admin() {
        return GatewayError::Auth(
            "Authentication Error, only the proxy admin can call /get/config/callbacks".into(),
        )
        .into_response();
    }
    let cfg = &state.config;
    let config = mask(&cfg.written.0, false);
    let section = |name: &str| config.get(name).cloned().unwrap_or(json!({}));
    let litellm = section("litellm_settings");
    let general = section("general_settings");
    let (unsupported, unknown): (Vec<_>, Vec<_>) =
        ignored_settings(cfg).into_iter().partition(|s| s.known);
    Json(json!({
        "status": "success",
        "callbacks": callback_list(&litellm),
        "alerts": alerts(&general),
        "router_settings": section("router_settings"),
        "config": config,
        "unsupported_settings": unsupported
            .iter()
            .map(|s| json!({"path": s.path, "note": s.note}))
            .collect::<Vec<_>>(),
        "unknown_settings": unknown.iter().map(|s| s.path.clone()).collect::<Vec<_>>(),
    }))
    .into_response()
}

/// LiteLLM's list: each configured callback with the environment variables it reads.
fn callback_list(litellm: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = Vec::new();
    for (key, kind) in [
        ("success_callback", "success"),
        ("failure_callback", "failure"),
        ("callbacks", "success_and_failure"),
    ] {
        for name in names(litellm.get(key)) {
            if out.iter().any(|c| c["name"] == name.as_str()) {
                continue;
            }
            let variables: Map<String, Value> = callback_vars(&name)
                .iter()
                .map(|v| (v.to_string(), env_var(v)))
                .collect();
            out.push(json!({"name": name, "variables": variables, "type": kind}));
        }
    }
    out
}

/// A string or a list of strings (both spellings LiteLLM takes).
fn names(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(|v| v.as_str().map(str::to_string))
            .collect(),
        _ => Vec::new(),
    }
}

/// The variables LiteLLM's route lists per callback.
fn callback_vars(name: &str) -> &'static [&'static str] {
    match name {
        "langfuse" => &[
            "LANGFUSE_PUBLIC_KEY",
            "LANGFUSE_SECRET_KEY",
            "LANGFUSE_HOST",
        ],
        "openmeter" => &["OPENMETER_API_KEY"],
        "braintrust" => &["BRAINTRUST_API_KEY"],
        "traceloop" => &["TRACELOOP_API_KEY"],
        "custom_callback_api" | "generic_api" => {
            &["GENERIC_LOGGER_ENDPOINT", "GENERIC_LOGGER_HEADERS"]
        }
        "otel" => &["OTEL_EXPORTER", "OTEL_ENDPOINT", "OTEL_HEADERS"],
        "langsmith" => &[
            "LANGSMITH_API_KEY",
            "LANGSMITH_PROJECT",
            "LANGSMITH_DEFAULT_RUN_NAME",
        ],
        _ => &[],
    }
}

/// An environment variable as it may be shown: null when unset, masked when it holds a
/// credential (a key, a password, headers, a webhook), else the value (URL passwords masked).
fn env_var(name: &str) -> Value {
    match std::env::var(name) {
        Err(_) => Value::Null,
        Ok(v) => mask(&Value::String(v), hides(name)),
    }
}

/// LiteLLM's alerting entries: Slack when `alerting` has it, and always email.
fn alerts(general: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    if names(general.get("alerting")).iter().any(|a| a == "slack") {
        out.push(json!({
            "name": "slack",
            "variables": {"SLACK_WEBHOOK_URL": env_var("SLACK_WEBHOOK_URL")},
            "active_alerts": general.get("alert_types").cloned().unwrap_or(Value::Null),
            "alerts_to_webhook": general.get("alert_to_webhook_url").cloned().unwrap_or(json!({})),
        }));
    }
    let email: Map<String, Value> = [
        "SMTP_HOST",
        "SMTP_PORT",
        "SMTP_USERNAME",
        "SMTP_PASSWORD",
        "SMTP_SENDER_EMAIL",
        "TEST_EMAIL_ADDRESS",
        "EMAIL_LOGO_URL",
        "EMAIL_SUPPORT_CONTACT",
    ]
    .iter()
    .map(|v| (v.to_string(), env_var(v)))
    .collect();
    out.push(json!({"name": "email", "variables": email}));
    out
}

/// Whether every value under this key is a credential: secret-looking names (`api_key`,
/// `master_key`, `password`, `Authorization`, ...), headers, webhooks, and the
/// `environment_variables` section (its values become the environment).
fn hides(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    secret_looking(key)
        || ["header", "webhook", "cookie"]
            .iter()
            .any(|w| k.contains(w))
        || k == "environment_variables"
}

/// `v` with its secrets masked; `hide`: everything under it is one.
pub fn mask(v: &Value, hide: bool) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), mask(v, hide || hides(k))))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(|v| mask(v, hide)).collect()),
        // A reference names the variable, not its value: shown as written.
        Value::String(s) if s.starts_with("os.environ/") => v.clone(),
        Value::String(s) if hide || looks_like_credential(s) => json!(MASK),
        Value::String(s) => Value::String(masked_url(s)),
        Value::Number(_) if hide => json!(MASK),
        other => other.clone(),
    }
}

/// A value that is a credential whatever its key: a virtual key or an auth header value.
fn looks_like_credential(s: &str) -> bool {
    let l = s.trim_start().to_ascii_lowercase();
    l.starts_with("sk-") || l.starts_with("bearer ") || l.starts_with("basic ")
}

/// A URL's password and secret-looking query values masked (`postgres://u:****@h/db`,
/// `redis://:****@h`); anything else unchanged.
fn masked_url(s: &str) -> String {
    if !s.contains("://") {
        return s.to_string();
    }
    let Ok(mut url) = reqwest::Url::parse(s) else {
        // Unparsable but URL-shaped: hide whatever userinfo it may carry.
        return match (s.split_once("://"), s.rsplit_once('@')) {
            (Some((scheme, _)), Some((_, host))) => format!("{scheme}://{MASK}@{host}"),
            _ => s.to_string(),
        };
    };
    let mut changed = false;
    if url.password().is_some() {
        changed |= url.set_password(Some(MASK)).is_ok();
    }
    if url
        .query_pairs()
        .any(|(k, _)| secret_looking(&k) || k == "sig")
    {
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if secret_looking(&k) || k == "sig" {
                    MASK.to_string()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
        changed = true;
    }
    if changed {
        url.to_string()
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_masked_and_references_kept() {
        let cfg = crate::config::Config::from_yaml_str(
            r#"
model_list:
  - model_name: a
    litellm_params:
      model: openai/gpt-4o
      api_key: sk-literal-secret
      api_base: https://user:pw-in-url@api.example.com/v1?api-key=q-secret&x=1
      extra_headers: {X-Team: team-secret, Authorization: Bearer hdr-secret}
      aws_secret_access_key: os.environ/CFGV_AWS
      rpm: 10
general_settings:
  master_key: sk-master-secret
  database_url: postgres://llm:db-secret@db.internal:5432/llmgate
  alert_to_webhook_url: {budget_alerts: https://hooks.slack.com/services/T/B/hook-secret}
router_settings:
  redis_url: redis://:redis-secret@cache:6379
  routing_strategy: simple-shuffle
environment_variables:
  CFGV_ENV: env-secret
litellm_settings:
  cache_params: {type: redis, password: cache-secret, port: 6380}
  max_tokens: 100
"#,
            "t.yaml",
        )
        .unwrap();
        let out = mask(&cfg.written.0, false);
        let text = out.to_string();
        for secret in [
            "sk-literal-secret",
            "pw-in-url",
            "q-secret",
            "team-secret",
            "hdr-secret",
            "sk-master-secret",
            "db-secret",
            "hook-secret",
            "redis-secret",
            "env-secret",
            "cache-secret",
        ] {
            assert!(!text.contains(secret), "{secret} shown: {text}");
        }
        let p = &out["model_list"][0]["litellm_params"];
        assert_eq!(p["aws_secret_access_key"], "os.environ/CFGV_AWS");
        assert_eq!(p["rpm"], 10);
        assert_eq!(
            p["api_base"],
            "https://user:********@api.example.com/v1?api-key=********&x=1"
        );
        assert_eq!(
            out["general_settings"]["database_url"],
            "postgres://llm:********@db.internal:5432/llmgate"
        );
        assert_eq!(out["router_settings"]["routing_strategy"], "simple-shuffle");
        assert_eq!(out["litellm_settings"]["max_tokens"], 100);
        assert_eq!(out["litellm_settings"]["cache_params"]["port"], 6380);
        assert_eq!(out["environment_variables"]["CFGV_ENV"], MASK);
    }

    #[test]
    fn callbacks_list_their_variables_masked() {
        let litellm = json!({"success_callback": ["langfuse"], "callbacks": "otel"});
        let list = callback_list(&litellm);
        assert_eq!(list[0]["name"], "langfuse");
        assert_eq!(list[0]["type"], "success");
        assert!(list[0]["variables"]
            .as_object()
            .unwrap()
            .contains_key("LANGFUSE_SECRET_KEY"));
        assert_eq!(list[1]["type"], "success_and_failure");
        assert!(hides("LANGFUSE_SECRET_KEY") && hides("OTEL_HEADERS"));
        assert!(!hides("LANGFUSE_HOST"));
    }
}
