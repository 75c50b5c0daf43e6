//! Recurring invoices: saving a project's schedule, and the daily run's step
//! that drafts each due period's invoice exactly once.
//!
//! Once-only: a period's draft is written in one transaction with the
//! period's marker (its key is the period's start, created only if absent),
//! the schedule advanced past the period under the version it was read at,
//! and the claims of the period's approved time. A repeated or overlapping run
//! loses on the marker or the version and drafts nothing; a run after an
//! outage drafts every missed period in order, each on the original anchor.
//!
//! A retainer (a schedule with `included_hours`) claims all the project's
//! approved time of the period through invoicing's claim code, so it is never
//! billed again on a time-and-materials invoice; time beyond the included
//! hours (plus any carried) is billed as overage at the rate its approval
//! fixed from the rate card, one line per rate. One period's invoice claims
//! at most [`MAX_PERIOD_ENTRIES`] entries in its one transaction; a period
//! with more is claimed batch by batch (`large`).

use std::collections::BTreeMap;

use agencyops_domain::invoice::HOURS_DP;
use agencyops_domain::Role;
use agencyops_invoicing::claims::{self, ClaimFails, Work};
use agencyops_invoicing::context;
use agencyops_invoicing::drafts::create::{draft, reprice};
use agencyops_invoicing::drafts::request::NewInvoice;
use agencyops_platform::error::Problems;
use agencyops_platform::extract::IfMatch;
use agencyops_platform::resource::{self, fetch};
use agencyops_platform::{access, ApiError, ApiResult, Caller, Fails, Services, Tx};
use agencyops_store::audit::AuditAction;
use agencyops_store::record::{all, load};
use agencyops_store::records::{
    Cadence, ClaimedWork, Invoice, InvoiceKind, InvoiceLine, InvoicingSettings, LineKind, LineUnit,
    RecurringPeriodMarker, RecurringSchedule, WorkSelection,
};
use agencyops_store::{keys, Index, Query};
use jiff::civil::Date;
use jiff::tz::TimeZone;
use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;

use super::plan::{self, Anchor, Period, MAX_PERIODS_PER_RUN};
use super::RecurringBody;

/// Who the audit trail and the invoices name for the run's drafts and issues.
pub const INVOICER: &str = "recurring-invoicer";
/// Most approved entries a period's invoice claims in its one transaction
/// (which also holds the invoice, its audit, claim batch, marker, schedule
/// and the registry entry); more are claimed batch by batch (`large`).
pub const MAX_PERIOD_ENTRIES: usize = 90;
/// Most hours a schedule includes or carries.
const MAX_HOURS: u32 = 10_000;

/// What the recurring step did for one tenant.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Summary {
    pub schedules: usize,
    /// Period invoices drafted by this run.
    pub invoices: usize,
    /// Of those, issued because the schedule says `auto_issue`.
    pub issued: usize,
    /// Reached milestones whose lost message this run drafted.
    pub milestones: usize,
    /// Schedules that could not bill a period, and why (retried next run).
    pub failures: Vec<String>,
}

fn invoicer(tenant: &str) -> Caller {
    Caller {
        tenant: tenant.to_owned(),
        person: INVOICER.to_owned(),
        role: Role::Finance,
        client: None,
    }
}

pub fn anchor_of(s: &RecurringSchedule) -> Option<Anchor> {
    match s.cadence {
        Cadence::Monthly => s.day_of_month.map(|d| Anchor::Monthly(d as i8)),
        Cadence::Weekly => s.weekday.map(|w| Anchor::Weekly(w.to_jiff())),
    }
}

/// The next period the schedule bills (none once it has ended).
pub fn next_period(s: &RecurringSchedule) -> Option<Period> {
    let anchor = anchor_of(s)?;
    plan::due(anchor, s.start_on, s.end_on, s.billed_through, Date::MAX, 1)
        .into_iter()
        .next()
}

fn check_hours(p: &mut Problems, field: &str, h: Option<Decimal>) {
    if h.is_some_and(|h| {
        h <= Decimal::ZERO || h.normalize().scale() > 2 || h > Decimal::from(MAX_HOURS)
    }) {
        p.add(
            field,
            format!("must be above 0 and at most {MAX_HOURS}, with at most 2 decimals"),
        );
    }
}

