//! The sample API Gateway v2 events in `events/` go through the same entry path
//! `lambda_http::run` uses (event -> request with the authorizer context ->
//! router -> API Gateway response), with DynamoDB and SQS on a private moto; the
//! sample SQS batch goes through the budget consumer's Lambda handler.

mod support;

use std::collections::HashMap;

use agencyops_platform::config::Config;
use agencyops_testkit::Moto;
use aws_lambda_events::event::sqs::SqsEvent;
use serde_json::Value;
use support::{invoke, sample, SAMPLE_ADMIN, SAMPLE_MEMBER, SAMPLE_OTHER_ADMIN};

/// The id the other-tenant sample asks for; the test swaps in a real acme client.
const SAMPLE_CLIENT_ID: &str = "01JD0000000000000000000000";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sample_events_through_the_lambda_entry_path_on_dynamodb() {
    let moto = Moto::start().expect("moto_server must start");
    let sdk = agencyops_platform::aws::emulator_config(&moto.endpoint);
    agencyops_store::dynamo::create_table(&aws_sdk_dynamodb::Client::new(&sdk), "agencyops-test")
        .await
        .expect("create table");
    // The same configuration path main.rs takes, pointed at the emulator.
    let config = Config::from_vars(HashMap::from([
        ("TABLE_NAME".to_owned(), "agencyops-test".to_owned()),
        (
            "CURSOR_SECRET".to_owned(),
            "0123456789abcdef0123456789abcdef".to_owned(),
        ),
        ("AWS_ENDPOINT_URL".to_owned(), moto.endpoint.clone()),
        (
            "BOOTSTRAP_ADMINS".to_owned(),
            format!("acme:{SAMPLE_ADMIN},globex:{SAMPLE_OTHER_ADMIN}"),
        ),
    ]))
    .expect("config");
    let services = agencyops_platform::lambda::services(&config).await;
    let router = agencyops_intake::router(services.clone());
    // The member has a person record, as everyone but a bootstrap admin must.
    let member: agencyops_store::records::Person = serde_json::from_value(serde_json::json!({
        "id": SAMPLE_MEMBER, "name": "Rui", "email": "rui@acme.example", "role": "member",
        "job_role": null, "cost_rate": null, "default_bill_rate": null,
        "weekly_capacity_hours": "40", "time_zone": "Europe/Lisbon", "client_id": null,
        "active": true, "version": 1,
        "created_at": "2026-11-01T09:00:00Z", "updated_at": "2026-11-01T09:00:00Z"
    }))
    .expect("person");
    services
        .table
        .transact(vec![
            agencyops_store::record::create("acme", &member).expect("person item")
        ])
        .await
        .expect("store the member");

    let created = invoke(&router, "intake/create-client.json", &[]).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["name"], "Northwind Studio");
    assert_eq!(created.body["currency"], "EUR");

    // API Gateway retries deliver the same Idempotency-Key: one client, same answer.
    // The other-tenant sample asks globex for this very client: it must not find it.
    let acme_client = created.body["id"].as_str().unwrap_or_default().to_owned();
    let replay = invoke(&router, "intake/create-client.json", &[]).await;
    assert_eq!(replay.status, 201);
    assert_eq!(replay.body["id"], created.body["id"]);

    let listed = invoke(&router, "intake/list-clients.json", &[]).await;
    assert_eq!(listed.status, 200, "{}", listed.body);
    let items = listed.body["items"].as_array().cloned().unwrap_or_default();
    assert_eq!(items.len(), 1, "one client despite the retry: {items:?}");

    // A verified token naming nobody the agency knows (an account left in the
    // user pool, or given the wrong person) is refused like no token at all.
    const STRANGER: &str = "0193a1f0-9999-7f6a-9b8c-7d6e5f4a3b2c";
    for (name, subs, status) in [
        ("intake/create-client-as-member.json", vec![], 403),
        (
            "intake/create-client-as-member.json",
            vec![(SAMPLE_MEMBER, STRANGER)],
            401,
        ),
        (
            "intake/list-clients.json",
            vec![(SAMPLE_ADMIN, STRANGER)],
            401,
        ),
        ("intake/get-client-other-tenant.json", vec![], 404),
        ("intake/create-client-bad-json.json", vec![], 400),
        ("intake/no-claims.json", vec![], 401),
    ] {
        let mut subs = subs;
        subs.push((SAMPLE_CLIENT_ID, acme_client.as_str()));
        let reply = invoke(&router, name, &subs).await;
        assert_eq!(reply.status, status, "{name} {subs:?}: {}", reply.body);
        assert_eq!(reply.content_type, "application/problem+json", "{name}");
    }
    let listed = invoke(&router, "intake/list-clients.json", &[]).await;
    assert_eq!(
        listed.body["items"].as_array().map(Vec::len),
        Some(1),
        "refused requests wrote nothing"
    );
}

