//! Who may do what with invoices: every endpoint refuses lower roles with 403,
//! another tenant's ids are 404, and a client user sees only their own
//! client's issued invoices, without the agency's internals.

mod support;

use rust_decimal_macros::dec;
use serde_json::json;
use support::*;

struct Fixture {
    app: App,
    s: Studio,
    rival: Studio,
    draft: String,
    issued: String,
    payment: String,
}

async fn fixture() -> Fixture {
    let (app, s) = setup().await;
    let rival = studio(&app, "rival").await;
    approved_work(&app, &s, 4, 60, dec!(100)).await;
    let draft = app
        .create(&s.finance, "/v1/invoices", json!({"client_id": s.client, "kind": "manual", "internal_note": "margin is thin", "lines": [{"description": "Draft work", "quantity": "1", "unit_price": "10.00"}]}))
        .await;
    let issued = app
        .create(&s.finance, "/v1/invoices", json!({"client_id": s.client, "kind": "time_and_materials", "internal_note": "chase in January"}))
        .await;
    app.post(
        &s.finance,
        &format!("/v1/invoices/{issued}/issue"),
        json!({}),
    )
    .await
    .expect(200);
    let paid = app
        .post(
            &s.finance,
            &format!("/v1/invoices/{issued}/payments"),
            json!({"amount": "1.00", "date": "2026-11-21", "method": "cash"}),
        )
        .await
        .expect(201);
    let payment = paid.body["payments"][0]["id"].as_str().unwrap().to_owned();
    Fixture {
        app,
        s,
        rival,
        draft,
        issued,
        payment,
    }
}

#[tokio::test]
async fn members_and_contractors_see_no_invoices_and_lower_roles_change_none() {
    let f = fixture().await;
    let (app, s) = (&f.app, &f.s);
    let (d, i, p) = (&f.draft, &f.issued, &f.payment);
    let reads = [
        format!("/v1/invoices/{i}"),
        "/v1/invoices".to_owned(),
        "/v1/settings/invoicing".to_owned(),
    ];
    for who in [&s.member, &s.contractor] {
        for path in &reads {
            let r = app.get(who, path).await;
            assert_eq!(
                r.status.as_u16(),
                403,
                "{} GET {path}: {}",
                who.role,
                r.body
            );
        }
    }
    let money_ops: Vec<(axum::http::Method, String, serde_json::Value)> = vec![
        (
            axum::http::Method::POST,
            format!("/v1/invoices/{d}/issue"),
            json!({}),
        ),
        (
            axum::http::Method::POST,
            format!("/v1/invoices/{i}/void"),
            json!({}),
        ),
        (
            axum::http::Method::POST,
            format!("/v1/invoices/{i}/write-off"),
            json!({}),
        ),
        (
            axum::http::Method::POST,
            format!("/v1/invoices/{i}/payments"),
            json!({"amount": "1.00", "date": "2026-11-21", "method": "cash"}),
        ),
        (
            axum::http::Method::DELETE,
            format!("/v1/invoices/{i}/payments/{p}"),
            serde_json::Value::Null,
        ),
        (
            axum::http::Method::POST,
            format!("/v1/invoices/{i}/credit-notes"),
            json!({"reason": "x", "amount": "1.00"}),
        ),
        (
            axum::http::Method::PUT,
            "/v1/settings/invoicing".to_owned(),
            json!({"number_pattern": "{SEQ:5}"}),
        ),
    ];
    for who in [&s.manager, &s.member, &s.contractor, &s.client_user] {
        for (m, path, body) in &money_ops {
            let body = (!body.is_null()).then(|| body.clone());
            let r = app.call(who, m.clone(), path, body).await;
            assert_eq!(
                r.status.as_u16(),
                403,
                "{} {m} {path}: {}",
                who.role,
                r.body
            );
        }
    }
    let draft_ops: Vec<(axum::http::Method, String, Option<serde_json::Value>)> = vec![
        (
            axum::http::Method::POST,
            "/v1/invoices".to_owned(),
            Some(
                json!({"client_id": s.client, "kind": "manual", "lines": [{"description": "x", "quantity": "1", "unit_price": "1.00"}]}),
            ),
        ),
        (
            axum::http::Method::PATCH,
            format!("/v1/invoices/{d}"),
            Some(json!({"notes": "x"})),
        ),
        (
            axum::http::Method::DELETE,
            format!("/v1/invoices/{d}"),
            None,
        ),
    ];
    for who in [&s.member, &s.contractor, &s.client_user] {
        for (m, path, body) in &draft_ops {
            let r = app.call(who, m.clone(), path, body.clone()).await;
            assert_eq!(
                r.status.as_u16(),
                403,
                "{} {m} {path}: {}",
                who.role,
                r.body
            );
        }
    }
    // Managers draft only over projects they are on, and must name them.
    let unnamed = app
        .post(
            &s.manager,
            "/v1/invoices",
            json!({"client_id": s.client, "kind": "time_and_materials"}),
        )
        .await
        .expect(403);
    assert!(unnamed.body["detail"]
        .as_str()
        .unwrap()
        .contains("project_ids"));
    app.post(
        &s.other_manager,
        "/v1/invoices",
        json!({"client_id": s.client, "kind": "time_and_materials", "project_ids": [s.project]}),
    )
    .await
    .expect(403);
    app.patch(
        &s.manager,
        &format!("/v1/invoices/{d}"),
        json!({"notes": "x"}),
    )
    .await
    .expect(403);
    invariant(app, s).await;
}

