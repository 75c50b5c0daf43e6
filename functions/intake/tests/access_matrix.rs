//! Every endpoint, against the rules a user would notice: another tenant's ids
//! are 404, a role below the one needed is 403, and nobody unauthenticated gets in.

mod support;

use axum::http::{Method, StatusCode};
use serde_json::{json, Value};
use support::*;

struct Endpoint {
    method: Method,
    path: String,
    body: Option<Value>,
}

fn ep(method: Method, path: String, body: Option<Value>) -> Endpoint {
    Endpoint { method, path, body }
}

/// Every route that names an id in the path, with a body that would be valid.
fn id_routes(a: &Agency) -> Vec<Endpoint> {
    let (c, k, p, t, m, r) = (
        &a.client,
        &a.contact,
        &a.project,
        &a.task,
        &a.milestone,
        &a.request,
    );
    vec![
        ep(Method::GET, format!("/v1/people/{}", a.member_id), None),
        ep(
            Method::PATCH,
            format!("/v1/people/{}", a.member_id),
            Some(json!({"name": "X"})),
        ),
        ep(Method::GET, format!("/v1/clients/{c}"), None),
        ep(
            Method::PATCH,
            format!("/v1/clients/{c}"),
            Some(json!({"name": "X"})),
        ),
        ep(Method::GET, format!("/v1/clients/{c}/contacts"), None),
        ep(
            Method::POST,
            format!("/v1/clients/{c}/contacts"),
            Some(json!({"name": "X"})),
        ),
        ep(Method::GET, format!("/v1/clients/{c}/contacts/{k}"), None),
        ep(
            Method::PATCH,
            format!("/v1/clients/{c}/contacts/{k}"),
            Some(json!({"name": "X"})),
        ),
        ep(Method::GET, format!("/v1/projects/{p}"), None),
        ep(
            Method::PATCH,
            format!("/v1/projects/{p}"),
            Some(json!({"name": "X"})),
        ),
        ep(Method::GET, format!("/v1/projects/{p}/tasks"), None),
        ep(
            Method::POST,
            format!("/v1/projects/{p}/tasks"),
            Some(json!({"name": "X"})),
        ),
        ep(Method::GET, format!("/v1/projects/{p}/tasks/{t}"), None),
        ep(
            Method::PATCH,
            format!("/v1/projects/{p}/tasks/{t}"),
            Some(json!({"name": "X"})),
        ),
        ep(Method::GET, format!("/v1/projects/{p}/milestones"), None),
        ep(
            Method::POST,
            format!("/v1/projects/{p}/milestones"),
            Some(json!({"name": "X"})),
        ),
        ep(
            Method::GET,
            format!("/v1/projects/{p}/milestones/{m}"),
            None,
        ),
        ep(
            Method::PATCH,
            format!("/v1/projects/{p}/milestones/{m}"),
            Some(json!({"name": "X"})),
        ),
        ep(Method::GET, format!("/v1/intake-requests/{r}"), None),
        ep(
            Method::PATCH,
            format!("/v1/intake-requests/{r}"),
            Some(json!({"title": "X"})),
        ),
        ep(
            Method::POST,
            format!("/v1/intake-requests/{r}/accept"),
            Some(json!({"project": {"billing_model": "time_and_materials"}})),
        ),
        ep(
            Method::POST,
            format!("/v1/intake-requests/{r}/decline"),
            Some(json!({"reason": "No"})),
        ),
    ]
}

