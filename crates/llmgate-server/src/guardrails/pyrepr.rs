//! Python's `repr` of values LiteLLM writes into its messages with an f-string (Azure Prompt
//! Shield's `Attack detected: {analysis}`).

use serde_json::Value;

/// `repr(s)`: single quotes unless the text has one and no double quote.
pub fn str_repr(s: &str) -> String {
    let quote = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::with_capacity(s.len() + 2);
    out.push(quote);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == quote => {
                out.push('\\');
                out.push(c);
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// `repr` of a JSON value as Python holds it (`True`, `None`, floats as Python writes them).
pub fn value_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) if n.is_f64() => crate::pyfmt::py_float(n.as_f64().unwrap_or(0.0)),
        Value::Number(n) => n.to_string(),
        Value::String(s) => str_repr(s),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(value_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(o) => {
            let items: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{}: {}", str_repr(k), value_repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reprs_as_python() {
        assert_eq!(
            value_repr(&serde_json::json!({"error": "keyword 'x' detected", "description": null})),
            "{'error': \"keyword 'x' detected\", 'description': None}"
        );
        assert_eq!(str_repr("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(
            value_repr(&serde_json::json!({"a": [true, null, 0.5, 2], "b": {"c": "d"}})),
            "{'a': [True, None, 0.5, 2], 'b': {'c': 'd'}}"
        );
    }
}
