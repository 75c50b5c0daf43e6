//! What the approval tests share: intake, time and approvals over one store, a
//! studio to work in, work recorded through the time API, and direct store
//! access for what other functions do (invoicing) or for checking what is stored.

#![allow(dead_code, unused_imports)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

pub use agencyops_apitest::{studio, who, App, As, Res, Studio};
use agencyops_domain::timesheet::WorkStatus;
use agencyops_platform::events::{BurnChange, APPROVED_QUEUE};
use agencyops_store::record::{self, load};
use agencyops_store::records::{EntryRef, Expense, TimeEntry, TimesheetWeek};
use agencyops_store::{keys, Item, Key, Page, Query, StoreError, StoreResult, Table, Write};
use axum::Router;
use serde_json::{json, Value};

pub const LOCKED: &str = "https://agencyops.dev/problems/locked";
pub const CONFLICT: &str = "https://agencyops.dev/problems/conflict";

/// The week before the test clock's (2026-W47): all of it lies in the past.
pub const WEEK: &str = "2026-W46";
pub const MONDAY: &str = "2026-11-09";
pub const WEDNESDAY: &str = "2026-11-11";
pub const FRIDAY: &str = "2026-11-13";

pub fn routes() -> Router<agencyops_platform::Services> {
    agencyops_intake::routes()
        .merge(agencyops_time::routes())
        .merge(agencyops_approvals::routes())
}

pub fn app() -> App {
    App::new(routes())
}

pub async fn setup() -> (App, Studio) {
    let app = app();
    let s = studio(&app, "acme").await;
    (app, s)
}

pub fn week_path(person: &As, action: &str) -> String {
    format!("/v1/timesheets/{}/{WEEK}/{action}", person.person)
}

/// Records `minutes` of `who`'s time on `date` through the time API.
pub async fn record(app: &App, who: &As, project: &str, date: &str, minutes: u32) -> String {
    app.create(
        who,
        "/v1/time-entries",
        json!({"project_id": project, "date": date, "minutes": minutes, "note": "work"}),
    )
    .await
}

/// Records an expense of `who` through the time API.
pub async fn expense(app: &App, who: &As, project: &str, date: &str, amount: &str) -> String {
    app.create(
        who,
        "/v1/expenses",
        json!({"project_id": project, "date": date, "amount": amount, "currency": "EUR",
               "category": "Travel", "markup_percent": "10"}),
    )
    .await
}

pub async fn submit(app: &App, who: &As) -> Res {
    app.post(who, &week_path(who, "submit"), json!({})).await
}

pub async fn approve(app: &App, approver: &As, person: &As, project: Option<&str>) -> Res {
    let body = match project {
        Some(p) => json!({"project_id": p}),
        None => json!({}),
    };
    app.post(approver, &week_path(person, "approve"), body)
        .await
}

pub async fn reject(app: &App, approver: &As, person: &As, project: Option<&str>) -> Res {
    let mut body = json!({"reason": "Wrong task"});
    if let Some(p) = project {
        body["project_id"] = json!(p);
    }
    app.post(approver, &week_path(person, "reject"), body).await
}

pub async fn set_lock(app: &App, who: &As, date: Option<&str>) -> Res {
    app.put(who, "/v1/settings/lock-date", json!({ "lock_date": date }))
        .await
}

/// The entry as stored.
pub async fn stored_entry(app: &App, tenant: &str, id: &str) -> TimeEntry {
    let r: EntryRef = load(&*app.table, &keys::entry_ref(tenant, id))
        .await
        .unwrap()
        .expect("entry ref");
    load(&*app.table, &r.entry_key(tenant))
        .await
        .unwrap()
        .expect("entry")
}

pub async fn stored_expense(app: &App, tenant: &str, id: &str) -> Expense {
    load(&*app.table, &keys::expense(tenant, id))
        .await
        .unwrap()
        .expect("expense")
}

pub async fn stored_week(app: &App, tenant: &str, person: &str) -> Option<TimesheetWeek> {
    load(&*app.table, &keys::week(tenant, person, WEEK))
        .await
        .unwrap()
}

/// Every entry of the person's week, as stored.
pub async fn week_entries(app: &App, tenant: &str, person: &str) -> Vec<TimeEntry> {
    let (lo, hi) = keys::entry_range(MONDAY, "2026-11-15");
    let mut q = Query::new(
        agencyops_store::Index::Table,
        keys::person_time(tenant, person),
    )
    .sk(agencyops_store::SkCondition::Between(lo, hi))
    .limit(1000);
    let mut out = Vec::new();
    loop {
        let (page, next) = record::page::<TimeEntry>(&*app.table, &q).await.unwrap();
        out.extend(page);
        match next {
            Some(n) => q.start_after = Some(n),
            None => return out,
        }
    }
}

/// What invoicing does to approved work: it becomes invoiced.
pub async fn invoice_entry(app: &App, tenant: &str, id: &str) {
    let mut e = stored_entry(app, tenant, id).await;
    let v = e.version;
    e.status = WorkStatus::Invoiced;
    e.invoice_id = Some("inv-1".into());
    e.version += 1;
    app.table
        .transact(vec![record::replace(tenant, &e, v).unwrap()])
        .await
        .unwrap();
}

