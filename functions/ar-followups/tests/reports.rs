//! The finance reports (ar-aging, dso, cash-forecast) and the aging job,
//! over the studio agency with invoices written as invoicing leaves them, so
//! every date in a test is chosen, not the clock's.

use std::time::Duration;

use agencyops_apitest::{studio, who, App, Studio, NOW};
use agencyops_ar_followups::daily;
use agencyops_domain::invoice::InvoiceStatus;
use agencyops_domain::timesheet::{value_of, WorkStatus};
use agencyops_domain::{Currency, MoneyRounding, Role};
use agencyops_platform::mail::{MailPurpose, OutgoingMail, MAIL_QUEUE};
use agencyops_platform::resource::new_id;
use agencyops_store::record::{self, load, Record};
use agencyops_store::records::{
    ActivityKind, Approval, ArSnapshot, BillTo, CreditNote, EntrySource, ExpenseGrouping, Invoice,
    InvoiceActivity, InvoiceDetail, InvoiceKind, Milestone, MilestoneStatus, Payment, TimeEntry,
    TimeGrouping,
};
use agencyops_store::{keys, Table};
use axum::Router;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{json, Value};

fn routes() -> Router<agencyops_platform::Services> {
    agencyops_intake::routes().merge(agencyops_ar_followups::routes())
}

async fn setup() -> (App, Studio) {
    let app = App::new(routes());
    let s = studio(&app, "acme").await;
    (app, s)
}

fn now() -> Timestamp {
    Timestamp::from_second(NOW).unwrap()
}
fn day(s: &str) -> Date {
    s.parse().unwrap()
}
fn at(s: &str) -> Timestamp {
    format!("{s}T12:00:00Z").parse().unwrap()
}
fn cur(c: &str) -> Currency {
    Currency::parse(c).unwrap()
}

/// An issued invoice as invoicing stores it: `total` in `currency`, last
/// changed now (so as-of reads must look at its payments).
fn invoice(client: &str, currency: &str, total: Decimal, issued: &str, due: &str) -> Invoice {
    Invoice {
        id: new_id(),
        client_id: client.into(),
        bill_to: BillTo::default(),
        kind: InvoiceKind::Manual,
        status: InvoiceStatus::Issued,
        number: Some(format!("2026-{}", &new_id()[..6])),
        currency: cur(currency),
        issue_date: Some(day(issued)),
        due_date: Some(day(due)),
        due_date_fixed: true,
        payment_terms_days: 30,
        po_number: None,
        notes: None,
        internal_note: None,
        selection: None,
        time_grouping: TimeGrouping::default(),
        detail: InvoiceDetail::default(),
        expense_grouping: ExpenseGrouping::default(),
        fixed_fee: None,
        milestone_ids: Vec::new(),
        lines: Vec::new(),
        discount: None,
        tax_rates: Vec::new(),
        default_tax_codes: Vec::new(),
        rounding: MoneyRounding::HalfUp,
        line_total: total,
        discount_total: Decimal::ZERO,
        tax_breakdown: Vec::new(),
        tax_total: Decimal::ZERO,
        total,
        amount_paid: Decimal::ZERO,
        amount_credited: Decimal::ZERO,
        written_off: None,
        claim_batches: 0,
        keeps_work_when_void: false,
        document: None,
        credit_note_ids: Vec::new(),
        created_by: "boss".into(),
        created_by_role: Role::Finance,
        issued_at: Some(at(issued)),
        last_sent_on: None,
        next_action_on: None,
        fee_for: None,
        version: 2,
        created_at: at(issued),
        updated_at: now(),
    }
}

fn payment(inv: &Invoice, amount: Decimal, date: &str) -> Payment {
    Payment {
        id: new_id(),
        invoice_id: inv.id.clone(),
        amount,
        currency: inv.currency,
        date: day(date),
        method: "bank".into(),
        reference: None,
        recorded_by: "fin".into(),
        reversed_at: None,
        reversed_by: None,
        version: 1,
        created_at: now(),
        updated_at: now(),
    }
}

fn credit(inv: &Invoice, total: Decimal, date: &str) -> CreditNote {
    CreditNote {
        id: new_id(),
        invoice_id: inv.id.clone(),
        client_id: inv.client_id.clone(),
        number: format!("CN-{}", &new_id()[..6]),
        issue_date: day(date),
        currency: inv.currency,
        reason: "goodwill".into(),
        lines: Vec::new(),
        tax_rates: Vec::new(),
        rounding: MoneyRounding::HalfUp,
        line_total: total,
        tax_breakdown: Vec::new(),
        tax_total: Decimal::ZERO,
        total,
        released_work: false,
        created_by: "fin".into(),
        version: 1,
        created_at: now(),
        updated_at: now(),
    }
}

