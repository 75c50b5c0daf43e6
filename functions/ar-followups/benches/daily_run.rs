//! The daily reminder run over 100,000 open invoices of which 1,000 are due:
//! wall time and table reads, counted by a wrapper around the Table port.
//! Reads must grow with what is due (the sparse due index), not with all
//! invoices. Run: `cargo bench --workspace --profile dev --bench daily_run`
//! (the dev profile keeps the dependencies at opt-level 1).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

use agencyops_domain::invoice::InvoiceStatus;
use agencyops_domain::{Currency, MoneyRounding, Role};
use agencyops_platform::clock::ManualClock;
use agencyops_platform::Services;
use agencyops_store::record;
use agencyops_store::records::{
    BillTo, Client, DunningPolicy, DunningStage, Invoice, InvoiceDetail, InvoiceKind, LateFee,
    TimeGrouping,
};
use agencyops_store::{EmbeddedTable, Item, Key, Page, Query, StoreResult, Table, Write};
use async_trait::async_trait;
use jiff::civil::Date;
use jiff::Timestamp;
use rust_decimal::Decimal;

#[derive(Default)]
struct Counts {
    gets: AtomicUsize,
    batch_gets: AtomicUsize,
    batch_keys: AtomicUsize,
    queries: AtomicUsize,
    query_items: AtomicUsize,
    transacts: AtomicUsize,
}

impl Counts {
    fn take(&self) -> [usize; 6] {
        [
            self.gets.swap(0, Ordering::SeqCst),
            self.batch_gets.swap(0, Ordering::SeqCst),
            self.batch_keys.swap(0, Ordering::SeqCst),
            self.queries.swap(0, Ordering::SeqCst),
            self.query_items.swap(0, Ordering::SeqCst),
            self.transacts.swap(0, Ordering::SeqCst),
        ]
    }
}

struct Counting {
    inner: Arc<dyn Table>,
    counts: Arc<Counts>,
}

#[async_trait]
impl Table for Counting {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.counts.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        self.counts.batch_gets.fetch_add(1, Ordering::SeqCst);
        self.counts
            .batch_keys
            .fetch_add(keys.len(), Ordering::SeqCst);
        self.inner.batch_get(keys).await
    }
    async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.counts.queries.fetch_add(1, Ordering::SeqCst);
        let page = self.inner.query(query).await?;
        self.counts
            .query_items
            .fetch_add(page.items.len(), Ordering::SeqCst);
        Ok(page)
    }
    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        self.counts.transacts.fetch_add(1, Ordering::SeqCst);
        self.inner.transact(writes).await
    }
    async fn increment(&self, key: &Key, attr: &str, by: i64) -> StoreResult<i64> {
        self.counts.transacts.fetch_add(1, Ordering::SeqCst);
        self.inner.increment(key, attr, by).await
    }
}

const TENANT: &str = "bench";
const INVOICES: usize = 100_000;
const DUE: usize = 1_000;

fn invoice(i: usize, due: Date, next: Date, now: Timestamp) -> Invoice {
    let eur = Currency::parse("EUR").expect("EUR");
    let total = Decimal::from(100 + (i % 900) as i64);
    Invoice {
        id: format!("01900000-0000-7000-8000-{i:012}"),
        client_id: "client".into(),
        bill_to: BillTo {
            name: "Northwind".into(),
            email: None,
        },
        kind: InvoiceKind::Manual,
        status: InvoiceStatus::Issued,
        number: Some(format!("2026-{i:06}")),
        currency: eur,
        issue_date: Some(Date::constant(2026, 11, 1)),
        due_date: Some(due),
        due_date_fixed: true,
        payment_terms_days: 30,
        po_number: None,
        notes: None,
        internal_note: None,
        selection: None,
        time_grouping: TimeGrouping::Project,
        detail: InvoiceDetail::Summary,
        expense_grouping: Default::default(),
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
        created_by: "bench".into(),
        created_by_role: Role::Finance,
        issued_at: Some(now),
        last_sent_on: None,
        next_action_on: Some(next),
        fee_for: None,
        version: 1,
        created_at: now,
        updated_at: now,
    }
}

