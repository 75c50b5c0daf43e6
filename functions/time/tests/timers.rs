//! Timers as a person uses them: start, watch, stop into an entry dated by
//! their own day, switch to other work at once, or throw a timer away.

mod support;

use jiff::SignedDuration;
use serde_json::json;
use support::*;

fn minutes(n: i64) -> SignedDuration {
    SignedDuration::from_secs(n * 60)
}

#[tokio::test]
async fn stopping_a_timer_records_the_elapsed_minutes() {
    let (app, s) = setup().await;
    let start = json!({"project_id": s.project, "task_id": s.task, "note": "logo"});
    let started = start_timer(&app, &s.member, start).await.expect(201);
    assert_eq!(started.body["project_id"], s.project.as_str());
    assert!(started.body["stopped_entry"].is_null());

    app.clock
        .advance(minutes(95) + SignedDuration::from_secs(20));
    let current = current_timer(&app, &s.member).await;
    assert_eq!(current.body["timer"]["note"], "logo");
    assert_eq!(current.body["elapsed_minutes"], 95);

    let stopped = stop_timer(&app, &s.member, json!({})).await.expect(201);
    let entry = &stopped.body["entry"];
    assert_eq!(entry["minutes"], 95);
    assert_eq!(entry["source"], "timer");
    assert_eq!(entry["date"], "2026-11-20");
    assert_eq!(entry["task_id"], s.task.as_str());
    assert_eq!(entry["billable"], true);

    let listed = entries_of(&app, &s.member).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["id"], entry["id"]);
    let current = current_timer(&app, &s.member).await;
    assert!(current.body["timer"].is_null());
    assert!(current.body["elapsed_minutes"].is_null());
    // Nothing left to stop.
    stop_timer(&app, &s.member, json!({})).await.expect(404);
}

#[tokio::test]
async fn a_short_timer_records_at_least_a_minute_and_rounds_to_the_nearest() {
    let (app, s) = setup().await;
    let start = json!({"project_id": s.project});
    start_timer(&app, &s.member, start.clone())
        .await
        .expect(201);
    app.clock.advance(SignedDuration::from_secs(10));
    let res = stop_timer(&app, &s.member, json!({})).await.expect(201);
    assert_eq!(res.body["entry"]["minutes"], 1);

    start_timer(&app, &s.member, start).await.expect(201);
    app.clock
        .advance(minutes(10) + SignedDuration::from_secs(31));
    let res = stop_timer(&app, &s.member, json!({})).await.expect(201);
    assert_eq!(res.body["entry"]["minutes"], 11);
}

#[tokio::test]
async fn the_entry_lands_on_the_persons_own_date() {
    let (app, s) = setup().await;
    let mut people = Vec::new();
    for (name, zone) in [("Kiri", "Pacific/Auckland"), ("Ines", "Europe/Lisbon")] {
        let id = app
            .create(
                &s.admin,
                "/v1/people",
                json!({"name": name, "email": format!("{name}@acme.io"), "role": "manager", "time_zone": zone}),
            )
            .await;
        people.push(who("acme", &id, "manager"));
    }
    // Both start at 2026-11-20 12:00 UTC: already Saturday in Auckland.
    for p in &people {
        start_timer(&app, p, json!({"project_id": s.project}))
            .await
            .expect(201);
    }
    app.clock.advance(minutes(30));
    let mut dates = Vec::new();
    for p in &people {
        let res = stop_timer(&app, p, json!({})).await.expect(201);
        assert_eq!(res.body["entry"]["minutes"], 30);
        dates.push(res.body["entry"]["date"].as_str().unwrap().to_owned());
    }
    assert_eq!(dates, ["2026-11-21", "2026-11-20"]);
    // The admin has no person record: UTC decides.
    start_timer(&app, &s.admin, json!({"project_id": s.project}))
        .await
        .expect(201);
    let res = stop_timer(&app, &s.admin, json!({})).await.expect(201);
    assert_eq!(res.body["entry"]["date"], "2026-11-20");
}

