//! The transactional outbox of mail: the write that decides a mail carries
//! its queue message ([`item`]), the producer queues it after the commit and
//! deletes the item ([`publish`]), and the daily run queues whatever a crash
//! left between the two ([`flush`]). Queueing one mail twice is harmless: the
//! mail sender sends each id once.

use agencyops_store::record::{self, from_item, is, to_item};
use agencyops_store::records::MailOutboxItem;
use agencyops_store::table::{Index, Query, StoreError, Write};
use agencyops_store::{keys, Item, Key};
use jiff::Timestamp;

use super::{OutgoingMail, MAIL_QUEUE};
use crate::ports::PortError;
use crate::Services;

#[derive(Debug, thiserror::Error)]
pub enum OutboxError {
    #[error("store: {0}")]
    Store(#[from] StoreError),
    #[error("queue: {0}")]
    Queue(#[from] PortError),
    #[error("the mail could not be written as a queue message: {0}")]
    Encode(String),
}

/// The outbox item of `mail`, for the transaction that decides it.
pub fn item(mail: &OutgoingMail, now: Timestamp) -> Result<Write, OutboxError> {
    let body = serde_json::to_string(mail).map_err(|e| OutboxError::Encode(e.to_string()))?;
    let entry = MailOutboxItem {
        id: mail.id.clone(),
        body,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    Ok(Write::put(to_item(&mail.tenant, &entry)?))
}

/// Queues `mail` (committed with its [`item`]) and clears its outbox item.
/// On an error the item stays, and the next [`flush`] queues it.
pub async fn publish(s: &Services, mail: &OutgoingMail) -> Result<(), OutboxError> {
    let body = serde_json::to_string(mail).map_err(|e| OutboxError::Encode(e.to_string()))?;
    s.queue.send(MAIL_QUEUE, &body).await?;
    clear(s, &[keys::mail_outbox_item(&mail.tenant, &mail.id)]).await
}

/// Queues every mail of `tenant` still in the outbox; how many.
pub async fn flush(s: &Services, tenant: &str) -> Result<usize, OutboxError> {
    let q = Query::new(Index::Table, keys::mail_outbox(tenant));
    let items: Vec<Item> = record::all_items(&*s.table, &q).await?;
    let entries: Vec<MailOutboxItem> = items
        .into_iter()
        .filter(is::<MailOutboxItem>)
        .filter_map(|i| from_item(i).ok())
        .collect();
    if entries.is_empty() {
        return Ok(0);
    }
    for chunk in entries.chunks(10) {
        let bodies: Vec<String> = chunk.iter().map(|e| e.body.clone()).collect();
        s.queue.send_batch(MAIL_QUEUE, &bodies).await?;
        let done: Vec<Key> = chunk
            .iter()
            .map(|e| keys::mail_outbox_item(tenant, &e.id))
            .collect();
        clear(s, &done).await?;
    }
    tracing::warn!(
        tenant,
        mails = entries.len(),
        "queued mail a crash had left in the outbox"
    );
    Ok(entries.len())
}

async fn clear(s: &Services, done: &[Key]) -> Result<(), OutboxError> {
    let writes: Vec<Write> = done
        .iter()
        .map(|key| Write::Delete {
            key: key.clone(),
            condition: None,
        })
        .collect();
    s.table.transact(writes).await?;
    Ok(())
}
