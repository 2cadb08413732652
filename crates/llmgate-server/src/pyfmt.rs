//! Values written as Python writes them, so headers and bodies read the same as LiteLLM's.

/// A float as Python's `repr` writes it (`7.5e-05`, `0.001`, `1.0`), so header values read
/// the same as LiteLLM's. Both take the shortest digits that read back as the same float
/// (ryu's, which `std`'s `Display` would give too at several times the cost: this runs a few
/// times per request); only the layout is Python's.
pub fn py_float(x: f64) -> String {
    if !x.is_finite() {
        return if x.is_nan() {
            "nan"
        } else if x > 0.0 {
            "inf"
        } else {
            "-inf"
        }
        .into();
    }
    if x == 0.0 {
        return if x.is_sign_negative() { "-0.0" } else { "0.0" }.into();
    }
    let mut buf = ryu::Buffer::new();
    let short = buf.format_finite(x.abs());
    // ryu writes `123.45`, `0.001`, `1e20` or `1.5e-7`: its digits and where the point goes.
    let (mantissa, exp) = short.split_once('e').unwrap_or((short, "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    let (int, frac) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let all = [int, frac].concat();
    let lead = all.len() - all.trim_start_matches('0').len();
    let digits = all[lead..].trim_end_matches('0');
    // The point sits after `point` digits of `digits` (negative: zeros before them).
    let point = int.len() as i32 - lead as i32 + exp;
    let sci = point - 1;
    let mut out = String::with_capacity(digits.len() + 8);
    if x < 0.0 {
        out.push('-');
    }
    if (-4..16).contains(&sci) {
        if point <= 0 {
            out.push_str("0.");
            out.extend(std::iter::repeat_n('0', (-point) as usize));
            out.push_str(digits);
        } else if point as usize >= digits.len() {
            out.push_str(digits);
            out.extend(std::iter::repeat_n('0', point as usize - digits.len()));
            out.push_str(".0");
        } else {
            let (a, b) = digits.split_at(point as usize);
            out.push_str(a);
            out.push('.');
            out.push_str(b);
        }
    } else {
        out.push_str(&digits[..1]);
        if digits.len() > 1 {
            out.push('.');
            out.push_str(&digits[1..]);
        }
        out.push('e');
        out.push(if sci < 0 { '-' } else { '+' });
        if sci.abs() < 10 {
            out.push('0');
        }
        out.push_str(&sci.abs().to_string());
    }
    out
}

// Python's `repr` of JSON values (`[{'role': 'user', 'content': 'Hi'}]`): LiteLLM's alerts
// print a request's messages with `str(messages)`, and its guardrails put values in messages
// with f-strings (Azure Prompt Shield's `Attack detected: {analysis}`).

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
pub fn py_repr(v: &serde_json::Value) -> String {
    use serde_json::Value;
    match v {
        Value::Null => "None".into(),
        Value::Bool(true) => "True".into(),
        Value::Bool(false) => "False".into(),
        Value::Number(n) if n.is_f64() => py_float(n.as_f64().unwrap_or(0.0)),
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

#[cfg(test)]
mod tests {
    use super::{py_float, py_repr, py_str};

    #[test]
    fn json_reads_as_python_prints_it() {
        let m = serde_json::json!([{"role": "user", "content": "it's \"x\"\n", "n": 1, "t": 0.5, "ok": true, "z": null}]);
        assert_eq!(
            py_repr(&m),
            r#"[{'role': 'user', 'content': 'it\'s "x"\n', 'n': 1, 't': 0.5, 'ok': True, 'z': None}]"#
        );
        assert_eq!(py_str("it's"), r#""it's""#);
        assert_eq!(
            py_repr(&serde_json::json!({"error": "keyword 'x' detected", "description": null})),
            "{'error': \"keyword 'x' detected\", 'description': None}"
        );
        assert_eq!(py_str("a'b\"c"), "'a\\'b\"c'");
        assert_eq!(
            py_repr(&serde_json::json!({"a": [true, null, 0.5, 2], "b": {"c": "d"}})),
            "{'a': [True, None, 0.5, 2], 'b': {'c': 'd'}}"
        );
    }

    #[test]
    fn floats_print_as_python_does() {
        assert_eq!(
            py_float(10.0 * 2.5e-6 + 5.0 * 1e-5),
            "7.500000000000001e-05"
        );
        assert_eq!(py_float(2.5e-5), "2.5e-05");
        assert_eq!(py_float(0.001), "0.001");
        assert_eq!(py_float(1.0), "1.0");
        assert_eq!(py_float(0.0), "0.0");
        assert_eq!(py_float(1e20), "1e+20");
        assert_eq!(py_float(1e16), "1e+16");
        assert_eq!(py_float(1234567890123456.0), "1234567890123456.0");
        assert_eq!(py_float(0.0001), "0.0001");
        assert_eq!(py_float(0.00001), "1e-05");
        assert_eq!(py_float(-2.5), "-2.5");
        assert_eq!(py_float(1.5e-300), "1.5e-300");
        assert_eq!(py_float(123.456), "123.456");
        assert_eq!(py_float(608_898_711_247_163.2), "608898711247163.2");
        assert_eq!(py_float(100.0), "100.0");
        assert_eq!(py_float(f64::INFINITY), "inf");
    }

    /// The layout of the earlier `format!`-based version, over many magnitudes.
    #[test]
    fn agrees_with_std_formatting() {
        fn by_std(x: f64) -> String {
            let exp = x.abs().log10().floor();
            if !(-4.0..16.0).contains(&exp) {
                let s = format!("{x:e}");
                let (m, e) = s.split_once('e').unwrap_or((&s, "0"));
                let (sign, d) = match e.strip_prefix('-') {
                    Some(d) => ('-', d),
                    None => ('+', e),
                };
                return format!("{m}e{sign}{d:0>2}");
            }
            let s = x.to_string();
            if s.contains('.') {
                s
            } else {
                format!("{s}.0")
            }
        }
        let mut seed = 0x9e37_79b9_7f4a_7c15_u64;
        for _ in 0..20_000 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let mantissa = (seed >> 11) as f64 / (1u64 << 53) as f64;
            let x = mantissa * 10f64.powi((seed % 60) as i32 - 30);
            if x != 0.0 && (x.abs().log10().floor() - x.abs().log10()).abs() > 1e-9 {
                let (ours, theirs) = (py_float(x), by_std(x));
                assert_eq!(ours.parse::<f64>().ok(), Some(x), "{x:e}");
                // A tie between two shortest forms: Python (and ryu) round half to even,
                // `std` does not (repr(608898711247163.25) is '608898711247163.2').
                if ours != theirs {
                    assert_eq!(ours.len(), theirs.len(), "{x:e}: {ours} vs {theirs}");
                }
            }
        }
    }
}
