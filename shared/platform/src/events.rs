//! Messages between functions. Each carries the tenant it belongs to (the queue
//! is shared) and an id that makes handling it twice harmless.

use agencyops_domain::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Logical queue of approval changes, consumed by the budget consumer.
pub const APPROVED_QUEUE: &str = "approved";

/// A change to a project's approved work: approval adds, un-approval (a reject
/// of approved work) subtracts. Sent after the change is committed; the consumer
/// applies each `change_id` at most once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurnChange {
    /// "approved" or "unapproved".
    #[serde(rename = "type")]
    pub kind: String,
    pub tenant: String,
    pub change_id: String,
    pub project_id: String,
    /// Signed: negative when work is un-approved.
    pub minutes: i64,
    pub billable_minutes: i64,
    /// Billed value (time and re-billed expenses), signed, unrounded.
    #[serde(with = "rust_decimal::serde::str")]
    pub fees: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub cost: Decimal,
    pub currency: Currency,
}

impl BurnChange {
    pub fn to_body(&self) -> String {
        // A struct of strings and numbers always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}
