//! The invoice builder: finishes a `building` draft whose work is more than
//! one transaction holds. It claims the work in batches (each one transaction
//! of at most 99 items and the batch naming them), then prices the lines and
//! makes the invoice a draft. Every step is safe to repeat: a crash resumes
//! from the batches already written, work claimed by anyone meanwhile is
//! skipped, and a message for an invoice that is no longer building is a no-op.

use agencyops_domain::invoice::InvoiceStatus;

use agencyops_platform::{ApiError, ApiResult, Caller, Fails, Services, Tx, TxError};
use agencyops_store::audit::AuditAction;
use agencyops_store::keys;
use agencyops_store::record::load;
use agencyops_store::records::{ClaimBatch, ClaimedWork, Invoice, LineKind};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use serde::{Deserialize, Serialize};

use super::create::{names, project_of, reprice, work_into_lines, BUILDER_QUEUE};
use crate::claims::{self, ClaimFails, Work, CLAIMS_PER_BATCH};
use crate::context;

/// Who the audit trail names for the builder's step: the draft's creator,
/// whose request it finishes.
fn creator(tenant: &str, inv: &Invoice) -> Caller {
    Caller {
        tenant: tenant.to_owned(),
        person: inv.created_by.clone(),
        role: inv.created_by_role,
        client: None,
    }
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BuildMessage {
    pub tenant: String,
    pub invoice_id: String,
    /// What the draft's POST read and wrote, so the first delivery reads
    /// nothing it already knows; absent on re-announcements.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub handoff: Option<Box<Handoff>>,
}

/// The POST's state of a building draft: the invoice as written (its
/// version guards the builder's last write), its context, and the work it
/// read when that fits in the message.
#[derive(Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Handoff {
    pub invoice: Invoice,
    pub context: context::BillingContext,
    #[serde(default)]
    pub work: Option<Vec<Work>>,
}

/// Largest builder message: below SQS's 256 KiB with room for its envelope.
const MAX_MESSAGE_BYTES: usize = 200 * 1024;
/// Work the last transaction claims beside the batch, the invoice and its audit.
const FINAL_CLAIMS: usize = CLAIMS_PER_BATCH - 2;

/// Asks the builder to finish the draft (it reads what it needs).
pub async fn announce(s: &Services, tenant: &str, invoice_id: &str) -> ApiResult<()> {
    send(
        s,
        &BuildMessage {
            tenant: tenant.into(),
            invoice_id: invoice_id.into(),
            handoff: None,
        },
    )
    .await
}

/// Asks the builder to finish the draft from what the POST already holds:
/// with the rest of the work when the message can carry it, else without it,
/// else as a bare announcement.
pub async fn hand_off(s: &Services, tenant: &str, handoff: Handoff) -> ApiResult<()> {
    let mut msg = BuildMessage {
        tenant: tenant.into(),
        invoice_id: handoff.invoice.id.clone(),
        handoff: Some(Box::new(handoff)),
    };
    if encoded_len(&msg) > MAX_MESSAGE_BYTES {
        if let Some(h) = msg.handoff.as_mut() {
            h.work = None;
        }
    }
    if encoded_len(&msg) > MAX_MESSAGE_BYTES {
        msg.handoff = None;
    }
    send(s, &msg).await
}

fn encoded_len(msg: &BuildMessage) -> usize {
    serde_json::to_vec(msg)
        .map(|b| b.len())
        .unwrap_or(usize::MAX)
}

async fn send(s: &Services, msg: &BuildMessage) -> ApiResult<()> {
    let body = serde_json::to_string(msg).map_err(|e| ApiError::Internal(e.to_string()))?;
    s.queue
        .send(BUILDER_QUEUE, &body)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
}

