//! Fetching a client-chosen URL (media that Gemini and Vertex need inlined) without letting the
//! client reach what only the gateway can: internal hosts, link-local and metadata services.
//!
//! By default only `https` URLs whose host resolves to public addresses are fetched. The name
//! is resolved here and the connection pinned to the vetted addresses (no second lookup, so DNS
//! rebinding cannot swap in another address); redirects are followed by hand, each hop vetted
//! again; the body is read with the size cap enforced as it arrives; the whole fetch is bounded
//! in time; errors tell the client nothing about the network (one generic text).
//!
//! Operators who serve media from their own network list trusted sources in the deployment's
//! `litellm_params.media_url_allowlist` (a list, or a comma-separated string) or the env var
//! `LLMGATE_MEDIA_URL_ALLOWLIST`: host names (`files.internal`, `localhost`), addresses
//! (`127.0.0.1`) or CIDRs (`10.1.0.0/16`). A URL whose host name is listed, or whose addresses
//! all are, may use `http` and private addresses. Metadata addresses are never fetched.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use reqwest::Url;
use serde_json::Value;

use crate::{CallOptions, LlmError};

/// Larger media is refused (as LiteLLM), checked while reading, not after.
pub const MAX_BYTES: usize = 20 * 1024 * 1024;
/// The whole fetch (lookups, redirects, body), unless the call's own timeout is shorter.
pub const TIMEOUT: Duration = Duration::from_secs(10);
const MAX_REDIRECTS: usize = 5;
pub const ALLOWLIST_PARAM: &str = "media_url_allowlist";
pub const ALLOWLIST_ENV: &str = "LLMGATE_MEDIA_URL_ALLOWLIST";
/// Cloud instance-metadata services (AWS, GCP, Azure, OpenStack; AWS's IPv6 one): never
/// fetched, even from an allow-listed source.
const METADATA: [IpAddr; 2] = [
    IpAddr::V4(Ipv4Addr::new(169, 254, 169, 254)),
    IpAddr::V6(Ipv6Addr::new(0xfd00, 0xec2, 0, 0, 0, 0, 0, 0x254)),
];

/// What the client is told, whatever went wrong: which addresses exist, refused or unreachable
/// must not be learnable through the gateway.
const GENERIC: &str = "could not fetch the media URL (only https URLs of public hosts are \
                       fetched; send the content as a data URL instead)";

/// The body and its declared content type.
#[derive(Debug)]
pub struct Fetched {
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// Why a fetch failed; the detail is for the log only ([`FetchError::into_llm`]).
#[derive(Debug)]
pub enum FetchError {
    /// Refused before any connection (scheme, address, malformed URL).
    Refused(String),
    /// Connected (or tried to) and failed.
    Failed(String),
    TooLarge,
}

impl FetchError {
    /// The client's error: generic text, the detail logged.
    pub fn into_llm(self) -> LlmError {
        tracing::debug!(error = ?self, "media fetch failed");
        match self {
            FetchError::TooLarge => LlmError::bad_request(format!(
                "the media URL's content is larger than {} MB",
                MAX_BYTES / (1024 * 1024)
            )),
            _ => LlmError::bad_request(GENERIC),
        }
    }
}

/// The sources an operator trusts with `http` and private addresses.
#[derive(Debug, Default, Clone)]
pub struct Allowlist {
    hosts: Vec<String>,
    nets: Vec<(IpAddr, u8)>,
}

impl Allowlist {
    /// The deployment's `media_url_allowlist` and `LLMGATE_MEDIA_URL_ALLOWLIST`, together.
    pub fn from_opts(opts: &CallOptions) -> Allowlist {
        let mut entries: Vec<String> = match opts.extra.get(ALLOWLIST_PARAM) {
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_string)
                .collect(),
            Some(Value::String(s)) => s.split(',').map(str::to_string).collect(),
            _ => Vec::new(),
        };
        if let Ok(s) = std::env::var(ALLOWLIST_ENV) {
            entries.extend(s.split(',').map(str::to_string));
        }
        Allowlist::parse(entries.iter().map(String::as_str))
    }

