//! The business calendar behind the second report's deadline: "by the end of the next business
//! day" in the customer's time zone (default Asia/Tokyo).
//!
//! A business day is a weekday that is not a Japanese public holiday, not a bank holiday of the
//! year end (31 December, 2 and 3 January — the days Japanese companies and banks close), and
//! not an extra closed day from the config. Japanese public holidays are computed, not listed,
//! under the current law (国民の祝日に関する法律) for 2020–2099: fixed dates, "Happy Monday"
//! days, the equinoxes (the standard approximation, exact for this range), substitute holidays
//! (振替休日) and citizens' holidays (国民の休日), plus the Olympic moves of 2020 and 2021.

use std::collections::BTreeSet;

use jiff::civil::{Date, Time, Weekday, date};
use jiff::tz::TimeZone;
use jiff::{SignedDuration, Timestamp};

/// First and last year the holiday rules are known for. Outside it only weekends, the year end
/// and configured days close (and [`Calendar::is_business_day`] says why in `holiday_name`).
pub const YEARS: std::ops::RangeInclusive<i16> = 2020..=2099;

/// A customer's business calendar.
#[derive(Debug, Clone)]
pub struct Calendar {
    pub tz: TimeZone,
    /// When the business day ends (the deadline's time of day).
    pub close: Time,
    /// Extra closed days (a customer's foundation day, a company-wide holiday...).
    pub closed: BTreeSet<Date>,
}

impl Default for Calendar {
    fn default() -> Self {
        Calendar {
            tz: TimeZone::get("Asia/Tokyo").unwrap_or(TimeZone::UTC),
            close: Time::constant(18, 0, 0, 0),
            closed: BTreeSet::new(),
        }
    }
}

impl Calendar {
    /// Why `d` is not a business day, or `None` when it is one.
    pub fn closed_because(&self, d: Date) -> Option<&'static str> {
        match d.weekday() {
            Weekday::Saturday => return Some("Saturday"),
            Weekday::Sunday => return Some("Sunday"),
            _ => {}
        }
        if let Some(name) = holiday_name(d) {
            return Some(name);
        }
        if (d.month() == 12 && d.day() == 31) || (d.month() == 1 && matches!(d.day(), 2 | 3)) {
            return Some("year-end closure");
        }
        if self.closed.contains(&d) {
            return Some("closed (config)");
        }
        None
    }

    pub fn is_business_day(&self, d: Date) -> bool {
        self.closed_because(d).is_none()
    }

    /// The first business day after `d`.
    pub fn next_business_day(&self, d: Date) -> Date {
        let mut n = d;
        // A year has fewer than 130 closed days: this always ends, the bound is for safety.
        for _ in 0..400 {
            n = match n.tomorrow() {
                Ok(x) => x,
                Err(_) => return n,
            };
            if self.is_business_day(n) {
                return n;
            }
        }
        n
    }

    /// The second report's deadline for an alert received at `received`: the close of the next
    /// business day after the day of receipt, in the customer's time zone.
    pub fn second_report_due(&self, received: Timestamp) -> Timestamp {
        let day = received.to_zoned_datetime(self.tz.clone()).date();
        let due = self.next_business_day(day);
        due.to_datetime(self.close)
            .to_zoned_datetime(self.tz.clone())
            .map(|z| z.timestamp())
            // Only at the very end of the representable range: a day after receipt.
            .unwrap_or_else(|_| received + SignedDuration::from_hours(24))
    }
}

/// The Japanese public holiday on `d`, by its name, if any.
pub fn holiday_name(d: Date) -> Option<&'static str> {
    if !YEARS.contains(&d.year()) {
        return None;
    }
    if let Some(n) = statutory(d) {
        return Some(n);
    }
    // 振替休日: a holiday on a Sunday moves to the next day that is not a holiday.
    let mut back = d;
    loop {
        back = match back.yesterday() {
            Ok(x) => x,
            Err(_) => break,
        };
        if statutory(back).is_none() {
            break;
        }
        if back.weekday() == Weekday::Sunday {
            return Some("振替休日 (substitute holiday)");
        }
    }
    // 国民の休日: a weekday between two holidays.
    if d.weekday() != Weekday::Sunday
        && let (Ok(y), Ok(t)) = (d.yesterday(), d.tomorrow())
        && statutory(y).is_some()
        && statutory(t).is_some()
    {
        return Some("国民の休日 (citizens' holiday)");
    }
    None
}

