//! Lambda entry for the mail-sender queue: build clients once (SES from
//! `MAIL_FROM`), then deliver each message once, reporting failed messages
//! individually.

use agencyops_platform::{config::Config, lambda};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    agencyops_platform::telemetry::init("mail-sender");
    let config = Config::from_env()?;
    let services = lambda::services(&config).await;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let services = services.clone();
        async move {
            Ok::<SqsBatchResponse, Error>(
                agencyops_ar_followups::mail_sender::handle_sqs(&services, event.payload).await,
            )
        }
    }))
    .await
}
