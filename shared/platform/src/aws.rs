//! One place builds the AWS SDK configuration: real AWS in Lambda, or an emulator
//! (moto) when `AWS_ENDPOINT_URL` / an explicit endpoint is given.

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sqs::config::{SharedCredentialsProvider, SharedHttpClient};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};

/// The HTTPS client every SDK client uses: hyper with rustls on ring, the one
/// crypto provider in the tree (the SDK's default is aws-lc-rs, a large C build).
/// Lazy: the connector and its trust store are made on the first request, so a
/// cold start does no TLS work.
pub fn https_client() -> SharedHttpClient {
    aws_smithy_http_client::Builder::new()
        .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
        .build_https()
}

/// The SDK config for Lambda, from the environment Lambda sets (`AWS_REGION`, the
/// role's `AWS_ACCESS_KEY_ID` / `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`).
/// Nothing else is read: no profile files, no IMDS, no network at init.
pub fn lambda_config() -> SdkConfig {
    let region = std::env::var("AWS_REGION")
        .or_else(|_| std::env::var("AWS_DEFAULT_REGION"))
        .ok()
        .map(Region::new);
    let mut config = SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .credentials_provider(SharedCredentialsProvider::new(
            EnvironmentVariableCredentialsProvider::new(),
        ))
        .http_client(https_client());
    config.set_region(region);
    config.build()
}

/// A config aimed at an emulator on `endpoint` with dummy credentials (tests, local tooling).
pub fn emulator_config(endpoint: &str) -> SdkConfig {
    use aws_sdk_sqs::config::Credentials;
    SdkConfig::builder()
        .behavior_version(BehaviorVersion::latest())
        .region(Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(SharedCredentialsProvider::new(Credentials::new(
            "testing", "testing", None, None, "emulator",
        )))
        .http_client(https_client())
        .build()
}
