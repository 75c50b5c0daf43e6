//! What the invoicing tests share: every function over one store, the test
//! studio, approved work (through the real approval flow, or written straight
//! into the store as approval leaves it, for volume), the invoice builder
//! driven as its queue would, and the billing invariant.

#![allow(dead_code, unused_imports)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

pub use agencyops_apitest::{studio, who, App, As, Res, Studio, NOW};
use agencyops_domain::timesheet::{value_of, WorkStatus};
use agencyops_domain::Currency;
use agencyops_platform::resource::new_id;
use agencyops_store::record::{self, all_items, from_item, is, load, Record};
use agencyops_store::records::{
    Approval, ClaimBatch, EntrySource, Expense, ExpenseApproval, Invoice, TimeEntry,
};
use agencyops_store::{keys, Index, Item, Query, SkCondition, Table};
use axum::Router;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{json, Value};

pub fn routes() -> Router<agencyops_platform::Services> {
    agencyops_intake::routes()
        .merge(agencyops_time::routes())
        .merge(agencyops_approvals::routes())
        .merge(agencyops_invoicing::routes())
}

pub async fn setup() -> (App, Studio) {
    let app = App::new(routes());
    let s = studio(&app, "acme").await;
    (app, s)
}

pub fn now() -> Timestamp {
    Timestamp::from_second(NOW).unwrap()
}
pub fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}
pub fn dec(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {v}"))
        .parse()
        .unwrap()
}

/// An approved, billable entry of `minutes` at `rate`/h, written as approval leaves it.
pub fn approved_entry(
    person: &str,
    project: &str,
    date: &str,
    minutes: u32,
    rate: Decimal,
) -> TimeEntry {
    TimeEntry {
        id: new_id(),
        person_id: person.into(),
        project_id: project.into(),
        task_id: None,
        date: date.parse().unwrap(),
        minutes,
        note: "design work".into(),
        billable: true,
        status: WorkStatus::Approved,
        source: EntrySource::Manual,
        approval: Some(Approval {
            approved_by: "boss".into(),
            approved_at: now(),
            bill_rate: Some(rate),
            rate_source: None,
            currency: eur(),
            cost_rate: Some(Decimal::from(40)),
            cost_currency: Some(eur()),
            billed_minutes: minutes,
            value: value_of(minutes, rate).unwrap(),
            job_id: None,
        }),
        rejection: None,
        invoice_id: None,
        recorded_by: Some(person.into()),
        changed_by: Some(person.into()),
        version: 3,
        created_at: now(),
        updated_at: now(),
    }
}

pub fn approved_expense(
    person: &str,
    project: &str,
    date: &str,
    amount: Decimal,
    markup: Option<Decimal>,
) -> Expense {
    Expense {
        id: new_id(),
        person_id: person.into(),
        project_id: project.into(),
        date: date.parse().unwrap(),
        amount,
        currency: eur(),
        category: "travel".into(),
        note: "train".into(),
        billable: true,
        markup_percent: markup,
        status: WorkStatus::Approved,
        approval: Some(ExpenseApproval {
            approved_by: "boss".into(),
            approved_at: now(),
            approver_made_or_changed: false,
            billed_amount: agencyops_domain::timesheet::with_markup(amount, markup).unwrap(),
        }),
        rejection: None,
        invoice_id: None,
        receipt: None,
        recorded_by: None,
        changed_by: None,
        version: 3,
        created_at: now(),
        updated_at: now(),
    }
}

pub async fn store<R: Record>(app: &App, tenant: &str, recs: &[R]) {
    for chunk in recs.chunks(90) {
        let writes = chunk
            .iter()
            .map(|r| record::create(tenant, r).unwrap())
            .collect();
        app.embedded.transact(writes).await.unwrap();
    }
}

/// `n` approved entries of `minutes` each on the studio's project, spread over
/// November's weekdays so no day passes 24 hours.
pub async fn approved_work(
    app: &App,
    s: &Studio,
    n: usize,
    minutes: u32,
    rate: Decimal,
) -> Vec<TimeEntry> {
    let per_day = (24 * 60 / minutes.max(1)) as usize;
    let entries: Vec<TimeEntry> = (0..n)
        .map(|i| {
            let day = 2 + (i / per_day.max(1)) % 27;
            approved_entry(
                &s.member.person,
                &s.project,
                &format!("2026-11-{day:02}"),
                minutes,
                rate,
            )
        })
        .collect();
    store(app, &s.tenant, &entries).await;
    entries
}

/// A time-and-materials draft of all the client's unbilled work.
pub async fn draft(app: &App, s: &Studio, extra: Value) -> Res {
    let mut body = json!({"client_id": s.client, "kind": "time_and_materials"});
    if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
        for (k, v) in e {
            b.insert(k.clone(), v.clone());
        }
    }
    app.post(&s.finance, "/v1/invoices", body).await
}

/// Delivers every waiting invoice-builder message `times` times each (a
/// redelivery), as the SQS mapping would; returns how many were handled.
pub async fn run_builder(app: &App, times: usize) -> usize {
    let mut handled = 0;
    loop {
        let got = app
            .queue
            .receive(
                agencyops_invoicing::BUILDER_QUEUE,
                10,
                Duration::from_secs(60),
            )
            .await
            .unwrap();
        if got.is_empty() {
            return handled;
        }
        for m in got {
            for _ in 0..times {
                agencyops_invoicing::handle_build_message(&app.services, &m.body)
                    .await
                    .unwrap();
            }
            app.queue.delete(&m.receipt).await.unwrap();
            handled += 1;
        }
    }
}

