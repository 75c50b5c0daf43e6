//! How long invoices take to be paid: days to pay (issue to the payment that
//! settled it) and days late (due date to that payment; early is negative).

use jiff::civil::Date;
use rust_decimal::Decimal;

pub fn days_between(from: Date, to: Date) -> i64 {
    i64::from((to - from).get_days())
}

/// The mean of whole-day figures, exact; `None` for no figures.
pub fn mean(days: &[i64]) -> Option<Decimal> {
    if days.is_empty() {
        return None;
    }
    let sum: i64 = days.iter().sum();
    Some(Decimal::from(sum) / Decimal::from(days.len() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn mean_of_days() {
        let d = |s: &str| s.parse::<Date>().unwrap();
        assert_eq!(days_between(d("2026-01-31"), d("2026-03-02")), 30);
        assert_eq!(days_between(d("2026-03-02"), d("2026-03-01")), -1);
        assert_eq!(mean(&[10, 20, 31]), Some(dec!(61) / dec!(3)));
        assert_eq!(mean(&[]), None);
    }
}
