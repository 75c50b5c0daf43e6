//! Races a user could cause with two tabs or a double click: they must never
//! leave two timers running or a day holding more than 24 hours.

mod support;

use agencyops_store::keys;
use agencyops_store::record::load;
use agencyops_store::records::DayTotal;
use serde_json::json;
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_starts_leave_exactly_one_timer() {
    let (app, s) = setup().await;
    for _ in 0..5 {
        let a = json!({"project_id": s.project, "note": "a"});
        let b = json!({"project_id": s.side_project, "note": "b"});
        let (ra, rb) = tokio::join!(
            app.post(&s.member, "/v1/timers/start", a),
            app.post(&s.member, "/v1/timers/start", b),
        );
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses, [201, 409], "{} / {}", ra.body, rb.body);
        let winner = if ra.status == 201 { &ra } else { &rb };
        let current = current_timer(&app, &s.member).await;
        assert_eq!(current.body["timer"]["note"], winner.body["note"]);
        stop_timer(&app, &s.member, json!({"discard": true}))
            .await
            .expect(200);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_concurrent_long_entries_cannot_pass_a_day() {
    let (app, s) = setup().await;
    let days = ["2026-11-16", "2026-11-17", "2026-11-18", "2026-11-19"];
    for date in days {
        let (ra, rb) = tokio::join!(
            record(&app, &s.member, &s.project, date, 13 * 60),
            record(&app, &s.member, &s.side_project, date, 13 * 60),
        );
        let mut statuses = [ra.status.as_u16(), rb.status.as_u16()];
        statuses.sort();
        assert_eq!(statuses[0], 201, "{} / {}", ra.body, rb.body);
        assert!(
            (400..500).contains(&statuses[1]),
            "{} / {}",
            ra.body,
            rb.body
        );
        let total: DayTotal = load(
            &*app.table,
            &keys::day_total("acme", &s.member.person, date),
        )
        .await
        .unwrap()
        .expect("day total");
        assert_eq!(total.minutes, 13 * 60);
    }
    let entries = entries_of(&app, &s.member).await;
    assert_eq!(entries.len(), days.len());
    assert_eq!(total_minutes(&entries), days.len() as u64 * 13 * 60);
}
