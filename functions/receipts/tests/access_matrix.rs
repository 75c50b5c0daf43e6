//! Who may ask for an upload URL and who may see a receipt, across roles and
//! tenants; and what is refused before anything is signed or written.

mod support;

use agencyops_apitest::{studio, App, As};
use agencyops_domain::timesheet::WorkStatus;
use agencyops_store::records::ReceiptStatus;
use serde_json::json;
use support::*;

fn path(id: &str) -> String {
    format!("/v1/expenses/{id}/receipt")
}

fn pdf_request() -> serde_json::Value {
    json!({"content_type": "application/pdf", "size": 1234})
}

#[tokio::test]
async fn only_the_owner_admins_and_managers_get_an_upload_url() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let other = studio(app, "globex").await;
    let x = new_expense(app, &s.member, &s.project).await;

    let cases: Vec<(&As, u16)> = vec![
        (&s.member, 201),
        (&s.admin, 201),
        (&s.manager, 201),
        (&s.other_manager, 201),
        (&s.finance, 403),
        (&s.outsider, 404),
        (&s.contractor, 404),
        (&s.stray_contractor, 404),
        (&s.client_user, 403),
        (&other.admin, 404),
        (&other.member, 404),
        (&other.client_user, 403),
    ];
    for (who, status) in cases {
        let before = stored(&*app.table, &s.tenant, &x).await;
        let res = app.post(who, &path(&x), pdf_request()).await;
        assert_eq!(
            res.status.as_u16(),
            status,
            "{} ({}): {}",
            who.role,
            who.person,
            res.body
        );
        let after = stored(&*app.table, &s.tenant, &x).await;
        if status == 201 {
            assert_eq!(after.version, before.version + 1);
            let r = after.receipt.unwrap();
            assert_eq!(r.status, ReceiptStatus::Pending);
            assert_eq!(r.requested_by, who.person);
            assert!(
                r.key.starts_with(&format!("receipts/acme/{x}/")),
                "{}",
                r.key
            );
        } else {
            assert_eq!(after, before, "a refused request writes nothing");
        }
    }

    // A contractor may attach to their own expense.
    let own = new_expense(app, &s.contractor, &s.project).await;
    app.post(&s.contractor, &path(&own), pdf_request())
        .await
        .expect(201);
}

#[tokio::test]
async fn the_owner_and_staff_who_see_expenses_may_read_the_receipt() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let other = studio(app, "globex").await;
    let x = new_expense(app, &s.member, &s.project).await;

    // No receipt yet: the expense is visible, the receipt is not there.
    let res = app.get(&s.member, &path(&x)).await.expect(404);
    assert!(res.body["detail"].as_str().unwrap().contains("receipt"));

    app.post(&s.member, &path(&x), pdf_request())
        .await
        .expect(201);
    let cases: Vec<(&As, u16)> = vec![
        (&s.member, 200),
        (&s.admin, 200),
        (&s.finance, 200),
        (&s.manager, 200),
        (&s.other_manager, 200),
        (&s.outsider, 404),
        (&s.contractor, 404),
        (&s.stray_contractor, 404),
        (&s.client_user, 403),
        (&other.admin, 404),
        (&other.finance, 404),
    ];
    for (who, status) in cases {
        let res = app.get(who, &path(&x)).await;
        assert_eq!(res.status.as_u16(), status, "{}: {}", who.role, res.body);
        if status == 200 {
            assert_eq!(res.body["status"], "pending");
            assert_eq!(res.body["declared_type"], "application/pdf");
            assert_eq!(res.body["declared_size"], 1234);
            assert!(
                res.body["download_url"].is_null(),
                "nothing to download yet"
            );
        }
    }
    // Unknown and malformed ids are simply not found.
    app.get(&s.admin, &path("0194f1e2-0000-7000-8000-000000000000"))
        .await
        .expect(404);
    app.get(&s.admin, "/v1/expenses/not%20an%20id/receipt")
        .await
        .expect(404);
}

#[tokio::test]
async fn the_ticket_pins_type_and_length_and_expires_in_five_minutes() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let x = new_expense(app, &s.member, &s.project).await;
    let res = app
        .post(
            &s.member,
            &path(&x),
            json!({"content_type": "image/png", "size": 2048}),
        )
        .await
        .expect(201);
    let t = &res.body;
    assert_eq!(t["method"], "PUT");
    assert_eq!(t["headers"]["content-type"], "image/png");
    assert_eq!(t["headers"]["content-length"], "2048");
    let expires: jiff::Timestamp = t["expires_at"].as_str().unwrap().parse().unwrap();
    assert_eq!(expires.as_second(), agencyops_apitest::NOW + 300);
    assert!(t["upload_url"]
        .as_str()
        .unwrap()
        .contains(&format!("/blob/receipts/acme/{x}/")));
    assert_eq!(
        res.headers.get("location").unwrap(),
        &format!("/v1/expenses/{x}/receipt")
    );
    assert_eq!(res.etag(), "\"2\"");
    // The announcement is audited, naming who asked.
    assert_eq!(
        audit_actions(&*app.table, &s.tenant, &x).await,
        vec![
            ("create".to_owned(), s.member.person.clone()),
            ("request_receipt".to_owned(), s.member.person.clone())
        ]
    );
}

