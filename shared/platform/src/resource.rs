//! Application operations every resource shares: create, versioned update and
//! paged listing of records, each change written together with its audit entry.

use agencyops_store::audit::{Actor, AuditAction, AuditEntry};
use agencyops_store::record::{self, Record};
use agencyops_store::{Key, PageKey, Query, StoreResult, Write};
use axum::http::header::{ETAG, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use serde_json::Value;

use crate::caller::Caller;
use crate::cursor::ListScope;
use crate::error::{ApiError, ApiResult};
use crate::extract::{etag, IfMatch};
use crate::services::Services;
use crate::tx::{Fails, Tx};

/// Most items one list page returns.
pub const MAX_PAGE: u32 = 200;
pub const DEFAULT_PAGE: u32 = 50;

#[derive(Serialize, utoipa::ToSchema)]
pub struct ListPage<T> {
    pub items: Vec<T>,
    /// Pass as `cursor` to get the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// A record as a response, with its ETag (and Location when just created).
pub fn respond<R: Record>(status: StatusCode, record: &R, location: Option<String>) -> Response {
    respond_versioned(status, record, record.version(), location)
}

/// Any versioned body (a record or a view built from one) as a response, with
/// the ETag of `version` (and Location when just created).
pub fn respond_versioned<B: serde::Serialize>(
    status: StatusCode,
    body: &B,
    version: u64,
    location: Option<String>,
) -> Response {
    let mut res = (status, axum::Json(body)).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(version)) {
        res.headers_mut().insert(ETAG, v);
    }
    if let Some(loc) = location.and_then(|l| HeaderValue::from_str(&l).ok()) {
        res.headers_mut().insert(LOCATION, loc);
    }
    res
}

pub fn new_id() -> String {
    uuid::Uuid::now_v7().to_string()
}

/// The id of what a request with this Idempotency-Key creates: the same for
/// the same person and key, so a retry whose first attempt was written but
/// never answered finds it instead of doing the work again.
pub fn keyed_id(caller: &Caller, key: &str) -> String {
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for part in [caller.person.as_bytes(), key.as_bytes()] {
        h.update((part.len() as u64).to_be_bytes());
        h.update(part);
    }
    format!("k{}", &hex::encode(h.finalize())[..32])
}

/// The audit write of a change the caller made to a record.
pub fn audit<R: Record>(
    services: &Services,
    caller: &Caller,
    action: AuditAction,
    before: Option<&R>,
    after: Option<&R>,
    id: &str,
) -> ApiResult<Write> {
    let to_json = |r: Option<&R>| r.and_then(|r| serde_json::to_value(r).ok());
    let entity = (R::KIND, id);
    audit_entry(
        services,
        &caller.tenant,
        actor(caller),
        action,
        entity,
        to_json(before),
        to_json(after),
    )
    .map_err(ApiError::from)
}

/// The caller as the audit trail names them: person and role.
pub fn actor(caller: &Caller) -> Actor<'_> {
    Actor {
        id: &caller.person,
        role: caller.role.as_str(),
    }
}

/// The one audit constructor every audit write goes through: a fresh id and
/// the clock's time for a change `actor` made to the record `(kind, id)`,
/// with its state before and after (any JSON: a record, or a summary of a
/// change to many).
pub fn audit_entry(
    services: &Services,
    tenant: &str,
    actor: Actor<'_>,
    action: AuditAction,
    entity: (&str, &str),
    before: Option<Value>,
    after: Option<Value>,
) -> StoreResult<Write> {
    let at = services.clock.now();
    AuditEntry::new(new_id(), at, actor, action, entity, before, after).write(tenant)
}

/// Stores a new record with its audit entry and any `extra` writes, all or nothing.
pub async fn insert<R: Record>(
    services: &Services,
    caller: &Caller,
    record: &R,
    extra: Vec<Write>,
) -> ApiResult<()> {
    let mut tx = Tx::new(&caller.tenant);
    tx.create(record, Fails::AlreadyExists(R::KIND))?
        .audit(
            services,
            caller,
            AuditAction::Create,
            None,
            Some(record),
            record.id(),
        )?
        .extend(extra);
    tx.commit(services).await
}

