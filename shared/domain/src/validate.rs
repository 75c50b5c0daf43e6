//! Small field checks shared by every resource. Each returns a message a person can act on.

use rust_decimal::Decimal;

/// Ids (tenants, people, records) end up inside storage keys: a safe alphabet only.
pub fn id(s: &str) -> Result<(), String> {
    let ok = !s.is_empty()
        && s.len() <= 64
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err("is not a valid id".into())
    }
}

pub fn name(s: &str, max: usize) -> Result<(), String> {
    let t = s.trim();
    if t.is_empty() {
        return Err("must not be empty".into());
    }
    if t.chars().count() > max {
        return Err(format!("must be at most {max} characters"));
    }
    if t.chars().any(char::is_control) {
        return Err("must not contain control characters".into());
    }
    Ok(())
}

/// A practical email check: one @, a dot in the domain, no spaces.
pub fn email(s: &str) -> Result<(), String> {
    let bad = || Err("must be an email address like ana@studio.example".to_owned());
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
pub fn time_zone(s: &str) -> Result<(), String> {
    jiff::tz::TimeZone::get(s)
        .map(|_| ())
        .map_err(|_| format!("{s:?} is not an IANA time zone such as Europe/Lisbon"))
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
pub fn rate(r: &Decimal) -> Result<(), String> {
    if r.is_sign_negative() {
        return Err("must not be negative".into());
    }
    if r.normalize().scale() > 4 {
        return Err("at most 4 decimals".into());
    }
    if *r > Decimal::from(1_000_000) {
        return Err("must be below 1000000".into());
    }
    Ok(())
}

/// Largest amount of money any single figure may hold: far above any real
/// invoice, far below where sums of many could overflow a decimal.
pub const MAX_AMOUNT: i64 = 1_000_000_000_000;

/// A positive amount in a currency with `minor` decimals (a fee, a budget, a milestone).
pub fn amount(a: &Decimal, minor: u32) -> Result<(), String> {
    if *a <= Decimal::ZERO {
        return Err("must be greater than zero".into());
    }
    if a.normalize().scale() > minor {
        return Err(format!("at most {minor} decimals in this currency"));
    }
    if *a > Decimal::from(MAX_AMOUNT) {
        return Err(format!("must be below {MAX_AMOUNT}"));
    }
    Ok(())
}

/// A calendar date as YYYY-MM-DD.
pub fn date(s: &str) -> Result<jiff::civil::Date, String> {
    s.parse::<jiff::civil::Date>()
        .map_err(|_| "must be a date as YYYY-MM-DD".to_owned())
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
    fn ids_are_key_safe() {
        assert!(id("01a2-b_c").is_ok());
        assert!(id("a#b").is_err());
        assert!(id("").is_err());
        assert!(id(&"a".repeat(65)).is_err());
    }

    #[test]
    fn names_are_trimmed_and_bounded() {
        assert!(name("  ", 10).is_err());
        assert!(name("Acme", 3).is_err());
        assert!(name("Acme", 4).is_ok());
    }
}
