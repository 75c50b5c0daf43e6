//! Every endpoint of the time function against the rules a user would notice:
//! another tenant's ids are 404, the client role is 403, a member cannot see
//! (404) or record for (403) someone else, and nobody unauthenticated gets in.

mod support;

use axum::http::Method;
use serde_json::{json, Value};
use support::*;

struct Endpoint {
    method: Method,
    path: String,
    body: Option<Value>,
}

fn ep(method: Method, path: String, body: Option<Value>) -> Endpoint {
    Endpoint { method, path, body }
}

struct Work {
    entry: String,
    expense: String,
}

async fn work(app: &App, s: &Studio) -> Work {
    let entry = record(app, &s.member, &s.project, "2026-11-18", 60)
        .await
        .expect(201)
        .id();
    let expense = expense(app, &s.member, &s.project, "2026-11-18", "9.00")
        .await
        .expect(201)
        .id();
    start_timer(app, &s.member, json!({"project_id": s.project}))
        .await
        .expect(201);
    Work { entry, expense }
}

/// Every route, with a body that would be valid for the member's own work.
fn routes(s: &Studio, w: &Work) -> Vec<Endpoint> {
    let (e, x, m) = (&w.entry, &w.expense, &s.member.person);
    vec![
        ep(
            Method::POST,
            "/v1/timers/start".into(),
            Some(json!({"project_id": s.project})),
        ),
        ep(Method::POST, "/v1/timers/stop".into(), Some(json!({}))),
        ep(Method::GET, "/v1/timers/current".into(), None),
        ep(
            Method::POST,
            "/v1/time-entries".into(),
            Some(json!({"project_id": s.project, "date": "2026-11-19", "minutes": 5})),
        ),
        ep(Method::GET, format!("/v1/time-entries?person_id={m}"), None),
        ep(Method::GET, format!("/v1/time-entries/{e}"), None),
        ep(
            Method::PATCH,
            format!("/v1/time-entries/{e}"),
            Some(json!({"minutes": 5})),
        ),
        ep(Method::DELETE, format!("/v1/time-entries/{e}"), None),
        ep(
            Method::POST,
            "/v1/expenses".into(),
            Some(
                json!({"project_id": s.project, "date": "2026-11-19", "amount": "1.00", "category": "Food"}),
            ),
        ),
        ep(Method::GET, format!("/v1/expenses?person_id={m}"), None),
        ep(Method::GET, format!("/v1/expenses/{x}"), None),
        ep(
            Method::PATCH,
            format!("/v1/expenses/{x}"),
            Some(json!({"note": "x"})),
        ),
        ep(Method::DELETE, format!("/v1/expenses/{x}"), None),
        ep(Method::GET, format!("/v1/timesheets/{m}/2026-W47"), None),
    ]
}

async fn call(app: &App, who: Option<&As>, e: &Endpoint) -> Res {
    let body = e.body.as_ref().map(|b| serde_json::to_vec(b).unwrap());
    app.raw(who, e.method.clone(), &e.path, body, &[]).await
}

/// The member's work exactly as it was.
async fn unchanged(app: &App, s: &Studio, w: &Work) {
    let e = get_entry(app, &s.member, &w.entry).await.expect(200);
    assert_eq!(
        (e.body["version"].as_u64(), e.body["minutes"].as_u64()),
        (Some(1), Some(60))
    );
    let x = get_expense(app, &s.member, &w.expense).await.expect(200);
    assert_eq!(x.body["version"], 1);
    assert_eq!(entries_of(app, &s.member).await.len(), 1);
    assert_eq!(expenses_of(app, &s.member).await.len(), 1);
    let t = current_timer(app, &s.member).await;
    assert_eq!(t.body["timer"]["project_id"], s.project.as_str());
}

#[tokio::test]
async fn another_tenants_admin_finds_nothing() {
    let (app, s) = setup().await;
    let w = work(&app, &s).await;
    let rival = studio(&app, "rival").await;
    for e in routes(&s, &w) {
        let res = call(&app, Some(&rival.admin), &e).await;
        match e.path.as_str() {
            // No ids: answered about the rival's own (empty) timer.
            "/v1/timers/current" => {
                assert_eq!(res.status, 200);
                assert!(res.body["timer"].is_null());
            }
            "/v1/timers/stop" => assert_eq!(res.status, 404, "{}", res.body),
            _ => assert_eq!(res.status, 404, "{} {}: {}", e.method, e.path, res.body),
        }
    }
    // Even claiming the member's own person id in the other tenant.
    let impostor = who("rival", &s.member.person, "admin");
    let res = current_timer(&app, &impostor).await;
    assert!(res.body["timer"].is_null());
    assert!(entries_of(&app, &impostor).await.is_empty());
    get_entry(&app, &impostor, &w.entry).await.expect(404);
    unchanged(&app, &s, &w).await;
}

