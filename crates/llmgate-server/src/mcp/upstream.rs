//! One upstream MCP server as a client of it (rmcp): sessions opened on first use and kept,
//! one per set of forwarded client headers; a session whose transport died (a stdio child that
//! exited, an HTTP server that went away) is dropped and the next call opens a new one, so a
//! crashed child process is spawned again. Every request is bounded in time.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use rmcp::model::{
    CallToolRequestParams, CallToolResult, ClientConfig, GetPromptRequestParams, GetPromptResult,
    Implementation, Prompt, ReadResourceRequestParams, ReadResourceResult, Resource, Tool,
};
use rmcp::service::RunningService;
use rmcp::{RoleClient, ServiceExt};
use tokio::sync::Mutex;

use llmgate::providers::token_cache::{Fetched, TokenCache};

use super::config::{OAuth2, ServerSpec, Transport};

/// Client headers forwarded to a server (`extra_headers`, `x-mcp-<server>-<header>`), sorted.
pub type Forwarded = Vec<(String, String)>;

type Session = RunningService<RoleClient, ClientConfig>;

/// Sessions kept per server: distinct forwarded-header sets beyond this replace an old one.
const MAX_SESSIONS: usize = 32;

/// Why a request to an upstream failed, worded for the client.
#[derive(Debug, Clone)]
pub struct UpstreamError(pub String);

impl std::fmt::Display for UpstreamError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

pub struct Upstream {
    pub spec: ServerSpec,
    sessions: Mutex<HashMap<Forwarded, Arc<Session>>>,
    http: reqwest13::Client,
    timeout: Duration,
    /// `auth_type: oauth2`: the client-credentials token, until shortly before it expires.
    tokens: TokenCache<String>,
    /// The token the open sessions were made with (a new one closes them).
    token_in_use: std::sync::Mutex<Option<String>>,
}

/// How long one upstream request may take: `LLMGATE_MCP_TIMEOUT_SECONDS` (default 60 s).
pub fn request_timeout() -> Duration {
    std::env::var("LLMGATE_MCP_TIMEOUT_SECONDS")
        .ok()
        .and_then(|s| s.parse::<f64>().ok())
        .filter(|s| *s > 0.0 && s.is_finite())
        .map(Duration::from_secs_f64)
        .unwrap_or(Duration::from_secs(60))
}

impl Upstream {
    pub fn new(spec: ServerSpec, http: reqwest13::Client, timeout: Duration) -> Upstream {
        Upstream {
            spec,
            sessions: Mutex::new(HashMap::new()),
            http,
            timeout,
            tokens: TokenCache::with_max_margin(Duration::from_secs(60)),
            token_in_use: std::sync::Mutex::new(None),
        }
    }

    /// The OAuth2 bearer token to send (None without `auth_type: oauth2`). A token other
    /// than the open sessions' closes them: the next ones are opened with it.
    async fn oauth_token(&self) -> Result<Option<String>, UpstreamError> {
        let Some(o) = &self.spec.oauth2 else {
            return Ok(None);
        };
        let token = self
            .tokens
            .get("", || fetch_token(&self.http, o, self.timeout))
            .await
            .map_err(|e| {
                UpstreamError(format!(
                    "MCP server '{}' could not get an OAuth2 token: {}",
                    self.spec.name, e.message
                ))
            })?;
        let changed = {
            let mut used = self.token_in_use.lock().unwrap_or_else(|e| e.into_inner());
            let changed = used.as_deref().is_some_and(|u| u != token);
            *used = Some(token.clone());
            changed
        };
        if changed {
            self.sessions.lock().await.clear();
        }
        Ok(Some(token))
    }

    pub fn name(&self) -> &str {
        &self.spec.name
    }

    /// The server's tools, as it names them.
    pub async fn list_tools(&self, fwd: &Forwarded) -> Result<Vec<Tool>, UpstreamError> {
        let s = self.session(fwd).await?;
        let r = tokio::time::timeout(self.timeout, s.peer().list_all_tools()).await;
        self.settle(fwd, &s, r, "tools/list").await
    }

    /// The server's prompts (none when it offers no prompts capability).
    pub async fn list_prompts(&self, fwd: &Forwarded) -> Result<Vec<Prompt>, UpstreamError> {
        let s = self.session(fwd).await?;
        if !offers(&s, |c| c.prompts.is_some()) {
            return Ok(Vec::new());
        }
        let r = tokio::time::timeout(self.timeout, s.peer().list_all_prompts()).await;
        self.settle(fwd, &s, r, "prompts/list").await
    }

