//! Time rounding is a billing rule: stored minutes are never rewritten. A policy
//! says how raw minutes become billed minutes, per entry or per invoice line.

use serde::{Deserialize, Serialize};

/// Increments agencies actually use (minutes).
pub const ALLOWED_INCREMENTS: &[u32] = &[1, 5, 6, 10, 12, 15, 30, 60];

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoundingMode {
    Up,
    Down,
    Nearest,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RoundingScope {
    /// Each time entry is rounded before lines are summed.
    PerEntry,
    /// Entries are summed raw and the invoice line total is rounded once.
    PerLine,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TimeRounding {
    /// One of [`ALLOWED_INCREMENTS`].
    #[schema(schema_with = increment_schema)]
    pub increment_minutes: u32,
    pub mode: RoundingMode,
    pub scope: RoundingScope,
}

/// The allowed increments as an enum, so the OpenAPI document says which are accepted.
fn increment_schema() -> utoipa::openapi::schema::Object {
    utoipa::openapi::schema::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::Integer)
        .enum_values(Some(ALLOWED_INCREMENTS.iter().copied()))
        .build()
}

impl Default for TimeRounding {
    /// No rounding: bill what was recorded.
    fn default() -> Self {
        TimeRounding {
            increment_minutes: 1,
            mode: RoundingMode::Nearest,
            scope: RoundingScope::PerEntry,
        }
    }
}

impl TimeRounding {
    pub fn validate(&self) -> Result<(), crate::validate::Invalid> {
        if ALLOWED_INCREMENTS.contains(&self.increment_minutes) {
            Ok(())
        } else {
            Err(crate::validate::Invalid::Increment {
                allowed: ALLOWED_INCREMENTS,
            })
        }
    }

    /// Billed minutes for `raw` minutes. Nearest rounds a half increment up.
    pub fn apply(&self, raw: u32) -> u32 {
        let inc = self.increment_minutes.max(1);
        let down = raw / inc * inc;
        let rest = raw - down;
        match self.mode {
            RoundingMode::Down => down,
            RoundingMode::Up if rest == 0 => down,
            RoundingMode::Up => down + inc,
            RoundingMode::Nearest if rest * 2 >= inc => down + inc,
            RoundingMode::Nearest => down,
        }
    }
}

/// Minutes one entry bills under `policy` (the project's, else its client's):
/// rounded only when the policy applies per entry. Per-line rounding happens
/// on the invoice line, so an entry alone then bills what was recorded.
pub fn entry_billed_minutes(policy: Option<TimeRounding>, raw: u32) -> u32 {
    match policy {
        Some(r) if r.scope == RoundingScope::PerEntry => r.apply(raw),
        _ => raw,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_entry_is_rounded_only_by_a_per_entry_policy() {
        let per = |scope| TimeRounding {
            increment_minutes: 15,
            mode: RoundingMode::Up,
            scope,
        };
        assert_eq!(
            entry_billed_minutes(Some(per(RoundingScope::PerEntry)), 7),
            15
        );
        assert_eq!(
            entry_billed_minutes(Some(per(RoundingScope::PerLine)), 7),
            7
        );
        assert_eq!(entry_billed_minutes(None, 7), 7);
    }
    use proptest::prelude::*;

    fn policy(inc: u32, mode: RoundingMode) -> TimeRounding {
        TimeRounding {
            increment_minutes: inc,
            mode,
            scope: RoundingScope::PerEntry,
        }
    }

    #[test]
    fn examples_from_agency_practice() {
        assert_eq!(policy(15, RoundingMode::Up).apply(1), 15);
        assert_eq!(policy(15, RoundingMode::Up).apply(15), 15);
        assert_eq!(policy(15, RoundingMode::Down).apply(29), 15);
        assert_eq!(policy(15, RoundingMode::Nearest).apply(22), 15);
        assert_eq!(policy(15, RoundingMode::Nearest).apply(23), 30);
        assert_eq!(policy(6, RoundingMode::Up).apply(7), 12);
        assert!(policy(7, RoundingMode::Up).validate().is_err());
    }

    proptest! {
        #[test]
        fn rounding_lands_on_an_increment_within_one_step(raw in 0u32..10_000, i in 0usize..8, m in 0u8..3) {
            let inc = ALLOWED_INCREMENTS[i];
            let mode = [RoundingMode::Up, RoundingMode::Down, RoundingMode::Nearest][m as usize];
            let out = policy(inc, mode).apply(raw);
            prop_assert_eq!(out % inc, 0);
            prop_assert!(out.abs_diff(raw) < inc);
            match mode {
                RoundingMode::Up => prop_assert!(out >= raw),
                RoundingMode::Down => prop_assert!(out <= raw),
                RoundingMode::Nearest => prop_assert!(out.abs_diff(raw) * 2 <= inc),
            }
        }
    }
}
