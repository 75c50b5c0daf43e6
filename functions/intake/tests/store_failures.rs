//! A store that fails is the agency's problem, never the caller's: the answer
//! is a 5xx problem, not "400 no such client", not "404", not an empty list,
//! and nothing is written.

mod support;

use agencyops_store::keys;
use serde_json::json;
use support::*;

#[track_caller]
fn assert_internal(res: &Res, what: &str) {
    assert!(
        res.status.is_server_error(),
        "{what}: {} {}",
        res.status,
        res.body
    );
    assert_eq!(
        res.problem_type(),
        "https://agencyops.dev/problems/internal",
        "{what}"
    );
    assert!(
        !res.body["detail"]
            .as_str()
            .unwrap_or("")
            .contains("simulated"),
        "the cause stays in the log: {what}"
    );
}

#[tokio::test]
async fn a_failed_read_of_the_client_is_not_no_such_client() {
    let (app, store) = App::failing();
    let a = agency(&app, "acme").await;
    let before = app.get(&a.admin, "/v1/people").await.expect(200).body["items"]
        .as_array()
        .map(Vec::len);
    let client_key = keys::client("acme", &a.client);
    let cases = [
        (
            "/v1/people",
            json!({"name": "Joana", "email": "j@nw.io", "role": "client", "client_id": a.client, "time_zone": "UTC"}),
        ),
        (
            "/v1/projects",
            json!({"client_id": a.client, "name": "X", "billing_model": "retainer"}),
        ),
        (
            "/v1/intake-requests",
            json!({"client_id": a.client, "title": "X"}),
        ),
    ];
    for (path, body) in cases {
        store.arm(client_key.clone(), 0);
        let res = app.post(&a.admin, path, body).await;
        assert_internal(&res, path);
    }
    store.arm(client_key.clone(), 0);
    let res = app
        .get(&a.admin, &format!("/v1/clients/{}", a.client))
        .await;
    assert_internal(&res, "GET client");
    store.disarm();
    // Nothing was written by the failed requests.
    let after = app.get(&a.admin, "/v1/people").await.expect(200).body["items"]
        .as_array()
        .map(Vec::len);
    assert_eq!(before, after);
    assert_eq!(
        app.get(&a.admin, "/v1/projects").await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
    // With the store back, the same request goes through.
    app.post(
        &a.admin,
        "/v1/people",
        json!({"name": "Joana", "email": "j@nw.io", "role": "client",
        "client_id": a.client, "time_zone": "UTC"}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn a_failed_read_of_my_own_record_is_not_an_empty_list() {
    let (app, store) = App::failing();
    let a = agency(&app, "acme").await;
    // A member's list is their own record, and reading it also identifies
    // them (the caller's record rides with the request's first read): that
    // one read fails.
    store.arm(keys::person("acme", &a.member_id), 0);
    let res = app.get(&a.member, "/v1/people").await;
    assert_internal(&res, "GET /v1/people as member");
    store.disarm();
    let res = app.get(&a.member, "/v1/people").await.expect(200);
    assert_eq!(res.body["items"][0]["id"], a.member_id.as_str());
}

#[tokio::test]
async fn a_failed_read_while_changing_a_clients_currency_is_not_a_conflict() {
    let (app, store) = App::failing();
    let admin = who("acme", "boss", "admin");
    let client = app
        .create(
            &admin,
            "/v1/clients",
            json!({"name": "N", "currency": "EUR"}),
        )
        .await;
    store.arm(keys::client_project_count("acme", &client), 0);
    let res = app
        .patch(
            &admin,
            &format!("/v1/clients/{client}"),
            json!({"currency": "USD"}),
        )
        .await;
    assert_internal(&res, "PATCH currency");
    store.disarm();
    let res = app
        .get(&admin, &format!("/v1/clients/{client}"))
        .await
        .expect(200);
    assert_eq!(res.body["currency"], "EUR");
}
