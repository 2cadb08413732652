//! `os.environ/NAME` resolution, and the field readers that apply it while deserializing.
//!
//! LiteLLM replaces any string value starting with `os.environ/` by the variable's value, or
//! `None` when it is unset. Typed fields resolve here, inside the YAML deserializer, so that a
//! bad value (`rpm: os.environ/RPM` with `RPM=abc`) is reported with its field and line. The
//! free-form `extra` maps are resolved after parsing by [`resolve_json`].
//!
//! Numbers and booleans are also accepted as strings (`timeout: "30"`), as Python would.

use std::collections::BTreeMap;
use std::fmt;

use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;

use super::Secret;

const PREFIX: &str = "os.environ/";

/// A scalar from the config, after `os.environ/` lookup.
pub(crate) enum Scalar {
    Null,
    Bool(bool),
    Int(i128),
    Float(f64),
    Str(String),
    /// `os.environ/NAME` with NAME unset: LiteLLM's `None`.
    Unset(String),
}

impl Scalar {
    /// Like serde's "invalid type" wording, so our messages read like the parser's.
    fn describe(&self) -> String {
        match self {
            Scalar::Null => "null".into(),
            Scalar::Bool(b) => format!("boolean `{b}`"),
            Scalar::Int(i) => format!("integer `{i}`"),
            Scalar::Float(f) => format!("floating point `{f}`"),
            Scalar::Str(s) => format!("string {s:?}"),
            Scalar::Unset(name) => format!("unset environment variable `{name}`"),
        }
    }
}

/// Looks up `os.environ/NAME`; any other string is returned as is.
pub(crate) fn resolve_str(s: &str) -> Result<Scalar, String> {
    let Some(name) = s.strip_prefix(PREFIX) else {
        return Ok(Scalar::Str(s.to_string()));
    };
    match std::env::var(name) {
        Ok(v) => Ok(Scalar::Str(v)),
        Err(std::env::VarError::NotPresent) => Ok(Scalar::Unset(name.to_string())),
        Err(std::env::VarError::NotUnicode(_)) => {
            Err(format!("environment variable `{name}` is not valid UTF-8"))
        }
    }
}

/// Visits one scalar and converts it inside the deserializer: errors raised here get the
/// value's own line and column from serde_norway (raised later, they would get the
/// enclosing mapping's).
struct ScalarVisitor<F> {
    expecting: &'static str,
    convert: F,
}

impl<F> ScalarVisitor<F> {
    fn finish<T, E: de::Error>(self, s: Scalar) -> Result<T, E>
    where
        F: FnOnce(Scalar) -> Result<T, String>,
    {
        (self.convert)(s).map_err(E::custom)
    }
}

