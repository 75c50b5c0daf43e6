//! The weekly timesheet: every day of the week, totals per project and for
//! billable work, the week's status from its entries, and raw beside billed minutes.

mod support;

use agencyops_domain::timesheet::WorkStatus;
use serde_json::{json, Value};
use support::*;

struct Booking {
    project: String,
    date: &'static str,
    minutes: u64,
    billable: bool,
}

async fn book(app: &App, who: &As, b: &Booking) -> String {
    app.post(
        who,
        "/v1/time-entries",
        json!({"project_id": b.project, "date": b.date, "minutes": b.minutes, "billable": b.billable}),
    )
    .await
    .expect(201)
    .id()
}

fn week_of(bookings: &[Booking]) -> Vec<&Booking> {
    bookings
        .iter()
        .filter(|b| ("2026-11-16"..="2026-11-22").contains(&b.date))
        .collect()
}

#[tokio::test]
async fn the_week_adds_up_by_day_project_and_billability() {
    let (app, s) = setup().await;
    let bookings = [
        Booking {
            project: s.project.clone(),
            date: "2026-11-16",
            minutes: 120,
            billable: true,
        },
        Booking {
            project: s.side_project.clone(),
            date: "2026-11-16",
            minutes: 45,
            billable: false,
        },
        Booking {
            project: s.project.clone(),
            date: "2026-11-18",
            minutes: 90,
            billable: true,
        },
        Booking {
            project: s.side_project.clone(),
            date: "2026-11-20",
            minutes: 30,
            billable: true,
        },
        Booking {
            project: s.project.clone(),
            date: "2026-11-22",
            minutes: 15,
            billable: false,
        },
        // The weeks around it stay out.
        Booking {
            project: s.project.clone(),
            date: "2026-11-15",
            minutes: 600,
            billable: true,
        },
        Booking {
            project: s.project.clone(),
            date: "2026-11-23",
            minutes: 600,
            billable: true,
        },
    ];
    for b in &bookings {
        book(&app, &s.member, b).await;
    }
    let in_week = week_of(&bookings);
    let sheet = app
        .get(&s.member, "/v1/timesheets/me/2026-W47")
        .await
        .expect(200)
        .body;
    assert_eq!(sheet["person_id"], s.member.person.as_str());
    assert_eq!(
        (sheet["from"].as_str(), sheet["to"].as_str()),
        (Some("2026-11-16"), Some("2026-11-22"))
    );
    assert_eq!(sheet["entries"].as_array().unwrap().len(), in_week.len());

    let days = sheet["totals"]["days"].as_array().unwrap();
    assert_eq!(days.len(), 7);
    for d in days {
        let date = d["date"].as_str().unwrap();
        let expected: u64 = in_week
            .iter()
            .filter(|b| b.date == date)
            .map(|b| b.minutes)
            .sum();
        assert_eq!(d["minutes"], expected, "{date}");
        let hours: f64 = d["hours"].as_str().unwrap().parse().unwrap();
        assert!((hours - expected as f64 / 60.0).abs() < 0.01, "{date}");
    }
    for p in sheet["totals"]["projects"].as_array().unwrap() {
        let id = p["project_id"].as_str().unwrap();
        let of = in_week.iter().filter(|b| b.project == id);
        assert_eq!(p["minutes"], of.clone().map(|b| b.minutes).sum::<u64>());
        assert_eq!(
            p["billable_minutes"],
            of.filter(|b| b.billable).map(|b| b.minutes).sum::<u64>()
        );
    }
    assert_eq!(sheet["totals"]["projects"].as_array().unwrap().len(), 2);
    let all: u64 = in_week.iter().map(|b| b.minutes).sum();
    let billable: u64 = in_week
        .iter()
        .filter(|b| b.billable)
        .map(|b| b.minutes)
        .sum();
    assert_eq!(sheet["totals"]["minutes"], all);
    assert_eq!(sheet["totals"]["billable_minutes"], billable);
    assert_eq!(sheet["totals"]["non_billable_minutes"], all - billable);
    assert_eq!(sheet["status"], "open");

    // The same sheet for a manager, by id; not for another member; not for clients.
    let by_id = app
        .get(
            &s.manager,
            &format!("/v1/timesheets/{}/2026-W47", s.member.person),
        )
        .await
        .expect(200);
    assert_eq!(by_id.body["totals"], sheet["totals"]);
    app.get(
        &s.outsider,
        &format!("/v1/timesheets/{}/2026-W47", s.member.person),
    )
    .await
    .expect(404);
    app.get(
        &s.client_user,
        &format!("/v1/timesheets/{}/2026-W47", s.member.person),
    )
    .await
    .expect(403);
}

async fn status_of(app: &App, who: &As) -> Value {
    app.get(who, "/v1/timesheets/me/2026-W47")
        .await
        .expect(200)
        .body["status"]
        .clone()
}

