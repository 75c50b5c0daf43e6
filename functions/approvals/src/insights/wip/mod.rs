//! `GET /v1/reports/wip`: work in progress, i.e. approved billable work not yet
//! invoiced, per project, per client and per currency. It reads the sparse
//! unbilled index, which holds exactly that work (approving puts an item in it,
//! invoicing takes it out), and values each item as its approval fixed it.
//! Different currencies are never added: every group is per currency.
//!
//! A week whose approval (or rejection) job is still running is left out until
//! it settles: its first batches are already in the index, and counting them
//! would show the week half approved (see `weeks::job`).

pub mod group;

use std::collections::{BTreeSet, HashMap};

use agencyops_domain::timesheet::IsoWeek;
use agencyops_domain::Currency;
use agencyops_platform::access;
use agencyops_platform::extract::Query;
use agencyops_platform::loaders::projects_with_clients;
use agencyops_platform::{ApiResult, Caller, Services};
use agencyops_store::record::{all_items, from_item, is, load_many};
use agencyops_store::records::{Expense, TimeEntry, TimesheetWeek};
use agencyops_store::{keys, Index, Item, Query as StoreQuery};
use axum::extract::State;
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::Decimal;
use serde::Deserialize;

pub use group::{report, ClientWip, ProjectInfo, ProjectWip, WipFigures, WipReport};

/// Items read per query page.
const READ_PAGE: usize = 500;

/// One unbilled item as the report counts it.
#[derive(Clone, Debug, PartialEq)]
pub struct Work {
    pub project_id: String,
    pub date: Date,
    pub currency: Currency,
    /// Billed minutes (after rounding) for time; none for an expense.
    pub billed_minutes: Option<u32>,
    /// What the client will be billed, unrounded.
    pub value: Decimal,
    /// Whose week the time belongs to (person, ISO week); none for an expense.
    pub week: Option<(String, IsoWeek)>,
}

impl Work {
    /// An approved, billable, uninvoiced entry at its approved value.
    pub fn of_entry(e: &TimeEntry) -> Option<Work> {
        let a = e.approval.as_ref().filter(|_| e.is_unbilled())?;
        Some(Work {
            project_id: e.project_id.clone(),
            date: e.date,
            currency: a.currency,
            billed_minutes: Some(a.billed_minutes),
            value: a.value,
            week: Some((e.person_id.clone(), e.week())),
        })
    }
    /// An approved, billable, uninvoiced expense with its markup.
    pub fn of_expense(x: &Expense) -> Option<Work> {
        let a = x.approval.as_ref().filter(|_| x.is_unbilled())?;
        Some(Work {
            project_id: x.project_id.clone(),
            date: x.date,
            currency: x.currency,
            billed_minutes: None,
            value: a.billed_amount,
            week: None,
        })
    }
    /// The work an unbilled-index item holds (None for anything else).
    pub fn of_item(item: Item) -> ApiResult<Option<Work>> {
        Ok(if is::<TimeEntry>(&item) {
            Work::of_entry(&from_item::<TimeEntry>(item)?)
        } else if is::<Expense>(&item) {
            Work::of_expense(&from_item::<Expense>(item)?)
        } else {
            None
        })
    }
}

/// Every item in the tenant's unbilled index.
async fn unbilled_work(s: &Services, tenant: &str) -> ApiResult<Vec<Work>> {
    let q = StoreQuery::new(Index::Gsi2, keys::unbilled(tenant)).limit(READ_PAGE);
    let mut work = Vec::new();
    for item in all_items(&*s.table, &q).await? {
        work.extend(Work::of_item(item)?);
    }
    Ok(work)
}

/// The work without the time of weeks whose approval or rejection is still
/// running (one strongly consistent batch read).
async fn settled(s: &Services, tenant: &str, work: Vec<Work>) -> ApiResult<Vec<Work>> {
    let weeks: BTreeSet<(&str, IsoWeek)> = work
        .iter()
        .filter_map(|w| w.week.as_ref().map(|(p, wk)| (p.as_str(), *wk)))
        .collect();
    let keys: Vec<_> = weeks
        .iter()
        .map(|(p, wk)| keys::week(tenant, p, &wk.to_string()))
        .collect();
    let moving: BTreeSet<(String, IsoWeek)> = load_many::<TimesheetWeek>(&*s.table, &keys)
        .await?
        .into_iter()
        .filter(|w| w.job.is_some())
        .map(|w| (w.person_id, w.week))
        .collect();
    if moving.is_empty() {
        return Ok(work);
    }
    Ok(work
        .into_iter()
        .filter(|w| w.week.as_ref().is_none_or(|wk| !moving.contains(wk)))
        .collect())
}

/// Names and clients of the projects the work is on.
async fn project_info(
    s: &Services,
    tenant: &str,
    work: &[Work],
) -> ApiResult<HashMap<String, ProjectInfo>> {
    let ids = work.iter().map(|w| w.project_id.as_str());
    Ok(projects_with_clients(s, tenant, ids)
        .await?
        .into_iter()
        .map(|(p, client)| {
            let info = ProjectInfo {
                client_name: client.map(|c| c.name),
                name: p.name,
                client_id: p.client_id,
            };
            (p.id, info)
        })
        .collect())
}

/// The report takes no parameters; anything sent is refused rather than ignored.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct WipParams {}

#[utoipa::path(get, path = "/v1/reports/wip", tag = "reports",
    responses((status = 200, body = WipReport), (status = 400), (status = 403)), operation_id = "wip_report")]
pub async fn wip_report(
    State(s): State<Services>,
    caller: Caller,
    Query(_params): Query<WipParams>,
) -> ApiResult<axum::Json<WipReport>> {
    access::require_reads_reports(&caller)?;
    let work = unbilled_work(&s, &caller.tenant).await?;
    let work = settled(&s, &caller.tenant, work).await?;
    let info = project_info(&s, &caller.tenant, &work).await?;
    let today = s.clock.now().to_zoned(TimeZone::UTC).date();
    Ok(axum::Json(report(&work, &info, today)))
}
