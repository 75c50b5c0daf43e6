//! The invoicing samples in `events/invoicing/` through the Lambda entry
//! paths, with DynamoDB and SQS on a private moto: a manual invoice created
//! (and replayed under its Idempotency-Key), issued with the first number of
//! the year, paid in part; the tenant and role refusals; and the builder's
//! SQS batch for an invoice that is not building, which is a no-op.

mod support;

use std::collections::HashMap;

use agencyops_platform::config::Config;
use agencyops_testkit::Moto;
use aws_lambda_events::event::sqs::SqsEvent;
use support::{invoke, sample, SAMPLE_ADMIN, SAMPLE_MEMBER, SAMPLE_OTHER_ADMIN};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invoicing_samples_through_the_lambda_entry_path_on_dynamodb() {
    let moto = Moto::start().expect("moto_server must start");
    let sdk = agencyops_platform::aws::emulator_config(&moto.endpoint);
    agencyops_store::dynamo::create_table(&aws_sdk_dynamodb::Client::new(&sdk), "agencyops-test")
        .await
        .expect("create table");
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    let queue = sqs
        .create_queue()
        .queue_name("invoice-builder")
        .send()
        .await
        .expect("queue");
    let config = Config::from_vars(HashMap::from([
        ("TABLE_NAME".to_owned(), "agencyops-test".to_owned()),
        (
            "CURSOR_SECRET".to_owned(),
            "0123456789abcdef0123456789abcdef".to_owned(),
        ),
        ("AWS_ENDPOINT_URL".to_owned(), moto.endpoint.clone()),
        (
            "QUEUE_URL_INVOICE_BUILDER".to_owned(),
            queue.queue_url().unwrap_or_default().to_owned(),
        ),
        (
            "BOOTSTRAP_ADMINS".to_owned(),
            format!("acme:{SAMPLE_ADMIN},globex:{SAMPLE_OTHER_ADMIN}"),
        ),
    ]))
    .expect("config");
    let services = agencyops_platform::lambda::services(&config).await;
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
    let intake = agencyops_intake::router(services.clone());
    let invoicing = agencyops_invoicing::router(services.clone());

    let client = invoke(&intake, "intake/create-client.json", &[]).await;
    assert_eq!(client.status, 201, "{}", client.body);
    let client_id = client.body["id"].as_str().unwrap_or_default().to_owned();

    let created = invoke(
        &invoicing,
        "invoicing/create-invoice.json",
        &[("CLIENT_ID", &client_id)],
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(created.body["status"], "draft");
    assert_eq!(created.body["total"], "1500.00");
    assert_eq!(created.body["po_number"], "PO-7731");
    let id = created.body["id"].as_str().unwrap_or_default().to_owned();
    let replay = invoke(
        &invoicing,
        "invoicing/create-invoice.json",
        &[("CLIENT_ID", &client_id)],
    )
    .await;
    assert_eq!(
        replay.body["id"], created.body["id"],
        "a retried create is the same invoice"
    );

    let refused = invoke(
        &invoicing,
        "invoicing/issue-invoice-as-member.json",
        &[("INVOICE_ID", &id)],
    )
    .await;
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(refused.content_type, "application/problem+json");

    let issued = invoke(
        &invoicing,
        "invoicing/issue-invoice.json",
        &[("INVOICE_ID", &id)],
    )
    .await;
    assert_eq!(issued.status, 200, "{}", issued.body);
    let year = jiff::Timestamp::now()
        .to_zoned(jiff::tz::TimeZone::UTC)
        .year();
    assert_eq!(issued.body["number"], format!("{year:04}-0001"));

    let paid = invoke(
        &invoicing,
        "invoicing/record-payment.json",
        &[("INVOICE_ID", &id)],
    )
    .await;
    assert_eq!(paid.status, 201, "{}", paid.body);
    assert_eq!(paid.body["balance_due"], "1000.00");
    assert_eq!(paid.body["status"], "partially_paid");

    let other = invoke(
        &invoicing,
        "invoicing/get-invoice-other-tenant.json",
        &[("INVOICE_ID", &id)],
    )
    .await;
    assert_eq!(other.status, 404, "{}", other.body);

    let batch: SqsEvent = serde_json::from_str(&sample(
        "invoicing/build-invoice.json",
        &[("INVOICE_ID", &id)],
    ))
    .expect("an SQS event");
    let response = agencyops_invoicing::handle_builder_sqs(&services, batch).await;
    assert!(
        response.batch_item_failures.is_empty(),
        "an issued invoice is not rebuilt"
    );
    let after = invoke(
        &invoicing,
        "invoicing/get-invoice-other-tenant.json",
        &[
            ("INVOICE_ID", &id),
            ("globex", "acme"),
            (SAMPLE_OTHER_ADMIN, SAMPLE_ADMIN),
        ],
    )
    .await;
    assert_eq!(after.status, 200, "{}", after.body);
    assert_eq!(
        after.body["version"], paid.body["version"],
        "the builder message changed nothing"
    );
}
