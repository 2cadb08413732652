//! The upstream realtime WebSocket of a deployment, as LiteLLM opens it: OpenAI at
//! `{base}/v1/realtime?model=<model>` with `Authorization: Bearer` (and `OpenAI-Beta:
//! realtime=v1` when the client asked for the beta protocol); Azure at
//! `{base}/openai/realtime?api-version=<v>&deployment=<name>` (or, with `realtime_protocol:
//! GA`, `{base}/openai/v1/realtime?model=<name>`) with its `api-key` (or Entra ID token); xAI
//! (LiteLLM's `XAIRealtime`, OpenAI's protocol) at `{base}/v1/realtime?model=<model>`, base
//! `https://api.x.ai/v1` by default, its key as a bearer and no `OpenAI-Beta` header; Gemini
//! Live at Google's `BidiGenerateContent` socket with `?key=` (its protocol translated by
//! `llmgate::providers::gemini::realtime`). The gateway's credentials only: the client's key is
//! never sent.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderName, HeaderValue};
use llmgate::providers::azure::auth::{Credential, Header};
use llmgate::providers::Ctx;
use llmgate::{CallOptions, ErrorKind, LlmError};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::WebSocketStream;

use crate::deployments::Deployment;
use llmgate::providers::gemini::realtime::{Session as LiveSession, LIVE_PATH, VERTEX_LIVE_PATH};

/// How long opening the upstream socket (TCP, TLS and the HTTP upgrade) may take when the
/// deployment sets no `timeout`.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(30);

/// The socket under the upstream WebSocket: plain TCP or TLS over it.
pub trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

pub type Socket = WebSocketStream<Box<dyn Io>>;

/// Where a session goes and what it carries.
pub struct Target {
    pub provider: &'static str,
    pub url: reqwest::Url,
    headers: Vec<(HeaderName, HeaderValue)>,
    timeout: Duration,
    /// For Gemini Live (AI Studio or Vertex AI): the session's protocol translation.
    pub live: Option<LiveSession>,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn bad(provider: &str, message: impl Into<String>) -> LlmError {
    LlmError::bad_request(message).with_provider(provider)
}

/// `http(s)` → `ws(s)`, as LiteLLM turns an `api_base` into a socket address.
fn websocket_scheme(url: &mut reqwest::Url, provider: &str) -> Result<(), LlmError> {
    let scheme = match url.scheme() {
        "https" | "wss" => "wss",
        "http" | "ws" => "ws",
        other => {
            return Err(bad(
                provider,
                format!("api_base has scheme {other:?}: the realtime API needs http(s) or ws(s)"),
            ))
        }
    };
    url.set_scheme(scheme)
        .map_err(|_| bad(provider, "api_base cannot be a WebSocket address"))
}

fn parse_base(base: &str, provider: &str) -> Result<reqwest::Url, LlmError> {
    reqwest::Url::parse(base.trim())
        .map_err(|_| bad(provider, format!("api_base {base:?} is not a URL")))
}

fn header(name: &'static str, value: &str) -> Result<(HeaderName, HeaderValue), LlmError> {
    let v = HeaderValue::from_str(value).map_err(|_| {
        LlmError::new(
            ErrorKind::Authentication,
            "the upstream credential is not a header value",
        )
    })?;
    Ok((HeaderName::from_static(name), v))
}

/// The session target of `dep` for the upstream `model`; `query` is the client's query
/// (its `model` replaced), `beta` whether the client speaks the beta protocol.
pub async fn target(
    http: &reqwest::Client,
    dep: &Deployment,
    model: &str,
    query: &[(String, String)],
    beta: bool,
) -> Result<Target, LlmError> {
    let opts = &dep.opts;
    let timeout = opts.timeout.unwrap_or(CONNECT_TIMEOUT);
    // The router names the SDK's model (`openai/gpt-realtime`); the upstream wants its own.
    let model = model
        .strip_prefix(dep.provider.as_str())
        .and_then(|m| m.strip_prefix('/'))
        .unwrap_or(model);
    match dep.provider.as_str() {
        "openai" => openai(opts, model, query, beta, timeout),
        "xai" => session(&XAI, opts, model, query, beta, timeout),
        "azure" => azure(http, opts, model, timeout).await,
        "gemini" => gemini(opts, model, beta, timeout),
        "vertex_ai" => vertex(http, opts, model, beta, timeout).await,
        other => Err(bad(
            other,
            format!(
                "model {:?} is served by {other}: llmgate's realtime API proxies OpenAI, Azure, xAI, Gemini and Vertex AI deployments",
                dep.model_name
            ),
        )),
    }
}

/// A vendor of OpenAI's realtime protocol: where its socket is and how it authenticates.
struct Vendor {
    name: &'static str,
    /// Variables naming the base, in order, before `default_base`.
    base_env: &'static [&'static str],
    default_base: &'static str,
    key_env: &'static str,
    /// Whether the beta protocol is asked for with `OpenAI-Beta: realtime=v1` (OpenAI's) and
    /// an organization sent.
    openai_headers: bool,
}

