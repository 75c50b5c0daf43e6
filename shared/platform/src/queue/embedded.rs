//! Embedded adapter of the Queue port: a durable table in the local host's
//! SQLite file (the same file as the embedded Table, so one data dir holds
//! everything and survives restarts).
//!
//! It mimics the SQS behaviour handlers must cope with: a received message is
//! hidden until its visibility timeout passes and then redelivered unless it
//! was deleted; each receive counts, and a message received more than
//! `max_receives` times goes to `"{queue}-dlq"` instead of being delivered
//! again, like an SQS redrive policy. Dead-letter queues (names ending in
//! `-dlq`) do not dead-letter further, as in AWS where a DLQ has no redrive.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use jiff::Timestamp;
use rusqlite::{params, Connection, TransactionBehavior};

use super::{check_message, Queue};
use crate::clock::{Clock, SystemClock};
use crate::ports::{PortError, PortResult};

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS queue_messages (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    queue TEXT NOT NULL,
    body TEXT NOT NULL,
    visible_at INTEGER NOT NULL,
    receive_count INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL,
    receipt TEXT UNIQUE
);
CREATE INDEX IF NOT EXISTS queue_messages_ready ON queue_messages (queue, visible_at);
";

const DLQ_SUFFIX: &str = "-dlq";

/// A message handed to a consumer. It stays invisible until the visibility
/// timeout passes; acknowledge it with [`EmbeddedQueue::delete`] and `receipt`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Received {
    pub id: String,
    pub body: String,
    /// How often this message has been received, this time included.
    pub receive_count: u32,
    /// Valid until the message is received again (like an SQS receipt handle).
    pub receipt: String,
}

/// A message parked in a dead-letter queue.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DeadLetter {
    pub id: String,
    pub body: String,
    /// Receives before it was dead-lettered (plus any receives from the DLQ).
    pub receive_count: u32,
    pub created_at: Timestamp,
}

/// The durable local queue; cheap to share behind an `Arc`.
#[derive(Clone)]
pub struct EmbeddedQueue {
    conn: Arc<Mutex<Connection>>,
    max_receives: u32,
    clock: Arc<dyn Clock>,
}

fn backend(e: impl std::fmt::Display) -> PortError {
    PortError::Backend(e.to_string())
}

fn to_timestamp(ms: i64) -> Timestamp {
    Timestamp::from_millisecond(ms).unwrap_or(Timestamp::UNIX_EPOCH)
}

fn count(n: i64) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

impl EmbeddedQueue {
    /// Uses the shared connection of the embedded store
    /// (`EmbeddedTable::connection()`) and creates the queue tables if needed.
    /// `max_receives` (at least 1) is the redrive policy's maxReceiveCount.
    pub fn new(conn: Arc<Mutex<Connection>>, max_receives: u32) -> PortResult<Self> {
        {
            let c = conn.lock().map_err(|_| backend("database lock poisoned"))?;
            c.execute_batch(SCHEMA).map_err(backend)?;
        }
        Ok(EmbeddedQueue {
            conn,
            max_receives: max_receives.max(1),
            clock: Arc::new(SystemClock),
        })
    }

    /// Replaces the system clock, so tests and the local host can move time.
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Self {
        self.clock = clock;
        self
    }

