//! Weeks, days and the states time moves through. A timesheet is one person's
//! ISO week (Monday to Sunday); that is the unit people submit and managers approve.

use std::fmt;
use std::str::FromStr;

use jiff::civil::{Date, ISOWeekDate, Weekday};
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Most minutes one person can record on one day.
pub const MINUTES_PER_DAY: u32 = 24 * 60;

/// An ISO 8601 week such as `2026-W47`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct IsoWeek {
    year: i16,
    week: i8,
}

impl IsoWeek {
    pub fn of(date: Date) -> IsoWeek {
        let w = date.iso_week_date();
        IsoWeek {
            year: w.year(),
            week: w.week(),
        }
    }
    pub fn monday(self) -> Date {
        self.day(Weekday::Monday)
    }
    pub fn sunday(self) -> Date {
        self.day(Weekday::Sunday)
    }
    fn day(self, weekday: Weekday) -> Date {
        // Construction validated year and week, so this cannot fail.
        ISOWeekDate::new(self.year, self.week, weekday)
            .map(|d| d.date())
            .unwrap_or(Date::MIN)
    }
    /// The seven dates of the week, Monday first.
    pub fn days(self) -> impl Iterator<Item = Date> {
        let monday = self.monday();
        (0..7).filter_map(move |n| monday.checked_add(jiff::Span::new().days(n)).ok())
    }
    pub fn contains(self, date: Date) -> bool {
        IsoWeek::of(date) == self
    }
}

impl fmt::Display for IsoWeek {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-W{:02}", self.year, self.week)
    }
}

impl FromStr for IsoWeek {
    type Err = crate::validate::Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || crate::validate::Invalid::IsoWeek(s.to_owned());
        let (y, w) = s.split_once("-W").ok_or_else(bad)?;
        if y.len() != 4 || w.len() != 2 {
            return Err(bad());
        }
        let year: i16 = y.parse().map_err(|_| bad())?;
        let week: i8 = w.parse().map_err(|_| bad())?;
        if !(1900..=2999).contains(&year) {
            return Err(bad());
        }
        ISOWeekDate::new(year, week, Weekday::Monday)
            .map_err(|_| crate::validate::Invalid::NoSuchWeek { year, week })?;
        Ok(IsoWeek { year, week })
    }
}

impl Serialize for IsoWeek {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for IsoWeek {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// Where a time entry or expense is in its life. Only draft and rejected work
/// can be edited; approved and invoiced work is history.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WorkStatus {
    Draft,
    Submitted,
    Approved,
    Rejected,
    Invoiced,
}

impl WorkStatus {
    /// Why an edit is refused, in words the person understands (None: the
    /// person who recorded it may still change or delete it).
    pub fn locked_reason(self) -> Option<&'static str> {
        match self {
            WorkStatus::Draft | WorkStatus::Rejected => None,
            WorkStatus::Submitted => {
                Some("it has been submitted for approval; ask your approver to reject it first")
            }
            WorkStatus::Approved => {
                Some("it has been approved and is locked; approved work cannot be edited")
            }
            WorkStatus::Invoiced => {
                Some("it has been invoiced and is locked; correct it with a credit note")
            }
        }
    }
}

/// A week's state, derived from its entries so it can never disagree with them.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum WeekStatus {
    /// Nothing submitted yet (or an empty week).
    Open,
    Submitted,
    /// Some projects approved, others still waiting.
    PartiallyApproved,
    Approved,
    /// Sent back; the person fixes and resubmits.
    Rejected,
}

