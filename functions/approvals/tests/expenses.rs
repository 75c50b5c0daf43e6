//! Expense approval: submit, approve with markup, reject (un-approving approved
//! ones), the burn changes it announces and repeats harmlessly, and the locks.

mod support;

use agencyops_domain::timesheet::WorkStatus;
use agencyops_store::{keys, Index, Query, SkCondition};
use rust_decimal_macros::dec;
use serde_json::json;
use support::*;

fn path(id: &str, action: &str) -> String {
    format!("/v1/expenses/{id}/{action}")
}

/// `who` takes `action` (submit, approve) on the expense, with an empty body.
async fn act(app: &App, who: &As, id: &str, action: &str) -> Res {
    app.post(who, &path(id, action), json!({})).await
}

async fn in_wip(app: &App, project: &str, id: &str) -> bool {
    let q = Query::new(Index::Gsi2, keys::unbilled("acme")).sk(SkCondition::BeginsWith(
        keys::unbilled_project_prefix(project),
    ));
    app.stored_items(&q).await.iter().any(|i| i["id"] == id)
}

#[tokio::test]
async fn an_approved_expense_bills_its_markup_and_is_announced_once_per_version() {
    let (app, s) = setup().await;
    let id = expense(&app, &s.member, &s.project, WEDNESDAY, "100.00").await;
    act(&app, &s.manager, &id, "approve").await.expect(409);

    // A body is optional on submit and approve.
    let res = app
        .raw(
            Some(&s.member),
            axum::http::Method::POST,
            &path(&id, "submit"),
            None,
            &[],
        )
        .await
        .expect(200);
    assert_eq!(res.body["status"], "submitted");
    let res = act(&app, &s.member, &id, "submit").await.expect(409);
    assert!(res.body["detail"]
        .as_str()
        .unwrap()
        .contains("already submitted"));

    let res = act(&app, &s.manager, &id, "approve").await.expect(200);
    assert_eq!(res.body["status"], "approved");
    let billed: rust_decimal::Decimal = res.body["approval"]["billed_amount"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(billed, dec!(110));
    let stored = stored_expense(&app, "acme", &id).await;
    let approval = stored.approval.clone().unwrap();
    assert_eq!(approval.billed_amount, dec!(110));
    assert_eq!(approval.approved_by, s.manager.person);
    assert!(in_wip(&app, &s.project, &id).await);

    let changes = burn_changes(&app).await;
    assert_eq!(changes.len(), 1);
    let c = &changes[0];
    assert_eq!(c.change_id, format!("expense:{id}:{}", stored.version));
    assert_eq!((c.minutes, c.fees, c.cost), (0, dec!(110), dec!(100)));
    assert_eq!(
        (c.project_id.as_str(), c.kind.as_str()),
        (s.project.as_str(), "approved")
    );

    // Approving again changes nothing and announces the same change again.
    act(&app, &s.manager, &id, "approve").await.expect(200);
    assert_eq!(stored_expense(&app, "acme", &id).await, stored);
    let again = burn_changes(&app).await;
    assert_eq!(again, changes);

    // Approved expenses are immutable.
    app.patch(
        &s.member,
        &format!("/v1/expenses/{id}"),
        json!({"amount": "90.00"}),
    )
    .await
    .expect(409);

    let audit = audit_of(&app, "acme", "expense", &id).await;
    let mut actions: Vec<&str> = audit
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    actions.sort();
    assert_eq!(actions, ["approve", "create", "submit"]);
}

#[tokio::test]
async fn rejecting_an_approved_expense_takes_it_back_out_of_the_burn() {
    let (app, s) = setup().await;
    let id = expense(&app, &s.member, &s.project, WEDNESDAY, "100.00").await;
    let draft = expense(&app, &s.member, &s.project, WEDNESDAY, "10.00").await;
    act(&app, &s.member, &id, "submit").await.expect(200);
    act(&app, &s.finance, &id, "approve").await.expect(200);
    burn_changes(&app).await;

    let res = app
        .post(&s.finance, &path(&id, "reject"), json!({"reason": ""}))
        .await
        .expect(400);
    assert_eq!(res.fields(), ["reason"]);
    app.post(&s.finance, &path(&draft, "reject"), json!({"reason": "No"}))
        .await
        .expect(409);

    let res = app
        .post(
            &s.finance,
            &path(&id, "reject"),
            json!({"reason": "Not billable to the client"}),
        )
        .await
        .expect(200);
    assert_eq!(res.body["status"], "rejected");
    assert_eq!(
        res.body["rejection"]["reason"],
        "Not billable to the client"
    );
    let stored = stored_expense(&app, "acme", &id).await;
    assert!(stored.approval.is_none());
    assert_eq!(
        stored
            .rejection
            .as_ref()
            .unwrap()
            .unapproved
            .as_ref()
            .unwrap()
            .value,
        dec!(110)
    );
    assert!(!in_wip(&app, &s.project, &id).await);
    let changes = burn_changes(&app).await;
    assert_eq!(changes.len(), 1);
    assert_eq!((changes[0].fees, changes[0].cost), (dec!(-110), dec!(-100)));
    assert_eq!(changes[0].kind.as_str(), "unapproved");
    // Named after the approval it undoes, whatever happens to the expense later.
    let approved_as = stored
        .rejection
        .as_ref()
        .unwrap()
        .unapproved
        .as_ref()
        .unwrap();
    assert_eq!(
        changes[0].change_id,
        format!("expense:{id}:{}:undone", stored.version - 1)
    );
    assert_eq!(
        approved_as.job_id.as_deref(),
        Some(format!("expense:{id}:{}", stored.version - 1).as_str())
    );
    // A retried reject re-announces the same undo and changes nothing.
    app.post(&s.finance, &path(&id, "reject"), json!({"reason": "Again"}))
        .await
        .expect(200);
    assert_eq!(burn_changes(&app).await, changes);
    assert_eq!(stored_expense(&app, "acme", &id).await, stored);

    // Fixed and submitted again, it can be approved again (a new change).
    app.patch(
        &s.member,
        &format!("/v1/expenses/{id}"),
        json!({"amount": "80.00"}),
    )
    .await
    .expect(200);
    act(&app, &s.member, &id, "submit").await.expect(200);
    act(&app, &s.finance, &id, "approve").await.expect(200);
    let changes = burn_changes(&app).await;
    assert_eq!(changes.len(), 1);
    assert_eq!(changes[0].fees, dec!(88));
}

#[tokio::test]
async fn invoiced_expenses_are_locked() {
    let (app, s) = setup().await;
    let id = expense(&app, &s.member, &s.project, WEDNESDAY, "100.00").await;
    act(&app, &s.member, &id, "submit").await.expect(200);
    act(&app, &s.admin, &id, "approve").await.expect(200);
    invoice_expense(&app, "acme", &id).await;
    for (action, body) in [
        ("approve", json!({})),
        ("reject", json!({"reason": "Late"})),
        ("submit", json!({})),
    ] {
        let res = app
            .post(&s.admin, &path(&id, action), body)
            .await
            .expect(409);
        assert_eq!(res.problem_type(), LOCKED, "{action}");
    }
    assert_eq!(
        stored_expense(&app, "acme", &id).await.status,
        WorkStatus::Invoiced
    );
}

/// Applies every waiting burn change, each delivered twice, as SQS may.
async fn consume(app: &App) {
    for c in burn_changes(app).await {
        for _ in 0..2 {
            agencyops_approvals::budget::apply(&app.services, &c)
                .await
                .unwrap();
        }
    }
}

#[tokio::test]
async fn a_reject_repeated_after_the_expense_changed_takes_its_burn_off_once() {
    let (app, s) = setup().await;
    let taxi = expense(&app, &s.member, &s.project, WEDNESDAY, "100.00").await;
    let hotel = expense(&app, &s.member, &s.project, WEDNESDAY, "50.00").await;
    for id in [&taxi, &hotel] {
        app.post(&s.member, &path(id, "submit"), json!({}))
            .await
            .expect(200);
        app.post(&s.manager, &path(id, "approve"), json!({}))
            .await
            .expect(200);
    }
    consume(&app).await;
    let budget = format!("/v1/projects/{}/budget", s.project);
    let used = |res: Res| res.body["fees"]["used"]["amount"].clone();
    assert_eq!(used(app.get(&s.admin, &budget).await.expect(200)), "165.00");

    let reject = json!({"reason": "Not billable"});
    app.post(&s.manager, &path(&taxi, "reject"), reject.clone())
        .await
        .expect(200);
    let undo = burn_changes(&app).await;
    assert_eq!(undo.len(), 1);
    for c in &undo {
        agencyops_approvals::budget::apply(&app.services, c)
            .await
            .unwrap();
    }
    assert_eq!(used(app.get(&s.admin, &budget).await.expect(200)), "55.00");

    // The rejected expense changes (its receipt arrives, as the receipts
    // function records it), then a second click on "reject" comes in.
    let mut x = stored_expense(&app, "acme", &taxi).await;
    let v = x.version;
    x.version += 1;
    app.table
        .transact(vec![
            agencyops_store::record::replace("acme", &x, v).unwrap()
        ])
        .await
        .unwrap();
    app.post(&s.finance, &path(&taxi, "reject"), reject)
        .await
        .expect(200);
    let again = burn_changes(&app).await;
    for c in &again {
        agencyops_approvals::budget::apply(&app.services, c)
            .await
            .unwrap();
    }
    assert_eq!(
        used(app.get(&s.admin, &budget).await.expect(200)),
        "55.00",
        "the hotel is still billable work"
    );
    assert_eq!(again, undo, "the same undo, under the same change id");
}
