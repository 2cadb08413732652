//! The listener and its connections: how many at once, how long a request may take to arrive,
//! how long an idle connection stays, how large a body may be. What a request *sends* is timed,
//! never what it is answered: a long SSE stream is a legitimate answer.

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::{pin, Pin};
use std::sync::atomic::{fence, AtomicBool, AtomicU64, AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};
use std::task::{ready, Context, Poll};
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::ConnectInfo;
use axum::response::{IntoResponse, Response};
use axum::Router;
use futures::task::AtomicWaker;
use hyper::body::{Body as HttpBody, Frame, Incoming, SizeHint};
use hyper::Request;
use hyper_util::rt::{TokioExecutor, TokioIo};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{watch, OwnedSemaphorePermit, Semaphore};
use tokio::time::{Instant, Sleep};

use crate::cli::Cli;
use crate::config::Config;
use crate::error::GatewayError;

/// What a body past the limit may still send, read and thrown away, so that a client that sends
/// its whole body before reading (most do) gets the 413 instead of a reset connection.
const DRAIN_MAX: usize = 256 << 20;
/// File descriptors kept outside the connections (each may hold one upstream connection
/// besides its own): the database, Redis, the journal and logs, and the upstream pool's idle
/// connections (128 per host; at 256 a burst of 10 000 connections ran out at the journal).
const FD_RESERVE: u64 = 512;

/// The limits, read once at start.
#[derive(Debug, Clone)]
pub struct Limits {
    /// A request's line and headers must arrive within this (slowloris).
    pub header_timeout: Duration,
    /// A request's body must arrive within this, counted from its headers.
    pub body_timeout: Duration,
    /// A connection with no request in flight and nothing received for this long is closed.
    pub keep_alive: Duration,
    /// Connections served at once; past it the listener stops accepting (the kernel's backlog
    /// queues them) until one closes.
    pub max_connections: usize,
    /// Largest request body, in bytes.
    pub max_body: usize,
}

impl Limits {
    /// `LLMGATE_HEADER_TIMEOUT_SECONDS` (30), `LLMGATE_BODY_TIMEOUT_SECONDS` (60),
    /// `--keepalive_timeout`/`KEEPALIVE_TIMEOUT` (5, uvicorn's default, which LiteLLM runs on),
    /// `--limit_concurrency`/`LIMIT_CONCURRENCY` (half the open-files limit `fd_limit`),
    /// `general_settings.max_request_size_mb` (64).
    pub fn new(cli: &Cli, cfg: &Config, fd_limit: u64) -> Limits {
        let secs = |name: &str, default: u64| {
            std::env::var(name)
                .ok()
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| *s > 0.0 && s.is_finite())
                .map(Duration::from_secs_f64)
                .unwrap_or(Duration::from_secs(default))
        };
        let fds = fd_limit.min(1 << 21);
        let max_body_mb = cfg
            .general_settings
            .extra
            .get("max_request_size_mb")
            .and_then(|v| v.as_f64().or_else(|| v.as_str()?.trim().parse().ok()))
            .filter(|mb| *mb > 0.0 && mb.is_finite())
            .unwrap_or(64.0);
        Limits {
            header_timeout: secs("LLMGATE_HEADER_TIMEOUT_SECONDS", 30),
            body_timeout: secs("LLMGATE_BODY_TIMEOUT_SECONDS", 60),
            keep_alive: cli
                .keepalive_timeout
                .filter(|s| *s > 0.0 && s.is_finite())
                .map(Duration::from_secs_f64)
                .unwrap_or(Duration::from_secs(5)),
            max_connections: cli
                .limit_concurrency
                .filter(|n| *n > 0)
                .unwrap_or((fds.saturating_sub(FD_RESERVE) / 2).max(32) as usize),
            max_body: (max_body_mb * (1 << 20) as f64) as usize,
        }
    }
}