const OPENAI: Vendor = Vendor {
    name: "openai",
    base_env: &["OPENAI_API_BASE", "OPENAI_BASE_URL"],
    default_base: "https://api.openai.com/",
    key_env: "OPENAI_API_KEY",
    openai_headers: true,
};

/// LiteLLM's `XAIRealtime`: `XAI_API_BASE`'s default, only the `Authorization` header.
const XAI: Vendor = Vendor {
    name: "xai",
    base_env: &["XAI_API_BASE"],
    default_base: "https://api.x.ai/v1",
    key_env: "XAI_API_KEY",
    openai_headers: false,
};

fn openai(
    opts: &CallOptions,
    model: &str,
    query: &[(String, String)],
    beta: bool,
    timeout: Duration,
) -> Result<Target, LlmError> {
    session(&OPENAI, opts, model, query, beta, timeout)
}

fn session(
    vendor: &Vendor,
    opts: &CallOptions,
    model: &str,
    query: &[(String, String)],
    beta: bool,
    timeout: Duration,
) -> Result<Target, LlmError> {
    let name = vendor.name;
    let base = opts
        .api_base
        .clone()
        .filter(|b| !b.is_empty())
        .or_else(|| vendor.base_env.iter().find_map(|v| env(v)))
        .unwrap_or_else(|| vendor.default_base.into());
    let mut url = parse_base(&base, name)?;
    websocket_scheme(&mut url, name)?;
    // LiteLLM's `_construct_url`: a base ending in `/v1/realtime` or `/v1` is not doubled.
    let path = url.path().trim_end_matches('/').to_string();
    let path = if path.ends_with("/v1/realtime") {
        path
    } else if path.ends_with("/v1") {
        format!("{path}/realtime")
    } else {
        format!("{path}/v1/realtime")
    };
    url.set_path(&path);
    let own: Vec<(String, String)> = url.query_pairs().into_owned().collect();
    {
        let mut q = url.query_pairs_mut();
        q.clear();
        q.append_pair("model", model);
        for (k, v) in query.iter().filter(|(k, _)| k != "model") {
            q.append_pair(k, v);
        }
        for (k, v) in own.iter().filter(|(k, _)| k != "model") {
            q.append_pair(k, v);
        }
    }
    let key = opts
        .api_key
        .clone()
        .filter(|k| !k.is_empty())
        .or_else(|| env(vendor.key_env))
        .ok_or_else(|| {
            LlmError::new(
                ErrorKind::Authentication,
                format!(
                    "The api_key client option must be set either by passing api_key to the client or by setting the {} environment variable",
                    vendor.key_env
                ),
            )
            .with_provider(name)
        })?;
    let mut headers = vec![header("authorization", &format!("Bearer {key}"))?];
    if vendor.openai_headers {
        if let Some(org) = opts.organization.as_deref().filter(|o| !o.is_empty()) {
            headers.push(header("openai-organization", org)?);
        }
        if beta {
            headers.push(header("openai-beta", "realtime=v1")?);
        }
    }
    Ok(Target {
        provider: name,
        url,
        headers,
        timeout,
        live: None,
    })
}

