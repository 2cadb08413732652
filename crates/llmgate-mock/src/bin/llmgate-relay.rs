//! `llmgate-relay --port N --upstream http://127.0.0.1:M`: the smallest HTTP/1.1 proxy this
//! machine can run — hyper's server, hyper-util's pooled client, the request and answer passed
//! through as bytes, nothing read or checked. It is the benchmark's floor (`bench/run.sh`
//! prints it as `relay`): what any gateway pays for one server and one client exchange per
//! request on the same cores, so the gateway's ratio to direct is read against this one.

use std::io::Write;

use http_body_util::BodyExt;
use hyper::body::Incoming;
use hyper::{Request, Response, Uri};
use hyper_util::client::legacy::{connect::HttpConnector, Client};
use hyper_util::rt::{TokioExecutor, TokioIo};

type Body = http_body_util::combinators::BoxBody<bytes::Bytes, hyper::Error>;

fn main() -> std::io::Result<()> {
    let mut port = 0u16;
    let mut upstream = String::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--upstream" => upstream = args.next().unwrap_or_default(),
            other => {
                eprintln!("unknown argument {other}; usage: llmgate-relay --port N --upstream http://host:port");
                std::process::exit(2);
            }
        }
    }
    let base: Uri = match upstream.parse::<Uri>() {
        Ok(u) if u.authority().is_some() => u,
        _ => {
            eprintln!("--upstream http://host:port is required");
            std::process::exit(2);
        }
    };
    let authority = base.authority().cloned().expect("checked above");
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?
        .block_on(async move {
            let listener = tokio::net::TcpListener::bind(("127.0.0.1", port)).await?;
            let mut out = std::io::stdout();
            writeln!(out, "listening on {}", listener.local_addr()?)?;
            out.flush()?;
            let mut connector = HttpConnector::new();
            connector.set_nodelay(true);
            let client: Client<HttpConnector, Incoming> = Client::builder(TokioExecutor::new())
                .pool_max_idle_per_host(128)
                .build(connector);
            loop {
                let (tcp, _) = listener.accept().await?;
                let _ = tcp.set_nodelay(true);
                let client = client.clone();
                let authority = authority.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |mut req: Request<Incoming>| {
                        let client = client.clone();
                        let authority = authority.clone();
                        async move {
                            let mut parts = req.uri().clone().into_parts();
                            parts.scheme = Some(http::uri::Scheme::HTTP);
                            parts.authority = Some(authority);
                            *req.uri_mut() = Uri::from_parts(parts).expect("scheme, host and path");
                            req.headers_mut().remove(http::header::HOST);
                            let answer: Response<Body> = match client.request(req).await {
                                Ok(r) => r.map(|b| b.boxed()),
                                Err(_) => Response::builder()
                                    .status(502)
                                    .body(
                                        http_body_util::Empty::new()
                                            .map_err(|never| match never {})
                                            .boxed(),
                                    )
                                    .expect("static response"),
                            };
                            Ok::<_, std::convert::Infallible>(answer)
                        }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(TokioIo::new(tcp), service)
                        .await;
                });
            }
        })
}
