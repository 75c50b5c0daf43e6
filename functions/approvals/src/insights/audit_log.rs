//! `GET /v1/audit`: the tenant's audit trail, newest first, whole or for one
//! record. Audit entries are not records (they are never updated), so they are
//! read as raw items (see `AuditEntry::read`).

use agencyops_domain::Id;
use agencyops_platform::access;
use agencyops_platform::cursor::ListScope;
use agencyops_platform::extract::Query;
use agencyops_platform::resource::{self, ListPage};
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::audit::{self, AuditEntry};
use agencyops_store::{keys, Index, PageKey, Query as StoreQuery};
use axum::extract::State;
use serde::Deserialize;

#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct AuditFilter {
    /// The kind of record, e.g. `project` or `time_entry`; needs `entity_id`.
    #[param(pattern = r"^[A-Za-z0-9_-]{1,64}$")]
    pub entity_kind: Option<String>,
    /// The record's id; needs `entity_kind`. A timesheet week is named
    /// `{person_id}/{iso_week}`, e.g. `ana/2026-W47`.
    #[param(pattern = r"^[A-Za-z0-9_-]{1,64}(/[A-Za-z0-9_-]{1,64})?$")]
    pub entity_id: Option<String>,
    /// 1 to 200, default 50.
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
    pub cursor: Option<String>,
}

/// Whether `id` can name an audited record: an id, or the two ids of a record
/// that lives under another (a timesheet week is `{person}/{week}`). Ids end up
/// inside a key, so nothing outside that alphabet is accepted.
pub fn valid_entity_id(id: &str) -> bool {
    let mut parts = id.split('/');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(a), None, None) => Id::is_valid(a),
        (Some(a), Some(b), None) => Id::is_valid(a) && Id::is_valid(b),
        _ => false,
    }
}

/// Which audit partition to read: the whole tenant's, or one record's (GSI1).
fn audit_query(tenant: &str, f: &AuditFilter) -> ApiResult<StoreQuery> {
    let q = match (&f.entity_kind, &f.entity_id) {
        (None, None) => StoreQuery::new(Index::Table, keys::audit_log(tenant)),
        (Some(kind), Some(id)) => {
            // Both end up inside a key, so only the id alphabet is accepted.
            if !Id::is_valid(kind) {
                return Err(ApiError::field(
                    "query.entity_kind",
                    "must be a record kind such as project",
                ));
            }
            if !valid_entity_id(id) {
                return Err(ApiError::field("query.entity_id", "is not a valid id"));
            }
            StoreQuery::new(Index::Gsi1, keys::audit_entity(tenant, kind, id))
        }
        (Some(_), None) => {
            return Err(ApiError::field(
                "query.entity_id",
                "is required together with entity_kind",
            ))
        }
        (None, Some(_)) => {
            return Err(ApiError::field(
                "query.entity_kind",
                "is required together with entity_id",
            ))
        }
    };
    Ok(q.backward())
}

#[utoipa::path(get, path = "/v1/audit", tag = "reports", params(AuditFilter),
    responses((status = 200, body = ListPage<AuditEntry>), (status = 400), (status = 403)), operation_id = "list_audit")]
pub async fn list_audit(
    State(s): State<Services>,
    caller: Caller,
    Query(f): Query<AuditFilter>,
) -> ApiResult<axum::Json<ListPage<AuditEntry>>> {
    access::require_reads_audit(&caller)?;
    let limit = resource::page_limit(f.limit)?;
    let mut query = audit_query(&caller.tenant, &f)?;
    // Bound like `resource::list`'s cursors; the entity filter is in the query.
    let scope = ListScope::new(&query, &())?;
    query.start_after = resource::resume(&s, &caller, &scope, &query, f.cursor.as_deref())?;
    if f.entity_kind.is_none() {
        return whole_log(&s, &caller, &scope, &query, limit).await;
    }
    let mut items = Vec::new();
    // The partitions hold only audit items, so one read normally fills the
    // page; a few more guard against anything else stored beside them.
    for _ in 0..5 {
        query.limit = limit.saturating_sub(items.len()).max(1);
        let page = s.table.query(&query).await?;
        for item in page.items {
            if let Some(entry) = AuditEntry::read(item) {
                items.push(entry?);
            }
        }
        query.start_after = page.next;
        if query.start_after.is_none() || items.len() >= limit {
            break;
        }
    }
    let next_cursor = resource::next_cursor(&s, &caller, &scope, query.start_after.as_ref())?;
    Ok(axum::Json(ListPage { items, next_cursor }))
}

