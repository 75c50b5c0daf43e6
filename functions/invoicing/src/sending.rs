//! Mailing an issued invoice to the client (`POST /v1/invoices/{id}/send`).
//!
//! The request never talks to a mail provider: it records the send on the
//! invoice (`last_sent_on`, audited) and queues one [`OutgoingMail`] with the
//! kept PDF attached; the mail sender delivers it and records the delivery
//! on the invoice's activity. The mail's id is derived from the invoice and
//! the send (the Idempotency-Key when given), so a retried request queues a
//! mail the sender already knows and it goes out once.

use agencyops_domain::invoice::InvoiceStatus;
use agencyops_domain::validate;
use agencyops_platform::mail::{outbox, MailAttachment, MailPurpose, OutgoingMail};
use agencyops_platform::{access, ApiError, ApiResult, Caller, Conflict, Services};
use agencyops_store::audit::AuditAction;
use agencyops_store::record::{self, load};
use agencyops_store::records::{Client, Contact, Invoice, InvoicingSettings};
use agencyops_store::{keys, Index, Query, SkCondition};
use jiff::civil::Date;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use utoipa::ToSchema;

/// Most recipients in each of To and Cc.
pub const MAX_RECIPIENTS: usize = 20;

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SendInvoice {
    /// Instead of the client's billing contacts.
    #[serde(default)]
    #[schema(min_items = 1, max_items = 20, value_type = Option<Vec<String>>, format = Email)]
    pub to: Option<Vec<String>>,
    #[serde(default)]
    #[schema(max_items = 20, value_type = Vec<String>, format = Email)]
    pub cc: Vec<String>,
    /// A note above the invoice's details in the mail.
    #[serde(default)]
    #[schema(max_length = 2000)]
    pub message: Option<String>,
}

/// What was queued.
#[derive(Debug, Serialize, ToSchema)]
pub struct SendQueued {
    pub invoice_id: String,
    /// The mail's id: the same for a replay of this send.
    pub mail_id: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    /// The PDF attached.
    pub attachment: String,
    /// The client's view of the invoice, as linked in the mail.
    pub link: String,
    #[schema(value_type = String, format = Date)]
    pub last_sent_on: Date,
}

fn check_addresses(field: &str, list: &[String]) -> ApiResult<()> {
    for (i, a) in list.iter().enumerate() {
        if validate::email(a).is_err() {
            return Err(ApiError::field(
                format!("{field}[{i}]"),
                "must be an email address",
            ));
        }
    }
    Ok(())
}

fn validate(body: &SendInvoice) -> ApiResult<()> {
    if let Some(to) = &body.to {
        if to.is_empty() {
            return Err(ApiError::field(
                "to",
                "name at least one recipient, or leave it out",
            ));
        }
        check_addresses("to", to)?;
    }
    check_addresses("cc", &body.cc)?;
    // Each list on its own, as the schema says (together within SES's 50).
    if body.to.as_ref().map_or(0, Vec::len) > MAX_RECIPIENTS {
        return Err(ApiError::field(
            "to",
            format!("at most {MAX_RECIPIENTS} recipients"),
        ));
    }
    if body.cc.len() > MAX_RECIPIENTS {
        return Err(ApiError::field(
            "cc",
            format!("at most {MAX_RECIPIENTS} recipients"),
        ));
    }
    if body
        .message
        .as_ref()
        .is_some_and(|m| m.chars().count() > 2000)
    {
        return Err(ApiError::field("message", "at most 2000 characters"));
    }
    Ok(())
}

/// The client's billing address and billing contacts, without repeats.
async fn billing_contacts(s: &Services, tenant: &str, client_id: &str) -> ApiResult<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |a: &str| {
        if !out.iter().any(|o| o.eq_ignore_ascii_case(a)) {
            out.push(a.to_owned());
        }
    };
    if let Some(c) = load::<Client>(&*s.table, &keys::client(tenant, client_id)).await? {
        if let Some(e) = c
            .billing_email
            .as_deref()
            .filter(|e| validate::email(e).is_ok())
        {
            add(e);
        }
    }
    let q = Query::new(Index::Table, keys::client_partition(tenant, client_id))
        .sk(SkCondition::BeginsWith(keys::contacts_prefix()));
    for contact in record::all::<Contact>(&*s.table, &q).await? {
        if let Some(e) = contact
            .email
            .as_deref()
            .filter(|e| contact.billing && validate::email(e).is_ok())
        {
            add(e);
        }
    }
    Ok(out)
}

/// The mail's id: one per (invoice, send), within the id rule.
fn mail_id(invoice_id: &str, send: &str) -> String {
    let h = Sha256::digest(format!("{invoice_id}\n{send}").as_bytes());
    format!("send-{}", &hex::encode(h)[..40])
}

