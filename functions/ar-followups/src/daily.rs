//! The daily AR run: one pass over every registered tenant for one date. The
//! same function serves the EventBridge schedule, `agencyops followups
//! --as-of` and the local host's clock, so what is tested is what runs.
//!
//! Each step keeps its own once-only markers, so the run may be repeated,
//! overlap itself or run hourly: a second run of a date changes nothing.

use agencyops_platform::Services;
use agencyops_store::keys;
use agencyops_store::table::{Index, Query, StoreError, Write, SK};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a run did, per tenant; the schedule's result and the CLI's report.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct DailyRun {
    pub as_of: String,
    pub tenants: Vec<TenantRun>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct TenantRun {
    pub tenant: String,
    /// Why this tenant's run stopped, if it did; the other tenants still run,
    /// and the next run (or a retry) picks up where this one stopped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failed: Option<String>,
    /// Mail committed but not queued (a crash, a queue outage), queued now.
    pub mail_requeued: usize,
    /// Recurring invoices drafted and milestone drafts caught up.
    pub recurring: crate::recurring::Summary,
    /// Reminders and late fees.
    pub dunning: crate::dunning::Summary,
    /// The AR snapshot and Monday digest (`reports::snapshot`).
    pub reports: crate::reports::snapshot::Summary,
}

#[derive(Debug, thiserror::Error)]
pub enum DailyError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("dunning: {0}")]
    Dunning(#[from] crate::dunning::DunningError),
    #[error("aging job: {0}")]
    Reports(#[from] crate::reports::snapshot::SnapshotError),
    #[error("the schedule event is not one this function understands: {0}")]
    BadEvent(String),
    #[error("mail outbox: {0}")]
    Outbox(#[from] agencyops_platform::mail::outbox::OutboxError),
    #[error("{0}")]
    Api(#[from] agencyops_platform::ApiError),
    #[error("the run failed for {0} tenant(s); see the log")]
    TenantsFailed(usize),
}

/// The schedule's payload: `{"as_of": "YYYY-MM-DD"}`, or anything else for today.
#[derive(Debug, Default, Deserialize)]
struct ScheduleInput {
    #[serde(default)]
    as_of: Option<Date>,
}

/// The Lambda entry's work: the date the event names, or the clock's today (UTC).
pub async fn handle_schedule(services: &Services, event: &Value) -> Result<DailyRun, DailyError> {
    let input: ScheduleInput = match event.get("as_of") {
        Some(_) => serde_json::from_value(event.clone())
            .map_err(|e| DailyError::BadEvent(e.to_string()))?,
        None => ScheduleInput::default(),
    };
    let as_of = input.as_of.unwrap_or_else(|| {
        services
            .clock
            .now()
            .to_zoned(jiff::tz::TimeZone::UTC)
            .date()
    });
    let run = run(services, as_of).await?;
    // A failed tenant fails the invocation, so the schedule retries it and
    // the alarm shows it; every step is once-only, so the retry is harmless.
    match run.tenants.iter().filter(|t| t.failed.is_some()).count() {
        0 => Ok(run),
        n => Err(DailyError::TenantsFailed(n)),
    }
}

/// Runs `as_of` for every registered tenant.
pub async fn run(services: &Services, as_of: Date) -> Result<DailyRun, DailyError> {
    let mut report = DailyRun {
        as_of: as_of.to_string(),
        tenants: Vec::new(),
    };
    for tenant in scheduled_tenants(services).await? {
        let mut run = TenantRun {
            tenant,
            ..TenantRun::default()
        };
        if let Err(e) = run_tenant(services, &mut run, as_of).await {
            tracing::error!(tenant = %run.tenant, error = %e, "daily AR run failed for a tenant");
            run.failed = Some(e.to_string());
        }
        report.tenants.push(run);
    }
    Ok(report)
}

/// One tenant's day, step by step. Mail a crash left in the outbox goes
/// first and what today's steps could not queue goes last (`mail::outbox`).
/// Recurring invoices come first, so a
/// period's invoice issued today is chased by the same policy as any other;
/// the snapshot comes last, so it shows the day's reminders and invoices.
async fn run_tenant(
    services: &Services,
    run: &mut TenantRun,
    as_of: Date,
) -> Result<(), DailyError> {
    let tenant = run.tenant.clone();
    run.mail_requeued = agencyops_platform::mail::outbox::flush(services, &tenant).await?;
    run.recurring = crate::recurring::run_tenant(services, &tenant, as_of).await?;
    run.dunning = crate::dunning::run_tenant(services, &tenant, as_of).await?;
    run.reports = crate::reports::snapshot::run_tenant(services, &tenant, as_of).await?;
    // What today's steps committed but could not queue: queued now, or the
    // tenant's run fails and the schedule's retry tries again.
    run.mail_requeued += agencyops_platform::mail::outbox::flush(services, &tenant).await?;
    Ok(())
}

/// Every tenant in the schedule registry, in key order.
pub async fn scheduled_tenants(services: &Services) -> Result<Vec<String>, StoreError> {
    let mut tenants = Vec::new();
    let mut next = None;
    loop {
        let page = services
            .table
            .query(&Query::new(Index::Table, keys::SCHEDULED_TENANTS).start_after(next))
            .await?;
        tenants.extend(page.items.iter().filter_map(|item| {
            let sk = item.get(SK)?.as_str()?;
            keys::parse_scheduled_tenant(sk).map(str::to_owned)
        }));
        match page.next {
            Some(n) => next = Some(n),
            None => return Ok(tenants),
        }
    }
}

/// The write that puts `tenant` in the registry; idempotent, so every write
/// that gives a tenant something to follow up (an issued invoice, a billing
/// schedule) may carry it.
pub fn register_tenant(tenant: &str) -> Write {
    agencyops_store::records::schedule_registration(tenant)
}
