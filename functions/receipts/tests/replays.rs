//! A retried upload request with the same Idempotency-Key gets the same signed
//! URL back and announces one upload, not two.

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn a_retried_upload_request_announces_one_upload() {
    let l = local().await;
    let (app, s) = (&l.app, &l.studio);
    let id = new_expense(app, &s.member, &s.project).await;
    let before = stored(&*app.table, "acme", &id).await.version;
    let path = format!("/v1/expenses/{id}/receipt");
    let body = json!({"content_type": "application/pdf", "size": 2048});

    let first = app
        .post_keyed(&s.member, &path, body.clone(), "upload-1")
        .await
        .expect(201);
    let again = app
        .post_keyed(&s.member, &path, body, "upload-1")
        .await
        .expect(201);
    assert_eq!(first.body["upload_url"], again.body["upload_url"]);
    assert_eq!(
        stored(&*app.table, "acme", &id).await.version,
        before + 1,
        "the pending receipt was recorded once"
    );
    let other = json!({"content_type": "image/png", "size": 2048});
    app.post_keyed(&s.member, &path, other, "upload-1")
        .await
        .expect(422);
}