/// Raises the soft open-files limit to the hard one where the system allows it; the limit in
/// force afterwards.
pub fn raise_fd_limit() -> u64 {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit/setrlimit only read and write the struct passed in.
    unsafe {
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
    let limit = lim.rlim_cur as u64;
    limit
}

/// Accepts while fewer than `max_connections` are open, serves each on its own task, and on
/// `shutdown` stops accepting and waits for the open connections to finish their requests.
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let limits = Arc::new(limits);
    let app = TowerToHyperService::new(app);
    let slots = Arc::new(Semaphore::new(limits.max_connections));
    let (closing, closing_rx) = watch::channel(false);
    let mut shutdown = pin!(shutdown);
    loop {
        let slot = tokio::select! {
            s = slots.clone().acquire_owned() => s.expect("the semaphore is never closed"),
            _ = &mut shutdown => break,
        };
        let (stream, addr) = tokio::select! {
            r = listener.accept() => match r {
                Ok(c) => c,
                Err(e) => {
                    // Out of file descriptors (or a connection reset before accept): wait a
                    // little rather than spin.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        tokio::spawn(connection(
            stream,
            addr,
            app.clone(),
            limits.clone(),
            slot,
            closing_rx.clone(),
        ));
    }
    drop(listener);
    drop(closing_rx);
    let _ = closing.send(true);
    closing.closed().await;
}

/// One connection: hyper serves it; a watchdog closes it when no request is in flight and it is
/// idle past `keep_alive`, or a request's headers take longer than `header_timeout`.
async fn connection(
    stream: TcpStream,
    addr: SocketAddr,
    app: TowerToHyperService<Router>,
    limits: Arc<Limits>,
    slot: OwnedSemaphorePermit,
    mut closing: watch::Receiver<bool>,
) {
    let _ = stream.set_nodelay(true);
    let activity = Arc::new(Activity::new());
    let io = TokioIo::new(Tracked {
        inner: stream,
        activity: activity.clone(),
        _slot: slot,
    });
    let service = {
        let activity = activity.clone();
        let limits = limits.clone();
        hyper::service::service_fn(move |mut req: Request<Incoming>| {
            let in_flight = activity.request_started();
            req.extensions_mut().insert(ConnectInfo(addr));
            let app = app.clone();
            let limits = limits.clone();
            async move {
                let res = guarded(&app, req, &limits).await;
                Ok::<_, Infallible>(res.map(|body| {
                    Body::new(InFlightBody {
                        inner: body,
                        _in_flight: in_flight,
                    })
                }))
            }
        })
    };
    let builder = auto::Builder::new(TokioExecutor::new());
    // Upgrades (the realtime WebSocket) take the socket, and with it the connection's slot.
    let mut conn = pin!(builder.serve_connection_with_upgrades(io, service));
    let mut closing_changed = pin!(closing.changed());
    let mut shutting_down = false;
    // The watchdog's timer, reset only to an earlier deadline: when it fires the deadline is
    // read again (a busy connection re-arms it once per keep-alive period, not per request).
    let mut timer = pin!(tokio::time::sleep_until(Instant::now() + FAR));
    let mut armed: Option<Instant> = None;
    std::future::poll_fn(|cx| {
        activity.task.register(cx.waker());
        activity.polling.store(true, Ordering::Relaxed);
        let served = conn.as_mut().poll(cx);
        activity.polling.store(false, Ordering::Relaxed);
        // Pairs with the fence in `Activity::changed`: a change this poll did not see wakes us.
        fence(Ordering::SeqCst);
        if served.is_ready() {
            return Poll::Ready(());
        }
        if !shutting_down {
            if let Poll::Ready(r) = closing_changed.as_mut().poll(cx) {
                shutting_down = true;
                if r.is_ok() {
                    conn.as_mut().graceful_shutdown();
                    // hyper acts on it when polled again.
                    cx.waker().wake_by_ref();
                }
            }
        }
        loop {
            let due = activity.next_check(&limits);
            if let Some(at) = due.filter(|at| armed.is_none_or(|a| *at < a)) {
                timer.as_mut().reset(at);
                armed = Some(at);
            }
            if armed.is_none() || timer.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            armed = None;
            if activity.expired(&limits) {
                // No request in flight: dropping the connection loses no answer.
                return Poll::Ready(());
            }
        }
    })
    .await;
}

/// A timer that is not armed.
const FAR: Duration = Duration::from_secs(86_400 * 365);

/// The watchdog's clock: milliseconds since the first connection, in atomics.
fn epoch() -> Instant {
    static START: OnceLock<Instant> = OnceLock::new();
    *START.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64
}

fn at_ms(ms: u64) -> Instant {
    epoch() + Duration::from_millis(ms)
}

const NEVER: u64 = u64::MAX;

/// What the watchdog needs of a connection, updated by its reads and its requests.
struct Activity {
    in_flight: AtomicUsize,
    /// When the last request ended (or the connection opened).
    idle_since: AtomicU64,
    last_read: AtomicU64,
    /// The first byte received with no request in flight: the next request's headers began.
    headers_since: AtomicU64,
    /// The connection's task, woken when `in_flight` drops to 0 or `headers_since` is set
    /// outside its own poll of hyper (an HTTP/2 stream's task).
    task: AtomicWaker,
    /// Whether that task is inside its poll of hyper now. A change made there (HTTP/1: every
    /// read and every request's end) is seen when the poll returns, with no wake-up: a task
    /// that wakes itself is queued again through the runtime, which wakes the other worker
    /// (two or more syscalls per request, the ones a bare hyper relay does not make).
    polling: AtomicBool,
}

impl Activity {
    fn new() -> Activity {
        let now = now_ms();
        Activity {
            in_flight: AtomicUsize::new(0),
            idle_since: AtomicU64::new(now),
            last_read: AtomicU64::new(now),
            headers_since: AtomicU64::new(NEVER),
            task: AtomicWaker::new(),
            polling: AtomicBool::new(false),
        }
    }

    fn read(&self) {
        let now = now_ms();
        self.last_read.store(now, Ordering::Relaxed);
        if self.in_flight.load(Ordering::Relaxed) == 0
            && self
                .headers_since
                .compare_exchange(NEVER, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
        {
            self.changed();
        }
    }

    fn changed(&self) {
        fence(Ordering::SeqCst);
        if !self.polling.load(Ordering::Relaxed) {
            self.task.wake();
        }
    }

    /// A request's headers are in; the returned guard ends it when its response is dropped.
    fn request_started(self: &Arc<Self>) -> InFlight {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.headers_since.store(NEVER, Ordering::Relaxed);
        InFlight(self.clone())
    }

    /// When the connection, idle from now on, would be closed.
    fn deadline_ms(&self, limits: &Limits) -> u64 {
        let idle = self
            .idle_since
            .load(Ordering::Relaxed)
            .max(self.last_read.load(Ordering::Relaxed))
            .saturating_add(limits.keep_alive.as_millis() as u64);
        let headers = self
            .headers_since
            .load(Ordering::Relaxed)
            .saturating_add(limits.header_timeout.as_millis() as u64);
        idle.min(headers)
    }

    fn expired(&self, limits: &Limits) -> bool {
        self.in_flight.load(Ordering::Relaxed) == 0 && now_ms() >= self.deadline_ms(limits)
    }

    /// When to look again; with a request in flight, only when it ends.
    fn next_check(&self, limits: &Limits) -> Option<Instant> {
        (self.in_flight.load(Ordering::Relaxed) == 0)
            .then(|| at_ms(self.deadline_ms(limits).max(now_ms()) + 1))
    }
}

/// One request in flight on its connection, until its response is sent (or dropped).
struct InFlight(Arc<Activity>);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.idle_since.store(now_ms(), Ordering::Relaxed);
        if self.0.in_flight.fetch_sub(1, Ordering::Relaxed) == 1 {
            self.0.changed();
        }
    }
}

