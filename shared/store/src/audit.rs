//! Every state change writes an audit record in the same transaction: who, when,
//! what, and the record before and after.

use agencyops_domain::timesheet::WeekAction;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::keys;
use crate::table::*;

/// The `kind` attribute audit items carry.
const KIND: &str = "audit";

/// What a change did. Stored and shown as the strings audit records have
/// always carried (`"create"`, `"submit.start"`, ...), so one enum names every
/// action and old records still read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuditAction {
    Create,
    Update,
    Delete,
    /// An intake request accepted.
    Accept,
    /// An intake request declined.
    Decline,
    Submit,
    Approve,
    Reject,
    /// A week action recorded as a pending job (finished as `submit`).
    #[serde(rename = "submit.start")]
    SubmitStart,
    #[serde(rename = "approve.start")]
    ApproveStart,
    #[serde(rename = "reject.start")]
    RejectStart,
    /// The lock date moved later (a period closed).
    Lock,
    /// The lock date moved earlier or was cleared.
    Reopen,
    /// Timers.
    Start,
    Switch,
    Stop,
    Discard,
    /// Receipts.
    RequestReceipt,
    AcceptReceipt,
    RejectReceipt,
    BudgetAlert,
    /// Invoicing.
    Issue,
    /// An issued invoice mailed to the client.
    Send,
    Void,
    WriteOff,
    RecordPayment,
    ReversePayment,
    Credit,
    Claim,
    Release,
    /// A milestone marked reached.
    Reach,
}

impl AuditAction {
    /// The finished week action.
    pub fn of_week(action: WeekAction) -> AuditAction {
        match action {
            WeekAction::Submit => AuditAction::Submit,
            WeekAction::Approve => AuditAction::Approve,
            WeekAction::Reject => AuditAction::Reject,
        }
    }

    /// A week action recorded as a pending job.
    pub fn start_of_week(action: WeekAction) -> AuditAction {
        match action {
            WeekAction::Submit => AuditAction::SubmitStart,
            WeekAction::Approve => AuditAction::ApproveStart,
            WeekAction::Reject => AuditAction::RejectStart,
        }
    }
}

/// Who made a change: a person in their role, or a process (role `system`).
#[derive(Clone, Copy, Debug)]
pub struct Actor<'a> {
    pub id: &'a str,
    pub role: &'a str,
}

impl<'a> Actor<'a> {
    pub const SYSTEM_ROLE: &'static str = "system";