async fn put<R: Record>(app: &App, tenant: &str, r: &R) {
    app.embedded
        .transact(vec![record::create(tenant, r).unwrap()])
        .await
        .unwrap();
}

/// Stores the invoice with its payments and credit notes, its paid and
/// credited amounts and status following from them, as invoicing keeps them.
async fn book(
    app: &App,
    tenant: &str,
    mut inv: Invoice,
    pays: &[(Decimal, &str)],
    credits: &[(Decimal, &str)],
) -> Invoice {
    for (a, d) in pays {
        put(app, tenant, &payment(&inv, *a, d)).await;
        inv.amount_paid += *a;
    }
    for (a, d) in credits {
        put(app, tenant, &credit(&inv, *a, d)).await;
        inv.amount_credited += *a;
    }
    if inv.status == InvoiceStatus::Issued {
        inv.status = agencyops_domain::invoice::PaymentState {
            total: inv.total,
            paid: inv.amount_paid,
            credited: inv.amount_credited,
        }
        .status();
    }
    put(app, tenant, &inv).await;
    inv
}

fn row<'a>(report: &'a Value, client: &str, currency: &str) -> &'a Value {
    report["clients"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["client_id"] == client && r["currency"] == currency)
        .unwrap_or_else(|| panic!("no row for {client} {currency} in {report}"))
}

fn total<'a>(report: &'a Value, currency: &str) -> &'a Value {
    report["totals"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["currency"] == currency)
        .unwrap_or_else(|| panic!("no {currency} total in {report}"))
}

async fn aging(app: &App, s: &Studio, as_of: &str) -> Value {
    app.get(&s.finance, &format!("/v1/reports/ar-aging?as_of={as_of}"))
        .await
        .expect(200)
        .body
}

#[tokio::test]
async fn as_of_aging_ignores_later_payments_in_2746_7121() {
    let (app, s) = setup().await;
    let t = s.tenant.as_str();
    // Issued 1 Sep, due 1 Oct: 400 paid on 20 Oct, 100 credited on 10 Nov.
    book(
        &app,
        t,
        invoice(&s.client, "EUR", dec!(1000), "2026-09-01", "2026-10-01"),
        &[(dec!(400), "2026-10-20")],
        &[(dec!(100), "2026-11-10")],
    )
    .await;
    // Issued after the first day asked about: not yet owed then.
    book(
        &app,
        t,
        invoice(&s.client, "EUR", dec!(50), "2026-10-16", "2026-11-15"),
        &[],
        &[],
    )
    .await;
    // Voided on 1 Nov: owed before, not after.
    let mut voided = invoice(&s.client, "EUR", dec!(7), "2026-09-10", "2026-10-10");
    voided.status = InvoiceStatus::Void;
    voided.updated_at = at("2026-11-01");
    book(&app, t, voided, &[], &[]).await;

    let r = aging(&app, &s, "2026-10-15").await;
    let c = row(&r, &s.client, "EUR");
    assert_eq!(
        c["days_1_30"], "1007.00",
        "the later payment, credit and void do not count: {r}"
    );
    assert_eq!(c["total"], "1007.00");
    assert_eq!(c["client_name"], "Northwind");

    let r = aging(&app, &s, "2026-10-31").await;
    let c = row(&r, &s.client, "EUR");
    assert_eq!(c["current"], "50.00");
    assert_eq!(
        c["days_1_30"], "607.00",
        "30 days past due, less the 20 Oct payment"
    );

    let r = aging(&app, &s, "2026-11-15").await;
    let c = row(&r, &s.client, "EUR");
    assert_eq!(c["current"], "50.00", "due today is current");
    assert_eq!(c["days_31_60"], "500.00", "credit counted, void gone");
    assert_eq!(total(&r, "EUR")["total"], "550.00");

    // A payment reversed later still counted on the days before its reversal.
    let mut reversed = invoice(&s.client, "EUR", dec!(300), "2026-10-01", "2026-10-31");
    reversed.updated_at = now();
    let mut p = payment(&reversed, dec!(300), "2026-10-05");
    p.reversed_at = Some(at("2026-11-12"));
    put(&app, t, &p).await;
    put(&app, t, &reversed).await;
    let r = aging(&app, &s, "2026-11-11").await;
    assert_eq!(
        row(&r, &s.client, "EUR")["total"],
        "550.00",
        "paid then: {r}"
    );
    let r = aging(&app, &s, "2026-11-12").await;
    assert_eq!(
        row(&r, &s.client, "EUR")["total"],
        "850.00",
        "owed again from the reversal"
    );
}

