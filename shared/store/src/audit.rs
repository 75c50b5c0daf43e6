//! Every state change writes an audit record in the same transaction: who, when,
//! what, and the record before and after.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::keys;
use crate::table::*;

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
        item.insert("kind".into(), Value::String("audit".into()));
        Ok(Write::put_new(item))
    }
}