    /// Entries are host names, addresses or CIDRs; blank ones are skipped, malformed CIDRs
    /// dropped (they trust nothing).
    pub fn parse<'a>(entries: impl IntoIterator<Item = &'a str>) -> Allowlist {
        let mut out = Allowlist::default();
        for e in entries.into_iter().map(str::trim).filter(|e| !e.is_empty()) {
            let (addr, prefix) = match e.split_once('/') {
                Some((a, p)) => (a, p.parse::<u8>().ok()),
                None => (e, None),
            };
            let addr = addr.trim_start_matches('[').trim_end_matches(']');
            match addr.parse::<IpAddr>() {
                Ok(ip) => {
                    let ip = ip.to_canonical();
                    let max = if ip.is_ipv4() { 32 } else { 128 };
                    match prefix {
                        Some(p) if p <= max => out.nets.push((ip, p)),
                        Some(_) => {}
                        None if e.contains('/') => {}
                        None => out.nets.push((ip, max)),
                    }
                }
                Err(_) if !e.contains('/') => {
                    out.hosts.push(e.trim_end_matches('.').to_ascii_lowercase())
                }
                Err(_) => {}
            }
        }
        out
    }

    fn trusts_host(&self, host: &str) -> bool {
        let host = host.trim_end_matches('.');
        self.hosts.iter().any(|h| h.eq_ignore_ascii_case(host))
    }

    fn trusts_ip(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.nets
            .iter()
            .any(|&(net, prefix)| in_net(ip, net, prefix))
    }
}

