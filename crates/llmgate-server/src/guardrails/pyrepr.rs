//! Python's `repr` of the small dicts LiteLLM raises as `HTTPException.detail`: the
//! proxy sends `str(detail)` as the error message.

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

/// `str(dict)` of string/None values, in the given order.
pub fn dict_repr(items: &[(&str, Option<&str>)]) -> String {
    let body: Vec<String> = items
        .iter()
        .map(|(k, v)| {
            let v = v.map_or_else(|| "None".to_string(), str_repr);
            format!("{}: {v}", str_repr(k))
        })
        .collect();
    format!("{{{}}}", body.join(", "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reprs_as_python() {
        assert_eq!(
            dict_repr(&[
                ("error", Some("Content blocked: email pattern detected")),
                ("pattern", Some("email"))
            ]),
            "{'error': 'Content blocked: email pattern detected', 'pattern': 'email'}"
        );
        assert_eq!(
            dict_repr(&[
                ("error", Some("keyword 'x' detected")),
                ("description", None)
            ]),
            "{'error': \"keyword 'x' detected\", 'description': None}"
        );
        assert_eq!(str_repr("a'b\"c"), "'a\\'b\"c'");
    }
}