/// The first delivery of a handed-off draft: claims the work in batches of
/// [`CLAIMS_PER_BATCH`] and finishes the draft in the transaction of the last
/// batch, reading only the work the message could not carry. Answers false
/// when anything it was told no longer holds (a repeated or concurrent
/// delivery got there first), and the caller resumes from the store.
async fn build_handed_off(s: &Services, tenant: &str, h: Handoff) -> ApiResult<bool> {
    let Handoff {
        invoice: inv,
        context: ctx,
        work,
    } = h;
    let Some(selection) = inv.selection.clone() else {
        return Ok(false);
    };
    let roundings = claims::roundings(&ctx.projects, ctx.client.rounding);
    let claimed_of = |w: &Work| w.claimed(tenant, roundings.get(&project_of(w)).copied().flatten());
    let mut done: Vec<ClaimBatch> = Vec::new();
    let work: Vec<Work> = match work {
        Some(work) => work,
        None => claims::unbilled(s, tenant, &ctx.projects, &selection, inv.currency).await?,
    };
    let now = s.clock.now();
    let (middle, last) = work.split_at(work.len().saturating_sub(FINAL_CLAIMS));
    let mut seq = 0;
    for chunk in middle.chunks(CLAIMS_PER_BATCH) {
        seq += 1;
        let this = seq;
        let claimed = claims::try_commit_claims(s, tenant, chunk.to_vec(), |work: &[Work]| {
            let mut tx = Tx::new(tenant);
            tx.create(
                &claims::new_batch(&inv.id, this, work.iter().map(claimed_of).collect(), now),
                ClaimFails::Other,
            )?;
            claims::claim(&mut tx, tenant, &inv.id, work, now)?;
            Ok(tx)
        })
        .await?;
        let Some(claimed) = claimed else {
            return Ok(false);
        };
        done.push(claims::new_batch(
            &inv.id,
            this,
            claimed.iter().map(claimed_of).collect(),
            now,
        ));
    }
    // The last batch and the finished draft, in one transaction.
    let so_far: Vec<ClaimedWork> = done
        .iter()
        .filter(|b| !b.released)
        .flat_map(|b| b.work.iter().cloned())
        .chain(last.iter().map(claimed_of))
        .collect();
    let names = names(s, tenant, &ctx, &so_far, inv.time_grouping).await?;
    let who = creator(tenant, &inv);
    let last_seq = seq + 1;
    let finished = claims::try_commit_claims(s, tenant, last.to_vec(), |work: &[Work]| {
        let mut claimed: Vec<ClaimedWork> = done
            .iter()
            .filter(|b| !b.released)
            .flat_map(|b| b.work.iter().cloned())
            .chain(work.iter().map(claimed_of))
            .collect();
        let next = finished_draft(
            &inv,
            &names,
            &mut claimed,
            if work.is_empty() { seq } else { last_seq },
            now,
        )?;
        let mut tx = Tx::new(tenant);
        tx.replace(&next, inv.version, ClaimFails::Other)?;
        tx.push(
            agencyops_platform::resource::audit(
                s,
                &who,
                AuditAction::Claim,
                Some(&inv),
                Some(&next),
                &inv.id,
            )?,
            ClaimFails::Other,
        );
        if !work.is_empty() {
            tx.create(
                &claims::new_batch(
                    &inv.id,
                    last_seq,
                    work.iter().map(claimed_of).collect(),
                    now,
                ),
                ClaimFails::Other,
            )?;
            claims::claim(&mut tx, tenant, &inv.id, work, now)?;
        }
        Ok(tx)
    })
    .await?;
    Ok(finished.is_some())
}

/// The draft priced from all its claimed work, no longer building.
fn finished_draft(
    inv: &Invoice,
    names: &super::lines::Names,
    claimed: &mut [ClaimedWork],
    batches: u32,
    now: jiff::Timestamp,
) -> ApiResult<Invoice> {
    let mut next = inv.clone();
    let mut all = work_into_lines(&next, names, claimed);
    all.extend(
        inv.lines
            .iter()
            .filter(|l| !matches!(l.kind, LineKind::Time | LineKind::Expense))
            .cloned(),
    );
    next.lines = all;
    reprice(&mut next)
        .map_err(|e| ApiError::Internal(format!("a built draft does not price: {e}")))?;
    next.status = InvoiceStatus::Draft;
    next.claim_batches = batches;
    agencyops_store::record::bump(&mut next, now);
    Ok(next)
}

