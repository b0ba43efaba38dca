//! tracing-subscriber set-up: `RUST_LOG` if set, else `LOGLEVEL` (Python level names, as
//! the original ports used), written as pretty lines or JSON (`LOG_FORMAT`).

use tracing_subscriber::EnvFilter;

use crate::config::{CommonConfig, LogFormat};

/// Maps a Python logging level name to a tracing filter directive.
pub(crate) fn level_directive(loglevel: &str) -> &'static str {
    match loglevel.trim().to_ascii_uppercase().as_str() {
        "TRACE" => "trace",
        "DEBUG" => "debug",
        "WARNING" | "WARN" => "warn",
        "ERROR" | "CRITICAL" | "FATAL" => "error",
        _ => "info",
    }
}

pub(crate) fn init(common: &CommonConfig, name: &str) {
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new(level_directive(&common.loglevel)));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colours only for a person at a terminal, never in files or log collectors.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()));
    // A second init (tests) is harmless: the first subscriber stays.
    let _ = match common.log_format {
        LogFormat::Json => builder.json().flatten_event(true).try_init(),
        LogFormat::Pretty => builder.compact().try_init(),
    };
    tracing::info!(
        connector = name,
        version = env!("CARGO_PKG_VERSION"),
        "starting"
    );
    if !common.verify_ssl {
        tracing::warn!(
            "VERIFY_SSL is off: outbound TLS certificates are NOT verified. Never do this in production."
        );
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn python_level_names() {
        for (py, ours) in [
            ("DEBUG", "debug"),
            ("warning", "warn"),
            ("CRITICAL", "error"),
            ("", "info"),
        ] {
            assert_eq!(super::level_directive(py), ours);
        }
    }
}
