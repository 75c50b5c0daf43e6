//! The lock date: who may move it which way, and every write path of the
//! approvals function refusing work in the closed period while changing nothing.

mod support;

use agencyops_domain::timesheet::WorkStatus;
use axum::http::Method;
use serde_json::json;
use support::*;

/// Locks Monday of the test week (its Wednesday and Friday stay open).
const LOCK: &str = MONDAY;

#[tokio::test]
async fn finance_closes_periods_and_only_an_admin_reopens_them() {
    let (app, s) = setup().await;
    let res = app
        .get(&s.member, "/v1/settings/lock-date")
        .await
        .expect(200);
    assert_eq!(res.body["lock_date"], serde_json::Value::Null);

    let res = set_lock(&app, &s.finance, Some("2026-10-31"))
        .await
        .expect(200);
    assert_eq!(res.body["lock_date"], "2026-10-31");
    assert_eq!(res.body["set_by"], s.finance.person.as_str());
    set_lock(&app, &s.finance, Some("2026-11-08"))
        .await
        .expect(200);
    // Moving it back or clearing it re-opens closed books: admin only.
    let res = set_lock(&app, &s.finance, Some("2026-10-31"))
        .await
        .expect(403);
    assert!(res.body["detail"].as_str().unwrap().contains("admin"));
    set_lock(&app, &s.finance, None).await.expect(403);
    for who in [&s.manager, &s.member, &s.contractor, &s.client_user] {
        set_lock(&app, who, Some("2026-11-10")).await.expect(403);
    }
    let res = app
        .get(&s.contractor, "/v1/settings/lock-date")
        .await
        .expect(200);
    assert_eq!(res.body["lock_date"], "2026-11-08");
    app.get(&s.client_user, "/v1/settings/lock-date")
        .await
        .expect(403);

    // If-Match is honoured: a stale version is 412 and changes nothing.
    let current = app
        .get(&s.admin, "/v1/settings/lock-date")
        .await
        .expect(200);
    let etag = current.etag();
    let body = serde_json::to_vec(&json!({"lock_date": "2026-10-01"})).unwrap();
    app.raw(
        Some(&s.admin),
        Method::PUT,
        "/v1/settings/lock-date",
        Some(body.clone()),
        &[("if-match", "\"1\"")],
    )
    .await
    .expect(412);
    let res = app
        .raw(
            Some(&s.admin),
            Method::PUT,
            "/v1/settings/lock-date",
            Some(body),
            &[("if-match", etag.as_str())],
        )
        .await
        .expect(200);
    assert_eq!(res.body["lock_date"], "2026-10-01");
    set_lock(&app, &s.admin, None).await.expect(200);
    let res = app
        .get(&s.finance, "/v1/settings/lock-date")
        .await
        .expect(200);
    assert_eq!(res.body["lock_date"], serde_json::Value::Null);

    // The field is required: an empty body never clears a lock by accident.
    let res = app
        .put(&s.admin, "/v1/settings/lock-date", json!({}))
        .await
        .expect(400);
    assert_eq!(res.fields(), ["lock_date"]);
    app.put(
        &s.admin,
        "/v1/settings/lock-date",
        json!({"lock_date": "31/10/2026"}),
    )
    .await
    .expect(400);

    let audit = audit_of(&app, "acme", "lock_date", "lock").await;
    let mut actions: Vec<&str> = audit
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    actions.sort();
    assert_eq!(actions, ["lock", "lock", "reopen", "reopen"]);
}

#[tokio::test]
async fn submitting_a_week_in_the_closed_period_is_refused() {
    let (app, s) = setup().await;
    let locked = record(&app, &s.member, &s.project, MONDAY, 60).await;
    let open = record(&app, &s.member, &s.project, WEDNESDAY, 60).await;
    set_lock(&app, &s.finance, Some(LOCK)).await.expect(200);
    let res = submit(&app, &s.member).await.expect(409);
    assert_eq!(res.problem_type(), LOCKED);
    for id in [&locked, &open] {
        assert_eq!(
            stored_entry(&app, "acme", id).await.status,
            WorkStatus::Draft
        );
    }
    assert!(stored_week(&app, "acme", &s.member.person).await.is_none());
}

