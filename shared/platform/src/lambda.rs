//! Cold-start wiring shared by every Lambda function's `main.rs`.

use std::sync::Arc;

use agencyops_store::DynamoTable;

use crate::blob::S3Blob;
use crate::clock::SystemClock;
use crate::config::Config;
use crate::cursor::Cursors;
use crate::mail::SesMail;
use crate::queue::SqsQueue;
use crate::services::Services;

/// The services a function needs, built once from config.
pub async fn services(config: &Config) -> Services {
    let sdk = match &config.aws_endpoint {
        Some(endpoint) => crate::aws::emulator_config(endpoint),
        None => crate::aws::lambda_config(),
    };
    let dynamo = aws_sdk_dynamodb::Client::new(&sdk);
    let sqs = aws_sdk_sqs::Client::new(&sdk);
    Services {
        table: Arc::new(DynamoTable::new(dynamo, config.table_name.clone())),
        clock: Arc::new(SystemClock),
        cursors: Cursors::new(config.cursor_secret.clone()),
        idempotency_ttl_secs: config.idempotency_ttl_secs,
        queue: Arc::new(SqsQueue::new(sqs, config.queue_urls.clone())),
        blob: config.bucket.as_ref().map(|bucket| {
            let s3 = aws_sdk_s3::Client::from_conf(
                aws_sdk_s3::config::Builder::from(&sdk)
                    // Emulators serve buckets by path, not by subdomain.
                    .force_path_style(config.aws_endpoint.is_some())
                    .build(),
            );
            Arc::new(S3Blob::new(s3, bucket.clone())) as Arc<dyn crate::blob::Blob>
        }),
        mail: config.mail_from.as_ref().map(|from| {
            let ses = aws_sdk_sesv2::Client::new(&sdk);
            Arc::new(SesMail::new(ses, from.clone())) as Arc<dyn crate::mail::Mail>
        }),
        public_url: config.public_url.clone(),
        bootstrap_admins: config.bootstrap_admins.clone(),
    }
}
