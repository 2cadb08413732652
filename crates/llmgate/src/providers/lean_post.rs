//! The hot call, a JSON POST whose whole answer is read, on hyper-util's pooled client without
//! reqwest's layers around it (request builder, URL re-parse, redirect and timeout services,
//! response wrapper): reqwest spent ~45 k instructions per call of a ~290 k request
//! (bench/README, sessions 15 and 16). Streams, forms and every other call stay on reqwest.
//!
//! Same settings as the reqwest client ([`crate::Client::new`]): pool size and idle time,
//! `TCP_NODELAY`, connect timeout, user agent, no redirects, rustls with the webpki roots and
//! h2 by ALPN, each connection counted for the gauge. Off when the environment names a proxy:
//! reqwest honours `HTTP(S)_PROXY`/`ALL_PROXY`, this client does not.

use std::sync::{Arc, OnceLock};
use std::time::Duration;

use bytes::Bytes;
use http::header::{HeaderMap, HeaderName, HeaderValue};
use http::{Method, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};

use futures::StreamExt;
use hyper::body::Incoming;

use super::http::{credentials, sse_from, UrlMemo};
use crate::client;
use crate::connections::Count;
use crate::stream::sse::SseEvent;
use crate::{LlmError, Response};

type Connector = Count<hyper_rustls::HttpsConnector<HttpConnector>>;

pub struct LeanPost {
    client: Client<Connector, Full<Bytes>>,
}

/// The process's lean client; None when a proxy is configured (the call goes by reqwest).
pub fn client() -> Option<&'static LeanPost> {
    static C: OnceLock<Option<LeanPost>> = OnceLock::new();
    C.get_or_init(|| (!proxied()).then(LeanPost::new)).as_ref()
}

fn proxied() -> bool {
    ["HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY"]
        .iter()
        .flat_map(|v| [v.to_string(), v.to_ascii_lowercase()])
        .any(|v| std::env::var_os(v).is_some_and(|s| !s.is_empty()))
}

/// An upstream URL parsed once: its `Uri` and the credentials its query carries (`?key=`),
/// masked in errors like the headers' ([`credentials`]).
struct Target {
    uri: Uri,
    query_secrets: Arc<[String]>,
}

fn targets() -> &'static UrlMemo<Arc<Target>> {
    static T: OnceLock<UrlMemo<Arc<Target>>> = OnceLock::new();
    T.get_or_init(UrlMemo::default)
}

impl LeanPost {
    fn new() -> Self {
        let mut tcp = HttpConnector::new();
        tcp.enforce_http(false);
        tcp.set_nodelay(true);
        tcp.set_connect_timeout(Some(client::CONNECT_TIMEOUT));
        let tls = rustls::ClientConfig::builder_with_provider(Arc::new(
            rustls::crypto::ring::default_provider(),
        ))
        .with_safe_default_protocol_versions()
        .expect("ring supports TLS 1.2 and 1.3")
        .with_root_certificates(rustls::RootCertStore {
            roots: webpki_roots::TLS_SERVER_ROOTS.to_vec(),
        })
        .with_no_client_auth();
        let https = hyper_rustls::HttpsConnectorBuilder::new()
            .with_tls_config(tls)
            .https_or_http()
            .enable_http1()
            .enable_http2()
            .wrap_connector(tcp);
        let client = Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(client::POOL_IDLE_PER_HOST)
            .pool_idle_timeout(client::POOL_IDLE)
            .pool_timer(TokioTimer::new())
            .build(Count::new(https));
        LeanPost { client }
    }

