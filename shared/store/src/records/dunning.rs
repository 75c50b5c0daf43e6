//! Dunning: the reminder policy of a tenant (and a client's override of it),
//! the once-only marker of each reminder step an invoice received, and the
//! request to re-place open invoices in the due index after a policy change.
//! Written by the ar-followups function; the marker is written in the same
//! transaction as the reminder it stands for.

use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use super::versioned;
use crate::keys;
use crate::record::Record;
use crate::table::{Key, Write, PK, SK};

/// What a stage charges when it fires. Both parts are optional and add up.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct LateFee {
    /// A fixed amount in the invoice's currency.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub flat: Option<Decimal>,
    /// A percentage of the balance due when the stage fires.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub percent: Option<Decimal>,
    /// Statutory interest of the EU late payment directive (2011/7/EU).
    #[serde(default)]
    pub statutory: Option<StatutoryInterest>,
}

/// 2011/7/EU: the reference rate plus 8 points a year, from the day after the
/// due date, and (EUR invoices) EUR 40 compensation once per invoice.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct StatutoryInterest {
    /// The central bank's reference rate in percent for the half-year.
    #[serde(with = "rust_decimal::serde::str")]
    pub reference_rate: Decimal,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DunningStage {
    pub name: String,
    /// Days from the due date (negative: before it).
    pub offset_days: i32,
    pub subject: String,
    pub body: String,
    pub late_fee: Option<LateFee>,
}

/// A tenant's policy (`client_id` None) or one client's override of it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DunningPolicy {
    /// "dunning", or the client's id for an override.
    pub id: String,
    pub client_id: Option<String>,
    pub stages: Vec<DunningStage>,
    /// After the last stage, the reminder repeats every this many days ...
    pub repeat_every_days: Option<u32>,
    /// ... this many times at most.
    pub max_repeats: u32,
    /// No reminder within this many days after the invoice was mailed by hand.
    pub quiet_days_after_send: u32,
    /// Nothing is sent while paused.
    pub paused: bool,
    pub version: u64,
    pub updated_at: Timestamp,
}

impl DunningPolicy {
    /// What a tenant that never saved a policy chases with: nothing is sent
    /// until finance writes one.
    pub fn none(now: Timestamp) -> DunningPolicy {
        DunningPolicy {
            id: "dunning".into(),
            client_id: None,
            stages: Vec::new(),
            repeat_every_days: None,
            max_repeats: 0,
            quiet_days_after_send: 0,
            paused: false,
            version: 0,
            updated_at: now,
        }
    }
}

impl Record for DunningPolicy {
    versioned!("dunning_policy");
    fn key(&self, tenant: &str) -> Key {
        match &self.client_id {
            Some(c) => keys::client_dunning_policy(tenant, c),
            None => keys::dunning_policy(tenant),
        }
    }
}

/// One reminder step an invoice received: a stage, or the n-th repeat after
/// the last one. Created (never overwritten) in the reminder's transaction,
/// so a step fires once however many runs race for it.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DunningMarker {
    /// `STAGE#name` or `REPEAT#n`.
    pub id: String,
    pub invoice_id: String,
    pub stage: String,
    /// The day it fired.
    pub on: Date,
    /// Who fired it: "schedule", or the person who sent it by hand.
    pub by: String,
    /// The mail queued for it.
    pub mail_id: String,
    pub fee_invoice_id: Option<String>,
    pub version: u64,
    pub updated_at: Timestamp,
}

impl Record for DunningMarker {
    versioned!("dunning_marker");
    fn key(&self, tenant: &str) -> Key {
        keys::dunning_marker(tenant, &self.invoice_id, &self.id)
    }
}

/// Asks the next daily run to re-place every open invoice in the due index
/// by the current policies: `requested` counts policy changes, `done` the
/// last one a run applied.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DunningReindex {
    /// Always "dunning_reindex".
    pub id: String,
    pub requested: u64,
    pub done: u64,
    pub version: u64,
    pub updated_at: Timestamp,
}

impl Record for DunningReindex {
    versioned!("dunning_reindex");
    fn key(&self, tenant: &str) -> Key {
        keys::dunning_reindex(tenant)
    }
}

/// The idempotent write that puts `tenant` in the schedule registry, for
/// writes in functions the ar-followups crate depends on (issuing an
/// invoice); `daily::register_tenant` is the same write.
pub fn schedule_registration(tenant: &str) -> Write {
    let key = keys::scheduled_tenant(tenant);
    let mut item = Map::new();
    item.insert(PK.into(), Value::String(key.pk));
    item.insert(SK.into(), Value::String(key.sk));
    Write::put(item)
}
