//! Mail between the functions and the `mail-sender` worker. Requests never
//! talk to a mail provider: they queue an [`OutgoingMail`] on [`MAIL_QUEUE`],
//! and the sender delivers it through the [`Mail`] port (SES v2 in AWS, `.eml`
//! files in the local host's data directory) once per `id`, however often the
//! message is delivered.
//!
//! Both adapters send the same bytes: one RFC 5322 message built here
//! ([`render`]), multipart with its attachments, so what a developer opens
//! from `DATA/mail/` is what a client would have received.

use async_trait::async_trait;
use bytes::Bytes;
use serde::{Deserialize, Serialize};

use crate::ports::{PortError, PortResult};

#[cfg(feature = "embedded")]
pub mod embedded;
pub mod outbox;
pub mod ses;

#[cfg(feature = "embedded")]
pub use embedded::EmbeddedMail;
pub use ses::SesMail;

/// A queued mail's id from what it is about (`kind` and its parts), readable
/// when it fits the id rule (64 of `[A-Za-z0-9_-]`), else the kind and a hash
/// of the parts: the same parts always give the same id, so producing a mail
/// twice yields one, whatever a stage or tenant is called.
pub fn message_id(kind: &str, parts: &[&str]) -> String {
    let readable: String = std::iter::once(kind)
        .chain(parts.iter().copied())
        .collect::<Vec<_>>()
        .join("-")
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    if readable.len() <= 64 {
        return readable;
    }
    use sha2::{Digest, Sha256};
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    let kind: String = kind
        .chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .take(16)
        .collect();
    format!("{kind}-{}", &hex::encode(h.finalize())[..40])
}

#[cfg(test)]
mod id_tests {
    use super::message_id;

    #[test]
    fn mail_ids_fit_the_id_rule_whatever_they_are_about() {
        let invoice = "0193a1f0-2b3c-7d4e-8f5a-6b7c8d9e0f1a";
        assert_eq!(
            message_id("reminder", &[invoice, "STAGE#due"]),
            format!("reminder-{invoice}-STAGE-due")
        );
        let long = message_id("reminder", &[invoice, "STAGE#Friendly reminder before due"]);
        assert!(long.len() <= 64 && long.starts_with("reminder-"), "{long}");
        assert!(
            long.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'),
            "{long}"
        );
        assert_eq!(
            long,
            message_id("reminder", &[invoice, "STAGE#Friendly reminder before due"])
        );
        assert_ne!(
            long,
            message_id(
                "reminder",
                &[invoice, "STAGE#Friendly reminder before due!"]
            )
        );
        assert!(agencyops_domain::Id::parse(&long).is_ok());
    }
}

/// SES refuses more recipients than this in one message; so do we, everywhere.
pub const MAX_RECIPIENTS: usize = 50;

/// One rendered message, ready for a provider. The sender address is the
/// adapter's (configured once), not the message's.
#[derive(Clone, Debug, PartialEq)]
pub struct Message {
    /// The producer's id (see [`OutgoingMail::id`]), carried in an
    /// `X-AgencyOps-Mail-Id` header so a delivered mail can be traced back.
    pub id: String,
    pub to: Vec<String>,
    pub cc: Vec<String>,
    pub subject: String,
    pub text: String,
    pub html: Option<String>,
    pub attachments: Vec<Attachment>,
}

#[derive(Clone, Debug, PartialEq)]
pub struct Attachment {
    pub filename: String,
    pub content_type: String,
    pub bytes: Bytes,
}

/// The Mail port: sends one message, returns the provider's message id.
#[async_trait]
pub trait Mail: Send + Sync {
    async fn send(&self, message: &Message) -> PortResult<String>;
}