#[tokio::test]
async fn disallowed_types_and_sizes_are_refused_before_anything_is_signed() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let x = new_expense(app, &s.member, &s.project).await;
    let before = stored(&*app.table, &s.tenant, &x).await;
    for (body, field) in [
        (
            json!({"content_type": "text/html", "size": 10}),
            "content_type",
        ),
        (
            json!({"content_type": "application/x-msdownload", "size": 10}),
            "content_type",
        ),
        (
            json!({"content_type": "image/svg+xml", "size": 10}),
            "content_type",
        ),
        (
            json!({"content_type": "application/pdf; charset=utf-8", "size": 10}),
            "content_type",
        ),
        (json!({"content_type": "", "size": 10}), "content_type"),
        (
            json!({"content_type": "application/pdf", "size": 0}),
            "size",
        ),
        (
            json!({"content_type": "application/pdf", "size": 10 * 1024 * 1024 + 1}),
            "size",
        ),
        (
            json!({"content_type": "application/pdf", "size": -1}),
            "size",
        ),
        (
            json!({"content_type": "application/pdf", "size": 10, "name": "x.pdf"}),
            "name",
        ),
        (json!({"size": 10}), ""),
    ] {
        let res = app
            .post(&s.member, &path(&x), body.clone())
            .await
            .expect(400);
        if !field.is_empty() {
            assert_eq!(res.fields(), vec![field.to_owned()], "{body}: {}", res.body);
        }
    }
    assert_eq!(stored(&*app.table, &s.tenant, &x).await, before);
    assert_eq!(
        audit_actions(&*app.table, &s.tenant, &x).await,
        vec![("create".to_owned(), s.member.person.clone())],
        "nothing but the expense's creation"
    );
    assert!(blob_events(app).await.is_empty());

    // Exactly 10 MB is fine, in any letter case.
    app.post(
        &s.member,
        &path(&x),
        json!({"content_type": "Image/JPEG", "size": 10 * 1024 * 1024}),
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn approved_and_invoiced_expenses_take_no_receipt() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    for (status, code) in [
        (WorkStatus::Approved, 409),
        (WorkStatus::Invoiced, 409),
        (WorkStatus::Submitted, 201),
        (WorkStatus::Rejected, 201),
    ] {
        let id = uuid::Uuid::now_v7().to_string();
        seed(
            &*app.table,
            &s.tenant,
            &expense(&id, &s.member.person, &s.project, status),
        )
        .await;
        let res = app.post(&s.member, &path(&id), pdf_request()).await;
        assert_eq!(res.status.as_u16(), code, "{status:?}: {}", res.body);
        if code == 409 {
            assert!(res.problem_type().ends_with("/locked"), "{}", res.body);
            assert!(stored(&*app.table, &s.tenant, &id).await.receipt.is_none());
        }
    }
}

#[tokio::test]
async fn a_stale_if_match_is_refused() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let x = new_expense(app, &s.member, &s.project).await;
    let body = serde_json::to_vec(&pdf_request()).unwrap();
    let res = app
        .raw(
            Some(&s.member),
            axum::http::Method::POST,
            &path(&x),
            Some(body.clone()),
            &[("if-match", "\"7\"")],
        )
        .await;
    assert_eq!(res.status, 412);
    app.raw(
        Some(&s.member),
        axum::http::Method::POST,
        &path(&x),
        Some(body),
        &[("if-match", "\"1\"")],
    )
    .await
    .expect(201);
}

#[tokio::test]
async fn without_file_storage_both_endpoints_answer_500() {
    let app = App::new(routes());
    let s = studio(&app, "acme").await;
    let x = new_expense(&app, &s.member, &s.project).await;
    let res = app
        .post(&s.member, &path(&x), pdf_request())
        .await
        .expect(500);
    assert!(res.problem_type().ends_with("/internal"));
    app.get(&s.member, &path(&x)).await.expect(500);
    assert!(stored(&*app.table, &s.tenant, &x).await.receipt.is_none());
}

#[test]
fn the_api_document_names_both_operations() {
    use utoipa::OpenApi;
    let doc = serde_json::to_value(agencyops_receipts::ApiDoc::openapi()).unwrap();
    let p = &doc["paths"]["/v1/expenses/{id}/receipt"];
    assert_eq!(p["post"]["operationId"], "request_receipt_upload");
    assert_eq!(p["get"]["operationId"], "get_receipt");
    assert!(doc["components"]["schemas"]["ReceiptView"].is_object());
}