    /// Sends the POST and waits for the answer's head; its body still to read. The
    /// credentials the request carried come back with it, for masking.
    async fn open(
        &self,
        url: &str,
        headers: HeaderMap,
        body: Vec<u8>,
        provider: &str,
    ) -> Result<(http::response::Parts, Incoming, Arc<[String]>), LlmError> {
        let target = targets().get_or_try(url, || {
            let uri: Uri = url.parse().map_err(|e| {
                LlmError::bad_request(format!("the upstream URL {url:?} is not valid: {e}"))
            })?;
            let query_secrets = credentials(&HeaderMap::new(), uri.query()).into();
            Ok(Arc::new(Target { uri, query_secrets }))
        })?;
        let mut secrets = credentials(&headers, None);
        secrets.extend(target.query_secrets.iter().cloned());
        let secrets: Arc<[String]> = secrets.into();
        let mut req = Request::new(Full::new(Bytes::from(body)));
        *req.method_mut() = Method::POST;
        *req.uri_mut() = target.uri.clone();
        *req.headers_mut() = headers;
        // reqwest's defaults, each only where the caller set none.
        let h = req.headers_mut();
        h.entry(http::header::CONTENT_TYPE)
            .or_insert_with(json_type);
        h.entry(http::header::ACCEPT)
            .or_insert_with(|| HeaderValue::from_static("*/*"));
        h.entry(http::header::USER_AGENT).or_insert_with(user_agent);
        let res = self.client.request(req).await.map_err(|e| {
            let lead = format!("error sending request for url ({url})");
            LlmError::transport(Some(&lead), &e, false, provider).redact(&secrets)
        })?;
        let (parts, body) = res.into_parts();
        Ok((parts, body, secrets))
    }

    /// POSTs `body` (JSON) to `url` with `headers`; the answer's headers and body when 2xx,
    /// else the mapped upstream error with the request's credentials masked. `wait` bounds the
    /// whole exchange, as reqwest's per-request timeout did.
    pub async fn post_json(
        &self,
        url: &str,
        headers: HeaderMap,
        body: Vec<u8>,
        wait: Option<Duration>,
        provider: &str,
    ) -> Result<Response<Bytes>, LlmError> {
        let exchange = async {
            let (parts, body, secrets) = self.open(url, headers, body, provider).await?;
            let bytes = read_body(body, provider)
                .await
                .map_err(|e| e.redact(&secrets))?;
            Ok::<_, LlmError>((parts, bytes, secrets))
        };
        let (parts, bytes, secrets) = within(wait, provider, exchange).await?;
        let headers = super::http::header_pairs(&parts.headers);
        let status = parts.status.as_u16();
        if !(200..300).contains(&status) {
            return Err(LlmError::from_upstream(status, headers, &bytes, provider).redact(&secrets));
        }
        Ok(Response {
            body: bytes,
            headers,
            api_base: String::new(),
        })
    }

    /// POSTs `body` (JSON) and answers the 2xx answer's headers and its body as SSE events,
    /// decoded as bytes arrive ([`sse_from`]); a non-2xx answer is read whole into the mapped
    /// error. `wait` bounds the time to the answer's head and the silence between chunks.
    pub async fn post_sse(
        &self,
        url: &str,
        headers: HeaderMap,
        body: Vec<u8>,
        wait: Option<Duration>,
        provider: &'static str,
    ) -> Result<Response<SseStream>, LlmError> {
        let opened = self.open(url, headers, body, provider);
        let (parts, body, secrets) = within(wait, provider, opened).await?;
        let headers = super::http::header_pairs(&parts.headers);
        let status = parts.status.as_u16();
        if !(200..300).contains(&status) {
            let bytes = read_body(body, provider).await.unwrap_or_default();
            return Err(LlmError::from_upstream(status, headers, &bytes, provider).redact(&secrets));
        }
        let chunks = body
            .into_data_stream()
            .map(move |r| r.map_err(|e| body_error(&e, provider)));
        Ok(Response {
            body: Box::pin(sse_from(chunks, secrets, provider, wait)),
            headers,
            api_base: String::new(),
        })
    }
}

/// An answer's SSE events, as [`sse_from`] yields them.
pub type SseStream =
    std::pin::Pin<Box<dyn futures::Stream<Item = Result<SseEvent, LlmError>> + Send>>;

async fn read_body(body: Incoming, provider: &str) -> Result<Bytes, LlmError> {
    Ok(body
        .collect()
        .await
        .map_err(|e| body_error(&e, provider))?
        .to_bytes())
}

