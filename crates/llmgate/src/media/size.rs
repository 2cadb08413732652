//! OpenAI's image `size` (`WIDTHxHEIGHT`), read once for the providers that take pixels or an
//! aspect ratio instead.

/// `size` as whole pixels (`"1024x1792"` → `(1024, 1792)`, case and spaces around the numbers
/// ignored); None when it is not two integers. Each caller checks its own bounds.
pub fn pixels(size: &str) -> Option<(u64, u64)> {
    let (w, h) = size
        .to_ascii_lowercase()
        .split_once('x')
        .map(|(w, h)| (w.trim().parse::<u64>(), h.trim().parse::<u64>()))?;
    Some((w.ok()?, h.ok()?))
}

/// The ratio among `ratios` nearest to `width / height` (by how many times larger or smaller
/// it is, so 2:1 and 1:2 are as far from 1:1); None when `ratios` is empty.
pub fn nearest_ratio(
    ratios: &[(&'static str, f64)],
    width: f64,
    height: f64,
) -> Option<&'static str> {
    let want = width / height;
    ratios
        .iter()
        .min_by(|a, b| {
            let da = (a.1 / want).ln().abs();
            let db = (b.1 / want).ln().abs();
            da.total_cmp(&db)
        })
        .map(|(r, _)| *r)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_and_ratios() {
        assert_eq!(pixels("1792X1024"), Some((1792, 1024)));
        assert_eq!(pixels(" 512 x 768 "), Some((512, 768)));
        assert_eq!(pixels("big"), None);
        assert_eq!(pixels("10x"), None);
        let r = [("1:1", 1.0), ("16:9", 16.0 / 9.0), ("9:16", 9.0 / 16.0)];
        assert_eq!(nearest_ratio(&r, 1792.0, 1024.0), Some("16:9"));
        assert_eq!(nearest_ratio(&r, 1000.0, 1010.0), Some("1:1"));
        assert_eq!(nearest_ratio(&[], 1.0, 1.0), None);
    }
}