/// The week's state from its entries' states.
pub fn week_status(statuses: impl IntoIterator<Item = WorkStatus>) -> WeekStatus {
    let (mut any, mut draft, mut submitted, mut done, mut rejected) =
        (false, false, false, false, false);
    for s in statuses {
        any = true;
        match s {
            WorkStatus::Draft => draft = true,
            WorkStatus::Submitted => submitted = true,
            WorkStatus::Approved | WorkStatus::Invoiced => done = true,
            WorkStatus::Rejected => rejected = true,
        }
    }
    match () {
        _ if !any => WeekStatus::Open,
        _ if rejected => WeekStatus::Rejected,
        _ if draft => WeekStatus::Open,
        _ if submitted && done => WeekStatus::PartiallyApproved,
        _ if submitted => WeekStatus::Submitted,
        _ => WeekStatus::Approved,
    }
}

/// Whether `date` falls in the closed period (on or before the lock date).
pub fn is_locked(date: Date, lock_date: Option<Date>) -> bool {
    lock_date.is_some_and(|lock| date <= lock)
}

/// Minutes as decimal hours, rounded to 2 places for display (sums and money
/// are computed from minutes, never from this).
pub fn hours(minutes: u64) -> Decimal {
    (Decimal::from(minutes) / Decimal::from(60)).round_dp(2)
}

/// The value of `minutes` at an hourly `rate`, unrounded: rounding to the
/// currency's minor unit happens once, on the invoice line or report total.
pub fn value_of(minutes: u32, rate: Decimal) -> Option<Decimal> {
    rate.checked_mul(Decimal::from(minutes))?
        .checked_div(Decimal::from(60))
}

/// What a re-billed expense costs the client: amount plus markup, unrounded.
pub fn with_markup(amount: Decimal, markup_percent: Option<Decimal>) -> Option<Decimal> {
    match markup_percent {
        None => Some(amount),
        Some(p) => amount.checked_add(amount.checked_mul(p)?.checked_div(Decimal::from(100))?),
    }
}

/// Working hours a person has between two dates (inclusive): their weekly
/// capacity spread over Monday to Friday.
pub fn capacity_hours(weekly: Decimal, from: Date, to: Date) -> Decimal {
    let mut workdays = 0u32;
    let mut d = from;
    while d <= to {
        if !matches!(d.weekday(), Weekday::Saturday | Weekday::Sunday) {
            workdays += 1;
        }
        match d.tomorrow() {
            Ok(next) => d = next,
            Err(_) => break,
        }
    }
    (weekly * Decimal::from(workdays) / Decimal::from(5)).round_dp(2)
}

/// An action on a whole timesheet week. Stored on the week's pending job as the
/// lowercase strings jobs have always carried.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum WeekAction {
    Submit,
    Approve,
    Reject,
}

impl WeekAction {
    pub fn as_str(self) -> &'static str {
        match self {
            WeekAction::Submit => "submit",
            WeekAction::Approve => "approve",
            WeekAction::Reject => "reject",
        }
    }

    pub fn parse(s: &str) -> Option<WeekAction> {
        match s {
            "submit" => Some(WeekAction::Submit),
            "approve" => Some(WeekAction::Approve),
            "reject" => Some(WeekAction::Reject),
            _ => None,
        }
    }

    /// The states an entry leaves when this action moves it.
    pub fn moves_from(self, status: WorkStatus) -> bool {
        use WorkStatus::*;
        match self {
            WeekAction::Submit => matches!(status, Draft | Rejected),
            WeekAction::Approve => status == Submitted,
            // Approved work not yet invoiced is sent back (un-approved) too.
            WeekAction::Reject => matches!(status, Submitted | Approved),
        }
    }

    /// What "nothing to do" means, for the 409.
    pub fn nothing_to_do(self) -> &'static str {
        match self {
            WeekAction::Submit => "nothing to submit: the week has no draft or rejected entries",
            WeekAction::Approve => "nothing to approve: no submitted entries in scope",
            WeekAction::Reject => "nothing to reject: no submitted or approved entries in scope",
        }
    }
}

