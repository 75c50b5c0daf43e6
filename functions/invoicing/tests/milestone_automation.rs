//! Milestones reached through `POST …/reach`: who may reach one, what a second
//! reach answers, and the milestone invoicer drafting (and, when the client
//! asks for it, issuing) the milestone's invoice exactly once, however often
//! its message is delivered or lost.

mod support;

use std::time::Duration;

use agencyops_invoicing::milestones::{self, Outcome};
use agencyops_platform::events::MILESTONES_QUEUE;
use agencyops_store::keys;
use agencyops_store::{Index, Query};
use rust_decimal_macros::dec;
use serde_json::json;
use support::*;

/// A milestone of 4000.00 on the studio's project.
async fn milestone(app: &App, s: &Studio) -> String {
    app.create(
        &s.admin,
        &format!("/v1/projects/{}/milestones", s.project),
        json!({"name": "Concepts", "amount": "4000.00"}),
    )
    .await
}

fn reach_path(s: &Studio, m: &str) -> String {
    format!("/v1/projects/{}/milestones/{m}/reach", s.project)
}

/// Every waiting `milestones` message, taken off the queue.
async fn take_messages(app: &App) -> Vec<String> {
    let mut out = Vec::new();
    loop {
        let got = app
            .queue
            .receive(MILESTONES_QUEUE, 10, Duration::from_secs(60))
            .await
            .unwrap();
        if got.is_empty() {
            return out;
        }
        for m in got {
            app.queue.delete(&m.receipt).await.unwrap();
            out.push(m.body);
        }
    }
}

/// The client's milestone invoices, as finance lists them.
async fn milestone_invoices(app: &App, s: &Studio) -> Vec<serde_json::Value> {
    let res = app
        .get(&s.finance, &format!("/v1/invoices?client_id={}", s.client))
        .await
        .expect(200);
    res.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|i| i["kind"] == "milestone")
        .cloned()
        .collect()
}

async fn pending(app: &App, s: &Studio) -> usize {
    app.stored_items(&Query::new(
        Index::Table,
        keys::reached_milestones(&s.tenant),
    ))
    .await
    .len()
}

#[tokio::test]
async fn reaching_a_milestone_by_role_and_tenant() {
    let (app, s) = setup().await;
    let other = studio(&app, "globex").await;
    // A second client of the same agency, with its own client user.
    let rival = app
        .create(
            &s.admin,
            "/v1/clients",
            json!({"name": "Initech", "currency": "EUR"}),
        )
        .await;
    let rival_user = agencyops_apitest::client_user(&s.tenant, "ru", &rival);

    let refused = [
        (&s.other_manager, 403),
        (&s.member, 403),
        (&s.contractor, 403),
        (&s.outsider, 404),
        (&s.stray_contractor, 404),
        (&rival_user, 404),
        (&other.admin, 404),
        (&other.client_user, 404),
    ];
    for (who, status) in refused {
        let m = milestone(&app, &s).await;
        let res = app.post(who, &reach_path(&s, &m), json!({})).await;
        assert_eq!(res.status.as_u16(), status, "{} {}", who.role, res.body);
        let stored = app
            .get(
                &s.admin,
                &format!("/v1/projects/{}/milestones/{m}", s.project),
            )
            .await
            .expect(200);
        assert_eq!(
            stored.body["status"], "planned",
            "a refusal changes nothing"
        );
    }
    assert!(
        take_messages(&app).await.is_empty(),
        "nothing queued for refusals"
    );

    for who in [&s.admin, &s.finance, &s.manager, &s.client_user] {
        let m = milestone(&app, &s).await;
        let res = app
            .post(who, &reach_path(&s, &m), json!({}))
            .await
            .expect(200);
        assert_eq!(res.body["status"], "reached", "{}", who.role);
        assert_eq!(res.body["version"], 2);
    }
    assert_eq!(take_messages(&app).await.len(), 4, "one message per reach");
    // A client user does not see the amount, also on the reach's answer.
    let m = milestone(&app, &s).await;
    let res = app
        .post(&s.client_user, &reach_path(&s, &m), json!({}))
        .await
        .expect(200);
    assert!(res.body.get("amount").is_none(), "{}", res.body);
}

