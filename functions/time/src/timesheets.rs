//! `/v1/timesheets/{person}/{week}`: a person's ISO week as they and their
//! approvers see it: every entry, totals per day and project, billable against
//! not, and where the week is in approval. The status is derived from the
//! entries, so it cannot disagree with them.

use std::collections::BTreeMap;

use agencyops_domain::timesheet::{hours, week_status, IsoWeek, WeekStatus};
use agencyops_platform::extract::Path;
use agencyops_platform::{ApiError, ApiResult, Caller, Services};
use agencyops_store::keys;
use agencyops_store::record::{self, load};
use agencyops_store::records::{TimeEntry, TimesheetWeek, WeekJob};
use axum::extract::State;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

use crate::policy;
use crate::view::{self, EntryView};

/// The week's state; `in_progress` while a submit or approval job runs on it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SheetStatus {
    Open,
    Submitted,
    PartiallyApproved,
    Approved,
    Rejected,
    InProgress,
}

impl From<WeekStatus> for SheetStatus {
    fn from(w: WeekStatus) -> Self {
        match w {
            WeekStatus::Open => SheetStatus::Open,
            WeekStatus::Submitted => SheetStatus::Submitted,
            WeekStatus::PartiallyApproved => SheetStatus::PartiallyApproved,
            WeekStatus::Approved => SheetStatus::Approved,
            WeekStatus::Rejected => SheetStatus::Rejected,
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct DayTotals {
    #[schema(value_type = String, example = "2026-11-16")]
    pub date: Date,
    pub minutes: u64,
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String, example = "7.5")]
    pub hours: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct ProjectTotals {
    pub project_id: String,
    pub minutes: u64,
    pub billable_minutes: u64,
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub hours: Decimal,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, ToSchema)]
pub struct Totals {
    pub days: Vec<DayTotals>,
    pub projects: Vec<ProjectTotals>,
    pub minutes: u64,
    pub billable_minutes: u64,
    pub non_billable_minutes: u64,
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub hours: Decimal,
    #[serde(with = "rust_decimal::serde::str")]
    #[schema(value_type = String)]
    pub billable_hours: Decimal,
}

#[derive(Serialize, ToSchema)]
pub struct Timesheet {
    pub person_id: String,
    #[schema(value_type = String, example = "2026-W47")]
    pub week: IsoWeek,
    #[schema(value_type = String, example = "2026-11-16")]
    pub from: Date,
    #[schema(value_type = String, example = "2026-11-22")]
    pub to: Date,
    pub status: SheetStatus,
    /// The submit or approval running on the week, if any.
    pub job: Option<JobView>,
    #[schema(value_type = Option<String>)]
    pub submitted_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    pub rejection_reason: Option<String>,
    pub entries: Vec<EntryView>,
    pub totals: Totals,
}

/// A submit, approval or rejection still running on a week.
#[derive(Serialize, ToSchema)]
pub struct JobView {
    pub id: String,
    /// "submit", "approve" or "reject".
    pub action: String,
    pub project_id: Option<String>,
    /// Who started it.
    pub actor: String,
    #[schema(value_type = String)]
    pub started_at: Timestamp,
    /// Batches already committed; repeating the request resumes after them.
    pub batches_done: u32,
}

impl From<WeekJob> for JobView {
    fn from(j: WeekJob) -> Self {
        JobView {
            id: j.id,
            action: j.action.as_str().into(),
            project_id: j.project_id,
            actor: j.actor,
            started_at: j.started_at,
            batches_done: j.batches_done,
        }
    }
}

/// Totals of a week's entries: all seven days (empty ones too), each project
/// in id order, and billable against non-billable.
pub fn totals(week: IsoWeek, entries: &[TimeEntry]) -> Totals {
    let mut days: BTreeMap<Date, u64> = week.days().map(|d| (d, 0)).collect();
    let mut projects: BTreeMap<&str, (u64, u64)> = BTreeMap::new();
    let (mut all, mut billable) = (0u64, 0u64);
    for e in entries.iter().filter(|e| week.contains(e.date)) {
        let m = u64::from(e.minutes);
        *days.entry(e.date).or_insert(0) += m;
        let p = projects.entry(e.project_id.as_str()).or_insert((0, 0));
        p.0 += m;
        all += m;
        if e.billable {
            p.1 += m;
            billable += m;
        }
    }
    Totals {
        days: days
            .into_iter()
            .map(|(date, minutes)| DayTotals {
                date,
                minutes,
                hours: hours(minutes),
            })
            .collect(),
        projects: projects
            .into_iter()
            .map(|(id, (minutes, billable_minutes))| ProjectTotals {
                project_id: id.to_owned(),
                minutes,
                billable_minutes,
                hours: hours(minutes),
            })
            .collect(),
        minutes: all,
        billable_minutes: billable,
        non_billable_minutes: all - billable,
        hours: hours(all),
        billable_hours: hours(billable),
    }
}

#[utoipa::path(get, path = "/v1/timesheets/{person_id}/{iso_week}", tag = "time",
    params(("person_id" = String, Path, description = "a person's id, or `me`"), ("iso_week" = String, Path, pattern = r"^(19|2[0-9])[0-9]{2}-W(0[1-9]|[1-4][0-9]|5[0-2])$", example = "2026-W47")),
    responses((status = 200, body = Timesheet), (status = 400), (status = 403), (status = 404)), operation_id = "get_timesheet")]
