//! One conformance suite for the Table port, run against the embedded SQLite
//! adapter and against the DynamoDB adapter on a private moto_server.

use std::sync::Arc;

use agencyops_store::table::*;
use agencyops_store::{DynamoTable, EmbeddedTable};
use agencyops_testkit::Moto;
use serde_json::{json, Value};

fn item(v: Value) -> Item {
    match v {
        Value::Object(m) => m,
        _ => panic!("test item must be an object"),
    }
}

fn sk_of(i: &Item) -> String {
    i[SK].as_str().map(str::to_owned).unwrap_or_default()
}

async fn drain(t: &dyn Table, mut q: Query) -> (Vec<Item>, usize) {
    let mut all = Vec::new();
    let mut pages = 0;
    loop {
        let page = t.query(&q).await.expect("query");
        pages += 1;
        all.extend(page.items);
        match page.next {
            Some(n) => q.start_after = Some(n),
            None => return (all, pages),
        }
        assert!(pages < 1000, "pagination does not end");
    }
}

pub async fn round_trip(t: Arc<dyn Table>) {
    let k = Key::new("T#a#X", "A");
    assert_eq!(t.get(&k).await.unwrap(), None);
    let it = item(
        json!({"pk": "T#a#X", "sk": "A", "name": "Ana", "n": 3, "nested": {"tags": ["x"]}, "none": null}),
    );
    t.transact(vec![Write::put_new(it.clone())]).await.unwrap();
    assert_eq!(t.get(&k).await.unwrap(), Some(it));
}

pub async fn failed_condition_changes_nothing_and_names_the_item(t: Arc<dyn Table>) {
    let existing = item(json!({"pk": "T#a#C", "sk": "1", "version": 1, "v": "old"}));
    t.transact(vec![Write::put(existing.clone())])
        .await
        .unwrap();

    let writes = vec![
        Write::put_new(item(json!({"pk": "T#a#C", "sk": "2"}))),
        Write::Add {
            key: Key::new("T#a#C", "counter"),
            attr: "n".into(),
            by: 1,
        },
        Write::put_if(
            item(json!({"pk": "T#a#C", "sk": "1", "version": 2, "v": "new"})),
            Condition::VersionIs(7),
        ),
    ];
    let err = t.transact(writes).await.unwrap_err();
    assert_eq!(
        err,
        StoreError::ConditionFailed {
            index: 2,
            key: Key::new("T#a#C", "1")
        }
    );
    assert_eq!(t.get(&Key::new("T#a#C", "2")).await.unwrap(), None);
    assert_eq!(t.get(&Key::new("T#a#C", "counter")).await.unwrap(), None);
    assert_eq!(
        t.get(&Key::new("T#a#C", "1")).await.unwrap(),
        Some(existing)
    );

    // A single conditional write fails the same way.
    let err = t
        .transact(vec![Write::put_new(item(
            json!({"pk": "T#a#C", "sk": "1"}),
        ))])
        .await
        .unwrap_err();
    assert_eq!(
        err,
        StoreError::ConditionFailed {
            index: 0,
            key: Key::new("T#a#C", "1")
        }
    );
}

pub async fn conditions_hold_when_they_should(t: Arc<dyn Table>) {
    let k = Key::new("T#a#V", "1");
    t.transact(vec![Write::put_new(item(
        json!({"pk": "T#a#V", "sk": "1", "version": 1, "state": "draft"}),
    ))])
    .await
    .unwrap();
    t.transact(vec![
        Write::put_if(
            item(json!({"pk": "T#a#V", "sk": "1", "version": 2, "state": "issued"})),
            Condition::VersionIs(1),
        ),
        Write::put_new(item(json!({"pk": "T#a#V", "sk": "2"}))),
    ])
    .await
    .unwrap();
    assert_eq!(t.get(&k).await.unwrap().unwrap()["state"], "issued");
    t.transact(vec![
        Write::Check {
            key: k.clone(),
            condition: Condition::AttrEquals("state".into(), json!("issued")),
        },
        Write::Delete {
            key: Key::new("T#a#V", "2"),
            condition: Some(Condition::Exists),
        },
    ])
    .await
    .unwrap();
    assert_eq!(t.get(&Key::new("T#a#V", "2")).await.unwrap(), None);
    let err = t
        .transact(vec![Write::Delete {
            key: Key::new("T#a#V", "2"),
            condition: Some(Condition::Exists),
        }])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed { index: 0, .. }));
    let err = t
        .transact(vec![Write::Check {
            key: k.clone(),
            condition: Condition::AttrEquals("state".into(), json!("draft")),
        }])
        .await
        .unwrap_err();
    assert!(matches!(err, StoreError::ConditionFailed { index: 0, .. }));
}

