//! Python's `repr` of JSON values (`[{'role': 'user', 'content': 'Hi'}]`): LiteLLM's alerts
//! print the request's messages with `str(messages)`.

use serde_json::Value;

/// A string as Python's `repr` writes it: single quotes unless the text has one and no double.
pub fn py_str(s: &str) -> String {
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
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push(quote);
    out
}

/// A JSON value as Python's `str()` of the decoded value writes it.
pub fn py_repr(v: &Value) -> String {
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) if n.is_f64() => crate::pyfmt::py_float(n.as_f64().unwrap_or(0.0)),
        Value::Number(n) => n.to_string(),
        Value::String(s) => py_str(s),
        Value::Array(a) => {
            let items: Vec<String> = a.iter().map(py_repr).collect();
            format!("[{}]", items.join(", "))
        }
        Value::Object(o) => {
            let items: Vec<String> = o
                .iter()
                .map(|(k, v)| format!("{}: {}", py_str(k), py_repr(v)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
    }
}

/// The first `n` characters of `s`.
pub fn first_chars(s: &str, n: usize) -> String {
    s.chars().take(n).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_as_python_prints_it() {
        let m = json!([{"role": "user", "content": "it's \"x\"\n", "n": 1, "t": 0.5, "ok": true, "z": null}]);
        assert_eq!(
            py_repr(&m),
            r#"[{'role': 'user', 'content': 'it\'s "x"\n', 'n': 1, 't': 0.5, 'ok': True, 'z': None}]"#
        );
        assert_eq!(py_str("it's"), r#""it's""#);
    }
}
