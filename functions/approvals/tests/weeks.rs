//! Timesheet weeks through the API: submit, approve (whole or per project),
//! reject, the rate snapshot, work in progress, the `approved` queue, and a week
//! too big for one transaction surviving a crash.

mod support;

use std::collections::BTreeMap;

use agencyops_domain::rates::RateSource;
use agencyops_domain::timesheet::WorkStatus;
use agencyops_store::{keys, Index, Query};
use rust_decimal::Decimal;
use rust_decimal_macros::dec;
use serde_json::json;
use support::*;

async fn unbilled_count(app: &App, tenant: &str) -> usize {
    let mut q = Query::new(Index::Gsi2, keys::unbilled(tenant)).limit(1000);
    let mut n = 0;
    loop {
        let page = app.table.query(&q).await.unwrap();
        n += page.items.len();
        match page.next {
            Some(k) => q.start_after = Some(k),
            None => return n,
        }
    }
}

#[tokio::test]
async fn an_approved_week_snapshots_rates_enters_wip_and_is_announced() {
    let (app, s) = setup().await;
    let a = record(&app, &s.member, &s.project, MONDAY, 60).await;
    let b = record(&app, &s.member, &s.project, WEDNESDAY, 30).await;
    let c = record(&app, &s.member, &s.side_project, FRIDAY, 45).await;

    let res = submit(&app, &s.member).await.expect(200);
    assert_eq!(res.body["moved"], 3);
    assert_eq!(res.body["status"], "submitted");
    assert_eq!(unbilled_count(&app, "acme").await, 0);

    let res = approve(&app, &s.admin, &s.member, None).await.expect(200);
    assert_eq!(res.body["moved"], 3);
    assert_eq!(res.body["status"], "approved");
    let mut ids: Vec<String> = serde_json::from_value(res.body["entry_ids"].clone()).unwrap();
    ids.sort();
    let mut want = vec![a.clone(), b.clone(), c.clone()];
    want.sort();
    assert_eq!(ids, want);

    let ea = stored_entry(&app, "acme", &a).await;
    let approval = ea.approval.as_ref().unwrap();
    assert_eq!(ea.status, WorkStatus::Approved);
    assert_eq!(approval.bill_rate, Some(dec!(100)));
    assert_eq!(approval.rate_source, Some(RateSource::ProjectDefault));
    assert_eq!(approval.value, dec!(100));
    assert_eq!(approval.cost_rate, Some(dec!(30)));
    assert_eq!(approval.approved_by, s.admin.person);
    // The side project has no rate card: the client's default applies.
    let ec = stored_entry(&app, "acme", &c).await;
    let approval = ec.approval.as_ref().unwrap();
    assert_eq!(approval.rate_source, Some(RateSource::ClientDefault));
    assert_eq!(approval.value, dec!(67.5));
    assert_eq!(unbilled_count(&app, "acme").await, 3);

    let mut changes = burn_changes(&app).await;
    changes.sort_by(|x, y| x.project_id.cmp(&y.project_id));
    assert_eq!(changes.len(), 2);
    let by_project: BTreeMap<_, _> = changes.iter().map(|c| (c.project_id.clone(), c)).collect();
    let p = by_project[&s.project];
    assert_eq!((p.minutes, p.billable_minutes), (90, 90));
    assert_eq!((p.fees, p.cost), (dec!(150), dec!(45)));
    assert_eq!(p.kind, "approved");
    assert_eq!(p.tenant, "acme");
    let side = by_project[&s.side_project];
    assert_eq!((side.minutes, side.fees), (45, dec!(67.5)));

    let week = stored_week(&app, "acme", &s.member.person).await.unwrap();
    assert!(week.job.is_none());
    assert!(week.submitted_at.is_some());
    assert_eq!(week.decided_by.as_deref(), Some(s.admin.person.as_str()));

    let audit = audit_of(
        &app,
        "acme",
        "timesheet_week",
        &format!("{}/{WEEK}", s.member.person),
    )
    .await;
    let actions: Vec<&str> = audit
        .iter()
        .map(|a| a["action"].as_str().unwrap())
        .collect();
    for action in ["submit.start", "submit", "approve.start", "approve"] {
        assert!(actions.contains(&action), "{action} in {actions:?}");
    }
    let done = audit.iter().find(|a| a["action"] == "approve").unwrap();
    assert_eq!(done["before"]["status"], "submitted");
    assert_eq!(done["after"]["status"], "approved");
    assert_eq!(done["after"]["entry_ids"].as_array().unwrap().len(), 3);
    assert_eq!(done["actor"], s.admin.person.as_str());

    // Approved work is history: the time function refuses to change it.
    let res = app
        .patch(
            &s.member,
            &format!("/v1/time-entries/{a}"),
            json!({"minutes": 90}),
        )
        .await
        .expect(409);
    assert!(res.body["detail"].as_str().unwrap().contains("approved"));
}

