//! Credentials never travel back in an error: the deployment's key or token, whole or in part,
//! masked out of relayed messages and bodies.

use serde_json::Value;

/// What a masked credential reads as.
pub const REDACTED: &str = "[REDACTED]";
/// A run this long that also occurs in a secret counts as (part of) the secret: catches the
/// whole value and the prefixes/suffixes upstreams show (`sk-proj-ab****wxyz`).
const MIN_SECRET_MATCH: usize = 8;

/// `text` with every occurrence of a secret, or of any run of at least [`MIN_SECRET_MATCH`]
/// bytes of one, replaced by [`REDACTED`] (the whole key-like token around it: the `****` and
/// the visible tail of an abbreviated key go too); `None` when nothing matched. Secrets shorter
/// than the run are masked only whole; shorter than 4 bytes, not at all (they would mask words).
pub fn mask_secrets(text: &str, secrets: &[String]) -> Option<String> {
    let t = text.as_bytes();
    let mut marked = vec![false; t.len()];
    let mut any = false;
    for secret in secrets
        .iter()
        .map(String::as_bytes)
        .filter(|s| s.len() >= 4)
    {
        let w = MIN_SECRET_MATCH.min(secret.len());
        if t.len() < w {
            continue;
        }
        let windows: std::collections::HashSet<&[u8]> = secret.windows(w).collect();
        for i in 0..=t.len() - w {
            if windows.contains(&t[i..i + w]) {
                marked[i..i + w].iter_mut().for_each(|m| *m = true);
                any = true;
            }
        }
    }
    if !any {
        return None;
    }
    let token = |b: u8| b.is_ascii_alphanumeric() || b"-_*".contains(&b);
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < t.len() {
        if !marked[i] {
            let Some(next) = (i..t.len()).find(|&j| marked[j]) else {
                out.push_str(&text[i..]);
                break;
            };
            let mut start = next;
            while start > i && token(t[start - 1]) {
                start -= 1;
            }
            while !text.is_char_boundary(start) {
                start -= 1;
            }
            out.push_str(&text[i..start]);
            i = start;
        }
        let mut end = i;
        while end < t.len() && (marked[end] || token(t[end])) {
            end += 1;
        }
        while !text.is_char_boundary(end) {
            end += 1;
        }
        out.push_str(REDACTED);
        i = end;
    }
    Some(out)
}

pub(super) fn redact_value(v: &mut Value, secrets: &[String]) {
    match v {
        Value::String(s) => {
            if let Some(m) = mask_secrets(s, secrets) {
                *s = m;
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|v| redact_value(v, secrets)),
        Value::Object(o) => o.values_mut().for_each(|v| redact_value(v, secrets)),
        _ => {}
    }
}
