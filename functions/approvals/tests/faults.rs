//! Fault injection across week approval: a table that fails its k-th
//! transaction, for every k, over submitting and approving a week larger
//! than one transaction (105 entries on two projects), before the write or
//! after it (a lost reply). The client retries with its Idempotency-Key; then
//! every entry is approved exactly once, all of it is in WIP once, the
//! timesheet says approved and the budget consumer counts each minute once.

mod support;

use std::collections::BTreeMap;

use agencyops_apitest::faults::FailKth;
use agencyops_domain::timesheet::WorkStatus;
use serde_json::json;
use support::*;

/// Posts until answered with other than a 500 (the injected fault); a 409
/// "in progress" on the key means the failed attempt's claim was written, so
/// the client waits out its lease.
async fn answered(app: &App, who: &As, path: &str, key: &str, k: usize) -> Res {
    for _ in 0..4 {
        let r = app.post_keyed(who, path, json!({}), key).await;
        if r.status.as_u16() == 409 && r.problem_type().ends_with("idempotency-in-progress") {
            app.clock.advance(jiff::SignedDuration::from_secs(61));
            continue;
        }
        if r.status.as_u16() != 500 {
            return r;
        }
    }
    panic!("k={k}: {path} kept failing after the injected fault");
}

/// Submits and approves the week with the `k`th transaction failing; how many ran.
async fn scenario(k: usize, after: bool) -> usize {
    let (mut app, s) = setup().await;
    let mut minutes: BTreeMap<String, i64> = BTreeMap::new();
    for day in 9..=15 {
        for i in 0..15 {
            let project = if i < 10 { &s.project } else { &s.side_project };
            record(&app, &s.member, project, &format!("2026-11-{day:02}"), 60).await;
            *minutes.entry(project.clone()).or_default() += 60;
        }
    }
    let recorded = week_entries(&app, "acme", &s.member.person).await;
    assert_eq!(recorded.len(), 105);
    let fault = FailKth::install(&mut app, k, after);

    let submitted = answered(&app, &s.member, &week_path(&s.member, "submit"), "s-1", k).await;
    assert_eq!(
        submitted.status.as_u16(),
        200,
        "k={k} after={after}: {}",
        submitted.body
    );
    let approved = answered(&app, &s.admin, &week_path(&s.member, "approve"), "a-1", k).await;
    assert_eq!(
        approved.status.as_u16(),
        200,
        "k={k} after={after}: {}",
        approved.body
    );
    assert_eq!(approved.body["status"], "approved", "k={k}");

    let done = week_entries(&app, "acme", &s.member.person).await;
    assert_eq!(done.len(), 105, "k={k}");
    for (before, after_) in recorded.iter().zip(&done) {
        assert_eq!(before.id, after_.id);
        assert_eq!(after_.status, WorkStatus::Approved, "k={k} after={after}");
        assert_eq!(
            after_.version,
            before.version + 2,
            "k={k} after={after}: submitted once, approved once"
        );
    }
    assert_eq!(
        unbilled_count(&app, "acme").await,
        105,
        "k={k}: all in WIP once"
    );
    let week = stored_week(&app, "acme", &s.member.person).await.unwrap();
    assert!(week.job.is_none(), "k={k}: no job left pending");
    let sheet = app
        .get(
            &s.member,
            &format!("/v1/timesheets/{}/{WEEK}", s.member.person),
        )
        .await
        .expect(200);
    assert_eq!(sheet.body["status"], "approved", "k={k}");

    // The budget consumer, given every change twice (and a failed delivery
    // again, as SQS would), counts each minute once.
    let changes = burn_changes(&app).await;
    for c in changes.iter().chain(&changes) {
        let mut tries = 0;
        while agencyops_approvals::budget::apply(&app.services, c)
            .await
            .is_err()
        {
            tries += 1;
            assert!(tries < 3, "k={k}: the budget consumer kept failing");
        }
    }
    for (project, want) in &minutes {
        assert_eq!(
            burned_minutes(&app, "acme", project).await,
            *want,
            "k={k} after={after}: {project}"
        );
    }
    fault.seen()
}

#[tokio::test]
async fn every_failed_write_of_a_week_approval_is_retried_to_one_approval() {
    let writes = scenario(usize::MAX, false).await;
    assert!(writes >= 6, "submit and approve write: {writes}");
    for k in 1..=writes {
        for after in [false, true] {
            scenario(k, after).await;
        }
    }
}