pub async fn get(
    State(s): State<Services>,
    caller: Caller,
    Path((person_id, iso_week)): Path<(String, String)>,
) -> ApiResult<axum::Json<Timesheet>> {
    let person = policy::visible_work_owner(&s, &caller, &person_id).await?;
    let week: IsoWeek = iso_week
        .parse()
        .map_err(|why| ApiError::invalid("iso_week", why))?;
    let tenant = caller.tenant.as_str();
    let entries: Vec<TimeEntry> =
        record::all(&*s.table, &TimeEntry::week_query(tenant, &person, week)).await?;
    let record =
        load::<TimesheetWeek>(&*s.table, &keys::week(tenant, &person, &week.to_string())).await?;
    let derived = SheetStatus::from(week_status(entries.iter().map(|e| e.status)));
    let job = record.as_ref().and_then(|r| r.job.clone());
    let totals = totals(week, &entries);
    Ok(axum::Json(Timesheet {
        person_id: person,
        week,
        from: week.monday(),
        to: week.sunday(),
        status: if job.is_some() {
            SheetStatus::InProgress
        } else {
            derived
        },
        job: job.map(JobView::from),
        submitted_at: record.as_ref().and_then(|r| r.submitted_at),
        decided_by: record.as_ref().and_then(|r| r.decided_by.clone()),
        rejection_reason: record.and_then(|r| r.rejection_reason),
        entries: view::views(&s, &caller, entries).await?,
        totals,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_store::records::EntrySource;
    use jiff::civil::date;

    fn entry(project: &str, day: Date, minutes: u32, billable: bool) -> TimeEntry {
        TimeEntry {
            id: format!("{project}{day}{minutes}"),
            billable,
            ..crate::entry_writes::draft(
                "p",
                "p".into(),
                project.into(),
                day,
                minutes,
                EntrySource::Manual,
                Timestamp::UNIX_EPOCH,
            )
        }
    }

    #[test]
    fn totals_cover_every_day_and_split_billable_work() {
        let week: IsoWeek = "2026-W47".parse().unwrap();
        let t = totals(
            week,
            &[
                entry("a", date(2026, 11, 16), 90, true),
                entry("b", date(2026, 11, 16), 30, false),
                entry("a", date(2026, 11, 20), 45, true),
                // Outside the week: ignored.
                entry("a", date(2026, 11, 23), 600, true),
            ],
        );
        assert_eq!(t.days.len(), 7);
        assert_eq!(t.days[0].minutes, 120);
        assert_eq!(t.days[0].hours, Decimal::from(2));
        assert_eq!(t.days[4].minutes, 45);
        assert_eq!(t.days[6].minutes, 0);
        assert_eq!(
            (t.minutes, t.billable_minutes, t.non_billable_minutes),
            (165, 135, 30)
        );
        assert_eq!(t.projects[0].project_id, "a");
        assert_eq!(
            (t.projects[0].minutes, t.projects[0].billable_minutes),
            (135, 135)
        );
        assert_eq!(
            (t.projects[1].minutes, t.projects[1].billable_minutes),
            (30, 0)
        );
    }
}
