//! Quantities that are not money may be sent as JSON numbers and are kept
//! exactly as written; money must be a decimal string, and a JSON number for
//! money is refused with a message that says so, writing nothing.

mod support;

use serde_json::json;
use support::*;

#[tokio::test]
async fn quantities_sent_as_numbers_are_kept_exactly() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let person = app
        .post(
            &a.admin,
            "/v1/people",
            json!({"name": "Ana", "email": "ana@a.io", "role": "member",
            "time_zone": "UTC", "weekly_capacity_hours": 37.5}),
        )
        .await
        .expect(201);
    assert_eq!(person.body["weekly_capacity_hours"], "37.5");
    let patched = app
        .patch(
            &a.admin,
            &format!("/v1/people/{}", person.id()),
            json!({"weekly_capacity_hours": 0.1}),
        )
        .await
        .expect(200);
    assert_eq!(patched.body["weekly_capacity_hours"], "0.1");
    let client = app
        .post(
            &a.admin,
            "/v1/clients",
            json!({"name": "Tax", "currency": "EUR",
            "tax_rates": [{"name": "VAT", "percent": 23.5}]}),
        )
        .await
        .expect(201);
    assert_eq!(client.body["tax_rates"][0]["percent"], "23.5");
    let project = app
        .post(&a.admin, "/v1/projects", json!({"client_id": a.client, "name": "Hours",
            "billing_model": "time_and_materials", "budget": {"hours": 12.5, "alert_thresholds": [80, 100]}}))
        .await
        .expect(201);
    assert_eq!(project.body["budget"]["hours"], "12.5");
    let task = app
        .post(
            &a.admin,
            &format!("/v1/projects/{}/tasks", project.id()),
            json!({"name": "Design", "estimate_hours": 0.1}),
        )
        .await
        .expect(201);
    assert_eq!(task.body["estimate_hours"], "0.1");
    let accepted = app
        .post(
            &a.admin,
            &format!("/v1/intake-requests/{}/accept", a.request),
            json!({
            "project": {"billing_model": "retainer"},
            "handoff": {"roles": [{"job_role": "designer", "hours": 90}]}}),
        )
        .await
        .expect(201);
    assert_eq!(
        accepted.body["project"]["handoff"]["roles"][0]["hours"],
        "90"
    );
    // Strings still work as before.
    let again = app
        .patch(
            &a.admin,
            &format!("/v1/people/{}", person.id()),
            json!({"weekly_capacity_hours": "40"}),
        )
        .await
        .expect(200);
    assert_eq!(again.body["weekly_capacity_hours"], "40");
}

#[tokio::test]
async fn money_sent_as_a_number_is_refused_by_name_and_nothing_is_written() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let project = format!("/v1/projects/{}", a.project);
    let cases = [
        (
            "/v1/clients".to_owned(),
            json!({"name": "N", "currency": "EUR", "default_rate": 99.5}),
            "default_rate",
        ),
        (
            "/v1/projects".to_owned(),
            json!({"client_id": a.client, "name": "F", "billing_model": "fixed_fee", "fixed_fee": 1000}),
            "fixed_fee",
        ),
        (
            "/v1/projects".to_owned(),
            json!({"client_id": a.client, "name": "B", "billing_model": "retainer", "budget": {"fees": 100}}),
            "budget.fees",
        ),
        (
            "/v1/projects".to_owned(),
            json!({"client_id": a.client, "name": "R", "billing_model": "retainer",
                   "rate_card": {"by_person": [{"person_id": a.member_id, "rate": 90}]}}),
            "rate_card.by_person[0].rate",
        ),
        (
            format!("{project}/milestones"),
            json!({"name": "M", "amount": 10}),
            "amount",
        ),
        (
            "/v1/intake-requests".to_owned(),
            json!({"client_id": a.client, "title": "T", "budget": 5000}),
            "budget",
        ),
        (
            "/v1/people".to_owned(),
            json!({"name": "X", "email": "x@a.io", "role": "member", "time_zone": "UTC",
                   "cost_rate": {"amount": 40.5, "currency": "EUR"}}),
            "cost_rate.amount",
        ),
    ];
    for (path, body, field) in cases {
        let res = app.post(&a.admin, &path, body).await.expect(400);
        assert_eq!(res.fields(), [field], "{path}: {}", res.body);
        let message = res.body["errors"][0]["message"].as_str().unwrap_or("");
        assert!(
            message.contains("money must be a decimal string"),
            "{path}: {message}"
        );
    }
    let res = app
        .patch(
            &a.admin,
            &project,
            json!({"rate_card": {"default_rate": 120}}),
        )
        .await
        .expect(400);
    assert_eq!(res.fields(), ["rate_card.default_rate"]);
    // Nothing was written: the agency has what it had.
    let count = |path: &'static str| {
        let app = &app;
        let admin = &a.admin;
        async move {
            app.get(admin, path).await.expect(200).body["items"]
                .as_array()
                .map(Vec::len)
        }
    };
    assert_eq!(count("/v1/clients").await, Some(2));
    assert_eq!(count("/v1/projects").await, Some(1));
    assert_eq!(count("/v1/intake-requests").await, Some(1));
    assert_eq!(count("/v1/people").await, Some(2));
    let stored = app.get(&a.admin, &project).await.expect(200);
    assert_eq!(
        stored.body["rate_card"]["default_rate"],
        serde_json::Value::Null
    );
}