fn days(d: Date, n: i64) -> Date {
    d.checked_add(jiff::Span::new().days(n)).expect("date")
}

#[tokio::main]
async fn main() {
    let dir = tempfile::tempdir().expect("tempdir");
    let embedded = EmbeddedTable::open(&dir.path().join("store.db")).expect("store");
    let now = Timestamp::from_second(1_795_176_000).expect("now");
    let clock = ManualClock::at(now);
    let (mut services, _queue) =
        Services::embedded(embedded.clone(), Arc::new(clock), b"bench".to_vec()).expect("services");
    let as_of = Date::constant(2026, 12, 15);

    let policy = DunningPolicy {
        stages: vec![
            DunningStage {
                name: "due".into(),
                offset_days: 0,
                subject: "Invoice {number} is due".into(),
                body: "{balance} is due today.".into(),
                late_fee: None,
            },
            DunningStage {
                name: "late".into(),
                offset_days: 14,
                subject: "Invoice {number} is overdue".into(),
                body: "{balance} is {days_overdue} days overdue.".into(),
                late_fee: Some(LateFee {
                    flat: Some(Decimal::from(10)),
                    percent: Some(Decimal::ONE),
                    statutory: None,
                }),
            },
        ],
        ..DunningPolicy::none(now)
    };
    let client = Client {
        id: "client".into(),
        name: "Northwind".into(),
        currency: Currency::parse("EUR").expect("EUR"),
        payment_terms_days: 30,
        tax_rates: Vec::new(),
        billing_email: Some("ap@northwind.test".into()),
        default_rate: None,
        rounding: None,
        invoice_preferences: Default::default(),
        archived: false,
        version: 1,
        created_at: now,
        updated_at: now,
    };
    embedded
        .transact(vec![
            record::create(TENANT, &policy).expect("policy"),
            record::create(TENANT, &client).expect("client"),
            agencyops_ar_followups::daily::register_tenant(TENANT),
        ])
        .await
        .expect("setup");

    let started = Instant::now();
    let mut batch = Vec::with_capacity(100);
    for i in 0..INVOICES {
        let inv = if i < DUE / 2 {
            // Due today: the "due" stage.
            invoice(i, as_of, as_of, now)
        } else if i < DUE {
            // Due 14 days ago, the "due" stage sent then: "late" (with its fee) today.
            invoice(i, days(as_of, -14), as_of, now)
        } else {
            // Due in 1 to 60 days: looked at on their due date.
            let due = days(as_of, 1 + (i % 60) as i64);
            invoice(i, due, due, now)
        };
        batch.push(record::create(TENANT, &inv).expect("invoice"));
        if batch.len() == 100 {
            embedded
                .transact(std::mem::take(&mut batch))
                .await
                .expect("load");
        }
    }
    eprintln!(
        "loaded {INVOICES} open invoices in {:.1} s",
        started.elapsed().as_secs_f64()
    );

    let counts = Arc::new(Counts::default());
    services.table = Arc::new(Counting {
        inner: services.table.clone(),
        counts: counts.clone(),
    });

    println!("| run | time | queries | items read by queries | batch gets (keys) | gets | transactions | sent | fees |");
    println!("|---|---|---|---|---|---|---|---|---|");
    for label in ["first run of the day", "the same day again"] {
        let t = Instant::now();
        let report = agencyops_ar_followups::daily::run(&services, as_of)
            .await
            .expect("run");
        let elapsed = t.elapsed();
        let [gets, batch_gets, batch_keys, queries, query_items, transacts] = counts.take();
        let d = &report.tenants[0].dunning;
        println!(
            "| {label} | {:.2} s | {queries} | {query_items} | {batch_gets} ({batch_keys}) | {gets} | {transacts} | {} | {} |",
            elapsed.as_secs_f64(),
            d.sent,
            d.fees
        );
        if label.starts_with("first") {
            assert_eq!(d.sent, DUE, "every due invoice reminded once");
            assert_eq!(d.fees, DUE / 2);
            assert!(
                query_items <= DUE + 1 + 10,
                "the run read {query_items} items: it must read what is due, not all invoices"
            );
        } else {
            assert_eq!(d.sent, 0);
        }
    }
}
