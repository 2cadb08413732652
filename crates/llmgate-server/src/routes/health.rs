//! `/health` (probes every deployment), `/health/liveliness`, `/health/readiness`.

use std::sync::Arc;
use std::time::Duration;

use tokio::sync::Mutex as AsyncMutex;

use axum::extract::State;
use axum::{Extension, Json};
use futures::future::join_all;
use llmgate::{ChatCompletionRequest, ChatMessage, EmbeddingRequest};
use serde_json::{json, Value};

use super::model_info::public_params;
use crate::auth::AuthContext;
use crate::config::{ignored_settings, Ignored};
use crate::deployments::Deployment;
use crate::state::AppState;

pub async fn liveliness() -> Json<Value> {
    Json(json!("I'm alive!"))
}

/// `/health/readiness`, public as LiteLLM 1.110 makes it: `status` and `db` only ("Not
/// connected": none configured, "connected", or "disconnected" — then 503, unless
/// `general_settings.allow_requests_on_db_unavailable` says the instance keeps serving without
/// it, as llmgate does with known keys and journaled spend). With
/// `allow_public_health_readiness_details: true` it answers the details, as LiteLLM does.
pub async fn readiness(State(state): State<AppState>) -> axum::response::Response {
    let details = state
        .config
        .general_settings
        .flag("allow_public_health_readiness_details");
    ready(&state, details, None).await
}

/// `/health/readiness/details` (any valid key): LiteLLM's diagnostic fields, plus each shared
/// dependency llmgate uses: `redis` ("Not connected": none configured, "connected" or
/// "disconnected" — never a 503, the request path degrades to per-instance counts) and
/// `spend_backlog` (spend logs recorded but not yet in the database).
/// Any key: LiteLLM's diagnostic fields. An admin also gets the config keys llmgate ignores
/// (`unsupported_settings`, `unknown_settings`, as `/health` lists them, without its probes):
/// the dashboard's settings page reads them here.
pub async fn readiness_details(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
) -> axum::response::Response {
    let extra = auth.is_admin().then(|| {
        let (known, unknown): (Vec<_>, Vec<_>) = ignored_settings(&state.config)
            .into_iter()
            .partition(|s| s.known);
        let paths = |v: Vec<Ignored>| v.into_iter().map(|s| s.path).collect::<Vec<_>>();
        json!({"unsupported_settings": paths(known), "unknown_settings": paths(unknown)})
    });
    ready(&state, true, extra).await
}

async fn ready(state: &AppState, details: bool, extra: Option<Value>) -> axum::response::Response {
    use axum::response::IntoResponse;
    let db = match &state.gov.store {
        None => "Not connected",
        Some(store) => {
            let ping = tokio::time::timeout(Duration::from_secs(2), store.ping()).await;
            if matches!(ping, Ok(Ok(()))) {
                "connected"
            } else {
                "disconnected"
            }
        }
    };
    let mut body = json!({"status": "healthy", "db": db});
    if details {
        let redis = match state.gov.keys.fleet.redis_up() {
            None => "Not connected",
            Some(true) => "connected",
            Some(false) => "disconnected",
        };
        let level = if tracing::enabled!(tracing::Level::DEBUG) {
            "DEBUG"
        } else {
            "INFO"
        };
        for (k, v) in [
            // LiteLLM's `litellm.cache.type`, or null.
            (
                "cache",
                state
                    .cache
                    .as_ref()
                    .map_or(Value::Null, |c| json!(c.settings.type_name)),
            ),
            ("litellm_version", json!(env!("CARGO_PKG_VERSION"))),
            (
                "success_callbacks",
                json!(state
                    .gov
                    .observe
                    .as_ref()
                    .map(|o| o.names())
                    .unwrap_or_default()),
            ),
            ("use_aiohttp_transport", json!(false)),
            ("log_level", json!(level)),
            ("is_detailed_debug", json!(level == "DEBUG")),
            ("show_no_redis_warning", json!(false)),
            ("show_env_credential_login_warning", json!(false)),
            ("redis", json!(redis)),
            (
                "spend_backlog",
                json!(state.gov.spend.as_ref().map_or(0, |w| w.backlog())),
            ),
        ] {
            body[k] = v;
        }
    }
    if let Some(Value::Object(m)) = extra {
        for (k, v) in m {
            body[k] = v;
        }
    }
    let serving = db != "disconnected"
        || state
            .config
            .general_settings
            .flag("allow_requests_on_db_unavailable");
    let status = if serving {
        axum::http::StatusCode::OK
    } else {
        axum::http::StatusCode::SERVICE_UNAVAILABLE
    };
    (status, Json(body)).into_response()
}

