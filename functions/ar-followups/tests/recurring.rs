//! Recurring invoices and retainers: the schedule endpoints (roles, tenants,
//! bad input) and the daily run drafting each period's invoice exactly once,
//! on its anchor, in the tenant's time zone, with exact overage and rollover.

use std::collections::BTreeSet;

use agencyops_apitest::{studio, App, Studio, NOW};
use agencyops_ar_followups::daily;
use agencyops_domain::timesheet::{value_of, WorkStatus};
use agencyops_domain::Currency;
use agencyops_platform::resource::new_id;
use agencyops_store::record;
use agencyops_store::records::{Approval, EntrySource, TimeEntry};
use agencyops_store::Table;
use axum::http::Method;
use jiff::civil::{date, Date};
use jiff::{Timestamp, ToSpan};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::{json, Value};

fn routes() -> axum::Router<agencyops_platform::Services> {
    agencyops_intake::routes()
        .merge(agencyops_time::routes())
        .merge(agencyops_approvals::routes())
        .merge(agencyops_invoicing::routes())
        .merge(agencyops_ar_followups::routes())
}

async fn setup() -> (App, Studio) {
    let app = App::new(routes());
    let s = studio(&app, "acme").await;
    (app, s)
}

fn path(project: &str) -> String {
    format!("/v1/projects/{project}/recurring")
}

fn dec_of(v: &Value) -> Decimal {
    v.as_str()
        .unwrap_or_else(|| panic!("not a decimal string: {v}"))
        .parse()
        .unwrap()
}

/// Every invoice of the studio's client, oldest issue date first.
async fn invoices(app: &App, s: &Studio) -> Vec<Value> {
    let mut out = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let mut url = format!("/v1/invoices?client_id={}&limit=200", s.client);
        if let Some(c) = &cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        let res = app.get(&s.finance, &url).await.expect(200);
        out.extend(res.body["items"].as_array().unwrap().iter().cloned());
        match res.body["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => break,
        }
    }
    out.sort_by_key(|i| i["issue_date"].as_str().unwrap_or("").to_owned());
    out
}

fn issue_dates(invs: &[Value]) -> Vec<String> {
    invs.iter()
        .map(|i| i["issue_date"].as_str().unwrap().to_owned())
        .collect()
}

async fn run_days(app: &App, from: Date, to: Date, times: usize) {
    let mut d = from;
    while d <= to {
        for _ in 0..times {
            let run = daily::run(&app.services, d).await.unwrap();
            for t in &run.tenants {
                assert!(t.recurring.failures.is_empty(), "{d}: {:?}", t.recurring);
            }
        }
        d = d.tomorrow().unwrap();
    }
}

fn eur() -> Currency {
    Currency::parse("EUR").unwrap()
}

