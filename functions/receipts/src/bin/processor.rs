//! Lambda entry for the receipts processor. The bucket sends ObjectCreated
//! notifications under `receipts/` to the receipts-events queue; this function
//! consumes it with partial batch responses, so a failing upload is retried
//! alone and, after the queue's receive limit, dead-lettered (with an alarm).

use agencyops_platform::{config::Config, lambda};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    agencyops_platform::telemetry::init("receipts-processor");
    let config = Config::from_env()?;
    let services = lambda::services(&config).await;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let services = services.clone();
        async move {
            Ok::<SqsBatchResponse, Error>(
                agencyops_receipts::handle_sqs(&services, event.payload).await,
            )
        }
    }))
    .await
}