#[tokio::test]
async fn buckets_at_boundaries_day_0_1_30_31_60_61_90_91() {
    let (app, s) = setup().await;
    let as_of = day("2026-11-20");
    // Days past due -> a distinct amount, so each bucket's sum names its members.
    let cases = [
        (0, 1),
        (1, 2),
        (30, 4),
        (31, 8),
        (60, 16),
        (61, 32),
        (90, 64),
        (91, 128),
    ];
    for (days, amount) in cases {
        let due = as_of.checked_sub(jiff::Span::new().days(days)).unwrap();
        let issued = due.checked_sub(jiff::Span::new().days(30)).unwrap();
        let inv = invoice(
            &s.client,
            "EUR",
            Decimal::from(amount),
            &issued.to_string(),
            &due.to_string(),
        );
        book(&app, &s.tenant, inv, &[], &[]).await;
    }
    let r = aging(&app, &s, "2026-11-20").await;
    let c = row(&r, &s.client, "EUR");
    assert_eq!(c["current"], "1.00", "day 0");
    assert_eq!(c["days_1_30"], "6.00", "days 1 and 30");
    assert_eq!(c["days_31_60"], "24.00", "days 31 and 60");
    assert_eq!(c["days_61_90"], "96.00", "days 61 and 90");
    assert_eq!(c["days_over_90"], "128.00", "day 91");
    assert_eq!(c["total"], "255.00");
}

#[tokio::test]
async fn currencies_are_kept_apart() {
    let (app, s) = setup().await;
    let usd_client = app
        .create(
            &s.admin,
            "/v1/clients",
            json!({"name": "Contoso", "currency": "USD"}),
        )
        .await;
    let jpy_client = app
        .create(
            &s.admin,
            "/v1/clients",
            json!({"name": "Kaisha", "currency": "JPY"}),
        )
        .await;
    book(
        &app,
        &s.tenant,
        invoice(&s.client, "EUR", dec!(100.10), "2026-11-01", "2026-12-01"),
        &[],
        &[],
    )
    .await;
    book(
        &app,
        &s.tenant,
        invoice(&usd_client, "USD", dec!(200.20), "2026-11-01", "2026-11-10"),
        &[],
        &[],
    )
    .await;
    book(
        &app,
        &s.tenant,
        invoice(&jpy_client, "JPY", dec!(5000), "2026-11-01", "2026-12-01"),
        &[],
        &[],
    )
    .await;
    let r = aging(&app, &s, "2026-11-20").await;
    assert_eq!(row(&r, &s.client, "EUR")["current"], "100.10");
    assert_eq!(row(&r, &usd_client, "USD")["days_1_30"], "200.20");
    assert_eq!(
        row(&r, &jpy_client, "JPY")["current"],
        "5000",
        "no minor digits for JPY"
    );
    assert_eq!(total(&r, "EUR")["total"], "100.10");
    assert_eq!(total(&r, "USD")["total"], "200.20");
    assert_eq!(total(&r, "JPY")["total"], "5000");
    assert_eq!(
        r["totals"].as_array().unwrap().len(),
        3,
        "one total per currency, never a sum across"
    );
}

#[tokio::test]
async fn dso_countback_over_calendar_months_and_simple() {
    let (app, s) = setup().await;
    let t = s.tenant.as_str();
    // Monthly credit sales of 100k, 80k and 70k walking back from 20 Nov, and
    // 212k still owed at its end (38k of the oldest paid).
    book(
        &app,
        t,
        invoice(&s.client, "EUR", dec!(100000), "2026-11-01", "2026-12-01"),
        &[],
        &[],
    )
    .await;
    book(
        &app,
        t,
        invoice(&s.client, "EUR", dec!(80000), "2026-10-01", "2026-10-31"),
        &[],
        &[],
    )
    .await;
    book(
        &app,
        t,
        invoice(&s.client, "EUR", dec!(70000), "2026-09-01", "2026-10-01"),
        &[(dec!(38000), "2026-10-15")],
        &[],
    )
    .await;
    let r = app
        .get(&s.finance, "/v1/reports/dso?from=2026-08-23&to=2026-11-20")
        .await
        .expect(200)
        .body;
    let tot = total(&r, "EUR");
    assert_eq!(tot["ending_ar"], "212000.00");
    assert_eq!(tot["credit_sales"], "250000.00");
    let days = |m: &str| {
        tot["dso"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["method"] == m)
            .unwrap_or_else(|| panic!("no {m} in {tot}"))["days"]
            .clone()
    };
    // Months 21 Oct-20 Nov (31 days), 21 Sep-20 Oct (30), 21 Aug-20 Sep (31):
    // 31 + 30 + 32/70 x 31 = 75.17.
    assert_eq!(days("countback"), "75.2");
    // 212k / 250k x 90 days.
    assert_eq!(days("simple"), "76.3");
    assert_eq!(r["ending_ar_source"], "computed");
    let methods: Vec<&str> = r["methods"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["method"].as_str().unwrap())
        .collect();
    assert_eq!(methods, ["countback", "simple", "average_ar"]);
    assert_eq!(row(&r, &s.client, "EUR")["ending_ar"], "212000.00");
}