/// The response body, holding its request's [`InFlight`] until hyper is done with it.
struct InFlightBody {
    inner: Body,
    _in_flight: InFlight,
}

impl HttpBody for InFlightBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, axum::Error>>> {
        Pin::new(&mut self.inner).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

/// The socket, noting each read in its connection's [`Activity`]; it holds the connection's
/// slot, so an upgraded connection (a WebSocket) still counts while it lives.
struct Tracked {
    inner: TcpStream,
    activity: Arc<Activity>,
    _slot: OwnedSemaphorePermit,
}

impl AsyncRead for Tracked {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = ready!(Pin::new(&mut self.inner).poll_read(cx, buf));
        if buf.filled().len() > before {
            self.activity.read();
        }
        Poll::Ready(r)
    }
}

impl AsyncWrite for Tracked {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<std::io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> Poll<std::io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// Why a request's body was cut off; the answer is then this error, whatever the route said.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
enum Cut {
    None = 0,
    TooLarge = 1,
    TooSlow = 2,
}

#[derive(Default)]
struct Verdict(AtomicU8);

impl Verdict {
    fn set(&self, cut: Cut) {
        self.0.store(cut as u8, Ordering::Relaxed);
    }
    fn get(&self) -> Cut {
        match self.0.load(Ordering::Relaxed) {
            1 => Cut::TooLarge,
            2 => Cut::TooSlow,
            _ => Cut::None,
        }
    }
}

fn too_large(limits: &Limits) -> GatewayError {
    GatewayError::TooLarge(format!(
        "Request size is too large. Max size is {} MB (general_settings.max_request_size_mb)",
        crate::pyfmt::py_float(limits.max_body as f64 / (1 << 20) as f64)
    ))
}

/// Serves one request with its body limited in size and time: a declared length over the
/// limit is refused before the route runs; a body that grows past it or arrives too slowly is
/// cut off while it is read, and the answer is the error.
async fn guarded(
    app: &TowerToHyperService<Router>,
    req: Request<Incoming>,
    limits: &Limits,
) -> Response {
    let verdict = Arc::new(Verdict::default());
    let declared = req
        .headers()
        .get(hyper::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok()?.parse::<u64>().ok());
    // A client waiting for `100 Continue` sends no body after a final answer: nothing to drain.
    let drain = !req
        .headers()
        .get(hyper::header::EXPECT)
        .is_some_and(|v| v.as_bytes().eq_ignore_ascii_case(b"100-continue"));
    let (parts, body) = req.into_parts();
    let body = LimitedBody {
        inner: Some(body),
        drain,
        left: limits.max_body,
        deadline: Box::pin(tokio::time::sleep(limits.body_timeout)),
        verdict: verdict.clone(),
    };
    if declared.is_some_and(|n| n > limits.max_body as u64) {
        verdict.set(Cut::TooLarge);
        drop(body);
        return too_large(limits).into_response();
    }
    let res = match hyper::service::Service::call(app, Request::from_parts(parts, body)).await {
        Ok(res) => res,
        Err(never) => match never {},
    };
    match verdict.get() {
        Cut::None => res,
        Cut::TooLarge => too_large(limits).into_response(),
        Cut::TooSlow => GatewayError::SlowRequest(format!(
            "The request body did not arrive within {} seconds",
            crate::pyfmt::py_float(limits.body_timeout.as_secs_f64())
        ))
        .into_response(),
    }
}

/// A request body that errors past `left` bytes or after `deadline`; dropped after the size
/// error, it reads the rest of the body in the background and throws it away (up to
/// [`DRAIN_MAX`], within the deadline).
struct LimitedBody {
    inner: Option<Incoming>,
    drain: bool,
    left: usize,
    deadline: Pin<Box<Sleep>>,
    verdict: Arc<Verdict>,
}

#[derive(Debug, thiserror::Error)]
enum BodyError {
    #[error("request body over the size limit")]
    TooLarge,
    #[error("request body too slow")]
    TooSlow,
    #[error(transparent)]
    Read(#[from] hyper::Error),
}

impl HttpBody for LimitedBody {
    type Data = Bytes;
    type Error = BodyError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, BodyError>>> {
        if self.verdict.get() != Cut::None {
            return Poll::Ready(None);
        }
        let Some(inner) = self.inner.as_mut() else {
            return Poll::Ready(None);
        };
        let frame = match Pin::new(inner).poll_frame(cx) {
            Poll::Ready(f) => f,
            Poll::Pending => {
                if self.deadline.as_mut().poll(cx).is_ready() {
                    self.verdict.set(Cut::TooSlow);
                    return Poll::Ready(Some(Err(BodyError::TooSlow)));
                }
                return Poll::Pending;
            }
        };
        let frame = match frame {
            Some(Ok(f)) => f,
            Some(Err(e)) => return Poll::Ready(Some(Err(e.into()))),
            None => return Poll::Ready(None),
        };
        if let Some(data) = frame.data_ref() {
            if data.len() > self.left {
                self.verdict.set(Cut::TooLarge);
                return Poll::Ready(Some(Err(BodyError::TooLarge)));
            }
            self.left -= data.len();
        }
        Poll::Ready(Some(Ok(frame)))
    }

