//! The milestone invoicer: consumes the `milestones` queue (and the daily
//! run's sweep of reached milestones whose message was lost) and drafts each
//! reached milestone's invoice through the ordinary draft code, exactly once.
//!
//! Once-only comes from the milestone itself: drafting rewrites it as
//! `invoiced` (with its invoice id) under the version it was read at, in the
//! draft's transaction. A redelivered message finds it invoiced and only
//! finishes what may be left: issuing (when the client's preferences say
//! `auto_issue`; issuing twice is the same issue) and removing the outbox item.
//!
//! Sending the issued invoice is the mail sender's `POST /v1/invoices/{id}/send`
//! operation; it is not part of this crate yet, so nothing is mailed here.

use agencyops_domain::invoice::InvoiceStatus;
use agencyops_domain::Role;
use agencyops_platform::events::MilestoneReached;
use agencyops_platform::{ApiError, ApiResult, Caller, Conflict, Services};
use agencyops_store::record::{all, load, Record};
use agencyops_store::records::{
    Client, Invoice, InvoiceKind, Milestone, MilestoneStatus, Project, ReachedMilestone,
};
use agencyops_store::{keys, Index, Query, Write};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};

use crate::drafts::create::{self, Created};
use crate::drafts::request::NewInvoice;

/// Who the audit trail and the invoice name for automatic drafts and issues.
pub const INVOICER: &str = "milestone-invoicer";

/// What handling one reached milestone did.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The invoice was drafted now (and issued, when `issued`).
    Drafted { invoice_id: String, issued: bool },
    /// It was drafted before (a redelivery); `issued` when this call issued it.
    AlreadyDrafted { invoice_id: String, issued: bool },
    /// Nothing to draft: the milestone is gone, not reached, or has no amount.
    Skipped(&'static str),
}

/// The caller automatic drafts act as: finance's rights, the invoicer's name.
fn invoicer(tenant: &str) -> Caller {
    Caller {
        tenant: tenant.to_owned(),
        person: INVOICER.to_owned(),
        role: Role::Finance,
        client: None,
    }
}

/// Drafts (and maybe issues) the milestone's invoice, or finishes a previous
/// attempt; safe to call any number of times.
pub async fn draft_milestone(
    s: &Services,
    tenant: &str,
    project_id: &str,
    milestone_id: &str,
) -> ApiResult<Outcome> {
    let outcome = draft_once(s, tenant, project_id, milestone_id).await?;
    // The outbox item has done its work whatever the outcome.
    s.table
        .transact(vec![Write::Delete {
            key: keys::reached_milestone(tenant, project_id, milestone_id),
            condition: None,
        }])
        .await?;
    Ok(outcome)
}

async fn draft_once(
    s: &Services,
    tenant: &str,
    project_id: &str,
    milestone_id: &str,
) -> ApiResult<Outcome> {
    let Some(project) = load::<Project>(&*s.table, &keys::project(tenant, project_id)).await?
    else {
        return Ok(Outcome::Skipped("the project is gone"));
    };
    let caller = invoicer(tenant);
    // Two rounds: a concurrent delivery that drafted first sends this one
    // round to the already-invoiced branch.
    for _ in 0..2 {
        let key = keys::milestone(tenant, project_id, milestone_id);
        let Some(m) = load::<Milestone>(&*s.table, &key).await? else {
            return Ok(Outcome::Skipped("the milestone is gone"));
        };
        match m.status {
            MilestoneStatus::Planned => {
                return Ok(Outcome::Skipped("the milestone is not reached"))
            }
            MilestoneStatus::Invoiced => {
                let Some(invoice_id) = m.invoice_id else {
                    return Ok(Outcome::Skipped("the milestone names no invoice"));
                };
                let issued = finish(s, &caller, &project, &invoice_id).await?;
                return Ok(Outcome::AlreadyDrafted { invoice_id, issued });
            }
            MilestoneStatus::Reached if m.amount.is_none() => {
                return Ok(Outcome::Skipped(
                    "the milestone has no amount; finance drafts it by hand",
                ))
            }
            MilestoneStatus::Reached => {}
        }
        match create::create(s, &caller, milestone_invoice(&project, &m)).await {
            Ok(Created::Draft(inv) | Created::Building(inv)) => {
                let issued = finish(s, &caller, &project, &inv.id).await?;
                return Ok(Outcome::Drafted {
                    invoice_id: inv.id,
                    issued,
                });
            }
            // Drafted meanwhile by another delivery (or by hand): read again.
            Err(ApiError::Conflict(Conflict::AlreadyInvoiced(_) | Conflict::Changed(_))) => {}
            Err(e) => return Err(e),
        }
    }
    Err(ApiError::changed(
        "the milestone kept changing while its invoice was drafted; retry",
    ))
}