#[tokio::test]
async fn a_second_reach_is_a_conflict_and_a_replayed_key_answers_the_same() {
    let (app, s) = setup().await;
    let m = milestone(&app, &s).await;
    let first = app
        .post_keyed(&s.manager, &reach_path(&s, &m), json!({}), "reach-1")
        .await
        .expect(200);
    let replay = app
        .post_keyed(&s.manager, &reach_path(&s, &m), json!({}), "reach-1")
        .await
        .expect(200);
    assert_eq!(replay.body, first.body);
    assert!(replay.headers.contains_key("idempotent-replayed"));
    assert_eq!(
        take_messages(&app).await.len(),
        1,
        "a replay queues nothing"
    );

    let again = app
        .post(&s.manager, &reach_path(&s, &m), json!({}))
        .await
        .expect(409);
    assert!(again.body["detail"]
        .as_str()
        .unwrap()
        .contains("already reached"));

    // Invoiced: still a conflict, and the milestone stays invoiced.
    let msgs = take_messages(&app).await;
    assert!(msgs.is_empty());
    milestones::draft_milestone(&app.services, &s.tenant, &s.project, &m)
        .await
        .unwrap();
    let res = app
        .post(&s.admin, &reach_path(&s, &m), json!({}))
        .await
        .expect(409);
    assert_eq!(
        res.problem_type(),
        "https://agencyops.dev/problems/already-invoiced"
    );
}

#[tokio::test]
async fn bad_reach_requests_change_nothing() {
    let (app, s) = setup().await;
    let m = milestone(&app, &s).await;
    let res = app
        .post(&s.admin, &reach_path(&s, &m), json!({"reached": true}))
        .await
        .expect(400);
    assert!(!res.body.to_string().is_empty());
    app.post(
        &s.admin,
        &format!("/v1/projects/{}/milestones/nope/reach", s.project),
        json!({}),
    )
    .await
    .expect(404);
    app.post(
        &s.admin,
        &format!("/v1/projects/nope/milestones/{m}/reach"),
        json!({}),
    )
    .await
    .expect(404);
    // A stale If-Match is 412; the current one reaches.
    let stale = app
        .raw(
            Some(&s.admin),
            axum::http::Method::POST,
            &reach_path(&s, &m),
            None,
            &[("if-match", "\"7\"")],
        )
        .await;
    assert_eq!(stale.status.as_u16(), 412, "{}", stale.body);
    let stored = app
        .get(
            &s.admin,
            &format!("/v1/projects/{}/milestones/{m}", s.project),
        )
        .await
        .expect(200);
    assert_eq!(stored.body["status"], "planned");
    assert!(take_messages(&app).await.is_empty());
    assert_eq!(pending(&app, &s).await, 0);
    let ok = app
        .raw(
            Some(&s.admin),
            axum::http::Method::POST,
            &reach_path(&s, &m),
            None,
            &[("if-match", &stored.etag())],
        )
        .await;
    assert_eq!(ok.status.as_u16(), 200, "{}", ok.body);
}

