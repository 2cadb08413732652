//! Calendar dates in UTC without a date library: LiteLLM's day keys (`YYYY-MM-DD`) and
//! RFC 3339 timestamps, from and to milliseconds since the epoch.

/// Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

/// `YYYY-MM-DD` of the UTC day holding `ms`: the `date` of LiteLLM's daily roll-ups.
pub fn date(ms: i64) -> String {
    let mut out = String::with_capacity(10);
    push_date(&mut out, ms);
    out
}

/// Appends `n` with at least `width` digits (zero-padded). Hand-written: a spend batch formats
/// thousands of dates and times, and `format!` cost ~1.7k instructions per timestamp.
fn push_num(out: &mut String, n: i64, width: usize) {
    if n < 0 {
        out.push('-');
    }
    let mut buf = [b'0'; 20];
    let mut i = buf.len();
    let mut v = n.unsigned_abs();
    while v > 0 || buf.len() - i < width {
        i -= 1;
        buf[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
    // Only ASCII digits were written.
    out.push_str(std::str::from_utf8(&buf[i..]).unwrap_or_default());
}

fn push_date(out: &mut String, ms: i64) {
    let (y, m, d) = civil(ms.div_euclid(86_400_000));
    push_num(out, y, 4);
    out.push('-');
    push_num(out, m, 2);
    out.push('-');
    push_num(out, d, 2);
}

/// RFC 3339 in UTC with milliseconds, as LiteLLM's datetimes serialise.
pub fn iso(ms: i64) -> String {
    stamp(ms, 'T') + "Z"
}

/// SQLite's `strftime('%Y-%m-%d %H:%M:%f', ms / 1000.0, 'unixepoch')`, computed here: a
/// spend batch binds thousands of timestamps, and SQLite's date functions cost ten times more.
pub fn sqlite(ms: i64) -> String {
    stamp(ms, ' ')
}

fn stamp(ms: i64, sep: char) -> String {
    let rem = ms.div_euclid(1000).rem_euclid(86_400);
    let mut out = String::with_capacity(24);
    push_date(&mut out, ms);
    out.push(sep);
    push_num(&mut out, rem / 3600, 2);
    out.push(':');
    push_num(&mut out, rem % 3600 / 60, 2);
    out.push(':');
    push_num(&mut out, rem % 60, 2);
    out.push('.');
    push_num(&mut out, ms.rem_euclid(1000), 3);
    out
}

/// `YYYY-MM-DD` (or an RFC 3339 date-time's date part) → milliseconds at 00:00 UTC.
pub fn day_ms(s: &str) -> Option<i64> {
    let d = s.get(..10)?;
    let mut it = d.split('-');
    let (y, m, day): (i64, i64, i64) = (
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
        it.next()?.parse().ok()?,
    );
    if !(1..=12).contains(&m) || !(1..=31).contains(&day) {
        return None;
    }
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    Some((era * 146_097 + doe - 719_468) * 86_400_000)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        assert_eq!(day_ms("1970-01-01"), Some(0));
        assert_eq!(day_ms("2023-11-14T22:13:20Z"), Some(1_699_920_000_000));
        assert_eq!(day_ms("2023-13-01"), None);
        assert_eq!(day_ms("soon"), None);
        assert_eq!(date(1_699_999_999_999), "2023-11-14");
        assert_eq!(iso(1_699_920_000_123), "2023-11-14T00:00:00.123Z");
        assert_eq!(sqlite(1_699_999_999_007), "2023-11-14 22:13:19.007");
        assert_eq!(sqlite(0), "1970-01-01 00:00:00.000");
        assert_eq!(date(-86_400_000), "1969-12-31");
        assert_eq!(date(253_402_300_799_999), "9999-12-31");
        for d in ["2000-02-29", "2024-12-31", "1999-01-01"] {
            assert_eq!(date(day_ms(d).unwrap()), d);
        }
    }
}