#[tokio::test]
async fn client_users_are_refused_everywhere() {
    let (app, s) = setup().await;
    let w = work(&app, &s).await;
    for e in routes(&s, &w) {
        let res = call(&app, Some(&s.client_user), &e).await;
        assert_eq!(res.status, 403, "{} {}: {}", e.method, e.path, res.body);
    }
    let res = app.get(&s.client_user, "/v1/timesheets/me/2026-W47").await;
    assert_eq!(res.status, 403);
    unchanged(&app, &s, &w).await;
}

#[tokio::test]
async fn nobody_unauthenticated_gets_in() {
    let (app, s) = setup().await;
    let w = work(&app, &s).await;
    for e in routes(&s, &w) {
        let res = call(&app, None, &e).await;
        assert_eq!(res.status, 401, "{} {}", e.method, e.path);
    }
    unchanged(&app, &s, &w).await;
}

#[tokio::test]
async fn members_do_not_see_each_others_work() {
    let (app, s) = setup().await;
    let w = work(&app, &s).await;
    for e in routes(&s, &w) {
        let res = call(&app, Some(&s.outsider), &e).await;
        let expected = match e.path.as_str() {
            // Their own timer and their own new work are theirs to manage.
            "/v1/timers/current" => 200,
            "/v1/timers/stop" => 404,
            // Not on the team of the project the body names.
            "/v1/timers/start" | "/v1/time-entries" | "/v1/expenses" => 403,
            _ => 404,
        };
        assert_eq!(
            res.status.as_u16(),
            expected,
            "{} {}: {}",
            e.method,
            e.path,
            res.body
        );
    }
    // The contractor on the same project cannot see the member's work either.
    for e in routes(&s, &w).into_iter().filter(|e| {
        e.path.contains(&s.member.person)
            || e.path.contains(&w.entry)
            || e.path.contains(&w.expense)
    }) {
        let res = call(&app, Some(&s.contractor), &e).await;
        assert_eq!(res.status, 404, "{} {}: {}", e.method, e.path, res.body);
    }
    unchanged(&app, &s, &w).await;
}

#[tokio::test]
async fn only_admins_and_managers_record_for_someone_else() {
    let (app, s) = setup().await;
    let for_member = json!({"project_id": s.project, "date": "2026-11-19", "minutes": 30, "person_id": s.member.person});
    for who in [&s.contractor, &s.outsider, &s.finance] {
        let res = app
            .post(who, "/v1/time-entries", for_member.clone())
            .await
            .expect(403);
        assert!(detail(&res).contains("someone else"), "{}", res.body);
    }
    assert!(entries_of(&app, &s.member).await.is_empty());
    let res = app
        .post(&s.manager, "/v1/time-entries", for_member.clone())
        .await
        .expect(201);
    assert_eq!(res.body["person_id"], s.member.person.as_str());
    app.post(&s.admin, "/v1/time-entries", for_member)
        .await
        .expect(201);
    let mine = entries_of(&app, &s.member).await;
    assert_eq!(mine.len(), 2);
    // Unknown people cannot be recorded for.
    let res = app
        .post(&s.admin, "/v1/time-entries", json!({"project_id": s.project, "date": "2026-11-19", "minutes": 30, "person_id": "ghost"}))
        .await
        .expect(400);
    assert_eq!(res.fields(), ["person_id"]);
}

#[tokio::test]
async fn staff_see_everyones_work_and_managers_correct_it() {
    let (app, s) = setup().await;
    let w = work(&app, &s).await;
    let entry = format!("/v1/time-entries/{}", w.entry);
    let exp = format!("/v1/expenses/{}", w.expense);
    for who in [&s.admin, &s.finance, &s.manager, &s.other_manager] {
        app.get(who, &entry).await.expect(200);
        app.get(who, &exp).await.expect(200);
        app.get(who, &format!("/v1/timesheets/{}/2026-W47", s.member.person))
            .await
            .expect(200);
        let listed = all(
            &app,
            who,
            &format!("/v1/time-entries?person_id={}", s.member.person),
        )
        .await;
        assert_eq!(listed.len(), 1);
        let listed = all(
            &app,
            who,
            &format!("/v1/expenses?person_id={}", s.member.person),
        )
        .await;
        assert_eq!(listed.len(), 1);
    }
    // Finance sees but does not edit people's time.
    app.patch(&s.finance, &entry, json!({"minutes": 5}))
        .await
        .expect(403);
    app.delete(&s.finance, &exp).await.expect(403);
    unchanged(&app, &s, &w).await;
    let res = app
        .patch(&s.manager, &entry, json!({"minutes": 50}))
        .await
        .expect(200);
    assert_eq!(res.body["minutes"], 50);
    app.patch(&s.admin, &exp, json!({"amount": "8.00"}))
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
];

