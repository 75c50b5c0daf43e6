//! Time and expenses as the function tests of more than one crate need them:
//! work recorded through the time API, and the stored records read or changed
//! directly, as another function (approvals, invoicing) would.

use agencyops_store::keys;
use agencyops_store::record::{self, load, Record};
use agencyops_store::records::{EntryRef, Expense, TimeEntry};
use serde_json::{json, Value};

use crate::{App, As, Res};

/// A valid new time entry: `minutes` on `date`, noted "work".
pub fn entry_body(project: &str, date: &str, minutes: i64) -> Value {
    json!({"project_id": project, "date": date, "minutes": minutes, "note": "work"})
}

/// A valid new expense: `amount` EUR of travel on `date`.
pub fn expense_body(project: &str, date: &str, amount: &str) -> Value {
    json!({"project_id": project, "date": date, "amount": amount, "currency": "EUR", "category": "Travel"})
}

/// Records `minutes` on `date` through the time API and returns the response.
pub async fn record_entry(app: &App, who: &As, project: &str, date: &str, minutes: i64) -> Res {
    app.post(who, "/v1/time-entries", entry_body(project, date, minutes))
        .await
}

/// The entry as stored, found through its id reference.
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

/// Changes a stored entry directly under its version, as another function would.
pub async fn rewrite_entry(app: &App, tenant: &str, id: &str, change: impl FnOnce(&mut TimeEntry)) {
    let e = stored_entry(app, tenant, id).await;
    rewrite(app, tenant, e, change).await;
}

/// Changes a stored expense directly under its version, as another function would.
pub async fn rewrite_expense(app: &App, tenant: &str, id: &str, change: impl FnOnce(&mut Expense)) {
    let e = stored_expense(app, tenant, id).await;
    rewrite(app, tenant, e, change).await;
}

async fn rewrite<R: Record>(app: &App, tenant: &str, mut rec: R, change: impl FnOnce(&mut R)) {
    let v = rec.version();
    change(&mut rec);
    rec.set_version(v + 1);
    let w = record::replace(tenant, &rec, v).unwrap();
    app.table.transact(vec![w]).await.unwrap();
}