/// Finishes the draft, or does nothing if it is not building.
pub async fn build(s: &Services, tenant: &str, invoice_id: &str) -> ApiResult<()> {
    let Some(inv) = load::<Invoice>(&*s.table, &keys::invoice(tenant, invoice_id)).await? else {
        return Ok(());
    };
    if inv.status != InvoiceStatus::Building {
        return Ok(());
    }
    let Some(selection) = inv.selection.clone() else {
        let ctx = context::load(s, tenant, &inv.client_id, &[]).await?;
        let batches = claims::batches(s, tenant, &inv.id).await?;
        return finish(s, tenant, inv, ctx, batches).await;
    };
    let ctx = context::load(s, tenant, &inv.client_id, &selection.project_ids).await?;
    let roundings = claims::roundings(&ctx.projects, ctx.client.rounding);
    let mut done = claims::batches(s, tenant, &inv.id).await?;
    let taken = claims::claimed_ids(&done);
    let mut seq = done.iter().map(|b| b.seq).max().unwrap_or(0);
    let work: Vec<Work> = claims::unbilled(s, tenant, &ctx.projects, &selection, inv.currency)
        .await?
        .into_iter()
        .filter(|w| !taken.contains(w.id()))
        .collect();
    let now = s.clock.now();
    for chunk in work.chunks(CLAIMS_PER_BATCH) {
        seq += 1;
        let this = seq;
        let result = claims::commit_claims(s, tenant, chunk.to_vec(), |work: &[Work]| {
            let claimed: Vec<ClaimedWork> = work
                .iter()
                .map(|w| w.claimed(tenant, roundings.get(&project_of(w)).copied().flatten()))
                .collect();
            let mut tx = Tx::new(tenant);
            tx.create(
                &claims::new_batch(&inv.id, this, claimed, now),
                ClaimFails::Other,
            )?;
            claims::claim(&mut tx, tenant, &inv.id, work, now)?;
            Ok(tx)
        })
        .await;
        // The batch as written (empty when everything in the chunk was taken
        // meanwhile, which is harmless), kept so finishing reads nothing again.
        let claimed: Vec<ClaimedWork> = result?
            .iter()
            .map(|w| w.claimed(tenant, roundings.get(&project_of(w)).copied().flatten()))
            .collect();
        done.push(claims::new_batch(&inv.id, this, claimed, now));
    }
    finish(s, tenant, inv, ctx, done).await
}

/// Prices the lines from every batch and makes the invoice a draft.
async fn finish(
    s: &Services,
    tenant: &str,
    inv: Invoice,
    ctx: context::BillingContext,
    batches: Vec<ClaimBatch>,
) -> ApiResult<()> {
    let mut claimed: Vec<ClaimedWork> = batches
        .iter()
        .filter(|b| !b.released)
        .flat_map(|b| b.work.clone())
        .collect();
    let names = names(s, tenant, &ctx, &claimed, inv.time_grouping).await?;
    let batch_count = batches.iter().map(|b| b.seq).max().unwrap_or(0);
    let next = finished_draft(&inv, &names, &mut claimed, batch_count, s.clock.now())?;
    let who = creator(tenant, &inv);
    let mut tx = Tx::new(tenant);
    // Another delivery finishing it first is the only way this fails.
    tx.replace(&next, inv.version, Fails::Retry)?;
    tx.audit(
        s,
        &who,
        AuditAction::Claim,
        Some(&inv),
        Some(&next),
        &inv.id,
    )?;
    match tx.run(&*s.table).await {
        Ok(()) | Err(TxError::Failed(_)) => Ok(()),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}

/// One builder message; a malformed one is refused (and dead-lettered after its retries).
pub async fn handle_body(s: &Services, body: &str) -> Result<(), String> {
    let msg: BuildMessage =
        serde_json::from_str(body).map_err(|e| format!("not a build message: {e}"))?;
    if let Some(h) = msg.handoff {
        if h.invoice.id != msg.invoice_id {
            return Err("a build message's handoff names another invoice".into());
        }
        if build_handed_off(s, &msg.tenant, *h)
            .await
            .map_err(|e| e.to_string())?
        {
            return Ok(());
        }
    }
    build(s, &msg.tenant, &msg.invoice_id)
        .await
        .map_err(|e| e.to_string())
}

pub async fn handle_sqs(s: &Services, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let body = message.body.as_deref().unwrap_or_default();
        if let Err(why) = handle_body(s, body).await {
            tracing::warn!(message = %id, error = %why, "invoice build failed; it will be retried");
            response.add_failure(id);
        }
    }
    response
}
