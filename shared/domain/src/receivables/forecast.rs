//! Cash forecast maths: when money owed or about to be billed is expected,
//! per scenario, and which week of the forecast it lands in.
//!
//! Each source has a day it is due (an open invoice's due date; for work not
//! yet invoiced, the day it would be invoiced plus the client's payment
//! terms). A scenario then shifts it by the client's history of days late:
//!
//! | scenario | shift | work not yet invoiced | balances over 90 days past due |
//! |---|---|---|---|
//! | best | none: paid on the due date | invoiced today | expected |
//! | base | the client's average days late (never early) | invoiced today | expected |
//! | conservative | the client's worst days late, at least the average + 7 | invoiced in 14 days | not expected |
//!
//! A client without paid history takes the tenant's figures; a tenant without
//! any takes zero. Whatever falls before the first day lands in week one (it
//! is owed now).

use jiff::civil::Date;
use jiff::Span;
use rust_decimal::Decimal;
use serde::Serialize;

use super::aging::days_past_due;
use super::whole_days;

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    Best,
    Base,
    Conservative,
}

/// Days the conservative scenario adds to the average when history shows no worse.
pub const CONSERVATIVE_MARGIN_DAYS: i64 = 7;
/// Days the conservative scenario waits before work not yet invoiced is.
pub const CONSERVATIVE_INVOICE_DELAY_DAYS: i64 = 14;
/// Past-due age beyond which the conservative scenario expects nothing.
pub const CONSERVATIVE_GIVE_UP_DAYS: i64 = 90;

impl Scenario {
    pub const ALL: [Scenario; 3] = [Scenario::Best, Scenario::Base, Scenario::Conservative];

    /// What the scenario assumes, in words a reader of the response can check.
    pub fn assumptions(self) -> Vec<String> {
        match self {
            Scenario::Best => vec![
                "every open invoice is paid on its due date (overdue ones in the first week)".into(),
                "work in progress and reached milestones are invoiced today and paid on the client's payment terms".into(),
            ],
            Scenario::Base => vec![
                "each open invoice is paid its client's average days late after its due date (from the client's paid invoices; the agency's average for a client with none; never early)".into(),
                "work in progress and reached milestones are invoiced today, then paid on terms plus the same average".into(),
            ],
            Scenario::Conservative => vec![
                format!("each open invoice is paid its client's worst days late after its due date, and at least {CONSERVATIVE_MARGIN_DAYS} days more than the average"),
                format!("balances more than {CONSERVATIVE_GIVE_UP_DAYS} days past due are not expected"),
                format!("work in progress and reached milestones are invoiced in {CONSERVATIVE_INVOICE_DELAY_DAYS} days, then paid on terms plus the same lateness"),
            ],
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::Best => "best",
            Scenario::Base => "base",
            Scenario::Conservative => "conservative",
        }
    }
}

/// A client's (or the agency's) history of days late on paid invoices.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Lateness {
    pub average: Decimal,
    pub worst: i64,
}

impl Lateness {
    /// From the days late of each paid invoice; `None` without any.
    pub fn from_history(days_late: &[i64]) -> Option<Lateness> {
        Some(Lateness {
            average: super::pay::mean(days_late)?,
            worst: days_late.iter().copied().max()?,
        })
    }

    /// Days the scenario moves a due date by.
    pub fn shift(&self, scenario: Scenario) -> i64 {
        let avg = whole_days(self.average).max(0);
        match scenario {
            Scenario::Best => 0,
            Scenario::Base => avg,
            Scenario::Conservative => self.worst.max(avg + CONSERVATIVE_MARGIN_DAYS).max(0),
        }
    }
}

fn plus(d: Date, days: i64) -> Date {
    d.checked_add(Span::new().days(days)).unwrap_or(d)
}

