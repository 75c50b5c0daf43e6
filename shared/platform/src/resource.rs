//! Application operations every resource shares: create, versioned update and
//! paged listing of records, each change written together with its audit entry.

use agencyops_store::audit::AuditEntry;
use agencyops_store::record::{self, Record};
use agencyops_store::{Key, PageKey, Query, StoreError, Write};
use axum::http::header::{ETAG, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::caller::Caller;
use crate::cursor::ListScope;
use crate::error::{ApiError, ApiResult, Conflict};
use crate::extract::{etag, IfMatch};
use crate::services::Services;

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

pub fn audit<R: Record>(
    services: &Services,
    caller: &Caller,
    action: &str,
    before: Option<&R>,
    after: Option<&R>,
    id: &str,
) -> ApiResult<Write> {
    let to_json = |r: Option<&R>| r.and_then(|r| serde_json::to_value(r).ok());
    AuditEntry {
        id: new_id(),
        at: AuditEntry::stamp(services.clock.now()),
        actor: caller.person.clone(),
        actor_role: caller.role.as_str().into(),
        action: action.into(),
        entity_kind: R::KIND.into(),
        entity_id: id.into(),
        before: to_json(before),
        after: to_json(after),
    }
    .write(&caller.tenant)
    .map_err(ApiError::from)
}

/// Stores a new record with its audit entry and any `extra` writes, all or nothing.
pub async fn insert<R: Record>(
    services: &Services,
    caller: &Caller,
    record: &R,
    extra: Vec<Write>,
) -> ApiResult<()> {
    let mut writes = vec![
        record::create(&caller.tenant, record)?,
        audit(services, caller, "create", None, Some(record), record.id())?,
    ];
    writes.extend(extra);
    match services.table.transact(writes).await {
        Ok(()) => Ok(()),
        Err(StoreError::ConditionFailed { index: 0, .. }) => {
            Err(Conflict::AlreadyExists(R::KIND).into())
        }
        Err(e) => Err(e.into()),
    }
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
    action: &str,
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
    next.set_version(expected + 1);
    next.touch(services.clock.now());
    let mut writes = vec![
        record::replace(&caller.tenant, &next, expected)?,
        audit(
            services,
            caller,
            action,
            Some(&current),
            Some(&next),
            next.id(),
        )?,
    ];
    writes.extend(extra);
    match services.table.transact(writes).await {
        Ok(()) => Ok(next),
        Err(StoreError::ConditionFailed { index: 0, .. }) if if_match.0.is_some() => {
            Err(ApiError::PreconditionFailed)
        }
        Err(StoreError::ConditionFailed { index: 0, .. }) => Err(ApiError::changed(format!(
            "the {} changed while it was being updated; reload and retry",
            R::KIND
        ))),
        Err(e) => Err(e.into()),
    }
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