pub async fn more_than_100_writes_are_refused_before_sending(t: Arc<dyn Table>) {
    let writes: Vec<Write> = (0..101)
        .map(|i| Write::put(item(json!({"pk": "T#a#BIG", "sk": format!("{i:03}")}))))
        .collect();
    assert_eq!(
        t.transact(writes).await.unwrap_err(),
        StoreError::TooManyWrites(101)
    );
    let (items, _) = drain(&*t, Query::new(Index::Table, "T#a#BIG")).await;
    assert!(items.is_empty());

    let twice = vec![
        Write::put(item(json!({"pk": "T#a#D", "sk": "1"}))),
        Write::Delete {
            key: Key::new("T#a#D", "1"),
            condition: None,
        },
    ];
    assert_eq!(
        t.transact(twice).await.unwrap_err(),
        StoreError::DuplicateKey(Key::new("T#a#D", "1"))
    );

    // Exactly 100 is allowed and lands whole.
    let writes: Vec<Write> = (0..100)
        .map(|i| Write::put_new(item(json!({"pk": "T#a#BIG", "sk": format!("{i:03}")}))))
        .collect();
    t.transact(writes).await.unwrap();
    let (items, _) = drain(&*t, Query::new(Index::Table, "T#a#BIG")).await;
    assert_eq!(items.len(), 100);
}

pub async fn pages_cover_everything_once_in_order(t: Arc<dyn Table>) {
    let mut writes = Vec::new();
    for i in 0..25 {
        writes.push(Write::put(item(
            json!({"pk": "T#a#P", "sk": format!("E#{i:02}")}),
        )));
    }
    writes.push(Write::put(item(json!({"pk": "T#a#P", "sk": "META"}))));
    writes.push(Write::put(item(json!({"pk": "T#a#OTHER", "sk": "E#00"}))));
    t.transact(writes).await.unwrap();

    let q = Query::new(Index::Table, "T#a#P")
        .sk(SkCondition::BeginsWith("E#".into()))
        .limit(10);
    let (items, pages) = drain(&*t, q.clone()).await;
    let got: Vec<String> = items.iter().map(sk_of).collect();
    let want: Vec<String> = (0..25).map(|i| format!("E#{i:02}")).collect();
    assert_eq!(got, want);
    assert!(pages >= 3, "expected several pages, got {pages}");

    let (items, _) = drain(&*t, q.clone().backward()).await;
    let got: Vec<String> = items.iter().map(sk_of).collect();
    let mut rev = want.clone();
    rev.reverse();
    assert_eq!(got, rev);

    let between =
        Query::new(Index::Table, "T#a#P").sk(SkCondition::Between("E#05".into(), "E#07".into()));
    let (items, _) = drain(&*t, between).await;
    assert_eq!(
        items.iter().map(sk_of).collect::<Vec<_>>(),
        ["E#05", "E#06", "E#07"]
    );

    // A page that exactly fills the limit ends the list on every adapter.
    let (_, pages) = drain(
        &*t,
        Query::new(Index::Table, "T#a#P")
            .sk(SkCondition::BeginsWith("E#".into()))
            .limit(25),
    )
    .await;
    assert_eq!(pages, 1, "a full last page must not promise more");
    let (_, pages) = drain(
        &*t,
        Query::new(Index::Table, "T#a#P")
            .sk(SkCondition::BeginsWith("E#".into()))
            .limit(5),
    )
    .await;
    assert_eq!(pages, 5);

    let at_least = Query::new(Index::Table, "T#a#P").sk(SkCondition::AtLeast("E#23".into()));
    let (items, _) = drain(&*t, at_least).await;
    assert_eq!(
        items.iter().map(sk_of).collect::<Vec<_>>(),
        ["E#23", "E#24", "META"]
    );

    let at_most = Query::new(Index::Table, "T#a#P").sk(SkCondition::AtMost("E#01".into()));
    let (items, _) = drain(&*t, at_most).await;
    assert_eq!(
        items.iter().map(sk_of).collect::<Vec<_>>(),
        ["E#00", "E#01"]
    );
}

