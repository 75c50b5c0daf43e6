//! What a user of the intake API notices: bad input is refused whole and
//! explained, retries are safe, concurrent edits are caught, lists page
//! correctly, and accepting a request hands everything over at once.

mod support;

use agencyops_store::{keys, Index, Query, SkCondition};
use axum::http::{Method, StatusCode};
use serde_json::json;
use support::*;

async fn count(app: &App, admin: &As, path: &str) -> usize {
    let mut n = 0;
    let mut next: Option<String> = None;
    loop {
        let url = match &next {
            Some(c) => format!("{path}?limit=200&cursor={c}"),
            None => format!("{path}?limit=200"),
        };
        let res = app.get(admin, &url).await;
        assert_eq!(res.status, StatusCode::OK, "{url}: {}", res.body);
        n += res.body["items"].as_array().map(Vec::len).unwrap_or(0);
        match res.body["next_cursor"].as_str() {
            Some(c) => next = Some(c.to_owned()),
            None => return n,
        }
    }
}

#[tokio::test]
async fn malformed_json_is_a_400_problem_and_writes_nothing() {
    let app = App::new();
    let admin = who("acme", "boss", "admin");
    let res = app
        .raw(
            Some(&admin),
            Method::POST,
            "/v1/clients",
            Some(br#"{"name": "Broken","#.to_vec()),
            &[],
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        res.problem_type(),
        "https://agencyops.dev/problems/malformed-body"
    );
    assert!(res.body["detail"]
        .as_str()
        .unwrap_or("")
        .contains("not valid JSON"));
    let res = app
        .raw(
            Some(&admin),
            Method::POST,
            "/v1/clients",
            Some(b"name=x".to_vec()),
            &[("content-type", "text/plain")],
        )
        .await;
    assert_eq!(res.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(count(&app, &admin, "/v1/clients").await, 0);
}

#[tokio::test]
async fn unknown_routes_and_methods_are_problems_too() {
    let app = App::new();
    let admin = who("acme", "boss", "admin");
    let res = app.get(&admin, "/v1/nothing-here").await;
    assert_eq!(res.status, StatusCode::NOT_FOUND);
    assert_eq!(
        res.problem_type(),
        "https://agencyops.dev/problems/not-found"
    );
    let res = app
        .call(&admin, Method::PUT, "/v1/clients", Some(json!({})))
        .await;
    assert_eq!(res.status, StatusCode::METHOD_NOT_ALLOWED);
    assert_eq!(
        res.problem_type(),
        "https://agencyops.dev/problems/method-not-allowed"
    );
    let huge = vec![b' '; 300 * 1024];
    let res = app
        .raw(Some(&admin), Method::POST, "/v1/clients", Some(huge), &[])
        .await;
    assert_eq!(res.status, StatusCode::PAYLOAD_TOO_LARGE);
}

#[tokio::test]
async fn invalid_fields_are_all_named_and_nothing_is_written() {
    let app = App::new();
    let admin = who("acme", "boss", "admin");
    let res = app
        .post(
            &admin,
            "/v1/clients",
            json!({"name": " ", "currency": "EUR", "payment_terms_days": 900,
            "billing_email": "nope", "tax_rates": [{"name": "VAT", "percent": "120"}],
            "rounding": {"increment_minutes": 7, "mode": "up", "scope": "per_entry"}}),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    assert_eq!(
        res.problem_type(),
        "https://agencyops.dev/problems/validation"
    );
    let fields = res.fields();
    for f in [
        "name",
        "payment_terms_days",
        "billing_email",
        "tax_rates[0].percent",
        "rounding.increment_minutes",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} missing from {fields:?}");
    }
    // Unknown fields, unknown currencies and money as a JSON number are refused by name.
    for (body, field) in [
        (
            json!({"name": "A", "currency": "EUR", "colour": "red"}),
            None,
        ),
        (json!({"name": "A", "currency": "EURO"}), Some("currency")),
        (
            json!({"name": "A", "currency": "EUR", "default_rate": 99.5}),
            Some("default_rate"),
        ),
    ] {
        let res = app.post(&admin, "/v1/clients", body.clone()).await;
        assert_eq!(res.status, StatusCode::BAD_REQUEST, "{body}: {}", res.body);
        if let Some(f) = field {
            assert_eq!(res.body["errors"][0]["field"], f, "{}", res.body);
        } else {
            assert!(
                res.body["detail"].as_str().unwrap_or("").contains("colour"),
                "{}",
                res.body
            );
        }
    }
    // A bad query parameter is named too.
    let res = app.get(&admin, "/v1/clients?limit=lots").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.body["errors"][0]["field"], "query.limit");
    let res = app.get(&admin, "/v1/clients?limit=0").await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(count(&app, &admin, "/v1/clients").await, 0);
}

#[tokio::test]
async fn the_same_idempotency_key_twice_creates_one_client() {
    let app = App::new();
    let admin = who("acme", "boss", "admin");
    let body = br#"{"name": "Northwind", "currency": "EUR"}"#.to_vec();
    let first = app
        .post_keyed(&admin, "/v1/clients", body.clone(), "abc-1")
        .await;
    let second = app
        .post_keyed(&admin, "/v1/clients", body.clone(), "abc-1")
        .await;
    assert_eq!(first.status, StatusCode::CREATED);
    assert_eq!(second.status, StatusCode::CREATED);
    assert_eq!(first.body["id"], second.body["id"]);
    assert_eq!(
        second
            .headers
            .get("idempotent-replayed")
            .and_then(|v| v.to_str().ok()),
        Some("true")
    );
    assert_eq!(
        first.headers.get("location"),
        second.headers.get("location")
    );
    assert_eq!(count(&app, &admin, "/v1/clients").await, 1);

    // Same key, different request: refused, nothing written.
    let other = app
        .post_keyed(
            &admin,
            "/v1/clients",
            br#"{"name": "Globex", "currency": "EUR"}"#.to_vec(),
            "abc-1",
        )
        .await;
    assert_eq!(other.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        other.problem_type(),
        "https://agencyops.dev/problems/idempotency-key-reuse"
    );
    assert_eq!(count(&app, &admin, "/v1/clients").await, 1);

    // Keys belong to a tenant: the same key elsewhere is a new request.
    let globex = who("globex", "boss", "admin");
    let theirs = app.post_keyed(&globex, "/v1/clients", body, "abc-1").await;
    assert_eq!(theirs.status, StatusCode::CREATED);
    assert_ne!(theirs.body["id"], first.body["id"]);

    // A rejected request is replayed as rejected, without writing.
    let bad = br#"{"name": "", "currency": "EUR"}"#.to_vec();
    let r1 = app
        .post_keyed(&admin, "/v1/clients", bad.clone(), "bad-1")
        .await;
    let r2 = app.post_keyed(&admin, "/v1/clients", bad, "bad-1").await;
    assert_eq!(
        (r1.status, r2.status),
        (StatusCode::BAD_REQUEST, StatusCode::BAD_REQUEST)
    );
    assert_eq!(count(&app, &admin, "/v1/clients").await, 1);
}

#[tokio::test]
async fn a_stale_if_match_is_412_and_changes_nothing() {
    let app = App::new();
    let admin = who("acme", "boss", "admin");
    let created = app
        .post(
            &admin,
            "/v1/clients",
            json!({"name": "Northwind", "currency": "EUR"}),
        )
        .await;
    let id = created.id();
    let etag = created
        .headers
        .get("etag")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_owned();
    assert_eq!(etag, "\"1\"");
    let path = format!("/v1/clients/{id}");
    let ok = app
        .raw(
            Some(&admin),
            Method::PATCH,
            &path,
            Some(br#"{"payment_terms_days": 14}"#.to_vec()),
            &[("if-match", etag.as_str())],
        )
        .await;
    assert_eq!(ok.status, StatusCode::OK);
    assert_eq!(
        ok.headers.get("etag").and_then(|v| v.to_str().ok()),
        Some("\"2\"")
    );
    let stale = app
        .raw(
            Some(&admin),
            Method::PATCH,
            &path,
            Some(br#"{"payment_terms_days": 60}"#.to_vec()),
            &[("if-match", etag.as_str())],
        )
        .await;
    assert_eq!(stale.status, StatusCode::PRECONDITION_FAILED);
    let now = app.get(&admin, &path).await;
    assert_eq!(now.body["payment_terms_days"], 14);
    assert_eq!(now.body["version"], 2);
}

#[tokio::test]
async fn lists_page_with_cursors_that_only_work_for_their_tenant_and_list() {
    let app = App::new();
    let admin = who("acme", "boss", "admin");
    let mut ids = Vec::new();
    for i in 0..7 {
        ids.push(
            app.create(
                &admin,
                "/v1/clients",
                json!({"name": format!("Client {i}"), "currency": "EUR"}),
            )
            .await,
        );
    }
    let mut seen = Vec::new();
    let mut url = "/v1/clients?limit=3".to_owned();
    let mut pages = 0;
    let mut first_cursor = None;
    loop {
        let res = app.get(&admin, &url).await;
        pages += 1;
        for c in res.body["items"].as_array().into_iter().flatten() {
            seen.push(c["id"].as_str().unwrap_or("").to_owned());
        }
        match res.body["next_cursor"].as_str() {
            Some(c) => {
                first_cursor.get_or_insert(c.to_owned());
                url = format!("/v1/clients?limit=3&cursor={c}");
            }
            None => break,
        }
    }
    assert_eq!(pages, 3);
    seen.sort();
    ids.sort();
    assert_eq!(seen, ids);

    let cursor = first_cursor.unwrap_or_default();
    let globex = who("globex", "boss", "admin");
    let replay = app
        .get(&globex, &format!("/v1/clients?cursor={cursor}"))
        .await;
    assert_eq!(replay.status, StatusCode::BAD_REQUEST);
    assert_eq!(replay.body["errors"][0]["field"], "query.cursor");
    let other_list = app
        .get(&admin, &format!("/v1/projects?cursor={cursor}"))
        .await;
    assert_eq!(other_list.status, StatusCode::BAD_REQUEST);
    let tampered = app
        .get(&admin, &format!("/v1/clients?cursor={}x", cursor))
        .await;
    assert_eq!(tampered.status, StatusCode::BAD_REQUEST);

    // Filters apply across pages.
    app.patch(
        &admin,
        &format!("/v1/clients/{}", ids[0]),
        json!({"archived": true}),
    )
    .await;
    let archived = app.get(&admin, "/v1/clients?archived=true").await;
    assert_eq!(archived.body["items"].as_array().map(Vec::len), Some(1));
    let named = app.get(&admin, "/v1/clients?name=client%206").await;
    assert_eq!(named.body["items"][0]["name"], "Client 6");
}

#[tokio::test]
async fn accepting_a_request_creates_the_project_with_its_handoff_in_one_write() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let path = format!("/v1/intake-requests/{}/accept", a.request);
    let res = app
        .post(&a.manager, &path, json!({
            "project": {"billing_model": "fixed_fee", "fixed_fee": "18000.00", "team": [a.member_id],
                        "budget": {"fees": "18000.00", "alert_thresholds": [80, 100]}},
            "handoff": {"scope_summary": "Concept and 12 assets", "assumptions": ["Two revision rounds"],
                        "roles": [{"job_role": "designer", "person_id": a.member_id, "hours": "90"}],
                        "contact_ids": [a.contact]},
            "milestones": [{"name": "Concepts", "amount": "6000.00"}, {"name": "Delivery", "amount": "12000.00"}]
        }))
        .await;
    assert_eq!(res.status, StatusCode::CREATED, "{}", res.body);
    let project_id = res.body["project"]["id"].as_str().unwrap_or("").to_owned();
    assert_eq!(res.body["request"]["status"], "accepted");
    assert_eq!(res.body["request"]["project_id"], project_id.as_str());
    let project = app
        .get(&a.admin, &format!("/v1/projects/{project_id}"))
        .await;
    assert_eq!(
        project.body["name"], "Campaign",
        "name defaults to the request's title"
    );
    assert_eq!(project.body["stage"], "scoping");
    assert_eq!(project.body["client_id"], a.client.as_str());
    assert_eq!(project.body["intake_request_id"], a.request.as_str());
    assert_eq!(
        project.body["handoff"]["assumptions"],
        json!(["Two revision rounds"])
    );
    let milestones = app
        .get(&a.admin, &format!("/v1/projects/{project_id}/milestones"))
        .await;
    let amounts: Vec<&str> = milestones.body["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|m| m["amount"].as_str())
        .collect();
    assert_eq!(amounts.len(), 2);
    assert!(amounts.contains(&"6000.00") && amounts.contains(&"12000.00"));
    // The team member now sees the new project.
    let theirs = app.get(&a.member, "/v1/projects").await.body["items"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(theirs.iter().any(|p| p["id"] == project_id.as_str()));

    // Deciding twice is refused.
    let again = app
        .post(
            &a.manager,
            &path,
            json!({"project": {"billing_model": "retainer"}}),
        )
        .await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    let decline = app
        .post(
            &a.manager,
            &format!("/v1/intake-requests/{}/decline", a.request),
            json!({"reason": "x"}),
        )
        .await;
    assert_eq!(decline.status, StatusCode::CONFLICT);
    assert_eq!(count(&app, &a.admin, "/v1/projects").await, 2);
}

#[tokio::test]
async fn a_rejected_acceptance_leaves_the_request_open_and_creates_nothing() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let before = count(&app, &a.admin, "/v1/projects").await;
    let res = app
        .post(
            &a.manager,
            &format!("/v1/intake-requests/{}/accept", a.request),
            json!({
                "project": {"billing_model": "fixed_fee", "team": ["nobody"]},
                "handoff": {"contact_ids": ["missing"], "roles": [{"job_role": ""}]},
                "milestones": [{"name": "M", "amount": "10.001"}]
            }),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST, "{}", res.body);
    let fields = res.fields();
    for f in [
        "project.fixed_fee",
        "project.team[0]",
        "handoff.contact_ids[0]",
        "handoff.roles[0].job_role",
        "milestones[0].amount",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} missing from {fields:?}");
    }
    assert_eq!(count(&app, &a.admin, "/v1/projects").await, before);
    let request = app
        .get(&a.admin, &format!("/v1/intake-requests/{}", a.request))
        .await;
    assert_eq!(request.body["status"], "open");
    // Declining needs a reason; with one it sticks.
    let res = app
        .post(
            &a.manager,
            &format!("/v1/intake-requests/{}/decline", a.request),
            json!({"reason": ""}),
        )
        .await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    let res = app
        .post(
            &a.manager,
            &format!("/v1/intake-requests/{}/decline", a.request),
            json!({"reason": "Too soon"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::OK);
    assert_eq!(res.body["status"], "declined");
    assert_eq!(res.body["decline_reason"], "Too soon");
}

#[tokio::test]
async fn project_rules_hold() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let p = format!("/v1/projects/{}", a.project);
    // Stages move forward (or back from review), never from active to intake.
    let res = app.patch(&a.manager, &p, json!({"stage": "intake"})).await;
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    assert_eq!(res.body["errors"][0]["field"], "stage");
    assert_eq!(
        app.patch(&a.manager, &p, json!({"stage": "review"}))
            .await
            .status,
        StatusCode::OK
    );
    // Rate cards name real staff and tasks of this project; rates are exact.
    let res = app
        .patch(&a.manager, &p, json!({"rate_card": {"default_rate": "-1", "by_person": [{"person_id": "ghost", "rate": "10"}],
            "by_task": [{"task_id": "nope", "rate": "10"}]}}))
        .await;
    let fields = res.fields();
    assert_eq!(res.status, StatusCode::BAD_REQUEST);
    for f in [
        "rate_card.default_rate",
        "rate_card.by_person[0].person_id",
        "rate_card.by_task[0].task_id",
    ] {
        assert!(fields.iter().any(|x| x == f), "{f} missing from {fields:?}");
    }
    let ok = app
        .patch(&a.manager, &p, json!({"rate_card": {"default_rate": "110.50", "by_task": [{"task_id": a.task, "rate": "130"}]}}))
        .await;
    assert_eq!(ok.status, StatusCode::OK, "{}", ok.body);
    assert_eq!(ok.body["rate_card"]["default_rate"], "110.50");
    // Removing someone from the team removes the project from their list.
    app.patch(&a.manager, &p, json!({"team": []})).await;
    assert_eq!(
        app.get(&a.member, "/v1/projects").await.body["items"],
        json!([])
    );
    assert_eq!(app.get(&a.member, &p).await.status, StatusCode::NOT_FOUND);
    // A client's currency is fixed once it has projects.
    let res = app
        .patch(
            &a.admin,
            &format!("/v1/clients/{}", a.client),
            json!({"currency": "USD"}),
        )
        .await;
    assert_eq!(res.status, StatusCode::CONFLICT);
    // Duplicate email addresses are refused, whatever their case.
    let dup = app
        .post(
            &a.admin,
            "/v1/people",
            json!({"name": "R", "email": "RUI@acme.io", "role": "member", "time_zone": "UTC"}),
        )
        .await;
    assert_eq!(dup.status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn every_change_leaves_an_audit_record_with_before_and_after() {
    let app = App::new();
    let admin = who("acme", "boss", "admin");
    let id = app
        .create(
            &admin,
            "/v1/clients",
            json!({"name": "Northwind", "currency": "EUR"}),
        )
        .await;
    app.patch(
        &admin,
        &format!("/v1/clients/{id}"),
        json!({"name": "Northwind Coffee"}),
    )
    .await;
    let q = Query::new(Index::Gsi1, keys::audit_entity("acme", "client", &id))
        .sk(SkCondition::BeginsWith(keys::audit_prefix()));
    let entries = app.table.query(&q).await.expect("audit query").items;
    let actions: Vec<&str> = entries
        .iter()
        .filter_map(|e| e["action"].as_str())
        .collect();
    assert_eq!(actions, ["create", "update"]);
    let update = &entries[1];
    assert_eq!(update["actor"], "boss");
    assert_eq!(update["before"]["name"], "Northwind");
    assert_eq!(update["after"]["name"], "Northwind Coffee");
    // A no-op change writes nothing.
    app.patch(
        &admin,
        &format!("/v1/clients/{id}"),
        json!({"name": "Northwind Coffee"}),
    )
    .await;
    assert_eq!(
        app.table.query(&q).await.expect("audit query").items.len(),
        2
    );
}
