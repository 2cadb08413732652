//! `llmgate-mock --port N [--host H] [--no-record] [--workers N]`: a mock OpenAI upstream for
//! end-to-end tests and benchmarks. Prints `listening on HOST:PORT` first.

use std::io::Write;

fn main() -> std::io::Result<()> {
    let mut host = "127.0.0.1".to_string();
    let mut port = 0u16;
    let mut record = true;
    let mut workers = 0usize;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--port" => port = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--host" => host = args.next().unwrap_or(host),
            "--no-record" => record = false,
            "--workers" => workers = args.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            other => {
                eprintln!("unknown argument {other}; usage: llmgate-mock [--port N] [--host H] [--no-record] [--workers N]");
                std::process::exit(2);
            }
        }
    }
    let mut rt = tokio::runtime::Builder::new_multi_thread();
    if workers > 0 {
        rt.worker_threads(workers);
    }
    rt.enable_all().build()?.block_on(async move {
        let listener = tokio::net::TcpListener::bind((host.as_str(), port)).await?;
        let addr = listener.local_addr()?;
        let mut out = std::io::stdout();
        writeln!(out, "listening on {addr}")?;
        out.flush()?;
        // Recorded requests are served at GET /_mock/requests; benchmarks pass --no-record so
        // memory stays flat under load.
        llmgate_mock::serve(listener, record).await
    })
}
