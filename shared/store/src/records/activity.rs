//! What happened to an invoice after it was issued, in the client's terms:
//! each delivery (sent, reminder) and each late fee is recorded here as it
//! happens; payments and credit notes are read from their own records.

use jiff::civil::Date;
use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::versioned;
use crate::keys;
use crate::record::Record;
use crate::table::Key;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    Sent,
    Reminder,
    LateFee,
    Payment,
    CreditNote,
}

/// One recorded event on an invoice. `id` is what it is about (a mail's
/// message id, a fee's stage), so recording it twice writes one item.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct InvoiceActivity {
    pub id: String,
    pub invoice_id: String,
    pub activity: ActivityKind,
    pub on: Date,
    pub at: Timestamp,
    /// What a reader needs: recipients, subject, stage, fee amount.
    pub details: serde_json::Map<String, serde_json::Value>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for InvoiceActivity {
    versioned!("invoice_activity");
    fn key(&self, tenant: &str) -> Key {
        keys::invoice_activity(tenant, &self.invoice_id, &self.id)
    }
}