/// Every path in `v` that names a rate, cost or value.
fn money_in(v: &Value) -> Vec<String> {
    agencyops_apitest::paths_named(v, MONEY)
}

fn snapshot() -> agencyops_store::records::Approval {
    let eur = agencyops_domain::Currency::parse("EUR").unwrap();
    agencyops_store::records::Approval {
        approved_by: "boss".into(),
        approved_at: jiff::Timestamp::UNIX_EPOCH,
        bill_rate: Some(rust_decimal::Decimal::new(100, 0)),
        rate_source: Some(agencyops_domain::rates::RateSource::ProjectDefault),
        currency: eur,
        cost_rate: Some(rust_decimal::Decimal::new(30, 0)),
        cost_currency: Some(eur),
        billed_minutes: 60,
        value: rust_decimal::Decimal::new(100, 0),
        job_id: Some("job1".into()),
    }
}

struct Priced {
    approved: String,
    sent_back: String,
    expense: String,
    sent_back_expense: String,
}

/// `who`'s own work as the approvals function leaves it: an approved entry
/// (rates and value snapshotted), an entry whose approval was undone, an
/// approved expense with a markup, and one whose approval was undone.
async fn priced_work(app: &App, s: &Studio, who: &As) -> Priced {
    use agencyops_apitest::time::{rewrite_entry, rewrite_expense};
    use agencyops_domain::timesheet::WorkStatus;
    use agencyops_store::records::{ExpenseApproval, Rejection};
    let approved = record(app, who, &s.project, "2026-11-16", 60)
        .await
        .expect(201)
        .id();
    let sent_back = record(app, who, &s.project, "2026-11-17", 60)
        .await
        .expect(201)
        .id();
    let mut marked = agencyops_apitest::time::expense_body(&s.project, "2026-11-16", "40.00");
    marked["markup_percent"] = json!("10");
    let expense = app
        .post(who, "/v1/expenses", marked.clone())
        .await
        .expect(201)
        .id();
    let sent_back_expense = app.post(who, "/v1/expenses", marked).await.expect(201).id();
    rewrite_entry(app, "acme", &approved, |e| {
        e.status = WorkStatus::Approved;
        e.approval = Some(snapshot());
    })
    .await;
    let undone = |by: &str| Rejection {
        rejected_by: by.into(),
        rejected_at: jiff::Timestamp::UNIX_EPOCH,
        reason: "Wrong task".into(),
        job_id: None,
        unapproved: Some(snapshot()),
    };
    rewrite_entry(app, "acme", &sent_back, |e| {
        e.status = WorkStatus::Rejected;
        e.rejection = Some(undone("boss"));
    })
    .await;
    rewrite_expense(app, "acme", &expense, |e| {
        e.status = WorkStatus::Approved;
        e.approval = Some(ExpenseApproval {
            approved_by: "boss".into(),
            approved_at: jiff::Timestamp::UNIX_EPOCH,
            billed_amount: rust_decimal::Decimal::new(44, 0),
            approver_made_or_changed: false,
        });
    })
    .await;
    rewrite_expense(app, "acme", &sent_back_expense, |e| {
        e.status = WorkStatus::Rejected;
        e.rejection = Some(undone("boss"));
    })
    .await;
    Priced {
        approved,
        sent_back,
        expense,
        sent_back_expense,
    }
}

/// Every response a person gets about their own work, on every read path
/// (and the writes that answer with the work).
async fn own_responses(app: &App, s: &Studio, who: &As, w: &Priced) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut keep = |what: &str, res: Res| out.push((what.to_owned(), res.body));
    keep(
        "get entry",
        get_entry(app, who, &w.approved).await.expect(200),
    );
    keep(
        "get sent back entry",
        get_entry(app, who, &w.sent_back).await.expect(200),
    );
    let list = app.get(who, "/v1/time-entries").await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 2);
    keep("list entries", list);
    keep(
        "list entries of the project",
        app.get(
            who,
            &format!("/v1/time-entries?person_id=me&project_id={}", s.project),
        )
        .await
        .expect(200),
    );
    keep(
        "timesheet",
        app.get(who, "/v1/timesheets/me/2026-W47").await.expect(200),
    );
    keep(
        "get expense",
        get_expense(app, who, &w.expense).await.expect(200),
    );
    keep(
        "get sent back expense",
        get_expense(app, who, &w.sent_back_expense)
            .await
            .expect(200),
    );
    keep(
        "list expenses",
        app.get(who, "/v1/expenses").await.expect(200),
    );
    keep(
        "patch sent back entry",
        patch_entry(app, who, &w.sent_back, json!({"note": "fixed"}))
            .await
            .expect(200),
    );
    keep(
        "patch sent back expense",
        patch_expense(app, who, &w.sent_back_expense, json!({"note": "fixed"}))
            .await
            .expect(200),
    );
    keep(
        "create entry",
        record(app, who, &s.project, "2026-11-18", 30)
            .await
            .expect(201),
    );
    keep(
        "start timer",
        start_timer(app, who, json!({"project_id": s.project}))
            .await
            .expect(201),
    );
    keep("current timer", current_timer(app, who).await);
    keep(
        "switch timer",
        start_timer(app, who, json!({"project_id": s.project, "switch": true}))
            .await
            .expect(201),
    );
    keep(
        "stop timer",
        stop_timer(app, who, json!({})).await.expect(201),
    );
    out
}

