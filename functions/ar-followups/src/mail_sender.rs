//! The mail sender: consumes [`OutgoingMail`] from the `mail-sender` queue
//! and delivers each message id once through the Mail port.
//!
//! For one message it (1) claims the id with a marker item written under a
//! condition (absent, or a crashed sender's lease has run out), (2) checks
//! again, just before sending, that the mail is still wanted (a reminder for
//! an invoice settled meanwhile is cancelled, not sent), (3) reads the
//! attachments from the blob store and sends, and (4) marks the id sent, in
//! the same transaction as the invoice's activity record.
//!
//! The crash window, honestly: a sender that dies after the provider accepted
//! the mail but before step 4 leaves a `sending` marker; once its lease runs
//! out the redelivered message is sent again. We take that side on purpose:
//! the other order (mark sent, then send) loses the mail for good when the
//! crash falls between the two, and an invoice nobody received is worse than
//! a duplicate one. The window is one provider call wide; outside it (any
//! redelivery, two consumers at once, a repeated daily run) the mail goes out
//! once.

use std::time::Duration;

use agencyops_domain::Id;
use agencyops_platform::mail::{Attachment, Mail, MailPurpose, Message, OutgoingMail};
use agencyops_platform::ports::PortError;
use agencyops_platform::{Services, Tx, TxError};
use agencyops_store::record::{self, load};
use agencyops_store::records::{
    ActivityKind, DeliveryState, Invoice, InvoiceActivity, MailDelivery,
};
use agencyops_store::{keys, StoreError};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use jiff::Timestamp;
use serde_json::{json, Map, Value};

/// How long a claim keeps another delivery of the same id from sending:
/// longer than any provider call, short enough that a crash is retried soon.
pub const LEASE: Duration = Duration::from_secs(120);

/// What became of one message.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Delivery {
    /// Sent now; the provider's message id.
    Sent(String),
    /// Not sent, and never will be: why.
    Cancelled(String),
    /// This id was already sent or cancelled by an earlier delivery.
    AlreadyDone,
}