async fn azure(
    http: &reqwest::Client,
    opts: &CallOptions,
    model: &str,
    timeout: Duration,
) -> Result<Target, LlmError> {
    let base = opts
        .api_base
        .clone()
        .filter(|b| !b.is_empty())
        .or_else(|| env("AZURE_API_BASE"))
        .ok_or_else(|| bad("azure", "api_base is required for Azure OpenAI calls"))?;
    let mut url = parse_base(&base, "azure")?;
    websocket_scheme(&mut url, "azure")?;
    let root = url.path().trim_end_matches('/');
    let root = root.strip_suffix("/openai").unwrap_or(root).to_string();
    let ga = matches!(
        opts.extra.get("realtime_protocol").and_then(|v| v.as_str()),
        Some(p) if p.eq_ignore_ascii_case("ga") || p.eq_ignore_ascii_case("v1")
    );
    if ga {
        url.set_path(&format!("{root}/openai/v1/realtime"));
        url.query_pairs_mut().clear().append_pair("model", model);
    } else {
        let version = opts
            .api_version
            .clone()
            .filter(|v| !v.is_empty())
            .or_else(|| env("AZURE_API_VERSION"))
            .ok_or_else(|| bad("azure", "api_version is required for Azure OpenAI calls"))?;
        url.set_path(&format!("{root}/openai/realtime"));
        url.query_pairs_mut()
            .clear()
            .append_pair("api-version", &version)
            .append_pair("deployment", model);
    }
    let credential = Credential::resolve(opts)?;
    let cx = Ctx { http, opts };
    let auth = match credential.header(&cx, false).await? {
        Header::ApiKey(k) => header("api-key", &k)?,
        Header::Bearer(t) => header("authorization", &format!("Bearer {t}"))?,
    };
    Ok(Target {
        provider: "azure",
        url,
        headers: vec![auth],
        timeout,
        live: None,
    })
}

/// Gemini Live, as LiteLLM's `GeminiRealtimeConfig` opens it:
/// `{base}/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent?key=`,
/// base `wss://generativelanguage.googleapis.com` or `GEMINI_API_BASE`. The key can only ride
/// in the query (no header on every WebSocket client); the URL shown in logs drops the query.
/// The model is not in the URL: it is the session's `setup` message.
fn gemini(
    opts: &CallOptions,
    model: &str,
    beta: bool,
    timeout: Duration,
) -> Result<Target, LlmError> {
    let base = opts
        .api_base
        .clone()
        .filter(|b| !b.is_empty())
        .or_else(|| env("GEMINI_API_BASE"))
        .unwrap_or_else(|| "https://generativelanguage.googleapis.com".into());
    let mut url = parse_base(&base, "gemini")?;
    websocket_scheme(&mut url, "gemini")?;
    // A chat `api_base` names the API version (`.../v1beta`); the socket lives beside it.
    let root = url.path().trim_end_matches('/');
    let root = ["/v1beta", "/v1alpha", "/v1"]
        .iter()
        .find_map(|v| root.strip_suffix(v))
        .unwrap_or(root)
        .to_string();
    url.set_path(&format!("{root}{LIVE_PATH}"));
    let key = llmgate::providers::gemini::api_key(opts)?;
    url.query_pairs_mut().clear().append_pair("key", &key);
    Ok(Target {
        provider: "gemini",
        url,
        headers: Vec::new(),
        timeout,
        live: Some(LiveSession::new(model, beta)),
    })
}

