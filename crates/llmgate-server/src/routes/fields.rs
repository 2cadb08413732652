//! The fields of LiteLLM's management request models that llmgate has no column for.
//!
//! LiteLLM's pydantic models (`GenerateKeyRequest`, `NewTeamRequest`, ...) accept more fields
//! than llmgate acts on, and ignore the ones they do not declare (pydantic's default
//! `extra="ignore"`), so LiteLLM's UI and admin scripts send both freely. Each route's body
//! struct reads what it stores and keeps the rest in a flattened [`Extra`]; the route's
//! [`Accepted`] list says which of those LiteLLM keeps in the row's `metadata` and which it
//! takes without llmgate having a use for them. Known fields are still type-checked (400 when
//! wrong); everything else is dropped with a log line naming it.

use serde::Deserialize;
use serde_json::{Map, Value};

use crate::error::GatewayError;

/// The JSON type a field must have (null is always accepted: every field is optional).
#[derive(Clone, Copy)]
pub enum Shape {
    Str,
    Bool,
    Int,
    Num,
    /// A list of strings.
    Strs,
    List,
    Object,
}

impl Shape {
    fn fits(self, v: &Value) -> bool {
        match self {
            Shape::Str => v.is_string(),
            Shape::Bool => v.is_boolean(),
            Shape::Int => v.is_i64() || v.is_u64(),
            Shape::Num => v.is_number(),
            Shape::Strs => v.as_array().is_some_and(|a| a.iter().all(Value::is_string)),
            Shape::List => v.is_array(),
            Shape::Object => v.is_object(),
        }
    }

    fn name(self) -> &'static str {
        match self {
            Shape::Str => "a string",
            Shape::Bool => "a boolean",
            Shape::Int => "an integer",
            Shape::Num => "a number",
            Shape::Strs => "a list of strings",
            Shape::List => "a list",
            Shape::Object => "an object",
        }
    }
}

/// What a route takes beyond the fields its struct stores.
pub struct Accepted {
    /// Fields LiteLLM moves into the row's `metadata`, under their own name.
    pub metadata: &'static [(&'static str, Shape)],
    /// Fields LiteLLM accepts that llmgate neither stores nor acts on.
    pub ignored: &'static [(&'static str, Shape)],
}

impl Accepted {
    /// Nothing beyond the struct's own fields.
    pub const NONE: Accepted = Accepted {
        metadata: &[],
        ignored: &[],
    };
}

/// The fields of a body its struct does not read.
#[derive(Deserialize, Default, Debug, Clone)]
#[serde(transparent)]
pub struct Extra(Map<String, Value>);

impl Extra {
    /// Checks the known fields' types, moves those LiteLLM keeps in metadata into
    /// `metadata` (a JSON object; null values are skipped, as LiteLLM skips `None`), and logs
    /// the fields dropped.
    pub fn apply(
        &self,
        route: &str,
        accepted: &Accepted,
        metadata: &mut Value,
    ) -> Result<(), GatewayError> {
        let kept = self.sort(route, accepted)?;
        if kept.is_empty() {
            return Ok(());
        }
        if !metadata.is_object() {
            *metadata = Value::Object(Map::new());
        }
        if let Some(m) = metadata.as_object_mut() {
            m.extend(kept);
        }
        Ok(())
    }

    /// For routes that keep nothing in metadata: checks and logs.
    pub fn ignore(&self, route: &str, accepted: &Accepted) -> Result<(), GatewayError> {
        let kept = self.sort(route, accepted)?;
        debug_assert!(kept.is_empty(), "{route} keeps fields in metadata");
        Ok(())
    }

    /// Splits the fields into those kept in metadata (returned), ignored known ones and
    /// unknown ones (both logged), refusing a known field of the wrong type.
    fn sort(&self, route: &str, accepted: &Accepted) -> Result<Map<String, Value>, GatewayError> {
        let mut kept = Map::new();
        let (mut ignored, mut unknown) = (Vec::new(), Vec::new());
        for (name, value) in &self.0 {
            let to_metadata = accepted.metadata.iter().find(|(n, _)| n == name);
            let known = to_metadata.or_else(|| accepted.ignored.iter().find(|(n, _)| n == name));
            let Some((_, shape)) = known else {
                unknown.push(name.as_str());
                continue;
            };
            if value.is_null() {
                continue;
            }
            if !shape.fits(value) {
                return Err(GatewayError::BadRequest(format!(
                    "Invalid request body: {name} must be {}",
                    shape.name()
                )));
            }
            if to_metadata.is_some() {
                kept.insert(name.clone(), value.clone());
            } else {
                ignored.push(name.as_str());
            }
        }
        if !ignored.is_empty() {
            tracing::info!(route, fields = ?ignored, "accepted LiteLLM fields llmgate does not act on");
        }
        if !unknown.is_empty() {
            tracing::info!(route, fields = ?unknown, "ignored unknown fields, as LiteLLM ignores them");
        }
        Ok(kept)
    }
}

