//! One conformance suite for the Queue port, run against the embedded adapter
//! and against SQS on moto, plus the guarantees each adapter adds on its own
//! (visibility, dead-lettering, durability; SQS redrive).

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use agencyops_platform::aws::emulator_config;
use agencyops_platform::clock::ManualClock;
use agencyops_platform::ports::PortError;
use agencyops_platform::queue::{EmbeddedQueue, Queue, SqsQueue};
use agencyops_store::EmbeddedTable;
use agencyops_testkit::Moto;
use async_trait::async_trait;
use jiff::{SignedDuration, Timestamp};

const QUEUES: [&str; 2] = ["approved", "receipts-events"];

/// What the conformance bodies need besides the port: a way to read back.
#[async_trait]
trait Harness: Send + Sync {
    fn queue(&self) -> Arc<dyn Queue>;
    /// Receives and acknowledges everything currently in `name`.
    async fn drain(&self, name: &str) -> Vec<String>;
}

// ---------------------------------------------------------------- embedded

fn start() -> Timestamp {
    "2026-11-20T09:00:00Z".parse().unwrap()
}

struct Local {
    dir: tempfile::TempDir,
    clock: ManualClock,
    q: Arc<EmbeddedQueue>,
}

fn open_queue(path: &std::path::Path, clock: &ManualClock, max_receives: u32) -> EmbeddedQueue {
    let table = EmbeddedTable::open(path).unwrap();
    EmbeddedQueue::new(table.connection(), max_receives)
        .unwrap()
        .with_clock(Arc::new(clock.clone()))
}

fn local(max_receives: u32) -> Local {
    let dir = tempfile::tempdir().unwrap();
    let clock = ManualClock::at(start());
    let q = Arc::new(open_queue(
        &dir.path().join("data.db"),
        &clock,
        max_receives,
    ));
    Local { dir, clock, q }
}

impl Local {
    fn advance(&self, secs: i64) {
        self.clock.advance(SignedDuration::from_secs(secs));
    }
}

#[async_trait]
impl Harness for Local {
    fn queue(&self) -> Arc<dyn Queue> {
        self.q.clone()
    }

    async fn drain(&self, name: &str) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let got = self
                .q
                .receive(name, 10, Duration::from_secs(30))
                .await
                .unwrap();
            if got.is_empty() {
                return out;
            }
            for m in got {
                assert!(self.q.delete(&m.receipt).await.unwrap(), "ack failed");
                out.push(m.body);
            }
        }
    }
}

// ---------------------------------------------------------------- SQS (moto)

struct Remote {
    _moto: Moto,
    client: aws_sdk_sqs::Client,
    urls: HashMap<String, String>,
    q: Arc<SqsQueue>,
}

async fn remote() -> Remote {
    let moto = tokio::task::spawn_blocking(Moto::start)
        .await
        .unwrap()
        .unwrap();
    let client = aws_sdk_sqs::Client::new(&emulator_config(&moto.endpoint));
    let mut urls = HashMap::new();
    for name in QUEUES {
        let out = client.create_queue().queue_name(name).send().await.unwrap();
        urls.insert(name.to_owned(), out.queue_url().unwrap().to_owned());
    }
    let q = Arc::new(SqsQueue::new(client.clone(), urls.clone()));
    Remote {
        _moto: moto,
        client,
        urls,
        q,
    }
}

async fn sqs_receive(
    client: &aws_sdk_sqs::Client,
    url: &str,
    visibility: i32,
) -> Vec<(String, String)> {
    let out = client
        .receive_message()
        .queue_url(url)
        .max_number_of_messages(10)
        .wait_time_seconds(0)
        .visibility_timeout(visibility)
        .send()
        .await
        .unwrap();
    out.messages()
        .iter()
        .map(|m| {
            (
                m.body().unwrap_or_default().to_owned(),
                m.receipt_handle().unwrap_or_default().to_owned(),
            )
        })
        .collect()
}

#[async_trait]
impl Harness for Remote {
    fn queue(&self) -> Arc<dyn Queue> {
        self.q.clone()
    }

    async fn drain(&self, name: &str) -> Vec<String> {
        let url = &self.urls[name];
        let mut out = Vec::new();
        loop {
            let got = sqs_receive(&self.client, url, 30).await;
            if got.is_empty() {
                return out;
            }
            for (body, receipt) in got {
                self.client
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .unwrap();
                out.push(body);
            }
        }
    }
}

// ---------------------------------------------------------------- conformance bodies