#[tokio::test]
async fn a_redelivered_milestone_message_drafts_one_invoice() {
    let (app, s) = setup().await;
    let m = milestone(&app, &s).await;
    app.post(&s.client_user, &reach_path(&s, &m), json!({}))
        .await
        .expect(200);
    let msgs = take_messages(&app).await;
    assert_eq!(msgs.len(), 1);
    let mut drafted = Vec::new();
    for _ in 0..3 {
        match milestones::handle_body(&app.services, &msgs[0])
            .await
            .unwrap()
        {
            Outcome::Drafted { invoice_id, issued } => {
                assert!(!issued, "auto_issue is off by default");
                drafted.push(invoice_id);
            }
            Outcome::AlreadyDrafted { invoice_id, issued } => {
                assert!(!issued);
                assert_eq!(Some(&invoice_id), drafted.first());
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(drafted.len(), 1, "drafted once");
    let invoices = milestone_invoices(&app, &s).await;
    assert_eq!(invoices.len(), 1);
    assert_eq!(invoices[0]["status"], "draft");
    assert_eq!(dec(&invoices[0]["total"]), dec!(4000.00));
    let stored = app
        .get(
            &s.admin,
            &format!("/v1/projects/{}/milestones/{m}", s.project),
        )
        .await
        .expect(200);
    assert_eq!(stored.body["status"], "invoiced");
    assert_eq!(pending(&app, &s).await, 0, "the outbox item is gone");
    // The daily sweep finds nothing left to draft.
    assert_eq!(
        milestones::draft_pending(&app.services, &s.tenant)
            .await
            .unwrap(),
        0
    );
    assert_eq!(milestone_invoices(&app, &s).await.len(), 1);
}

#[tokio::test]
async fn auto_issue_issues_the_milestone_invoice_once() {
    let (app, s) = setup().await;
    let client = app
        .get(&s.admin, &format!("/v1/clients/{}", s.client))
        .await
        .expect(200);
    let prefs = json!({"invoice_preferences": {"auto_issue": true}});
    let res = app
        .raw(
            Some(&s.admin),
            axum::http::Method::PATCH,
            &format!("/v1/clients/{}", s.client),
            Some(serde_json::to_vec(&prefs).unwrap()),
            &[("if-match", &client.etag())],
        )
        .await;
    assert_eq!(res.status.as_u16(), 200, "{}", res.body);
    assert_eq!(res.body["invoice_preferences"]["auto_issue"], true);

    let m = milestone(&app, &s).await;
    app.post(&s.finance, &reach_path(&s, &m), json!({}))
        .await
        .expect(200);
    let msgs = take_messages(&app).await;
    let first = milestones::handle_body(&app.services, &msgs[0])
        .await
        .unwrap();
    let Outcome::Drafted { invoice_id, issued } = first else {
        panic!("{first:?}")
    };
    assert!(issued);
    let again = milestones::handle_body(&app.services, &msgs[0])
        .await
        .unwrap();
    assert_eq!(
        again,
        Outcome::AlreadyDrafted {
            invoice_id: invoice_id.clone(),
            issued: false
        }
    );
    let invoices = milestone_invoices(&app, &s).await;
    assert_eq!(invoices.len(), 1);
    assert_eq!(invoices[0]["status"], "issued");
    assert_eq!(invoices[0]["number"], "2026-0001");
    // One number drawn: the next invoice issued takes the next one.
    let m2 = milestone(&app, &s).await;
    app.post(&s.finance, &reach_path(&s, &m2), json!({}))
        .await
        .expect(200);
    for body in take_messages(&app).await {
        milestones::handle_body(&app.services, &body).await.unwrap();
    }
    let mut numbers: Vec<String> = milestone_invoices(&app, &s)
        .await
        .iter()
        .map(|i| i["number"].as_str().unwrap().to_owned())
        .collect();
    numbers.sort();
    assert_eq!(numbers, ["2026-0001", "2026-0002"]);
}

#[tokio::test]
async fn a_lost_milestone_message_is_drafted_by_the_daily_sweep() {
    let (app, s) = setup().await;
    let m = milestone(&app, &s).await;
    app.post(&s.manager, &reach_path(&s, &m), json!({}))
        .await
        .expect(200);
    // The message is lost (as if sending had failed after the commit).
    assert_eq!(take_messages(&app).await.len(), 1);
    assert_eq!(pending(&app, &s).await, 1);
    assert_eq!(
        milestones::draft_pending(&app.services, &s.tenant)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        milestones::draft_pending(&app.services, &s.tenant)
            .await
            .unwrap(),
        0
    );
    assert_eq!(milestone_invoices(&app, &s).await.len(), 1);
    assert_eq!(pending(&app, &s).await, 0);
}

#[tokio::test]
async fn malformed_milestone_messages_are_refused() {
    let (app, _s) = setup().await;
    assert!(milestones::handle_body(&app.services, "{}").await.is_err());
    assert!(milestones::handle_body(&app.services, "not json")
        .await
        .is_err());
    // A message for a milestone that does not exist is a harmless no-op.
    let body = json!({"tenant": "acme", "message_id": "x", "project_id": "p", "milestone_id": "m"});
    assert_eq!(
        milestones::handle_body(&app.services, &body.to_string())
            .await
            .unwrap(),
        Outcome::Skipped("the project is gone")
    );
}