/// The holidays the law names by date or rule (before substitutes and in-between days).
fn statutory(d: Date) -> Option<&'static str> {
    let y = d.year();
    let (m, day) = (d.month(), d.day());
    let monday = |n: i8, month: i8| {
        date(y, month, 1)
            .nth_weekday_of_month(n, Weekday::Monday)
            .ok()
    };
    let is = |x: Option<Date>| x == Some(d);
    Some(match (m, day) {
        (1, 1) => "元日 (New Year's Day)",
        (2, 11) => "建国記念の日 (National Foundation Day)",
        (2, 23) => "天皇誕生日 (Emperor's Birthday)",
        (4, 29) => "昭和の日 (Showa Day)",
        (5, 3) => "憲法記念日 (Constitution Day)",
        (5, 4) => "みどりの日 (Greenery Day)",
        (5, 5) => "こどもの日 (Children's Day)",
        (11, 3) => "文化の日 (Culture Day)",
        (11, 23) => "勤労感謝の日 (Labour Thanksgiving Day)",
        (3, _) if day == vernal_equinox(y) => "春分の日 (Vernal Equinox Day)",
        (9, _) if day == autumnal_equinox(y) => "秋分の日 (Autumnal Equinox Day)",
        _ if is(monday(2, 1)) => "成人の日 (Coming of Age Day)",
        _ if is(monday(3, 9)) => "敬老の日 (Respect for the Aged Day)",
        _ => match y {
            // The Tokyo Olympics moved three holidays in 2020 and 2021.
            2020 => match (m, day) {
                (7, 23) => "海の日 (Marine Day)",
                (7, 24) => "スポーツの日 (Sports Day)",
                (8, 10) => "山の日 (Mountain Day)",
                _ => return None,
            },
            2021 => match (m, day) {
                (7, 22) => "海の日 (Marine Day)",
                (7, 23) => "スポーツの日 (Sports Day)",
                (8, 8) => "山の日 (Mountain Day)",
                _ => return None,
            },
            _ if is(monday(3, 7)) => "海の日 (Marine Day)",
            _ if is(monday(2, 10)) => "スポーツの日 (Sports Day)",
            _ if (m, day) == (8, 11) => "山の日 (Mountain Day)",
            _ => return None,
        },
    })
}

/// Day of March of the vernal equinox (the common formula, valid 1980–2099).
fn vernal_equinox(y: i16) -> i8 {
    let y = f64::from(y);
    (20.8431 + 0.242194 * (y - 1980.0) - ((y - 1980.0) / 4.0).floor()).floor() as i8
}

/// Day of September of the autumnal equinox (valid 1980–2099).
fn autumnal_equinox(y: i16) -> i8 {
    let y = f64::from(y);
    (23.2488 + 0.242194 * (y - 1980.0) - ((y - 1980.0) / 4.0).floor()).floor() as i8
}

#[cfg(test)]
mod tests {
    use super::*;

    fn holidays(y: i16) -> Vec<String> {
        let mut d = date(y, 1, 1);
        let mut out = Vec::new();
        while d.year() == y {
            if holiday_name(d).is_some() {
                out.push(format!("{:02}-{:02}", d.month(), d.day()));
            }
            d = d.tomorrow().unwrap();
        }
        out
    }

    #[test]
    fn the_cabinet_office_lists_for_2025_and_2026() {
        // 内閣府「国民の祝日について」.
        assert_eq!(
            holidays(2025),
            [
                "01-01", "01-13", "02-11", "02-23", "02-24", "03-20", "04-29", "05-03", "05-04",
                "05-05", "05-06", "07-21", "08-11", "09-15", "09-23", "10-13", "11-03", "11-23",
                "11-24"
            ]
        );
        assert_eq!(
            holidays(2026),
            [
                "01-01", "01-12", "02-11", "02-23", "03-20", "04-29", "05-03", "05-04", "05-05",
                "05-06", "07-20", "08-11", "09-21", "09-22", "09-23", "10-12", "11-03", "11-23"
            ]
        );
        assert_eq!(
            holiday_name(date(2026, 9, 22)),
            Some("国民の休日 (citizens' holiday)")
        );
    }

