//! The Queue port: how a function hands work to another one.
//!
//! Producers only ever *send*; consumption happens by event (an SQS-triggered
//! Lambda in AWS, the local host's poller over [`EmbeddedQueue::receive`]), so the
//! port stays as small as what handlers actually need. Bodies are strings
//! (JSON in practice) because that is what SQS carries.

use async_trait::async_trait;

use crate::ports::{PortError, PortResult};

#[cfg(feature = "embedded")]
pub mod embedded;
pub mod sqs;

#[cfg(feature = "embedded")]
pub use embedded::{DeadLetter, EmbeddedQueue, Received};
pub use sqs::SqsQueue;

#[async_trait]
pub trait Queue: Send + Sync {
    /// Sends one message. `queue` is a logical name ("approved",
    /// "receipts-events"); adapters map it to a URL/table, so handlers never see
    /// deployment details. Empty bodies are refused (SQS rejects them).
    async fn send(&self, queue: &str, body: &str) -> PortResult<()>;

    /// Sends many messages; the adapter splits them into what its backend
    /// accepts (SQS: batches of at most 10). Either all are sent or an error is
    /// returned; after an error some may have been sent, so consumers must be
    /// idempotent (they must be anyway: delivery is at least once).
    async fn send_batch(&self, queue: &str, bodies: &[String]) -> PortResult<()>;
}

/// The checks both adapters make before touching their backend, so the port
/// behaves the same everywhere.
pub(crate) fn check_message(queue: &str, body: &str) -> PortResult<()> {
    if queue.is_empty() {
        return Err(PortError::Refused("queue name is empty".into()));
    }
    if body.is_empty() {
        return Err(PortError::Refused("message body is empty".into()));
    }
    Ok(())
}
