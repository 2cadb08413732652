//! JSON Schemas as Anthropic takes them: a tool's `input_schema` (an object schema with a fixed
//! set of keys) and a structured-output schema (`output_format`: no constraint the decoding
//! grammar cannot enforce), both as LiteLLM reshapes them.

use serde_json::{json, Map, Value};

use super::response::python_json;

/// The keys Anthropic accepts at the top of an `input_schema`.
const INPUT_KEYS: &[&str] = &[
    "type",
    "properties",
    "additionalProperties",
    "required",
    "$defs",
    "strict",
];
/// Bound on what inlining `$ref`s may add (a request must not expand into a schema bomb).
const MAX_INLINED_BYTES: usize = 10_000_000;

/// A function's `parameters` as an `input_schema`: `type: object`, `properties` always present,
/// draft-04 `definitions` / OpenAPI `components.schemas` inlined (Anthropic resolves `$defs`
/// only), other top-level keys dropped.
pub fn input_schema(params: Option<&Value>) -> Value {
    let mut s = params
        .and_then(Value::as_object)
        .cloned()
        .unwrap_or_default();
    if s.get("type") != Some(&json!("object")) {
        s.insert("type".into(), json!("object"));
    }
    if !s.contains_key("properties") {
        s.insert("properties".into(), json!({}));
    }
    let legacy = s.contains_key("definitions")
        || s.get("components")
            .and_then(|c| c.get("schemas"))
            .is_some_and(Value::is_object);
    if legacy {
        let mut defs = s
            .shift_remove("components")
            .and_then(|mut c| c.get_mut("schemas").map(Value::take))
            .and_then(|d| d.as_object().cloned())
            .unwrap_or_default();
        if let Some(Value::Object(d)) = s.shift_remove("definitions") {
            defs.extend(d);
        }
        let mut v = Value::Object(s);
        inline_refs(&mut v, &defs, &mut Vec::new(), &mut 0);
        s = match v {
            Value::Object(o) => o,
            _ => Map::new(),
        };
    }
    s.retain(|k, _| INPUT_KEYS.contains(&k.as_str()));
    Value::Object(s)
}

/// A `response_format` schema as `output_format.schema`: `$defs` inlined, then filtered.
pub fn output_schema(schema: &Value) -> Value {
    let mut s = schema.clone();
    if let Some(o) = s.as_object_mut() {
        let defs = o.shift_remove("$defs");
        let legacy = o.shift_remove("definitions");
        if let Some(Value::Object(defs)) = defs.or(legacy) {
            if !defs.is_empty() {
                inline_refs(&mut s, &defs, &mut Vec::new(), &mut 0);
            }
        }
    }
    filter_output(&s)
}

/// Replaces every `{"$ref": ".../Name"}` with a copy of the definition `Name` (the node's other
/// keys go with it, as LiteLLM does); definitions nested in a node apply below it. A cyclic or
/// unknown reference stays as it is.
fn inline_refs(
    node: &mut Value,
    defs: &Map<String, Value>,
    chain: &mut Vec<String>,
    used: &mut usize,
) {
    match node {
        Value::Object(o) => {
            if let Some(r) = o.get("$ref").and_then(Value::as_str) {
                let name = r.rsplit('/').next().unwrap_or("").to_string();
                let Some(target) = defs.get(&name).filter(|_| !chain.contains(&name)) else {
                    return;
                };
                *used += target.to_string().len();
                if *used > MAX_INLINED_BYTES {
                    return;
                }
                let mut child = defs.clone();
                for k in ["$defs", "definitions"] {
                    if let Some(Value::Object(d)) = target.get(k) {
                        child.extend(d.clone());
                    }
                }
                *node = target.clone();
                chain.push(name);
                inline_refs(node, &child, chain, used);
                chain.pop();
                return;
            }
            let mut here = defs.clone();
            for k in ["$defs", "definitions"] {
                if let Some(Value::Object(d)) = o.get(k) {
                    here.extend(d.clone());
                }
            }
            for v in o.values_mut() {
                inline_refs(v, &here, chain, used);
            }
        }
        Value::Array(a) => {
            for v in a {
                inline_refs(v, defs, chain, used);
            }
        }
        _ => {}
    }
}

