//! Every state change writes an audit record in the same transaction: who, when,
//! what, and the record before and after.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::keys;
use crate::table::*;

/// The `kind` attribute audit items carry.
const KIND: &str = "audit";

#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, utoipa::ToSchema)]
pub struct AuditEntry {
    pub id: String,
    /// RFC 3339 instant.
    pub at: String,
    pub actor: String,
    pub actor_role: String,
    /// e.g. "create", "update", "accept".
    pub action: String,
    pub entity_kind: String,
    pub entity_id: String,
    pub before: Option<Value>,
    pub after: Option<Value>,
}

impl AuditEntry {
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
        item.insert(PK.into(), Value::String(keys::audit_log(tenant)));
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
