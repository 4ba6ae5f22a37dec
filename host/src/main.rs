//! `ticketing-host`: the reference host's command line.
//!
//! Exit codes: 0 the command succeeded; 1 it failed (or any ticket or job
//! in it did; with `--json` the document was printed first); 2 a usage
//! error (clap's, or `--json` on a command without a JSON shape).

use clap::Parser as _;

fn main() -> std::process::ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "warn".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    // On a usage error clap prints it and exits with 2 (0 for --help).
    let cli = ticketing_host::cli::Cli::parse();
    let result = ticketing_host::cli::run(cli);
    if let Err(e) = &result {
        eprintln!("error: {e:#}");
    }
    std::process::ExitCode::from(ticketing_host::cli::exit_code(&result))
}
