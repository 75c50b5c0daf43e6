//! An expense's markup is a quantity: sent as a JSON number or a string, it is
//! kept exactly as written. Its amount is money: a JSON number is refused with
//! a message that says so, and nothing is written.

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn a_markup_sent_as_a_number_is_kept_exactly() {
    let (app, s) = setup().await;
    let body = json!({"project_id": s.project, "date": "2026-11-20", "amount": "12.50",
        "category": "Taxi", "markup_percent": 12.5});
    let created = app.post(&s.manager, "/v1/expenses", body).await.expect(201);
    assert_eq!(created.body["markup_percent"], "12.5");
    let id = created.id();
    let patched = patch_expense(&app, &s.manager, &id, json!({"markup_percent": 0.1}))
        .await
        .expect(200);
    assert_eq!(patched.body["markup_percent"], "0.1");
    let stored = stored_expense(&app, &s.tenant, &id).await;
    assert_eq!(
        stored.markup_percent.map(|m| m.to_string()),
        Some("0.1".into())
    );
    // Strings still work, and null still removes the markup.
    let patched = patch_expense(&app, &s.manager, &id, json!({"markup_percent": "7"}))
        .await
        .expect(200);
    assert_eq!(patched.body["markup_percent"], "7");
    let cleared = patch_expense(&app, &s.manager, &id, json!({"markup_percent": null}))
        .await
        .expect(200);
    assert!(cleared.body["markup_percent"].is_null());
    // A number out of range is refused on the field like a string is.
    let res = patch_expense(&app, &s.manager, &id, json!({"markup_percent": 12.345}))
        .await
        .expect(400);
    assert_eq!(res.fields(), ["markup_percent"]);
}

#[tokio::test]
async fn an_amount_sent_as_a_number_is_refused_by_name_and_nothing_is_written() {
    let (app, s) = setup().await;
    let body = json!({"project_id": s.project, "date": "2026-11-20", "amount": 12.5,
        "category": "Taxi"});
    let res = app.post(&s.member, "/v1/expenses", body).await.expect(400);
    assert_eq!(res.fields(), ["amount"]);
    let message = res.body["errors"][0]["message"].as_str().unwrap_or("");
    assert!(
        message.contains("money must be a decimal string"),
        "{message}"
    );
    assert!(expenses_of(&app, &s.member).await.is_empty());

    let created = expense(&app, &s.member, &s.project, "2026-11-20", "12.50")
        .await
        .expect(201);
    let id = created.id();
    let res = patch_expense(&app, &s.member, &id, json!({"amount": 20}))
        .await
        .expect(400);
    assert_eq!(res.fields(), ["amount"]);
    assert_eq!(
        stored_expense(&app, &s.tenant, &id)
            .await
            .amount
            .to_string(),
        "12.50"
    );
}