/// Every item in `pk`'s partition.
async fn partition(app: &App, pk: String) -> Vec<Item> {
    all_items(&app.embedded, &Query::new(Index::Table, pk).limit(1000))
        .await
        .unwrap()
}

/// Every time entry and expense on the studio's projects.
pub async fn all_work(app: &App, s: &Studio) -> (Vec<TimeEntry>, Vec<Expense>) {
    let mut entries = Vec::new();
    let mut expenses = Vec::new();
    for p in [&s.project, &s.side_project] {
        let q = Query::new(Index::Gsi1, keys::project_time(&s.tenant, p)).limit(1000);
        entries.extend(record::all::<TimeEntry>(&app.embedded, &q).await.unwrap());
    }
    for person in [
        &s.admin,
        &s.finance,
        &s.manager,
        &s.other_manager,
        &s.member,
        &s.outsider,
        &s.contractor,
        &s.stray_contractor,
    ] {
        let q = Query::new(
            Index::Gsi1,
            keys::person_expenses(&s.tenant, &person.person),
        )
        .limit(1000);
        expenses.extend(record::all::<Expense>(&app.embedded, &q).await.unwrap());
    }
    (entries, expenses)
}

/// Every invoice of the tenant with its claim batches.
pub async fn all_invoices(app: &App, tenant: &str) -> Vec<(Invoice, Vec<ClaimBatch>)> {
    let q = Query::new(Index::Gsi1, keys::invoices(tenant)).limit(500);
    let mut out = Vec::new();
    for inv in record::all::<Invoice>(&app.embedded, &q).await.unwrap() {
        let batches = partition(app, keys::invoice_partition(tenant, &inv.id))
            .await
            .into_iter()
            .filter(is::<ClaimBatch>)
            .map(|i| from_item::<ClaimBatch>(i).unwrap())
            .collect();
        out.push((inv, batches));
    }
    out
}

/// The billing invariant: approved billable work is either in WIP or named by
/// exactly one unreleased batch of one live invoice (and says so itself);
/// nothing is on a void invoice unless it was voided keeping its work; and
/// every invoice number of a series appears once, with no gap.
pub async fn invariant(app: &App, s: &Studio) {
    let tenant = s.tenant.as_str();
    let (entries, expenses) = all_work(app, s).await;
    let invoices = all_invoices(app, tenant).await;
    let mut holders: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for (inv, batches) in &invoices {
        for b in batches.iter().filter(|b| !b.released) {
            for w in &b.work {
                holders
                    .entry(w.id.clone())
                    .or_default()
                    .push(inv.id.clone());
            }
        }
    }
    let status_of: BTreeMap<&str, &Invoice> =
        invoices.iter().map(|(i, _)| (i.id.as_str(), i)).collect();
    let work = entries
        .iter()
        .filter(|e| e.billable && matches!(e.status, WorkStatus::Approved | WorkStatus::Invoiced))
        .map(|e| (e.id.clone(), e.status, e.invoice_id.clone()))
        .chain(
            expenses
                .iter()
                .filter(|x| {
                    x.billable && matches!(x.status, WorkStatus::Approved | WorkStatus::Invoiced)
                })
                .map(|x| (x.id.clone(), x.status, x.invoice_id.clone())),
        );
    for (id, status, invoice_id) in work {
        let held = holders.remove(&id).unwrap_or_default();
        match (status, &invoice_id) {
            (WorkStatus::Approved, None) => {
                assert!(held.is_empty(), "{id} is in WIP and on invoice(s) {held:?}")
            }
            (WorkStatus::Invoiced, Some(inv)) => {
                assert_eq!(
                    held,
                    vec![inv.clone()],
                    "{id} says invoice {inv} but batches name {held:?}"
                );
                let i = status_of
                    .get(inv.as_str())
                    .unwrap_or_else(|| panic!("{id} is on missing invoice {inv}"));
                if i.status == agencyops_domain::invoice::InvoiceStatus::Void {
                    assert!(
                        i.keeps_work_when_void,
                        "{id} is still on void invoice {inv}"
                    );
                }
            }
            other => panic!("{id} is approved billable work in an impossible state {other:?}"),
        }
    }
    assert!(
        holders.is_empty(),
        "batches name work that is not approved billable work: {holders:?}"
    );
    let mut numbers: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    for (inv, _) in &invoices {
        if let Some(n) = &inv.number {
            let (series, seq) = n.rsplit_once('-').unwrap();
            numbers
                .entry(series.to_owned())
                .or_default()
                .push(seq.parse().unwrap());
        }
    }
    for (series, mut seqs) in numbers {
        seqs.sort();
        let expected: Vec<u64> = (1..=seqs.len() as u64).collect();
        assert_eq!(seqs, expected, "series {series} has gaps or repeats");
    }
}

/// How many pieces of work wait in WIP.
pub async fn unbilled_count(app: &App, tenant: &str) -> usize {
    all_items(
        &app.embedded,
        &Query::new(Index::Gsi2, keys::unbilled(tenant)).limit(1000),
    )
    .await
    .unwrap()
    .len()
}
