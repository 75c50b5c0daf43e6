//! Timesheet weeks through the API: submit, approve (whole or per project),
//! reject, the rate snapshot, work in progress and the `approved` queue. Races
//! are in `races.rs`, a week bigger than a transaction in `crash_resume.rs`.

mod support;

use std::collections::BTreeMap;

use agencyops_domain::rates::RateSource;
use agencyops_domain::timesheet::WorkStatus;
use agencyops_platform::events::BurnKind;
use rust_decimal_macros::dec;
use serde_json::json;
use support::*;

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
    assert_eq!(p.kind, BurnKind::Approved);
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
    // Approving again what is already approved (a retry without an
    // Idempotency-Key) is a harmless 200 that moves nothing.
    let res = approve(&app, &s.manager, &s.member, Some(&s.project))
        .await
        .expect(200);
    assert_eq!(res.body["moved"], 0);
    assert_eq!(
        stored_entry(&app, "acme", &elsewhere).await.status,
        WorkStatus::Submitted,
        "the other project's work was not touched"
    );
    // A manager still may not repeat it for a project they do not manage.
    approve(&app, &s.other_manager, &s.member, Some(&s.project))
        .await
        .expect(403);
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
    assert_eq!(undone[0].kind, BurnKind::Unapproved);
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

#[tokio::test]
async fn admins_find_a_weeks_submit_approve_and_reject_in_the_audit_trail() {
    let (app, s) = setup().await;
    record(&app, &s.member, &s.project, MONDAY, 60).await;
    submit(&app, &s.member).await.expect(200);
    approve(&app, &s.manager, &s.member, None).await.expect(200);
    reject(&app, &s.finance, &s.member, None).await.expect(200);
    // A week is named `{person}/{iso week}` in the trail.
    let week = format!("{}/{WEEK}", s.member.person);
    let path = format!("/v1/audit?entity_kind=timesheet_week&entity_id={week}");
    let res = app.get(&s.admin, &path).await.expect(200);
    let items = res.body["items"].as_array().unwrap();
    let mut seen: Vec<(&str, &str)> = items
        .iter()
        .map(|a| (a["action"].as_str().unwrap(), a["actor"].as_str().unwrap()))
        .collect();
    seen.sort();
    let mut want = vec![
        ("approve", s.manager.person.as_str()),
        ("approve.start", s.manager.person.as_str()),
        ("reject", s.finance.person.as_str()),
        ("reject.start", s.finance.person.as_str()),
        ("submit", s.member.person.as_str()),
        ("submit.start", s.member.person.as_str()),
    ];
    want.sort();
    assert_eq!(seen, want);
    assert!(items.iter().all(|a| a["entity_id"] == week.as_str()));
    let done = items.iter().find(|a| a["action"] == "reject").unwrap();
    assert_eq!(done["after"]["reason"], "Wrong task");
    // Only admins read it; malformed week ids are still refused.
    app.get(&s.finance, &path).await.expect(403);
    for bad in ["a/b/c", "/2026-W46", "p/", "p%23x/2026-W46"] {
        let res = app
            .get(
                &s.admin,
                &format!("/v1/audit?entity_kind=timesheet_week&entity_id={bad}"),
            )
            .await
            .expect(400);
        assert_eq!(res.fields(), ["query.entity_id"], "{bad}");
    }
}
