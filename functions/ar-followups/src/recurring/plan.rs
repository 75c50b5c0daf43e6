//! Recurring periods, pure. A schedule's periods are civil dates computed
//! from its anchor alone, never from when a run happened: so a period cannot
//! drift across DST (no clock time is involved), a short month bills on its
//! last day and the next month returns to the anchor (31st -> 28th -> 31st),
//! and a run after an outage catches up on the original anchor.
//!
//! Time over a retainer's allowance is billed in the order it was worked
//! (date, then id): the part of an entry beyond the allowance is overage.

use jiff::civil::{Date, Weekday};
use jiff::tz::TimeZone;
use jiff::{Timestamp, ToSpan};
use rust_decimal::Decimal;

/// Most periods one run invoices for one schedule; a longer backlog is caught
/// up by the following runs (each continues where the last stopped).
pub const MAX_PERIODS_PER_RUN: usize = 60;

/// What a schedule's periods start on.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Anchor {
    /// A day of the month, 1..=31; a month without it starts on its last day.
    Monthly(i8),
    Weekly(Weekday),
}

/// One period: `start` and `end` inclusive (the day before the next start).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Period {
    pub start: Date,
    pub end: Date,
}

/// The anchor day of `year`-`month`: the day itself, or the month's last day.
fn anchored(day: i8, year: i16, month: i8) -> Option<Date> {
    let first = Date::new(year, month, 1).ok()?;
    Date::new(year, month, day.min(first.days_in_month())).ok()
}

/// The first anchor day on or after `on`.
pub fn first_start(anchor: Anchor, on: Date) -> Option<Date> {
    match anchor {
        Anchor::Monthly(day) => {
            let here = anchored(day, on.year(), on.month())?;
            if here >= on {
                Some(here)
            } else {
                let next = on.first_of_month().checked_add(1.month()).ok()?;
                anchored(day, next.year(), next.month())
            }
        }
        Anchor::Weekly(w) => {
            let ahead =
                (w.to_monday_zero_offset() - on.weekday().to_monday_zero_offset()).rem_euclid(7);
            on.checked_add(i64::from(ahead).days()).ok()
        }
    }
}

/// The period that starts on `start` (an anchor day).
pub fn period_at(anchor: Anchor, start: Date) -> Option<Period> {
    let next = match anchor {
        // From the month, not the day: a clamped 28th still leads to the 31st.
        Anchor::Monthly(day) => {
            let next = start.first_of_month().checked_add(1.month()).ok()?;
            anchored(day, next.year(), next.month())?
        }
        Anchor::Weekly(_) => start.checked_add(7.days()).ok()?,
    };
    Some(Period {
        start,
        end: next.yesterday().ok()?,
    })
}

/// The periods due by `today` and not yet billed: those starting on or after
/// the schedule's start and after `billed_through`, no later than `today`
/// and `end_on`, oldest first, at most `max`.
pub fn due(
    anchor: Anchor,
    start_on: Date,
    end_on: Option<Date>,
    billed_through: Option<Date>,
    today: Date,
    max: usize,
) -> Vec<Period> {
    let from = match billed_through.and_then(|b| b.tomorrow().ok()) {
        Some(after) if after > start_on => after,
        _ => start_on,
    };
    let mut out = Vec::new();
    let mut next = first_start(anchor, from);
    while let Some(start) = next {
        if start > today || end_on.is_some_and(|e| start > e) || out.len() >= max {
            break;
        }
        let Some(p) = period_at(anchor, start) else {
            break;
        };
        out.push(p);
        next = p.end.tomorrow().ok();
    }
    out
}

/// The tenant's date for a run of `as_of`: a run for the clock's own UTC date
/// (the scheduled run) takes the date it is now in the tenant's zone, so a
/// Berlin period starts at Berlin midnight; a run for a named other date (a
/// catch-up, `--as-of`) takes that date as the tenant's.
pub fn tenant_today(as_of: Date, now: Timestamp, tz: &TimeZone) -> Date {
    if now.to_zoned(TimeZone::UTC).date() == as_of {
        now.to_zoned(tz.clone()).date()
    } else {
        as_of
    }
}

/// How a period's approved time divides: the minutes of each entry (in the
/// order given) beyond the allowance, and what carries into the next period.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Usage {
    pub over: Vec<Decimal>,
    pub carried: Decimal,
}