fn check(body: &RecurringBody, currency: agencyops_domain::Currency) -> ApiResult<()> {
    let mut p = Problems::new();
    p.check(
        "amount",
        agencyops_domain::validate::amount(&body.amount, currency.minor_units()),
    );
    match body.period {
        Cadence::Monthly => {
            match body.day_of_month {
                Some(d) if (1..=31).contains(&d) => {}
                Some(_) => p.add("day_of_month", "must be 1 to 31"),
                None => p.add(
                    "day_of_month",
                    "a monthly schedule names its day of the month",
                ),
            }
            if body.weekday.is_some() {
                p.add("weekday", "only a weekly schedule names a weekday");
            }
        }
        Cadence::Weekly => {
            if body.weekday.is_none() {
                p.add("weekday", "a weekly schedule names its weekday");
            }
            if body.day_of_month.is_some() {
                p.add(
                    "day_of_month",
                    "only a monthly schedule names a day of the month",
                );
            }
        }
    }
    if body.end_on.is_some_and(|e| e < body.start_on) {
        p.add("end_on", "must not be before start_on");
    }
    check_hours(&mut p, "included_hours", body.included_hours);
    check_hours(&mut p, "rollover_cap_hours", body.rollover_cap_hours);
    if body.rollover {
        if body.included_hours.is_none() {
            p.add(
                "rollover",
                "only included hours roll over: set included_hours",
            );
        }
        if body.rollover_cap_hours.is_none() {
            p.add("rollover_cap_hours", "a rollover names its cap");
        }
    } else if body.rollover_cap_hours.is_some() {
        p.add("rollover_cap_hours", "only with rollover");
    }
    p.finish()
}

/// The project's schedule, for the staff who run the agency.
pub async fn get(s: &Services, caller: &Caller, project_id: &str) -> ApiResult<RecurringSchedule> {
    access::visible_project(s, caller, project_id).await?;
    access::require_reads_recurring(caller)?;
    fetch(s, &keys::recurring_schedule(&caller.tenant, project_id)).await
}

/// Creates or replaces the project's schedule (If-Match optional; a stale
/// one is 412). What was billed stays billed: the schedule continues after
/// the last billed period, and carried hours stay carried while rollover is on.
pub async fn put(
    s: &Services,
    caller: &Caller,
    project_id: &str,
    if_match: IfMatch,
    body: RecurringBody,
) -> ApiResult<(RecurringSchedule, bool)> {
    let project = access::visible_project(s, caller, project_id).await?;
    access::require_sets_recurring(caller)?;
    check(&body, project.currency)?;
    let tenant = caller.tenant.as_str();
    let key = keys::recurring_schedule(tenant, project_id);
    let current = agencyops_store::record::load::<RecurringSchedule>(&*s.table, &key).await?;
    let expected = current.as_ref().map_or(0, |c| c.version);
    if let IfMatch(Some(v)) = if_match {
        if v != expected {
            return Err(ApiError::PreconditionFailed);
        }
    }
    let now = s.clock.now();
    let next = RecurringSchedule {
        id: project.id.clone(),
        project_id: project.id.clone(),
        client_id: project.client_id.clone(),
        currency: project.currency,
        amount: body.amount,
        cadence: body.period,
        day_of_month: body.day_of_month,
        weekday: body.weekday,
        start_on: body.start_on,
        end_on: body.end_on,
        included_hours: body.included_hours,
        rollover: body.rollover,
        rollover_cap_hours: body.rollover_cap_hours,
        carried_minutes: match (&current, body.rollover, body.rollover_cap_hours) {
            (Some(c), true, Some(cap)) => c.carried_minutes.min(cap * Decimal::from(60)),
            _ => Decimal::ZERO,
        },
        auto_issue: body.auto_issue,
        billed_through: current.as_ref().and_then(|c| c.billed_through),
        building: current.as_ref().and_then(|c| c.building.clone()),
        version: expected + 1,
        created_at: current.as_ref().map_or(now, |c| c.created_at),
        updated_at: now,
    };
    const RACED: &str = "the schedule changed meanwhile; reload and retry";
    let mut tx = Tx::new(tenant)
        .contended(Fails::changed(RACED))
        .if_match(if_match.0.is_some());
    tx.save(&next, expected, Fails::stale(RACED))?;
    let action = if current.is_some() {
        AuditAction::Update
    } else {
        AuditAction::Create
    };
    tx.audit(s, caller, action, current.as_ref(), Some(&next), &next.id)?;
    tx.extend([crate::daily::register_tenant(tenant)]);
    tx.commit(s).await?;
    Ok((next, current.is_none()))
}

