//! A client that retries a POST with the same Idempotency-Key (a timeout, a
//! flaky network) gets the first answer again and nothing happens twice.

mod support;

use agencyops_apitest::time::{entry_body, expense_body};
use serde_json::json;
use support::*;

#[tokio::test]
async fn retried_posts_record_time_and_expenses_once() {
    let (app, s) = setup().await;
    let m = &s.member;

    let body = entry_body(&s.project, "2026-11-18", 90);
    let first = app
        .post_keyed(m, "/v1/time-entries", body.clone(), "entry-1")
        .await
        .expect(201);
    let again = app
        .post_keyed(m, "/v1/time-entries", body, "entry-1")
        .await
        .expect(201);
    assert_eq!(first.body, again.body, "the first answer, replayed");
    let other = entry_body(&s.project, "2026-11-18", 30);
    app.post_keyed(m, "/v1/time-entries", other, "entry-1")
        .await
        .expect(422);
    let entries = all(&app, m, "/v1/time-entries").await;
    assert_eq!(entries.len(), 1, "one entry despite three POSTs");

    let body = expense_body(&s.project, "2026-11-18", "12.40");
    let first = app
        .post_keyed(m, "/v1/expenses", body.clone(), "expense-1")
        .await
        .expect(201);
    let again = app
        .post_keyed(m, "/v1/expenses", body, "expense-1")
        .await
        .expect(201);
    assert_eq!(first.id(), again.id());
    assert_eq!(all(&app, m, "/v1/expenses").await.len(), 1);
}

#[tokio::test]
async fn a_retried_timer_start_or_stop_is_not_a_conflict_and_stops_once() {
    let (app, s) = setup().await;
    let m = &s.member;
    let start = json!({"project_id": s.project, "note": "Logo"});
    let first = app
        .post_keyed(m, "/v1/timers/start", start.clone(), "start-1")
        .await
        .expect(201);
    // Without the key, a second start is the documented 409; with it, a replay.
    let replayed = app
        .post_keyed(m, "/v1/timers/start", start, "start-1")
        .await
        .expect(201);
    assert_eq!(first.body, replayed.body);
    app.clock.advance(jiff::SignedDuration::from_mins(25));
    let stopped = app
        .post_keyed(m, "/v1/timers/stop", json!({}), "stop-1")
        .await
        .expect(201);
    let again = app
        .post_keyed(m, "/v1/timers/stop", json!({}), "stop-1")
        .await
        .expect(201);
    assert_eq!(stopped.body, again.body);
    assert_eq!(
        first.body["id"],
        m.person.as_str(),
        "the person's one timer"
    );
    let entries = all(&app, m, "/v1/time-entries").await;
    assert_eq!(entries.len(), 1, "one stop, one entry");
    assert_eq!(entries[0]["minutes"], 25);
}