/// Vertex AI's Live API, as LiteLLM's `VertexAIRealtimeConfig` opens it:
/// `wss://{location}-aiplatform.googleapis.com/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent`
/// (`aiplatform.googleapis.com` for `global`, or `{api_base}/ws/...`) with the deployment's
/// access token and `x-goog-user-project`; the model goes into the setup's resource name, so it
/// must be one plain id.
async fn vertex(
    http: &reqwest::Client,
    opts: &CallOptions,
    model: &str,
    beta: bool,
    timeout: Duration,
) -> Result<Target, LlmError> {
    if model.is_empty()
        || !model
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'@'))
    {
        return Err(bad(
            "vertex_ai",
            format!("model {model:?} is not a Vertex AI Live model id"),
        ));
    }
    let site = llmgate::providers::vertex::live_site(http, opts).await?;
    let mut url = parse_base(&site.base, "vertex_ai")?;
    websocket_scheme(&mut url, "vertex_ai")?;
    let root = url.path().trim_end_matches('/').to_string();
    url.set_path(&format!("{root}{VERTEX_LIVE_PATH}"));
    url.set_query(None);
    Ok(Target {
        provider: "vertex_ai",
        url,
        headers: vec![
            header("authorization", &format!("Bearer {}", site.token))?,
            header("x-goog-user-project", &site.project)?,
        ],
        timeout,
        live: Some(LiveSession::vertex(
            model,
            &site.project,
            &site.location,
            beta,
        )),
    })
}

/// Opens the socket and upgrades it (the target's `live` translation is the caller's to take
/// first); an upstream that answers the upgrade with an error is
/// that error, classified as its HTTP answers are.
pub async fn connect(t: Target) -> Result<Socket, LlmError> {
    let provider = t.provider;
    let secs = t.timeout.as_secs_f64();
    match tokio::time::timeout(t.timeout, open(t)).await {
        Ok(r) => r,
        Err(_) => Err(LlmError::timeout(provider, secs)),
    }
}

fn unreachable(provider: &str, e: impl std::fmt::Display) -> LlmError {
    LlmError::new(
        ErrorKind::ApiConnection,
        format!("could not open the {provider} realtime WebSocket: {e}"),
    )
    .with_provider(provider)
}

async fn open(t: Target) -> Result<Socket, LlmError> {
    let provider = t.provider;
    let host = t
        .url
        .host_str()
        .ok_or_else(|| bad(provider, "api_base has no host"))?
        .to_string();
    let tls = t.url.scheme() == "wss";
    let port = t
        .url
        .port_or_known_default()
        .unwrap_or(if tls { 443 } else { 80 });
    // `[::1]` in a URL is `::1` to connect to.
    let addr_host = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_string();
    let tcp = TcpStream::connect((addr_host.as_str(), port))
        .await
        .map_err(|e| unreachable(provider, e))?;
    let _ = tcp.set_nodelay(true);
    let io: Box<dyn Io> = if tls {
        let name = rustls::pki_types::ServerName::try_from(addr_host)
            .map_err(|e| unreachable(provider, e))?;
        let stream = tls_connector()
            .connect(name, tcp)
            .await
            .map_err(|e| unreachable(provider, e))?;
        Box::new(stream)
    } else {
        Box::new(tcp)
    };
    let mut req = t
        .url
        .as_str()
        .into_client_request()
        .map_err(|e| unreachable(provider, e))?;
    for (k, v) in t.headers {
        req.headers_mut().insert(k, v);
    }
    match tokio_tungstenite::client_async(req, io).await {
        Ok((socket, _)) => Ok(socket),
        Err(tungstenite::Error::Http(res)) => {
            let status = res.status().as_u16();
            let headers = res
                .headers()
                .iter()
                .filter_map(|(k, v)| Some((k.to_string(), v.to_str().ok()?.to_string())))
                .collect();
            let body = res.body().clone().unwrap_or_default();
            Err(LlmError::from_upstream(status, headers, &body, provider))
        }
        Err(e) => Err(unreachable(provider, e)),
    }
}

