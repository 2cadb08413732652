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
