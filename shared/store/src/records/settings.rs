use agencyops_domain::budget::Measure;
use agencyops_domain::Currency;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::versioned;
use crate::keys;
use crate::record::Record;
use crate::table::Key;

/// The tenant's period close: nothing dated on or before `lock_date` changes.
/// Writes of dated work check this item's version in their transaction, so a
/// lock set while an edit is in flight makes the edit fail rather than slip in.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct LockDate {
    /// Always "lock".
    pub id: String,
    #[schema(value_type = Option<String>, example = "2026-10-31")]
    pub lock_date: Option<Date>,
    pub set_by: Option<String>,
    pub version: u64,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

impl LockDate {
    pub fn none(now: Timestamp) -> LockDate {
        LockDate {
            id: "lock".into(),
            lock_date: None,
            set_by: None,
            version: 0,
            updated_at: now,
        }
    }
}

impl Record for LockDate {
    versioned!("lock_date");
    fn key(&self, tenant: &str) -> Key {
        keys::lock_date(tenant)
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct BudgetAlert {
    pub measure: Measure,
    pub threshold_percent: u32,
    #[schema(value_type = String)]
    pub raised_at: Timestamp,
    /// Percentage used when it was raised.
    #[schema(value_type = String)]
    #[serde(with = "rust_decimal::serde::str")]
    pub percent_used: Decimal,
}

/// Approved work against a project's budget, kept by the budget consumer.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ProjectBurn {
    /// The project's id.
    pub id: String,
    pub minutes: u64,
    pub billable_minutes: u64,
    /// Approved billable value (time and re-billed expenses), unrounded.
    #[serde(with = "rust_decimal::serde::str")]
    pub fees: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub cost: Decimal,
    pub currency: Currency,
    pub alerts: Vec<BudgetAlert>,
    pub changes_applied: u64,
    pub version: u64,
    pub updated_at: Timestamp,
}

impl Record for ProjectBurn {
    versioned!("project_burn");
    fn key(&self, tenant: &str) -> Key {
        keys::project_burn(tenant, &self.id)
    }
}

/// Marks a burn change as applied; its existence makes redelivery a no-op.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct BurnApplied {
    /// The change's id.
    pub id: String,
    pub project_id: String,
    pub version: u64,
    pub updated_at: Timestamp,
}

impl Record for BurnApplied {
    versioned!("burn_applied");
    fn key(&self, tenant: &str) -> Key {
        keys::burn_applied(tenant, &self.project_id, &self.id)
    }
}