/// The constraints structured outputs reject, with the note that replaces each in the
/// description (the Anthropic SDK's transformation, which LiteLLM mirrors).
const CONSTRAINTS: &[(&str, &str)] = &[
    ("minItems", "minimum number of items: "),
    ("maxItems", "maximum number of items: "),
    ("uniqueItems", "all array items must be unique"),
    ("contains", "array must contain an item matching: "),
    ("minContains", "minimum number of matching items: "),
    ("maxContains", "maximum number of matching items: "),
    ("prefixItems", "leading items must match, in order: "),
    ("minimum", "minimum value: "),
    ("maximum", "maximum value: "),
    ("exclusiveMinimum", "exclusive minimum value: "),
    ("exclusiveMaximum", "exclusive maximum value: "),
    ("multipleOf", "must be a multiple of "),
    ("minLength", "minimum length: "),
    ("maxLength", "maximum length: "),
    ("minProperties", "minimum number of properties: "),
    ("maxProperties", "maximum number of properties: "),
    (
        "patternProperties",
        "properties whose names match each pattern must satisfy: ",
    ),
    ("propertyNames", "property names must satisfy: "),
    ("dependentRequired", "dependent required properties: "),
    ("dependentSchemas", "dependent schemas: "),
    (
        "unevaluatedProperties",
        "unevaluated properties must satisfy: ",
    ),
    ("if", "conditional (if): "),
    ("then", "conditional (then): "),
    ("else", "conditional (else): "),
    ("not", "must not match: "),
];

/// A value as Python's `str.format` writes it into the note.
fn note_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) => n.to_string(),
        other => python_json(other),
    }
}

fn is_object_schema(s: &Map<String, Value>) -> bool {
    match s.get("type") {
        Some(Value::String(t)) => t == "object",
        Some(Value::Array(a)) => a.iter().any(|t| t == "object"),
        _ => false,
    }
}

/// An `enum` whose values cannot have the declared `type` (or a list of types): the type goes.
fn enum_conflicts_with_type(s: &Map<String, Value>) -> bool {
    let (Some(Value::Array(values)), Some(t)) = (s.get("enum"), s.get("type")) else {
        return false;
    };
    let fits = |v: &Value| match t.as_str() {
        Some("null") => v.is_null(),
        Some("boolean") => v.is_boolean(),
        Some("integer") => v.is_i64() || v.is_u64(),
        Some("number") => v.is_number(),
        Some("string") => v.is_string(),
        Some("array") => v.is_array(),
        Some("object") => v.is_object(),
        _ => true,
    };
    t.is_array() || !values.iter().all(fits)
}

fn filter_output(schema: &Value) -> Value {
    let Some(s) = schema.as_object() else {
        return schema.clone();
    };
    // `minItems` of 0 or 1 is enforced; larger ones are not.
    let min_items_kept = s
        .get("minItems")
        .is_some_and(|v| v.as_u64().is_some_and(|n| n <= 1));
    let unsupported =
        |k: &str| CONSTRAINTS.iter().any(|(c, _)| *c == k) && !(k == "minItems" && min_items_kept);
    let notes: Vec<String> = CONSTRAINTS
        .iter()
        .filter(|(k, _)| unsupported(k))
        .filter_map(|(k, label)| {
            let v = s.get(*k)?;
            if *v == Value::Bool(false) {
                return None; // imposes nothing
            }
            Some(if label.ends_with(": ") || label.ends_with("of ") {
                format!("{label}{}", note_value(v))
            } else {
                label.to_string()
            })
        })
        .collect();
    let mut out = Map::new();
    if !notes.is_empty() {
        let note = format!("Note: {}.", notes.join(", "));
        let desc = match s.get("description").and_then(Value::as_str) {
            Some(d) if !d.is_empty() => format!("{d} {note}"),
            _ => note,
        };
        out.insert("description".into(), json!(desc));
    }
    let drop_type = enum_conflicts_with_type(s);
    for (k, v) in s {
        if unsupported(k)
            || (k == "type" && drop_type)
            || (k == "description" && out.contains_key(k))
        {
            continue;
        }
        match (k.as_str(), v) {
            ("properties" | "$defs" | "definitions", Value::Object(m)) => {
                let m = m
                    .iter()
                    .map(|(n, x)| (n.clone(), filter_output(x)))
                    .collect();
                out.insert(k.clone(), Value::Object(m));
            }
            ("items", Value::Object(_)) => {
                out.insert(k.clone(), filter_output(v));
            }
            // Anthropic rejects `oneOf`; like the SDK, it becomes (part of) `anyOf`.
            ("anyOf" | "oneOf", Value::Array(a)) => {
                let entry = out.entry("anyOf").or_insert_with(|| json!([]));
                if let Value::Array(list) = entry {
                    list.extend(a.iter().map(filter_output));
                }
            }
            ("allOf", Value::Array(a)) => {
                out.insert(
                    k.clone(),
                    Value::Array(a.iter().map(filter_output).collect()),
                );
            }
            ("$ref", Value::String(r)) => {
                let r = if r.starts_with("/$defs/") || r.starts_with("/definitions/") {
                    format!("#{r}")
                } else {
                    r.clone()
                };
                out.insert(k.clone(), json!(r));
            }
            _ => {
                out.insert(k.clone(), v.clone());
            }
        }
    }
    // Structured outputs need every object closed.
    if is_object_schema(&out) {
        out.insert("additionalProperties".into(), json!(false));
    }
    Value::Object(out)
}