/// Time is recorded, submitted and approved through the time and approvals
/// functions' Lambda entry paths; the approval's message really lands on SQS and
/// the budget consumer's Lambda handler turns it into burn, once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn time_and_approval_events_reach_the_budget_consumer_through_sqs() {
    let moto = Moto::start().expect("moto_server must start");
    let sdk = agencyops_platform::aws::emulator_config(&moto.endpoint);
    agencyops_store::dynamo::create_table(&aws_sdk_dynamodb::Client::new(&sdk), "agencyops-test")
        .await
        .expect("create table");
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue_url = sqs
        .create_queue()
        .queue_name("approved")
        .send()
        .await
        .expect("queue")
        .queue_url
        .unwrap_or_default();
    let config = || {
        Config::from_vars(HashMap::from([
            ("TABLE_NAME".to_owned(), "agencyops-test".to_owned()),
            (
                "CURSOR_SECRET".to_owned(),
                "0123456789abcdef0123456789abcdef".to_owned(),
            ),
            ("AWS_ENDPOINT_URL".to_owned(), moto.endpoint.clone()),
            ("QUEUE_URL_APPROVED".to_owned(), queue_url.clone()),
            (
                "BOOTSTRAP_ADMINS".to_owned(),
                format!("acme:{SAMPLE_ADMIN}"),
            ),
        ]))
        .expect("config")
    };
    let services = || {
        let config = config();
        async move { agencyops_platform::lambda::services(&config).await }
    };
    let intake = agencyops_intake::router(services().await);
    let time = agencyops_time::router(services().await);
    let approvals = agencyops_approvals::router(services().await);
    let consumer = services().await;

    let client = invoke(&intake, "intake/create-client.json", &[]).await;
    assert_eq!(client.status, 201, "{}", client.body);
    let client_id = client.body["id"].as_str().unwrap_or_default().to_owned();
    let project = invoke(
        &intake,
        "intake/create-project.json",
        &[("CLIENT_ID", &client_id)],
    )
    .await;
    assert_eq!(project.status, 201, "{}", project.body);
    let project_id = project.body["id"].as_str().unwrap_or_default().to_owned();
    let subs = [
        ("PROJECT_ID", project_id.as_str()),
        ("CLIENT_ID", &client_id),
    ];

    let entry = invoke(&time, "time/create-time-entry.json", &subs).await;
    assert_eq!(entry.status, 201, "{}", entry.body);
    assert_eq!(entry.body["minutes"], 510);
    let refused = invoke(&time, "time/create-time-entry-as-client.json", &subs).await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    let week = invoke(&time, "time/get-timesheet.json", &subs).await;
    assert_eq!(week.status, 200, "{}", week.body);

    let submitted = invoke(&approvals, "approvals/submit-timesheet.json", &subs).await;
    assert_eq!(submitted.status, 200, "{}", submitted.body);
    let member = invoke(
        &approvals,
        "approvals/approve-timesheet-as-member.json",
        &subs,
    )
    .await;
    assert_eq!(member.status, 403, "{}", member.body);
    assert_eq!(member.content_type, "application/problem+json");
    let approved = invoke(&approvals, "approvals/approve-timesheet.json", &subs).await;
    assert_eq!(approved.status, 200, "{}", approved.body);

    // What the SQS event source mapping would hand the consumer.
    let received = sqs
        .receive_message()
        .queue_url(&queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive")
        .messages
        .unwrap_or_default();
    assert_eq!(received.len(), 1, "one change for the one project");
    let records: Vec<Value> = received
        .iter()
        .map(|m| {
            serde_json::json!({"messageId": m.message_id, "receiptHandle": m.receipt_handle,
            "body": m.body, "eventSource": "aws:sqs"})
        })
        .collect();
    let batch: SqsEvent =
        serde_json::from_value(serde_json::json!({ "Records": records })).expect("sqs event");
    let outcome = agencyops_approvals::budget::handle_sqs(&consumer, batch).await;
    assert!(outcome.batch_item_failures.is_empty());

    // The sample batch repeats a change and carries a truncated message: only the
    // truncated one fails, and the repeat does not count twice.
    let sample: SqsEvent =
        serde_json::from_str(&sample("approvals/approved-batch.json", &subs)).expect("sqs event");
    let outcome = agencyops_approvals::budget::handle_sqs(&consumer, sample).await;
    let failed: Vec<_> = outcome
        .batch_item_failures
        .iter()
        .map(|f| f.item_identifier.as_str())
        .collect();
    assert_eq!(failed, ["7c1f0a3e-5b2d-4e6f-9a8b-1c2d3e4f5a6b"]);

    let budget = invoke(&approvals, "approvals/get-budget.json", &subs).await;
    assert_eq!(budget.status, 200, "{}", budget.body);
    // 510 approved minutes plus the sample's 480, each counted once: 16.5 h of 10,
    // and both thresholds of both measures raised once.
    assert_eq!(budget.body["hours"]["used"], "16.50", "{}", budget.body);
    assert_eq!(budget.body["fees"]["used"]["amount"], "1650.00");
    assert_eq!(budget.body["fees"]["percent_used"], "165.00");
    assert_eq!(budget.body["hours"]["over_budget"], true);
    assert_eq!(
        budget.body["alerts"].as_array().map(Vec::len),
        Some(4),
        "{}",
        budget.body
    );
}
