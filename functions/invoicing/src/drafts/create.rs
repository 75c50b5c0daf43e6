//! `POST /v1/invoices`: a draft from approved work, a fixed fee, reached
//! milestones or manual lines. A draft whose work fits one transaction is
//! written at once, claims and all; a larger one is created `building` and
//! finished by the invoice builder (see [`super::build`]).

use std::collections::BTreeSet;

use agencyops_domain::invoice::InvoiceStatus;
use agencyops_platform::access;
use agencyops_platform::resource::{self, audit};
use agencyops_platform::{ApiError, ApiResult, Caller, Conflict, Fails, Services, Tx};
use agencyops_store::audit::AuditAction;
use agencyops_store::record::{self, load_many};
use agencyops_store::records::{
    BillTo, ClaimedWork, FixedFeePart, Invoice, InvoiceKind, InvoiceLine, LineKind, LineUnit,
    Milestone, MilestoneStatus, Person, Task, TimeGrouping, WorkSelection,
};
use agencyops_store::{keys, Index, Query, SkCondition, Write};
use rust_decimal::Decimal;

use super::lines::{self, Names};
use super::request::{NewInvoice, NewLine};
use crate::claims::{self, ClaimFails, Work};
use crate::context::{self, BillingContext};
use crate::view::InvoiceParts;

/// Work a draft claims in its own transaction: the transaction also holds
/// the invoice, its audit record and its claim batch (and any milestones).
pub const INLINE_CLAIMS: usize = 97;
/// The queue large drafts are finished through.
pub const BUILDER_QUEUE: &str = "invoice-builder";

pub enum Created {
    Draft(Invoice),
    /// Handed to the builder; poll the invoice until its status is `draft`.
    Building(Invoice),
}

/// Manual lines as invoice lines, numbered after `taken` existing ones.
pub fn manual_lines(lines: &[NewLine], taken: usize, default_codes: &[String]) -> Vec<InvoiceLine> {
    lines
        .iter()
        .enumerate()
        .map(|(i, l)| InvoiceLine {
            id: format!("M{}", taken + i + 1),
            kind: LineKind::Manual,
            description: l.description.trim().to_owned(),
            quantity: l.quantity,
            unit: LineUnit::Each,
            unit_price: l.unit_price,
            adjustment: Decimal::ZERO,
            gross: Decimal::ZERO,
            amount: Decimal::ZERO,
            tax_codes: match &l.tax_code {
                Some(c) => vec![c.clone()],
                None => default_codes.to_vec(),
            },
            minutes: None,
            project_id: None,
            milestone_id: None,
            work_count: 0,
            service_date: None,
        })
        .collect()
}

/// Project, task and person names the lines print for `grouping` (project
/// names are in the context already, so grouping by project reads nothing).
pub async fn names(
    s: &Services,
    tenant: &str,
    ctx: &BillingContext,
    work: &[ClaimedWork],
    grouping: TimeGrouping,
) -> ApiResult<Names> {
    let mut n = Names::default();
    for p in &ctx.projects {
        n.projects.insert(p.id.clone(), p.name.clone());
    }
    if grouping == TimeGrouping::Project {
        return Ok(n);
    }
    let tasks: BTreeSet<(&str, &str)> = work
        .iter()
        .filter_map(|w| Some((w.project_id.as_str(), w.task_id.as_deref()?)))
        .collect();
    let people: BTreeSet<&str> = work.iter().map(|w| w.person_id.as_str()).collect();
    let task_keys: Vec<_> = tasks
        .iter()
        .map(|(p, t)| keys::task(tenant, p, t))
        .collect();
    let person_keys: Vec<_> = people.iter().map(|p| keys::person(tenant, p)).collect();
    for t in load_many::<Task>(&*s.table, &task_keys).await? {
        n.tasks.insert(t.id, t.name);
    }
    for p in load_many::<Person>(&*s.table, &person_keys).await? {
        n.people.insert(p.id, p.name);
    }
    Ok(n)
}