    #[test]
    fn olympic_years_and_equinoxes() {
        assert_eq!(
            holidays(2020),
            [
                "01-01", "01-13", "02-11", "02-23", "02-24", "03-20", "04-29", "05-03", "05-04",
                "05-05", "05-06", "07-23", "07-24", "08-10", "09-21", "09-22", "11-03", "11-23"
            ]
        );
        assert_eq!(holidays(2021)[9..12], ["07-22", "07-23", "08-08"]);
        assert_eq!(
            holiday_name(date(2021, 8, 9)),
            Some("振替休日 (substitute holiday)")
        );
        assert_eq!((vernal_equinox(2027), autumnal_equinox(2027)), (21, 23));
        assert_eq!((vernal_equinox(2030), autumnal_equinox(2030)), (20, 23));
        assert_eq!(
            holiday_name(date(2019, 5, 1)),
            None,
            "outside the known years"
        );
    }

    fn tokyo(s: &str) -> Timestamp {
        format!("{s}[Asia/Tokyo]")
            .parse::<jiff::ZonedDateTime>()
            .unwrap()
            .timestamp()
    }

    #[test]
    fn friday_evening_is_due_monday() {
        let c = Calendar::default();
        // 2026-11-27 is a Friday.
        let due = c.second_report_due(tokyo("2026-11-27T21:30:00"));
        assert_eq!(due, tokyo("2026-11-30T18:00:00"));
        // Received in UTC on Friday but already Saturday in Tokyo: due Monday as well.
        let due = c.second_report_due("2026-11-27T16:00:00Z".parse().unwrap());
        assert_eq!(due, tokyo("2026-11-30T18:00:00"));
    }

    #[test]
    fn before_a_holiday_the_day_after_it() {
        let c = Calendar::default();
        // 2026-11-23 (Mon) is Labour Thanksgiving Day: an alert on Friday 20th is due Tuesday.
        assert_eq!(
            c.second_report_due(tokyo("2026-11-20T09:00:00")),
            tokyo("2026-11-24T18:00:00")
        );
        // The citizens' holiday of September 2026: Saturday 19 → Thursday 24.
        assert_eq!(
            c.second_report_due(tokyo("2026-09-18T12:00:00")),
            tokyo("2026-09-24T18:00:00")
        );
    }

    #[test]
    fn year_end_and_golden_week() {
        let c = Calendar::default();
        // Wednesday 30 December 2026 → closed 31, 1, 2, 3 (Sunday) → Monday 4 January 2027.
        assert_eq!(
            c.second_report_due(tokyo("2026-12-30T10:00:00")),
            tokyo("2027-01-04T18:00:00")
        );
        // Golden Week 2026: Friday 1 May → 2 Sat, 3 Sun, 4, 5, 6 (substitute) → Thursday 7.
        assert_eq!(
            c.second_report_due(tokyo("2026-05-01T15:00:00")),
            tokyo("2026-05-07T18:00:00")
        );
        assert_eq!(
            c.closed_because(date(2026, 5, 6)),
            Some("振替休日 (substitute holiday)")
        );
    }

    #[test]
    fn configured_days_and_other_time_zones() {
        let mut c = Calendar::default();
        c.closed.insert(date(2026, 12, 1));
        // Monday 30 November → Tuesday 1 December is closed by config → Wednesday 2.
        assert_eq!(
            c.second_report_due(tokyo("2026-11-30T10:00:00")),
            tokyo("2026-12-02T18:00:00")
        );
        assert_eq!(c.closed_because(date(2026, 12, 1)), Some("closed (config)"));
        let ny = Calendar {
            tz: TimeZone::get("America/New_York").unwrap(),
            ..Calendar::default()
        };
        let due = ny.second_report_due("2026-11-27T23:00:00Z".parse().unwrap());
        assert_eq!(due.to_string(), "2026-11-30T23:00:00Z", "18:00 EST");
    }
}
