//! Approved and invoiced work is history: it cannot be edited or deleted, and
//! the refusal says why. Work sent back can be fixed, and becomes a draft again.

mod support;

use agencyops_domain::timesheet::WorkStatus;
use serde_json::json;
use support::*;

#[tokio::test]
async fn approved_and_invoiced_entries_cannot_change() {
    let (app, s) = setup().await;
    for (status, word) in [
        (WorkStatus::Approved, "approved"),
        (WorkStatus::Invoiced, "invoiced"),
        (WorkStatus::Submitted, "submitted"),
    ] {
        let id = record(&app, &s.member, &s.project, "2026-11-20", 60)
            .await
            .expect(201)
            .id();
        set_entry_status(&app, "acme", &id, status).await;
        let path = format!("/v1/time-entries/{id}");
        for who in [&s.member, &s.admin] {
            let res = app
                .patch(who, &path, json!({"minutes": 30}))
                .await
                .expect(409);
            assert_eq!(res.problem_type(), LOCKED);
            assert!(detail(&res).contains(word), "{}", res.body);
            let res = app.delete(who, &path).await.expect(409);
            assert_eq!(res.problem_type(), LOCKED);
        }
        let res = app.get(&s.member, &path).await.expect(200);
        assert_eq!(res.body["minutes"], 60);
        assert_eq!(res.body["status"], word);
    }
    assert_eq!(entries_of(&app, &s.member).await.len(), 3);
}

#[tokio::test]
async fn approved_expenses_cannot_change() {
    let (app, s) = setup().await;
    let id = expense(&app, &s.member, &s.project, "2026-11-20", "42.00")
        .await
        .expect(201)
        .id();
    set_expense_status(&app, "acme", &id, WorkStatus::Approved).await;
    let path = format!("/v1/expenses/{id}");
    let res = app
        .patch(&s.member, &path, json!({"amount": "1.00"}))
        .await
        .expect(409);
    assert_eq!(res.problem_type(), LOCKED);
    assert!(detail(&res).contains("approved"), "{}", res.body);
    let res = app.delete(&s.member, &path).await.expect(409);
    assert_eq!(res.problem_type(), LOCKED);
    let res = app.get(&s.member, &path).await.expect(200);
    assert_eq!(res.body["amount"], "42.00");
    assert_eq!(expenses_of(&app, &s.member).await.len(), 1);
}

#[tokio::test]
async fn fixing_rejected_work_makes_it_a_draft_again() {
    let (app, s) = setup().await;
    let id = record(&app, &s.member, &s.project, "2026-11-20", 60)
        .await
        .expect(201)
        .id();
    set_entry_status(&app, "acme", &id, WorkStatus::Rejected).await;
    let res = app
        .patch(
            &s.member,
            &format!("/v1/time-entries/{id}"),
            json!({"minutes": 45}),
        )
        .await
        .expect(200);
    assert_eq!(res.body["status"], "draft");
    assert_eq!(res.body["minutes"], 45);

    let x = expense(&app, &s.member, &s.project, "2026-11-20", "42.00")
        .await
        .expect(201)
        .id();
    set_expense_status(&app, "acme", &x, WorkStatus::Rejected).await;
    let res = app
        .patch(
            &s.member,
            &format!("/v1/expenses/{x}"),
            json!({"note": "receipt found"}),
        )
        .await
        .expect(200);
    assert_eq!(res.body["status"], "draft");
    app.delete(&s.member, &format!("/v1/expenses/{x}"))
        .await
        .expect(204);
    assert!(expenses_of(&app, &s.member).await.is_empty());
}

#[tokio::test]
async fn edits_honour_if_match() {
    let (app, s) = setup().await;
    let created = record(&app, &s.member, &s.project, "2026-11-20", 60)
        .await
        .expect(201);
    let (id, etag) = (created.id(), created.etag());
    let path = format!("/v1/time-entries/{id}");
    app.patch(&s.member, &path, json!({"note": "first"}))
        .await
        .expect(200);
    let stale = app
        .raw(
            Some(&s.member),
            axum::http::Method::PATCH,
            &path,
            Some(br#"{"note": "second"}"#.to_vec()),
            &[("if-match", &etag)],
        )
        .await;
    assert_eq!(stale.status, 412);
    let res = app.get(&s.member, &path).await.expect(200);
    assert_eq!(res.body["note"], "first");
    let fresh = res.etag();
    let res = app
        .raw(
            Some(&s.member),
            axum::http::Method::PATCH,
            &path,
            Some(br#"{"date": "2026-11-18"}"#.to_vec()),
            &[("if-match", &fresh)],
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["date"], "2026-11-18");
    // The entry moved: found by id at its new date, and only there.
    let res = app.get(&s.member, &path).await.expect(200);
    assert_eq!(res.body["date"], "2026-11-18");
    let listed = entries_of(&app, &s.member).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["date"], "2026-11-18");
    let stale = app
        .raw(
            Some(&s.member),
            axum::http::Method::DELETE,
            &path,
            None,
            &[("if-match", &fresh)],
        )
        .await;
    assert_eq!(stale.status, 412);
    app.delete(&s.member, &path).await.expect(204);
    app.get(&s.member, &path).await.expect(404);
    assert!(entries_of(&app, &s.member).await.is_empty());
}