    fn is_end_stream(&self) -> bool {
        self.inner.as_ref().is_none_or(|b| b.is_end_stream())
    }

    fn size_hint(&self) -> SizeHint {
        self.inner
            .as_ref()
            .map_or_else(|| SizeHint::with_exact(0), |b| b.size_hint())
    }
}

impl Drop for LimitedBody {
    fn drop(&mut self) {
        if !self.drain || self.verdict.get() != Cut::TooLarge {
            return;
        }
        let (Some(mut body), Ok(rt)) = (self.inner.take(), tokio::runtime::Handle::try_current())
        else {
            return;
        };
        let deadline = self.deadline.deadline();
        rt.spawn(async move {
            let drain = async {
                let mut left = DRAIN_MAX;
                while let Some(Ok(frame)) =
                    std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await
                {
                    let n = frame.data_ref().map_or(0, Bytes::len);
                    if n > left {
                        break;
                    }
                    left -= n;
                }
            };
            let _ = tokio::time::timeout_at(deadline, drain).await;
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits() -> Limits {
        Limits {
            header_timeout: Duration::from_secs(30),
            body_timeout: Duration::from_secs(60),
            keep_alive: Duration::from_secs(5),
            max_connections: 10,
            max_body: 1 << 20,
        }
    }

    #[test]
    fn idle_and_header_deadlines() {
        let l = limits();
        let a = Arc::new(Activity::new());
        let opened = a.idle_since.load(Ordering::Relaxed);
        assert_eq!(a.deadline_ms(&l), opened + 5_000);
        // A first byte: the headers have 30 s from then, each byte keeps the keep-alive fresh.
        a.read();
        let first = a.headers_since.load(Ordering::Relaxed);
        assert_ne!(first, NEVER);
        let g = a.request_started();
        assert_eq!(a.headers_since.load(Ordering::Relaxed), NEVER);
        assert!(!a.expired(&l));
        a.read();
        assert_eq!(a.headers_since.load(Ordering::Relaxed), NEVER, "body bytes");
        drop(g);
        assert_eq!(a.in_flight.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn limits_from_flags_and_config() {
        let cli = <Cli as clap::Parser>::parse_from(["llmgate", "--keepalive_timeout", "7"]);
        let mut cfg = Config::default();
        cfg.general_settings
            .extra
            .insert("max_request_size_mb".into(), serde_json::json!(2));
        let l = Limits::new(&cli, &cfg, 4096);
        assert_eq!(l.keep_alive, Duration::from_secs(7));
        assert_eq!(l.max_body, 2 << 20);
        assert_eq!(l.max_connections, (4096 - FD_RESERVE as usize) / 2);
    }
}
