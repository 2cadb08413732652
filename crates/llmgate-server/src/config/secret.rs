//! A credential read from the config (API keys, the master key, database URLs).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Deserializer};

/// A string that must never reach logs: `Debug` and `Display` print `***`, so a config or a
/// deployment can be logged whole. Read it with [`Secret::expose`] where it is actually sent.
#[derive(Clone, PartialEq, Eq, Default)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(value.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("***")
    }
}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret(value.to_string())
    }
}

/// Plain string; `os.environ/` references are resolved by the config fields that hold a
/// `Secret` (see `env::opt_secret`), not here, so a literal value stays literal.
impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Secret, D::Error> {
        String::deserialize(d).map(Secret)
    }
}

/// Whether a free-form key likely holds a credential (`aws_secret_access_key`,
/// `vertex_credentials`, `password`, an `Authorization` header, ...).
pub fn secret_looking(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    // `*_token` is a credential (`aws_session_token`), `*_per_token` / `max_tokens` are not.
    let token = k.ends_with("token") && !k.contains("per_token");
    token
        || ["key", "secret", "password", "credential", "auth"]
            .iter()
            .any(|w| k.contains(w))
}

/// A URL as it may be shown (headers, `/model/info`, `/health`, spend logs): without userinfo
/// (`https://user:pw@host`), and with the values of secret-looking query parameters
/// (`?api_key=...`, `?sig=...`) hidden. A string that is no URL is shown up to any `@`.
pub fn display_url(raw: &str) -> String {
    let parsed = reqwest::Url::parse(raw).ok().filter(|u| u.has_host());
    let Some(mut url) = parsed else {
        return match raw.rsplit_once('@') {
            Some((_, host)) => host.to_string(),
            None => raw.to_string(),
        };
    };
    if url.password().is_some() || !url.username().is_empty() {
        let _ = url.set_username("");
        let _ = url.set_password(None);
    }
    if url.query().is_some() {
        let hidden = |k: &str| {
            secret_looking(k)
                || matches!(
                    k.to_ascii_lowercase().as_str(),
                    "sig" | "signature" | "code"
                )
        };
        let pairs: Vec<(String, String)> = url
            .query_pairs()
            .map(|(k, v)| {
                let v = if hidden(&k) {
                    "REDACTED".into()
                } else {
                    v.into_owned()
                };
                (k.into_owned(), v)
            })
            .collect();
        url.query_pairs_mut().clear().extend_pairs(pairs);
    }
    let out = url.to_string();
    // `Url` adds a trailing slash to a bare host; keep the configured form.
    if !raw.ends_with('/') && out.ends_with('/') && url.path() == "/" && url.query().is_none() {
        out.trim_end_matches('/').to_string()
    } else {
        out
    }
}

fn redact(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = if secret_looking(k) && !v.is_null() {
                        Value::String("***".into())
                    } else {
                        redact(v)
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.iter().map(redact).collect()),
        other => other.clone(),
    }
}

/// `Debug` for free-form config maps: values under secret-looking keys print as `***`, at
/// any depth, so logging a config never prints provider credentials.
pub(crate) struct Redacted<'a>(pub(crate) &'a serde_json::Map<String, serde_json::Value>);

impl fmt::Debug for Redacted<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&redact(&serde_json::Value::Object(self.0.clone())), f)
    }
}

/// `Debug` for header maps: `Authorization`, `api-key` and the like print as `***`.
pub(crate) struct RedactedHeaders<'a>(pub(crate) &'a BTreeMap<String, String>);

impl fmt::Debug for RedactedHeaders<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_map()
            .entries(self.0.iter().map(|(k, v)| {
                let v = if secret_looking(k) { "***" } else { v.as_str() };
                (k, v)
            }))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::display_url;

    #[test]
    fn urls_are_shown_without_credentials() {
        assert_eq!(
            display_url("https://user:pw@host.example/v1"),
            "https://host.example/v1"
        );
        assert_eq!(
            display_url("https://host.example/v1?api-version=2024-10-21&api_key=sk-secret"),
            "https://host.example/v1?api-version=2024-10-21&api_key=REDACTED"
        );
        assert_eq!(display_url("https://host.example"), "https://host.example");
        assert_eq!(
            display_url("http://127.0.0.1:8000/v1"),
            "http://127.0.0.1:8000/v1"
        );
        assert_eq!(display_url("user:pw@host"), "host");
        assert_eq!(display_url(""), "");
    }
}