impl<'de, T, F: FnOnce(Scalar) -> Result<T, String>> Visitor<'de> for ScalarVisitor<F> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expecting)
    }
    fn visit_bool<E: de::Error>(self, v: bool) -> Result<T, E> {
        self.finish(Scalar::Bool(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<T, E> {
        self.finish(Scalar::Int(v.into()))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<T, E> {
        self.finish(Scalar::Int(v.into()))
    }
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<T, E> {
        self.finish(Scalar::Int(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<T, E> {
        self.finish(Scalar::Float(v))
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<T, E> {
        let s = resolve_str(v).map_err(E::custom)?;
        self.finish(s)
    }
    fn visit_unit<E: de::Error>(self) -> Result<T, E> {
        self.finish(Scalar::Null)
    }
    fn visit_none<E: de::Error>(self) -> Result<T, E> {
        self.finish(Scalar::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<T, D::Error> {
        d.deserialize_any(self)
    }
}

fn scalar<'de, D, T>(
    d: D,
    expecting: &'static str,
    convert: impl FnOnce(Scalar) -> Result<T, String>,
) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
{
    d.deserialize_any(ScalarVisitor { expecting, convert })
}

fn invalid(s: &Scalar, expected: &str) -> String {
    format!("invalid type: {}, expected {expected}", s.describe())
}

fn unset_required(name: &str) -> String {
    format!(
        "environment variable `{name}` is not set (os.environ/{name}), and this field is required"
    )
}

/// A string; numbers are taken as their text (`api_version: 2024.10`).
fn text(s: Scalar) -> Result<Option<String>, String> {
    match s {
        Scalar::Null | Scalar::Unset(_) => Ok(None),
        Scalar::Str(v) => Ok(Some(v)),
        Scalar::Int(i) => Ok(Some(i.to_string())),
        Scalar::Float(f) => Ok(Some(f.to_string())),
        Scalar::Bool(_) => Err(invalid(&s, "a string")),
    }
}

fn number(s: Scalar) -> Result<Option<f64>, String> {
    let v = match s {
        Scalar::Null | Scalar::Unset(_) => return Ok(None),
        Scalar::Int(i) => i as f64,
        Scalar::Float(f) => f,
        Scalar::Str(ref v) => v
            .trim()
            .parse::<f64>()
            .map_err(|_| format!("invalid value: {}, expected a number", s.describe()))?,
        Scalar::Bool(_) => return Err(invalid(&s, "a number")),
    };
    if !v.is_finite() {
        return Err(format!("invalid value: `{v}`, expected a finite number"));
    }
    Ok(Some(v))
}

/// Integers; `30.0` and `"30"` are accepted as pydantic's lax mode does.
fn integer<T: TryFrom<i128>>(s: Scalar) -> Result<Option<T>, String> {
    let expected = match max_of::<T>() {
        max if max == u64::MAX as i128 => "a non-negative integer".to_string(),
        max => format!("an integer between 0 and {max}"),
    };
    let v: i128 = match s {
        Scalar::Null | Scalar::Unset(_) => return Ok(None),
        Scalar::Int(i) => i,
        Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 1e30 => f as i128,
        Scalar::Str(ref v) => match v.trim().parse::<i128>() {
            Ok(i) => i,
            Err(_) => {
                return Err(format!(
                    "invalid value: {}, expected {expected}",
                    s.describe()
                ))
            }
        },
        _ => return Err(invalid(&s, &expected)),
    };
    T::try_from(v)
        .map(Some)
        .map_err(|_| format!("invalid value: integer `{v}`, expected {expected}"))
}

fn max_of<T: TryFrom<i128>>() -> i128 {
    // u32 or u64: the largest that converts.
    if T::try_from(u64::MAX as i128).is_ok() {
        u64::MAX as i128
    } else {
        u32::MAX as i128
    }
}

/// Booleans; strings as PyYAML (`yes`/`on`) or LiteLLM's `str_to_bool` would read them.
fn boolean(s: Scalar) -> Result<Option<bool>, String> {
    match s {
        Scalar::Null | Scalar::Unset(_) => Ok(None),
        Scalar::Bool(b) => Ok(Some(b)),
        Scalar::Int(0) => Ok(Some(false)),
        Scalar::Int(1) => Ok(Some(true)),
        Scalar::Str(ref v) => match v.trim().to_ascii_lowercase().as_str() {
            "true" | "yes" | "on" | "1" => Ok(Some(true)),
            "false" | "no" | "off" | "0" | "" => Ok(Some(false)),
            _ => Err(format!(
                "invalid value: {}, expected true or false",
                s.describe()
            )),
        },
        _ => Err(invalid(&s, "true or false")),
    }
}

fn required(s: Scalar) -> Result<String, String> {
    if let Scalar::Unset(name) = &s {
        return Err(unset_required(name));
    }
    match text(s)? {
        Some(v) if !v.trim().is_empty() => Ok(v),
        _ => Err("must not be empty".into()),
    }
}

// ---- `deserialize_with` readers for the config structs ----

/// A section or list written as `key:` with nothing after it (null) reads as its default.
pub(crate) fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

pub(crate) fn required_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    scalar(d, "a string", required)
}

/// `litellm_params.model`: `provider/name` or a bare name. Providers are the SDK's business;
/// here we only reject what can never route (empty parts, whitespace).
pub(crate) fn model<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    scalar(d, "a model string like `openai/gpt-4o`", |s| {
        let m = required(s)?;
        if m.chars().any(char::is_whitespace) {
            return Err(format!("invalid model {m:?}: must not contain whitespace"));
        }
        if m.starts_with('/') || m.ends_with('/') {
            return Err(format!(
                "invalid model {m:?}: expected `provider/model-name` or a bare model name"
            ));
        }
        Ok(m)
    })
}

pub(crate) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    scalar(d, "a string", text)
}

pub(crate) fn opt_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    scalar(d, "a string", |s| text(s).map(|v| v.map(Secret::new)))
}

/// A secret whose presence matters even when it resolves to nothing (`master_key`): an unset
/// `os.environ/NAME` is kept as an empty secret, so start-up can refuse it instead of quietly
/// running with auth off.
pub(crate) fn named_secret<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Secret>, D::Error> {
    scalar(d, "a string", |s| match s {
        Scalar::Unset(_) => Ok(Some(Secret::new(String::new()))),
        s => text(s).map(|v| v.map(Secret::new)),
    })
}

/// Timeouts: seconds, > 0 (0 would fail every call at once).
pub(crate) fn opt_seconds<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    scalar(d, "a number of seconds", |s| match number(s)? {
        Some(v) if v <= 0.0 => Err(format!("must be greater than 0, got {v}")),
        v => Ok(v),
    })
}

/// Prices and durations where 0 means "free" / "off".
pub(crate) fn opt_non_negative<'de, D: Deserializer<'de>>(d: D) -> Result<Option<f64>, D::Error> {
    scalar(d, "a number", |s| match number(s)? {
        Some(v) if v < 0.0 => Err(format!("must not be negative, got {v}")),
        v => Ok(v),
    })
}

pub(crate) fn opt_u32<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u32>, D::Error> {
    scalar(d, "a non-negative integer", integer::<u32>)
}

pub(crate) fn opt_u64<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    scalar(d, "a non-negative integer", integer::<u64>)
}

pub(crate) fn opt_bool<'de, D: Deserializer<'de>>(d: D) -> Result<Option<bool>, D::Error> {
    scalar(d, "true or false", boolean)
}

pub(crate) fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    scalar(d, "true or false", |s| {
        boolean(s).map(Option::unwrap_or_default)
    })
}

/// One string value of a map such as `extra_headers`; `None` when its variable is unset.
struct OptString(Option<String>);

impl<'de> Deserialize<'de> for OptString {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<OptString, D::Error> {
        opt_string(d).map(OptString)
    }
}

/// `extra_headers`-style maps; an entry whose variable is unset is dropped (sending a header
/// with no value would be worse).
pub(crate) fn string_map<'de, D: Deserializer<'de>>(
    d: D,
) -> Result<BTreeMap<String, String>, D::Error> {
    let raw: Option<BTreeMap<String, OptString>> = Option::deserialize(d)?;
    Ok(raw
        .unwrap_or_default()
        .into_iter()
        .filter_map(|(k, v)| v.0.map(|v| (k, v)))
        .collect())
}

/// A value under `environment_variables:`, as the text LiteLLM's `str(value)` would give.
/// `None` when it refers to an unset variable (LiteLLM then leaves the name unset) or is null.
pub(crate) struct EnvValue(pub(crate) Option<String>);

impl<'de> Deserialize<'de> for EnvValue {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<EnvValue, D::Error> {
        scalar(d, "a string, number or boolean", |s| {
            Ok(EnvValue(match s {
                Scalar::Null | Scalar::Unset(_) => None,
                Scalar::Str(v) => Some(v),
                // Python's spelling, which is what LiteLLM puts in the environment.
                Scalar::Bool(true) => Some("True".into()),
                Scalar::Bool(false) => Some("False".into()),
                Scalar::Int(i) => Some(i.to_string()),
                Scalar::Float(f) if f.fract() == 0.0 && f.abs() < 1e16 => Some(format!("{f:.1}")),
                Scalar::Float(f) => Some(f.to_string()),
            }))
        })
    }
}

/// Resolves `os.environ/` strings anywhere in a free-form value, as LiteLLM's
/// `get_secret`: unset -> null, and "true"/"false" become booleans.
pub(crate) fn resolve_json(v: &mut serde_json::Value) {
    use serde_json::Value;
    match v {
        Value::String(s) if s.starts_with(PREFIX) => {
            *v = match resolve_str(s) {
                Ok(Scalar::Str(x)) => match x.trim().to_ascii_lowercase().as_str() {
                    "true" => Value::Bool(true),
                    "false" => Value::Bool(false),
                    _ => Value::String(x),
                },
                _ => Value::Null,
            };
        }
        Value::Array(items) => items.iter_mut().for_each(resolve_json),
        Value::Object(map) => map.values_mut().for_each(resolve_json),
        _ => {}
    }
}

/// Warns once per `os.environ/` reference whose variable is unset (LiteLLM silently uses
/// `None`, which is a common cause of "why is my key empty").
pub(crate) fn warn_unset(file: &str, v: &serde_norway::Value, path: &str) {
    use serde_norway::Value;
    match v {
        Value::String(s) => {
            if let Ok(Scalar::Unset(name)) = resolve_str(s) {
                tracing::warn!(
                    "{file}: {path}: environment variable `{name}` (os.environ/{name}) is not set; the field is treated as not set"
                );
            }
        }
        Value::Sequence(items) => {
            for (i, item) in items.iter().enumerate() {
                warn_unset(file, item, &format!("{path}[{i}]"));
            }
        }
        Value::Mapping(map) => {
            for (k, item) in map {
                let key = match k {
                    Value::String(s) => s.clone(),
                    other => serde_norway::to_string(other)
                        .unwrap_or_default()
                        .trim()
                        .to_string(),
                };
                let child = if path.is_empty() {
                    key
                } else {
                    format!("{path}.{key}")
                };
                warn_unset(file, item, &child);
            }
        }
        Value::Tagged(t) => warn_unset(file, &t.value, path),
        _ => {}
    }
}