/// Removes the schedule; periods already billed stay billed.
pub async fn delete(
    s: &Services,
    caller: &Caller,
    project_id: &str,
    if_match: IfMatch,
) -> ApiResult<()> {
    access::visible_project(s, caller, project_id).await?;
    access::require_sets_recurring(caller)?;
    let current: RecurringSchedule =
        fetch(s, &keys::recurring_schedule(&caller.tenant, project_id)).await?;
    if let IfMatch(Some(v)) = if_match {
        if v != current.version {
            return Err(ApiError::PreconditionFailed);
        }
    }
    if current.building.is_some() {
        // Its half-claimed invoice is finished by the schedule's next run.
        return Err(ApiError::changed(
            "a period's invoice is still being built; delete the schedule after the next daily run",
        ));
    }
    let mut tx = Tx::new(&caller.tenant).if_match(if_match.0.is_some());
    tx.delete(
        &current,
        Fails::stale("the schedule changed meanwhile; reload and retry"),
    );
    tx.audit(
        s,
        caller,
        AuditAction::Delete,
        Some(&current),
        None,
        &current.id,
    )?;
    tx.commit(s).await
}

/// The daily run's recurring step for one tenant (and the sweep of reached
/// milestones whose message was lost, the other billing automation).
pub async fn run_tenant(s: &Services, tenant: &str, as_of: Date) -> ApiResult<Summary> {
    let mut summary = Summary {
        milestones: agencyops_invoicing::milestones::draft_pending(s, tenant).await?,
        ..Summary::default()
    };
    let settings = load::<InvoicingSettings>(&*s.table, &keys::invoicing_settings(tenant))
        .await?
        .unwrap_or_else(|| InvoicingSettings::defaults(s.clock.now()));
    let tz = TimeZone::get(&settings.time_zone).unwrap_or(TimeZone::UTC);
    let today = plan::tenant_today(as_of, s.clock.now(), &tz);
    let q = Query::new(Index::Table, keys::recurring_schedules(tenant)).limit(200);
    for schedule in all::<RecurringSchedule>(&*s.table, &q).await? {
        summary.schedules += 1;
        if let Err(e) = run_schedule(s, tenant, schedule, today, &mut summary).await {
            summary.failures.push(e);
        }
    }
    Ok(summary)
}

async fn run_schedule(
    s: &Services,
    tenant: &str,
    mut schedule: RecurringSchedule,
    today: Date,
    summary: &mut Summary,
) -> Result<(), String> {
    let name = schedule.project_id.clone();
    if schedule.building.is_some() {
        // A large period a stopped run left half claimed: finished first,
        // so the next period starts from its carried hours.
        match super::large::finish(s, &invoicer(tenant), schedule).await {
            Ok((next, inv)) => {
                schedule = next;
                billed(s, tenant, &name, schedule.auto_issue, &inv, summary).await;
            }
            Err(ApiError::Conflict(_)) => return Ok(()),
            Err(e) => return Err(format!("{name}: finishing a period's invoice: {e}")),
        }
    }
    let anchor =
        anchor_of(&schedule).ok_or_else(|| format!("{name}: the schedule has no anchor"))?;
    let due = plan::due(
        anchor,
        schedule.start_on,
        schedule.end_on,
        schedule.billed_through,
        today,
        MAX_PERIODS_PER_RUN,
    );
    for period in due {
        let marker =
            keys::recurring_period(tenant, &schedule.project_id, &period.start.to_string());
        if load::<RecurringPeriodMarker>(&*s.table, &marker)
            .await
            .map_err(|e| format!("{name}: {e}"))?
            .is_some()
        {
            // Billed under an earlier schedule of the project (deleted and
            // saved again): step over it, on the anchor, without a draft.
            match skip_period(s, tenant, &schedule, period).await {
                Ok(next) => schedule = next,
                Err(ApiError::Conflict(_)) => return Ok(()),
                Err(e) => return Err(format!("{name}: {e}")),
            }
            continue;
        }
        match bill_period(s, tenant, &schedule, period).await {
            Ok((next, inv)) => {
                schedule = next;
                billed(s, tenant, &name, schedule.auto_issue, &inv, summary).await;
            }
            // Another run billed it meanwhile: the next run continues after it.
            Err(ApiError::Conflict(_)) => return Ok(()),
            Err(e) => return Err(format!("{name}: period from {}: {e}", period.start)),
        }
    }
    Ok(())
}

