//! The lock date set while a write is in flight: the request read the lock
//! date before finance closed the period and writes after. Every write path of
//! time capture and approvals pins the lock date it read in its own
//! transaction, so each of them fails with a 409 and changes nothing.

mod support;

use std::sync::Arc;

use agencyops_domain::timesheet::WorkStatus;
use jiff::{SignedDuration, Timestamp};
use serde_json::{json, Value};
use support::*;

async fn locking_app() -> (App, Arc<LockingTable>, Studio) {
    let mut locking = None;
    let app = App::with_table(routes(), |inner| {
        let t = LockingTable::wrap(inner);
        locking = Some(t.clone());
        t
    });
    let locking = locking.unwrap();
    let s = studio(&app, "acme").await;
    (app, locking, s)
}

/// Asserts the request lost to the lock, then re-opens the period.
async fn refused(res: Res, locking: &LockingTable, what: &str) {
    assert_eq!(res.status, 409, "{what}: {}", res.body);
    locking.set("acme", None).await;
}

async fn entries_of(app: &App, who: &As) -> Value {
    app.get(who, "/v1/time-entries?limit=200")
        .await
        .expect(200)
        .body["items"]
        .clone()
}

async fn expenses_of(app: &App, who: &As) -> Value {
    app.get(who, "/v1/expenses?limit=200")
        .await
        .expect(200)
        .body["items"]
        .clone()
}

#[tokio::test]
async fn time_and_expense_writes_lose_to_a_lock_set_meanwhile() {
    let (app, locking, s) = locking_app().await;
    let m = &s.member;
    let monday = record(&app, m, &s.project, MONDAY, 60).await;
    let wednesday = record(&app, m, &s.project, WEDNESDAY, 60).await;
    let x = expense(&app, m, &s.project, MONDAY, "10.00").await;
    let entries = entries_of(&app, m).await;
    let expenses = expenses_of(&app, m).await;

    let cases: Vec<(&str, axum::http::Method, String, Option<Value>)> = vec![
        (
            "create an entry",
            axum::http::Method::POST,
            "/v1/time-entries".into(),
            Some(json!({"project_id": s.project, "date": MONDAY, "minutes": 30})),
        ),
        (
            "edit an entry",
            axum::http::Method::PATCH,
            format!("/v1/time-entries/{monday}"),
            Some(json!({"minutes": 30})),
        ),
        (
            "move an entry into the period",
            axum::http::Method::PATCH,
            format!("/v1/time-entries/{wednesday}"),
            Some(json!({"date": MONDAY})),
        ),
        (
            "delete an entry",
            axum::http::Method::DELETE,
            format!("/v1/time-entries/{monday}"),
            None,
        ),
        (
            "create an expense",
            axum::http::Method::POST,
            "/v1/expenses".into(),
            Some(
                json!({"project_id": s.project, "date": MONDAY, "amount": "5.00", "category": "Taxi"}),
            ),
        ),
        (
            "edit an expense",
            axum::http::Method::PATCH,
            format!("/v1/expenses/{x}"),
            Some(json!({"amount": "12.00"})),
        ),
        (
            "delete an expense",
            axum::http::Method::DELETE,
            format!("/v1/expenses/{x}"),
            None,
        ),
    ];
    for (what, method, path, body) in cases {
        locking.arm("acme", MONDAY);
        let res = app.call(m, method, &path, body).await;
        refused(res, &locking, what).await;
        assert_eq!(entries_of(&app, m).await, entries, "{what}");
        assert_eq!(expenses_of(&app, m).await, expenses, "{what}");
    }

    // A timer started on Monday cannot become Monday's entry either.
    app.clock
        .set(format!("{MONDAY}T09:00:00Z").parse::<Timestamp>().unwrap());
    app.post(m, "/v1/timers/start", json!({"project_id": s.project}))
        .await
        .expect(201);
    app.clock.advance(SignedDuration::from_mins(30));
    locking.arm("acme", MONDAY);
    let res = app.post(m, "/v1/timers/stop", json!({})).await;
    refused(res, &locking, "stop a timer").await;
    assert_eq!(entries_of(&app, m).await, entries);
    let current = app.get(m, "/v1/timers/current").await.expect(200);
    assert!(!current.body["timer"].is_null(), "the timer still runs");
}

#[tokio::test]
async fn submitting_deciding_and_unapproving_lose_to_a_lock_set_meanwhile() {
    let (app, locking, s) = locking_app().await;
    let a = record(&app, &s.member, &s.project, MONDAY, 60).await;
    let x = expense(&app, &s.member, &s.project, MONDAY, "10.00").await;
    let status = |id: String| {
        let app = &app;
        async move { stored_entry(app, "acme", &id).await.status }
    };

    locking.arm("acme", MONDAY);
    refused(submit(&app, &s.member).await, &locking, "submit").await;
    assert_eq!(status(a.clone()).await, WorkStatus::Draft);
    assert!(stored_week(&app, "acme", &s.member.person)
        .await
        .is_none_or(|w| w.job.is_none()));

    submit(&app, &s.member).await.expect(200);
    locking.arm("acme", MONDAY);
    refused(
        approve(&app, &s.finance, &s.member, None).await,
        &locking,
        "approve",
    )
    .await;
    assert_eq!(status(a.clone()).await, WorkStatus::Submitted);
    assert!(stored_week(&app, "acme", &s.member.person)
        .await
        .unwrap()
        .job
        .is_none());

    approve(&app, &s.finance, &s.member, None).await.expect(200);
    burn_changes(&app).await;
    locking.arm("acme", MONDAY);
    refused(
        reject(&app, &s.finance, &s.member, None).await,
        &locking,
        "un-approve",
    )
    .await;
    assert_eq!(status(a.clone()).await, WorkStatus::Approved);
    assert!(burn_changes(&app).await.is_empty());

    let x_path = |action: &str| format!("/v1/expenses/{x}/{action}");
    locking.arm("acme", MONDAY);
    let res = app.post(&s.member, &x_path("submit"), json!({})).await;
    refused(res, &locking, "submit an expense").await;
    assert_eq!(
        stored_expense(&app, "acme", &x).await.status,
        WorkStatus::Draft
    );
    app.post(&s.member, &x_path("submit"), json!({}))
        .await
        .expect(200);
    locking.arm("acme", MONDAY);
    let res = app.post(&s.finance, &x_path("approve"), json!({})).await;
    refused(res, &locking, "approve an expense").await;
    assert_eq!(
        stored_expense(&app, "acme", &x).await.status,
        WorkStatus::Submitted
    );
    app.post(&s.finance, &x_path("approve"), json!({}))
        .await
        .expect(200);
    burn_changes(&app).await;
    locking.arm("acme", MONDAY);
    let res = app
        .post(&s.finance, &x_path("reject"), json!({"reason": "No"}))
        .await;
    refused(res, &locking, "un-approve an expense").await;
    assert_eq!(
        stored_expense(&app, "acme", &x).await.status,
        WorkStatus::Approved
    );
    assert!(burn_changes(&app).await.is_empty());
}
