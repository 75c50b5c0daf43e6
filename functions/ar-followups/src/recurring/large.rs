//! A retainer period with more approved entries than one transaction holds.
//!
//! The period is taken in one transaction as for a small one (its marker,
//! the schedule advanced past it, the invoice), but the invoice is created
//! `building` and the schedule names it (`building`). The work is then
//! claimed batch by batch, each batch with its claims, and the last
//! transaction writes the lines over everything claimed, assigns each entry
//! its line and makes the invoice a draft. A run that stops between two
//! batches leaves the schedule naming the invoice, and the next run finishes
//! it before billing anything else: no entry is lost or billed twice, and
//! the lines always match the claims.

use std::collections::{BTreeMap, BTreeSet};

use agencyops_domain::invoice::InvoiceStatus;
use agencyops_invoicing::claims::{self, ClaimFails, Work, CLAIMS_PER_BATCH};
use agencyops_invoicing::context;
use agencyops_invoicing::drafts::create::reprice;
use agencyops_platform::resource::{self, fetch};
use agencyops_platform::{ApiError, ApiResult, Caller, Fails, Services, Tx};
use agencyops_store::audit::AuditAction;
use agencyops_store::keys;
use agencyops_store::record::bump;
use agencyops_store::records::{
    BuildingPeriod, ClaimedWork, Invoice, RecurringPeriodMarker, RecurringSchedule, WorkSelection,
};

use super::job::{order_key, period_lines};
use super::plan::Period;

const RACED: &str = "another run is billing this period";

/// Takes `period` for `building` (status `building`, no lines yet); returns
/// the schedule as stored after it.
pub async fn start(
    s: &Services,
    caller: &Caller,
    schedule: &RecurringSchedule,
    period: Period,
    mut building: Invoice,
) -> ApiResult<RecurringSchedule> {
    let tenant = caller.tenant.as_str();
    let now = s.clock.now();
    building.status = InvoiceStatus::Building;
    building.lines = Vec::new();
    building.claim_batches = 0;
    let marker = RecurringPeriodMarker {
        id: period.start.to_string(),
        project_id: schedule.project_id.clone(),
        period_end: period.end,
        invoice_id: building.id.clone(),
        version: 1,
        created_at: now,
        updated_at: now,
    };
    let mut next = schedule.clone();
    next.billed_through = Some(period.end);
    next.building = Some(BuildingPeriod {
        invoice_id: building.id.clone(),
        start: period.start,
        end: period.end,
        carried_minutes: schedule.carried_minutes,
    });
    bump(&mut next, now);
    let mut tx = Tx::new(tenant);
    tx.create(&building, Fails::changed(RACED))?;
    tx.push(
        resource::audit(
            s,
            caller,
            AuditAction::Create,
            None,
            Some(&building),
            &building.id,
        )?,
        Fails::changed(RACED),
    );
    tx.create(&marker, Fails::changed(RACED))?;
    tx.replace(&next, schedule.version, Fails::changed(RACED))?;
    tx.push(crate::daily::register_tenant(tenant), Fails::changed(RACED));
    tx.commit(s).await?;
    Ok(next)
}

/// Claims what is left of the period the schedule is building, then writes
/// the invoice's lines and makes it a draft; returns the schedule and draft.
pub async fn finish(
    s: &Services,
    caller: &Caller,
    schedule: RecurringSchedule,
) -> ApiResult<(RecurringSchedule, Invoice)> {
    let tenant = caller.tenant.as_str();
    let Some(b) = schedule.building.clone() else {
        return Err(ApiError::Internal("the schedule builds no period".into()));
    };
    let period = Period {
        start: b.start,
        end: b.end,
    };
    let inv: Invoice = fetch(s, &keys::invoice(tenant, &b.invoice_id)).await?;
    let ctx = context::load(
        s,
        tenant,
        &schedule.client_id,
        std::slice::from_ref(&schedule.project_id),
    )
    .await?;
    let selection = WorkSelection {
        project_ids: vec![schedule.project_id.clone()],
        from: Some(period.start),
        to: Some(period.end),
    };
    let mut batches = claims::batches(s, tenant, &inv.id).await?;
    // Every id tried, so an index that still shows claimed work as unbilled
    // (a DynamoDB index is eventually consistent) never loops.
    let mut tried: BTreeSet<String> = claims::claimed_ids(&batches);
    loop {
        let mut work: Vec<Work> =
            claims::unbilled(s, tenant, &ctx.projects, &selection, inv.currency)
                .await?
                .into_iter()
                .filter(|w| matches!(w, Work::Time(_)) && !tried.contains(w.id()))
                .collect();
        if work.is_empty() {
            break;
        }
        work.sort_by_key(order_key);
        work.truncate(CLAIMS_PER_BATCH);
        tried.extend(work.iter().map(|w| w.id().to_owned()));
        let seq = u32::try_from(batches.len() + 1).unwrap_or(u32::MAX);
        let now = s.clock.now();
        let claimed = claims::commit_claims(s, tenant, work, |work: &[Work]| {
            let mut tx = Tx::new(tenant);
            let claimed: Vec<ClaimedWork> = work.iter().map(|w| w.claimed(tenant, None)).collect();
            // The batch's key is its number: a second run claiming at the
            // same time loses here and leaves the invoice to this one.
            tx.create(
                &claims::new_batch(&inv.id, seq, claimed, now),
                ClaimFails::Other,
            )?;
            claims::claim(&mut tx, tenant, &inv.id, work, now)?;
            Ok(tx)
        })
        .await?;
        if !claimed.is_empty() {
            batches = claims::batches(s, tenant, &inv.id).await?;
        }
    }
    let mut claimed: Vec<ClaimedWork> = batches
        .iter()
        .filter(|b| !b.released)
        .flat_map(|b| b.work.clone())
        .collect();
    claimed.sort_by(|a, b| (a.date, &a.id).cmp(&(b.date, &b.id)));
    let now = s.clock.now();
    let mut from = schedule.clone();
    from.carried_minutes = b.carried_minutes;
    let project_name = ctx
        .projects
        .first()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let (lines, mut next) = period_lines(
        &from,
        period,
        &project_name,
        &mut claimed,
        &inv.default_tax_codes,
        now,
    );
    next.building = None;
    let mut draft = inv.clone();
    draft.lines = lines;
    reprice(&mut draft)?;
    draft.status = InvoiceStatus::Draft;
    draft.claim_batches = u32::try_from(batches.len()).unwrap_or(u32::MAX);
    bump(&mut draft, now);
    let line_of: BTreeMap<&str, &str> = claimed
        .iter()
        .map(|c| (c.id.as_str(), c.line_id.as_str()))
        .collect();
    let mut tx = Tx::new(tenant);
    for batch in batches.iter().filter(|b| !b.released) {
        let mut assigned = batch.clone();
        for w in &mut assigned.work {
            if let Some(line) = line_of.get(w.id.as_str()) {
                w.line_id = (*line).to_owned();
            }
        }
        bump(&mut assigned, now);
        tx.replace(&assigned, batch.version, Fails::changed(RACED))?;
    }
    tx.replace(&draft, inv.version, Fails::changed(RACED))?;
    tx.replace(&next, schedule.version, Fails::changed(RACED))?;
    tx.push(
        resource::audit(
            s,
            caller,
            AuditAction::Update,
            Some(&inv),
            Some(&draft),
            &inv.id,
        )?,
        Fails::changed(RACED),
    );
    tx.commit(s).await?;
    Ok((next, draft))
}
