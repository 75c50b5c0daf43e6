//! Void, write off, delete. Void keeps the number and, unless told not to,
//! hands the invoice's work back to WIP (and its milestones back to reached):
//! the invoice turns void first, in one transaction, then each claim batch is
//! released in its own; repeating the void finishes an interrupted release.

use agencyops_domain::invoice::InvoiceStatus;

use agencyops_platform::{access, ApiError, ApiResult, Caller, Conflict, Fails, Services, Tx};
use agencyops_store::audit::AuditAction;
use agencyops_store::record::{self, load, Record};
use agencyops_store::records::{Invoice, Milestone, MilestoneStatus};
use agencyops_store::{keys, Write};

use crate::claims;

async fn fetch(s: &Services, tenant: &str, id: &str) -> ApiResult<Invoice> {
    load::<Invoice>(&*s.table, &keys::invoice(tenant, id))
        .await?
        .ok_or(ApiError::NotFound("invoice"))
}

/// Writes `next` over `current` with its audit record; a lost race is a 409.
pub async fn save(
    s: &Services,
    caller: &Caller,
    current: &Invoice,
    mut next: Invoice,
    action: AuditAction,
    extra: Vec<Write>,
) -> ApiResult<Invoice> {
    agencyops_store::record::bump(&mut next, s.clock.now());
    const RACED: &str =
        "the invoice changed meanwhile (a payment, credit or another change); reload and retry";
    let mut tx = Tx::new(&caller.tenant).contended(Fails::changed(RACED));
    tx.replace(&next, current.version, Fails::changed(RACED))?;
    tx.audit(s, caller, action, Some(current), Some(&next), &current.id)?;
    tx.extend(extra);
    tx.commit(s).await?;
    Ok(next)
}

/// Puts a milestone line's milestone back to reached (under its version),
/// if it is still invoiced on this invoice.
pub async fn release_milestone(
    s: &Services,
    tenant: &str,
    inv: &Invoice,
    line: &agencyops_store::records::InvoiceLine,
) -> ApiResult<()> {
    let (Some(m), Some(p)) = (&line.milestone_id, &line.project_id) else {
        return Ok(());
    };
    let Some(ms) = load::<Milestone>(&*s.table, &keys::milestone(tenant, p, m)).await? else {
        return Ok(());
    };
    if ms.invoice_id.as_deref() != Some(inv.id.as_str()) {
        return Ok(());
    }
    let mut next = ms.clone();
    next.status = MilestoneStatus::Reached;
    next.invoice_id = None;
    agencyops_store::record::bump(&mut next, s.clock.now());
    s.table
        .transact(vec![record::replace(tenant, &next, ms.version)?])
        .await?;
    Ok(())
}

/// Puts the invoice's milestones back to reached.
async fn release_milestones(s: &Services, tenant: &str, inv: &Invoice) -> ApiResult<()> {
    for line in &inv.lines {
        release_milestone(s, tenant, inv, line).await?;
    }
    Ok(())
}

/// Hands every claimed item and milestone of the invoice back.
pub async fn release_everything(s: &Services, tenant: &str, inv: &Invoice) -> ApiResult<()> {
    claims::release_all(s, tenant, inv, |_| true).await?;
    release_milestones(s, tenant, inv).await
}

pub async fn void(
    s: &Services,
    caller: &Caller,
    id: &str,
    release_work: bool,
) -> ApiResult<Invoice> {
    access::require_bills(caller)?;
    let inv = fetch(s, &caller.tenant, id).await?;
    let voided = match inv.status {
        InvoiceStatus::Void => inv,
        InvoiceStatus::Issued => {
            let mut next = inv.clone();
            next.status = InvoiceStatus::Void;
            next.keeps_work_when_void = !release_work;
            save(s, caller, &inv, next, AuditAction::Void, Vec::new()).await?
        }
        InvoiceStatus::PartiallyPaid | InvoiceStatus::Paid
            if inv.amount_paid > rust_decimal::Decimal::ZERO =>
        {
            return Err(Conflict::InvoiceClosed(
                "the invoice has payments; reverse them before voiding it, or issue a credit note"
                    .into(),
            )
            .into())
        }
        InvoiceStatus::PartiallyPaid | InvoiceStatus::Paid => {
            return Err(Conflict::InvoiceClosed(
                "the invoice has credit notes; credit the rest instead of voiding it".into(),
            )
            .into())
        }
        InvoiceStatus::Draft | InvoiceStatus::Building => {
            return Err(Conflict::NotADraft("a draft is deleted, not voided".into()).into())
        }
        InvoiceStatus::Uncollectible => {
            return Err(Conflict::InvoiceClosed("the invoice was written off".into()).into())
        }
    };
    if !voided.keeps_work_when_void {
        release_everything(s, &caller.tenant, &voided).await?;
    }
    Ok(voided)
}

pub async fn write_off(s: &Services, caller: &Caller, id: &str) -> ApiResult<Invoice> {
    access::require_bills(caller)?;
    let inv = fetch(s, &caller.tenant, id).await?;
    match inv.status {
        InvoiceStatus::Uncollectible => Ok(inv),
        InvoiceStatus::Issued | InvoiceStatus::PartiallyPaid => {
            let mut next = inv.clone();
            next.status = InvoiceStatus::Uncollectible;
            next.written_off = Some(inv.balance_due());
            save(s, caller, &inv, next, AuditAction::WriteOff, Vec::new()).await
        }
        InvoiceStatus::Draft | InvoiceStatus::Building => {
            Err(Conflict::NotADraft("only an issued invoice is written off".into()).into())
        }
        _ => Err(Conflict::InvoiceClosed(format!(
            "a {} invoice has nothing left to write off",
            inv.status
        ))
        .into()),
    }
}

/// Deletes a draft: its work goes back to WIP first (batch by batch), then the
/// draft and its batches go. Deleting a draft already gone is a 404.
pub async fn delete_draft(s: &Services, caller: &Caller, id: &str) -> ApiResult<()> {
    let tenant = caller.tenant.as_str();
    let inv = fetch(s, tenant, id).await?;
    crate::drafts::edit::require_changes_draft(s, caller, &inv).await?;
    if !inv.status.is_draft() {
        return Err(Conflict::NotADraft(
            "an issued invoice is voided or credited, never deleted".into(),
        )
        .into());
    }
    if inv.status == InvoiceStatus::Building {
        return Err(Conflict::StillBuilding.into());
    }
    release_everything(s, tenant, &inv).await?;
    let batches = claims::batches(s, tenant, &inv.id).await?;
    const RACED: &str = "the draft changed while it was being deleted; reload and retry";
    let mut tx = Tx::new(tenant).contended(Fails::changed(RACED));
    tx.delete(&inv, Fails::changed(RACED));
    tx.audit(s, caller, AuditAction::Delete, Some(&inv), None, &inv.id)?;
    // Released batches go with the draft (at most 98 more in this write; any
    // rest stays as released history, naming no work).
    tx.extend(
        batches
            .iter()
            .filter(|b| b.released)
            .take(98)
            .map(|b| Write::Delete {
                key: b.key(tenant),
                condition: None,
            }),
    );
    tx.commit(s).await
}