/// An approved, billable entry of `minutes` at `rate`/h, as approval leaves it.
fn approved(person: &str, project: &str, on: Date, minutes: u32, rate: Decimal) -> TimeEntry {
    let now = Timestamp::from_second(NOW).unwrap();
    TimeEntry {
        id: new_id(),
        person_id: person.into(),
        project_id: project.into(),
        task_id: None,
        date: on,
        minutes,
        note: "design work".into(),
        billable: true,
        status: WorkStatus::Approved,
        source: EntrySource::Manual,
        approval: Some(Approval {
            approved_by: "boss".into(),
            approved_at: now,
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
        created_at: now,
        updated_at: now,
    }
}

async fn store_entries(app: &App, tenant: &str, entries: &[TimeEntry]) {
    let writes = entries
        .iter()
        .map(|e| record::create(tenant, e).unwrap())
        .collect();
    app.embedded.transact(writes).await.unwrap();
}

fn monthly(day: u8, start: &str) -> Value {
    json!({"amount": "1000.00", "period": "monthly", "day_of_month": day, "start_on": start})
}

#[tokio::test]
async fn recurring_schedules_by_role_and_tenant() {
    let (app, s) = setup().await;
    let other = studio(&app, "globex").await;
    let body = monthly(1, "2026-12-01");
    for who in [&s.manager, &s.member, &s.contractor, &s.client_user] {
        let res = app.put(who, &path(&s.project), body.clone()).await;
        assert_eq!(res.status.as_u16(), 403, "{} {}", who.role, res.body);
    }
    for who in [
        &s.outsider,
        &s.stray_contractor,
        &other.admin,
        &other.finance,
    ] {
        let res = app.put(who, &path(&s.project), body.clone()).await;
        assert_eq!(res.status.as_u16(), 404, "{} {}", who.role, res.body);
    }
    app.get(&s.admin, &path(&s.project)).await.expect(404);
    let created = app
        .put(&s.finance, &path(&s.project), body.clone())
        .await
        .expect(201);
    assert_eq!(created.body["next_period_start"], "2026-12-01");
    assert_eq!(created.body["amount"], "1000.00");
    assert_eq!(created.body["currency"], "EUR");
    let replaced = app
        .put(&s.admin, &path(&s.project), monthly(15, "2026-12-01"))
        .await
        .expect(200);
    assert_eq!(replaced.body["version"], 2);
    assert_eq!(replaced.body["next_period_start"], "2026-12-15");

    for who in [&s.admin, &s.finance, &s.manager, &s.other_manager] {
        app.get(who, &path(&s.project)).await.expect(200);
    }
    for (who, status) in [
        (&s.member, 403),
        (&s.contractor, 403),
        (&s.client_user, 403),
        (&s.outsider, 404),
        (&other.admin, 404),
    ] {
        let res = app.get(who, &path(&s.project)).await;
        assert_eq!(res.status.as_u16(), status, "{} {}", who.role, res.body);
        let res = app.delete(who, &path(&s.project)).await;
        assert!(matches!(res.status.as_u16(), 403 | 404), "{}", who.role);
    }
    app.delete(&s.manager, &path(&s.project)).await.expect(403);
    // Another tenant's project of the same id space is not reached either.
    app.get(&s.admin, &path(&other.project)).await.expect(404);
    app.delete(&s.finance, &path(&s.project)).await.expect(204);
    app.get(&s.admin, &path(&s.project)).await.expect(404);
    app.delete(&s.finance, &path(&s.project)).await.expect(404);
}

#[tokio::test]
async fn bad_recurring_input_changes_nothing() {
    let (app, s) = setup().await;
    let bad = [
        (
            json!({"amount": "1000.00", "period": "monthly", "start_on": "2026-12-01"}),
            "day_of_month",
        ),
        (
            json!({"amount": "1000.00", "period": "monthly", "day_of_month": 32, "start_on": "2026-12-01"}),
            "day_of_month",
        ),
        (
            json!({"amount": "1000.00", "period": "monthly", "day_of_month": 0, "start_on": "2026-12-01"}),
            "day_of_month",
        ),
        (
            json!({"amount": "1000.00", "period": "weekly", "start_on": "2026-12-01"}),
            "weekday",
        ),
        (
            json!({"amount": "1000.00", "period": "weekly", "weekday": "monday", "day_of_month": 3, "start_on": "2026-12-01"}),
            "day_of_month",
        ),
        (
            json!({"amount": "1000.001", "period": "monthly", "day_of_month": 1, "start_on": "2026-12-01"}),
            "amount",
        ),
        (
            json!({"amount": "0", "period": "monthly", "day_of_month": 1, "start_on": "2026-12-01"}),
            "amount",
        ),
        (
            json!({"amount": "1000.00", "period": "monthly", "day_of_month": 1, "start_on": "2026-12-01", "end_on": "2026-11-01"}),
            "end_on",
        ),
        (
            json!({"amount": "1000.00", "period": "monthly", "day_of_month": 1, "start_on": "2026-12-01", "rollover": true, "included_hours": "10"}),
            "rollover_cap_hours",
        ),
        (
            json!({"amount": "1000.00", "period": "monthly", "day_of_month": 1, "start_on": "2026-12-01", "rollover": true, "rollover_cap_hours": "5"}),
            "rollover",
        ),
        (
            json!({"amount": "1000.00", "period": "monthly", "day_of_month": 1, "start_on": "2026-12-01", "included_hours": "-1"}),
            "included_hours",
        ),
        (
            json!({"amount": "1000.00", "period": "monthly", "day_of_month": 1, "start_on": "2026-12-01", "included_hours": "1.234"}),
            "included_hours",
        ),
    ];
    for (body, field) in bad {
        let res = app.put(&s.finance, &path(&s.project), body.clone()).await;
        assert_eq!(res.status.as_u16(), 400, "{body} {}", res.body);
        assert!(
            res.fields().iter().any(|f| f == field),
            "{body}: {:?}",
            res.fields()
        );
    }
    for body in [
        json!({"amount": "1000.00", "period": "yearly", "day_of_month": 1, "start_on": "2026-12-01"}),
        json!({"amount": "1000.00", "period": "monthly", "day_of_month": 1, "start_on": "2026-13-01"}),
        json!({"amount": 1000, "period": "monthly", "day_of_month": 1, "start_on": "2026-12-01", "colour": "red"}),
        json!([1, 2]),
    ] {
        let res = app.put(&s.finance, &path(&s.project), body.clone()).await;
        assert_eq!(res.status.as_u16(), 400, "{body} {}", res.body);
    }
    app.get(&s.admin, &path(&s.project)).await.expect(404);

    // If-Match: a stale version is 412 and changes nothing.
    let first = app
        .put(&s.finance, &path(&s.project), monthly(1, "2026-12-01"))
        .await
        .expect(201);
    let stale = app
        .raw(
            Some(&s.finance),
            Method::PUT,
            &path(&s.project),
            Some(serde_json::to_vec(&monthly(9, "2026-12-01")).unwrap()),
            &[("if-match", "\"9\"")],
        )
        .await;
    assert_eq!(stale.status.as_u16(), 412, "{}", stale.body);
    let now = app.get(&s.admin, &path(&s.project)).await.expect(200);
    assert_eq!(now.body, first.body);
    let ok = app
        .raw(
            Some(&s.finance),
            Method::PUT,
            &path(&s.project),
            Some(serde_json::to_vec(&monthly(9, "2026-12-01")).unwrap()),
            &[("if-match", &first.etag())],
        )
        .await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.body);
}

#[tokio::test]
async fn a_year_of_daily_runs_bills_each_period_once_on_the_31st() {
    let (app, s) = setup().await;
    app.put(&s.finance, &path(&s.project), monthly(31, "2026-01-01"))
        .await
        .expect(201);
    run_days(&app, date(2026, 1, 1), date(2026, 12, 31), 1).await;
    let invs = invoices(&app, &s).await;
    assert_eq!(
        issue_dates(&invs),
        [
            "2026-01-31",
            "2026-02-28",
            "2026-03-31",
            "2026-04-30",
            "2026-05-31",
            "2026-06-30",
            "2026-07-31",
            "2026-08-31",
            "2026-09-30",
            "2026-10-31",
            "2026-11-30",
            "2026-12-31"
        ]
    );
    for inv in &invs {
        assert_eq!(inv["status"], "draft");
        assert_eq!(dec_of(&inv["total"]), dec!(1000.00));
    }
    let view = app.get(&s.finance, &path(&s.project)).await.expect(200);
    assert_eq!(view.body["billed_through"], "2027-01-30");
    assert_eq!(view.body["next_period_start"], "2027-01-31");
}

#[tokio::test]
async fn runs_twice_a_day_and_a_40_day_outage_catch_up_without_duplicates() {
    let (app, s) = setup().await;
    app.put(
        &s.finance,
        &path(&s.project),
        json!({"amount": "250.00", "period": "weekly", "weekday": "monday", "start_on": "2026-01-01"}),
    )
    .await
    .expect(201);
    // Jan 1 to Jan 20, twice a day; then nothing until Mar 1 (40 days); then twice again.
    run_days(&app, date(2026, 1, 1), date(2026, 1, 20), 2).await;
    assert_eq!(invoices(&app, &s).await.len(), 3, "Jan 5, 12, 19");
    run_days(&app, date(2026, 3, 1), date(2026, 3, 3), 2).await;
    let invs = invoices(&app, &s).await;
    let dates = issue_dates(&invs);
    let unique: BTreeSet<&String> = dates.iter().collect();
    assert_eq!(unique.len(), dates.len(), "no period twice: {dates:?}");
    // Every Monday from Jan 5 to Mar 2, none missed, none re-anchored.
    let mut want = Vec::new();
    let mut d = date(2026, 1, 5);
    while d <= date(2026, 3, 3) {
        want.push(d.to_string());
        d = d.checked_add(7.days()).unwrap();
    }
    assert_eq!(dates, want);
}

/// IN #12158 (recurring invoices moving a day across DST): the tenant's time
/// zone decides which day it is, and the period's date never moves.
#[tokio::test]
async fn recurring_invoices_do_not_drift_across_dst() {
    for (zone, at, day, billed) in [
        // 23:30 UTC on Mar 28 is 00:30 on Mar 29 in Berlin, the night clocks go forward.
        ("Europe/Berlin", "2026-03-28T23:30:00Z", 29, true),
        // 03:30 UTC on Nov 1 is still Oct 31 in New York, the night clocks go back.
        ("America/New_York", "2026-11-01T03:30:00Z", 1, false),
    ] {
        let (app, s) = setup().await;
        let settings = app
            .get(&s.finance, "/v1/settings/invoicing")
            .await
            .expect(200);
        let mut body = settings.body.clone();
        body["time_zone"] = json!(zone);
        app.put(&s.finance, "/v1/settings/invoicing", body)
            .await
            .expect(200);
        let start = if day == 29 {
            "2026-03-01"
        } else {
            "2026-10-01"
        };
        app.put(&s.finance, &path(&s.project), monthly(day, start))
            .await
            .expect(201);
        let now: Timestamp = at.parse().unwrap();
        app.clock.set(now);
        let utc_day = now.to_zoned(jiff::tz::TimeZone::UTC).date();
        daily::run(&app.services, utc_day).await.unwrap();
        let dates = issue_dates(&invoices(&app, &s).await);
        let expected: Vec<String> = if day == 29 {
            vec!["2026-03-29".into()]
        } else {
            vec!["2026-10-01".into()]
        };
        assert_eq!(dates, expected, "{zone}");
        // An hour later (the UTC date unchanged), the Berlin run bills nothing
        // new; in New York it is now Nov 1 only once local midnight passes.
        app.clock.set(now.checked_add(2.hours()).unwrap());
        daily::run(&app.services, utc_day).await.unwrap();
        let later = issue_dates(&invoices(&app, &s).await);
        if billed {
            assert_eq!(later, expected, "{zone}");
        } else {
            assert_eq!(later, ["2026-10-01", "2026-11-01"], "{zone}");
        }
    }
    // And a bad zone is refused.
    let (app, s) = setup().await;
    let settings = app
        .get(&s.finance, "/v1/settings/invoicing")
        .await
        .expect(200);
    let mut body = settings.body.clone();
    body["time_zone"] = json!("Mars/Olympus");
    let res = app
        .put(&s.finance, "/v1/settings/invoicing", body)
        .await
        .expect(400);
    assert_eq!(res.fields(), ["time_zone"]);
}

/// IN #3407: after an outage the schedule re-anchored to the day it came back.
#[tokio::test]
async fn a_schedule_never_re_anchors_after_an_outage() {
    let (app, s) = setup().await;
    app.put(&s.finance, &path(&s.project), monthly(15, "2026-01-01"))
        .await
        .expect(201);
    run_days(&app, date(2026, 1, 1), date(2026, 1, 20), 1).await;
    // Down until May 3; then daily again to the end of June.
    run_days(&app, date(2026, 5, 3), date(2026, 6, 30), 1).await;
    assert_eq!(
        issue_dates(&invoices(&app, &s).await),
        [
            "2026-01-15",
            "2026-02-15",
            "2026-03-15",
            "2026-04-15",
            "2026-05-15",
            "2026-06-15"
        ]
    );
}

#[tokio::test]
async fn retainer_overage_and_rollover_are_exact_and_time_is_billed_once() {
    let (app, s) = setup().await;
    let body = json!({
        "amount": "1000.00", "period": "monthly", "day_of_month": 1, "start_on": "2026-09-01",
        "included_hours": "10", "rollover": true, "rollover_cap_hours": "5",
    });
    app.put(&s.finance, &path(&s.project), body)
        .await
        .expect(201);
    let who = s.member.person.clone();
    let p = s.project.clone();
    let rate = dec!(100);
    store_entries(
        &app,
        &s.tenant,
        &[
            // September: 12 h, 2 h over at 100 (one entry at 150, worked last, is over).
            approved(&who, &p, date(2026, 9, 2), 600, rate),
            approved(&who, &p, date(2026, 9, 20), 120, dec!(150)),
            // October: 6 h, 4 h unused carry (cap 5).
            approved(&who, &p, date(2026, 10, 5), 360, rate),
            // November: 15 h against 10 + 4: 1 h over.
            approved(&who, &p, date(2026, 11, 3), 900, rate),
            // December: 2 h: 8 unused, capped at 5.
            approved(&who, &p, date(2026, 12, 3), 120, rate),
        ],
    )
    .await;
    run_days(&app, date(2027, 1, 1), date(2027, 1, 1), 2).await;
    let invs = invoices(&app, &s).await;
    assert_eq!(
        issue_dates(&invs),
        [
            "2026-09-01",
            "2026-10-01",
            "2026-11-01",
            "2026-12-01",
            "2027-01-01"
        ]
    );
    let totals: Vec<Decimal> = invs.iter().map(|i| dec_of(&i["total"])).collect();
    // Sep: 1000 + 2 h x 150; Oct: 1000; Nov: 1000 + 1 h x 100; Dec, Jan: 1000.
    assert_eq!(
        totals,
        [
            dec!(1300.00),
            dec!(1000.00),
            dec!(1100.00),
            dec!(1000.00),
            dec!(1000.00)
        ]
    );
    let sep = app
        .get(
            &s.finance,
            &format!("/v1/invoices/{}", invs[0]["id"].as_str().unwrap()),
        )
        .await
        .expect(200);
    let lines = sep.body["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(dec_of(&lines[1]["quantity"]), dec!(2));
    assert_eq!(dec_of(&lines[1]["unit_price"]), dec!(150));
    let view = app.get(&s.finance, &path(&s.project)).await.expect(200);
    assert_eq!(dec_of(&view.body["carried_hours"]), dec!(5));
    // The time is claimed: a time-and-materials draft finds nothing to bill.
    app.post(
        &s.finance,
        "/v1/invoices",
        json!({"client_id": s.client, "kind": "time_and_materials", "project_ids": [s.project]}),
    )
    .await
    .expect(409);
}

#[tokio::test]
async fn auto_issue_issues_each_period_once() {
    let (app, s) = setup().await;
    let mut body = monthly(1, "2026-10-01");
    body["auto_issue"] = json!(true);
    app.put(&s.finance, &path(&s.project), body)
        .await
        .expect(201);
    run_days(&app, date(2026, 10, 1), date(2026, 11, 2), 2).await;
    let invs = invoices(&app, &s).await;
    let numbers: Vec<&str> = invs.iter().map(|i| i["number"].as_str().unwrap()).collect();
    assert_eq!(numbers, ["2026-0001", "2026-0002"]);
    assert!(invs.iter().all(|i| i["status"] == "issued"));
}

#[tokio::test]
async fn the_daily_run_reports_what_it_billed() {
    let (app, s) = setup().await;
    app.put(&s.finance, &path(&s.project), monthly(1, "2026-10-01"))
        .await
        .expect(201);
    let run = daily::run(&app.services, date(2026, 11, 1)).await.unwrap();
    let acme = run.tenants.iter().find(|t| t.tenant == "acme").unwrap();
    assert_eq!(acme.recurring.schedules, 1);
    assert_eq!(acme.recurring.invoices, 2);
    let again = daily::run(&app.services, date(2026, 11, 1)).await.unwrap();
    let acme = again.tenants.iter().find(|t| t.tenant == "acme").unwrap();
    assert_eq!(acme.recurring.invoices, 0);
}

/// A schedule deleted and saved again with the same start does not bill the
/// periods its predecessor billed; it continues on the anchor after them.
#[tokio::test]
async fn a_schedule_saved_again_never_bills_a_period_twice() {
    let (app, s) = setup().await;
    app.put(&s.finance, &path(&s.project), monthly(10, "2026-01-01"))
        .await
        .expect(201);
    run_days(&app, date(2026, 1, 1), date(2026, 3, 31), 1).await;
    app.delete(&s.finance, &path(&s.project)).await.expect(204);
    let again = app
        .put(&s.finance, &path(&s.project), monthly(10, "2026-01-01"))
        .await
        .expect(201);
    assert_eq!(again.body["next_period_start"], "2026-01-10");
    run_days(&app, date(2026, 4, 1), date(2026, 5, 31), 2).await;
    assert_eq!(
        issue_dates(&invoices(&app, &s).await),
        [
            "2026-01-10",
            "2026-02-10",
            "2026-03-10",
            "2026-04-10",
            "2026-05-10"
        ]
    );
    let view = app.get(&s.finance, &path(&s.project)).await.expect(200);
    assert_eq!(view.body["next_period_start"], "2026-06-10");
}

/// A table whose `fail_at`-th transaction from now fails unwritten, as a
/// run stopped between two writes leaves the store.
struct StopAt {
    inner: std::sync::Arc<dyn Table>,
    fail_at: std::sync::atomic::AtomicUsize,
}

#[async_trait::async_trait]
impl Table for StopAt {
    async fn get(
        &self,
        key: &agencyops_store::Key,
    ) -> agencyops_store::StoreResult<Option<agencyops_store::Item>> {
        self.inner.get(key).await
    }
    async fn batch_get(
        &self,
        keys: &[agencyops_store::Key],
    ) -> agencyops_store::StoreResult<Vec<agencyops_store::Item>> {
        self.inner.batch_get(keys).await
    }
    async fn query(
        &self,
        q: &agencyops_store::Query,
    ) -> agencyops_store::StoreResult<agencyops_store::Page> {
        self.inner.query(q).await
    }
    async fn transact(
        &self,
        writes: Vec<agencyops_store::Write>,
    ) -> agencyops_store::StoreResult<()> {
        use std::sync::atomic::Ordering;
        let left = self.fail_at.load(Ordering::SeqCst);
        if left == 1 {
            self.fail_at.store(usize::MAX, Ordering::SeqCst);
            return Err(agencyops_store::StoreError::Backend(
                "the run stopped here".into(),
            ));
        }
        if left != usize::MAX {
            self.fail_at.store(left - 1, Ordering::SeqCst);
        }
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

/// A retainer month of 250 approved hours, more than one transaction holds.
async fn big_retainer_month() -> (App, Studio, std::sync::Arc<StopAt>) {
    let mut stop = None;
    let app = App::with_table(routes(), |inner| {
        let t = std::sync::Arc::new(StopAt {
            inner,
            fail_at: usize::MAX.into(),
        });
        stop = Some(t.clone());
        t
    });
    let s = studio(&app, "acme").await;
    let body = json!({"amount": "1000.00", "period": "monthly", "day_of_month": 1,
                      "start_on": "2026-10-01", "end_on": "2026-10-31", "included_hours": "10"});
    app.put(&s.finance, &path(&s.project), body)
        .await
        .expect(201);
    let entries: Vec<TimeEntry> = (0..250)
        .map(|i| {
            approved(
                &s.member.person,
                &s.project,
                date(2026, 10, 1 + (i % 28) as i8),
                60,
                dec!(100),
            )
        })
        .collect();
    for chunk in entries.chunks(100) {
        store_entries(&app, &s.tenant, chunk).await;
    }
    (app, s, stop.unwrap())
}

/// The one October invoice: every entry on it once, 10 h included, 240 h over.
async fn assert_one_exact_october_invoice(app: &App, s: &Studio) {
    let invs = invoices(app, s).await;
    assert_eq!(
        issue_dates(&invs),
        ["2026-10-01"],
        "one invoice for the period"
    );
    assert_eq!(invs[0]["status"], "draft");
    assert_eq!(
        dec_of(&invs[0]["total"]),
        dec!(25000.00),
        "1000 + 240 h x 100"
    );
    let id = invs[0]["id"].as_str().unwrap();
    let inv = app
        .get(&s.finance, &format!("/v1/invoices/{id}"))
        .await
        .expect(200);
    let lines = inv.body["lines"].as_array().unwrap();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(dec_of(&lines[1]["quantity"]), dec!(240));
    let sum: Decimal = lines.iter().map(|l| dec_of(&l["amount"])).sum();
    assert_eq!(sum, dec_of(&inv.body["total"]), "lines sum to the total");
    let on_it: Vec<TimeEntry> = record::all(
        &app.embedded,
        &agencyops_store::Query::new(
            agencyops_store::Index::Table,
            agencyops_store::keys::person_time(&s.tenant, &s.member.person),
        )
        .sk(agencyops_store::SkCondition::BeginsWith("ENTRY#".into())),
    )
    .await
    .unwrap();
    assert_eq!(on_it.len(), 250);
    assert!(
        on_it.iter().all(|e| e.invoice_id.as_deref() == Some(id)),
        "every entry claimed by the one invoice"
    );
    app.post(
        &s.finance,
        "/v1/invoices",
        json!({"client_id": s.client, "kind": "time_and_materials", "project_ids": [s.project]}),
    )
    .await
    .expect(409);
}

#[tokio::test]
async fn a_retainer_month_larger_than_one_transaction_is_one_invoice_of_every_entry() {
    let (app, s, _) = big_retainer_month().await;
    run_days(&app, date(2026, 11, 2), date(2026, 11, 2), 2).await;
    assert_one_exact_october_invoice(&app, &s).await;
}

#[tokio::test]
async fn a_run_stopped_between_claim_batches_is_finished_by_the_next_run() {
    let (app, s, stop) = big_retainer_month().await;
    // The period is taken and its first batch claimed; the second batch's write stops the run.
    stop.fail_at.store(3, std::sync::atomic::Ordering::SeqCst);
    let run = daily::run(&app.services, date(2026, 11, 2)).await.unwrap();
    assert_eq!(run.tenants[0].recurring.failures.len(), 1, "{run:?}");
    let half = invoices(&app, &s).await;
    assert_eq!(half.len(), 1);
    assert_eq!(
        half[0]["status"], "building",
        "not a draft anyone could issue yet"
    );
    app.delete(&s.finance, &path(&s.project)).await.expect(409);

    run_days(&app, date(2026, 11, 2), date(2026, 11, 3), 2).await;
    assert_one_exact_october_invoice(&app, &s).await;
}

/// Schedule events delivered late and out of order: the run of March 1st
/// first, then January's and February's (twice each), then March's again:
/// each period is billed once, on its own date.
#[tokio::test]
async fn runs_delivered_out_of_order_bill_each_period_once() {
    let (app, s) = setup().await;
    app.put(&s.finance, &path(&s.project), monthly(1, "2026-01-01"))
        .await
        .expect(201);
    for day in [
        date(2026, 3, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 1, 1),
        date(2026, 2, 1),
        date(2026, 3, 1),
    ] {
        run_days(&app, day, day, 2).await;
    }
    assert_eq!(
        issue_dates(&invoices(&app, &s).await),
        ["2026-01-01", "2026-02-01", "2026-03-01"]
    );
}
