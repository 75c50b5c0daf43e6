//! Time capture: entries, the timer, day totals and timesheet weeks. Written by
//! the time and approvals functions, read by invoicing and reports.

use agencyops_domain::rates::RateSource;
use agencyops_domain::timesheet::{IsoWeek, WeekAction, WorkStatus};
use agencyops_domain::Currency;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::{Deserialize, Serialize};

use super::versioned;
use crate::keys;
use crate::record::Record;
use crate::table::{Index, Key, Query, SkCondition};

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum EntrySource {
    Manual,
    Timer,
}

/// The rates that applied when the work was approved. Later rate changes do not
/// rewrite it: an invoice bills what was approved.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Approval {
    pub approved_by: String,
    pub approved_at: Timestamp,
    /// Hourly bill rate in `currency`; none when no rate applies (non-billable).
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub bill_rate: Option<Decimal>,
    pub rate_source: Option<RateSource>,
    pub currency: Currency,
    /// What an hour of the person cost the agency, in `cost_currency`.
    #[serde(default, with = "rust_decimal::serde::str_option")]
    pub cost_rate: Option<Decimal>,
    pub cost_currency: Option<Currency>,
    /// Minutes the client is billed, after the project's per-entry rounding.
    pub billed_minutes: u32,
    /// Billed value, unrounded (rounding happens once, on the invoice line).
    #[serde(with = "rust_decimal::serde::str")]
    pub value: Decimal,
    /// The week job that approved it, so a resumed job can find its own work.
    #[serde(default)]
    pub job_id: Option<String>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Rejection {
    pub rejected_by: String,
    pub rejected_at: Timestamp,
    pub reason: String,
    /// The week job that rejected it.
    #[serde(default)]
    pub job_id: Option<String>,
    /// When approved work was sent back: the approval it undid, so the burn
    /// it had added can be taken off again.
    #[serde(default)]
    pub unapproved: Option<Approval>,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimeEntry {
    pub id: String,
    pub person_id: String,
    pub project_id: String,
    pub task_id: Option<String>,
    pub date: Date,
    /// Raw minutes as recorded; never rewritten by rounding.
    pub minutes: u32,
    pub note: String,
    pub billable: bool,
    pub status: WorkStatus,
    pub source: EntrySource,
    pub approval: Option<Approval>,
    pub rejection: Option<Rejection>,
    pub invoice_id: Option<String>,
    /// Who recorded the entry (the person themself, or an admin or manager
    /// for them): maker-checker keeps them from approving it. None on
    /// entries stored before it was kept.
    #[serde(default)]
    pub recorded_by: Option<String>,
    /// Who last changed what the entry says (created counts as a change).
    #[serde(default)]
    pub changed_by: Option<String>,
    pub version: u64,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
}

impl TimeEntry {
    pub fn week(&self) -> IsoWeek {
        IsoWeek::of(self.date)
    }
    /// Approved billable work not yet on an invoice: work in progress.
    pub fn is_unbilled(&self) -> bool {
        self.status == WorkStatus::Approved && self.billable && self.invoice_id.is_none()
    }
    fn sort(&self) -> String {
        keys::entry_sort(&self.date.to_string(), &self.id)
    }
    /// A person's entries dated in `week`: a strongly consistent query of
    /// their own partition (read every page with [`crate::record::all`]).
    pub fn week_query(tenant: &str, person: &str, week: IsoWeek) -> Query {
        let (lo, hi) = keys::entry_range(&week.monday().to_string(), &week.sunday().to_string());
        Query::new(Index::Table, keys::person_time(tenant, person))
            .sk(SkCondition::Between(lo, hi))
            .limit(500)
    }
}

impl Record for TimeEntry {
    versioned!("time_entry");
    fn key(&self, tenant: &str) -> Key {
        keys::time_entry(tenant, &self.person_id, &self.date.to_string(), &self.id)
    }
    fn index_keys(&self, tenant: &str) -> [Option<(String, String)>; 2] {
        [
            Some((keys::project_time(tenant, &self.project_id), self.sort())),
            self.is_unbilled().then(|| {
                (
                    keys::unbilled(tenant),
                    keys::unbilled_sort(&self.project_id, &self.sort()),
                )
            }),
        ]
    }
}

/// Finds an entry by id: entries live in their person's partition, sorted by date.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EntryRef {
    pub id: String,
    pub person_id: String,
    pub date: Date,
    pub version: u64,
    pub updated_at: Timestamp,
}

