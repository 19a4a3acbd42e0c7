//! Local time for the fulfilment network: the time zone (with its daylight-saving rule),
//! dates, times of day, weekdays and calendars of working days.
//!
//! Cut-offs, opening hours and delivery windows are local times, so every rule works on a
//! local [`Date`] and minutes since local midnight; instants ([`Timestamp`]) are converted
//! at the edges. The engine carries no time-zone database: a network names its standard UTC
//! offset and one of the daylight-saving rules below, which covers one country's network.

use std::fmt;

use serde::{Deserialize, Serialize};

use crate::time::{Digits, Timestamp, civil_from_days, days_from_civil};

/// A local calendar date: `"2026-11-24"` (days since 1970-01-01 inside).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Date(pub(crate) i64);

impl Date {
    pub fn parse(text: &str) -> Option<Date> {
        let b = text.as_bytes();
        if b.len() != 10 || b[4] != b'-' || b[7] != b'-' || !text.is_ascii() {
            return None;
        }
        let num = |r: std::ops::Range<usize>| {
            let digits = &text[r];
            digits
                .bytes()
                .all(|c| c.is_ascii_digit())
                .then(|| digits.parse::<i64>().ok())
                .flatten()
        };
        let (y, m, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
        let ok = (1..=12).contains(&m) && d >= 1 && d <= crate::time::days_in_month(y, m);
        ok.then(|| Date(days_from_civil(y, m, d)))
    }

    /// Monday is 0, Sunday 6.
    pub fn weekday(self) -> u8 {
        (self.0 + 3).rem_euclid(7) as u8
    }

    pub fn next(self) -> Date {
        Date(self.0 + 1)
    }

    /// For people: `Tue 24 Nov`.
    pub fn label(self) -> String {
        let mut out = String::new();
        self.push_label(&mut out);
        out
    }

    /// Appends [`Date::label`] to `out`.
    pub(crate) fn push_label(self, out: &mut String) {
        const DAYS: [&str; 7] = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"];
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let (_, m, d) = civil_from_days(self.0);
        let mut text = Digits::<12>::new();
        text.push_str(DAYS[self.weekday() as usize]);
        text.push(b' ');
        text.number(d, 1);
        text.push(b' ');
        text.push_str(MONTHS[(m - 1) as usize]);
        out.push_str(text.as_str());
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (y, m, d) = civil_from_days(self.0);
        if !(0..=9999).contains(&y) {
            return write!(f, "{y:04}-{m:02}-{d:02}");
        }
        let mut text = Digits::<10>::new();
        text.date(y, m, d);
        f.write_str(text.as_str())
    }
}

impl TryFrom<String> for Date {
    type Error = String;
    fn try_from(s: String) -> Result<Date, String> {
        Date::parse(&s).ok_or_else(|| {
            format!(
                "{:?} is not a date such as \"2026-11-24\"",
                s.chars().take(20).collect::<String>()
            )
        })
    }
}

impl From<Date> for String {
    fn from(d: Date) -> String {
        d.to_string()
    }
}

/// A local time of day, `"14:00"`, as minutes since midnight (`"24:00"` is the end of a day).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct TimeOfDay(pub(crate) u32);

impl TryFrom<String> for TimeOfDay {
    type Error = String;
    fn try_from(s: String) -> Result<TimeOfDay, String> {
        let b = s.as_bytes();
        let parsed = (b.len() == 5 && b[2] == b':' && s.is_ascii())
            .then(|| Some((s[0..2].parse::<u32>().ok()?, s[3..5].parse::<u32>().ok()?)))
            .flatten()
            .filter(|&(h, m)| (h < 24 && m < 60) || (h == 24 && m == 0));
        parsed.map(|(h, m)| TimeOfDay(h * 60 + m)).ok_or_else(|| {
            format!(
                "{:?} is not a time such as \"14:00\"",
                s.chars().take(20).collect::<String>()
            )
        })
    }
}

impl From<TimeOfDay> for String {
    fn from(t: TimeOfDay) -> String {
        format!("{:02}:{:02}", t.0 / 60, t.0 % 60)
    }
}

/// A local date and minute of the day (minutes since midnight) in the network's time zone.
/// Ordered by date, then minute.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub struct LocalTime {
    pub date: Date,
    pub minute: u32,
}