#[tokio::test]
async fn another_tenants_ids_are_not_found_on_every_endpoint() {
    let app = App::new();
    let acme = agency(&app, "acme").await;
    let globex_admin = who("globex", "boss", "admin");
    // The other tenant has data of its own, so "empty tenant" is not why it sees nothing.
    agency(&app, "globex").await;
    for e in id_routes(&acme) {
        let res = app
            .call(&globex_admin, e.method.clone(), &e.path, e.body.clone())
            .await;
        assert_eq!(
            res.status,
            StatusCode::NOT_FOUND,
            "{} {} as another tenant's admin: {}",
            e.method,
            e.path,
            res.body
        );
    }
    // ...and nothing changed for the owner.
    let client = app
        .get(&acme.admin, &format!("/v1/clients/{}", acme.client))
        .await;
    assert_eq!(client.body["name"], "Northwind");
    let request = app
        .get(
            &acme.admin,
            &format!("/v1/intake-requests/{}", acme.request),
        )
        .await;
    assert_eq!(request.body["status"], "open");
    // Lists never show another tenant's records.
    for path in [
        "/v1/clients",
        "/v1/projects",
        "/v1/people",
        "/v1/intake-requests",
    ] {
        let mine = app.get(&acme.admin, path).await.body["items"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        let theirs = app.get(&globex_admin, path).await.body["items"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for item in &mine {
            assert!(
                !theirs.iter().any(|t| t["id"] == item["id"]),
                "{path} leaked {}",
                item["id"]
            );
        }
    }
}

#[tokio::test]
async fn a_member_on_the_project_may_read_it_but_not_change_anything() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    for e in id_routes(&a) {
        let res = app
            .call(&a.member, e.method.clone(), &e.path, e.body.clone())
            .await;
        let is_intake = e.path.contains("intake-requests");
        let is_other_person = e.path.starts_with("/v1/people/") && e.method == Method::PATCH;
        let expected = match (&e.method, is_intake) {
            (_, true) => StatusCode::FORBIDDEN,
            (&Method::GET, false) => StatusCode::OK,
            _ if is_other_person => StatusCode::FORBIDDEN,
            _ => StatusCode::FORBIDDEN,
        };
        assert_eq!(
            res.status, expected,
            "{} {} as member: {}",
            e.method, e.path, res.body
        );
    }
    for (path, body) in [
        (
            "/v1/people",
            json!({"name": "X", "email": "x@a.io", "role": "member", "time_zone": "UTC"}),
        ),
        ("/v1/clients", json!({"name": "X", "currency": "EUR"})),
        (
            "/v1/projects",
            json!({"client_id": a.client, "name": "X", "billing_model": "fixed_fee", "fixed_fee": "10.00"}),
        ),
        (
            "/v1/intake-requests",
            json!({"client_id": a.client, "title": "X"}),
        ),
    ] {
        let res = app.post(&a.member, path, body).await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "POST {path} as member: {}",
            res.body
        );
    }
}

#[tokio::test]
async fn finance_reads_everything_but_sets_up_nothing() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let finance = who("acme", "fin", "finance");
    for e in id_routes(&a) {
        let res = app
            .call(&finance, e.method.clone(), &e.path, e.body.clone())
            .await;
        let expected = if e.method == Method::GET {
            StatusCode::OK
        } else {
            StatusCode::FORBIDDEN
        };
        assert_eq!(
            res.status, expected,
            "{} {} as finance: {}",
            e.method, e.path, res.body
        );
    }
}

