//! Structured logs and Prometheus metrics.

use std::net::SocketAddr;

use tracing_subscriber::{EnvFilter, fmt, prelude::*};

use crate::cli::{GlobalArgs, LogFormat};

/// Whether the logs are JSON lines (`--log-format json`): then stdout carries nothing else a
/// log collector would have to skip.
static JSON_LOGS: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// Whether [`init`] installed JSON logs.
pub(crate) fn json_logs() -> bool {
    JSON_LOGS.load(std::sync::atomic::Ordering::Relaxed)
}

/// Installs the tracing subscriber: `RUST_LOG` (or `--log-filter`) picks what is shown.
pub(crate) fn init(args: &GlobalArgs) -> eyre::Result<()> {
    let filter = EnvFilter::try_new(&args.log_filter).map_err(|err| {
        eyre::eyre!(
            "--log-filter {:?} is not a valid filter: {err}",
            args.log_filter
        )
    })?;
    let registry = tracing_subscriber::registry().with(filter);
    match args.log_format {
        LogFormat::Text => {
            // Colours only on a terminal: log files and collectors get plain text.
            let ansi = std::io::IsTerminal::is_terminal(&std::io::stdout());
            registry
                .with(fmt::layer().with_target(true).with_ansi(ansi))
                .init();
        }
        LogFormat::Json => {
            JSON_LOGS.store(true, std::sync::atomic::Ordering::Relaxed);
            registry
                .with(fmt::layer().json().with_current_span(false))
                .init();
        }
    }
    Ok(())
}

/// Serves Prometheus metrics on `addr` (`GET /metrics`).
pub(crate) fn start_metrics(addr: SocketAddr) -> eyre::Result<()> {
    metrics_exporter_prometheus::PrometheusBuilder::new()
        .with_http_listener(addr)
        .install()
        .map_err(|err| eyre::eyre!("cannot serve metrics on {addr}: {err}"))?;
    rollup_node_core::metrics::register_at_zero();
    tracing::info!(target: "rollup::node", %addr, "serving Prometheus metrics");
    Ok(())
}
