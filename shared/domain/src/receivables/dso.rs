//! Days sales outstanding, by three named methods (a report says which one
//! each number is):
//!
//! - **simple**: ending AR / credit sales of the period x days in the period;
//! - **average AR**: (opening AR + ending AR) / 2 / credit sales x days;
//! - **countback**: walk back period by period (most recent first) through
//!   credit sales until the ending AR is used up; the days of every period
//!   fully used plus the used share of the last one. AR 212k against monthly
//!   sales 100k, 80k, 70k (30-day months) is 30 + 30 + 32/70 x 30 = 73.7 days.
//!
//! No sales means no figure (`None`), never a division by zero.

use rust_decimal::Decimal;

/// Credit sales of one period of `days` days.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SalesPeriod {
    pub sales: Decimal,
    pub days: u32,
}

pub fn simple(ending_ar: Decimal, sales: Decimal, days: u32) -> Option<Decimal> {
    if sales <= Decimal::ZERO {
        return None;
    }
    Some(ending_ar * Decimal::from(days) / sales)
}

pub fn average_ar(
    opening_ar: Decimal,
    ending_ar: Decimal,
    sales: Decimal,
    days: u32,
) -> Option<Decimal> {
    simple((opening_ar + ending_ar) / Decimal::TWO, sales, days)
}

/// A countback result: `exhausted` when the known sales history ran out
/// before the AR did (the days are then a lower bound).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Countback {
    pub days: Decimal,
    pub exhausted: bool,
}

/// `periods` most recent first.
pub fn countback(ending_ar: Decimal, periods: &[SalesPeriod]) -> Countback {
    let mut left = ending_ar.max(Decimal::ZERO);
    let mut days = Decimal::ZERO;
    for p in periods {
        if left.is_zero() {
            break;
        }
        if p.sales <= Decimal::ZERO {
            days += Decimal::from(p.days);
            continue;
        }
        if left >= p.sales {
            left -= p.sales;
            days += Decimal::from(p.days);
        } else {
            days += left * Decimal::from(p.days) / p.sales;
            left = Decimal::ZERO;
        }
    }
    Countback {
        days,
        exhausted: !left.is_zero(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::receivables::round_days;
    use proptest::prelude::*;
    use rust_decimal_macros::dec;

    fn month(sales: Decimal) -> SalesPeriod {
        SalesPeriod { sales, days: 30 }
    }

    #[test]
    fn countback_worked_example_212k_against_100k_80k_70k_is_73_7_days() {
        let c = countback(
            dec!(212000),
            &[month(dec!(100000)), month(dec!(80000)), month(dec!(70000))],
        );
        assert!(!c.exhausted);
        assert_eq!(round_days(c.days), dec!(73.7));
    }

    #[test]
    fn countback_that_runs_out_of_history_says_so() {
        let c = countback(dec!(300), &[month(dec!(100)), month(dec!(100))]);
        assert!(c.exhausted);
        assert_eq!(c.days, dec!(60));
        let none = countback(Decimal::ZERO, &[month(dec!(100))]);
        assert_eq!(
            none,
            Countback {
                days: Decimal::ZERO,
                exhausted: false
            }
        );
    }

    #[test]
    fn simple_and_average_ar() {
        assert_eq!(simple(dec!(50), dec!(300), 90), Some(dec!(15)));
        assert_eq!(
            simple(dec!(50), Decimal::ZERO, 90),
            None,
            "no sales: no figure"
        );
        assert_eq!(
            average_ar(dec!(30), dec!(50), dec!(300), 90),
            Some(dec!(12))
        );
    }

    proptest! {
        /// More AR against the same sales never reads as fewer days.
        #[test]
        fn countback_grows_with_ar(a in 0u32..400_000, b in 0u32..400_000,
                                   s in proptest::collection::vec(1u32..200_000, 1..6)) {
            let periods: Vec<SalesPeriod> = s.iter().map(|x| month(Decimal::from(*x))).collect();
            let (lo, hi) = (a.min(b), a.max(b));
            prop_assert!(countback(Decimal::from(lo), &periods).days <= countback(Decimal::from(hi), &periods).days);
        }

        /// With one period, countback and simple agree while AR is below sales.
        #[test]
        fn countback_of_one_period_is_simple(ar in 0u32..1000, extra in 1u32..1000) {
            let sales = Decimal::from(ar + extra);
            let c = countback(Decimal::from(ar), &[SalesPeriod { sales, days: 31 }]);
            prop_assert_eq!(Some(c.days), simple(Decimal::from(ar), sales, 31));
        }
    }
}
