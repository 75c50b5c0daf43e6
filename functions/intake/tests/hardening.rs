//! Rules found in review: offboarding takes effect at once, ids are key-safe,
//! amounts fit their currency, rate cards are unambiguous, members don't see
//! rates, and every record an acceptance creates is audited.

mod support;

use agencyops_store::{keys, Index, Query, SkCondition};
use axum::http::{Method, StatusCode};
use serde_json::json;
use support::*;

#[tokio::test]
async fn deactivation_and_demotion_apply_to_existing_tokens() {
    let app = App::new();
    let admin = who("acme", "boss", "admin");
    let person =
        |email: &str| json!({"name": "M", "email": email, "role": "manager", "time_zone": "UTC"});
    let leaver = app
        .create(&admin, "/v1/people", person("leaver@a.io"))
        .await;
    let demoted = app
        .create(&admin, "/v1/people", person("demoted@a.io"))
        .await;
    // Their tokens still say "manager" after the change, as real tokens would.
    let leaver_token = who("acme", &leaver, "manager");
    let demoted_token = who("acme", &demoted, "manager");
    let client = json!({"name": "Northwind", "currency": "EUR"});
    assert_eq!(
        app.post(&leaver_token, "/v1/clients", client.clone())
            .await
            .status,
        StatusCode::CREATED
    );

    app.patch(
        &admin,
        &format!("/v1/people/{leaver}"),
        json!({"active": false}),
    )
    .await;
    let res = app.get(&leaver_token, "/v1/clients").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert!(res.body["detail"]
        .as_str()
        .unwrap_or("")
        .contains("deactivated"));

    app.patch(
        &admin,
        &format!("/v1/people/{demoted}"),
        json!({"role": "member"}),
    )
    .await;
    assert_eq!(
        app.post(&demoted_token, "/v1/clients", client).await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.get(&demoted_token, "/v1/people").await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

/// The caller's record is read with each request's first read, not before
/// it; a record that disagrees with the token still decides, and the run made
/// under the token's word leaves nothing behind.
#[tokio::test]
async fn a_record_that_disagrees_with_the_token_decides_before_anything_is_written() {
    let app = App::new();
    let admin = who("acme", "boss", "admin");
    let person = |email: &str, role: &str| json!({"name": "P", "email": email, "role": role, "time_zone": "UTC"});
    let promoted = app
        .create(&admin, "/v1/people", person("up@a.io", "member"))
        .await;
    let demoted = app
        .create(&admin, "/v1/people", person("down@a.io", "admin"))
        .await;
    let leaver = app
        .create(&admin, "/v1/people", person("gone@a.io", "member"))
        .await;
    for (id, change) in [
        (&promoted, json!({"role": "admin"})),
        (&demoted, json!({"role": "member"})),
        (&leaver, json!({"active": false})),
    ] {
        app.patch(&admin, &format!("/v1/people/{id}"), change)
            .await
            .expect(200);
    }
    let clients = || async {
        app.get(&admin, "/v1/clients").await.expect(200).body["items"]
            .as_array()
            .map(Vec::len)
    };
    let client = |name: &str| json!({"name": name, "currency": "EUR"});

    // Still "member" in the token: refused as a member before any read, then
    // answered once as the admin the record says, creating one client.
    let up = who("acme", &promoted, "member");
    app.post(&up, "/v1/clients", client("Promoted"))
        .await
        .expect(201);
    assert_eq!(clients().await, Some(1));

    // Still "admin" in the token: the record is read before the idempotency
    // claim and the client, so the run as admin writes neither (a claim it
    // left would make the run as a member a 409 "in progress"), and a
    // member's 403 is the answer.
    let down = who("acme", &demoted, "admin");
    let res = app
        .post_keyed(
            &down,
            "/v1/clients",
            client("Demoted").to_string().into_bytes(),
            "k-1",
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
    assert_eq!(clients().await, Some(1));
    // As a member they see their own record only, even in a list the token's
    // role would have shown in full.
    let listed = app.get(&down, "/v1/people").await.expect(200);
    assert_eq!(listed.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(listed.body["items"][0]["id"], demoted.as_str());

    // Deactivated: refused as such, whether the request reads or is refused
    // by its role first.
    let gone = who("acme", &leaver, "member");
    for res in [
        app.get(&gone, "/v1/people").await,
        app.post(&gone, "/v1/clients", client("Leaver")).await,
    ] {
        assert_eq!(res.status, StatusCode::FORBIDDEN);
        assert!(
            res.body["detail"]
                .as_str()
                .unwrap_or("")
                .contains("deactivated"),
            "{}",
            res.body
        );
    }
    assert_eq!(clients().await, Some(1));
}

#[tokio::test]
async fn ids_that_could_not_be_keys_are_refused() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let long = "a".repeat(65);
    for path in [
        "/v1/clients/a%23b".to_owned(),
        format!("/v1/clients/{long}"),
        format!("/v1/projects/{}/tasks/x%23y", a.project),
    ] {
        assert_eq!(
            app.get(&a.admin, &path).await.status,
            StatusCode::NOT_FOUND,
            "{path}"
        );
    }
    let res = app
        .post(&a.admin, "/v1/projects", json!({"client_id": a.client, "name": "P", "billing_model": "retainer", "team": ["bad#id", long]}))
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.fields(), ["team[0]", "team[1]"]);
    let res = app
        .post(
            &a.admin,
            "/v1/projects",
            json!({"client_id": "x#y", "name": "P", "billing_model": "retainer"}),
        )
        .await;
    assert_eq!(res.fields(), ["client_id"]);
    let res = app.get(&a.admin, "/v1/projects?client_id=x%23y").await;
    assert_eq!(res.fields(), ["query.client_id"]);
    let res = app
        .post(
            &a.admin,
            &format!("/v1/intake-requests/{}/accept", a.request),
            json!({"project": {"billing_model": "retainer"}, "handoff": {"contact_ids": ["#"]}}),
        )
        .await;
    assert_eq!(res.fields(), ["handoff.contact_ids[0]"]);
}

#[tokio::test]
async fn amounts_must_fit_the_clients_currency() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let res = app
        .post(
            &a.admin,
            &format!("/v1/projects/{}/milestones", a.project),
            json!({"name": "M", "amount": "100.005"}),
        )
        .await;
    assert_eq!(
        (res.status, res.fields()),
        (StatusCode::BAD_REQUEST, vec!["amount".to_owned()])
    );
    let res = app
        .post(
            &a.admin,
            &format!("/v1/projects/{}/milestones", a.project),
            json!({"name": "M", "amount": "1000000000001"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let yen = app
        .create(
            &a.admin,
            "/v1/clients",
            json!({"name": "Tokyo", "currency": "JPY"}),
        )
        .await;
    let res = app
        .post(&a.admin, "/v1/projects", json!({"client_id": yen, "name": "P", "billing_model": "fixed_fee", "fixed_fee": "1000.5"}))
        .await;
    assert_eq!(res.fields(), ["fixed_fee"]);
    let ok = app.post(&a.admin, "/v1/projects", json!({"client_id": yen, "name": "P", "billing_model": "fixed_fee", "fixed_fee": "1000"})).await;
    assert_eq!(ok.status, StatusCode::CREATED, "{}", ok.body);
    let res = app
        .post(
            &a.admin,
            "/v1/intake-requests",
            json!({"client_id": a.client, "title": "T", "budget": "10.001"}),
        )
        .await;
    assert_eq!(res.fields(), ["budget"]);
    let res = app
        .post(&a.admin, "/v1/clients", json!({"name": "N", "currency": "EUR", "invoice_preferences": {"notes": "x".repeat(2001)}}))
        .await;
    assert_eq!(res.fields(), ["invoice_preferences.notes"]);
}

#[tokio::test]
async fn rate_cards_cannot_name_the_same_person_twice_and_stay_hidden_from_members() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let p = format!("/v1/projects/{}", a.project);
    let res = app
        .patch(&a.admin, &p, json!({"rate_card": {"by_person": [{"person_id": a.member_id, "rate": "90"}, {"person_id": a.member_id, "rate": "95"}]}}))
        .await;
    assert_eq!(res.fields(), ["rate_card.by_person[1]"]);
    let ok = app.patch(&a.admin, &p, json!({"rate_card": {"default_rate": "120", "by_person": [{"person_id": a.member_id, "rate": "90"}]}})).await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(
        app.get(&a.admin, &p).await.body["rate_card"]["default_rate"],
        "120"
    );
    let seen = app.get(&a.member, &p).await;
    assert_eq!(seen.status, StatusCode::OK);
    // Not an empty card (which would read as "no rates"): no card at all.
    assert_eq!(seen.body.get("rate_card"), None, "{}", seen.body);
    let listed = app.get(&a.client_user, "/v1/projects").await;
    assert_eq!(listed.body["items"][0].get("rate_card"), None);
}

#[tokio::test]
async fn a_stale_if_match_is_not_replayed_to_the_corrected_retry() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let path = format!("/v1/intake-requests/{}/accept", a.request);
    let body =
        serde_json::to_vec(&json!({"project": {"billing_model": "retainer"}})).unwrap_or_default();
    let stale = app
        .raw(
            Some(&a.admin),
            Method::POST,
            &path,
            Some(body.clone()),
            &[("idempotency-key", "acc-1"), ("if-match", "\"7\"")],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let fresh = app
        .raw(
            Some(&a.admin),
            Method::POST,
            &path,
            Some(body),
            &[("idempotency-key", "acc-1"), ("if-match", "\"1\"")],
        )
        .await;
    assert_eq!(fresh.status, StatusCode::CREATED, "{}", fresh.body);
}

#[tokio::test]
async fn an_acceptance_audits_every_record_it_creates() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let res = app
        .post(&a.admin, &format!("/v1/intake-requests/{}/accept", a.request), json!({
            "project": {"billing_model": "retainer"},
            "milestones": [{"name": "One", "amount": "10.00"}, {"name": "Two", "amount": "20.00"}]}))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let project = res.body["project"]["id"]
        .as_str()
        .unwrap_or_default()
        .to_owned();
    let milestones = app
        .get(&a.admin, &format!("/v1/projects/{project}/milestones"))
        .await;
    for m in milestones.body["items"].as_array().into_iter().flatten() {
        let id = m["id"].as_str().unwrap_or_default();
        let q = Query::new(Index::Gsi1, keys::audit_entity("acme", "milestone", id))
            .sk(SkCondition::BeginsWith(keys::audit_prefix()));
        let entries = app.table.query(&q).await.expect("audit").items;
        assert_eq!(entries.len(), 1, "milestone {id}");
        let at = entries[0]["at"].as_str().unwrap_or_default();
        assert_eq!(
            at.len(),
            "2026-11-22T00:00:00.000000000Z".len(),
            "fixed-precision time sorts as text: {at}"
        );
    }
    let q = Query::new(
        Index::Gsi1,
        keys::audit_entity("acme", "intake_request", &a.request),
    )
    .sk(SkCondition::BeginsWith(keys::audit_prefix()));
    let actions: Vec<String> = app
        .table
        .query(&q)
        .await
        .expect("audit")
        .items
        .iter()
        .filter_map(|e| e["action"].as_str().map(str::to_owned))
        .collect();
    assert_eq!(actions, ["create", "accept"]);
}

#[tokio::test]
async fn child_lists_filter_and_amounts_carry_their_currency() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let c = format!("/v1/clients/{}/contacts", a.client);
    app.create(&a.admin, &c, json!({"name": "AP", "billing": true}))
        .await;
    let billing = app.get(&a.admin, &format!("{c}?billing=true")).await;
    assert_eq!(billing.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(billing.body["items"][0]["name"], "AP");

    let t = format!("/v1/projects/{}/tasks", a.project);
    let extra = app
        .create(&a.admin, &t, json!({"name": "Internal", "billable": false}))
        .await;
    app.patch(&a.admin, &format!("{t}/{extra}"), json!({"archived": true}))
        .await;
    let live = app.get(&a.admin, &format!("{t}?archived=false")).await;
    assert_eq!(live.body["items"].as_array().map(Vec::len), Some(1));
    let unbillable = app.get(&a.admin, &format!("{t}?billable=false")).await;
    assert_eq!(unbillable.body["items"][0]["id"], extra.as_str());

    let m = format!("/v1/projects/{}/milestones", a.project);
    app.patch(
        &a.admin,
        &format!("{m}/{}", a.milestone),
        json!({"status": "reached"}),
    )
    .await;
    app.create(&a.admin, &m, json!({"name": "Later", "amount": "5.00"}))
        .await;
    let reached = app.get(&a.admin, &format!("{m}?status=reached")).await;
    assert_eq!(reached.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(reached.body["items"][0]["currency"], "EUR");
    assert_eq!(
        app.get(&a.admin, &format!("/v1/projects/{}", a.project))
            .await
            .body["currency"],
        "EUR"
    );
    assert_eq!(
        app.get(&a.admin, &format!("/v1/intake-requests/{}", a.request))
            .await
            .body["currency"],
        "EUR"
    );
    assert_eq!(
        app.get(&a.admin, &format!("{m}?status=paid")).await.status,
        StatusCode::BAD_REQUEST
    );
}

/// serde would read a struct from an array of its fields in order, so
/// `"budget": [null, null]` used to clear a budget; an array is refused where
/// an object is expected, on the field, and the project keeps its budget.
#[tokio::test]
async fn an_array_where_an_object_is_expected_is_refused_on_the_field() {
    let app = App::new();
    let a = agency(&app, "arrays").await;
    let path = format!("/v1/projects/{}", a.project);
    let before = app.get(&a.admin, &path).await.expect(200);
    let res = app
        .patch(&a.admin, &path, json!({"budget": [null, null]}))
        .await
        .expect(400);
    assert_eq!(res.fields(), ["budget"]);
    let res = app
        .patch(
            &a.admin,
            &path,
            json!({"rate_card": {"by_person": [["x", "1"]]}}),
        )
        .await
        .expect(400);
    assert_eq!(res.fields(), ["rate_card.by_person[0]"]);
    let after = app.get(&a.admin, &path).await.expect(200);
    assert_eq!(after.body["budget"], before.body["budget"]);
    assert_eq!(after.body["version"], before.body["version"]);
}