/// How long a `/health` answer is reused for the same caller: each sweep calls every
/// deployment, so repeating it on demand would be an unmetered way to spend provider quota.
const HEALTH_REUSE: Duration = Duration::from_secs(10);
/// Bound on remembered answers (one per admin or key).
const HEALTH_CACHED_MAX: usize = 1_000;

type Sweeps =
    std::collections::HashMap<String, (std::time::Instant, Arc<AsyncMutex<Option<Value>>>)>;

fn sweeps() -> &'static std::sync::Mutex<Sweeps> {
    static S: std::sync::OnceLock<std::sync::Mutex<Sweeps>> = std::sync::OnceLock::new();
    S.get_or_init(Default::default)
}

/// Probes each deployment the caller may call (an admin: all of them, as LiteLLM; a virtual
/// key: its own models) with a one-token call, concurrently, bounded by a timeout. One sweep
/// per caller at a time, its answer reused for [`HEALTH_REUSE`]; no credentials in the answer.
/// For an admin, beyond LiteLLM's keys, the config paths llmgate ignores:
/// `unsupported_settings` (LiteLLM settings it lacks) and `unknown_settings` (not LiteLLM's
/// either). Clients that don't know these keys skip them; other keys don't see the config.
#[derive(serde::Deserialize)]
pub struct HealthQuery {
    /// LiteLLM's `?model=`: probe only this model group's deployments.
    model: Option<String>,
}

pub async fn health(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    axum::extract::Query(q): axum::extract::Query<HealthQuery>,
) -> Json<Value> {
    let model = q.model.as_deref().filter(|m| !m.is_empty());
    // With background checks the latest sweep is served as it is: nothing to reuse.
    if background()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .is_some()
    {
        return Json(sweep(&state, &auth, model).await);
    }
    let mut scope = match &auth.key {
        Some(k) if !auth.is_admin() => k.row.token.clone(),
        _ => String::new(),
    };
    // One model's check is reused as a whole sweep is (per caller and model).
    if let Some(m) = model {
        scope.push('\0');
        scope.push_str(m);
    }
    let slot = {
        let mut map = sweeps().lock().unwrap_or_else(|e| e.into_inner());
        map.retain(|_, (t, _)| t.elapsed() < HEALTH_REUSE);
        if map.len() >= HEALTH_CACHED_MAX {
            map.clear();
        }
        map.entry(scope)
            .or_insert_with(|| (std::time::Instant::now(), Arc::default()))
            .1
            .clone()
    };
    // Callers of one scope wait for the sweep in progress and share its answer.
    let mut cached = slot.lock().await;
    if let Some(v) = cached.as_ref() {
        return Json(v.clone());
    }
    let v = sweep(&state, &auth, model).await;
    *cached = Some(v.clone());
    Json(v)
}

/// One probe's outcome: healthy, and the endpoint's entry for `/health`.
type Probed = (Arc<Deployment>, bool, Value);

/// Probes `deps` concurrently, each bounded by a timeout.
async fn probe_all(state: &AppState, deps: Vec<Arc<Deployment>>) -> Vec<Probed> {
    let probes = deps.into_iter().map(|d| {
        let state = state.clone();
        async move {
            let res = tokio::time::timeout(PROBE_TIMEOUT, probe(&state, &d)).await;
            let mut entry = public_params(&d);
            entry.insert("model_id".into(), json!(d.id));
            let ok = match res {
                Ok(Ok(())) => true,
                Ok(Err(e)) => {
                    // The error may quote the URL it was sent to: shown without credentials.
                    let mut msg = e.to_string();
                    if let Some(raw) = d.opts.api_base.as_deref().filter(|b| !b.is_empty()) {
                        msg = msg.replace(raw, &crate::config::display_url(raw));
                    }
                    entry.insert("error".into(), json!(msg));
                    entry.insert("exception_status".into(), json!(e.status));
                    false
                }
                Err(_) => {
                    entry.insert("error".into(), json!("health check timed out"));
                    false
                }
            };
            (d, ok, Value::Object(entry))
        }
    });
    join_all(probes).await
}

const PROBE_TIMEOUT: Duration = Duration::from_secs(60);

/// The latest background sweep (`general_settings.background_health_checks`).
fn background() -> &'static std::sync::Mutex<Option<Arc<Vec<Probed>>>> {
    static B: std::sync::OnceLock<std::sync::Mutex<Option<Arc<Vec<Probed>>>>> =
        std::sync::OnceLock::new();
    B.get_or_init(Default::default)
}

