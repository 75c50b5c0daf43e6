//! Structured JSON logs via tracing, with request id, tenant and function on
//! every line of a request.

use tracing_subscriber::{fmt, EnvFilter};

/// Installs the JSON subscriber once; later calls are no-ops (tests call it freely).
pub fn init(function: &str) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _ = fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(true)
        .with_span_list(false)
        .with_target(false)
        // stdout is for what a command prints (a token, a report); logs go to stderr.
        .with_writer(std::io::stderr)
        .try_init();
    tracing::debug!(function, "telemetry ready");
}
