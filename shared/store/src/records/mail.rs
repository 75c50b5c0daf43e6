//! The mail sender's once-only marker: one item per queued mail id, so a
//! message delivered twice by the queue is sent once.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

use super::versioned;
use crate::keys;
use crate::record::Record;
use crate::table::Key;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeliveryState {
    /// Claimed by a sender until `lease_until`; another delivery of the same
    /// message waits (fails and is retried) until then.
    Sending,
    /// Handed to the provider; never sent again.
    Sent,
    /// Not sent, for good (e.g. a reminder for an invoice paid meanwhile).
    Cancelled,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MailDelivery {
    /// The queued mail's id.
    pub id: String,
    pub state: DeliveryState,
    pub lease_until: Option<Timestamp>,
    /// The provider's message id, once sent.
    pub provider_id: Option<String>,
    /// Why it was cancelled.
    pub reason: Option<String>,
    /// What the mail was about, for whoever reads the marker.
    pub purpose: serde_json::Value,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for MailDelivery {
    versioned!("mail_delivery");
    fn key(&self, tenant: &str) -> Key {
        keys::mail_delivery(tenant, &self.id)
    }
}

/// A mail committed but perhaps not yet queued: the transactional outbox.
/// The write that decides a mail (a reminder fired, an invoice sent) carries
/// this item, the producer queues the body and then deletes the item, and the
/// daily run queues whatever is left, so a crash between the commit and the
/// queue loses no mail (the sender's marker makes a second queueing one mail).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct MailOutboxItem {
    /// The mail's id.
    pub id: String,
    /// The queue message, as the mail sender reads it.
    pub body: String,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl Record for MailOutboxItem {
    versioned!("mail_outbox");
    fn key(&self, tenant: &str) -> Key {
        keys::mail_outbox_item(tenant, &self.id)
    }
}
