//! Money: exact decimals in an ISO 4217 currency, rounded to the currency's minor
//! unit by a named rule. Amounts travel as strings so no float ever touches them.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::{Deserialize, Serialize};

/// An ISO 4217 code the system bills in, with its minor unit.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Currency(usize);

/// The currencies agencies we serve bill in, and their minor-unit exponent.
const CURRENCIES: &[(&str, u32)] = &[
    ("AUD", 2),
    ("BRL", 2),
    ("CAD", 2),
    ("CHF", 2),
    ("CLP", 0),
    ("CNY", 2),
    ("CZK", 2),
    ("DKK", 2),
    ("EUR", 2),
    ("GBP", 2),
    ("HKD", 2),
    ("HUF", 2),
    ("IDR", 2),
    ("ILS", 2),
    ("INR", 2),
    ("ISK", 0),
    ("JPY", 0),
    ("KRW", 0),
    ("KWD", 3),
    ("MXN", 2),
    ("NOK", 2),
    ("NZD", 2),
    ("PLN", 2),
    ("SEK", 2),
    ("SGD", 2),
    ("THB", 2),
    ("TND", 3),
    ("TRY", 2),
    ("USD", 2),
    ("ZAR", 2),
    ("BHD", 3),
    ("AED", 2),
    ("SAR", 2),
    ("RON", 2),
];

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
#[error("{0:?} is not a supported ISO 4217 currency code")]
pub struct UnknownCurrency(pub String);

impl Currency {
    pub fn parse(code: &str) -> Result<Currency, UnknownCurrency> {
        CURRENCIES
            .iter()
            .position(|(c, _)| *c == code)
            .map(Currency)
            .ok_or_else(|| UnknownCurrency(code.to_owned()))
    }
    pub fn code(self) -> &'static str {
        CURRENCIES[self.0].0
    }
    /// Digits after the decimal point in the minor unit (2 for EUR, 0 for JPY).
    pub fn minor_units(self) -> u32 {
        CURRENCIES[self.0].1
    }
}

impl TryFrom<String> for Currency {
    type Error = UnknownCurrency;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Currency::parse(&s)
    }
}
impl From<Currency> for String {
    fn from(c: Currency) -> String {
        c.code().to_owned()
    }
}

/// In the OpenAPI document the codes are an enum, so a client (or a fuzzer)
/// sees exactly which ones are accepted.
impl utoipa::PartialSchema for Currency {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{ObjectBuilder, Type};
        ObjectBuilder::new()
            .schema_type(Type::String)
            .enum_values(Some(CURRENCIES.iter().map(|(code, _)| *code)))
            .examples(["EUR"])
            .into()
    }
}
impl utoipa::ToSchema for Currency {}

impl std::fmt::Display for Currency {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.code())
    }
}

/// The named ways we round to a minor unit. Invoices say which one they used.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MoneyRounding {
    /// 0.5 away from zero: what clients and most accounting tools expect.
    #[default]
    HalfUp,
    /// 0.5 to the even neighbour (banker's rounding).
    HalfEven,
}

impl MoneyRounding {
    fn strategy(self) -> RoundingStrategy {
        match self {
            MoneyRounding::HalfUp => RoundingStrategy::MidpointAwayFromZero,
            MoneyRounding::HalfEven => RoundingStrategy::MidpointNearestEven,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Money {
    #[schema(value_type = String, example = "1250.00")]
    #[serde(with = "crate::quantity::money")]
    pub amount: Decimal,
    pub currency: Currency,
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum MoneyError {
    #[error("amount has more decimals than {currency} allows ({minor})")]
    TooPrecise { currency: Currency, minor: u32 },
    #[error("amount must not be negative")]
    Negative,
    #[error("cannot combine {0} with {1}")]
    CurrencyMismatch(Currency, Currency),
    #[error("amount out of range")]
    Overflow,
}

impl Money {
    /// An amount already in minor-unit precision; anything finer is refused, not rounded.
    pub fn exact(amount: Decimal, currency: Currency) -> Result<Money, MoneyError> {
        if amount.normalize().scale() > currency.minor_units() {
            return Err(MoneyError::TooPrecise {
                currency,
                minor: currency.minor_units(),
            });
        }
        Ok(Money {
            amount: amount.round_dp(currency.minor_units()),
            currency,
        })
    }

    /// Rounds any exact amount (a rate times hours, say) to the minor unit.
    pub fn rounded(amount: Decimal, currency: Currency, rule: MoneyRounding) -> Money {
        Money {
            amount: amount.round_dp_with_strategy(currency.minor_units(), rule.strategy()),
            currency,
        }
    }

    /// The amount in minor units (cents), for exporters that want integers.
    pub fn minor(&self) -> Option<i64> {
        let scaled = self
            .amount
            .checked_mul(Decimal::from(10i64.pow(self.currency.minor_units())))?;
        i64::try_from(scaled.trunc()).ok()
    }

    pub fn checked_add(self, other: Money) -> Result<Money, MoneyError> {
        if self.currency != other.currency {
            return Err(MoneyError::CurrencyMismatch(self.currency, other.currency));
        }
        Ok(Money {
            amount: self
                .amount
                .checked_add(other.amount)
                .ok_or(MoneyError::Overflow)?,
            currency: self.currency,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rust_decimal_macros::dec;

    #[test]
    fn minor_units_follow_iso_4217() {
        assert_eq!(Currency::parse("EUR").unwrap().minor_units(), 2);
        assert_eq!(Currency::parse("JPY").unwrap().minor_units(), 0);
        assert_eq!(Currency::parse("KWD").unwrap().minor_units(), 3);
        assert!(Currency::parse("eur").is_err());
        assert!(Currency::parse("XXX").is_err());
    }

    #[test]
    fn exact_refuses_sub_minor_precision() {
        let eur = Currency::parse("EUR").unwrap();
        assert!(Money::exact(dec!(10.005), eur).is_err());
        assert_eq!(Money::exact(dec!(10.50), eur).unwrap().amount, dec!(10.50));
        assert_eq!(Money::exact(dec!(10.500), eur).unwrap().amount, dec!(10.50));
        let jpy = Currency::parse("JPY").unwrap();
        assert!(Money::exact(dec!(100.5), jpy).is_err());
    }

    #[test]
    fn named_rounding_rules_differ_only_at_midpoints() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(
            Money::rounded(dec!(13.745), eur, MoneyRounding::HalfUp).amount,
            dec!(13.75)
        );
        assert_eq!(
            Money::rounded(dec!(13.745), eur, MoneyRounding::HalfEven).amount,
            dec!(13.74)
        );
        assert_eq!(
            Money::rounded(dec!(13.7449), eur, MoneyRounding::HalfUp).amount,
            dec!(13.74)
        );
    }

    #[test]
    fn minor_units_are_integers() {
        let eur = Currency::parse("EUR").unwrap();
        assert_eq!(Money::exact(dec!(12.34), eur).unwrap().minor(), Some(1234));
    }

    #[test]
    fn money_serialises_amount_as_a_string() {
        let eur = Currency::parse("EUR").unwrap();
        let json = serde_json::to_value(Money::exact(dec!(27.50), eur).unwrap()).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"amount": "27.50", "currency": "EUR"})
        );
    }
}
