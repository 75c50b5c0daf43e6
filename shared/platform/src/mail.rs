//! Mail between the functions and the `mail-sender` worker. Requests never
//! talk to a mail provider: they queue an [`OutgoingMail`] on [`MAIL_QUEUE`],
//! and the sender delivers it through the Mail port (SES v2 in AWS, `.eml`
//! files in the local host's data directory) once per `id`, however often the
//! message is delivered.

use serde::{Deserialize, Serialize};

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
