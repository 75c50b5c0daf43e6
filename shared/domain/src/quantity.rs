//! How decimals travel in JSON. Quantities that are not money (hours,
//! capacities, percentages) are written as strings but read from a string or a
//! JSON number, because `"weekly_capacity_hours": 40` is what people type. A
//! number is read from its shortest exact text (`12.5` is 12.5, `0.1` is 0.1),
//! never through float arithmetic. Money is only ever a string: a JSON number
//! for money is refused with a message that says so, because a client that
//! sends floats for money will one day send 0.30000000000000004.
//!
//! Use as `#[serde(with = "agencyops_domain::quantity")]` (or `quantity::option`,
//! `quantity::money`, `quantity::money_option`).

use std::fmt;

use rust_decimal::Decimal;
use serde::de::{self, Deserializer, Visitor};
use serde::Serializer;

/// What a person reads when they send money as a JSON number.
pub const MONEY_IS_A_STRING: &str =
    "money must be a decimal string such as \"27.50\", not a JSON number";

/// Reads a quantity from a string or a JSON number.
pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
    d.deserialize_any(Exact { money: false })
}

/// Writes a quantity as a string, as every decimal is written.
pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    rust_decimal::serde::str::serialize(value, s)
}

/// An optional quantity (`null` or absent is `None`).
pub mod option {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        d.deserialize_option(Optional { money: false })
    }

    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        rust_decimal::serde::str_option::serialize(value, s)
    }
}

/// A quantity a patch may clear: absent is `None` (with `#[serde(default)]`),
/// `null` is `Some(None)`, a value is `Some(Some(_))`.
pub mod nullable {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<Option<Decimal>>, D::Error> {
        option::deserialize(d).map(Some)
    }
}

/// Money: a decimal string only.
pub mod money {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Decimal, D::Error> {
        d.deserialize_any(Exact { money: true })
    }

    pub fn serialize<S: Serializer>(value: &Decimal, s: S) -> Result<S::Ok, S::Error> {
        rust_decimal::serde::str::serialize(value, s)
    }
}

/// Optional money: a decimal string, `null` or absent.
pub mod money_option {
    use super::*;

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<Decimal>, D::Error> {
        d.deserialize_option(Optional { money: true })
    }

    pub fn serialize<S: Serializer>(value: &Option<Decimal>, s: S) -> Result<S::Ok, S::Error> {
        rust_decimal::serde::str_option::serialize(value, s)
    }
}

/// The exact decimal `text` spells; too many digits is an error, never rounding.
fn parse<E: de::Error>(text: &str) -> Result<Decimal, E> {
    Decimal::from_str_exact(text.trim())
        .map_err(|_| E::custom(format!("{text:?} is not a decimal number such as \"12.5\"")))
}

struct Exact {
    money: bool,
}

impl Exact {
    fn number<E: de::Error>(&self, text: impl FnOnce() -> String) -> Result<Decimal, E> {
        if self.money {
            Err(E::custom(MONEY_IS_A_STRING))
        } else {
            parse(&text())
        }
    }
}

impl<'de> Visitor<'de> for Exact {
    type Value = Decimal;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        if self.money {
            f.write_str("money as a decimal string such as \"27.50\"")
        } else {
            f.write_str("a decimal number such as \"12.5\" or 12.5")
        }
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Decimal, E> {
        parse(v)
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Decimal, E> {
        self.number(|| v.to_string())
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Decimal, E> {
        self.number(|| v.to_string())
    }

    /// `Display` of an f64 is the shortest text that reads back as the same
    /// float, which for any literal of up to 15 significant digits is the
    /// literal itself, and it never uses an exponent.
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Decimal, E> {
        if !v.is_finite() {
            return Err(E::custom("must be a finite number"));
        }
        self.number(|| v.to_string())
    }
}

struct Optional {
    money: bool,
}

impl<'de> Visitor<'de> for Optional {
    type Value = Option<Decimal>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        Exact { money: self.money }.expecting(f)?;
        f.write_str(" or null")
    }

    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(Present { money: self.money })
    }
}

/// The value of an optional decimal that is present: an empty string is
/// absent, as it always was for optional decimals written as strings.
struct Present {
    money: bool,
}

