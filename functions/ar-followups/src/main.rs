//! Lambda entry for the AR follow-ups API: build clients once, then serve.

use agencyops_platform::{config::Config, lambda};

#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    agencyops_platform::telemetry::init(agencyops_ar_followups::FUNCTION);
    let config = Config::from_env()?;
    let services = lambda::services(&config).await;
    lambda_http::run(agencyops_ar_followups::router(services)).await
}
