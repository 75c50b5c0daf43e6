//! `POST /v1/invoices/{id}/remind`: finance sends the reminder due now by
//! hand, with its fee, through the same marker as the schedule, so the
//! automatic run never sends that step again. The step is the latest one
//! whose date has come (the first stage, sent early, if none has); a step
//! already sent is a 409, so a double click never sends two.

use std::collections::BTreeSet;

use agencyops_platform::{access, ApiError, ApiResult, Caller, Conflict, Services};
use agencyops_store::keys;
use agencyops_store::record;
use agencyops_store::records::{Client, Invoice};
use jiff::tz::TimeZone;
use serde::Serialize;
use utoipa::ToSchema;

use super::plan;
use super::run::{self, By, Clients, DunningError, Fired, TenantContext};

/// The reminder sent.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct ReminderSent {
    pub invoice_id: String,
    /// The stage's name (a repeat says which).
    pub stage: String,
    /// The queued mail's id.
    pub mail_id: String,
    pub recipient: String,
    pub fee: Option<FeeView>,
}

/// A late fee charged with the reminder, as its own invoice.
#[derive(Clone, Debug, Serialize, ToSchema)]
pub struct FeeView {
    #[schema(value_type = String, example = "15.00")]
    pub amount: String,
    pub currency: String,
    pub invoice_id: String,
    pub number: String,
}

fn store(e: DunningError) -> ApiError {
    match e {
        DunningError::Store(e) => e.into(),
        DunningError::Queue(e) => ApiError::Internal(format!("queue: {e}")),
        DunningError::Document(e) => ApiError::Internal(format!("fee invoice document: {e}")),
        DunningError::Settings(e) => Conflict::Changed(format!(
            "the invoicing settings cannot number a fee invoice: {e}"
        ))
        .into(),
    }
}

pub async fn remind(s: &Services, caller: &Caller, id: &str) -> ApiResult<ReminderSent> {
    access::require_bills(caller)?;
    let tenant = caller.tenant.as_str();
    let inv = record::load::<Invoice>(&*s.table, &keys::invoice(tenant, id))
        .await?
        .ok_or(ApiError::NotFound("invoice"))?;
    if inv.status.is_draft() {
        return Err(ApiError::NotFound("invoice"));
    }
    let Some(due) = inv.due_date else {
        return Err(
            Conflict::InvoiceClosed("the invoice has no due date to remind of".into()).into(),
        );
    };
    if !inv.may_be_chased() {
        return Err(Conflict::InvoiceClosed(format!(
            "nothing is owed on a {} invoice{}",
            inv.status,
            if inv.fee_for.is_some() {
                " of late fees"
            } else {
                ""
            }
        ))
        .into());
    }
    let today = s.clock.now().to_zoned(TimeZone::UTC).date();
    let ctx = TenantContext::load(s, tenant).await.map_err(store)?;
    let clients = Clients::load(s, tenant, &BTreeSet::from([inv.client_id.clone()]))
        .await
        .map_err(store)?;
    let policy = clients.policy(&ctx, &inv.client_id).clone();
    let steps = plan::steps(&policy, due);
    if steps.is_empty() {
        return Err(Conflict::NothingToDo(
            "the dunning policy has no stages; set one in /v1/settings/dunning".into(),
        )
        .into());
    }
    let at = steps.iter().rposition(|st| st.on <= today).unwrap_or(0);
    let step = steps[at].clone();
    let next = steps
        .get(at + 1)
        .map(|st| st.on)
        .unwrap_or_else(plan::never)
        .max(today);
    let client: Option<&Client> = clients.clients.get(&inv.client_id);
    let by = By {
        id: caller.person.clone(),
        role: caller.role.as_str().to_owned(),
    };
    match run::fire(
        s, &ctx, &inv, client, &policy, &step, next, today, &by, true,
    )
    .await
    .map_err(store)?
    {
        Fired::Sent { mail_id, fee } => Ok(ReminderSent {
            invoice_id: inv.id.clone(),
            stage: step.label(&policy),
            mail_id,
            recipient: client
                .and_then(|c| c.billing_email.clone())
                .or(inv.bill_to.email.clone())
                .unwrap_or_default(),
            fee: fee.map(|f| FeeView {
                amount: f.amount.to_string(),
                currency: f.currency,
                invoice_id: f.invoice_id,
                number: f.number,
            }),
        }),
        Fired::AlreadySent => Err(Conflict::NothingToDo(format!(
            "the {} reminder of this invoice was sent already",
            step.label(&policy)
        ))
        .into()),
        Fired::Changed => Err(ApiError::changed(
            "the invoice changed meanwhile; reload and retry",
        )),
        Fired::NoRecipient => Err(Conflict::NothingToDo(
            "the client has no billing email to send the reminder to".into(),
        )
        .into()),
    }
}