/// Pages that end among items sharing an index sort key, inside a prefix,
/// both ways: each item of the range once, in index order, none outside it.
/// (The embedded adapter starts each page from the cursor's own position.)
pub async fn index_pages_resume_inside_a_range_among_equal_sort_keys(t: Arc<dyn Table>) {
    let mut writes = Vec::new();
    for i in 0..30 {
        writes.push(Write::put(item(json!({
            "pk": format!("T#a#ENTRY#{i:02}"), "sk": "META",
            "gsi1pk": "T#a#WIP", "gsi1sk": format!("P#1#{}", i / 10),
        }))));
    }
    for (pk, gsi1sk) in [("T#a#ENTRY#low", "P#0#9"), ("T#a#ENTRY#high", "P#2#0")] {
        writes.push(Write::put(item(
            json!({"pk": pk, "sk": "META", "gsi1pk": "T#a#WIP", "gsi1sk": gsi1sk}),
        )));
    }
    t.transact(writes).await.unwrap();
    let range = Query::new(Index::Gsi1, "T#a#WIP")
        .sk(SkCondition::BeginsWith("P#1#".into()))
        .limit(4);
    for forward in [true, false] {
        let q = if forward {
            range.clone()
        } else {
            range.clone().backward()
        };
        let (items, pages) = drain(&*t, q).await;
        let keys: Vec<String> = items
            .iter()
            .map(|i| i["gsi1sk"].as_str().unwrap_or("").to_owned())
            .collect();
        let mut ordered = keys.clone();
        ordered.sort();
        if !forward {
            ordered.reverse();
        }
        assert_eq!(keys, ordered, "index order, forward = {forward}");
        let mut pks: Vec<String> = items
            .iter()
            .map(|i| i[PK].as_str().unwrap_or("").to_owned())
            .collect();
        pks.sort();
        let want: Vec<String> = (0..30).map(|i| format!("T#a#ENTRY#{i:02}")).collect();
        assert_eq!(
            pks, want,
            "each item of the range once, forward = {forward}"
        );
        assert!(pages >= 8, "{pages} pages of 4");
    }
}