/// What both adapters refuse before anything is sent: no recipient, too
/// many, an address that is not one, or a header value that could inject
/// another header.
pub fn check(message: &Message, from: &str) -> PortResult<()> {
    let refuse = |why: String| Err(PortError::Refused(why));
    if message.to.is_empty() {
        return refuse("a mail needs at least one recipient".into());
    }
    if message.to.len() + message.cc.len() > MAX_RECIPIENTS {
        return refuse(format!("a mail has at most {MAX_RECIPIENTS} recipients"));
    }
    for address in
        std::iter::once(from).chain(message.to.iter().chain(&message.cc).map(String::as_str))
    {
        if agencyops_domain::validate::email(address).is_err() {
            return refuse(format!("{address:?} is not an email address"));
        }
    }
    if message.subject.chars().any(char::is_control) || message.id.chars().any(char::is_control) {
        return refuse("the subject and id must be one line".into());
    }
    for a in &message.attachments {
        if a.filename.is_empty() || a.filename.chars().any(char::is_control) {
            return refuse(format!(
                "attachment name {:?} is empty or not one line",
                a.filename
            ));
        }
        if !a.content_type.contains('/')
            || a.content_type
                .chars()
                .any(|c| c.is_control() || !c.is_ascii())
        {
            return refuse(format!(
                "attachment type {:?} is not a MIME type",
                a.content_type
            ));
        }
    }
    Ok(())
}

/// The message as MIME bytes from `from`, dated `date`, with Message-ID
/// `<message_id>`: `multipart/mixed` (alternative text/HTML, then each
/// attachment, base64) when it has attachments or HTML, plain text otherwise.
pub fn render(
    message: &Message,
    from: &str,
    message_id: &str,
    date: jiff::Timestamp,
) -> PortResult<Vec<u8>> {
    check(message, from)?;
    let mut b = mail_builder::MessageBuilder::new()
        .message_id(message_id)
        .date(date.as_second())
        .from(from)
        .to(message
            .to
            .iter()
            .map(|a| mail_builder::headers::address::Address::new_address(None::<&str>, a.as_str()))
            .collect::<Vec<_>>())
        .subject(message.subject.as_str())
        .header(
            "X-AgencyOps-Mail-Id",
            mail_builder::headers::raw::Raw::new(message.id.as_str()),
        )
        .text_body(message.text.as_str());
    if !message.cc.is_empty() {
        b = b.cc(message
            .cc
            .iter()
            .map(|a| mail_builder::headers::address::Address::new_address(None::<&str>, a.as_str()))
            .collect::<Vec<_>>());
    }
    if let Some(html) = &message.html {
        b = b.html_body(html.as_str());
    }
    for a in &message.attachments {
        b = b.attachment(
            a.content_type.as_str(),
            a.filename.as_str(),
            a.bytes.as_ref(),
        );
    }
    b.write_to_vec()
        .map_err(|e| PortError::Backend(format!("rendering the mail: {e}")))
}

/// Logical queue of mail to send, consumed by the mail sender.
pub const MAIL_QUEUE: &str = "mail-sender";

/// One message to send. `id` is chosen by the producer from what the mail is
/// about (e.g. invoice + stage), so producing it twice yields one mail.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OutgoingMail {
    pub id: String,
    pub tenant: String,
    pub to: Vec<String>,
    #[serde(default)]
    pub cc: Vec<String>,
    pub subject: String,
    /// Plain text; every mail has it.
    pub text: String,
    #[serde(default)]
    pub html: Option<String>,
    /// Files attached from the blob store, by key.
    #[serde(default)]
    pub attachments: Vec<MailAttachment>,
    pub purpose: MailPurpose,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MailAttachment {
    pub filename: String,
    pub content_type: String,
    pub blob_key: String,
}

/// Why the mail is sent. The sender checks it just before sending, so a
/// reminder for an invoice settled after it was queued is never sent.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case", deny_unknown_fields)]
pub enum MailPurpose {
    /// An issued invoice sent to the client (by hand or automatically).
    InvoiceSent { invoice_id: String },
    /// A dunning stage of an invoice; cancelled if nothing is owed any more.
    Reminder { invoice_id: String, stage: String },
    /// The Monday AR digest to finance and admins.
    Digest { week: String },
}