#[tokio::test]
async fn a_project_person_rate_wins_and_later_rate_changes_do_not_rewrite_approvals() {
    let (app, s) = setup().await;
    let path = format!("/v1/projects/{}", s.project);
    let etag = app.get(&s.admin, &path).await.expect(200).etag();
    let card = json!({"rate_card": {"default_rate": "100.00",
        "by_person": [{"person_id": s.member.person, "rate": "150.00"}]}});
    app.raw(
        Some(&s.admin),
        axum::http::Method::PATCH,
        &path,
        Some(serde_json::to_vec(&card).unwrap()),
        &[("if-match", etag.as_str())],
    )
    .await
    .expect(200);
    let mine = record(&app, &s.member, &s.project, MONDAY, 60).await;
    let theirs = record(&app, &s.contractor, &s.project, MONDAY, 60).await;
    submit(&app, &s.member).await.expect(200);
    submit(&app, &s.contractor).await.expect(200);
    approve(&app, &s.manager, &s.member, None).await.expect(200);
    approve(&app, &s.manager, &s.contractor, None)
        .await
        .expect(200);
    let a = stored_entry(&app, "acme", &mine).await.approval.unwrap();
    assert_eq!(
        (a.bill_rate, a.rate_source, a.value),
        (Some(dec!(150)), Some(RateSource::ProjectPerson), dec!(150))
    );
    let b = stored_entry(&app, "acme", &theirs).await.approval.unwrap();
    assert_eq!(b.rate_source, Some(RateSource::ProjectDefault));

    // The rate card changes after approval; what was approved stays.
    let etag = app.get(&s.admin, &path).await.expect(200).etag();
    let card = json!({"rate_card": {"default_rate": "200.00"}});
    app.raw(
        Some(&s.admin),
        axum::http::Method::PATCH,
        &path,
        Some(serde_json::to_vec(&card).unwrap()),
        &[("if-match", etag.as_str())],
    )
    .await
    .expect(200);
    let after = stored_entry(&app, "acme", &mine).await.approval.unwrap();
    assert_eq!(after, a);
    let shown = app
        .get(&s.member, &format!("/v1/time-entries/{mine}"))
        .await
        .expect(200);
    assert_eq!(shown.body["approval"]["bill_rate"], "150.00");
}

#[tokio::test]
async fn managers_approve_the_projects_they_manage_and_name_them() {
    let (app, s) = setup().await;
    let on_team = record(&app, &s.member, &s.project, MONDAY, 60).await;
    let elsewhere = record(&app, &s.member, &s.side_project, MONDAY, 60).await;
    submit(&app, &s.member).await.expect(200);

    let res = approve(&app, &s.manager, &s.member, None).await.expect(403);
    assert!(res.body["detail"].as_str().unwrap().contains("project_id"));
    approve(&app, &s.manager, &s.member, Some(&s.side_project))
        .await
        .expect(403);
    let res = approve(&app, &s.manager, &s.member, Some(&s.project))
        .await
        .expect(200);
    assert_eq!(res.body["moved"], 1);
    assert_eq!(res.body["status"], "partially_approved");
    assert_eq!(
        stored_entry(&app, "acme", &elsewhere).await.status,
        WorkStatus::Submitted
    );
    // Naming a project with nothing left to approve is a clear 409.
    let res = approve(&app, &s.manager, &s.member, Some(&s.project))
        .await
        .expect(409);
    assert!(res.body["detail"]
        .as_str()
        .unwrap()
        .contains("nothing to approve"));
    let res = approve(&app, &s.finance, &s.member, None).await.expect(200);
    assert_eq!(res.body["status"], "approved");
    assert_eq!(
        stored_entry(&app, "acme", &on_team)
            .await
            .approval
            .unwrap()
            .approved_by,
        s.manager.person
    );
}