/// Splits `entries` (minutes, in worked order) against `allowance` minutes
/// (included plus carried); with rollover, unused minutes carry, at most `cap`.
pub fn usage(entries: &[Decimal], allowance: Decimal, rollover: Option<Decimal>) -> Usage {
    let mut left = allowance.max(Decimal::ZERO);
    let over = entries
        .iter()
        .map(|&m| {
            let covered = m.min(left);
            left -= covered;
            m - covered
        })
        .collect();
    let carried = match rollover {
        Some(cap) => left.min(cap.max(Decimal::ZERO)),
        None => Decimal::ZERO,
    };
    Usage { over, carried }
}

#[cfg(test)]
mod tests {
    use super::*;
    use jiff::civil::date;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn starts(anchor: Anchor, from: Date, to: Date) -> Vec<Date> {
        due(anchor, from, None, None, to, 10_000)
            .iter()
            .map(|p| p.start)
            .collect()
    }

    #[test]
    fn the_31st_bills_on_month_ends_and_returns_to_the_31st() {
        let got = starts(Anchor::Monthly(31), date(2026, 1, 1), date(2026, 7, 31));
        assert_eq!(
            got,
            [
                date(2026, 1, 31),
                date(2026, 2, 28),
                date(2026, 3, 31),
                date(2026, 4, 30),
                date(2026, 5, 31),
                date(2026, 6, 30),
                date(2026, 7, 31),
            ]
        );
        // A leap year's February ends on the 29th.
        let leap = starts(Anchor::Monthly(31), date(2028, 2, 1), date(2028, 3, 31));
        assert_eq!(leap, [date(2028, 2, 29), date(2028, 3, 31)]);
        let p = period_at(Anchor::Monthly(31), date(2026, 2, 28)).unwrap();
        assert_eq!(p.end, date(2026, 3, 30));
        let p = period_at(Anchor::Monthly(30), date(2026, 1, 30)).unwrap();
        assert_eq!(p.end, date(2026, 2, 27));
    }

    #[test]
    fn weekly_periods_start_on_their_weekday() {
        let got = starts(
            Anchor::Weekly(Weekday::Monday),
            date(2026, 3, 25),
            date(2026, 4, 14),
        );
        assert_eq!(
            got,
            [date(2026, 3, 30), date(2026, 4, 6), date(2026, 4, 13)]
        );
    }

    /// IN #12158: a recurring invoice moved by a day when the clocks changed.
    /// Periods here are civil dates, and the tenant's date is read in its zone.
    #[test]
    fn recurring_dates_do_not_drift_across_dst() {
        for zone in ["Europe/Berlin", "America/New_York"] {
            let tz = TimeZone::get(zone).unwrap();
            // Every day of 2026 at 00:30 and 23:30 local time, DST changes included.
            let mut day = date(2026, 1, 1);
            while day.year() == 2026 {
                for (h, m) in [(0, 30), (23, 30)] {
                    let local = day.at(h, m, 0, 0).to_zoned(tz.clone()).unwrap();
                    let now = local.timestamp();
                    let as_of = now.to_zoned(TimeZone::UTC).date();
                    assert_eq!(tenant_today(as_of, now, &tz), day, "{zone} {local}");
                }
                day = day.tomorrow().unwrap();
            }
            let got = starts(Anchor::Monthly(29), date(2026, 3, 1), date(2026, 11, 30));
            assert!(got.iter().all(|d| d.day() == 29), "{got:?}");
        }
    }

    /// IN #3407: after an outage the schedule re-anchored to the day it came back.
    #[test]
    fn an_outage_is_caught_up_on_the_original_anchor() {
        let anchor = Anchor::Monthly(15);
        let first = due(anchor, date(2026, 1, 1), None, None, date(2026, 1, 20), 60);
        assert_eq!(first.len(), 1);
        // Down from Jan 20 to Mar 2: the run then bills Feb 15 only, still on the 15th.
        let after = due(
            anchor,
            date(2026, 1, 1),
            None,
            Some(first[0].end),
            date(2026, 3, 2),
            60,
        );
        assert_eq!(after.len(), 1);
        assert_eq!(after[0].start, date(2026, 2, 15));
        let later = due(
            anchor,
            date(2026, 1, 1),
            None,
            Some(after[0].end),
            date(2026, 3, 20),
            60,
        );
        assert_eq!(later[0].start, date(2026, 3, 15));
    }

