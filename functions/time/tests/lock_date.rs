//! The lock date closes a period: no write path of the time function changes
//! work dated on or before it, while later work carries on as usual.

mod support;

use jiff::{SignedDuration, Timestamp};
use serde_json::json;
use support::*;

#[tokio::test]
async fn nothing_dated_in_a_closed_period_changes() {
    let (app, s) = setup().await;
    let m = &s.member;
    let closed = record(&app, m, &s.project, "2026-11-14", 60)
        .await
        .expect(201)
        .id();
    let open = record(&app, m, &s.project, "2026-11-18", 60)
        .await
        .expect(201)
        .id();
    let x_closed = expense(&app, m, &s.project, "2026-11-14", "10.00")
        .await
        .expect(201)
        .id();
    let x_open = expense(&app, m, &s.project, "2026-11-18", "10.00")
        .await
        .expect(201)
        .id();
    // A timer started on the 14th, still running when the period closes.
    app.clock
        .set("2026-11-14T10:00:00Z".parse::<Timestamp>().unwrap());
    start_timer(&app, m, json!({"project_id": s.project}))
        .await
        .expect(201);
    app.clock.advance(SignedDuration::from_hours(1));
    lock(&app, "acme", "2026-11-15").await;
    let entries_before = entries_of(&app, m).await;
    let expenses_before = expenses_of(&app, m).await;

    let locked = |res: Res| {
        assert_eq!(res.status, 409, "{}", res.body);
        assert_eq!(res.problem_type(), LOCKED, "{}", res.body);
    };
    // Time entries: create on the lock date, edit inside, move in and out, delete.
    locked(record(&app, m, &s.project, "2026-11-15", 30).await);
    let entry = |id: &str| format!("/v1/time-entries/{id}");
    locked(
        app.patch(m, &entry(&closed), json!({"note": "late fix"}))
            .await,
    );
    locked(
        app.patch(m, &entry(&closed), json!({"date": "2026-11-20"}))
            .await,
    );
    locked(
        app.patch(m, &entry(&open), json!({"date": "2026-11-10"}))
            .await,
    );
    locked(app.delete(m, &entry(&closed)).await);
    // Recording for someone else is no way around it.
    let for_member = json!({"project_id": s.project, "date": "2026-11-01", "minutes": 30, "person_id": m.person});
    locked(app.post(&s.admin, "/v1/time-entries", for_member).await);
    // The timer started in the closed period cannot become an entry.
    locked(stop_timer(&app, m, json!({})).await);
    // Expenses: create, edit inside, move in, delete.
    locked(expense(&app, m, &s.project, "2026-11-15", "5.00").await);
    let exp = |id: &str| format!("/v1/expenses/{id}");
    locked(
        app.patch(m, &exp(&x_closed), json!({"amount": "11.00"}))
            .await,
    );
    locked(
        app.patch(m, &exp(&x_closed), json!({"date": "2026-11-20"}))
            .await,
    );
    locked(
        app.patch(m, &exp(&x_open), json!({"date": "2026-11-15"}))
            .await,
    );
    locked(app.delete(m, &exp(&x_closed)).await);

    assert_eq!(entries_of(&app, m).await, entries_before);
    assert_eq!(expenses_of(&app, m).await, expenses_before);
    let current = current_timer(&app, m).await;
    assert!(!current.body["timer"].is_null(), "the timer is still there");

    // After the lock date everything still works.
    record(&app, m, &s.project, "2026-11-16", 30)
        .await
        .expect(201);
    app.patch(
        m,
        &entry(&open),
        json!({"minutes": 90, "date": "2026-11-17"}),
    )
    .await
    .expect(200);
    expense(&app, m, &s.project, "2026-11-16", "5.00")
        .await
        .expect(201);
    app.patch(m, &exp(&x_open), json!({"amount": "12.00"}))
        .await
        .expect(200);
    app.delete(m, &exp(&x_open)).await.expect(204);
    app.delete(m, &entry(&open)).await.expect(204);
    // A timer in the closed period can only be thrown away.
    stop_timer(&app, m, json!({"discard": true}))
        .await
        .expect(200);
    start_timer(&app, m, json!({"project_id": s.project}))
        .await
        .expect(201);
    app.clock.advance(SignedDuration::from_hours(2));
    let res = start_timer(&app, m, json!({"project_id": s.project, "switch": true})).await;
    // Switching would record the old timer's work on the 14th: refused whole.
    locked(res);
    let current = current_timer(&app, m).await;
    assert_eq!(current.body["timer"]["started_at"], "2026-11-14T11:00:00Z");
}
