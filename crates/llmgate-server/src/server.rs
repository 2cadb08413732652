//! Start-up: config checks, state, listener, graceful shutdown.

use std::net::SocketAddr;

use crate::cli::Cli;
use crate::config::Config;
use crate::routes;
use crate::state::AppState;

/// Master keys published in docs and examples: anyone could guess them.
const WEAK_KEYS: &[&str] = &[
    "sk-1234",
    "sk-12345",
    "sk-123456",
    "sk-1234567890",
    "sk-admin",
    "sk-test",
    "sk-master",
    "sk-password",
    "sk-litellm",
    "sk-secret",
    "sk-key",
    "sk-dev",
    "sk-my-master-key",
    "sk-master-key",
    "sk-1234567",
    "sk-12345678",
];

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("{0}")]
    Config(#[from] crate::config::ConfigError),
    #[error("{0}")]
    Refused(String),
    #[error("database: {0}")]
    Db(#[from] llmgate_store::StoreError),
    #[error("cannot listen on {addr}: {err}")]
    Bind { addr: String, err: std::io::Error },
}

fn permit_weak(cfg: &Config) -> bool {
    cfg.general_settings
        .dangerously_permit_weak_or_unset_master_key
        || std::env::var("LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY")
            .map(|v| matches!(v.to_ascii_lowercase().as_str(), "true" | "1" | "yes"))
            .unwrap_or(false)
}

/// Refuses a publicly known master key (as LiteLLM ≥ 1.104 does) unless explicitly permitted.
pub fn check_master_key(cfg: &Config, key: Option<&str>) -> Result<(), StartError> {
    let named_but_empty = cfg
        .general_settings
        .master_key
        .as_ref()
        .is_some_and(|k| k.expose().is_empty());
    if named_but_empty && !permit_weak(cfg) {
        // Auth off is for a config with no master key at all, never for one whose key is lost.
        return Err(StartError::Refused(
            "Refusing to start: general_settings.master_key is set but resolves to nothing (an os.environ/ variable that is not set, or an empty value), which would turn authentication off.
             Fix: set the variable, or remove master_key to run without auth on a trusted machine."
                .into(),
        ));
    }
    let Some(key) = key else {
        tracing::warn!("no master key set (general_settings.master_key or LITELLM_MASTER_KEY): authentication is OFF, every request is accepted; use this only on a trusted machine");
        return Ok(());
    };
    let source = if cfg.general_settings.master_key.is_some() {
        "general_settings.master_key"
    } else {
        "LITELLM_MASTER_KEY"
    };
    let weak = WEAK_KEYS.contains(&key) || key.len() < 8;
    if weak && !permit_weak(cfg) {
        return Err(StartError::Refused(format!(
            "Refusing to start: the master key from {source} is a publicly known or too short value ({}). Anyone could use it to call your models and manage keys.\n\
             Fix: set a strong secret, e.g. `export LITELLM_MASTER_KEY=sk-$(openssl rand -hex 24)`, or put one in general_settings.master_key.\n\
             For a local sandbox only, set general_settings.dangerously_permit_weak_or_unset_master_key: true (or LITELLM_DANGEROUSLY_PERMIT_WEAK_OR_UNSET_MASTER_KEY=true).",
            crate::auth::abbreviate(key)
        )));
    }
    if weak {
        tracing::warn!(
            "the master key is weak; permitted by dangerously_permit_weak_or_unset_master_key"
        );
    }
    if !key.starts_with("sk-") {
        return Err(StartError::Refused(format!(
            "Refusing to start: the master key from {source} must start with 'sk-'."
        )));
    }
    Ok(())
}

/// One warning per setting llmgate reads but does not implement (or does not know): a
/// LiteLLM config must not lose a setting silently. Start-up goes on.
pub fn report_ignored(cfg: &Config) {
    for s in crate::config::ignored_settings(cfg) {
        if s.known {
            tracing::warn!("not supported by llmgate, ignored: {s}");
        } else {
            tracing::warn!("unknown config key, ignored: {s}");
        }
    }
}

/// Whether logs are JSON lines: `JSON_LOGS` (LiteLLM's variable) or `litellm_settings.json_logs`
/// in the config file. Read before the config is loaded (its warnings are logged already in
/// the chosen format), so the file is only peeked at here.
pub fn json_logs(cli: &Cli) -> bool {
    let truthy = |s: &str| matches!(s.trim().to_ascii_lowercase().as_str(), "true" | "1" | "yes");
    if let Ok(v) = std::env::var("JSON_LOGS") {
        return truthy(&v);
    }
    let Some(text) = cli
        .config
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
    else {
        return false;
    };
    let Ok(doc) = serde_norway::from_str::<serde_json::Value>(&text) else {
        return false;
    };
    match &doc["litellm_settings"]["json_logs"] {
        serde_json::Value::Bool(b) => *b,
        serde_json::Value::String(s) => match s.strip_prefix("os.environ/") {
            Some(var) => std::env::var(var).is_ok_and(|v| truthy(&v)),
            None => truthy(s),
        },
        _ => false,
    }
}

/// Loads the config the flags name (or the `--model` quick start).
pub fn load_config(cli: &Cli) -> Result<Config, StartError> {
    let mut cfg = match &cli.config {
        Some(path) => Config::load(path)?,
        None => Config::default(),
    };
    if let Some(m) = &cli.model {
        cfg.model_list.extend(Config::quick_start(m).model_list);
    }
    Ok(cfg)
}

/// Replaces the embedded price catalog when `LITELLM_MODEL_COST_MAP_URL` names a file or URL.
async fn load_catalog() {
    let local_only = std::env::var("LITELLM_LOCAL_MODEL_COST_MAP")
        .map(|v| v.eq_ignore_ascii_case("true"))
        .unwrap_or(false);
    let Ok(src) = std::env::var("LITELLM_MODEL_COST_MAP_URL") else {
        return;
    };
    if local_only || src.is_empty() {
        return;
    }
    match llmgate::catalog::load_litellm_override(&src).await {
        Ok(c) => {
            tracing::info!(source = %src, "model cost map loaded");
            llmgate::catalog::install(c);
        }
        Err(e) => {
            tracing::warn!(source = %src, error = %e, "could not load the model cost map; using the embedded one")
        }
    }
}

/// Builds everything and serves until Ctrl-C / SIGTERM.
/// The config must be loaded (see [`load_config`]) before the runtime starts: it may set
/// environment variables, which is only sound while the process has one thread.
pub async fn run(cli: Cli, cfg: Config) -> Result<(), StartError> {
    report_ignored(&cfg);
    crate::cache::settings::from_config(&cfg).map_err(StartError::Refused)?;
    crate::guardrails::Guardrails::from_config(&cfg).map_err(StartError::Refused)?;
    crate::observe::Observers::from_config(&cfg, reqwest::Client::new())
        .map_err(StartError::Refused)?;
    crate::agents::Agents::from_config(&cfg, &llmgate::Client::new())
        .map_err(StartError::Refused)?;
    crate::mcp::config::parse(cfg.extra.get("mcp_servers")).map_err(StartError::Refused)?;
    crate::routes::passthrough::custom::Endpoints::from_config(&cfg)
        .map_err(StartError::Refused)?;
    if cli.validate_config {
        let state = AppState::new(cfg);
        check_master_key(&state.config, state.master_key.as_deref())?;
        println!("config OK: {} deployments", state.deployments().all().len());
        return Ok(());
    }
    // Refuse a weak master key before touching any database.
    {
        let probe = AppState::new(cfg.clone());
        check_master_key(&probe.config, probe.master_key.as_deref())?;
    }
    let url = database_url(&cli, &cfg);
    let store = llmgate_store::Store::connect(&url).await?;
    store.migrate().await?;
    tracing::info!(
        database = store.kind(),
        "keys and spend are stored in {}",
        redact_url(&url)
    );
    let journal = spend_journal_dir(&cli, &cfg, &url);
    if let Err(e) = crate::governance::spend::replay(&store, &journal).await {
        tracing::error!(error = %e, "could not replay the spend journal; it is kept for the next start");
    }
    let state = AppState::with_store(cfg, store, Some(journal));
    load_catalog().await;
    // Models added with /model/new serve from the start.
    let models = match crate::db_models::reload(&state).await {
        Ok(sig) => Some(sig),
        Err(e) => {
            tracing::warn!(error = ?e, "could not read the database's models");
            None
        }
    };
    crate::db_models::spawn_refresh(state.clone(), models);
    // Agents added with POST /v1/agents serve from the start.
    match crate::agents::stored::reload(&state).await {
        Ok(sig) => crate::agents::stored::spawn_refresh(state.clone(), sig),
        Err(e) => tracing::warn!(error = ?e, "could not read the stored agents"),
    }
    // MCP servers added with POST /v1/mcp/server serve from the start.
    let servers = match crate::mcp::stored::reload(&state).await {
        Ok(sig) => Some(sig),
        Err(e) => {
            tracing::warn!(error = ?e, "could not read the stored MCP servers");
            None
        }
    };
    crate::mcp::stored::spawn_refresh(state.clone(), servers);
    if let Some(c) = &state.cache {
        c.start();
    }
    if let Some(o) = &state.gov.observe {
        let db = state.gov.spend.as_ref().map(|w| {
            let f: crate::observe::alerting::DbFailures = std::sync::Arc::new(w.failure_probe());
            f
        });
        o.start(
            crate::governance::limits::redis_url(&state.config),
            db,
            state.gov.store.clone(),
        );
    }
    crate::routes::health::spawn_background(state.clone());
    match (
        crate::governance::limits::redis_url(&state.config),
        &state.gov.store,
    ) {
        (Some(url), store) => {
            crate::governance::limits::spawn_redis_sync(state.gov.limiter.clone(), url.clone());
            crate::router_sync::spawn(state.clone(), url.clone());
            if store.is_some() {
                crate::governance::fleet::spawn(state.gov.keys.clone(), url);
            }
        }
        (None, Some(store)) => {
            crate::governance::fleet::spawn_postgres(state.gov.keys.clone(), store.clone())
        }
        (None, None) => {}
    }
    let limits = crate::conn::Limits::new(&cli, &state.config, crate::conn::raise_fd_limit());
    tracing::info!(
        header_timeout_s = limits.header_timeout.as_secs_f64(),
        body_timeout_s = limits.body_timeout.as_secs_f64(),
        keepalive_timeout_s = limits.keep_alive.as_secs_f64(),
        max_connections = limits.max_connections,
        max_request_bytes = limits.max_body,
        "connection limits"
    );
    let addr = format!("{}:{}", cli.host, cli.port);
    let listener = tokio::net::TcpListener::bind(&addr)
        .await
        .map_err(|err| StartError::Bind {
            addr: addr.clone(),
            err,
        })?;
    let local: SocketAddr = listener.local_addr().map_err(|err| StartError::Bind {
        addr: addr.clone(),
        err,
    })?;
    tracing::info!(
        models = ?state.deployments().names(),
        "llmgate listening on http://{local}"
    );
    // JSON logs stay JSON lines: the plain banner is for people reading a terminal.
    if !json_logs(&cli) {
        println!("llmgate listening on http://{local}");
    }
    crate::governance::budgets::spawn(
        state.gov.clone(),
        crate::governance::budgets::interval(&state.config),
    );
    let app = routes::router(state.clone());
    crate::conn::serve(listener, app, limits, shutdown_signal()).await;
    // Realtime sessions (upgraded sockets the listener no longer drains) closed and settled.
    routes::realtime::close_all(std::time::Duration::from_secs(5)).await;
    // Pending spend reaches the database before the process ends.
    if let Some(w) = &state.gov.spend {
        w.flush().await;
    }
    // And the logging callbacks get what they still hold.
    if let Some(o) = &state.gov.observe {
        o.flush().await;
    }
    Ok(())
}

/// `general_settings.database_url`, `DATABASE_URL`, else an SQLite file next to the config
/// (`LLMGATE_DB_PATH` overrides the path).
fn database_url(cli: &Cli, cfg: &Config) -> String {
    if let Some(url) = cfg
        .general_settings
        .database_url
        .as_ref()
        .map(|u| u.expose().to_string())
        .filter(|u| !u.is_empty())
    {
        return url;
    }
    if let Ok(url) = std::env::var("DATABASE_URL") {
        if !url.is_empty() {
            return url;
        }
    }
    let path = std::env::var("LLMGATE_DB_PATH")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|_| {
            let dir = cli
                .config
                .as_ref()
                .and_then(|c| c.parent().map(std::path::Path::to_path_buf))
                .unwrap_or_default();
            dir.join("llmgate.db")
        });
    format!("sqlite://{}", path.display())
}