/// LiteLLM's background health checks: every `health_check_interval` seconds (300 by
/// default) every deployment is probed; `/health` answers the latest sweep, and a deployment
/// that failed its probe is routed to only when no healthy one is left, until a probe passes.
pub fn spawn_background(state: AppState) {
    let gs = &state.config.general_settings;
    if !gs.flag("background_health_checks") {
        return;
    }
    let every = gs
        .seconds("health_check_interval")
        .filter(|d| !d.is_zero())
        .unwrap_or(Duration::from_secs(300));
    tokio::spawn(async move {
        loop {
            let deployments = state.deployments();
            let probed = probe_all(&state, deployments.all().to_vec()).await;
            let registry = deployments.router().registry();
            for (d, ok, _) in &probed {
                let stats = registry.get(&d.id);
                if stats.is_unhealthy() == *ok {
                    tracing::info!(deployment = %d.id, model = %d.model_name, healthy = ok, "health check");
                }
                stats.set_unhealthy(!ok);
            }
            *background().lock().unwrap_or_else(|e| e.into_inner()) = Some(Arc::new(probed));
            tokio::time::sleep(every).await;
        }
    });
}

async fn sweep(state: &AppState, auth: &AuthContext, model: Option<&str>) -> Value {
    let deployments = state.deployments();
    let visible = |d: &Deployment| {
        model.is_none_or(|m| d.model_name == m)
            && match &auth.key {
                Some(k) if !auth.is_admin() => {
                    crate::governance::access::may_call(&deployments, k, &d.model_name)
                }
                _ => true,
            }
    };
    let latest = background()
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let results: Vec<(bool, Value)> = match latest {
        Some(probed) => probed
            .iter()
            .filter(|(d, _, _)| visible(d))
            .map(|(_, ok, v)| (*ok, v.clone()))
            .collect(),
        None => {
            let deps = deployments
                .all()
                .iter()
                .filter(|d| visible(d))
                .cloned()
                .collect();
            probe_all(state, deps)
                .await
                .into_iter()
                .map(|(_, ok, v)| (ok, v))
                .collect()
        }
    };
    let (healthy, unhealthy): (Vec<_>, Vec<_>) = results.into_iter().partition(|(ok, _)| *ok);
    let healthy: Vec<Value> = healthy.into_iter().map(|(_, v)| v).collect();
    let unhealthy: Vec<Value> = unhealthy.into_iter().map(|(_, v)| v).collect();
    let mut body = json!({
        "healthy_endpoints": healthy,
        "unhealthy_endpoints": unhealthy,
        "healthy_count": healthy.len(),
        "unhealthy_count": unhealthy.len(),
    });
    if auth.is_admin() {
        let (known, unknown): (Vec<_>, Vec<_>) = ignored_settings(&state.config)
            .into_iter()
            .partition(|s| s.known);
        let paths = |v: Vec<Ignored>| v.into_iter().map(|s| s.path).collect::<Vec<_>>();
        body["unsupported_settings"] = json!(paths(known));
        body["unknown_settings"] = json!(paths(unknown));
    }
    body
}

async fn probe(state: &AppState, d: &Deployment) -> Result<(), llmgate::LlmError> {
    let mode = d
        .entry
        .model_info
        .mode
        .clone()
        .or_else(|| d.info.as_ref().map(|i| i.mode.to_string()))
        .unwrap_or_else(|| "chat".into());
    if mode == "embedding" {
        let req = EmbeddingRequest {
            model: d.model.clone(),
            input: json!(["test from llmgate"]),
            ..Default::default()
        };
        state.client.embedding(req, &d.opts).await.map(|_| ())
    } else if mode == "realtime" {
        super::realtime::probe(state, d).await
    } else if let Some(r) = media_probe(state, d, &mode).await {
        r
    } else if mode == "rerank" {
        let req = llmgate::RerankRequest {
            model: d.model.clone(),
            query: Some("test from llmgate".into()),
            documents: Some(vec![llmgate::RerankDocument::Text(
                "test from llmgate".into(),
            )]),
            ..Default::default()
        };
        state.client.rerank(req, &d.opts).await.map(|_| ())
    } else {
        let req = ChatCompletionRequest {
            model: d.model.clone(),
            messages: vec![ChatMessage::text("user", "test from llmgate")],
            max_tokens: Some(1),
            ..Default::default()
        };
        state.client.chat(req, &d.opts).await.map(|_| ())
    }
}

#[derive(serde::Deserialize)]
pub struct ServiceQuery {
    service: Option<String>,
}

/// LiteLLM's `/health/services` services llmgate can test.
const SERVICES: &[&str] = &["slack", "slack_budget_alerts", "webhook"];

