//! A table that fails its k-th transaction: before the write (nothing is
//! written) or after it (written, but the caller hears an error, as with a
//! lost reply). What the fault-injection tests wrap the store in, for every
//! k of a scenario, to show that a retry leaves no duplicate and no gap.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use agencyops_store::{Item, Key, Page, Query, StoreError, StoreResult, Table, Write};

use crate::App;

pub struct FailKth {
    inner: Arc<dyn Table>,
    k: usize,
    after: bool,
    seen: AtomicUsize,
}

impl FailKth {
    /// Wraps `app`'s table from now on, so the fault falls in what follows.
    pub fn install(app: &mut App, k: usize, after: bool) -> Arc<FailKth> {
        let fault = Arc::new(FailKth {
            inner: app.services.table.clone(),
            k,
            after,
            seen: AtomicUsize::new(0),
        });
        app.services.table = fault.clone();
        app.table = app.services.table.clone();
        app.rebuild_router();
        fault
    }

    /// How many transactions were attempted through it.
    pub fn seen(&self) -> usize {
        self.seen.load(Ordering::SeqCst)
    }
}

#[async_trait::async_trait]
impl Table for FailKth {
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
        let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
        if n == self.k {
            if self.after {
                self.inner.transact(writes).await?;
            }
            return Err(StoreError::Backend(format!(
                "injected failure of write {n}"
            )));
        }
        self.inner.transact(writes).await
    }
    async fn increment(&self, key: &Key, attr: &str, by: i64) -> StoreResult<i64> {
        self.inner.increment(key, attr, by).await
    }
}
