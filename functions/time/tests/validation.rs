//! Bad input is refused with a 4xx that says what is wrong, and nothing is
//! written: the person's lists and day totals stay as they were.

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn minutes_must_be_positive_and_fit_in_a_day() {
    let (app, s) = setup().await;
    for bad in [0, -5, 1441] {
        let res = record(&app, &s.member, &s.project, "2026-11-20", bad)
            .await
            .expect(400);
        assert_eq!(res.fields(), ["minutes"], "{bad}");
    }
    assert!(entries_of(&app, &s.member).await.is_empty());

    // 20 h and then 5 h on one day is more than a day holds, across projects.
    record(&app, &s.member, &s.project, "2026-11-20", 20 * 60)
        .await
        .expect(201);
    let res = record(&app, &s.member, &s.side_project, "2026-11-20", 5 * 60)
        .await
        .expect(400);
    assert_eq!(res.fields(), ["minutes"]);
    let message = res.body["errors"][0]["message"].as_str().unwrap();
    assert!(message.contains("24 hours"), "{message}");
    let before = entries_of(&app, &s.member).await;
    assert_eq!(total_minutes(&before), 20 * 60);
    // Exactly 24 hours is fine; another day is unaffected.
    record(&app, &s.member, &s.side_project, "2026-11-20", 4 * 60)
        .await
        .expect(201);
    record(&app, &s.member, &s.side_project, "2026-11-19", 5 * 60)
        .await
        .expect(201);

    // Growing an entry past the day is refused too, and leaves it as it was.
    let id = before[0]["id"].as_str().unwrap();
    let res = patch_entry(&app, &s.member, id, json!({"minutes": 20 * 60 + 1}))
        .await
        .expect(400);
    assert_eq!(res.fields(), ["minutes"]);
    let res = get_entry(&app, &s.member, id).await.expect(200);
    assert_eq!(res.body["minutes"], 20 * 60);
    assert_eq!(total_minutes(&entries_of(&app, &s.member).await), 29 * 60);
}

#[tokio::test]
async fn moving_an_entry_onto_a_full_day_is_refused() {
    let (app, s) = setup().await;
    record(&app, &s.member, &s.project, "2026-11-20", 20 * 60)
        .await
        .expect(201);
    let id = record(&app, &s.member, &s.project, "2026-11-19", 5 * 60)
        .await
        .expect(201)
        .id();
    let res = patch_entry(&app, &s.member, &id, json!({"date": "2026-11-20"}))
        .await
        .expect(400);
    assert_eq!(res.fields(), ["minutes"]);
    let res = get_entry(&app, &s.member, &id).await.expect(200);
    assert_eq!(res.body["date"], "2026-11-19");
}

#[tokio::test]
async fn unknown_and_closed_projects_take_no_time() {
    let (app, s) = setup().await;
    record(&app, &s.member, "no-such-project", "2026-11-20", 60)
        .await
        .expect(404);
    let res = record(&app, &s.member, "bad#id", "2026-11-20", 60)
        .await
        .expect(400);
    assert_eq!(res.fields(), ["project_id"]);
    let kept = record(&app, &s.member, &s.project, "2026-11-18", 60)
        .await
        .expect(201)
        .id();
    app.patch(
        &s.admin,
        &format!("/v1/projects/{}", s.project),
        json!({"stage": "closed"}),
    )
    .await
    .expect(200);
    let res = record(&app, &s.member, &s.project, "2026-11-20", 60)
        .await
        .expect(409);
    assert!(detail(&res).contains("closed"), "{}", res.body);
    expense(&app, &s.member, &s.project, "2026-11-20", "10.00")
        .await
        .expect(409);
    start_timer(&app, &s.member, json!({"project_id": s.project}))
        .await
        .expect(409);
    // Work already on it is frozen with it.
    patch_entry(&app, &s.member, &kept, json!({"minutes": 30}))
        .await
        .expect(409);
    app.delete(&s.member, &format!("/v1/time-entries/{kept}"))
        .await
        .expect(409);
    let entries = entries_of(&app, &s.member).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["minutes"], 60);
    assert!(expenses_of(&app, &s.member).await.is_empty());
}

#[tokio::test]
async fn people_not_on_the_team_cannot_book_it() {
    let (app, s) = setup().await;
    for stray in [&s.stray_contractor, &s.outsider] {
        let res = record(&app, stray, &s.project, "2026-11-20", 60)
            .await
            .expect(403);
        assert!(detail(&res).contains("not assigned to this project"));
        let res = expense(&app, stray, &s.project, "2026-11-20", "10.00")
            .await
            .expect(403);
        assert!(detail(&res).contains("not assigned to this project"));
        assert!(entries_of(&app, stray).await.is_empty());
        assert!(expenses_of(&app, stray).await.is_empty());
    }
    // The contractor on the team may; managers book any project.
    record(&app, &s.contractor, &s.project, "2026-11-20", 60)
        .await
        .expect(201);
    record(&app, &s.other_manager, &s.project, "2026-11-20", 60)
        .await
        .expect(201);
    // A manager recording for a contractor books only the contractor's projects.
    let res = app
        .post(
            &s.manager,
            "/v1/time-entries",
            json!({"project_id": s.side_project, "date": "2026-11-20", "minutes": 30, "person_id": s.contractor.person}),
        )
        .await
        .expect(403);
    assert!(detail(&res).contains("not assigned"));
    assert_eq!(entries_of(&app, &s.contractor).await.len(), 1);
}

