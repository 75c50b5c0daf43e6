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
    let body = agencyops_apitest::time::entry_body(project, date, i64::from(minutes));
    app.create(who, "/v1/time-entries", body).await
}

/// Records an expense of `who` through the time API.
pub async fn expense(app: &App, who: &As, project: &str, date: &str, amount: &str) -> String {
    let mut body = agencyops_apitest::time::expense_body(project, date, amount);
    body["markup_percent"] = json!("10");
    app.create(who, "/v1/expenses", body).await
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

pub use agencyops_apitest::time::{stored_entry, stored_expense};

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
    agencyops_apitest::time::rewrite_entry(app, tenant, id, |e| {
        e.status = WorkStatus::Invoiced;
        e.invoice_id = Some("inv-1".into());
    })
    .await;
}

pub async fn invoice_expense(app: &App, tenant: &str, id: &str) {
    agencyops_apitest::time::rewrite_expense(app, tenant, id, |e| {
        e.status = WorkStatus::Invoiced;
        e.invoice_id = Some("inv-1".into());
    })
    .await;
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

/// The approved minutes the budget consumer has counted on `project`.
pub async fn burned_minutes(app: &App, tenant: &str, project: &str) -> i64 {
    let burn: agencyops_store::records::ProjectBurn =
        load(&*app.table, &keys::project_burn(tenant, project))
            .await
            .unwrap()
            .expect("the project has a burn record");
    burn.minutes as i64
}

/// How many pieces of work are waiting to be billed (in WIP), across the tenant.
pub async fn unbilled_count(app: &App, tenant: &str) -> usize {
    let mut q = Query::new(agencyops_store::Index::Gsi2, keys::unbilled(tenant)).limit(1000);
    let mut n = 0;
    loop {
        let page = app.table.query(&q).await.unwrap();
        n += page.items.len();
        match page.next {
            Some(k) => q.start_after = Some(k),
            None => return n,
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
    app.stored_items(&q).await
}

/// What a test table does just before each transaction it is given: let it
/// through, fail it, or change the store first. Reads always pass through.
#[async_trait::async_trait]
pub trait BeforeTransact: Default + Send + Sync + 'static {
    async fn before(&self, inner: &dyn Table, writes: &[Write]) -> StoreResult<()>;
}

/// The app's table with a test's hook in front of every transaction.
pub struct Hooked<H> {
    inner: Arc<dyn Table>,
    hook: H,
}

impl<H: BeforeTransact> Hooked<H> {
    pub fn wrap(inner: Arc<dyn Table>) -> Arc<Hooked<H>> {
        Arc::new(Hooked {
            inner,
            hook: H::default(),
        })
    }
}

impl<H> std::ops::Deref for Hooked<H> {
    type Target = H;
    fn deref(&self) -> &H {
        &self.hook
    }
}

#[async_trait::async_trait]
impl<H: BeforeTransact> Table for Hooked<H> {
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
        self.hook.before(&*self.inner, &writes).await?;
        self.inner.transact(writes).await
    }
    async fn increment(&self, key: &Key, attr: &str, by: i64) -> StoreResult<i64> {
        self.inner.increment(key, attr, by).await
    }
}

/// A table that fails the `n`th transaction writing time entries, once armed,
/// as a crash between two batches would.
pub type CrashingTable = Hooked<Crash>;

#[derive(Default)]
pub struct Crash {
    pub fail_at: AtomicUsize,
    seen: AtomicUsize,
}

impl Crash {
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
impl BeforeTransact for Crash {
    async fn before(&self, _inner: &dyn Table, writes: &[Write]) -> StoreResult<()> {
        if writes_entries(writes) {
            let n = self.seen.fetch_add(1, Ordering::SeqCst) + 1;
            if n == self.fail_at.load(Ordering::SeqCst) {
                return Err(StoreError::Backend("simulated crash".into()));
            }
        }
        Ok(())
    }
}

/// A table that closes the period (sets the lock date) just before the next
/// transaction it is given, once armed: as if finance locked the books while
/// a request was between reading the lock date and writing. A write that pins
/// the lock date it read must then fail and change nothing.
pub type LockingTable = Hooked<Lock>;

#[derive(Default)]
pub struct Lock {
    armed: std::sync::Mutex<Option<(String, jiff::civil::Date)>>,
}

impl Lock {
    /// Locks `tenant`'s books up to `date` right before the next transaction.
    pub fn arm(&self, tenant: &str, date: &str) {
        *self.armed.lock().unwrap() = Some((tenant.to_owned(), date.parse().unwrap()));
    }
}

impl LockingTable {
    /// Sets (or clears) the lock date now.
    pub async fn set(&self, tenant: &str, date: Option<jiff::civil::Date>) {
        set_lock_date(&*self.inner, tenant, date).await;
    }
}

async fn set_lock_date(table: &dyn Table, tenant: &str, date: Option<jiff::civil::Date>) {
    use agencyops_store::records::LockDate;
    let key = keys::lock_date(tenant);
    let current: Option<LockDate> = load(table, &key).await.unwrap();
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
    table.transact(vec![write]).await.unwrap();
}

#[async_trait::async_trait]
impl BeforeTransact for Lock {
    async fn before(&self, inner: &dyn Table, _writes: &[Write]) -> StoreResult<()> {
        let armed = self.armed.lock().unwrap().take();
        if let Some((tenant, date)) = armed {
            set_lock_date(inner, &tenant, Some(date)).await;
        }
        Ok(())
    }
}