#[tokio::test]
async fn dso_reads_the_snapshot_for_ending_ar_and_average_days_to_pay() {
    let (app, s) = setup().await;
    let t = s.tenant.as_str();
    // Issued 1 Oct, settled by the second payment on 31 Oct: 30 days to pay.
    let mut paid = invoice(&s.client, "EUR", dec!(1000), "2026-10-01", "2026-10-31");
    paid.updated_at = at("2026-10-31");
    book(
        &app,
        t,
        paid,
        &[(dec!(600), "2026-10-10"), (dec!(400), "2026-10-31")],
        &[],
    )
    .await;
    // Issued 1 Nov, settled 11 Nov: 10 days.
    book(
        &app,
        t,
        invoice(&s.client, "EUR", dec!(500), "2026-11-01", "2026-12-01"),
        &[(dec!(500), "2026-11-11")],
        &[],
    )
    .await;
    // Still open.
    book(
        &app,
        t,
        invoice(&s.client, "EUR", dec!(300), "2026-11-05", "2026-12-05"),
        &[],
        &[],
    )
    .await;
    // Settled by a credit note: not a payment, not counted in days to pay.
    book(
        &app,
        t,
        invoice(&s.client, "EUR", dec!(10), "2026-11-02", "2026-12-02"),
        &[],
        &[(dec!(10), "2026-11-03")],
    )
    .await;

    app.embedded
        .transact(vec![daily::register_tenant(t)])
        .await
        .unwrap();
    daily::run(&app.services, day("2026-11-20")).await.unwrap();
    let r = app
        .get(&s.finance, "/v1/reports/dso?from=2026-10-01&to=2026-11-20")
        .await
        .expect(200)
        .body;
    assert_eq!(r["ending_ar_source"], "snapshot");
    assert_eq!(r["opening_ar_source"], "computed");
    let tot = total(&r, "EUR");
    assert_eq!(tot["ending_ar"], "300.00");
    assert_eq!(tot["average_days_to_pay"], "20.0", "(30 + 10) / 2");
    assert_eq!(tot["invoices_paid"], 2);

    // With the opening day's snapshot too, both AR figures come from snapshots
    // and only the invoices paid in the period are read in detail.
    daily::run(&app.services, day("2026-09-30")).await.unwrap();
    let again = app
        .get(&s.finance, "/v1/reports/dso?from=2026-10-01&to=2026-11-20")
        .await
        .expect(200)
        .body;
    assert_eq!(again["opening_ar_source"], "snapshot");
    let tot = total(&again, "EUR");
    assert_eq!(tot["opening_ar"], "0.00");
    assert_eq!(tot["ending_ar"], "300.00");
    assert_eq!(tot["average_days_to_pay"], "20.0");
    assert_eq!(tot["credit_sales"], "1810.00");
}

async fn run_days(app: &App, tenant: &str, days: &[&str]) -> Vec<daily::DailyRun> {
    app.embedded
        .transact(vec![daily::register_tenant(tenant)])
        .await
        .unwrap();
    let mut out = Vec::new();
    for d in days {
        out.push(daily::run(&app.services, day(d)).await.unwrap());
    }
    out
}

async fn snapshot_item(app: &App, tenant: &str, d: &str) -> Option<agencyops_store::Item> {
    app.embedded
        .get(&keys::ar_snapshot(tenant, d))
        .await
        .unwrap()
}