#[tokio::test]
async fn archived_and_unknown_tasks_are_refused() {
    let (app, s) = setup().await;
    let body = |task: &str| json!({"project_id": s.project, "task_id": task, "date": "2026-11-20", "minutes": 30});
    let res = app
        .post(&s.member, "/v1/time-entries", body("nope"))
        .await
        .expect(400);
    assert_eq!(res.fields(), ["task_id"]);
    app.patch(
        &s.admin,
        &format!("/v1/projects/{}/tasks/{}", s.project, s.task),
        json!({"archived": true}),
    )
    .await
    .expect(200);
    let res = app
        .post(&s.member, "/v1/time-entries", body(&s.task))
        .await
        .expect(400);
    assert_eq!(res.fields(), ["task_id"]);
    assert!(entries_of(&app, &s.member).await.is_empty());
}

#[tokio::test]
async fn an_expense_is_in_the_clients_currency_and_minor_units() {
    let (app, s) = setup().await;
    let base = json!({"project_id": s.project, "date": "2026-11-20", "amount": "12.50", "category": "Taxi"});
    let with = |k: &str, v: serde_json::Value| {
        let mut b = base.clone();
        b[k] = v;
        b
    };
    // Each bad value is refused on the field it is in.
    let bad = [
        ("currency", json!("USD")),
        ("amount", json!("12.505")),
        ("amount", json!("-3")),
        ("markup_percent", json!("1000.5")),
        ("markup_percent", json!("12.345")),
        ("category", json!("")),
        ("category", json!("x".repeat(101))),
    ];
    for (field, value) in bad {
        let res = app
            .post(&s.member, "/v1/expenses", with(field, value.clone()))
            .await
            .expect(400);
        assert_eq!(res.fields(), [field], "{field}: {value}");
    }
    assert!(expenses_of(&app, &s.member).await.is_empty());

    let res = app
        .post(
            &s.member,
            "/v1/expenses",
            with("markup_percent", json!("12.5")),
        )
        .await
        .expect(201);
    assert_eq!(res.body["currency"], "EUR");
    assert_eq!(res.body["billable"], true);
    assert_eq!(res.body["status"], "draft");
    assert!(res.body["receipt"].is_null());
    let id = res.id();
    let res = patch_expense(&app, &s.member, &id, json!({"amount": "1.001"}))
        .await
        .expect(400);
    assert_eq!(res.fields(), ["amount"]);
    let res = patch_expense(
        &app,
        &s.member,
        &id,
        json!({"amount": "20.00", "markup_percent": null}),
    )
    .await
    .expect(200);
    assert_eq!(res.body["amount"], "20.00");
    assert!(res.body["markup_percent"].is_null());
}

#[tokio::test]
async fn unknown_fields_are_refused_everywhere() {
    let (app, s) = setup().await;
    let id = record(&app, &s.member, &s.project, "2026-11-20", 60)
        .await
        .expect(201)
        .id();
    let x = expense(&app, &s.member, &s.project, "2026-11-20", "5.00")
        .await
        .expect(201)
        .id();
    let cases = [
        (
            "/v1/time-entries".to_owned(),
            json!({"project_id": s.project, "date": "2026-11-20", "minutes": 5, "hours": 1}),
        ),
        (
            "/v1/expenses".to_owned(),
            json!({"project_id": s.project, "date": "2026-11-20", "amount": "1.00", "category": "A", "vat": "1"}),
        ),
        (
            "/v1/timers/start".to_owned(),
            json!({"project_id": s.project, "since": "yesterday"}),
        ),
    ];
    for (path, body) in cases {
        app.post(&s.member, &path, body).await.expect(400);
    }
    patch_entry(&app, &s.member, &id, json!({"status": "approved"}))
        .await
        .expect(400);
    patch_expense(&app, &s.member, &x, json!({"receipt": {}}))
        .await
        .expect(400);
    app.get(&s.member, "/v1/time-entries?colour=red")
        .await
        .expect(400);
    app.get(&s.member, "/v1/expenses?colour=red")
        .await
        .expect(400);
    let res = app
        .get(&s.member, "/v1/time-entries?from=2026-11-30&to=2026-11-01")
        .await
        .expect(400);
    assert_eq!(res.fields(), ["query.from"]);
    let entries = entries_of(&app, &s.member).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["status"], "draft");
    assert_eq!(entries[0]["version"], 1);
    assert_eq!(expenses_of(&app, &s.member).await.len(), 1);
    let current = current_timer(&app, &s.member).await;
    assert!(current.body["timer"].is_null());
}

#[tokio::test]
async fn billable_defaults_from_the_project_and_task() {
    let (app, s) = setup().await;
    let internal = app
        .create(
            &s.admin,
            "/v1/projects",
            json!({"client_id": s.client, "name": "Internal", "billing_model": "non_billable", "team": [s.member.person]}),
        )
        .await;
    let res = record(&app, &s.member, &internal, "2026-11-20", 30)
        .await
        .expect(201);
    assert_eq!(res.body["billable"], false);
    let res = expense(&app, &s.member, &internal, "2026-11-20", "3.00")
        .await
        .expect(201);
    assert_eq!(res.body["billable"], false);
    let task = app
        .create(
            &s.admin,
            &format!("/v1/projects/{}/tasks", s.project),
            json!({"name": "Admin", "billable": false}),
        )
        .await;
    let res = app
        .post(
            &s.member,
            "/v1/time-entries",
            json!({"project_id": s.project, "task_id": task, "date": "2026-11-20", "minutes": 30}),
        )
        .await
        .expect(201);
    assert_eq!(res.body["billable"], false);
    let res = record(&app, &s.member, &s.project, "2026-11-20", 30)
        .await
        .expect(201);
    assert_eq!(res.body["billable"], true);
    assert_eq!(res.body["source"], "manual");
}