impl std::fmt::Display for WeekAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Jobs stored before the action was an enum must still be read.
    #[test]
    fn stored_week_actions_keep_their_strings() {
        for a in [WeekAction::Submit, WeekAction::Approve, WeekAction::Reject] {
            let text = format!("\"{}\"", a.as_str());
            assert_eq!(serde_json::to_string(&a).ok(), Some(text.clone()));
            assert_eq!(serde_json::from_str::<WeekAction>(&text).ok(), Some(a));
        }
        assert!(serde_json::from_str::<WeekAction>("\"Submit\"").is_err());
    }
    use jiff::civil::date;
    use rust_decimal_macros::dec;

    #[test]
    fn weeks_parse_print_and_span_monday_to_sunday() {
        let w: IsoWeek = "2026-W47".parse().unwrap();
        assert_eq!(w.to_string(), "2026-W47");
        assert_eq!(w.monday(), date(2026, 11, 16));
        assert_eq!(w.sunday(), date(2026, 11, 22));
        assert_eq!(w.days().count(), 7);
        assert!(w.contains(date(2026, 11, 22)));
        assert!(!w.contains(date(2026, 11, 23)));
        // ISO years differ from calendar years around New Year.
        assert_eq!(IsoWeek::of(date(2027, 1, 1)).to_string(), "2026-W53");
        assert_eq!(IsoWeek::of(date(2024, 12, 30)).to_string(), "2025-W01");
    }

    #[test]
    fn malformed_weeks_are_refused() {
        for bad in [
            "2026-47", "2026-W7", "2025-W53", "2026-W00", "26-W47", "2026-W4x", "",
        ] {
            assert!(bad.parse::<IsoWeek>().is_err(), "{bad}");
        }
        assert!("2026-W53".parse::<IsoWeek>().is_ok());
    }

    #[test]
    fn a_week_is_only_approved_when_every_entry_is() {
        use WorkStatus::*;
        assert_eq!(week_status([]), WeekStatus::Open);
        assert_eq!(week_status([Draft, Submitted]), WeekStatus::Open);
        assert_eq!(week_status([Submitted, Submitted]), WeekStatus::Submitted);
        assert_eq!(
            week_status([Approved, Submitted]),
            WeekStatus::PartiallyApproved
        );
        assert_eq!(week_status([Approved, Invoiced]), WeekStatus::Approved);
        assert_eq!(week_status([Approved, Rejected]), WeekStatus::Rejected);
    }

    #[test]
    fn the_lock_date_itself_is_closed() {
        let lock = Some(date(2026, 10, 31));
        assert!(is_locked(date(2026, 10, 31), lock));
        assert!(is_locked(date(2026, 1, 1), lock));
        assert!(!is_locked(date(2026, 11, 1), lock));
        assert!(!is_locked(date(2026, 11, 1), None));
    }

    #[test]
    fn values_are_exact_until_a_line_rounds_them() {
        // Two 15-minute entries at 27.50/h are worth exactly one 30-minute entry.
        let half = value_of(15, dec!(27.50)).unwrap() + value_of(15, dec!(27.50)).unwrap();
        assert_eq!(half, value_of(30, dec!(27.50)).unwrap());
        assert_eq!(value_of(30, dec!(27.50)).unwrap(), dec!(13.75));
        assert_eq!(with_markup(dec!(100), Some(dec!(15))), Some(dec!(115)));
        assert_eq!(with_markup(dec!(100), None), Some(dec!(100)));
    }

    #[test]
    fn capacity_counts_weekdays_only() {
        // 2026-11-16 is a Monday; a full week is 40 h, a weekend none.
        assert_eq!(
            capacity_hours(dec!(40), date(2026, 11, 16), date(2026, 11, 22)),
            dec!(40)
        );
        assert_eq!(
            capacity_hours(dec!(40), date(2026, 11, 21), date(2026, 11, 22)),
            dec!(0)
        );
        assert_eq!(
            capacity_hours(dec!(32), date(2026, 11, 16), date(2026, 11, 16)),
            dec!(6.4)
        );
    }
}