/// Where spend waits on disk until the database has it: `LLMGATE_SPEND_JOURNAL_DIR`,
/// `general_settings.spend_journal_dir`, else `llmgate-spend/` beside the SQLite file or the
/// config.
fn spend_journal_dir(cli: &Cli, cfg: &Config, db_url: &str) -> std::path::PathBuf {
    if let Ok(d) = std::env::var("LLMGATE_SPEND_JOURNAL_DIR") {
        return d.into();
    }
    if let Some(d) = cfg
        .general_settings
        .extra
        .get("spend_journal_dir")
        .and_then(|v| v.as_str())
    {
        return d.into();
    }
    let base = match db_url.strip_prefix("sqlite://") {
        Some(path) => std::path::Path::new(path)
            .parent()
            .map(std::path::Path::to_path_buf)
            .unwrap_or_default(),
        None => cli
            .config
            .as_ref()
            .and_then(|c| c.parent().map(std::path::Path::to_path_buf))
            .unwrap_or_default(),
    };
    base.join("llmgate-spend")
}

/// The URL without its password, for the log.
fn redact_url(url: &str) -> String {
    match (url.find("://"), url.rfind('@')) {
        (Some(s), Some(at)) if at > s => format!("{}://***{}", &url[..s], &url[at..]),
        _ => url.to_string(),
    }
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}
