//! AWS on an emulator (moto), for tests that run a function against AWS's
//! own APIs: moto started with the app's table, and SQS queues. Set-up only;
//! sending and receiving are each test's business.

use agencyops_platform::aws::emulator_config;
use agencyops_store::dynamo;
use agencyops_testkit::Moto;
use aws_config::SdkConfig;
use aws_sdk_sqs::types::QueueAttributeName;
use aws_sdk_sqs::Client;
use serde_json::json;

/// Moto started, SDK configuration pointing at it, and the DynamoDB table
/// `table` created there. Keep the `Moto` alive for as long as it is used.
pub async fn moto_with_table(table: &str) -> (Moto, SdkConfig, aws_sdk_dynamodb::Client) {
    let moto = tokio::task::spawn_blocking(Moto::start)
        .await
        .unwrap()
        .expect("moto starts");
    let sdk = emulator_config(&moto.endpoint);
    let ddb = aws_sdk_dynamodb::Client::new(&sdk);
    dynamo::create_table(&ddb, table).await.unwrap();
    (moto, sdk, ddb)
}

/// Creates a plain queue and returns its URL.
pub async fn create_queue(sqs: &Client, name: &str) -> String {
    sqs.create_queue()
        .queue_name(name)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap()
}

/// The queue's ARN, as notifications and redrive policies name it.
pub async fn queue_arn(sqs: &Client, url: &str) -> String {
    sqs.get_queue_attributes()
        .queue_url(url)
        .attribute_names(QueueAttributeName::QueueArn)
        .send()
        .await
        .unwrap()
        .attributes
        .unwrap()[&QueueAttributeName::QueueArn]
        .clone()
}

/// Creates the dead-letter queue `dead_letters`, then the queue `name` whose
/// redrive policy moves a message there after `max_receives` receives.
/// Returns the URLs of the queue and of its dead-letter queue.
pub async fn create_queue_with_dead_letters(
    sqs: &Client,
    name: &str,
    dead_letters: &str,
    max_receives: u32,
) -> (String, String) {
    let dlq = create_queue(sqs, dead_letters).await;
    let redrive = json!({
        "deadLetterTargetArn": queue_arn(sqs, &dlq).await,
        "maxReceiveCount": max_receives.to_string(),
    })
    .to_string();
    let url = sqs
        .create_queue()
        .queue_name(name)
        .attributes(QueueAttributeName::RedrivePolicy, redrive)
        .send()
        .await
        .unwrap()
        .queue_url
        .unwrap();
    (url, dlq)
}