    #[test]
    fn a_schedule_ends_on_its_end_date() {
        let got = due(
            Anchor::Monthly(1),
            date(2026, 1, 1),
            Some(date(2026, 3, 15)),
            None,
            date(2026, 12, 1),
            60,
        );
        assert_eq!(got.len(), 3);
        assert_eq!(got[2].start, date(2026, 3, 1));
    }

    #[test]
    fn time_beyond_the_allowance_is_overage_and_rollover_is_capped() {
        let u = usage(&[dec!(300), dec!(300), dec!(120)], dec!(480), None);
        assert_eq!(u.over, [dec!(0), dec!(120), dec!(120)]);
        assert_eq!(u.carried, dec!(0));
        let u = usage(&[dec!(60)], dec!(600), Some(dec!(300)));
        assert_eq!(u.over, [dec!(0)]);
        assert_eq!(u.carried, dec!(300));
        let u = usage(&[dec!(60)], dec!(600), Some(dec!(900)));
        assert_eq!(u.carried, dec!(540));
    }

    fn anchors() -> impl Strategy<Value = Anchor> {
        prop_oneof![
            (1i8..=31).prop_map(Anchor::Monthly),
            (0i8..7).prop_map(|d| Anchor::Weekly(Weekday::from_monday_zero_offset(d).unwrap())),
        ]
    }

    proptest! {
        /// However the runs fall (daily, twice a day, with outages of any
        /// length), each period is billed exactly once, periods tile the
        /// calendar without gap or overlap, and every start is on the anchor.
        #[test]
        fn each_period_once_on_its_anchor_over_any_run_schedule(
            anchor in anchors(),
            start_offset in 0i64..400,
            gaps in proptest::collection::vec(0i64..60, 1..40),
        ) {
            let start_on = date(2025, 1, 1).checked_add(start_offset.days()).unwrap();
            let mut today = start_on;
            let mut billed_through = None;
            let mut billed: Vec<Period> = Vec::new();
            for gap in gaps {
                today = today.checked_add(gap.days()).unwrap();
                // A run, then the same run again (an overlapping or repeated run).
                for _ in 0..2 {
                    let periods = due(anchor, start_on, None, billed_through, today, MAX_PERIODS_PER_RUN);
                    for p in &periods {
                        prop_assert!(p.start <= today);
                        billed_through = Some(p.end);
                    }
                    billed.extend(periods);
                }
            }
            let all = due(anchor, start_on, None, None, today, 100_000);
            // Every period due by the last run is billed (the per-run cap can
            // leave the newest ones for later runs), each once, in order.
            prop_assert!(billed.len() <= all.len());
            prop_assert_eq!(&all[..billed.len()], &billed[..]);
            for w in billed.windows(2) {
                prop_assert_eq!(w[0].end.tomorrow().unwrap(), w[1].start);
            }
            for p in &billed {
                match anchor {
                    Anchor::Monthly(d) => prop_assert_eq!(p.start.day(), d.min(p.start.days_in_month())),
                    Anchor::Weekly(w) => prop_assert_eq!(p.start.weekday(), w),
                }
                prop_assert!(p.start >= start_on);
            }
        }

        /// Overage plus covered time is all the time, and nothing is carried
        /// beyond the cap or beyond what was unused.
        #[test]
        fn usage_accounts_for_every_minute(
            entries in proptest::collection::vec(1u32..600, 0..30),
            allowance in 0u32..6000,
            cap in proptest::option::of(0u32..3000),
        ) {
            let minutes: Vec<Decimal> = entries.iter().map(|&m| Decimal::from(m)).collect();
            let total: Decimal = minutes.iter().sum();
            let u = usage(&minutes, Decimal::from(allowance), cap.map(Decimal::from));
            let over: Decimal = u.over.iter().sum();
            prop_assert_eq!(over, (total - Decimal::from(allowance)).max(Decimal::ZERO));
            let unused = (Decimal::from(allowance) - total).max(Decimal::ZERO);
            prop_assert_eq!(u.carried, cap.map_or(Decimal::ZERO, |c| unused.min(Decimal::from(c))));
        }
    }
}