/// The whole tenant's trail, merged over its shards (`audit::read_log`);
/// its cursor is the sort key of the last entry shown.
async fn whole_log(
    s: &Services,
    caller: &Caller,
    scope: &ListScope,
    query: &StoreQuery,
    limit: usize,
) -> ApiResult<axum::Json<ListPage<AuditEntry>>> {
    let before = query.start_after.as_ref().map(|at| at.sk.as_str());
    let (found, more) = audit::read_log(&*s.table, &caller.tenant, before, limit).await?;
    let next = match (more, found.last()) {
        (true, Some((sk, _))) => Some(PageKey {
            pk: query.pk.clone(),
            sk: sk.clone(),
            ipk: None,
            isk: None,
        }),
        _ => None,
    };
    let items = found
        .into_iter()
        .filter_map(|(_, item)| AuditEntry::read(item))
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = resource::next_cursor(s, caller, scope, next.as_ref())?;
    Ok(axum::Json(ListPage { items, next_cursor }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_store::Item;
    use serde_json::json;

    fn stored() -> Item {
        let entry = AuditEntry {
            id: "a1".into(),
            at: "2026-11-20T12:00:00.000000000Z".into(),
            actor: "boss".into(),
            actor_role: "admin".into(),
            action: agencyops_store::audit::AuditAction::Create,
            entity_kind: "client".into(),
            entity_id: "c1".into(),
            before: None,
            after: Some(json!({"name": "Northwind"})),
        };
        match entry.write("acme").unwrap() {
            agencyops_store::Write::Put { item, .. } => item,
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn stored_entries_read_back_without_their_keys() {
        let entry = AuditEntry::read(stored()).unwrap().unwrap();
        assert_eq!(entry.entity_id, "c1");
        assert_eq!(entry.after, Some(json!({"name": "Northwind"})));
        let mut other = stored();
        other.insert("kind".into(), json!("client"));
        assert!(AuditEntry::read(other).is_none());
    }

    #[test]
    fn entity_ids_are_ids_or_a_person_and_week() {
        assert!(valid_entity_id("p1"));
        assert!(valid_entity_id("ana/2026-W47"));
        for bad in ["", "a/b/c", "/x", "x/", "a#b", "a/b#c", "a b"] {
            assert!(!valid_entity_id(bad), "{bad}");
        }
    }

    #[test]
    fn an_entity_needs_both_kind_and_id() {
        let f = |k: Option<&str>, i: Option<&str>| AuditFilter {
            entity_kind: k.map(Into::into),
            entity_id: i.map(Into::into),
            limit: None,
            cursor: None,
        };
        let field = |r: ApiResult<StoreQuery>| match r {
            Err(ApiError::Validation(e)) => e[0].field.clone(),
            other => panic!("{:?}", other.map(|q| q.pk)),
        };
        assert_eq!(
            field(audit_query("t", &f(Some("project"), None))),
            "query.entity_id"
        );
        assert_eq!(
            field(audit_query("t", &f(None, Some("p1")))),
            "query.entity_kind"
        );
        assert_eq!(
            field(audit_query("t", &f(Some("a#b"), Some("p1")))),
            "query.entity_kind"
        );
        let q = audit_query("t", &f(Some("project"), Some("p1"))).unwrap();
        assert_eq!(
            (q.index, q.pk, q.forward),
            (Index::Gsi1, keys::audit_entity("t", "project", "p1"), false)
        );
        let q = audit_query("t", &f(None, None)).unwrap();
        assert_eq!(
            (q.index, q.pk, q.forward),
            (Index::Table, keys::audit_log("t"), false)
        );
    }
}
