//! One place builds the AWS SDK configuration: real AWS in Lambda, or an emulator
//! (moto) when `AWS_ENDPOINT_URL` / an explicit endpoint is given.

use aws_config::{BehaviorVersion, Region, SdkConfig};

/// The shared SDK config for Lambda: region and credentials from the environment.
pub async fn sdk_config() -> SdkConfig {
    aws_config::defaults(BehaviorVersion::latest()).load().await
}

/// A config aimed at an emulator on `endpoint` with dummy credentials (tests, local tooling).
pub fn emulator_config(endpoint: &str) -> SdkConfig {
    use aws_sdk_sqs::config::Credentials;
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_sqs::config::SharedCredentialsProvider::new(
            Credentials::new("testing", "testing", None, None, "emulator"),
        ))
        .build()
}
