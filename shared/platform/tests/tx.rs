//! The transaction builder over the embedded store: a failed condition is the
//! meaning pushed with the write that failed, and nothing is written.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use agencyops_domain::Role;
use agencyops_platform::clock::ManualClock;
use agencyops_platform::{ApiError, Caller, Conflict, Fails, Services, Tx, TxError};
use agencyops_store::audit::{AuditAction, AuditEntry};
use agencyops_store::record::{self, Record};
use agencyops_store::records::LockDate;
use agencyops_store::{
    Condition, EmbeddedTable, Index, Item, Key, Page, Query, StoreError, StoreResult, Table, Write,
    MAX_TRANSACT_ITEMS,
};
use axum::http::StatusCode;
use jiff::Timestamp;
use serde_json::{json, Value};

const TENANT: &str = "acme";

struct Harness {
    services: Services,
    table: Arc<EmbeddedTable>,
    _dir: tempfile::TempDir,
}

fn harness() -> Harness {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("s.db");
    let clock = ManualClock::at(Timestamp::from_second(1_800_000_000).expect("ts"));
    let (services, _queue) = Services::embedded(
        EmbeddedTable::open(&path).expect("store"),
        Arc::new(clock),
        b"k".to_vec(),
    )
    .expect("services");
    // A second handle on the same file, to look at what landed.
    let table = Arc::new(EmbeddedTable::open(&path).expect("store"));
    Harness {
        services,
        table,
        _dir: dir,
    }
}

fn item(pk: &str, sk: &str) -> Item {
    match json!({"pk": pk, "sk": sk, "version": 1}) {
        Value::Object(m) => m,
        _ => unreachable!(),
    }
}

fn admin() -> Caller {
    Caller {
        tenant: TENANT.into(),
        person: "ana".into(),
        role: Role::Admin,
        client: None,
    }
}

fn detail(e: &ApiError) -> String {
    match e {
        ApiError::Conflict(Conflict::Changed(why)) => why.clone(),
        other => panic!("expected a concurrent change, got {other:?}"),
    }
}

#[tokio::test]
async fn a_failed_condition_is_the_meaning_of_the_write_that_failed() {
    let h = harness();
    let guards: Vec<Key> = (0..4)
        .map(|i| Key::new(format!("T#{TENANT}#G"), format!("G#{i}")))
        .collect();
    for k in &guards {
        h.table
            .transact(vec![Write::put(item(&k.pk, &k.sk))])
            .await
            .unwrap();
    }
    for failing in 0..guards.len() {
        // Every guard holds but one: the one whose item went missing.
        h.table
            .transact(vec![Write::Delete {
                key: guards[failing].clone(),
                condition: None,
            }])
            .await
            .unwrap();
        let mut tx = Tx::new(TENANT);
        let landed = Key::new(format!("T#{TENANT}#N"), format!("N#{failing}"));
        tx.push(Write::put(item(&landed.pk, &landed.sk)), Fails::Retry);
        for (i, k) in guards.iter().enumerate() {
            tx.check(
                k.clone(),
                Condition::Exists,
                Fails::changed(format!("guard {i} moved")),
            );
        }
        let err = tx.commit(&h.services).await.unwrap_err();
        assert_eq!(err.status(), StatusCode::CONFLICT);
        assert_eq!(detail(&err), format!("guard {failing} moved"));
        assert_eq!(h.table.get(&landed).await.unwrap(), None, "nothing written");
        h.table
            .transact(vec![Write::put(item(
                &guards[failing].pk,
                &guards[failing].sk,
            ))])
            .await
            .unwrap();
    }
}

async fn stored_lock(h: &Harness) -> LockDate {
    let mut lock = LockDate::none(h.services.clock.now());
    record::bump(&mut lock, h.services.clock.now());
    let mut tx = Tx::new(TENANT);
    tx.create(&lock, Fails::Retry).unwrap();
    tx.commit(&h.services).await.unwrap();
    lock
}

#[tokio::test]
async fn a_stale_version_is_412_with_if_match_and_409_without() {
    let h = harness();
    let lock = stored_lock(&h).await;
    let stale = || Fails::stale("the lock date changed; reload");
    // Someone else wrote version 2 meanwhile.
    let mut theirs = lock.clone();
    let expected = record::bump(&mut theirs, h.services.clock.now());
    let mut tx = Tx::new(TENANT);
    tx.replace(&theirs, expected, Fails::Retry).unwrap();
    tx.commit(&h.services).await.unwrap();

    let mut mine = lock.clone();
    let expected = record::bump(&mut mine, h.services.clock.now());
    assert_eq!((expected, mine.version), (1, 2));
    let mut tx = Tx::new(TENANT).if_match(true);
    tx.replace(&mine, expected, stale()).unwrap();
    let err = tx.commit(&h.services).await.unwrap_err();
    assert!(matches!(err, ApiError::PreconditionFailed), "{err:?}");
    assert_eq!(err.status(), StatusCode::PRECONDITION_FAILED);

    let mut tx = Tx::new(TENANT).if_match(false);
    tx.replace(&mine, expected, stale()).unwrap();
    let err = tx.commit(&h.services).await.unwrap_err();
    assert_eq!(err.status(), StatusCode::CONFLICT);
    assert_eq!(detail(&err), "the lock date changed; reload");

    // If-Match changes nothing for a write that is not the caller's record.
    let mut tx = Tx::new(TENANT).if_match(true);
    tx.replace(&mine, expected, Fails::changed("moved"))
        .unwrap();
    let err = tx.commit(&h.services).await.unwrap_err();
    assert_eq!(detail(&err), "moved");
}

