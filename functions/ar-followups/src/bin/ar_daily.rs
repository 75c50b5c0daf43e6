//! Lambda entry for the daily AR schedule (EventBridge Scheduler): build
//! clients once, then run the day the event names (or today) for every tenant.

use agencyops_platform::{config::Config, lambda};
use lambda_runtime::{service_fn, Error, LambdaEvent};

#[tokio::main]
async fn main() -> Result<(), Error> {
    agencyops_platform::telemetry::init("ar-daily");
    let config = Config::from_env()?;
    let services = lambda::services(&config).await;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<serde_json::Value>| {
        let services = services.clone();
        async move {
            let run =
                agencyops_ar_followups::daily::handle_schedule(&services, &event.payload).await?;
            Ok::<serde_json::Value, Error>(serde_json::to_value(run)?)
        }
    }))
    .await
}