#[tokio::test]
async fn the_weeks_status_follows_its_entries() {
    let (app, s) = setup().await;
    assert_eq!(status_of(&app, &s.member).await, "open");
    let a = record(&app, &s.member, &s.project, "2026-11-17", 60)
        .await
        .expect(201)
        .id();
    let b = record(&app, &s.member, &s.side_project, "2026-11-18", 60)
        .await
        .expect(201)
        .id();
    assert_eq!(status_of(&app, &s.member).await, "open");
    set_entry_status(&app, "acme", &a, WorkStatus::Submitted).await;
    assert_eq!(
        status_of(&app, &s.member).await,
        "open",
        "a draft keeps it open"
    );
    set_entry_status(&app, "acme", &b, WorkStatus::Submitted).await;
    assert_eq!(status_of(&app, &s.member).await, "submitted");
    set_entry_status(&app, "acme", &a, WorkStatus::Approved).await;
    assert_eq!(status_of(&app, &s.member).await, "partially_approved");
    set_entry_status(&app, "acme", &b, WorkStatus::Approved).await;
    assert_eq!(status_of(&app, &s.member).await, "approved");
    set_entry_status(&app, "acme", &b, WorkStatus::Rejected).await;
    assert_eq!(status_of(&app, &s.member).await, "rejected");
}

#[tokio::test]
async fn a_week_being_submitted_is_in_progress_and_takes_no_changes() {
    let (app, s) = setup().await;
    let id = record(&app, &s.member, &s.project, "2026-11-17", 60)
        .await
        .expect(201)
        .id();
    start_week_job(&app, "acme", &s.member.person, "2026-W47").await;
    let sheet = app
        .get(&s.member, "/v1/timesheets/me/2026-W47")
        .await
        .expect(200)
        .body;
    assert_eq!(sheet["status"], "in_progress");
    assert_eq!(sheet["job"]["action"], "submit");
    assert!(sheet["submitted_at"].is_string());

    let res = record(&app, &s.member, &s.project, "2026-11-18", 30)
        .await
        .expect(409);
    assert!(detail(&res).contains("in progress"), "{}", res.body);
    let path = format!("/v1/time-entries/{id}");
    app.patch(&s.member, &path, json!({"minutes": 30}))
        .await
        .expect(409);
    app.delete(&s.member, &path).await.expect(409);
    // Moving it to the next week touches this week too.
    app.patch(&s.member, &path, json!({"date": "2026-11-24"}))
        .await
        .expect(409);
    let entries = entries_of(&app, &s.member).await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0]["minutes"], 60);
    // Other weeks carry on.
    record(&app, &s.member, &s.project, "2026-11-24", 30)
        .await
        .expect(201);
}

#[tokio::test]
async fn raw_and_billed_minutes_are_both_shown() {
    let (app, s) = setup().await;
    app.patch(
        &s.admin,
        &format!("/v1/projects/{}", s.project),
        json!({"rounding": {"increment_minutes": 15, "mode": "up", "scope": "per_entry"}}),
    )
    .await
    .expect(200);
    let res = record(&app, &s.member, &s.project, "2026-11-17", 7)
        .await
        .expect(201);
    assert_eq!(
        (
            res.body["minutes"].as_u64(),
            res.body["billed_minutes"].as_u64()
        ),
        (Some(7), Some(15))
    );
    assert_eq!(res.body["rounding"]["increment_minutes"], 15);
    // The side project has no rounding of its own nor from its client.
    let res = record(&app, &s.member, &s.side_project, "2026-11-17", 7)
        .await
        .expect(201);
    assert_eq!(res.body["billed_minutes"], 7);
    assert!(res.body["rounding"].is_null());
    // Per-line rounding happens on the invoice line, not on the entry.
    app.patch(
        &s.admin,
        &format!("/v1/clients/{}", s.client),
        json!({"rounding": {"increment_minutes": 30, "mode": "up", "scope": "per_line"}}),
    )
    .await
    .expect(200);
    let sheet = app
        .get(&s.member, "/v1/timesheets/me/2026-W47")
        .await
        .expect(200)
        .body;
    for e in sheet["entries"].as_array().unwrap() {
        let expected = if e["project_id"] == s.project.as_str() {
            15
        } else {
            7
        };
        assert_eq!(e["minutes"], 7);
        assert_eq!(e["billed_minutes"], expected);
    }
    assert_eq!(sheet["totals"]["minutes"], 14, "totals count raw minutes");
}

#[tokio::test]
async fn weeks_must_be_iso_weeks() {
    let (app, s) = setup().await;
    for bad in ["2026-W60", "2026-47", "2025-W53", "W47"] {
        let res = app
            .get(&s.member, &format!("/v1/timesheets/me/{bad}"))
            .await
            .expect(400);
        assert_eq!(res.fields(), ["iso_week"], "{bad}");
    }
    app.get(&s.admin, "/v1/timesheets/ghost/2026-W47")
        .await
        .expect(404);
    // The admin has no person record yet keeps a timesheet.
    app.get(
        &s.admin,
        &format!("/v1/timesheets/{}/2026-W47", s.admin.person),
    )
    .await
    .expect(200);
}
