//! The upstream connections the SDK's HTTP client holds open, for a gateway's gauge.
//!
//! A connector layer on the [`Client`](crate::Client)'s reqwest client sees every new
//! connection (TCP, then TLS) and notes its address pair; reqwest's connection type cannot be
//! wrapped, so its close is not seen there. [`Connections::open`] finds which noted pairs still
//! have a socket: on Linux from the process's socket table (`/proc/self/net/tcp`, `tcp6`),
//! forgetting the ones gone; elsewhere it answers None and only the count of connections made
//! ([`Connections::opened`]) is known. Nothing here depends on a metrics library: the gateway
//! reads the numbers when it is scraped.

use std::collections::HashSet;
use std::future::Future;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, OnceLock};
use std::task::{Context, Poll};

use hyper_util::client::legacy::connect::{Connection, HttpInfo};

/// At most this many open connections are remembered (a bound on memory if they are never
/// found closed); beyond, new ones are counted as made but not followed.
const MAX_TRACKED: usize = 65_536;

/// A connection: (local, remote) address.
type Pair = (SocketAddr, SocketAddr);

/// The process's upstream connections (every SDK client shares them).
#[derive(Default)]
pub struct Connections {
    opened: AtomicU64,
    live: Mutex<HashSet<Pair>>,
}

/// The process-wide record the SDK's clients write to.
pub fn upstream() -> &'static Connections {
    static C: OnceLock<Connections> = OnceLock::new();
    C.get_or_init(Connections::default)
}

impl Connections {
    /// Connections made so far (each TCP connect that succeeded, TLS included).
    pub fn opened(&self) -> u64 {
        self.opened.load(Ordering::Relaxed)
    }

    fn note(&self, pair: Option<Pair>) {
        self.opened.fetch_add(1, Ordering::Relaxed);
        if let Some(p) = pair {
            let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
            if live.len() < MAX_TRACKED {
                live.insert(canonical(p));
            }
        }
    }

    /// The connections still open now; None where the socket table cannot be read.
    pub fn open(&self) -> Option<usize> {
        let table = sockets()?;
        let mut live = self.live.lock().unwrap_or_else(|e| e.into_inner());
        live.retain(|p| table.contains(p));
        Some(live.len())
    }
}

fn canonical((l, r): Pair) -> Pair {
    let c = |a: SocketAddr| SocketAddr::new(a.ip().to_canonical(), a.port());
    (c(l), c(r))
}

/// The address pairs of the sockets a process holds (Linux: those with an inode; a socket
/// in TIME_WAIT, or closed and orphaned, has none).
fn sockets() -> Option<HashSet<Pair>> {
    if !cfg!(target_os = "linux") {
        return None;
    }
    let mut out = HashSet::new();
    let mut any = false;
    for file in ["/proc/self/net/tcp", "/proc/self/net/tcp6"] {
        let Ok(text) = std::fs::read_to_string(file) else {
            continue;
        };
        any = true;
        out.extend(text.lines().skip(1).filter_map(parse_row));
    }
    any.then_some(out)
}

/// One row of `/proc/net/tcp[6]`: `sl local rem st tx:rx tr:when retrnsmt uid timeout inode`.
fn parse_row(line: &str) -> Option<Pair> {
    let f: Vec<&str> = line.split_whitespace().collect();
    let (local, remote, state, inode) = (f.get(1)?, f.get(2)?, f.get(3)?, f.get(9)?);
    // TIME_WAIT (06) and CLOSE (07) hold no connection of ours.
    if *inode == "0" || *state == "06" || *state == "07" {
        return None;
    }
    Some(canonical((addr(local)?, addr(remote)?)))
}