#[tokio::test]
async fn nobody_but_an_admin_approves_their_own_time() {
    let (app, s) = setup().await;
    for who in [&s.manager, &s.admin] {
        record(&app, who, &s.project, MONDAY, 60).await;
        submit(&app, who).await.expect(200);
    }
    let res = approve(&app, &s.manager, &s.manager, None)
        .await
        .expect(403);
    assert!(res.body["detail"].as_str().unwrap().contains("own"));
    reject(&app, &s.manager, &s.manager, None).await.expect(403);
    approve(&app, &s.admin, &s.admin, None).await.expect(200);
    approve(&app, &s.finance, &s.manager, None)
        .await
        .expect(200);
}

#[tokio::test]
async fn rejecting_sends_work_back_and_takes_approved_work_out_of_wip() {
    let (app, s) = setup().await;
    let a = record(&app, &s.member, &s.project, MONDAY, 60).await;
    let b = record(&app, &s.member, &s.side_project, MONDAY, 30).await;
    submit(&app, &s.member).await.expect(200);
    approve(&app, &s.admin, &s.member, Some(&s.project))
        .await
        .expect(200);
    let approved = burn_changes(&app).await;
    assert_eq!(approved.len(), 1);
    assert_eq!(unbilled_count(&app, "acme").await, 1);

    // A reason is required.
    let res = app
        .post(
            &s.admin,
            &week_path(&s.member, "reject"),
            json!({"reason": "  "}),
        )
        .await
        .expect(400);
    assert_eq!(res.fields(), ["reason"]);

    let res = reject(&app, &s.admin, &s.member, None).await.expect(200);
    assert_eq!(res.body["moved"], 2);
    assert_eq!(res.body["status"], "rejected");
    let ea = stored_entry(&app, "acme", &a).await;
    assert_eq!(ea.status, WorkStatus::Rejected);
    assert!(ea.approval.is_none());
    let rejection = ea.rejection.unwrap();
    assert_eq!(rejection.reason, "Wrong task");
    assert_eq!(rejection.unapproved.unwrap().value, dec!(100));
    assert!(stored_entry(&app, "acme", &b)
        .await
        .rejection
        .unwrap()
        .unapproved
        .is_none());
    assert_eq!(unbilled_count(&app, "acme").await, 0);
    let undone = burn_changes(&app).await;
    assert_eq!(undone.len(), 1, "only approved work changes the burn");
    assert_eq!(undone[0].kind, "unapproved");
    assert_eq!(undone[0].project_id, s.project);
    assert_eq!((undone[0].minutes, undone[0].fees), (-60, dec!(-100)));
    assert_ne!(undone[0].change_id, approved[0].change_id);
    let week = stored_week(&app, "acme", &s.member.person).await.unwrap();
    assert_eq!(week.rejection_reason.as_deref(), Some("Wrong task"));

    // The person fixes the work and submits again.
    app.patch(
        &s.member,
        &format!("/v1/time-entries/{a}"),
        json!({"minutes": 45}),
    )
    .await
    .expect(200);
    let res = submit(&app, &s.member).await.expect(200);
    assert_eq!(res.body["moved"], 2);
    assert_eq!(res.body["status"], "submitted");
}