#[tokio::test]
async fn approving_and_unapproving_in_the_closed_period_are_refused() {
    let (app, s) = setup().await;
    let a = record(&app, &s.member, &s.project, MONDAY, 60).await;
    let b = record(&app, &s.member, &s.project, FRIDAY, 60).await;
    submit(&app, &s.member).await.expect(200);
    set_lock(&app, &s.finance, Some(LOCK)).await.expect(200);
    let res = approve(&app, &s.manager, &s.member, None).await.expect(409);
    assert_eq!(res.problem_type(), LOCKED);
    let res = reject(&app, &s.manager, &s.member, None).await.expect(409);
    assert_eq!(res.problem_type(), LOCKED);
    for id in [&a, &b] {
        assert_eq!(
            stored_entry(&app, "acme", id).await.status,
            WorkStatus::Submitted
        );
    }

    // Approved while open, then the period closes: it cannot be un-approved.
    set_lock(&app, &s.admin, None).await.expect(200);
    approve(&app, &s.manager, &s.member, None).await.expect(200);
    burn_changes(&app).await;
    set_lock(&app, &s.finance, Some(LOCK)).await.expect(200);
    let res = reject(&app, &s.manager, &s.member, None).await.expect(409);
    assert_eq!(res.problem_type(), LOCKED);
    for id in [&a, &b] {
        let e = stored_entry(&app, "acme", id).await;
        assert_eq!(e.status, WorkStatus::Approved);
        assert!(e.rejection.is_none());
    }
    assert!(burn_changes(&app).await.is_empty());
    assert!(stored_week(&app, "acme", &s.member.person)
        .await
        .unwrap()
        .job
        .is_none());
}

#[tokio::test]
async fn expenses_in_the_closed_period_cannot_be_submitted_approved_or_unapproved() {
    let (app, s) = setup().await;
    let draft = expense(&app, &s.member, &s.project, MONDAY, "100.00").await;
    let waiting = expense(&app, &s.member, &s.project, MONDAY, "50.00").await;
    let approved = expense(&app, &s.member, &s.project, MONDAY, "20.00").await;
    for id in [&waiting, &approved] {
        app.post(&s.member, &format!("/v1/expenses/{id}/submit"), json!({}))
            .await
            .expect(200);
    }
    app.post(
        &s.manager,
        &format!("/v1/expenses/{approved}/approve"),
        json!({}),
    )
    .await
    .expect(200);
    burn_changes(&app).await;
    set_lock(&app, &s.finance, Some(LOCK)).await.expect(200);

    let attempts = [
        (&s.member, format!("/v1/expenses/{draft}/submit"), json!({})),
        (
            &s.manager,
            format!("/v1/expenses/{waiting}/approve"),
            json!({}),
        ),
        (
            &s.manager,
            format!("/v1/expenses/{waiting}/reject"),
            json!({"reason": "No receipt"}),
        ),
        (
            &s.manager,
            format!("/v1/expenses/{approved}/reject"),
            json!({"reason": "No receipt"}),
        ),
    ];
    for (who, path, body) in attempts {
        let res = app.post(who, &path, body).await.expect(409);
        assert_eq!(res.problem_type(), LOCKED, "{path}");
    }
    let status = |id: &String| {
        let app = &app;
        let id = id.clone();
        async move { stored_expense(app, "acme", &id).await.status }
    };
    assert_eq!(status(&draft).await, WorkStatus::Draft);
    assert_eq!(status(&waiting).await, WorkStatus::Submitted);
    assert_eq!(status(&approved).await, WorkStatus::Approved);
    assert!(burn_changes(&app).await.is_empty());
}