    async fn with_conn<T, F>(&self, f: F) -> PortResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&mut Connection) -> rusqlite::Result<T> + Send + 'static,
    {
        let conn = self.conn.clone();
        tokio::task::spawn_blocking(move || {
            let mut c = conn.lock().map_err(|_| backend("database lock poisoned"))?;
            f(&mut c).map_err(backend)
        })
        .await
        .map_err(backend)?
    }

    async fn insert(&self, queue: &str, bodies: Vec<String>) -> PortResult<()> {
        let now = self.clock.now().as_millisecond();
        let queue = queue.to_owned();
        self.with_conn(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            {
                let mut stmt = tx.prepare_cached(
                    "INSERT INTO queue_messages (id, queue, body, visible_at, receive_count, created_at)
                     VALUES (?1, ?2, ?3, ?4, 0, ?4)",
                )?;
                for body in &bodies {
                    stmt.execute(params![uuid::Uuid::now_v7().to_string(), queue, body, now])?;
                }
            }
            tx.commit()
        })
        .await
    }

    /// Receives up to `max` visible messages of `queue` (oldest first) and hides
    /// them for `visibility`. Messages already received `max_receives` times
    /// are moved to `"{queue}-dlq"` instead of being returned.
    pub async fn receive(
        &self,
        queue: &str,
        max: usize,
        visibility: Duration,
    ) -> PortResult<Vec<Received>> {
        if max == 0 {
            return Ok(Vec::new());
        }
        let now = self.clock.now().as_millisecond();
        let hidden_ms = i64::try_from(visibility.as_millis()).unwrap_or(i64::MAX);
        let until = now.saturating_add(hidden_ms);
        let queue = queue.to_owned();
        let dead_letter = (!queue.ends_with(DLQ_SUFFIX)).then(|| format!("{queue}{DLQ_SUFFIX}"));
        let max_receives = i64::from(self.max_receives);
        self.with_conn(move |c| {
            let tx = c.transaction_with_behavior(TransactionBehavior::Immediate)?;
            let mut out = Vec::new();
            // Walk in enqueue order; `seq > last` keeps a zero visibility timeout
            // from handing out the same message twice in one call.
            let mut last = 0_i64;
            while out.len() < max {
                let want = i64::try_from(max - out.len()).unwrap_or(i64::MAX);
                let rows: Vec<(i64, String, String, i64)> = {
                    let mut stmt = tx.prepare_cached(
                        "SELECT seq, id, body, receive_count FROM queue_messages
                         WHERE queue = ?1 AND visible_at <= ?2 AND seq > ?3
                         ORDER BY seq LIMIT ?4",
                    )?;
                    let rows = stmt
                        .query_map(params![queue, now, last, want], |r| {
                            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
                        })?
                        .collect::<rusqlite::Result<_>>()?;
                    rows
                };
                if rows.is_empty() {
                    break;
                }
                for (seq, id, body, receives) in rows {
                    last = seq;
                    match &dead_letter {
                        Some(dlq) if receives >= max_receives => {
                            tx.execute(
                                "UPDATE queue_messages SET queue = ?1, visible_at = ?2, receipt = NULL
                                 WHERE seq = ?3",
                                params![dlq, now, seq],
                            )?;
                            tracing::warn!(queue = %queue, message = %id, receives, "message dead-lettered");
                        }
                        _ => {
                            let receipt = uuid::Uuid::new_v4().to_string();
                            tx.execute(
                                "UPDATE queue_messages
                                 SET receive_count = receive_count + 1, visible_at = ?1, receipt = ?2
                                 WHERE seq = ?3",
                                params![until, receipt, seq],
                            )?;
                            out.push(Received {
                                id,
                                body,
                                receive_count: count(receives.saturating_add(1)),
                                receipt,
                            });
                        }
                    }
                }
            }
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    /// Acknowledges a received message. Returns false when the receipt is no
    /// longer valid (already deleted, or the message was received again since).
    pub async fn delete(&self, receipt: &str) -> PortResult<bool> {
        let receipt = receipt.to_owned();
        self.with_conn(move |c| {
            c.execute("DELETE FROM queue_messages WHERE receipt = ?1", [receipt])
                .map(|n| n > 0)
        })
        .await
    }

    /// The messages `queue` gave up on, oldest first (for the local host's
    /// operator view and for tests).
    pub async fn dead_letters(&self, queue: &str) -> PortResult<Vec<DeadLetter>> {
        let dlq = format!("{queue}{DLQ_SUFFIX}");
        self.with_conn(move |c| {
            let mut stmt = c.prepare_cached(
                "SELECT id, body, receive_count, created_at FROM queue_messages
                 WHERE queue = ?1 ORDER BY seq",
            )?;
            let rows = stmt
                .query_map([dlq], |r| {
                    Ok(DeadLetter {
                        id: r.get(0)?,
                        body: r.get(1)?,
                        receive_count: count(r.get(2)?),
                        created_at: to_timestamp(r.get(3)?),
                    })
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(rows)
        })
        .await
    }
}

#[async_trait]
impl Queue for EmbeddedQueue {
    async fn send(&self, queue: &str, body: &str) -> PortResult<()> {
        check_message(queue, body)?;
        self.insert(queue, vec![body.to_owned()]).await
    }

    async fn send_batch(&self, queue: &str, bodies: &[String]) -> PortResult<()> {
        for body in bodies {
            check_message(queue, body)?;
        }
        if bodies.is_empty() {
            return Ok(());
        }
        self.insert(queue, bodies.to_vec()).await
    }
}