#[derive(Debug, thiserror::Error)]
pub enum SendError {
    /// Never deliverable; retries will not help (the queue dead-letters it).
    #[error("not a mail the sender can deliver: {0}")]
    Malformed(String),
    /// Another delivery of the same id holds the claim; retried later.
    #[error("mail {0} is being sent by another delivery")]
    Busy(String),
    #[error("this function has no {0} configured")]
    NotConfigured(&'static str),
    #[error("attachment {0} is missing from the blob store")]
    MissingAttachment(String),
    #[error("mail provider: {0}")]
    Provider(#[from] PortError),
    #[error("store: {0}")]
    Store(#[from] StoreError),
}

/// One queued message body (the local host's consumer calls this).
pub async fn handle_body(s: &Services, body: &str) -> Result<Delivery, SendError> {
    let mail: OutgoingMail = serde_json::from_str(body)
        .map_err(|e| SendError::Malformed(format!("not a mail-sender message: {e}")))?;
    deliver(s, &mail).await
}

/// The Lambda entry: each failed message is reported on its own, so the rest
/// of the batch is not redelivered.
pub async fn handle_sqs(s: &Services, event: SqsEvent) -> SqsBatchResponse {
    let mut response = SqsBatchResponse::default();
    for message in event.records {
        let id = message.message_id.clone().unwrap_or_default();
        let body = message.body.as_deref().unwrap_or_default();
        match handle_body(s, body).await {
            Ok(done) => tracing::info!(message = %id, outcome = ?done, "mail handled"),
            Err(why) => {
                tracing::warn!(message = %id, error = %why, "mail not sent; it will be retried");
                response.add_failure(id);
            }
        }
    }
    response
}

/// Whether the mail is still wanted, checked just before sending.
enum Wanted {
    Yes,
    No(String),
}

async fn still_wanted(s: &Services, mail: &OutgoingMail) -> Result<Wanted, SendError> {
    let invoice_id = match &mail.purpose {
        MailPurpose::Digest { .. } => return Ok(Wanted::Yes),
        MailPurpose::InvoiceSent { invoice_id } | MailPurpose::Reminder { invoice_id, .. } => {
            invoice_id
        }
    };
    if !Id::is_valid(invoice_id) {
        return Err(SendError::Malformed(format!(
            "{invoice_id:?} is not an invoice id"
        )));
    }
    let Some(inv) = load::<Invoice>(&*s.table, &keys::invoice(&mail.tenant, invoice_id)).await?
    else {
        return Ok(Wanted::No("the invoice no longer exists".into()));
    };
    let reminder = matches!(mail.purpose, MailPurpose::Reminder { .. });
    if inv.status.is_draft() || inv.status == agencyops_domain::invoice::InvoiceStatus::Void {
        return Ok(Wanted::No(format!("the invoice is {}", inv.status)));
    }
    if reminder && !inv.status.is_open() {
        return Ok(Wanted::No(format!("the invoice is {}", inv.status)));
    }
    if reminder && inv.balance_due() <= rust_decimal::Decimal::ZERO {
        return Ok(Wanted::No("nothing is owed on the invoice".into()));
    }
    Ok(Wanted::Yes)
}

/// Claims `mail.id`; None when an earlier delivery already finished it.
async fn claim(
    s: &Services,
    mail: &OutgoingMail,
    now: Timestamp,
) -> Result<Option<MailDelivery>, SendError> {
    let key = keys::mail_delivery(&mail.tenant, &mail.id);
    let current = load::<MailDelivery>(&*s.table, &key).await?;
    let lease_until = now
        .checked_add(jiff::SignedDuration::try_from(LEASE).unwrap_or_default())
        .unwrap_or(now);
    let mut next = match &current {
        Some(d) if d.state != DeliveryState::Sending => return Ok(None),
        Some(d) if d.lease_until.is_some_and(|l| l > now) => {
            return Err(SendError::Busy(mail.id.clone()))
        }
        Some(d) => d.clone(),
        None => MailDelivery {
            id: mail.id.clone(),
            state: DeliveryState::Sending,
            lease_until: None,
            provider_id: None,
            reason: None,
            purpose: serde_json::to_value(&mail.purpose).unwrap_or(Value::Null),
            version: 0,
            created_at: now,
            updated_at: now,
        },
    };
    next.lease_until = Some(lease_until);
    let expected = record::bump(&mut next, now);
    let write = record::save(&mail.tenant, &next, expected)?;
    let mut tx: Tx<()> = Tx::new(&mail.tenant).contended(());
    tx.push(write, ());
    match tx.run(&*s.table).await {
        Ok(()) => Ok(Some(next)),
        // Another delivery claimed it between our read and write.
        Err(TxError::Failed(())) => Err(SendError::Busy(mail.id.clone())),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}

/// How a claim ends.
struct Outcome {
    state: DeliveryState,
    provider_id: Option<String>,
    reason: Option<String>,
    /// Recorded in the same transaction as the marker.
    activity: Option<InvoiceActivity>,
}

impl Outcome {
    fn cancelled(reason: String) -> Outcome {
        Outcome {
            state: DeliveryState::Cancelled,
            provider_id: None,
            reason: Some(reason),
            activity: None,
        }
    }
}

/// Finishes the claim `held` as `outcome` says.
async fn finish(
    s: &Services,
    tenant: &str,
    held: &MailDelivery,
    outcome: Outcome,
    now: Timestamp,
) -> Result<(), SendError> {
    let mut next = held.clone();
    next.state = outcome.state;
    next.lease_until = None;
    next.provider_id = outcome.provider_id;
    next.reason = outcome.reason;
    let expected = record::bump(&mut next, now);
    let mut tx: Tx<()> = Tx::new(tenant);
    tx.push(record::replace(tenant, &next, expected)?, ());
    if let Some(activity) = outcome.activity {
        // The activity's id is the mail's, so a re-sent mail (the crash
        // window) still records one activity.
        tx.push(
            agencyops_store::Write::put(record::to_item(tenant, &activity)?),
            (),
        );
    }
    match tx.run(&*s.table).await {
        Ok(()) => Ok(()),
        Err(TxError::Failed(())) => Err(SendError::Busy(held.id.clone())),
        Err(TxError::Store(e)) => Err(e.into()),
    }
}

fn check_shape(mail: &OutgoingMail) -> Result<(), SendError> {
    if !Id::is_valid(&mail.tenant) {
        return Err(SendError::Malformed(format!(
            "{:?} is not a tenant",
            mail.tenant
        )));
    }
    if !Id::is_valid(&mail.id) {
        return Err(SendError::Malformed(format!(
            "mail id {:?} must be 1 to 64 letters, digits, - or _",
            mail.id
        )));
    }
    Ok(())
}

async fn attachments(s: &Services, mail: &OutgoingMail) -> Result<Vec<Attachment>, SendError> {
    if mail.attachments.is_empty() {
        return Ok(Vec::new());
    }
    let blob = s
        .blob
        .as_ref()
        .ok_or(SendError::NotConfigured("blob store"))?;
    let mut out = Vec::with_capacity(mail.attachments.len());
    for a in &mail.attachments {
        let bytes = blob
            .get(&a.blob_key)
            .await?
            .ok_or_else(|| SendError::MissingAttachment(a.blob_key.clone()))?;
        out.push(Attachment {
            filename: a.filename.clone(),
            content_type: a.content_type.clone(),
            bytes,
        });
    }
    Ok(out)
}

/// The invoice activity a delivered mail records, if it is about an invoice.
fn activity_of(mail: &OutgoingMail, provider_id: &str, now: Timestamp) -> Option<InvoiceActivity> {
    let (invoice_id, kind, stage) = match &mail.purpose {
        MailPurpose::InvoiceSent { invoice_id } => (invoice_id, ActivityKind::Sent, None),
        MailPurpose::Reminder { invoice_id, stage } => {
            (invoice_id, ActivityKind::Reminder, Some(stage))
        }
        MailPurpose::Digest { .. } => return None,
    };
    let mut details = Map::new();
    details.insert("to".into(), json!(mail.to));
    details.insert("cc".into(), json!(mail.cc));
    details.insert("subject".into(), json!(mail.subject));
    details.insert("provider_message_id".into(), json!(provider_id));
    if let Some(stage) = stage {
        details.insert("stage".into(), json!(stage));
    }
    Some(InvoiceActivity {
        id: mail.id.clone(),
        invoice_id: invoice_id.clone(),
        activity: kind,
        on: now.to_zoned(jiff::tz::TimeZone::UTC).date(),
        at: now,
        details,
        version: 1,
        created_at: now,
        updated_at: now,
    })
}

/// Delivers one message once (see the module docs for the guarantees).
pub async fn deliver(s: &Services, mail: &OutgoingMail) -> Result<Delivery, SendError> {
    check_shape(mail)?;
    let port: &dyn Mail = s
        .mail
        .as_deref()
        .ok_or(SendError::NotConfigured("mail port"))?;
    let now = s.clock.now();
    let Some(held) = claim(s, mail, now).await? else {
        return Ok(Delivery::AlreadyDone);
    };
    if let Wanted::No(why) = still_wanted(s, mail).await? {
        finish(s, &mail.tenant, &held, Outcome::cancelled(why.clone()), now).await?;
        tracing::info!(mail = %mail.id, reason = %why, "mail cancelled");
        return Ok(Delivery::Cancelled(why));
    }
    let message = Message {
        id: mail.id.clone(),
        to: mail.to.clone(),
        cc: mail.cc.clone(),
        subject: mail.subject.clone(),
        text: mail.text.clone(),
        html: mail.html.clone(),
        attachments: attachments(s, mail).await?,
    };
    let provider_id = match port.send(&message).await {
        Ok(id) => id,
        // The provider will never take it (a bad address): cancelled for
        // good rather than retried into the dead-letter queue.
        Err(PortError::Refused(why)) => {
            let reason = format!("refused by the provider: {why}");
            finish(s, &mail.tenant, &held, Outcome::cancelled(reason), now).await?;
            return Ok(Delivery::Cancelled(why));
        }
        Err(e) => return Err(e.into()),
    };
    let done = s.clock.now();
    let outcome = Outcome {
        state: DeliveryState::Sent,
        provider_id: Some(provider_id.clone()),
        reason: None,
        activity: activity_of(mail, &provider_id, done),
    };
    finish(s, &mail.tenant, &held, outcome, done).await?;
    Ok(Delivery::Sent(provider_id))
}