    pub async fn get_prompt(
        &self,
        fwd: &Forwarded,
        name: &str,
        arguments: Option<serde_json::Map<String, serde_json::Value>>,
    ) -> Result<GetPromptResult, UpstreamError> {
        let s = self.session(fwd).await?;
        let mut params = GetPromptRequestParams::new(name);
        params.arguments = arguments;
        let r = tokio::time::timeout(self.timeout, s.peer().get_prompt(params)).await;
        self.settle(fwd, &s, r, "prompts/get").await
    }

    /// The server's resources (none when it offers no resources capability).
    pub async fn list_resources(&self, fwd: &Forwarded) -> Result<Vec<Resource>, UpstreamError> {
        let s = self.session(fwd).await?;
        if !offers(&s, |c| c.resources.is_some()) {
            return Ok(Vec::new());
        }
        let r = tokio::time::timeout(self.timeout, s.peer().list_all_resources()).await;
        self.settle(fwd, &s, r, "resources/list").await
    }

    pub async fn read_resource(
        &self,
        fwd: &Forwarded,
        uri: &str,
    ) -> Result<ReadResourceResult, UpstreamError> {
        let s = self.session(fwd).await?;
        let params = ReadResourceRequestParams::new(uri);
        let r = tokio::time::timeout(self.timeout, s.peer().read_resource(params)).await;
        self.settle(fwd, &s, r, "resources/read").await
    }

    pub async fn call_tool(
        &self,
        fwd: &Forwarded,
        tool: &str,
        arguments: Option<serde_json::Map<String, serde_json::Value>>,
    ) -> Result<CallToolResult, UpstreamError> {
        let s = self.session(fwd).await?;
        let mut params = CallToolRequestParams::new(tool.to_string());
        params.arguments = arguments;
        let r = tokio::time::timeout(self.timeout, s.peer().call_tool(params)).await;
        self.settle(fwd, &s, r, "tools/call").await
    }

    /// A request's result; a session whose transport failed is forgotten.
    async fn settle<T>(
        &self,
        fwd: &Forwarded,
        s: &Arc<Session>,
        r: Result<Result<T, rmcp::ServiceError>, tokio::time::error::Elapsed>,
        what: &str,
    ) -> Result<T, UpstreamError> {
        let name = &self.spec.name;
        match r {
            Ok(Ok(v)) => Ok(v),
            Ok(Err(rmcp::ServiceError::McpError(e))) => Err(UpstreamError(format!(
                "MCP server '{name}' refused {what}: {}",
                e.message
            ))),
            Ok(Err(e)) => {
                self.forget(fwd, s).await;
                Err(UpstreamError(format!(
                    "MCP server '{name}' failed during {what}: {e}"
                )))
            }
            Err(_) => {
                // A server that stopped answering may have lost the session: start afresh.
                self.forget(fwd, s).await;
                Err(UpstreamError(format!(
                    "MCP server '{name}' did not answer {what} within {:.0} s",
                    self.timeout.as_secs_f64()
                )))
            }
        }
    }

    async fn forget(&self, fwd: &Forwarded, s: &Arc<Session>) {
        let mut map = self.sessions.lock().await;
        if map.get(fwd).is_some_and(|cur| Arc::ptr_eq(cur, s)) {
            map.remove(fwd);
        }
    }

    /// The open session for these headers, or a new one (connect + initialize, bounded). The
    /// lock is not held while connecting: requests to a server that is slow to answer wait
    /// side by side, each within its own bound, not one after another.
    async fn session(&self, fwd: &Forwarded) -> Result<Arc<Session>, UpstreamError> {
        let token = self.oauth_token().await?;
        {
            let mut map = self.sessions.lock().await;
            match map.get(fwd) {
                Some(s) if !s.is_closed() => return Ok(s.clone()),
                Some(_) => {
                    map.remove(fwd);
                }
                None => {}
            }
        }
        let bound = self.timeout.min(CONNECT_TIMEOUT);
        let s = match tokio::time::timeout(bound, self.connect(fwd, token.as_deref())).await {
            Ok(r) => Arc::new(r?),
            Err(_) => {
                return Err(UpstreamError(format!(
                    "MCP server '{}' did not complete its handshake within {:.0} s",
                    self.spec.name,
                    bound.as_secs_f64()
                )))
            }
        };
        let mut map = self.sessions.lock().await;
        // Another request may have connected meanwhile: keep one session (ours closes on drop).
        if let Some(existing) = map.get(fwd).filter(|e| !e.is_closed()) {
            return Ok(existing.clone());
        }
        if map.len() >= MAX_SESSIONS {
            if let Some(k) = map.keys().next().cloned() {
                map.remove(&k);
            }
        }
        map.insert(fwd.clone(), s.clone());
        Ok(s)
    }