/// send + send_batch of 25 (three SQS batches): every body comes back exactly once.
async fn every_message_exactly_once(h: &dyn Harness) {
    let q = h.queue();
    q.send("approved", r#"{"single":true}"#).await.unwrap();
    let batch: Vec<String> = (0..25)
        .map(|i| format!(r#"{{"n":{i},"note":"Grüße ✓ \"quoted\""}}"#))
        .collect();
    q.send_batch("approved", &batch).await.unwrap();

    let mut got = h.drain("approved").await;
    got.sort();
    let mut want = batch.clone();
    want.push(r#"{"single":true}"#.to_owned());
    want.sort();
    assert_eq!(got, want);
    assert!(
        h.drain("approved").await.is_empty(),
        "acknowledged messages came back"
    );
}

/// Logical queues do not leak into each other.
async fn queues_are_separate(h: &dyn Harness) {
    let q = h.queue();
    q.send("approved", "a").await.unwrap();
    q.send_batch("receipts-events", &["r1".to_owned(), "r2".to_owned()])
        .await
        .unwrap();
    assert_eq!(h.drain("approved").await, vec!["a"]);
    let mut r = h.drain("receipts-events").await;
    r.sort();
    assert_eq!(r, vec!["r1", "r2"]);
}

/// Empty bodies are refused before anything is sent; an empty batch is a no-op.
async fn empty_bodies_are_refused(h: &dyn Harness) {
    let q = h.queue();
    assert!(matches!(
        q.send("approved", "").await,
        Err(PortError::Refused(_))
    ));
    let mixed = vec!["ok".to_owned(), String::new()];
    assert!(matches!(
        q.send_batch("approved", &mixed).await,
        Err(PortError::Refused(_))
    ));
    q.send_batch("approved", &[]).await.unwrap();
    assert!(h.drain("approved").await.is_empty());
}

macro_rules! conformance {
    ($($case:ident),* $(,)?) => {
        mod embedded {
            $(
                #[tokio::test]
                async fn $case() {
                    let h = super::local(3);
                    super::$case(&h).await;
                }
            )*
        }
        mod sqs {
            $(
                #[tokio::test]
                async fn $case() {
                    let h = super::remote().await;
                    super::$case(&h).await;
                }
            )*
        }
    };
}

conformance!(
    every_message_exactly_once,
    queues_are_separate,
    empty_bodies_are_refused
);

// ---------------------------------------------------------------- embedded only

#[tokio::test]
async fn embedded_received_message_is_hidden_until_visibility_passes() {
    let h = local(5);
    h.q.send("approved", "m").await.unwrap();
    let first =
        h.q.receive("approved", 10, Duration::from_secs(30))
            .await
            .unwrap();
    assert_eq!(first.len(), 1);
    assert_eq!(first[0].receive_count, 1);

    assert!(h
        .q
        .receive("approved", 10, Duration::from_secs(30))
        .await
        .unwrap()
        .is_empty());
    h.advance(29);
    assert!(h
        .q
        .receive("approved", 10, Duration::from_secs(30))
        .await
        .unwrap()
        .is_empty());
    h.advance(2);
    let again =
        h.q.receive("approved", 10, Duration::from_secs(30))
            .await
            .unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].id, first[0].id);
    assert_eq!(again[0].body, "m");
    assert_eq!(again[0].receive_count, 2);

    // The first receipt went stale when the message was received again.
    assert!(!h.q.delete(&first[0].receipt).await.unwrap());
    assert!(h.q.delete(&again[0].receipt).await.unwrap());
    h.advance(60);
    assert!(h
        .q
        .receive("approved", 10, Duration::from_secs(30))
        .await
        .unwrap()
        .is_empty());
}

#[tokio::test]
async fn embedded_zero_visibility_does_not_duplicate_within_one_receive() {
    let h = local(5);
    h.q.send_batch("approved", &["a".to_owned(), "b".to_owned()])
        .await
        .unwrap();
    let got = h.q.receive("approved", 10, Duration::ZERO).await.unwrap();
    let bodies: Vec<&str> = got.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(bodies, vec!["a", "b"]);
}

#[tokio::test]
async fn embedded_poison_message_is_dead_lettered_after_max_receives() {
    let h = local(2);
    h.q.send_batch("approved", &["poison".to_owned(), "fine".to_owned()])
        .await
        .unwrap();
    let vis = Duration::from_secs(30);

    let round1 = h.q.receive("approved", 10, vis).await.unwrap();
    assert_eq!(round1.len(), 2);
    let fine = round1.iter().find(|m| m.body == "fine").unwrap();
    assert!(h.q.delete(&fine.receipt).await.unwrap());

    h.advance(31);
    let round2 = h.q.receive("approved", 10, vis).await.unwrap();
    assert_eq!(round2.len(), 1);
    assert_eq!(
        (round2[0].body.as_str(), round2[0].receive_count),
        ("poison", 2)
    );
    assert!(h.q.dead_letters("approved").await.unwrap().is_empty());

    // Received twice already: the third attempt moves it instead of delivering it.
    h.advance(31);
    assert!(h.q.receive("approved", 10, vis).await.unwrap().is_empty());
    let dead = h.q.dead_letters("approved").await.unwrap();
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].body, "poison");
    assert_eq!(dead[0].id, round2[0].id);
    assert_eq!(dead[0].receive_count, 2);
    assert_eq!(dead[0].created_at, start());

    h.advance(3600);
    assert!(h.q.receive("approved", 10, vis).await.unwrap().is_empty());

    // An operator can still consume the DLQ; it never dead-letters further.
    for _ in 0..4 {
        h.advance(31);
        let from_dlq = h.q.receive("approved-dlq", 10, vis).await.unwrap();
        assert_eq!(from_dlq.len(), 1);
        assert_eq!(from_dlq[0].body, "poison");
    }
}