impl<'de> Visitor<'de> for Present {
    type Value = Option<Decimal>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        Exact { money: self.money }.expecting(f)
    }

    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        if v.is_empty() {
            Ok(None)
        } else {
            Exact { money: self.money }.visit_str(v).map(Some)
        }
    }

    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Exact { money: self.money }.visit_u64(v).map(Some)
    }

    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Exact { money: self.money }.visit_i64(v).map(Some)
    }

    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        Exact { money: self.money }.visit_f64(v).map(Some)
    }
}

/// The OpenAPI schema of a quantity: a decimal string matching `pattern`, or a
/// JSON number from `min` to `max` (exclusive of `min` when `positive`), with
/// at most `decimals` places; `null` too when `nullable`.
pub fn schema(
    pattern: &str,
    (min, max): (f64, f64),
    positive: bool,
    decimals: Option<u32>,
    nullable: bool,
) -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{ObjectBuilder, SchemaType, Type};
    let mut types = vec![Type::String, Type::Number];
    if nullable {
        types.push(Type::Null);
    }
    let b = ObjectBuilder::new()
        .schema_type(SchemaType::from_iter(types))
        .pattern(Some(pattern))
        .maximum(Some(max))
        .multiple_of(decimals.map(|d| 10f64.powi(-(d as i32))));
    if positive {
        b.exclusive_minimum(Some(min)).build()
    } else {
        b.minimum(Some(min)).build()
    }
}

#[cfg(test)]
mod tests {
    use rust_decimal::Decimal;
    use rust_decimal_macros::dec;
    use serde::{Deserialize, Serialize};

    #[derive(Debug, Deserialize, Serialize)]
    struct Body {
        #[serde(with = "super")]
        hours: Decimal,
        #[serde(default, with = "super::option")]
        capacity: Option<Decimal>,
        #[serde(default, with = "super::money_option")]
        fee: Option<Decimal>,
    }

    fn read(json: &str) -> Result<Body, String> {
        serde_json::from_str(json).map_err(|e| e.to_string())
    }

    #[test]
    fn numbers_are_read_exactly_from_their_literal() {
        for (literal, exact) in [
            ("12.5", dec!(12.5)),
            ("0.1", dec!(0.1)),
            ("40", dec!(40)),
            ("-3", dec!(-3)),
            ("0.30000000000000004", dec!(0.30000000000000004)),
            ("123456.789", dec!(123456.789)),
            ("1e2", dec!(100)),
        ] {
            let b = read(&format!(r#"{{"hours": {literal}, "capacity": {literal}}}"#))
                .unwrap_or_else(|e| panic!("{literal}: {e}"));
            assert_eq!(b.hours, exact, "{literal}");
            assert_eq!(
                b.hours.to_string(),
                exact.to_string(),
                "{literal} keeps its scale"
            );
            assert_eq!(b.capacity, Some(exact));
        }
    }

    #[test]
    fn an_empty_string_is_an_absent_optional_quantity_but_never_a_required_one() {
        let b = read(r#"{"hours": "1", "capacity": "", "fee": ""}"#).unwrap();
        assert_eq!((b.capacity, b.fee), (None, None));
        assert!(read(r#"{"hours": ""}"#).is_err());
        assert!(read(r#"{"hours": "1", "capacity": " "}"#).is_err());
    }

    #[test]
    fn strings_still_work_and_stay_strings() {
        let b = read(r#"{"hours": "12.50", "capacity": null, "fee": "27.50"}"#).unwrap();
        assert_eq!(
            (b.hours, b.capacity, b.fee),
            (dec!(12.50), None, Some(dec!(27.50)))
        );
        assert_eq!(
            serde_json::to_value(&b).unwrap(),
            serde_json::json!({"hours": "12.50", "capacity": null, "fee": "27.50"})
        );
        assert!(read(r#"{"hours": "twelve"}"#)
            .unwrap_err()
            .contains("not a decimal"));
        assert!(read(r#"{"hours": true}"#).is_err());
    }

    #[test]
    fn money_as_a_json_number_is_refused_by_name() {
        for fee in ["27.5", "27", "-1"] {
            let err = read(&format!(r#"{{"hours": "1", "fee": {fee}}}"#)).unwrap_err();
            assert!(err.contains(super::MONEY_IS_A_STRING), "{fee}: {err}");
        }
    }
}
