//! The dunning endpoints by role and tenant, with bad input that changes
//! nothing, versions (If-Match) and replays.

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn dunning_policies_are_set_by_finance_and_admin_and_read_by_managers() {
    let (app, s) = setup().await;
    let client_path = format!("/v1/clients/{}/dunning", s.client);
    for who in [&s.manager, &s.member, &s.contractor, &s.client_user] {
        app.put(who, "/v1/settings/dunning", policy())
            .await
            .expect(403);
        app.put(who, &client_path, policy()).await.expect(403);
    }
    for who in [&s.member, &s.contractor, &s.client_user] {
        app.get(who, "/v1/settings/dunning").await.expect(403);
        app.get(who, &client_path).await.expect(403);
    }
    // Nothing saved yet: an empty policy that sends nothing, version 0.
    let empty = app
        .get(&s.manager, "/v1/settings/dunning")
        .await
        .expect(200);
    assert_eq!(empty.body["stages"], json!([]));
    assert_eq!(empty.body["version"], 0);

    let saved = app
        .put(&s.admin, "/v1/settings/dunning", policy())
        .await
        .expect(200);
    assert_eq!(saved.body["version"], 1);
    assert_eq!(saved.body["stages"][2]["late_fee"]["flat"], "10.00");
    let read = app
        .get(&s.manager, "/v1/settings/dunning")
        .await
        .expect(200);
    assert_eq!(read.body, saved.body);
    assert_eq!(read.etag(), saved.etag());

    // The client follows the tenant until it has its own.
    let follows = app.get(&s.manager, &client_path).await.expect(200);
    assert_eq!(follows.body["source"], "tenant");
    assert_eq!(follows.body["version"], 0);
    let own = app
        .put(
            &s.finance,
            &client_path,
            json!({"stages": [], "paused": true}),
        )
        .await
        .expect(200);
    assert_eq!(own.body["source"], "client");
    assert_eq!(
        app.get(&s.manager, &client_path).await.expect(200).body["paused"],
        true
    );
    assert_eq!(
        app.get(&s.manager, "/v1/settings/dunning").await.body["paused"],
        false,
        "the override leaves the tenant's policy alone"
    );

    // Another tenant sees neither the client nor its policy.
    let other = who("globex", "boss", "admin");
    app.get(&other, &client_path).await.expect(404);
    app.put(&other, &client_path, policy()).await.expect(404);
    assert_eq!(
        app.get(&other, "/v1/settings/dunning").await.body["stages"],
        json!([])
    );
    app.get(
        &s.admin,
        "/v1/clients/01890000-0000-7000-8000-000000000000/dunning",
    )
    .await
    .expect(404);
}

#[tokio::test]
async fn a_stale_if_match_is_refused_and_changes_nothing() {
    let (app, s) = setup().await;
    let first = set_policy(&app, &s, policy()).await;
    let tag = first.etag();
    let mut changed = policy();
    changed["quiet_days_after_send"] = json!(5);
    let ok = app
        .raw(
            Some(&s.finance),
            axum::http::Method::PUT,
            "/v1/settings/dunning",
            Some(changed.to_string().into_bytes()),
            &[("if-match", tag.as_str())],
        )
        .await
        .expect(200);
    assert_eq!(ok.body["version"], 2);
    changed["quiet_days_after_send"] = json!(9);
    app.raw(
        Some(&s.finance),
        axum::http::Method::PUT,
        "/v1/settings/dunning",
        Some(changed.to_string().into_bytes()),
        &[("if-match", tag.as_str())],
    )
    .await
    .expect(412);
    assert_eq!(
        app.get(&s.finance, "/v1/settings/dunning").await.body["quiet_days_after_send"],
        5
    );
}

