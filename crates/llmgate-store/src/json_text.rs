//! A JSON value kept as its text: the spend log's `metadata` is serialised once, when the log
//! is built, and that text goes both into the journal line and into the row's column (as a
//! `Value` it was serialised for each).

use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;
use serde_json::Value;

use crate::bounds;

/// Valid JSON text (an object, for the columns that hold one).
#[derive(Clone, Debug, Serialize)]
#[serde(transparent)]
pub struct JsonText(Box<RawValue>);

/// Read through a `Value`: rows come from the database as `Value` maps, which a `RawValue`
/// cannot be read from (and reading is off the request path).
impl<'de> Deserialize<'de> for JsonText {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<JsonText, D::Error> {
        Value::deserialize(d).map(|v| JsonText::of(&v))
    }
}

impl JsonText {
    /// The text of anything serialisable; `{}` if it does not serialise.
    pub fn of<T: Serialize + ?Sized>(v: &T) -> JsonText {
        JsonText(serde_json::value::to_raw_value(v).unwrap_or_else(|_| empty()))
    }

    pub fn as_str(&self) -> &str {
        self.0.get()
    }

    pub fn to_value(&self) -> Value {
        serde_json::from_str(self.0.get()).unwrap_or(Value::Null)
    }

    /// Whether every string in it fits `max` with no NUL ([`bounds::json_fits`]). Text no
    /// longer than `max` without an escaped NUL always does, which is every log but the odd
    /// one: only those are parsed.
    pub fn fits(&self, max: usize) -> bool {
        let s = self.as_str();
        (s.len() <= max && !s.contains("\\u0000")) || bounds::json_fits(&self.to_value(), max)
    }

    /// Bounds every string in it ([`bounds::json`]), re-serialising only when needed.
    pub fn bound(&mut self, max: usize) {
        if !self.fits(max) {
            let mut v = self.to_value();
            bounds::json(&mut v, max);
            *self = JsonText::of(&v);
        }
    }
}

fn empty() -> Box<RawValue> {
    RawValue::from_string("{}".into()).expect("valid JSON")
}

impl Default for JsonText {
    fn default() -> JsonText {
        JsonText(empty())
    }
}

impl PartialEq for JsonText {
    fn eq(&self, other: &JsonText) -> bool {
        self.as_str() == other.as_str()
    }
}

impl From<Value> for JsonText {
    fn from(v: Value) -> JsonText {
        JsonText::of(&v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn serialises_as_the_json_it_holds_and_bounds_only_what_does_not_fit() {
        let t = JsonText::of(&json!({"a": "x", "n": 1}));
        assert_eq!(serde_json::to_string(&t).unwrap(), r#"{"a":"x","n":1}"#);
        let back: JsonText = serde_json::from_str(r#"{"a":"x","n":1}"#).unwrap();
        assert_eq!(back, t);
        let row: JsonText = serde_json::from_value(json!({"a": "x", "n": 1})).unwrap();
        assert_eq!(row, t);
        assert!(t.fits(100));
        let mut long = JsonText::of(&json!({"m": "y".repeat(50), "k\u{0}": 1}));
        assert!(!long.fits(20));
        long.bound(20);
        assert!(long.fits(20));
        assert!(!long.as_str().contains("\\u0000"));
        assert_eq!(JsonText::default().as_str(), "{}");
    }
}
