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
    }
}
