//! What the dunning tests share: every function over one store, the test
//! studio with a billing email, issued invoices due on a chosen day, the
//! daily run for a date, and the mail it queued.

#![allow(dead_code, unused_imports)]

use std::time::Duration;

pub use agencyops_apitest::{studio, who, App, As, Res, Studio, NOW};
use agencyops_platform::mail::{OutgoingMail, MAIL_QUEUE};
use agencyops_store::record::{self, all, load, Record};
use agencyops_store::records::{Client, DunningMarker, Invoice, InvoiceActivity};
use agencyops_store::{keys, Index, Query, SkCondition, Table};
use axum::Router;
use jiff::civil::Date;
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub fn routes() -> Router<agencyops_platform::Services> {
    agencyops_intake::routes()
        .merge(agencyops_time::routes())
        .merge(agencyops_approvals::routes())
        .merge(agencyops_invoicing::routes())
        .merge(agencyops_ar_followups::routes())
}

/// The studio, its client billed at `ap@northwind.test`.
pub async fn setup() -> (App, Studio) {
    let app = App::new(routes());
    let s = studio(&app, "acme").await;
    rewrite::<Client>(&app, &s.tenant, keys::client(&s.tenant, &s.client), |c| {
        c.billing_email = Some("ap@northwind.test".into())
    })
    .await;
    (app, s)
}

pub fn d(s: &str) -> Date {
    s.parse().unwrap()
}

/// Rewrites a stored record in place (as another function's write would leave it).
pub async fn rewrite<R: Record>(
    app: &App,
    tenant: &str,
    key: agencyops_store::Key,
    f: impl FnOnce(&mut R),
) {
    let mut r: R = load(&app.embedded, &key).await.unwrap().unwrap();
    f(&mut r);
    let expected = r.version();
    r.set_version(expected + 1);
    app.embedded
        .transact(vec![record::replace(tenant, &r, expected).unwrap()])
        .await
        .unwrap();
}

/// An issued manual invoice of `amount` due on `due`.
pub async fn issued(app: &App, s: &Studio, amount: &str, due: &str) -> String {
    let id = app
        .create(
            &s.finance,
            "/v1/invoices",
            json!({"client_id": s.client, "kind": "manual", "due_date": due,
                   "lines": [{"description": "Design", "quantity": "1", "unit_price": amount}]}),
        )
        .await;
    let res = app
        .post(&s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
        .await
        .expect(200);
    assert_eq!(res.body["due_date"], due, "{}", res.body);
    id
}

pub async fn pay(app: &App, s: &Studio, id: &str, amount: &str) {
    app.post(
        &s.finance,
        &format!("/v1/invoices/{id}/payments"),
        json!({"amount": amount, "date": "2026-11-25", "method": "bank_transfer"}),
    )
    .await
    .expect(201);
}

/// The tenant's policy: a friendly nudge 3 days before, one on the due day,
/// a late notice 14 days after with a 10 EUR + 1% fee, then weekly twice.
pub fn policy() -> Value {
    json!({
        "stages": [
            {"name": "nudge", "offset_days": -3, "subject": "Invoice {number} is due on {due_date}",
             "body": "Dear {client}, {balance} is due on {due_date}."},
            {"name": "due", "offset_days": 0, "subject": "Invoice {number} is due today",
             "body": "Dear {client}, {balance} is due today."},
            {"name": "late", "offset_days": 14, "subject": "Invoice {number} is {days_overdue} days overdue",
             "body": "Dear {client}, {balance} is {days_overdue} days overdue.",
             "late_fee": {"flat": "10.00", "percent": "1"}},
        ],
        "repeat_every_days": 7,
        "max_repeats": 2,
        "quiet_days_after_send": 3,
        "paused": false,
    })
}

pub async fn set_policy(app: &App, s: &Studio, body: Value) -> Res {
    app.put(&s.finance, "/v1/settings/dunning", body)
        .await
        .expect(200)
}

/// The daily run for `day`, `times` times in a row.
pub async fn run(app: &App, day: &str, times: usize) -> agencyops_ar_followups::daily::DailyRun {
    let mut last = None;
    for _ in 0..times {
        last = Some(
            agencyops_ar_followups::daily::run(&app.services, d(day))
                .await
                .unwrap(),
        );
    }
    last.unwrap()
}

/// Every reminder mail queued since the last call, in order (all mail is
/// taken off the queue; the Monday digest the same run queues is not a
/// reminder and is left out).
pub async fn mails(app: &App) -> Vec<OutgoingMail> {
    let mut all = queued(app).await;
    all.retain(|m| {
        matches!(
            m.purpose,
            agencyops_platform::mail::MailPurpose::Reminder { .. }
        )
    });
    all
}

/// Every mail queued since the last call, in order (taken off the queue).
pub async fn queued(app: &App) -> Vec<OutgoingMail> {
    let mut out = Vec::new();
    loop {
        let got = app
            .queue
            .receive(MAIL_QUEUE, 10, Duration::from_secs(3600))
            .await
            .unwrap();
        if got.is_empty() {
            return out;
        }
        for m in got {
            out.push(serde_json::from_str(&m.body).unwrap());
            app.queue.delete(&m.receipt).await.unwrap();
        }
    }
}

/// The ids of the reminder steps in the mails, e.g. `STAGE#due`.
pub fn steps(mails: &[OutgoingMail]) -> Vec<String> {
    mails
        .iter()
        .map(|m| match &m.purpose {
            agencyops_platform::mail::MailPurpose::Reminder { stage, .. } => stage.clone(),
            other => panic!("not a reminder: {other:?}"),
        })
        .collect()
}

pub async fn markers(app: &App, tenant: &str, invoice: &str) -> Vec<DunningMarker> {
    all::<DunningMarker>(
        &app.embedded,
        &Query::new(Index::Table, keys::invoice_partition(tenant, invoice)).sk(
            SkCondition::BeginsWith(keys::dunning_markers_prefix().into()),
        ),
    )
    .await
    .unwrap()
}

/// Every fee invoice of the tenant.
pub async fn fee_invoices(app: &App, tenant: &str) -> Vec<Invoice> {
    all::<Invoice>(
        &app.embedded,
        &Query::new(Index::Gsi1, keys::invoices(tenant)).limit(500),
    )
    .await
    .unwrap()
    .into_iter()
    .filter(|i| i.fee_for.is_some())
    .collect()
}

pub async fn invoice(app: &App, tenant: &str, id: &str) -> Invoice {
    load(&app.embedded, &keys::invoice(tenant, id))
        .await
        .unwrap()
        .unwrap()
}

pub fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal: {v}"))
        .parse()
        .unwrap()
}
