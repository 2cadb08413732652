//! JSON written as Python's `json.dumps` writes it (`", "` and `": "` separators, non-ASCII
//! escaped): LiteLLM puts tool calls into `/api/generate` prompts and tool-call arguments into
//! answers this way, and the bytes are what a model sees or a client compares.

use serde_json::Value;

pub fn dumps(v: &Value) -> String {
    let mut out = String::new();
    write(v, &mut out);
    out
}

fn write(v: &Value, out: &mut String) {
    match v {
        Value::Object(o) => {
            out.push('{');
            for (i, (k, x)) in o.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                string(k, out);
                out.push_str(": ");
                write(x, out);
            }
            out.push('}');
        }
        Value::Array(a) => {
            out.push('[');
            for (i, x) in a.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                write(x, out);
            }
            out.push(']');
        }
        Value::String(s) => string(s, out),
        other => out.push_str(&other.to_string()),
    }
}

fn string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || (c as u32) > 0x7e => {
                let mut buf = [0u16; 2];
                for u in c.encode_utf16(&mut buf) {
                    out.push_str(&format!("\\u{u:04x}"));
                }
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// A value as Python's `str()` of the parsed JSON writes it (`{'a': True}`): how LiteLLM
/// lists tools in the prompt of a model without native tool calling.
pub fn repr(v: &Value) -> String {
    match v {
        Value::Object(o) => {
            let items: Vec<String> = o
                .iter()
                .map(|(k, x)| format!("{}: {}", repr_str(k), repr(x)))
                .collect();
            format!("{{{}}}", items.join(", "))
        }
        Value::Array(a) => format!("[{}]", a.iter().map(repr).collect::<Vec<_>>().join(", ")),
        Value::String(s) => repr_str(s),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Null => "None".into(),
        Value::Number(n) => n.to_string(),
    }
}

/// Python's string repr: single quotes unless the text has `'` and no `"`.
fn repr_str(s: &str) -> String {
    let q = if s.contains('\'') && !s.contains('"') {
        '"'
    } else {
        '\''
    };
    let mut out = String::from(q);
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c == q => {
                out.push('\\');
                out.push(c);
            }
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c => out.push(c),
        }
    }
    out.push(q);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn writes_as_python() {
        let v = json!({"name": "f", "arguments": {"city": "Zürich", "n": [1, 2.5, null, true], "q": "a\"b\n"}});
        assert_eq!(
            dumps(&v),
            r#"{"name": "f", "arguments": {"city": "Z\u00fcrich", "n": [1, 2.5, null, true], "q": "a\"b\n"}}"#
        );
        assert_eq!(dumps(&json!("😀")), r#""\ud83d\ude00""#);
        let t = json!({"type": "function", "function": {"name": "f", "strict": true, "d": "it's", "x": null, "n": [1]}});
        assert_eq!(
            repr(&t),
            r#"{'type': 'function', 'function': {'name': 'f', 'strict': True, 'd': "it's", 'x': None, 'n': [1]}}"#
        );
    }
}
