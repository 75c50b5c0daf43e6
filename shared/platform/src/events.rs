//! Messages between functions. Each carries the tenant it belongs to (the queue
//! is shared) and an id that makes handling it twice harmless.

use agencyops_domain::Currency;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

/// Logical queue of approval changes, consumed by the budget consumer.
pub const APPROVED_QUEUE: &str = "approved";

/// Which way a burn change moves the project's approved work. Serialised as the
/// strings queued messages have always carried, so messages in flight still read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum BurnKind {
    Approved,
    Unapproved,
}

impl BurnKind {
    /// The string a queued message carries.
    pub fn as_str(self) -> &'static str {
        match self {
            BurnKind::Approved => "approved",
            BurnKind::Unapproved => "unapproved",
        }
    }

    /// Approval adds; an undo (un-approval) subtracts.
    pub fn of(undo: bool) -> Self {
        if undo {
            BurnKind::Unapproved
        } else {
            BurnKind::Approved
        }
    }
}

/// A change to a project's approved work: approval adds, un-approval (a reject
/// of approved work) subtracts. Sent after the change is committed; the consumer
/// applies each `change_id` at most once.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BurnChange {
    #[serde(rename = "type")]
    pub kind: BurnKind,
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

/// Logical queue of reached milestones, consumed by invoicing's milestone invoicer.
pub const MILESTONES_QUEUE: &str = "milestones";

/// A milestone was marked reached. Sent after the reach is committed; the
/// consumer drafts its invoice once (the milestone's status and invoice id
/// make a redelivery, or the daily run's retry of a lost message, a no-op).
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MilestoneReached {
    pub tenant: String,
    pub message_id: String,
    pub project_id: String,
    pub milestone_id: String,
}

impl MilestoneReached {
    pub fn to_body(&self) -> String {
        // A struct of strings always serialises.
        serde_json::to_string(self).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Messages queued before the kind was an enum must still be read.
    #[test]
    fn queued_messages_keep_their_type_strings() {
        for (text, kind) in [
            ("approved", BurnKind::Approved),
            ("unapproved", BurnKind::Unapproved),
        ] {
            let body = format!(
                r#"{{"type":"{text}","tenant":"acme","change_id":"c1","project_id":"p1",
                "minutes":60,"billable_minutes":60,"fees":"100.00","cost":"40","currency":"EUR"}}"#
            );
            let change: BurnChange = serde_json::from_str(&body).expect("an old message reads");
            assert_eq!(change.kind, kind);
            assert_eq!(kind.as_str(), text);
            assert!(change.to_body().contains(&format!(r#""type":"{text}""#)));
        }
        let unknown = r#"{"type":"invoiced","tenant":"acme","change_id":"c1","project_id":"p1",
            "minutes":60,"billable_minutes":60,"fees":"1","cost":"1","currency":"EUR"}"#;
        assert!(serde_json::from_str::<BurnChange>(unknown).is_err());
    }

    /// The milestones message as the reach sends it and the invoicer reads it;
    /// anything else on the queue is refused (and dead-lettered), not guessed at.
    #[test]
    fn milestone_messages_round_trip_and_refuse_strangers() {
        let m = MilestoneReached {
            tenant: "acme".into(),
            message_id: "reach-m1".into(),
            project_id: "p1".into(),
            milestone_id: "m1".into(),
        };
        let back: MilestoneReached = serde_json::from_str(&m.to_body()).expect("reads back");
        assert_eq!(back, m);
        let extra = r#"{"tenant":"acme","message_id":"x","project_id":"p","milestone_id":"m","amount":"1"}"#;
        assert!(serde_json::from_str::<MilestoneReached>(extra).is_err());
        let missing = r#"{"tenant":"acme","message_id":"x","project_id":"p"}"#;
        assert!(serde_json::from_str::<MilestoneReached>(missing).is_err());
    }
}