/// The top-level fields a JSON body sets to `null` (an update's "clear this").
pub fn null_fields(body: &[u8]) -> Vec<String> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => m
            .into_iter()
            .filter(|(_, v)| v.is_null())
            .map(|(k, _)| k)
            .collect(),
        _ => Vec::new(),
    }
}

/// Clears the fields of `row` an update set to `null` and that are in `clearable`, as
/// LiteLLM's update routes store a given `None`: a value becomes null, a list `[]`, an
/// object `{}`. Clearing `budget_duration` also clears `budget_reset_at`.
pub fn clear_nulls<T: serde::Serialize + serde::de::DeserializeOwned>(
    row: &mut T,
    nulls: &[String],
    clearable: &[&str],
) -> Result<(), GatewayError> {
    let picked: Vec<&String> = nulls
        .iter()
        .filter(|n| clearable.contains(&n.as_str()))
        .collect();
    if picked.is_empty() {
        return Ok(());
    }
    let internal = |e: serde_json::Error| GatewayError::Internal(format!("clearing fields: {e}"));
    let mut v = serde_json::to_value(&*row).map_err(internal)?;
    let Some(m) = v.as_object_mut() else {
        return Ok(());
    };
    for n in picked {
        let Some(cur) = m.get_mut(n.as_str()) else {
            continue;
        };
        *cur = match cur {
            Value::Array(_) => Value::Array(Vec::new()),
            Value::Object(_) => Value::Object(Map::new()),
            _ => Value::Null,
        };
        if n == "budget_duration" && m.contains_key("budget_reset_at") {
            m.insert("budget_reset_at".into(), Value::Null);
        }
    }
    *row = serde_json::from_value(v).map_err(internal)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const SPEC: Accepted = Accepted {
        metadata: &[("guardrails", Shape::Strs)],
        ignored: &[("send_invite_email", Shape::Bool)],
    };

    fn extra(v: Value) -> Extra {
        serde_json::from_value(v).unwrap()
    }

    #[test]
    fn metadata_fields_move_and_the_rest_is_dropped() {
        let mut meta = json!({"team": "a"});
        extra(json!({"guardrails": ["pii"], "send_invite_email": true, "nope": 1}))
            .apply("/x", &SPEC, &mut meta)
            .unwrap();
        assert_eq!(meta, json!({"team": "a", "guardrails": ["pii"]}));
        let mut meta = Value::Null;
        extra(json!({"guardrails": null}))
            .apply("/x", &SPEC, &mut meta)
            .unwrap();
        assert_eq!(meta, Value::Null);
    }

    #[test]
    fn nulls_clear_values_lists_and_objects() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Row {
            a: Option<i64>,
            #[serde(default)]
            l: Vec<String>,
            #[serde(default)]
            o: Map<String, Value>,
            budget_duration: Option<String>,
            budget_reset_at: Option<i64>,
            kept: Option<i64>,
        }
        let mut r = Row {
            a: Some(1),
            l: vec!["x".into()],
            o: Map::from_iter([("k".into(), json!(1))]),
            budget_duration: Some("1d".into()),
            budget_reset_at: Some(5),
            kept: Some(2),
        };
        let nulls = null_fields(
            br#"{"a": null, "l": null, "o": null, "budget_duration": null, "kept": null, "b": 1}"#,
        );
        clear_nulls(&mut r, &nulls, &["a", "l", "o", "budget_duration"]).unwrap();
        assert_eq!((r.a, r.l.len(), r.o.len()), (None, 0, 0));
        assert_eq!(
            (r.budget_duration, r.budget_reset_at, r.kept),
            (None, None, Some(2))
        );
    }

    #[test]
    fn known_fields_are_type_checked() {
        let e = extra(json!({"send_invite_email": "yes"})).ignore(
            "/x",
            &Accepted {
                metadata: &[],
                ..SPEC
            },
        );
        assert!(matches!(e, Err(GatewayError::BadRequest(m)) if m.contains("send_invite_email")));
        assert!(extra(json!({"guardrails": [1]}))
            .apply("/x", &SPEC, &mut Value::Null)
            .is_err());
    }
}
