//! A time entry as people see it: the raw minutes they recorded beside the
//! minutes the client is billed, and the rounding rule that made the difference.

use std::collections::{BTreeSet, HashMap};

use agencyops_domain::rounding::{entry_billed_minutes, TimeRounding};
use agencyops_platform::extract::etag;
use agencyops_platform::{ApiResult, Services};
use agencyops_store::keys;
use agencyops_store::record::{load, load_many};
use agencyops_store::records::{Client, Project, TimeEntry};
use axum::http::header::{ETAG, LOCATION};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EntryView {
    #[serde(flatten)]
    pub entry: TimeEntry,
    /// Minutes the client is billed; `minutes` stays as recorded.
    pub billed_minutes: u32,
    /// The project's (or else the client's) rounding; none means billed as recorded.
    pub rounding: Option<TimeRounding>,
}

/// Billed minutes of `minutes` under `policy`. Per-line rounding happens on the
/// invoice line, so an entry alone bills what was recorded.
pub fn billed_minutes(minutes: u32, policy: Option<TimeRounding>) -> u32 {
    entry_billed_minutes(policy, minutes)
}

/// The view of an entry. Approved work bills what its approval fixed.
pub fn view(entry: TimeEntry, policy: Option<TimeRounding>) -> EntryView {
    let billed = match &entry.approval {
        Some(a) => a.billed_minutes,
        None => billed_minutes(entry.minutes, policy),
    };
    EntryView {
        entry,
        billed_minutes: billed,
        rounding: policy,
    }
}

/// The rounding that applies to a project's time: its own, else its client's.
pub async fn rounding_of(
    s: &Services,
    tenant: &str,
    project: &Project,
) -> ApiResult<Option<TimeRounding>> {
    if project.rounding.is_some() {
        return Ok(project.rounding);
    }
    Ok(
        load::<Client>(&*s.table, &keys::client(tenant, &project.client_id))
            .await?
            .and_then(|c| c.rounding),
    )
}

/// Views of many entries, reading each project and client once.
pub async fn views(
    s: &Services,
    tenant: &str,
    entries: Vec<TimeEntry>,
) -> ApiResult<Vec<EntryView>> {
    let ids: BTreeSet<&str> = entries.iter().map(|e| e.project_id.as_str()).collect();
    let keys: Vec<_> = ids.iter().map(|id| keys::project(tenant, id)).collect();
    let projects = load_many::<Project>(&*s.table, &keys).await?;
    let client_ids: BTreeSet<&str> = projects
        .iter()
        .filter(|p| p.rounding.is_none())
        .map(|p| p.client_id.as_str())
        .collect();
    let keys: Vec<_> = client_ids
        .iter()
        .map(|id| keys::client(tenant, id))
        .collect();
    let client_rounding: HashMap<String, Option<TimeRounding>> =
        load_many::<Client>(&*s.table, &keys)
            .await?
            .into_iter()
            .map(|c| (c.id, c.rounding))
            .collect();
    let policies: HashMap<&str, Option<TimeRounding>> = projects
        .iter()
        .map(|p| {
            let policy = p
                .rounding
                .or_else(|| client_rounding.get(&p.client_id).copied().flatten());
            (p.id.as_str(), policy)
        })
        .collect();
    Ok(entries
        .into_iter()
        .map(|e| {
            let policy = policies.get(e.project_id.as_str()).copied().flatten();
            view(e, policy)
        })
        .collect())
}

/// An entry as a response, with its ETag (and Location when just created).
pub fn respond(status: StatusCode, view: &EntryView, location: bool) -> Response {
    let mut res = (status, axum::Json(view)).into_response();
    if let Ok(v) = HeaderValue::from_str(&etag(view.entry.version)) {
        res.headers_mut().insert(ETAG, v);
    }
    if location {
        let loc = format!("/v1/time-entries/{}", view.entry.id);
        if let Ok(v) = HeaderValue::from_str(&loc) {
            res.headers_mut().insert(LOCATION, v);
        }
    }
    res
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_domain::rounding::{RoundingMode, RoundingScope};

    fn policy(scope: RoundingScope) -> Option<TimeRounding> {
        Some(TimeRounding {
            increment_minutes: 15,
            mode: RoundingMode::Up,
            scope,
        })
    }

    #[test]
    fn only_per_entry_rounding_changes_an_entry() {
        assert_eq!(billed_minutes(7, policy(RoundingScope::PerEntry)), 15);
        assert_eq!(billed_minutes(7, policy(RoundingScope::PerLine)), 7);
        assert_eq!(billed_minutes(7, None), 7);
    }
}