#[tokio::test]
async fn another_tenants_invoice_ids_are_not_found_on_every_endpoint() {
    let f = fixture().await;
    let (app, s, r) = (&f.app, &f.s, &f.rival);
    let (d, i, p) = (&f.draft, &f.issued, &f.payment);
    let ops: Vec<(axum::http::Method, String, Option<serde_json::Value>)> = vec![
        (axum::http::Method::GET, format!("/v1/invoices/{i}"), None),
        (axum::http::Method::GET, format!("/v1/invoices/{d}"), None),
        (
            axum::http::Method::PATCH,
            format!("/v1/invoices/{d}"),
            Some(json!({"notes": "x"})),
        ),
        (
            axum::http::Method::DELETE,
            format!("/v1/invoices/{d}"),
            None,
        ),
        (
            axum::http::Method::POST,
            format!("/v1/invoices/{d}/issue"),
            Some(json!({})),
        ),
        (
            axum::http::Method::POST,
            format!("/v1/invoices/{i}/void"),
            Some(json!({})),
        ),
        (
            axum::http::Method::POST,
            format!("/v1/invoices/{i}/write-off"),
            Some(json!({})),
        ),
        (
            axum::http::Method::POST,
            format!("/v1/invoices/{i}/payments"),
            Some(json!({"amount": "1.00", "date": "2026-11-21", "method": "cash"})),
        ),
        (
            axum::http::Method::DELETE,
            format!("/v1/invoices/{i}/payments/{p}"),
            None,
        ),
        (
            axum::http::Method::POST,
            format!("/v1/invoices/{i}/credit-notes"),
            Some(json!({"reason": "x", "amount": "1.00"})),
        ),
        (
            axum::http::Method::POST,
            "/v1/invoices".to_owned(),
            Some(json!({"client_id": s.client, "kind": "time_and_materials"})),
        ),
    ];
    for (m, path, body) in &ops {
        let res = app.call(&r.admin, m.clone(), path, body.clone()).await;
        assert_eq!(
            res.status.as_u16(),
            404,
            "rival admin {m} {path}: {}",
            res.body
        );
    }
    let list = app.get(&r.finance, "/v1/invoices").await.expect(200);
    assert_eq!(list.body["items"].as_array().unwrap().len(), 0);
    // Nothing of ours changed.
    let inv = app
        .get(&s.finance, &format!("/v1/invoices/{i}"))
        .await
        .expect(200);
    assert_eq!(inv.body["status"], "partially_paid");
    invariant(app, s).await;
}

