//! `rollup-node`: run a rollup replica against any L1, or a whole devnet with one command.

/// `println!` for what the commands print: when the reader goes away (`rollup-node disputes |
/// head`), the command ends quietly, as other Unix tools do, where `println!` would panic.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        if let Err(err) = writeln!(std::io::stdout(), $($arg)*) {
            if err.kind() == std::io::ErrorKind::BrokenPipe {
                std::process::exit(0);
            }
            eprintln!("cannot write to stdout: {err}");
        }
    }};
}

mod cli;
mod client;
mod deploy;
mod devnet;
mod dispute;
mod logging;
mod runner;

fn main() -> std::process::ExitCode {
    match run() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(err) => {
            // What went wrong and why, as eyre prints it, without the source location and
            // backtrace it adds (RUST_BACKTRACE is often set): the messages say what to fix.
            eprintln!("Error: {err}");
            let causes: Vec<String> = err.chain().skip(1).map(ToString::to_string).collect();
            if !causes.is_empty() {
                eprintln!("\nCaused by:");
                for (i, cause) in causes.iter().enumerate() {
                    eprintln!("   {i}: {cause}");
                }
            }
            std::process::ExitCode::FAILURE
        }
    }
}

fn run() -> eyre::Result<()> {
    let (cli, unused) = cli::Cli::parse_with_unused();
    logging::init(&cli.global)?;
    for (flag, switch) in unused {
        tracing::warn!(target: "rollup::node", "{flag} tunes a role this node does not run: it has no effect without {switch}");
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let result = runtime.block_on(cli.run());
    // Work still running on blocking threads must not keep a stopped node alive.
    runtime.shutdown_timeout(std::time::Duration::from_secs(2));
    if let (Err(err), true) = (&result, logging::json_logs()) {
        // A collector that reads the JSON log sees why the process stopped, not only the
        // plain text a person reads on stderr.
        let causes: Vec<String> = err.chain().skip(1).map(ToString::to_string).collect();
        tracing::error!(
            target: "rollup::node",
            error = %err,
            caused_by = %causes.join(": "),
            "stopped on a fatal error"
        );
    }
    result
}