impl EntryRef {
    pub fn of(entry: &TimeEntry) -> EntryRef {
        EntryRef {
            id: entry.id.clone(),
            person_id: entry.person_id.clone(),
            date: entry.date,
            version: 1,
            updated_at: entry.updated_at,
        }
    }
    pub fn entry_key(&self, tenant: &str) -> Key {
        keys::time_entry(tenant, &self.person_id, &self.date.to_string(), &self.id)
    }
}

impl Record for EntryRef {
    versioned!("time_entry_ref");
    fn key(&self, tenant: &str) -> Key {
        keys::entry_ref(tenant, &self.id)
    }
}

/// Minutes one person recorded on one day. Every entry write changes it under a
/// version condition, so two concurrent entries cannot together pass 24 hours.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct DayTotal {
    /// `person/date`, unique within the tenant.
    pub id: String,
    pub person_id: String,
    pub date: Date,
    pub minutes: u32,
    pub version: u64,
    pub updated_at: Timestamp,
}

impl DayTotal {
    pub fn empty(person_id: &str, date: Date, now: Timestamp) -> DayTotal {
        DayTotal {
            id: format!("{person_id}/{date}"),
            person_id: person_id.into(),
            date,
            minutes: 0,
            version: 0,
            updated_at: now,
        }
    }
}

impl Record for DayTotal {
    versioned!("day_total");
    fn key(&self, tenant: &str) -> Key {
        keys::day_total(tenant, &self.person_id, &self.date.to_string())
    }
}

/// The one running timer a person may have.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Timer {
    /// The person's id: one timer each.
    pub id: String,
    pub project_id: String,
    pub task_id: Option<String>,
    pub note: String,
    pub started_at: Timestamp,
    /// The person's zone when it started; it decides the entry's date.
    pub time_zone: String,
    pub version: u64,
    pub updated_at: Timestamp,
}

impl Record for Timer {
    versioned!("timer");
    fn key(&self, tenant: &str) -> Key {
        keys::timer(tenant, &self.id)
    }
}

/// An action on a whole week that may take more than one transaction. While it
/// is pending the week reads as "in progress" and every other change to it waits;
/// repeating the same request resumes it where it stopped.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct WeekJob {
    pub id: String,
    pub action: WeekAction,
    pub project_id: Option<String>,
    pub actor: String,
    pub reason: Option<String>,
    pub started_at: Timestamp,
    /// Batches already committed, in order; each batch's burn changes are
    /// re-announced on resume (the consumer ignores repeats).
    pub batches_done: u32,
}

/// A person's timesheet week: who submitted and decided it, and any pending job.
/// Its status is derived from the entries, so it cannot disagree with them.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct TimesheetWeek {
    /// `person/2026-W47`.
    pub id: String,
    pub person_id: String,
    pub week: IsoWeek,
    pub submitted_at: Option<Timestamp>,
    pub decided_by: Option<String>,
    pub rejection_reason: Option<String>,
    pub job: Option<WeekJob>,
    pub version: u64,
    pub updated_at: Timestamp,
}

impl TimesheetWeek {
    pub fn empty(person_id: &str, week: IsoWeek, now: Timestamp) -> TimesheetWeek {
        TimesheetWeek {
            id: format!("{person_id}/{week}"),
            person_id: person_id.into(),
            week,
            submitted_at: None,
            decided_by: None,
            rejection_reason: None,
            job: None,
            version: 0,
            updated_at: now,
        }
    }
}

impl Record for TimesheetWeek {
    versioned!("timesheet_week");
    fn key(&self, tenant: &str) -> Key {
        keys::week(tenant, &self.person_id, &self.week.to_string())
    }
}