#[tokio::test]
async fn a_second_start_is_refused_unless_it_switches() {
    let (app, s) = setup().await;
    start_timer(&app, &s.member, json!({"project_id": s.project}))
        .await
        .expect(201);
    app.clock.advance(minutes(30));
    let res = start_timer(&app, &s.member, json!({"project_id": s.side_project}))
        .await
        .expect(409);
    assert!(detail(&res).contains("switch"), "{}", res.body);
    assert_eq!(
        res.problem_type(),
        "https://agencyops.dev/problems/timer-running"
    );
    assert!(entries_of(&app, &s.member).await.is_empty());

    let res = start_timer(
        &app,
        &s.member,
        json!({"project_id": s.side_project, "note": "site", "switch": true}),
    )
    .await
    .expect(201);
    assert_eq!(res.body["project_id"], s.side_project.as_str());
    assert_eq!(res.body["stopped_entry"]["minutes"], 30);
    assert_eq!(res.body["stopped_entry"]["project_id"], s.project.as_str());

    let current = current_timer(&app, &s.member).await;
    assert_eq!(current.body["timer"]["project_id"], s.side_project.as_str());
    assert_eq!(current.body["timer"]["note"], "site");
    let listed = entries_of(&app, &s.member).await;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0]["project_id"], s.project.as_str());

    // Switching with no timer running simply starts one.
    start_timer(
        &app,
        &s.manager,
        json!({"project_id": s.project, "switch": true}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn a_discarded_timer_records_nothing() {
    let (app, s) = setup().await;
    start_timer(&app, &s.member, json!({"project_id": s.project}))
        .await
        .expect(201);
    app.clock.advance(minutes(45));
    let res = stop_timer(&app, &s.member, json!({"discard": true}))
        .await
        .expect(200);
    assert!(res.body["entry"].is_null());
    assert!(entries_of(&app, &s.member).await.is_empty());
    let current = current_timer(&app, &s.member).await;
    assert!(current.body["timer"].is_null());
}

#[tokio::test]
async fn a_timer_left_running_over_a_day_must_be_recorded_by_hand() {
    let (app, s) = setup().await;
    start_timer(&app, &s.member, json!({"project_id": s.project}))
        .await
        .expect(201);
    app.clock.advance(minutes(25 * 60));
    let res = stop_timer(&app, &s.member, json!({})).await.expect(409);
    assert!(detail(&res).contains("manually"), "{}", res.body);
    assert!(entries_of(&app, &s.member).await.is_empty());
    // Still running, so it can be discarded.
    let current = current_timer(&app, &s.member).await;
    assert_eq!(current.body["elapsed_minutes"], 25 * 60);
    stop_timer(&app, &s.member, json!({"discard": true}))
        .await
        .expect(200);
}

#[tokio::test]
async fn a_timer_cannot_overfill_its_day() {
    let (app, s) = setup().await;
    record(&app, &s.member, &s.project, "2026-11-20", 23 * 60)
        .await
        .expect(201);
    start_timer(&app, &s.member, json!({"project_id": s.project}))
        .await
        .expect(201);
    app.clock.advance(minutes(61));
    let res = stop_timer(&app, &s.member, json!({})).await.expect(409);
    assert!(detail(&res).contains("24 hours"), "{}", res.body);
    assert_eq!(total_minutes(&entries_of(&app, &s.member).await), 23 * 60);
}

#[tokio::test]
async fn timers_only_run_on_open_projects_the_person_is_on() {
    let (app, s) = setup().await;
    let res = start_timer(&app, &s.stray_contractor, json!({"project_id": s.project}))
        .await
        .expect(403);
    assert!(detail(&res).contains("not assigned"));
    start_timer(&app, &s.member, json!({"project_id": "nope"}))
        .await
        .expect(404);
    start_timer(
        &app,
        &s.member,
        json!({"project_id": s.project, "colour": "red"}),
    )
    .await
    .expect(400);
    stop_timer(&app, &s.member, json!({"discard": true, "x": 1}))
        .await
        .expect(400);
    let current = current_timer(&app, &s.member).await;
    assert!(current.body["timer"].is_null());
    let current = current_timer(&app, &s.stray_contractor).await;
    assert!(current.body["timer"].is_null());
}

#[tokio::test]
async fn a_contractor_taken_off_the_team_cannot_turn_a_running_timer_into_time() {
    let (app, s) = setup().await;
    start_timer(&app, &s.contractor, json!({"project_id": s.project}))
        .await
        .expect(201);
    app.clock.advance(minutes(40));
    // The contractor is taken off the project while the timer runs.
    app.patch(
        &s.admin,
        &format!("/v1/projects/{}", s.project),
        json!({"team": [s.manager.person, s.member.person]}),
    )
    .await
    .expect(200);
    let res = stop_timer(&app, &s.contractor, json!({})).await.expect(403);
    assert!(detail(&res).contains("not assigned"), "{}", res.body);
    // Switching would record it too.
    let res = start_timer(
        &app,
        &s.contractor,
        json!({"project_id": s.project, "switch": true}),
    )
    .await
    .expect(403);
    assert!(detail(&res).contains("not assigned"), "{}", res.body);
    assert!(entries_of(&app, &s.contractor).await.is_empty());
    // The timer can still be thrown away.
    stop_timer(&app, &s.contractor, json!({"discard": true}))
        .await
        .expect(200);
}
