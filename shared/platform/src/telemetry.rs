//! Structured logs via tracing, with request id, tenant and function on every
//! line of a request: JSON for machines (Lambda, CI, anything piped), one
//! readable line per event for a person watching the local host in a terminal.

use std::io::IsTerminal;

use tracing_subscriber::{fmt, EnvFilter};

/// How log lines look.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

impl LogFormat {
    /// Text when a person is watching stderr, JSON when it goes to a file or pipe.
    pub fn for_stderr() -> LogFormat {
        if std::io::stderr().is_terminal() {
            LogFormat::Text
        } else {
            LogFormat::Json
        }
    }

    pub fn parse(s: &str) -> Option<LogFormat> {
        match s {
            "json" => Some(LogFormat::Json),
            "text" => Some(LogFormat::Text),
            _ => None,
        }
    }
}

/// Installs the JSON subscriber once; later calls are no-ops (tests call it freely).
pub fn init(function: &str) {
    init_as(function, LogFormat::Json);
}

/// Installs a subscriber writing `format` to stderr once; later calls are no-ops.
pub fn init_as(function: &str, format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    // stdout is for what a command prints (a token, a report); logs go to stderr.
    let builder = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .with_current_span(true)
            .with_span_list(false)
            .try_init(),
        // Colours only for a terminal; text asked for in a pipe stays plain.
        LogFormat::Text => builder
            .compact()
            .with_ansi(std::io::stderr().is_terminal())
            .try_init(),
    };
    tracing::debug!(function, "telemetry ready");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_are_named_as_on_the_command_line() {
        assert_eq!(LogFormat::parse("json"), Some(LogFormat::Json));
        assert_eq!(LogFormat::parse("text"), Some(LogFormat::Text));
        assert_eq!(LogFormat::parse("pretty"), None);
    }
}