#[tokio::test]
async fn invoiced_work_cannot_be_rejected_and_empty_actions_are_conflicts() {
    let (app, s) = setup().await;
    let res = submit(&app, &s.member).await.expect(409);
    assert!(res.body["detail"]
        .as_str()
        .unwrap()
        .contains("nothing to submit"));
    let a = record(&app, &s.member, &s.project, MONDAY, 60).await;
    let res = approve(&app, &s.admin, &s.member, None).await.expect(409);
    assert_eq!(res.problem_type(), CONFLICT);
    submit(&app, &s.member).await.expect(200);
    approve(&app, &s.admin, &s.member, None).await.expect(200);
    invoice_entry(&app, "acme", &a).await;
    let res = reject(&app, &s.admin, &s.member, None).await.expect(409);
    assert_eq!(res.problem_type(), LOCKED);
    assert_eq!(
        stored_entry(&app, "acme", &a).await.status,
        WorkStatus::Invoiced
    );
}

#[tokio::test]
async fn an_approval_racing_an_edit_loses_nothing() {
    let (app, s) = setup().await;
    for round in 0..4u32 {
        let date = ["2026-11-09", "2026-11-10", "2026-11-11", "2026-11-12"][round as usize];
        // A fresh week each round would need more weeks; instead each round adds
        // one entry and submits it, so the week always has exactly one to approve.
        let id = record(&app, &s.member, &s.project, date, 60).await;
        submit(&app, &s.member).await.expect(200);
        let edit_path = format!("/v1/time-entries/{id}");
        let (edit, approval) = tokio::join!(
            app.patch(&s.member, &edit_path, json!({"minutes": 90})),
            approve(&app, &s.manager, &s.member, None),
        );
        let statuses = [edit.status.as_u16(), approval.status.as_u16()];
        assert_eq!(
            statuses.iter().filter(|s| **s == 200).count(),
            1,
            "exactly one wins: {statuses:?} {} {}",
            edit.body,
            approval.body
        );
        assert!(statuses.contains(&409), "the loser is told: {statuses:?}");
        let stored = stored_entry(&app, "acme", &id).await;
        if approval.status == 200 {
            let a = stored.approval.as_ref().unwrap();
            assert_eq!(stored.minutes, 60);
            assert_eq!(a.billed_minutes, stored.minutes, "approved what is stored");
        } else {
            assert_eq!(stored.minutes, 90);
            assert_eq!(stored.status, WorkStatus::Submitted);
            approve(&app, &s.manager, &s.member, None).await.expect(200);
        }
    }
}

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
        let burn: agencyops_store::records::ProjectBurn =
            agencyops_store::record::load(&*app.table, &keys::project_burn("acme", project))
                .await
                .unwrap()
                .unwrap();
        assert_eq!(burn.minutes as i64, *minutes);
    }
}

#[tokio::test]
async fn bad_requests_name_the_field_and_change_nothing() {
    let (app, s) = setup().await;
    let id = record(&app, &s.member, &s.project, MONDAY, 60).await;
    let base = format!("/v1/timesheets/{}", s.member.person);
    let res = app
        .post(&s.admin, &format!("{base}/2026-W99/submit"), json!({}))
        .await
        .expect(400);
    assert_eq!(res.fields(), ["iso_week"]);
    let res = app
        .post(
            &s.member,
            &week_path(&s.member, "submit"),
            json!({"week": 1}),
        )
        .await
        .expect(400);
    assert_eq!(res.fields(), ["week"]);
    let res = app
        .post(
            &s.admin,
            &week_path(&s.member, "approve"),
            json!({"project_id": "no such!"}),
        )
        .await
        .expect(400);
    assert_eq!(res.fields(), ["project_id"]);
    app.post(
        &s.admin,
        &week_path(&s.member, "approve"),
        json!({"project_id": "nope"}),
    )
    .await
    .expect(404);
    let res = app
        .post(&s.admin, &week_path(&s.member, "reject"), json!({}))
        .await
        .expect(400);
    assert_eq!(res.fields(), ["reason"]);
    assert_eq!(
        stored_entry(&app, "acme", &id).await.status,
        WorkStatus::Draft
    );

    // `me` is the caller's own week.
    let res = app
        .post(
            &s.member,
            &format!("/v1/timesheets/me/{WEEK}/submit"),
            json!({}),
        )
        .await
        .expect(200);
    assert_eq!(res.body["person_id"], s.member.person.as_str());
    assert_eq!(
        stored_entry(&app, "acme", &id).await.status,
        WorkStatus::Submitted
    );
}