#[tokio::test]
async fn embedded_messages_survive_reopening_the_database() {
    let h = local(5);
    let path = h.dir.path().join("data.db");
    h.q.send_batch(
        "approved",
        &["a".to_owned(), "b".to_owned(), "c".to_owned()],
    )
    .await
    .unwrap();
    let in_flight =
        h.q.receive("approved", 1, Duration::from_secs(30))
            .await
            .unwrap();
    assert_eq!(in_flight.len(), 1);
    assert_eq!(in_flight[0].body, "a");
    let Local { dir, clock, q } = h;
    drop(q);

    let reopened = open_queue(&path, &clock, 5);
    clock.advance(SignedDuration::from_secs(10));
    let got = reopened
        .receive("approved", 10, Duration::from_secs(30))
        .await
        .unwrap();
    let bodies: Vec<&str> = got.iter().map(|m| m.body.as_str()).collect();
    assert_eq!(
        bodies,
        vec!["b", "c"],
        "the in-flight message stayed hidden"
    );

    clock.advance(SignedDuration::from_secs(21));
    let got = reopened
        .receive("approved", 10, Duration::from_secs(30))
        .await
        .unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!((got[0].body.as_str(), got[0].receive_count), ("a", 2));
    drop(dir);
}

// ---------------------------------------------------------------- SQS only

#[tokio::test]
async fn sqs_unknown_logical_queue_is_not_found() {
    let h = remote().await;
    assert!(matches!(
        h.q.send("nope", "x").await,
        Err(PortError::NotFound(_))
    ));
    assert!(matches!(
        h.q.send_batch("nope", &["x".to_owned()]).await,
        Err(PortError::NotFound(_))
    ));
}

#[tokio::test]
async fn sqs_configured_but_missing_queue_is_not_found() {
    let h = remote().await;
    let ghost = h.urls["approved"].replace("approved", "ghost");
    let q = SqsQueue::new(
        h.client.clone(),
        HashMap::from([("ghost".to_owned(), ghost)]),
    );
    let err = q.send("ghost", "x").await.unwrap_err();
    assert!(matches!(err, PortError::NotFound(_)), "{err:?}");
}

#[tokio::test]
async fn sqs_redrive_policy_moves_message_to_dlq_after_max_receives() {
    let h = remote().await;
    let dlq_url = h
        .client
        .create_queue()
        .queue_name("approved-dlq")
        .send()
        .await
        .unwrap()
        .queue_url()
        .unwrap()
        .to_owned();
    let attrs = h
        .client
        .get_queue_attributes()
        .queue_url(&dlq_url)
        .attribute_names(aws_sdk_sqs::types::QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap();
    let dlq_arn =
        attrs.attributes().unwrap()[&aws_sdk_sqs::types::QueueAttributeName::QueueArn].clone();
    let policy = serde_json::json!({ "deadLetterTargetArn": dlq_arn, "maxReceiveCount": "2" });
    h.client
        .set_queue_attributes()
        .queue_url(&h.urls["approved"])
        .attributes(
            aws_sdk_sqs::types::QueueAttributeName::RedrivePolicy,
            policy.to_string(),
        )
        .send()
        .await
        .unwrap();

    h.q.send("approved", "poison").await.unwrap();
    for attempt in 1..=2 {
        let got = sqs_receive(&h.client, &h.urls["approved"], 0).await;
        assert_eq!(got.len(), 1, "attempt {attempt}");
        assert_eq!(got[0].0, "poison");
    }
    assert!(sqs_receive(&h.client, &h.urls["approved"], 0)
        .await
        .is_empty());
    let dead = sqs_receive(&h.client, &dlq_url, 30).await;
    assert_eq!(dead.len(), 1);
    assert_eq!(dead[0].0, "poison");
}
