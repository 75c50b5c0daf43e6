//! Receivables maths, pure: what an invoice owed on a given day, which aging
//! bucket that falls in, days sales outstanding by three named methods, how
//! long clients take to pay, and where expected cash lands in a forecast.
//!
//! Amounts stay exact [`Decimal`]s in one currency each; callers keep one sum
//! per currency and never add currencies together. The named roundings:
//!
//! | figure | rule |
//! |---|---|
//! | money shown | the currency's minor unit, [`crate::MoneyRounding::HalfUp`] ([`round_money`]) |
//! | days (DSO, days to pay, days late) | [`DAYS_DP`] decimal, half away from zero ([`round_days`]) |
//! | a client's days late used to shift a due date | whole days, half away from zero ([`whole_days`]) |

pub mod aging;
pub mod as_of;
pub mod dso;
pub mod forecast;
pub mod pay;

pub use aging::{Bucket, Buckets};
pub use as_of::{Ending, InvoiceFacts, Movement, MovementKind};
pub use dso::{Countback, SalesPeriod};
pub use forecast::{Lateness, Scenario, Slot};

use rust_decimal::{Decimal, RoundingStrategy};

use crate::{Currency, Money, MoneyRounding};

/// Decimals of every day figure in reports.
pub const DAYS_DP: u32 = 1;

/// A day figure as reports print it.
pub fn round_days(d: Decimal) -> Decimal {
    let mut x = d.round_dp_with_strategy(DAYS_DP, RoundingStrategy::MidpointAwayFromZero);
    x.rescale(DAYS_DP);
    x
}

/// A day figure as a whole number of days (to move a date by it).
pub fn whole_days(d: Decimal) -> i64 {
    let r = d.round_dp_with_strategy(0, RoundingStrategy::MidpointAwayFromZero);
    i64::try_from(r.mantissa() / 10i128.pow(r.scale())).unwrap_or(0)
}

/// An exact sum as shown: the currency's minor unit, half up, with all its
/// minor digits ("100.00", "5" for JPY).
pub fn round_money(d: Decimal, currency: Currency) -> Decimal {
    let mut x = Money::rounded(d, currency, MoneyRounding::HalfUp).amount;
    x.rescale(currency.minor_units());
    x
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn days_round_half_away_from_zero() {
        assert_eq!(round_days(dec!(73.714)), dec!(73.7));
        assert_eq!(round_days(dec!(0.05)), dec!(0.1));
        assert_eq!(
            round_days(dec!(20)).to_string(),
            "20.0",
            "always one decimal"
        );
        assert_eq!(whole_days(dec!(2.5)), 3);
        assert_eq!(whole_days(dec!(-2.5)), -3);
        assert_eq!(whole_days(dec!(4.4)), 4);
    }

    #[test]
    fn money_keeps_the_currency_minor_digits() {
        let eur = Currency::parse("EUR").unwrap();
        let jpy = Currency::parse("JPY").unwrap();
        assert_eq!(round_money(dec!(10.005), eur).to_string(), "10.01");
        assert_eq!(round_money(dec!(10), eur).to_string(), "10.00");
        assert_eq!(round_money(dec!(10.5), jpy).to_string(), "11");
    }
}