#[tokio::test]
async fn members_and_contractors_never_see_rates_costs_or_values_of_their_own_work() {
    let (app, s) = setup().await;
    for who in [&s.member, &s.contractor] {
        let w = priced_work(&app, &s, who).await;
        let shown = get_entry(&app, who, &w.approved).await.expect(200);
        // What they may know: that it was approved, by whom, and its billed minutes.
        assert_eq!(shown.body["approval"]["approved_by"], "boss");
        assert_eq!(shown.body["approval"]["billed_minutes"], 60);
        let x = get_expense(&app, who, &w.expense).await.expect(200);
        assert_eq!(x.body["amount"], "40.00", "the amount they typed");
        for (what, body) in own_responses(&app, &s, who, &w).await {
            let money = money_in(&body);
            assert!(
                money.is_empty(),
                "{} sees {money:?} in {what}: {body}",
                who.role
            );
            assert!(
                body.get("recorded_by").is_none() && body.get("changed_by").is_none(),
                "{what}: {body}"
            );
        }
    }
}

#[tokio::test]
async fn staff_see_the_rates_costs_and_values_of_everyones_work() {
    let (app, s) = setup().await;
    let w = priced_work(&app, &s, &s.member).await;
    for who in [&s.admin, &s.finance, &s.manager] {
        let e = get_entry(&app, who, &w.approved).await.expect(200).body;
        let a = &e["approval"];
        assert_eq!(
            (
                &a["bill_rate"],
                &a["cost_rate"],
                &a["value"],
                &a["currency"]
            ),
            (&json!("100"), &json!("30"), &json!("100"), &json!("EUR")),
            "{}: {e}",
            who.role
        );
        assert_eq!(e["recorded_by"], s.member.person.as_str());
        let listed = all(
            &app,
            who,
            &format!("/v1/time-entries?person_id={}", s.member.person),
        )
        .await;
        assert!(listed.iter().any(|e| e["approval"]["value"] == "100"));
        let sheet = app
            .get(who, &format!("/v1/timesheets/{}/2026-W47", s.member.person))
            .await
            .expect(200);
        assert!(!money_in(&sheet.body).is_empty(), "{}", sheet.body);
        let x = get_expense(&app, who, &w.expense).await.expect(200).body;
        assert_eq!(
            (&x["markup_percent"], &x["approval"]["billed_amount"]),
            (&json!("10"), &json!("44"))
        );
        assert_eq!(x["changed_by"], s.member.person.as_str());
    }
}

#[tokio::test]
async fn a_manager_records_and_changes_someones_time_only_on_projects_they_are_on() {
    let (app, s) = setup().await;
    let for_member = json!({"project_id": s.project, "date": "2026-11-19", "minutes": 30, "person_id": s.member.person});
    // Olga manages, but is not on the project's team.
    let res = app
        .post(&s.other_manager, "/v1/time-entries", for_member.clone())
        .await
        .expect(403);
    assert!(
        detail(&res).contains("projects they are on"),
        "{}",
        res.body
    );
    assert!(entries_of(&app, &s.member).await.is_empty());
    let w = work(&app, &s).await;
    patch_entry(&app, &s.other_manager, &w.entry, json!({"minutes": 5}))
        .await
        .expect(403);
    app.delete(&s.other_manager, &format!("/v1/time-entries/{}", w.entry))
        .await
        .expect(403);
    patch_expense(&app, &s.other_manager, &w.expense, json!({"note": "x"}))
        .await
        .expect(403);
    unchanged(&app, &s, &w).await;
    // Mia is on the team: she may, and the entry says she recorded it.
    let res = app
        .post(&s.manager, "/v1/time-entries", for_member)
        .await
        .expect(201);
    assert_eq!(res.body["recorded_by"], s.manager.person.as_str());
    let id = res.id();
    let res = patch_entry(&app, &s.admin, &id, json!({"minutes": 20}))
        .await
        .expect(200);
    assert_eq!(
        (&res.body["recorded_by"], &res.body["changed_by"]),
        (&json!(s.manager.person), &json!(s.admin.person))
    );
    let stored = stored_entry(&app, "acme", &id).await;
    assert_eq!(stored.changed_by.as_deref(), Some(s.admin.person.as_str()));
}
