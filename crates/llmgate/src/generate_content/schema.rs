//! Google's schema subset (`Schema`: `type: OBJECT`, `nullable`, `propertyOrdering`) as the
//! JSON Schema chat tools and response formats take: the other direction of
//! `providers/gemini/schema.rs`.

use serde_json::{json, Map, Value};

/// Google's schema subset as JSON Schema: upper-case type names lowered, `nullable` as a
/// `null` type, `propertyOrdering` and `example` (Google's own keywords) left out; nested
/// schemas (`properties`, `items`, `anyOf`) the same way. Other keywords are JSON Schema's.
pub fn json_schema(s: &Value) -> Value {
    let Value::Object(o) = s else {
        return s.clone();
    };
    let mut out = Map::new();
    let nullable = o.get("nullable") == Some(&Value::Bool(true));
    for (k, v) in o {
        let v = match k.as_str() {
            "nullable" | "propertyOrdering" | "example" => continue,
            "type" => match v.as_str().map(str::to_ascii_lowercase) {
                Some(t) if t == "type_unspecified" => continue,
                Some(t) if nullable => json!([t, "null"]),
                Some(t) => json!(t),
                None => v.clone(),
            },
            "properties" => match v {
                Value::Object(p) => {
                    Value::Object(p.iter().map(|(n, s)| (n.clone(), json_schema(s))).collect())
                }
                other => other.clone(),
            },
            "items" => json_schema(v),
            "anyOf" | "oneOf" | "allOf" => match v {
                Value::Array(a) => Value::Array(a.iter().map(json_schema).collect()),
                other => other.clone(),
            },
            _ => v.clone(),
        };
        out.insert(k.clone(), v);
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn google_schemas_become_json_schema() {
        let s = json_schema(&json!({
            "type": "OBJECT",
            "description": "d",
            "properties": {
                "tags": {"type": "ARRAY", "items": {"type": "STRING", "enum": ["a", "b"]}, "minItems": 1},
                "when": {"type": "STRING", "format": "date-time", "nullable": true, "example": "x"},
                "either": {"anyOf": [{"type": "INTEGER"}, {"type": "BOOLEAN"}]},
                "free": {"type": "TYPE_UNSPECIFIED"},
            },
            "required": ["tags"],
            "propertyOrdering": ["tags", "when", "either", "free"],
        }));
        assert_eq!(
            s,
            json!({
                "type": "object",
                "description": "d",
                "properties": {
                    "tags": {"type": "array", "items": {"type": "string", "enum": ["a", "b"]}, "minItems": 1},
                    "when": {"type": ["string", "null"], "format": "date-time"},
                    "either": {"anyOf": [{"type": "integer"}, {"type": "boolean"}]},
                    "free": {},
                },
                "required": ["tags"],
            })
        );
        // A property named like a keyword is a property, not a keyword.
        let p = json_schema(&json!({"type": "OBJECT", "properties": {"type": {"type": "STRING"}}}));
        assert_eq!(p["properties"]["type"], json!({"type": "string"}));
    }
}
