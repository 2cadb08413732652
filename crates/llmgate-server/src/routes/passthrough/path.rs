//! Where a pass-through request goes: the client's path appended to a fixed base URL, never a
//! host or a path above the base that the client chose.
//!
//! The path is taken raw (still percent-encoded, so it reaches the provider byte for byte) and
//! each segment is checked: characters a path may hold only, and no segment that is, or decodes
//! to something holding, `.` / `..`, a backslash or a control character. The URL is then
//! parsed and must still have the base's scheme, host and port, under the base's path.

use crate::error::GatewayError;

/// `rest` (the part after the route's prefix, without a leading `/`) checked segment by segment.
pub fn checked(rest: &str) -> Result<&str, GatewayError> {
    let refuse = || {
        GatewayError::BadRequest(format!(
            "the pass-through path {rest:?} is not allowed: only plain path segments (no `.`, `..`, `\\` or control characters) are forwarded"
        ))
    };
    if rest.is_empty() {
        return Ok(rest);
    }
    let segments: Vec<&str> = rest.split('/').collect();
    let last = segments.len() - 1;
    for (i, seg) in segments.iter().enumerate() {
        // `a//b` could be read as an authority by some servers; a trailing `/` is kept.
        if seg.is_empty() {
            if i == last {
                continue;
            }
            return Err(refuse());
        }
        if !seg.bytes().all(allowed_byte) {
            return Err(refuse());
        }
        let decoded = percent_decode(seg).ok_or_else(refuse)?;
        if decoded
            .iter()
            .any(|b| *b == b'\\' || *b < 0x20 || *b == 0x7f)
        {
            return Err(refuse());
        }
        // An encoded `/` is a model id's (an ARN's) own; what it separates is checked too.
        let text = String::from_utf8_lossy(&decoded);
        if text.split('/').any(|p| p == "." || p == "..") {
            return Err(refuse());
        }
    }
    Ok(rest)
}

/// Characters RFC 3986 allows in a path segment (unreserved, sub-delims, `:`, `@`, and `%`
/// escapes).
fn allowed_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~!$&'()*+,;=:@%".contains(&b)
}

/// `%XX` escapes decoded; None for a malformed escape.
pub fn percent_decode(s: &str) -> Option<Vec<u8>> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = |c: u8| (c as char).to_digit(16);
            let hi = hex(*b.get(i + 1)?)?;
            let lo = hex(*b.get(i + 2)?)?;
            out.push((hi * 16 + lo) as u8);
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Some(out)
}

/// `base` joined with the checked `rest` and the forwarded `query`: the base's path kept (a
/// base without a path gets `rest` at the root), and the result verified to be on the base's
/// origin under its path.
pub fn join(base: &str, rest: &str, query: Option<&str>) -> Result<reqwest::Url, GatewayError> {
    let misconfigured =
        |why: &str| GatewayError::Internal(format!("the pass-through base URL {base:?} {why}"));
    let b = reqwest::Url::parse(base).map_err(|_| misconfigured("is not a URL"))?;
    if !matches!(b.scheme(), "http" | "https") || b.host_str().is_none() {
        return Err(misconfigured("is not an http(s) URL"));
    }
    let base_path = b.path().trim_end_matches('/').to_string();
    let mut url = b.clone();
    url.set_query(None);
    url.set_fragment(None);
    let full = if rest.is_empty() {
        format!("{base_path}/")
    } else {
        format!("{base_path}/{rest}")
    };
    url.set_path(&full);
    url.set_query(query.filter(|q| !q.is_empty()));
    if url.scheme() != b.scheme()
        || url.host_str() != b.host_str()
        || url.port_or_known_default() != b.port_or_known_default()
        || !url.path().starts_with(&format!("{base_path}/"))
    {
        return Err(GatewayError::BadRequest(format!(
            "the pass-through path {rest:?} leaves the provider's base URL"
        )));
    }
    Ok(url)
}

/// The raw query without the parameters named in `drop` (a client's `key=`).
pub fn query_without(query: Option<&str>, drop: &[&str]) -> Option<String> {
    let q = query?;
    let kept: Vec<&str> = q
        .split('&')
        .filter(|pair| {
            let name = pair.split('=').next().unwrap_or("");
            !pair.is_empty() && !drop.contains(&name)
        })
        .collect();
    (!kept.is_empty()).then(|| kept.join("&"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_paths_pass_and_traversal_does_not() {
        for ok in [
            "v1/messages",
            "v1beta/models/gemini-1.5-flash:generateContent",
            "model/us.anthropic.claude-3-5-sonnet-20240620-v1%3A0/converse",
            "model/arn%3Aaws%3Abedrock%3Aus-east-1%3A1%3Ainference-profile%2Fx/converse",
            "v1/models/",
            "",
        ] {
            assert!(checked(ok).is_ok(), "{ok}");
        }
        for bad in [
            "../admin",
            "v1/../../x",
            "v1/%2e%2e/x",
            "v1/%2E%2e",
            "a/%2F..%2Fb",
            "a//b",
            "a\\b",
            "a/%5c/b",
            "a/%00",
            "a/%zz",
            "a b",
            "a/./b",
        ] {
            assert!(checked(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_base_keeps_its_host_and_path() {
        let u = join("http://127.0.0.1:9/v1", "chat/completions", Some("a=1")).unwrap();
        assert_eq!(u.as_str(), "http://127.0.0.1:9/v1/chat/completions?a=1");
        let u = join("https://api.anthropic.com", "v1/messages", None).unwrap();
        assert_eq!(u.as_str(), "https://api.anthropic.com/v1/messages");
        let u = join("https://h/base/", "x:y", None).unwrap();
        assert_eq!(u.as_str(), "https://h/base/x:y");
        // A segment that looks like an authority stays a path.
        let u = join("https://h", "@evil.com/x", None).unwrap();
        assert_eq!(u.host_str(), Some("h"));
    }

    #[test]
    fn a_client_key_is_dropped_from_the_query() {
        assert_eq!(
            query_without(Some("key=sk-1&alt=sse"), &["key"]).as_deref(),
            Some("alt=sse")
        );
        assert_eq!(query_without(Some("key=sk-1"), &["key"]), None);
        assert_eq!(query_without(None, &["key"]), None);
    }
}
