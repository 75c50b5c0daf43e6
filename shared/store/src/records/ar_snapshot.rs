//! The daily AR snapshot: what was owed, per client, currency and aging
//! bucket, at the end of one day, with the open invoices behind it. Written by
//! the aging job (one item per day, overwritten when the day runs again, with
//! the same content); read by DSO (ending AR) and the Monday digest (which
//! invoices moved a bucket since last Monday).

use agencyops_domain::receivables::{Bucket, Buckets};
use agencyops_domain::Currency;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::versioned;
use crate::keys;
use crate::record::Record;
use crate::table::Key;

/// Exact balances per bucket (rounded only when shown).
#[derive(Clone, Copy, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct StoredBuckets {
    #[serde(with = "rust_decimal::serde::str")]
    pub current: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub days_1_30: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub days_31_60: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub days_61_90: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    pub days_over_90: Decimal,
}

impl From<Buckets> for StoredBuckets {
    fn from(b: Buckets) -> StoredBuckets {
        StoredBuckets {
            current: b.current,
            days_1_30: b.days_1_30,
            days_31_60: b.days_31_60,
            days_61_90: b.days_61_90,
            days_over_90: b.days_over_90,
        }
    }
}

impl From<StoredBuckets> for Buckets {
    fn from(b: StoredBuckets) -> Buckets {
        Buckets {
            current: b.current,
            days_1_30: b.days_1_30,
            days_31_60: b.days_31_60,
            days_61_90: b.days_61_90,
            days_over_90: b.days_over_90,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotClient {
    pub client_id: String,
    pub currency: Currency,
    pub buckets: StoredBuckets,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotTotal {
    pub currency: Currency,
    pub buckets: StoredBuckets,
}

/// One invoice with a balance that day.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct SnapshotInvoice {
    pub id: String,
    pub number: Option<String>,
    pub client_id: String,
    pub currency: Currency,
    #[serde(with = "rust_decimal::serde::str")]
    pub balance: Decimal,
    pub due_date: Option<Date>,
    pub bucket: Bucket,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ArSnapshot {
    /// The day, `YYYY-MM-DD`.
    pub id: String,
    pub date: Date,
    pub clients: Vec<SnapshotClient>,
    pub totals: Vec<SnapshotTotal>,
    pub invoices: Vec<SnapshotInvoice>,
    /// Open invoices left out of `invoices` to keep the item under
    /// DynamoDB's 400 KB (the per-client and total figures are complete).
    pub invoices_left_out: u32,
    /// Always 1: the item is replaced whole, never updated in place.
    pub version: u64,
    /// The end of `date` (UTC), so the same day's content is the same item.
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

/// Most open invoices a snapshot lists (about 150 bytes each).
pub const SNAPSHOT_MAX_INVOICES: usize = 2000;

impl Record for ArSnapshot {
    versioned!("ar_snapshot");
    fn key(&self, tenant: &str) -> Key {
        keys::ar_snapshot(tenant, &self.id)
    }
}

/// The marker that the Monday digest of an ISO week was queued.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DigestMarker {
    /// `2026-W48`.
    pub id: String,
    pub mail_id: String,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for DigestMarker {
    versioned!("ar_digest");
    fn key(&self, tenant: &str) -> Key {
        keys::ar_digest(tenant, &self.id)
    }
}
