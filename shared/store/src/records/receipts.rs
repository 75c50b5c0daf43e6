//! An expense's receipt: announced when an upload URL is issued, then accepted
//! or rejected by the processor once the file has arrived. It lives on the
//! expense itself, so the expense and its receipt can never disagree; a small
//! index item per accepted file (by SHA-256) finds the same file on another
//! expense.

use agencyops_domain::receipt::ReceiptType;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::versioned;
use crate::keys;
use crate::record::Record;
use crate::table::Key;

/// Where a receipt is: announced (the URL was issued), or checked and then
/// accepted or rejected.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ReceiptStatus {
    /// An upload URL was issued; the file has not been processed yet.
    Pending,
    /// The file is what it claims to be and is attached.
    Accepted,
    /// The file was refused and quarantined; it is never served back.
    Rejected,
}

/// What the processor read from a text PDF. Only ever shown beside what the
/// person typed; never copied over it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct ReceiptSuggestions {
    /// The amount on a "Total" line, in the receipt's own currency.
    #[schema(value_type = Option<String>, example = "42.50")]
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub total: Option<Decimal>,
    #[schema(value_type = Option<String>, example = "2026-11-18")]
    #[serde(default)]
    pub date: Option<Date>,
    /// The first line of text, which on most receipts is the shop's name.
    #[serde(default)]
    pub merchant: Option<String>,
}

impl ReceiptSuggestions {
    pub fn is_empty(&self) -> bool {
        self.total.is_none() && self.date.is_none() && self.merchant.is_none()
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Receipt {
    pub status: ReceiptStatus,
    /// The storage key the upload URL was issued for. It identifies this
    /// receipt: an event for any other key is not this receipt's file.
    pub key: String,
    /// What the uploader announced; the file must match both.
    pub declared_type: ReceiptType,
    pub declared_size: u64,
    pub requested_by: String,
    pub requested_at: Timestamp,
    /// The type the file's content shows (accepted receipts).
    #[serde(default)]
    pub content_type: Option<String>,
    /// Bytes actually received.
    #[serde(default)]
    pub size: Option<u64>,
    /// Hex SHA-256 of the file, for duplicate detection.
    #[serde(default)]
    pub sha256: Option<String>,
    /// When storage received the file.
    #[serde(default)]
    pub uploaded_at: Option<Timestamp>,
    #[serde(default)]
    pub processed_at: Option<Timestamp>,
    /// Another expense of the tenant with the very same file attached.
    #[serde(default)]
    pub duplicate_of: Option<String>,
    #[serde(default)]
    pub suggestions: Option<ReceiptSuggestions>,
    /// Why the file was refused.
    #[serde(default)]
    pub reason: Option<String>,
    /// Where a refused file was moved.
    #[serde(default)]
    pub quarantine_key: Option<String>,
}

impl Receipt {
    /// The receipt as announced when its upload URL is issued.
    pub fn pending(
        key: String,
        declared_type: ReceiptType,
        declared_size: u64,
        requested_by: String,
        requested_at: Timestamp,
    ) -> Receipt {
        Receipt {
            status: ReceiptStatus::Pending,
            key,
            declared_type,
            declared_size,
            requested_by,
            requested_at,
            content_type: None,
            size: None,
            sha256: None,
            uploaded_at: None,
            processed_at: None,
            duplicate_of: None,
            suggestions: None,
            reason: None,
            quarantine_key: None,
        }
    }

    /// The hash index item of an accepted receipt, if any.
    pub fn accepted_hash(&self) -> Option<&str> {
        match self.status {
            ReceiptStatus::Accepted => self.sha256.as_deref(),
            _ => None,
        }
    }
}

/// "The file with this SHA-256 is attached to this expense": one item per
/// (hash, expense) in the hash's partition, so a query on the partition lists
/// every expense carrying the same file.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReceiptHash {
    /// The expense id.
    pub id: String,
    pub sha256: String,
    /// The storage key of the attached file.
    pub key: String,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for ReceiptHash {
    versioned!("receipt_hash");
    fn key(&self, tenant: &str) -> Key {
        keys::receipt_hash(tenant, &self.sha256, &self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Receipts stored while the type was a string load as the enum and are
    /// written back as the very same string.
    #[test]
    fn the_declared_type_keeps_its_stored_string() {
        let stored = serde_json::json!({
            "status": "pending", "key": "T#acme/receipts/x", "declared_type": "image/jpeg",
            "declared_size": 10, "requested_by": "ana", "requested_at": "2026-11-20T12:00:00Z"
        });
        let receipt: Receipt = serde_json::from_value(stored.clone()).expect("loads");
        assert_eq!(receipt.declared_type, ReceiptType::Jpeg);
        let written = serde_json::to_value(&receipt).expect("writes");
        assert_eq!(written["declared_type"], "image/jpeg");
        let mut html = stored;
        html["declared_type"] = "text/html".into();
        assert!(serde_json::from_value::<Receipt>(html).is_err());
    }
}