/// An answer's body that broke while read, as reqwest words it.
fn body_error(e: &hyper::Error, provider: &str) -> LlmError {
    LlmError::transport(Some("error decoding response body"), e, false, provider)
}

/// `fut`, bounded by `wait` when there is one (then a timeout error past it).
async fn within<T>(
    wait: Option<Duration>,
    provider: &str,
    fut: impl std::future::Future<Output = Result<T, LlmError>>,
) -> Result<T, LlmError> {
    match wait {
        Some(t) => tokio::time::timeout(t, fut)
            .await
            .map_err(|_| LlmError::timeout(provider, t.as_secs_f64()))?,
        None => fut.await,
    }
}

fn json_type() -> HeaderValue {
    HeaderValue::from_static("application/json")
}

fn user_agent() -> HeaderValue {
    HeaderValue::from_static(client::USER_AGENT)
}

/// `name: value` into `headers`, or an error for a header that is not one (an `extra_headers`
/// entry with a newline, say), a 500 as reqwest's builder error was: the deployment's fault.
pub fn insert(headers: &mut HeaderMap, name: &str, value: &str) -> Result<(), LlmError> {
    let n = HeaderName::from_bytes(name.as_bytes());
    let v = HeaderValue::from_str(value);
    match (n, v) {
        (Ok(n), Ok(mut v)) => {
            // Kept out of HTTP/2's header tables, as reqwest's `bearer_auth` does.
            v.set_sensitive(n == http::header::AUTHORIZATION || n.as_str() == "api-key");
            headers.append(n, v);
            Ok(())
        }
        _ => Err(LlmError::new(
            crate::ErrorKind::InternalServer,
            format!("the header {name:?} is not a valid HTTP header"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorKind;

    fn bearer(key: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        insert(&mut h, "authorization", &format!("Bearer {key}")).unwrap();
        h
    }

    #[tokio::test]
    async fn a_silent_upstream_times_out_and_a_closed_port_is_a_connection_error() {
        let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!(
            "http://{}/v1/chat/completions",
            silent.local_addr().unwrap()
        );
        let lean = LeanPost::new();
        let wait = Some(Duration::from_millis(200));
        let e = lean
            .post_json(&url, bearer("sk-1"), b"{}".to_vec(), wait, "openai")
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::Timeout, "{e:?}");

        let closed = {
            let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            l.local_addr().unwrap()
        };
        let url = format!("http://{closed}/v1/chat/completions");
        let e = lean
            .post_json(&url, bearer("sk-1"), b"{}".to_vec(), None, "openai")
            .await
            .unwrap_err();
        assert_eq!(e.kind, ErrorKind::ApiConnection, "{e:?}");
        assert!(
            e.message.contains("error sending request for url"),
            "{}",
            e.message
        );
    }

    #[tokio::test]
    async fn an_answer_quoting_the_query_key_is_masked() {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = l.local_addr().unwrap();
        tokio::spawn(async move {
            let (mut s, _) = l.accept().await.unwrap();
            let mut buf = vec![0u8; 4096];
            let _ = s.read(&mut buf).await;
            let body = r#"{"error":{"message":"bad key k%2Fsecret/1 and Bearer sk-header-9"}}"#;
            let res = format!(
                "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                body.len()
            );
            s.write_all(res.as_bytes()).await.unwrap();
        });
        let url = format!("http://{addr}/v1/x?api-version=1&key=k%252Fsecret%2F1");
        let e = LeanPost::new()
            .post_json(&url, bearer("sk-header-9"), b"{}".to_vec(), None, "openai")
            .await
            .unwrap_err();
        assert_eq!(e.status, 401);
        assert!(!e.message.contains("sk-header-9"), "{}", e.message);
        assert!(!e.message.contains("k%2Fsecret/1"), "{}", e.message);
    }

    #[test]
    fn a_header_that_is_not_one_is_refused() {
        let mut h = HeaderMap::new();
        assert!(insert(&mut h, "x-ok", "fine").is_ok());
        assert!(insert(&mut h, "x-bad", "a\nb").is_err());
        assert!(insert(&mut h, "bad name", "v").is_err());
    }
}
