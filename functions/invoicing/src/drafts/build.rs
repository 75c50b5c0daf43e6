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
}

/// Asks the builder to finish the draft.
pub async fn announce(s: &Services, tenant: &str, invoice_id: &str) -> ApiResult<()> {
    let body = serde_json::to_string(&BuildMessage {
        tenant: tenant.into(),
        invoice_id: invoice_id.into(),
    })
    .map_err(|e| ApiError::Internal(e.to_string()))?;
    s.queue
        .send(BUILDER_QUEUE, &body)
        .await
        .map_err(|e| ApiError::Internal(e.to_string()))
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
    let mut next = inv.clone();
    let mut all = work_into_lines(&next, &names, &mut claimed);
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
    next.claim_batches = batches.iter().map(|b| b.seq).max().unwrap_or(0);
    agencyops_store::record::bump(&mut next, s.clock.now());
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
