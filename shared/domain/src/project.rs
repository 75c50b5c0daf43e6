//! Project lifecycle and budgets.

use crate::validate::Invalid;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum BillingModel {
    TimeAndMaterials,
    FixedFee,
    Retainer,
    NonBillable,
}

impl BillingModel {
    /// Whether new time on such a project is billable unless said otherwise.
    pub fn billable_by_default(self) -> bool {
        !matches!(self, BillingModel::NonBillable)
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Stage {
    Intake,
    Scoping,
    Active,
    Review,
    Closed,
}

impl Stage {
    /// Work moves forward; review may send it back to active, and a closed
    /// project may be reopened to active (late change requests happen).
    pub fn can_move_to(self, to: Stage) -> bool {
        use Stage::*;
        self == to
            || matches!(
                (self, to),
                (Intake, Scoping)
                    | (Intake, Active)
                    | (Scoping, Active)
                    | (Active, Review)
                    | (Review, Active)
                    | (Review, Closed)
                    | (Closed, Active)
                    | (Intake | Scoping | Active, Closed)
            )
    }
    /// Whether time may still be recorded against the project.
    pub fn accepts_time(self) -> bool {
        !matches!(self, Stage::Closed)
    }
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Budget {
    /// A decimal string, or a JSON number (read exactly).
    #[schema(schema_with = budget_hours_schema, example = "120")]
    #[serde(default, with = "crate::quantity::option")]
    pub hours: Option<Decimal>,
    /// In the client's currency.
    #[schema(value_type = Option<String>, pattern = r"^$|^(0|[1-9][0-9]{0,11})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,11}(\.[0-9]{1,2})?$", example = "15000.00")]
    #[serde(default, with = "crate::quantity::money_option")]
    pub fees: Option<Decimal>,
    /// Percentages of the budget at which an alert is raised once, e.g. [80, 100].
    #[serde(default)]
    #[schema(schema_with = thresholds_schema)]
    pub alert_thresholds: Vec<u32>,
}

/// Each threshold 1 to 500 (%), none repeated: the rule [`Budget::problems`] checks.
fn thresholds_schema() -> utoipa::openapi::schema::Array {
    use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};
    ArrayBuilder::new()
        .items(
            ObjectBuilder::new()
                .schema_type(Type::Integer)
                .minimum(Some(1))
                .maximum(Some(500)),
        )
        .unique_items(true)
        .build()
}

impl Budget {
    pub fn problems(&self, currency_minor: u32) -> Vec<(String, Invalid)> {
        let mut out = Vec::new();
        if let Some(h) = self.hours {
            if h <= Decimal::ZERO {
                out.push(("hours".into(), Invalid::NotPositive));
            }
        }
        if let Some(h) = self.hours {
            if h > Decimal::from(1_000_000) || h.normalize().scale() > 2 {
                out.push(("hours".into(), Invalid::BudgetHours));
            }
        }
        if let Some(f) = self.fees {
            if let Err(m) = crate::validate::amount(&f, currency_minor) {
                out.push(("fees".into(), m));
            }
        }
        for (i, t) in self.alert_thresholds.iter().enumerate() {
            if !(1..=500).contains(t) {
                out.push((format!("alert_thresholds[{i}]"), Invalid::AlertThreshold));
            }
        }
        let mut sorted = self.alert_thresholds.clone();
        sorted.sort_unstable();
        sorted.dedup();
        if sorted.len() != self.alert_thresholds.len() {
            out.push(("alert_thresholds".into(), Invalid::RepeatedThreshold));
        }
        if !self.alert_thresholds.is_empty() && self.hours.is_none() && self.fees.is_none() {
            out.push(("alert_thresholds".into(), Invalid::ThresholdsWithoutBudget));
        }
        out
    }
}

/// Budgeted hours: above 0, at most 1,000,000, two decimals; a string or a number.
fn budget_hours_schema() -> utoipa::openapi::schema::Object {
    crate::quantity::schema(
        r"^$|^(0|[1-9][0-9]{0,5})\.(0[1-9]|[1-9][0-9]?)$|^[1-9][0-9]{0,5}(\.[0-9]{1,2})?$|^1000000(\.0{1,2})?$",
        (0.0, 1_000_000.0),
        true,
        Some(2),
        true,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_move_forward_and_reopen_only_to_active() {
        assert!(Stage::Intake.can_move_to(Stage::Scoping));
        assert!(Stage::Review.can_move_to(Stage::Active));
        assert!(Stage::Closed.can_move_to(Stage::Active));
        assert!(!Stage::Closed.can_move_to(Stage::Intake));
        assert!(!Stage::Active.can_move_to(Stage::Scoping));
        assert!(!Stage::Closed.accepts_time());
    }

    #[test]
    fn thresholds_need_a_budget() {
        let b = Budget {
            alert_thresholds: vec![80],
            ..Default::default()
        };
        assert_eq!(b.problems(2).len(), 1);
        let b = Budget {
            hours: Some(Decimal::from(10)),
            alert_thresholds: vec![80, 80],
            ..Default::default()
        };
        assert_eq!(b.problems(2)[0].0, "alert_thresholds");
    }
}
