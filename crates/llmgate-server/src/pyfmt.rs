//! Values written as Python writes them, so headers and bodies read the same as LiteLLM's.

/// A float as Python's `repr` writes it (`7.5e-05`, `0.001`, `1.0`), so header values read
/// the same as LiteLLM's.
pub fn py_float(x: f64) -> String {
    if x == 0.0 {
        return "0.0".into();
    }
    let exp = x.abs().log10().floor();
    if !(-4.0..16.0).contains(&exp) {
        let s = format!("{x:e}");
        let (mantissa, e) = s.split_once('e').unwrap_or((&s, "0"));
        let (sign, digits) = match e.strip_prefix('-') {
            Some(d) => ('-', d),
            None => ('+', e),
        };
        return format!("{mantissa}e{sign}{digits:0>2}");
    }
    let s = x.to_string();
    if s.contains('.') {
        s
    } else {
        format!("{s}.0")
    }
}

#[cfg(test)]
mod tests {
    use super::py_float;

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
    }
}
