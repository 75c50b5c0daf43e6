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

/// The week's audit record of `action`, as an admin reads it.
async fn week_audit(app: &App, s: &Studio, person: &As, action: &str) -> Value {
    let week = format!("{}/{WEEK}", person.person);
    let path = format!("/v1/audit?entity_kind=timesheet_week&entity_id={week}");
    let res = app.get(&s.admin, &path).await.expect(200);
    res.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["action"] == action)
        .cloned()
        .unwrap_or_else(|| panic!("no {action} in {}", res.body))
}

#[tokio::test]
async fn a_manager_who_recorded_a_members_time_cannot_approve_it_but_another_approver_can() {
    let (app, s) = setup().await;
    // Mia (on the project) records a full week for Rui and submits it for him.
    let body = json!({"project_id": s.project, "date": MONDAY, "minutes": 480, "person_id": s.member.person});
    let made = app.create(&s.manager, "/v1/time-entries", body).await;
    let own = record(&app, &s.member, &s.project, WEDNESDAY, 60).await;
    submit_for(&app, &s.manager, &s.member).await;
    for body in [json!({}), json!({"project_id": s.project})] {
        let res = app
            .post(&s.manager, &week_path(&s.member, "approve"), body)
            .await
            .expect(403);
        assert!(
            res.body["detail"]
                .as_str()
                .unwrap()
                .contains("another approver"),
            "{}",
            res.body
        );
    }
    // Nothing moved, not even Rui's own entry: the week is approved whole or not at all.
    for id in [&made, &own] {
        assert_eq!(
            stored_entry(&app, "acme", id).await.status,
            WorkStatus::Submitted
        );
    }
    assert!(burn_changes(&app).await.is_empty());
    // Finance approves it; the trail shows who recorded, changed and approved.
    approve(&app, &s.finance, &s.member, None).await.expect(200);
    assert_eq!(
        stored_entry(&app, "acme", &made).await.status,
        WorkStatus::Approved
    );
    let a = week_audit(&app, &s, &s.member, "approve").await;
    assert_eq!(a["actor"], s.finance.person.as_str());
    let mut recorded: Vec<&str> = a["after"]["recorded_by"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    recorded.sort();
    let mut want = vec![s.manager.person.as_str(), s.member.person.as_str()];
    want.sort();
    assert_eq!(recorded, want);
    assert_eq!(a["after"]["recorded_or_changed_by_actor"], json!([]));
    let entry = app
        .get(&s.admin, &format!("/v1/time-entries/{made}"))
        .await
        .expect(200);
    assert_eq!(
        (
            &entry.body["recorded_by"],
            &entry.body["approval"]["approved_by"]
        ),
        (&json!(s.manager.person), &json!(s.finance.person))
    );
}

#[tokio::test]
async fn whoever_last_changed_someones_work_cannot_approve_it() {
    let (app, s) = setup().await;
    let id = record(&app, &s.member, &s.project, MONDAY, 60).await;
    app.patch(
        &s.manager,
        &format!("/v1/time-entries/{id}"),
        json!({"minutes": 600}),
    )
    .await
    .expect(200);
    let x = expense(&app, &s.member, &s.project, MONDAY, "40.00").await;
    app.patch(
        &s.manager,
        &format!("/v1/expenses/{x}"),
        json!({"amount": "400.00"}),
    )
    .await
    .expect(200);
    submit(&app, &s.member).await.expect(200);
    app.post(&s.member, &format!("/v1/expenses/{x}/submit"), json!({}))
        .await
        .expect(200);
    approve(&app, &s.manager, &s.member, None).await.expect(403);
    let res = app
        .post(&s.manager, &format!("/v1/expenses/{x}/approve"), json!({}))
        .await
        .expect(403);
    assert!(res.body["detail"]
        .as_str()
        .unwrap()
        .contains("another approver"));
    assert_eq!(
        stored_expense(&app, "acme", &x).await.status,
        WorkStatus::Submitted
    );
    // Sending it back stays possible; approving is for someone else.
    approve(&app, &s.finance, &s.member, None).await.expect(200);
    let a = week_audit(&app, &s, &s.member, "approve").await;
    assert_eq!(a["after"]["changed_by"], json!([s.manager.person]));
    app.post(&s.finance, &format!("/v1/expenses/{x}/approve"), json!({}))
        .await
        .expect(200);
    let stored = stored_expense(&app, "acme", &x).await;
    assert_eq!(
        stored.changed_by.as_deref(),
        Some(s.manager.person.as_str())
    );
    assert!(!stored.approval.unwrap().approver_made_or_changed);
}

#[tokio::test]
async fn an_admin_may_approve_work_they_recorded_and_the_trail_says_so() {
    let (app, s) = setup().await;
    let body = json!({"project_id": s.project, "date": MONDAY, "minutes": 60, "person_id": s.member.person});
    let made = app.create(&s.admin, "/v1/time-entries", body).await;
    submit_for(&app, &s.admin, &s.member).await;
    approve(&app, &s.admin, &s.member, None).await.expect(200);
    let a = week_audit(&app, &s, &s.member, "approve").await;
    assert_eq!(a["after"]["recorded_or_changed_by_actor"], json!([made]));
    let x = expense(&app, &s.member, &s.project, MONDAY, "40.00").await;
    app.patch(
        &s.admin,
        &format!("/v1/expenses/{x}"),
        json!({"note": "taxi"}),
    )
    .await
    .expect(200);
    app.post(&s.member, &format!("/v1/expenses/{x}/submit"), json!({}))
        .await
        .expect(200);
    app.post(&s.admin, &format!("/v1/expenses/{x}/approve"), json!({}))
        .await
        .expect(200);
    let stored = stored_expense(&app, "acme", &x).await;
    assert!(stored.approval.unwrap().approver_made_or_changed);
}

async fn submit_for(app: &App, by: &As, person: &As) {
    app.post(by, &week_path(person, "submit"), json!({}))
        .await
        .expect(200);
}

/// Fields that carry a rate, a cost or a billed value, wherever they appear.
const MONEY: &[&str] = &[
    "bill_rate",
    "cost_rate",
    "cost_currency",
    "rate_source",
    "value",
    "billed_amount",
    "markup_percent",
    "unapproved",
    "fees",
    "cost",
];

/// Every path in `v` that names a rate, cost or value.
fn money_in(v: &Value) -> Vec<String> {
    agencyops_apitest::paths_named(v, MONEY)
}

#[tokio::test]
async fn approved_work_shows_no_rate_cost_or_value_to_its_member_or_contractor() {
    let (app, s) = setup().await;
    for who in [&s.member, &s.contractor] {
        let entry = record(&app, who, &s.project, MONDAY, 60).await;
        let x = expense(&app, who, &s.project, MONDAY, "40.00").await;
        let mut seen: Vec<(String, Value)> = Vec::new();
        seen.push((
            "submit week".into(),
            submit(&app, who).await.expect(200).body,
        ));
        let submitted = app
            .post(who, &format!("/v1/expenses/{x}/submit"), json!({}))
            .await
            .expect(200);
        seen.push(("submit expense".into(), submitted.body));
        approve(&app, &s.manager, who, None).await.expect(200);
        let approved = app
            .post(&s.manager, &format!("/v1/expenses/{x}/approve"), json!({}))
            .await
            .expect(200);
        // The approver sees what was fixed.
        assert!(
            approved.body["approval"]["billed_amount"].is_string(),
            "{}",
            approved.body
        );
        let staff_view = app
            .get(&s.manager, &format!("/v1/time-entries/{entry}"))
            .await
            .expect(200);
        let a = &staff_view.body["approval"];
        assert!(
            a["value"].is_string() && a["bill_rate"].is_string() && a["cost_rate"].is_string(),
            "{}",
            staff_view.body
        );
        for path in [
            format!("/v1/time-entries/{entry}"),
            "/v1/time-entries".into(),
            format!("/v1/timesheets/me/{WEEK}"),
            format!("/v1/expenses/{x}"),
            "/v1/expenses".into(),
        ] {
            seen.push((path.clone(), app.get(who, &path).await.expect(200).body));
        }
        // Approved work sent back and resubmitted: the undone approval stays hidden.
        reject(&app, &s.manager, who, None).await.expect(200);
        app.post(
            &s.manager,
            &format!("/v1/expenses/{x}/reject"),
            json!({"reason": "No"}),
        )
        .await
        .expect(200);
        for path in [
            format!("/v1/time-entries/{entry}"),
            format!("/v1/expenses/{x}"),
        ] {
            seen.push((path.clone(), app.get(who, &path).await.expect(200).body));
        }
        let again = app
            .post(who, &format!("/v1/expenses/{x}/submit"), json!({}))
            .await
            .expect(200);
        seen.push(("resubmit expense".into(), again.body));
        seen.push((
            "resubmit week".into(),
            submit(&app, who).await.expect(200).body,
        ));
        for (what, body) in seen {
            let money = money_in(&body);
            assert!(
                money.is_empty(),
                "{} sees {money:?} in {what}: {body}",
                who.role
            );
        }
    }
}
