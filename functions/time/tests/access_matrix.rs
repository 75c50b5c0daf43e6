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
