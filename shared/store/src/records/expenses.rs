use agencyops_domain::timesheet::WorkStatus;
use agencyops_domain::Currency;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::versioned;
use crate::keys;
use crate::record::Record;
use crate::table::Key;

/// What approving an expense fixed: who, when, and what the client will be billed.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ExpenseApproval {
    pub approved_by: String,
    pub approved_at: Timestamp,
    /// Amount plus markup, unrounded, in the expense's currency.
    #[serde(with = "rust_decimal::serde::str")]
    pub billed_amount: Decimal,
    /// The approver had also recorded or last changed the expense (only an
    /// admin may do both), so the audit trail shows it.
    #[serde(default)]
    pub approver_made_or_changed: bool,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Expense {
    pub id: String,
    pub person_id: String,
    pub project_id: String,
    pub date: Date,
    #[serde(with = "rust_decimal::serde::str")]
    pub amount: Decimal,
    pub currency: Currency,
    pub category: String,
    pub note: String,
    pub billable: bool,
    /// Added on top when the expense is re-billed, e.g. "10" for 10 %.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub markup_percent: Option<Decimal>,
    pub status: WorkStatus,
    pub approval: Option<ExpenseApproval>,
    pub rejection: Option<super::Rejection>,
    pub invoice_id: Option<String>,
    /// The receipt: announced (pending) when its upload URL is issued, then
    /// accepted or rejected by the receipts processor.
    #[serde(default)]
    pub receipt: Option<super::Receipt>,
    /// Who recorded the expense; maker-checker keeps them from approving
    /// someone else's. None on expenses stored before it was kept.
    #[serde(default)]
    pub recorded_by: Option<String>,
    /// Who last changed what the expense says (created counts as a change).
    #[serde(default)]
    pub changed_by: Option<String>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Expense {
    pub fn is_unbilled(&self) -> bool {
        self.status == WorkStatus::Approved && self.billable && self.invoice_id.is_none()
    }
    fn sort(&self) -> String {
        keys::expense_sort(&self.date.to_string(), &self.id)
    }
}

impl Record for Expense {
    versioned!("expense");
    fn key(&self, tenant: &str) -> Key {
        keys::expense(tenant, &self.id)
    }
    fn index_keys(&self, tenant: &str) -> [Option<(String, String)>; 2] {
        [
            Some((keys::person_expenses(tenant, &self.person_id), self.sort())),
            self.is_unbilled().then(|| {
                (
                    keys::unbilled(tenant),
                    keys::unbilled_sort(&self.project_id, &self.sort()),
                )
            }),
        ]
    }
}