    /// A process acting on its own, e.g. a queue consumer.
    pub fn system(name: &'a str) -> Actor<'a> {
        Actor {
            id: name,
            role: Self::SYSTEM_ROLE,
        }
    }
}

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    /// RFC 3339 instant.
    pub at: String,
    pub actor: String,
    pub actor_role: String,
    pub action: AuditAction,
    pub entity_kind: String,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditEntry {
    /// The one way an audit entry is made: who, when, what, to which record,
    /// and the record before and after. `id` must be fresh (it is in the key).
    pub fn new(
        id: String,
        at: jiff::Timestamp,
        actor: Actor<'_>,
        action: AuditAction,
        (entity_kind, entity_id): (&str, &str),
        before: Option<Value>,
        after: Option<Value>,
    ) -> AuditEntry {
        AuditEntry {
            id,
            at: Self::stamp(at),
            actor: actor.id.into(),
            actor_role: actor.role.into(),
            action,
            entity_kind: entity_kind.into(),
            entity_id: entity_id.into(),
            before,
            after,
        }
    }

    /// `at` as stored: RFC 3339 at a fixed (nanosecond) precision, so audit
    /// keys sort by time as text.
    pub fn stamp(at: jiff::Timestamp) -> String {
        format!("{at:.9}")
    }

    pub fn write(&self, tenant: &str) -> StoreResult<Write> {
        let mut item = match serde_json::to_value(self) {
            Ok(Value::Object(m)) => m,
            _ => return Err(StoreError::Malformed("audit entry".into())),
        };
        let sort = keys::audit_sort(&self.at, &self.id);
        item.insert(
            PK.into(),
            Value::String(keys::audit_log_shard(
                tenant,
                keys::audit_shard_of(&self.id),
            )),
        );
        item.insert(SK.into(), Value::String(sort.clone()));
        item.insert(
            GSI1PK.into(),
            Value::String(keys::audit_entity(
                tenant,
                &self.entity_kind,
                &self.entity_id,
            )),
        );
        item.insert(GSI1SK.into(), Value::String(sort));
        item.insert("kind".into(), Value::String(KIND.into()));
        Ok(Write::put_new(item))
    }

    /// The entry a stored item holds (without its key attributes), or None
    /// when the item is something else. Audit entries are not records (they
    /// are never updated), so they are read back here, beside [`Self::write`].
    pub fn read(mut item: Item) -> Option<StoreResult<AuditEntry>> {
        if item.get("kind").and_then(Value::as_str) != Some(KIND) {
            return None;
        }
        for attr in [PK, SK, GSI1PK, GSI1SK, "kind"] {
            item.remove(attr);
        }
        Some(
            serde_json::from_value(Value::Object(item))
                .map_err(|e| StoreError::Malformed(format!("audit entry: {e}"))),
        )
    }
}

/// One page of the whole tenant's audit trail, newest first: the entries
/// sorting before `before` (an audit sort key; None: the newest), at most
/// `limit`, and whether more follow. Reads every shard and the unsharded
/// trail older entries are in, and merges them by sort key, so the answer is
/// the one a single partition would give.
pub async fn read_log(
    table: &dyn Table,
    tenant: &str,
    before: Option<&str>,
    limit: usize,
) -> StoreResult<(Vec<(String, Item)>, bool)> {
    let partitions = std::iter::once(keys::audit_log(tenant))
        .chain((0..keys::AUDIT_LOG_SHARDS).map(|n| keys::audit_log_shard(tenant, n)));
    let mut merged: Vec<(String, Item)> = Vec::new();
    let mut more = false;
    for pk in partitions {
        let mut q = Query::new(Index::Table, pk).backward().limit(limit + 1);
        if let Some(b) = before {
            q = q.sk(SkCondition::AtMost(b.to_owned()));
        }
        let mut taken = 0;
        loop {
            let page = table.query(&q).await?;
            for item in page.items {
                let Some(sk) = item.get(SK).and_then(Value::as_str).map(str::to_owned) else {
                    continue;
                };
                if Some(sk.as_str()) == before || !sk.starts_with(&keys::audit_prefix()) {
                    continue;
                }
                merged.push((sk, item));
                taken += 1;
            }
            match page.next {
                Some(next) if taken <= limit => q = q.start_after(Some(next)),
                Some(_) => {
                    more = true;
                    break;
                }
                None => break,
            }
        }
    }
    merged.sort_by(|a, b| b.0.cmp(&a.0));
    if merged.len() > limit {
        more = true;
        merged.truncate(limit);
    }
    Ok((merged, more))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Stored audit records and the API show these strings: changing one
    /// orphans every record already written with it.
    #[test]
    fn actions_keep_the_strings_records_were_written_with() {
        use AuditAction::*;
        let cases = [
            (Create, "create"),
            (Update, "update"),
            (Delete, "delete"),
            (Accept, "accept"),
            (Decline, "decline"),
            (Submit, "submit"),
            (Approve, "approve"),
            (Reject, "reject"),
            (SubmitStart, "submit.start"),
            (ApproveStart, "approve.start"),
            (RejectStart, "reject.start"),
            (Lock, "lock"),
            (Reopen, "reopen"),
            (Start, "start"),
            (Switch, "switch"),
            (Stop, "stop"),
            (Discard, "discard"),
            (RequestReceipt, "request_receipt"),
            (AcceptReceipt, "accept_receipt"),
            (RejectReceipt, "reject_receipt"),
            (BudgetAlert, "budget_alert"),
            (Issue, "issue"),
            (Void, "void"),
            (WriteOff, "write_off"),
            (RecordPayment, "record_payment"),
            (ReversePayment, "reverse_payment"),
            (Credit, "credit"),
            (Claim, "claim"),
            (Release, "release"),
            (Reach, "reach"),
        ];
        for (action, text) in cases {
            let json = serde_json::to_value(action).unwrap();
            assert_eq!(json, Value::String(text.into()));
            assert_eq!(serde_json::from_value::<AuditAction>(json).unwrap(), action);
        }
        for week in [WeekAction::Submit, WeekAction::Approve, WeekAction::Reject] {
            let done = serde_json::to_value(AuditAction::of_week(week)).unwrap();
            let start = serde_json::to_value(AuditAction::start_of_week(week)).unwrap();
            assert_eq!(done, Value::String(week.as_str().into()));
            assert_eq!(start, Value::String(format!("{}.start", week.as_str())));
        }
    }
}
