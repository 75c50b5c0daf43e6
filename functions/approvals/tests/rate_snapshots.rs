//! What an approval fixes for good: the bill rate of the most specific level
//! of the documented hierarchy (project+person, project+role, project+task,
//! project default, client default, person default), whatever changes later.

mod support;

use agencyops_domain::rates::RateSource;
use rust_decimal_macros::dec;
use serde_json::{json, Value};
use support::*;

/// Replaces the project's rate card as the admin, under the version just read.
async fn set_rate_card(app: &App, s: &Studio, card: Value) {
    let path = format!("/v1/projects/{}", s.project);
    let etag = app.get(&s.admin, &path).await.expect(200).etag();
    app.raw(
        Some(&s.admin),
        axum::http::Method::PATCH,
        &path,
        Some(serde_json::to_vec(&card).unwrap()),
        &[("if-match", etag.as_str())],
    )
    .await
    .expect(200);
}

#[tokio::test]
async fn a_project_person_rate_wins_and_later_rate_changes_do_not_rewrite_approvals() {
    let (app, s) = setup().await;
    let card = json!({"rate_card": {"default_rate": "100.00",
        "by_person": [{"person_id": s.member.person, "rate": "150.00"}]}});
    set_rate_card(&app, &s, card).await;
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
    let card = json!({"rate_card": {"default_rate": "200.00"}});
    set_rate_card(&app, &s, card).await;
    let after = stored_entry(&app, "acme", &mine).await.approval.unwrap();
    assert_eq!(after, a);
    let shown = app
        .get(&s.manager, &format!("/v1/time-entries/{mine}"))
        .await
        .expect(200);
    assert_eq!(shown.body["approval"]["bill_rate"], "150.00");
    // The person themself sees that it was approved, never the rate.
    let own = app
        .get(&s.member, &format!("/v1/time-entries/{mine}"))
        .await
        .expect(200);
    assert_eq!(own.body["approval"]["billed_minutes"], 60);
    assert!(
        own.body["approval"].get("bill_rate").is_none(),
        "{}",
        own.body
    );
}

#[tokio::test]
async fn a_role_rate_beats_a_task_rate_which_beats_the_project_default() {
    let (app, s) = setup().await;
    // Everyone in the studio is a "designer".
    let card = json!({"rate_card": {"default_rate": "100.00",
        "by_role": [{"job_role": "designer", "rate": "120.00"}],
        "by_task": [{"task_id": s.task, "rate": "110.00"}]}});
    set_rate_card(&app, &s, card).await;
    let id = app
        .create(
            &s.member,
            "/v1/time-entries",
            json!({"project_id": s.project, "task_id": s.task, "date": MONDAY, "minutes": 30}),
        )
        .await;
    submit(&app, &s.member).await.expect(200);
    approve(&app, &s.manager, &s.member, None).await.expect(200);
    let a = stored_entry(&app, "acme", &id).await.approval.unwrap();
    assert_eq!(
        (a.rate_source, a.bill_rate, a.value),
        (Some(RateSource::ProjectRole), Some(dec!(120)), dec!(60))
    );
}