/// When an open invoice due on `due` is expected, seen from `today`; `None`
/// when the scenario does not expect it.
pub fn expected_for_invoice(
    due: Option<Date>,
    today: Date,
    late: Lateness,
    scenario: Scenario,
) -> Option<Date> {
    let due = due.unwrap_or(today);
    if scenario == Scenario::Conservative
        && days_past_due(Some(due), today) > CONSERVATIVE_GIVE_UP_DAYS
    {
        return None;
    }
    Some(plus(due, late.shift(scenario)).max(today))
}

/// When work not yet invoiced is expected: invoiced per the scenario, then
/// paid on `terms_days` plus the scenario's lateness.
pub fn expected_for_unbilled(
    today: Date,
    terms_days: u32,
    late: Lateness,
    scenario: Scenario,
) -> Date {
    let invoiced = match scenario {
        Scenario::Conservative => plus(today, CONSERVATIVE_INVOICE_DELAY_DAYS),
        _ => today,
    };
    plus(invoiced, i64::from(terms_days) + late.shift(scenario)).max(today)
}

/// Where a date falls in a forecast of `weeks` weeks starting on `start`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Slot {
    /// 0-based week index.
    Week(usize),
    /// After the last week.
    Beyond,
}

pub fn slot(start: Date, weeks: usize, date: Date) -> Slot {
    let days = days_past_due(Some(start), date).max(0);
    let w = usize::try_from(days / 7).unwrap_or(usize::MAX);
    if w < weeks {
        Slot::Week(w)
    } else {
        Slot::Beyond
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn scenarios_shift_by_history() {
        let late = Lateness::from_history(&[10, 20, 3]).unwrap();
        assert_eq!(late.worst, 20);
        assert_eq!(late.shift(Scenario::Best), 0);
        assert_eq!(late.shift(Scenario::Base), 11, "33/3 = 11");
        assert_eq!(late.shift(Scenario::Conservative), 20);
        let steady = Lateness::from_history(&[5, 5]).unwrap();
        assert_eq!(
            steady.shift(Scenario::Conservative),
            12,
            "worst 5 < average + 7"
        );
        let early = Lateness::from_history(&[-4]).unwrap();
        assert_eq!(early.shift(Scenario::Base), 0, "never expected before due");
        assert_eq!(Lateness::from_history(&[]), None);
        assert_eq!(dec!(11), late.average);
    }

    #[test]
    fn invoices_land_by_scenario() {
        let today = d("2026-11-20");
        let late = Lateness {
            average: dec!(10),
            worst: 30,
        };
        let due = Some(d("2026-11-25"));
        assert_eq!(
            expected_for_invoice(due, today, late, Scenario::Best),
            Some(d("2026-11-25"))
        );
        assert_eq!(
            expected_for_invoice(due, today, late, Scenario::Base),
            Some(d("2026-12-05"))
        );
        assert_eq!(
            expected_for_invoice(due, today, late, Scenario::Conservative),
            Some(d("2026-12-25"))
        );
        let overdue = Some(d("2026-11-01"));
        assert_eq!(
            expected_for_invoice(overdue, today, late, Scenario::Best),
            Some(today),
            "owed now"
        );
        let ancient = Some(d("2026-08-01"));
        assert_eq!(
            expected_for_invoice(ancient, today, late, Scenario::Conservative),
            None
        );
        assert_eq!(
            expected_for_invoice(ancient, today, late, Scenario::Base),
            Some(today)
        );
        assert_eq!(
            expected_for_unbilled(today, 30, late, Scenario::Conservative),
            d("2027-02-02"),
            "14 days to invoice + 30 terms + 30 worst"
        );
        assert_eq!(
            expected_for_unbilled(today, 30, late, Scenario::Best),
            d("2026-12-20")
        );
    }

    #[test]
    fn weeks_slot_dates() {
        let start = d("2026-11-20");
        assert_eq!(slot(start, 13, d("2026-11-01")), Slot::Week(0));
        assert_eq!(slot(start, 13, d("2026-11-26")), Slot::Week(0));
        assert_eq!(slot(start, 13, d("2026-11-27")), Slot::Week(1));
        assert_eq!(slot(start, 1, d("2026-11-27")), Slot::Beyond);
    }
}