/// Queues the issued invoice `id` to the client's billing contacts (or the
/// body's recipients). `send_key` names this send (the Idempotency-Key).
pub async fn send(
    s: &Services,
    caller: &Caller,
    id: &str,
    body: SendInvoice,
    send_key: Option<&str>,
) -> ApiResult<SendQueued> {
    access::require_bills(caller)?;
    validate(&body)?;
    let tenant = caller.tenant.as_str();
    let inv = load::<Invoice>(&*s.table, &keys::invoice(tenant, id))
        .await?
        .ok_or(ApiError::NotFound("invoice"))?;
    match inv.status {
        InvoiceStatus::Issued | InvoiceStatus::PartiallyPaid => {}
        InvoiceStatus::Draft | InvoiceStatus::Building => {
            return Err(Conflict::NotADraft("a draft is issued before it is sent".into()).into())
        }
        other => {
            return Err(Conflict::InvoiceClosed(format!(
                "a {other} invoice is not sent; only issued and partly paid ones are"
            ))
            .into())
        }
    }
    let Some(doc) = inv.document.clone() else {
        return Err(Conflict::StorageRefused(
            "the invoice has no kept document to attach (no blob store when it was issued)".into(),
        )
        .into());
    };
    let to = match body.to {
        Some(to) => to,
        None => billing_contacts(s, tenant, &inv.client_id).await?,
    };
    if to.is_empty() {
        return Err(ApiError::field(
            "to",
            "the client has no billing email or billing contact; name the recipients",
        ));
    }
    let settings = load::<InvoicingSettings>(&*s.table, &keys::invoicing_settings(tenant))
        .await?
        .unwrap_or_else(|| InvoicingSettings::defaults(s.clock.now()));
    let number = inv.number.clone().unwrap_or_default();
    let agency = Some(settings.agency.name.as_str()).filter(|n| !n.is_empty());
    let subject = match agency {
        Some(a) => format!("Invoice {number} from {a}"),
        None => format!("Invoice {number}"),
    };
    let path = format!("/v1/invoices/{}/document", inv.id);
    let link = match &s.public_url {
        Some(base) => format!("{base}{path}"),
        None => path,
    };
    let due = inv
        .due_date
        .map(|d| format!(", due {d}"))
        .unwrap_or_default();
    let mut text = String::new();
    if let Some(m) = body.message.as_deref().filter(|m| !m.trim().is_empty()) {
        text.push_str(m.trim());
        text.push_str("\n\n");
    }
    text.push_str(&format!(
        "Invoice {number}: {} {} owed{due}.\nThe invoice is attached as a PDF.\nView it online: {link}\n",
        inv.balance_due(),
        inv.currency,
    ));
    if let Some(p) = &settings.payment_instructions {
        text.push_str(&format!("\nHow to pay: {p}\n"));
    }
    let attachment = doc
        .blob_key
        .rsplit('/')
        .next()
        .unwrap_or("invoice.pdf")
        .to_owned();
    let send_id = match send_key {
        Some(k) => format!("key:{}:{k}", caller.person),
        None => agencyops_platform::resource::new_id(),
    };
    let mail = OutgoingMail {
        id: mail_id(&inv.id, &send_id),
        tenant: tenant.to_owned(),
        to: to.clone(),
        cc: body.cc.clone(),
        subject: subject.clone(),
        text,
        html: None,
        attachments: vec![MailAttachment {
            filename: attachment.clone(),
            content_type: doc.content_type.clone(),
            blob_key: doc.blob_key.clone(),
        }],
        purpose: MailPurpose::InvoiceSent {
            invoice_id: inv.id.clone(),
        },
    };
    let today = s.clock.now().to_zoned(jiff::tz::TimeZone::UTC).date();
    let mut next = inv.clone();
    next.last_sent_on = Some(today);
    // The mail commits with the send (the outbox): a crash or a queue outage
    // before it is queued leaves it for the daily run, never a send recorded
    // but not mailed.
    let queued =
        outbox::item(&mail, s.clock.now()).map_err(|e| ApiError::Internal(e.to_string()))?;
    crate::lifecycle::void::save(s, caller, &inv, next, AuditAction::Send, vec![queued]).await?;
    // The send is committed with its mail: a queue outage now delays the
    // mail to the next flush, it does not make the caller send again.
    if let Err(e) = outbox::publish(s, &mail).await {
        tracing::warn!(mail = %mail.id, error = %e, "invoice mail left in the outbox");
    }
    Ok(SendQueued {
        invoice_id: inv.id,
        mail_id: mail.id,
        to,
        cc: body.cc,
        subject,
        attachment,
        link,
        last_sent_on: today,
    })
}
