//! `rollup-node`: run a rollup replica against any L1, or a whole devnet with one command.

mod cli;
mod client;
mod deploy;
mod devnet;
mod dispute;
mod logging;
mod runner;

use clap::Parser;

fn main() -> eyre::Result<()> {
    let cli = cli::Cli::parse();
    logging::init(&cli.global)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(cli.run());
    // Work still running on blocking threads must not keep a stopped node alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    result
}