fn milestone_invoice(project: &Project, m: &Milestone) -> NewInvoice {
    NewInvoice {
        client_id: project.client_id.clone(),
        kind: InvoiceKind::Milestone,
        project_ids: vec![project.id.clone()],
        period: None,
        milestone_ids: vec![m.id.clone()],
        fixed_fee: None,
        lines: Vec::new(),
        discount: None,
        po_number: None,
        notes: None,
        internal_note: Some(format!("Drafted when milestone {:?} was reached.", m.name)),
        issue_date: None,
        due_date: None,
        time_grouping: None,
        detail: None,
        expense_grouping: None,
    }
}

/// Issues the invoicer's own draft when the client's preferences say
/// `auto_issue`; returns whether it is issued by this call. A draft someone
/// made by hand, or one already issued or voided, is left as it is.
async fn finish(
    s: &Services,
    caller: &Caller,
    project: &Project,
    invoice_id: &str,
) -> ApiResult<bool> {
    let tenant = caller.tenant.as_str();
    let client = load::<Client>(&*s.table, &keys::client(tenant, &project.client_id)).await?;
    if !client.is_some_and(|c| c.invoice_preferences.auto_issue) {
        return Ok(false);
    }
    let Some(inv) = load::<Invoice>(&*s.table, &keys::invoice(tenant, invoice_id)).await? else {
        return Ok(false);
    };
    if inv.created_by != INVOICER {
        return Ok(false);
    }
    let issued_now = match inv.status {
        InvoiceStatus::Draft => {
            crate::lifecycle::issue(s, caller, invoice_id).await?;
            true
        }
        InvoiceStatus::Issued if inv.last_sent_on.is_none() => false,
        _ => return Ok(false),
    };
    // And sent, once: the send is named by the invoice, so a redelivery (or
    // a retry after a crash between issuing and sending) queues the same mail,
    // which the mail sender delivers once. A send that cannot go (no billing
    // address, no kept PDF) leaves the invoice issued for finance to send.
    let key = format!("auto-{invoice_id}");
    if let Err(e) =
        crate::sending::send(s, caller, invoice_id, Default::default(), Some(&key)).await
    {
        tracing::warn!(invoice = %invoice_id, error = %e, "auto-issued milestone invoice not sent");
    }
    Ok(issued_now)
}

/// The daily run's sweep: drafts every reached milestone of the tenant whose
/// message was lost (or not yet handled). Returns how many it drafted now.
pub async fn draft_pending(s: &Services, tenant: &str) -> ApiResult<usize> {
    let q = Query::new(Index::Table, keys::reached_milestones(tenant)).limit(200);
    let pending = all::<ReachedMilestone>(&*s.table, &q).await?;
    let mut drafted = 0;
    for r in pending {
        if let Outcome::Drafted { .. } = draft_milestone(s, tenant, &r.project_id, r.id()).await? {
            drafted += 1;
        }
    }
    Ok(drafted)
}

/// One `milestones` message; a malformed one is refused (and dead-lettered after its retries).
pub async fn handle_body(s: &Services, body: &str) -> Result<Outcome, String> {
    let msg: MilestoneReached =
        serde_json::from_str(body).map_err(|e| format!("not a milestone message: {e}"))?;
    let outcome = draft_milestone(s, &msg.tenant, &msg.project_id, &msg.milestone_id)
        .await
        .map_err(|e| e.to_string())?;
    tracing::info!(message = %msg.message_id, tenant = %msg.tenant,
        milestone = %msg.milestone_id, outcome = ?outcome, "milestone handled");
    Ok(outcome)
}

pub async fn handle_sqs(s: &Services, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let body = message.body.as_deref().unwrap_or_default();
        if let Err(why) = handle_body(s, body).await {
            tracing::warn!(message = %id, error = %why, "milestone invoice failed; it will be retried");
            response.add_failure(id);
        }
    }
    response
}