/// `GET /health/services?service=slack|slack_budget_alerts|webhook` (any key; `webhook` a proxy
/// admin's): sends LiteLLM's test alerts through the configured alerting.
pub async fn services(
    State(state): State<AppState>,
    Extension(auth): Extension<AuthContext>,
    axum::extract::Query(q): axum::extract::Query<ServiceQuery>,
) -> Result<Json<Value>, crate::error::GatewayError> {
    use crate::error::GatewayError;
    let alerting = state.gov.observe.as_ref().and_then(|o| o.alerting.clone());
    let Some(service) = q.service.filter(|s| !s.is_empty()) else {
        return Err(GatewayError::BadRequest(
            "Service must be specified.".into(),
        ));
    };
    match service.as_str() {
        "slack" | "slack_budget_alerts" => {
            let Some(a) = alerting.filter(|a| a.settings.slack) else {
                return Err(GatewayError::Unprocessable(format!(
                    "\"{service}\" not in proxy config: general_settings. Unable to test this."
                )));
            };
            let alert_types = a.test_slack();
            Ok(Json(json!({
                "status": "success",
                "alert_types": alert_types,
                "message": "Mock Slack Alert sent, verify Slack Alert Received on your channel",
            })))
        }
        "webhook" => {
            if !auth.is_admin() {
                return Err(GatewayError::Forbidden {
                    message: "Only proxy admins can trigger the webhook test alert.".into(),
                    kind: "auth_error",
                });
            }
            if let Some(a) = alerting {
                let key = auth.key.as_ref().map(|k| &k.row);
                let token = key.map(|k| k.token.clone()).or_else(|| {
                    auth.api_key
                        .as_deref()
                        .map(crate::governance::caller::hash_key)
                });
                a.budget(
                    crate::observe::alerting::Kind::User,
                    crate::observe::alerting::CallInfo {
                        spend: 1.0,
                        max_budget: Some(0.0),
                        token,
                        user_id: key.and_then(|k| k.user_id.clone()),
                        key_alias: key.and_then(|k| k.key_alias.clone()),
                        team_id: key.and_then(|k| k.team_id.clone()),
                        event_group: "key",
                        ..Default::default()
                    },
                );
            }
            Ok(Json(json!({
                "status": "success",
                "message": "Mock Webhook Alert sent, verify Webhook Alert Received",
            })))
        }
        other => Err(GatewayError::BadRequest(format!(
            "Service={other} cannot be tested by llmgate's /health/services; it tests {}",
            SERVICES.join(", ")
        ))),
    }
}

/// The media modes' probes, as LiteLLM's health check calls each mode: one image, a spoken
/// word, a tenth of a second of silence transcribed, a moderation. None for other modes.
async fn media_probe(
    state: &AppState,
    d: &Deployment,
    mode: &str,
) -> Option<Result<(), llmgate::LlmError>> {
    use llmgate::media::{FilePart, Form, FormKind, FormRequest};
    let c = &state.client;
    Some(match mode {
        "image_generation" => {
            let req = llmgate::ImageGenerationRequest {
                model: d.model.clone(),
                prompt: Some("test from llmgate".into()),
                ..Default::default()
            };
            c.image_generation(req, &d.opts).await.map(|_| ())
        }
        "audio_speech" => {
            let req = llmgate::SpeechRequest {
                model: d.model.clone(),
                input: Some("test".into()),
                voice: Some(json!("alloy")),
                ..Default::default()
            };
            c.speech(req, &d.opts).await.map(|_| ())
        }
        "audio_transcription" => {
            // 0.1 s of 8 kHz 16-bit mono silence.
            let n: u32 = 1600;
            let mut wav = b"RIFF".to_vec();
            wav.extend((36 + n).to_le_bytes());
            wav.extend(b"WAVEfmt ");
            wav.extend(16u32.to_le_bytes());
            wav.extend([1u8, 0, 1, 0]);
            wav.extend(8000u32.to_le_bytes());
            wav.extend(16000u32.to_le_bytes());
            wav.extend([2u8, 0, 16, 0]);
            wav.extend(b"data");
            wav.extend(n.to_le_bytes());
            wav.extend(std::iter::repeat_n(0u8, n as usize));
            let form = Form {
                fields: Vec::new(),
                files: vec![FilePart {
                    name: "file".into(),
                    filename: "health.wav".into(),
                    content_type: Some("audio/wav".into()),
                    data: wav.into(),
                }],
            };
            let req = FormRequest {
                model: d.model.clone(),
                form,
            };
            c.audio_form(FormKind::Transcription, req, &d.opts)
                .await
                .map(|_| ())
        }
        "moderation" => {
            let req = llmgate::ModerationRequest {
                model: d.model.clone(),
                input: json!("test from llmgate"),
                ..Default::default()
            };
            c.moderation(req, &d.opts).await.map(|_| ())
        }
        _ => return None,
    })
}