/// The reached, uninvoiced milestones named, from the client's projects.
async fn milestones(
    s: &Services,
    tenant: &str,
    ctx: &BillingContext,
    ids: &[String],
) -> ApiResult<Vec<Milestone>> {
    let mut found = Vec::new();
    for p in &ctx.projects {
        let q = Query::new(Index::Table, keys::project_partition(tenant, &p.id))
            .sk(SkCondition::BeginsWith(keys::milestones_prefix()))
            .limit(200);
        found.extend(
            record::all::<Milestone>(&*s.table, &q)
                .await?
                .into_iter()
                .filter(|m| ids.contains(&m.id)),
        );
    }
    let mut out = Vec::new();
    for (i, id) in ids.iter().enumerate() {
        let Some(m) = found.iter().find(|m| &m.id == id) else {
            return Err(ApiError::field(
                format!("milestone_ids[{i}]"),
                "no such milestone on this client's projects",
            ));
        };
        match m.status {
            MilestoneStatus::Reached => out.push(m.clone()),
            MilestoneStatus::Invoiced => {
                return Err(Conflict::AlreadyInvoiced(format!(
                    "milestone {:?} is already invoiced; a milestone is billed once",
                    m.name
                ))
                .into())
            }
            MilestoneStatus::Planned => {
                return Err(ApiError::field(
                    format!("milestone_ids[{i}]"),
                    "is not reached yet",
                ))
            }
        }
    }
    Ok(out)
}

/// Writes that mark milestones as invoiced on `invoice_id`.
fn milestone_writes(
    tenant: &str,
    invoice_id: &str,
    ms: &[Milestone],
    now: jiff::Timestamp,
) -> ApiResult<Vec<Write>> {
    ms.iter()
        .map(|m| {
            let mut next = m.clone();
            next.status = MilestoneStatus::Invoiced;
            next.invoice_id = Some(invoice_id.to_owned());
            agencyops_store::record::bump(&mut next, now);
            Ok(record::replace(tenant, &next, m.version)?)
        })
        .collect()
}

fn fixed_fee_line(ctx: &BillingContext, part: &FixedFeePart) -> ApiResult<InvoiceLine> {
    let project = ctx
        .projects
        .iter()
        .find(|p| p.id == part.project_id)
        .ok_or_else(|| ApiError::field("fixed_fee.project_id", "no such project of this client"))?;
    let fee = project
        .fixed_fee
        .ok_or_else(|| ApiError::field("fixed_fee.project_id", "the project has no fixed fee"))?;
    let whole = part.percent == Decimal::ONE_HUNDRED;
    Ok(InvoiceLine {
        id: "F1".into(),
        kind: LineKind::FixedFee,
        description: if whole {
            format!("{}: fixed fee", project.name)
        } else {
            format!(
                "{}: {}% of the fixed fee",
                project.name,
                part.percent.normalize()
            )
        },
        quantity: part.percent / Decimal::ONE_HUNDRED,
        unit: LineUnit::Each,
        unit_price: fee,
        adjustment: Decimal::ZERO,
        gross: Decimal::ZERO,
        amount: Decimal::ZERO,
        tax_codes: ctx.default_tax_codes.clone(),
        minutes: None,
        project_id: Some(project.id.clone()),
        milestone_id: None,
        work_count: 0,
        service_date: None,
    })
}

fn milestone_line(m: &Milestone, ctx: &BillingContext, project_name: &str) -> InvoiceLine {
    InvoiceLine {
        id: format!("MS-{}", m.id),
        kind: LineKind::Milestone,
        description: format!("{project_name}: {}", m.name),
        quantity: Decimal::ONE,
        unit: LineUnit::Each,
        unit_price: m.amount.unwrap_or_default(),
        adjustment: Decimal::ZERO,
        gross: Decimal::ZERO,
        amount: Decimal::ZERO,
        tax_codes: ctx.default_tax_codes.clone(),
        minutes: None,
        project_id: Some(m.project_id.clone()),
        milestone_id: Some(m.id.clone()),
        work_count: 0,
        service_date: m.due_on,
    }
}

