//! The one id rule. Ids (tenants, people, records) end up inside storage keys,
//! so they hold a safe alphabet only; an [`Id`] is parsed once where it enters
//! (a path, a body, a claim) and is valid from then on.

use std::fmt;
use std::ops::Deref;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize};

use crate::validate::Invalid;

/// A valid id: 1 to 64 ASCII letters, digits, `-` or `_`.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(transparent)]
pub struct Id(String);

impl Id {
    /// Longest id accepted.
    pub const MAX_LEN: usize = 64;
    /// The rule as a pattern, for OpenAPI schemas of id fields and parameters.
    pub const PATTERN: &'static str = r"^[A-Za-z0-9_-]{1,64}$";

    /// Whether `s` is an id, without keeping it.
    pub fn is_valid(s: &str) -> bool {
        !s.is_empty()
            && s.len() <= Self::MAX_LEN
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
    }

    pub fn parse(s: &str) -> Result<Id, Invalid> {
        if Self::is_valid(s) {
            Ok(Id(s.to_owned()))
        } else {
            Err(Invalid::Id)
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

impl Deref for Id {
    type Target = str;
    fn deref(&self) -> &str {
        &self.0
    }
}

impl AsRef<str> for Id {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl FromStr for Id {
    type Err = Invalid;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Id::parse(s)
    }
}

impl From<Id> for String {
    fn from(id: Id) -> String {
        id.0
    }
}

impl PartialEq<str> for Id {
    fn eq(&self, other: &str) -> bool {
        self.0 == other
    }
}

impl PartialEq<&str> for Id {
    fn eq(&self, other: &&str) -> bool {
        self.0 == *other
    }
}

impl<'de> Deserialize<'de> for Id {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Id::parse(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_key_safe() {
        assert!(Id::parse("01a2-b_c").is_ok());
        assert_eq!(Id::parse("a#b"), Err(Invalid::Id));
        assert!(Id::parse("").is_err());
        assert!(Id::parse(&"a".repeat(64)).is_ok());
        assert!(Id::parse(&"a".repeat(65)).is_err());
        assert!(Id::parse("é").is_err());
    }

    #[test]
    fn an_id_reads_from_json_only_when_valid() {
        let id: Id = serde_json::from_str(r#""ana-1""#).unwrap();
        assert_eq!(id, "ana-1");
        assert_eq!(serde_json::to_string(&id).unwrap(), r#""ana-1""#);
        let bad = serde_json::from_str::<Id>(r#""T#acme""#).unwrap_err();
        assert!(bad.to_string().contains("is not a valid id"), "{bad}");
    }
}