#[tokio::test]
async fn a_taken_key_is_already_exists_and_a_reason_is_its_own_type() {
    let h = harness();
    let lock = stored_lock(&h).await;
    let mut tx = Tx::new(TENANT);
    tx.create(&lock, Fails::AlreadyExists(LockDate::KIND))
        .unwrap();
    let err = tx.commit(&h.services).await.unwrap_err();
    assert!(matches!(
        err,
        ApiError::Conflict(Conflict::AlreadyExists("lock_date"))
    ));

    let mut tx = Tx::new(TENANT);
    tx.create(&lock, Fails::With(Conflict::TimerRunning))
        .unwrap();
    let err = tx.commit(&h.services).await.unwrap_err();
    assert!(matches!(err, ApiError::Conflict(Conflict::TimerRunning)));
}

/// Counts what reaches the store, and can lose every transaction to another writer.
struct Counting {
    inner: EmbeddedTable,
    transacts: AtomicUsize,
    contended: bool,
}

#[async_trait::async_trait]
impl Table for Counting {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.inner.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        self.inner.batch_get(keys).await
    }
    async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.inner.query(query).await
    }
    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        self.transacts.fetch_add(1, Ordering::SeqCst);
        if self.contended {
            return Err(StoreError::Conflict);
        }
        self.inner.transact(writes).await
    }
    async fn increment(&self, key: &Key, attr: &str, by: i64) -> StoreResult<i64> {
        self.inner.increment(key, attr, by).await
    }
}

fn counting(contended: bool) -> (Counting, tempfile::TempDir) {
    let dir = tempfile::tempdir().expect("tempdir");
    let inner = EmbeddedTable::open(&dir.path().join("s.db")).expect("store");
    let table = Counting {
        inner,
        transacts: AtomicUsize::new(0),
        contended,
    };
    (table, dir)
}

#[tokio::test]
async fn more_writes_than_one_transaction_takes_are_refused_before_any_io() {
    let (table, _dir) = counting(false);
    let mut tx: Tx<usize> = Tx::new(TENANT);
    for i in 0..=MAX_TRANSACT_ITEMS {
        tx.push(Write::put(item("T#acme#X", &format!("X#{i}"))), i);
    }
    assert_eq!(tx.len(), MAX_TRANSACT_ITEMS + 1);
    let err = tx.run(&table).await.unwrap_err();
    assert_eq!(
        err,
        TxError::Store(StoreError::TooManyWrites(MAX_TRANSACT_ITEMS + 1))
    );
    assert_eq!(
        table.transacts.load(Ordering::SeqCst),
        0,
        "nothing was sent"
    );
    let q = Query::new(Index::Table, "T#acme#X");
    assert!(table.inner.query(&q).await.unwrap().items.is_empty());

    // Exactly the limit goes through, in one call.
    let mut tx: Tx<usize> = Tx::new(TENANT);
    for i in 0..MAX_TRANSACT_ITEMS {
        tx.push(Write::put(item("T#acme#X", &format!("X#{i}"))), i);
    }
    tx.run(&table).await.unwrap();
    assert_eq!(table.transacts.load(Ordering::SeqCst), 1);
}

#[tokio::test]
async fn losing_to_another_transaction_means_what_the_builder_was_told() {
    let (table, _dir) = counting(true);
    let mut tx: Tx<&str> = Tx::new(TENANT);
    tx.push(Write::put(item("T#acme#X", "X#1")), "condition");
    assert_eq!(
        tx.run(&table).await.unwrap_err(),
        TxError::Store(StoreError::Conflict)
    );
    let mut tx: Tx<&str> = Tx::new(TENANT).contended("lost the race");
    tx.push(Write::put(item("T#acme#X", "X#1")), "condition");
    assert_eq!(
        tx.run(&table).await.unwrap_err(),
        TxError::Failed("lost the race")
    );
}

#[tokio::test]
async fn the_audit_write_names_the_caller_the_action_and_both_states() {
    let h = harness();
    let before = stored_lock(&h).await;
    let mut after = before.clone();
    after.set_by = Some("ana".into());
    let expected = record::bump(&mut after, h.services.clock.now());
    let mut tx = Tx::new(TENANT);
    tx.replace(&after, expected, Fails::Retry)
        .unwrap()
        .audit(
            &h.services,
            &admin(),
            AuditAction::Lock,
            Some(&before),
            Some(&after),
            &after.id,
        )
        .unwrap();
    tx.commit(&h.services).await.unwrap();
    let (page, _) = agencyops_store::audit::read_log(&*h.table, TENANT, None, 50)
        .await
        .unwrap();
    let entries: Vec<AuditEntry> = page
        .into_iter()
        .filter_map(|(_, item)| AuditEntry::read(item))
        .collect::<StoreResult<_>>()
        .unwrap();
    assert_eq!(entries.len(), 1);
    let e = &entries[0];
    assert_eq!(
        (e.actor.as_str(), e.actor_role.as_str(), e.action),
        ("ana", "admin", AuditAction::Lock)
    );
    assert_eq!(
        (e.entity_kind.as_str(), e.entity_id.as_str()),
        ("lock_date", "lock")
    );
    assert_eq!(e.before.as_ref().unwrap()["version"], 1);
    assert_eq!(e.after.as_ref().unwrap()["version"], 2);
    assert_eq!(e.after.as_ref().unwrap()["set_by"], "ana");
    assert_eq!(e.at, AuditEntry::stamp(h.services.clock.now()));
}
