//! Logging: `tracing` with `RUST_LOG` filtering, as text or JSON lines.
//!
//! Spans and events carry ids only; bodies, signatures, tokens and personal data are never
//! recorded.

use tracing_subscriber::{fmt, EnvFilter};

/// The filter used when `RUST_LOG` is not set.
pub const DEFAULT_FILTER: &str = "info,lapin=warn,sqlx=warn";

/// Installs the global subscriber once; later calls are no-ops (tests call it repeatedly).
/// `RUST_LOG` overrides `default_filter`.
pub fn init(format: &str, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if format.eq_ignore_ascii_case("json") {
        builder.json().with_current_span(true).try_init()
    } else {
        builder.compact().try_init()
    };
}
