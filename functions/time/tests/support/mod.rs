//! What the time tests share: the intake and time routes over one store, a
//! studio to work in, and direct store access for what other functions do
//! (approving work, closing a period, starting a week job).

#![allow(dead_code, unused_imports)]

pub use agencyops_apitest::{studio, who, App, As, Res, Studio};
use agencyops_domain::timesheet::{WeekAction, WorkStatus};
use agencyops_store::record::{self, load};
use agencyops_store::records::{EntryRef, Expense, LockDate, TimeEntry, TimesheetWeek, WeekJob};
use agencyops_store::{keys, Write};
use jiff::civil::Date;
use serde_json::{json, Value};

pub const LOCKED: &str = "https://agencyops.dev/problems/locked";

pub fn app() -> App {
    App::new(agencyops_intake::routes().merge(agencyops_time::routes()))
}

pub async fn setup() -> (App, Studio) {
    let app = app();
    let s = studio(&app, "acme").await;
    (app, s)
}

pub fn day(s: &str) -> Date {
    s.parse().unwrap()
}

pub use agencyops_apitest::time::{record_entry as record, stored_entry, stored_expense};

pub async fn expense(app: &App, who: &As, project: &str, date: &str, amount: &str) -> Res {
    let body = agencyops_apitest::time::expense_body(project, date, amount);
    app.post(who, "/v1/expenses", body).await
}

/// Every item of a list endpoint, following cursors.
pub async fn all(app: &App, who: &As, path: &str) -> Vec<Value> {
    let mut items = Vec::new();
    let mut cursor: Option<String> = None;
    let sep = if path.contains('?') { '&' } else { '?' };
    loop {
        let url = match &cursor {
            Some(c) => format!("{path}{sep}limit=200&cursor={c}"),
            None => format!("{path}{sep}limit=200"),
        };
        let res = app.get(who, &url).await.expect(200);
        items.extend(res.body["items"].as_array().cloned().unwrap_or_default());
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return items,
        }
    }
}

pub async fn entries_of(app: &App, who: &As) -> Vec<Value> {
    all(app, who, "/v1/time-entries").await
}

pub async fn expenses_of(app: &App, who: &As) -> Vec<Value> {
    all(app, who, "/v1/expenses").await
}

pub fn total_minutes(entries: &[Value]) -> u64 {
    entries.iter().map(|e| e["minutes"].as_u64().unwrap()).sum()
}

/// Sets an entry's status as the approvals function would.
pub async fn set_entry_status(app: &App, tenant: &str, id: &str, status: WorkStatus) {
    agencyops_apitest::time::rewrite_entry(app, tenant, id, |e| e.status = status).await;
}

pub async fn set_expense_status(app: &App, tenant: &str, id: &str, status: WorkStatus) {
    agencyops_apitest::time::rewrite_expense(app, tenant, id, |e| e.status = status).await;
}

/// Closes the period up to and including `date`.
pub async fn lock(app: &App, tenant: &str, date: &str) {
    let lock = LockDate {
        id: "lock".into(),
        lock_date: Some(day(date)),
        set_by: Some("boss".into()),
        version: 1,
        updated_at: app.clock_now(),
    };
    let w: Write = record::create(tenant, &lock).unwrap();
    app.table.transact(vec![w]).await.unwrap();
}

/// Starts a submit job on a person's week, as the approvals function does.
pub async fn start_week_job(app: &App, tenant: &str, person: &str, week: &str) {
    let mut w = TimesheetWeek::empty(person, week.parse().unwrap(), app.clock_now());
    w.version = 1;
    w.submitted_at = Some(app.clock_now());
    w.job = Some(WeekJob {
        id: "job1".into(),
        action: WeekAction::Submit,
        project_id: None,
        actor: person.into(),
        reason: None,
        started_at: app.clock_now(),
        batches_done: 0,
    });
    app.table
        .transact(vec![record::create(tenant, &w).unwrap()])
        .await
        .unwrap();
}

pub trait ClockNow {
    fn clock_now(&self) -> jiff::Timestamp;
}

impl ClockNow for App {
    fn clock_now(&self) -> jiff::Timestamp {
        agencyops_platform::clock::Clock::now(&self.clock)
    }
}

pub fn detail(res: &Res) -> String {
    res.body["detail"].as_str().unwrap_or("").to_owned()
}

/// Starts a timer with `body`.
pub async fn start_timer(app: &App, who: &As, body: Value) -> Res {
    app.post(who, "/v1/timers/start", body).await
}

/// Stops the running timer with `body` (`{}` records it, `{"discard": true}` throws it away).
pub async fn stop_timer(app: &App, who: &As, body: Value) -> Res {
    app.post(who, "/v1/timers/stop", body).await
}

/// The caller's running timer, if any (always a 200).
pub async fn current_timer(app: &App, who: &As) -> Res {
    app.get(who, "/v1/timers/current").await.expect(200)
}

pub async fn get_entry(app: &App, who: &As, id: &str) -> Res {
    app.get(who, &format!("/v1/time-entries/{id}")).await
}

pub async fn patch_entry(app: &App, who: &As, id: &str, body: Value) -> Res {
    app.patch(who, &format!("/v1/time-entries/{id}"), body)
        .await
}

pub async fn get_expense(app: &App, who: &As, id: &str) -> Res {
    app.get(who, &format!("/v1/expenses/{id}")).await
}

pub async fn patch_expense(app: &App, who: &As, id: &str, body: Value) -> Res {
    app.patch(who, &format!("/v1/expenses/{id}"), body).await
}