#[tokio::test]
async fn a_member_not_on_the_project_sees_neither_it_nor_its_client() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    for path in [
        format!("/v1/projects/{}", a.project),
        format!("/v1/projects/{}/tasks", a.project),
        format!("/v1/clients/{}", a.client),
    ] {
        let res = app.get(&a.outsider, &path).await;
        assert_eq!(res.status, StatusCode::NOT_FOUND, "{path}: {}", res.body);
    }
    assert_eq!(
        app.get(&a.outsider, "/v1/projects").await.body["items"],
        json!([])
    );
    let mine = app.get(&a.member, "/v1/projects").await;
    assert_eq!(mine.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(mine.body["items"][0]["id"], a.project.as_str());
    // Members see only themselves in the directory.
    let people = app.get(&a.member, "/v1/people").await;
    assert_eq!(people.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(
        app.get(&a.member, &format!("/v1/people/{}", a.outsider.person))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
}

#[tokio::test]
async fn a_client_user_sees_only_their_own_client() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let cu = &a.client_user;
    assert_eq!(
        app.get(cu, &format!("/v1/clients/{}", a.client))
            .await
            .status,
        StatusCode::OK
    );
    assert_eq!(
        app.get(cu, &format!("/v1/clients/{}", a.other_client))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    assert_eq!(
        app.get(cu, &format!("/v1/projects/{}", a.project))
            .await
            .status,
        StatusCode::OK
    );
    let other_project = app
        .create(
            &a.admin,
            "/v1/projects",
            json!({"client_id": a.other_client, "name": "Other", "billing_model": "retainer"}),
        )
        .await;
    assert_eq!(
        app.get(cu, &format!("/v1/projects/{other_project}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let listed = app.get(cu, "/v1/projects").await.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(listed.len(), 1);
    let clients = app.get(cu, "/v1/clients").await.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert_eq!(clients.len(), 1);
    assert_eq!(
        app.get(cu, "/v1/people").await.status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.patch(
            cu,
            &format!("/v1/clients/{}", a.client),
            json!({"name": "Mine now"})
        )
        .await
        .status,
        StatusCode::FORBIDDEN
    );

    // A client asks for work for itself, never for another client.
    let own = app
        .post(cu, "/v1/intake-requests", json!({"title": "New site"}))
        .await;
    assert_eq!(own.status, StatusCode::CREATED, "{}", own.body);
    assert_eq!(own.body["client_id"], a.client.as_str());
    let other = app
        .post(
            cu,
            "/v1/intake-requests",
            json!({"title": "Sneaky", "client_id": a.other_client}),
        )
        .await;
    assert_eq!(other.status, StatusCode::FORBIDDEN);
    let theirs = app
        .create(
            &a.admin,
            "/v1/intake-requests",
            json!({"client_id": a.other_client, "title": "Theirs"}),
        )
        .await;
    assert_eq!(
        app.get(cu, &format!("/v1/intake-requests/{theirs}"))
            .await
            .status,
        StatusCode::NOT_FOUND
    );
    let listed = app.get(cu, "/v1/intake-requests").await.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        listed.iter().all(|r| r["client_id"] == a.client.as_str()) && listed.len() == 2,
        "{listed:?}"
    );
    // ...and cannot accept its own request.
    let accept = app
        .post(
            cu,
            &format!("/v1/intake-requests/{}/accept", own.id()),
            json!({"project": {"billing_model": "retainer"}}),
        )
        .await;
    assert_eq!(accept.status, StatusCode::FORBIDDEN);
}

#[tokio::test]
async fn managers_cannot_hand_out_admin_or_finance() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let body = |role: &str, email: &str| json!({"name": "X", "email": email, "role": role, "time_zone": "UTC"});
    assert_eq!(
        app.post(&a.manager, "/v1/people", body("admin", "x1@a.io"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&a.manager, "/v1/people", body("finance", "x2@a.io"))
            .await
            .status,
        StatusCode::FORBIDDEN
    );
    assert_eq!(
        app.post(&a.manager, "/v1/people", body("member", "x3@a.io"))
            .await
            .status,
        StatusCode::CREATED
    );
    let res = app
        .patch(
            &a.manager,
            &format!("/v1/people/{}", a.member_id),
            json!({"role": "admin"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::FORBIDDEN);
    assert_eq!(
        app.get(&a.admin, &format!("/v1/people/{}", a.member_id))
            .await
            .body["role"],
        "member"
    );
}

#[tokio::test]
async fn requests_without_verified_claims_are_401() {
    let app = App::new();
    for path in [
        "/v1/clients",
        "/v1/projects",
        "/v1/people",
        "/v1/intake-requests",
    ] {
        let res = app.raw(None, Method::GET, path, None, &[]).await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{path}");
        let res = app
            .raw(
                None,
                Method::POST,
                path,
                Some(b"{}".to_vec()),
                &[("idempotency-key", "k")],
            )
            .await;
        assert_eq!(res.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    // Claims that name an unsafe tenant are no better than none.
    let bad = who("acme#CLIENTS", "boss", "admin");
    assert_eq!(
        app.get(&bad, "/v1/clients").await.status,
        StatusCode::UNAUTHORIZED
    );
}

#[tokio::test]
async fn another_tenants_ids_in_a_body_find_nothing_and_write_nothing() {
    let app = App::new();
    let acme = agency(&app, "acme").await;
    let globex = who("globex", "boss", "admin");
    let cases = [
        (
            "/v1/projects",
            json!({"client_id": acme.client, "name": "X", "billing_model": "retainer"}),
        ),
        (
            "/v1/intake-requests",
            json!({"client_id": acme.client, "title": "X"}),
        ),
        (
            "/v1/people",
            json!({"name": "X", "email": "x@g.io", "role": "client", "client_id": acme.client, "time_zone": "UTC"}),
        ),
    ];
    for (path, body) in cases {
        let res = app.post(&globex, path, body).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{path}: {}", res.body);
        assert_eq!(res.body["errors"][0]["field"], "client_id", "{path}");
        assert_eq!(res.body["errors"][0]["message"], "no such client", "{path}");
    }
    // Acme's people are not globex's staff, so they cannot join globex's projects.
    let own = app
        .create(
            &globex,
            "/v1/clients",
            json!({"name": "G", "currency": "EUR"}),
        )
        .await;
    let res = app
        .post(&globex, "/v1/projects", json!({"client_id": own, "name": "X", "billing_model": "retainer", "team": [acme.member_id]}))
        .await;
    assert_eq!(res.body["errors"][0]["field"], "team[0]", "{}", res.body);
    for path in ["/v1/projects", "/v1/intake-requests"] {
        assert_eq!(
            app.get(&globex, path).await.body["items"],
            json!([]),
            "{path}"
        );
    }
    let people = app.get(&globex, "/v1/people").await.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(people.is_empty(), "{people:?}");
    assert_eq!(
        app.get(&acme.admin, "/v1/intake-requests").await.body["items"]
            .as_array()
            .map(Vec::len),
        Some(1)
    );
}

#[tokio::test]
async fn a_contractor_on_the_project_may_read_it_but_not_change_anything() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let contractor_id = app
        .create(
            &a.admin,
            "/v1/people",
            json!({"name": "Tom", "email": "tom@x.io", "role": "contractor", "time_zone": "UTC"}),
        )
        .await;
    let team = json!({"team": [a.member_id, contractor_id]});
    assert_eq!(
        app.patch(&a.admin, &format!("/v1/projects/{}", a.project), team)
            .await
            .status,
        StatusCode::OK
    );
    let contractor = who("acme", &contractor_id, "contractor");
    for worker in [&a.member, &contractor] {
        assert_eq!(
            app.get(worker, "/v1/intake-requests").await.status,
            StatusCode::FORBIDDEN
        );
    }
    for e in id_routes(&a) {
        let res = app
            .call(&contractor, e.method.clone(), &e.path, e.body.clone())
            .await;
        // The one person route names the member: someone else, so not found.
        let someone_else = e.path.starts_with("/v1/people/");
        let expected = match (&e.method, e.path.contains("intake-requests")) {
            (_, true) => StatusCode::FORBIDDEN,
            _ if someone_else => StatusCode::NOT_FOUND,
            (&Method::GET, false) => StatusCode::OK,
            _ => StatusCode::FORBIDDEN,
        };
        assert_eq!(
            res.status, expected,
            "{} {} as contractor: {}",
            e.method, e.path, res.body
        );
    }
}

#[tokio::test]
async fn finance_cannot_create_anything_intake_owns() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let finance = who("acme", "fin", "finance");
    for (path, body) in [
        (
            "/v1/people",
            json!({"name": "X", "email": "x@a.io", "role": "member", "time_zone": "UTC"}),
        ),
        ("/v1/clients", json!({"name": "X", "currency": "EUR"})),
        (
            "/v1/projects",
            json!({"client_id": a.client, "name": "X", "billing_model": "retainer"}),
        ),
        (
            "/v1/intake-requests",
            json!({"client_id": a.client, "title": "X"}),
        ),
    ] {
        let res = app.post(&finance, path, body).await;
        assert_eq!(
            res.status,
            StatusCode::FORBIDDEN,
            "POST {path} as finance: {}",
            res.body
        );
    }
}

/// Keys that carry rates, costs or money values in intake's responses.
const MONEY_KEYS: &[&str] = &[
    "default_rate",
    "rate_card",
    "rate",
    "fixed_fee",
    "fees",
    "amount",
    "cost_rate",
    "default_bill_rate",
];

/// Where in `v` a money value appears, as JSON paths. An intake request's
/// `budget` is money (a string); a project's `budget` is an object whose
/// `fees` are money and whose hours are not.
fn money_in(v: &Value, at: &str, found: &mut Vec<String>) {
    match v {
        Value::Object(m) => {
            for (k, v) in m {
                let path = format!("{at}.{k}");
                let is_money = MONEY_KEYS.contains(&k.as_str())
                    || (k == "budget" && (v.is_string() || v.is_number()));
                if is_money && !v.is_null() {
                    found.push(path.clone());
                }
                money_in(v, &path, found);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                money_in(v, &format!("{at}[{i}]"), found);
            }
        }
        _ => {}
    }
}

/// Every intake read path (gets and lists) of an agency where money is set on
/// everything that can carry it.
async fn money_everywhere(app: &App, a: &Agency, contractor_id: &str) -> Vec<String> {
    let (c, k, p, t, m) = (&a.client, &a.contact, &a.project, &a.task, &a.milestone);
    app.patch(
        &a.admin,
        &format!("/v1/clients/{c}"),
        json!({"default_rate": "95.00"}),
    )
    .await
    .expect(200);
    app.patch(&a.admin, &format!("/v1/projects/{p}"), json!({
        "team": [a.member_id, contractor_id],
        "rate_card": {"default_rate": "120", "by_person": [{"person_id": a.member_id, "rate": "90"}],
                      "by_role": [{"job_role": "designer", "rate": "110"}], "by_task": [{"task_id": t, "rate": "130"}]},
        "budget": {"hours": "100", "fees": "12000.00", "alert_thresholds": [80]}}))
        .await
        .expect(200);
    let fixed = app
        .create(
            &a.admin,
            "/v1/projects",
            json!({"client_id": c, "name": "Fixed", "billing_model": "fixed_fee",
            "fixed_fee": "5000.00", "team": [a.member_id, contractor_id]}),
        )
        .await;
    let own_request = app
        .create(
            &a.client_user,
            "/v1/intake-requests",
            json!({"title": "Mine", "budget": "7000"}),
        )
        .await;
    vec![
        format!("/v1/people/{}", a.member_id),
        format!("/v1/people/{contractor_id}"),
        "/v1/people".into(),
        "/v1/clients".into(),
        format!("/v1/clients/{c}"),
        format!("/v1/clients/{c}/contacts"),
        format!("/v1/clients/{c}/contacts/{k}"),
        "/v1/projects".into(),
        format!("/v1/projects/{p}"),
        format!("/v1/projects/{fixed}"),
        format!("/v1/projects/{p}/tasks"),
        format!("/v1/projects/{p}/tasks/{t}"),
        format!("/v1/projects/{p}/milestones"),
        format!("/v1/projects/{p}/milestones/{m}"),
        "/v1/intake-requests".into(),
        format!("/v1/intake-requests/{}", a.request),
        format!("/v1/intake-requests/{own_request}"),
    ]
}

#[tokio::test]
async fn members_contractors_and_client_users_never_see_a_rate_cost_or_money_value() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let contractor_id = app
        .create(
            &a.admin,
            "/v1/people",
            json!({"name": "Tom", "email": "tom@x.io", "role": "contractor",
            "time_zone": "UTC", "cost_rate": {"amount": "40.00", "currency": "EUR"},
            "default_bill_rate": {"amount": "80.00", "currency": "EUR"}}),
        )
        .await;
    let contractor = who("acme", &contractor_id, "contractor");
    let paths = money_everywhere(&app, &a, &contractor_id).await;

    // The staff who see the books see every kind of figure on these paths...
    let finance = who("acme", "fin", "finance");
    for viewer in [&a.admin, &a.manager, &finance] {
        let mut found = Vec::new();
        for path in &paths {
            money_in(
                &app.get(viewer, path).await.expect(200).body,
                path,
                &mut found,
            );
        }
        for key in MONEY_KEYS.iter().copied().chain(["budget"]) {
            assert!(
                found.iter().any(|f| f.ends_with(&format!(".{key}"))),
                "{} should see {key}: {found:?}",
                viewer.role
            );
        }
    }
    // ...and nobody else sees any, on any read path they may use.
    for viewer in [&a.member, &contractor, &a.client_user] {
        let mut readable = 0;
        for path in &paths {
            let res = app.get(viewer, path).await;
            if res.status != StatusCode::OK {
                continue;
            }
            readable += 1;
            let mut found = Vec::new();
            money_in(&res.body, path, &mut found);
            // The one exception: the client sees the budget it asked with.
            if viewer.role == "client" {
                found.retain(|f| !(f.contains("intake-requests") && f.ends_with(".budget")));
            }
            assert!(
                found.is_empty(),
                "{} sees money on GET {path}: {found:?} in {}",
                viewer.role,
                res.body
            );
        }
        assert!(readable >= 9, "{} read only {readable} paths", viewer.role);
    }
    // The client's own figure comes back to it.
    let own = app
        .get(&a.client_user, "/v1/intake-requests")
        .await
        .expect(200);
    assert!(
        own.body["items"]
            .as_array()
            .into_iter()
            .flatten()
            .any(|r| r["budget"] == "7000"),
        "{}",
        own.body
    );
}

/// `limit` means the same for everyone: members, contractors and client users
/// get one short page of what they may see, yet an out-of-range `limit` is the
/// same 400 naming the field that staff get, and an in-range one still answers.
#[tokio::test]
async fn every_role_has_its_list_limit_checked() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let contractor = who("acme", "tom", "contractor");
    let lists: [(&As, &str); 5] = [
        (&a.member, "/v1/clients"),
        (&contractor, "/v1/clients"),
        (&a.client_user, "/v1/clients"),
        (&a.member, "/v1/people"),
        (&contractor, "/v1/people"),
    ];
    for (caller, path) in lists {
        for limit in ["0", "201"] {
            let res = app.get(caller, &format!("{path}?limit={limit}")).await;
            assert_eq!(
                res.status,
                StatusCode::BAD_REQUEST,
                "{path}?limit={limit}: {}",
                res.body
            );
            assert_eq!(
                res.body["errors"][0]["field"], "query.limit",
                "{}",
                res.body
            );
        }
        for limit in ["1", "200"] {
            let res = app.get(caller, &format!("{path}?limit={limit}")).await;
            assert_eq!(
                res.status,
                StatusCode::OK,
                "{path}?limit={limit}: {}",
                res.body
            );
        }
    }
    let mine = app.get(&a.member, "/v1/clients?limit=1").await;
    assert_eq!(
        mine.body["items"][0]["id"],
        a.client.as_str(),
        "{}",
        mine.body
    );
    // Client users are still refused the directory, whatever the limit.
    let res = app.get(&a.client_user, "/v1/people?limit=0").await;
    assert_eq!(res.status, StatusCode::FORBIDDEN, "{}", res.body);
}
