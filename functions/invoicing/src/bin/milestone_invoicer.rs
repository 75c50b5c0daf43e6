//! Lambda entry for the `milestones` queue: build clients once, then draft
//! each reached milestone's invoice, reporting failed messages individually.

use agencyops_platform::{config::Config, lambda};
use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    agencyops_platform::telemetry::init("milestone-invoicer");
    let config = Config::from_env()?;
    let services = lambda::services(&config).await;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<SqsEvent>| {
        let services = services.clone();
        async move {
            Ok::<SqsBatchResponse, Error>(
                agencyops_invoicing::milestones::handle_sqs(&services, event.payload).await,
            )
        }
    }))
    .await
}
