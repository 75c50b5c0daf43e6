//! Aging buckets: how far past its due date an open balance is on a day.
//! An invoice is `current` up to and including its due date (and when it has
//! none); day 1 past due is the first day of `days_1_30`.

use jiff::civil::Date;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Bucket {
    Current,
    #[serde(rename = "days_1_30")]
    Days1To30,
    #[serde(rename = "days_31_60")]
    Days31To60,
    #[serde(rename = "days_61_90")]
    Days61To90,
    #[serde(rename = "days_over_90")]
    DaysOver90,
}

impl Bucket {
    pub const ALL: [Bucket; 5] = [
        Bucket::Current,
        Bucket::Days1To30,
        Bucket::Days31To60,
        Bucket::Days61To90,
        Bucket::DaysOver90,
    ];

    /// The bucket of a balance `days` past due (zero or less: not yet due).
    pub fn for_days_past_due(days: i64) -> Bucket {
        match days {
            i64::MIN..=0 => Bucket::Current,
            1..=30 => Bucket::Days1To30,
            31..=60 => Bucket::Days31To60,
            61..=90 => Bucket::Days61To90,
            _ => Bucket::DaysOver90,
        }
    }

    /// The bucket of an invoice due on `due` as seen on `as_of`.
    pub fn on(due: Option<Date>, as_of: Date) -> Bucket {
        Bucket::for_days_past_due(days_past_due(due, as_of))
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Bucket::Current => "current",
            Bucket::Days1To30 => "days_1_30",
            Bucket::Days31To60 => "days_31_60",
            Bucket::Days61To90 => "days_61_90",
            Bucket::DaysOver90 => "days_over_90",
        }
    }
}

/// Days from `due` to `as_of` (negative before it; 0 without a due date).
pub fn days_past_due(due: Option<Date>, as_of: Date) -> i64 {
    due.map_or(0, |d| i64::from((as_of - d).get_days()))
}

/// Exact balances per bucket, in one currency.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Buckets {
    pub current: Decimal,
    pub days_1_30: Decimal,
    pub days_31_60: Decimal,
    pub days_61_90: Decimal,
    pub days_over_90: Decimal,
}

impl Buckets {
    pub fn add(&mut self, bucket: Bucket, amount: Decimal) {
        *self.slot(bucket) += amount;
    }
    pub fn get(&self, bucket: Bucket) -> Decimal {
        match bucket {
            Bucket::Current => self.current,
            Bucket::Days1To30 => self.days_1_30,
            Bucket::Days31To60 => self.days_31_60,
            Bucket::Days61To90 => self.days_61_90,
            Bucket::DaysOver90 => self.days_over_90,
        }
    }
    fn slot(&mut self, bucket: Bucket) -> &mut Decimal {
        match bucket {
            Bucket::Current => &mut self.current,
            Bucket::Days1To30 => &mut self.days_1_30,
            Bucket::Days31To60 => &mut self.days_31_60,
            Bucket::Days61To90 => &mut self.days_61_90,
            Bucket::DaysOver90 => &mut self.days_over_90,
        }
    }
    /// Adds every bucket of `other` (same currency, by the caller's keying).
    pub fn merge(&mut self, other: &Buckets) {
        for b in Bucket::ALL {
            self.add(b, other.get(b));
        }
    }
    pub fn total(&self) -> Decimal {
        Bucket::ALL.iter().map(|b| self.get(*b)).sum()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn d(s: &str) -> Date {
        s.parse().unwrap()
    }

    #[test]
    fn buckets_at_their_boundaries() {
        let due = d("2026-01-01");
        let on = |days: i64| {
            Bucket::on(
                Some(due),
                due.checked_add(jiff::Span::new().days(days)).unwrap(),
            )
        };
        assert_eq!(on(-1), Bucket::Current);
        assert_eq!(on(0), Bucket::Current, "due today is not past due");
        assert_eq!(on(1), Bucket::Days1To30);
        assert_eq!(on(30), Bucket::Days1To30);
        assert_eq!(on(31), Bucket::Days31To60);
        assert_eq!(on(60), Bucket::Days31To60);
        assert_eq!(on(61), Bucket::Days61To90);
        assert_eq!(on(90), Bucket::Days61To90);
        assert_eq!(on(91), Bucket::DaysOver90);
    }

    #[test]
    fn no_due_date_is_current() {
        assert_eq!(Bucket::on(None, d("2030-01-01")), Bucket::Current);
    }

    #[test]
    fn totals_add_every_bucket() {
        let mut b = Buckets::default();
        b.add(Bucket::Current, dec!(10));
        b.add(Bucket::DaysOver90, dec!(2.5));
        b.add(Bucket::DaysOver90, dec!(1));
        assert_eq!(b.days_over_90, dec!(3.5));
        assert_eq!(b.total(), dec!(13.5));
    }

    proptest! {
        /// Buckets never go backwards as a balance ages.
        #[test]
        fn later_days_never_make_a_balance_younger(a in -400i64..400, step in 0i64..400) {
            prop_assert!(Bucket::for_days_past_due(a) <= Bucket::for_days_past_due(a + step));
        }
    }
}