pub async fn invoice_expense(app: &App, tenant: &str, id: &str) {
    let mut e = stored_expense(app, tenant, id).await;
    let v = e.version;
    e.status = WorkStatus::Invoiced;
    e.invoice_id = Some("inv-1".into());
    e.version += 1;
    app.table
        .transact(vec![record::replace(tenant, &e, v).unwrap()])
        .await
        .unwrap();
}

/// Every burn change waiting on the `approved` queue (received and deleted).
pub async fn burn_changes(app: &App) -> Vec<BurnChange> {
    let mut out = Vec::new();
    loop {
        let got = app
            .queue
            .receive(APPROVED_QUEUE, 10, Duration::from_secs(60))
            .await
            .unwrap();
        if got.is_empty() {
            return out;
        }
        for m in got {
            out.push(serde_json::from_str(&m.body).expect("a burn change"));
            app.queue.delete(&m.receipt).await.unwrap();
        }
    }
}

/// Audit records of one entity, newest first.
pub async fn audit_of(app: &App, tenant: &str, kind: &str, id: &str) -> Vec<Item> {
    let q = Query::new(
        agencyops_store::Index::Gsi1,
        keys::audit_entity(tenant, kind, id),
    )
    .backward()
    .limit(100);
    app.table.query(&q).await.unwrap().items
}

/// A table that fails the `n`th transaction writing time entries, once armed,
/// as a crash between two batches would.
pub struct CrashingTable {
    inner: Arc<dyn Table>,
    pub fail_at: AtomicUsize,
    seen: AtomicUsize,
}

impl CrashingTable {
    pub fn wrap(inner: Arc<dyn Table>) -> Arc<CrashingTable> {
        Arc::new(CrashingTable {
            inner,
            fail_at: AtomicUsize::new(0),
            seen: AtomicUsize::new(0),
        })
    }
    /// Fails the `n`th entry-writing transaction from now on (0: never).
    pub fn arm(&self, n: usize) {
        self.seen.store(0, Ordering::SeqCst);
        self.fail_at.store(n, Ordering::SeqCst);
    }
}

fn writes_entries(writes: &[Write]) -> bool {
    writes.iter().any(|w| match w {
        Write::Put { item, .. } => item.get("kind") == Some(&json!("time_entry")),
        _ => false,
    })
}

#[async_trait::async_trait]
impl Table for CrashingTable {
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
        if writes_entries(&writes) {
            let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
            if n == self.fail_at.load(Ordering::SeqCst) {
                return Err(StoreError::Backend("simulated crash".into()));
            }
        }
        self.inner.transact(writes).await
    }
    async fn increment(&self, key: &Key, attr: &str, by: i64) -> StoreResult<i64> {
        self.inner.increment(key, attr, by).await
    }
}

/// A table that closes the period (sets the lock date) just before the next
/// transaction it is given, once armed: as if finance locked the books while
/// a request was between reading the lock date and writing. A write that pins
/// the lock date it read must then fail and change nothing.
pub struct LockingTable {
    inner: Arc<dyn Table>,
    armed: std::sync::Mutex<Option<(String, jiff::civil::Date)>>,
}

impl LockingTable {
    pub fn wrap(inner: Arc<dyn Table>) -> Arc<LockingTable> {
        Arc::new(LockingTable {
            inner,
            armed: std::sync::Mutex::new(None),
        })
    }
    /// Locks `tenant`'s books up to `date` right before the next transaction.
    pub fn arm(&self, tenant: &str, date: &str) {
        *self.armed.lock().unwrap() = Some((tenant.to_owned(), date.parse().unwrap()));
    }
    /// Sets (or clears) the lock date now.
    pub async fn set(&self, tenant: &str, date: Option<jiff::civil::Date>) {
        use agencyops_store::records::LockDate;
        let key = keys::lock_date(tenant);
        let current: Option<LockDate> = load(&*self.inner, &key).await.unwrap();
        let write = match current {
            Some(mut l) => {
                let v = l.version;
                l.lock_date = date;
                l.version = v + 1;
                record::replace(tenant, &l, v).unwrap()
            }
            None => {
                let mut l = LockDate::none(jiff::Timestamp::UNIX_EPOCH);
                l.lock_date = date;
                l.version = 1;
                record::create(tenant, &l).unwrap()
            }
        };
        self.inner.transact(vec![write]).await.unwrap();
    }
}

#[async_trait::async_trait]
impl Table for LockingTable {
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
        let armed = self.armed.lock().unwrap().take();
        if let Some((tenant, date)) = armed {
            self.set(&tenant, Some(date)).await;
        }
        self.inner.transact(writes).await
    }
    async fn increment(&self, key: &Key, attr: &str, by: i64) -> StoreResult<i64> {
        self.inner.increment(key, attr, by).await
    }
}