/// Counts a period's draft, and issues it when the schedule says so.
async fn billed(
    s: &Services,
    tenant: &str,
    name: &str,
    auto_issue: bool,
    inv: &Invoice,
    summary: &mut Summary,
) {
    summary.invoices += 1;
    if auto_issue {
        let caller = invoicer(tenant);
        match agencyops_invoicing::lifecycle::issue(s, &caller, &inv.id).await {
            Ok(_) => summary.issued += 1,
            Err(e) => summary.failures.push(format!(
                "{name}: invoice {} drafted but not issued: {e}",
                inv.id
            )),
        }
    }
}

/// Advances the schedule past a period that is already billed.
async fn skip_period(
    s: &Services,
    tenant: &str,
    schedule: &RecurringSchedule,
    period: Period,
) -> ApiResult<RecurringSchedule> {
    let mut next = schedule.clone();
    next.billed_through = Some(period.end);
    agencyops_store::record::bump(&mut next, s.clock.now());
    let mut tx = Tx::new(tenant);
    tx.replace(
        &next,
        schedule.version,
        Fails::changed("the schedule changed meanwhile"),
    )?;
    tx.commit(s).await?;
    Ok(next)
}

/// Drafts the period's invoice with its marker, claims and the advanced
/// schedule in one transaction; returns the schedule as stored after it.
async fn bill_period(
    s: &Services,
    tenant: &str,
    schedule: &RecurringSchedule,
    period: Period,
) -> ApiResult<(RecurringSchedule, Invoice)> {
    let caller = invoicer(tenant);
    let ctx = context::load(
        s,
        tenant,
        &schedule.client_id,
        std::slice::from_ref(&schedule.project_id),
    )
    .await?;
    if ctx.client.currency != schedule.currency {
        return Err(ApiError::field(
            "currency",
            "the client's currency changed since the schedule was saved; save it again",
        ));
    }
    let work: Vec<Work> = if schedule.included_hours.is_some() {
        let selection = WorkSelection {
            project_ids: vec![schedule.project_id.clone()],
            from: Some(period.start),
            to: Some(period.end),
        };
        let mut w: Vec<Work> =
            claims::unbilled(s, tenant, &ctx.projects, &selection, schedule.currency)
                .await?
                .into_iter()
                .filter(|w| matches!(w, Work::Time(_)))
                .collect();
        w.sort_by_key(order_key);
        w
    } else {
        Vec::new()
    };
    let body = NewInvoice {
        client_id: schedule.client_id.clone(),
        kind: InvoiceKind::Manual,
        project_ids: vec![schedule.project_id.clone()],
        period: None,
        milestone_ids: Vec::new(),
        fixed_fee: None,
        lines: Vec::new(),
        discount: None,
        po_number: None,
        notes: None,
        internal_note: Some(format!(
            "Recurring invoice for {} to {}.",
            period.start, period.end
        )),
        issue_date: Some(period.start),
        due_date: None,
        time_grouping: None,
        detail: None,
        expense_grouping: None,
    };
    let now = s.clock.now();
    let base = draft(&caller, &ctx, &body, now);
    if work.len() > MAX_PERIOD_ENTRIES {
        let taken = super::large::start(s, &caller, schedule, period, base).await?;
        return super::large::finish(s, &caller, taken).await;
    }
    let project_name = ctx
        .projects
        .first()
        .map(|p| p.name.clone())
        .unwrap_or_default();
    let compose = |work: &[Work]| -> ApiResult<(Invoice, Vec<ClaimedWork>, RecurringSchedule)> {
        let mut inv = base.clone();
        let mut claimed: Vec<ClaimedWork> = work.iter().map(|w| w.claimed(tenant, None)).collect();
        let (lines, next) = period_lines(
            schedule,
            period,
            &project_name,
            &mut claimed,
            &inv.default_tax_codes,
            now,
        );
        inv.lines = lines;
        reprice(&mut inv)?;
        inv.claim_batches = u32::from(!claimed.is_empty());
        Ok((inv, claimed, next))
    };
    let claimed = claims::commit_claims(s, tenant, work, |work: &[Work]| {
        let (inv, claimed, next) = compose(work)?;
        let marker = RecurringPeriodMarker {
            id: period.start.to_string(),
            project_id: schedule.project_id.clone(),
            period_end: period.end,
            invoice_id: inv.id.clone(),
            version: 1,
            created_at: now,
            updated_at: now,
        };
        let mut tx = Tx::new(tenant);
        tx.create(&inv, ClaimFails::Other)?;
        tx.push(
            resource::audit(s, &caller, AuditAction::Create, None, Some(&inv), &inv.id)?,
            ClaimFails::Other,
        );
        tx.create(&marker, ClaimFails::Other)?;
        tx.replace(&next, schedule.version, ClaimFails::Other)?;
        tx.push(crate::daily::register_tenant(tenant), ClaimFails::Other);
        if !claimed.is_empty() {
            tx.create(
                &claims::new_batch(&inv.id, 1, claimed, now),
                ClaimFails::Other,
            )?;
        }
        claims::claim(&mut tx, tenant, &inv.id, work, now)?;
        Ok(tx)
    })
    .await?;
    let (inv, _, next) = compose(&claimed)?;
    Ok((next, inv))
}