/// Loads a record the caller may see, or 404.
pub async fn fetch<R: Record>(services: &Services, key: &Key) -> ApiResult<R> {
    record::load::<R>(&*services.table, key)
        .await?
        .ok_or(ApiError::NotFound(R::KIND))
}

/// Applies `change` to the stored record and writes it back only if nobody
/// changed it meanwhile. With If-Match, a stale version is 412; without, a lost
/// race is 409. `change` may return extra writes for the same transaction.
pub async fn update<R, F>(
    services: &Services,
    caller: &Caller,
    current: R,
    if_match: IfMatch,
    action: AuditAction,
    change: F,
) -> ApiResult<R>
where
    R: Record + Clone,
    F: FnOnce(&mut R) -> ApiResult<Vec<Write>>,
{
    let expected = current.version();
    if let IfMatch(Some(v)) = if_match {
        if v != expected {
            return Err(ApiError::PreconditionFailed);
        }
    }
    let mut next = current.clone();
    let extra = change(&mut next)?;
    let unchanged = serde_json::to_value(&next).ok() == serde_json::to_value(&current).ok();
    if unchanged && extra.is_empty() {
        return Ok(current);
    }
    record::bump(&mut next, services.clock.now());
    let mut tx = Tx::new(&caller.tenant).if_match(if_match.0.is_some());
    let stale = format!(
        "the {} changed while it was being updated; reload and retry",
        R::KIND
    );
    tx.replace(&next, expected, Fails::stale(stale))?
        .audit(
            services,
            caller,
            action,
            Some(&current),
            Some(&next),
            next.id(),
        )?
        .extend(extra);
    tx.commit(services).await?;
    Ok(next)
}

/// Reads pages of `query` until `limit` records pass `keep` (or the list ends),
/// returning a cursor bound to the caller's tenant, this query and `filters`
/// (the values `keep` reads, typically the handler's filter parameters).
pub async fn list<R: Record>(
    services: &Services,
    caller: &Caller,
    mut query: Query,
    limit: Option<u32>,
    cursor: Option<&str>,
    filters: &impl Serialize,
    keep: impl Fn(&R) -> bool,
) -> ApiResult<ListPage<R>> {
    let limit = page_limit(limit)?;
    let scope = ListScope::new(&query, filters)?;
    query.start_after = resume(services, caller, &scope, &query, cursor)?;
    let mut items = Vec::new();
    // Filtered lists may need several reads to fill a page; a few are enough to
    // make progress, and the cursor resumes exactly where reading stopped.
    for _ in 0..5 {
        query.limit = (limit - items.len()).max(1);
        let (records, next) = record::page::<R>(&*services.table, &query).await?;
        items.extend(records.into_iter().filter(|r| keep(r)));
        query.start_after = next;
        if query.start_after.is_none() || items.len() >= limit {
            break;
        }
    }
    let next_cursor = next_cursor(services, caller, &scope, query.start_after.as_ref())?;
    Ok(ListPage { items, next_cursor })
}

/// The page size a list request asks for, checked.
pub fn page_limit(limit: Option<u32>) -> ApiResult<usize> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=MAX_PAGE).contains(&limit) {
        return Err(ApiError::field(
            "query.limit",
            format!("must be 1 to {MAX_PAGE}"),
        ));
    }
    Ok(limit as usize)
}

/// Where a list resumes: the position `cursor` names, if it was issued for
/// `scope` in the caller's tenant, has not expired and lies inside `query`.
pub fn resume(
    services: &Services,
    caller: &Caller,
    scope: &ListScope,
    query: &Query,
    cursor: Option<&str>,
) -> ApiResult<Option<PageKey>> {
    let Some(cursor) = cursor else {
        return Ok(None);
    };
    let at = services
        .cursors
        .decode(&caller.tenant, scope, cursor, services.clock.now())?;
    if !at.belongs_to(query) {
        return Err(ApiError::field(
            "query.cursor",
            "is not a cursor this list issued",
        ));
    }
    Ok(Some(at))
}

/// The cursor for the page after `next`, if there is one.
pub fn next_cursor(
    services: &Services,
    caller: &Caller,
    scope: &ListScope,
    next: Option<&PageKey>,
) -> ApiResult<Option<String>> {
    next.map(|k| {
        services
            .cursors
            .encode(&caller.tenant, scope, k, services.clock.now())
    })
    .transpose()
}