#[tokio::test]
async fn snapshot_is_idempotent_over_two_runs() {
    let (app, s) = setup().await;
    let t = s.tenant.as_str();
    book(
        &app,
        t,
        invoice(&s.client, "EUR", dec!(1000), "2026-10-01", "2026-10-31"),
        &[(dec!(250), "2026-11-02")],
        &[],
    )
    .await;
    run_days(&app, t, &["2026-11-20"]).await;
    let first = snapshot_item(&app, t, "2026-11-20")
        .await
        .expect("snapshot kept");
    app.clock.advance(jiff::SignedDuration::from_hours(1));
    let again = run_days(&app, t, &["2026-11-20"]).await;
    let second = snapshot_item(&app, t, "2026-11-20").await.unwrap();
    assert_eq!(
        first, second,
        "the same day writes the same item with the same content"
    );
    assert_eq!(again[0].tenants[0].reports.invoices_owed, 1);
    let snap: ArSnapshot = load(&app.embedded, &keys::ar_snapshot(t, "2026-11-20"))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(snap.invoices.len(), 1);
    assert_eq!(snap.invoices[0].balance, dec!(750));
    assert_eq!(
        snap.invoices[0].bucket,
        agencyops_domain::receivables::Bucket::Days1To30
    );
    // One item per day.
    run_days(&app, t, &["2026-11-21"]).await;
    assert!(snapshot_item(&app, t, "2026-11-21").await.is_some());
    assert_eq!(snapshot_item(&app, t, "2026-11-20").await.unwrap(), first);
}

async fn mails(app: &App) -> Vec<OutgoingMail> {
    let got = app
        .queue
        .receive(MAIL_QUEUE, 10, Duration::from_secs(60))
        .await
        .unwrap();
    let mut out = Vec::new();
    for m in got {
        out.push(serde_json::from_str::<OutgoingMail>(&m.body).unwrap());
        app.queue.delete(&m.receipt).await.unwrap();
    }
    out
}

#[tokio::test]
async fn digest_queued_once_per_monday_not_on_other_days_not_twice() {
    let (app, s) = setup().await;
    let t = s.tenant.as_str();
    // Due Monday 16 Nov: current that day, 7 days past due the next Monday.
    let moving = book(
        &app,
        t,
        invoice(&s.client, "EUR", dec!(1200), "2026-10-17", "2026-11-16"),
        &[],
        &[],
    )
    .await;
    // Falls due in the week of 23 Nov.
    let due_soon = book(
        &app,
        t,
        invoice(&s.client, "EUR", dec!(80), "2026-10-26", "2026-11-25"),
        &[],
        &[],
    )
    .await;
    let reminder = InvoiceActivity {
        id: "reminder-1".into(),
        invoice_id: moving.id.clone(),
        activity: ActivityKind::Reminder,
        on: day("2026-11-18"),
        at: at("2026-11-18"),
        details: serde_json::from_value(json!({"stage": "first nudge"})).unwrap(),
        version: 1,
        created_at: now(),
        updated_at: now(),
    };
    put(&app, t, &reminder).await;

    run_days(&app, t, &["2026-11-16"]).await;
    let first = mails(&app).await;
    assert_eq!(first.len(), 1, "Monday 16 Nov queues its digest");
    run_days(&app, t, &["2026-11-17", "2026-11-22"]).await;
    assert!(mails(&app).await.is_empty(), "no digest on other days");

    let runs = run_days(&app, t, &["2026-11-23", "2026-11-23"]).await;
    let second = mails(&app).await;
    assert_eq!(second.len(), 1, "one digest however often Monday runs");
    assert_eq!(
        runs[0].tenants[0].reports.digest_queued.as_deref(),
        Some("digest-acme-2026-W48")
    );
    assert_eq!(runs[1].tenants[0].reports.digest_queued, None);
    let m = &second[0];
    assert_eq!(m.id, "digest-acme-2026-W48");
    assert_eq!(
        m.purpose,
        MailPurpose::Digest {
            week: "2026-W48".into()
        }
    );
    assert!(
        m.to.contains(&"fin@acme.io".to_owned()),
        "finance reads it: {:?}",
        m.to
    );
    assert!(
        !m.to
            .iter()
            .any(|e| e.starts_with("mia@") || e.starts_with("rui@")),
        "managers and members do not: {:?}",
        m.to
    );
    let n = |i: &Invoice| i.number.clone().unwrap();
    assert!(m.text.contains("Northwind"), "{}", m.text);
    assert!(
        m.text.contains(&format!(
            "{} (Northwind): current -> days_1_30, 1200.00 EUR owed",
            n(&moving)
        )),
        "moved a bucket: {}",
        m.text
    );
    assert!(
        m.text.contains(&format!(
            "{} (Northwind), due 2026-11-25: 80.00 EUR",
            n(&due_soon)
        )),
        "due this week: {}",
        m.text
    );
    assert!(
        m.text.contains(&format!(
            "{} (Northwind) on 2026-11-18: first nudge",
            n(&moving)
        )),
        "reminders: {}",
        m.text
    );
}