pub(super) fn order_key(w: &Work) -> (Date, String) {
    match w {
        Work::Time(e) => (e.date, e.id.clone()),
        Work::Expense(x) => (x.date, x.id.clone()),
    }
}

/// Hours of `minutes`, rounded as time lines round them (`invoice::hours`).
fn hours(minutes: Decimal) -> Decimal {
    (minutes / Decimal::from(60))
        .round_dp_with_strategy(HOURS_DP, RoundingStrategy::MidpointAwayFromZero)
}

/// The period's lines (the amount, then overage per rate) with each claimed
/// entry assigned to its line, and the schedule advanced past the period.
pub(super) fn period_lines(
    schedule: &RecurringSchedule,
    period: Period,
    project_name: &str,
    claimed: &mut [ClaimedWork],
    tax_codes: &[String],
    now: jiff::Timestamp,
) -> (Vec<InvoiceLine>, RecurringSchedule) {
    let sixty = Decimal::from(60);
    let included = schedule.included_hours.unwrap_or_default() * sixty;
    let allowance = included + schedule.carried_minutes;
    let minutes: Vec<Decimal> = claimed
        .iter()
        .map(|c| Decimal::from(c.billed_minutes.or(c.minutes).unwrap_or(0)))
        .collect();
    let cap = schedule
        .rollover
        .then(|| schedule.rollover_cap_hours.unwrap_or_default() * sixty);
    let usage = plan::usage(&minutes, allowance, cap);
    let line = |id: String, kind, description: String, quantity, unit, unit_price| InvoiceLine {
        id,
        kind,
        description,
        quantity,
        unit,
        unit_price,
        adjustment: Decimal::ZERO,
        gross: Decimal::ZERO,
        amount: Decimal::ZERO,
        tax_codes: tax_codes.to_vec(),
        minutes: None,
        project_id: Some(schedule.project_id.clone()),
        milestone_id: None,
        work_count: 0,
        service_date: Some(period.end),
    };
    let mut lines = vec![line(
        "R1".into(),
        LineKind::Manual,
        match schedule.included_hours {
            Some(h) => format!(
                "{project_name}: retainer {} to {} ({} h included)",
                period.start,
                period.end,
                h.normalize()
            ),
            None => format!("{project_name}: {} to {}", period.start, period.end),
        },
        Decimal::ONE,
        LineUnit::Each,
        schedule.amount,
    )];
    // Overage per rate, in the order the rates first appear.
    let mut by_rate: BTreeMap<Decimal, (Decimal, u32)> = BTreeMap::new();
    for (c, over) in claimed.iter().zip(&usage.over) {
        if *over > Decimal::ZERO {
            let rate = c.bill_rate.unwrap_or_default();
            let e = by_rate.entry(rate).or_default();
            e.0 += *over;
            e.1 += 1;
        }
    }
    let line_of_rate: BTreeMap<Decimal, String> = by_rate
        .keys()
        .enumerate()
        .map(|(i, r)| (*r, format!("O{}", i + 1)))
        .collect();
    for (rate, (over, count)) in &by_rate {
        let mut l = line(
            line_of_rate[rate].clone(),
            LineKind::Time,
            format!("{project_name}: hours beyond the retainer"),
            hours(*over),
            LineUnit::Hours,
            *rate,
        );
        l.minutes = over.trunc().to_string().parse().ok();
        l.work_count = *count;
        lines.push(l);
    }
    lines[0].work_count =
        u32::try_from(usage.over.iter().filter(|o| o.is_zero()).count()).unwrap_or(u32::MAX);
    for (c, over) in claimed.iter_mut().zip(&usage.over) {
        c.line_id = if over.is_zero() {
            "R1".into()
        } else {
            line_of_rate
                .get(&c.bill_rate.unwrap_or_default())
                .cloned()
                .unwrap_or_else(|| "R1".into())
        };
    }
    let mut next = schedule.clone();
    next.billed_through = Some(period.end);
    next.carried_minutes = usage.carried;
    agencyops_store::record::bump(&mut next, now);
    (lines, next)
}
