//! The clients a function builds once at cold start and shares with every request.

use std::sync::Arc;

#[cfg(feature = "embedded")]
use agencyops_store::EmbeddedTable;
use agencyops_store::Table;

use crate::blob::Blob;
use crate::caller::BootstrapAdmins;
use crate::clock::Clock;
use crate::cursor::Cursors;
use crate::mail::Mail;
use crate::queue::Queue;
#[cfg(feature = "embedded")]
use crate::{config::DEFAULT_IDEMPOTENCY_TTL_SECS, ports::PortResult, queue::EmbeddedQueue};

/// Receives before an embedded message is dead-lettered (the SQS redrive setting).
#[cfg(feature = "embedded")]
pub const EMBEDDED_MAX_RECEIVES: u32 = 5;

#[derive(Clone)]
pub struct Services {
    pub table: Arc<dyn Table>,
    pub clock: Arc<dyn Clock>,
    pub cursors: Cursors,
    pub idempotency_ttl_secs: i64,
    /// Hands work to other functions (SQS in AWS, the embedded queue locally).
    pub queue: Arc<dyn Queue>,
    /// Files (receipts); None where the function has no bucket configured.
    pub blob: Option<Arc<dyn Blob>>,
    /// Delivers mail (SES in AWS, `.eml` files locally); only the mail
    /// sender has one: everything else queues on `mail::MAIL_QUEUE`.
    pub mail: Option<Arc<dyn Mail>>,
    /// Where people reach the app (`PUBLIC_URL`), for links in mail; None:
    /// links are paths only.
    pub public_url: Option<String>,
    /// Who may call without a person record in AWS (see `Caller::resolve`).
    pub bootstrap_admins: BootstrapAdmins,
}

#[cfg(feature = "embedded")]
impl Services {
    /// Everything in one embedded database file, for the local host, tests and
    /// benches. The queue is returned too, so its owner can consume it.
    pub fn embedded(
        table: EmbeddedTable,
        clock: Arc<dyn Clock>,
        cursor_secret: Vec<u8>,
    ) -> PortResult<(Services, Arc<EmbeddedQueue>)> {
        let queue = Arc::new(
            EmbeddedQueue::new(table.connection(), EMBEDDED_MAX_RECEIVES)?
                .with_clock(clock.clone()),
        );
        let services = Services {
            table: Arc::new(table),
            clock,
            cursors: Cursors::new(cursor_secret),
            idempotency_ttl_secs: DEFAULT_IDEMPOTENCY_TTL_SECS,
            queue: queue.clone(),
            blob: None,
            mail: None,
            public_url: None,
            bootstrap_admins: BootstrapAdmins::default(),
        };
        Ok((services, queue))
    }
}

impl Services {
    /// The same services delivering mail through `mail` (the local host
    /// gives its `.eml` outbox, `mail::EmbeddedMail`, to the mail sender).
    pub fn with_mail(mut self, mail: Arc<dyn Mail>) -> Services {
        self.mail = Some(mail);
        self
    }
}
