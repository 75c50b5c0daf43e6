//! Field problems are typed in the domain (`validate::Invalid`) and ids are
//! parsed once by one rule (`Id`): what a validator refuses reaches the 400's
//! `errors[].field` with its message, and the same id rule holds for a path
//! (404: a malformed id names nothing) and a body (400 on the field).

mod support;

use agencyops_domain::validate::Invalid;
use serde_json::json;
use support::*;

#[tokio::test]
async fn a_typed_problem_reaches_the_field_of_the_400() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    let bad = app
        .post(
            &a.admin,
            "/v1/people",
            json!({"name": "  ", "email": "ana@nowhere", "role": "member", "time_zone": "UTC"}),
        )
        .await
        .expect(400);
    assert_eq!(
        bad.problem_type(),
        "https://agencyops.dev/problems/validation"
    );
    let errors = bad.body["errors"].as_array().expect("field errors");
    let message_of = |field: &str| {
        errors
            .iter()
            .find(|e| e["field"] == field)
            .map(|e| e["message"].as_str().unwrap_or_default().to_owned())
    };
    assert_eq!(message_of("name"), Some(Invalid::Empty.to_string()));
    assert_eq!(message_of("email"), Some(Invalid::Email.to_string()));
    let project = app
        .post(
            &a.admin,
            "/v1/projects",
            json!({"client_id": a.client, "name": "Budget",
                "billing_model": "time_and_materials", "budget": {"hours": 12.5, "alert_thresholds": [80, 80]}}),
        )
        .await
        .expect(400);
    assert_eq!(project.fields(), vec!["budget.alert_thresholds".to_owned()]);
    assert_eq!(
        project.body["errors"][0]["message"],
        Invalid::RepeatedThreshold.to_string()
    );
}

#[tokio::test]
async fn one_id_rule_for_paths_and_bodies() {
    let app = App::new();
    let a = agency(&app, "acme").await;
    // A path id outside the rule names nothing.
    let path = app
        .get(&a.admin, "/v1/clients/not%23an-id")
        .await
        .expect(404);
    assert_eq!(
        path.problem_type(),
        "https://agencyops.dev/problems/not-found"
    );
    // The same rule on a body id is a 400 on that field, and nothing is written.
    let body = app
        .post(
            &a.admin,
            "/v1/projects",
            json!({"client_id": "T#acme", "name": "Keys", "billing_model": "time_and_materials"}),
        )
        .await
        .expect(400);
    assert_eq!(body.fields(), vec!["client_id".to_owned()]);
    assert_eq!(body.body["errors"][0]["message"], Invalid::Id.to_string());
    let request = app
        .post(
            &a.admin,
            "/v1/intake-requests",
            json!({"client_id": &"x".repeat(65), "title": "Too long an id"}),
        )
        .await
        .expect(400);
    assert_eq!(request.fields(), vec!["client_id".to_owned()]);
    let list = app
        .get(&a.admin, "/v1/projects?client_id=a%20b")
        .await
        .expect(400);
    assert_eq!(list.fields(), vec!["query.client_id".to_owned()]);
    let projects = app.get(&a.admin, "/v1/projects").await.expect(200);
    assert!(projects.body["items"]
        .as_array()
        .is_some_and(|items| items.iter().all(|p| p["name"] != "Keys")));
}
