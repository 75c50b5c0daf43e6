//! A retried submit, approve or reject with the same Idempotency-Key gets the
//! first answer again, and the budget hears about the approval once.

mod support;

use std::time::Duration;

use agencyops_platform::events::APPROVED_QUEUE;
use serde_json::json;
use support::*;

/// Messages waiting on the `approved` queue, taken off it.
async fn approved_messages(app: &App) -> usize {
    let got = app
        .queue
        .receive(APPROVED_QUEUE, 10, Duration::from_secs(60))
        .await
        .unwrap();
    for m in &got {
        app.queue.delete(&m.receipt).await.unwrap();
    }
    got.len()
}

#[tokio::test]
async fn retried_week_and_expense_decisions_happen_once() {
    let (app, s) = setup().await;
    record(&app, &s.member, &s.project, MONDAY, 120).await;
    let x = expense(&app, &s.member, &s.project, MONDAY, "30.00").await;

    for (who, path, body, key) in [
        (
            &s.member,
            week_path(&s.member, "submit"),
            json!({}),
            "submit-1",
        ),
        (
            &s.manager,
            week_path(&s.member, "approve"),
            json!({}),
            "approve-1",
        ),
        (
            &s.member,
            format!("/v1/expenses/{x}/submit"),
            json!({}),
            "x-submit-1",
        ),
        (
            &s.manager,
            format!("/v1/expenses/{x}/approve"),
            json!({}),
            "x-approve-1",
        ),
    ] {
        let first = app
            .post_keyed(who, &path, body.clone(), key)
            .await
            .expect(200);
        let again = app.post_keyed(who, &path, body, key).await.expect(200);
        assert_eq!(first.body, again.body, "{path}: the first answer, replayed");
    }
    assert_eq!(
        approved_messages(&app).await,
        2,
        "one change for the week and one for the expense, not four"
    );

    let reject = json!({"reason": "Split the workshop hours by task"});
    let path = week_path(&s.member, "reject");
    let first = app
        .post_keyed(&s.manager, &path, reject.clone(), "reject-1")
        .await
        .expect(200);
    let again = app
        .post_keyed(&s.manager, &path, reject, "reject-1")
        .await
        .expect(200);
    assert_eq!(first.body, again.body);
    assert_eq!(approved_messages(&app).await, 1, "one un-approval");
    app.post_keyed(&s.manager, &path, json!({"reason": "other"}), "reject-1")
        .await
        .expect(422);
}
