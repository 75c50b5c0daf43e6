//! A time entry as people see it: the raw minutes they recorded beside the
//! minutes the client is billed, and the rounding rule that made the difference.
//! Built per caller from the stored entry: rates, costs and values only for the
//! staff who run the agency (`access::sees_rates`), whoever asks.

use std::collections::HashMap;

use agencyops_domain::rates::RateSource;
use agencyops_domain::rounding::{entry_billed_minutes, TimeRounding};
use agencyops_domain::timesheet::WorkStatus;
use agencyops_domain::Currency;
use agencyops_platform::access::sees_rates;
use agencyops_platform::loaders::projects_with_clients;
use agencyops_platform::resource;
use agencyops_platform::{ApiResult, Caller, Services};
use agencyops_store::keys;
use agencyops_store::record::load;
use agencyops_store::records::{Approval, Client, EntrySource, Project, Rejection, TimeEntry};
use axum::http::StatusCode;
use axum::response::Response;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde::Serialize;
use utoipa::ToSchema;

/// What the caller may see of someone's work.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Audience {
    /// Rates, costs, values and who recorded or changed it: staff only.
    pub staff: bool,
}

impl Audience {
    pub fn of(caller: &Caller) -> Audience {
        Audience {
            staff: sees_rates(caller),
        }
    }

    /// `value` if this audience may see staff-only fields; absent otherwise.
    pub fn staff_only<T>(self, value: Option<T>) -> Option<T> {
        value.filter(|_| self.staff)
    }
}

/// A time entry as a response.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct EntryView {
    pub id: String,
    pub person_id: String,
    pub project_id: String,
    pub task_id: Option<String>,
    #[schema(value_type = String, example = "2026-11-20")]
    pub date: Date,
    /// Raw minutes as recorded; never rewritten by rounding.
    pub minutes: u32,
    /// Minutes the client is billed; `minutes` stays as recorded.
    pub billed_minutes: u32,
    /// The project's (or else the client's) rounding; none means billed as recorded.
    pub rounding: Option<TimeRounding>,
    pub note: String,
    pub billable: bool,
    pub status: WorkStatus,
    pub source: EntrySource,
    pub approval: Option<ApprovalView>,
    pub rejection: Option<RejectionView>,
    pub invoice_id: Option<String>,
    /// Who recorded it (admin, finance and managers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub recorded_by: Option<String>,
    /// Who last changed it (admin, finance and managers only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub changed_by: Option<String>,
    pub version: u64,
    #[schema(value_type = String)]
    pub created_at: Timestamp,
    #[schema(value_type = String)]
    pub updated_at: Timestamp,
}

/// Who approved the work and when; the rates and value it fixed are shown
/// only to admin, finance and managers (absent for everyone else).
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ApprovalView {
    pub approved_by: String,
    #[schema(value_type = String)]
    pub approved_at: Timestamp,
    /// Minutes the client is billed, after the project's per-entry rounding.
    pub billed_minutes: u32,
    /// Hourly bill rate in `currency` (staff only; absent when no rate applied).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "rust_decimal::serde::str_option::serialize"
    )]
    #[schema(value_type = Option<String>)]
    pub bill_rate: Option<Decimal>,
    /// Which rate applied (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rate_source: Option<RateSource>,
    /// Currency of the bill rate and value (staff only).
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>, example = "EUR")]
    pub currency: Option<Currency>,
    /// What an hour of the person cost the agency (staff only).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "rust_decimal::serde::str_option::serialize"
    )]
    #[schema(value_type = Option<String>)]
    pub cost_rate: Option<Decimal>,
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<String>)]
    pub cost_currency: Option<Currency>,
    /// Billed value, unrounded (staff only).
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "rust_decimal::serde::str_option::serialize"
    )]
    #[schema(value_type = Option<String>)]
    pub value: Option<Decimal>,
}

impl ApprovalView {
    pub fn of(a: &Approval, audience: Audience) -> ApprovalView {
        ApprovalView {
            approved_by: a.approved_by.clone(),
            approved_at: a.approved_at,
            billed_minutes: a.billed_minutes,
            bill_rate: audience.staff_only(a.bill_rate),
            rate_source: audience.staff_only(a.rate_source),
            currency: audience.staff_only(Some(a.currency)),
            cost_rate: audience.staff_only(a.cost_rate),
            cost_currency: audience.staff_only(a.cost_currency),
            value: audience.staff_only(Some(a.value)),
        }
    }
}

/// Who sent the work back and why.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct RejectionView {
    pub rejected_by: String,
    #[schema(value_type = String)]
    pub rejected_at: Timestamp,
    pub reason: String,
}

impl RejectionView {
    pub fn of(r: &Rejection) -> RejectionView {
        RejectionView {
            rejected_by: r.rejected_by.clone(),
            rejected_at: r.rejected_at,
            reason: r.reason.clone(),
        }
    }
}

/// Billed minutes of `minutes` under `policy`. Per-line rounding happens on the
/// invoice line, so an entry alone bills what was recorded.
pub fn billed_minutes(minutes: u32, policy: Option<TimeRounding>) -> u32 {
    entry_billed_minutes(policy, minutes)
}

/// The view of an entry for `audience`. Approved work bills what its approval fixed.
pub fn view(entry: TimeEntry, policy: Option<TimeRounding>, audience: Audience) -> EntryView {
    let billed = match &entry.approval {
        Some(a) => a.billed_minutes,
        None => billed_minutes(entry.minutes, policy),
    };
    EntryView {
        approval: entry
            .approval
            .as_ref()
            .map(|a| ApprovalView::of(a, audience)),
        rejection: entry.rejection.as_ref().map(RejectionView::of),
        id: entry.id,
        person_id: entry.person_id,
        project_id: entry.project_id,
        task_id: entry.task_id,
        date: entry.date,
        minutes: entry.minutes,
        billed_minutes: billed,
        rounding: policy,
        note: entry.note,
        billable: entry.billable,
        status: entry.status,
        source: entry.source,
        invoice_id: entry.invoice_id,
        recorded_by: audience.staff_only(entry.recorded_by),
        changed_by: audience.staff_only(entry.changed_by),
        version: entry.version,
        created_at: entry.created_at,
        updated_at: entry.updated_at,
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

/// Views of many entries for the caller, reading each project and client once.
pub async fn views(
    s: &Services,
    caller: &Caller,
    entries: Vec<TimeEntry>,
) -> ApiResult<Vec<EntryView>> {
    let tenant = caller.tenant.as_str();
    let audience = Audience::of(caller);
    let ids = entries.iter().map(|e| e.project_id.as_str());
    let policies: HashMap<String, Option<TimeRounding>> = projects_with_clients(s, tenant, ids)
        .await?
        .into_iter()
        .map(|(p, client)| {
            let policy = p.rounding.or_else(|| client.and_then(|c| c.rounding));
            (p.id, policy)
        })
        .collect();
    Ok(entries
        .into_iter()
        .map(|e| {
            let policy = policies.get(e.project_id.as_str()).copied().flatten();
            view(e, policy, audience)
        })
        .collect())
}

/// An entry as a response, with its ETag (and Location when just created).
pub fn respond(status: StatusCode, view: &EntryView, location: bool) -> Response {
    let location = location.then(|| format!("/v1/time-entries/{}", view.id));
    resource::respond_versioned(status, view, view.version, location)
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
