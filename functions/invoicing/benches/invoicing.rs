//! `cargo bench --workspace --bench invoicing`: how long a large draft takes
//! from `POST /v1/invoices` to `draft`, and how many store round trips a
//! draft, an issue and a payment cost, in-process over the embedded SQLite
//! store. Prints the README's tables; a missed goal prints "NO" and does not
//! fail the run (the figures are the point), but a draft that bills other
//! than exactly its work does, since that is a bug and not a speed.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use agencyops_apitest::{studio, App, Studio, NOW};
use agencyops_domain::invoice::InvoiceStatus;
use agencyops_domain::timesheet::{value_of, WorkStatus};
use agencyops_domain::{Currency, Role};
use agencyops_invoicing::drafts::create::Created;
use agencyops_platform::resource::new_id;
use agencyops_platform::Caller;
use agencyops_store::record::{self, load};
use agencyops_store::records::{Approval, EntrySource, Invoice, TimeEntry};
use agencyops_store::{keys, Item, Key, Page, Query, StoreResult, Table, Write};
use axum::Router;
use jiff::Timestamp;
use rust_decimal::Decimal;
use serde_json::{json, Value};

const MINUTES: u32 = 15;
const RATE: i64 = 90;

fn routes() -> Router<agencyops_platform::Services> {
    agencyops_intake::routes()
        .merge(agencyops_time::routes())
        .merge(agencyops_approvals::routes())
        .merge(agencyops_invoicing::routes())
}

fn now() -> Timestamp {
    Timestamp::from_second(NOW).expect("NOW is a timestamp")
}