pub async fn gsi_queries_page_and_skip_items_without_index_keys(t: Arc<dyn Table>) {
    let mut writes = Vec::new();
    for i in 0..12 {
        writes.push(Write::put(item(json!({
            "pk": format!("T#a#PROJECT#{i:02}"), "sk": "META",
            "gsi1pk": "T#a#PROJECTS", "gsi1sk": format!("PROJECT#{i:02}"),
            "gsi2pk": if i % 2 == 0 { "T#a#CLIENT#even" } else { "T#a#CLIENT#odd" },
            "gsi2sk": format!("PROJECT#{i:02}"),
        }))));
    }
    // Same index sort key on two items: both must still come back exactly once.
    writes.push(Write::put(item(json!({"pk": "T#a#PROJECT#dup", "sk": "META", "gsi1pk": "T#a#PROJECTS", "gsi1sk": "PROJECT#05"}))));
    writes.push(Write::put(item(
        json!({"pk": "T#a#PROJECT#none", "sk": "META"}),
    )));
    t.transact(writes).await.unwrap();

    let (items, pages) = drain(&*t, Query::new(Index::Gsi1, "T#a#PROJECTS").limit(5)).await;
    assert_eq!(items.len(), 13);
    assert!(pages >= 3);
    let mut pks: Vec<String> = items
        .iter()
        .map(|i| i[PK].as_str().unwrap_or("").to_owned())
        .collect();
    pks.sort();
    pks.dedup();
    assert_eq!(pks.len(), 13, "an item came back twice or not at all");

    let (items, _) = drain(
        &*t,
        Query::new(Index::Gsi2, "T#a#CLIENT#odd")
            .limit(2)
            .backward(),
    )
    .await;
    let got: Vec<&str> = items
        .iter()
        .map(|i| i["gsi2sk"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        got,
        [
            "PROJECT#11",
            "PROJECT#09",
            "PROJECT#07",
            "PROJECT#05",
            "PROJECT#03",
            "PROJECT#01"
        ]
    );

    let (items, _) = drain(
        &*t,
        Query::new(Index::Gsi2, "T#a#CLIENT#even").sk(SkCondition::BeginsWith("PROJECT#1".into())),
    )
    .await;
    assert_eq!(items.len(), 1);
}

/// The third index is sparse: an item is in it exactly while it carries the
/// GSI3 attributes, so rewriting it without them drops it with no other write.
pub async fn the_third_index_holds_only_items_that_carry_its_keys(t: Arc<dyn Table>) {
    let mut writes = Vec::new();
    for i in 0..6 {
        writes.push(Write::put(item(json!({
            "pk": format!("T#a#INVOICE#{i}"), "sk": "META",
            "gsi3pk": "T#a#ARDUE", "gsi3sk": format!("2026-12-{:02}#{i}", 10 + i),
        }))));
    }
    writes.push(Write::put(item(
        json!({"pk": "T#a#INVOICE#paid", "sk": "META"}),
    )));
    t.transact(writes).await.unwrap();
    let due = |upto: &str| {
        Query::new(Index::Gsi3, "T#a#ARDUE")
            .sk(SkCondition::AtMost(upto.into()))
            .limit(2)
    };
    let (items, _) = drain(&*t, due("2026-12-12~")).await;
    assert_eq!(
        items
            .iter()
            .map(|i| i[PK].as_str().unwrap_or(""))
            .collect::<Vec<_>>(),
        ["T#a#INVOICE#0", "T#a#INVOICE#1", "T#a#INVOICE#2"]
    );
    // Closed: written again without its index keys, it leaves the index.
    t.transact(vec![Write::put(item(
        json!({"pk": "T#a#INVOICE#1", "sk": "META"}),
    ))])
    .await
    .unwrap();
    let (items, _) = drain(&*t, due("2026-12-31~")).await;
    assert_eq!(items.len(), 5);
    assert!(items.iter().all(|i| i[PK] != "T#a#INVOICE#1"));
}

pub async fn concurrent_increments_lose_nothing(t: Arc<dyn Table>) {
    let key = Key::new("T#a#COUNTER", "INVOICE#2026");
    // The counter exists before the race: moto (unlike DynamoDB) can let two
    // concurrent ADDs that both create the item each return 1, which would make
    // this test fail on the emulator, not on the adapter.
    assert_eq!(t.increment(&key, "next", 1).await.unwrap(), 1);
    let mut handles = Vec::new();
    for _ in 0..8 {
        let t = t.clone();
        let key = key.clone();
        handles.push(tokio::spawn(async move {
            let mut seen = Vec::new();
            for _ in 0..5 {
                seen.push(t.increment(&key, "next", 1).await.unwrap());
            }
            seen
        }));
    }
    let mut all = Vec::new();
    for h in handles {
        all.extend(h.await.unwrap());
    }
    all.sort();
    assert_eq!(
        all,
        (2..=41).collect::<Vec<i64>>(),
        "every increment returns a distinct value"
    );
    assert_eq!(t.get(&key).await.unwrap().unwrap()["next"], json!(41));
}

pub async fn oversized_items_are_refused_before_sending(t: Arc<dyn Table>) {
    let big = "x".repeat(MAX_ITEM_BYTES);
    let err = t
        .transact(vec![
            Write::put(item(json!({"pk": "T#a#S", "sk": "small"}))),
            Write::put(item(json!({"pk": "T#a#S", "sk": "big", "notes": big}))),
        ])
        .await
        .unwrap_err();
    assert_eq!(err, StoreError::ItemTooLarge(Key::new("T#a#S", "big")));
    assert_eq!(t.get(&Key::new("T#a#S", "small")).await.unwrap(), None);
    // Just under the limit is fine.
    let ok = "x".repeat(MAX_ITEM_BYTES - 200);
    t.transact(vec![Write::put(item(
        json!({"pk": "T#a#S", "sk": "ok", "notes": ok}),
    ))])
    .await
    .unwrap();
}

pub async fn batch_get_returns_what_exists(t: Arc<dyn Table>) {
    let writes = (0..5)
        .map(|i| Write::put(item(json!({"pk": "T#a#B", "sk": format!("{i}")}))))
        .collect();
    t.transact(writes).await.unwrap();
    let keys: Vec<Key> = (0..7).map(|i| Key::new("T#a#B", format!("{i}"))).collect();
    let mut got: Vec<String> = t
        .batch_get(&keys)
        .await
        .unwrap()
        .iter()
        .map(sk_of)
        .collect();
    got.sort();
    assert_eq!(got, ["0", "1", "2", "3", "4"]);

    // Any number of keys (DynamoDB takes 100 a call), each item once even when
    // its key is asked for twice.
    let writes: Vec<Write> = (0..60)
        .map(|i| Write::put(item(json!({"pk": "T#a#C", "sk": format!("{i:03}")}))))
        .collect();
    t.transact(writes).await.unwrap();
    let more: Vec<Write> = (60..150)
        .map(|i| Write::put(item(json!({"pk": "T#a#C", "sk": format!("{i:03}")}))))
        .collect();
    t.transact(more).await.unwrap();
    let mut keys: Vec<Key> = (0..150)
        .map(|i| Key::new("T#a#C", format!("{i:03}")))
        .collect();
    keys.push(Key::new("T#a#C", "007"));
    let got = t.batch_get(&keys).await.unwrap();
    assert_eq!(got.len(), 150);
}

/// A start key from another partition, another sort-key range or without its
/// index key is refused the same typed way by both adapters, before DynamoDB
/// could answer it with a ValidationException.
pub async fn start_keys_outside_the_query_are_refused(t: Arc<dyn Table>) {
    let mut writes = Vec::new();
    for i in 0..4 {
        writes.push(Write::put(item(json!({
            "pk": "T#a#P", "sk": format!("E#{i}"), "gsi1pk": "T#a#G", "gsi1sk": format!("E#{i}")
        }))));
    }
    writes.push(Write::put(item(json!({"pk": "T#a#P", "sk": "X#0"}))));
    t.transact(writes).await.unwrap();
    let q = Query::new(Index::Table, "T#a#P")
        .sk(SkCondition::BeginsWith("E#".into()))
        .limit(2);
    let first = t.query(&q).await.unwrap();
    let next = first.next.clone().expect("a second page");
    assert!(next.belongs_to(&q));
    let second = t.query(&q.clone().start_after(Some(next))).await.unwrap();
    assert_eq!(
        second.items.iter().map(sk_of).collect::<Vec<_>>(),
        ["E#2", "E#3"]
    );

    let at = |pk: &str, sk: &str| PageKey {
        pk: pk.into(),
        sk: sk.into(),
        ipk: None,
        isk: None,
    };
    for (query, start) in [
        (q.clone(), at("T#a#OTHER", "E#1")),
        (q.clone(), at("T#a#P", "X#0")),
        (
            Query::new(Index::Table, "T#a#P").sk(SkCondition::Between("E#1".into(), "E#2".into())),
            at("T#a#P", "E#3"),
        ),
        (
            Query::new(Index::Table, "T#a#P").sk(SkCondition::AtLeast("E#2".into())),
            at("T#a#P", "E#1"),
        ),
        (
            Query::new(Index::Table, "T#a#P").sk(SkCondition::AtMost("E#1".into())),
            at("T#a#P", "E#2"),
        ),
        (Query::new(Index::Gsi1, "T#a#G"), at("T#a#P", "E#1")),
        (
            Query::new(Index::Gsi1, "T#a#G"),
            PageKey {
                ipk: Some("T#a#OTHER".into()),
                isk: Some("E#1".into()),
                ..at("T#a#P", "E#1")
            },
        ),
    ] {
        let err = t
            .query(&query.clone().start_after(Some(start.clone())))
            .await
            .unwrap_err();
        assert_eq!(err, StoreError::StartOutsideQuery, "{start:?} on {query:?}");
    }
}

/// The audit trail spread over its shards (and the unsharded partition older
/// entries are in) pages exactly as one partition would: every entry once,
/// newest first, nothing of another tenant.
pub async fn the_audit_trail_reads_the_same_over_its_shards(t: Arc<dyn Table>) {
    use agencyops_store::audit::{read_log, Actor, AuditAction, AuditEntry};
    use agencyops_store::keys;
    let base = jiff::Timestamp::from_second(1_795_176_000).unwrap();
    let entry = |n: i64| {
        // Every third pair shares an instant: the id orders them.
        let at = base + jiff::SignedDuration::from_secs(n - n % 3);
        AuditEntry::new(
            format!("0190aa{n:06}"),
            at,
            Actor {
                id: "ana",
                role: "admin",
            },
            AuditAction::Update,
            ("project", "p1"),
            None,
            None,
        )
    };
    let mut writes = Vec::new();
    for n in 0..70 {
        let mut w = entry(n).write("a").unwrap();
        if n < 10 {
            // Written before the trail was sharded.
            if let Write::Put { item, .. } = &mut w {
                item.insert(PK.into(), json!(keys::audit_log("a")));
            }
        }
        writes.push(w);
    }
    writes.push(entry(999).write("b").unwrap());
    for chunk in writes.chunks(25) {
        t.transact(chunk.to_vec()).await.unwrap();
    }
    let mut expected: Vec<String> = (0..70)
        .map(|n| {
            let e = entry(n);
            keys::audit_sort(&e.at, &e.id)
        })
        .collect();
    expected.sort_by(|a, b| b.cmp(a));

    let mut seen = Vec::new();
    let mut before: Option<String> = None;
    loop {
        let (page, more) = read_log(&*t, "a", before.as_deref(), 7).await.unwrap();
        assert!(page.len() <= 7);
        seen.extend(page.iter().map(|(sk, _)| sk.clone()));
        if !more {
            break;
        }
        before = page.last().map(|(sk, _)| sk.clone());
        assert!(seen.len() < 200, "paging does not end");
    }
    assert_eq!(seen, expected, "newest first, each once, as one partition");
    let used: std::collections::BTreeSet<u32> = (10..70)
        .map(|n| keys::audit_shard_of(&format!("0190aa{n:06}")))
        .collect();
    assert!(
        used.len() >= 6,
        "60 entries spread over the shards: {used:?}"
    );
    let mut per_shard = 0;
    for n in 0..keys::AUDIT_LOG_SHARDS {
        let (items, _) = drain(&*t, Query::new(Index::Table, keys::audit_log_shard("a", n))).await;
        per_shard += items.len();
    }
    assert_eq!(per_shard, 60, "new entries are written to the shards");
}

/// Concurrent transactions share commits on the embedded adapter: the ones
/// whose condition fails must fail alone, with nothing of theirs written,
/// while every other one commits in full.
pub async fn concurrent_transactions_fail_alone(t: Arc<dyn Table>) {
    const N: usize = 24;
    for i in (1..N).step_by(2) {
        t.transact(vec![Write::put(item(
            json!({"pk": "T#a#G", "sk": format!("k-{i:02}"), "v": "old"}),
        ))])
        .await
        .unwrap();
    }
    let start = Arc::new(tokio::sync::Barrier::new(N));
    let mut handles = Vec::new();
    for i in 0..N {
        let (t, start) = (t.clone(), start.clone());
        handles.push(tokio::spawn(async move {
            start.wait().await;
            t.transact(vec![
                Write::put(item(json!({"pk": "T#a#G", "sk": format!("side-{i:02}")}))),
                Write::put_new(item(
                    json!({"pk": "T#a#G", "sk": format!("k-{i:02}"), "v": "new"}),
                )),
            ])
            .await
        }));
    }
    for (i, h) in handles.into_iter().enumerate() {
        let result = h.await.unwrap();
        let key = Key::new("T#a#G", format!("k-{i:02}"));
        let side = t
            .get(&Key::new("T#a#G", format!("side-{i:02}")))
            .await
            .unwrap();
        let stored = t.get(&key).await.unwrap().map(|it| it["v"].clone());
        if i % 2 == 1 {
            assert_eq!(
                result,
                Err(StoreError::ConditionFailed { index: 1, key }),
                "{i}"
            );
            assert_eq!(side, None, "a failed transaction writes nothing ({i})");
            assert_eq!(stored, Some(json!("old")), "{i}");
        } else {
            assert_eq!(result, Ok(()), "{i}");
            assert!(
                side.is_some(),
                "a transaction beside failed ones commits in full ({i})"
            );
            assert_eq!(stored, Some(json!("new")), "{i}");
        }
    }
    let (all, _) = drain(&*t, Query::new(Index::Table, "T#a#G")).await;
    assert_eq!(
        all.len(),
        N + N / 2,
        "N keys and a side item per committed transaction"
    );
}

/// A write that was acknowledged is what the very next read returns, from
/// any task: by key, in its partition, and a counter's new value.
pub async fn acknowledged_writes_are_read_at_once(t: Arc<dyn Table>) {
    let mut handles = Vec::new();
    for w in 0..6 {
        let t = t.clone();
        handles.push(tokio::spawn(async move {
            let pk = format!("T#a#R{w}");
            for n in 0..8 {
                let it = item(json!({"pk": pk, "sk": format!("{n:02}"), "n": n}));
                t.transact(vec![Write::put_new(it.clone())]).await.unwrap();
                assert_eq!(t.get(&Key::of(&it).unwrap()).await.unwrap(), Some(it));
                let page = t
                    .query(&Query::new(Index::Table, pk.clone()))
                    .await
                    .unwrap();
                assert_eq!(page.items.len(), n + 1, "writer {w} after write {n}");
                let counter = Key::new(format!("T#a#RC{w}"), "counter");
                let next = t.increment(&counter, "n", 1).await.unwrap();
                assert_eq!(next, n as i64 + 1);
                assert_eq!(t.get(&counter).await.unwrap().unwrap()["n"], json!(next));
            }
        }));
    }
    for h in handles {
        h.await.unwrap();
    }
}

/// Many creates of one key at once: exactly one succeeds and its item is the
/// one stored; every other is refused (DynamoDB may call a loser a conflict).
pub async fn racing_creates_of_one_key_have_one_winner(t: Arc<dyn Table>) {
    const N: usize = 12;
    let key = Key::new("T#a#ONE", "entry");
    let start = Arc::new(tokio::sync::Barrier::new(N));
    let mut handles = Vec::new();
    for i in 0..N {
        let (t, start) = (t.clone(), start.clone());
        handles.push(tokio::spawn(async move {
            start.wait().await;
            t.transact(vec![Write::put_new(item(
                json!({"pk": "T#a#ONE", "sk": "entry", "by": i}),
            ))])
            .await
        }));
    }
    let mut winners = Vec::new();
    for (i, h) in handles.into_iter().enumerate() {
        match h.await.unwrap() {
            Ok(()) => winners.push(i),
            Err(StoreError::ConditionFailed { index: 0, key: k }) => assert_eq!(k, key),
            Err(StoreError::Conflict) => {}
            Err(other) => panic!("creator {i}: {other}"),
        }
    }
    assert_eq!(winners.len(), 1, "one winner: {winners:?}");
    assert_eq!(t.get(&key).await.unwrap().unwrap()["by"], json!(winners[0]));
}

macro_rules! conformance {
    ($adapter:ident, $make:expr) => {
        mod $adapter {
            use super::*;
            conformance!(@each $make; round_trip, failed_condition_changes_nothing_and_names_the_item,
                conditions_hold_when_they_should, more_than_100_writes_are_refused_before_sending,
                pages_cover_everything_once_in_order, gsi_queries_page_and_skip_items_without_index_keys,
                index_pages_resume_inside_a_range_among_equal_sort_keys,
                concurrent_increments_lose_nothing, batch_get_returns_what_exists,
                oversized_items_are_refused_before_sending, start_keys_outside_the_query_are_refused,
                the_third_index_holds_only_items_that_carry_its_keys,
                the_audit_trail_reads_the_same_over_its_shards,
                concurrent_transactions_fail_alone, acknowledged_writes_are_read_at_once,
                racing_creates_of_one_key_have_one_winner);
        }
    };
    (@each $make:expr; $($case:ident),*) => {
        $(
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn $case() {
                let (table, _guard) = $make.await;
                super::$case(table).await;
            }
        )*
    };
}

async fn embedded() -> (Arc<dyn Table>, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let t = EmbeddedTable::open(&dir.path().join("store.db")).unwrap();
    (Arc::new(t), dir)
}

async fn dynamo() -> (Arc<dyn Table>, Moto) {
    let moto = Moto::start().expect("moto_server must start");
    let client = agencyops_testkit_dynamo(&moto.endpoint);
    agencyops_store::dynamo::create_table(&client, "agencyops")
        .await
        .unwrap();
    (Arc::new(DynamoTable::new(client, "agencyops")), moto)
}

fn agencyops_testkit_dynamo(endpoint: &str) -> aws_sdk_dynamodb::Client {
    use aws_sdk_dynamodb::config::{BehaviorVersion, Credentials, Region};
    let conf = aws_sdk_dynamodb::Config::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(Credentials::new("testing", "testing", None, None, "moto"))
        .http_client(
            aws_smithy_http_client::Builder::new()
                .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                    aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
                ))
                .build_https(),
        )
        .build();
    aws_sdk_dynamodb::Client::from_conf(conf)
}

