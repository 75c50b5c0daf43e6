//! One place builds the AWS SDK configuration: real AWS in Lambda, or an emulator
//! (moto) when `AWS_ENDPOINT_URL` / an explicit endpoint is given.

use aws_config::environment::credentials::EnvironmentVariableCredentialsProvider;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_sqs::config::{SharedCredentialsProvider, SharedHttpClient};
use aws_smithy_http_client::tls::{self, rustls_provider::CryptoMode};
use aws_smithy_runtime_api::client::connector_metadata::ConnectorMetadata;
use aws_smithy_runtime_api::client::http::{
    HttpClient, HttpConnectorSettings, SharedHttpConnector,
};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;

/// The HTTPS client every SDK client uses: hyper with rustls on ring, the one
/// crypto provider in the tree (the SDK's default is aws-lc-rs, a large C build).
/// Lazy: the connector and its trust store are made on the first request, so a
/// cold start does no TLS work.
pub fn https_client() -> SharedHttpClient {
    SharedHttpClient::new(OnFirstRequest(
        aws_smithy_http_client::Builder::new()
            .tls_provider(tls::Provider::Rustls(CryptoMode::Ring))
            .build_https(),
    ))
}

/// Hides the hyper client's `validate_base_client_config`, which builds a
/// connector, and so reads every system root certificate, each time an SDK client
/// is constructed (about a millisecond each, four clients at init). Without it
/// the connector is built, once per timeout setting, by the first request.
#[derive(Debug)]
struct OnFirstRequest(SharedHttpClient);

impl HttpClient for OnFirstRequest {
    fn http_connector(
        &self,
        settings: &HttpConnectorSettings,
        components: &RuntimeComponents,
    ) -> SharedHttpConnector {
        self.0.http_connector(settings, components)
    }

    fn connector_metadata(&self) -> Option<ConnectorMetadata> {
        self.0.connector_metadata()
    }
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
