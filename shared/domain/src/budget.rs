//! Budget burn and alerts. Each threshold of each measure is raised once, when
//! burn first reaches it; un-approving work lowers burn but never re-arms an alert
//! (a second mail for the same threshold is noise, per Harvest's users).

use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use crate::project::Budget;

#[derive(
    Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Measure {
    Hours,
    Fees,
}

/// How much of a budget has been used, as a percentage (two decimals).
pub fn percent_used(used: Decimal, budget: Decimal) -> Option<Decimal> {
    if budget <= Decimal::ZERO {
        return None;
    }
    used.checked_mul(Decimal::from(100))?
        .checked_div(budget)
        .map(|p| {
            // Always two places, so "85.00" reads the same for hours and fees.
            let mut p = p.round_dp(2);
            p.rescale(2);
            p
        })
}

/// Thresholds (measure, percent) reached by `hours` and `fees` that are not in
/// `already`, lowest first. Compared exactly: 79.995 % shows as "80.00" but has
/// not reached 80 %, so pass exact (unrounded) hours too.
pub fn thresholds_reached(
    budget: &Budget,
    hours: Decimal,
    fees: Decimal,
    already: &[(Measure, u32)],
) -> Vec<(Measure, u32)> {
    let mut out = Vec::new();
    let mut thresholds = budget.alert_thresholds.clone();
    thresholds.sort_unstable();
    thresholds.dedup();
    for (measure, limit, used) in [
        (Measure::Hours, budget.hours, hours),
        (Measure::Fees, budget.fees, fees),
    ] {
        let Some(limit) = limit.filter(|l| *l > Decimal::ZERO) else {
            continue;
        };
        for &t in &thresholds {
            // used / limit >= t / 100, without dividing (nor rounding).
            let reached = match (
                used.checked_mul(Decimal::from(100)),
                limit.checked_mul(Decimal::from(t)),
            ) {
                (Some(u), Some(l)) => u >= l,
                _ => false,
            };
            if reached && !already.contains(&(measure, t)) {
                out.push((measure, t));
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    fn budget() -> Budget {
        Budget {
            hours: Some(dec!(100)),
            fees: Some(dec!(10000)),
            alert_thresholds: vec![100, 80],
        }
    }

    #[test]
    fn a_threshold_is_reached_at_exactly_its_percentage() {
        assert!(thresholds_reached(&budget(), dec!(79.99), dec!(0), &[]).is_empty());
        assert_eq!(
            thresholds_reached(&budget(), dec!(80), dec!(0), &[]),
            vec![(Measure::Hours, 80)]
        );
        assert_eq!(
            thresholds_reached(&budget(), dec!(120), dec!(8000), &[]),
            vec![
                (Measure::Hours, 80),
                (Measure::Hours, 100),
                (Measure::Fees, 80)
            ]
        );
    }

    #[test]
    fn a_threshold_is_not_reached_by_rounding() {
        assert!(thresholds_reached(&budget(), dec!(0), dec!(7999.95), &[]).is_empty());
        assert!(thresholds_reached(&budget(), dec!(79.999), dec!(0), &[]).is_empty());
        assert_eq!(
            thresholds_reached(&budget(), dec!(0), dec!(8000), &[]),
            vec![(Measure::Fees, 80)]
        );
    }

    #[test]
    fn raised_thresholds_are_not_raised_again() {
        let already = [(Measure::Hours, 80)];
        assert_eq!(
            thresholds_reached(&budget(), dec!(90), dec!(0), &already),
            Vec::<(Measure, u32)>::new()
        );
        assert_eq!(
            thresholds_reached(&budget(), dec!(100), dec!(0), &already),
            vec![(Measure::Hours, 100)]
        );
    }

    #[test]
    fn no_budget_no_alerts() {
        let none = Budget::default();
        assert!(thresholds_reached(&none, dec!(1000), dec!(1000), &[]).is_empty());
        assert_eq!(percent_used(dec!(5), dec!(0)), None);
        assert_eq!(percent_used(dec!(1), dec!(3)), Some(dec!(33.33)));
    }
}