conformance!(sqlite, embedded());
conformance!(dynamodb, dynamo());

#[tokio::test]
async fn embedded_data_survives_reopening_the_file() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    {
        let t = EmbeddedTable::open(&path).unwrap();
        t.transact(vec![Write::put_new(item(
            json!({"pk": "T#a#X", "sk": "1", "v": "kept"}),
        ))])
        .await
        .unwrap();
    }
    let t = EmbeddedTable::open(&path).unwrap();
    assert_eq!(
        t.get(&Key::new("T#a#X", "1")).await.unwrap().unwrap()["v"],
        "kept"
    );
}

/// A database file made before the third index existed gains its columns on
/// open, keeps its items, and indexes them once they are written again.
#[tokio::test]
async fn an_older_database_file_gains_the_third_index_on_open() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("store.db");
    {
        let c = rusqlite::Connection::open(&path).unwrap();
        c.execute_batch(
            "CREATE TABLE items (pk TEXT NOT NULL, sk TEXT NOT NULL, gsi1pk TEXT, gsi1sk TEXT,
               gsi2pk TEXT, gsi2sk TEXT, ttl INTEGER, body TEXT NOT NULL,
               PRIMARY KEY (pk, sk)) WITHOUT ROWID;
             INSERT INTO items (pk, sk, body) VALUES ('T#a#X', '1', '{\"pk\":\"T#a#X\",\"sk\":\"1\",\"v\":\"old\"}');",
        )
        .unwrap();
    }
    let t = EmbeddedTable::open(&path).unwrap();
    assert_eq!(
        t.get(&Key::new("T#a#X", "1")).await.unwrap().unwrap()["v"],
        "old"
    );
    t.transact(vec![Write::put(item(
        json!({"pk": "T#a#X", "sk": "1", "gsi3pk": "T#a#ARDUE", "gsi3sk": "2026-12-01#x"}),
    ))])
    .await
    .unwrap();
    let page = t
        .query(&Query::new(Index::Gsi3, "T#a#ARDUE"))
        .await
        .unwrap();
    assert_eq!(page.items.len(), 1);
    drop(t);
    // Opening it again is a no-op.
    EmbeddedTable::open(&path).unwrap();
}

