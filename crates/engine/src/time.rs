//! Instants in UTC as seconds since the Unix epoch, written as RFC 3339 (`2026-11-22T09:30:00Z`
//! or with an offset, `2026-11-22T10:30:00+01:00`). The engine never reads a clock: `now` is
//! always an input, so the page and the server agree when given the same instant.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::ErrorCode;

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Debug, Default)]
pub struct Timestamp(i64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a date-time such as \"2026-11-22T09:30:00Z\"")]
pub struct TimeError(String);

impl ErrorCode for TimeError {
    fn code(&self) -> &'static str {
        "invalid_timestamp"
    }
}

impl Timestamp {
    pub const fn from_unix(seconds: i64) -> Timestamp {
        Timestamp(seconds)
    }

    pub const fn unix(self) -> i64 {
        self.0
    }

    /// The UTC date for people: `1 Nov 2026`.
    pub fn date_label(self) -> String {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let (y, m, d) = civil_from_days(self.0.div_euclid(86_400));
        format!("{d} {} {y}", MONTHS[(m - 1) as usize])
    }

    pub fn parse(text: &str) -> Result<Timestamp, TimeError> {
        parse_rfc3339(text).ok_or_else(|| TimeError(text.chars().take(40).collect()))
    }
}

fn parse_rfc3339(t: &str) -> Option<Timestamp> {
    // RFC 3339 is ASCII; checking first makes every slice below land on a char boundary
    // (cargo fuzz found `+0Ͻ00` panicking here).
    if !t.is_ascii() {
        return None;
    }
    let b = t.as_bytes();
    if b.len() < 20
        || b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<i64> {
        let s = t.get(r)?;
        s.bytes()
            .all(|c| c.is_ascii_digit())
            .then(|| s.parse().ok())?
    };
    let (y, mo, d, h, mi, s) = (
        num(0..4)?,
        num(5..7)?,
        num(8..10)?,
        num(11..13)?,
        num(14..16)?,
        num(17..19)?,
    );
    if !(1..=12).contains(&mo) || d < 1 || d > days_in_month(y, mo) || h > 23 || mi > 59 || s > 59 {
        return None;
    }
    // Fractions of a second (JS's toISOString() writes milliseconds) are accepted and dropped.
    let mut rest = &t[19..];
    if let Some(fraction) = rest.strip_prefix('.') {
        let digits = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 || digits > 9 {
            return None;
        }
        rest = &fraction[digits..];
    }
    let at = t.len() - rest.len();
    let offset = match rest {
        "Z" | "z" => 0,
        rest if rest.len() == 6 && matches!(&rest[0..1], "+" | "-") && &rest[3..4] == ":" => {
            let (oh, om) = (num(at + 1..at + 3)?, num(at + 4..at + 6)?);
            if oh > 23 || om > 59 {
                return None;
            }
            let sign = if &rest[0..1] == "-" { -1 } else { 1 };
            sign * (oh * 3600 + om * 60)
        }
        _ => return None,
    };
    Some(Timestamp(
        days_from_civil(y, mo, d) * 86_400 + h * 3600 + mi * 60 + s - offset,
    ))
}

fn is_leap(y: i64) -> bool {
    (y % 4 == 0 && y % 100 != 0) || y % 400 == 0
}

pub(crate) fn days_in_month(y: i64, m: i64) -> i64 {
    match m {
        2 if is_leap(y) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub(crate) fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// (year, month, day) of a day number since 1970-01-01.
pub(crate) fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (days, secs) = (self.0.div_euclid(86_400), self.0.rem_euclid(86_400));
        let (y, m, d) = civil_from_days(days);
        if !(0..=9999).contains(&y) {
            return write!(
                f,
                "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
                secs / 3600,
                secs % 3600 / 60,
                secs % 60
            );
        }
        // Without the formatting machinery: results carry a few of these per option.
        let mut out = Digits::<20>::new();
        out.date(y, m, d);
        out.push(b'T');
        out.number(secs / 3600, 2);
        out.push(b':');
        out.number(secs % 3600 / 60, 2);
        out.push(b':');
        out.number(secs % 60, 2);
        out.push(b'Z');
        f.write_str(out.as_str())
    }
}

/// A small ASCII buffer on the stack for dates, times and labels, written without `format!`
/// (whose machinery is slow in a size-optimised Wasm build, and pages write many labels).
pub(crate) struct Digits<const N: usize> {
    bytes: [u8; N],
    len: usize,
}

