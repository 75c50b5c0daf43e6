//! A Table adapter that counts its calls per unit of work (one request, one
//! queue message, one scheduled run), counted as the DynamoDB adapter would
//! make them: a batch read of k keys is ⌈k/100⌉ BatchGetItem calls; every
//! other port call is one DynamoDB call. The unit is a tokio task-local scope
//! ([`counted`]), so concurrent requests never mix their counts; calls made
//! outside a scope pass through uncounted. The embedded adapter adds the SQL
//! statements each call ran to the same scope ([`add_statements`]), so one
//! unit reports both what it would cost in DynamoDB and what it costs SQLite.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use serde::Serialize;

use crate::table::{Item, Key, Page, Query, StoreResult, Table, Write};

/// DynamoDB's most keys per BatchGetItem.
const BATCH_GET_KEYS: usize = 100;

tokio::task_local! {
    static CALLS: Arc<Calls>;
}

#[derive(Default)]
struct Calls {
    gets: AtomicU64,
    batch_gets: AtomicU64,
    queries: AtomicU64,
    transactions: AtomicU64,
    increments: AtomicU64,
    statements: AtomicU64,
}

/// The calls one unit of work made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct CallCount {
    pub gets: u64,
    pub batch_gets: u64,
    pub queries: u64,
    pub transactions: u64,
    pub increments: u64,
    /// SQL statements the embedded adapter ran for them (0 on DynamoDB);
    /// not part of [`CallCount::total`], which counts DynamoDB calls.
    pub statements: u64,
}

impl CallCount {
    pub fn reads(&self) -> u64 {
        self.gets + self.batch_gets + self.queries
    }
    pub fn writes(&self) -> u64 {
        self.transactions + self.increments
    }
    pub fn total(&self) -> u64 {
        self.reads() + self.writes()
    }
}

fn count(of: impl FnOnce(&Calls) -> &AtomicU64, by: u64) {
    let _ = CALLS.try_with(|c| of(c).fetch_add(by, Ordering::Relaxed));
}

/// Adds `n` SQL statements to the unit the caller runs in (nothing outside one).
pub fn add_statements(n: u64) {
    count(|c| &c.statements, n);
}

/// Runs `work` as one counted unit; its output and the calls it made.
pub async fn counted<F: Future>(work: F) -> (F::Output, CallCount) {
    let calls = Arc::new(Calls::default());
    let out = CALLS.scope(calls.clone(), work).await;
    let n = |a: &AtomicU64| a.load(Ordering::Relaxed);
    let counted = CallCount {
        gets: n(&calls.gets),
        batch_gets: n(&calls.batch_gets),
        queries: n(&calls.queries),
        transactions: n(&calls.transactions),
        increments: n(&calls.increments),
        statements: n(&calls.statements),
    };
    (out, counted)
}

/// Counts the calls made through it, then hands them to `inner`.
pub struct CountingTable {
    inner: Arc<dyn Table>,
}

impl CountingTable {
    pub fn new(inner: Arc<dyn Table>) -> CountingTable {
        CountingTable { inner }
    }
}

#[async_trait]
impl Table for CountingTable {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        count(|c| &c.gets, 1);
        self.inner.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        let calls = keys.len().div_ceil(BATCH_GET_KEYS);
        count(|c| &c.batch_gets, u64::try_from(calls).unwrap_or(u64::MAX));
        self.inner.batch_get(keys).await
    }
    async fn query(&self, query: &Query) -> StoreResult<Page> {
        count(|c| &c.queries, 1);
        self.inner.query(query).await
    }
    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        count(|c| &c.transactions, 1);
        self.inner.transact(writes).await
    }
    async fn increment(&self, key: &Key, attr: &str, by: i64) -> StoreResult<i64> {
        count(|c| &c.increments, 1);
        self.inner.increment(key, attr, by).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Index;

    /// A table that answers nothing, to count against.
    struct Nothing;

    #[async_trait]
    impl Table for Nothing {
        async fn get(&self, _: &Key) -> StoreResult<Option<Item>> {
            Ok(None)
        }
        async fn batch_get(&self, _: &[Key]) -> StoreResult<Vec<Item>> {
            Ok(Vec::new())
        }
        async fn query(&self, _: &Query) -> StoreResult<Page> {
            Ok(Page {
                items: Vec::new(),
                next: None,
            })
        }
        async fn transact(&self, _: Vec<Write>) -> StoreResult<()> {
            Ok(())
        }
        async fn increment(&self, _: &Key, _: &str, _: i64) -> StoreResult<i64> {
            Ok(1)
        }
    }

    #[tokio::test]
    async fn each_unit_counts_its_own_calls_as_dynamodb_would_make_them() {
        let t: Arc<dyn Table> = Arc::new(CountingTable::new(Arc::new(Nothing)));
        let keys: Vec<Key> = (0..250)
            .map(|i| Key::new("T#a#X", format!("{i}")))
            .collect();
        let (a, b) = tokio::join!(
            counted(async {
                t.get(&keys[0]).await.unwrap();
                t.batch_get(&keys).await.unwrap();
                t.transact(Vec::new()).await.unwrap();
            }),
            counted(async {
                t.query(&Query::new(Index::Table, "T#a#X")).await.unwrap();
                add_statements(3);
            }),
        );
        assert_eq!(
            a.1,
            CallCount {
                gets: 1,
                batch_gets: 3,
                transactions: 1,
                ..CallCount::default()
            }
        );
        // Statements are reported beside the calls, not as calls.
        assert_eq!((b.1.queries, b.1.statements, b.1.total()), (1, 3, 1));
        // Outside a unit nothing is counted, and nothing fails.
        t.get(&keys[0]).await.unwrap();
        add_statements(1);
    }
}