/// The embedded adapter reports the SQL statements each call ran to the
/// counted unit it ran in, exactly: a get is one SELECT; a transaction of two
/// conditioned puts is BEGIN, SAVEPOINT, a SELECT per condition, an INSERT
/// per put, RELEASE and COMMIT; a failed condition stops before any write
/// and rolls its savepoint back (ROLLBACK TO and RELEASE).
#[tokio::test]
async fn embedded_calls_report_the_statements_they_ran() {
    use agencyops_store::counting::counted;
    let dir = tempfile::tempdir().unwrap();
    let t = EmbeddedTable::open(&dir.path().join("store.db")).unwrap();
    let ((), write) = counted(async {
        t.transact(vec![
            Write::put_new(item(json!({"pk": "T#a#X", "sk": "1"}))),
            Write::put_new(item(json!({"pk": "T#a#X", "sk": "2"}))),
        ])
        .await
        .unwrap();
    })
    .await;
    assert_eq!(write.statements, 8);
    let (_, read) = counted(async { t.get(&Key::new("T#a#X", "1")).await.unwrap() }).await;
    assert_eq!(read.statements, 1);
    let (_, batch) = counted(async {
        t.batch_get(&[
            Key::new("T#a#X", "1"),
            Key::new("T#a#X", "2"),
            Key::new("T#a#X", "1"),
        ])
        .await
        .unwrap()
    })
    .await;
    assert_eq!(batch.statements, 2, "each distinct key once");
    let (refused, failed) = counted(async {
        t.transact(vec![Write::put_new(item(
            json!({"pk": "T#a#X", "sk": "1"}),
        ))])
        .await
    })
    .await;
    assert!(refused.is_err());
    assert_eq!(failed.statements, 6);
    // Outside a counted unit the calls work and count nowhere.
    assert!(t.get(&Key::new("T#a#X", "2")).await.unwrap().is_some());
}