#[tokio::test]
async fn cash_forecast_scenarios_on_a_small_agency_with_known_history() {
    let (app, s) = setup().await;
    let t = s.tenant.as_str();
    // History: paid 10 and 20 days late (average 15, worst 20).
    book(
        &app,
        t,
        invoice(&s.client, "EUR", dec!(100), "2026-08-01", "2026-09-01"),
        &[(dec!(100), "2026-09-11")],
        &[],
    )
    .await;
    book(
        &app,
        t,
        invoice(&s.client, "EUR", dec!(100), "2026-09-01", "2026-10-01"),
        &[(dec!(100), "2026-10-21")],
        &[],
    )
    .await;
    // Open: 1000 due Wed 25 Nov (today is Fri 20 Nov).
    book(
        &app,
        t,
        invoice(&s.client, "EUR", dec!(1000), "2026-10-26", "2026-11-25"),
        &[],
        &[],
    )
    .await;
    // WIP: 10 h at 100 approved, not invoiced; the client pays on 30 days.
    let entry = TimeEntry {
        id: new_id(),
        person_id: s.member.person.clone(),
        project_id: s.project.clone(),
        task_id: None,
        date: day("2026-11-18"),
        minutes: 600,
        note: "design".into(),
        billable: true,
        status: WorkStatus::Approved,
        source: EntrySource::Manual,
        approval: Some(Approval {
            approved_by: "boss".into(),
            approved_at: now(),
            bill_rate: Some(dec!(100)),
            rate_source: None,
            currency: cur("EUR"),
            cost_rate: None,
            cost_currency: None,
            billed_minutes: 600,
            value: value_of(600, dec!(100)).unwrap(),
            job_id: None,
        }),
        rejection: None,
        invoice_id: None,
        recorded_by: None,
        changed_by: None,
        version: 3,
        created_at: now(),
        updated_at: now(),
    };
    put(&app, t, &entry).await;
    // A reached milestone not yet invoiced.
    let milestone = Milestone {
        id: new_id(),
        project_id: s.project.clone(),
        name: "Concepts".into(),
        due_on: None,
        currency: cur("EUR"),
        amount: Some(dec!(500)),
        status: MilestoneStatus::Reached,
        invoice_id: None,
        version: 1,
        created_at: now(),
        updated_at: now(),
    };
    put(&app, t, &milestone).await;

    let r = app
        .get(&s.finance, "/v1/reports/cash-forecast?weeks=13")
        .await
        .expect(200)
        .body;
    assert_eq!(r["starts_on"], "2026-11-20");
    let scenario = |name: &str| {
        let sc = r["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .find(|x| x["scenario"] == name)
            .unwrap_or_else(|| panic!("no {name}"));
        assert!(!sc["assumptions"].as_array().unwrap().is_empty());
        let eur = &sc["currencies"][0];
        assert_eq!(eur["currency"], "EUR");
        assert_eq!(eur["weeks"].as_array().unwrap().len(), 13);
        eur.clone()
    };
    let week = |eur: &Value, w: usize, field: &str| {
        eur["weeks"][w - 1][field].as_str().unwrap().to_owned()
    };

    // Best: paid on the due date; WIP and milestone invoiced today, paid on 30 days (20 Dec, week 5).
    let best = scenario("best");
    assert_eq!(week(&best, 1, "open_invoices"), "1000.00");
    assert_eq!(week(&best, 5, "work_in_progress"), "1000.00");
    assert_eq!(week(&best, 5, "milestones"), "500.00");
    assert_eq!(week(&best, 5, "total"), "1500.00");
    assert_eq!(best["total_in_window"], "2500.00");
    // Base: 15 days late on average: 10 Dec (week 3); WIP 4 Jan (week 7).
    let base = scenario("base");
    assert_eq!(week(&base, 1, "open_invoices"), "0.00");
    assert_eq!(week(&base, 3, "open_invoices"), "1000.00");
    assert_eq!(week(&base, 7, "work_in_progress"), "1000.00");
    // Conservative: worst 20 < 15 + 7, so 22 days late: 17 Dec (week 4);
    // WIP invoiced in 14 days, 30 terms, 22 late: 66 days, week 10.
    let cons = scenario("conservative");
    assert_eq!(week(&cons, 4, "open_invoices"), "1000.00");
    assert_eq!(week(&cons, 10, "work_in_progress"), "1000.00");
    assert_eq!(week(&cons, 10, "milestones"), "500.00");

    let hist = r["history"]
        .as_array()
        .unwrap()
        .iter()
        .find(|h| h["client_id"] == s.client.as_str())
        .unwrap();
    assert_eq!(hist["average_days_late"], "15.0");
    assert_eq!(hist["worst_days_late"], 20);
    assert_eq!(hist["invoices_paid"], 2);
    assert_eq!(
        r["not_included"],
        serde_json::json!([]),
        "every source is read"
    );

    // A retainer of 300.00 a month from 1 Dec: each period is invoiced on its
    // start and paid after 30 days' terms (best: on the due date), so 31 Dec
    // (week 6) and 31 Jan (week 11); February's falls after the window.
    app.put(
        &s.finance,
        &format!("/v1/projects/{}/recurring", s.project),
        serde_json::json!({"amount": "300.00", "period": "monthly", "day_of_month": 1, "start_on": "2026-12-01"}),
    )
    .await
    .expect(201);
    let with_retainer = app
        .get(&s.finance, "/v1/reports/cash-forecast?weeks=13")
        .await
        .expect(200)
        .body;
    let best_eur = with_retainer["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["scenario"] == "best")
        .unwrap()["currencies"][0]
        .clone();
    assert_eq!(week(&best_eur, 6, "recurring"), "300.00", "{best_eur}");
    assert_eq!(week(&best_eur, 11, "recurring"), "300.00", "{best_eur}");
    assert_eq!(best_eur["total_in_window"], "3100.00");

    // A shorter window pushes the conservative WIP (and December's retainer,
    // due 31 Dec) beyond it.
    let r = app
        .get(&s.finance, "/v1/reports/cash-forecast?weeks=4")
        .await
        .expect(200)
        .body;
    let cons = r["scenarios"]
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["scenario"] == "conservative")
        .unwrap()
        .clone();
    assert_eq!(cons["currencies"][0]["after_window"], "1800.00");
    assert_eq!(cons["currencies"][0]["total_in_window"], "1000.00");
}

const PATHS: [&str; 3] = [
    "/v1/reports/ar-aging?as_of=2026-11-20",
    "/v1/reports/dso?from=2026-10-01&to=2026-11-20",
    "/v1/reports/cash-forecast?weeks=13",
];

#[tokio::test]
async fn role_and_tenant_matrix_on_every_report() {
    let (app, s) = setup().await;
    book(
        &app,
        &s.tenant,
        invoice(&s.client, "EUR", dec!(1000), "2026-10-01", "2026-10-31"),
        &[],
        &[],
    )
    .await;
    let other = studio(&app, "globex").await;
    for path in PATHS {
        for caller in [&s.admin, &s.finance, &s.manager, &s.other_manager] {
            let r = app.get(caller, path).await;
            assert_eq!(r.status, 200, "{} reads {path}: {}", caller.role, r.body);
        }
        for caller in [&s.member, &s.outsider, &s.contractor, &s.client_user] {
            let r = app.get(caller, path).await;
            assert_eq!(
                r.status, 403,
                "{} must not read {path}: {}",
                caller.role, r.body
            );
            assert!(r.problem_type().contains("forbidden"), "{}", r.body);
        }
        // Another tenant's finance sees only its own (empty) books.
        let r = app.get(&other.finance, path).await.expect(200).body;
        let text = r.to_string();
        assert!(
            !text.contains(&s.client),
            "{path} leaks acme's client to globex: {text}"
        );
        assert!(
            !text.contains("1000.00"),
            "{path} leaks acme's money: {text}"
        );
    }
    // The same role name from another tenant's token reads nothing of acme's.
    let stranger = who("globex", "boss", "admin");
    let r = app.get(&stranger, PATHS[0]).await.expect(200).body;
    assert!(r["clients"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn bad_query_parameters_are_400_problems_naming_the_field() {
    let (app, s) = setup().await;
    let cases = [
        ("/v1/reports/ar-aging?as_of=yesterday", "query.as_of"),
        ("/v1/reports/ar-aging?as_of=2026-02-30", "query.as_of"),
        ("/v1/reports/ar-aging?asof=2026-11-20", "query"),
        (
            "/v1/reports/dso?from=2026-11-21&to=2026-11-20",
            "query.from",
        ),
        (
            "/v1/reports/dso?from=2024-01-01&to=2026-11-20",
            "query.from",
        ),
        ("/v1/reports/dso?to=2026-13-01", "query.to"),
        ("/v1/reports/dso?from=2026-01-01&extra=1", "query"),
        ("/v1/reports/cash-forecast?weeks=0", "query.weeks"),
        ("/v1/reports/cash-forecast?weeks=53", "query.weeks"),
        ("/v1/reports/cash-forecast?weeks=-1", "query.weeks"),
        ("/v1/reports/cash-forecast?weeks=ten", "query.weeks"),
        ("/v1/reports/cash-forecast?weeks=1.5", "query.weeks"),
    ];
    for (path, field) in cases {
        let r = app.get(&s.finance, path).await;
        assert_eq!(r.status, 400, "{path}: {}", r.body);
        assert!(
            r.fields().iter().any(|f| f.starts_with(field)),
            "{path} names {field}: {}",
            r.body
        );
    }
    // Edges that are fine.
    for path in [
        "/v1/reports/cash-forecast?weeks=1",
        "/v1/reports/cash-forecast?weeks=52",
        "/v1/reports/cash-forecast",
        "/v1/reports/ar-aging",
        "/v1/reports/dso",
        "/v1/reports/dso?from=2026-11-20&to=2026-11-20",
    ] {
        app.get(&s.finance, path).await.expect(200);
    }
}

/// Counts the store round trips the reports make.
struct Counting {
    inner: std::sync::Arc<dyn Table>,
    reads: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[async_trait::async_trait]
impl Table for Counting {
    async fn get(
        &self,
        key: &agencyops_store::Key,
    ) -> agencyops_store::StoreResult<Option<agencyops_store::Item>> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.get(key).await
    }
    async fn batch_get(
        &self,
        keys: &[agencyops_store::Key],
    ) -> agencyops_store::StoreResult<Vec<agencyops_store::Item>> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.batch_get(keys).await
    }
    async fn query(
        &self,
        query: &agencyops_store::Query,
    ) -> agencyops_store::StoreResult<agencyops_store::Page> {
        self.reads.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.query(query).await
    }
    async fn transact(
        &self,
        writes: Vec<agencyops_store::Write>,
    ) -> agencyops_store::StoreResult<()> {
        self.inner.transact(writes).await
    }
    async fn increment(
        &self,
        key: &agencyops_store::Key,
        attr: &str,
        by: i64,
    ) -> agencyops_store::StoreResult<i64> {
        self.inner.increment(key, attr, by).await
    }
}

/// n = 253 invoices, 3 of them paid: the reading cost is ceil(n / 200) index
/// pages plus one partition per invoice the answer depends on, plus the
/// report's own look-ups.
#[tokio::test]
async fn reads_grow_with_touched_invoices_not_with_all_of_them() {
    let reads = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = reads.clone();
    let app = App::with_table(routes(), move |inner| {
        std::sync::Arc::new(Counting {
            inner,
            reads: counter,
        })
    });
    let s = studio(&app, "acme").await;
    let t = s.tenant.as_str();
    let mut open = Vec::new();
    for _ in 0..250 {
        let mut inv = invoice(&s.client, "EUR", dec!(10), "2026-10-01", "2026-10-31");
        inv.updated_at = at("2026-10-01");
        open.push(inv);
    }
    for chunk in open.chunks(90) {
        let writes = chunk
            .iter()
            .map(|i| record::create(t, i).unwrap())
            .collect();
        app.embedded.transact(writes).await.unwrap();
    }
    for _ in 0..3 {
        book(
            &app,
            t,
            invoice(&s.client, "EUR", dec!(10), "2026-10-01", "2026-10-31"),
            &[(dec!(10), "2026-11-05")],
            &[],
        )
        .await;
    }
    let cost = |path: &'static str| {
        let app = &app;
        let s = &s;
        let reads = reads.clone();
        async move {
            reads.store(0, std::sync::atomic::Ordering::SeqCst);
            let r = app.get(&s.finance, path).await.expect(200);
            (reads.load(std::sync::atomic::Ordering::SeqCst), r.body)
        }
    };
    let (n, r) = cost("/v1/reports/ar-aging?as_of=2026-11-20").await;
    assert_eq!(total(&r, "EUR")["total"], "2500.00");
    // The caller's person record (1), 2 index pages, 3 partitions, client names (1).
    assert_eq!(
        n,
        1 + 2 + 3 + 1,
        "as of today, untouched invoices cost no partition read"
    );
    let (n, r) = cost("/v1/reports/ar-aging?as_of=2026-10-15").await;
    assert_eq!(total(&r, "EUR")["total"], "2530.00");
    assert_eq!(
        n,
        1 + 2 + 3 + 1,
        "untouched since before the day asked: still none"
    );
    let (n, _) = cost("/v1/reports/ar-aging?as_of=2026-09-30").await;
    assert_eq!(
        n,
        1 + 2 + 253 + 1,
        "changed after the day asked: every partition is read"
    );
    // Forecast: the paid ones only, then clients, projects, WIP, each of the 2
    // projects' milestones and the recurring schedules.
    let (n, _) = cost("/v1/reports/cash-forecast").await;
    assert_eq!(n, 1 + 2 + 3 + 1 + 1 + 1 + 2 + 1);
}