/// Whether any (sub)schema admits properties it does not name: LiteLLM answers such a schema
/// through the JSON tool rather than structured outputs.
pub fn has_open_object(schema: &Value) -> bool {
    let mut frontier = vec![schema];
    let mut depth = 0;
    while !frontier.is_empty() && depth < 1024 {
        let mut next = Vec::new();
        for node in frontier {
            let Some(o) = node.as_object() else { continue };
            let ap = o.get("additionalProperties");
            if ap == Some(&json!(true))
                || ap.is_some_and(Value::is_object)
                || o.contains_key("patternProperties")
                || (is_object_schema(o)
                    && !o.contains_key("properties")
                    && ap != Some(&json!(false)))
            {
                return true;
            }
            next.extend(subschemas(o));
        }
        frontier = next;
        depth += 1;
    }
    false
}

fn subschemas(o: &Map<String, Value>) -> Vec<&Value> {
    const MAPS: &[&str] = &[
        "$defs",
        "definitions",
        "dependentSchemas",
        "patternProperties",
        "properties",
    ];
    const LISTS: &[&str] = &["allOf", "anyOf", "items", "oneOf", "prefixItems"];
    const ONE: &[&str] = &[
        "additionalItems",
        "additionalProperties",
        "contains",
        "else",
        "if",
        "items",
        "not",
        "propertyNames",
        "then",
        "unevaluatedItems",
        "unevaluatedProperties",
    ];
    let mut out = Vec::new();
    for (k, v) in o {
        match v {
            Value::Object(m) if MAPS.contains(&k.as_str()) => {
                out.extend(m.values().filter(|x| x.is_object()))
            }
            Value::Array(a) if LISTS.contains(&k.as_str()) => {
                out.extend(a.iter().filter(|x| x.is_object()))
            }
            Value::Object(_) if ONE.contains(&k.as_str()) => out.push(v),
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_schema_keeps_anthropic_keys_and_inlines_legacy_definitions() {
        let p = json!({"$schema": "x", "description": "d", "type": "object",
            "properties": {"u": {"$ref": "#/definitions/Unit"}}, "required": ["u"],
            "definitions": {"Unit": {"type": "string", "enum": ["c", "f"]}}});
        assert_eq!(
            input_schema(Some(&p)),
            json!({"type": "object", "properties": {"u": {"type": "string", "enum": ["c", "f"]}}, "required": ["u"]})
        );
        assert_eq!(
            input_schema(None),
            json!({"type": "object", "properties": {}})
        );
    }

    #[test]
    fn output_schema_moves_constraints_to_the_description() {
        let s = json!({"type": "object", "properties": {
            "age": {"type": "integer", "minimum": 0, "maximum": 150, "description": "Age"},
            "tags": {"type": "array", "items": {"type": "string", "maxLength": 5}, "minItems": 1, "maxItems": 3, "uniqueItems": true},
            "pet": {"oneOf": [{"$ref": "#/$defs/Cat"}, {"type": "null"}]}},
            "$defs": {"Cat": {"type": "object", "properties": {"n": {"type": "string"}}}}});
        let out = output_schema(&s);
        assert_eq!(
            out,
            json!({"type": "object", "properties": {
                "age": {"description": "Age Note: minimum value: 0, maximum value: 150.", "type": "integer"},
                "tags": {"description": "Note: maximum number of items: 3, all array items must be unique.",
                         "type": "array", "items": {"description": "Note: maximum length: 5.", "type": "string"}, "minItems": 1},
                "pet": {"anyOf": [{"type": "object", "properties": {"n": {"type": "string"}}, "additionalProperties": false}, {"type": "null"}]}},
                "additionalProperties": false})
        );
        let keys: Vec<_> = out["properties"]["age"]
            .as_object()
            .unwrap()
            .keys()
            .cloned()
            .collect();
        assert_eq!(keys, ["description", "type"]);
    }

    #[test]
    fn open_objects_are_found() {
        assert!(has_open_object(&json!({"type": "object"})));
        assert!(has_open_object(
            &json!({"type": "object", "properties": {"m": {"type": "object", "additionalProperties": {"type": "string"}}}})
        ));
        assert!(!has_open_object(
            &json!({"type": "object", "properties": {"a": {"type": "string"}}})
        ));
    }
}