/// An approved, billable entry as approval leaves it (like the tests' support).
fn approved_entry(person: &str, project: &str, day: usize) -> TimeEntry {
    let eur = Currency::parse("EUR").expect("EUR");
    let rate = Decimal::from(RATE);
    TimeEntry {
        id: new_id(),
        person_id: person.into(),
        project_id: project.into(),
        task_id: None,
        date: format!("2026-11-{day:02}").parse().expect("a date"),
        minutes: MINUTES,
        note: "design work".into(),
        billable: true,
        status: WorkStatus::Approved,
        source: EntrySource::Manual,
        approval: Some(Approval {
            approved_by: "boss".into(),
            approved_at: now(),
            bill_rate: Some(rate),
            rate_source: None,
            currency: eur,
            cost_rate: Some(Decimal::from(40)),
            cost_currency: Some(eur),
            billed_minutes: MINUTES,
            value: value_of(MINUTES, rate).expect("a value"),
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

/// `n` approved entries on the studio's project, written straight into the
/// store in transactions of 90, spread over November so no day passes 24 h.
async fn approved_work(app: &App, s: &Studio, n: usize) {
    let per_day = (24 * 60 / MINUTES) as usize;
    let entries: Vec<TimeEntry> = (0..n)
        .map(|i| approved_entry(&s.member.person, &s.project, 2 + (i / per_day) % 27))
        .collect();
    for chunk in entries.chunks(90) {
        let writes = chunk
            .iter()
            .map(|e| record::create(&s.tenant, e).expect("an entry record"))
            .collect();
        app.embedded.transact(writes).await.expect("stored");
    }
}

/// What `n` entries bill: n × minutes × rate, exactly.
fn expected_total(n: usize) -> Decimal {
    Decimal::from(n as u64) * Decimal::from(MINUTES) * Decimal::from(RATE) / Decimal::from(60)
}

fn draft_body(s: &Studio, with_projects: bool) -> Value {
    let mut body = json!({"client_id": s.client, "kind": "time_and_materials"});
    if with_projects {
        body["project_ids"] = json!([s.project]);
    }
    body
}

fn finance(s: &Studio) -> Caller {
    Caller {
        tenant: s.tenant.clone(),
        person: s.finance.person.clone(),
        role: Role::Finance,
        client: None,
    }
}

/// Delivers builder messages until the invoice is a draft, as SQS would.
async fn build_until_draft(app: &App, tenant: &str, id: &str) -> Invoice {
    loop {
        let inv: Invoice = load(&app.embedded, &keys::invoice(tenant, id))
            .await
            .expect("read")
            .expect("the invoice exists");
        if inv.status == InvoiceStatus::Draft {
            return inv;
        }
        let got = app
            .queue
            .receive(
                agencyops_invoicing::BUILDER_QUEUE,
                10,
                Duration::from_secs(60),
            )
            .await
            .expect("receive");
        assert!(
            !got.is_empty(),
            "{id} is {} with no builder message",
            inv.status
        );
        for m in got {
            agencyops_invoicing::handle_build_message(&app.services, &m.body)
                .await
                .expect("built");
            app.queue.delete(&m.receipt).await.expect("deleted");
        }
    }
}

// ---------------------------------------------------------------- round trips

/// Store calls as the operations make them, and the DynamoDB requests they
/// become: a batch get is one BatchGetItem per 100 distinct keys (none for no
/// keys), a query one request per page, the rest one request each.
#[derive(Default)]
struct Counts {
    calls: AtomicUsize,
    requests: AtomicUsize,
}

#[derive(Clone, Copy, Default)]
struct Tally {
    calls: usize,
    requests: usize,
}

impl std::ops::Add for Tally {
    type Output = Tally;
    fn add(self, o: Tally) -> Tally {
        Tally {
            calls: self.calls + o.calls,
            requests: self.requests + o.requests,
        }
    }
}

impl Counts {
    fn record(&self, requests: usize) {
        self.calls.fetch_add(1, Ordering::SeqCst);
        self.requests.fetch_add(requests, Ordering::SeqCst);
    }
    /// The tally since the last take, starting a new one.
    fn take(&self) -> Tally {
        Tally {
            calls: self.calls.swap(0, Ordering::SeqCst),
            requests: self.requests.swap(0, Ordering::SeqCst),
        }
    }
}

struct Counting {
    inner: Arc<dyn Table>,
    counts: Arc<Counts>,
}

#[async_trait::async_trait]
impl Table for Counting {
    async fn get(&self, key: &Key) -> StoreResult<Option<Item>> {
        self.counts.record(1);
        self.inner.get(key).await
    }
    async fn batch_get(&self, keys: &[Key]) -> StoreResult<Vec<Item>> {
        let distinct: BTreeSet<(&str, &str)> = keys
            .iter()
            .map(|k| (k.pk.as_str(), k.sk.as_str()))
            .collect();
        self.counts.record(distinct.len().div_ceil(100));
        self.inner.batch_get(keys).await
    }
    async fn query(&self, query: &Query) -> StoreResult<Page> {
        self.counts.record(1);
        self.inner.query(query).await
    }
    async fn transact(&self, writes: Vec<Write>) -> StoreResult<()> {
        self.counts.record(1);
        self.inner.transact(writes).await
    }
    async fn increment(&self, key: &Key, attr: &str, by: i64) -> StoreResult<i64> {
        self.counts.record(1);
        self.inner.increment(key, attr, by).await
    }
}

#[derive(Clone, Copy, PartialEq)]
enum Via {
    /// The typed operation called directly: what the operation itself costs.
    Operation,
    /// The whole HTTP request through the router, response building included.
    Http,
}

struct Costs {
    draft: Tally,
    issue: Tally,
    payment: Tally,
}

/// Drafts `n` entries (then builds, issues and pays the draft) in a fresh
/// store, counting each step's round trips.
async fn costs(n: usize, with_projects: bool, via: Via) -> Costs {
    let counts = Arc::new(Counts::default());
    let c = counts.clone();
    let app = App::with_table(routes(), move |inner| {
        Arc::new(Counting { inner, counts: c }) as Arc<dyn Table>
    });
    let s = studio(&app, "bench").await;
    approved_work(&app, &s, n).await;
    let caller = finance(&s);
    counts.take();

    let body = draft_body(&s, with_projects);
    let id = match via {
        Via::Operation => {
            let body = serde_json::from_value(body).expect("a draft request");
            match agencyops_invoicing::drafts::create::create(&app.services, &caller, body).await {
                Ok(Created::Draft(inv) | Created::Building(inv)) => inv.id,
                Err(e) => panic!("draft refused: {e:?}"),
            }
        }
        Via::Http => {
            let res = app.post(&s.finance, "/v1/invoices", body).await;
            assert!(
                matches!(res.status.as_u16(), 201 | 202),
                "draft answered {}: {}",
                res.status,
                res.body
            );
            res.id()
        }
    };
    let posted = counts.take();
    // The builder's reads of the queue are not table calls; its check of the
    // invoice's status between deliveries reads the store directly.
    let inv = build_until_draft(&app, &s.tenant, &id).await;
    let draft = posted + counts.take();
    assert_eq!(
        inv.total,
        expected_total(n),
        "the draft bills exactly its {n} entries"
    );

    match via {
        Via::Operation => {
            agencyops_invoicing::lifecycle::issue::issue(&app.services, &caller, &id)
                .await
                .expect("issued");
        }
        Via::Http => {
            app.post(&s.finance, &format!("/v1/invoices/{id}/issue"), json!({}))
                .await
                .expect(200);
        }
    }
    let issue = counts.take();

    let payment = json!({"amount": "100.00", "date": "2026-11-20", "method": "bank_transfer"});
    match via {
        Via::Operation => {
            let body = serde_json::from_value(payment).expect("a payment request");
            agencyops_invoicing::payments::record_payment(&app.services, &caller, &id, body, None)
                .await
                .expect("recorded");
        }
        Via::Http => {
            app.post(&s.finance, &format!("/v1/invoices/{id}/payments"), payment)
                .await
                .expect(201);
        }
    }
    let payment = counts.take();
    Costs {
        draft,
        issue,
        payment,
    }
}

fn met(measured: usize, goal: usize) -> &'static str {
    if measured <= goal {
        "yes"
    } else {
        "NO"
    }
}

async fn round_trips() {
    let sizes = [50usize, 97, 98, 500, 1000];
    println!("#### DynamoDB round trips");
    println!();
    println!(
        "\"operation\" calls the typed operation directly; \"HTTP\" is the whole request \
         through the router (its response may read again). Each cell is DynamoDB requests \
         (a batch get is one per 100 distinct keys, none for no keys; a query one per page) \
         with the Table trait calls in brackets. A draft's figure is the POST plus every \
         builder delivery."
    );
    println!();
    println!("| step | project_ids | operation | HTTP | goal | met (operation) | met (HTTP) |");
    println!("|---|---|---|---|---|---|---|");
    let mut later = Vec::new();
    for n in sizes {
        for with_projects in [true, false] {
            let op = costs(n, with_projects, Via::Operation).await;
            let http = costs(n, with_projects, Via::Http).await;
            let goal = 3 + n.div_ceil(99);
            println!(
                "| draft of {n} entries | {} | {} ({}) | {} ({}) | {goal} | {} | {} |",
                if with_projects { "given" } else { "none" },
                op.draft.requests,
                op.draft.calls,
                http.draft.requests,
                http.draft.calls,
                met(op.draft.requests, goal),
                met(http.draft.requests, goal),
            );
            if with_projects {
                later.push((n, op, http));
            }
        }
    }
    for (n, op, http) in &later {
        println!(
            "| issue (draft of {n}) | given | {} ({}) | {} ({}) | 2 | {} | {} |",
            op.issue.requests,
            op.issue.calls,
            http.issue.requests,
            http.issue.calls,
            met(op.issue.requests, 2),
            met(http.issue.requests, 2),
        );
    }
    for (n, op, http) in &later {
        println!(
            "| payment (invoice of {n}) | given | {} ({}) | {} ({}) | 2 | {} | {} |",
            op.payment.requests,
            op.payment.calls,
            http.payment.requests,
            http.payment.calls,
            met(op.payment.requests, 2),
            met(http.payment.requests, 2),
        );
    }
    println!();
}

// ---------------------------------------------------------------- wall time

async fn draft_times() {
    println!("#### Large drafts: POST /v1/invoices to `draft`");
    println!();
    println!(
        "Approved entries of {MINUTES} min at {RATE} EUR/h written straight into the store; \
         the time is from the POST until the builder has made the invoice a draft."
    );
    println!();
    println!("| entries | POST to draft | per 1,000 entries | total billed | = n × minutes × rate | goal | met |");
    println!("|---|---|---|---|---|---|---|");
    for n in draft_sizes() {
        let app = App::new(routes());
        let s = studio(&app, "bench").await;
        approved_work(&app, &s, n).await;
        let t = Instant::now();
        let res = app
            .post(&s.finance, "/v1/invoices", draft_body(&s, false))
            .await;
        assert!(
            matches!(res.status.as_u16(), 201 | 202),
            "draft answered {}: {}",
            res.status,
            res.body
        );
        let inv = build_until_draft(&app, &s.tenant, &res.id()).await;
        let took = t.elapsed();
        let exact = inv.total == expected_total(n);
        let (goal, ok) = if n == 10_000 {
            (
                "<= 2 s",
                if took <= Duration::from_secs(2) {
                    "yes"
                } else {
                    "NO"
                },
            )
        } else {
            ("–", "–")
        };
        println!(
            "| {n} | {:.2} s | {:.3} s | {} EUR | {} | {goal} | {ok} |",
            took.as_secs_f64(),
            took.as_secs_f64() * 1000.0 / n as f64,
            inv.total,
            if exact { "yes" } else { "NO" },
        );
        assert!(
            exact,
            "a draft of {n} entries billed {} instead of {}",
            inv.total,
            expected_total(n)
        );
    }
    println!();
}

/// The drafts to time: 1,000, 10,000 and 100,000 entries, or the sizes
/// `DRAFT_SIZES` lists (`DRAFT_SIZES=20000,40000`, to see how time grows or to
/// profile one size).
fn draft_sizes() -> Vec<usize> {
    match std::env::var("DRAFT_SIZES") {
        Ok(list) => list
            .split(',')
            .map(|n| n.trim().parse().expect("DRAFT_SIZES lists entry counts"))
            .collect(),
        Err(_) => vec![1_000, 10_000, 100_000],
    }
}

/// `cargo bench -p agencyops-invoicing --bench invoicing [-- round-trips|drafts]`:
/// both parts, or the one named (the drafts part takes minutes).
#[tokio::main]
async fn main() {
    let named: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with("--"))
        .collect();
    let wants = |part: &str| named.is_empty() || named.iter().any(|n| n == part);
    if wants("round-trips") {
        round_trips().await;
    }
    if wants("drafts") {
        draft_times().await;
    }
}
