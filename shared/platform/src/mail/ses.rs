//! AWS adapter of the Mail port: SES v2 `SendEmail` with raw content, so
//! the message (and its attachments) is exactly the MIME the embedded outbox
//! stores. The sender address must be a verified SES identity.

use async_trait::async_trait;
use aws_sdk_sesv2::error::DisplayErrorContext;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Destination, EmailContent, RawMessage};
use aws_sdk_sesv2::Client;

use super::{check, render, Mail, Message};
use crate::ports::{PortError, PortResult};

#[derive(Clone, Debug)]
pub struct SesMail {
    client: Client,
    from: String,
}

impl SesMail {
    pub fn new(client: Client, from: impl Into<String>) -> Self {
        SesMail {
            client,
            from: from.into(),
        }
    }
}

#[async_trait]
impl Mail for SesMail {
    async fn send(&self, message: &Message) -> PortResult<String> {
        check(message, &self.from)?;
        let domain = self.from.rsplit_once('@').map_or("localhost", |(_, d)| d);
        // SES assigns its own Message-ID on delivery; this one names the draft.
        let local_id = format!("{}@{domain}", uuid::Uuid::now_v7());
        let raw = render(message, &self.from, &local_id, jiff::Timestamp::now())?;
        let raw = RawMessage::builder()
            .data(Blob::new(raw))
            .build()
            .map_err(|e| PortError::Backend(e.to_string()))?;
        let out = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(
                Destination::builder()
                    .set_to_addresses(Some(message.to.clone()))
                    .set_cc_addresses(Some(message.cc.clone()))
                    .build(),
            )
            .content(EmailContent::builder().raw(raw).build())
            .send()
            .await
            .map_err(|e| {
                // A message SES will never accept (unverified sender, bad
                // address) is refused; anything else may succeed on retry.
                let refused = e.as_service_error().is_some_and(|s| {
                    s.is_message_rejected()
                        || s.is_bad_request_exception()
                        || s.is_mail_from_domain_not_verified_exception()
                });
                let text = DisplayErrorContext(&e).to_string();
                if refused {
                    PortError::Refused(text)
                } else {
                    PortError::Backend(text)
                }
            })?;
        out.message_id()
            .map(str::to_owned)
            .ok_or_else(|| PortError::Backend("SES returned no message id".into()))
    }
}
