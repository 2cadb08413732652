//! JSON Schema → the OpenAPI subset Gemini accepts for function parameters and response
//! schemas. A schema OpenAI accepts must never make Gemini answer 400: `$ref`s are inlined from
//! `$defs`/`definitions`, `const` becomes a one-value `enum`, `["T", "null"]` types become
//! `nullable`, and keywords Gemini does not know are removed.

use serde_json::{json, Map, Value};

/// The keywords Gemini's `Schema` object has.
const KEPT: &[&str] = &[
    "type",
    "format",
    "title",
    "description",
    "nullable",
    "enum",
    "maxItems",
    "minItems",
    "properties",
    "required",
    "minProperties",
    "maxProperties",
    "minLength",
    "maxLength",
    "pattern",
    "example",
    "anyOf",
    "propertyOrdering",
    "default",
    "items",
    "minimum",
    "maximum",
];
/// Formats Gemini accepts for strings; others are dropped (the rest of the schema still holds).
const STRING_FORMATS: &[&str] = &["enum", "date-time"];
/// Guards against self-referencing definitions.
const MAX_DEPTH: usize = 32;

pub fn sanitize(schema: &Value) -> Value {
    let defs = schema
        .get("$defs")
        .or_else(|| schema.get("definitions"))
        .cloned()
        .unwrap_or(Value::Null);
    clean(schema, &defs, 0)
}

fn resolve<'a>(reference: &str, defs: &'a Value) -> Option<&'a Value> {
    let name = reference.rsplit('/').next()?;
    defs.get(name)
}

fn clean(schema: &Value, defs: &Value, depth: usize) -> Value {
    let Some(obj) = schema.as_object() else {
        return schema.clone();
    };
    if depth > MAX_DEPTH {
        return json!({"type": "object"});
    }
    if let Some(r) = obj.get("$ref").and_then(Value::as_str) {
        let mut target = resolve(r, defs)
            .map(|t| clean(t, defs, depth + 1))
            .unwrap_or_else(|| json!({"type": "object"}));
        // Sibling keywords (a description next to a $ref) still apply.
        if let (Some(t), Some(d)) = (target.as_object_mut(), obj.get("description")) {
            t.insert("description".into(), d.clone());
        }
        return target;
    }
    let mut out = Map::new();
    for (k, v) in obj {
        let v = match k.as_str() {
            "properties" => Value::Object(
                v.as_object()
                    .map(|p| {
                        p.iter()
                            .map(|(name, s)| (name.clone(), clean(s, defs, depth + 1)))
                            .collect()
                    })
                    .unwrap_or_default(),
            ),
            "items" => clean(v, defs, depth + 1),
            "anyOf" | "oneOf" => {
                let variants: Vec<Value> = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .into_iter()
                    .cloned()
                    .collect();
                let non_null: Vec<Value> = variants
                    .iter()
                    .filter(|s| s["type"] != "null")
                    .map(|s| clean(s, defs, depth + 1))
                    .collect();
                if non_null.len() < variants.len() {
                    out.insert("nullable".into(), json!(true));
                }
                if non_null.len() == 1 {
                    // `anyOf: [X, null]` is X, nullable.
                    if let Value::Object(one) = &non_null[0] {
                        for (k2, v2) in one {
                            out.entry(k2.clone()).or_insert_with(|| v2.clone());
                        }
                    }
                    continue;
                }
                out.insert("anyOf".into(), Value::Array(non_null));
                continue;
            }
            "const" => {
                out.insert("enum".into(), json!([v]));
                continue;
            }
            "type" => match v {
                Value::Array(types) => {
                    let real: Vec<&Value> = types.iter().filter(|t| *t != "null").collect();
                    if real.len() < types.len() {
                        out.insert("nullable".into(), json!(true));
                    }
                    real.first()
                        .map(|t| (*t).clone())
                        .unwrap_or(json!("string"))
                }
                other => other.clone(),
            },
            // Gemini enums are strings; a null member means nullable.
            "enum" => {
                let members = v.as_array().cloned().unwrap_or_default();
                if members.iter().any(Value::is_null) {
                    out.insert("nullable".into(), json!(true));
                }
                let strings: Vec<Value> = members
                    .iter()
                    .filter(|e| !e.is_null())
                    .map(|e| match e {
                        Value::String(_) => e.clone(),
                        other => json!(other.to_string()),
                    })
                    .collect();
                Value::Array(strings)
            }
            k if KEPT.contains(&k) => v.clone(),
            _ => continue,
        };
        out.insert(k.clone(), v);
    }
    if out.get("type") == Some(&json!("string")) {
        if let Some(f) = out.get("format").and_then(Value::as_str) {
            if !STRING_FORMATS.contains(&f) {
                out.shift_remove("format");
            }
        }
    }
    // Gemini rejects an object with empty `properties`; an open object is written without them.
    if out
        .get("properties")
        .is_some_and(|p| p.as_object().is_some_and(Map::is_empty))
    {
        out.shift_remove("properties");
    }
    if let Some(req) = out.get("required").and_then(Value::as_array) {
        let props = out.get("properties").and_then(Value::as_object);
        let kept: Vec<Value> = req
            .iter()
            .filter(|r| props.is_some_and(|p| r.as_str().is_some_and(|n| p.contains_key(n))))
            .cloned()
            .collect();
        if kept.is_empty() {
            out.shift_remove("required");
        } else {
            out.insert("required".into(), Value::Array(kept));
        }
    }
    if out.get("enum").is_some() && !out.contains_key("type") {
        out.insert("type".into(), json!("string"));
    }
    Value::Object(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refs_are_inlined_and_unknown_keywords_removed() {
        let s = json!({
            "$schema": "http://json-schema.org/draft-07/schema#",
            "type": "object",
            "additionalProperties": false,
            "$defs": {"Unit": {"type": "string", "enum": ["c", "f"], "title": "Unit"}},
            "properties": {
                "unit": {"$ref": "#/$defs/Unit", "description": "temperature unit"},
                "city": {"type": ["string", "null"], "format": "hostname", "examples": ["Paris"]},
                "kind": {"const": "weather"},
                "days": {"anyOf": [{"type": "integer", "minimum": 1}, {"type": "null"}]},
                "tags": {"type": "array", "items": {"type": "string", "pattern": "^[a-z]+$"}}
            },
            "required": ["unit", "missing"]
        });
        let g = sanitize(&s);
        assert!(
            g.get("$schema").is_none()
                && g.get("additionalProperties").is_none()
                && g.get("$defs").is_none()
        );
        assert_eq!(
            g["properties"]["unit"],
            json!({"type": "string", "enum": ["c", "f"], "title": "Unit", "description": "temperature unit"})
        );
        assert_eq!(
            g["properties"]["city"],
            json!({"type": "string", "nullable": true})
        );
        assert_eq!(
            g["properties"]["kind"],
            json!({"enum": ["weather"], "type": "string"})
        );
        assert_eq!(
            g["properties"]["days"],
            json!({"nullable": true, "type": "integer", "minimum": 1})
        );
        assert_eq!(g["properties"]["tags"]["items"]["pattern"], "^[a-z]+$");
        assert_eq!(g["required"], json!(["unit"]));
    }

    #[test]
    fn recursive_refs_terminate() {
        let s = json!({"$defs": {"Node": {"type": "object", "properties": {"next": {"$ref": "#/$defs/Node"}}}},
                       "$ref": "#/$defs/Node"});
        let g = sanitize(&s);
        assert_eq!(g["type"], "object");
    }
}
