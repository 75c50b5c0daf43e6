//! Every endpoint of the approvals function against the rules a user would
//! notice: another tenant's ids are 404, roles below the one needed are 403, a
//! manager decides only on projects they are on, nobody but an admin decides on
//! their own work, and nothing changes when a request is refused.

mod support;

use agencyops_domain::timesheet::WorkStatus;
use axum::http::Method;
use serde_json::{json, Value};
use support::*;

struct Waiting {
    entry: String,
    expense: String,
}

/// The member's week and one expense, both submitted and waiting for a decision.
async fn waiting(app: &App, s: &Studio) -> Waiting {
    let entry = record(app, &s.member, &s.project, MONDAY, 60).await;
    submit(app, &s.member).await.expect(200);
    let expense = expense(app, &s.member, &s.project, MONDAY, "40.00").await;
    app.post(
        &s.member,
        &format!("/v1/expenses/{expense}/submit"),
        json!({}),
    )
    .await
    .expect(200);
    Waiting { entry, expense }
}

/// Every POST of the function that names the member's week or expense.
fn decisions(s: &Studio, w: &Waiting) -> Vec<(String, Value)> {
    let week = |a: &str| week_path(&s.member, a);
    let x = |a: &str| format!("/v1/expenses/{}/{a}", w.expense);
    vec![
        (week("approve"), json!({})),
        (week("approve"), json!({"project_id": s.project})),
        (week("reject"), json!({"reason": "No"})),
        (
            week("reject"),
            json!({"reason": "No", "project_id": s.project}),
        ),
        (x("approve"), json!({})),
        (x("reject"), json!({"reason": "No"})),
    ]
}

async fn nothing_changed(app: &App, w: &Waiting) {
    let e = stored_entry(app, "acme", &w.entry).await;
    assert_eq!(e.status, WorkStatus::Submitted);
    let x = stored_expense(app, "acme", &w.expense).await;
    assert_eq!(x.status, WorkStatus::Submitted);
    assert!(burn_changes(app).await.is_empty());
}

#[tokio::test]
async fn another_tenants_ids_are_not_found() {
    let (app, s) = setup().await;
    let w = waiting(&app, &s).await;
    // The other tenant has people and work of its own.
    let globex = studio(&app, "globex").await;
    record(&app, &globex.member, &globex.project, MONDAY, 60).await;
    let mut calls = decisions(&s, &w);
    calls.push((week_path(&s.member, "submit"), json!({})));
    calls.push((format!("/v1/expenses/{}/submit", w.expense), json!({})));
    for (path, body) in calls {
        let res = app.post(&globex.admin, &path, body).await;
        assert_eq!(res.status, 404, "{path}: {}", res.body);
    }
    nothing_changed(&app, &w).await;

    // The lock date is per tenant: globex closing its books leaves acme open.
    set_lock(&app, &globex.admin, Some(FRIDAY))
        .await
        .expect(200);
    let res = app
        .get(&s.admin, "/v1/settings/lock-date")
        .await
        .expect(200);
    assert_eq!(res.body["lock_date"], Value::Null);
    approve(&app, &s.admin, &s.member, None).await.expect(200);
}

#[tokio::test]
async fn lower_roles_may_not_decide_or_act_for_others() {
    let (app, s) = setup().await;
    let w = waiting(&app, &s).await;
    for who in [
        &s.outsider,
        &s.contractor,
        &s.stray_contractor,
        &s.client_user,
    ] {
        for (path, body) in decisions(&s, &w) {
            let res = app.post(who, &path, body).await;
            assert_eq!(res.status, 403, "{} {path}: {}", who.role, res.body);
        }
    }
    // Submitting is for the person themself, or an admin or manager for them.
    for who in [&s.outsider, &s.contractor, &s.finance, &s.client_user] {
        for path in [
            week_path(&s.member, "submit"),
            format!("/v1/expenses/{}/submit", w.expense),
        ] {
            let res = app.post(who, &path, json!({})).await;
            assert_eq!(res.status, 403, "{} {path}: {}", who.role, res.body);
        }
    }
    for who in [&s.manager, &s.member, &s.contractor, &s.client_user] {
        set_lock(&app, who, Some(MONDAY)).await.expect(403);
    }
    app.get(&s.client_user, "/v1/settings/lock-date")
        .await
        .expect(403);
    nothing_changed(&app, &w).await;
    // Nobody signed in gets nowhere.
    for (method, path) in [
        (Method::POST, week_path(&s.member, "approve")),
        (Method::POST, format!("/v1/expenses/{}/approve", w.expense)),
        (Method::GET, "/v1/settings/lock-date".to_owned()),
    ] {
        let res = app
            .raw(None, method, &path, Some(b"{}".to_vec()), &[])
            .await;
        assert_eq!(res.status, 401, "{path}");
    }
}

#[tokio::test]
async fn a_manager_decides_only_on_projects_they_are_on() {
    let (app, s) = setup().await;
    let w = waiting(&app, &s).await;
    for (path, body) in decisions(&s, &w) {
        let res = app.post(&s.other_manager, &path, body).await;
        assert_eq!(res.status, 403, "{path}: {}", res.body);
    }
    nothing_changed(&app, &w).await;
    // The manager on the team may; and any manager may submit for someone.
    let x = format!("/v1/expenses/{}/approve", w.expense);
    app.post(&s.manager, &x, json!({})).await.expect(200);
    approve(&app, &s.manager, &s.member, Some(&s.project))
        .await
        .expect(200);
    record(&app, &s.contractor, &s.project, MONDAY, 30).await;
    app.post(
        &s.other_manager,
        &week_path(&s.contractor, "submit"),
        json!({}),
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn only_an_admin_decides_on_their_own_work() {
    let (app, s) = setup().await;
    let mut own = Vec::new();
    for who in [&s.finance, &s.manager, &s.admin] {
        record(&app, who, &s.project, MONDAY, 60).await;
        submit(&app, who).await.expect(200);
        let x = expense(&app, who, &s.project, MONDAY, "12.00").await;
        app.post(who, &format!("/v1/expenses/{x}/submit"), json!({}))
            .await
            .expect(200);
        own.push((who, x));
    }
    for (who, x) in &own[..2] {
        for (path, body) in [
            (week_path(who, "approve"), json!({"project_id": s.project})),
            (week_path(who, "reject"), json!({"reason": "Mine"})),
            (format!("/v1/expenses/{x}/approve"), json!({})),
            (
                format!("/v1/expenses/{x}/reject"),
                json!({"reason": "Mine"}),
            ),
        ] {
            let res = app.post(who, &path, body).await;
            assert_eq!(res.status, 403, "{} {path}: {}", who.role, res.body);
            assert!(res.body["detail"].as_str().unwrap().contains("own"));
        }
    }
    let (admin, x) = &own[2];
    approve(&app, admin, admin, None).await.expect(200);
    app.post(admin, &format!("/v1/expenses/{x}/approve"), json!({}))
        .await
        .expect(200);
    // Someone else decides on finance's and the manager's work.
    approve(&app, &s.admin, &s.finance, None).await.expect(200);
    approve(&app, &s.finance, &s.manager, None)
        .await
        .expect(200);
}