/// The invoice every draft starts as (also the recurring run's drafts).
pub fn draft(
    caller: &Caller,
    ctx: &BillingContext,
    body: &NewInvoice,
    now: jiff::Timestamp,
) -> Invoice {
    let prefs = &ctx.client.invoice_preferences;
    Invoice {
        id: resource::new_id(),
        client_id: ctx.client.id.clone(),
        bill_to: BillTo {
            name: ctx.client.name.clone(),
            email: ctx.client.billing_email.clone(),
        },
        kind: body.kind,
        status: InvoiceStatus::Draft,
        number: None,
        currency: ctx.client.currency,
        issue_date: body.issue_date,
        due_date: body.due_date,
        due_date_fixed: body.due_date.is_some(),
        payment_terms_days: ctx.client.payment_terms_days,
        po_number: body.po_number.clone().or_else(|| prefs.po_number.clone()),
        notes: body.notes.clone().or_else(|| prefs.notes.clone()),
        internal_note: body.internal_note.clone(),
        selection: (body.kind == InvoiceKind::TimeAndMaterials).then(|| WorkSelection {
            project_ids: ctx.projects.iter().map(|p| p.id.clone()).collect(),
            from: body.period.as_ref().and_then(|p| p.from),
            to: body.period.as_ref().and_then(|p| p.to),
        }),
        time_grouping: body.time_grouping.unwrap_or(prefs.group_time_by),
        detail: body.detail.unwrap_or(prefs.detail),
        expense_grouping: body.expense_grouping.unwrap_or_default(),
        fixed_fee: body.fixed_fee.as_ref().map(|f| FixedFeePart {
            project_id: f.project_id.clone(),
            percent: f.percent.unwrap_or(Decimal::ONE_HUNDRED),
        }),
        milestone_ids: body.milestone_ids.clone(),
        lines: Vec::new(),
        discount: body
            .discount
            .as_ref()
            .and_then(|d| lines::discount(d.percent, d.amount)),
        tax_rates: ctx.tax_rates.clone(),
        default_tax_codes: ctx.default_tax_codes.clone(),
        rounding: ctx.settings.rounding,
        line_total: Decimal::ZERO,
        discount_total: Decimal::ZERO,
        tax_breakdown: Vec::new(),
        tax_total: Decimal::ZERO,
        total: Decimal::ZERO,
        amount_paid: Decimal::ZERO,
        amount_credited: Decimal::ZERO,
        written_off: None,
        claim_batches: 0,
        keeps_work_when_void: false,
        document: None,
        credit_note_ids: Vec::new(),
        created_by: caller.person.clone(),
        created_by_role: caller.role,
        issued_at: None,
        last_sent_on: None,
        next_action_on: None,
        fee_for: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

/// Prices the invoice, turning a maths refusal into the field it concerns.
pub fn reprice(inv: &mut Invoice) -> ApiResult<()> {
    use agencyops_domain::invoice::InvoiceMathError as E;
    lines::reprice(inv).map_err(|e| match &e {
        E::UnknownTaxCode(i, _) => ApiError::field(format!("lines[{i}].tax_code"), e.to_string()),
        E::NegativeLine(i) => ApiError::field(format!("lines[{i}]"), e.to_string()),
        E::DiscountTooLarge(_) | E::DiscountPercent => ApiError::field("discount", e.to_string()),
        E::Overflow => ApiError::field("lines", e.to_string()),
    })
}

/// The work as claimed lines: assigns each item its line and builds the lines.
pub fn work_into_lines(
    inv: &Invoice,
    names: &Names,
    claimed: &mut [ClaimedWork],
) -> Vec<InvoiceLine> {
    lines::assign(claimed, inv.time_grouping, inv.expense_grouping, names);
    let refs: Vec<&ClaimedWork> = claimed.iter().collect();
    lines::work_lines(
        &refs,
        inv.time_grouping,
        inv.expense_grouping,
        names,
        &inv.default_tax_codes,
    )
}

pub async fn create(s: &Services, caller: &Caller, body: NewInvoice) -> ApiResult<Created> {
    Ok(create_with_parts(s, caller, body).await?.0)
}

/// Creates the draft; with a draft written at once, what its view shows (no
/// payments or credits yet, the one claim batch it wrote), so the answer needs
/// no second read. A `building` draft comes back without them.
pub async fn create_with_parts(
    s: &Services,
    caller: &Caller,
    body: NewInvoice,
) -> ApiResult<(Created, Option<InvoiceParts>)> {
    access::require_drafts_invoices(caller)?;
    body.check()?;
    let tenant = caller.tenant.as_str();
    let mut project_ids = body.project_ids.clone();
    if let Some(f) = &body.fixed_fee {
        project_ids = vec![f.project_id.clone()];
    }
    access::require_drafts_for_projects(s, caller, &project_ids).await?;
    let ctx = context::load(s, tenant, &body.client_id, &project_ids).await?;
    if caller.role == agencyops_domain::Role::Client {
        return Err(ApiError::NotFound("client"));
    }
    let now = s.clock.now();
    let inv = draft(caller, &ctx, &body, now);

    // Lines that are not claimed work come first: fee, milestones, manual.
    let mut fixed = Vec::new();
    if let Some(part) = &inv.fixed_fee {
        fixed.push(fixed_fee_line(&ctx, part)?);
    }
    let ms = if body.milestone_ids.is_empty() {
        Vec::new()
    } else {
        milestones(s, tenant, &ctx, &body.milestone_ids).await?
    };
    for m in &ms {
        let name = ctx
            .projects
            .iter()
            .find(|p| p.id == m.project_id)
            .map(|p| p.name.as_str())
            .unwrap_or("");
        if m.currency != inv.currency {
            return Err(ApiError::field(
                "milestone_ids",
                "a milestone in another currency cannot be on this client's invoice",
            ));
        }
        fixed.push(milestone_line(m, &ctx, name));
    }
    fixed.extend(manual_lines(&body.lines, 0, &ctx.default_tax_codes));

    let work = match &inv.selection {
        Some(sel) => claims::unbilled(s, tenant, &ctx.projects, sel, inv.currency).await?,
        None => Vec::new(),
    };
    if inv.kind == InvoiceKind::TimeAndMaterials && work.is_empty() && fixed.is_empty() {
        return Err(Conflict::NothingToDo(
            "there is no approved, billable, unbilled work to invoice for this client and period"
                .into(),
        )
        .into());
    }

    if work.len() + ms.len() > INLINE_CLAIMS {
        return Ok((building(s, caller, ctx, inv, fixed, &ms, work).await?, None));
    }

    let roundings = claims::roundings(&ctx.projects, ctx.client.rounding);
    let rounding_of = |w: &Work| roundings.get(&project_of(w)).copied().flatten();
    let all_claimed: Vec<ClaimedWork> = work
        .iter()
        .map(|w| w.claimed(tenant, rounding_of(w)))
        .collect();
    let names = names(s, tenant, &ctx, &all_claimed, inv.time_grouping).await?;
    // The invoice as it stands with `work` claimed (work taken by another
    // draft meanwhile is dropped and the invoice composed again).
    let compose = |work: &[Work]| -> ApiResult<(Invoice, Vec<ClaimedWork>)> {
        let mut inv = inv.clone();
        let mut claimed: Vec<ClaimedWork> = work
            .iter()
            .map(|w| w.claimed(tenant, rounding_of(w)))
            .collect();
        let mut all = work_into_lines(&inv, &names, &mut claimed);
        all.extend(fixed.iter().cloned());
        inv.lines = all;
        reprice(&mut inv)?;
        inv.claim_batches = u32::from(!claimed.is_empty());
        Ok((inv, claimed))
    };
    let claimed = claims::commit_claims(s, tenant, work, |work: &[Work]| {
        let (inv, claimed) = compose(work)?;
        let mut tx = Tx::new(tenant);
        tx.create(&inv, ClaimFails::Other)?;
        tx.push(
            audit(s, caller, AuditAction::Create, None, Some(&inv), &inv.id)?,
            ClaimFails::Other,
        );
        if !claimed.is_empty() {
            tx.create(
                &claims::new_batch(&inv.id, 1, claimed, now),
                ClaimFails::Other,
            )?;
        }
        for w in milestone_writes(tenant, &inv.id, &ms, now)? {
            tx.push(w, ClaimFails::Other);
        }
        claims::claim(&mut tx, tenant, &inv.id, work, now)?;
        Ok(tx)
    })
    .await?;
    let (inv, work) = compose(&claimed)?;
    let batches = match work.is_empty() {
        true => Vec::new(),
        false => vec![claims::new_batch(&inv.id, 1, work, now)],
    };
    let parts = InvoiceParts {
        batches,
        ..InvoiceParts::default()
    };
    Ok((Created::Draft(inv), Some(parts)))
}

/// A draft too large for one transaction: written `building` (claiming
/// nothing yet), then handed to the builder with what was read, so the
/// builder reads nothing twice. The POST claims no work itself: were its
/// reply lost after the write, a retry would find that work held by a draft
/// whose builder message was never sent.
async fn building(
    s: &Services,
    caller: &Caller,
    ctx: BillingContext,
    mut inv: Invoice,
    fixed: Vec<InvoiceLine>,
    ms: &[Milestone],
    work: Vec<Work>,
) -> ApiResult<Created> {
    let tenant = caller.tenant.as_str();
    let now = s.clock.now();
    inv.status = InvoiceStatus::Building;
    inv.lines = fixed;
    reprice(&mut inv)?;
    let mut tx = Tx::new(tenant);
    tx.create(&inv, Fails::AlreadyExists("invoice"))?;
    tx.audit(s, caller, AuditAction::Create, None, Some(&inv), &inv.id)?;
    for w in milestone_writes(tenant, &inv.id, ms, now)? {
        tx.push(
            w,
            Fails::changed("a milestone changed while drafting; reload and retry"),
        );
    }
    tx.commit(s).await?;
    super::build::hand_off(
        s,
        tenant,
        super::build::Handoff {
            invoice: inv.clone(),
            context: ctx,
            work: Some(work),
        },
    )
    .await?;
    Ok(Created::Building(inv))
}

pub fn project_of(w: &Work) -> String {
    match w {
        Work::Time(e) => e.project_id.clone(),
        Work::Expense(x) => x.project_id.clone(),
    }
}
