//! The budget consumer against moto: DynamoDB for the burn, SQS with a
//! dead-letter queue for delivery. The loop below does what Lambda's SQS event
//! source mapping does with `ReportBatchItemFailures`: delete what succeeded,
//! make failures visible again, and let the redrive policy dead-letter a
//! message that keeps failing.

use std::collections::HashMap;
use std::sync::Arc;

use agencyops_approvals::budget::handle_sqs;
use agencyops_domain::Currency;
use agencyops_platform::clock::SystemClock;
use agencyops_platform::cursor::Cursors;
use agencyops_platform::events::{BurnChange, BurnKind, APPROVED_QUEUE};
use agencyops_platform::queue::SqsQueue;
use agencyops_platform::Services;
use agencyops_store::record::{create, load};
use agencyops_store::records::{Project, ProjectBurn};
use agencyops_store::{keys, DynamoTable};
use aws_lambda_events::event::sqs::SqsEvent;
use rust_decimal_macros::dec;
use serde_json::json;

#[tokio::test]
async fn duplicates_count_once_and_a_poison_message_ends_in_the_dead_letter_queue() {
    let (_moto, sdk, ddb) = agencyops_apitest::aws::moto_with_table("agencyops").await;
    let sqs = aws_sdk_sqs::Client::new(&sdk);

    let (url, dlq) =
        agencyops_apitest::aws::create_queue_with_dead_letters(&sqs, "approved", "approved-dlq", 2)
            .await;

    let services = Services {
        table: Arc::new(DynamoTable::new(ddb, "agencyops")),
        clock: Arc::new(SystemClock),
        cursors: Cursors::new(b"k".to_vec()),
        idempotency_ttl_secs: 60,
        queue: Arc::new(SqsQueue::new(
            sqs.clone(),
            HashMap::from([(APPROVED_QUEUE.to_owned(), url.clone())]),
        )),
        blob: None,
        mail: None,
        public_url: None,
        bootstrap_admins: Default::default(),
    };
    let project: Project = serde_json::from_value(json!({
        "id": "p1", "client_id": "c1", "name": "Rebrand", "billing_model": "time_and_materials",
        "currency": "EUR", "stage": "active",
        "budget": {"hours": "10", "fees": "1000.00", "alert_thresholds": [80, 100]},
        "rate_card": {}, "rounding": null, "team": [], "fixed_fee": null, "starts_on": null,
        "ends_on": null, "handoff": null, "intake_request_id": null, "version": 1,
        "created_at": "2026-11-20T12:00:00Z", "updated_at": "2026-11-20T12:00:00Z"
    }))
    .unwrap();
    services
        .table
        .transact(vec![create("acme", &project).unwrap()])
        .await
        .unwrap();

    let good = BurnChange {
        kind: BurnKind::Approved,
        tenant: "acme".into(),
        change_id: "job1:p1".into(),
        project_id: "p1".into(),
        minutes: 540,
        billable_minutes: 540,
        fees: dec!(900),
        cost: dec!(300),
        currency: Currency::parse("EUR").unwrap(),
    };
    let bodies = vec![
        good.to_body(),
        "{\"type\":\"approved\",\"half\":".to_owned(),
        good.to_body(),
    ];
    services
        .queue
        .send_batch(APPROVED_QUEUE, &bodies)
        .await
        .unwrap();

    let mut handled = 0;
    for _round in 0..10 {
        let out = sqs
            .receive_message()
            .queue_url(&url)
            .max_number_of_messages(10)
            .send()
            .await
            .unwrap();
        let messages = out.messages.unwrap_or_default();
        if messages.is_empty() {
            break;
        }
        let event: SqsEvent =
            serde_json::from_value(json!({"Records": messages.iter().map(|m| json!({
            "messageId": m.message_id, "receiptHandle": m.receipt_handle, "body": m.body,
            "eventSource": "aws:sqs", "awsRegion": "us-east-1",
        })).collect::<Vec<_>>()}))
            .unwrap();
        let response = handle_sqs(&services, event).await;
        let failed: Vec<_> = response
            .batch_item_failures
            .iter()
            .map(|f| f.item_identifier.clone())
            .collect();
        for m in &messages {
            let receipt = m.receipt_handle.clone().unwrap();
            if failed.contains(&m.message_id.clone().unwrap()) {
                sqs.change_message_visibility()
                    .queue_url(&url)
                    .receipt_handle(receipt)
                    .visibility_timeout(0)
                    .send()
                    .await
                    .unwrap();
            } else {
                handled += 1;
                sqs.delete_message()
                    .queue_url(&url)
                    .receipt_handle(receipt)
                    .send()
                    .await
                    .unwrap();
            }
        }
    }
    assert_eq!(handled, 2, "both copies of the good message were consumed");

    let burn = load::<ProjectBurn>(&*services.table, &keys::project_burn("acme", "p1"))
        .await
        .unwrap()
        .expect("burn");
    assert_eq!(burn.minutes, 540, "the duplicate did not count twice");
    assert_eq!(burn.changes_applied, 1);
    assert_eq!(
        burn.alerts.len(),
        2,
        "80 % of hours and fees, raised once: {:?}",
        burn.alerts
    );

    let dead = sqs
        .receive_message()
        .queue_url(&dlq)
        .max_number_of_messages(10)
        .send()
        .await
        .unwrap()
        .messages
        .unwrap_or_default();
    assert_eq!(dead.len(), 1, "the poison message was dead-lettered");
    assert_eq!(
        dead[0].body.as_deref(),
        Some("{\"type\":\"approved\",\"half\":")
    );
}