impl<const N: usize> Digits<N> {
    pub(crate) fn new() -> Self {
        Digits {
            bytes: [0; N],
            len: 0,
        }
    }

    /// Appends one ASCII byte (ignored when full: callers size the buffer for their format).
    pub(crate) fn push(&mut self, b: u8) {
        if self.len < N {
            self.bytes[self.len] = b;
            self.len += 1;
        }
    }

    pub(crate) fn push_str(&mut self, s: &str) {
        s.bytes().for_each(|b| self.push(b));
    }

    /// Appends a non-negative `n` in decimal, zero-padded to `width` digits.
    pub(crate) fn number(&mut self, n: i64, width: usize) {
        let mut rev = [b'0'; 20];
        let (mut n, mut i) = (n.unsigned_abs(), 0);
        while n > 0 || i == 0 {
            rev[i] = b'0' + (n % 10) as u8;
            n /= 10;
            i += 1;
        }
        (0..i.max(width))
            .rev()
            .for_each(|k| self.push(if k < 20 { rev[k] } else { b'0' }));
    }

    /// `2026-11-24` (a four-digit year).
    pub(crate) fn date(&mut self, y: i64, m: i64, d: i64) {
        self.number(y, 4);
        self.push(b'-');
        self.number(m, 2);
        self.push(b'-');
        self.number(d, 2);
    }

    pub(crate) fn as_str(&self) -> &str {
        // Only ASCII is ever pushed.
        std::str::from_utf8(&self.bytes[..self.len]).unwrap_or_default()
    }
}

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        Timestamp::parse(&text).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_prints_rfc3339() {
        let cases = [
            ("1970-01-01T00:00:00Z", 0),
            ("2026-11-22T09:30:00Z", 1_795_339_800),
            ("2026-11-22T10:30:00+01:00", 1_795_339_800),
            ("2024-02-29T23:59:59Z", 1_709_251_199),
            ("1969-12-31T23:59:59Z", -1),
            ("2026-11-22T09:30:00.123Z", 1_795_339_800),
        ];
        for (text, unix) in cases {
            let t = Timestamp::parse(text).unwrap();
            assert_eq!(t.unix(), unix, "{text}");
            assert_eq!(Timestamp::parse(&t.to_string()).unwrap(), t, "{text}");
        }
    }

    #[test]
    fn prints_every_year_and_pads_every_field() {
        let at = |y, mo, d, secs| Timestamp(days_from_civil(y, mo, d) * 86_400 + secs).to_string();
        assert_eq!(at(7, 1, 2, 3_723), "0007-01-02T01:02:03Z");
        assert_eq!(at(9999, 12, 31, 86_399), "9999-12-31T23:59:59Z");
        // Outside four-digit years the formatting machinery takes over.
        assert_eq!(at(10_000, 1, 1, 0), "10000-01-01T00:00:00Z");
        assert_eq!(at(-1, 1, 1, 0), "-001-01-01T00:00:00Z");
        let mut d = Digits::<4>::new();
        d.number(123_456, 2);
        assert_eq!(d.as_str(), "1234", "a full buffer keeps what fits");
    }

    #[test]
    fn refuses_what_is_not_a_date_time() {
        for bad in [
            "",
            "2026-11-22",
            "2026-13-01T00:00:00Z",
            "2025-02-29T00:00:00Z",
            "2026-11-22T24:00:00Z",
            "2026-11-22T10:00:00",
            "2026-11-22T10:00:00+1:00",
            "２０２６-11-22T10:00:00Z",
            "2026-11-22T10:00:00Zjunk",
            "2026-11-22T10:00:00.Z",
            "2026-11-22T10:30:00.123+0\u{3fd}00",
            "2026-11-22T10:30:0\u{e9}Z",
        ] {
            assert_eq!(
                Timestamp::parse(bad).unwrap_err().code(),
                "invalid_timestamp",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn dates_for_people() {
        assert_eq!(
            Timestamp::parse("2026-11-01T00:00:00Z")
                .unwrap()
                .date_label(),
            "1 Nov 2026"
        );
        assert_eq!(
            Timestamp::parse("2027-02-28T23:59:59Z")
                .unwrap()
                .date_label(),
            "28 Feb 2027"
        );
    }

    #[test]
    fn civil_round_trip() {
        for days in [-800_000, -1, 0, 59, 60, 365, 20_000, 2_000_000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