/// `0100007F:1F90` (IPv4) or 32 hex digits and a port (IPv6): each 32-bit word as the kernel
/// holds it in memory, printed as a native integer.
fn addr(s: &str) -> Option<SocketAddr> {
    let (ip, port) = s.split_once(':')?;
    let port = u16::from_str_radix(port, 16).ok()?;
    let word = |i: usize| -> Option<[u8; 4]> {
        let w = u32::from_str_radix(ip.get(i * 8..i * 8 + 8)?, 16).ok()?;
        Some(w.to_ne_bytes())
    };
    let ip = match ip.len() {
        8 => IpAddr::V4(Ipv4Addr::from(word(0)?)),
        32 => {
            let mut b = [0u8; 16];
            for i in 0..4 {
                b[i * 4..i * 4 + 4].copy_from_slice(&word(i)?);
            }
            IpAddr::V6(Ipv6Addr::from(b))
        }
        _ => return None,
    };
    Some(SocketAddr::new(ip, port))
}

/// The connector layer that notes each connection made.
#[derive(Clone, Copy, Default)]
pub(crate) struct CountLayer;

impl<S> tower_layer::Layer<S> for CountLayer {
    type Service = Count<S>;
    fn layer(&self, inner: S) -> Count<S> {
        Count { inner }
    }
}

#[derive(Clone)]
pub(crate) struct Count<S> {
    inner: S,
}

impl<S> Count<S> {
    /// `inner` with each connection it makes noted (a connector outside reqwest's layers).
    pub(crate) fn new(inner: S) -> Self {
        Count { inner }
    }
}

impl<S, R> tower_service::Service<R> for Count<S>
where
    S: tower_service::Service<R>,
    S::Response: Connection + Send + 'static,
    S::Error: 'static,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: R) -> Self::Future {
        let fut = self.inner.call(req);
        Box::pin(async move {
            let conn = fut.await?;
            let mut ext = http::Extensions::new();
            conn.connected().get_extras(&mut ext);
            let pair = ext
                .get::<HttpInfo>()
                .map(|i| (i.local_addr(), i.remote_addr()));
            upstream().note(pair);
            Ok(conn)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_table_rows_parse() {
        let v4 = u32::from_ne_bytes([127, 0, 0, 1]);
        let row = format!(
            "   1: {v4:08X}:9C40 {v4:08X}:1F90 01 00000000:00000000 00:00000000 00000000  0 0 4242 1"
        );
        let p = parse_row(&row).unwrap();
        assert_eq!(p.0, "127.0.0.1:40000".parse().unwrap());
        assert_eq!(p.1, "127.0.0.1:8080".parse().unwrap());
        // TIME_WAIT, or no inode: not a connection of ours.
        assert!(parse_row(&row.replace(" 01 ", " 06 ")).is_none());
        assert!(parse_row(&row.replace(" 4242 ", " 0 ")).is_none());
        // An IPv4 peer on a dual-stack socket (`::ffff:127.0.0.1`) is the same pair.
        let w = |b: [u8; 4]| format!("{:08X}", u32::from_ne_bytes(b));
        let mapped = format!(
            "{}{}{}{}",
            w([0; 4]),
            w([0; 4]),
            w([0, 0, 255, 255]),
            w([127, 0, 0, 1])
        );
        let row6 = format!(
            "   1: {mapped}:9C40 {mapped}:1F90 01 00000000:00000000 00:00000000 00000000  0 0 4242 1"
        );
        assert_eq!(parse_row(&row6), Some(p));
        assert!(addr("zz:1").is_none() && addr("0100007F").is_none());
    }

    #[tokio::test]
    async fn a_connection_is_open_until_closed() {
        if !cfg!(target_os = "linux") {
            return;
        }
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let to = listener.local_addr().unwrap();
        let c = Connections::default();
        let s = tokio::net::TcpStream::connect(to).await.unwrap();
        let (_server_side, _) = listener.accept().await.unwrap();
        c.note(Some((s.local_addr().unwrap(), to)));
        c.note(None);
        assert_eq!((c.opened(), c.open()), (2, Some(1)));
        drop(s);
        assert_eq!(c.open(), Some(0));
    }
}