#[tokio::test]
async fn a_client_user_sees_only_their_issued_invoices_without_the_agencys_internals() {
    let f = fixture().await;
    let (app, s) = (&f.app, &f.s);
    let staff = app
        .get(&s.finance, &format!("/v1/invoices/{}", f.issued))
        .await
        .expect(200);
    assert_eq!(staff.body["internal_note"], "chase in January");
    assert!(staff.body.get("created_by").is_some());
    let mine = app
        .get(&s.client_user, &format!("/v1/invoices/{}", f.issued))
        .await
        .expect(200);
    for hidden in ["internal_note", "created_by", "adjustments_total"] {
        assert!(
            mine.body.get(hidden).is_none(),
            "{hidden} shown to the client: {}",
            mine.body
        );
    }
    assert_eq!(mine.body["total"], staff.body["total"]);
    app.get(&s.client_user, &format!("/v1/invoices/{}", f.draft))
        .await
        .expect(404);
    let list = app.get(&s.client_user, "/v1/invoices").await.expect(200);
    let ids: Vec<_> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids, vec![f.issued.clone()], "drafts never reach the client");
    let other = agencyops_apitest::client_user(&s.tenant, "cu2", &f.rival.client);
    app.get(&other, &format!("/v1/invoices/{}", f.issued))
        .await
        .expect(404);
}

#[tokio::test]
async fn every_post_replays_under_its_idempotency_key() {
    let f = fixture().await;
    let (app, s) = (&f.app, &f.s);
    let body = json!({"client_id": s.client, "kind": "manual", "lines": [{"description": "x", "quantity": "1", "unit_price": "5.00"}]});
    let a = app
        .post_keyed(&s.finance, "/v1/invoices", body.clone(), "k-create")
        .await
        .expect(201);
    let b = app
        .post_keyed(&s.finance, "/v1/invoices", body, "k-create")
        .await
        .expect(201);
    assert_eq!(a.id(), b.id());
    let pay = json!({"amount": "2.00", "date": "2026-11-21", "method": "cash"});
    let path = format!("/v1/invoices/{}/payments", f.issued);
    let one = app
        .post_keyed(&s.finance, &path, pay.clone(), "k-pay")
        .await
        .expect(201);
    let two = app
        .post_keyed(&s.finance, &path, pay, "k-pay")
        .await
        .expect(201);
    assert_eq!(one.body["amount_paid"], two.body["amount_paid"]);
    let inv = app
        .get(&s.finance, &format!("/v1/invoices/{}", f.issued))
        .await
        .expect(200);
    assert_eq!(
        dec(&inv.body["amount_paid"]),
        dec!(3.00),
        "the replayed payment counted once"
    );
    let credit = json!({"reason": "Goodwill", "amount": "1.00"});
    let path = format!("/v1/invoices/{}/credit-notes", f.issued);
    let c1 = app
        .post_keyed(&s.finance, &path, credit.clone(), "k-credit")
        .await
        .expect(201);
    let c2 = app
        .post_keyed(&s.finance, &path, credit, "k-credit")
        .await
        .expect(201);
    assert_eq!(c1.body["number"], c2.body["number"]);
    for (path, key) in [
        (format!("/v1/invoices/{}/issue", f.draft), "k-issue"),
        (format!("/v1/invoices/{}/void", f.draft), "k-void"),
    ] {
        let x = app.post_keyed(&s.finance, &path, json!({}), key).await;
        let y = app.post_keyed(&s.finance, &path, json!({}), key).await;
        assert_eq!(x.status, y.status);
        assert_eq!(x.body, y.body);
    }
}