/// TLS with the webpki roots and ring, as the gateway's HTTP client has them; built once.
fn tls_connector() -> tokio_rustls::TlsConnector {
    static CONFIG: std::sync::OnceLock<Arc<rustls::ClientConfig>> = std::sync::OnceLock::new();
    let config = CONFIG.get_or_init(|| {
        let roots = rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        };
        let mut config = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports the default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Arc::new(config)
    });
    tokio_rustls::TlsConnector::from(config.clone())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn opts(base: &str) -> CallOptions {
        CallOptions {
            api_base: Some(base.into()),
            api_key: Some("sk-up".into()),
            ..Default::default()
        }
    }

    #[test]
    fn openai_urls_as_litellm_builds_them() {
        let t = Duration::from_secs(1);
        let q = vec![
            ("model".to_string(), "group".to_string()),
            ("intent".to_string(), "transcription".to_string()),
        ];
        let u = |base: &str| openai(&opts(base), "gpt-realtime", &q, false, t).unwrap();
        assert_eq!(
            u("https://api.openai.com/").url.as_str(),
            "wss://api.openai.com/v1/realtime?model=gpt-realtime&intent=transcription"
        );
        assert_eq!(
            u("http://127.0.0.1:9/v1").url.as_str(),
            "ws://127.0.0.1:9/v1/realtime?model=gpt-realtime&intent=transcription"
        );
        assert_eq!(
            u("https://x.example/v1/realtime/").url.path(),
            "/v1/realtime"
        );
        let beta = openai(&opts("https://a.b"), "m", &[], true, t).unwrap();
        assert!(beta
            .headers
            .iter()
            .any(|(k, v)| k == "openai-beta" && v == "realtime=v1"));
        assert!(beta
            .headers
            .iter()
            .any(|(k, v)| k == "authorization" && v == "Bearer sk-up"));
        assert!(openai(&opts("ftp://a.b"), "m", &[], false, t).is_err());
    }

    #[test]
    fn xai_sessions_as_litellm_opens_them() {
        let t = Duration::from_secs(1);
        let mut o = opts("https://api.x.ai/v1");
        o.organization = Some("org".into());
        let x = session(&XAI, &o, "grok-voice", &[], true, t).unwrap();
        assert_eq!(x.provider, "xai");
        assert_eq!(
            x.url.as_str(),
            "wss://api.x.ai/v1/realtime?model=grok-voice"
        );
        let names: Vec<_> = x.headers.iter().map(|(k, _)| k.as_str()).collect();
        assert_eq!(names, ["authorization"]);
        o.api_base = None;
        if std::env::var("XAI_API_BASE").is_err() {
            let x = session(&XAI, &o, "m", &[], false, t).unwrap();
            assert_eq!(x.url.host_str(), Some("api.x.ai"));
        }
    }

    #[tokio::test]
    async fn unreachable_and_broken_upstreams_are_connection_errors() {
        let t = Duration::from_secs(5);
        // Nothing listens there.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = closed.local_addr().unwrap().port();
        drop(closed);
        let target = openai(
            &opts(&format!("http://127.0.0.1:{port}")),
            "m",
            &[],
            false,
            t,
        )
        .unwrap();
        let e = connect(target).await.err().unwrap();
        assert_eq!(e.kind, ErrorKind::ApiConnection);
        // TLS asked of a server that speaks plain bytes and hangs up.
        let plain = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = plain.local_addr().unwrap().port();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = plain.accept().await {
                use tokio::io::AsyncWriteExt;
                let _ = s.write_all(b"HTTP/1.1 400 Bad Request\r\n\r\n").await;
            }
        });
        let target = openai(
            &opts(&format!("https://127.0.0.1:{port}")),
            "m",
            &[],
            false,
            t,
        )
        .unwrap();
        assert_eq!(target.url.scheme(), "wss");
        let e = connect(target).await.err().unwrap();
        assert_eq!(e.kind, ErrorKind::ApiConnection);
    }

    #[test]
    fn gemini_live_urls_as_litellm_builds_them() {
        let t = Duration::from_secs(1);
        let live = "/ws/google.ai.generativelanguage.v1beta.GenerativeService.BidiGenerateContent";
        let g = gemini(
            &opts("https://generativelanguage.googleapis.com/v1beta/"),
            "m",
            false,
            t,
        )
        .unwrap();
        assert!(g.live.is_some());
        assert_eq!(
            g.url.as_str(),
            format!("wss://generativelanguage.googleapis.com{live}?key=sk-up")
        );
        assert!(g.headers.is_empty());
        let mock = gemini(&opts("http://127.0.0.1:9/prefix"), "m", false, t).unwrap();
        assert_eq!(
            mock.url.as_str(),
            format!("ws://127.0.0.1:9/prefix{live}?key=sk-up")
        );
        let mut none = opts("http://127.0.0.1:9");
        none.api_key = None;
        if std::env::var("GEMINI_API_KEY").is_err() && std::env::var("GOOGLE_API_KEY").is_err() {
            assert_eq!(
                gemini(&none, "m", false, t).err().unwrap().kind,
                ErrorKind::Authentication
            );
        }
    }

    #[tokio::test]
    async fn vertex_live_urls_and_model_ids() {
        let http = reqwest::Client::new();
        let t = Duration::from_secs(1);
        let mut o = opts("http://127.0.0.1:9/v1");
        o.api_key = Some("ya29.token".into());
        o.extra
            .insert("vertex_project".into(), serde_json::json!("proj"));
        o.extra
            .insert("vertex_location".into(), serde_json::json!("europe-west4"));
        let v = vertex(&http, &o, "gemini-live-2.5-flash", false, t)
            .await
            .unwrap();
        assert_eq!(
            v.url.as_str(),
            "ws://127.0.0.1:9/ws/google.cloud.aiplatform.v1.LlmBidiService/BidiGenerateContent"
        );
        assert!(v
            .headers
            .iter()
            .any(|(k, val)| k == "authorization" && val == "Bearer ya29.token"));
        assert!(v
            .headers
            .iter()
            .any(|(k, val)| k == "x-goog-user-project" && val == "proj"));
        o.api_base = None;
        let host = vertex(&http, &o, "m", false, t).await.unwrap();
        assert_eq!(
            host.url.host_str(),
            Some("europe-west4-aiplatform.googleapis.com")
        );
        assert_eq!(host.url.scheme(), "wss");
        // A model id goes into the setup's resource name: nothing but one plain id.
        assert!(vertex(&http, &o, "../other/models/x", false, t)
            .await
            .is_err());
    }

    #[tokio::test]
    async fn azure_urls_beta_and_ga() {
        let http = reqwest::Client::new();
        let t = Duration::from_secs(1);
        let mut o = opts("https://res.openai.azure.com/openai/");
        o.api_version = Some("2024-10-01-preview".into());
        let beta = azure(&http, &o, "my-rt", t).await.unwrap();
        assert_eq!(
            beta.url.as_str(),
            "wss://res.openai.azure.com/openai/realtime?api-version=2024-10-01-preview&deployment=my-rt"
        );
        assert!(beta
            .headers
            .iter()
            .any(|(k, v)| k == "api-key" && v == "sk-up"));
        o.extra
            .insert("realtime_protocol".into(), serde_json::json!("GA"));
        let ga = azure(&http, &o, "my-rt", t).await.unwrap();
        assert_eq!(
            ga.url.as_str(),
            "wss://res.openai.azure.com/openai/v1/realtime?model=my-rt"
        );
    }
}