    async fn connect(
        &self,
        fwd: &Forwarded,
        token: Option<&str>,
    ) -> Result<Session, UpstreamError> {
        let name = &self.spec.name;
        let mut own = self.spec.headers.clone();
        if let Some(t) = token {
            own.retain(|(k, _)| k != "authorization");
            own.push(("authorization".into(), format!("Bearer {t}")));
        }
        let fail = |e: &dyn std::fmt::Display| {
            UpstreamError(format!("MCP server '{name}' is unreachable: {e}"))
        };
        let mut info = ClientConfig::default();
        info.client_info = Implementation::new("llmgate", env!("CARGO_PKG_VERSION"));
        match &self.spec.transport {
            Transport::Http { url } => {
                use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;
                let mut headers = HashMap::new();
                for (k, v) in own.iter().chain(fwd) {
                    let (Ok(k), Ok(v)) = (
                        http::HeaderName::from_bytes(k.as_bytes()),
                        http::HeaderValue::from_str(v),
                    ) else {
                        continue;
                    };
                    headers.insert(k, v);
                }
                let config = StreamableHttpClientTransportConfig::with_uri(url.as_str())
                    .custom_headers(headers);
                let t = rmcp::transport::StreamableHttpClientTransport::with_client(
                    self.http.clone(),
                    config,
                );
                info.serve(t).await.map_err(|e| fail(&e))
            }
            Transport::Sse { url } => {
                let t = super::sse::connect(&self.http, url, &own, fwd)
                    .await
                    .map_err(|e| fail(&e))?;
                info.serve(t).await.map_err(|e| fail(&e))
            }
            Transport::Stdio { command, args, env } => {
                let mut cmd = tokio::process::Command::new(command);
                cmd.args(args).envs(env).kill_on_drop(true);
                let (t, _stderr) = rmcp::transport::TokioChildProcess::builder(cmd)
                    .stderr(std::process::Stdio::inherit())
                    .spawn()
                    .map_err(|e| fail(&e))?;
                info.serve(t).await.map_err(|e| fail(&e))
            }
        }
    }
}

/// A client-credentials token from the server's `token_url` (RFC 6749 §4.4: the client id and
/// secret in the form body, as LiteLLM sends them), bounded by the request timeout.
async fn fetch_token(
    http: &reqwest13::Client,
    o: &OAuth2,
    timeout: Duration,
) -> Result<Fetched<String>, llmgate::LlmError> {
    let fail = |m: String| llmgate::LlmError::new(llmgate::ErrorKind::ServiceUnavailable, m);
    let mut form = vec![
        ("grant_type", "client_credentials".to_string()),
        ("client_id", o.client_id.clone()),
        ("client_secret", o.client_secret.clone()),
    ];
    if !o.scopes.is_empty() {
        form.push(("scope", o.scopes.join(" ")));
    }
    let body: Vec<String> = form
        .iter()
        .map(|(k, v)| format!("{k}={}", form_encode(v)))
        .collect();
    let sent = http
        .post(&o.token_url)
        .header("content-type", "application/x-www-form-urlencoded")
        .header("accept", "application/json")
        .body(body.join("&"))
        .timeout(timeout)
        .send()
        .await
        .map_err(|e| fail(format!("token_url unreachable: {e}")))?;
    let status = sent.status();
    let v: serde_json::Value = sent
        .json()
        .await
        .map_err(|e| fail(format!("token_url answered {status} without JSON: {e}")))?;
    let Some(token) = v["access_token"].as_str().filter(|_| status.is_success()) else {
        return Err(fail(format!("token_url answered {status}: {v}")));
    };
    let expires_in = v["expires_in"]
        .as_f64()
        .filter(|s| *s > 0.0)
        .unwrap_or(3600.0);
    Ok(Fetched {
        token: token.to_string(),
        expires_in: Duration::from_secs_f64(expires_in),
    })
}

/// `application/x-www-form-urlencoded` for one value.
fn form_encode(v: &str) -> String {
    let mut out = String::with_capacity(v.len());
    for b in v.bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                out.push(b as char)
            }
            b' ' => out.push('+'),
            _ => out.push_str(&format!("%{b:02X}")),
        }
    }
    out
}

/// Whether the server said at the handshake that it has this capability.
fn offers(s: &Session, has: impl Fn(&rmcp::model::ServerCapabilities) -> bool) -> bool {
    s.peer().peer_info().is_some_and(|i| has(&i.capabilities))
}

/// How long opening a session (connect, spawn, initialize) may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(15);
