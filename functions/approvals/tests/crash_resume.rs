//! A week with more entries than one transaction holds is approved as a whole:
//! a crash between two batches leaves it "in progress" (never half approved to
//! the timesheet), nothing else may change it meanwhile, and repeating the
//! request resumes exactly where it stopped, approving each entry once.

mod support;

use std::collections::BTreeMap;

use agencyops_domain::timesheet::WorkStatus;
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;
use support::*;

#[tokio::test]
async fn a_week_bigger_than_a_transaction_survives_a_crash_and_resumes() {
    let mut crash = None;
    let app = App::with_table(routes(), |inner| {
        let t = CrashingTable::wrap(inner);
        crash = Some(t.clone());
        t
    });
    let crash = crash.unwrap();
    let s = studio(&app, "acme").await;
    let days = [
        "2026-11-09",
        "2026-11-10",
        "2026-11-11",
        "2026-11-12",
        "2026-11-13",
        "2026-11-14",
        "2026-11-15",
    ];
    let mut minutes_by_project: BTreeMap<String, i64> = BTreeMap::new();
    for day in days {
        for i in 0..15 {
            let project = if i < 10 { &s.project } else { &s.side_project };
            record(&app, &s.member, project, day, 60).await;
            *minutes_by_project.entry(project.clone()).or_default() += 60;
        }
    }
    // Work outside the job: another week of the same person.
    let outside = record(&app, &s.member, &s.project, "2026-11-16", 30).await;
    let outside_before = stored_entry(&app, "acme", &outside).await;
    submit(&app, &s.member).await.expect(200);
    let submitted = week_entries(&app, "acme", &s.member.person).await;
    assert_eq!(submitted.len(), 105);
    assert!(submitted.iter().all(|e| e.status == WorkStatus::Submitted));

    // The second batch of the approval crashes.
    crash.arm(2);
    let path = week_path(&s.member, "approve");
    let res = app
        .post_keyed(&s.admin, &path, json!({}), "approve-w46")
        .await;
    assert!(res.status.is_server_error(), "{} {}", res.status, res.body);
    crash.arm(0);

    let week = stored_week(&app, "acme", &s.member.person).await.unwrap();
    let job = week.job.clone().expect("the job is still pending");
    assert_eq!((job.action.as_str(), job.batches_done), ("approve", 1));
    let sheet = app
        .get(
            &s.member,
            &format!("/v1/timesheets/{}/{WEEK}", s.member.person),
        )
        .await
        .expect(200);
    assert_eq!(sheet.body["status"], "in_progress");
    // Work in progress does not count a week that is half way through approval.
    let wip = app.get(&s.finance, "/v1/reports/wip").await.expect(200);
    assert_eq!(wip.body["totals"], json!([]), "{}", wip.body);
    let halfway = week_entries(&app, "acme", &s.member.person).await;
    let approved = halfway
        .iter()
        .filter(|e| e.status == WorkStatus::Approved)
        .count();
    assert_eq!(approved, 90);
    assert!(halfway
        .iter()
        .all(|e| e.status == WorkStatus::Submitted || e.status == WorkStatus::Approved));
    assert_eq!(stored_entry(&app, "acme", &outside).await, outside_before);
    assert!(
        burn_changes(&app).await.is_empty(),
        "nothing announced before the work is done"
    );
    // Nothing else changes the week while the job is pending.
    app.post(
        &s.member,
        "/v1/time-entries",
        json!({"project_id": s.project, "date": MONDAY, "minutes": 15, "note": "late"}),
    )
    .await
    .expect(409);
    let res = reject(&app, &s.admin, &s.member, None).await.expect(409);
    assert!(res.body["detail"].as_str().unwrap().contains("in progress"));

    // The client retries: the job resumes where it stopped.
    let res = app
        .post_keyed(&s.admin, &path, json!({}), "approve-w46")
        .await
        .expect(200);
    assert_eq!(res.body["moved"], 105);
    assert_eq!(res.body["status"], "approved");
    let done = week_entries(&app, "acme", &s.member.person).await;
    assert_eq!(done.len(), 105);
    for (before, after) in submitted.iter().zip(&done) {
        assert_eq!(before.id, after.id);
        assert_eq!(after.status, WorkStatus::Approved);
        assert_eq!(after.version, before.version + 1, "approved exactly once");
        assert_eq!(
            after.approval.as_ref().unwrap().job_id.as_ref(),
            Some(&job.id)
        );
    }
    assert_eq!(unbilled_count(&app, "acme").await, 105);
    let wip = app.get(&s.finance, "/v1/reports/wip").await.expect(200);
    let entries: u64 = wip.body["totals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["entries"].as_u64().unwrap())
        .sum();
    assert_eq!(entries, 105, "the whole week counts once it is approved");
    assert_eq!(stored_entry(&app, "acme", &outside).await, outside_before);
    let week = stored_week(&app, "acme", &s.member.person).await.unwrap();
    assert!(week.job.is_none());

    // One change per project (repeats allowed, the consumer ignores them).
    let changes = burn_changes(&app).await;
    let mut distinct: BTreeMap<String, (String, i64, Decimal)> = BTreeMap::new();
    for c in &changes {
        let seen = (c.project_id.clone(), c.minutes, c.fees);
        if let Some(prev) = distinct.insert(c.change_id.clone(), seen.clone()) {
            assert_eq!(prev, seen, "a repeated change id carries the same change");
        }
    }
    assert_eq!(distinct.len(), 2);
    let mut total: BTreeMap<String, i64> = BTreeMap::new();
    for (project, minutes, _) in distinct.values() {
        *total.entry(project.clone()).or_default() += minutes;
    }
    assert_eq!(total, minutes_by_project);
    let fees: Decimal = distinct.values().map(|(_, _, f)| *f).sum();
    assert_eq!(fees, dec!(70) * dec!(100) + dec!(35) * dec!(90));

    // The consumer counts each change once, however often it is delivered.
    for c in changes.iter().chain(&changes) {
        agencyops_approvals::budget::apply(&app.services, c)
            .await
            .unwrap();
    }
    for (project, minutes) in &minutes_by_project {
        assert_eq!(burned_minutes(&app, "acme", project).await, *minutes);
    }
}