impl LocalTime {
    /// The start of `date`.
    pub fn start_of(date: Date) -> LocalTime {
        LocalTime { date, minute: 0 }
    }
}

/// A set of weekdays, written `"mon-fri"`, `"sat"` or `"sat,sun"`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Weekdays(u8);

const NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

impl Weekdays {
    pub fn contains(self, weekday: u8) -> bool {
        self.0 & (1 << weekday) != 0
    }
}

impl TryFrom<String> for Weekdays {
    type Error = String;
    fn try_from(s: String) -> Result<Weekdays, String> {
        let day = |n: &str| NAMES.iter().position(|d| *d == n.trim());
        let mut bits = 0u8;
        for part in s.split(',') {
            let (from, to) = part.split_once('-').unwrap_or((part, part));
            match (day(from), day(to)) {
                (Some(a), Some(b)) if a <= b => (a..=b).for_each(|d| bits |= 1 << d),
                _ => {
                    return Err(format!(
                        "{:?} is not weekdays such as \"mon-fri\" or \"sat,sun\"",
                        s.chars().take(30).collect::<String>()
                    ));
                }
            }
        }
        Ok(Weekdays(bits))
    }
}

impl From<Weekdays> for String {
    fn from(w: Weekdays) -> String {
        NAMES
            .iter()
            .enumerate()
            .filter(|(i, _)| w.contains(*i as u8))
            .map(|(_, n)| *n)
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// Daylight-saving rules the engine knows.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Dst {
    #[default]
    None,
    /// European Union: +1 h from the last Sunday of March 01:00 UTC to the last Sunday of
    /// October 01:00 UTC.
    Eu,
    /// United States: +1 h from the second Sunday of March 02:00 local to the first Sunday
    /// of November 02:00 local.
    Us,
}

/// The network's time zone: `{"utc_offset_minutes": 60, "dst": "eu"}` is Central Europe.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TimeZone {
    /// Standard (winter) offset from UTC in minutes, east positive.
    #[serde(default)]
    pub utc_offset_minutes: i32,
    #[serde(default)]
    pub dst: Dst,
}

/// The n-th Sunday (1-based) of a month, or with n = 0 the last one.
fn sunday(y: i64, m: i64, n: i64) -> i64 {
    if n == 0 {
        let last = days_from_civil(y, m, crate::time::days_in_month(y, m));
        return last - (i64::from(Date(last).weekday()) + 1) % 7;
    }
    let first = days_from_civil(y, m, 1);
    first + (6 - Date(first).weekday() as i64) + 7 * (n - 1)
}

impl TimeZone {
    /// Seconds east of UTC at an instant.
    pub fn offset_at(self, t: Timestamp) -> i64 {
        let standard = i64::from(self.utc_offset_minutes) * 60;
        let s = t.unix();
        let (y, _, _) = civil_from_days((s + standard).div_euclid(86_400));
        let summer = match self.dst {
            Dst::None => false,
            Dst::Eu => {
                (sunday(y, 3, 0) * 86_400 + 3600..sunday(y, 10, 0) * 86_400 + 3600).contains(&s)
            }
            Dst::Us => (sunday(y, 3, 2) * 86_400 + 7200 - standard
                ..sunday(y, 11, 1) * 86_400 + 3600 - standard)
                .contains(&s),
        };
        standard + if summer { 3600 } else { 0 }
    }

    /// The local date and minute of the day of an instant.
    pub fn local(self, t: Timestamp) -> LocalTime {
        let local = t.unix() + self.offset_at(t);
        LocalTime {
            date: Date(local.div_euclid(86_400)),
            minute: (local.rem_euclid(86_400) / 60) as u32,
        }
    }

    /// The instant of a local time (the earlier one when clocks go back).
    pub fn instant_of(self, at: LocalTime) -> Timestamp {
        self.instant(at.date, at.minute)
    }

    /// The instant of a local date and minute (the earlier one when clocks go back).
    pub fn instant(self, date: Date, minute: u32) -> Timestamp {
        let local = date.0 * 86_400 + i64::from(minute) * 60;
        let guess = Timestamp::from_unix(local - i64::from(self.utc_offset_minutes) * 60);
        Timestamp::from_unix(local - self.offset_at(Timestamp::from_unix(guess.unix() - 3600)))
    }
}

