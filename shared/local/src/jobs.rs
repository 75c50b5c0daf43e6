//! What AWS runs around the functions, run by the local host instead: SQS event
//! source mappings (consumers) and EventBridge schedules. Consumers behave as an
//! SQS mapping does: a message is deleted when its handler succeeds, redelivered
//! after the visibility timeout when it fails, and dead-lettered after the
//! queue's receive limit, so handlers meet the same redelivery here as in AWS.

use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use agencyops_platform::queue::embedded::EmbeddedQueue;

/// A consumer's verdict on one message body; `Err` asks for redelivery.
pub type Outcome = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;
pub type Handler = Arc<dyn Fn(String) -> Outcome + Send + Sync>;

/// Messages handed to a consumer per poll (the SQS batch size).
const BATCH: usize = 10;
/// How long a failed message stays hidden before it is tried again.
pub const VISIBILITY: Duration = Duration::from_secs(30);

#[derive(Clone)]
pub struct Consumers {
    queue: Arc<EmbeddedQueue>,
    handlers: Vec<(String, Handler)>,
    /// Each batch delivered in reverse, every message twice: what SQS may do
    /// (at-least-once, no order on a standard queue), made the rule.
    disorderly: bool,
}

impl Consumers {
    pub fn new(queue: Arc<EmbeddedQueue>) -> Self {
        Consumers {
            queue,
            handlers: Vec::new(),
            disorderly: false,
        }
    }

    /// Delivers each batch last message first, every message twice.
    pub fn disorderly(mut self) -> Self {
        self.disorderly = true;
        self
    }

    /// Routes messages of logical queue `name` to `handler`.
    pub fn on(mut self, name: &str, handler: Handler) -> Self {
        self.handlers.push((name.to_owned(), handler));
        self
    }

    /// Every handler's DynamoDB calls counted per message, as `sqs <queue>`.
    pub fn counted(mut self, tally: crate::calls::Tally) -> Self {
        for (name, handler) in &mut self.handlers {
            let inner = handler.clone();
            let operation = format!("sqs {name}");
            let tally = tally.clone();
            *handler = Arc::new(move |body| {
                let inner = inner.clone();
                let operation = operation.clone();
                let tally = tally.clone();
                Box::pin(async move {
                    let (outcome, calls) = agencyops_store::counting::counted(inner(body)).await;
                    tally.record(&operation, outcome.is_ok(), calls);
                    outcome
                })
            });
        }
        self
    }

    /// One poll of every queue; returns how many messages were handled successfully.
    pub async fn poll(&self) -> usize {
        let mut done = 0;
        for (name, handler) in &self.handlers {
            let messages = match self.queue.receive(name, BATCH, VISIBILITY).await {
                Ok(m) => m,
                Err(e) => {
                    tracing::warn!(queue = %name, error = %e, "receive failed");
                    continue;
                }
            };
            let mut messages = messages;
            if self.disorderly {
                messages.reverse();
                for m in &messages {
                    if let Err(why) = handler(m.body.clone()).await {
                        tracing::warn!(queue = %name, message = %m.id, error = %why, "first of two deliveries failed");
                    }
                }
            }
            for m in messages {
                match handler(m.body).await {
                    Ok(()) => match self.queue.delete(&m.receipt).await {
                        Ok(_) => done += 1,
                        Err(e) => tracing::warn!(queue = %name, error = %e, "delete failed"),
                    },
                    Err(why) => tracing::warn!(
                        queue = %name,
                        message = %m.id,
                        receive_count = m.receive_count,
                        error = %why,
                        "consumer failed; the message will be redelivered"
                    ),
                }
            }
        }
        done
    }

    /// Polls until a poll handles nothing (what is left failed and waits for
    /// its visibility timeout); returns how many messages were handled.
    pub async fn drain(&self) -> usize {
        let mut total = 0;
        loop {
            match self.poll().await {
                0 => return total,
                n => total += n,
            }
        }
    }

    /// Polls forever, a second apart when idle.
    pub async fn run(self) {
        loop {
            if self.poll().await == 0 {
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use agencyops_platform::clock::ManualClock;
    use agencyops_platform::queue::Queue;
    use agencyops_store::EmbeddedTable;
    use jiff::{SignedDuration, Timestamp};
    use std::sync::atomic::{AtomicUsize, Ordering};

    fn failing_first(calls: Arc<AtomicUsize>, failures: usize) -> Handler {
        Arc::new(move |_body| {
            let n = calls.fetch_add(1, Ordering::SeqCst) + 1;
            Box::pin(async move {
                if n <= failures {
                    Err(format!("failure {n}"))
                } else {
                    Ok(())
                }
            })
        })
    }

    #[tokio::test]
    async fn failed_messages_come_back_after_visibility_and_poison_ones_are_dead_lettered() {
        let dir = tempfile::tempdir().expect("tempdir");
        let table = EmbeddedTable::open(&dir.path().join("s.db")).expect("store");
        let clock = ManualClock::at(Timestamp::from_second(1_800_000_000).expect("ts"));
        let queue = Arc::new(
            EmbeddedQueue::new(table.connection(), 3)
                .expect("queue")
                .with_clock(Arc::new(clock.clone())),
        );
        let flaky_calls = Arc::new(AtomicUsize::new(0));
        let poison_calls = Arc::new(AtomicUsize::new(0));
        let consumers = Consumers::new(queue.clone())
            .on("flaky", failing_first(flaky_calls.clone(), 1))
            .on("poison", failing_first(poison_calls.clone(), usize::MAX));
        queue.send("flaky", "{\"n\":1}").await.expect("send");
        queue.send("poison", "{\"n\":2}").await.expect("send");

        assert_eq!(consumers.poll().await, 0, "both fail the first time");
        assert_eq!(
            consumers.poll().await,
            0,
            "nothing is redelivered before the visibility timeout"
        );
        assert_eq!(flaky_calls.load(Ordering::SeqCst), 1);

        clock.advance(SignedDuration::from_secs(31));
        assert_eq!(
            consumers.poll().await,
            1,
            "the flaky message succeeds on redelivery"
        );
        clock.advance(SignedDuration::from_secs(31));
        assert_eq!(consumers.poll().await, 0);
        assert_eq!(
            flaky_calls.load(Ordering::SeqCst),
            2,
            "a handled message is gone"
        );

        clock.advance(SignedDuration::from_secs(31));
        consumers.poll().await;
        clock.advance(SignedDuration::from_secs(31));
        consumers.poll().await;
        assert_eq!(
            poison_calls.load(Ordering::SeqCst),
            3,
            "tried up to the receive limit"
        );
        let dead = queue.dead_letters("poison").await.expect("dlq");
        assert_eq!(dead.len(), 1);
        assert_eq!(dead[0].body, "{\"n\":2}");
    }
}
