//! Small field checks shared by every resource. Each refuses with an
//! [`Invalid`]: what is wrong, typed, whose text a person can act on. The HTTP
//! layer puts it on the field it was found in.

use rust_decimal::Decimal;

/// What is wrong with one field. `Display` is the message shown to the caller
/// (after the field's name, e.g. "`email` must be an email address like …").
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum Invalid {
    #[error("is not a valid id")]
    Id,
    #[error("must not be empty")]
    Empty,
    #[error("must be at most {max} characters")]
    TooLong { max: usize },
    #[error("must not contain control characters")]
    ControlCharacters,
    #[error("must be an email address like ana@studio.example")]
    Email,
    #[error("{0:?} is not an IANA time zone such as Europe/Lisbon")]
    TimeZone(String),
    #[error("must not be negative")]
    Negative,
    #[error("must be greater than zero")]
    NotPositive,
    #[error("at most {max} decimals")]
    TooPrecise { max: u32 },
    #[error("at most {max} decimals in this currency")]
    TooPreciseForCurrency { max: u32 },
    #[error("must be below {max}")]
    TooLarge { max: i64 },
    #[error("must be a date as YYYY-MM-DD")]
    Date,
    #[error("`{0}` is not an ISO week such as 2026-W47")]
    IsoWeek(String),
    #[error("{year} has no week {week}")]
    NoSuchWeek { year: i16, week: i8 },
    #[error("increment_minutes must be one of {allowed:?}")]
    Increment { allowed: &'static [u32] },
    #[error("at most 1000000 with 2 decimals")]
    BudgetHours,
    #[error("must be 1 to 500 (%)")]
    AlertThreshold,
    #[error("must not repeat a threshold")]
    RepeatedThreshold,
    #[error("need a budget in hours or fees")]
    ThresholdsWithoutBudget,
    #[error("at most {max} entries")]
    TooManyEntries { max: usize },
    #[error("repeats an earlier entry")]
    RepeatsEarlierEntry,
}

/// Ids (tenants, people, records) end up inside storage keys: the one rule is [`crate::Id`].
pub fn id(s: &str) -> Result<crate::Id, Invalid> {
    crate::Id::parse(s)
}

pub fn name(s: &str, max: usize) -> Result<(), Invalid> {
    let t = s.trim();
    if t.is_empty() {
        return Err(Invalid::Empty);
    }
    if t.chars().count() > max {
        return Err(Invalid::TooLong { max });
    }
    if t.chars().any(char::is_control) {
        return Err(Invalid::ControlCharacters);
    }
    Ok(())
}

/// A practical email check: one @, a dot in the domain, no spaces.
pub fn email(s: &str) -> Result<(), Invalid> {
    let bad = || Err(Invalid::Email);
    if s.len() > 254 || s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return bad();
    }
    match s.split_once('@') {
        Some((local, domain))
            if !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.') =>
        {
            Ok(())
        }
        _ => bad(),
    }
}

/// An IANA time zone name such as "Europe/Lisbon".
pub fn time_zone(s: &str) -> Result<(), Invalid> {
    jiff::tz::TimeZone::get(s)
        .map(|_| ())
        .map_err(|_| Invalid::TimeZone(s.to_owned()))
}

/// The names [`time_zone`] accepts, as an OpenAPI enum (for `schema_with`), so a
/// client sees the exact list instead of learning it from 400s.
pub fn time_zone_schema() -> utoipa::openapi::schema::Object {
    let mut names: Vec<String> = jiff::tz::db()
        .available()
        .map(|n| n.as_str().to_owned())
        .collect();
    names.sort();
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .enum_values(Some(names))
        .examples(["Europe/Lisbon"])
        .build()
}

/// [`time_zone_schema`] for a field that may also be `null` (left unchanged).
pub fn time_zone_or_null_schema() -> utoipa::openapi::schema::Object {
    use utoipa::openapi::schema::{SchemaType, Type};
    let mut schema = time_zone_schema();
    schema.schema_type = SchemaType::from_iter([Type::String, Type::Null]);
    if let Some(names) = schema.enum_values.as_mut() {
        names.push(().into());
    }
    schema
}

/// An hourly rate: not negative, at most 4 decimals, below a sanity bound.
pub fn rate(r: &Decimal) -> Result<(), Invalid> {
    if r.is_sign_negative() {
        return Err(Invalid::Negative);
    }
    if r.normalize().scale() > 4 {
        return Err(Invalid::TooPrecise { max: 4 });
    }
    if *r > Decimal::from(1_000_000) {
        return Err(Invalid::TooLarge { max: 1_000_000 });
    }
    Ok(())
}

/// Largest amount of money any single figure may hold: far above any real
/// invoice, far below where sums of many could overflow a decimal.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// A positive amount in a currency with `minor` decimals (a fee, a budget, a milestone).
pub fn amount(a: &Decimal, minor: u32) -> Result<(), Invalid> {
    if *a <= Decimal::ZERO {
        return Err(Invalid::NotPositive);
    }
    if a.normalize().scale() > minor {
        return Err(Invalid::TooPreciseForCurrency { max: minor });
    }
    if *a > Decimal::from(MAX_AMOUNT) {
        return Err(Invalid::TooLarge { max: MAX_AMOUNT });
    }
    Ok(())
}

/// A calendar date as YYYY-MM-DD.
pub fn date(s: &str) -> Result<jiff::civil::Date, Invalid> {
    s.parse::<jiff::civil::Date>().map_err(|_| Invalid::Date)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails() {
        assert!(email("ana@studio.io").is_ok());
        assert!(email("ana@studio").is_err());
        assert!(email("ana @studio.io").is_err());
        assert!(email("@studio.io").is_err());
        assert!(email("a@b@c.io").is_err());
    }

    #[test]
    fn time_zones_are_iana_names() {
        assert!(time_zone("Europe/Lisbon").is_ok());
        assert!(time_zone("Mars/Olympus").is_err());
    }

    #[test]
    fn amounts_respect_the_currency_and_a_ceiling() {
        assert!(amount(&Decimal::new(1005, 3), 2).is_err());
        assert!(amount(&Decimal::new(1005, 2), 2).is_ok());
        assert!(amount(&Decimal::new(5, 1), 0).is_err());
        assert!(amount(&Decimal::ZERO, 2).is_err());
        assert!(amount(&Decimal::from(MAX_AMOUNT + 1), 2).is_err());
    }

    #[test]
    fn problems_are_typed_and_read_as_messages() {
        assert_eq!(name("", 10), Err(Invalid::Empty));
        assert_eq!(name("Acme", 3), Err(Invalid::TooLong { max: 3 }));
        assert_eq!(
            amount(&Decimal::new(1005, 3), 2).unwrap_err().to_string(),
            "at most 2 decimals in this currency"
        );
        assert_eq!(rate(&Decimal::NEGATIVE_ONE), Err(Invalid::Negative));
        assert_eq!(id("a#b").unwrap_err().to_string(), "is not a valid id");
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert!(name("  ", 10).is_err());
        assert!(name("Acme", 3).is_err());
        assert!(name("Acme", 4).is_ok());
    }
}