/// Working days: closed weekdays and public holidays.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Calendar {
    pub id: String,
    /// Weekdays with no work, e.g. `"sun"` or `"sat,sun"`.
    #[serde(default)]
    pub closed: Weekdays,
    #[serde(default)]
    pub holidays: Vec<Date>,
}

impl Calendar {
    pub fn works_on(&self, date: Date) -> bool {
        !self.closed.contains(date.weekday()) && self.holidays.binary_search(&date).is_err()
    }

    /// The date `n` working days after `date` (`n = 0` is `date` itself, even if closed).
    pub fn add_working_days(&self, mut date: Date, n: u32) -> Date {
        let mut left = n;
        // A calendar closed every day is refused when the network loads, so this ends.
        while left > 0 {
            date = date.next();
            if self.works_on(date) {
                left -= 1;
            }
        }
        date
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ts(s: &str) -> Timestamp {
        Timestamp::parse(s).unwrap()
    }

    #[test]
    fn european_summer_time() {
        let cet = TimeZone {
            utc_offset_minutes: 60,
            dst: Dst::Eu,
        };
        // 2026: summer time from 29 March 01:00 UTC to 25 October 01:00 UTC.
        assert_eq!(cet.offset_at(ts("2026-03-29T00:59:59Z")), 3600);
        assert_eq!(cet.offset_at(ts("2026-03-29T01:00:00Z")), 7200);
        assert_eq!(cet.offset_at(ts("2026-10-25T00:59:59Z")), 7200);
        assert_eq!(cet.offset_at(ts("2026-10-25T01:00:00Z")), 3600);
        let LocalTime { date, minute } = cet.local(ts("2026-11-22T13:30:00Z"));
        assert_eq!(
            (date.to_string(), minute),
            ("2026-11-22".into(), 14 * 60 + 30)
        );
        assert_eq!(
            cet.instant(Date::parse("2026-07-01").unwrap(), 9 * 60),
            ts("2026-07-01T07:00:00Z")
        );
        assert_eq!(
            cet.instant(Date::parse("2026-11-24").unwrap(), 9 * 60),
            ts("2026-11-24T08:00:00Z")
        );
    }

    #[test]
    fn us_daylight_time() {
        let eastern = TimeZone {
            utc_offset_minutes: -300,
            dst: Dst::Us,
        };
        // 2026: from 8 March 02:00 EST (07:00 UTC) to 1 November 02:00 EDT (06:00 UTC).
        assert_eq!(eastern.offset_at(ts("2026-03-08T06:59:59Z")), -18_000);
        assert_eq!(eastern.offset_at(ts("2026-03-08T07:00:00Z")), -14_400);
        assert_eq!(eastern.offset_at(ts("2026-11-01T05:59:59Z")), -14_400);
        assert_eq!(eastern.offset_at(ts("2026-11-01T06:00:00Z")), -18_000);
    }

    #[test]
    fn dates_weekdays_and_working_days() {
        let d = Date::parse("2026-11-22").unwrap();
        assert_eq!((d.weekday(), d.label()), (6, "Sun 22 Nov".to_string()));
        assert!(Date::parse("2026-02-29").is_none() && Date::parse("2026-1-01").is_none());
        let cal = Calendar {
            id: "de".into(),
            closed: Weekdays::try_from("sat,sun".to_string()).unwrap(),
            holidays: vec![
                Date::parse("2026-12-25").unwrap(),
                Date::parse("2026-12-26").unwrap(),
            ],
        };
        let thu = Date::parse("2026-12-24").unwrap();
        assert_eq!(cal.add_working_days(thu, 1).to_string(), "2026-12-28");
        assert_eq!(cal.add_working_days(thu, 0), thu);
        assert!(!cal.works_on(Date::parse("2026-12-25").unwrap()));
        assert_eq!(
            String::from(Weekdays::try_from("mon-fri".to_string()).unwrap()),
            "mon,tue,wed,thu,fri"
        );
        assert!(Weekdays::try_from("fri-mon".to_string()).is_err());
        assert!(TimeOfDay::try_from("24:01".to_string()).is_err());
        assert_eq!(TimeOfDay::try_from("24:00".to_string()).unwrap().0, 1440);
    }
}