#[tokio::test]
async fn bad_policies_are_refused_by_field_and_change_nothing() {
    let (app, s) = setup().await;
    let saved = set_policy(&app, &s, policy()).await;
    let stage = |name: &str, offset: i64| json!({"name": name, "offset_days": offset, "subject": "s", "body": "b"});
    let cases = [
        (
            json!({"stages": [stage("a", -31)]}),
            "stages[0].offset_days",
        ),
        (
            json!({"stages": [stage("a", 366)]}),
            "stages[0].offset_days",
        ),
        (
            json!({"stages": [stage("a", 5), stage("b", 5)]}),
            "stages[1].offset_days",
        ),
        (
            json!({"stages": [stage("a", 1), stage("a", 5)]}),
            "stages[1].name",
        ),
        (json!({"stages": [stage("", 1)]}), "stages[0].name"),
        (
            json!({"stages": [{"name": "a", "offset_days": 1, "subject": "Hi {name}", "body": "b"}]}),
            "stages[0].subject",
        ),
        (
            json!({"stages": [{"name": "a", "offset_days": 1, "subject": "s", "body": "{balance"}]}),
            "stages[0].body",
        ),
        (
            json!({"stages": [{"name": "a", "offset_days": 1, "subject": "s", "body": "b", "late_fee": {"flat": "-1"}}]}),
            "stages[0].late_fee.flat",
        ),
        (
            json!({"stages": [{"name": "a", "offset_days": 1, "subject": "s", "body": "b", "late_fee": {"flat": "1.001"}}]}),
            "stages[0].late_fee.flat",
        ),
        (
            json!({"stages": [{"name": "a", "offset_days": 1, "subject": "s", "body": "b", "late_fee": {"percent": "101"}}]}),
            "stages[0].late_fee.percent",
        ),
        (
            json!({"stages": [{"name": "a", "offset_days": 1, "subject": "s", "body": "b", "late_fee": {}}]}),
            "stages[0].late_fee",
        ),
        (
            json!({"stages": [{"name": "a", "offset_days": 1, "subject": "s", "body": "b", "late_fee": {"statutory": {"reference_rate": "25"}}}]}),
            "stages[0].late_fee.statutory.reference_rate",
        ),
        (
            json!({"stages": [stage("a", 1)], "max_repeats": 2}),
            "repeat_every_days",
        ),
        (
            json!({"stages": [stage("a", 1)], "repeat_every_days": 0}),
            "repeat_every_days",
        ),
        (
            json!({"stages": [stage("a", 1)], "repeat_every_days": 7, "max_repeats": 25}),
            "max_repeats",
        ),
        (
            json!({"stages": [stage("a", 1)], "quiet_days_after_send": 61}),
            "quiet_days_after_send",
        ),
    ];
    for (body, field) in cases {
        let res = app
            .put(&s.finance, "/v1/settings/dunning", body.clone())
            .await;
        assert_eq!(res.status.as_u16(), 400, "{body} -> {}", res.body);
        assert!(
            res.fields().contains(&field.to_owned()),
            "{body}: {:?}",
            res.fields()
        );
    }
    // Shape errors: unknown fields, wrong types, a missing list.
    for body in [
        json!({"stages": [], "colour": "red"}),
        json!({"stages": "none"}),
        json!({"paused": true}),
        json!({"stages": [{"name": "a", "offset_days": "x", "subject": "s", "body": "b"}]}),
        json!({"stages": [{"name": "a", "offset_days": 1, "subject": "s", "body": "b", "late_fee": {"percent": ""}}]}),
        json!({"stages": [{"name": "a", "offset_days": 1, "subject": "s", "body": "b", "late_fee": {"flat": ""}}]}),
        json!([]),
    ] {
        let res = app
            .put(&s.finance, "/v1/settings/dunning", body.clone())
            .await;
        assert!(
            matches!(res.status.as_u16(), 400 | 422),
            "{body} -> {} {}",
            res.status,
            res.body
        );
    }
    let now = app
        .get(&s.finance, "/v1/settings/dunning")
        .await
        .expect(200);
    assert_eq!(now.body, saved.body, "nothing changed");
}

#[tokio::test]
async fn manual_reminders_are_sent_by_finance_and_admin_for_their_own_invoices() {
    let (app, s) = setup().await;
    set_policy(&app, &s, policy()).await;
    let id = issued(&app, &s, "100.00", "2026-12-10").await;
    let path = format!("/v1/invoices/{id}/remind");
    for who in [&s.manager, &s.member, &s.contractor, &s.client_user] {
        app.post(who, &path, json!({})).await.expect(403);
    }
    app.post(&who("globex", "boss", "admin"), &path, json!({}))
        .await
        .expect(404);
    app.post(
        &s.finance,
        "/v1/invoices/01890000-0000-7000-8000-000000000000/remind",
        json!({}),
    )
    .await
    .expect(404);
    app.post(&s.finance, "/v1/invoices/not-an-id/remind", json!({}))
        .await
        .expect(404);
    assert!(mails(&app).await.is_empty(), "refused calls send nothing");
    // Before any stage is due, by hand sends the first one early.
    let res = app.post(&s.admin, &path, json!({})).await.expect(200);
    assert_eq!(res.body["stage"], "nudge");
    assert_eq!(res.body["recipient"], "ap@northwind.test");
    assert!(res.body["fee"].is_null());
    let sent = mails(&app).await;
    assert_eq!(steps(&sent), ["STAGE#nudge"]);
    assert_eq!(sent[0].to, ["ap@northwind.test"]);
    assert!(
        sent[0].subject.contains("is due on 2026-12-10"),
        "{}",
        sent[0].subject
    );
    // A draft is not there to remind of.
    let draft = app
        .create(
            &s.finance,
            "/v1/invoices",
            json!({"client_id": s.client, "kind": "manual", "lines": [{"description": "x", "quantity": "1", "unit_price": "5.00"}]}),
        )
        .await;
    app.post(
        &s.finance,
        &format!("/v1/invoices/{draft}/remind"),
        json!({}),
    )
    .await
    .expect(404);
    // No policy stages: nothing to send.
    app.put(&s.finance, "/v1/settings/dunning", json!({"stages": []}))
        .await
        .expect(200);
    let other = issued(&app, &s, "50.00", "2026-12-10").await;
    app.post(
        &s.finance,
        &format!("/v1/invoices/{other}/remind"),
        json!({}),
    )
    .await
    .expect(409);
}
