//! Command-line flags, named as LiteLLM's proxy names them.

use std::path::PathBuf;

use clap::Parser;

#[derive(Debug, Clone, Parser)]
#[command(
    name = "llmgate",
    version,
    about = "An OpenAI-compatible AI gateway: a drop-in replacement for the LiteLLM proxy"
)]
pub struct Cli {
    /// Path to the proxy's config.yaml (LiteLLM format).
    #[arg(long, short = 'c', env = "CONFIG_FILE_PATH")]
    pub config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "0.0.0.0", env = "HOST")]
    pub host: String,
    /// Port to listen on.
    #[arg(long, default_value_t = 4000, env = "PORT")]
    pub port: u16,
    /// Quick start with one model and no config (`--model gpt-4o`).
    #[arg(long, short = 'm')]
    pub model: Option<String>,
    /// Accepted for compatibility: one process already uses every core.
    #[arg(long = "num_workers", alias = "num-workers", env = "NUM_WORKERS")]
    pub num_workers: Option<usize>,
    /// Debug logging.
    #[arg(long)]
    pub debug: bool,
    /// Very verbose logging (every request).
    #[arg(long = "detailed_debug", alias = "detailed-debug")]
    pub detailed_debug: bool,
    /// Check the config and exit.
    #[arg(long = "validate_config", alias = "validate-config")]
    pub validate_config: bool,
    /// Seconds an idle connection stays open (uvicorn's `timeout_keep_alive`; default 5).
    #[arg(
        long = "keepalive_timeout",
        alias = "keepalive-timeout",
        env = "KEEPALIVE_TIMEOUT"
    )]
    pub keepalive_timeout: Option<f64>,
    /// Connections served at once; past it new ones wait to be accepted (default: half the
    /// open-files limit).
    #[arg(
        long = "limit_concurrency",
        alias = "limit-concurrency",
        env = "LIMIT_CONCURRENCY"
    )]
    pub limit_concurrency: Option<usize>,
    /// Probe a running gateway and exit 0 (healthy) or 1: GETs the URL given, else
    /// `http://127.0.0.1:$PORT/health/liveliness` (the container's HEALTHCHECK: the runtime
    /// image has no shell or curl).
    #[arg(long, num_args = 0..=1, default_missing_value = "", value_name = "URL")]
    pub healthcheck: Option<String>,
}

impl Cli {
    /// `--healthcheck`'s URL: the one given, else this instance's liveliness on loopback (or on
    /// `--host` when it names one address).
    pub fn healthcheck_url(&self) -> Option<String> {
        let given = self.healthcheck.as_deref()?;
        if !given.is_empty() {
            return Some(given.to_string());
        }
        let host = match self.host.as_str() {
            "0.0.0.0" | "::" | "" => "127.0.0.1".to_string(),
            h if h.contains(':') => format!("[{h}]"),
            h => h.to_string(),
        };
        Some(format!("http://{host}:{}/health/liveliness", self.port))
    }

    /// The tracing filter the flags ask for; `RUST_LOG` wins when set.
    pub fn log_filter(&self) -> &'static str {
        if self.detailed_debug {
            "debug,hyper=info,h2=info,reqwest=info"
        } else if self.debug {
            "info,llmgate=debug,llmgate_server=debug"
        } else {
            "info"
        }
    }
}