fn in_net(ip: IpAddr, net: IpAddr, prefix: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = u32::MAX.checked_shl(32 - u32::from(prefix)).unwrap_or(0);
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = u128::MAX.checked_shl(128 - u32::from(prefix)).unwrap_or(0);
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Whether `ip` is a globally routable unicast address. Refused: private, loopback,
/// link-local (metadata included), CGNAT, multicast, broadcast, unspecified, documentation and
/// benchmark ranges, IPv6 ULA, link- and site-local, and IPv6 forms that embed an IPv4
/// address (mapped, compatible, NAT64, 6to4) unless that IPv4 address is public.
pub fn is_public(ip: IpAddr) -> bool {
    match ip.to_canonical() {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    let refused = a == 0 // "this network", 0.0.0.0
        || a == 10
        || a == 127
        || (a == 100 && (64..128).contains(&b)) // CGNAT
        || (a == 169 && b == 254) // link-local, metadata
        || (a == 172 && (16..32).contains(&b))
        || (a == 192 && b == 168)
        || (a == 192 && b == 0 && (c == 0 || c == 2)) // IETF assignments, TEST-NET-1
        || (a == 198 && (b == 18 || b == 19)) // benchmarking
        || (a == 198 && b == 51 && c == 100) // TEST-NET-2
        || (a == 203 && b == 0 && c == 113) // TEST-NET-3
        || a >= 224; // multicast, reserved, broadcast
    !refused
}

fn public_v6(ip: Ipv6Addr) -> bool {
    let s = ip.segments();
    let v4 = |hi: u16, lo: u16| Ipv4Addr::from((u32::from(hi) << 16) | u32::from(lo));
    // NAT64 (64:ff9b::/96) reaches the IPv4 address it embeds; 6to4 (2002::/16) likewise.
    if s[..6] == [0x64, 0xff9b, 0, 0, 0, 0] {
        return public_v4(v4(s[6], s[7]));
    }
    if s[0] == 0x2002 {
        return public_v4(v4(s[1], s[2]));
    }
    // Global unicast is 2000::/3 only: this refuses ::/8 (unspecified, loopback, mapped and
    // compatible forms), ULA fc00::/7, link-local fe80::/10, site-local fec0::/10, multicast.
    let global = (s[0] & 0xe000) == 0x2000;
    // 2001:db8::/32 documentation; 2001::/23 Teredo, benchmarking, ORCHID, IETF protocols.
    let special = s[0] == 0x2001 && (s[1] == 0x0db8 || s[1] < 0x0200);
    global && !special
}

fn is_metadata(ip: IpAddr) -> bool {
    METADATA.contains(&ip.to_canonical())
}

/// GETs `url` under the rules above; `limit` bounds the whole fetch.
pub async fn fetch(url: &str, allow: &Allowlist, limit: Duration) -> Result<Fetched, FetchError> {
    tokio::time::timeout(limit, fetch_within(url, allow))
        .await
        .map_err(|_| FetchError::Failed("timed out".into()))?
}

async fn fetch_within(url: &str, allow: &Allowlist) -> Result<Fetched, FetchError> {
    let mut url = Url::parse(url).map_err(|e| FetchError::Refused(e.to_string()))?;
    for _ in 0..=MAX_REDIRECTS {
        let addrs = vet(&url, allow).await?;
        let res = pinned_client(&url, &addrs)?
            .get(url.clone())
            .send()
            .await
            .map_err(|e| FetchError::Failed(e.to_string()))?;
        if res.status().is_redirection() {
            let next = res
                .headers()
                .get(reqwest::header::LOCATION)
                .and_then(|l| l.to_str().ok())
                .and_then(|l| url.join(l).ok())
                .ok_or_else(|| FetchError::Failed("redirect without a usable Location".into()))?;
            url = next;
            continue;
        }
        return read_capped(res).await;
    }
    Err(FetchError::Failed("too many redirects".into()))
}

/// The addresses `url` may be fetched from, or why not. Runs before any connection.
async fn vet(url: &Url, allow: &Allowlist) -> Result<Vec<SocketAddr>, FetchError> {
    let refuse = |why: &str| Err(FetchError::Refused(why.to_string()));
    let http = match url.scheme() {
        "https" => false,
        "http" => true,
        _ => return refuse("scheme"),
    };
    if !url.username().is_empty() || url.password().is_some() {
        return refuse("credentials in the URL");
    }
    let Some(port) = url.port_or_known_default() else {
        return refuse("no port");
    };
    let (name_trusted, addrs): (bool, Vec<SocketAddr>) = match host(url) {
        Some(Host::Ip(ip)) => (false, vec![SocketAddr::new(ip, port)]),
        Some(Host::Name(d)) => {
            let trusted = allow.trusts_host(d);
            // Without a trusted name or a trusted network, plain http is refused before a lookup.
            if http && !trusted && allow.nets.is_empty() {
                return refuse("http");
            }
            let found = tokio::net::lookup_host((d, port))
                .await
                .map_err(|e| FetchError::Refused(format!("lookup: {e}")))?;
            (trusted, found.collect())
        }
        None => return refuse("no host"),
    };
    if addrs.is_empty() {
        return refuse("no address");
    }
    let trusted = name_trusted || addrs.iter().all(|a| allow.trusts_ip(a.ip()));
    if http && !trusted {
        return refuse("http");
    }
    for a in &addrs {
        if is_metadata(a.ip()) || (!trusted && !is_public(a.ip())) {
            return refuse("address");
        }
    }
    Ok(addrs)
}

enum Host<'a> {
    Ip(IpAddr),
    Name(&'a str),
}

/// The URL's host; the URL parser has already normalised IPv4 spellings (`0x7f.1`, `2130706433`).
fn host(url: &Url) -> Option<Host<'_>> {
    let h = url.host_str()?;
    let bare = h.trim_start_matches('[').trim_end_matches(']');
    Some(match bare.parse::<IpAddr>() {
        Ok(ip) => Host::Ip(ip),
        Err(_) => Host::Name(h),
    })
}

/// A client that connects to `addrs` only: its resolver answers nothing, the URL's name is
/// pinned to the vetted addresses; no proxy, no automatic redirects.
fn pinned_client(url: &Url, addrs: &[SocketAddr]) -> Result<reqwest::Client, FetchError> {
    let mut b = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .no_proxy()
        .dns_resolver(Arc::new(NoLookups))
        .connect_timeout(TIMEOUT)
        .user_agent(concat!("llmgate/", env!("CARGO_PKG_VERSION")));
    if let Some(Host::Name(d)) = host(url) {
        b = b.resolve_to_addrs(d, addrs);
    }
    b.build().map_err(|e| FetchError::Failed(e.to_string()))
}

/// Every name a pinned client may reach is overridden; any other lookup is a bug, refused.
struct NoLookups;

impl reqwest::dns::Resolve for NoLookups {
    fn resolve(&self, _: reqwest::dns::Name) -> reqwest::dns::Resolving {
        Box::pin(async { Err("lookups are pinned".into()) })
    }
}

/// The body of a 2xx answer, refused as soon as it passes [`MAX_BYTES`] (a declared length
/// over it is refused before reading).
async fn read_capped(mut res: reqwest::Response) -> Result<Fetched, FetchError> {
    if !res.status().is_success() {
        return Err(FetchError::Failed(format!("status {}", res.status())));
    }
    if res.content_length().is_some_and(|n| n > MAX_BYTES as u64) {
        return Err(FetchError::TooLarge);
    }
    let content_type = res
        .headers()
        .get(reqwest::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut bytes = Vec::new();
    while let Some(chunk) = res
        .chunk()
        .await
        .map_err(|e| FetchError::Failed(e.to_string()))?
    {
        if bytes.len() + chunk.len() > MAX_BYTES {
            return Err(FetchError::TooLarge);
        }
        bytes.extend_from_slice(&chunk);
    }
    Ok(Fetched {
        content_type,
        bytes,
    })
}

/// `Text/HTML; charset=utf-8` → `text/html`.
pub fn bare(content_type: &str) -> String {
    content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// The MIME type a path's extension names (query and fragment ignored).
pub fn mime_from_extension(path: &str) -> Option<&'static str> {
    let path = path.split(['?', '#']).next().unwrap_or(path);
    let file = path.rsplit('/').next().unwrap_or(path);
    let (_, ext) = file.rsplit_once('.')?;
    Some(match ext.to_ascii_lowercase().as_str() {
        "png" => "image/png",
        "jpg" | "jpeg" => "image/jpeg",
        "gif" => "image/gif",
        "webp" => "image/webp",
        "heic" => "image/heic",
        "heif" => "image/heif",
        "pdf" => "application/pdf",
        "txt" => "text/plain",
        "html" | "htm" => "text/html",
        "css" => "text/css",
        "csv" => "text/csv",
        "md" => "text/markdown",
        "xml" => "text/xml",
        "rtf" => "text/rtf",
        "js" => "text/javascript",
        "py" => "text/x-python",
        "json" => "application/json",
        "mp3" => "audio/mp3",
        "wav" => "audio/wav",
        "aac" => "audio/aac",
        "ogg" => "audio/ogg",
        "flac" => "audio/flac",
        "aiff" => "audio/aiff",
        "mp4" => "video/mp4",
        "mpeg" | "mpg" => "video/mpeg",
        "mov" => "video/mov",
        "avi" => "video/avi",
        "flv" => "video/x-flv",
        "webm" => "video/webm",
        "wmv" => "video/wmv",
        "3gp" | "3gpp" => "video/3gpp",
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn only_global_unicast_addresses_are_public() {
        for s in [
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "127.0.0.1",
            "127.255.255.254",
            "100.64.0.1",
            "100.100.100.200",
            "169.254.169.254",
            "169.254.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "192.0.0.8",
            "192.0.2.1",
            "198.18.0.1",
            "198.51.100.1",
            "203.0.113.1",
            "224.0.0.1",
            "239.255.255.250",
            "240.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "::ffff:127.0.0.1",
            "::ffff:10.0.0.1",
            "::ffff:169.254.169.254",
            "::127.0.0.1",
            "64:ff9b::a00:1",
            "64:ff9b:1::1",
            "2002:a00:1::1",
            "2002:7f00:1::1",
            "fc00::1",
            "fd00:ec2::254",
            "fe80::1",
            "fec0::1",
            "ff02::1",
            "2001:db8::1",
            "2001::1",
            "100::1",
        ] {
            assert!(!is_public(ip(s)), "{s} must be refused");
        }
        for s in [
            "8.8.8.8",
            "1.1.1.1",
            "172.32.0.1",
            "100.128.0.1",
            "192.169.0.1",
            "::ffff:8.8.8.8",
            "64:ff9b::808:808",
            "2002:808:808::1",
            "2607:f8b0:4005:80a::200e",
            "2a00:1450:4001::1",
        ] {
            assert!(is_public(ip(s)), "{s} is public");
        }
        assert!(is_metadata(ip("169.254.169.254")));
        assert!(is_metadata(ip("::ffff:169.254.169.254")));
        assert!(is_metadata(ip("fd00:ec2::254")));
    }

    #[test]
    fn allowlist_entries() {
        let a = Allowlist::parse([
            "127.0.0.1",
            " files.internal. ",
            "10.1.0.0/16",
            "::1",
            "x/99",
            "",
        ]);
        assert!(a.trusts_ip(ip("127.0.0.1")));
        assert!(a.trusts_ip(ip("::ffff:127.0.0.1")));
        assert!(!a.trusts_ip(ip("127.0.0.2")));
        assert!(a.trusts_ip(ip("10.1.200.3")));
        assert!(!a.trusts_ip(ip("10.2.0.1")));
        assert!(a.trusts_ip(ip("::1")));
        assert!(a.trusts_host("FILES.internal"));
        assert!(!a.trusts_host("x"));
        let all = Allowlist::parse(["0.0.0.0/0"]);
        assert!(all.trusts_ip(ip("192.168.0.1")));
        assert!(!all.trusts_ip(ip("::1")));
    }

    async fn vetted(url: &str, allow: &Allowlist) -> Result<Vec<SocketAddr>, FetchError> {
        vet(&Url::parse(url).unwrap(), allow).await
    }

    #[tokio::test]
    async fn vetting_refuses_before_connecting() {
        let none = Allowlist::default();
        for url in [
            "http://127.0.0.1:9/x.png",
            "https://127.0.0.1:9/x.png",
            "https://10.0.0.1/x.png",
            "https://169.254.169.254/latest/meta-data/",
            "https://[fd00:ec2::254]/",
            "https://[::ffff:10.0.0.1]/",
            "https://0x7f.1/",
            "https://2130706433/",
            "https://127.0.0.1./",
            "https://0/",
            "https://[::]/",
            "https://localhost/x.png",
            "http://localhost/x.png",
            "http://example.com/x.png",
            "ftp://example.com/x.png",
            "file:///etc/passwd",
            "https://user:pw@example.com/",
        ] {
            assert!(
                matches!(vetted(url, &none).await, Err(FetchError::Refused(_))),
                "{url}"
            );
        }
        let local = Allowlist::parse(["127.0.0.1"]);
        assert!(vetted("http://127.0.0.1:9/x.png", &local).await.is_ok());
        assert!(vetted("http://10.0.0.1/x.png", &local).await.is_err());
        // Even a trusted network never reaches the metadata service.
        let everything = Allowlist::parse(["0.0.0.0/0", "::/0"]);
        assert!(vetted("http://169.254.169.254/", &everything)
            .await
            .is_err());
        assert!(vetted("http://[fd00:ec2::254]/", &everything)
            .await
            .is_err());
        let by_name = Allowlist::parse(["localhost"]);
        assert!(vetted("http://localhost:9/x", &by_name).await.is_ok());
    }
}
